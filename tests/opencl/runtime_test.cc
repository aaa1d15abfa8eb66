// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// The OpenCL host runtime: no library present (a status, never a crash), the device probe, a
// caller's own context and queue, program builds with the log in the error, and the on-disk
// program cache: miss, hit, corrupt / truncated / foreign entries rebuilt, an unusable directory
// turning the cache off without failing the build. Exit 77 (skipped) without an OpenCL device.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "ek/opencl/gemm.h"
#include "ek/opencl/program.h"
#include "ek/opencl/runtime.h"

namespace {

int g_failures = 0, g_passed = 0;

void Check(bool ok, const char* what) {
  std::printf("%s %s\n", ok ? "ok  " : "FAIL", what);
  ok ? ++g_passed : ++g_failures;
}

const char kSource[] =
    "__kernel void add_one(__global int* x) { x[get_global_id(0)] += 1; }\n";

std::string ReadFile(const std::string& path) {
  std::string data;
  if (FILE* f = std::fopen(path.c_str(), "rb")) {
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) data.append(buf, n);
    std::fclose(f);
  }
  return data;
}

void WriteFile(const std::string& path, const std::string& data) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f != nullptr) {
    std::fwrite(data.data(), 1, data.size(), f);
    std::fclose(f);
  }
}

// Builds kSource through the cache; checks the outcome and that the program runs.
ek::opencl::CacheOutcome BuildAndRun(ek::opencl::Runtime& rt, const char* options) {
  cl_program program = nullptr;
  ek::opencl::BuildInfo info;
  const ek::Status s = ek::opencl::BuildProgram(rt, kSource, options, &program, &info);
  Check(s.ok(), s.ok() ? "program built" : s.message());
  if (!s.ok()) return info.cache;
  if (info.cache_note[0] != '\0') std::printf("     cache %s: %s\n", ek::opencl::CacheOutcomeName(info.cache), info.cache_note);
  cl_int err = CL_SUCCESS;
  cl_kernel kernel = rt.api().clCreateKernel(program, "add_one", &err);
  cl_mem buffer = nullptr;
  int values[4] = {1, 2, 3, 4};
  bool ran = err == CL_SUCCESS && ek::opencl::CreateBuffer(rt, sizeof(values), &buffer).ok() &&
             ek::opencl::Upload(rt, buffer, 0, values, sizeof(values)).ok() &&
             rt.api().clSetKernelArg(kernel, 0, sizeof(cl_mem), &buffer) == CL_SUCCESS;
  const size_t global = 4;
  ran = ran && rt.api().clEnqueueNDRangeKernel(rt.queue(), kernel, 1, nullptr, &global, nullptr, 0, nullptr, nullptr) ==
                   CL_SUCCESS;
  ran = ran && ek::opencl::Download(rt, buffer, 0, values, sizeof(values)).ok();
  Check(ran && values[0] == 2 && values[3] == 5, "the built program runs");
  ek::opencl::ReleaseBuffer(rt, buffer);
  if (kernel != nullptr) rt.api().clReleaseKernel(kernel);
  rt.api().clReleaseProgram(program);
  return info.cache;
}

}  // namespace

int main() {
  // No library: every candidate missing, or a library without the entry points (libm).
  {
    ek::opencl::Api api;
    const char* const missing[] = {"/nonexistent/libOpenCL.so", "libek_no_such_opencl.so", nullptr};
    const ek::Status s = ek::opencl::LoadApiFrom(&api, missing);
    Check(s.code() == ek::StatusCode::kUnavailable && std::strstr(s.message(), "no usable OpenCL library"),
          "no OpenCL library: kUnavailable with the reason");
    const char* const not_opencl[] = {"libm.so.6", nullptr};
    const ek::Status t = ek::opencl::LoadApiFrom(&api, not_opencl);
    Check(t.code() == ek::StatusCode::kUnavailable && std::strstr(t.message(), "clGetPlatformIDs"),
          "a library without OpenCL's entry points names the missing symbol");
    ek::opencl::Runtime rt;
    ek::opencl::RuntimeOptions o;
    o.library_path = "/nonexistent/libOpenCL.so";
    setenv("EK_OPENCL_LIBRARY", "/nonexistent/also.so", 1);
    const ek::Status u = rt.Open(o);  // falls back to the default names
    unsetenv("EK_OPENCL_LIBRARY");
    Check(u.ok() || u.code() == ek::StatusCode::kUnavailable, "Open with a bad path falls back or reports kUnavailable");
  }
  Check(ek::opencl::HasExtension("cl_khr_fp16 cl_khr_subgroups", "cl_khr_fp16") &&
            !ek::opencl::HasExtension("cl_khr_fp16x cl_khr_fp64", "cl_khr_fp16") &&
            !ek::opencl::HasExtension("", "cl_khr_fp16"),
        "extension names match whole words only");

  ek::opencl::Runtime rt;
  const ek::Status opened = rt.Open();
  if (!opened.ok()) {
    std::printf("skipped: %s\n", opened.message());
    return g_failures ? 1 : 77;
  }
  const ek::opencl::DeviceCaps& caps = rt.caps();
  std::printf("device %s / %s / driver %s: OpenCL C %d.%d, fp16 %d, subgroups %d, int dot khr %d arm %d, "
              "image from buffer %d, work-group %zu, local %llu bytes\n",
              caps.platform, caps.name, caps.driver_version, caps.c_major, caps.c_minor, caps.fp16, caps.subgroups,
              caps.integer_dot_khr, caps.integer_dot_arm, caps.image_from_buffer, caps.max_work_group_size,
              static_cast<unsigned long long>(caps.local_memory_bytes));
  Check(caps.c_major >= 1 && caps.name[0] != '\0' && caps.max_work_group_size >= 1 && caps.local_memory_bytes > 0,
        "probe fills the capability struct");
  Check(rt.profiling(), "the runtime's queue has profiling");

  // A caller's context and queue: wrapped, retained, and usable after the caller drops its refs.
  {
    cl_int err = CL_SUCCESS;
    cl_device_id device = rt.device();
    cl_context context = rt.api().clCreateContext(nullptr, 1, &device, nullptr, nullptr, &err);
    cl_command_queue queue = rt.api().clCreateCommandQueue(context, device, 0, &err);
    ek::opencl::Runtime wrapped;
    Check(wrapped.Wrap(rt.api(), context, queue).ok(), "wraps a caller's context and queue");
    rt.api().clReleaseCommandQueue(queue);
    rt.api().clReleaseContext(context);
    Check(!wrapped.profiling(), "profiling follows the caller's queue properties");
    Check(BuildAndRun(wrapped, "") == ek::opencl::CacheOutcome::kOff, "no cache directory: cache off");
    ek::opencl::Runtime other;
    cl_context context2 = rt.api().clCreateContext(nullptr, 1, &device, nullptr, nullptr, &err);
    const ek::Status mismatch = other.Wrap(rt.api(), context2, rt.queue());
    Check(!mismatch.ok() && std::strstr(mismatch.message(), "queue"), "a queue of another context is rejected");
    rt.api().clReleaseContext(context2);
  }

  // Build errors carry the compiler's log.
  {
    cl_program program = nullptr;
    const ek::Status s = ek::opencl::BuildProgram(rt, "__kernel void broken( { }", "-D EK_X=1", &program);
    Check(!s.ok() && std::strstr(s.message(), "program build failed") && std::strstr(s.message(), "EK_X=1"),
          "a build error returns the log and options");
  }

  // The cache.
  char dir_template[] = "/tmp/ek-cl-cache-XXXXXX";
  const char* dir = mkdtemp(dir_template);
  Check(dir != nullptr, "temporary directory");
  if (dir == nullptr) return 1;
  const std::string cache_dir = std::string(dir) + "/programs";  // created by the first build
  rt.SetCacheDirectory(cache_dir.c_str());
  Check(BuildAndRun(rt, "-D EK_A=1") == ek::opencl::CacheOutcome::kMiss, "first build: miss, entry written");
  Check(BuildAndRun(rt, "-D EK_A=1") == ek::opencl::CacheOutcome::kHit, "second build: hit");
  Check(BuildAndRun(rt, "-D EK_A=2") == ek::opencl::CacheOutcome::kMiss, "other options: another entry");
  cl_program probe = nullptr;
  ek::opencl::BuildInfo info;
  Check(ek::opencl::BuildProgram(rt, kSource, "-D EK_A=1", &probe, &info).ok() && info.cache == ek::opencl::CacheOutcome::kHit,
        "entry path known");
  if (probe != nullptr) rt.api().clReleaseProgram(probe);
  const std::string entry = info.cache_path;
  const std::string good = ReadFile(entry);
  Check(good.size() > 64 && good.compare(0, 8, "EKCLBIN1") == 0, "entry has the EKCLBIN1 header");

  std::string corrupt = good;
  corrupt[corrupt.size() / 2] ^= 0x5A;
  WriteFile(entry, corrupt);
  Check(BuildAndRun(rt, "-D EK_A=1") == ek::opencl::CacheOutcome::kRebuilt, "corrupt payload: rebuilt");
  Check(ReadFile(entry) == good || ReadFile(entry).compare(0, 8, "EKCLBIN1") == 0, "entry rewritten");
  Check(BuildAndRun(rt, "-D EK_A=1") == ek::opencl::CacheOutcome::kHit, "rewritten entry: hit");
  WriteFile(entry, good.substr(0, good.size() - 7));
  Check(BuildAndRun(rt, "-D EK_A=1") == ek::opencl::CacheOutcome::kRebuilt, "truncated entry: rebuilt");
  WriteFile(entry, good.substr(0, 20));
  Check(BuildAndRun(rt, "-D EK_A=1") == ek::opencl::CacheOutcome::kRebuilt, "entry shorter than its header: rebuilt");
  std::string foreign = good;
  foreign[16] ^= 1;  // the key
  WriteFile(entry, foreign);
  Check(BuildAndRun(rt, "-D EK_A=1") == ek::opencl::CacheOutcome::kRebuilt, "entry of another key: rebuilt");
  std::string garbage_binary = good.substr(0, 64) + std::string(good.size() - 64, 'x');
  {
    // A well-formed entry whose binary the driver cannot load (stale): header checksum fixed up.
    const uint64_t sum = ek::detail::Fnv1a(garbage_binary.data() + 64, garbage_binary.size() - 64);
    std::memcpy(&garbage_binary[32], &sum, 8);
  }
  WriteFile(entry, garbage_binary);
  Check(BuildAndRun(rt, "-D EK_A=1") == ek::opencl::CacheOutcome::kRebuilt, "binary the driver refuses: rebuilt");
  Check(BuildAndRun(rt, "-D EK_A=1") == ek::opencl::CacheOutcome::kHit, "and then a hit again");

  // Unusable directories: under a regular file, and read-only (unless running as root).
  const std::string file = std::string(dir) + "/plain-file";
  WriteFile(file, "x");
  rt.SetCacheDirectory((file + "/cache").c_str());
  Check(BuildAndRun(rt, "-D EK_A=3") == ek::opencl::CacheOutcome::kUnusable, "directory under a file: build ok, cache off");
  const std::string read_only = std::string(dir) + "/read-only";
  mkdir(read_only.c_str(), 0555);
  rt.SetCacheDirectory(read_only.c_str());
  const ek::opencl::CacheOutcome ro = BuildAndRun(rt, "-D EK_A=4");
  Check(ro == ek::opencl::CacheOutcome::kUnusable || (geteuid() == 0 && ro == ek::opencl::CacheOutcome::kMiss),
        "read-only directory: build ok, cache off");

  // Tuning files (GEMM and convolution lines): the device's line wins over its vendor's, a vendor
  // line over the defaults; a missing file gives the defaults; a malformed line is an error
  // naming the line.
  {
    const std::string path = std::string(dir) + "/tuning.txt";
    WriteFile(path, std::string("# comment\n") + "vendor\t" + caps.vendor + "\tf32\t32 32 8 2 2\n" + "device\t" +
                        caps.name + "\tf32\t16 16 4 2 2\n" + "vendor\t" + caps.vendor + "\ts8\t64 32 8 4 4\n" +
                        "device\tsome other device\tf16\t8 8 8 1 1\n" + "vendor\t" + caps.vendor +
                        "\tconv_f32\t2 16\n" + "device\t" + caps.name + "\tconv_f32\t8 32\n" + "vendor\t" +
                        caps.vendor + "\tconv_int8\t1 0\n");
    ek::opencl::GemmTile tiles[ek::opencl::kGemmKernelTypes];
    const char* matched[ek::opencl::kGemmKernelTypes] = {};
    ek::opencl::ConvTile conv_tiles[ek::opencl::kConvKernelTypes];
    const char* conv_matched[ek::opencl::kConvKernelTypes] = {};
    const ek::Status s = ek::opencl::LoadTuning(path.c_str(), caps, tiles, conv_tiles, matched, conv_matched);
    Check(s.ok() && std::strcmp(conv_matched[0], "device") == 0 && conv_tiles[0].pixels == 8 &&
              conv_tiles[0].local_channels == 32,
          "tuning: the device's convolution line wins");
    Check(s.ok() && std::strcmp(conv_matched[2], "vendor") == 0 && conv_tiles[2].pixels == 1 &&
              std::strcmp(conv_matched[1], "default") == 0 && conv_tiles[1].pixels == ek::opencl::ConvTile().pixels,
          "tuning: a vendor convolution line, else the default");
    Check(s.ok() && std::strcmp(matched[0], "device") == 0 && tiles[0].tile_m == 16 && tiles[0].tile_k == 4,
          "tuning: the device's line wins");
    Check(s.ok() && std::strcmp(matched[2], "vendor") == 0 && tiles[2].tile_m == 64 && tiles[2].tile_n == 32,
          "tuning: a vendor line when the device has none");
    const ek::opencl::GemmTile d = ek::opencl::DefaultGemmTile(caps, ek::opencl::GemmKernelType::kF16);
    Check(s.ok() && std::strcmp(matched[1], "default") == 0 && tiles[1].tile_m == d.tile_m && tiles[1].wpt_n == d.wpt_n,
          "tuning: defaults for a type no line names for this device");
    Check(ek::opencl::LoadGemmTuning((path + ".missing").c_str(), caps, tiles, matched).ok() &&
              std::strcmp(matched[0], "default") == 0,
          "tuning: a missing file gives the defaults");
    WriteFile(path, "# ok\ndevice\tx\tf32\t1 2 3\n");
    const ek::Status bad = ek::opencl::LoadGemmTuning(path.c_str(), caps, tiles, matched);
    Check(!bad.ok() && std::strstr(bad.message(), "tuning.txt:2"), "tuning: a malformed line is named");
    WriteFile(path, "device\tx\tconv_f16\t9 0\n");  // pixels out of range
    const ek::Status bad_conv = ek::opencl::LoadTuning(path.c_str(), caps, tiles, conv_tiles);
    Check(!bad_conv.ok() && std::strstr(bad_conv.message(), "tuning.txt:1"), "tuning: a malformed convolution line is named");
    ek::opencl::RuntimeOptions o;
    o.tuning_file = path.c_str();
    ek::opencl::Runtime tuned;
    Check(!tuned.Open(o).ok(), "Runtime::Open reports a malformed tuning file");
    // Trailing fields are errors, not ignored; a GEMM line with its optional kernel field and
    // trailing white space is fine.
    WriteFile(path, "device\tx\tconv_f32\t2 16 7\n");
    Check(!ek::opencl::LoadTuning(path.c_str(), caps, tiles, conv_tiles).ok(), "tuning: a trailing convolution field");
    WriteFile(path, "device\tx\tf32\t16 16 4 2 2 1 9\n");
    Check(!ek::opencl::LoadGemmTuning(path.c_str(), caps, tiles, matched).ok(), "tuning: a trailing GEMM field");
    WriteFile(path, "device\tx\tf32\t16 16 4 2 2 abc\n");
    Check(!ek::opencl::LoadGemmTuning(path.c_str(), caps, tiles, matched).ok(), "tuning: trailing text");
    WriteFile(path, "device\tx\tf32\t16 16 4 2 2 1 \ndevice\tx\tconv_f32\t2 16 \n");
    Check(ek::opencl::LoadTuning(path.c_str(), caps, tiles, conv_tiles).ok(), "tuning: trailing white space is fine");
    if (const char* written = std::getenv("EK_TEST_TUNING_FILE")) {  // written by ek-cl-tune (ctest fixture)
      const ek::Status w = ek::opencl::LoadTuning(written, caps, tiles, conv_tiles, matched, conv_matched);
      Check(w.ok() && std::strcmp(matched[0], "device") == 0 && std::strcmp(matched[1], "device") == 0 &&
                std::strcmp(matched[2], "device") == 0,
            "ek-cl-tune's file names this device for every GEMM type");
      Check(w.ok() && std::strcmp(conv_matched[0], "device") == 0 && std::strcmp(conv_matched[1], "device") == 0 &&
                std::strcmp(conv_matched[2], "device") == 0,
            "ek-cl-tune's file names this device for every convolution type");
      o.tuning_file = written;
      Check(tuned.Open(o).ok() && tuned.gemm_tile(ek::opencl::GemmKernelType::kF32).tile_m == tiles[0].tile_m &&
                tuned.conv_tile(ek::opencl::ConvKernelType::kInt8).pixels == conv_tiles[2].pixels &&
                tuned.conv_tile(ek::opencl::ConvKernelType::kInt8).local_channels == conv_tiles[2].local_channels,
            "Runtime::Open loads ek-cl-tune's file");
    }
  }

  // GetKernel keeps built kernels in the runtime.
  rt.SetCacheDirectory("");
  cl_kernel k1 = nullptr, k2 = nullptr;
  ek::opencl::BuildInfo b1, b2;
  Check(ek::opencl::GetKernel(rt, kSource, "-D EK_B=1", "add_one", &k1, &b1).ok() &&
            ek::opencl::GetKernel(rt, kSource, "-D EK_B=1", "add_one", &k2, &b2).ok() && k1 == k2 && k1 != nullptr,
        "GetKernel reuses the kernel it built");
  cl_kernel k3 = nullptr;
  const ek::Status no_such = ek::opencl::GetKernel(rt, kSource, "", "no_such_kernel", &k3);
  Check(!no_such.ok() && std::strstr(no_such.message(), "no_such_kernel"), "an unknown kernel name is named");

  std::string cleanup = std::string("rm -rf '") + dir + "'";
  if (std::system(cleanup.c_str()) != 0) std::printf("note: could not remove %s\n", dir);
  std::printf("%d passed, %d failed\n", g_passed, g_failures);
  return g_failures ? 1 : 0;
}

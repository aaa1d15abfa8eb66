// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// The OpenCL host runtime: a device probe into a capability struct, and ek::opencl::Runtime, a
// context + in-order profiling queue on one device, opened here (libOpenCL loaded at run time)
// or borrowed from the caller's own context and queue. Buffers, transfers and event timing
// helpers for tests and benchmarks. Programs and their on-disk cache: ek/opencl/program.h.
//
//   ek::opencl::Runtime rt;
//   EK_RETURN_IF_ERROR(rt.Open());                 // kUnavailable (with the reason) if no OpenCL
//   rt.caps().fp16, rt.caps().integer_dot_khr ...  // what the kernels may use
#ifndef EK_OPENCL_RUNTIME_H_
#define EK_OPENCL_RUNTIME_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "ek/opencl/loader.h"
#include "ek/status.h"

namespace ek {
namespace opencl {

// What a device offers, as the kernels need it (ProbeDevice).
struct DeviceCaps {
  char platform[128] = {0};
  char platform_version[128] = {0};
  char name[128] = {0};
  char vendor[128] = {0};
  char driver_version[128] = {0};
  char version[128] = {0};          // CL_DEVICE_VERSION, e.g. "OpenCL 3.0 PoCL ..."
  int c_major = 1, c_minor = 0;     // OpenCL C version the compiler accepts
  bool gpu = false;
  bool fp16 = false;                // cl_khr_fp16: half arithmetic (half storage needs nothing)
  bool subgroups = false;           // cl_khr_subgroups (or the Intel / Qualcomm forms)
  bool subgroups_khr = false;       // cl_khr_subgroups itself (sub_group_reduce_*: opencl/quantize.cl)
  bool correctly_rounded_divide = false;  // CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT (f32): IEEE a / b
  bool integer_dot_khr = false;     // cl_khr_integer_dot_product
  bool integer_dot_arm = false;     // cl_arm_integer_dot_product_int8
  bool image_from_buffer = false;   // cl_khr_image2d_from_buffer
  size_t max_work_group_size = 1;
  size_t max_work_item_sizes[3] = {1, 1, 1};
  cl_ulong local_memory_bytes = 0;
  cl_ulong global_memory_bytes = 0;
  cl_ulong max_alloc_bytes = 0;
  cl_uint compute_units = 0;
};

// True if the space-separated extension list has `name` as a whole word.
inline bool HasExtension(const char* extensions, const char* name) {
  const size_t length = std::strlen(name);
  for (const char* p = extensions; p != nullptr && *p != '\0';) {
    while (*p == ' ') ++p;
    const char* end = p;
    while (*end != '\0' && *end != ' ') ++end;
    if (static_cast<size_t>(end - p) == length && std::strncmp(p, name, length) == 0) return true;
    p = end;
  }
  return false;
}

namespace detail {
inline Status ClError(const char* what, cl_int err) {
  return Status::Error(StatusCode::kInternal, "opencl: %s failed (error %d)", what, static_cast<int>(err));
}
#define EK_CL_RETURN_IF_ERROR(what, call)                 \
  do {                                                    \
    const cl_int ek_cl_err_ = (call);                     \
    if (ek_cl_err_ != CL_SUCCESS) {                       \
      return ::ek::opencl::detail::ClError(what, ek_cl_err_); \
    }                                                     \
  } while (0)
}  // namespace detail

inline Status ProbeDevice(const Api& api, cl_device_id device, DeviceCaps* caps) {
  if (caps == nullptr) return Status::Error(StatusCode::kInvalidArgument, "caps: is null");
  if (device == nullptr) return Status::Error(StatusCode::kInvalidArgument, "device: is null");
  *caps = DeviceCaps();
  cl_platform_id platform = nullptr;
  EK_CL_RETURN_IF_ERROR("clGetDeviceInfo(CL_DEVICE_PLATFORM)",
                        api.clGetDeviceInfo(device, CL_DEVICE_PLATFORM, sizeof(platform), &platform, nullptr));
  const auto text = [&](cl_device_info what, char* out, size_t size) {
    api.clGetDeviceInfo(device, what, size - 1, out, nullptr);
  };
  api.clGetPlatformInfo(platform, CL_PLATFORM_NAME, sizeof(caps->platform) - 1, caps->platform, nullptr);
  api.clGetPlatformInfo(platform, CL_PLATFORM_VERSION, sizeof(caps->platform_version) - 1, caps->platform_version,
                        nullptr);
  text(CL_DEVICE_NAME, caps->name, sizeof(caps->name));
  text(CL_DEVICE_VENDOR, caps->vendor, sizeof(caps->vendor));
  text(CL_DRIVER_VERSION, caps->driver_version, sizeof(caps->driver_version));
  text(CL_DEVICE_VERSION, caps->version, sizeof(caps->version));
  char c_version[128] = {0};
  text(CL_DEVICE_OPENCL_C_VERSION, c_version, sizeof(c_version));
  if (std::sscanf(c_version, "OpenCL C %d.%d", &caps->c_major, &caps->c_minor) != 2) {
    return Status::Error(StatusCode::kUnsupported, "opencl: device %s reports OpenCL C version '%s'", caps->name,
                         c_version);
  }
  size_t extensions_size = 0;
  api.clGetDeviceInfo(device, CL_DEVICE_EXTENSIONS, 0, nullptr, &extensions_size);
  char extensions[8192] = {0};
  if (extensions_size > 0 && extensions_size <= sizeof(extensions)) {
    api.clGetDeviceInfo(device, CL_DEVICE_EXTENSIONS, extensions_size, extensions, nullptr);
  }
  caps->fp16 = HasExtension(extensions, "cl_khr_fp16");
  caps->subgroups = HasExtension(extensions, "cl_khr_subgroups") || HasExtension(extensions, "cl_intel_subgroups") ||
                    HasExtension(extensions, "cl_qcom_reqd_sub_group_size");
  caps->subgroups_khr = HasExtension(extensions, "cl_khr_subgroups");
  caps->integer_dot_khr = HasExtension(extensions, "cl_khr_integer_dot_product");
  caps->integer_dot_arm = HasExtension(extensions, "cl_arm_integer_dot_product_int8");
  caps->image_from_buffer = HasExtension(extensions, "cl_khr_image2d_from_buffer");
  cl_device_fp_config fp_config = 0;
  api.clGetDeviceInfo(device, CL_DEVICE_SINGLE_FP_CONFIG, sizeof(fp_config), &fp_config, nullptr);
  caps->correctly_rounded_divide = (fp_config & CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT) != 0;
  cl_device_type type = 0;
  api.clGetDeviceInfo(device, CL_DEVICE_TYPE, sizeof(type), &type, nullptr);
  caps->gpu = (type & CL_DEVICE_TYPE_GPU) != 0;
  api.clGetDeviceInfo(device, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof(caps->max_work_group_size),
                      &caps->max_work_group_size, nullptr);
  api.clGetDeviceInfo(device, CL_DEVICE_MAX_WORK_ITEM_SIZES, sizeof(caps->max_work_item_sizes),
                      caps->max_work_item_sizes, nullptr);
  api.clGetDeviceInfo(device, CL_DEVICE_LOCAL_MEM_SIZE, sizeof(caps->local_memory_bytes), &caps->local_memory_bytes,
                      nullptr);
  api.clGetDeviceInfo(device, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof(caps->global_memory_bytes),
                      &caps->global_memory_bytes, nullptr);
  api.clGetDeviceInfo(device, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof(caps->max_alloc_bytes), &caps->max_alloc_bytes,
                      nullptr);
  api.clGetDeviceInfo(device, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof(caps->compute_units), &caps->compute_units,
                      nullptr);
  return Status::Ok();
}

// ---- Kernel parameters per device -------------------------------------------------------------
// Which kernel of opencl/gemm.cl runs, and its tile.
//   kTiled (ek_gemm): tile_m x tile_n outputs per work-group, tile_k k per step through local
//     memory, wpt_m x wpt_n outputs per work-item.
//   kVector (ek_gemm_vec, f32 and f16 storage with B not transposed): wpt_m rows x wpt_n columns
//     per work-item, wpt_n the float vector width (4, 8 or 16); tile_m x tile_n per work-group;
//     tile_k unused. Other calls fall back to the tiled kernel with DefaultGemmTile's tiled tile.
enum class GemmKernel : uint8_t { kTiled = 0, kVector = 1 };

struct GemmTile {
  int tile_m = 32;
  int tile_n = 32;
  int tile_k = 16;
  int wpt_m = 4;
  int wpt_n = 4;
  GemmKernel kernel = GemmKernel::kTiled;
};

// The GEMM kernel's types, each with its own tile.
enum class GemmKernelType : uint8_t { kF32 = 0, kF16 = 1, kS8 = 2 };
constexpr int kGemmKernelTypes = 3;
inline const char* GemmKernelTypeName(GemmKernelType t) {
  return t == GemmKernelType::kF32 ? "f32" : t == GemmKernelType::kF16 ? "f16" : "s8";
}

// The tiled kernel's default tile (GPUs: 256 work-items of 4 x 4; CPU devices: 16 work-items of
// 8 x 8, which PoCL turns into SIMD lanes: ek-cl-tune's best s8 tile at 512^3 and 1024^3).
inline GemmTile DefaultTiledGemmTile(const DeviceCaps& caps) {
  GemmTile t;
  t.tile_m = caps.gpu ? 64 : 32;
  t.tile_n = caps.gpu ? 64 : 32;
  t.tile_k = 16;
  t.wpt_m = caps.gpu ? 4 : 8;
  t.wpt_n = caps.gpu ? 4 : 8;
  return t;
}

// Built-in defaults when no tuning file names the device or its vendor (tools/ek-cl-tune).
// CPU devices run f32 and f16 on the vector kernel: 8 rows x 16 floats per work-item (8 zmm /
// 16 ymm accumulators), 16 items in y sharing a sliver of B (ek-cl-tune on PoCL, AVX-512 Zen 4).
inline GemmTile DefaultGemmTile(const DeviceCaps& caps, GemmKernelType type) {
  if (caps.gpu || type == GemmKernelType::kS8) return DefaultTiledGemmTile(caps);
  GemmTile t;
  t.kernel = GemmKernel::kVector;
  t.wpt_m = 8;
  t.wpt_n = 16;
  t.tile_m = 8 * 16;
  t.tile_n = 16;
  t.tile_k = 1;
  return t;
}

// Tuning file (written by tools/ek-cl-tune), one entry per line, '#' comments:
//   device <TAB> <device name> <TAB> <type> <TAB> tile_m tile_n tile_k wpt_m wpt_n [kernel]
//   vendor <TAB> <vendor name> <TAB> <type> <TAB> tile_m tile_n tile_k wpt_m wpt_n [kernel]
// kernel: 0 tiled (the default when absent), 1 vector.
// For each type the device's own line wins, then its vendor's, then DefaultGemmTile.
// `matched` (optional) receives "device", "vendor" or "default" per type. A missing file is not
// an error (defaults); a malformed line is, naming the line.
inline Status LoadGemmTuning(const char* path, const DeviceCaps& caps, GemmTile tiles[kGemmKernelTypes],
                             const char* matched[kGemmKernelTypes] = nullptr) {
  int rank[kGemmKernelTypes];  // 0 default, 1 vendor, 2 device
  for (int t = 0; t < kGemmKernelTypes; ++t) {
    tiles[t] = DefaultGemmTile(caps, static_cast<GemmKernelType>(t));
    rank[t] = 0;
  }
  FILE* f = path != nullptr && *path != '\0' ? std::fopen(path, "r") : nullptr;
  int line_number = 0;
  char line[512];
  while (f != nullptr && std::fgets(line, sizeof(line), f) != nullptr) {
    ++line_number;
    if (line[0] == '#' || line[0] == '\n' || line[0] == '\0') continue;
    char* fields[4] = {line, nullptr, nullptr, nullptr};
    int count = 1;
    for (char* p = line; *p != '\0' && count < 4; ++p) {
      if (*p == '\t') {
        *p = '\0';
        fields[count++] = p + 1;
      }
    }
    GemmTile tile;
    int type = -1, kernel = 0;
    for (int t = 0; t < kGemmKernelTypes && count == 4; ++t) {
      if (std::strcmp(fields[2], GemmKernelTypeName(static_cast<GemmKernelType>(t))) == 0) type = t;
    }
    const bool is_device = std::strcmp(fields[0], "device") == 0, is_vendor = std::strcmp(fields[0], "vendor") == 0;
    if (count != 4 || type < 0 || !(is_device || is_vendor) ||
        std::sscanf(fields[3], "%d %d %d %d %d %d", &tile.tile_m, &tile.tile_n, &tile.tile_k, &tile.wpt_m,
                    &tile.wpt_n, &kernel) < 5 ||
        kernel < 0 || kernel > 1) {
      std::fclose(f);
      return Status::Error(StatusCode::kInvalidArgument,
                           "%s:%d: expected 'device|vendor <TAB> name <TAB> f32|f16|s8 <TAB> 5 integers [kernel 0|1]'",
                           path, line_number);
    }
    tile.kernel = static_cast<GemmKernel>(kernel);
    const bool match = std::strcmp(fields[1], is_device ? caps.name : caps.vendor) == 0;
    const int line_rank = is_device ? 2 : 1;
    if (match && line_rank >= rank[type]) {
      tiles[type] = tile;
      rank[type] = line_rank;
    }
  }
  if (f != nullptr) std::fclose(f);
  for (int t = 0; matched != nullptr && t < kGemmKernelTypes; ++t) {
    matched[t] = rank[t] == 2 ? "device" : rank[t] == 1 ? "vendor" : "default";
  }
  return Status::Ok();
}

struct RuntimeOptions {
  const char* library_path = nullptr;    // tried first (then $EK_OPENCL_LIBRARY and the defaults)
  int device_index = -1;                 // index over all platforms' devices; -1: first GPU, else first
  const char* cache_directory = nullptr; // program binary cache (ek/opencl/program.h); null: none
  const char* tuning_file = nullptr;     // kernel parameters (LoadGemmTuning); null: defaults
};

// A context and an in-order queue (with profiling when the Runtime made it) on one device.
class Runtime {
 public:
  Runtime() = default;
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;
  ~Runtime() { Close(); }

  // Loads libOpenCL, picks the device, creates a context and a profiling queue.
  Status Open(const RuntimeOptions& options = RuntimeOptions()) {
    Close();
    EK_RETURN_IF_ERROR(LoadApi(&own_api_, options.library_path));
    api_ = &own_api_;
    cl_platform_id platforms[16];
    cl_uint num_platforms = 0;
    const cl_int err = api_->clGetPlatformIDs(16, platforms, &num_platforms);
    if (err != CL_SUCCESS || num_platforms == 0) {
      Close();
      return Status::Error(StatusCode::kUnavailable, "opencl: %s has no platform (error %d)", own_api_.library_path,
                           static_cast<int>(err));
    }
    cl_device_id chosen = nullptr, first = nullptr, first_gpu = nullptr;
    int index = 0;
    for (cl_uint p = 0; p < num_platforms && p < 16; ++p) {
      cl_device_id devices[16];
      cl_uint n = 0;
      if (api_->clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, 16, devices, &n) != CL_SUCCESS) continue;
      for (cl_uint d = 0; d < n && d < 16; ++d, ++index) {
        if (index == options.device_index) chosen = devices[d];
        if (first == nullptr) first = devices[d];
        cl_device_type type = 0;
        api_->clGetDeviceInfo(devices[d], CL_DEVICE_TYPE, sizeof(type), &type, nullptr);
        if (first_gpu == nullptr && (type & CL_DEVICE_TYPE_GPU)) first_gpu = devices[d];
      }
    }
    if (options.device_index >= 0 && chosen == nullptr) {
      Close();
      return Status::Error(StatusCode::kInvalidArgument, "options.device_index: %d, but there are %d devices",
                           options.device_index, index);
    }
    if (chosen == nullptr) chosen = first_gpu != nullptr ? first_gpu : first;
    if (chosen == nullptr) {
      Close();
      return Status::Error(StatusCode::kUnavailable, "opencl: %s offers no device", own_api_.library_path);
    }
    cl_int cerr = CL_SUCCESS;
    context_ = api_->clCreateContext(nullptr, 1, &chosen, nullptr, nullptr, &cerr);
    if (cerr != CL_SUCCESS) {
      Close();
      return detail::ClError("clCreateContext", cerr);
    }
    queue_ = api_->clCreateCommandQueue(context_, chosen, CL_QUEUE_PROFILING_ENABLE, &cerr);
    if (cerr != CL_SUCCESS) {
      Close();
      return detail::ClError("clCreateCommandQueue", cerr);
    }
    device_ = chosen;
    profiling_ = true;
    SetCacheDirectory(options.cache_directory);
    Status s = ProbeDevice(*api_, device_, &caps_);
    if (s.ok()) s = LoadGemmTuning(options.tuning_file, caps_, gemm_tiles_);
    if (!s.ok()) Close();
    return s;
  }

  // Uses the caller's context and queue (retained here, released by Close). `api` must outlive
  // this Runtime. Profiling is available if the caller's queue has it.
  Status Wrap(const Api& api, cl_context context, cl_command_queue queue) {
    Close();
    if (api.library == nullptr) return Status::Error(StatusCode::kInvalidArgument, "api: not loaded");
    if (context == nullptr) return Status::Error(StatusCode::kInvalidArgument, "context: is null");
    if (queue == nullptr) return Status::Error(StatusCode::kInvalidArgument, "queue: is null");
    cl_context queue_context = nullptr;
    EK_CL_RETURN_IF_ERROR("clGetCommandQueueInfo(CL_QUEUE_CONTEXT)",
                          api.clGetCommandQueueInfo(queue, CL_QUEUE_CONTEXT, sizeof(queue_context), &queue_context,
                                                    nullptr));
    if (queue_context != context) {
      return Status::Error(StatusCode::kInvalidArgument, "queue: belongs to another context");
    }
    cl_device_id device = nullptr;
    EK_CL_RETURN_IF_ERROR("clGetCommandQueueInfo(CL_QUEUE_DEVICE)",
                          api.clGetCommandQueueInfo(queue, CL_QUEUE_DEVICE, sizeof(device), &device, nullptr));
    cl_command_queue_properties properties = 0;
    api.clGetCommandQueueInfo(queue, CL_QUEUE_PROPERTIES, sizeof(properties), &properties, nullptr);
    EK_RETURN_IF_ERROR(ProbeDevice(api, device, &caps_));
    EK_RETURN_IF_ERROR(LoadGemmTuning(nullptr, caps_, gemm_tiles_));
    api_ = &api;
    api_->clRetainContext(context);
    api_->clRetainCommandQueue(queue);
    context_ = context;
    queue_ = queue;
    device_ = device;
    profiling_ = (properties & CL_QUEUE_PROFILING_ENABLE) != 0;
    return Status::Ok();
  }

  void Close() {
    if (api_ != nullptr) {
      for (KernelSlot& slot : kernel_slots_) {
        if (slot.kernel != nullptr) api_->clReleaseKernel(slot.kernel);
        if (slot.program != nullptr) api_->clReleaseProgram(slot.program);
        slot = KernelSlot();
      }
      if (queue_ != nullptr) api_->clReleaseCommandQueue(queue_);
      if (context_ != nullptr) api_->clReleaseContext(context_);
    }
    queue_ = nullptr;
    context_ = nullptr;
    device_ = nullptr;
    api_ = nullptr;
    profiling_ = false;
    caps_ = DeviceCaps();
    cache_directory_[0] = '\0';
    if (own_api_.library != nullptr) UnloadApi(&own_api_);
  }

  bool ok() const { return queue_ != nullptr; }
  const Api& api() const { return *api_; }
  cl_context context() const { return context_; }
  cl_command_queue queue() const { return queue_; }
  cl_device_id device() const { return device_; }
  const DeviceCaps& caps() const { return caps_; }
  bool profiling() const { return profiling_; }

  // The directory of the program binary cache (ek/opencl/program.h); null or "" turns it off.
  void SetCacheDirectory(const char* directory) {
    std::snprintf(cache_directory_, sizeof(cache_directory_), "%s", directory ? directory : "");
  }
  const char* cache_directory() const { return cache_directory_; }

  // The GEMM kernel's tile for `type` (tuning file, else defaults), and an override.
  const GemmTile& gemm_tile(GemmKernelType type) const { return gemm_tiles_[static_cast<int>(type)]; }
  void set_gemm_tile(GemmKernelType type, const GemmTile& tile) { gemm_tiles_[static_cast<int>(type)] = tile; }

  // Kernels the entry points built, kept for later calls (ek/opencl/program.h, GetKernel).
  // A Runtime, like its queue, is used by one thread at a time.
  struct KernelSlot {
    uint64_t key = 0;
    cl_program program = nullptr;
    cl_kernel kernel = nullptr;
  };
  static constexpr int kKernelSlots = 32;
  KernelSlot* kernel_slots() { return kernel_slots_; }

 private:
  Api own_api_;
  const Api* api_ = nullptr;
  cl_context context_ = nullptr;
  cl_command_queue queue_ = nullptr;
  cl_device_id device_ = nullptr;
  bool profiling_ = false;
  DeviceCaps caps_;
  char cache_directory_[512] = {0};
  KernelSlot kernel_slots_[kKernelSlots];
  GemmTile gemm_tiles_[kGemmKernelTypes];
};

// ---- Buffers and timing (tests, benchmarks, runtimes without their own helpers) ----------------
inline Status CreateBuffer(const Runtime& rt, size_t bytes, cl_mem* buffer) {
  if (buffer == nullptr) return Status::Error(StatusCode::kInvalidArgument, "buffer: is null");
  *buffer = nullptr;
  if (!rt.ok()) return Status::Error(StatusCode::kInvalidArgument, "runtime: not open");
  if (bytes == 0) return Status::Error(StatusCode::kInvalidArgument, "bytes: is 0");
  cl_int err = CL_SUCCESS;
  *buffer = rt.api().clCreateBuffer(rt.context(), CL_MEM_READ_WRITE, bytes, nullptr, &err);
  if (err != CL_SUCCESS) {
    *buffer = nullptr;
    return detail::ClError("clCreateBuffer", err);
  }
  return Status::Ok();
}

inline void ReleaseBuffer(const Runtime& rt, cl_mem buffer) {
  if (buffer != nullptr && rt.ok()) rt.api().clReleaseMemObject(buffer);
}

// Blocking copies between host memory and a buffer.
inline Status Upload(const Runtime& rt, cl_mem buffer, size_t offset, const void* data, size_t bytes) {
  EK_CL_RETURN_IF_ERROR("clEnqueueWriteBuffer",
                        rt.api().clEnqueueWriteBuffer(rt.queue(), buffer, CL_TRUE, offset, bytes, data, 0, nullptr,
                                                      nullptr));
  return Status::Ok();
}
inline Status Download(const Runtime& rt, cl_mem buffer, size_t offset, void* data, size_t bytes) {
  EK_CL_RETURN_IF_ERROR("clEnqueueReadBuffer",
                        rt.api().clEnqueueReadBuffer(rt.queue(), buffer, CL_TRUE, offset, bytes, data, 0, nullptr,
                                                     nullptr));
  return Status::Ok();
}

// Device time of a finished command in milliseconds (profiling queue), and releases the event.
inline Status EventMilliseconds(const Runtime& rt, cl_event event, double* ms) {
  if (event == nullptr || ms == nullptr) return Status::Error(StatusCode::kInvalidArgument, "event: is null");
  if (!rt.profiling()) {
    rt.api().clReleaseEvent(event);
    return Status::Error(StatusCode::kUnsupported, "queue: has no CL_QUEUE_PROFILING_ENABLE");
  }
  cl_ulong start = 0, end = 0;
  cl_int err = rt.api().clWaitForEvents(1, &event);
  if (err == CL_SUCCESS) {
    err = rt.api().clGetEventProfilingInfo(event, CL_PROFILING_COMMAND_START, sizeof(start), &start, nullptr);
  }
  if (err == CL_SUCCESS) {
    err = rt.api().clGetEventProfilingInfo(event, CL_PROFILING_COMMAND_END, sizeof(end), &end, nullptr);
  }
  rt.api().clReleaseEvent(event);
  if (err != CL_SUCCESS) return detail::ClError("clGetEventProfilingInfo", err);
  *ms = static_cast<double>(end - start) * 1e-6;
  return Status::Ok();
}

}  // namespace opencl
}  // namespace ek

#endif  // EK_OPENCL_RUNTIME_H_

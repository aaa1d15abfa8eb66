// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// The OpenCL program cache used by several threads at once, each with its own Runtime (a
// Runtime is one thread's, docs/opencl.md) and all with the same cache directory, as an app's
// worker threads would: every build succeeds, every entry written is whole (writes are a
// temporary file renamed into place), and the programs run. Run by every host lane and under
// ThreadSanitizer (host-clang-tsan). Exit 77 (skipped) without an OpenCL device.
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "ek/opencl/program.h"
#include "ek/opencl/runtime.h"

namespace {

const char kSource[] = "__kernel void add_two(__global int* x) { x[get_global_id(0)] += 2; }\n";

// One thread: opens its runtime on `dir`, builds the program `rounds` times through the cache
// and runs it once. Returns the number of failures.
int Worker(const std::string& dir, int rounds) {
  ek::opencl::Runtime rt;
  ek::opencl::RuntimeOptions o;
  o.cache_directory = dir.c_str();
  if (!rt.Open(o).ok()) return 1;
  int failures = 0;
  for (int r = 0; r < rounds; ++r) {
    cl_program program = nullptr;
    ek::opencl::BuildInfo info;
    const ek::Status s = ek::opencl::BuildProgram(rt, kSource, "-D ROUND_INDEPENDENT", &program, &info);
    if (!s.ok()) {
      std::printf("FAIL build: %s\n", s.message());
      ++failures;
      continue;
    }
    if (r == 0) {
      cl_int err = CL_SUCCESS;
      cl_kernel kernel = rt.api().clCreateKernel(program, "add_two", &err);
      cl_mem buffer = nullptr;
      int values[2] = {1, 5};
      const size_t global = 2;
      bool ran = err == CL_SUCCESS && ek::opencl::CreateBuffer(rt, sizeof(values), &buffer).ok() &&
                 ek::opencl::Upload(rt, buffer, 0, values, sizeof(values)).ok() &&
                 rt.api().clSetKernelArg(kernel, 0, sizeof(cl_mem), &buffer) == CL_SUCCESS &&
                 rt.api().clEnqueueNDRangeKernel(rt.queue(), kernel, 1, nullptr, &global, nullptr, 0, nullptr,
                                                 nullptr) == CL_SUCCESS &&
                 ek::opencl::Download(rt, buffer, 0, values, sizeof(values)).ok();
      if (!ran || values[0] != 3 || values[1] != 7) ++failures;
      ek::opencl::ReleaseBuffer(rt, buffer);
      if (kernel != nullptr) rt.api().clReleaseKernel(kernel);
    }
    rt.api().clReleaseProgram(program);
  }
  return failures;
}

}  // namespace

int main() {
  {
    ek::opencl::Runtime probe;
    const ek::Status opened = probe.Open();
    if (!opened.ok()) {
      std::printf("skipped: %s\n", opened.message());
      return 77;
    }
  }
  char pattern[] = "/tmp/ek_cl_cache_concurrency.XXXXXX";
  const char* dir = mkdtemp(pattern);
  if (dir == nullptr) return 1;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) threads.emplace_back([&] { failures += Worker(dir, 6); });
  for (std::thread& t : threads) t.join();
  // A fresh runtime now hits the entry the racing threads left: whole and valid.
  {
    ek::opencl::Runtime rt;
    ek::opencl::RuntimeOptions o;
    o.cache_directory = dir;
    cl_program program = nullptr;
    ek::opencl::BuildInfo info;
    const bool ok = rt.Open(o).ok() && ek::opencl::BuildProgram(rt, kSource, "-D ROUND_INDEPENDENT", &program, &info).ok();
    if (!ok || info.cache != ek::opencl::CacheOutcome::kHit) {
      std::printf("FAIL after the race the entry is not a hit (%s)\n", info.cache_note);
      ++failures;
    }
    if (program != nullptr) rt.api().clReleaseProgram(program);
  }
  const std::string cleanup = std::string("rm -rf '") + dir + "'";
  if (std::system(cleanup.c_str()) != 0) std::printf("note: could not remove %s\n", dir);
  std::printf("%s: %d failures\n", failures.load() ? "FAIL" : "ok", failures.load());
  return failures.load() ? 1 : 0;
}

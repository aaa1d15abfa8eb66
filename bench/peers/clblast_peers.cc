// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// CLBlast (Debian libclblast-dev) SGEMM on the same OpenCL device and queue as ek's cl_gemm
// benchmarks: peer/clblast/cl_gemm/f32/<M>x<N>x<K>, wall time of enqueue + clFinish.
#include <benchmark/benchmark.h>

#include <chrono>
#include <string>
#include <vector>

#include "bench_util.h"
#include "ek/opencl/runtime.h"

#if EK_PEER_CLBLAST
#include <clblast_c.h>
#endif

namespace ek_bench {

#if EK_PEER_CLBLAST
namespace {
void ClblastSgemm(benchmark::State& state, ek::opencl::Runtime* rt, int64_t size) {
  const size_t bytes = static_cast<size_t>(size * size) * 4;
  std::vector<float> init(static_cast<size_t>(size * size), 0.5f);
  cl_mem a = nullptr, b = nullptr, c = nullptr;
  if (!ek::opencl::CreateBuffer(*rt, bytes, &a).ok() || !ek::opencl::CreateBuffer(*rt, bytes, &b).ok() ||
      !ek::opencl::CreateBuffer(*rt, bytes, &c).ok() || !ek::opencl::Upload(*rt, a, 0, init.data(), bytes).ok() ||
      !ek::opencl::Upload(*rt, b, 0, init.data(), bytes).ok()) {
    state.SkipWithError("buffers");
    return;
  }
  cl_command_queue queue = rt->queue();
  const auto n = static_cast<size_t>(size);
  const auto run = [&]() {
    const CLBlastStatusCode s = CLBlastSgemm(CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeNo, n, n, n,
                                             1.0f, a, 0, n, b, 0, n, 0.0f, c, 0, n, &queue, nullptr);
    if (s == CLBlastSuccess) rt->api().clFinish(queue);
    return s == CLBlastSuccess;
  };
  if (!run()) {  // compiles CLBlast's kernels
    state.SkipWithError("CLBlastSgemm failed");
  } else {
    const auto start = std::chrono::steady_clock::now();
    for (auto _ : state) {
      if (!run()) {
        state.SkipWithError("CLBlastSgemm failed");
        break;
      }
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    state.counters["GFLOPS"] =
        2.0 * static_cast<double>(size) * static_cast<double>(size) * static_cast<double>(size) *
        static_cast<double>(state.iterations()) / seconds * 1e-9;
  }
  ek::opencl::ReleaseBuffer(*rt, a);
  ek::opencl::ReleaseBuffer(*rt, b);
  ek::opencl::ReleaseBuffer(*rt, c);
}
}  // namespace
#endif

void RegisterClGemmPeers(ek::opencl::Runtime* rt, const std::vector<int64_t>& sizes) {
#if EK_PEER_CLBLAST
  for (const int64_t size : sizes) {
    const std::string name = "peer/clblast/cl_gemm/f32/" + std::to_string(size) + "x" + std::to_string(size) + "x" +
                             std::to_string(size);
    benchmark::RegisterBenchmark(name.c_str(), [rt, size](benchmark::State& s) { ClblastSgemm(s, rt, size); })
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }
#else
  (void)rt;
  (void)sizes;
#endif
}

}  // namespace ek_bench

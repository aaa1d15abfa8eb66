// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// OpenCL benchmarks on the default device (ek/opencl/gemm.h, ek/opencl/program.h):
//   cl_gemm/<f32|f16|s8>/<M>x<N>x<K>   GFLOPS (GOPS for s8), wall time of enqueue + clFinish
//   cl_program/build_cold              a program built from source (a fresh -D each time: no cache
//                                      of ek's or the driver's can answer)
//   cl_program/build_cached            the same program loaded from ek's on-disk cache
// CLBlast, when installed, runs the same f32 shapes on the same device: peers/clblast_peers.cc.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench_util.h"
#include "ek/opencl/gemm.h"

namespace ek_bench {

void RegisterClGemmPeers(ek::opencl::Runtime* rt, const std::vector<int64_t>& sizes);

namespace {

ek::opencl::Runtime* SharedRuntime() {
  static ek::opencl::Runtime* rt = [] {
    auto* r = new ek::opencl::Runtime();  // lives until exit: benchmarks run after registration
    const ek::Status s = r->Open();
    if (!s.ok()) {
      std::printf("opencl: %s (no cl_* benchmarks)\n", s.message());
      delete r;
      return static_cast<ek::opencl::Runtime*>(nullptr);
    }
    return r;
  }();
  return rt;
}

void ClGemm(benchmark::State& state, ek::DType type, int64_t size) {
  ek::opencl::Runtime& rt = *SharedRuntime();
  const size_t element = type == ek::DType::kF32 ? 4 : type == ek::DType::kF16 ? 2 : 1;
  const size_t bytes = static_cast<size_t>(size * size) * element;
  cl_mem a = nullptr, b = nullptr, c = nullptr;
  std::vector<uint8_t> init(bytes, 0);
  for (size_t i = 0; i < bytes; ++i) init[i] = static_cast<uint8_t>(type == ek::DType::kI8 ? i * 7 : 0x3c - (i & 1));
  if (!ek::opencl::CreateBuffer(rt, bytes, &a).ok() || !ek::opencl::CreateBuffer(rt, bytes, &b).ok() ||
      !ek::opencl::CreateBuffer(rt, bytes, &c).ok() || !ek::opencl::Upload(rt, a, 0, init.data(), bytes).ok() ||
      !ek::opencl::Upload(rt, b, 0, init.data(), bytes).ok()) {
    state.SkipWithError("buffers");
    return;
  }
  ek::QuantParams q;
  q.scheme = ek::QuantScheme::kPerTensor;
  q.scale = 0.01f;
  const auto view = [&](cl_mem m) {
    ek::TensorView v = ek::TensorView::OpenCL(type, m, 0, {size, size});
    return type == ek::DType::kI8 ? v.WithQuant(q) : v;
  };
  const auto run = [&]() {
    const ek::Status s = type == ek::DType::kI8 ? ek::opencl::QGemm(rt, view(a), view(b), view(c))
                                                : ek::opencl::Gemm(rt, view(a), view(b), view(c));
    if (s.ok()) rt.api().clFinish(rt.queue());
    return s;
  };
  const ek::Status warm = run();  // builds the kernel
  if (!warm.ok()) {
    state.SkipWithError(warm.message());
  } else {
    const auto start = std::chrono::steady_clock::now();
    for (auto _ : state) {
      if (!run().ok()) {
        state.SkipWithError("gemm failed");
        break;
      }
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double ops = 2.0 * static_cast<double>(size) * static_cast<double>(size) * static_cast<double>(size) *
                       static_cast<double>(state.iterations());
    state.counters[type == ek::DType::kI8 ? "GOPS" : "GFLOPS"] = ops / seconds * 1e-9;
  }
  ek::opencl::ReleaseBuffer(rt, a);
  ek::opencl::ReleaseBuffer(rt, b);
  ek::opencl::ReleaseBuffer(rt, c);
}

void BuildProgramBench(benchmark::State& state, bool cached) {
  ek::opencl::Runtime& rt = *SharedRuntime();
  const std::string directory = std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") + "/ek-bench-cl-cache";
  rt.SetCacheDirectory(cached ? directory.c_str() : "");
  static int nonce = 0;
  const auto build = [&](int id) {
    char options[160];
    std::snprintf(options, sizeof(options),
                  "-cl-std=CL1.2 -D EK_GEMM_F32 -D EK_TILE_M=64 -D EK_TILE_N=64 -D EK_WPT_M=8 -D EK_NONCE=%d", id);
    cl_program program = nullptr;
    ek::opencl::BuildInfo info;
    const ek::Status s = ek::opencl::BuildProgram(rt, ek::opencl::sources::kGemm, options, &program, &info);
    if (program != nullptr) rt.api().clReleaseProgram(program);
    return s.ok() && (!cached || info.cache == ek::opencl::CacheOutcome::kHit || info.cache == ek::opencl::CacheOutcome::kMiss);
  };
  // Cached: the entry is written once before timing (pid-unique nonce: a fresh entry per run).
  const int cached_id = -1 - static_cast<int>(getpid() % 100000);
  if (cached && !build(cached_id)) {
    state.SkipWithError("cache entry");
    return;
  }
  for (auto _ : state) {
    if (!build(cached ? cached_id : static_cast<int>(getpid()) * 1000 + nonce++)) {
      state.SkipWithError("build failed");
      break;
    }
  }
  rt.SetCacheDirectory("");
}

}  // namespace

void RegisterClBenchmarks() {
  if (SharedRuntime() == nullptr) return;
  const ek::opencl::DeviceCaps& caps = SharedRuntime()->caps();
  std::printf("opencl: %s / %s, OpenCL C %d.%d, %u compute units\n", caps.platform, caps.name, caps.c_major,
              caps.c_minor, caps.compute_units);
  const std::vector<int64_t> sizes = {256, 512, 1024};
  const struct {
    const char* name;
    ek::DType type;
  } types[] = {{"f32", ek::DType::kF32}, {"f16", ek::DType::kF16}, {"s8", ek::DType::kI8}};
  for (const auto& t : types) {
    for (const int64_t size : sizes) {
      const std::string name = std::string("cl_gemm/") + t.name + "/" + std::to_string(size) + "x" +
                               std::to_string(size) + "x" + std::to_string(size);
      const ek::DType type = t.type;
      benchmark::RegisterBenchmark(name.c_str(), [type, size](benchmark::State& s) { ClGemm(s, type, size); })
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
    }
  }
  // No fixed iteration count: its name must stay free of ':' (tools/tour.sh runs '^[^:]*$').
  benchmark::RegisterBenchmark("cl_program/build_cold", [](benchmark::State& s) { BuildProgramBench(s, false); })
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
  benchmark::RegisterBenchmark("cl_program/build_cached", [](benchmark::State& s) { BuildProgramBench(s, true); })
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
  RegisterClGemmPeers(SharedRuntime(), sizes);
}

}  // namespace ek_bench

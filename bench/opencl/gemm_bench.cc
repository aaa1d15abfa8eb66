// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// OpenCL benchmarks on the default device (ek/opencl/gemm.h, qgemm.h, quantize.h, program.h):
//   cl_gemm/<f32|f16|s8>/<M>x<N>x<K>   GFLOPS (GOPS for s8), wall time of enqueue + clFinish
//   cl_qgemm/<qd8xs8|qd8xs4>/<M>x<N>x<K>[/b32]
//                                      f32 activations quantized per row on the device x int8
//                                      per-channel or int4 block-32 weights (GPU layout) -> f32:
//                                      GOPS and, for M <= 16, GBps of weight bytes (the two
//                                      kernels: quantize_rows + the GEMM / GEMV)
//   cl_quantize/f32_to_s8/<count>      GBps (bytes read + written)
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
#include "ek/opencl/qgemm.h"
#include "ek/opencl/convert.h"

namespace ek_bench {

void RegisterClGemmPeers(ek::opencl::Runtime* rt, const std::vector<int64_t>& sizes);

void RegisterClConvBenchmarks();  // conv_bench.cc

// The default device, opened once for every cl_* benchmark (null when there is none).
ek::opencl::Runtime* SharedClRuntime() {
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

namespace {

ek::opencl::Runtime* SharedRuntime() { return SharedClRuntime(); }

// Times `run` (enqueue + clFinish) over the benchmark's iterations; seconds, or < 0 on failure.
template <typename Run>
double TimeClCalls(benchmark::State& state, const Run& run) {
  ek::opencl::Runtime& rt = *SharedRuntime();
  const auto call = [&]() {
    const ek::Status s = run();
    if (s.ok()) rt.api().clFinish(rt.queue());
    return s;
  };
  const ek::Status warm = call();  // builds the kernels
  if (!warm.ok()) {
    state.SkipWithError(warm.message());
    return -1.0;
  }
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    if (!call().ok()) {
      state.SkipWithError("call failed");
      return -1.0;
    }
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
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
  const double seconds = TimeClCalls(state, [&]() {
    return type == ek::DType::kI8 ? ek::opencl::QGemm(rt, view(a), view(b), view(c))
                                  : ek::opencl::Gemm(rt, view(a), view(b), view(c));
  });
  if (seconds > 0) {
    const double ops = 2.0 * static_cast<double>(size) * static_cast<double>(size) * static_cast<double>(size) *
                       static_cast<double>(state.iterations());
    state.counters[type == ek::DType::kI8 ? "GOPS" : "GFLOPS"] = ops / seconds * 1e-9;
  }
  ek::opencl::ReleaseBuffer(rt, a);
  ek::opencl::ReleaseBuffer(rt, b);
  ek::opencl::ReleaseBuffer(rt, c);
}

void ClQGemmDynamic(benchmark::State& state, ek::DType weight_type, int64_t m, int64_t n, int64_t k) {
  ek::opencl::Runtime& rt = *SharedRuntime();
  const bool int4 = weight_type == ek::DType::kI4;
  std::vector<uint8_t> values(static_cast<size_t>(int4 ? (k * n + 1) / 2 : k * n));
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<uint8_t>(i * 13 + 5);
  std::vector<float> channel_scales(static_cast<size_t>(n), 0.01f);
  std::vector<uint16_t> block_scales(static_cast<size_t>((k + 31) / 32 * n), 0x211e);  // f16 0.01
  ek::TensorView b = ek::TensorView::Matrix(weight_type, values.data(), k, n, n);
  b = int4 ? b.WithQuant(ek::QuantParams::PerBlock(0, 32, ek::DType::kF16, block_scales.data()))
           : b.WithQuant(ek::QuantParams::PerAxis(1, channel_scales.data()));
  ek::opencl::DeviceQWeights w;
  ek::Status s = ek::opencl::UploadQWeights(rt, b, false, &w);
  if (!s.ok()) return state.SkipWithError(s.message());
  std::vector<float> a(static_cast<size_t>(m * k));
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>(static_cast<int>(i % 97) - 48) / 97.0f;
  cl_mem da = nullptr, dc = nullptr, ws = nullptr;
  const size_t ws_bytes = ek::opencl::QGemmDynamicWorkspaceBytes(m, k);
  if (!ek::opencl::CreateBuffer(rt, a.size() * 4, &da).ok() ||
      !ek::opencl::CreateBuffer(rt, static_cast<size_t>(m * n) * 4, &dc).ok() ||
      !ek::opencl::CreateBuffer(rt, ws_bytes, &ws).ok() || !ek::opencl::Upload(rt, da, 0, a.data(), a.size() * 4).ok()) {
    state.SkipWithError("buffers");
  } else {
    const ek::TensorView av = ek::TensorView::OpenCL(ek::DType::kF32, da, 0, {m, k});
    const ek::TensorView cv = ek::TensorView::OpenCL(ek::DType::kF32, dc, 0, {m, n});
    const double seconds = TimeClCalls(state, [&]() { return ek::opencl::QGemmDynamic(rt, av, w, cv, ek::QGemmOptions(), ws, ws_bytes); });
    if (seconds > 0) {
      const double calls = static_cast<double>(state.iterations());
      state.counters["GOPS"] = 2.0 * static_cast<double>(m * n) * static_cast<double>(k) * calls / seconds * 1e-9;
      if (m <= 16) state.counters["GBps"] = static_cast<double>(values.size()) * calls / seconds * 1e-9;
    }
  }
  ek::opencl::ReleaseBuffer(rt, da);
  ek::opencl::ReleaseBuffer(rt, dc);
  ek::opencl::ReleaseBuffer(rt, ws);
  ek::opencl::ReleaseQWeights(rt, &w);
}

void ClQuantize(benchmark::State& state, int64_t count) {
  ek::opencl::Runtime& rt = *SharedRuntime();
  std::vector<float> x(static_cast<size_t>(count));
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(static_cast<int>(i % 255) - 127) * 0.1f;
  cl_mem dx = nullptr, dq = nullptr;
  if (!ek::opencl::CreateBuffer(rt, x.size() * 4, &dx).ok() || !ek::opencl::CreateBuffer(rt, x.size(), &dq).ok() ||
      !ek::opencl::Upload(rt, dx, 0, x.data(), x.size() * 4).ok()) {
    state.SkipWithError("buffers");
  } else {
    const ek::TensorView in = ek::TensorView::OpenCL(ek::DType::kF32, dx, 0, {count});
    const ek::TensorView out =
        ek::TensorView::OpenCL(ek::DType::kI8, dq, 0, {count}).WithQuant(ek::QuantParams::PerTensor(0.1f, 3));
    const double seconds = TimeClCalls(state, [&]() { return ek::opencl::Quantize(rt, in, out); });
    if (seconds > 0) state.counters["GBps"] = 5.0 * static_cast<double>(count) * static_cast<double>(state.iterations()) / seconds * 1e-9;
  }
  ek::opencl::ReleaseBuffer(rt, dx);
  ek::opencl::ReleaseBuffer(rt, dq);
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
  const int64_t llm_rows[] = {1, 16, 64};
  for (const int64_t m : llm_rows) {
    const std::string shape = std::to_string(m) + "x4096x4096";
    benchmark::RegisterBenchmark(("cl_qgemm/qd8xs8/" + shape).c_str(),
                                 [m](benchmark::State& s) { ClQGemmDynamic(s, ek::DType::kI8, m, 4096, 4096); })
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
    benchmark::RegisterBenchmark(("cl_qgemm/qd8xs4/" + shape + "/b32").c_str(),
                                 [m](benchmark::State& s) { ClQGemmDynamic(s, ek::DType::kI4, m, 4096, 4096); })
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }
  benchmark::RegisterBenchmark("cl_quantize/f32_to_s8/16777216", [](benchmark::State& s) { ClQuantize(s, 16777216); })
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
  // No fixed iteration count: its name must stay free of ':' (tools/tour.sh runs '^[^:]*$').
  benchmark::RegisterBenchmark("cl_program/build_cold", [](benchmark::State& s) { BuildProgramBench(s, false); })
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
  benchmark::RegisterBenchmark("cl_program/build_cached", [](benchmark::State& s) { BuildProgramBench(s, true); })
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
  RegisterClGemmPeers(SharedRuntime(), sizes);
  RegisterClConvBenchmarks();
}

}  // namespace ek_bench

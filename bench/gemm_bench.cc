// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Benchmarks for ek/gemm.h: `gemm/<type>/<M>x<N>x<K>[/packed][/threads_2]`, one thread unless
// the name says otherwise. Types: f32; f32xf16w and f32xbf16w (f32 activations, half-precision
// weights); f16 (f16 activations, weights and output; f32 accumulation). Shapes:
// bench/gemm_shapes.txt. Counters: GFLOPS, pct_peak (of the FMA peak measured at start-up) and,
// for M <= 16, GBps of weight bytes and pct_dram (of the measured DRAM read bandwidth); those
// runs rotate through copies of the weights larger than the last-level cache.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "bench_util.h"
#include "ek/gemm.h"
#include "ek/packed_weights.h"
#include "ek/parallel.h"
#include "ek/ref/gemm.h"
#include "ek/system_info.h"

#ifndef EK_GEMM_SHAPES_FILE
#define EK_GEMM_SHAPES_FILE "gemm_shapes.txt"
#endif

namespace ek_bench {

std::vector<GemmShape> LoadGemmShapes() {
  const char* path = std::getenv("EK_GEMM_SHAPES");
  std::ifstream in(path ? path : EK_GEMM_SHAPES_FILE);
  std::vector<GemmShape> shapes;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    GemmShape s;
    if (fields >> s.group >> s.m >> s.n >> s.k && s.m > 0 && s.n > 0 && s.k > 0) shapes.push_back(s);
  }
  if (shapes.empty()) std::fprintf(stderr, "ek_bench: no GEMM shapes read from %s\n", path ? path : EK_GEMM_SHAPES_FILE);
  return shapes;
}

size_t ColdCopies(const GemmShape& shape, size_t bytes) {
  if (shape.m > 16) return 1;
  int64_t llc = 0;
  for (int level = 3; level >= 1 && llc == 0; --level) llc = ek::GetSystemInfo().DataCacheBytes(level);
  if (llc == 0) llc = 64 << 20;
  const size_t copies = (static_cast<size_t>(llc) * 3 / 2 + bytes - 1) / bytes;
  return copies < 2 ? 2 : copies;
}

void SetThroughputCounters(benchmark::State& state, const GemmShape& shape, size_t weight_bytes, double seconds,
                           const char* ops_counter, double peak) {
  const double iterations = static_cast<double>(state.iterations());
  const double gops = 2.0 * static_cast<double>(shape.m * shape.n * shape.k) * iterations / seconds * 1e-9;
  state.counters[ops_counter] = gops;
  state.counters["pct_peak"] = 100.0 * gops / peak;
  if (shape.m <= 16) {
    const double gbps = static_cast<double>(weight_bytes) * iterations / seconds * 1e-9;
    state.counters["GBps"] = gbps;
    state.counters["pct_dram"] = 100.0 * gbps / DramReadGBps();
  }
}

void SetGemmCounters(benchmark::State& state, const GemmShape& shape, size_t weight_bytes, double seconds) {
  SetThroughputCounters(state, shape, weight_bytes, seconds, "GFLOPS", FmaPeakGflops());
}

namespace {

using ek::DType;
using ek::TensorView;

struct GemmType {
  const char* name;
  DType a, b, c;
};
constexpr GemmType kF32{"f32", DType::kF32, DType::kF32, DType::kF32};
constexpr GemmType kF32xF16W{"f32xf16w", DType::kF32, DType::kF16, DType::kF32};
constexpr GemmType kF32xBF16W{"f32xbf16w", DType::kF32, DType::kBF16, DType::kF32};
constexpr GemmType kF16{"f16", DType::kF16, DType::kF16, DType::kF16};

size_t Bytes(DType t, int64_t elements) { return static_cast<size_t>(elements) * static_cast<size_t>(ek::DTypeBits(t) / 8); }

// Fills a buffer with small values of type t (bits of f16 / bf16 values in [-1, 1)).
void Fill(std::vector<uint8_t>& buffer, DType t, uint32_t seed) {
  const size_t elements = buffer.size() / static_cast<size_t>(ek::DTypeBits(t) / 8);
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < elements; ++i) {
    x = x * 1664525u + 1013904223u;
    const float v = static_cast<float>(x >> 9) * (1.0f / 8388608.0f) - 0.5f;
    if (t == DType::kF32) {
      std::memcpy(buffer.data() + 4 * i, &v, 4);
    } else {
      const uint16_t h = t == DType::kF16 ? ek::ref::F32ToF16(v) : ek::ref::F32ToBF16(v);
      std::memcpy(buffer.data() + 2 * i, &h, 2);
    }
  }
}

void RunGemm(benchmark::State& state, const GemmShape& shape, const GemmType& type, bool packed, int threads) {
  const size_t weight_bytes = Bytes(type.b, shape.k * shape.n);
  const size_t copies = ColdCopies(shape, weight_bytes);
  std::vector<uint8_t> a(Bytes(type.a, shape.m * shape.k)), c(Bytes(type.c, shape.m * shape.n));
  Fill(a, type.a, 1);
  const TensorView va = TensorView::Host(type.a, a.data(), {shape.m, shape.k});
  const TensorView vc = TensorView::Host(type.c, c.data(), {shape.m, shape.n});
  std::vector<std::vector<uint8_t>> weights(copies);
  std::vector<ek::PackedWeights> packed_weights(copies);
  ek::ThreadPool pool(static_cast<size_t>(threads));
  ek::Context ctx;
  if (threads > 1) ctx.threads = pool.Hook();
  for (size_t i = 0; i < copies; ++i) {
    std::vector<uint8_t> b(weight_bytes);
    Fill(b, type.b, static_cast<uint32_t>(i + 2));
    if (!packed) {
      weights[i] = std::move(b);
      continue;
    }
    const TensorView vb = TensorView::Host(type.b, b.data(), {shape.k, shape.n});
    size_t bytes = 0;
    if (!ek::PackedGemmWeightsSize(vb, false, &bytes).ok()) return state.SkipWithError("PackedGemmWeightsSize");
    weights[i].resize(bytes);
    const ek::Status s = ek::PackGemmWeights(vb, false, weights[i].data(), bytes, ctx);
    if (!s.ok()) return state.SkipWithError(s.message());
    packed_weights[i] = ek::PackedWeights{weights[i].data(), bytes};
  }
  auto view_of = [&](size_t i) { return TensorView::Host(type.b, weights[i].data(), {shape.k, shape.n}); };
  size_t workspace_bytes = 0;
  const ek::Status sized = packed ? ek::GemmWorkspaceSize(va, packed_weights[0], vc, {}, &workspace_bytes)
                                  : ek::GemmWorkspaceSize(va, view_of(0), vc, {}, &workspace_bytes);
  if (!sized.ok()) return state.SkipWithError(sized.message());
  std::vector<uint8_t> workspace(workspace_bytes);
  const double seconds = TimeRotating(state, copies, [&](size_t i) {
    const ek::Status s = packed ? ek::Gemm(va, packed_weights[i], vc, {}, ctx, workspace.data(), workspace_bytes)
                                : ek::Gemm(va, view_of(i), vc, {}, ctx, workspace.data(), workspace_bytes);
    if (!s.ok()) state.SkipWithError(s.message());
    benchmark::DoNotOptimize(c.data());
    return s.ok();
  });
  if (seconds < 0) return;
  SetGemmCounters(state, shape, weight_bytes, seconds);
  state.SetLabel(ek::TargetName(ek::SelectedTarget()));
}

void Register(const GemmShape& shape, const GemmType& type, bool packed, int threads = 1) {
  std::string name = std::string("gemm/") + type.name + "/" + shape.Name() + (packed ? "/packed" : "");
  if (threads > 1) name += "/threads_" + std::to_string(threads);  // no ":" (reserved for /target:)
  RegisterForTargets(name, [shape, type, packed, threads](benchmark::State& state) {
    RunGemm(state, shape, type, packed, threads);
  });
}

// `packed/verify/<MiB>`: ek::VerifyPackedWeights over packed f16 weights of that size (the
// header and the payload checksum; docs/gemm.md), GBps of bytes checked. 4 MiB sits in L2 / L3,
// 64 MiB comes from DRAM.
void RegisterVerify(int64_t mib) {
  benchmark::RegisterBenchmark(("packed/verify/" + std::to_string(mib) + "MiB").c_str(), [mib](benchmark::State& state) {
    const int64_t k = 4096, n = mib * (int64_t{1} << 20) / (k * 2);
    std::vector<uint16_t> b(static_cast<size_t>(k * n), 0x3C00);
    const ek::TensorView bv = ek::TensorView::Host(ek::DType::kF16, b.data(), {k, n});
    size_t bytes = 0;
    if (!ek::PackedGemmWeightsSize(bv, false, &bytes).ok()) return state.SkipWithError("size");
    std::vector<uint32_t> packed(bytes / 4 + 1);
    if (!ek::PackGemmWeights(bv, false, packed.data(), bytes).ok()) return state.SkipWithError("pack");
    for (auto _ : state) {
      const ek::Status s = ek::VerifyPackedWeights(ek::PackedWeights{packed.data(), bytes});
      if (!s.ok()) return state.SkipWithError(s.message());
    }
    state.counters["GBps"] = benchmark::Counter(static_cast<double>(bytes) * static_cast<double>(state.iterations()) * 1e-9,
                                                benchmark::Counter::kIsRate);
  })->Unit(benchmark::kMillisecond);
}

}  // namespace

void RegisterGemmBenchmarks() {
  RegisterVerify(4);
  RegisterVerify(64);
  const std::vector<GemmShape> shapes = LoadGemmShapes();
  for (const GemmShape& s : shapes) {
    Register(s, kF32, false);
    Register(s, kF32, true);
    if (s.group == "llm" || s.group == "square") {
      for (const GemmType* t : {&kF32xF16W, &kF32xBF16W, &kF16}) Register(s, *t, true);
    }
    if (s.group == "square" && s.m == 1024) Register(s, kF32, true, 2);
  }
  RegisterGemmPeers(shapes);
}

}  // namespace ek_bench

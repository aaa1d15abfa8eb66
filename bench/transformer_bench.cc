// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// The transformer block ops (ek/transformer.h), one thread, at the shapes of a decode step
// (one token) and of a prefill (many), for a 1-8 B model (hidden 2048 / 4096, MLP 8192, head
// dim 64 / 128):
//   ops/rmsnorm/<rows>x<n>, ops/layernorm/<rows>x<n>, ops/softmax/<rows>x<n>,
//   ops/gated_<silu|gelu_tanh|gelu_erf>/<rows>x<n>, ops/rope/<neox|gptj>/<tokens>x<heads>x<d>
// GBps = bytes read + written per call (inputs, weights and output once), pct_peak = GBps / memcpy's
// at the same footprint (bench_util.h: SetStreamCounters). All fit in L2, as between a
// decode step's GEMVs; they are a small part of a block's time (the GEMVs read the weights).
#include "ek/transformer.h"  // first: it asks for its kernel family

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "bench_util.h"

namespace ek_bench {
namespace {

using ek::DType;
using ek::TensorView;

std::vector<float> Values(size_t count, uint32_t seed) {
  std::vector<float> v(count);
  uint32_t x = seed * 2654435761u + 1;
  for (float& f : v) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    f = static_cast<float>(x >> 8) * (4.0f / 16777216.0f) - 2.0f;
  }
  return v;
}

// Times call() (returns a status) and sets the stream counters for `bytes` per call.
template <class Call>
void TimeOp(benchmark::State& state, size_t bytes, const Call& call) {
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    const ek::Status s = call();
    if (!s.ok()) return state.SkipWithError(s.message());
    benchmark::ClobberMemory();
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  SetStreamCounters(state, bytes, seconds);
  state.SetLabel(ek::TargetName(ek::SelectedTarget()));
}

enum class RowOp { kRmsNorm, kLayerNorm, kSoftmax, kSilu, kGeluTanh, kGeluErf };

void RowOpBenchmark(benchmark::State& state, RowOp op, int64_t rows, int64_t n) {
  const size_t count = static_cast<size_t>(rows * n);
  std::vector<float> x = Values(count, 1), up = Values(count, 2), out(count);
  std::vector<float> weight = Values(static_cast<size_t>(n), 3), bias = Values(static_cast<size_t>(n), 4);
  const TensorView xv = TensorView::Host(DType::kF32, x.data(), {rows, n});
  const TensorView uv = TensorView::Host(DType::kF32, up.data(), {rows, n});
  const TensorView ov = TensorView::Host(DType::kF32, out.data(), {rows, n});
  const TensorView wv = TensorView::Host(DType::kF32, weight.data(), {n});
  const TensorView bv = TensorView::Host(DType::kF32, bias.data(), {n});
  const size_t row_bytes = count * sizeof(float), param_bytes = static_cast<size_t>(n) * sizeof(float);
  ek::GatedActivationOptions gate;
  switch (op) {
    case RowOp::kRmsNorm:
      return TimeOp(state, 2 * row_bytes + param_bytes, [&] { return ek::RmsNorm(xv, wv, ov); });
    case RowOp::kLayerNorm:
      return TimeOp(state, 2 * row_bytes + 2 * param_bytes, [&] { return ek::LayerNorm(xv, wv, bv, ov); });
    case RowOp::kSoftmax:
      return TimeOp(state, 2 * row_bytes, [&] { return ek::Softmax(xv, ov); });
    case RowOp::kSilu: gate.activation = ek::GateActivation::kSilu; break;
    case RowOp::kGeluTanh: gate.activation = ek::GateActivation::kGeluTanh; break;
    case RowOp::kGeluErf: gate.activation = ek::GateActivation::kGeluErf; break;
  }
  TimeOp(state, 3 * row_bytes, [&] { return ek::GatedActivation(xv, uv, ov, gate); });
}

void RopeBenchmark(benchmark::State& state, ek::RopeStyle style, int64_t tokens, int64_t heads, int64_t d) {
  const size_t count = static_cast<size_t>(tokens * heads * d);
  std::vector<float> x = Values(count, 5), out(count);
  const TensorView xv = TensorView::Host(DType::kF32, x.data(), {tokens, heads, d});
  const TensorView ov = TensorView::Host(DType::kF32, out.data(), {tokens, heads, d});
  ek::RopeOptions o;
  o.style = style;
  o.position_offset = 1000;  // a decode step deep into the context
  TimeOp(state, 2 * count * sizeof(float), [&] { return ek::Rope(xv, ov, o); });
}

}  // namespace

void RegisterTransformerBenchmarks() {
  struct RowShape {
    const char* name;
    RowOp op;
    int64_t rows, n;
  };
  const RowShape shapes[] = {
      {"rmsnorm", RowOp::kRmsNorm, 1, 4096},        {"rmsnorm", RowOp::kRmsNorm, 128, 2048},
      {"layernorm", RowOp::kLayerNorm, 1, 4096},    {"layernorm", RowOp::kLayerNorm, 128, 768},
      {"softmax", RowOp::kSoftmax, 32, 4096},       {"softmax", RowOp::kSoftmax, 128, 1000},
      {"gated_silu", RowOp::kSilu, 1, 8192},        {"gated_silu", RowOp::kSilu, 64, 8192},
      {"gated_gelu_tanh", RowOp::kGeluTanh, 1, 8192}, {"gated_gelu_erf", RowOp::kGeluErf, 1, 8192},
  };
  for (const RowShape& s : shapes) {
    RegisterForTargets(std::string("ops/") + s.name + "/" + std::to_string(s.rows) + "x" + std::to_string(s.n),
                       [s](benchmark::State& state) { RowOpBenchmark(state, s.op, s.rows, s.n); });
  }
  struct RopeShape {
    int64_t tokens, heads, d;
  };
  for (ek::RopeStyle style : {ek::RopeStyle::kNeox, ek::RopeStyle::kGptj}) {
    for (const RopeShape& s : {RopeShape{1, 32, 128}, RopeShape{128, 32, 64}}) {
      RegisterForTargets(std::string("ops/rope/") + (style == ek::RopeStyle::kNeox ? "neox/" : "gptj/") +
                             std::to_string(s.tokens) + "x" + std::to_string(s.heads) + "x" + std::to_string(s.d),
                         [style, s](benchmark::State& state) { RopeBenchmark(state, style, s.tokens, s.heads, s.d); });
    }
  }
}

}  // namespace ek_bench

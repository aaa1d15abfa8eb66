// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Benchmarks for ek/qgemm.h, one thread, weights packed once (like every peer's operator):
//   qgemm/s8/<M>x<N>x<K>          int8 x int8 (per-channel) -> int8, requantized, with bias
//   qgemm/qd8xs8/<M>x<N>x<K>      f32 activations quantized per row x int8 per-channel -> f32
//   qgemm/qd8xs4/<M>x<N>x<K>/b32  the same with int4 weights in blocks of 32 (f16 scales)
//   qgemm/q4_0/<M>x<N>x<K>, qgemm/q8_0/...   GGUF blocks, repacked once (ek/gguf.h), same kernels
// Shapes: bench/gemm_shapes.txt (s8: the squares, MobileNetV2 and other shapes; the dynamic
// kernels: the LLM shapes and the squares). Counters: GOPS (2 per multiply-add), pct_peak (of the
// int8 dot-product peak of the selected target, measured at start-up) and, for M <= 16, GBps of
// packed weight bytes and pct_dram (those runs rotate through copies larger than the LLC).
// Peers (bench/peers/qgemm_peers.cc): peer/<peer>/qgemm/<type>/<shape>.
#include <cstdint>
#include <string>
#include <vector>

#include "bench_util.h"
#include "ek/qgemm.h"
#include "ek/gguf.h"
#include "ek/packed_weights.h"
#include "ek/ref/qgemm.h"

namespace ek_bench {

void SetQGemmCounters(benchmark::State& state, const GemmShape& shape, size_t weight_bytes, double seconds) {
  SetThroughputCounters(state, shape, weight_bytes, seconds, "GOPS", Int8DotPeakGops());
}

namespace {

using ek::DType;
using ek::TensorView;

enum class QType { kS8, kQd8xS8, kQd8xS4, kQ4_0, kQ8_0 };

void RunQGemm(benchmark::State& state, const GemmShape& shape, QType type) {
  const int64_t m = shape.m, n = shape.n, k = shape.k;
  std::vector<int8_t> a_i8(static_cast<size_t>(m * k));
  std::vector<float> a_f32(static_cast<size_t>(m * k));
  for (size_t i = 0; i < a_i8.size(); ++i) {
    a_i8[i] = static_cast<int8_t>(static_cast<int>(i * 7 % 255) - 127);
    a_f32[i] = static_cast<float>(static_cast<int>(i % 97) - 48) * (1.0f / 97.0f);
  }
  std::vector<float> scales(static_cast<size_t>(n), 0.01f);
  const int64_t blocks = (k + 31) / 32;
  std::vector<uint16_t> block_scales(static_cast<size_t>(blocks * n), ek::ref::F32ToF16(0.01f));
  std::vector<int32_t> bias_i(static_cast<size_t>(n), 100);
  std::vector<float> bias_f(static_cast<size_t>(n), 0.5f);

  // Packed weights: one copy, or enough copies to rotate past the LLC for M <= 16.
  const bool int4 = type == QType::kQd8xS4 || type == QType::kQ4_0;
  std::vector<uint8_t> raw(static_cast<size_t>(int4 ? (k * n + 1) / 2 : k * n));
  for (size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<uint8_t>(i * 13 + 5);
  TensorView b = TensorView::Matrix(int4 ? DType::kI4 : DType::kI8, raw.data(), k, n, n);
  if (int4) {
    ek::QuantParams q;
    q.scheme = ek::QuantScheme::kPerBlock;
    q.axis = 0;
    q.block_size = 32;
    q.scale_type = DType::kF16;
    q.scales = block_scales.data();
    b = b.WithQuant(q);
  } else {
    b = b.WithQuant(ek::QuantParams::PerAxis(1, scales.data()));
  }
  const bool gguf = type == QType::kQ4_0 || type == QType::kQ8_0;
  const ek::GgufType gguf_type = type == QType::kQ4_0 ? ek::GgufType::kQ4_0 : ek::GgufType::kQ8_0;
  std::vector<uint8_t> gguf_blocks;
  if (gguf) {  // N rows of K / 32 blocks: scale 0.01 (f16), values from the pattern
    const int64_t block_bytes = ek::GgufBlockBytes(gguf_type);
    gguf_blocks.resize(static_cast<size_t>(n * (k / 32) * block_bytes));
    for (size_t i = 0; i < gguf_blocks.size(); ++i) gguf_blocks[i] = static_cast<uint8_t>(i * 13 + 5);
    const uint16_t d = ek::ref::F32ToF16(0.01f);
    for (size_t i = 0; i < gguf_blocks.size(); i += static_cast<size_t>(block_bytes)) {
      gguf_blocks[i] = static_cast<uint8_t>(d & 0xFF);
      gguf_blocks[i + 1] = static_cast<uint8_t>(d >> 8);
    }
  }
  size_t packed_bytes = 0;
  ek::Status s = gguf ? ek::PackedGgufWeightsSize(gguf_type, n, k, &packed_bytes)
                      : ek::PackedQGemmWeightsSize(b, false, &packed_bytes);
  if (!s.ok()) return state.SkipWithError(s.message());
  const size_t copies = ColdCopies(shape, packed_bytes);
  std::vector<std::vector<uint32_t>> packed(copies, std::vector<uint32_t>(packed_bytes / 4 + 1));
  for (auto& p : packed) {
    s = gguf ? ek::PackGgufWeights(gguf_type, gguf_blocks.data(), gguf_blocks.size(), n, k, p.data(), packed_bytes)
             : ek::PackQGemmWeights(b, false, p.data(), packed_bytes);
    if (!s.ok()) return state.SkipWithError(s.message());
  }

  const bool dynamic = type != QType::kS8;
  const TensorView a = dynamic ? TensorView::Host(DType::kF32, a_f32.data(), {m, k})
                               : TensorView::Host(DType::kI8, a_i8.data(), {m, k})
                                     .WithQuant(ek::QuantParams::PerTensor(0.05f, 3));
  std::vector<uint8_t> c_bytes(static_cast<size_t>(m * n) * (dynamic ? 4 : 1));
  const TensorView c = dynamic ? TensorView::Host(DType::kF32, c_bytes.data(), {m, n})
                               : TensorView::Host(DType::kI8, c_bytes.data(), {m, n})
                                     .WithQuant(ek::QuantParams::PerTensor(0.5f, -5));
  ek::QGemmOptions o;
  o.bias = dynamic ? TensorView::Host(DType::kF32, bias_f.data(), {n}) : TensorView::Host(DType::kI32, bias_i.data(), {n});
  size_t workspace_bytes = 0;
  s = ek::QGemmWorkspaceSize(a, ek::PackedWeights{packed[0].data(), packed_bytes}, c, o, &workspace_bytes);
  if (!s.ok()) return state.SkipWithError(s.message());
  std::vector<uint8_t> workspace(workspace_bytes);
  const double seconds = TimeRotating(state, copies, [&](size_t i) {
    const ek::Status called = ek::QGemm(a, ek::PackedWeights{packed[i].data(), packed_bytes}, c, o, ek::Context(),
                                        workspace.data(), workspace_bytes);
    if (!called.ok()) state.SkipWithError(called.message());
    benchmark::DoNotOptimize(c_bytes.data());
    return called.ok();
  });
  if (seconds < 0) return;
  // Weight bytes per call: the packed panels (what the kernel streams).
  SetQGemmCounters(state, shape, static_cast<size_t>(int4 ? k * n / 2 : k * n), seconds);
  state.SetLabel(std::string(ek::TargetName(ek::SelectedTarget())) + " " + ek::QGemmDotLane());
}

void Register(const GemmShape& shape, QType type) {
  const char* names[] = {"s8", "qd8xs8", "qd8xs4", "q4_0", "q8_0"};
  const std::string name = std::string("qgemm/") + names[static_cast<int>(type)] + "/" + shape.Name() +
                           (type == QType::kQd8xS4 ? "/b32" : "");
  RegisterForTargets(name, [shape, type](benchmark::State& state) { RunQGemm(state, shape, type); });
}

}  // namespace

void RegisterQGemmBenchmarks() {
  const std::vector<GemmShape> shapes = LoadGemmShapes();
  for (const GemmShape& s : shapes) {
    if (s.group != "llm") Register(s, QType::kS8);
    if (s.group == "llm" || s.group == "square") {
      Register(s, QType::kQd8xS8);
      Register(s, QType::kQd8xS4);
    }
    if (s.group == "llm" && s.m <= 64) {
      Register(s, QType::kQ4_0);
      Register(s, QType::kQ8_0);
    }
  }
  RegisterQGemmPeers(shapes);
}

}  // namespace ek_bench

// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Benchmarks for ek/convert.h: names `convert/<op>/<elements>`; counters GBps (bytes read +
// written per second) and pct_peak (of memcpy over the same footprint, measured at start-up).
// Sizes: 4096 elements (L1), 262144 (L2), 16M (DRAM).
#include <chrono>
#include <string>
#include <vector>

#include "bench_util.h"
#include "ek/convert.h"

namespace ek_bench {
namespace {

using ek::DType;
using ek::TensorView;

struct Op {
  const char* name;
  DType in_type;
  DType out_type;
  bool per_channel;  // quantize / dequantize with per-axis params along the row
};

void RunOp(benchmark::State& state, const Op& op, int64_t n) {
  const int64_t channels = 256;
  const int64_t rows = n / channels;
  std::vector<uint8_t> in(static_cast<size_t>(n) * (ek::DTypeBits(op.in_type) / 8));
  std::vector<uint8_t> out(static_cast<size_t>(n) * (ek::DTypeBits(op.out_type) / 8));
  if (op.in_type == DType::kF32) {
    float* f = reinterpret_cast<float*>(in.data());
    for (int64_t i = 0; i < n; ++i) f[i] = static_cast<float>((i * 7919) % 2001 - 1000) * 0.013f;
  } else {
    for (size_t i = 0; i < in.size(); ++i) in[i] = static_cast<uint8_t>(i * 31 + 7);
    if (op.in_type == DType::kF16 || op.in_type == DType::kBF16) {
      uint16_t* h = reinterpret_cast<uint16_t*>(in.data());
      for (int64_t i = 0; i < n; ++i) h[i] = static_cast<uint16_t>(0x3C00 + (i % 1024));  // finite values
    }
  }
  std::vector<float> scales(static_cast<size_t>(channels));
  std::vector<int32_t> zero_points(static_cast<size_t>(channels));
  for (int64_t c = 0; c < channels; ++c) {
    scales[static_cast<size_t>(c)] = 0.01f + 0.0001f * static_cast<float>(c);
    zero_points[static_cast<size_t>(c)] = static_cast<int32_t>(c % 17) - 8;
  }
  const ek::QuantParams params = op.per_channel ? ek::QuantParams::PerAxis(1, scales.data(), zero_points.data())
                                                : ek::QuantParams::PerTensor(0.013f, 3);
  TensorView vin = TensorView::Host(op.in_type, in.data(), {rows, channels});
  TensorView vout = TensorView::Host(op.out_type, out.data(), {rows, channels});
  const bool quantize = op.out_type == DType::kI8 || op.out_type == DType::kU8;
  const bool dequantize = op.in_type == DType::kI8 || op.in_type == DType::kU8;
  if (quantize) vout.quant = params;
  if (dequantize) vin.quant = params;
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    const ek::Status s = quantize ? ek::Quantize(vin, vout) : dequantize ? ek::Dequantize(vin, vout) : ek::Convert(vin, vout);
    if (!s.ok()) {
      state.SkipWithError(s.message());
      return;
    }
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  SetStreamCounters(state, in.size() + out.size(), seconds);
  state.SetLabel(ek::TargetName(ek::SelectedTarget()));
}

}  // namespace

void RegisterConvertBenchmarks() {
  static const Op kOps[] = {
      {"quantize/f32_to_s8", DType::kF32, DType::kI8, false},
      {"quantize/f32_to_s8_per_channel", DType::kF32, DType::kI8, true},
      {"quantize/f32_to_u8", DType::kF32, DType::kU8, false},
      {"dequantize/s8_to_f32", DType::kI8, DType::kF32, false},
      {"dequantize/s8_to_f32_per_channel", DType::kI8, DType::kF32, true},
      {"convert/f32_to_f16", DType::kF32, DType::kF16, false},
      {"convert/f16_to_f32", DType::kF16, DType::kF32, false},
      {"convert/f32_to_bf16", DType::kF32, DType::kBF16, false},
      {"convert/bf16_to_f32", DType::kBF16, DType::kF32, false},
  };
  for (const Op& op : kOps) {
    for (int64_t n : {int64_t{4096}, int64_t{262144}, int64_t{16} << 20}) {
      RegisterForTargets(std::string(op.name) + "/" + std::to_string(n),
                         [op, n](benchmark::State& state) { RunOp(state, op, n); });
    }
  }
}

}  // namespace ek_bench

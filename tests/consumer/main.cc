// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
// Uses the installed ek: quantizes, dequantizes, converts, and checks against the reference.
#include <cstdio>
#include <vector>

#include "ek/ek.h"

int main() {
  const int64_t n = 1000;
  std::vector<float> x(n), back(n);
  std::vector<int8_t> q(n);
  std::vector<uint16_t> h(n);
  for (int64_t i = 0; i < n; ++i) x[i] = static_cast<float>(i % 200 - 100) * 0.05f;
  const ek::QuantParams params = ek::QuantParams::PerTensor(0.04f, 2);
  ek::ThreadPool pool(2);
  ek::Context ctx;
  ctx.threads = pool.Hook();
  ek::Status s = ek::Quantize(ek::TensorView::Host(ek::DType::kF32, x.data(), {n}),
                              ek::TensorView::Host(ek::DType::kI8, q.data(), {n}).WithQuant(params), ctx);
  if (!s.ok()) return std::printf("Quantize: %s\n", s.message()), 1;
  s = ek::Dequantize(ek::TensorView::Host(ek::DType::kI8, q.data(), {n}).WithQuant(params),
                     ek::TensorView::Host(ek::DType::kF32, back.data(), {n}));
  if (!s.ok()) return std::printf("Dequantize: %s\n", s.message()), 1;
  s = ek::Convert(ek::TensorView::Host(ek::DType::kF32, x.data(), {n}), ek::TensorView::Host(ek::DType::kF16, h.data(), {n}));
  if (!s.ok()) return std::printf("Convert: %s\n", s.message()), 1;
  int bad = 0;
  for (int64_t i = 0; i < n; ++i) {
    const int32_t want = ek::ref::QuantizeValue(x[i], ek::ref::InverseScale(0.04f), 2, -128, 127);
    bad += q[i] != want;
    bad += back[i] != ek::ref::DequantizeValue(want, 0.04f, 2);
    bad += h[i] != ek::ref::F32ToF16(x[i]);
  }
  std::printf("consumer: ek %s on %s, %d mismatches\n", EK_VERSION_STRING, ek::TargetName(ek::SelectedTarget()), bad);
  return bad == 0 ? 0 : 1;
}

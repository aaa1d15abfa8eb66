// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// A user translation unit with its own Highway foreach_target pass that also uses ek. Highway
// allows one pass per TU, so the user's per-target code includes ek's per-target header, and
// ek's public headers come after the pass (docs/architecture.md, "Using ek from a TU with its
// own foreach_target"). It names the kernel families it uses before anything else (here only
// convert), so the pass compiles them.
#define EK_FOREACH_TARGET_BY_USER 1
#define EK_KERNELS_CONVERT 1

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "dispatch_odr_user.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"

#include "ek/cpu/kernels-inl.h"  // ek's per-target code, for this target

HWY_BEFORE_NAMESPACE();
namespace user {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

int64_t KernelTarget() { return HWY_TARGET; }

float SumOfSquares(const float* in, int64_t n) {
  const hn::ScalableTag<float> df;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  auto acc = hn::Zero(df);
  int64_t i = 0;
  for (; i + lanes <= n; i += lanes) {
    const auto v = hn::LoadU(df, in + i);
    acc = hn::MulAdd(v, v, acc);
  }
  float sum = hn::ReduceSum(df, acc);
  for (; i < n; ++i) sum += in[i] * in[i];
  return sum;
}

}  // namespace HWY_NAMESPACE
}  // namespace user
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include "dispatch_odr.h"
#include "ek/convert.h"
#include "ek/dispatch.h"

namespace user {
HWY_EXPORT(KernelTarget);
HWY_EXPORT(SumOfSquares);
}  // namespace user

namespace odr {
int64_t UserKernelTarget() { return HWY_DYNAMIC_DISPATCH(user::KernelTarget)(); }
float UserSumOfSquares(const float* in, int64_t n) { return HWY_DYNAMIC_DISPATCH(user::SumOfSquares)(in, n); }
int64_t QuantizeInUserTu(const float* in, int8_t* out, int64_t n) {
  const ek::Status s = ek::Quantize(ek::TensorView::Host(ek::DType::kF32, in, {n}),
                                    ek::TensorView::Host(ek::DType::kI8, out, {n})
                                        .WithQuant(ek::QuantParams::PerTensor(0.125f, -3)));
  return s.ok() ? ek::SelectedTarget() : -1;
}
}  // namespace odr
#endif  // HWY_ONCE

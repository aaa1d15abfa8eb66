// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// OpenCL quantization (ek/opencl/convert.h) on the default device (PoCL in CI) against the
// scalar reference, bit for bit: Quantize / Dequantize (i8, u8; per tensor and per axis; NaN,
// infinities, values out of range, offsets) and QuantizeRows (ek::DynamicRowParams: all-zero,
// positive-only, negative-only and wide rows; padding written as zero). Every bad-input rule.
// Exit 77 (skipped) when there is no OpenCL library or device.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <vector>

#include "cl_test_util.h"
#include "ek/opencl/convert.h"
#include "ek/ref/convert.h"
#include "ek/requantize.h"

namespace {

using namespace ek_cl_test;

// Values that exercise the rule: the usual range, halves (ties), NaN, infinities, huge values.
std::vector<float> TestValues(size_t count) {
  std::vector<float> x(count);
  const float specials[] = {0.5f, -0.5f, 1.5f, -2.5f, std::numeric_limits<float>::quiet_NaN(), HUGE_VALF, -HUGE_VALF,
                            3e9f, -3e9f, 0.0f, -0.0f};
  for (size_t i = 0; i < count; ++i) x[i] = i % 7 == 3 ? specials[(i / 7) % 11] * 0.1f : Uniform() * 20.0f;
  for (size_t i = 0; i < count && i < 11; ++i) x[i] = specials[i] * 0.1f;  // every special once, scaled
  return x;
}

// Quantize then Dequantize a [d0 x d1 x d2] tensor, per tensor or per axis `axis`.
void RunQuantizeCase(ek::opencl::Runtime& rt, ek::DType type, int axis, const int64_t (&shape)[3]) {
  const int64_t count = shape[0] * shape[1] * shape[2];
  const std::vector<float> x = TestValues(static_cast<size_t>(count));
  std::vector<float> scales(static_cast<size_t>(axis >= 0 ? shape[axis] : 1));
  std::vector<int32_t> zps(scales.size());
  for (size_t c = 0; c < scales.size(); ++c) {
    scales[c] = 0.01f + 0.013f * static_cast<float>(c % 9);
    zps[c] = type == ek::DType::kU8 ? static_cast<int32_t>(100 + c % 50) : static_cast<int32_t>(c % 21) - 10;
  }
  const ek::QuantParams qp = axis >= 0 ? ek::QuantParams::PerAxis(axis, scales.data(), zps.data())
                                       : ek::QuantParams::PerTensor(scales[0], zps[0]);
  const size_t x_offset = 12, q_offset = 3;
  DeviceCopy dx(rt, x.data(), x.size() * 4, x_offset);
  std::vector<uint8_t> zeros(static_cast<size_t>(count), 0);
  DeviceCopy dq(rt, zeros.data(), zeros.size(), q_offset);
  std::vector<float> back_init(static_cast<size_t>(count), 0.0f);
  DeviceCopy dback(rt, back_init.data(), back_init.size() * 4, 0);
  const auto view = [&](ek::DType t, const DeviceCopy& d, size_t off) {
    return ek::TensorView::OpenCL(t, d.mem, off, {shape[0], shape[1], shape[2]});
  };
  ek::Status s = ek::opencl::Quantize(rt, view(ek::DType::kF32, dx, x_offset), view(type, dq, q_offset).WithQuant(qp));
  Check(s.ok(), s.ok() ? "quantize ran" : s.message());
  s = ek::opencl::Dequantize(rt, view(type, dq, q_offset).WithQuant(qp), view(ek::DType::kF32, dback, 0));
  Check(s.ok(), s.ok() ? "dequantize ran" : s.message());
  const std::vector<uint8_t> q = dq.Read(q_offset, static_cast<size_t>(count));
  const std::vector<uint8_t> back = dback.Read(0, static_cast<size_t>(count) * 4);
  const int32_t qmin = type == ek::DType::kI8 ? -128 : 0, qmax = type == ek::DType::kI8 ? 127 : 255;
  int64_t inner = 1;
  for (int d = axis + 1; axis >= 0 && d < 3; ++d) inner *= shape[d];
  int bad_q = 0, bad_x = 0;
  for (int64_t e = 0; e < count; ++e) {
    const size_t c = axis >= 0 ? static_cast<size_t>((e / inner) % shape[axis]) : 0;
    const int32_t want = ek::ref::QuantizeValue(x[static_cast<size_t>(e)], ek::ref::InverseScale(scales[c]), zps[c], qmin, qmax);
    const int32_t got = type == ek::DType::kI8 ? static_cast<int8_t>(q[static_cast<size_t>(e)]) : q[static_cast<size_t>(e)];
    if (got != want && bad_q++ < 3) std::printf("  quantize e=%lld x=%g: %d, reference %d\n", (long long)e, x[e], got, want);
    const float want_x = ek::ref::DequantizeValue(want, scales[c], zps[c]);
    float got_x;
    std::memcpy(&got_x, back.data() + e * 4, 4);
    if (ek::ref::BitsOf(got_x) != ek::ref::BitsOf(want_x)) ++bad_x;
  }
  Check(bad_q == 0, "quantize bit-exact with ek::ref::QuantizeValue");
  Check(bad_x == 0, "dequantize bit-exact with ek::ref::DequantizeValue");
}

// QuantizeRows of an [m x k] matrix (row stride k + 5) into q [m x kp] (kp = k rounded up to 8,
// row stride kp + 8): bytes, scales and zero points equal to the reference rule.
void RunRowsCase(ek::opencl::Runtime& rt, int64_t m, int64_t k) {
  const int64_t lda = k + 5, kp = (k + 7) / 8 * 8, ldq = kp + 8;
  std::vector<float> a(static_cast<size_t>(m * lda));
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < lda; ++j) {
      float v = Uniform() * static_cast<float>(1 + i % 5);
      if (i % 4 == 1) v = std::fabs(v);           // positive only: zero point 0
      if (i % 4 == 2) v = -std::fabs(v) * 1e-3f;  // negative only, small
      if (i % 6 == 5) v = 0.0f;                   // all zero: scale 1, zero point 128
      a[static_cast<size_t>(i * lda + j)] = v;
    }
  }
  DeviceCopy da(rt, a.data(), a.size() * 4, 8);
  std::vector<uint8_t> q_init(static_cast<size_t>(m * ldq), 0xCD);
  DeviceCopy dq(rt, q_init.data(), q_init.size(), 0);
  std::vector<float> params(static_cast<size_t>(2 * m), -1.0f);
  DeviceCopy dp(rt, params.data(), params.size() * 4, 0);
  const ek::Status s = ek::opencl::QuantizeRows(
      rt, DeviceMatrix(ek::DType::kF32, da, 8, m, k, lda), DeviceMatrix(ek::DType::kU8, dq, 0, m, kp, ldq),
      ek::TensorView::OpenCL(ek::DType::kF32, dp.mem, 0, {m}),
      ek::TensorView::OpenCL(ek::DType::kI32, dp.mem, static_cast<uint64_t>(m) * 4, {m}));
  Check(s.ok(), s.ok() ? "quantize_rows ran" : s.message());
  if (!s.ok()) return;
  const std::vector<uint8_t> q = dq.Read(0, q_init.size());
  const std::vector<uint8_t> p = dp.Read(0, params.size() * 4);
  int bad = 0;
  for (int64_t i = 0; i < m; ++i) {
    float lo = 0.0f, hi = 0.0f;
    for (int64_t j = 0; j < k; ++j) {
      const float v = a[static_cast<size_t>(i * lda + j)];
      lo = v < lo ? v : lo;
      hi = v > hi ? v : hi;
    }
    const ek::DynamicQuant dq_ref = ek::DynamicRowParams(lo, hi);
    float scale;
    int32_t zp;
    std::memcpy(&scale, p.data() + i * 4, 4);
    std::memcpy(&zp, p.data() + (m + i) * 4, 4);
    if (ek::ref::BitsOf(scale) != ek::ref::BitsOf(dq_ref.scale) || zp != dq_ref.zero_point) {
      if (bad++ < 3) {
        std::printf("  row %lld: scale %.9g zp %d, reference %.9g %d\n", (long long)i, scale, zp, dq_ref.scale,
                    dq_ref.zero_point);
      }
    }
    const float inv = ek::ref::InverseScale(dq_ref.scale);
    for (int64_t j = 0; j < ldq; ++j) {
      const int want = j < k ? ek::ref::QuantizeValue(a[static_cast<size_t>(i * lda + j)], inv, dq_ref.zero_point, 0, 255)
                             : (j < kp ? 0 : 0xCD);
      if (q[static_cast<size_t>(i * ldq + j)] != want && bad++ < 3) {
        std::printf("  row %lld k %lld: %d, reference %d\n", (long long)i, (long long)j, q[i * ldq + j], want);
      }
    }
  }
  Check(bad == 0, "quantize_rows bit-exact with ek::DynamicRowParams + ek::Quantize's rule");
}

void BadInputs(ek::opencl::Runtime& rt) {
  std::vector<float> host(64, 1.0f);
  DeviceCopy d(rt, host.data(), host.size() * 4, 0);  // 256 bytes
  DeviceCopy e(rt, host.data(), host.size() * 4, 0);
  const ek::QuantParams q = ek::QuantParams::PerTensor(0.1f, 3);
  const auto f32 = [&](const DeviceCopy& b, size_t off, int64_t n) { return ek::TensorView::OpenCL(ek::DType::kF32, b.mem, off, {n}); };
  const auto i8 = [&](const DeviceCopy& b, size_t off, int64_t n) {
    return ek::TensorView::OpenCL(ek::DType::kI8, b.mem, off, {n}).WithQuant(q);
  };
  ek::opencl::Runtime closed;
  CheckRejects(ek::opencl::Quantize(closed, f32(d, 0, 4), i8(e, 0, 4)), "runtime");
  CheckRejects(ek::opencl::Quantize(rt, f32(d, 0, 4), i8(e, 0, 5)), "input: shape");
  CheckRejects(ek::opencl::Quantize(rt, f32(d, 0, 4), f32(e, 0, 4)), "output: dtype");
  CheckRejects(ek::opencl::Quantize(rt, f32(d, 0, 4), ek::TensorView::OpenCL(ek::DType::kI8, e.mem, 0, {4})), "output");
  CheckRejects(ek::opencl::Quantize(rt, f32(d, 0, 65), i8(e, 0, 65)), "input: view ends at byte");
  CheckRejects(ek::opencl::Quantize(rt, f32(d, 2, 4), i8(e, 0, 4)), "input: byte_offset");
  CheckRejects(ek::opencl::Quantize(rt, ek::TensorView::Host(ek::DType::kF32, host.data(), {4}), i8(e, 0, 4)),
               "input: lives in host memory");
  CheckRejects(ek::opencl::Quantize(rt, f32(d, 0, 4), i8(d, 0, 4)), "output: overlaps input");
  CheckRejects(ek::opencl::Quantize(rt, f32(d, 0, 4).WithStrides({2}), i8(e, 0, 4)), "dense");
  ek::QuantParams zero_scale = q;
  zero_scale.scale = 0.0f;
  CheckRejects(ek::opencl::Dequantize(rt, i8(e, 0, 4).WithQuant(zero_scale), f32(d, 0, 4)), "input: quant scale");
  const auto mat = [&](ek::DType t, const DeviceCopy& b, size_t off, int64_t r, int64_t c) {
    return ek::TensorView::OpenCL(t, b.mem, off, {r, c});
  };
  const ek::TensorView scales = ek::TensorView::OpenCL(ek::DType::kF32, e.mem, 128, {2});
  const ek::TensorView zps = ek::TensorView::OpenCL(ek::DType::kI32, e.mem, 192, {2});
  CheckRejects(ek::opencl::QuantizeRows(rt, mat(ek::DType::kF32, d, 0, 2, 8), mat(ek::DType::kU8, e, 0, 2, 7), scales, zps),
               "q: expected shape");
  CheckRejects(ek::opencl::QuantizeRows(rt, mat(ek::DType::kF32, d, 0, 2, 8), mat(ek::DType::kI8, e, 0, 2, 8), scales, zps),
               "q: dtype");
  CheckRejects(ek::opencl::QuantizeRows(rt, mat(ek::DType::kF32, d, 0, 2, 8), mat(ek::DType::kU8, e, 0, 2, 8),
                                        ek::TensorView::OpenCL(ek::DType::kF32, e.mem, 128, {3}), zps),
               "scales");
  CheckRejects(ek::opencl::QuantizeRows(rt, mat(ek::DType::kF32, d, 0, 2, 8), mat(ek::DType::kU8, e, 0, 2, 8), scales,
                                        ek::TensorView::OpenCL(ek::DType::kI32, e.mem, 128, {2})),
               "overlaps");
}

}  // namespace

int main() {
  ek::opencl::Runtime rt;
  int skip = 0;
  if (!OpenOrSkip(rt, &skip)) return skip;
  std::printf("device: %s, correctly rounded f32 divide %d, cl_khr_subgroups %d\n", rt.caps().name,
              rt.caps().correctly_rounded_divide, rt.caps().subgroups_khr);
  const int64_t shapes[][3] = {{1, 1, 1}, {2, 3, 5}, {7, 1, 33}, {4, 16, 65}, {3, 70, 2}};
  for (const auto& shape : shapes) {
    for (ek::DType type : {ek::DType::kI8, ek::DType::kU8}) {
      for (int axis = -1; axis < 3; ++axis) RunQuantizeCase(rt, type, axis, shape);
    }
  }
  const int64_t rows[][2] = {{1, 1}, {1, 4096}, {3, 7}, {12, 100}, {7, 257}, {2, 64}};
  for (const auto& r : rows) RunRowsCase(rt, r[0], r[1]);
  BadInputs(rt);
  return Finish();
}

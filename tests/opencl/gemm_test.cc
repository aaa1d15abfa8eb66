// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// OpenCL GEMM on the default device (PoCL in CI) against the CPU references: f32 and f16-storage
// results within ek::ref::GemmErrorBound, int8 requantized results byte for byte equal to
// ek::ref::QGemm; tile edges, offsets, strides, transposed B, every epilogue, several tiles of
// both kernels (tiled and vector; calls the vector kernel does not take fall back to the tiled
// one), f16 arithmetic allowed (it runs where the device has cl_khr_fp16, with its own bound);
// every bad-input rule; shapes that are whole tiles (64^3) run the variant without bounds checks.
// Exit 77 (skipped) when there is no OpenCL library or device.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "cl_test_util.h"
#include "ek/opencl/gemm.h"
#include "ek/opencl/qgemm.h"
#include "ek/ref/gemm.h"
#include "ek/ref/qgemm.h"

namespace {

using namespace ek_cl_test;

struct Shape {
  int64_t m, n, k;
};
const Shape kShapes[] = {{1, 1, 1},    {1, 64, 64},   {2, 17, 5},    {63, 65, 17},  {64, 64, 64},
                         {65, 63, 33}, {130, 70, 129}, {7, 200, 3},  {33, 1, 100},  {97, 31, 257}};

// f32 / f16 storage, one case: A [m x k] (lda = k + 3), B [k x n] or [n x k] (+ 5 padding),
// C [m x n] (ldc = n + 2) at element offsets, against the double-precision reference.
void RunFloatCase(ek::opencl::Runtime& rt, ek::DType type, const Shape& s, bool transpose, bool accumulate,
                  bool bias, ek::Activation act, const ek::opencl::GemmTile* tile, bool allow_f16_arithmetic = false) {
  const int64_t lda = s.k + 3, ldb = (transpose ? s.k : s.n) + 5, ldc = s.n + 2;
  const int64_t b_rows = transpose ? s.n : s.k;
  const size_t element = type == ek::DType::kF32 ? 4 : 2;
  auto fill = [&](int64_t count) {
    std::vector<uint8_t> bytes(static_cast<size_t>(count) * element);
    for (int64_t i = 0; i < count; ++i) {
      const float v = Uniform();
      if (type == ek::DType::kF32) {
        std::memcpy(bytes.data() + i * 4, &v, 4);
      } else {
        const uint16_t h = ek::ref::F32ToF16(v);
        std::memcpy(bytes.data() + i * 2, &h, 2);
      }
    }
    return bytes;
  };
  std::vector<uint8_t> a = fill(s.m * lda), b = fill(b_rows * ldb), c = fill(s.m * ldc);
  std::vector<float> bias_values(static_cast<size_t>(s.n));
  for (float& v : bias_values) v = Uniform();
  const size_t offset = 3 * element;  // byte offsets of every view
  DeviceCopy da(rt, a.data(), a.size(), offset), db(rt, b.data(), b.size(), offset), dc(rt, c.data(), c.size(), offset);
  DeviceCopy dbias(rt, bias_values.data(), bias_values.size() * 4, 8);

  ek::GemmOptions o;
  o.transpose_b = transpose;
  o.accumulate = accumulate;
  o.activation = act;
  o.clamp_min = -0.5f;
  o.clamp_max = 0.75f;
  o.allow_f16_arithmetic = allow_f16_arithmetic;
  if (bias) o.bias = ek::TensorView::OpenCL(ek::DType::kF32, dbias.mem, 8, {s.n});
  const ek::Status st = ek::opencl::Gemm(rt, DeviceMatrix(type, da, offset, s.m, s.k, lda),
                                         DeviceMatrix(type, db, offset, b_rows, transpose ? s.k : s.n, ldb),
                                         DeviceMatrix(type, dc, offset, s.m, s.n, ldc), o, nullptr, tile);
  Check(st.ok(), st.ok() ? "gemm ran" : st.message());
  if (!st.ok()) return;
  const std::vector<uint8_t> got = dc.Read(0, offset + c.size());

  ek::GemmOptions ro = o;
  ro.bias = bias ? ek::TensorView::Host(ek::DType::kF32, bias_values.data(), {s.n}) : ek::TensorView();
  const ek::TensorView ha = ek::TensorView::Matrix(type, a.data(), s.m, s.k, lda);
  const ek::TensorView hb = ek::TensorView::Matrix(type, b.data(), b_rows, transpose ? s.k : s.n, ldb);
  const ek::TensorView hc = ek::TensorView::Matrix(type, c.data(), s.m, s.n, ldc);  // C's old values
  int bad = 0;
  for (int64_t i = 0; i < s.m; ++i) {
    for (int64_t j = 0; j < ldc; ++j) {
      const size_t at = offset + static_cast<size_t>(i * ldc + j) * element;
      if (j >= s.n) {  // padding between rows: untouched
        bad += std::memcmp(got.data() + at, c.data() + (i * ldc + j) * element, element) != 0;
        continue;
      }
      double value = 0, magnitude = 0;
      ek::ref::GemmElement(ha, hb, hc, ro, i, j, &value, &magnitude);
      float v;
      if (type == ek::DType::kF32) {
        std::memcpy(&v, got.data() + at, 4);
      } else {
        uint16_t h;
        std::memcpy(&h, got.data() + at, 2);
        v = ek::ref::F16ToF32(h);
      }
      const bool f16_sums = allow_f16_arithmetic && type == ek::DType::kF16 && rt.caps().fp16;
      const double bound = f16_sums ? ek::ref::GemmF16ArithmeticErrorBound(s.k, magnitude, value)
                                    : ek::ref::GemmErrorBound(s.k, magnitude, value, type);
      if (!(std::fabs(v - value) <= bound)) {
        if (bad < 3) {
          std::printf("  %s %lldx%lldx%lld t=%d acc=%d bias=%d act=%d: c[%lld][%lld] = %.9g, reference %.9g (bound %.3g)\n",
                      ek::DTypeName(type), (long long)s.m, (long long)s.n, (long long)s.k, transpose, accumulate, bias,
                      static_cast<int>(act), (long long)i, (long long)j, v, value, bound);
        }
        ++bad;
      }
    }
  }
  bad += std::memcmp(got.data(), std::vector<uint8_t>(offset, 0xAB).data(), offset) != 0;  // before the view
  Check(bad == 0, "float gemm within the documented bound, padding untouched");
}

// int8: A i8 (zero point), B i8 per column (or per tensor), C i8, i32 bias; bytes equal to ref.
void RunInt8Case(ek::opencl::Runtime& rt, const Shape& s, bool per_column, bool bias, ek::Activation act,
                 const ek::opencl::GemmTile* tile) {
  const int64_t lda = s.k + 1, ldb = s.n + 3, ldc = s.n + 1;
  std::vector<int8_t> a(static_cast<size_t>(s.m * lda)), b(static_cast<size_t>(s.k * ldb)), c(static_cast<size_t>(s.m * ldc));
  for (auto& v : a) v = static_cast<int8_t>(Next() % 256 - 128);
  for (auto& v : b) v = static_cast<int8_t>(Next() % 255 - 127);
  for (auto& v : c) v = static_cast<int8_t>(Next() % 256 - 128);
  std::vector<int32_t> bias_values(static_cast<size_t>(s.n));
  for (auto& v : bias_values) v = static_cast<int32_t>(Next() % 200001) - 100000;
  std::vector<float> scales(static_cast<size_t>(s.n));
  // Per-column scales spanning multipliers below and above 1 (left shifts).
  for (size_t j = 0; j < scales.size(); ++j) scales[j] = 0.0004f * static_cast<float>(1 + (j * 37) % 200);
  ek::QuantParams qa, qb, qc;
  qa.scheme = ek::QuantScheme::kPerTensor;
  qa.scale = 0.02f;
  qa.zero_point = -7;
  qc.scheme = ek::QuantScheme::kPerTensor;
  qc.scale = 0.05f + 0.002f * static_cast<float>(s.k);
  qc.zero_point = 5;
  if (per_column) {
    qb.scheme = ek::QuantScheme::kPerAxis;
    qb.axis = 1;
    qb.scales = scales.data();
  } else {
    qb.scheme = ek::QuantScheme::kPerTensor;
    qb.scale = 0.011f;
  }
  DeviceCopy da(rt, a.data(), a.size(), 5), db(rt, b.data(), b.size(), 1), dc(rt, c.data(), c.size(), 2);
  DeviceCopy dbias(rt, bias_values.data(), bias_values.size() * 4, 4);
  ek::QGemmOptions o;
  o.activation = act;
  o.clamp_min = -1.0f;
  o.clamp_max = 2.0f;
  if (bias) o.bias = ek::TensorView::OpenCL(ek::DType::kI32, dbias.mem, 4, {s.n});
  const ek::Status st =
      ek::opencl::QGemm(rt, DeviceMatrix(ek::DType::kI8, da, 5, s.m, s.k, lda).WithQuant(qa),
                        DeviceMatrix(ek::DType::kI8, db, 1, s.k, s.n, ldb).WithQuant(qb),
                        DeviceMatrix(ek::DType::kI8, dc, 2, s.m, s.n, ldc).WithQuant(qc), o, nullptr, tile);
  Check(st.ok(), st.ok() ? "qgemm ran" : st.message());
  if (!st.ok()) return;
  const std::vector<uint8_t> got = dc.Read(2, c.size());

  std::vector<int8_t> want = c;
  ek::QGemmOptions ro = o;
  ro.bias = bias ? ek::TensorView::Host(ek::DType::kI32, bias_values.data(), {s.n}) : ek::TensorView();
  ek::ref::QGemm(ek::TensorView::Matrix(ek::DType::kI8, a.data(), s.m, s.k, lda).WithQuant(qa),
                 ek::TensorView::Matrix(ek::DType::kI8, b.data(), s.k, s.n, ldb).WithQuant(qb), false,
                 ek::TensorView::Matrix(ek::DType::kI8, want.data(), s.m, s.n, ldc).WithQuant(qc), ro);
  const bool equal = std::memcmp(got.data(), want.data(), want.size()) == 0;
  if (!equal) {
    for (size_t e = 0, shown = 0; e < want.size() && shown < 3; ++e) {
      if (static_cast<int8_t>(got[e]) != want[e]) {
        std::printf("  int8 %lldx%lldx%lld: element %zu = %d, reference %d\n", (long long)s.m, (long long)s.n,
                    (long long)s.k, e, static_cast<int8_t>(got[e]), want[e]);
        ++shown;
      }
    }
  }
  Check(equal, "int8 gemm bit-exact with ek::ref::QGemm (padding untouched)");
}

void BadInputs(ek::opencl::Runtime& rt) {
  std::vector<float> host(64, 1.0f);
  DeviceCopy d(rt, host.data(), host.size() * 4, 0);  // 256 bytes
  DeviceCopy e(rt, host.data(), host.size() * 4, 0);
  const auto mat = [&](const DeviceCopy& buf, size_t off, int64_t r, int64_t cols) {
    return DeviceMatrix(ek::DType::kF32, buf, off, r, cols, cols);
  };
  ek::opencl::Runtime closed;
  CheckRejects(ek::opencl::Gemm(closed, mat(d, 0, 2, 2), mat(d, 0, 2, 2), mat(e, 0, 2, 2)), "runtime");
  CheckRejects(ek::opencl::Gemm(rt, ek::TensorView::Matrix(ek::DType::kF32, host.data(), 2, 2, 2), mat(d, 0, 2, 2),
                                mat(e, 0, 2, 2)),
               "a: lives in host memory");
  CheckRejects(ek::opencl::Gemm(rt, mat(d, 0, 2, 3), mat(d, 0, 2, 2), mat(e, 0, 2, 2)), "b");
  CheckRejects(ek::opencl::Gemm(rt, mat(d, 0, 2, 2), mat(d, 0, 2, 2), mat(e, 0, 2, 3)), "c");
  CheckRejects(ek::opencl::Gemm(rt, mat(d, 0, 2, 2), mat(d, 0, 2, 2), mat(e, 248, 2, 2)), "c: view ends at byte");
  CheckRejects(ek::opencl::Gemm(rt, mat(d, 0, 2, 2), mat(d, 0, 2, 2), mat(d, 0, 2, 2)), "c: overlaps a");
  CheckRejects(ek::opencl::Gemm(rt, mat(d, 2, 2, 2), mat(d, 0, 2, 2), mat(e, 0, 2, 2)), "a: byte_offset");
  ek::GemmOptions clamp;
  clamp.activation = ek::Activation::kClamp;
  clamp.clamp_min = 1.0f;
  clamp.clamp_max = 0.0f;
  CheckRejects(ek::opencl::Gemm(rt, mat(d, 0, 2, 2), mat(d, 0, 2, 2), mat(e, 0, 2, 2), clamp), "options.clamp_min");
  ek::GemmOptions bias;
  bias.bias = ek::TensorView::OpenCL(ek::DType::kI32, e.mem, 128, {2});
  CheckRejects(ek::opencl::Gemm(rt, mat(d, 0, 2, 2), mat(d, 0, 2, 2), mat(e, 0, 2, 2), bias), "options.bias");
  ek::opencl::GemmTile tile;
  tile.tile_m = 30;
  tile.wpt_m = 4;
  CheckRejects(ek::opencl::Gemm(rt, mat(d, 0, 2, 2), mat(d, 0, 2, 2), mat(e, 0, 2, 2), ek::GemmOptions(), nullptr, &tile),
               "tile");
  ek::QuantParams q;
  q.scheme = ek::QuantScheme::kPerTensor;
  q.scale = 0.1f;
  const auto i8 = [&](const DeviceCopy& buf, size_t off, int64_t r, int64_t cols) {
    return ek::TensorView::OpenCL(ek::DType::kI8, buf.mem, off, {r, cols}).WithQuant(q);
  };
  CheckRejects(ek::opencl::QGemm(rt, mat(d, 0, 2, 2), i8(d, 0, 2, 2), i8(e, 0, 2, 2)), "a: dtype");
  CheckRejects(ek::opencl::QGemm(rt, i8(d, 0, 1, 20000), i8(d, 0, 20000, 1), i8(e, 0, 1, 1)), "K = 20000");
  ek::QuantParams asym = q;
  asym.zero_point = 3;
  CheckRejects(ek::opencl::QGemm(rt, i8(d, 0, 2, 2), i8(d, 0, 2, 2).WithQuant(asym), i8(e, 0, 2, 2)), "b");
}

}  // namespace

int main() {
  ek::opencl::Runtime rt;
  int skip = 0;
  if (!OpenOrSkip(rt, &skip)) return skip;
  const ek::opencl::DeviceCaps& caps = rt.caps();
  std::printf("device: %s (%s), OpenCL C %d.%d, fp16 %d, subgroups %d, int dot khr %d arm %d\n", caps.name,
              caps.platform, caps.c_major, caps.c_minor, caps.fp16, caps.subgroups, caps.integer_dot_khr,
              caps.integer_dot_arm);

  const ek::opencl::GemmTile default_tile = rt.gemm_tile(ek::opencl::GemmKernelType::kF32);
  ek::opencl::GemmTile small;  // 64 x 64 x 8, 4 x 4 per item
  small.tile_m = 64;
  small.tile_n = 64;
  small.tile_k = 8;
  ek::opencl::GemmTile odd;
  odd.tile_m = 24;
  odd.tile_n = 16;
  odd.tile_k = 5;
  odd.wpt_m = 3;
  odd.wpt_n = 2;
  ek::opencl::GemmTile vec4;  // the vector kernel, 4 wide, 2 x 2 items of 3 rows
  vec4.kernel = ek::opencl::GemmKernel::kVector;
  vec4.wpt_m = 3;
  vec4.wpt_n = 4;
  vec4.tile_m = 6;
  vec4.tile_n = 8;
  ek::opencl::GemmTile vec8 = vec4;  // 8 wide, one item of 5 rows
  vec8.wpt_m = 5;
  vec8.wpt_n = 8;
  vec8.tile_m = 5;
  vec8.tile_n = 8;
  const ek::opencl::GemmTile* tiles[] = {&default_tile, &small, &odd, &vec4, &vec8};
  const ek::Activation acts[] = {ek::Activation::kNone, ek::Activation::kRelu, ek::Activation::kRelu6,
                                 ek::Activation::kClamp};
  int variant = 0;
  for (const ek::opencl::GemmTile* tile : tiles) {
    for (const Shape& s : kShapes) {
      const bool transpose = variant % 2 == 1, accumulate = variant % 3 == 1, bias = variant % 4 != 2;
      const ek::Activation act = acts[variant % 4];
      RunFloatCase(rt, ek::DType::kF32, s, transpose, accumulate, bias, act, tile);
      RunFloatCase(rt, ek::DType::kF16, s, !transpose, !accumulate, bias, acts[(variant + 1) % 4], tile,
                   variant % 2 == 0);
      RunInt8Case(rt, s, variant % 2 == 0, bias, act, tile);
      ++variant;
    }
  }
  BadInputs(rt);
  return Finish();
}

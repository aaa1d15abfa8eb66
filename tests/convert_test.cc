// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Quantize / Dequantize / Convert on every compiled target, against references written here
// independently of ek/ref (a table of all f16 values, double arithmetic, std::nearbyint), and
// against ek/ref itself: every target must be bit-exact.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "ek/convert.h"
#include "ek/parallel.h"
#include "ek/ref/convert.h"
#include "test_util.h"

namespace {

using ek::DType;
using ek::QuantParams;
using ek::Status;
using ek::TensorView;
using ek_test::Rng;

// ---- Independent references ----------------------------------------------------------------

// Value of f32 bits as a double; an all-ones exponent with zero mantissa counts as 2^128 (the
// value rounding must compare against to decide overflow).
double F32BitsValue(uint32_t bits) {
  const uint32_t exponent = (bits >> 23) & 0xFF, mantissa = bits & 0x7FFFFF;
  double magnitude = exponent == 0 ? std::ldexp(static_cast<double>(mantissa), -149)
                                   : std::ldexp(static_cast<double>(mantissa | 0x800000), static_cast<int>(exponent) - 150);
  return (bits >> 31) ? -magnitude : magnitude;
}

double F16BitsValue(uint16_t h) {
  const int exponent = (h >> 10) & 0x1F, mantissa = h & 0x3FF;
  double magnitude = exponent == 0 ? std::ldexp(mantissa, -24) : std::ldexp(mantissa | 0x400, exponent - 25);
  return (h & 0x8000) ? -magnitude : magnitude;
}

// Nearest f16 by search over all finite f16 magnitudes, ties to the even code; beyond the
// largest finite value, anything at or past the midpoint to 2^16 becomes inf.
uint16_t IndependentF32ToF16(float x) {
  static std::vector<double> table = [] {
    std::vector<double> t;
    for (uint32_t h = 0; h < 0x7C00; ++h) t.push_back(F16BitsValue(static_cast<uint16_t>(h)));
    t.push_back(65536.0);  // the "next" value after 65504: represents overflow to inf (0x7C00)
    return t;
  }();
  const uint16_t sign = std::signbit(x) ? 0x8000 : 0;
  if (std::isnan(x)) return 0x7E00;  // only NaN-ness is compared for NaN
  const double a = std::fabs(static_cast<double>(x));
  if (std::isinf(x) || a >= 65536.0) return sign | 0x7C00;
  size_t hi = static_cast<size_t>(std::lower_bound(table.begin(), table.end(), a) - table.begin());
  if (table[hi] == a) return static_cast<uint16_t>(sign | hi);
  const size_t lo = hi - 1;
  const double dlo = a - table[lo], dhi = table[hi] - a;
  size_t pick = dlo < dhi ? lo : dhi < dlo ? hi : ((lo & 1) ? hi : lo);
  return static_cast<uint16_t>(sign | pick);
}

uint16_t IndependentF32ToBF16(float x) {
  const uint32_t bits = ek_test::Bits(x);
  if (std::isnan(x)) return 0x7FC0;  // only NaN-ness is compared
  const uint32_t lo = bits & 0xFFFF0000u;
  const uint32_t hi = lo + 0x10000u;
  const double v = F32BitsValue(bits), vlo = F32BitsValue(lo), vhi = F32BitsValue(hi);
  const double dlo = std::fabs(v - vlo), dhi = std::fabs(vhi - v);
  if (dlo < dhi) return static_cast<uint16_t>(lo >> 16);
  if (dhi < dlo) return static_cast<uint16_t>(hi >> 16);
  return static_cast<uint16_t>(((lo >> 16) & 1) ? hi >> 16 : lo >> 16);
}

int32_t IndependentQuantize(float x, float scale, int32_t zero_point, DType type) {
  const int32_t qmin = type == DType::kI8 ? -128 : 0, qmax = type == DType::kI8 ? 127 : 255;
  if (std::isnan(x)) return zero_point;
  const float inverse = 1.0f / scale;
  const float r = std::nearbyint(x * inverse) + static_cast<float>(zero_point);  // FE_TONEAREST: ties to even
  if (!(r >= static_cast<float>(qmin))) return qmin;
  if (r > static_cast<float>(qmax)) return qmax;
  return static_cast<int32_t>(r);
}

// Values that probe every corner of the rules.
std::vector<float> SpecialFloats() {
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> v = {0.0f, -0.0f, 1.0f, -1.0f, 0.5f, -0.5f, 1.5f, 2.5f, -2.5f, 65504.0f, 65519.0f, 65520.0f,
                          -65520.0f, 65536.0f, 1e30f, -1e30f, FLT_MAX, -FLT_MAX, FLT_MIN, -FLT_MIN,
                          std::ldexp(1.0f, -24), std::ldexp(1.0f, -25), std::ldexp(1.5f, -25), std::ldexp(1.0f, -26),
                          std::ldexp(1.0f, -14), std::ldexp(1023.5f, -24), std::ldexp(1.0f, -149), inf, -inf,
                          std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::quiet_NaN()};
  uint32_t payload_nan = 0x7F800001u;  // signalling NaN with a payload
  float f;
  std::memcpy(&f, &payload_nan, 4);
  v.push_back(f);
  return v;
}

// Inputs for f32 -> f16: random bit patterns, every f16 midpoint (and its neighbours), specials.
std::vector<float> F16ProbeInputs() {
  std::vector<float> v = SpecialFloats();
  for (uint32_t h = 0; h < 0x7BFF; h += 7) {  // midpoints between consecutive f16 values
    const double mid = (F16BitsValue(static_cast<uint16_t>(h)) + F16BitsValue(static_cast<uint16_t>(h + 1))) / 2;
    const float m = static_cast<float>(mid);  // exact: f16 midpoints fit in f32
    v.push_back(m);
    v.push_back(-m);
    v.push_back(std::nextafter(m, 0.0f));
    v.push_back(std::nextafter(m, 1e9f));
  }
  Rng rng(1);
  for (int i = 0; i < 40000; ++i) {
    uint32_t bits = rng.Next32();
    if (i & 1) bits = (bits & 0x807FFFFFu) | ((100u + bits % 50u) << 23);  // exponents near f16's range
    float f;
    std::memcpy(&f, &bits, 4);
    v.push_back(f);
  }
  return v;
}

Status RunConvert(const std::vector<float>& in, std::vector<uint16_t>* out, DType type) {
  out->assign(in.size(), 0xDEAD);
  const int64_t n = static_cast<int64_t>(in.size());
  return ek::Convert(TensorView::Host(DType::kF32, in.data(), {n}), TensorView::Host(type, out->data(), {n}));
}

}  // namespace

TEST_CASE("reference f32->f16 matches an independent nearest-value search", "[convert][ref]") {
  for (float x : F16ProbeInputs()) {
    const uint16_t got = ek::ref::F32ToF16(x), want = IndependentF32ToF16(x);
    INFO("x bits 0x" << std::hex << ek_test::Bits(x) << " got 0x" << got << " want 0x" << want);
    if (std::isnan(x)) {
      CHECK((got & 0x7C00) == 0x7C00);
      CHECK((got & 0x0200) != 0);                          // quiet
      CHECK((got & 0x8000) == (ek_test::Bits(x) >> 16 & 0x8000));  // sign kept
    } else {
      CHECK(got == want);
    }
  }
}

TEST_CASE("reference f16->f32 is exact for all 65536 codes", "[convert][ref]") {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = ek::ref::F16ToF32(static_cast<uint16_t>(h));
    const int exponent = (h >> 10) & 0x1F;
    if (exponent == 31) {
      CHECK(((h & 0x3FF) ? std::isnan(f) : std::isinf(f)));
    } else {
      INFO("h = " << h);
      CHECK(static_cast<double>(f) == F16BitsValue(static_cast<uint16_t>(h)));
      CHECK(std::signbit(f) == ((h & 0x8000) != 0));
    }
  }
}

TEST_CASE("reference f32->bf16 matches independent round-to-nearest-even", "[convert][ref]") {
  std::vector<float> inputs = SpecialFloats();
  Rng rng(2);
  for (int i = 0; i < 100000; ++i) {
    uint32_t bits = rng.Next32();
    if (i % 3 == 0) bits = (bits & 0xFFFF0000u) | 0x8000u;  // exact ties
    float f;
    std::memcpy(&f, &bits, 4);
    inputs.push_back(f);
  }
  for (float x : inputs) {
    const uint16_t got = ek::ref::F32ToBF16(x);
    INFO("x bits 0x" << std::hex << ek_test::Bits(x));
    if (std::isnan(x)) {
      CHECK((got & 0x7F80) == 0x7F80);
      CHECK((got & 0x0040) != 0);
    } else {
      CHECK(got == IndependentF32ToBF16(x));
    }
  }
}

TEST_CASE("f32 <-> f16 / bf16 conversion is bit-exact with the reference on every target", "[convert]") {
  const std::vector<float> inputs = F16ProbeInputs();
  std::vector<uint16_t> want_f16(inputs.size()), want_bf16(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    want_f16[i] = ek::ref::F32ToF16(inputs[i]);
    want_bf16[i] = ek::ref::F32ToBF16(inputs[i]);
  }
  std::vector<uint16_t> all_codes(0x10000);
  for (uint32_t h = 0; h < 0x10000; ++h) all_codes[h] = static_cast<uint16_t>(h);
  std::vector<float> want_from_f16(0x10000), want_from_bf16(0x10000);
  for (uint32_t h = 0; h < 0x10000; ++h) {
    want_from_f16[h] = ek::ref::F16ToF32(static_cast<uint16_t>(h));
    want_from_bf16[h] = ek::ref::BF16ToF32(static_cast<uint16_t>(h));
  }
  ek_test::ForEachTarget([&](int64_t target) {
    INFO("target " << ek::TargetName(target));
    std::vector<uint16_t> got;
    REQUIRE(RunConvert(inputs, &got, DType::kF16).ok());
    size_t mismatches = 0;
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (got[i] != want_f16[i] && mismatches++ < 5) {
        FAIL_CHECK("f16 of bits 0x" << std::hex << ek_test::Bits(inputs[i]) << ": got 0x" << got[i] << " want 0x"
                                    << want_f16[i]);
      }
    }
    CHECK(mismatches == 0);
    REQUIRE(RunConvert(inputs, &got, DType::kBF16).ok());
    CHECK(got == want_bf16);
    std::vector<float> back(0x10000);
    REQUIRE(ek::Convert(TensorView::Host(DType::kF16, all_codes.data(), {0x10000}),
                        TensorView::Host(DType::kF32, back.data(), {0x10000}))
                .ok());
    for (uint32_t h = 0, shown = 0; h < 0x10000; ++h) {
      if (ek_test::Bits(back[h]) != ek_test::Bits(want_from_f16[h]) && shown++ < 5) {
        FAIL_CHECK("f16 0x" << std::hex << h << " -> f32 0x" << ek_test::Bits(back[h]) << " want 0x"
                            << ek_test::Bits(want_from_f16[h]));
      }
    }
    CHECK(ek_test::SameBits(back.data(), want_from_f16.data(), back.size() * 4));
    REQUIRE(ek::Convert(TensorView::Host(DType::kBF16, all_codes.data(), {0x10000}),
                        TensorView::Host(DType::kF32, back.data(), {0x10000}))
                .ok());
    CHECK(ek_test::SameBits(back.data(), want_from_bf16.data(), back.size() * 4));
  });
}

namespace {

// Walks every index of a view's shape.
template <typename Fn>
void ForEachIndex(const TensorView& v, const Fn& fn) {
  int64_t index[ek::kMaxRank] = {0, 0, 0, 0, 0};
  const int64_t total = v.NumElements();
  for (int64_t n = 0; n < total; ++n) {
    fn(index);
    for (int d = v.rank - 1; d >= 0; --d) {
      if (++index[d] < v.shape[d]) break;
      index[d] = 0;
    }
  }
}

// Scale and zero point for one index under per-tensor or per-axis params.
void ParamsAt(const QuantParams& q, const int64_t* index, float* scale, int32_t* zero_point) {
  if (q.scheme == ek::QuantScheme::kPerTensor) {
    *scale = q.scale;
    *zero_point = q.zero_point;
  } else {
    *scale = static_cast<const float*>(q.scales)[index[q.axis]];
    *zero_point = q.zero_points ? q.zero_points[index[q.axis]] : 0;
  }
}

float InterestingValue(Rng& rng, float scale) {
  switch (rng.Int(0, 9)) {
    case 0: return (static_cast<float>(rng.Int(-300, 300)) + 0.5f) * scale;  // ties when scale is a power of 2
    case 1: return static_cast<float>(rng.Int(-300, 300)) * scale;
    case 2: {
      const std::vector<float> s = SpecialFloats();
      return s[static_cast<size_t>(rng.Int(0, static_cast<int>(s.size()) - 1))];
    }
    default: return rng.Uniform(-160.0f, 160.0f) * scale;
  }
}

// Describes one strided test case: the logical shape, and how much padding / offset each
// dimension gets inside its backing buffer.
struct Case {
  std::vector<int64_t> shape;
  int64_t pad = 0;       // extra elements per dimension step (non-contiguous strides)
  int64_t offset = 0;    // elements before the view in the buffer
  bool reverse_strides = false;  // innermost dimension is the slowest in memory
};

// Builds a view over `buffer` (sized here) with the case's strides.
template <typename T>
TensorView MakeView(DType type, std::vector<T>* buffer, const Case& c) {
  TensorView v;
  v.dtype = type;
  v.rank = static_cast<int>(c.shape.size());
  int64_t stride = 1;
  for (int k = 0; k < v.rank; ++k) {
    const int d = c.reverse_strides ? k : v.rank - 1 - k;
    v.shape[d] = c.shape[static_cast<size_t>(d)];
    v.strides[d] = stride;
    stride = stride * v.shape[d] + c.pad;
  }
  v.offset = c.offset;
  buffer->assign(static_cast<size_t>(stride + c.offset + 3), T{});
  v.memory.host = buffer->data();
  return v;
}

std::vector<Case> QuantCases() {
  std::vector<Case> cases;
  for (int64_t n : {1, 2, 3, 5, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 129, 255, 257, 1000, 4099}) {
    cases.push_back({{n}, 0, 0, false});
  }
  cases.push_back({{70001}, 0, 0, false});          // several row chunks and tasks
  cases.push_back({{3, 37}, 5, 11, false});         // padded rows, offset
  cases.push_back({{2, 3, 5, 7}, 1, 3, false});     // rank 4, padding everywhere
  cases.push_back({{2, 2, 3, 3, 17}, 0, 1, false}); // rank 5, contiguous but offset
  cases.push_back({{13, 11}, 2, 0, true});          // transposed: inner stride != 1
  cases.push_back({{64, 129}, 0, 0, false});        // multiple full rows, merged
  return cases;
}

}  // namespace

TEST_CASE("Quantize and Dequantize are bit-exact on every target, per tensor and per axis", "[convert][quant]") {
  Rng rng(3);
  int cases_run = 0;
  for (const Case& c : QuantCases()) {
    for (DType qtype : {DType::kI8, DType::kU8}) {
      const int rank = static_cast<int>(c.shape.size());
      // -1: per tensor; otherwise per axis along that axis.
      for (int axis = -1; axis < rank; ++axis) {
        for (bool symmetric : {false, true}) {
          if (symmetric && qtype == DType::kU8) continue;  // symmetric uint8 is not a scheme
          std::vector<float> in_buffer;
          std::vector<uint8_t> q_buffer;
          std::vector<float> out_buffer;
          const TensorView in_shape_only = MakeView(DType::kF32, &in_buffer, c);
          TensorView in = in_shape_only;
          TensorView q = MakeView(qtype, &q_buffer, c);
          TensorView out = MakeView(DType::kF32, &out_buffer, c);
          // Params.
          const int64_t channels = axis >= 0 ? c.shape[static_cast<size_t>(axis)] : 1;
          std::vector<float> scales(static_cast<size_t>(channels));
          std::vector<int32_t> zero_points(static_cast<size_t>(channels));
          for (int64_t i = 0; i < channels; ++i) {
            scales[static_cast<size_t>(i)] = rng.Int(0, 1) ? std::ldexp(1.0f, rng.Int(-8, 2)) : rng.Uniform(0.001f, 0.5f);
            zero_points[static_cast<size_t>(i)] =
                symmetric ? 0 : (qtype == DType::kI8 ? rng.Int(-128, 127) : rng.Int(0, 255));
          }
          const QuantParams params = axis < 0 ? QuantParams::PerTensor(scales[0], zero_points[0])
                                              : QuantParams::PerAxis(axis, scales.data(),
                                                                     symmetric ? nullptr : zero_points.data());
          q.quant = params;
          // Inputs and expectations.
          std::vector<uint8_t> want_q(q_buffer.size(), 0x5A);
          std::vector<float> want_out(out_buffer.size(), -7.0f);
          ForEachIndex(in, [&](const int64_t* index) {
            float scale;
            int32_t zp;
            ParamsAt(params, index, &scale, &zp);
            const float x = InterestingValue(rng, scale);
            in_buffer[static_cast<size_t>(in.ElementOffset(index))] = x;
            const int32_t qv = IndependentQuantize(x, scale, zp, qtype);
            REQUIRE(qv == ek::ref::QuantizeValue(x, ek::ref::InverseScale(scale), zp, ek::DTypeMin(qtype), ek::DTypeMax(qtype)));
            want_q[static_cast<size_t>(q.ElementOffset(index))] = static_cast<uint8_t>(qv);
            want_out[static_cast<size_t>(out.ElementOffset(index))] = static_cast<float>(qv - zp) * scale;
          });
          ek_test::ForEachTarget([&](int64_t target) {
            INFO("target " << ek::TargetName(target) << " rank " << rank << " n0 " << c.shape[0] << " axis " << axis
                           << " type " << ek::DTypeName(qtype));
            std::fill(q_buffer.begin(), q_buffer.end(), 0x5A);  // also checks nothing outside the view is written
            const Status sq = ek::Quantize(in, q);
            REQUIRE(sq.ok());
            CHECK(q_buffer == want_q);
            std::fill(out_buffer.begin(), out_buffer.end(), -7.0f);
            const Status sd = ek::Dequantize(q, out);
            REQUIRE(sd.ok());
            CHECK(ek_test::SameBits(out_buffer.data(), want_out.data(), out_buffer.size() * 4));
          });
          ++cases_run;
        }
      }
    }
  }
  CHECK(cases_run > 100);
}

// The randomized differential lane ([random]; a new seed per CI run, printed): random ranks,
// shapes, strides (padded, reversed), offsets, per-tensor / per-axis parameters and value mixes,
// Quantize / Dequantize / Convert on every target against the independent references.
TEST_CASE("Quantize, Dequantize and Convert randomized against the references, every target", "[convert][random]") {
  const uint64_t seed = ek_test::RandomSeed("Convert randomized");
  const int cases = ek_test::RandomCases(200);
  Rng rng(seed * 15485863);
  for (int i = 0; i < cases; ++i) {
    Case c;
    const int rank = rng.Int(1, 5);
    for (int d = 0; d < rank; ++d) c.shape.push_back(rng.Int(1, rank <= 2 ? 70 : 9));
    c.pad = rng.Int(0, 2) == 0 ? rng.Int(1, 5) : 0;
    c.offset = rng.Int(0, 7);
    c.reverse_strides = rng.Int(0, 3) == 0;
    const DType qtype = rng.Int(0, 1) ? DType::kI8 : DType::kU8;
    const int axis = rng.Int(-1, rank - 1);
    INFO("case " << i << " rank " << rank << " axis " << axis << " pad " << c.pad << " offset " << c.offset
                 << (c.reverse_strides ? " reversed" : "") << " (seed " << seed << ")");
    std::vector<float> in_buffer, out_buffer;
    std::vector<uint8_t> q_buffer;
    std::vector<uint16_t> h_buffer;
    const TensorView in = MakeView(DType::kF32, &in_buffer, c);
    TensorView q = MakeView(qtype, &q_buffer, c);
    const TensorView out = MakeView(DType::kF32, &out_buffer, c);
    const DType half = rng.Int(0, 1) ? DType::kF16 : DType::kBF16;
    const TensorView h = MakeView(half, &h_buffer, c);
    const int64_t channels = axis >= 0 ? c.shape[static_cast<size_t>(axis)] : 1;
    std::vector<float> scales(static_cast<size_t>(channels));
    std::vector<int32_t> zero_points(static_cast<size_t>(channels));
    for (int64_t j = 0; j < channels; ++j) {
      scales[static_cast<size_t>(j)] = rng.Uniform(1e-3f, 2.0f) * std::ldexp(1.0f, rng.Int(-20, 10));
      zero_points[static_cast<size_t>(j)] = qtype == DType::kI8 ? rng.Int(-128, 127) : rng.Int(0, 255);
    }
    const QuantParams params = axis < 0 ? QuantParams::PerTensor(scales[0], zero_points[0])
                                        : QuantParams::PerAxis(axis, scales.data(), zero_points.data());
    q.quant = params;
    const std::vector<float> specials = SpecialFloats();
    std::vector<uint8_t> want_q(q_buffer.size(), 0x5A);
    std::vector<float> want_out(out_buffer.size(), -7.0f);
    std::vector<uint16_t> want_h(h_buffer.size(), 0xDEAD);
    ForEachIndex(in, [&](const int64_t* index) {
      float scale;
      int32_t zp;
      ParamsAt(params, index, &scale, &zp);
      const float x = rng.Int(0, 9) == 0 ? specials[static_cast<size_t>(rng.Int(0, static_cast<int>(specials.size()) - 1))]
                                         : InterestingValue(rng, scale);
      in_buffer[static_cast<size_t>(in.ElementOffset(index))] = x;
      const int32_t qv = IndependentQuantize(x, scale, zp, qtype);
      want_q[static_cast<size_t>(q.ElementOffset(index))] = static_cast<uint8_t>(qv);
      want_out[static_cast<size_t>(out.ElementOffset(index))] = static_cast<float>(qv - zp) * scale;
      want_h[static_cast<size_t>(h.ElementOffset(index))] = half == DType::kF16 ? IndependentF32ToF16(x) : IndependentF32ToBF16(x);
    });
    ek_test::ForEachTarget([&](int64_t target) {
      INFO("target " << ek::TargetName(target));
      const int threads = rng.Int(1, 3);
      ek::ThreadPool pool(threads);
      ek::Context ctx;
      if (threads > 1) ctx.threads = pool.Hook();
      std::fill(q_buffer.begin(), q_buffer.end(), 0x5A);
      REQUIRE(ek::Quantize(in, q, ctx).ok());
      CHECK(q_buffer == want_q);
      std::fill(out_buffer.begin(), out_buffer.end(), -7.0f);
      REQUIRE(ek::Dequantize(q, out, ctx).ok());
      CHECK(ek_test::SameBits(out_buffer.data(), want_out.data(), out_buffer.size() * 4));
      std::fill(h_buffer.begin(), h_buffer.end(), 0xDEAD);
      REQUIRE(ek::Convert(in, h, ctx).ok());
      bool same = true;
      ForEachIndex(h, [&](const int64_t* index) {
        const size_t e = static_cast<size_t>(h.ElementOffset(index));
        const float x = in_buffer[static_cast<size_t>(in.ElementOffset(index))];
        // NaN: only NaN-ness is compared (the references make it quiet with their own payload).
        const bool nan_out = half == DType::kF16 ? (h_buffer[e] & 0x7C00) == 0x7C00 && (h_buffer[e] & 0x3FF)
                                                 : (h_buffer[e] & 0x7F80) == 0x7F80 && (h_buffer[e] & 0x7F);
        same = same && (std::isnan(x) ? nan_out : h_buffer[e] == want_h[e]);
      });
      CHECK(same);
    });
  }
}

TEST_CASE("results are bitwise identical for 1..4 threads and for a runtime's own pool", "[convert][threads]") {
  const int64_t n = 300001;
  std::vector<float> in(static_cast<size_t>(n));
  Rng rng(4);
  for (float& x : in) x = rng.Uniform(-3.0f, 3.0f);
  const TensorView input = TensorView::Host(DType::kF32, in.data(), {n});
  std::vector<int8_t> serial(static_cast<size_t>(n));
  const QuantParams params = QuantParams::PerTensor(0.02f, 3);
  REQUIRE(ek::Quantize(input, TensorView::Host(DType::kI8, serial.data(), {n}).WithQuant(params)).ok());
  for (size_t threads = 1; threads <= 4; ++threads) {
    ek::ThreadPool pool(threads);
    ek::Context ctx;
    ctx.threads = pool.Hook();
    std::vector<int8_t> got(static_cast<size_t>(n), 0);
    REQUIRE(ek::Quantize(input, TensorView::Host(DType::kI8, got.data(), {n}).WithQuant(params), ctx).ok());
    CHECK(got == serial);
  }
  // A runtime's pool: runs tasks in reverse order on the calling thread.
  struct ReversePool {
    int calls = 0;
    static void Run(void* pool, size_t num_tasks, void (*task)(void*, size_t), void* task_context) {
      static_cast<ReversePool*>(pool)->calls++;
      for (size_t i = num_tasks; i-- > 0;) task(task_context, i);
    }
  } reverse;
  ek::Context ctx;
  ctx.threads.parallel_for = &ReversePool::Run;
  ctx.threads.pool = &reverse;
  std::vector<int8_t> got(static_cast<size_t>(n), 0);
  REQUIRE(ek::Quantize(input, TensorView::Host(DType::kI8, got.data(), {n}).WithQuant(params), ctx).ok());
  CHECK(got == serial);
  CHECK(reverse.calls == 1);

  // Multi-row, per channel, padded rows: row blocks split across tasks.
  const int64_t rows = 1500, channels = 97, ld = 101;
  std::vector<float> in2(static_cast<size_t>(rows * ld));
  for (float& x : in2) x = rng.Uniform(-3.0f, 3.0f);
  std::vector<float> scales(static_cast<size_t>(channels));
  std::vector<int32_t> zps(static_cast<size_t>(channels));
  for (int64_t c = 0; c < channels; ++c) {
    scales[static_cast<size_t>(c)] = 0.01f + 0.001f * static_cast<float>(c);
    zps[static_cast<size_t>(c)] = static_cast<int32_t>(c % 11) - 5;
  }
  const QuantParams per_channel = QuantParams::PerAxis(1, scales.data(), zps.data());
  const TensorView input2 = TensorView::Matrix(DType::kF32, in2.data(), rows, channels, ld);
  auto run2 = [&](const ek::Context& c) {
    std::vector<int8_t> out(static_cast<size_t>(rows * ld), 0x55);
    REQUIRE(ek::Quantize(input2, TensorView::Matrix(DType::kI8, out.data(), rows, channels, ld).WithQuant(per_channel), c)
                .ok());
    return out;
  };
  const std::vector<int8_t> serial2 = run2(ek::Context());
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < channels; ++c) {
      const size_t i = static_cast<size_t>(r * ld + c);
      REQUIRE(serial2[i] == ek::ref::QuantizeValue(in2[i], ek::ref::InverseScale(scales[static_cast<size_t>(c)]),
                                                   zps[static_cast<size_t>(c)], -128, 127));
    }
  }
  for (size_t threads = 2; threads <= 4; ++threads) {
    ek::ThreadPool pool(threads);
    ek::Context c;
    c.threads = pool.Hook();
    CHECK(run2(c) == serial2);
  }
  CHECK(run2(ctx) == serial2);
}

TEST_CASE("conversion entry points reject bad input with a message naming the argument", "[convert][validation]") {
  std::vector<float> f(64, 1.0f);
  std::vector<int8_t> q(64, 0);
  std::vector<uint16_t> h(64, 0);
  const QuantParams pt = QuantParams::PerTensor(0.1f, 0);
  const TensorView fin = TensorView::Host(DType::kF32, f.data(), {64});
  const TensorView qout = TensorView::Host(DType::kI8, q.data(), {64}).WithQuant(pt);

  const auto expect_error = ek_test::ExpectError;
  expect_error(ek::Quantize(fin, TensorView::Host(DType::kI8, q.data(), {64})), ek::StatusCode::kInvalidArgument,
               "output: needs per-tensor or per-axis");
  expect_error(ek::Quantize(TensorView::Host(DType::kF32, nullptr, {64}), qout), ek::StatusCode::kInvalidArgument,
               "input: data is null");
  expect_error(ek::Quantize(fin, TensorView::Host(DType::kI8, q.data(), {32}).WithQuant(pt)),
               ek::StatusCode::kInvalidArgument, "output: shape differs from input");
  expect_error(ek::Quantize(TensorView::Host(DType::kF16, h.data(), {64}), qout), ek::StatusCode::kInvalidArgument,
               "input: dtype is f16, expected f32");
  expect_error(ek::Quantize(fin, TensorView::Host(DType::kI32, f.data() + 32, {64}).WithQuant(pt)),
               ek::StatusCode::kInvalidArgument, "output: overlaps input");
  expect_error(ek::Quantize(fin, qout.WithQuant(QuantParams::PerTensor(0.0f, 0))), ek::StatusCode::kInvalidArgument,
               "output: quant scale[0] = 0");
  expect_error(ek::Quantize(fin, qout.WithQuant(QuantParams::PerTensor(0.5f, 300))), ek::StatusCode::kInvalidArgument,
               "output: quant zero_point[0] = 300 does not fit i8");
  expect_error(ek::Quantize(fin, qout.WithQuant(QuantParams::PerAxis(1, nullptr))), ek::StatusCode::kInvalidArgument,
               "output: quant axis 1 out of range");
  expect_error(ek::Quantize(fin, qout.WithStrides({0})), ek::StatusCode::kInvalidArgument,
               "output: strides[0] = 0 makes the output overlap itself");
  TensorView on_gpu = qout;
  on_gpu.memory.kind = ek::MemoryKind::kOpenCLBuffer;
  on_gpu.memory.handle = reinterpret_cast<void*>(0x1000);
  expect_error(ek::Quantize(fin, on_gpu), ek::StatusCode::kWrongMemory, "output: lives in opencl-buffer memory");
  expect_error(ek::Dequantize(qout, TensorView::Host(DType::kF16, h.data(), {64})), ek::StatusCode::kInvalidArgument,
               "output: dtype is f16, expected f32");
  expect_error(ek::Convert(fin, TensorView::Host(DType::kI8, q.data(), {64})), ek::StatusCode::kInvalidArgument,
               "output: cannot convert f32 to i8");
  expect_error(ek::Convert(fin, TensorView::Host(DType::kF32, q.data(), {16})), ek::StatusCode::kInvalidArgument,
               "output: shape differs");
  // The output's per-axis scales are read while it is written: they may not lie inside it
  // (issue 16: accepted, and the output overwrote its own scales).
  {
    std::vector<int8_t> out2(64, 0);
    const float* scales_in_out = reinterpret_cast<const float*>(out2.data() + 16);
    std::memcpy(out2.data() + 16, &f[0], 16);  // 4 valid scales (1.0)
    const TensorView fin2 = TensorView::Host(DType::kF32, f.data(), {4, 16});
    const TensorView q2 = TensorView::Host(DType::kI8, out2.data(), {4, 16}).WithQuant(QuantParams::PerAxis(0, scales_in_out));
    expect_error(ek::Quantize(fin2, q2), ek::StatusCode::kInvalidArgument, "output: overlaps output.quant.scales");
    std::vector<int32_t> zps(4, 0);
    expect_error(ek::Dequantize(TensorView::Host(DType::kI8, out2.data(), {4, 1}).WithQuant(QuantParams::PerAxis(0, reinterpret_cast<const float*>(f.data()), zps.data())),
                                TensorView::Host(DType::kF32, zps.data(), {4, 1})),
                 ek::StatusCode::kInvalidArgument, "output: overlaps input.quant.zero_points");
  }
  // Misaligned element data (2- and 4-byte types): UB in any scalar path, so rejected.
  expect_error(ek::Quantize(TensorView::Host(DType::kF32, reinterpret_cast<uint8_t*>(f.data()) + 2, {8}),
                            TensorView::Host(DType::kI8, q.data(), {8}).WithQuant(pt)),
               ek::StatusCode::kInvalidArgument, "input: data is not 4-byte aligned");
  expect_error(ek::Convert(fin, TensorView::Host(DType::kF16, reinterpret_cast<uint8_t*>(h.data()) + 1, {64})),
               ek::StatusCode::kInvalidArgument, "output: data is not 2-byte aligned");
  // Scales whose reciprocal overflows f32 (below 2^-126).
  expect_error(ek::Quantize(fin, qout.WithQuant(QuantParams::PerTensor(1e-39f, 0))), ek::StatusCode::kInvalidArgument,
               "output: quant scale[0] = 1e-39");
  // Nothing was written by any rejected call.
  for (int8_t v : q) CHECK(v == 0);
  for (uint16_t v : h) CHECK(v == 0);
}

// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// The requantization rule (ek/requantize.h): equal to gemmlowp's fixed-point primitives, the
// multiplier conversion at its edges, and every target's vector form equal to the scalar rule.
#include "ek/requantize.h"

#include <gemmlowp/fixedpoint/fixedpoint.h>

#include <cmath>
#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

#include "ek/qgemm.h"
#include "test_util.h"

namespace {

constexpr int32_t kMin = std::numeric_limits<int32_t>::min();
constexpr int32_t kMax = std::numeric_limits<int32_t>::max();

std::vector<int32_t> EdgeValues(uint64_t seed, size_t random_count) {
  std::vector<int32_t> v = {kMin, kMin + 1, -65536, -32769, -32768, -1025, -1024, -3, -2, -1, 0, 1, 2, 3,
                            1023, 1024, 32767, 32768, 65535, 1 << 30, kMax - 1, kMax};
  ek_test::Rng rng(seed);
  for (size_t i = 0; i < random_count; ++i) {
    const uint32_t r = rng.Next32();
    // Mix full-range values with small ones (typical accumulators).
    v.push_back(i % 2 ? static_cast<int32_t>(r) : static_cast<int32_t>(r % 2000001) - 1000000);
  }
  return v;
}

// TFLite's CalculateActivationRangeQuantized (tensorflow/lite/kernels/kernel_util.cc), written
// out independently: quantize(f) = zero_point + (int32) TfLiteRound(f / scale), TfLiteRound being
// std::round (halves away from zero) of the f32 quotient; ReLU: [max(qmin, quantize(0)), qmax];
// ReLU6: [max(qmin, quantize(0)), min(qmax, quantize(6))]; ReLU_N1_TO_1: quantize(-1), quantize(1).
void TfLiteActivationRange(float lo, float hi, float scale, int32_t zero_point, int32_t qmin, int32_t qmax,
                           int32_t* out_lo, int32_t* out_hi) {
  const auto quantize = [&](float f) { return zero_point + static_cast<int32_t>(std::round(f / scale)); };
  *out_lo = std::isinf(lo) ? qmin : std::max(qmin, quantize(lo));
  *out_hi = std::isinf(hi) ? qmax : std::min(qmax, quantize(hi));
}

// Issue 16: with output scale 12, zero point 80 and ReLU6, TFLite clamps to [80, 81] (6 / 12 =
// 0.5 rounds away from zero) and ek clamped to [80, 80] (half to even of 6 * (1 / 12)).
TEST_CASE("QuantizedActivationRange is TFLite's CalculateActivationRangeQuantized, ties included") {
  int32_t lo = 0, hi = 0;
  ek::QuantizedActivationRange(0.0f, 6.0f, 12.0f, 80, -128, 127, &lo, &hi);
  CHECK(lo == 80);
  CHECK(hi == 81);
  ek_test::Rng rng(77);
  int ties = 0;
  for (int i = 0; i < 200000; ++i) {
    // Scales that make f / scale land on halves (6 / 12, 1 / 0.4, ...) and random ones.
    const float scale = i % 3 == 0 ? 6.0f / (static_cast<float>(rng.Int(0, 40)) + 0.5f)
                        : i % 3 == 1 ? std::ldexp(1.0f, rng.Int(-10, 3)) * static_cast<float>(rng.Int(1, 9))
                                     : rng.Uniform(1e-4f, 2.0f);
    const bool u8 = i % 2 == 0;
    const int32_t qmin = u8 ? 0 : -128, qmax = u8 ? 255 : 127;
    const int32_t zp = rng.Int(qmin, qmax);
    const float bounds[][2] = {{0.0f, HUGE_VALF}, {0.0f, 6.0f}, {-1.0f, 1.0f}, {rng.Uniform(-3.0f, 0.0f), rng.Uniform(0.0f, 3.0f)}};
    for (const auto& b : bounds) {
      int32_t want_lo = 0, want_hi = 0;
      TfLiteActivationRange(b[0], b[1], scale, zp, qmin, qmax, &want_lo, &want_hi);
      ek::QuantizedActivationRange(b[0], b[1], scale, zp, qmin, qmax, &lo, &hi);
      const float q6 = b[1] / scale;
      ties += q6 - std::floor(q6) == 0.5f;
      INFO("scale " << scale << " zero point " << zp << " range [" << b[0] << ", " << b[1] << "]");
      REQUIRE(lo == want_lo);
      REQUIRE(hi == want_hi);
    }
  }
  CHECK(ties > 1000);  // the ties were really exercised
}

TEST_CASE("SaturatingRoundingDoublingHighMul and RoundingDivideByPOT equal gemmlowp's") {
  const std::vector<int32_t> values = EdgeValues(1, 400);
  std::vector<int32_t> multipliers = {kMin, kMin + 1, -1, 0, 1, 1 << 30, (1 << 30) + 1, 1518500250, kMax};
  for (size_t i = 0; i < 40; ++i) multipliers.push_back(values[values.size() - 1 - i]);
  size_t checked = 0;
  for (const int32_t a : values) {
    for (const int32_t b : multipliers) {
      INFO("a = " << a << ", b = " << b);
      REQUIRE(ek::SaturatingRoundingDoublingHighMul(a, b) == gemmlowp::SaturatingRoundingDoublingHighMul(a, b));
      ++checked;
    }
    for (int exponent = 0; exponent <= 31; ++exponent) {
      INFO("x = " << a << ", exponent = " << exponent);
      REQUIRE(ek::RoundingDivideByPOT(a, exponent) == gemmlowp::RoundingDivideByPOT(a, exponent));
      ++checked;
    }
  }
  CHECK(checked > 10000);
}

TEST_CASE("MultiplyByQuantizedMultiplier saturates the left shift where gemmlowp would overflow") {
  const ek::QuantizedMultiplier two{1 << 30, 2};  // 2^30 * 2^(2 - 31) = 2
  CHECK(ek::MultiplyByQuantizedMultiplier(1000, two) == 2000);
  CHECK(ek::MultiplyByQuantizedMultiplier(1 << 28, two) == 1 << 29);
  // x * 4 saturates to INT32_MAX / INT32_MIN, then * 0.5 (gemmlowp's shift would overflow).
  CHECK(ek::MultiplyByQuantizedMultiplier(kMax / 2, two) == 1 << 30);
  CHECK(ek::MultiplyByQuantizedMultiplier(kMax, two) == 1 << 30);
  CHECK(ek::MultiplyByQuantizedMultiplier(kMin, two) == -(1 << 30));
}

TEST_CASE("QuantizeMultiplier at its edges: 0, tiny, near 1, above 1, out of range") {
  ek::QuantizedMultiplier q;
  REQUIRE(ek::QuantizeMultiplier(0.0, &q).ok());
  CHECK((q.multiplier == 0 && q.shift == 0));
  REQUIRE(ek::QuantizeMultiplier(std::ldexp(1.0, -33), &q).ok());  // below 2^-32: every product rounds to 0
  CHECK((q.multiplier == 0 && q.shift == 0));
  REQUIRE(ek::QuantizeMultiplier(std::ldexp(1.0, -32), &q).ok());  // smallest representable: shift -31
  CHECK((q.multiplier == 1 << 30 && q.shift == -31));
  REQUIRE(ek::QuantizeMultiplier(1.0, &q).ok());
  CHECK((q.multiplier == 1 << 30 && q.shift == 1));
  REQUIRE(ek::QuantizeMultiplier(1.0 - std::ldexp(1.0, -40), &q).ok());  // mantissa rounds up to 1.0
  CHECK((q.multiplier == 1 << 30 && q.shift == 1));
  REQUIRE(ek::QuantizeMultiplier(0.5, &q).ok());
  CHECK((q.multiplier == 1 << 30 && q.shift == 0));
  REQUIRE(ek::QuantizeMultiplier(std::nextafter(1.0, 0.0), &q).ok());
  CHECK((q.multiplier == 1 << 30 && q.shift == 1));
  ek_test::Rng rng(7);
  for (int i = 0; i < 2000; ++i) {
    const double real = std::ldexp(0.5 + 0.5 * rng.Uniform(0.0f, 1.0f), rng.Int(-31, 30));
    REQUIRE(ek::QuantizeMultiplier(real, &q).ok());
    INFO("real " << real);
    REQUIRE(q.multiplier >= (1 << 30));
    const double represented = std::ldexp(static_cast<double>(q.multiplier), q.shift - 31);
    REQUIRE(std::fabs(represented - real) <= std::ldexp(1.0, q.shift - 32));  // half a unit of the mantissa
  }
  // The bit-level conversion equals the frexp / round formulation (gemmlowp's and TFLite's
  // QuantizeMultiplier) on reals spread over the whole range, ties and the rounding-up edge included.
  const auto by_frexp = [](double real) {
    ek::QuantizedMultiplier r;
    if (real == 0.0) return r;
    int exponent = 0;
    const double mantissa = std::frexp(real, &exponent);
    int64_t fixed = static_cast<int64_t>(std::round(mantissa * 2147483648.0));
    if (fixed == (int64_t{1} << 31)) {
      fixed /= 2;
      ++exponent;
    }
    if (exponent < -31) return r;
    r.multiplier = static_cast<int32_t>(fixed);
    r.shift = exponent;
    return r;
  };
  for (int i = 0; i < 20000; ++i) {
    double real = std::ldexp(0.5 + 0.5 * static_cast<double>(rng.Next32()) / 4294967296.0, rng.Int(-40, 29));
    if (i % 4 == 1) real = std::ldexp(std::ldexp(static_cast<double>((1u << 30) + rng.Next32() % (1u << 30)) + 0.5, -31), rng.Int(-33, 29));  // a tie
    if (i % 4 == 2) real = std::nextafter(std::ldexp(1.0, rng.Int(-33, 29)), 0.0);  // rounds up to a power of 2
    REQUIRE(ek::QuantizeMultiplier(real, &q).ok());
    const ek::QuantizedMultiplier want = by_frexp(real);
    if (q.multiplier != want.multiplier || q.shift != want.shift) {
      INFO("real " << real);
      CHECK(q.multiplier == want.multiplier);
      CHECK(q.shift == want.shift);
    }
  }
  ek_test::ExpectError(ek::QuantizeMultiplier(-0.25, &q, "scale"), ek::StatusCode::kInvalidArgument, "scale");
  ek_test::ExpectError(ek::QuantizeMultiplier(std::ldexp(1.0, 30), &q), ek::StatusCode::kInvalidArgument, "2^30");
  ek_test::ExpectError(ek::QuantizeMultiplier(NAN, &q), ek::StatusCode::kInvalidArgument, "multiplier");
  ek_test::ExpectError(ek::QuantizeMultiplier(INFINITY, &q), ek::StatusCode::kInvalidArgument, "multiplier");
}

TEST_CASE("Every target's vector requantization equals the scalar rule, lane by lane, in every form") {
  const std::vector<int32_t> values = EdgeValues(3, 300);
  std::vector<int32_t> acc, multiplier, shift;
  ek_test::Rng rng(11);
  for (const int32_t v : values) {
    for (int s = -31; s <= 30; s += 1) {
      acc.push_back(v);
      shift.push_back(s);
      const uint32_t r = rng.Next32();
      multiplier.push_back(r % 7 == 0 ? kMin : (r % 7 == 1 ? kMax : static_cast<int32_t>((1u << 30) | (r >> 2))));
    }
  }
  // The same inputs moved into each form's domain: multipliers in [0, 2^31), then shifts <= 0.
  std::vector<int32_t> positive = multiplier, right_only = shift;
  for (int32_t& m : positive) m = m == kMin ? 0 : (m < 0 ? -m : m);
  for (int32_t& s : right_only) s = s > 0 ? -s : s;
  struct Form {
    ek::RequantizeForm form;
    const std::vector<int32_t>* multipliers;
    const std::vector<int32_t>* shifts;
  };
  const Form forms[] = {{ek::RequantizeForm::kGeneral, &multiplier, &shift},
                        {ek::RequantizeForm::kQuantizedMultipliers, &positive, &shift},
                        {ek::RequantizeForm::kRightShiftsOnly, &positive, &right_only}};
  const size_t count = acc.size() - 5;  // not a multiple of any vector length
  struct Range {
    int32_t zp, lo, hi;
  };
  const Range ranges[] = {{0, -128, 127}, {-7, -100, 127}, {128, 0, 255}, {255, 0, 255}};
  const int targets = ek_test::ForEachTarget([&](int64_t target) {
    for (const Form& f : forms) {
      for (const Range& r : ranges) {
        std::vector<int32_t> got(count + 5, 12345);
        REQUIRE(ek::RequantizeWithKernel(acc.data(), f.multipliers->data(), f.shifts->data(), r.zp, r.lo, r.hi, count,
                                         got.data(), f.form)
                    .ok());
        for (size_t i = 0; i < count; ++i) {
          const int32_t want = ek::Requantize(acc[i], {(*f.multipliers)[i], (*f.shifts)[i]}, r.zp, r.lo, r.hi);
          if (got[i] != want) {
            INFO(ek::TargetName(target) << " form " << static_cast<int>(f.form) << " acc " << acc[i] << " m "
                                        << (*f.multipliers)[i] << " s " << (*f.shifts)[i] << " zp " << r.zp);
            REQUIRE(got[i] == want);
          }
        }
        REQUIRE(got[count] == 12345);  // nothing written past count
      }
    }
  });
  CHECK(targets >= 1);
}

}  // namespace

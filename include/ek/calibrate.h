// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Weight quantization utilities (docs/quantization.md, "Calibration"): symmetric int8 / int4
// scales per output channel or per block along K, chosen by min/max, a percentile of |w|, or
// an MSE search; the quantized values; and an error report (SQNR, max absolute error) per
// channel or block. These are preparation tools, run once per model: they allocate (percentile
// and MSE keep a copy of one group), and they are scalar.
//
//   ek::QuantizeWeights(w, transpose, q, options)     w: f32 [K x N] (or [N x K] transposed);
//                                                     q: i8 / i4 view of the same shape whose
//                                                     quant params say the scheme and point at
//                                                     writable scale arrays
//   ek::MeasureQuantError(w, q, transpose, &overall, per_group, groups)
#ifndef EK_CALIBRATE_H_
#define EK_CALIBRATE_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "ek/detail/int_math.h"
#include "ek/detail/qweights.h"
#include "ek/ref/convert.h"
#include "ek/status.h"
#include "ek/tensor.h"
#include "ek/tensor_validate.h"

namespace ek {

enum class CalibrationMethod : uint8_t {
  kMinMax,      // threshold = max |w| of the group
  kPercentile,  // threshold = the `percentile` of |w| in the group (clips outliers)
  kMse,         // threshold in [max |w| / 2, max |w|] minimizing the squared error of the group
};

struct CalibrationOptions {
  CalibrationMethod method = CalibrationMethod::kMinMax;
  double percentile = 99.9;  // kPercentile, in (0, 100]
  int mse_steps = 64;        // kMse: thresholds tried, evenly spaced
  bool narrow_range = false; // int8: -127..127 (NPUs); int4: -7..7
};

struct QuantError {
  double sqnr_db = 0.0;  // 10 log10(sum w^2 / sum (w - dequantized)^2); +inf when exact
  double max_abs = 0.0;  // max |w - dequantized|
};

namespace detail {

// One group of a weight matrix: the elements sharing one scale (a column, or a column's block).
struct WeightGroups {
  int64_t k = 0, n = 0, block = 0;  // block = k for per-channel
  int64_t blocks = 1;
  int64_t Count() const { return n * blocks; }
};

inline Status ValidateCalibration(const TensorView& w, bool transpose, const TensorView& q, WeightGroups* g) {
  EK_RETURN_IF_ERROR(ValidateView(w, "w"));
  EK_RETURN_IF_ERROR(RequireHostMemory(w, "w"));
  EK_RETURN_IF_ERROR(RequireDType(w, "w", DType::kF32));
  if (w.rank != 2) return InvalidArg("w", "must be a 2-D f32 matrix");
  TensorView values_only = q;  // the scales are outputs: their old contents do not matter
  values_only.quant = QuantParams();
  EK_RETURN_IF_ERROR(ValidateOutputView(values_only, "q"));
  EK_RETURN_IF_ERROR(RequireHostMemory(q, "q"));
  if (q.dtype != DType::kI8 && q.dtype != DType::kI4) return InvalidArg("q", "dtype must be i8 or i4");
  if (q.rank != 2 || q.shape[0] != w.shape[0] || q.shape[1] != w.shape[1]) return InvalidArg("q", "shape must equal w's");
  g->k = transpose ? w.shape[1] : w.shape[0];
  g->n = transpose ? w.shape[0] : w.shape[1];
  const int k_axis = transpose ? 1 : 0, n_axis = transpose ? 0 : 1;
  const QuantParams& p = q.quant;
  if (p.scales == nullptr) return InvalidArg("q", "quant scales must point at a writable array");
  if (p.scheme == QuantScheme::kPerAxis) {
    if (p.axis != n_axis || p.scale_type != DType::kF32) return InvalidArg("q", "per-axis scales must be f32 along N");
    g->block = g->k;
    g->blocks = 1;
  } else if (p.scheme == QuantScheme::kPerBlock) {
    if (p.axis != k_axis || p.block_size < 1 || !IsFloat(p.scale_type)) {
      return InvalidArg("q", "per-block scales must be along K, with a block size >= 1 and f32 / f16 / bf16 scales");
    }
    g->block = p.block_size;
    g->blocks = CeilDiv(g->k, p.block_size);
  } else {
    return InvalidArg("q", "quant scheme must be per axis (N) or per block (K)");
  }
  // q's values and scales are outputs (QuantizeWeights writes both), w the input.
  AliasCheck alias;
  alias.AddView(w, "w", AliasCheck::Role::kInput);
  alias.AddView(q, "q", AliasCheck::Role::kOutput, AliasCheck::Role::kOutput);
  return alias.Check();
}

inline int64_t ElementAt(const TensorView& v, bool transpose, int64_t k, int64_t j) {
  return v.offset + (transpose ? j * v.strides[0] + k * v.strides[1] : k * v.strides[0] + j * v.strides[1]);
}

// Index of group (column j, block b) in the scale array of q (per axis: j; per block: the
// array shaped like the matrix with K replaced by the block count).
inline int64_t ScaleIndex(const TensorView& q, bool transpose, const WeightGroups& g, int64_t j, int64_t b) {
  if (q.quant.scheme == QuantScheme::kPerAxis) return j;
  return transpose ? j * g.blocks + b : b * g.n + j;
}

// Stores a scale in the array's type and returns the value actually stored (f16 / bf16 round).
inline float StoreScale(const TensorView& q, int64_t index, float scale) {
  void* scales = const_cast<void*>(q.quant.scales);
  switch (q.quant.scale_type) {
    case DType::kF16: {
      const uint16_t bits = ref::F32ToF16(scale);
      static_cast<uint16_t*>(scales)[index] = bits;
      return ref::F16ToF32(bits);
    }
    case DType::kBF16: {
      const uint16_t bits = ref::F32ToBF16(scale);
      static_cast<uint16_t*>(scales)[index] = bits;
      return ref::BF16ToF32(bits);
    }
    default:
      static_cast<float*>(scales)[index] = scale;
      return scale;
  }
}

inline int32_t QuantizeSymmetric(float x, float inv_scale, int32_t qmin, int32_t qmax) {
  return ref::QuantizeValue(x, inv_scale, 0, qmin, qmax);
}

// Squared error of quantizing `values` with `scale`.
inline double GroupError(const std::vector<float>& values, float scale, int32_t qmin, int32_t qmax) {
  const float inv = ref::InverseScale(scale);
  double error = 0.0;
  for (const float x : values) {
    const double d = static_cast<double>(x) - static_cast<double>(QuantizeSymmetric(x, inv, qmin, qmax)) * scale;
    error += d * d;
  }
  return error;
}

inline float ChooseThreshold(std::vector<float>& values, const CalibrationOptions& o, int32_t qmin, int32_t qmax) {
  float amax = 0.0f;
  for (const float x : values) amax = std::max(amax, std::fabs(x));
  if (o.method == CalibrationMethod::kMinMax || amax == 0.0f) return amax;
  if (o.method == CalibrationMethod::kPercentile) {
    std::vector<float> magnitudes(values.size());
    for (size_t i = 0; i < values.size(); ++i) magnitudes[i] = std::fabs(values[i]);
    const double rank = o.percentile / 100.0 * static_cast<double>(magnitudes.size() - 1);
    const size_t index = static_cast<size_t>(std::ceil(rank));
    std::nth_element(magnitudes.begin(), magnitudes.begin() + static_cast<std::ptrdiff_t>(index), magnitudes.end());
    const float t = magnitudes[index];
    return t > 0.0f ? t : amax;
  }
  float best = amax;
  double best_error = GroupError(values, amax / static_cast<float>(qmax), qmin, qmax);
  for (int step = 1; step < o.mse_steps; ++step) {
    const float t = amax * (1.0f - 0.5f * static_cast<float>(step) / static_cast<float>(o.mse_steps));
    const double error = GroupError(values, t / static_cast<float>(qmax), qmin, qmax);
    if (error < best_error) {
      best_error = error;
      best = t;
    }
  }
  return best;
}

}  // namespace detail

// Chooses a symmetric scale per group of w (threshold / qmax, qmax = 127 or 7; an all-zero group
// gets scale 1) and writes the scales and the quantized values into q
// (q = clamp(round_half_even(w / scale), qmin, qmax), ek::Quantize's rule with the stored scale).
inline Status QuantizeWeights(const TensorView& w, bool transpose, const TensorView& q,
                              const CalibrationOptions& o = CalibrationOptions()) {
  detail::WeightGroups g;
  EK_RETURN_IF_ERROR(detail::ValidateCalibration(w, transpose, q, &g));
  if (o.method == CalibrationMethod::kPercentile && !(o.percentile > 0.0 && o.percentile <= 100.0)) {
    return detail::InvalidArg("options.percentile", "must be in (0, 100]");
  }
  if (o.method == CalibrationMethod::kMse && o.mse_steps < 1) return detail::InvalidArg("options.mse_steps", "must be >= 1");
  const int32_t qmax = q.dtype == DType::kI8 ? 127 : 7;
  const int32_t qmin = o.narrow_range ? -qmax : -qmax - 1;
  const float* src = static_cast<const float*>(w.memory.host);
  // Every input is checked before anything is written: on error q and its scales stay untouched.
  for (int64_t j = 0; j < g.n; ++j) {
    for (int64_t k = 0; k < g.k; ++k) {
      if (!std::isfinite(src[detail::ElementAt(w, transpose, k, j)])) {
        return Status::Error(StatusCode::kInvalidArgument, "w: element (%lld, %lld) is not finite",
                             static_cast<long long>(transpose ? j : k), static_cast<long long>(transpose ? k : j));
      }
    }
  }
  for (int64_t j = 0; j < g.n; ++j) {
    for (int64_t b = 0; b < g.blocks; ++b) {
      const int64_t k0 = b * g.block, k1 = std::min(g.k, k0 + g.block);
      std::vector<float> values;
      values.reserve(static_cast<size_t>(k1 - k0));
      for (int64_t k = k0; k < k1; ++k) values.push_back(src[detail::ElementAt(w, transpose, k, j)]);
      const float threshold = detail::ChooseThreshold(values, o, qmin, qmax);
      float scale = threshold > 0.0f ? threshold / static_cast<float>(qmax) : 1.0f;
      // Tiny thresholds: keep the scale representable and nonzero in its type (f16: 2^-24).
      const float min_scale = q.quant.scale_type == DType::kF16 ? 5.96046448e-08f : 1e-30f;
      if (!(scale >= min_scale)) scale = min_scale;
      scale = detail::StoreScale(q, detail::ScaleIndex(q, transpose, g, j, b), scale);
      const float inv = ref::InverseScale(scale);
      for (int64_t k = k0; k < k1; ++k) {
        const int32_t v = detail::QuantizeSymmetric(values[static_cast<size_t>(k - k0)], inv, qmin, qmax);
        const int64_t e = detail::ElementAt(q, transpose, k, j);
        if (q.dtype == DType::kI4) {
          SetI4(q.memory.host, e, v);
        } else {
          static_cast<int8_t*>(q.memory.host)[e] = static_cast<int8_t>(v);
        }
      }
    }
  }
  return Status::Ok();
}

// SQNR and max absolute error of q (values and scales as QuantizeWeights wrote them, or any
// valid quantized weights) against w, overall and per group (column, or column x block; group
// index = ScaleIndex order: per axis j, per block as the scale array). per_group may be null.
inline Status MeasureQuantError(const TensorView& w, const TensorView& q, bool transpose, QuantError* overall,
                                QuantError* per_group = nullptr, size_t groups = 0) {
  detail::WeightGroups g;
  EK_RETURN_IF_ERROR(detail::ValidateCalibration(w, transpose, q, &g));
  EK_RETURN_IF_ERROR(ValidateQuant(q, "q"));
  if (overall == nullptr) return detail::InvalidArg("overall", "is null");
  if (per_group != nullptr && groups < static_cast<size_t>(g.Count())) {
    return Status::Error(StatusCode::kInvalidArgument, "groups: %zu, q has %lld", groups,
                         static_cast<long long>(g.Count()));
  }
  const float* src = static_cast<const float*>(w.memory.host);
  double signal_all = 0.0, noise_all = 0.0, max_all = 0.0;
  const auto sqnr = [](double signal, double noise) {
    return noise > 0.0 ? 10.0 * std::log10(signal / noise) : HUGE_VAL;
  };
  for (int64_t j = 0; j < g.n; ++j) {
    for (int64_t b = 0; b < g.blocks; ++b) {
      double signal = 0.0, noise = 0.0, max_abs = 0.0;
      for (int64_t k = b * g.block; k < std::min(g.k, (b + 1) * g.block); ++k) {
        const double x = src[detail::ElementAt(w, transpose, k, j)];
        const double deq = static_cast<double>(detail::WeightAt(q, transpose, k, j)) *
                           static_cast<double>(detail::WeightScaleAt(q, transpose, k, j));
        signal += x * x;
        noise += (x - deq) * (x - deq);
        max_abs = std::max(max_abs, std::fabs(x - deq));
      }
      if (per_group) {
        QuantError& e = per_group[detail::ScaleIndex(q, transpose, g, j, b)];
        e.sqnr_db = sqnr(signal, noise);
        e.max_abs = max_abs;
      }
      signal_all += signal;
      noise_all += noise;
      max_all = std::max(max_all, max_abs);
    }
  }
  overall->sqnr_db = sqnr(signal_all, noise_all);
  overall->max_abs = max_all;
  return Status::Ok();
}

}  // namespace ek

#endif  // EK_CALIBRATE_H_

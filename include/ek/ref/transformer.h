// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Scalar reference for the transformer block ops (ek/transformer.h), the specification: each
// op's formula evaluated in double from the f32 inputs and rounded to f32 once. ek's kernels
// compute in f32 (vector sums in lane order, a vector exp) and stay within the bounds below,
// each an absolute bound on one output element; u = 2^-24, n the row's length. They hold for
// finite inputs (softmax: or -inf) whose f32 sums do not overflow or underflow: n max x^2 <
// 2^127 for the norms, squares above 2^-126 where they matter. NaN or +inf inputs give
// unspecified results, which may differ between targets (as for attention's mask).
//
//   RmsNorm    |err| <= (n + 16) u |ref|
//   LayerNorm  |err| <= (n + 16) u (inv |gamma| (|x - mean| + mean|x|) + |beta|)
//              (inv = 1 / sqrt(var + eps), mean|x| the row's mean absolute value)
//   Softmax    |err| <= (n + 24 + 12 max|s x|) u ref + 2^-126
//   Rope       |err| <= 2^-23 (|x0 c| + |x1 s|) + u (|x0| + |x1|) for the pair's first
//              output, 2^-23 (|x1 c| + |x0 s|) + u (|x0| + |x1|) for its second
//   SiLU       |err| <= 24 u |ref| + 2^-100
//   GELU-tanh  |err| <= (24 + 8 |z|) u |ref| + 2^-100, z = 2 sqrt(2/pi) (g + 0.044715 g^3)
//   GELU-erf   |err| <= (32 + 2 g^2) u |ref| + 2^-100
//              (the absolute terms: results of g < -87 or so, where exp(g)'s f32 underflows)
//
// The tests check every element of every target against these bounds, and that an error of one
// part in a thousand exceeds them (for rows up to a few thousand elements; the n terms grow
// with n).
#ifndef EK_REF_TRANSFORMER_H_
#define EK_REF_TRANSFORMER_H_

#include <cmath>
#include <cstdint>

#include "ek/tensor.h"
#include "ek/transformer_options.h"

namespace ek {
namespace ref {

constexpr double kTransformerUnit = 1.0 / (1 << 24);  // u

// Element offset (with the view's offset) of row `row` of v, its rows the last axis in row-major
// order of the other axes.
inline int64_t RowStart(const TensorView& v, int64_t row) {
  int64_t e = v.offset;
  for (int d = v.rank - 2; d >= 0; --d) {
    e += (row % v.shape[d]) * v.strides[d];
    row /= v.shape[d];
  }
  return e;
}

// Every row of x (the last axis) with its output row: fn(row, x_row, out_row, n) on element
// pointers (views assumed valid, f32, unit stride along the last axis).
template <class Fn>
void ForEachRow(const TensorView& x, const TensorView& out, const Fn& fn) {
  const int64_t n = x.shape[x.rank - 1];
  const int64_t rows = x.NumElements() / n;
  for (int64_t row = 0; row < rows; ++row) {
    fn(row, static_cast<const float*>(x.memory.host) + RowStart(x, row),
       static_cast<float*>(out.memory.host) + RowStart(out, row), n);
  }
}

// Element i of an optional [n] parameter, or `absent`.
inline double Param(const TensorView& p, int64_t i, double absent) {
  if (p.rank == 0) return absent;
  return static_cast<const float*>(p.memory.host)[p.offset + i * p.strides[0]];
}

inline void RmsNorm(const TensorView& x, const TensorView& weight, const TensorView& out, const RmsNormOptions& o) {
  ForEachRow(x, out, [&](int64_t, const float* xr, float* orow, int64_t n) {
    double sum_squares = 0.0;
    for (int64_t i = 0; i < n; ++i) sum_squares += static_cast<double>(xr[i]) * xr[i];
    const double inv = 1.0 / std::sqrt(sum_squares / static_cast<double>(n) + o.epsilon);
    for (int64_t i = 0; i < n; ++i) orow[i] = static_cast<float>(xr[i] * inv * (Param(weight, i, 1.0) + (weight.rank ? o.weight_offset : 0.0)));
  });
}

// The row's mean, mean absolute value and 1 / sqrt(variance + epsilon), in double.
struct LayerNormStats {
  double mean = 0.0, mean_abs = 0.0, inv = 0.0;
};
inline LayerNormStats LayerNormRowStats(const float* xr, int64_t n, float epsilon) {
  LayerNormStats s;
  for (int64_t i = 0; i < n; ++i) {
    s.mean += xr[i];
    s.mean_abs += std::fabs(static_cast<double>(xr[i]));
  }
  s.mean /= static_cast<double>(n);
  s.mean_abs /= static_cast<double>(n);
  double variance = 0.0;
  for (int64_t i = 0; i < n; ++i) variance += (xr[i] - s.mean) * (xr[i] - s.mean);
  s.inv = 1.0 / std::sqrt(variance / static_cast<double>(n) + epsilon);
  return s;
}

inline void LayerNorm(const TensorView& x, const TensorView& gamma, const TensorView& beta, const TensorView& out,
                      const LayerNormOptions& o) {
  ForEachRow(x, out, [&](int64_t, const float* xr, float* orow, int64_t n) {
    const LayerNormStats s = LayerNormRowStats(xr, n, o.epsilon);
    for (int64_t i = 0; i < n; ++i) {
      orow[i] = static_cast<float>((xr[i] - s.mean) * s.inv * Param(gamma, i, 1.0) + Param(beta, i, 0.0));
    }
  });
}

inline void Softmax(const TensorView& x, const TensorView& out, const SoftmaxOptions& o) {
  ForEachRow(x, out, [&](int64_t, const float* xr, float* orow, int64_t n) {
    double max = -HUGE_VAL;
    for (int64_t i = 0; i < n; ++i) max = std::fmax(max, static_cast<double>(o.scale) * xr[i]);
    if (max == -HUGE_VAL) {
      for (int64_t i = 0; i < n; ++i) orow[i] = 0.0f;
      return;
    }
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(o.scale) * xr[i] - max);
    for (int64_t i = 0; i < n; ++i) orow[i] = static_cast<float>(std::exp(static_cast<double>(o.scale) * xr[i] - max) / sum);
  });
}

// act(g) in double.
inline double GateActivationOf(GateActivation a, double g) {
  switch (a) {
    case GateActivation::kSilu: return g / (1.0 + std::exp(-g));
    // 0.5 g (1 + tanh(y)) = g / (1 + exp(-2y)), and 0.5 g (1 + erf(t)) = 0.5 g erfc(-t): the same
    // functions without the cancellation of 1 + tanh and 1 + erf for g < 0, even in double.
    case GateActivation::kGeluTanh:
      return g / (1.0 + std::exp(-2.0 * std::sqrt(2.0 / 3.14159265358979323846) * (g + 0.044715 * g * g * g)));
    case GateActivation::kGeluErf: return 0.5 * g * std::erfc(-g / std::sqrt(2.0));
  }
  return 0.0;
}

// The bound above for one element (ref: the reference's output, g: the gate).
inline double GateErrorBound(GateActivation a, double g, double ref) {
  double factor = 24.0;
  if (a == GateActivation::kGeluTanh) {
    factor += 8.0 * std::fabs(2.0 * std::sqrt(2.0 / 3.14159265358979323846) * (g + 0.044715 * g * g * g));
  }
  if (a == GateActivation::kGeluErf) factor = 32.0 + 2.0 * g * g;
  return factor * kTransformerUnit * std::fabs(ref) + 0x1p-100;
}

// gate, up (rank 0: absent) and out of the same shape.
inline void GatedActivation(const TensorView& gate, const TensorView& up, const TensorView& out,
                            const GatedActivationOptions& o) {
  ForEachRow(gate, out, [&](int64_t row, const float* g, float* orow, int64_t n) {
    const float* u = up.rank != 0 ? static_cast<const float*>(up.memory.host) + RowStart(up, row) : nullptr;
    for (int64_t i = 0; i < n; ++i) {
      orow[i] = static_cast<float>(GateActivationOf(o.activation, g[i]) * (u != nullptr ? u[i] : 1.0));
    }
  });
}

// The angle of pair i of a token at `position`: position x freq_scale x inv_frequency[i].
inline double RopeAngle(const RopeOptions& o, int64_t rotary_dims, int64_t position, int64_t i) {
  const double inv_frequency = o.inv_frequencies.rank != 0
                                   ? Param(o.inv_frequencies, i, 0.0)
                                   : std::pow(static_cast<double>(o.theta_base), -2.0 * i / static_cast<double>(rotary_dims));
  return static_cast<double>(position) * o.freq_scale * inv_frequency;
}

// Element indices (within a head) of pair i.
inline void RopePair(RopeStyle style, int64_t rotary_dims, int64_t i, int64_t* first, int64_t* second) {
  *first = style == RopeStyle::kNeox ? i : 2 * i;
  *second = style == RopeStyle::kNeox ? i + rotary_dims / 2 : 2 * i + 1;
}

// x, out: f32 [tokens, heads, head_dim]; rotary_dims resolved (0 -> head_dim). The rotation by
// the angle's cos and sin rounded to f32, in double; the rest of each head copied. When
// `bound` is not null it gets, per element of out (dense [tokens, heads, head_dim]), the bound.
inline void Rope(const TensorView& x, const TensorView& out, const RopeOptions& o, double* bound = nullptr) {
  const int64_t tokens = x.shape[0], heads = x.shape[1], head_dim = x.shape[2];
  const int64_t rot = o.rotary_dims == 0 ? head_dim : o.rotary_dims;
  const float* xs = static_cast<const float*>(x.memory.host);
  float* os = static_cast<float*>(out.memory.host);
  for (int64_t t = 0; t < tokens; ++t) {
    const int64_t position = o.positions.rank != 0
                                 ? static_cast<const int32_t*>(o.positions.memory.host)[o.positions.offset + t * o.positions.strides[0]]
                                 : o.position_offset + t;
    for (int64_t h = 0; h < heads; ++h) {
      const float* xh = xs + x.offset + t * x.strides[0] + h * x.strides[1];
      float* oh = os + out.offset + t * out.strides[0] + h * out.strides[1];
      double* bh = bound != nullptr ? bound + (t * heads + h) * head_dim : nullptr;
      for (int64_t j = rot; j < head_dim; ++j) {
        oh[j] = xh[j];
        if (bh != nullptr) bh[j] = 0.0;
      }
      for (int64_t i = 0; i < rot / 2; ++i) {
        const double angle = RopeAngle(o, rot, position, i);
        const double c = static_cast<float>(std::cos(angle)), s = static_cast<float>(std::sin(angle));
        int64_t a = 0, b = 0;
        RopePair(o.style, rot, i, &a, &b);
        const double x0 = xh[a], x1 = xh[b];
        oh[a] = static_cast<float>(x0 * c - x1 * s);
        oh[b] = static_cast<float>(x1 * c + x0 * s);
        if (bh != nullptr) {
          bh[a] = 2.0 * kTransformerUnit * (std::fabs(x0 * c) + std::fabs(x1 * s)) + kTransformerUnit * (std::fabs(x0) + std::fabs(x1));
          bh[b] = 2.0 * kTransformerUnit * (std::fabs(x1 * c) + std::fabs(x0 * s)) + kTransformerUnit * (std::fabs(x0) + std::fabs(x1));
        }
      }
    }
  }
}

}  // namespace ref
}  // namespace ek

#endif  // EK_REF_TRANSFORMER_H_

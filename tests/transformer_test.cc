// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// The transformer block ops (ek/transformer.h: RMSNorm, LayerNorm, softmax, the gated
// activation, RoPE) against the reference (ek/ref/transformer.h), every element within the
// reference's documented bound, on every compiled target this CPU supports: row lengths around
// the vector widths, strided and sliced views, every option, -inf and fully masked softmax rows,
// both RoPE styles with partial rotation, position tables and frequency tables, bitwise
// identity across thread counts, memory outside the output untouched, that the bounds catch an
// error of one part in a thousand, and every validation rule. [random]: randomized cases.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "ek/parallel.h"
#include "ek/ref/transformer.h"
#include "ek/transformer.h"
#include "test_util.h"

namespace {

using ek::DType;
using ek::GateActivation;
using ek::RopeStyle;
using ek::StatusCode;
using ek::TensorView;
using ek_test::ExpectError;
using ek_test::kGuardBits;
using ek_test::Rng;

enum class Op { kRmsNorm, kLayerNorm, kSoftmax, kGate };

const char* OpName(Op op) {
  switch (op) {
    case Op::kRmsNorm: return "RmsNorm";
    case Op::kLayerNorm: return "LayerNorm";
    case Op::kSoftmax: return "Softmax";
    case Op::kGate: return "GatedActivation";
  }
  return "?";
}

// A view of `shape` over a buffer of its own, each dimension's stride padded by pad[d] elements
// (pad of the last axis: the gap after each row). Filled by fill(rng) or with guard bits.
struct Operand {
  std::vector<float> data;
  TensorView view;
  template <class Fill>
  Operand(const std::vector<int64_t>& shape, const std::vector<int64_t>& pad, const Fill& fill) {
    const int rank = static_cast<int>(shape.size());
    int64_t strides[ek::kMaxRank];
    int64_t stride = 1;
    for (int d = rank - 1; d >= 0; --d) {
      strides[d] = stride;
      stride = stride * shape[static_cast<size_t>(d)] + pad[static_cast<size_t>(d)];
    }
    data.resize(static_cast<size_t>(stride + 1));
    for (float& x : data) x = fill();
    view = TensorView::Host(DType::kF32, data.data(), {1});
    view.rank = rank;
    for (int d = 0; d < rank; ++d) {
      view.shape[d] = shape[static_cast<size_t>(d)];
      view.strides[d] = strides[d];
    }
  }
};

float Guard() {
  float g;
  std::memcpy(&g, &kGuardBits, 4);
  return g;
}

// Element offsets of the rows of a view (its last axis).
std::vector<int64_t> RowStarts(const TensorView& v) {
  std::vector<int64_t> starts;
  for (int64_t row = 0; row < v.NumElements() / v.shape[v.rank - 1]; ++row) starts.push_back(ek::ref::RowStart(v, row));
  return starts;
}

struct RowCase {
  Op op = Op::kRmsNorm;
  std::vector<int64_t> shape;
  std::vector<int64_t> pad_x, pad_out;
  bool weight = true, bias = true, up = true;
  float weight_offset = 0.0f, epsilon = 1e-5f, scale = 1.0f;
  GateActivation activation = GateActivation::kSilu;
  float lo = -4.0f, hi = 4.0f;  // x's values
  float shift = 0.0f;           // added to x (LayerNorm: a large mean)
  int minus_inf_every = 0;      // softmax: every k-th entry -inf; row 1 all -inf when k == 1
};

// Compares out with the reference's output within bound (both in out's layout); the guard
// elements untouched. Returns the number of elements for which an error of 1e-3 x |want|
// would have exceeded the bound (the bound's power to catch a wrong kernel).
int CheckWithin(const std::vector<float>& out, const std::vector<float>& want, const std::vector<double>& bound,
                const char* what, int* detectable) {
  int failures = 0;
  *detectable = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    if (ek_test::Bits(want[i]) == kGuardBits) {
      if (ek_test::Bits(out[i]) != kGuardBits && failures++ < 3) FAIL_CHECK(what << ": element " << i << " outside the output written");
      continue;
    }
    const double err = std::fabs(static_cast<double>(out[i]) - want[i]);
    if (!(err <= bound[i]) && failures++ < 3) {
      FAIL_CHECK(what << ": element " << i << " = " << out[i] << ", want " << want[i] << " within " << bound[i]);
    }
    if (1e-3 * std::fabs(static_cast<double>(want[i])) > bound[i]) ++*detectable;
  }
  return failures;
}

// Runs one row op on the selected target and checks it; returns the output buffer.
std::vector<float> RunRowCase(const RowCase& c, uint64_t seed, const ek::Context& ctx, int* detectable = nullptr,
                              int* checked = nullptr) {
  Rng rng(seed);
  const std::vector<int64_t> flat(c.shape.size(), 0);
  Operand x(c.shape, c.pad_x.empty() ? flat : c.pad_x, [&] { return c.shift + rng.Uniform(c.lo, c.hi); });
  Operand up(c.shape, flat, [&] { return rng.Uniform(-2.0f, 2.0f); });
  Operand out(c.shape, c.pad_out.empty() ? flat : c.pad_out, Guard);
  Operand want(c.shape, c.pad_out.empty() ? flat : c.pad_out, Guard);
  const int64_t n = c.shape.back();
  std::vector<float> weight(static_cast<size_t>(n)), bias(static_cast<size_t>(n));
  for (float& w : weight) w = rng.Uniform(0.5f, 1.5f) * (rng.Int(0, 3) == 0 ? -1.0f : 1.0f);
  for (float& b : bias) b = rng.Uniform(-1.0f, 1.0f);
  const std::vector<int64_t> x_rows = RowStarts(x.view), out_rows = RowStarts(out.view);
  if (c.minus_inf_every > 0) {
    for (size_t r = 0; r < x_rows.size(); ++r) {
      for (int64_t i = 0; i < n; ++i) {
        if ((c.minus_inf_every == 1 && r == 1) || (c.minus_inf_every > 1 && (i + static_cast<int64_t>(r)) % c.minus_inf_every == 0)) {
          x.data[static_cast<size_t>(x_rows[r] + i)] = -HUGE_VALF;
        }
      }
    }
  }
  const TensorView w_view = c.weight ? TensorView::Host(DType::kF32, weight.data(), {n}) : TensorView();
  const TensorView b_view = c.bias ? TensorView::Host(DType::kF32, bias.data(), {n}) : TensorView();
  const TensorView up_view = c.up ? up.view : TensorView();
  ek::Status st;
  std::vector<double> bound(out.data.size(), 0.0);
  switch (c.op) {
    case Op::kRmsNorm: {
      ek::RmsNormOptions o;
      o.epsilon = c.epsilon;
      o.weight_offset = c.weight_offset;
      st = ek::RmsNorm(x.view, w_view, out.view, o, ctx);
      ek::ref::RmsNorm(x.view, w_view, want.view, o);
      for (size_t r = 0; r < out_rows.size(); ++r) {
        for (int64_t i = 0; i < n; ++i) {
          const size_t e = static_cast<size_t>(out_rows[r] + i);
          bound[e] = (n + 16) * ek::ref::kTransformerUnit * std::fabs(static_cast<double>(want.data[e]));
        }
      }
      break;
    }
    case Op::kLayerNorm: {
      ek::LayerNormOptions o;
      o.epsilon = c.epsilon;
      st = ek::LayerNorm(x.view, w_view, b_view, out.view, o, ctx);
      ek::ref::LayerNorm(x.view, w_view, b_view, want.view, o);
      for (size_t r = 0; r < out_rows.size(); ++r) {
        const float* xr = x.data.data() + x_rows[r];
        const ek::ref::LayerNormStats s = ek::ref::LayerNormRowStats(xr, n, o.epsilon);
        for (int64_t i = 0; i < n; ++i) {
          const double g = c.weight ? std::fabs(weight[static_cast<size_t>(i)]) : 1.0;
          const double b = c.bias ? std::fabs(bias[static_cast<size_t>(i)]) : 0.0;
          bound[static_cast<size_t>(out_rows[r] + i)] =
              (n + 16) * ek::ref::kTransformerUnit * (s.inv * g * (std::fabs(xr[i] - s.mean) + s.mean_abs) + b);
        }
      }
      break;
    }
    case Op::kSoftmax: {
      ek::SoftmaxOptions o;
      o.scale = c.scale;
      st = ek::Softmax(x.view, out.view, o, ctx);
      ek::ref::Softmax(x.view, want.view, o);
      for (size_t r = 0; r < out_rows.size(); ++r) {
        double max_abs = 0.0;
        for (int64_t i = 0; i < n; ++i) {
          const double v = static_cast<double>(c.scale) * x.data[static_cast<size_t>(x_rows[r] + i)];
          if (std::isfinite(v)) max_abs = std::max(max_abs, std::fabs(v));
        }
        for (int64_t i = 0; i < n; ++i) {
          const size_t e = static_cast<size_t>(out_rows[r] + i);
          bound[e] = (n + 24 + 12 * max_abs) * ek::ref::kTransformerUnit * want.data[e] + 0x1p-126;
        }
      }
      break;
    }
    case Op::kGate: {
      ek::GatedActivationOptions o;
      o.activation = c.activation;
      st = ek::GatedActivation(x.view, up_view, out.view, o, ctx);
      ek::ref::GatedActivation(x.view, up_view, want.view, o);
      const std::vector<int64_t> up_rows = RowStarts(up.view);
      for (size_t r = 0; r < out_rows.size(); ++r) {
        for (int64_t i = 0; i < n; ++i) {
          const size_t e = static_cast<size_t>(out_rows[r] + i);
          bound[e] = ek::ref::GateErrorBound(c.activation, x.data[static_cast<size_t>(x_rows[r] + i)], want.data[e]);
        }
      }
      break;
    }
  }
  INFO(OpName(c.op) << ": " << st.message());
  REQUIRE(st.ok());
  int detect = 0;
  CHECK(CheckWithin(out.data, want.data, bound, OpName(c.op), &detect) == 0);
  if (detectable != nullptr) *detectable += detect;
  if (checked != nullptr) *checked += static_cast<int>(x_rows.size() * static_cast<size_t>(n));
  return out.data;
}

const int64_t kLengths[] = {1, 2, 3, 4, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 255, 257, 1000, 2048, 4099};

TEST_CASE("Transformer row ops: every length, every option, within the bounds, every target", "[transformer]") {
  ek_test::ForEachTarget([&](int64_t target) {
    INFO("target " << ek::TargetName(target));
    uint64_t seed = 1;
    for (int64_t n : kLengths) {
      INFO("n " << n);
      for (Op op : {Op::kRmsNorm, Op::kLayerNorm, Op::kSoftmax, Op::kGate}) {
        RowCase c;
        c.op = op;
        c.shape = {3, n};
        c.weight = n % 2 == 0;
        c.bias = n % 3 != 0;
        c.up = n % 2 == 1;
        c.weight_offset = n % 4 == 0 ? 1.0f : 0.0f;
        c.activation = static_cast<GateActivation>(n % 3);
        if (op == Op::kGate) c.lo = -12.0f, c.hi = 12.0f;
        RunRowCase(c, ++seed, ek::Context());
      }
    }
  });
}

TEST_CASE("Transformer row ops: strided and sliced views, ranks 1..5, special values", "[transformer]") {
  ek_test::ForEachTarget([&](int64_t target) {
    INFO("target " << ek::TargetName(target));
    uint64_t seed = 100;
    for (Op op : {Op::kRmsNorm, Op::kLayerNorm, Op::kSoftmax, Op::kGate}) {
      RowCase c;
      c.op = op;
      c.shape = {2, 3, 37};  // gaps after rows and after planes, in x and in out
      c.pad_x = {0, 5, 3};
      c.pad_out = {0, 2, 1};
      RunRowCase(c, ++seed, ek::Context());
      c.shape = {77};  // rank 1
      c.pad_x = c.pad_out = {};
      RunRowCase(c, ++seed, ek::Context());
      c.shape = {2, 1, 2, 1, 19};  // rank 5
      c.pad_out = {0, 0, 3, 0, 2};
      RunRowCase(c, ++seed, ek::Context());
    }
    RowCase ln;  // LayerNorm of rows with a large mean: the variance around the mean, not E[x^2] - mean^2
    ln.op = Op::kLayerNorm;
    ln.shape = {4, 300};
    ln.shift = 1000.0f;
    ln.lo = -0.5f, ln.hi = 0.5f;
    RunRowCase(ln, ++seed, ek::Context());
    RowCase rms;  // Gemma's weight offset; large and small rows
    rms.op = Op::kRmsNorm;
    rms.shape = {2, 2048};
    rms.weight_offset = 1.0f;
    rms.lo = -300.0f, rms.hi = 300.0f;
    RunRowCase(rms, ++seed, ek::Context());
    rms.lo = -1e-3f, rms.hi = 1e-3f;
    rms.epsilon = 1e-6f;
    RunRowCase(rms, ++seed, ek::Context());
    RowCase sm;  // softmax: masked entries, a fully masked row, temperatures, wide logits
    sm.op = Op::kSoftmax;
    sm.shape = {3, 129};
    sm.minus_inf_every = 3;
    RunRowCase(sm, ++seed, ek::Context());
    sm.minus_inf_every = 1;  // row 1 all -inf: zeros
    const std::vector<float> masked = RunRowCase(sm, ++seed, ek::Context());
    for (int64_t i = 0; i < 129; ++i) CHECK(masked[static_cast<size_t>(129 + i)] == 0.0f);
    sm.minus_inf_every = 0;
    sm.scale = 0.125f;
    sm.lo = -60.0f, sm.hi = 60.0f;
    RunRowCase(sm, ++seed, ek::Context());
    sm.scale = 2.0f;
    RunRowCase(sm, ++seed, ek::Context());
    RowCase gate;  // activations far into both tails, and around 0
    gate.op = Op::kGate;
    gate.shape = {2, 515};
    for (GateActivation a : {GateActivation::kSilu, GateActivation::kGeluTanh, GateActivation::kGeluErf}) {
      gate.activation = a;
      gate.lo = -90.0f, gate.hi = 90.0f;
      RunRowCase(gate, ++seed, ek::Context());
      gate.lo = -1e-3f, gate.hi = 1e-3f;
      RunRowCase(gate, ++seed, ek::Context());
      gate.lo = -6.0f, gate.hi = 6.0f;
      gate.up = false;
      RunRowCase(gate, ++seed, ek::Context());
      gate.up = true;
    }
  });
}

TEST_CASE("Transformer row ops: the bounds catch an error of one part in a thousand", "[transformer]") {
  // Most elements of typical rows would fail their bound if off by 1e-3 relative, so a kernel
  // with a wrong constant, a dropped term or a wrong scale fails the tests above.
  for (Op op : {Op::kRmsNorm, Op::kLayerNorm, Op::kSoftmax, Op::kGate}) {
    RowCase c;
    c.op = op;
    c.shape = {4, 1024};
    c.lo = -3.0f, c.hi = 3.0f;
    for (int a = 0; a < (op == Op::kGate ? 3 : 1); ++a) {
      c.activation = static_cast<GateActivation>(a);
      int detectable = 0, checked = 0;
      RunRowCase(c, 7 + static_cast<uint64_t>(a), ek::Context(), &detectable, &checked);
      INFO(OpName(op) << " activation " << a << ": " << detectable << " of " << checked);
      CHECK(detectable >= checked * 9 / 10);
    }
  }
}

TEST_CASE("Transformer row ops: bitwise identical for any thread count", "[transformer]") {
  ek::ThreadPool pool(3);
  ek::Context threaded;
  threaded.threads = pool.Hook();
  for (Op op : {Op::kRmsNorm, Op::kLayerNorm, Op::kSoftmax, Op::kGate}) {
    RowCase c;
    c.op = op;
    c.shape = {64, 1000};
    const std::vector<float> serial = RunRowCase(c, 5, ek::Context());
    const std::vector<float> parallel = RunRowCase(c, 5, threaded);
    CHECK(ek_test::SameBits(serial.data(), parallel.data(), serial.size() * sizeof(float)));
  }
}

// ---- RoPE ---------------------------------------------------------------------------------------

struct RopeCase {
  int64_t tokens = 3, heads = 4, head_dim = 64;
  int64_t head_pad = 0, token_pad = 0;  // gaps in x (a slice of a fused QKV buffer)
  bool head_major_out = false;          // out as [heads, tokens, d] viewed as [tokens, heads, d]
  ek::RopeOptions options;
  std::vector<int32_t> positions;        // non-empty: options.positions
  std::vector<float> inv_frequencies;    // non-empty: options.inv_frequencies
};

std::vector<float> RunRopeCase(RopeCase c, uint64_t seed, const ek::Context& ctx) {
  Rng rng(seed);
  const int64_t d = c.head_dim;
  Operand x({c.tokens, c.heads, d}, {0, c.token_pad, c.head_pad}, [&] { return rng.Uniform(-3.0f, 3.0f); });
  Operand out({c.tokens, c.heads, d}, {0, 0, 0}, Guard);
  Operand want({c.tokens, c.heads, d}, {0, 0, 0}, Guard);
  if (c.head_major_out) {
    out.view = out.view.WithStrides({d, c.tokens * d, 1});
    want.view = want.view.WithStrides({d, c.tokens * d, 1});
  }
  if (!c.positions.empty()) c.options.positions = TensorView::Host(DType::kI32, c.positions.data(), {c.tokens});
  if (!c.inv_frequencies.empty()) {
    c.options.inv_frequencies =
        TensorView::Host(DType::kF32, c.inv_frequencies.data(), {static_cast<int64_t>(c.inv_frequencies.size())});
  }
  const ek::Status st = ek::Rope(x.view, out.view, c.options, ctx);
  INFO(st.message());
  REQUIRE(st.ok());
  std::vector<double> dense_bound(static_cast<size_t>(c.tokens * c.heads * d));
  ek::ref::Rope(x.view, want.view, c.options, dense_bound.data());
  std::vector<double> bound(out.data.size(), 0.0);
  for (int64_t t = 0; t < c.tokens; ++t) {
    for (int64_t h = 0; h < c.heads; ++h) {
      for (int64_t j = 0; j < d; ++j) {
        bound[static_cast<size_t>(t * out.view.strides[0] + h * out.view.strides[1] + j)] =
            dense_bound[static_cast<size_t>((t * c.heads + h) * d + j)];
      }
    }
  }
  int detectable = 0;
  CHECK(CheckWithin(out.data, want.data, bound, "Rope", &detectable) == 0);
  if (c.options.rotary_dims == 0) CHECK(detectable >= static_cast<int>(c.tokens * c.heads * d) / 2);
  return out.data;
}

TEST_CASE("Rope: both styles, head dims, partial rotation, positions, frequency tables, every target", "[transformer]") {
  ek_test::ForEachTarget([&](int64_t target) {
    INFO("target " << ek::TargetName(target));
    uint64_t seed = 300;
    for (RopeStyle style : {RopeStyle::kNeox, RopeStyle::kGptj}) {
      for (int64_t d : {2, 6, 16, 64, 80, 96, 128, 256}) {
        INFO("style " << static_cast<int>(style) << " head_dim " << d);
        RopeCase c;
        c.head_dim = d;
        c.options.style = style;
        c.options.position_offset = 5;
        RunRopeCase(c, ++seed, ek::Context());
        c.options.rotary_dims = d >= 16 ? d / 4 : 2;  // partial: the rest copied
        c.head_pad = 3;
        c.token_pad = 7;
        RunRopeCase(c, ++seed, ek::Context());
      }
      RopeCase c;  // decode: one token at a large position, with linear scaling, head-major out
      c.tokens = 1;
      c.heads = 32;
      c.head_dim = 128;
      c.options.style = style;
      c.options.position_offset = 131071;
      c.options.freq_scale = 0.25f;
      c.options.theta_base = 500000.0f;
      c.head_major_out = true;
      RunRopeCase(c, ++seed, ek::Context());
      RopeCase p;  // explicit positions and a frequency table (Llama 3's rescaled frequencies)
      p.tokens = 5;
      p.heads = 2;
      p.head_dim = 64;
      p.options.style = style;
      p.positions = {0, 7, 7, 4096, 2000000000};
      for (int i = 0; i < 32; ++i) p.inv_frequencies.push_back(std::pow(10000.0f, -i / 32.0f) / (i > 20 ? 8.0f : 1.0f));
      RunRopeCase(p, ++seed, ek::Context());
    }
  });
}

TEST_CASE("Softmax: logits whose scaled values overflow f32 still give a distribution", "[transformer]") {
  // scale x overflows here (2 x 3e38), scale (x - max) does not.
  std::vector<float> x = {3e38f, 2.9e38f, -3e38f, -3e38f, -3e38f, -3e38f}, out(6, -1.0f);
  ek::SoftmaxOptions o;
  o.scale = 2.0f;
  ek_test::ForEachTarget([&](int64_t target) {
    INFO("target " << ek::TargetName(target));
    REQUIRE(ek::Softmax(TensorView::Host(DType::kF32, x.data(), {3, 2}), TensorView::Host(DType::kF32, out.data(), {3, 2}), o).ok());
    CHECK(out[0] == 1.0f);  // exp(2 x (2.9e38 - 3e38)) underflows to 0
    CHECK(out[1] == 0.0f);
    for (int i = 2; i < 6; ++i) CHECK(out[static_cast<size_t>(i)] == 0.5f);  // equal logits: uniform
  });
}

TEST_CASE("Rope: position 0 is the identity", "[transformer]") {
  RopeCase c;
  c.tokens = 2;
  c.heads = 1;
  c.positions = {0, 0};
  const std::vector<float> out = RunRopeCase(c, 9, ek::Context());
  Rng rng(9);  // the same x as RunRopeCase drew
  for (size_t i = 0; i < 128; ++i) CHECK(out[i] == rng.Uniform(-3.0f, 3.0f));
}

TEST_CASE("Rope: bitwise identical for any thread count", "[transformer]") {
  ek::ThreadPool pool(3);
  ek::Context threaded;
  threaded.threads = pool.Hook();
  RopeCase c;
  c.tokens = 300;
  c.heads = 8;
  c.options.style = RopeStyle::kGptj;
  const std::vector<float> serial = RunRopeCase(c, 4, ek::Context());
  const std::vector<float> parallel = RunRopeCase(c, 4, threaded);
  CHECK(ek_test::SameBits(serial.data(), parallel.data(), serial.size() * sizeof(float)));
}

// ---- Randomized cases ------------------------------------------------------------------------------

TEST_CASE("Transformer ops: randomized shapes and options", "[transformer][random]") {
  const uint64_t seed = ek_test::RandomSeed("transformer_random");
  const int cases = ek_test::RandomCases(40);
  ek_test::ForEachTarget([&](int64_t target) {
    INFO("target " << ek::TargetName(target));
    Rng rng(seed + static_cast<uint64_t>(target));
    for (int k = 0; k < cases; ++k) {
      RowCase c;
      c.op = static_cast<Op>(rng.Int(0, 3));
      const int rank = rng.Int(1, 4);
      for (int d = 0; d < rank - 1; ++d) c.shape.push_back(rng.Int(1, 3));
      c.shape.push_back(rng.Int(0, 3) == 0 ? rng.Int(1, 20) : rng.Int(1, 3000));
      for (int d = 0; d < rank; ++d) {
        c.pad_x.push_back(rng.Int(0, 2) == 0 ? rng.Int(0, 9) : 0);
        c.pad_out.push_back(rng.Int(0, 2) == 0 ? rng.Int(0, 9) : 0);
      }
      c.weight = rng.Int(0, 1) == 1;
      c.bias = rng.Int(0, 1) == 1;
      c.up = rng.Int(0, 1) == 1;
      c.weight_offset = rng.Int(0, 1) ? 1.0f : 0.0f;
      c.scale = rng.Uniform(0.05f, 4.0f);
      c.activation = static_cast<GateActivation>(rng.Int(0, 2));
      const float range = rng.Uniform(0.01f, 20.0f);
      c.lo = -range, c.hi = range;
      c.shift = rng.Int(0, 3) == 0 ? rng.Uniform(-100.0f, 100.0f) : 0.0f;
      c.minus_inf_every = c.op == Op::kSoftmax && rng.Int(0, 2) == 0 ? rng.Int(1, 5) : 0;
      INFO("case " << k << ": " << OpName(c.op) << " n " << c.shape.back());
      RunRowCase(c, rng.Next(), ek::Context());

      RopeCase r;
      r.tokens = rng.Int(1, 9);
      r.heads = rng.Int(1, 6);
      r.head_dim = 2 * rng.Int(1, 80);
      r.head_pad = rng.Int(0, 1) ? rng.Int(0, 5) : 0;
      r.token_pad = rng.Int(0, 1) ? rng.Int(0, 5) : 0;
      r.head_major_out = rng.Int(0, 1) == 1;
      r.options.style = static_cast<RopeStyle>(rng.Int(0, 1));
      r.options.rotary_dims = rng.Int(0, 1) ? 0 : 2 * rng.Int(1, static_cast<int>(r.head_dim / 2));
      r.options.position_offset = rng.Int(0, 100000);
      r.options.freq_scale = rng.Uniform(0.1f, 2.0f);
      r.options.theta_base = rng.Uniform(100.0f, 1e6f);
      if (rng.Int(0, 2) == 0) {
        for (int64_t t = 0; t < r.tokens; ++t) r.positions.push_back(rng.Int(0, 1 << 20));
      }
      INFO("rope case " << k << ": head_dim " << r.head_dim << " rotary " << r.options.rotary_dims);
      RunRopeCase(r, rng.Next(), ek::Context());
    }
  });
}

// ---- Validation ------------------------------------------------------------------------------------

TEST_CASE("Transformer ops: every validation rule returns a status naming the argument", "[transformer]") {
  std::vector<float> a(4096, 1.0f), b(4096, 1.0f), w(64, 1.0f);
  std::vector<int32_t> pos(8, 0);
  const TensorView x = TensorView::Host(DType::kF32, a.data(), {4, 64});
  const TensorView out = TensorView::Host(DType::kF32, b.data(), {4, 64});
  const TensorView weight = TensorView::Host(DType::kF32, w.data(), {64});
  const TensorView none;
  ek::RmsNormOptions rms;
  ExpectError(ek::RmsNorm(TensorView(), none, out, rms), StatusCode::kInvalidArgument, "x: rank 0");
  ExpectError(ek::RmsNorm(x.WithStrides({64, 2}), none, out, rms), StatusCode::kInvalidArgument, "x: the last axis's stride");
  ExpectError(ek::RmsNorm(TensorView::Host(DType::kF16, a.data(), {4, 64}), none, out, rms), StatusCode::kInvalidArgument,
              "x: dtype is f16");
  ExpectError(ek::RmsNorm(x, none, TensorView::Host(DType::kF32, b.data(), {4, 63}), rms), StatusCode::kInvalidArgument,
              "out: shape differs");
  ExpectError(ek::RmsNorm(x, TensorView::Host(DType::kF32, w.data(), {32}), out, rms), StatusCode::kInvalidArgument,
              "weight: expected shape [64]");
  ExpectError(ek::RmsNorm(x, weight.WithStrides({2}).WithOffset(0), out, rms), StatusCode::kInvalidArgument,
              "weight");
  ExpectError(ek::RmsNorm(x, none, x, rms), StatusCode::kInvalidArgument, "out: overlaps x");
  ExpectError(ek::RmsNorm(x, none, TensorView::Host(DType::kF32, a.data() + 100, {4, 64}), rms),
              StatusCode::kInvalidArgument, "overlaps");
  ExpectError(ek::RmsNorm(x, TensorView::Host(DType::kF32, b.data(), {64}), out, rms), StatusCode::kInvalidArgument,
              "overlaps");
  ExpectError(ek::RmsNorm(x, none, out.WithStrides({0, 1})), StatusCode::kInvalidArgument, "out");
  rms.epsilon = 0.0f;
  ExpectError(ek::RmsNorm(x, none, out, rms), StatusCode::kInvalidArgument, "options.epsilon");
  rms.epsilon = 1e-6f;
  rms.weight_offset = HUGE_VALF;
  ExpectError(ek::RmsNorm(x, weight, out, rms), StatusCode::kInvalidArgument, "options.weight_offset");
  ek::LayerNormOptions ln;
  ExpectError(ek::LayerNorm(x, weight, TensorView::Host(DType::kF32, w.data(), {65}), out, ln),
              StatusCode::kInvalidArgument, "beta: expected shape");
  ExpectError(ek::LayerNorm(x, TensorView::Host(DType::kI8, w.data(), {64}), none, out, ln),
              StatusCode::kInvalidArgument, "gamma: dtype");
  ln.epsilon = -1.0f;
  ExpectError(ek::LayerNorm(x, none, none, out, ln), StatusCode::kInvalidArgument, "options.epsilon");
  ln.epsilon = 1e-40f;  // subnormal: 0 under flush-to-zero
  ExpectError(ek::LayerNorm(x, none, none, out, ln), StatusCode::kInvalidArgument, "options.epsilon");
  ek::SoftmaxOptions sm;
  sm.scale = NAN;
  ExpectError(ek::Softmax(x, out, sm), StatusCode::kInvalidArgument, "options.scale");
  ExpectError(ek::Softmax(x, none), StatusCode::kInvalidArgument, "out: rank 0");
  ek::GatedActivationOptions ga;
  ExpectError(ek::GatedActivation(x, TensorView::Host(DType::kF32, w.data(), {64}), out, ga),
              StatusCode::kInvalidArgument, "up: shape differs");
  ExpectError(ek::GatedActivation(x, x, x, ga), StatusCode::kInvalidArgument, "out: overlaps");
  ExpectError(ek::GatedActivation(x, TensorView::Host(DType::kF16, w.data(), {4, 64}), out, ga),
              StatusCode::kInvalidArgument, "up: dtype is f16");
  TensorView device = out;
  device.memory.kind = ek::MemoryKind::kOpenCLBuffer;
  device.memory.handle = b.data();
  ExpectError(ek::GatedActivation(x, none, device, ga), StatusCode::kWrongMemory, "out: lives in");
  ga.activation = static_cast<GateActivation>(9);
  ExpectError(ek::GatedActivation(x, none, out, ga), StatusCode::kInvalidArgument, "options.activation");

  const TensorView q = TensorView::Host(DType::kF32, a.data(), {8, 4, 64});
  const TensorView q_out = TensorView::Host(DType::kF32, b.data(), {8, 4, 64});
  ek::RopeOptions ro;
  ExpectError(ek::Rope(x, out, ro), StatusCode::kInvalidArgument, "x: rank 2, expected 3");
  ExpectError(ek::Rope(q, TensorView::Host(DType::kF32, b.data(), {8, 4, 32}), ro), StatusCode::kInvalidArgument,
              "out: shape differs");
  ro.rotary_dims = 63;
  ExpectError(ek::Rope(q, q_out, ro), StatusCode::kInvalidArgument, "options.rotary_dims");
  ro.rotary_dims = 66;
  ExpectError(ek::Rope(q, q_out, ro), StatusCode::kInvalidArgument, "options.rotary_dims");
  ro.rotary_dims = 0;
  std::vector<float> odd(8 * 4 * 63);
  ExpectError(ek::Rope(TensorView::Host(DType::kF32, a.data(), {8, 4, 63}), TensorView::Host(DType::kF32, odd.data(), {8, 4, 63}), ro),
              StatusCode::kInvalidArgument, "x: head_dim must be even");
  ro.style = static_cast<RopeStyle>(7);
  ExpectError(ek::Rope(q, q_out, ro), StatusCode::kInvalidArgument, "options.style");
  ro.style = RopeStyle::kNeox;
  ro.freq_scale = 0.0f;
  ExpectError(ek::Rope(q, q_out, ro), StatusCode::kInvalidArgument, "options.freq_scale");
  ro.freq_scale = 1.0f;
  ro.theta_base = 1.0f;
  ExpectError(ek::Rope(q, q_out, ro), StatusCode::kInvalidArgument, "options.theta_base");
  ro.theta_base = 10000.0f;
  ro.position_offset = -1;
  ExpectError(ek::Rope(q, q_out, ro), StatusCode::kInvalidArgument, "options.position_offset");
  ro.position_offset = (int64_t{1} << 40) + 1;
  ExpectError(ek::Rope(q, q_out, ro), StatusCode::kInvalidArgument, "options.position_offset");
  ro.position_offset = 0;
  ro.positions = TensorView::Host(DType::kI32, pos.data(), {7});
  ExpectError(ek::Rope(q, q_out, ro), StatusCode::kInvalidArgument, "options.positions: expected shape [8]");
  pos[3] = -2;
  ro.positions = TensorView::Host(DType::kI32, pos.data(), {8});
  ExpectError(ek::Rope(q, q_out, ro), StatusCode::kInvalidArgument, "options.positions: entry 3 is negative");
  ro.positions = TensorView::Host(DType::kF32, w.data(), {8});
  ExpectError(ek::Rope(q, q_out, ro), StatusCode::kInvalidArgument, "options.positions: dtype");
  pos[3] = 0;
  ro.positions = TensorView::Host(DType::kI32, b.data(), {8});  // inside out's bytes
  ExpectError(ek::Rope(q, q_out, ro), StatusCode::kInvalidArgument, "overlaps");
  ro.positions = TensorView();
  ro.inv_frequencies = TensorView::Host(DType::kF32, w.data(), {31});
  ExpectError(ek::Rope(q, q_out, ro), StatusCode::kInvalidArgument, "options.inv_frequencies: expected shape [32]");
  w[5] = -1.0f;
  ro.inv_frequencies = TensorView::Host(DType::kF32, w.data(), {32});
  ExpectError(ek::Rope(q, q_out, ro), StatusCode::kInvalidArgument, "options.inv_frequencies: entry 5");
  w[5] = NAN;
  ExpectError(ek::Rope(q, q_out, ro), StatusCode::kInvalidArgument, "options.inv_frequencies: entry 5");
  w[5] = 1.0f;
  ro.inv_frequencies = TensorView::Host(DType::kF32, b.data() + 64, {32});  // inside out's bytes
  ExpectError(ek::Rope(q, q_out, ro), StatusCode::kInvalidArgument, "overlaps");
  ro.inv_frequencies = TensorView();
  ExpectError(ek::Rope(q, q, ro), StatusCode::kInvalidArgument, "out: overlaps x");
  CHECK(ek::Rope(q, q_out, ro).ok());  // the valid call, for contrast
}

}  // namespace

// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// The attention specification (ek/ref/attention.h, docs/attention.md) tested on its own, before
// any kernel implements it: ref::Attention (double) against properties that do not depend on it
// (one visible key gives its value row exactly; equal logits give the mean of the visible rows;
// keys permuted give the same result without a mask; GQA equals multi-head attention over
// replicated KV heads; a sink far below every logit changes nothing and one far above drives the
// row to 0; fully masked rows are zeros, never NaN); ref::OnlineAttention (the f32 algorithm the
// kernels implement) against ref::Attention within AttentionErrorBound over every mask, GQA
// ratios 1, 4 and 8, every head dim of the issue, KV lengths 1 .. 4100, block sizes that do and
// do not divide them, softcap, sinks, peaky and flat softmaxes; and AttentionOptions' rules.
// Then ek::Attention (the CPU kernels) on every compiled target: its vector exp against
// std::exp, every mask, GQA ratio and head dim, decode and prefill, KV lengths across the
// 256-key splits, strided views, f32 and f16 caches, 1 and 3 threads bitwise equal, against
// ref::Attention within the bound; and every validation rule.
#include "ek/attention.h"  // first: it asks for its kernel family

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "ek/attention_options.h"
#include "ek/cpu_features.h"
#include "ek/kv_cache.h"
#include "ek/parallel.h"
#include "ek/ref/attention.h"
#include "dot_lanes.h"
#include "test_util.h"

namespace {

using ek::AttentionMask;
using ek::AttentionOptions;
using ek::DType;
using ek::StatusCode;
using ek::TensorView;
using ek_test::ExpectError;
using ek_test::Rng;

// One attention problem: Q, K, V in [-1, 1] x `magnitude` (K and V with pixel strides wider than
// their heads, as a cache slice would be), the options, and the double reference.
struct Problem {
  int64_t q_len, q_heads, kv_len, kv_heads, d, dv;
  AttentionOptions o;
  std::vector<float> q, k, v, mask, sinks;
  std::vector<uint16_t> k16, v16;  // the cache as f16 (UseF16Cache)
  bool head_major = false;         // UseHeadMajor
  TensorView qv, kv, vv;

  Problem(int64_t q_len_, int64_t q_heads_, int64_t kv_len_, int64_t kv_heads_, int64_t d_, int64_t dv_, uint64_t seed,
          float magnitude = 1.0f)
      : q_len(q_len_), q_heads(q_heads_), kv_len(kv_len_), kv_heads(kv_heads_), d(d_), dv(dv_) {
    Rng rng(seed);
    q.resize(static_cast<size_t>(q_len * q_heads * d));
    k.resize(static_cast<size_t>(kv_len * kv_heads * (d + 3)));
    v.resize(static_cast<size_t>(kv_len * kv_heads * (dv + 5)));
    for (float& x : q) x = rng.Uniform(-1.0f, 1.0f) * magnitude;
    for (float& x : k) x = rng.Uniform(-1.0f, 1.0f) * magnitude;
    for (float& x : v) x = rng.Uniform(-1.0f, 1.0f);
    qv = TensorView::Host(DType::kF32, q.data(), {q_len, q_heads, d});
    kv = TensorView::Host(DType::kF32, k.data(), {kv_len, kv_heads, d}).WithStrides({kv_heads * (d + 3), d + 3, 1});
    vv = TensorView::Host(DType::kF32, v.data(), {kv_len, kv_heads, dv}).WithStrides({kv_heads * (dv + 5), dv + 5, 1});
  }
  // K and V re-laid out head-major ([heads, tokens, d + pad]: ONNX Runtime's cache), viewed as
  // [tokens, heads, d] with strides (the kernels then walk each head's keys in order). Call
  // before UseF16Cache.
  void UseHeadMajor() {
    const auto relayout = [&](std::vector<float>* t, int64_t row) {
      std::vector<float> h(t->size());
      for (int64_t j = 0; j < kv_len; ++j) {
        for (int64_t g = 0; g < kv_heads; ++g) {
          for (int64_t c = 0; c < row; ++c) {
            h[static_cast<size_t>((g * kv_len + j) * row + c)] = (*t)[static_cast<size_t>((j * kv_heads + g) * row + c)];
          }
        }
      }
      t->swap(h);
    };
    relayout(&k, d + 3);
    relayout(&v, dv + 5);
    head_major = true;
    kv = TensorView::Host(DType::kF32, k.data(), {kv_len, kv_heads, d}).WithStrides({d + 3, kv_len * (d + 3), 1});
    vv = TensorView::Host(DType::kF32, v.data(), {kv_len, kv_heads, dv}).WithStrides({dv + 5, kv_len * (dv + 5), 1});
  }
  // K and V rounded to f16 and viewed as an f16 cache (same strides).
  void UseF16Cache() {
    const auto to_f16 = [](std::vector<float>* f, std::vector<uint16_t>* h) {
      h->resize(f->size());
      for (size_t e = 0; e < f->size(); ++e) {
        (*h)[e] = ek::ref::F32ToF16((*f)[e]);
        (*f)[e] = ek::ref::F16ToF32((*h)[e]);
      }
    };
    to_f16(&k, &k16);
    to_f16(&v, &v16);
    const auto view = [&](uint16_t* data, int64_t dim, int64_t row) {
      const TensorView t = TensorView::Host(DType::kF16, data, {kv_len, kv_heads, dim});
      return head_major ? t.WithStrides({row, kv_len * row, 1}) : t.WithStrides({kv_heads * row, row, 1});
    };
    kv = view(k16.data(), d, d + 3);
    vv = view(v16.data(), dv, dv + 5);
  }
  void AddMask(Rng* rng, int masked_in_8) {
    mask.resize(static_cast<size_t>(q_len * kv_len));
    for (float& x : mask) {
      x = rng->Int(0, 7) < masked_in_8 ? -std::numeric_limits<float>::infinity() : rng->Uniform(-2.0f, 1.0f);
    }
    o.mask = TensorView::Host(DType::kF32, mask.data(), {q_len, kv_len});
  }
  void AddSinks(Rng* rng) {
    sinks.resize(static_cast<size_t>(q_heads));
    for (float& x : sinks) x = rng->Uniform(-3.0f, 3.0f);
    o.sinks = TensorView::Host(DType::kF32, sinks.data(), {q_heads});
  }
  std::vector<float> Exact(std::vector<ek::ref::AttentionRowStats>* stats = nullptr) const {
    std::vector<float> out(static_cast<size_t>(q_len * q_heads * dv));
    ek::ref::Attention(qv, kv, vv, TensorView::Host(DType::kF32, out.data(), {q_len, q_heads, dv}), o, stats);
    return out;
  }
  std::vector<float> Online(int64_t block) const {
    std::vector<float> out(static_cast<size_t>(q_len * q_heads * dv), std::numeric_limits<float>::quiet_NaN());
    ek::ref::OnlineAttention(qv, kv, vv, TensorView::Host(DType::kF32, out.data(), {q_len, q_heads, dv}), o, block);
    return out;
  }
  float V(int64_t j, int64_t g, int64_t c) const {
    return v[static_cast<size_t>((head_major ? g * kv_len + j : j * kv_heads + g) * (dv + 5) + c)];
  }
};

// The online algorithm within the bound of the exact value, every element; rows with no
// visible key exactly 0 in both.
void CheckOnline(const Problem& p, int64_t block, const char* what) {
  std::vector<ek::ref::AttentionRowStats> stats;
  const std::vector<float> exact = p.Exact(&stats), online = p.Online(block);
  const int64_t blocks = (p.kv_len + block - 1) / block;
  int failures = 0;
  for (int64_t r = 0; r < p.q_len * p.q_heads; ++r) {
    const ek::ref::AttentionRowStats& s = stats[static_cast<size_t>(r)];
    const double bound = ek::ref::AttentionErrorBound(s, p.d, blocks);
    for (int64_t c = 0; c < p.dv; ++c) {
      const size_t e = static_cast<size_t>(r * p.dv + c);
      const bool ok = s.visible == 0 ? (online[e] == 0.0f && exact[e] == 0.0f)
                                     : std::fabs(static_cast<double>(online[e]) - exact[e]) <= bound;
      if (!ok && failures++ < 3) {
        FAIL_CHECK(what << ": row " << r << " channel " << c << ": online " << online[e] << ", exact " << exact[e]
                        << ", bound " << bound << " (visible " << s.visible << ")");
      }
    }
  }
  CHECK(failures == 0);
}

TEST_CASE("Attention spec: one visible key gives its value row; equal logits give the mean", "[attention]") {
  Problem p(3, 2, 7, 2, 16, 8, 1);
  // Query i = 0 at position 0, causal: only key 0 is visible, so the row is v[0] exactly.
  p.o.mask_kind = AttentionMask::kCausal;
  const std::vector<float> causal = p.Exact();
  for (int64_t h = 0; h < 2; ++h) {
    for (int64_t c = 0; c < 8; ++c) CHECK(causal[static_cast<size_t>(h * 8 + c)] == p.V(0, h, c));
  }
  // q = 0: every logit is 0, so each row is the mean of the value rows it sees (query 2 at
  // position 2 sees keys 0..2).
  for (float& x : p.q) x = 0.0f;
  const std::vector<float> flat = p.Exact(), flat_online = p.Online(2);
  for (int64_t h = 0; h < 2; ++h) {
    for (int64_t c = 0; c < 8; ++c) {
      const double mean = (static_cast<double>(p.V(0, h, c)) + p.V(1, h, c) + p.V(2, h, c)) / 3.0;
      CHECK(std::fabs(flat[static_cast<size_t>((2 * 2 + h) * 8 + c)] - mean) <= 1e-6);
      CHECK(std::fabs(flat_online[static_cast<size_t>((2 * 2 + h) * 8 + c)] - mean) <= 1e-6);
    }
  }
}

TEST_CASE("Attention spec: without a mask, the order of the keys does not matter", "[attention]") {
  Problem p(2, 4, 9, 2, 32, 16, 2);
  const std::vector<float> before = p.Exact();
  // Reverse the keys (and their values).
  Problem r = p;
  for (int64_t j = 0; j < p.kv_len; ++j) {
    for (int64_t g = 0; g < p.kv_heads; ++g) {
      for (int64_t c = 0; c < p.d + 3; ++c) {
        r.k[static_cast<size_t>((j * p.kv_heads + g) * (p.d + 3) + c)] =
            p.k[static_cast<size_t>(((p.kv_len - 1 - j) * p.kv_heads + g) * (p.d + 3) + c)];
      }
      for (int64_t c = 0; c < p.dv + 5; ++c) {
        r.v[static_cast<size_t>((j * p.kv_heads + g) * (p.dv + 5) + c)] =
            p.v[static_cast<size_t>(((p.kv_len - 1 - j) * p.kv_heads + g) * (p.dv + 5) + c)];
      }
    }
  }
  r.qv.memory.host = r.q.data();
  r.kv.memory.host = r.k.data();
  r.vv.memory.host = r.v.data();
  const std::vector<float> after = r.Exact();
  for (size_t e = 0; e < before.size(); ++e) CHECK(std::fabs(before[e] - after[e]) <= 1e-6f);
}

TEST_CASE("Attention spec: GQA equals multi-head attention over replicated KV heads", "[attention]") {
  for (int64_t ratio : {4, 8}) {
    Problem gqa(3, 8, 11, 8 / ratio, 64, 64, 3 + static_cast<uint64_t>(ratio));
    gqa.o.mask_kind = AttentionMask::kCausal;
    gqa.o.start_position = 8;
    Problem mha(3, 8, 11, 8, 64, 64, 99);
    mha.o = gqa.o;
    mha.q = gqa.q;
    for (int64_t j = 0; j < 11; ++j) {
      for (int64_t h = 0; h < 8; ++h) {
        for (int64_t c = 0; c < 64; ++c) {
          mha.k[static_cast<size_t>((j * 8 + h) * 67 + c)] = gqa.k[static_cast<size_t>((j * gqa.kv_heads + h / ratio) * 67 + c)];
          mha.v[static_cast<size_t>((j * 8 + h) * 69 + c)] = gqa.v[static_cast<size_t>((j * gqa.kv_heads + h / ratio) * 69 + c)];
        }
      }
    }
    CHECK(gqa.Exact() == mha.Exact());
    CHECK(gqa.Online(4) == mha.Online(4));
  }
}

TEST_CASE("Attention spec: sinks, fully masked rows, -inf masks", "[attention]") {
  Rng rng(7);
  Problem p(4, 2, 6, 1, 16, 8, 5);
  const std::vector<float> plain = p.Exact();
  // A sink far below every logit changes nothing; far above, it takes the whole weight.
  p.sinks = {-1000.0f, -1000.0f};
  p.o.sinks = TensorView::Host(DType::kF32, p.sinks.data(), {2});
  const std::vector<float> low = p.Exact(), low_online = p.Online(4);
  for (size_t e = 0; e < plain.size(); ++e) {
    CHECK(low[e] == plain[e]);
    CHECK(std::fabs(low_online[e] - plain[e]) <= 1e-5f);
  }
  p.sinks = {1000.0f, 1000.0f};
  for (float x : p.Exact()) CHECK(std::fabs(x) <= 1e-30f);
  for (float x : p.Online(4)) CHECK(std::fabs(x) <= 1e-30f);
  // Every key of rows 1 and 3 masked with -inf: those rows are zeros, with or without a sink,
  // exact and online; the others finite.
  p.AddMask(&rng, 0);
  for (int64_t j = 0; j < 6; ++j) p.mask[static_cast<size_t>(1 * 6 + j)] = p.mask[static_cast<size_t>(3 * 6 + j)] = -INFINITY;
  p.sinks = {0.5f, -0.5f};
  for (const std::vector<float>& out : {p.Exact(), p.Online(4), p.Online(1)}) {
    for (int64_t i = 0; i < 4; ++i) {
      for (int64_t e = 0; e < 2 * 8; ++e) {
        const float x = out[static_cast<size_t>(i * 16 + e)];
        if (i == 1 || i == 3) {
          CHECK(x == 0.0f);
        } else {
          CHECK(std::isfinite(x));
        }
      }
    }
  }
  // A sliding window of 1 with causal positions: each query sees only its own position.
  Problem w(3, 1, 5, 1, 8, 4, 11);
  w.o.mask_kind = AttentionMask::kSlidingWindow;
  w.o.window = 1;
  w.o.start_position = 2;
  const std::vector<float> own = w.Exact();
  for (int64_t i = 0; i < 3; ++i) {
    for (int64_t c = 0; c < 4; ++c) CHECK(own[static_cast<size_t>(i * 4 + c)] == w.V(2 + i, 0, c));
  }
}

TEST_CASE("Attention spec: the online f32 algorithm within AttentionErrorBound, every mask and head dim",
          "[attention]") {
  Rng rng(13);
  for (int64_t d : {64, 80, 96, 128, 256, 48}) {
    for (int64_t ratio : {1, 4, 8}) {
      for (int mask = 0; mask < 4; ++mask) {
        const int64_t kv_len = rng.Int(1, 300);
        Problem p(rng.Int(1, 5), 8, kv_len, 8 / ratio, d, d, rng.Next(), rng.Int(0, 3) == 0 ? 4.0f : 1.0f);
        p.o.start_position = kv_len - p.q_len >= 0 ? kv_len - p.q_len : 0;
        if (mask == 1) p.o.mask_kind = AttentionMask::kCausal;
        if (mask == 2) {
          p.o.mask_kind = AttentionMask::kSlidingWindow;
          p.o.window = rng.Int(1, 64);
        }
        if (mask == 3) p.AddMask(&rng, rng.Int(0, 7));
        if (rng.Int(0, 3) == 0) p.o.softcap = rng.Uniform(5.0f, 50.0f);
        if (rng.Int(0, 3) == 0) p.AddSinks(&rng);
        if (rng.Int(0, 3) == 0) p.o.scale = rng.Uniform(0.01f, 2.0f);
        char what[160];
        std::snprintf(what, sizeof(what), "d %lld, GQA %lld, mask %d, q %lld x kv %lld, softcap %g, sinks %d",
                      static_cast<long long>(d), static_cast<long long>(ratio), mask, static_cast<long long>(p.q_len),
                      static_cast<long long>(kv_len), static_cast<double>(p.o.softcap), p.o.sinks.rank != 0);
        for (int64_t block : {int64_t{1}, int64_t{16}, int64_t{64}}) CheckOnline(p, block, what);
      }
    }
  }
}

TEST_CASE("Attention spec randomized: long caches, peaky softmaxes", "[random][attention]") {
  const uint64_t seed = ek_test::RandomSeed("Attention spec randomized");
  Rng rng(seed);
  const int cases = ek_test::RandomCases(12);
  for (int i = 0; i < cases; ++i) {
    const int64_t kv_len = rng.Int(0, 3) == 0 ? rng.Int(2000, 4100) : rng.Int(1, 700);
    const int64_t d = 16 * rng.Int(1, 10), kv_heads = rng.Int(1, 2), group = rng.Int(1, 4);
    Problem p(rng.Int(1, 3), kv_heads * group, kv_len, kv_heads, d, 16 * rng.Int(1, 4), rng.Next(),
              rng.Int(0, 2) == 0 ? 6.0f : 1.0f);
    p.o.mask_kind = static_cast<AttentionMask>(rng.Int(0, 2));
    p.o.window = rng.Int(1, 2000);
    p.o.start_position = rng.Int(0, static_cast<int>(kv_len));
    if (rng.Int(0, 2) == 0) p.AddMask(&rng, rng.Int(0, 8));
    if (rng.Int(0, 2) == 0) p.AddSinks(&rng);
    if (rng.Int(0, 3) == 0) p.o.softcap = rng.Uniform(1.0f, 30.0f);
    char what[160];
    std::snprintf(what, sizeof(what), "case %d (seed %llu): kv %lld, d %lld, heads %lld / %lld", i,
                  static_cast<unsigned long long>(seed), static_cast<long long>(kv_len), static_cast<long long>(d),
                  static_cast<long long>(p.q_heads), static_cast<long long>(kv_heads));
    CheckOnline(p, rng.Int(1, 128), what);
  }
}

TEST_CASE("AttentionOptions: every rule names the option", "[attention]") {
  AttentionOptions o;
  REQUIRE(ek::detail::ValidateAttentionOptions(o, 2, 5, 4).ok());
  o.scale = -1.0f;
  ExpectError(ek::detail::ValidateAttentionOptions(o, 2, 5, 4), StatusCode::kInvalidArgument, "options.scale");
  o = AttentionOptions();
  o.softcap = std::numeric_limits<float>::infinity();
  ExpectError(ek::detail::ValidateAttentionOptions(o, 2, 5, 4), StatusCode::kInvalidArgument, "options.softcap");
  o.softcap = 1e-39f;  // subnormal: 1 / softcap would be inf
  ExpectError(ek::detail::ValidateAttentionOptions(o, 2, 5, 4), StatusCode::kInvalidArgument, "options.softcap");
  o = AttentionOptions();
  o.start_position = -1;
  ExpectError(ek::detail::ValidateAttentionOptions(o, 2, 5, 4), StatusCode::kInvalidArgument, "options.start_position");
  o.start_position = (int64_t{1} << 40) + 1;  // positions beyond 2^40 (int64 overflow near the top)
  ExpectError(ek::detail::ValidateAttentionOptions(o, 2, 5, 4), StatusCode::kInvalidArgument, "options.start_position");
  o = AttentionOptions();
  o.mask_kind = AttentionMask::kSlidingWindow;
  ExpectError(ek::detail::ValidateAttentionOptions(o, 2, 5, 4), StatusCode::kInvalidArgument, "options.window");
  o = AttentionOptions();
  o.mask_kind = static_cast<AttentionMask>(9);
  ExpectError(ek::detail::ValidateAttentionOptions(o, 2, 5, 4), StatusCode::kInvalidArgument, "options.mask_kind");
  std::vector<float> m(10);
  std::vector<int32_t> mi(10);
  o = AttentionOptions();
  o.mask = TensorView::Host(DType::kF32, m.data(), {5, 2});
  ExpectError(ek::detail::ValidateAttentionOptions(o, 2, 5, 4), StatusCode::kInvalidArgument, "options.mask: expected shape [2, 5]");
  o.mask = TensorView::Host(DType::kI32, mi.data(), {2, 5});
  ExpectError(ek::detail::ValidateAttentionOptions(o, 2, 5, 4), StatusCode::kInvalidArgument, "options.mask: dtype");
  o.mask = TensorView::Host(DType::kF32, m.data(), {2, 5});
  REQUIRE(ek::detail::ValidateAttentionOptions(o, 2, 5, 4).ok());
  o.sinks = TensorView::Host(DType::kF32, m.data(), {3});
  ExpectError(ek::detail::ValidateAttentionOptions(o, 2, 5, 4), StatusCode::kInvalidArgument, "options.sinks: expected shape [4]");
}

// ---- ek::Attention, the CPU kernels ----------------------------------------------------------------

// Runs ek::Attention on `ctx` into a guarded output (rows padded by 3 floats, NaN guards).
std::vector<float> RunKernel(const Problem& p, const ek::Context& ctx) {
  const int64_t row = p.dv + 3;
  std::vector<float> out(static_cast<size_t>(p.q_len * p.q_heads * row), std::numeric_limits<float>::quiet_NaN());
  const TensorView ov =
      TensorView::Host(DType::kF32, out.data(), {p.q_len, p.q_heads, p.dv}).WithStrides({p.q_heads * row, row, 1});
  const ek::Status st = ek::Attention(p.qv, p.kv, p.vv, ov, p.o, ctx);
  INFO(st.message());
  REQUIRE(st.ok());
  return out;
}

// Every element within the bound of ref::Attention (rows with nothing visible exactly 0); the
// gaps untouched.
void CheckKernel(const Problem& p, const std::vector<float>& out, const char* what) {
  std::vector<ek::ref::AttentionRowStats> stats;
  const std::vector<float> exact = p.Exact(&stats);
  const int64_t blocks = (p.kv_len + 15) / 16 + (p.kv_len + 255) / 256;
  const int64_t row = p.dv + 3;
  int failures = 0;
  for (int64_t r = 0; r < p.q_len * p.q_heads; ++r) {
    const ek::ref::AttentionRowStats& s = stats[static_cast<size_t>(r)];
    const double bound = ek::ref::AttentionErrorBound(s, p.d, blocks);
    for (int64_t c = 0; c < row; ++c) {
      const float got = out[static_cast<size_t>(r * row + c)];
      if (c >= p.dv) {
        if (!std::isnan(got) && failures++ < 3) FAIL_CHECK(what << ": row " << r << " gap " << c << " written");
        continue;
      }
      const float want = exact[static_cast<size_t>(r * p.dv + c)];
      const bool ok = s.visible == 0 ? got == 0.0f : std::fabs(static_cast<double>(got) - want) <= bound;
      if (!ok && failures++ < 3) {
        FAIL_CHECK(what << ": row " << r << " channel " << c << ": " << got << ", want " << want << " within " << bound
                        << " (visible " << s.visible << ")");
      }
    }
  }
  CHECK(failures == 0);
}

TEST_CASE("Attention kernels: the vector exp within 3 ulp of exp, every target", "[attention]") {
  std::vector<float> in;
  for (float x = -90.0f; x <= 0.0f; x += 0.0137f) in.push_back(x);
  for (float x : {0.0f, -0.0f, -1e-30f, -1e-7f, -0.3465736f, -0.3465737f, -87.33f, -87.3365f, -87.34f, -100.0f, -1e30f}) {
    in.push_back(x);
  }
  std::vector<float> out(in.size());
  ek_test::ForEachTarget([&](int64_t target) {
    INFO("target " << ek::TargetName(target));
    ek::AttentionExpRow(in.data(), out.data(), in.size());
    int failures = 0;
    for (size_t i = 0; i < in.size(); ++i) {
      const double want = std::exp(static_cast<double>(in[i]));
      bool ok;
      if (in[i] < -87.3365448f) {
        ok = out[i] == 0.0f;
      } else {
        const double ulp = std::ldexp(1.0, std::ilogb(want) - 23);
        ok = std::fabs(out[i] - want) <= 3.0 * ulp;
      }
      if (!ok && failures++ < 3) FAIL_CHECK("exp(" << in[i] << ") = " << out[i] << ", want " << want);
    }
    CHECK(failures == 0);
  });
}

// Decode and prefill shapes over every mask kind, GQA ratio and head dim; KV lengths across the
// 256-key splits and the 16-key blocks.
// with_prefills: also the six prefills written for the tiled path (last in the list).
std::vector<Problem> KernelProblems(bool with_prefills = true) {
  std::vector<Problem> v;
  Rng rng(21);
  uint64_t seed = 100;
  const int64_t dims[] = {64, 80, 96, 128, 256, 48};
  for (size_t di = 0; di < 6; ++di) {
    const int64_t d = dims[di];
    const int64_t ratio = di % 3 == 0 ? 1 : di % 3 == 1 ? 4 : 8;
    // Decode: one query at the end of the cache, causal.
    v.emplace_back(1, 8, 200 + 37 * static_cast<int64_t>(di), 8 / ratio, d, d, ++seed);
    v.back().o.mask_kind = AttentionMask::kCausal;
    v.back().o.start_position = v.back().kv_len - 1;
  }
  v.emplace_back(1, 4, 1030, 1, 128, 128, ++seed);  // MQA decode over three splits
  v.back().o.mask_kind = AttentionMask::kCausal;
  v.back().o.start_position = 1029;
  v.emplace_back(2, 8, 513, 2, 64, 32, ++seed, 4.0f);  // two queries, 513 keys (a split of 1), dv != d, peaky
  v.emplace_back(33, 4, 33, 4, 64, 64, ++seed);  // prefill, causal from 0
  v.back().o.mask_kind = AttentionMask::kCausal;
  v.emplace_back(20, 2, 600, 1, 80, 80, ++seed);  // sliding window across a split boundary
  v.back().o.mask_kind = AttentionMask::kSlidingWindow;
  v.back().o.window = 100;
  v.back().o.start_position = 500;
  v.emplace_back(9, 8, 70, 2, 96, 96, ++seed);  // additive mask with -inf, rows fully masked, sinks
  v.back().AddMask(&rng, 3);
  for (int64_t j = 0; j < 70; ++j) v.back().mask[static_cast<size_t>(4 * 70 + j)] = -INFINITY;
  v.back().AddSinks(&rng);
  v.emplace_back(3, 4, 300, 4, 128, 128, ++seed, 3.0f);  // softcap, explicit scale
  v.back().o.softcap = 20.0f;
  v.back().o.scale = 0.3f;
  v.emplace_back(1, 1, 1, 1, 16, 16, ++seed);  // one key
  v.emplace_back(5, 16, 40, 2, 256, 64, ++seed);  // GQA 8, d 256
  v.back().o.mask_kind = AttentionMask::kCausal;
  v.back().o.start_position = 35;
  if (!with_prefills) return v;
  // The tiled path (prefill: 16+ queries, 32+ rows per KV head; kPrefillRows = 64 rows a unit,
  // kPrefillKeys = 64 keys a block): several row blocks, partial key blocks, every mask.
  // (Sizes kept small: wide SVE under qemu runs the float tiles at a few M multiply-adds / s.)
  v.emplace_back(70, 4, 90, 4, 64, 64, ++seed);  // multi-head, causal from 0, two row blocks
  v.back().o.mask_kind = AttentionMask::kCausal;
  v.emplace_back(24, 8, 130, 1, 128, 128, ++seed, 3.0f);  // GQA 8, a chunk at the end of the cache
  v.back().o.mask_kind = AttentionMask::kCausal;
  v.back().o.start_position = 106;
  v.emplace_back(40, 4, 300, 1, 80, 96, ++seed);  // GQA 4, sliding window, dv != d
  v.back().o.mask_kind = AttentionMask::kSlidingWindow;
  v.back().o.window = 100;
  v.back().o.start_position = 260;
  v.emplace_back(20, 8, 130, 4, 96, 96, ++seed);  // additive mask with -inf, a fully masked row, sinks
  v.back().AddMask(&rng, 3);
  for (int64_t j = 0; j < 130; ++j) v.back().mask[static_cast<size_t>(7 * 130 + j)] = -INFINITY;
  v.back().AddSinks(&rng);
  v.emplace_back(20, 4, 100, 1, 256, 256, ++seed, 3.0f);  // MQA, softcap, explicit scale, d 256
  v.back().o.softcap = 15.0f;
  v.back().o.scale = 0.1f;
  v.emplace_back(17, 2, 90, 1, 48, 48, ++seed);  // no mask, 34 rows
  return v;
}

// Whether a problem takes the tiled path (ek/cpu/attention/plan.h): f32 / f16 caches, 16+
// queries, 32+ rows (queries x group) per KV head, head dims up to 512.
bool ExpectTiled(const Problem& p) {
  const int64_t group = p.q_heads / p.kv_heads;
  return p.q_len >= 16 && p.q_len * group >= 32 && p.d <= 512 && p.dv <= 512;
}

// The path the plan chose for p (views).
bool PlannedTiled(const Problem& p) {
  std::vector<float> out(static_cast<size_t>(p.q_len * p.q_heads * p.dv));
  const TensorView ov = TensorView::Host(DType::kF32, out.data(), {p.q_len, p.q_heads, p.dv});
  ek::detail::AttentionCall call;
  const ek::Status st = ek::detail::PrepareAttention(p.qv, p.kv, p.vv, ov, p.o, &call);
  INFO(st.message());
  REQUIRE(st.ok());
  return call.args.tiled;
}

TEST_CASE("Attention kernels against the reference, every target, threads bitwise", "[attention]") {
  const std::vector<Problem> problems = KernelProblems();
  ek::ThreadPool pool(3);
  ek::Context threaded;
  threaded.threads = pool.Hook();
  ek_test::ForEachTarget([&](int64_t target) {
    INFO("target " << ek::TargetName(target));
    for (size_t i = 0; i < problems.size(); ++i) {
      Problem p = problems[i];
      if (i % 3 == 2) p.UseHeadMajor();  // every third cache head-major
      char what[200];
      std::snprintf(what, sizeof(what), "problem %zu%s: q %lld x %lld heads, kv %lld x %lld heads, d %lld, dv %lld", i,
                    p.head_major ? " (head-major)" : "", static_cast<long long>(p.q_len), static_cast<long long>(p.q_heads), static_cast<long long>(p.kv_len),
                    static_cast<long long>(p.kv_heads), static_cast<long long>(p.d), static_cast<long long>(p.dv));
      INFO(what);
      CHECK(PlannedTiled(p) == ExpectTiled(p));
      const std::vector<float> one = RunKernel(p, ek::Context());
      CheckKernel(p, one, what);
      const std::vector<float> three = RunKernel(p, threaded);
      CHECK(std::memcmp(one.data(), three.data(), one.size() * 4) == 0);
    }
  });
}

TEST_CASE("Attention kernels: the fixed problems cover both paths", "[attention]") {
  const std::vector<Problem> problems = KernelProblems();
  size_t tiled = 0;
  for (const Problem& p : problems) {
    const bool planned = PlannedTiled(p);
    CHECK(planned == ExpectTiled(p));
    tiled += planned ? 1 : 0;
  }
  CHECK(tiled >= 7);                     // prefill shapes: the tiled path
  CHECK(problems.size() - tiled >= 12);  // decode shapes: the split path
}

TEST_CASE("Attention kernels: keys no row sees are never read, on both paths", "[attention]") {
  // Padding keys (masked with -inf for every query) whose V rows hold NaN and infinities, as an
  // unwritten batch slot would: the split path skips them, the tiled path stages them as zeros.
  // Both give the reference over the other keys.
  ek_test::ForEachTarget([&](int64_t target) {
    INFO("target " << ek::TargetName(target));
    for (const int64_t q_len : {2, 16}) {  // the split path, then the tiled one
      Rng rng(9);
      Problem p(q_len, 4, 150, 2, 64, 64, 31);
      p.AddMask(&rng, 0);
      for (const int64_t j : {3, 64, 65, 149}) {
        for (int64_t i = 0; i < q_len; ++i) p.mask[static_cast<size_t>(i * 150 + j)] = -INFINITY;
        for (int64_t h = 0; h < 2; ++h) {
          for (int64_t c = 0; c < 64; ++c) {
            p.v[static_cast<size_t>((j * 2 + h) * (64 + 5) + c)] = c % 2 ? std::numeric_limits<float>::quiet_NaN() : INFINITY;
          }
        }
      }
      CHECK(PlannedTiled(p) == (q_len == 16));
      char what[80];
      std::snprintf(what, sizeof(what), "q_len %lld, NaN V rows behind -inf", static_cast<long long>(q_len));
      CheckKernel(p, RunKernel(p, ek::Context()), what);
    }
  });
}

TEST_CASE("Attention kernels, f16 cache: against the reference, every target, threads bitwise", "[attention]") {
  // Every other fixed problem (decode at each head dim and GQA ratio, prefill, sliding window,
  // mask with sinks, softcap, dv != d) with K and V stored as f16, every other one of those
  // head-major; every fourth on emulated wide vectors.
  std::vector<Problem> problems = KernelProblems();
  const size_t step = ek_test::EmulatedWideVectors() ? 4 : 2;  // wide SVE under qemu: every fourth
  ek::ThreadPool pool(3);
  ek::Context threaded;
  threaded.threads = pool.Hook();
  ek_test::ForEachTarget([&](int64_t target) {
    INFO("target " << ek::TargetName(target));
    for (size_t i = 0; i < problems.size(); i += step) {
      Problem p = problems[i];
      if (ek_test::EmulatedWideVectors() && ExpectTiled(p)) continue;  // (the kernel test runs them there)
      if ((i / step) % 2 == 1) p.UseHeadMajor();
      p.UseF16Cache();
      // The kernels walk the cache in the layout's order (results do not depend on it).
      std::vector<float> scratch(64);
      ek::detail::AttentionTaskArgs args;
      ek::detail::BindAttention(p.qv, p.kv, p.vv, p.qv, p.o, scratch.data(), &args);
      CHECK(args.head_major == (p.head_major && p.kv_len > 1));  // one token: strides tie, the walks coincide
      char what[200];
      std::snprintf(what, sizeof(what), "f16 problem %zu%s: q %lld x %lld heads, kv %lld x %lld heads, d %lld, dv %lld", i,
                    p.head_major ? " (head-major)" : "", static_cast<long long>(p.q_len), static_cast<long long>(p.q_heads),
                    static_cast<long long>(p.kv_len), static_cast<long long>(p.kv_heads), static_cast<long long>(p.d),
                    static_cast<long long>(p.dv));
      INFO(what);
      const std::vector<float> one = RunKernel(p, ek::Context());
      CheckKernel(p, one, what);
      const std::vector<float> three = RunKernel(p, threaded);
      CHECK(std::memcmp(one.data(), three.data(), one.size() * 4) == 0);
    }
  });
}

TEST_CASE("Attention kernels randomized against the reference, every target", "[random][attention]") {
  const uint64_t seed = ek_test::RandomSeed("Attention kernels randomized");
  const int cases = ek_test::RandomCases(10);
  ek_test::ForEachTarget([&](int64_t target) {
    Rng rng(seed * 31 + static_cast<uint64_t>(target % 1000003));
    for (int i = 0; i < cases; ++i) {
      // One case in three a prefill (the tiled path when it has 32 rows per KV head).
      const bool prefill = rng.Int(0, 2) == 0;
      const int64_t kv_len = prefill ? rng.Int(1, 130) : rng.Int(0, 4) == 0 ? rng.Int(500, 1600) : rng.Int(1, 300);
      const int64_t kv_heads = rng.Int(1, 3), group = rng.Int(1, 5);
      Problem p(prefill ? rng.Int(16, 40) : rng.Int(1, 6), kv_heads * group, kv_len, kv_heads, 16 * rng.Int(1, 9), 8 * rng.Int(1, 20), rng.Next(),
                rng.Int(0, 2) == 0 ? 4.0f : 1.0f);
      p.o.mask_kind = static_cast<AttentionMask>(rng.Int(0, 2));
      p.o.window = rng.Int(1, 400);
      p.o.start_position = rng.Int(0, static_cast<int>(kv_len));
      if (rng.Int(0, 2) == 0) p.AddMask(&rng, rng.Int(0, 8));
      if (rng.Int(0, 2) == 0) p.AddSinks(&rng);
      if (rng.Int(0, 3) == 0) p.o.softcap = rng.Uniform(1.0f, 30.0f);
      const bool head_major = rng.Int(0, 2) == 0, f16 = rng.Int(0, 1) == 0;
      if (head_major) p.UseHeadMajor();
      if (f16) p.UseF16Cache();
      const int threads = rng.Int(1, 3);
      char what[200];
      std::snprintf(what, sizeof(what), "case %d (seed %llu): %s%s cache, %s, q %lld, kv %lld, heads %lld / %lld, d %lld, dv %lld, threads %d",
                    i, static_cast<unsigned long long>(seed), head_major ? "head-major " : "", f16 ? "f16" : "f32",
                    PlannedTiled(p) ? "tiled" : "split", static_cast<long long>(p.q_len),
                    static_cast<long long>(kv_len), static_cast<long long>(p.q_heads), static_cast<long long>(kv_heads),
                    static_cast<long long>(p.d), static_cast<long long>(p.dv), threads);
      ek::ThreadPool pool(static_cast<size_t>(threads));
      ek::Context ctx;
      if (threads > 1) ctx.threads = pool.Hook();
      CheckKernel(p, RunKernel(p, ctx), what);
    }
  });
}

// ---- ek::Attention over a KvCache (ek/kv_cache.h) ---------------------------------------------

// qemu's "max" model runs the SVE and SVE2 targets at the same 512 bits; the cache tests (the
// storage forms and the quantized caches' lanes) run SVE2 there and leave SVE to the 128-bit
// model and to the kernel tests (CI time).
bool CacheTestSkips(int64_t target) {
  return ek_test::EmulatedWideVectors() && std::strcmp(ek::TargetName(target), "SVE") == 0;
}

// A cache holding a problem's K and V (its views, f32 or f16), appended in chunks of 1 .. 40
// tokens. `size`: the capacity (contiguous, ring) or the tokens per page (paged: the table a
// shuffled choice of the pool's pages, three spare pages never named). Unwritten memory is
// 0xFF bytes (NaN in f32 and f16): a row read from the wrong place poisons the result.
struct CacheHolding {
  std::vector<uint8_t> memory;
  std::vector<int32_t> table;
  ek::KvCache cache;

  CacheHolding(const Problem& p, ek::KvStorage storage, int64_t size, Rng* rng, DType type = DType::kF32,
               int64_t block = 0) {
    ek::KvCacheLayout& l = cache.layout;
    // (a quantized cache quantizes p's f32 rows)
    l.type = type == DType::kI8 || type == DType::kI4 ? type : p.kv.dtype;
    l.block = block;
    l.kv_heads = p.kv_heads;
    l.head_dim = p.d;
    l.value_dim = p.dv;
    l.storage = storage;
    if (storage == ek::KvStorage::kPaged) {
      l.page_tokens = size;
      const int64_t used = (p.kv_len + size - 1) / size;
      l.num_pages = used + 3;
      std::vector<int32_t> pages(static_cast<size_t>(l.num_pages));
      for (size_t i = 0; i < pages.size(); ++i) pages[i] = static_cast<int32_t>(i);
      for (size_t i = pages.size() - 1; i > 0; --i) std::swap(pages[i], pages[static_cast<size_t>(rng->Int(0, static_cast<int>(i)))]);
      table.assign(pages.begin(), pages.begin() + used);
      cache.block_table = table.data();
      cache.block_table_size = used;
    } else {
      l.capacity = size;
    }
    size_t bytes = 0;
    REQUIRE(ek::KvCacheBytes(l, &bytes).ok());
    memory.assign(bytes + 64, 0xFF);
    cache.memory = memory.data() + (64 - reinterpret_cast<uintptr_t>(memory.data()) % 64) % 64;
    cache.bytes = bytes;
    for (int64_t j = 0; j < p.kv_len;) {
      const int64_t t = std::min<int64_t>(rng->Int(1, 40), p.kv_len - j);
      TensorView k = p.kv, v = p.vv;
      k.shape[0] = v.shape[0] = t;
      k.offset += j * k.strides[0];
      v.offset += j * v.strides[0];
      const ek::Status st = ek::KvCacheAppend(&cache, k, v);
      INFO(st.message());
      REQUIRE(st.ok());
      j += t;
    }
    REQUIRE(cache.length == p.kv_len);
  }
};

std::vector<float> RunCacheKernel(const Problem& p, const ek::KvCache& cache, const AttentionOptions& o,
                                  const ek::Context& ctx) {
  const int64_t row = p.dv + 3;
  std::vector<float> out(static_cast<size_t>(p.q_len * p.q_heads * row), std::numeric_limits<float>::quiet_NaN());
  const TensorView ov =
      TensorView::Host(DType::kF32, out.data(), {p.q_len, p.q_heads, p.dv}).WithStrides({p.q_heads * row, row, 1});
  const ek::Status st = ek::Attention(p.qv, cache, ov, o, ctx);
  INFO(st.message());
  REQUIRE(st.ok());
  return out;
}

TEST_CASE("Attention over a KvCache: contiguous, ring and paged, f32 and f16, every target", "[attention][kv_cache]") {
  // Contiguous and paged caches (pages of 1, 16 and 64 tokens) give bitwise the result of views
  // of the same tokens (the same kernels, splits and blocks), and are within the bound of the
  // reference; a ring that has wrapped sees only its last `capacity` keys: the reference with
  // the older keys masked, and where a sliding window shows none of them, bitwise the views'
  // result. Every problem of the views' test, the odd ones with an f16 cache.
  const std::vector<Problem> problems = KernelProblems();
  // The tiled path's own prefills take the storage forms that differ for it (contiguous, pages
  // of 16 and 64, a wrapped ring); pages of 1 and an unwrapped ring, the same TokenOffsets as
  // for the split path, run on the other problems (CI time under qemu).
  const size_t first_prefill = KernelProblems(false).size();
  const size_t step = ek_test::EmulatedWideVectors() ? 3 : 1;
  ek::ThreadPool pool(3);
  ek::Context threaded;
  threaded.threads = pool.Hook();
  int window_rings = 0;  // wrapped rings whose window hides every lost key (bitwise the views')
  ek_test::ForEachTarget([&](int64_t target) {
    if (CacheTestSkips(target)) return;
    INFO("target " << ek::TargetName(target));
    Rng rng(static_cast<uint64_t>(target % 1000003) + 17);
    for (size_t i = 0; i < problems.size(); i += step) {
      Problem p = problems[i];
      // (wide-SVE models: the kernel test runs the tiled problems, bar a window's ring here)
      if (ek_test::EmulatedWideVectors() && ExpectTiled(p) && p.o.mask_kind != AttentionMask::kSlidingWindow) continue;
      if (i % 2 == 1) p.UseF16Cache();
      const std::vector<float> views = RunKernel(p, ek::Context());
      // (a sliding window's ring: from the first query's window on, wrapped, losing none it shows)
      const int64_t window_ring = p.o.mask_kind == AttentionMask::kSlidingWindow
                                      ? p.kv_len - std::max<int64_t>(0, p.o.start_position - p.o.window + 1)
                                      : 100;
      const struct { ek::KvStorage storage; int64_t size; } forms[] = {
          {ek::KvStorage::kContiguous, p.kv_len + 5}, {ek::KvStorage::kPaged, 16}, {ek::KvStorage::kPaged, 1},
          {ek::KvStorage::kPaged, 64}, {ek::KvStorage::kRing, p.kv_len}, {ek::KvStorage::kRing, 100},
          {ek::KvStorage::kRing, window_ring}};
      for (const auto& form : forms) {
        if (i >= first_prefill && ((form.storage == ek::KvStorage::kPaged && form.size == 1) ||
                                   (form.storage == ek::KvStorage::kRing && form.size == p.kv_len))) {
          continue;
        }
        char what[200];
        std::snprintf(what, sizeof(what), "problem %zu, %s cache of %lld (%s), kv %lld", i, ek::KvStorageName(form.storage),
                      static_cast<long long>(form.size), ek::DTypeName(p.kv.dtype), static_cast<long long>(p.kv_len));
        INFO(what);
        const bool wraps = form.storage == ek::KvStorage::kRing && form.size < p.kv_len;
        if (wraps && p.o.mask.rank != 0) continue;  // (the reference below masks the lost keys with its own mask)
        const CacheHolding held(p, form.storage, form.size, &rng);
        const std::vector<float> one = RunCacheKernel(p, held.cache, p.o, ek::Context());
        const std::vector<float> three = RunCacheKernel(p, held.cache, p.o, threaded);
        CHECK(std::memcmp(one.data(), three.data(), one.size() * 4) == 0);
        if (!wraps) {
          CHECK(std::memcmp(one.data(), views.data(), one.size() * 4) == 0);
          CheckKernel(p, one, what);
          continue;
        }
        // Keys 0 .. kv_len - capacity - 1 were overwritten: the reference with them masked.
        const int64_t first = p.kv_len - form.size;
        const bool window_hides_them = p.o.mask_kind == AttentionMask::kSlidingWindow &&
                                       p.o.start_position - p.o.window + 1 >= first;
        if (window_hides_them) {
          ++window_rings;
          CHECK(std::memcmp(one.data(), views.data(), one.size() * 4) == 0);
        }
        Problem lost = p;
        lost.mask.assign(static_cast<size_t>(p.q_len * p.kv_len), 0.0f);
        for (int64_t r = 0; r < p.q_len; ++r) {
          for (int64_t j = 0; j < first; ++j) lost.mask[static_cast<size_t>(r * p.kv_len + j)] = -INFINITY;
        }
        lost.o.mask = TensorView::Host(DType::kF32, lost.mask.data(), {p.q_len, p.kv_len});
        CheckKernel(lost, one, what);
      }
    }
  });
  CHECK(window_rings > 0);
}

TEST_CASE("Attention over a KvCache: a wrapped ring's lowered length does not bring back lost keys", "[attention][kv_cache]") {
  // 200 tokens through a ring of 64 (it keeps 136 .. 199), then the last 10 dropped (rejected
  // speculative tokens): keys 136 .. 189 are visible, never the slots of 126 .. 135, which hold
  // 190 .. 199. Decode at position 189 against the reference with keys below 136 masked.
  Problem p(1, 4, 200, 2, 32, 32, 91);
  p.o.mask_kind = AttentionMask::kCausal;
  p.o.start_position = 189;
  Rng rng(4);
  CacheHolding held(p, ek::KvStorage::kRing, 64, &rng);
  ek::KvCache rolled = held.cache;
  rolled.length = 190;
  REQUIRE(rolled.written == 200);
  ek_test::ForEachTarget([&](int64_t target) {
    INFO("target " << ek::TargetName(target));
    const std::vector<float> out = RunCacheKernel(p, rolled, p.o, ek::Context());
    Problem lost = p;
    lost.mask.assign(200, 0.0f);
    for (int64_t j = 0; j < 136; ++j) lost.mask[static_cast<size_t>(j)] = -INFINITY;
    lost.o.mask = TensorView::Host(DType::kF32, lost.mask.data(), {1, 200});
    CheckKernel(lost, out, "ring rolled back from 200 to 190 tokens");
    // Lowered below every kept key (130 < 136): nothing is visible, the output is zeros.
    ek::KvCache emptied = held.cache;
    emptied.length = 130;
    Problem early = p;
    early.o.start_position = 129;
    const std::vector<float> zeros = RunCacheKernel(early, emptied, early.o, ek::Context());
    for (int64_t c = 0; c < p.q_heads * (p.dv + 3); ++c) {
      if (c % (p.dv + 3) < p.dv) CHECK(zeros[static_cast<size_t>(c)] == 0.0f);
    }
  });
}

// The problem as a quantized cache reads it (f32, token-major p): every row of q, K and V
// replaced by its dequantized value under the specification's rule: int8 per row (`block` 0:
// scale x q8, ref::Int8RowScale, ref::Int8Quantize), or GGUF blocks (K and V through
// ref::QuantizeKvBlock / KvBlockValue, q per block of 32 by the int8 rule).
Problem Dequantized(const Problem& p, DType type = DType::kI8, int64_t block = 0) {
  Problem r(p.q_len, p.q_heads, p.kv_len, p.kv_heads, p.d, p.dv, 1);
  const auto int8_rows = [](const float* in, float* out, int64_t n, int64_t per) {
    for (int64_t b = 0; b < n; b += per) {
      const float scale = ek::ref::Int8RowScale(in + b, per);
      for (int64_t c = b; c < b + per; ++c) out[c] = scale * static_cast<float>(ek::ref::Int8Quantize(in[c], scale));
    }
  };
  const auto row = [&](const float* in, float* out, int64_t n) {
    if (block == 0) return int8_rows(in, out, n, n);
    for (int64_t b = 0; b < n; b += 32) {
      uint8_t bytes[34];
      ek::ref::QuantizeKvBlock(type == DType::kI4, in + b, bytes);
      for (int c = 0; c < 32; ++c) out[b + c] = ek::ref::KvBlockValue(type == DType::kI4, bytes, c);
    }
  };
  for (int64_t i = 0; i < p.q_len * p.q_heads; ++i) {
    int8_rows(&p.q[static_cast<size_t>(i * p.d)], &r.q[static_cast<size_t>(i * p.d)], p.d, block == 0 ? p.d : 32);
  }
  for (int64_t j = 0; j < p.kv_len * p.kv_heads; ++j) {
    row(&p.k[static_cast<size_t>(j * (p.d + 3))], &r.k[static_cast<size_t>(j * (p.d + 3))], p.d);
    row(&p.v[static_cast<size_t>(j * (p.dv + 5))], &r.v[static_cast<size_t>(j * (p.dv + 5))], p.dv);
  }
  r.o = p.o;
  r.mask = p.mask;
  r.sinks = p.sinks;
  if (p.o.mask.rank != 0) r.o.mask = TensorView::Host(DType::kF32, r.mask.data(), {p.q_len, p.kv_len});
  if (p.o.sinks.rank != 0) r.o.sinks = TensorView::Host(DType::kF32, r.sinks.data(), {p.q_heads});
  return r;
}

// A quantized cache's problems (`type`, `block`: int8 per row, Q8_0 or Q4_0 blocks) appended as
// f32, read on every dot-product lane of every target: within the bound of the reference over
// the dequantized q, K and V; the lanes' integer dots exact, so a target's every lane and
// thread count give bitwise the same result. Caches contiguous or paged (pages of 16), a ring
// that has wrapped under a sliding window.
void CheckQuantizedCache(const std::vector<Problem>& problems, DType type, int64_t block) {
  const size_t step = ek_test::EmulatedWideVectors() ? 3 : 1;
  ek::ThreadPool pool(3);
  ek::Context threaded;
  threaded.threads = pool.Hook();
  ek_test::ForEachTarget([&](int64_t target) {
    if (CacheTestSkips(target)) return;
    INFO("target " << ek::TargetName(target));
    std::vector<std::vector<float>> first_lane(problems.size());  // (targets differ in their f32 sums)
    std::vector<std::string> lanes;  // as run: the target's dot lane, then (forced off) "widen"
    ek_test::ForEachDotLane(ek::AttentionDotLane, [&] {
      const std::string lane = ek::AttentionDotLane();
      lanes.push_back(lane);
      Rng rng(static_cast<uint64_t>(target % 1000003) + 29);
      for (size_t i = 0; i < problems.size(); i += step) {
        const Problem& p = problems[i];
        const bool ring = p.o.mask_kind == AttentionMask::kSlidingWindow;
        const ek::KvStorage storage = ring ? ek::KvStorage::kRing : i % 2 ? ek::KvStorage::kPaged : ek::KvStorage::kContiguous;
        // (a ring of the keys from the first query's window on: it has wrapped, and lost none it shows)
        const int64_t size = ring ? p.kv_len - std::max<int64_t>(0, p.o.start_position - p.o.window + 1)
                                  : storage == ek::KvStorage::kPaged ? 16 : p.kv_len;
        CacheHolding held(p, storage, size, &rng, type, block);
        char what[220];
        std::snprintf(what, sizeof(what), "%s problem %zu, %s cache of %lld: q %lld x %lld heads, kv %lld x %lld heads, d %lld, dv %lld",
                      block ? (type == DType::kI4 ? "Q4_0" : "Q8_0") : "int8", i, ek::KvStorageName(storage), static_cast<long long>(size), static_cast<long long>(p.q_len),
                      static_cast<long long>(p.q_heads), static_cast<long long>(p.kv_len), static_cast<long long>(p.kv_heads),
                      static_cast<long long>(p.d), static_cast<long long>(p.dv));
        INFO(what);
        const std::vector<float> one = RunCacheKernel(p, held.cache, p.o, ek::Context());
        CheckKernel(Dequantized(p, type, block), one, what);
        const std::vector<float> three = RunCacheKernel(p, held.cache, p.o, threaded);
        CHECK(std::memcmp(one.data(), three.data(), one.size() * 4) == 0);
        if (first_lane[i].empty()) first_lane[i] = one;
        CHECK(std::memcmp(one.data(), first_lane[i].data(), one.size() * 4) == 0);  // every lane of the target
      }
    });
    CHECK(lanes.size() <= 2);  // one dot lane at most, then the widening form
    CHECK(lanes.back() == "widen");
  });
}

TEST_CASE("Attention over an int8 KvCache: every target and dot lane, lanes bitwise equal", "[attention][kv_cache]") {
  // (The tiled path's own prefills are left out: an int8 cache never takes it.)
  CheckQuantizedCache(KernelProblems(false), DType::kI8, 0);
}

TEST_CASE("Attention over Q8_0 and Q4_0 KvCaches: every target and dot lane, lanes bitwise equal", "[attention][kv_cache]") {
  // The problems whose head dims are multiples of 32 (GGUF blocks), and a sliding window over
  // a wrapped ring at d 64; a prefill of 33 queries (split path: block caches are never tiled).
  std::vector<Problem> problems = KernelProblems(false);  // (moved, never copied: the views point into them)
  problems.erase(std::remove_if(problems.begin(), problems.end(), [](const Problem& p) { return p.d % 32 != 0 || p.dv % 32 != 0; }),
                 problems.end());
  problems.emplace_back(6, 4, 300, 2, 64, 64, 4242);
  problems.back().o.mask_kind = AttentionMask::kSlidingWindow;
  problems.back().o.window = 90;
  problems.back().o.start_position = 294;
  REQUIRE(problems.size() >= 10);
  // (qemu's wide-SVE models run Q4_0 only: Q8_0 differs in its unpacking, which the 32-byte
  // vectors of x86 and the 16-byte ones of the 128-bit models cover; CI time.)
  for (DType type : {DType::kI8, DType::kI4}) {
    if (type == DType::kI8 && ek_test::EmulatedWideVectors()) continue;
    INFO(ek::DTypeName(type) << " blocks of 32");
    CheckQuantizedCache(problems, type, 32);
  }
}

TEST_CASE("Attention over a KvCache: the cache's rules name the argument, nothing written", "[attention][kv_cache]") {
  Problem p(2, 4, 40, 2, 16, 8, 81);
  Rng rng(3);
  CacheHolding held(p, ek::KvStorage::kPaged, 16, &rng);
  std::vector<float> out(2 * 4 * 8, 1.5f);
  const TensorView ov = TensorView::Host(DType::kF32, out.data(), {2, 4, 8});
  REQUIRE(ek::Attention(p.qv, held.cache, ov, p.o).ok());
  for (float& x : out) x = 1.5f;
  const auto rejects = [&](const ek::KvCache& c, const TensorView& o, const char* fragment) {
    ExpectError(ek::Attention(p.qv, c, o, p.o), StatusCode::kInvalidArgument, fragment);
    for (float x : out) CHECK(x == 1.5f);
  };
  ek::KvCache bad = held.cache;
  bad.length = 0;
  rejects(bad, ov, "cache.length: is 0");
  bad = held.cache;
  bad.length = 49;  // past the table's 3 pages of 16
  rejects(bad, ov, "cache.length: 49, must be in [0, 48]");
  std::vector<int32_t> table = held.table;
  table[2] = 7;  // the pool has 6 pages
  bad = held.cache;
  bad.block_table = table.data();
  rejects(bad, ov, "cache.block_table[2]: page 7, the pool has 6");
  table[2] = -1;
  rejects(bad, ov, "cache.block_table[2]: page -1");
  bad = held.cache;
  bad.block_table = nullptr;
  rejects(bad, ov, "cache.block_table: is null");
  bad = held.cache;
  bad.bytes -= 1;
  rejects(bad, ov, "cache.bytes");
  bad = held.cache;
  bad.memory = static_cast<uint8_t*>(bad.memory) + 2;
  rejects(bad, ov, "cache.memory: is not 4-byte aligned");
  // Layouts that do not match q (in memory large enough for them).
  std::vector<uint8_t> big(size_t{1} << 20);
  bad = held.cache;
  bad.layout.head_dim = 32;
  rejects(bad, ov, "cache.bytes: 18432, the layout needs 30720");
  bad.memory = big.data();
  bad.bytes = big.size();
  rejects(bad, ov, "cache: head_dim 32, q's is 16");
  bad.layout.head_dim = 16;
  bad.layout.kv_heads = 3;
  rejects(bad, ov, "cache: 3 KV heads");
  // The output inside the cache's memory, or in the block table.
  rejects(held.cache, TensorView::Host(DType::kF32, held.cache.memory, {2, 4, 8}), "out: overlaps cache.memory");
  std::vector<float> wide(64);
  ek::KvCache in_out = held.cache;
  std::memcpy(wide.data(), held.table.data(), held.table.size() * 4);
  in_out.block_table = reinterpret_cast<const int32_t*>(wide.data());
  rejects(in_out, TensorView::Host(DType::kF32, wide.data(), {2, 4, 8}), "out: overlaps cache.block_table");
  REQUIRE(ek::Attention(p.qv, held.cache, ov, p.o).ok());
}

TEST_CASE("Attention kernels: every validation rule names the argument, nothing written", "[attention]") {
  Problem p(2, 4, 10, 2, 16, 8, 77);
  std::vector<float> out(2 * 4 * 8, 1.5f);
  TensorView ov = TensorView::Host(DType::kF32, out.data(), {2, 4, 8});
  REQUIRE(ek::Attention(p.qv, p.kv, p.vv, ov, p.o).ok());
  for (float& x : out) x = 1.5f;
  const auto rejects = [&](const TensorView& q, const TensorView& k, const TensorView& v, const TensorView& o,
                           const AttentionOptions& opt, const char* fragment) {
    ExpectError(ek::Attention(q, k, v, o, opt), StatusCode::kInvalidArgument, fragment);
    for (float x : out) CHECK(x == 1.5f);
  };
  TensorView bad = p.qv;
  bad.dtype = DType::kF16;
  rejects(bad, p.kv, p.vv, ov, p.o, "q: dtype");
  bad = p.kv;
  bad.dtype = DType::kBF16;
  rejects(p.qv, bad, p.vv, ov, p.o, "k: dtype bf16, expected f32 or f16");
  Problem half = p;
  half.UseF16Cache();
  rejects(p.qv, half.kv, p.vv, ov, p.o, "v: dtype f32, k's is f16");
  rejects(p.qv, p.kv, half.vv, ov, p.o, "v: dtype f16, k's is f32");
  REQUIRE(ek::Attention(p.qv, half.kv, half.vv, ov, p.o).ok());
  for (float& x : out) x = 1.5f;
  bad = p.qv;
  bad.rank = 2;
  rejects(bad, p.kv, p.vv, ov, p.o, "q: rank 2");
  bad = p.kv;
  bad.strides[2] = 2;
  rejects(p.qv, bad, p.vv, ov, p.o, "k: head_dim stride must be 1");
  Problem odd(2, 4, 10, 3, 16, 8, 78);  // 4 query heads over 3 KV heads
  rejects(p.qv, odd.kv, odd.vv, ov, p.o, "k: 3 KV heads");
  Problem wrong_d(2, 4, 10, 2, 32, 8, 79);
  rejects(p.qv, wrong_d.kv, p.vv, ov, p.o, "k: head_dim 32");
  Problem short_v(2, 4, 9, 2, 16, 8, 80);
  rejects(p.qv, p.kv, short_v.vv, ov, p.o, "v: expected [10, 2, dv]");
  std::vector<float> small(2 * 4 * 7);
  rejects(p.qv, p.kv, p.vv, TensorView::Host(DType::kF32, small.data(), {2, 4, 7}), p.o, "out: expected shape [2, 4, 8]");
  AttentionOptions o = p.o;
  o.mask_kind = AttentionMask::kSlidingWindow;
  rejects(p.qv, p.kv, p.vv, ov, o, "options.window");
  // The output overlapping an input.
  rejects(p.qv, p.kv, p.vv, TensorView::Host(DType::kF32, p.q.data(), {2, 4, 8}), p.o, "out");
  // Views far larger than their memory (zero strides): the split path's partials would not fit
  // (8 queries x 16 heads x 2^32 splits), and their product must not wrap.
  std::vector<float> big_out(8 * 16);
  const TensorView huge_q = TensorView::Host(DType::kF32, p.q.data(), {8, 16, 1}).WithStrides({0, 0, 1});
  const TensorView huge_k = TensorView::Host(DType::kF32, p.k.data(), {int64_t{1} << 40, 16, 1}).WithStrides({0, 0, 1});
  ExpectError(ek::Attention(huge_q, huge_k, huge_k, TensorView::Host(DType::kF32, big_out.data(), {8, 16, 1}),
                            AttentionOptions()),
              StatusCode::kInvalidArgument, "too large for the workspace");
  // A workspace too small, or null, or overlapping the mask.
  size_t bytes = 0;
  REQUIRE(ek::AttentionWorkspaceSize(p.qv, p.kv, p.vv, ov, p.o, &bytes).ok());
  std::vector<uint8_t> ws(bytes);
  ExpectError(ek::Attention(p.qv, p.kv, p.vv, ov, p.o, ek::Context(), ws.data(), bytes - 1), StatusCode::kInvalidArgument,
              "workspace");
  ExpectError(ek::Attention(p.qv, p.kv, p.vv, ov, p.o, ek::Context(), nullptr, bytes), StatusCode::kInvalidArgument,
              "workspace");
  Rng rng(5);
  Problem masked = p;
  masked.AddMask(&rng, 2);
  std::vector<uint8_t> big_ws(bytes + masked.mask.size() * 4);
  masked.o.mask.memory.host = big_ws.data();  // the mask inside the workspace
  ExpectError(ek::Attention(p.qv, p.kv, p.vv, ov, masked.o, ek::Context(), big_ws.data(), big_ws.size()),
              StatusCode::kInvalidArgument, "workspace");
  for (float x : out) CHECK(x == 1.5f);
  REQUIRE(ek::Attention(p.qv, p.kv, p.vv, ov, p.o, ek::Context(), ws.data(), bytes).ok());
}

}  // namespace

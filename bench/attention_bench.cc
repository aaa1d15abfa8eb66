// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// ek::Attention (CPU), one thread:
//   attn/<f32|f16>/decode/<q heads>x<kv heads>x<kv len>x<d>   one query token against a cache
//       of that type, token-major ([tokens, heads, d]); with /head_major the cache is
//       [heads, tokens, d] (ONNX Runtime's layout);
//       GBps = K and V bytes read per call, pct_dram = GBps / the measured DRAM read (two copies
//       of the cache rotate, so every call reads it from DRAM: the LLM decode case)
//   .../kv_cache, .../paged16: the same decode from an ek::KvCache, contiguous or in 16-token
//       pages shuffled through the pool (ek/kv_cache.h); attn/i8/...: an int8 cache (per token
//       and head; GBps counts its scales too), attn/<q8_0|q4_0>/...: a cache of GGUF Q8_0 /
//       Q4_0 blocks (34 / 18 bytes per 32 values, scales included); labelled with the
//       dot-product lane
//   attn/<f32|f16>/prefill/<heads>x<q len>x<kv len>x<d>/causal  GFLOPS counting only unmasked work
//       (4 d flops per visible (query, key) pair), pct_peak = GFLOPS / the FMA peak
#include "ek/attention.h"  // first: it asks for its kernel family

#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <utility>
#include <string>
#include <vector>

#include "bench_util.h"
#include "ek/kv_cache.h"
#include "ek/ref/convert.h"

namespace ek_bench {
namespace {

using ek::DType;
using ek::TensorView;

struct Shape {
  int64_t q_heads, kv_heads, q_len, kv_len, d;
};

void Fill(std::vector<float>* v, uint32_t seed) {
  uint32_t x = seed * 2654435761u + 1;
  for (float& f : *v) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    f = static_cast<float>(x >> 8) * (1.0f / 16777216.0f) - 0.5f;
  }
}

// A decode's counters: GBps of the `kv_bytes` each call reads, and that as % of the DRAM read.
void SetDecodeCounters(benchmark::State& state, double kv_bytes, double seconds) {
  const double gbps = kv_bytes * static_cast<double>(state.iterations()) / seconds * 1e-9;
  state.counters["GBps"] = gbps;
  state.counters["pct_dram"] = 100.0 * gbps / DramReadGBps();
}

// The decode shapes with the cache in an ek::KvCache (ek/kv_cache.h): `page_tokens` > 0 paged
// (pages of that many tokens in a shuffled order, a serving runtime's fragmented pool), else
// contiguous. Everything else as the views' decode benchmark, whose figure it is set beside.
void CacheAttentionBenchmark(benchmark::State& state, const Shape& s, DType type, int64_t page_tokens, int64_t block = 0) {
  constexpr size_t kCopies = 2;
  ek::KvCacheLayout layout;
  layout.type = type;
  layout.block = block;
  layout.kv_heads = s.kv_heads;
  layout.head_dim = s.d;
  layout.storage = page_tokens > 0 ? ek::KvStorage::kPaged : ek::KvStorage::kContiguous;
  layout.capacity = s.kv_len;
  layout.page_tokens = page_tokens;
  layout.num_pages = page_tokens > 0 ? (s.kv_len + page_tokens - 1) / page_tokens : 0;
  size_t cache_bytes = 0;
  ek::Status st = ek::KvCacheBytes(layout, &cache_bytes);
  if (!st.ok()) return state.SkipWithError(st.message());
  std::vector<std::vector<uint8_t>> memory(kCopies, std::vector<uint8_t>(cache_bytes));
  std::vector<std::vector<int32_t>> tables(kCopies);
  std::vector<ek::KvCache> caches(kCopies);
  uint32_t x = 12345;
  for (size_t c = 0; c < kCopies; ++c) {
    ek::KvCache& cache = caches[c];
    cache.layout = layout;
    cache.memory = memory[c].data();
    cache.bytes = cache_bytes;
    for (int64_t p = 0; p < layout.num_pages; ++p) tables[c].push_back(static_cast<int32_t>(p));
    for (size_t i = tables[c].size(); i > 1; --i) {  // xorshift Fisher-Yates
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      std::swap(tables[c][i - 1], tables[c][x % i]);
    }
    cache.block_table = tables[c].data();
    cache.block_table_size = layout.num_pages;
    std::vector<float> k(static_cast<size_t>(s.kv_len * s.kv_heads * s.d)), v(k.size());
    Fill(&k, static_cast<uint32_t>(2 * c + 1));
    Fill(&v, static_cast<uint32_t>(2 * c + 2));
    st = ek::KvCacheAppend(&cache, TensorView::Host(DType::kF32, k.data(), {s.kv_len, s.kv_heads, s.d}),
                           TensorView::Host(DType::kF32, v.data(), {s.kv_len, s.kv_heads, s.d}));
    if (!st.ok()) return state.SkipWithError(st.message());
  }
  std::vector<float> q(static_cast<size_t>(s.q_heads * s.d)), out(q.size());
  Fill(&q, 99);
  const TensorView qv = TensorView::Host(DType::kF32, q.data(), {1, s.q_heads, s.d});
  const TensorView ov = TensorView::Host(DType::kF32, out.data(), {1, s.q_heads, s.d});
  ek::AttentionOptions o;
  o.mask_kind = ek::AttentionMask::kCausal;
  o.start_position = s.kv_len - 1;
  size_t bytes = 0;
  st = ek::AttentionWorkspaceSize(qv, caches[0], ov, o, &bytes);
  if (!st.ok()) return state.SkipWithError(st.message());
  std::vector<uint8_t> workspace(bytes);
  const double seconds = TimeRotating(state, kCopies, [&](size_t c) {
    const ek::Status called = ek::Attention(qv, caches[c], ov, o, ek::Context(), workspace.data(), bytes);
    if (!called.ok()) state.SkipWithError(called.message());
    benchmark::DoNotOptimize(out.data());
    return called.ok();
  });
  if (seconds < 0) return;
  // Bytes per value (blocks: 34 or 18 per 32), and an int8 row's f32 scale per token and head.
  const double element_bytes = block ? (type == DType::kI4 ? 18.0 : 34.0) / 32.0
                               : type == DType::kF32 ? 4.0 : type == DType::kF16 ? 2.0 : 1.0;
  const double scale_bytes = type == DType::kI8 && !block ? 8.0 * static_cast<double>(s.kv_len * s.kv_heads) : 0.0;
  const double kv_bytes = 2.0 * static_cast<double>(s.kv_len * s.kv_heads * s.d) * element_bytes + scale_bytes;
  SetDecodeCounters(state, kv_bytes, seconds);
  const bool quantized = type == DType::kI8 || type == DType::kI4;
  state.SetLabel(std::string(ek::TargetName(ek::SelectedTarget())) + (quantized ? std::string(" ") + ek::AttentionDotLane() : ""));
}

void AttentionBenchmark(benchmark::State& state, const Shape& s, bool decode, DType cache, bool head_major = false) {
  const size_t copies = decode ? 2 : 1;
  const size_t elem = cache == DType::kF16 ? 2 : 4;
  std::vector<std::vector<float>> k(copies), v(copies);
  for (size_t c = 0; c < copies; ++c) {
    k[c].resize(static_cast<size_t>(s.kv_len * s.kv_heads * s.d));
    v[c].resize(k[c].size());
    Fill(&k[c], static_cast<uint32_t>(2 * c + 1));
    Fill(&v[c], static_cast<uint32_t>(2 * c + 2));
    if (cache == DType::kF16) {  // the f16 cache in the first half of each buffer
      for (std::vector<float>* t : {&k[c], &v[c]}) {
        uint16_t* h = reinterpret_cast<uint16_t*>(t->data());
        for (size_t e = 0; e < t->size(); ++e) h[e] = ek::ref::F32ToF16((*t)[e]);
      }
    }
  }
  std::vector<float> q(static_cast<size_t>(s.q_len * s.q_heads * s.d)), out(q.size());
  Fill(&q, 99);
  const TensorView qv = TensorView::Host(DType::kF32, q.data(), {s.q_len, s.q_heads, s.d});
  const TensorView ov = TensorView::Host(DType::kF32, out.data(), {s.q_len, s.q_heads, s.d});
  ek::AttentionOptions o;
  o.mask_kind = ek::AttentionMask::kCausal;
  o.start_position = s.kv_len - s.q_len;
  size_t bytes = 0;
  // Token-major [tokens, heads, d] (llama.cpp's cache) or head-major [heads, tokens, d] (ONNX
  // Runtime's BNSH), both viewed as [tokens, heads, d].
  const auto cache_view = [&](void* data) {
    const TensorView t = TensorView::Host(cache, data, {s.kv_len, s.kv_heads, s.d});
    return head_major ? t.WithStrides({s.d, s.kv_len * s.d, 1}) : t;
  };
  const TensorView k0 = cache_view(k[0].data());
  ek::Status st = ek::AttentionWorkspaceSize(qv, k0, k0, ov, o, &bytes);
  if (!st.ok()) return state.SkipWithError(st.message());
  std::vector<uint8_t> workspace(bytes);
  const double seconds = TimeRotating(state, copies, [&](size_t c) {
    const TensorView kv = cache_view(k[c].data());
    const TensorView vv = cache_view(v[c].data());
    const ek::Status called = ek::Attention(qv, kv, vv, ov, o, ek::Context(), workspace.data(), bytes);
    if (!called.ok()) state.SkipWithError(called.message());
    benchmark::DoNotOptimize(out.data());
    return called.ok();
  });
  if (seconds < 0) return;
  const double calls = static_cast<double>(state.iterations());
  if (decode) {
    SetDecodeCounters(state, 2.0 * static_cast<double>(s.kv_len * s.kv_heads * s.d) * static_cast<double>(elem), seconds);
  } else {
    double pairs = 0.0;  // visible (query, key) pairs of the causal mask
    for (int64_t i = 0; i < s.q_len; ++i) pairs += static_cast<double>(s.kv_len - s.q_len + i + 1);
    const double gflops = 4.0 * static_cast<double>(s.d) * pairs * static_cast<double>(s.q_heads) * calls / seconds * 1e-9;
    state.counters["GFLOPS"] = gflops;
    state.counters["pct_peak"] = 100.0 * gflops / FmaPeakGflops();
  }
  state.SetLabel(ek::TargetName(ek::SelectedTarget()));
}

std::string Dims(std::initializer_list<int64_t> dims) {
  std::string s;
  for (int64_t d : dims) s += (s.empty() ? "" : "x") + std::to_string(d);
  return s;
}

}  // namespace

void RegisterAttentionBenchmarks() {
  const Shape decode[] = {{32, 32, 1, 4096, 128}, {32, 8, 1, 4096, 128}, {32, 8, 1, 1024, 64}};
  for (DType cache : {DType::kF32, DType::kF16}) {
    for (const Shape& s : decode) {
      RegisterForTargets("attn/" + std::string(ek::DTypeName(cache)) + "/decode/" + Dims({s.q_heads, s.kv_heads, s.kv_len, s.d}),
                         [s, cache](benchmark::State& state) { AttentionBenchmark(state, s, true, cache); });
    }
    // The GQA shapes from an ek::KvCache: contiguous, and paged in 16-token pages (vLLM's
    // default block size) shuffled through the pool.
    for (const Shape& s : {decode[1], decode[2]}) {
      const std::string base = "attn/" + std::string(ek::DTypeName(cache)) + "/decode/" + Dims({s.q_heads, s.kv_heads, s.kv_len, s.d});
      RegisterForTargets(base + "/kv_cache", [s, cache](benchmark::State& state) { CacheAttentionBenchmark(state, s, cache, 0); });
      RegisterForTargets(base + "/paged16", [s, cache](benchmark::State& state) { CacheAttentionBenchmark(state, s, cache, 16); });
    }
    for (const Shape& s : {decode[0], decode[1]}) {
      RegisterForTargets("attn/" + std::string(ek::DTypeName(cache)) + "/decode/" +
                             Dims({s.q_heads, s.kv_heads, s.kv_len, s.d}) + "/head_major",
                         [s, cache](benchmark::State& state) { AttentionBenchmark(state, s, true, cache, true); });
    }
  }
  // int8 caches (per token and head), only through ek::KvCache; the label names the dot lane.
  for (const Shape& s : {decode[0], decode[1], decode[2]}) {
    const std::string base = "attn/i8/decode/" + Dims({s.q_heads, s.kv_heads, s.kv_len, s.d});
    RegisterForTargets(base + "/kv_cache", [s](benchmark::State& state) { CacheAttentionBenchmark(state, s, DType::kI8, 0); });
    RegisterForTargets(base + "/paged16", [s](benchmark::State& state) { CacheAttentionBenchmark(state, s, DType::kI8, 16); });
  }
  // Caches of GGUF blocks (Q8_0, Q4_0), through ek::KvCache.
  for (const Shape& s : {decode[0], decode[1], decode[2]}) {
    for (const DType type : {DType::kI8, DType::kI4}) {
      const std::string name = std::string("attn/") + (type == DType::kI4 ? "q4_0" : "q8_0") + "/decode/" +
                               Dims({s.q_heads, s.kv_heads, s.kv_len, s.d}) + "/kv_cache";
      RegisterForTargets(name, [s, type](benchmark::State& state) { CacheAttentionBenchmark(state, s, type, 0, 32); });
    }
  }
  const Shape prefill = {32, 32, 512, 512, 128};
  for (const DType cache : {DType::kF32, DType::kF16}) {
    RegisterForTargets("attn/" + std::string(ek::DTypeName(cache)) + "/prefill/" +
                           Dims({prefill.q_heads, prefill.q_len, prefill.kv_len, prefill.d}) + "/causal",
                       [prefill, cache](benchmark::State& state) { AttentionBenchmark(state, prefill, false, cache); });
  }
}

}  // namespace ek_bench

// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// One transformer decoder block's decode step (one token), as a runtime chains ek's ops:
//   net/llama_block/<weights>/<model>/ctx<kv len>[/kv_i8]
//     RMSNorm -> QKV projection (one fused int4 GEMV, f32 activations quantized per row) ->
//     RoPE of q and k (llama.cpp's interleaved pairs) -> KV append (KvCacheAppend of k and v
//     into the layer's ek::KvCache at the new position: f16, or int8 per token and head with
//     /kv_i8) -> attention over the cache (GQA) -> output projection ->
//     residual add ->
//     RMSNorm -> gate and up projections (one fused GEMV) -> SiLU gate -> down projection ->
//     residual add. RMSNorm's epsilon 1e-5; Llama 3's RoPE frequency rescaling left out (the
//     time does not depend on it); random weights, the output not checked (each op's tests do).
// Random weights at the model's real shapes, packed once from GGUF Q4_0 blocks (ek's int4
// path). Each iteration runs the block on a different copy of the weights and cache (enough
// copies to exceed 1.5x the last-level cache): every block reads its weights from DRAM, as in
// a decode step through all the layers. Counters:
//   block_us     time of one block; tokens_per_s = 1 / (layers x block_us): the implied decode
//                speed of the whole model, the embedding lookup and the LM head left out
//   GBps         packed weight + KV cache bytes read per block / time; pct_dram of the measured
//                DRAM read
//   proj_us attn_us mlp_us other_us: the block's time by stage: the QKV and output projections,
//                attention, the MLP (gate / up GEMV, SiLU, down GEMV), and the rest (norms, RoPE,
//                the appends, the residual adds)
#define EK_KERNELS_QGEMM 1
#define EK_KERNELS_ATTENTION 1
#define EK_KERNELS_ELEMENTWISE 1
#define EK_KERNELS_TRANSFORMER 1
#include "ek/attention.h"  // first: the kernel pass, with every family defined above

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "bench_util.h"
#include "ek/elementwise.h"
#include "ek/gguf.h"
#include "ek/kv_cache.h"
#include "ek/qgemm.h"
#include "ek/ref/convert.h"
#include "ek/system_info.h"
#include "ek/transformer.h"

namespace ek_bench {
namespace {

using ek::DType;
using ek::TensorView;

struct LlamaShape {
  const char* name;
  int64_t hidden, q_heads, kv_heads, head_dim, ffn, layers;
};

uint32_t NextRandom(uint32_t* state) {
  *state ^= *state << 13;
  *state ^= *state >> 17;
  *state ^= *state << 5;
  return *state;
}

// A projection [n x k] as ek's packed int4 weights, from random Q4_0 blocks with scale `scale`.
struct Projection {
  std::vector<uint32_t> packed;
  size_t bytes = 0;
  int64_t n = 0, k = 0;
  ek::Status Init(int64_t rows, int64_t cols, float scale, uint32_t seed) {
    n = rows;
    k = cols;
    const int64_t block_bytes = ek::GgufBlockBytes(ek::GgufType::kQ4_0);
    std::vector<uint8_t> blocks(static_cast<size_t>(n * (k / 32) * block_bytes));
    uint32_t state = seed * 2654435761u + 1;
    for (uint8_t& b : blocks) b = static_cast<uint8_t>(NextRandom(&state) >> 24);
    const uint16_t d = ek::ref::F32ToF16(scale);
    for (size_t i = 0; i < blocks.size(); i += static_cast<size_t>(block_bytes)) {
      blocks[i] = static_cast<uint8_t>(d & 0xFF);
      blocks[i + 1] = static_cast<uint8_t>(d >> 8);
    }
    EK_RETURN_IF_ERROR(ek::PackedGgufWeightsSize(ek::GgufType::kQ4_0, n, k, &bytes));
    packed.resize(bytes / 4 + 1);
    return ek::PackGgufWeights(ek::GgufType::kQ4_0, blocks.data(), blocks.size(), n, k, packed.data(), bytes);
  }
  ek::PackedWeights View() const { return ek::PackedWeights{packed.data(), bytes}; }
};

// One layer's weights and KV cache (an ek::KvCache of ctx tokens in `cache_memory`).
struct Layer {
  Projection qkv, o, gate_up, down;
  std::vector<float> norm1, norm2;
  std::vector<uint8_t> cache_memory;
  ek::KvCache cache;
};

void LlamaBlockBenchmark(benchmark::State& state, const LlamaShape& s, int64_t ctx, DType kv_type) {
  const int64_t h = s.hidden, d = s.head_dim, q_dim = s.q_heads * d, kv_dim = s.kv_heads * d;
  const int64_t qkv_n = q_dim + 2 * kv_dim;
  int64_t llc = 0;
  for (int level = 3; level >= 1 && llc == 0; --level) llc = ek::GetSystemInfo().DataCacheBytes(level);
  if (llc == 0) llc = 64 << 20;
  // Weight bytes of one block (Q4_0: 18 bytes per 32 values, before packing) and its cache.
  const double q4_0_bytes = 18.0 / 32.0 * static_cast<double>(h * qkv_n + q_dim * h + h * 2 * s.ffn + s.ffn * h);
  ek::KvCacheLayout cache_layout;
  cache_layout.type = kv_type;
  cache_layout.kv_heads = s.kv_heads;
  cache_layout.head_dim = d;
  cache_layout.capacity = ctx;
  size_t cache_memory_bytes = 0;
  if (!ek::KvCacheBytes(cache_layout, &cache_memory_bytes).ok()) return state.SkipWithError("KvCacheBytes");
  // K and V of ctx tokens (int8: their scales too), read by attention.
  const double cache_bytes = kv_type == DType::kI8 ? 2.0 * static_cast<double>(ctx * kv_dim) + 8.0 * static_cast<double>(ctx * s.kv_heads)
                                                   : 2.0 * static_cast<double>(ctx * kv_dim) * 2.0;
  size_t copies = static_cast<size_t>(1.5 * static_cast<double>(llc) / (q4_0_bytes + cache_bytes)) + 1;
  if (copies < 2) copies = 2;
  std::vector<Layer> layers(copies);
  uint32_t seed = 1;
  for (Layer& l : layers) {
    ek::Status st = l.qkv.Init(qkv_n, h, 0.01f, seed++);
    if (st.ok()) st = l.o.Init(h, q_dim, 0.01f, seed++);
    if (st.ok()) st = l.gate_up.Init(2 * s.ffn, h, 0.01f, seed++);
    if (st.ok()) st = l.down.Init(h, s.ffn, 0.005f, seed++);
    if (!st.ok()) return state.SkipWithError(st.message());
    l.norm1.assign(static_cast<size_t>(h), 1.0f);
    l.norm2.assign(static_cast<size_t>(h), 1.0f);
    // The cache: ctx random tokens appended (the decode step rewrites the last one).
    l.cache_memory.resize(cache_memory_bytes);
    l.cache.layout = cache_layout;
    l.cache.memory = l.cache_memory.data();
    l.cache.bytes = cache_memory_bytes;
    std::vector<float> k_rows(static_cast<size_t>(ctx * kv_dim)), v_rows(k_rows.size());
    uint32_t state_bits = seed++;
    for (size_t i = 0; i < k_rows.size(); ++i) {
      k_rows[i] = static_cast<float>(NextRandom(&state_bits) >> 8) * (2.0f / 16777216.0f) - 1.0f;
      v_rows[i] = static_cast<float>(NextRandom(&state_bits) >> 8) * (2.0f / 16777216.0f) - 1.0f;
    }
    st = ek::KvCacheAppend(&l.cache, TensorView::Host(DType::kF32, k_rows.data(), {ctx, s.kv_heads, d}),
                           TensorView::Host(DType::kF32, v_rows.data(), {ctx, s.kv_heads, d}));
    if (!st.ok()) return state.SkipWithError(st.message());
  }
  // The bytes the GEMVs stream: the packed panels (the values, their block scales, headers).
  const double weight_bytes = static_cast<double>(layers[0].qkv.bytes + layers[0].o.bytes + layers[0].gate_up.bytes +
                                                  layers[0].down.bytes);
  // Activations: the block's input and every intermediate, allocated once.
  std::vector<float> x(static_cast<size_t>(h)), xn(x.size()), qkv(static_cast<size_t>(qkv_n)), q_rot(static_cast<size_t>(q_dim)),
      k_rot(static_cast<size_t>(kv_dim)), attn(static_cast<size_t>(q_dim)), proj(x.size()), mid(x.size()), mid_n(x.size()),
      gate_up(static_cast<size_t>(2 * s.ffn)), act(static_cast<size_t>(s.ffn)), down(x.size()), y(x.size());
  uint32_t bits = 7;
  for (float& v : x) v = static_cast<float>(NextRandom(&bits) >> 8) * (2.0f / 16777216.0f) - 1.0f;
  const auto vec = [](std::vector<float>& v) { return TensorView::Host(DType::kF32, v.data(), {1, static_cast<int64_t>(v.size())}); };
  const auto heads = [](std::vector<float>& v, int64_t count, int64_t dim) {
    return TensorView::Host(DType::kF32, v.data(), {1, count, dim});
  };
  const int64_t position = ctx - 1;  // the new token's: the cache holds ctx tokens with it
  ek::RopeOptions rope;  // llama.cpp's pairs for GGUF Llama weights; Llama 3's frequency rescaling left out
  rope.style = ek::RopeStyle::kGptj;
  rope.position_offset = position;
  rope.theta_base = 500000.0f;
  ek::RmsNormOptions norm;
  norm.epsilon = 1e-5f;
  ek::AttentionOptions attention;
  attention.mask_kind = ek::AttentionMask::kCausal;
  attention.start_position = position;
  // Workspaces: the largest any GEMV needs, and attention's.
  size_t gemv_workspace = 0, attention_workspace = 0;
  for (const Projection* p : {&layers[0].qkv, &layers[0].o, &layers[0].gate_up, &layers[0].down}) {
    std::vector<float> a(static_cast<size_t>(p->k)), c(static_cast<size_t>(p->n));
    size_t bytes = 0;
    const ek::Status st = ek::QGemmWorkspaceSize(vec(a), p->View(), vec(c), ek::QGemmOptions(), &bytes);
    if (!st.ok()) return state.SkipWithError(st.message());
    gemv_workspace = bytes > gemv_workspace ? bytes : gemv_workspace;
  }
  {
    const ek::Status st = ek::AttentionWorkspaceSize(heads(q_rot, s.q_heads, d), layers[0].cache, heads(attn, s.q_heads, d),
                                                     attention, &attention_workspace);
    if (!st.ok()) return state.SkipWithError(st.message());
  }
  std::vector<uint8_t> workspace(gemv_workspace > attention_workspace ? gemv_workspace : attention_workspace);
  const ek::Context serial;
  const auto gemv = [&](const Projection& p, const TensorView& a, const TensorView& c) {
    return ek::QGemm(a, p.View(), c, ek::QGemmOptions(), serial, workspace.data(), workspace.size());
  };
  using Clock = std::chrono::steady_clock;
  double stage_seconds[4] = {0, 0, 0, 0};  // projections, attention, MLP, the rest
  const auto seconds_since = [](Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); };
  // The block. Each ek call's status is checked; the first failure stops the benchmark.
  const auto block = [&](Layer& l) -> ek::Status {
    Clock::time_point t = Clock::now();
    const TensorView w1 = TensorView::Host(DType::kF32, l.norm1.data(), {h});
    EK_RETURN_IF_ERROR(ek::RmsNorm(vec(x), w1, vec(xn), norm));
    stage_seconds[3] += seconds_since(t);
    t = Clock::now();
    EK_RETURN_IF_ERROR(gemv(l.qkv, vec(xn), vec(qkv)));
    stage_seconds[0] += seconds_since(t);
    t = Clock::now();
    const TensorView q_in = TensorView::Host(DType::kF32, qkv.data(), {1, s.q_heads, d});
    const TensorView k_in = TensorView::Host(DType::kF32, qkv.data() + q_dim, {1, s.kv_heads, d});
    const TensorView v_in = TensorView::Host(DType::kF32, qkv.data() + q_dim + kv_dim, {1, s.kv_heads, d});
    EK_RETURN_IF_ERROR(ek::Rope(q_in, heads(q_rot, s.q_heads, d), rope));
    EK_RETURN_IF_ERROR(ek::Rope(k_in, heads(k_rot, s.kv_heads, d), rope));
    // The append: the new token's k and v become token `position` (the step before dropped it).
    l.cache.length = position;
    EK_RETURN_IF_ERROR(ek::KvCacheAppend(&l.cache, heads(k_rot, s.kv_heads, d), v_in));
    stage_seconds[3] += seconds_since(t);
    t = Clock::now();
    EK_RETURN_IF_ERROR(ek::Attention(heads(q_rot, s.q_heads, d), l.cache, heads(attn, s.q_heads, d), attention, serial,
                                     workspace.data(), workspace.size()));
    stage_seconds[1] += seconds_since(t);
    t = Clock::now();
    EK_RETURN_IF_ERROR(gemv(l.o, vec(attn), vec(proj)));
    stage_seconds[0] += seconds_since(t);
    t = Clock::now();
    EK_RETURN_IF_ERROR(ek::Add(vec(x), vec(proj), vec(mid)));
    const TensorView w2 = TensorView::Host(DType::kF32, l.norm2.data(), {h});
    EK_RETURN_IF_ERROR(ek::RmsNorm(vec(mid), w2, vec(mid_n), norm));
    stage_seconds[3] += seconds_since(t);
    t = Clock::now();
    EK_RETURN_IF_ERROR(gemv(l.gate_up, vec(mid_n), vec(gate_up)));
    const TensorView gate = TensorView::Host(DType::kF32, gate_up.data(), {1, s.ffn});
    const TensorView up = TensorView::Host(DType::kF32, gate_up.data() + s.ffn, {1, s.ffn});
    EK_RETURN_IF_ERROR(ek::GatedActivation(gate, up, vec(act)));
    EK_RETURN_IF_ERROR(gemv(l.down, vec(act), vec(down)));
    stage_seconds[2] += seconds_since(t);
    t = Clock::now();
    EK_RETURN_IF_ERROR(ek::Add(vec(mid), vec(down), vec(y)));
    stage_seconds[3] += seconds_since(t);
    return ek::Status::Ok();
  };
  size_t next = 0;
  const Clock::time_point start = Clock::now();
  for (auto _ : state) {
    const ek::Status st = block(layers[next]);
    if (!st.ok()) return state.SkipWithError(st.message());
    next = next + 1 == copies ? 0 : next + 1;
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  const double seconds = seconds_since(start);
  const double calls = static_cast<double>(state.iterations());
  const double block_seconds = seconds / calls;
  state.counters["block_us"] = block_seconds * 1e6;
  state.counters["tokens_per_s"] = 1.0 / (block_seconds * static_cast<double>(s.layers));
  const double gbps = (weight_bytes + cache_bytes) / block_seconds * 1e-9;
  state.counters["GBps"] = gbps;
  state.counters["pct_dram"] = 100.0 * gbps / DramReadGBps();
  const char* names[4] = {"proj_us", "attn_us", "mlp_us", "other_us"};
  for (int i = 0; i < 4; ++i) state.counters[names[i]] = stage_seconds[i] / calls * 1e6;
  state.SetLabel(std::string(ek::TargetName(ek::SelectedTarget())) + " " + ek::QGemmDotLane() + ", " +
                 std::to_string(copies) + " weight copies" +
                 (kv_type == DType::kI8 ? std::string(", int8 KV on ") + ek::AttentionDotLane() : std::string(", f16 KV")));
}

}  // namespace

void RegisterLlamaBlockBenchmarks() {
  // Llama 3.2 1B: hidden 2048, 32 query heads, 8 KV heads of 64, MLP 8192, 16 layers.
  const LlamaShape llama_1b = {"llama3.2-1b", 2048, 32, 8, 64, 8192, 16};
  for (int64_t ctx : {1024, 4096}) {
    const std::string name = std::string("net/llama_block/q4_0/") + llama_1b.name + "/ctx" + std::to_string(ctx);
    RegisterForTargets(name, [llama_1b, ctx](benchmark::State& state) { LlamaBlockBenchmark(state, llama_1b, ctx, DType::kF16); });
    RegisterForTargets(name + "/kv_i8",
                       [llama_1b, ctx](benchmark::State& state) { LlamaBlockBenchmark(state, llama_1b, ctx, DType::kI8); });
  }
}

}  // namespace ek_bench

// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// ek/kv_cache.h: the memory a layout needs (the documented page format: K [tokens, heads, d]
// then V [tokens, heads, dv] per page, rounded up to 64 bytes), what KvCacheAppend writes and
// where (every element read back at its documented address, in every storage form: f32, f16
// rounded to nearest even, int8 per row, GGUF Q8_0 / Q4_0 blocks bit for bit; a ring keeps its
// last `capacity` tokens; pages the table does not name are never touched), and every rule of
// the layout and of an append, each named, with nothing written when one fails. Attention over
// a cache is tested in attention_test.cc.
#include "ek/kv_cache.h"
#include "ek/gguf.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "ek/ref/attention.h"
#include "ek/ref/convert.h"
#include "test_util.h"

namespace {

using ek::DType;
using ek::KvCache;
using ek::KvCacheLayout;
using ek::KvStorage;
using ek::StatusCode;
using ek::TensorView;
using ek_test::ExpectError;
using ek_test::Rng;

size_t Bytes(const KvCacheLayout& l) {
  size_t bytes = 0;
  const ek::Status st = ek::KvCacheBytes(l, &bytes);
  INFO(st.message());
  REQUIRE(st.ok());
  return bytes;
}

KvCacheLayout Layout(DType type, int64_t heads, int64_t d, int64_t dv, KvStorage storage, int64_t size, int64_t pages = 0) {
  KvCacheLayout l;
  l.type = type;
  l.kv_heads = heads;
  l.head_dim = d;
  l.value_dim = dv;
  l.storage = storage;
  if (storage == KvStorage::kPaged) {
    l.page_tokens = size;
    l.num_pages = pages;
  } else {
    l.capacity = size;
  }
  return l;
}

TEST_CASE("KvCacheBytes: pages of K then V, each rounded up to 64 bytes", "[kv_cache]") {
  // 2 tokens x 1 head x (3 + 2) f32 = 40 bytes -> 64; x 5 pages.
  CHECK(Bytes(Layout(DType::kF32, 1, 3, 2, KvStorage::kPaged, 2, 5)) == 5 * 64);
  // 16 x 2 x (64 + 32) f16 = 6144 bytes (a multiple of 64) x 3 pages.
  CHECK(Bytes(Layout(DType::kF16, 2, 64, 32, KvStorage::kPaged, 16, 3)) == 3 * 6144);
  // value_dim 0 is head_dim: 100 x 8 x 128 x 2 f32 = 819200 bytes, one region.
  CHECK(Bytes(Layout(DType::kF32, 8, 128, 0, KvStorage::kContiguous, 100)) == 819200);
  CHECK(Bytes(Layout(DType::kF16, 3, 5, 7, KvStorage::kRing, 7)) == 512);  // 7 x 3 x 12 x 2 = 504 -> 512
  // int8: 4 x 2 x (64 + 64) = 1024 bytes of rows, then 4 x 2 x 8 of scales = 64 -> 1088; x 3 pages.
  CHECK(Bytes(Layout(DType::kI8, 2, 64, 0, KvStorage::kPaged, 4, 3)) == 3 * 1088);
  // 5 x 1 x (3 + 2) = 25 -> 64, then 40 bytes of scales -> 128.
  CHECK(Bytes(Layout(DType::kI8, 1, 3, 2, KvStorage::kContiguous, 5)) == 128);
}

// A cache of layout l in 0xFF bytes; paged: its table names pages used + 1 .. 2 of the pool,
// backwards (0 and 1 unused).
struct HeldCache {
  std::vector<uint8_t> memory;
  std::vector<int32_t> table;
  KvCache c;
  HeldCache(const KvCacheLayout& l, int64_t used) : memory(Bytes(l), 0xFF) {
    c.layout = l;
    c.memory = memory.data();
    c.bytes = memory.size();
    if (l.storage == KvStorage::kPaged) {
      for (int64_t i = 0; i < used; ++i) table.push_back(static_cast<int32_t>(used + 1 - i));
      c.block_table = table.data();
      c.block_table_size = used;
    }
  }
  HeldCache(const HeldCache&) = delete;
  HeldCache& operator=(const HeldCache&) = delete;
};

// The documented address of token j's row of head g (value: V's row), in elements; int8: of its
// f32 scale in floats when `scale`.
int64_t RowAddress(const KvCache& c, int64_t j, int64_t g, bool value, bool scale = false) {
  const KvCacheLayout& l = c.layout;
  const int64_t dv = l.value_dim > 0 ? l.value_dim : l.head_dim;
  const int64_t page_tokens = l.storage == KvStorage::kPaged ? l.page_tokens : l.capacity;
  const int64_t elem = l.type == DType::kF16 ? 2 : l.type == DType::kI8 ? 1 : 4;
  const int64_t rows_bytes = (page_tokens * l.kv_heads * (l.head_dim + dv) * elem + 63) / 64 * 64;
  const int64_t page_bytes = l.type == DType::kI8 ? (rows_bytes + page_tokens * l.kv_heads * 8 + 63) / 64 * 64 : rows_bytes;
  int64_t page = 0, slot = j;
  if (l.storage == KvStorage::kPaged) {
    page = c.block_table[j / page_tokens];
    slot = j % page_tokens;
  } else if (l.storage == KvStorage::kRing) {
    slot = j % page_tokens;
  }
  if (scale) return (page * page_bytes + rows_bytes) / 4 + (value ? page_tokens * l.kv_heads : 0) + slot * l.kv_heads + g;
  const int64_t in_page = value ? page_tokens * l.kv_heads * l.head_dim + (slot * l.kv_heads + g) * dv
                                : (slot * l.kv_heads + g) * l.head_dim;
  return page * page_bytes / elem + in_page;
}

float Stored(const KvCache& c, int64_t element) {
  const uint8_t* base = static_cast<const uint8_t*>(c.memory);
  if (c.layout.type == DType::kI8) return static_cast<float>(static_cast<int8_t>(base[element]));
  if (c.layout.type == DType::kF16) {
    uint16_t h;
    std::memcpy(&h, base + element * 2, 2);
    return ek::ref::F16ToF32(h);
  }
  float f;
  std::memcpy(&f, base + element * 4, 4);
  return f;
}

TEST_CASE("KvCacheAppend: every element at its documented address, every storage form", "[kv_cache]") {
  Rng rng(11);
  for (DType type : {DType::kF32, DType::kF16, DType::kI8}) {
    for (KvStorage storage : {KvStorage::kContiguous, KvStorage::kRing, KvStorage::kPaged}) {
      for (int trial = 0; trial < 3; ++trial) {
        const int64_t heads = rng.Int(1, 4), d = rng.Int(1, 70), dv = rng.Int(0, 40), tokens = rng.Int(1, 300);
        const int64_t size = storage == KvStorage::kPaged ? int64_t{1} << rng.Int(0, 6)
                             : storage == KvStorage::kRing  ? rng.Int(1, 120)
                                                            : tokens + rng.Int(0, 9);
        const int64_t used = (tokens + size - 1) / size;
        const KvCacheLayout l = Layout(type, heads, d, dv, storage, size, used + 2);
        INFO(ek::DTypeName(type) << " " << ek::KvStorageName(storage) << " of " << size << ", heads " << heads << ", d "
                                 << d << ", dv " << dv << ", tokens " << tokens);
        HeldCache held(l, used);
        std::vector<uint8_t>& memory = held.memory;
        KvCache& c = held.c;
        const int64_t vd = dv > 0 ? dv : d;
        // The source: f32 with padded rows (strided views), or for an f16 cache every other
        // chunk already f16.
        std::vector<float> k(static_cast<size_t>(tokens * heads * (d + 2))), v(static_cast<size_t>(tokens * heads * (vd + 1)));
        for (float& x : k) x = rng.Uniform(-3.0f, 3.0f);
        for (float& x : v) x = rng.Uniform(-3.0f, 3.0f);
        std::vector<uint16_t> k16(k.size()), v16(v.size());
        for (size_t e = 0; e < k.size(); ++e) k16[e] = ek::ref::F32ToF16(k[e]);
        for (size_t e = 0; e < v.size(); ++e) v16[e] = ek::ref::F32ToF16(v[e]);
        for (int64_t j = 0, chunk = 0; j < tokens; ++chunk) {
          const int64_t t = std::min<int64_t>(rng.Int(1, 50), tokens - j);
          const bool half = type == DType::kF16 && chunk % 2 == 1;
          const auto view = [&](std::vector<float>& f32, std::vector<uint16_t>& f16, int64_t dim, int64_t row) {
            void* data = half ? static_cast<void*>(f16.data()) : static_cast<void*>(f32.data());
            return TensorView::Host(half ? DType::kF16 : DType::kF32, data, {t, heads, dim})
                .WithStrides({heads * row, row, 1})
                .WithOffset(j * heads * row);
          };
          const ek::Status st = ek::KvCacheAppend(&c, view(k, k16, d, d + 2), view(v, v16, vd, vd + 1));
          INFO(st.message());
          REQUIRE(st.ok());
          j += t;
          REQUIRE(c.length == j);
        }
        // Every kept token's rows; a ring keeps the last `capacity`.
        const int64_t first = storage == KvStorage::kRing && tokens > size ? tokens - size : 0;
        int failures = 0;
        const size_t elem = type == DType::kF16 ? 2 : type == DType::kI8 ? 1 : 4;
        std::vector<bool> touched(memory.size() / elem, false);
        for (int64_t j = first; j < tokens; ++j) {
          for (int64_t g = 0; g < heads; ++g) {
            for (int value = 0; value < 2; ++value) {
              const int64_t dim = value ? vd : d, row = value ? vd + 1 : d + 2;
              const int64_t at = RowAddress(c, j, g, value == 1);
              const float* src_row = &(value ? v : k)[static_cast<size_t>((j * heads + g) * row)];
              // int8: the row's scale (bit-exact to the specification's rule) at its address
              const float scale = ek::ref::Int8RowScale(src_row, dim);
              if (type == DType::kI8) {
                const int64_t scale_at = RowAddress(c, j, g, value == 1, true);
                float stored_scale;
                std::memcpy(&stored_scale, memory.data() + scale_at * 4, 4);
                for (int b = 0; b < 4; ++b) touched[static_cast<size_t>(scale_at * 4 + b)] = true;
                if (stored_scale != scale && failures++ < 3) {
                  FAIL_CHECK("token " << j << " head " << g << " scale " << stored_scale << ", want " << scale);
                }
              }
              for (int64_t e = 0; e < dim; ++e) {
                const size_t src = static_cast<size_t>((j * heads + g) * row + e);
                const float want = type == DType::kF16 ? ek::ref::F16ToF32(value ? v16[src] : k16[src])
                                   : type == DType::kI8 ? static_cast<float>(ek::ref::Int8Quantize(src_row[e], scale))
                                                        : (value ? v[src] : k[src]);
                touched[static_cast<size_t>(at + e)] = true;
                if (Stored(c, at + e) != want && failures++ < 3) {
                  FAIL_CHECK("token " << j << " head " << g << (value ? " V[" : " K[") << e << "]: " << Stored(c, at + e)
                                      << ", want " << want);
                }
              }
            }
          }
        }
        CHECK(failures == 0);
        // Nothing else written: every other element still 0xFF (a ring's overwritten slots
        // hold the kept tokens, checked above).
        int stray = 0;
        for (size_t e = 0; e < touched.size(); ++e) {
          if (!touched[e] && memory[e * elem] != 0xFF && stray++ < 3) FAIL_CHECK("element " << e << " written");
        }
        CHECK(stray == 0);
      }
    }
  }
}

TEST_CASE("KvCacheAppend int8: tiny, zero and non-finite rows follow the specification bit for bit", "[kv_cache]") {
  // Rows whose scale would be below FLT_MIN quantize to scale 0 and zeros; a NaN element lands on
  // -127 and an infinite one makes the scale infinite (the kernel's rule is defined for every
  // input; ek's contract leaves non-finite results unspecified, never undefined behaviour).
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  const std::vector<std::vector<float>> rows = {
      {0.0f, 0.0f, 0.0f, 0.0f},        {1e-38f, -2e-38f, 0.0f, 5e-39f}, {1e-36f, -1e-36f, 3e-37f, 0.0f},
      {nan, 1.0f, -2.0f, 0.5f},        {inf, 1.0f, -1.0f, 0.0f},          {0.3f, -0.7f, 127.5f, -1e-3f},
      {2.5f, -2.5f, 1.5f, -0.5f}};
  KvCache c;
  c.layout = Layout(DType::kI8, 1, 4, 4, KvStorage::kContiguous, static_cast<int64_t>(rows.size()));
  std::vector<uint8_t> memory(Bytes(c.layout), 0xFF);
  c.memory = memory.data();
  c.bytes = memory.size();
  for (const std::vector<float>& row : rows) {
    const TensorView t = TensorView::Host(DType::kF32, row.data(), {1, 1, 4});
    REQUIRE(ek::KvCacheAppend(&c, t, t).ok());
  }
  for (size_t j = 0; j < rows.size(); ++j) {
    INFO("row " << j);
    const float scale = ek::ref::Int8RowScale(rows[j].data(), 4);
    float stored;
    std::memcpy(&stored, memory.data() + RowAddress(c, static_cast<int64_t>(j), 0, false, true) * 4, 4);
    CHECK(std::memcmp(&stored, &scale, 4) == 0);
    for (int64_t e = 0; e < 4; ++e) {
      CHECK(Stored(c, RowAddress(c, static_cast<int64_t>(j), 0, false) + e) ==
            static_cast<float>(ek::ref::Int8Quantize(rows[j][static_cast<size_t>(e)], scale)));
    }
  }
  CHECK(ek::ref::Int8RowScale(rows[1].data(), 4) == 0.0f);  // below FLT_MIN x 127: a zero row
  CHECK(ek::ref::Int8Quantize(nan, 1.0f) == -127);
  CHECK(ek::ref::Int8Quantize(2.5f, 1.0f) == 3);  // half away from zero
}

// A block-quantized cache's rows: token j's row of head g at page x page_bytes + (slot x heads +
// g) x row_bytes (V's after the page's K), row_bytes = dim / 32 x 34 (Q8_0) or 18 (Q4_0).
TEST_CASE("KvCacheAppend GGUF blocks: every block at its documented address, bit for bit, and ggml's rows", "[kv_cache]") {
  Rng rng(23);
  for (DType type : {DType::kI8, DType::kI4}) {
    const bool q4 = type == DType::kI4;
    const int64_t block_bytes = q4 ? 18 : 34;
    for (KvStorage storage : {KvStorage::kContiguous, KvStorage::kRing, KvStorage::kPaged}) {
      const int64_t heads = rng.Int(1, 3), d = 32 * rng.Int(1, 4), dv = 32 * rng.Int(0, 3), tokens = rng.Int(1, 120);
      const int64_t size = storage == KvStorage::kPaged ? int64_t{1} << rng.Int(0, 5)
                           : storage == KvStorage::kRing  ? rng.Int(1, 60)
                                                          : tokens + rng.Int(0, 5);
      const int64_t used = (tokens + size - 1) / size;
      KvCacheLayout l = Layout(type, heads, d, dv, storage, size, used + 2);
      l.block = 32;
      const int64_t vd = dv > 0 ? dv : d, page_tokens = size;
      const int64_t k_row = d / 32 * block_bytes, v_row = vd / 32 * block_bytes;
      const int64_t page_bytes = (page_tokens * heads * (k_row + v_row) + 63) / 64 * 64;
      INFO(ek::DTypeName(type) << " " << ek::KvStorageName(storage) << " of " << size << ", heads " << heads << ", d " << d
                               << ", dv " << vd << ", tokens " << tokens);
      REQUIRE(Bytes(l) == static_cast<size_t>(page_bytes * (storage == KvStorage::kPaged ? used + 2 : 1)));
      HeldCache held(l, used);
      std::vector<uint8_t>& memory = held.memory;
      const std::vector<int32_t>& table = held.table;
      KvCache& c = held.c;
      // Rows of values at scales from 1e-3 to 1e3, some blocks zero, padded rows (strided views).
      std::vector<float> k(static_cast<size_t>(tokens * heads * (d + 2))), v(static_cast<size_t>(tokens * heads * (vd + 1)));
      for (std::vector<float>* x : {&k, &v}) {
        for (size_t e = 0; e < x->size(); e += 32) {
          const float magnitude = rng.Int(0, 9) == 0 ? 0.0f : std::pow(10.0f, rng.Uniform(-3.0f, 3.0f));
          for (size_t f = e; f < std::min(x->size(), e + 32); ++f) (*x)[f] = magnitude * rng.Uniform(-1.0f, 1.0f);
        }
      }
      for (int64_t j = 0; j < tokens;) {
        const int64_t t = std::min<int64_t>(rng.Int(1, 30), tokens - j);
        const ek::Status st = ek::KvCacheAppend(
            &c,
            TensorView::Host(DType::kF32, k.data(), {t, heads, d}).WithStrides({heads * (d + 2), d + 2, 1}).WithOffset(j * heads * (d + 2)),
            TensorView::Host(DType::kF32, v.data(), {t, heads, vd}).WithStrides({heads * (vd + 1), vd + 1, 1}).WithOffset(j * heads * (vd + 1)));
        INFO(st.message());
        REQUIRE(st.ok());
        j += t;
      }
      const int64_t first = storage == KvStorage::kRing && tokens > size ? tokens - size : 0;
      std::vector<bool> touched(memory.size(), false);
      int failures = 0;
      for (int64_t j = first; j < tokens; ++j) {
        const int64_t page = storage == KvStorage::kPaged ? table[static_cast<size_t>(j / size)] : 0;
        const int64_t slot = storage == KvStorage::kContiguous ? j : j % size;
        for (int64_t g = 0; g < heads; ++g) {
          for (int value = 0; value < 2; ++value) {
            const int64_t dim = value ? vd : d, row_bytes = value ? v_row : k_row;
            const int64_t at = page * page_bytes + (value ? page_tokens * heads * k_row : 0) + (slot * heads + g) * row_bytes;
            const float* src = value ? &v[static_cast<size_t>((j * heads + g) * (vd + 1))] : &k[static_cast<size_t>((j * heads + g) * (d + 2))];
            for (int64_t b = 0; b < dim / 32; ++b) {
              uint8_t want[34];
              ek::ref::QuantizeKvBlock(q4, src + b * 32, want);
              const uint8_t* got = memory.data() + at + b * block_bytes;
              for (int64_t e = 0; e < block_bytes; ++e) touched[static_cast<size_t>(at + b * block_bytes + e)] = true;
              if (std::memcmp(got, want, static_cast<size_t>(block_bytes)) != 0 && failures++ < 3) {
                FAIL_CHECK("token " << j << " head " << g << (value ? " V" : " K") << " block " << b << " differs");
              }
            }
            // The row is ggml's: gguf.h's dequantization of it gives the specification's values.
            std::vector<float> back(static_cast<size_t>(dim));
            REQUIRE(ek::DequantizeGgufRows(q4 ? ek::GgufType::kQ4_0 : ek::GgufType::kQ8_0, memory.data() + at,
                                                   static_cast<size_t>(row_bytes), 1, dim,
                                                   TensorView::Host(DType::kF32, back.data(), {1, dim}))
                        .ok());
            for (int64_t e = 0; e < dim; ++e) {
              const float want = ek::ref::KvBlockValue(q4, memory.data() + at + e / 32 * block_bytes, static_cast<int>(e % 32));
              if (back[static_cast<size_t>(e)] != want && failures++ < 3) FAIL_CHECK("value " << e << " of token " << j);
            }
          }
        }
      }
      CHECK(failures == 0);
      int stray = 0;
      for (size_t e = 0; e < touched.size(); ++e) {
        if (!touched[e] && memory[e] != 0xFF && stray++ < 3) FAIL_CHECK("byte " << e << " written");
      }
      CHECK(stray == 0);
    }
  }
}

TEST_CASE("KvCache GGUF blocks: the rule's edges follow the specification, and the values are close", "[kv_cache]") {
  // Zero, tiny (below FLT_MIN x 127 / 8), huge (past f16's range), NaN and inf blocks, ties of
  // the largest magnitude, a block of equal values; then every value of ordinary blocks within
  // half a step (Q8_0) or a step (Q4_0) of its source.
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  std::vector<std::vector<float>> blocks;
  const auto add = [&](float fill, std::vector<std::pair<int, float>> set) {
    std::vector<float> b(32, fill);
    for (const auto& e : set) b[static_cast<size_t>(e.first)] = e.second;
    blocks.push_back(b);
  };
  add(0.0f, {});
  add(1e-39f, {{3, -2e-39f}});
  add(0.5f, {{0, nan}});
  add(0.0f, {{5, nan}});
  add(1.0f, {{7, inf}});
  add(1.0f, {{9, 3e6f}, {10, -1e6f}});
  add(0.25f, {{2, -3.0f}, {20, 3.0f}});  // equal magnitudes: the first (negative) sets Q4_0's sign
  add(2.0f, {});
  Rng rng(5);
  for (int i = 0; i < 40; ++i) {
    std::vector<float> b(32);
    const float magnitude = std::pow(10.0f, rng.Uniform(-1.5f, 4.0f));  // (scales f16 normals)
    for (float& x : b) x = magnitude * rng.Uniform(-1.0f, 1.0f);
    blocks.push_back(b);
  }
  for (DType type : {DType::kI8, DType::kI4}) {
    const bool q4 = type == DType::kI4;
    const int64_t block_bytes = q4 ? 18 : 34;
    KvCache c;
    c.layout = Layout(type, 1, 32, 32, KvStorage::kContiguous, static_cast<int64_t>(blocks.size()));
    c.layout.block = 32;
    std::vector<uint8_t> memory(Bytes(c.layout) + 1, 0xFF);
    c.memory = memory.data() + 1;  // (no alignment asked)
    c.bytes = memory.size() - 1;
    for (const std::vector<float>& b : blocks) {
      const TensorView t = TensorView::Host(DType::kF32, b.data(), {1, 1, 32});
      const ek::Status st = ek::KvCacheAppend(&c, t, t);
      INFO(st.message());
      REQUIRE(st.ok());
    }
    for (size_t j = 0; j < blocks.size(); ++j) {
      INFO(ek::DTypeName(type) << " block " << j);
      uint8_t want[34];
      ek::ref::QuantizeKvBlock(q4, blocks[j].data(), want);
      const uint8_t* got = static_cast<const uint8_t*>(c.memory) + j * static_cast<size_t>(block_bytes);
      CHECK(std::memcmp(got, want, static_cast<size_t>(block_bytes)) == 0);
      if (j < 8) continue;
      // |scale| = max |x| / 127 (Q8_0) or / 8 (Q4_0): rounding error within half a step, plus
      // the f16 scale's relative 2^-11 on each value.
      float amax = 0.0f;
      for (float x : blocks[j]) amax = std::max(amax, std::fabs(x));
      const float step = amax / (q4 ? 8.0f : 127.0f);
      for (int e = 0; e < 32; ++e) {
        const float x = blocks[j][static_cast<size_t>(e)], y = ek::ref::KvBlockValue(q4, got, e);
        CHECK(std::fabs(x - y) <= step * (q4 ? 1.0f : 0.5f) * 1.001f + amax * 0x1p-10f);
      }
    }
  }
  uint8_t zero[34];
  ek::ref::QuantizeKvBlock(true, blocks[0].data(), zero);
  CHECK(zero[2] == 0x88);  // Q4_0's zero: nibbles 8
}

TEST_CASE("KvCache: every rule of the layout and of an append names the argument, nothing written", "[kv_cache]") {
  size_t bytes = 0;
  const auto layout_rejects = [&](const KvCacheLayout& l, const char* fragment) {
    ExpectError(ek::KvCacheBytes(l, &bytes), StatusCode::kInvalidArgument, fragment);
  };
  const KvCacheLayout good = Layout(DType::kF32, 2, 8, 4, KvStorage::kPaged, 4, 3);
  KvCacheLayout l = good;
  l.type = DType::kI32;
  layout_rejects(l, "layout.type: i32, expected f32, f16, i8 or i4");
  l = good;
  l.kv_heads = 0;
  layout_rejects(l, "layout.kv_heads");
  l = good;
  l.head_dim = 4097;
  layout_rejects(l, "layout.head_dim");
  l = good;
  l.value_dim = -1;
  layout_rejects(l, "layout.value_dim");
  l = good;
  l.page_tokens = 6;
  layout_rejects(l, "layout.page_tokens: must be a power of two");
  l = good;
  l.num_pages = 0;
  layout_rejects(l, "layout.num_pages");
  l = Layout(DType::kF32, 2, 8, 4, KvStorage::kRing, 0);
  layout_rejects(l, "layout.capacity");
  l = Layout(DType::kF32, 4096, 4096, 4096, KvStorage::kContiguous, int64_t{1} << 40);
  layout_rejects(l, "layout: the cache would take more than 2^50 bytes");
  l = good;
  l.storage = static_cast<KvStorage>(7);
  layout_rejects(l, "layout.storage");
  l = good;
  l.block = 16;
  layout_rejects(l, "layout.block: 16, expected 0 or 32");
  l.block = 32;
  layout_rejects(l, "layout.block: 32 is for i8 (Q8_0) and i4 (Q4_0) caches, the type is f32");
  l = good;
  l.type = DType::kI4;
  layout_rejects(l, "layout.block: 0, an i4 cache is quantized in blocks of 32 (Q4_0)");
  l.block = 32;
  layout_rejects(l, "layout.head_dim: 8, must be a multiple of 32 in a cache of GGUF blocks");
  l.head_dim = 64;
  layout_rejects(l, "layout.value_dim: 4, must be a multiple of 32");
  l.value_dim = 0;  // (dv = d = 64)
  CHECK(Bytes(l) == 3 * 576);  // 4 tokens x 2 heads x (36 + 36) bytes = 576 per page (9 x 64)
  ExpectError(ek::KvCacheBytes(good, nullptr), StatusCode::kInvalidArgument, "bytes: is null");

  // Appends: a paged cache with 2 of its 3 pages in the table (8 tokens of room), 5 tokens in.
  std::vector<uint8_t> memory(Bytes(good), 0xAB);
  const std::vector<int32_t> table = {2, 0};
  KvCache c;
  c.layout = good;
  c.memory = memory.data();
  c.bytes = memory.size();
  c.block_table = table.data();
  c.block_table_size = 2;
  std::vector<float> k(8 * 2 * 8, 0.5f), v(8 * 2 * 4, 0.25f);
  const auto kv = [&](int64_t t) { return TensorView::Host(DType::kF32, k.data(), {t, 2, 8}); };
  const auto vv = [&](int64_t t) { return TensorView::Host(DType::kF32, v.data(), {t, 2, 4}); };
  REQUIRE(ek::KvCacheAppend(&c, kv(5), vv(5)).ok());
  const std::vector<uint8_t> before = memory;
  const auto rejects = [&](KvCache cache, const TensorView& key, const TensorView& value, const char* fragment) {
    const int64_t length = cache.length;
    ExpectError(ek::KvCacheAppend(&cache, key, value), StatusCode::kInvalidArgument, fragment);
    CHECK(cache.length == length);
    CHECK(memory == before);
  };
  rejects(c, kv(4), vv(4), "k: 4 tokens, the cache has room for 3 more");
  rejects(c, kv(2), vv(3), "v: must have k's number of tokens");
  rejects(c, TensorView::Host(DType::kF32, k.data(), {2, 2, 7}), vv(2), "k: expected shape [tokens, 2, 8]");
  rejects(c, kv(2), TensorView::Host(DType::kF32, v.data(), {2, 1, 4}), "v: expected shape [tokens, 2, 4]");
  rejects(c, TensorView::Host(DType::kF16, k.data(), {2, 2, 8}), vv(2), "k: dtype f16, expected f32");
  rejects(c, kv(2).WithStrides({32, 16, 2}), vv(2), "k: head_dim stride must be 1");
  KvCache bad = c;
  bad.length = 9;
  rejects(bad, kv(1), vv(1), "cache.length: 9, must be in [0, 8]");
  bad = c;
  const std::vector<int32_t> out_of_pool = {2, 3};
  bad.block_table = out_of_pool.data();
  rejects(bad, kv(1), vv(1), "cache.block_table[1]: page 3, the pool has 3");
  bad = c;
  bad.memory = nullptr;
  rejects(bad, kv(1), vv(1), "cache.memory: is null");
  bad = c;
  bad.bytes = 10;
  rejects(bad, kv(1), vv(1), "cache.bytes: 10");
  // The new rows inside the cache itself.
  rejects(c, TensorView::Host(DType::kF32, memory.data(), {1, 2, 8}), vv(1), "cache.memory: overlaps k");
  ExpectError(ek::KvCacheAppend(nullptr, kv(1), vv(1)), StatusCode::kInvalidArgument, "cache: is null");
  // A contiguous cache is full at its capacity; a ring never is.
  KvCache flat;
  flat.layout = Layout(DType::kF32, 2, 8, 4, KvStorage::kContiguous, 6);
  std::vector<uint8_t> flat_memory(Bytes(flat.layout));
  flat.memory = flat_memory.data();
  flat.bytes = flat_memory.size();
  REQUIRE(ek::KvCacheAppend(&flat, kv(6), vv(6)).ok());
  ExpectError(ek::KvCacheAppend(&flat, kv(1), vv(1)), StatusCode::kInvalidArgument, "room for 0 more");
  // An int8 cache takes f32 rows only (it quantizes them).
  KvCache int8 = flat;
  int8.layout.type = DType::kI8;
  int8.length = 0;
  std::vector<uint16_t> half(k.size());
  ExpectError(ek::KvCacheAppend(&int8, TensorView::Host(DType::kF16, half.data(), {1, 2, 8}), vv(1)),
              StatusCode::kInvalidArgument, "k: dtype f16, expected f32");
  REQUIRE(ek::KvCacheAppend(&int8, kv(2), vv(2)).ok());
  flat.layout.storage = KvStorage::kRing;
  for (int i = 0; i < 3; ++i) REQUIRE(ek::KvCacheAppend(&flat, kv(8), vv(8)).ok());
  CHECK(flat.length == 30);
}

}  // namespace

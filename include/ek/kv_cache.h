// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// The KV cache of one attention layer (docs/attention.md, "The KV cache"): where a sequence's
// keys and values live, and how new tokens are appended. No kernels and no allocation: the
// caller owns the memory (KvCacheBytes), ek::Attention reads the cache in place
// (ek/attention.h), and ek::KvCacheAppend writes new rows into it.
//
//   ek::KvCacheLayout layout;                   // type, heads, dims, storage form
//   ek::KvCacheBytes(layout, &bytes);           // memory for the whole cache (or page pool)
//   ek::KvCache cache{layout, memory, bytes};   // + block_table for the paged form
//   ek::KvCacheAppend(&cache, k_new, v_new);    // k [t, kv_heads, d], v [t, kv_heads, dv]
//   ek::Attention(q, cache, out, options, ...); // the cache's keys 0 .. cache.length - 1
//
// Storage forms (token j is the j-th token appended, position j):
//   kContiguous  one region of `capacity` tokens; token j at slot j.
//   kRing        one region of `capacity` slots; token j at slot j % capacity, so only the
//                last `capacity` tokens are kept: attention sees keys length - capacity ..
//                length - 1 (the sliding-window models' cache: capacity >= window + the
//                query tokens of a call - 1 keeps every key their mask shows).
//   kPaged       a pool of `num_pages` pages of `page_tokens` tokens (a power of two); the
//                sequence's block table (int32 page indices, the caller's array) says which
//                page holds its tokens i * page_tokens .. (i + 1) * page_tokens - 1. Several
//                sequences share one pool through their own tables (pages shared by two
//                tables, a common prefix, are read by both; appending into a shared page is
//                the caller's decision), the layout of serving runtimes' paged attention.
// In memory, every page (the contiguous and ring forms are one page of `capacity` tokens) is
// K as [tokens, kv_heads, d] then V as [tokens, kv_heads, dv], elements of `type`; int8 per
// row: then, from the next 64-byte boundary, the f32 scales of K's rows [tokens, kv_heads] and
// of V's; block-quantized: each row is d / 32 (dv / 32) GGUF blocks; the page rounded up to 64
// bytes.
//
// Element types (`type`, `block`):
//   f32, f16      f16: appended f32 rounded to nearest even, f16 rows copied
//   i8, block 0   int8 per token and head (f32 rows only: scale = max |x| / 127, q = round half
//                 away (x / scale); ref::Int8RowScale / ref::Int8Quantize)
//   i8, block 32  GGUF Q8_0 blocks: per 32 values an f16 scale (max |x| / 127) and 32 int8,
//                 34 bytes (ref::QuantizeKvBlock)
//   i4, block 32  GGUF Q4_0 blocks: per 32 values an f16 scale (the value of largest magnitude
//                 / -8) and 16 bytes of nibbles (value j in byte j's low nibble, j + 16 in its
//                 high one, stored + 8), 18 bytes
// A block-quantized cache's rows are byte for byte what ggml writes for those values (its
// tensors' row format): d and dv must be multiples of 32. One thread appends to a cache at a
// time, and not while an Attention call reads it.
#ifndef EK_KV_CACHE_H_
#define EK_KV_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <cfloat>
#include <cmath>
#include <cstring>

#include "ek/detail/int_math.h"
#include "ek/status.h"
#include "ek/tensor.h"
#include "ek/tensor_validate.h"
#include "hwy/base.h"

namespace ek {

enum class KvStorage : uint8_t { kContiguous = 0, kRing = 1, kPaged = 2 };

inline const char* KvStorageName(KvStorage s) {
  switch (s) {
    case KvStorage::kContiguous: return "contiguous";
    case KvStorage::kRing: return "ring";
    case KvStorage::kPaged: return "paged";
  }
  return "?";
}

struct KvCacheLayout {
  DType type = DType::kF32;  // the elements of K and V: f32, f16, i8 or i4 (see `block`)
  int64_t kv_heads = 0;
  int64_t head_dim = 0;   // d, of the keys
  int64_t value_dim = 0;  // dv, of the values (0: head_dim)
  KvStorage storage = KvStorage::kContiguous;
  int64_t capacity = 0;     // kContiguous, kRing: tokens (slots) of the region
  int64_t page_tokens = 0;  // kPaged: tokens per page, a power of two
  int64_t num_pages = 0;    // kPaged: pages in the pool
  int64_t block = 0;        // i8: 0 (per token and head) or 32 (Q8_0 blocks); i4: 32 (Q4_0 blocks)
};

// One layer's cache of one sequence. `memory` (any host memory of KvCacheBytes bytes, aligned
// to the element size, 4 bytes for int8 per row for its f32 scales, any for blocks) holds the region or the page pool;
// `length` counts the tokens appended. A caller may lower `length` to drop the last tokens (e.g.
// rejected speculative ones); a ring then still knows, from `written`, which of its slots were
// overwritten: it keeps tokens max(written, length) - capacity .. length - 1.
struct KvCache {
  KvCacheLayout layout;
  void* memory = nullptr;
  size_t bytes = 0;
  const int32_t* block_table = nullptr;  // kPaged: the sequence's pages, in token order
  int64_t block_table_size = 0;          // kPaged: entries in block_table
  int64_t length = 0;                    // tokens appended so far
  int64_t written = 0;                   // the highest length an append reached (KvCacheAppend keeps it)
};

namespace detail {

constexpr int64_t kKvMaxTokens = int64_t{1} << 40;

// GGUF's blocks: 32 values, an f16 scale, then 32 int8 (Q8_0) or 16 bytes of nibbles (Q4_0).
constexpr int64_t kKvBlockValues = 32;
constexpr int64_t KvBlockBytes(DType type) { return type == DType::kI4 ? 18 : 34; }

inline int64_t KvValueDim(const KvCacheLayout& l) { return l.value_dim > 0 ? l.value_dim : l.head_dim; }
// Block-quantized (rows of GGUF blocks; the unit of a row's size and offsets is the byte).
inline bool KvBlocked(const KvCacheLayout& l) { return l.block > 0; }
inline bool KvInt8PerRow(const KvCacheLayout& l) { return l.type == DType::kI8 && l.block == 0; }
inline int64_t KvElementBytes(const KvCacheLayout& l) { return l.type == DType::kF32 ? 4 : l.type == DType::kF16 ? 2 : 1; }
// Bytes of one head's row of `dim` values.
inline int64_t KvRowBytes(const KvCacheLayout& l, int64_t dim) {
  return KvBlocked(l) ? dim / kKvBlockValues * KvBlockBytes(l.type) : dim * KvElementBytes(l);
}
inline int64_t KvPageTokens(const KvCacheLayout& l) { return l.storage == KvStorage::kPaged ? l.page_tokens : l.capacity; }
inline int64_t KvPages(const KvCacheLayout& l) { return l.storage == KvStorage::kPaged ? l.num_pages : 1; }
// Bytes of K in a page (V follows).
inline int64_t KvPageKeyBytes(const KvCacheLayout& l) { return KvPageTokens(l) * l.kv_heads * KvRowBytes(l, l.head_dim); }
// int8 per row: the byte offset of the page's scales (f32, K's [tokens, heads] then V's), after V.
inline int64_t KvPageScaleOffset(const KvCacheLayout& l) {
  return RoundUp(KvPageKeyBytes(l) + KvPageTokens(l) * l.kv_heads * KvRowBytes(l, KvValueDim(l)), 64);
}
// Bytes of a page, rounded up to 64, and the same in elements.
inline int64_t KvPageBytes(const KvCacheLayout& l) {
  if (KvInt8PerRow(l)) return RoundUp(KvPageScaleOffset(l) + 2 * KvPageTokens(l) * l.kv_heads * 4, 64);
  return KvPageScaleOffset(l);
}
inline int64_t KvPageElements(const KvCacheLayout& l) { return KvPageBytes(l) / KvElementBytes(l); }

// The int8 cache's rule, per row of n values (a token's head; the query's head as attention
// reads it): scale = max |x| / 127, q = round half away from zero (x * (1 / scale)) within
// [-127, 127]; a row whose scale would be below FLT_MIN (zeros, or values under ~1.5e-36)
// has scale 0 and q = 0. GGUF's Q8_0 rule over the whole row, with an f32 scale. Defined for
// any input (NaN lands on -127 through fmax / fmin, never in a float-to-int conversion).
inline float QuantizeInt8Row(const float* x, int64_t n, int8_t* q) {
  float amax = 0.0f;
  for (int64_t c = 0; c < n; ++c) amax = std::fmax(amax, std::fabs(x[c]));
  float scale = amax / 127.0f;
  if (!(scale >= FLT_MIN)) scale = 0.0f;
  const float inverse = scale > 0.0f ? 1.0f / scale : 0.0f;
  for (int64_t c = 0; c < n; ++c) {
    q[c] = static_cast<int8_t>(std::fmin(127.0f, std::fmax(-127.0f, std::round(x[c] * inverse))));
  }
  return scale;
}

// One GGUF block of the 32 values x (docs/attention.md; ref::QuantizeKvBlock is the
// specification, written apart): ggml's quantize_row_q8_0 / q4_0 rule, the scale kept below
// f16's largest finite value and a scale below FLT_MIN taken as 0 (so every input, NaN and inf
// included, gives defined bytes). Q8_0: d = max |x| / 127, q = round half away (x / d) within
// [-127, 127]. Q4_0: d = (the value of largest magnitude, the first of equals) / -8,
// q = min(15, floor(x / d + 8.5)) from 0, value j's in byte j's low nibble, j + 16's in its high
// one. The scale stored as f16 (nearest even), q computed with the f32 d.
inline void QuantizeKvBlock(DType type, const float* x, uint8_t* block) {
  float amax = 0.0f, max = 0.0f;
  for (int64_t c = 0; c < kKvBlockValues; ++c) {
    if (std::fabs(x[c]) > amax) {
      amax = std::fabs(x[c]);
      max = x[c];
    }
  }
  const bool q4 = type == DType::kI4;
  float d = q4 ? max / -8.0f : amax / 127.0f;
  if (!(std::fabs(d) >= FLT_MIN)) d = 0.0f;
  d = std::fmin(65504.0f, std::fmax(-65504.0f, d));
  const float inverse = d != 0.0f ? 1.0f / d : 0.0f;
  const hwy::float16_t d16 = hwy::F16FromF32(d);
  std::memcpy(block, &d16, 2);
  if (d == 0.0f) {  // every value 0 (NaN too)
    std::memset(block + 2, q4 ? 0x88 : 0, q4 ? 16 : 32);
  } else if (q4) {
    for (int64_t j = 0; j < 16; ++j) {
      const auto nibble = [&](float v) {
        volatile float scaled = v * inverse;  // rounded before the add (no FMA contraction)
        return static_cast<uint8_t>(std::fmin(15.0f, std::fmax(0.0f, std::floor(scaled + 8.5f))));
      };
      block[2 + j] = static_cast<uint8_t>(nibble(x[j]) | (nibble(x[j + 16]) << 4));
    }
  } else {
    for (int64_t c = 0; c < kKvBlockValues; ++c) {
      block[2 + c] = static_cast<uint8_t>(static_cast<int8_t>(std::fmin(127.0f, std::fmax(-127.0f, std::round(x[c] * inverse)))));
    }
  }
}

// The layout's own rules, each named; the sizes it implies fit 2^50 bytes.
inline Status ValidateKvCacheLayout(const KvCacheLayout& l, const char* name) {
  if (l.type != DType::kF32 && l.type != DType::kF16 && l.type != DType::kI8 && l.type != DType::kI4) {
    return Status::Error(StatusCode::kInvalidArgument, "%s.type: %s, expected f32, f16, i8 or i4", name, DTypeName(l.type));
  }
  if (l.block != 0 && l.block != kKvBlockValues) {
    return Status::Error(StatusCode::kInvalidArgument, "%s.block: %lld, expected 0 or 32", name, static_cast<long long>(l.block));
  }
  if (l.block != 0 && l.type != DType::kI8 && l.type != DType::kI4) {
    return Status::Error(StatusCode::kInvalidArgument, "%s.block: 32 is for i8 (Q8_0) and i4 (Q4_0) caches, the type is %s",
                         name, DTypeName(l.type));
  }
  if (l.type == DType::kI4 && l.block == 0) {
    return Status::Error(StatusCode::kInvalidArgument, "%s.block: 0, an i4 cache is quantized in blocks of 32 (Q4_0)", name);
  }
  if (l.kv_heads < 1 || l.kv_heads > 4096) return Status::Error(StatusCode::kInvalidArgument, "%s.kv_heads: must be in [1, 4096]", name);
  if (l.head_dim < 1 || l.head_dim > 4096) return Status::Error(StatusCode::kInvalidArgument, "%s.head_dim: must be in [1, 4096]", name);
  if (l.value_dim < 0 || l.value_dim > 4096) {
    return Status::Error(StatusCode::kInvalidArgument, "%s.value_dim: must be in [0, 4096] (0: head_dim)", name);
  }
  switch (l.storage) {
    case KvStorage::kContiguous:
    case KvStorage::kRing:
      if (l.capacity < 1 || l.capacity > kKvMaxTokens) {
        return Status::Error(StatusCode::kInvalidArgument, "%s.capacity: must be in [1, 2^40] tokens", name);
      }
      break;
    case KvStorage::kPaged:
      if (l.page_tokens < 1 || l.page_tokens > (int64_t{1} << 20) || (l.page_tokens & (l.page_tokens - 1)) != 0) {
        return Status::Error(StatusCode::kInvalidArgument, "%s.page_tokens: must be a power of two in [1, 2^20]", name);
      }
      if (l.num_pages < 1 || l.num_pages > (int64_t{1} << 31) - 1) {
        return Status::Error(StatusCode::kInvalidArgument, "%s.num_pages: must be in [1, 2^31 - 1]", name);
      }
      break;
    default:
      return Status::Error(StatusCode::kInvalidArgument, "%s.storage: is not a KvStorage", name);
  }
  if (KvBlocked(l) && (l.head_dim % kKvBlockValues != 0 || KvValueDim(l) % kKvBlockValues != 0)) {
    return Status::Error(StatusCode::kInvalidArgument, "%s.%s: %lld, must be a multiple of 32 in a cache of GGUF blocks",
                         name, l.head_dim % kKvBlockValues != 0 ? "head_dim" : "value_dim",
                         static_cast<long long>(l.head_dim % kKvBlockValues != 0 ? l.head_dim : l.value_dim));
  }
  // Every factor is at most 2^40; the products are checked before KvPageElements forms them.
  // (int8: 8 bytes of scales per token and head, at most 128 bytes of rounding; a block of 32
  // values at most 34 bytes.)
  int64_t page = 0, elements = 0, bytes = 0;
  if (MulOverflows(KvPageTokens(l), l.kv_heads * (2 * (l.head_dim + KvValueDim(l)) + 8), &page) ||
      MulOverflows(page + 128, KvPages(l), &elements) || MulOverflows(elements, KvElementBytes(l), &bytes) ||
      bytes > (int64_t{1} << 50)) {
    return Status::Error(StatusCode::kInvalidArgument, "%s: the cache would take more than 2^50 bytes", name);
  }
  return Status::Ok();
}

// Tokens the cache can hold before an append fails (a ring never fills).
inline int64_t KvCacheTokenLimit(const KvCache& c) {
  switch (c.layout.storage) {
    case KvStorage::kContiguous: return c.layout.capacity;
    case KvStorage::kRing: return kKvMaxTokens;
    case KvStorage::kPaged: return c.block_table_size * c.layout.page_tokens;
  }
  return 0;
}

// The first token still stored: a ring has overwritten those before max(written, length) -
// capacity (a length lowered after the ring wrapped does not bring them back).
inline int64_t KvFirstStoredToken(const KvCache& c) {
  const int64_t high = c.written > c.length ? c.written : c.length;
  return c.layout.storage == KvStorage::kRing && high > c.layout.capacity ? high - c.layout.capacity : 0;
}

// Layout, memory, block table and length (ValidateKvPages: the table's entries).
inline Status ValidateKvCache(const KvCache& c, const char* name) {
  EK_RETURN_IF_ERROR(ValidateKvCacheLayout(c.layout, name));
  const uint64_t need = static_cast<uint64_t>(KvPageBytes(c.layout) * KvPages(c.layout));
  if (c.memory == nullptr) return Status::Error(StatusCode::kInvalidArgument, "%s.memory: is null", name);
  if (static_cast<uint64_t>(c.bytes) < need) {
    return Status::Error(StatusCode::kInvalidArgument, "%s.bytes: %llu, the layout needs %llu (KvCacheBytes)", name,
                         static_cast<unsigned long long>(c.bytes), static_cast<unsigned long long>(need));
  }
  const int64_t align = KvInt8PerRow(c.layout) ? 4 : KvElementBytes(c.layout);  // (int8 per row: its f32 scales)
  if (reinterpret_cast<uintptr_t>(c.memory) % static_cast<uintptr_t>(align) != 0) {
    return Status::Error(StatusCode::kInvalidArgument, "%s.memory: is not %lld-byte aligned", name,
                         static_cast<long long>(align));
  }
  if (reinterpret_cast<uintptr_t>(c.memory) + (need - 1) < reinterpret_cast<uintptr_t>(c.memory)) {
    return Status::Error(StatusCode::kInvalidArgument, "%s.memory: extends past the end of the address space", name);
  }
  if (c.layout.storage == KvStorage::kPaged) {
    if (c.block_table_size < 0 || c.block_table_size > kKvMaxTokens / c.layout.page_tokens) {
      return Status::Error(StatusCode::kInvalidArgument, "%s.block_table_size: must be in [0, 2^40 / page_tokens]", name);
    }
    if (c.block_table == nullptr && c.block_table_size > 0) {
      return Status::Error(StatusCode::kInvalidArgument, "%s.block_table: is null", name);
    }
  }
  if (c.written < 0 || c.written > kKvMaxTokens) {
    return Status::Error(StatusCode::kInvalidArgument, "%s.written: must be in [0, 2^40]", name);
  }
  if (c.length < 0 || c.length > KvCacheTokenLimit(c)) {
    return Status::Error(StatusCode::kInvalidArgument, "%s.length: %lld, must be in [0, %lld] (the cache's tokens)", name,
                         static_cast<long long>(c.length), static_cast<long long>(KvCacheTokenLimit(c)));
  }
  return Status::Ok();
}

// The pages of tokens below `tokens` (the table entries that cover them; at most
// block_table_size of them, which the caller's room check ensures) are in the pool.
inline Status ValidateKvPages(const KvCache& c, const char* name, int64_t tokens) {
  if (c.layout.storage == KvStorage::kPaged && tokens > 0) {
    for (int64_t i = 0; i < CeilDiv(tokens, c.layout.page_tokens); ++i) {
      if (c.block_table[i] < 0 || c.block_table[i] >= c.layout.num_pages) {
        return Status::Error(StatusCode::kInvalidArgument, "%s.block_table[%lld]: page %d, the pool has %lld", name,
                             static_cast<long long>(i), c.block_table[i], static_cast<long long>(c.layout.num_pages));
      }
    }
  }
  return Status::Ok();
}

// The page holding token j (its index in the pool) and its slot in that page.
inline void KvPageSlot(const KvCache& c, int64_t j, int64_t* page, int64_t* slot) {
  const KvCacheLayout& l = c.layout;
  *page = l.storage == KvStorage::kPaged ? c.block_table[j / l.page_tokens] : 0;
  *slot = l.storage == KvStorage::kPaged ? j % l.page_tokens : (l.storage == KvStorage::kRing ? j % l.capacity : j);
}

}  // namespace detail

// Bytes of memory the layout needs (the region, or the whole page pool).
inline Status KvCacheBytes(const KvCacheLayout& layout, size_t* bytes) {
  if (bytes == nullptr) return detail::InvalidArg("bytes", "is null");
  EK_RETURN_IF_ERROR(detail::ValidateKvCacheLayout(layout, "layout"));
  *bytes = static_cast<size_t>(detail::KvPageBytes(layout) * detail::KvPages(layout));
  return Status::Ok();
}

// Appends t tokens: k [t, kv_heads, d] and v [t, kv_heads, dv], host views of f32 (or f16 for
// an f16 cache), unit stride along the head dim, become tokens length .. length + t - 1 (f32
// into an f16 cache rounded to nearest even; into an int8 cache quantized per token and head,
// or into GGUF blocks).
// A paged cache's table must already name the pages those tokens fall in. Everything is
// checked before a byte is written. (Scalar: an append is O(t x heads x d), small beside the
// attention that reads the whole cache.)
inline Status KvCacheAppend(KvCache* cache, const TensorView& k, const TensorView& v) {
  if (cache == nullptr) return detail::InvalidArg("cache", "is null");
  EK_RETURN_IF_ERROR(detail::ValidateKvCache(*cache, "cache"));
  const KvCacheLayout& l = cache->layout;
  const int64_t dims[2] = {l.head_dim, detail::KvValueDim(l)};
  const TensorView* rows[2] = {&k, &v};
  const char* names[2] = {"k", "v"};
  for (int kv = 0; kv < 2; ++kv) {
    const TensorView& t = *rows[kv];
    EK_RETURN_IF_ERROR(ValidateView(t, names[kv]));
    EK_RETURN_IF_ERROR(RequireHostMemory(t, names[kv]));
    if (t.dtype != DType::kF32 && (t.dtype != l.type || l.type != DType::kF16)) {
      return Status::Error(StatusCode::kInvalidArgument, "%s: dtype %s, expected f32%s%s", names[kv], DTypeName(t.dtype),
                           l.type == DType::kF16 ? " or the cache's " : "", l.type == DType::kF16 ? "f16" : "");
    }
    if (t.rank != 3 || t.shape[1] != l.kv_heads || t.shape[2] != dims[kv]) {
      return Status::Error(StatusCode::kInvalidArgument, "%s: expected shape [tokens, %lld, %lld] (the cache's heads and dim)",
                           names[kv], static_cast<long long>(l.kv_heads), static_cast<long long>(dims[kv]));
    }
    if (t.strides[2] != 1 && t.shape[2] > 1) return detail::InvalidArg(names[kv], "head_dim stride must be 1");
  }
  if (v.shape[0] != k.shape[0]) return detail::InvalidArg("v", "must have k's number of tokens");
  const int64_t tokens = k.shape[0];
  const int64_t room = detail::KvCacheTokenLimit(*cache) - cache->length;
  if (tokens > room) {
    return Status::Error(StatusCode::kInvalidArgument, "k: %lld tokens, the cache has room for %lld more",
                         static_cast<long long>(tokens), static_cast<long long>(room));
  }
  const int64_t end = cache->length + tokens;
  EK_RETURN_IF_ERROR(detail::ValidateKvPages(*cache, "cache", end));  // the pages held and the new ones
  AliasCheck alias;
  alias.AddView(k, "k", AliasCheck::Role::kInput);
  alias.AddView(v, "v", AliasCheck::Role::kInput);
  alias.AddBytes(cache->memory, cache->bytes, "cache.memory", "", AliasCheck::Role::kOutput);
  if (l.storage == KvStorage::kPaged) {
    alias.AddBytes(cache->block_table, static_cast<uint64_t>(cache->block_table_size) * 4, "cache.block_table", "",
                   AliasCheck::Role::kInput);
  }
  EK_RETURN_IF_ERROR(alias.Check());

  // A ring keeps the last `capacity` tokens: earlier ones of this call would be overwritten.
  const int64_t first = l.storage == KvStorage::kRing && tokens > l.capacity ? tokens - l.capacity : 0;
  const size_t elem = static_cast<size_t>(detail::KvElementBytes(l));
  const int64_t slots = detail::KvPageTokens(l);
  for (int64_t i = first; i < tokens; ++i) {
    int64_t page = 0, slot = 0;
    detail::KvPageSlot(*cache, cache->length + i, &page, &slot);
    uint8_t* const page_base = static_cast<uint8_t*>(cache->memory) + page * detail::KvPageBytes(l);
    for (int kv = 0; kv < 2; ++kv) {
      const TensorView& t = *rows[kv];
      const int64_t dim = dims[kv];
      // K's rows, or V's after the page's K; int8 per row: the scales after both, K's then V's.
      uint8_t* const rows_base = page_base + (kv == 1 ? detail::KvPageKeyBytes(l) : 0);
      const int64_t row_bytes = detail::KvRowBytes(l, dim);
      for (int64_t g = 0; g < l.kv_heads; ++g) {
        uint8_t* dst = rows_base + static_cast<size_t>((slot * l.kv_heads + g) * row_bytes);
        const uint8_t* src = static_cast<const uint8_t*>(t.memory.host) +
                             static_cast<size_t>(t.offset + i * t.strides[0] + g * t.strides[1]) * DTypeBits(t.dtype) / 8;
        if (detail::KvBlocked(l)) {
          for (int64_t b = 0; b < dim / detail::kKvBlockValues; ++b) {
            detail::QuantizeKvBlock(l.type, reinterpret_cast<const float*>(src) + b * detail::kKvBlockValues,
                                    dst + b * detail::KvBlockBytes(l.type));
          }
        } else if (l.type == DType::kI8) {
          float* scales = reinterpret_cast<float*>(page_base + detail::KvPageScaleOffset(l));
          scales[(kv == 1 ? slots * l.kv_heads : 0) + slot * l.kv_heads + g] =
              detail::QuantizeInt8Row(reinterpret_cast<const float*>(src), dim, reinterpret_cast<int8_t*>(dst));
        } else if (t.dtype == l.type) {
          std::memcpy(dst, src, static_cast<size_t>(dim) * elem);
        } else {  // f32 into f16
          for (int64_t c = 0; c < dim; ++c) {
            float f;
            std::memcpy(&f, src + c * 4, 4);
            const hwy::float16_t h = hwy::F16FromF32(f);
            std::memcpy(dst + c * 2, &h, 2);
          }
        }
      }
    }
  }
  cache->length = end;
  if (cache->written < end) cache->written = end;
  return Status::Ok();
}

}  // namespace ek

#endif  // EK_KV_CACHE_H_

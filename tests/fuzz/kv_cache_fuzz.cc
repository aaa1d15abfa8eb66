// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Fuzz target: the KV cache (ek/kv_cache.h) and attention over it (ek/attention.h) with any
// layout, memory size and alignment, block table, length, high-water mark, appended rows and
// queries. Every buffer is exactly the size the cache or view claims (heap, so ASan's redzones
// sit right after it): validation must refuse what does not fit, and an accepted append or
// attention call must stay inside the buffers, whatever the input.
#include "ek/attention.h"  // first: it asks for its kernel family

#include <cstdint>
#include <cstring>
#include <climits>
#include <vector>

#include "ek/kv_cache.h"
#include "fuzz_util.h"

namespace {

// Mostly small useful values from one byte (`offset + byte % modulo`), sometimes an extreme.
int64_t Small(ek_fuzz::Input& in, int64_t offset, int64_t modulo) {
  const uint8_t b = in.Byte();
  if (b < 240) return offset + b % modulo;
  const int64_t e = in.Extent();
  return b & 1 || e == INT64_MIN ? e : e - 1;  // (-1 too: the extents' neighbours)
}

ek::DType PickType(ek_fuzz::Input& in) {
  const uint8_t b = in.Byte();
  switch (b % 5) {
    case 0: return ek::DType::kF32;
    case 1: return ek::DType::kF16;
    case 2: return ek::DType::kI8;
    case 3: return ek::DType::kF32;
    default: return static_cast<ek::DType>(b % 9);  // any, invalid ones too
  }
}

// A dense host view of `dtype` over a buffer of exactly its bytes. Shapes too large for that
// (or extents < 1) get zero strides over one row of `dim` elements (what the view really
// spans: a caller's view never claims memory it does not have), or for a dim beyond any
// cache's 4096, a 16-byte buffer the view overstates: such a dim must be refused unread.
ek::TensorView DenseView(ek::DType dtype, int64_t t, int64_t heads, int64_t dim, std::vector<uint8_t>* buffer,
                         ek_fuzz::Input& in) {
  const int64_t elem = ek::DTypeBits(dtype) >= 8 ? ek::DTypeBits(dtype) / 8 : 1;
  const bool fits = t >= 1 && heads >= 1 && dim >= 1 && t <= 64 && heads <= 64 && dim <= 256 &&
                    t * heads * dim * elem <= 65536;
  const size_t row_bytes = dim >= 1 && dim <= 4096 ? static_cast<size_t>(dim * elem) : 16;
  buffer->assign(fits ? static_cast<size_t>(t * heads * dim * elem) : row_bytes, 0);
  for (size_t i = 0; i < buffer->size(); ++i) (*buffer)[i] = static_cast<uint8_t>(in.Byte() & 0x3F);  // small finite values
  ek::TensorView v = ek::TensorView::Host(dtype, buffer->data(), {t, heads, dim});
  if (!fits) v = v.WithStrides({0, 0, 1});
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ek_fuzz::Input in(data, size);
  ek::KvCacheLayout l;
  l.type = PickType(in);
  l.storage = static_cast<ek::KvStorage>(in.Byte() % 4);  // 3: invalid
  l.kv_heads = Small(in, 1, 4);
  l.head_dim = Small(in, 1, 40);
  l.value_dim = Small(in, 0, 40);
  l.capacity = Small(in, 0, 65);
  l.page_tokens = Small(in, 0, 33);
  l.num_pages = Small(in, 0, 9);
  // GGUF blocks (Q8_0 with i8, Q4_0 with i4; other types or sizes refused), usually with head
  // dims they take.
  const uint8_t quant = in.Byte();
  l.block = quant % 3 == 0 ? 32 : quant % 7 == 1 ? Small(in, -1, 40) : 0;
  if (l.block == 32 && quant % 2 == 0) {
    if (quant % 4 == 0) l.type = quant % 8 == 0 ? ek::DType::kI4 : ek::DType::kI8;
    l.head_dim = 32 * (1 + l.head_dim % 2);
    l.value_dim = 32 * (l.value_dim % 3);
  }
  size_t need = 0;
  const bool layout_ok = ek::KvCacheBytes(l, &need).ok();
  // The memory: the layout's size, a byte short, 8 over, or any size up to 64 KB; at an offset
  // of 0..3 bytes (alignment).
  const uint8_t mode = in.Byte();
  size_t bytes = static_cast<size_t>(in.Value<uint16_t>());
  if (layout_ok && need <= 65536) bytes = mode % 4 == 0 ? need : mode % 4 == 1 ? need - 1 : mode % 4 == 2 ? need + 8 : bytes;
  const size_t misalign = (mode >> 2) % 4;
  std::vector<uint8_t> memory(bytes + misalign, 0xA5);
  std::vector<int32_t> table(static_cast<size_t>(in.Byte() % 10));
  // Pages of the pool, one or two past it, and negative ones.
  const int32_t page_range = l.num_pages >= 0 && l.num_pages < 100 ? static_cast<int32_t>(l.num_pages) + 2 : 5;
  for (int32_t& page : table) page = static_cast<int32_t>(static_cast<int8_t>(in.Byte())) % page_range;
  ek::KvCache cache;
  cache.layout = l;
  cache.memory = memory.data() + misalign;
  cache.bytes = bytes;
  cache.block_table = table.empty() && in.Byte() % 2 ? nullptr : table.data();
  cache.block_table_size = in.Byte() % 8 == 0 ? Small(in, -1, 20) : static_cast<int64_t>(table.size());
  cache.length = Small(in, 0, 40);
  cache.written = in.Byte() % 4 == 0 ? Small(in, 0, 200) : 0;
  if (cache.block_table_size > static_cast<int64_t>(table.size())) cache.block_table_size = static_cast<int64_t>(table.size());  // (the table's real size: a caller's lie is not detectable)
  if (cache.block_table == nullptr && cache.block_table_size > 0) cache.block_table_size = in.Byte() % 2;  // null with entries: must be refused

  // Appends: rows of the cache's shape (or not), f32 / f16 / int8 / anything.
  for (int round = 0; round < 2; ++round) {
    const int64_t t = Small(in, 0, 9);
    const int64_t heads = in.Byte() % 8 == 0 ? Small(in, 0, 5) : l.kv_heads;
    const int64_t dim_k = in.Byte() % 8 == 0 ? Small(in, 0, 41) : l.head_dim;
    const int64_t dim_v = in.Byte() % 8 == 0 ? Small(in, 0, 41) : (l.value_dim > 0 ? l.value_dim : l.head_dim);
    std::vector<uint8_t> k_buffer, v_buffer;
    const ek::DType row_type = in.Byte() % 4 == 0 ? PickType(in) : ek::DType::kF32;
    const ek::TensorView k = DenseView(row_type, t, heads, dim_k, &k_buffer, in);
    const ek::TensorView v = DenseView(row_type, t, heads, dim_v, &v_buffer, in);
    (void)ek::KvCacheAppend(&cache, k, v);
  }

  // Attention over whatever the cache holds now.
  const int64_t q_len = Small(in, 0, 4);
  const bool sane_heads = l.kv_heads >= 1 && l.kv_heads <= 64;
  const int64_t q_heads = in.Byte() % 8 == 0 || !sane_heads ? Small(in, 0, 9) : l.kv_heads * (1 + in.Byte() % 3);
  const int64_t d = in.Byte() % 8 == 0 ? Small(in, 0, 41) : l.head_dim;
  const int64_t dv = l.value_dim > 0 ? l.value_dim : l.head_dim;
  std::vector<uint8_t> q_buffer, out_buffer;
  const ek::TensorView q = DenseView(ek::DType::kF32, q_len, q_heads, d, &q_buffer, in);
  const ek::TensorView out = DenseView(ek::DType::kF32, q_len, q_heads, dv, &out_buffer, in);
  ek::AttentionOptions o;
  o.mask_kind = static_cast<ek::AttentionMask>(in.Byte() % 4);  // 3: invalid
  int64_t decode_position = 0;
  if (__builtin_sub_overflow(cache.length, q_len, &decode_position)) decode_position = 0;
  o.start_position = in.Byte() % 4 == 0 ? in.Extent() : decode_position;
  o.window = Small(in, 0, 50);
  (void)ek::Attention(q, cache, out, o);
  return 0;
}

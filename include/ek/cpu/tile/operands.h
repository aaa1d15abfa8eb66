// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// What every micro-kernel of ek/cpu/tile/ reads its A from, one template per element type (f32
// rows for the float tiles, u8 rows for the int8 tiles). Target-independent.
//
// An A source hands a tile its rows of A one k-chunk at a time: for chunk c and row r the values
// are Row(c, r)[k x KStride()] for k in [0, ChunkK()) (KStride 1 but for StridedRowsA). Rows past the tile's valid ones repeat row 0 (their results are
// never stored), so a micro-kernel never branches on the row count.
#ifndef EK_CPU_TILE_OPERANDS_H_
#define EK_CPU_TILE_OPERANDS_H_

#include <stddef.h>
#include <stdint.h>

#include "hwy/base.h"

namespace ek {
namespace detail {

// Rows of a tile, at most (the A sources hold this many row pointers; every target's tiles fit).
constexpr size_t kTileMaxRows = 8;

// Dense rows: one chunk of k_count, row r at rows[r] (a GEMM's A, or its staged A).
template <typename T>
struct DenseRowsA {
  const T* rows[kTileMaxRows];
  int64_t k_count = 0;
  HWY_INLINE int64_t Chunks() const { return 1; }
  HWY_INLINE int64_t ChunkK() const { return k_count; }
  HWY_INLINE const T* Row(int64_t /*chunk*/, size_t r) const { return rows[r]; }
  static constexpr int64_t KStride() { return 1; }
  static constexpr int kLoopMarkCode = 0;  // in the micro-kernels' loop marks (ek/cpu/tile/loop_mark.h)
};

// Rows whose k-th value is k_stride elements after the (k-1)-th: the columns of a row-major
// matrix, read as rows of its transpose without a copy (attention's P from its P^T buffer).
template <typename T>
struct StridedRowsA {
  const T* rows[kTileMaxRows];
  int64_t k_count = 0;
  int64_t k_stride = 1;
  HWY_INLINE int64_t Chunks() const { return 1; }
  HWY_INLINE int64_t ChunkK() const { return k_count; }
  HWY_INLINE const T* Row(int64_t /*chunk*/, size_t r) const { return rows[r]; }
  HWY_INLINE int64_t KStride() const { return k_stride; }
  static constexpr int kLoopMarkCode = 1;
};

// k-chunks of row pointers, for an indirect GEMM (a convolution's taps; XNNPACK's `ks` and
// KleidiAI's `k_chunk_count`): chunk c of row r starts at pointers[c * kTileMaxRows + r] +
// offset, or is the padding row `zero` itself (chunk_k values that contribute nothing: zeros,
// or the input's zero point for int8; never offset). The micro-kernels keep their accumulators
// in registers across chunks, so every output is still one chain over k.
template <typename T>
struct IndirectRowsA {
  const T* const* pointers = nullptr;
  int64_t chunks = 0;
  int64_t chunk_k = 0;
  size_t offset = 0;
  const T* zero = nullptr;
  HWY_INLINE int64_t Chunks() const { return chunks; }
  HWY_INLINE int64_t ChunkK() const { return chunk_k; }
  HWY_INLINE const T* Row(int64_t chunk, size_t r) const {
    const T* p = pointers[chunk * static_cast<int64_t>(kTileMaxRows) + static_cast<int64_t>(r)];
    return p == zero ? p : p + offset;
  }
  static constexpr int64_t KStride() { return 1; }
  static constexpr int kLoopMarkCode = 2;
};

}  // namespace detail
}  // namespace ek

#endif  // EK_CPU_TILE_OPERANDS_H_

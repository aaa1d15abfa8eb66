// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Software prefetch of what the tiles read next, spread over their k loops: a region of B split
// into 4 streams (PrefetchRegion, SplitIntoStreams) and one tile's share of it (PrefetchShare,
// ShareOfRegion). The loop nests plan it; the micro-kernel issues it. Compiled once per target.

#if defined(EK_CPU_TILE_PREFETCH_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef EK_CPU_TILE_PREFETCH_INL_H_
#undef EK_CPU_TILE_PREFETCH_INL_H_
#else
#define EK_CPU_TILE_PREFETCH_INL_H_
#endif

#include <stddef.h>
#include <stdint.h>

#include "hwy/cache_control.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace ek {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// A read prefetch of the line at p into every cache level. hwy::Prefetch is a no-op on aarch64
// in Highway 1.2 (its cache_control.h prefetches only with SSE2), so on aarch64 the compiler's
// builtin emits prfm pldl1keep: the prefetch plans tuned on x86 exist on Arm too (their effect
// there is not measured: docs/arm.md).
HWY_INLINE void PrefetchLine(const void* p) {
#if HWY_ARCH_ARM_A64 && (HWY_COMPILER_GCC || HWY_COMPILER_CLANG)
  __builtin_prefetch(p, 0, 3);
#else
  hwy::Prefetch(p);
#endif
}

// The part of B the tiles will read next (the next column tile's sliver of pre-packed B, or the
// next column chunk of a view of B before it is packed), split into 4 streams read side by side
// (SplitIntoStreams): stream 0 is rows of cache lines, `row_stride` bytes apart, and streams 1, 2
// and 3 are the same lines at + 1, 2 and 3 x stream_stride bytes. Every tile over the current
// sliver or chunk prefetches its share of stream 0's lines (ShareOfRegion) and the matching lines
// of the other three, 4 lines every every_mask + 1 (>= 8) k steps of its micro-kernel. So memory
// streams B while the FMAs run instead of the first row tile waiting for it, and 4 runs are in
// flight at once, which DRAM streams faster than one (the hardware prefetchers, which stop at
// page boundaries, also need not follow the jumps between panels or rows). Measured on Zen2,
// pre-packed B, driver medians: 8 x 4096 x 4096 42 -> 64 GFLOP/s and 16 x 4096 x 4096 68 -> 82
// with 4 streams instead of one.
struct PrefetchRegion {
  const void* base = nullptr;  // stream 0: rows x row_bytes, row_stride apart
  int64_t rows = 0;
  int64_t row_bytes = 0;
  int64_t row_stride = 0;
  int64_t stream_stride = 0;   // bytes from stream i to stream i + 1
};

// A region of `rows` rows x `row_bytes` bytes, row_stride apart, as 4 streams: 4 groups of rows
// (rows past a multiple of 4 are left to the hardware prefetchers), or, with fewer than 4 rows
// (the panels of a sliver of pre-packed B), the 4 quarters of every row.
HWY_INLINE PrefetchRegion SplitIntoStreams(const void* base, int64_t rows, int64_t row_bytes, int64_t row_stride) {
  PrefetchRegion region;
  region.base = base;
  region.row_stride = row_stride;
  region.rows = rows >= 4 ? rows / 4 : rows;
  region.row_bytes = rows >= 4 ? row_bytes : (row_bytes + 3) / 4;
  region.stream_stride = rows >= 4 ? region.rows * row_stride : region.row_bytes;
  return region;
}

struct PrefetchShare {
  const uint8_t* line = nullptr;      // the first line of this tile's share of stream 0
  const uint8_t* row_end = nullptr;   // the end of that line's row
  int64_t row_stride = 0;             // bytes from one row to the next
  int64_t row_bytes = 0;              // bytes of lines per row
  int64_t lines = 0;                  // lines in this tile's share of stream 0
  int64_t every_mask = 0;             // prefetch when (k & every_mask) == 0
  int64_t stream_stride = 0;          // PrefetchRegion's
};

constexpr int64_t kMinPrefetchK = 64;
constexpr int64_t kMinPrefetchEvery = 8;
// The share of tile `index` of `tiles` (the tiles over the current sliver or chunk) of a region's
// stream 0, spread over its k_count k steps.
HWY_INLINE PrefetchShare ShareOfRegion(const PrefetchRegion& r, int64_t index, int64_t tiles, int64_t k_count) {
  PrefetchShare share;
  const void* region = r.base;
  const int64_t rows = r.rows, row_bytes = r.row_bytes, row_stride = r.row_stride;
  // Short K blocks: the next sliver is small and the divisions below would cost more than it.
  if (region == nullptr || rows <= 0 || row_bytes <= 0 || tiles <= 0 || k_count < kMinPrefetchK) return share;
  share.stream_stride = r.stream_stride;
  // Whole lines from each row's first line (rows need not start on a line).
  const uintptr_t base = reinterpret_cast<uintptr_t>(region);
  const int64_t misaligned = (base % 64 != 0 || row_stride % 64 != 0) ? 1 : 0;
  const int64_t per_row = (row_bytes + 63) / 64 + misaligned;
  const int64_t total = rows * per_row;
  const int64_t first = index * total / tiles, last = (index + 1) * total / tiles;
  if (last <= first) return share;
  const int64_t row = first / per_row, line = first % per_row;
  const uint8_t* row_start = static_cast<const uint8_t*>(region) + row * row_stride;
  share.line = row_start + line * 64;
  share.row_end = row_start + per_row * 64;
  share.row_stride = row_stride;
  share.row_bytes = per_row * 64;
  share.lines = last - first;
  // At most one prefetch point every kMinPrefetchEvery k steps: each one ends a run of the k loop
  // (about 30 instructions of bookkeeping), which cost more than the prefetch gained when it came
  // every 2 steps (16 x 256 x 4096 pre-packed, B in L3, Zen2: 78 -> 97 GFLOP/s with the cap). A
  // larger share is cut there, the rest left to the hardware prefetchers.
  share.lines = HWY_MIN(share.lines, k_count / kMinPrefetchEvery);
  int64_t every = kMinPrefetchEvery;
  while (every * 2 * share.lines <= k_count) every *= 2;
  share.every_mask = every - 1;
  return share;
}

}  // namespace HWY_NAMESPACE
}  // namespace ek
HWY_AFTER_NAMESPACE();

#endif  // EK_CPU_TILE_PREFETCH_INL_H_

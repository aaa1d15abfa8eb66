// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Target-independent argument types shared by ek/gemm.h (validation, planning, threading) and
// the per-target GEMM kernels in ek/cpu/gemm/gemm-inl.h.
#ifndef EK_CPU_GEMM_ARGS_H_
#define EK_CPU_GEMM_ARGS_H_

#include <cstddef>
#include <cstdint>

#include "ek/detail/packed_format.h"
#include "ek/gemm_options.h"
#include "ek/tensor.h"

namespace ek {
namespace detail {

// k per block of f16 accumulation in the fp16 lane (error bound: docs/gemm.md).
constexpr int64_t kF16Block = kGemmF16BlockK;

// The descriptor of the selected target's float micro-kernels (ek/cpu/tile/shapes-inl.h and
// f32_tile-inl.h), read by every planner through GemmTileShape.
struct TileShape {
  size_t rows = 1;          // mr: rows of A / C per tile in the blocked GEMM
  size_t vectors = 1;       // column vectors per tile in the blocked GEMM (nr = vectors * lanes)
  size_t wide_vectors = 1;  // column vectors of the wide tile (2 rows: small-M path, M = 2)
  size_t gemv_vectors = 1;  // column vectors of the GEMV tile (1 row: small-M path, M = 1)
  size_t lanes = 1;         // f32 elements per vector (capped at the panel width)
  size_t k_step = 1;        // k per step of the micro-kernel (one FMA per accumulator)
  size_t panel_width = 16;  // columns per panel of packed B (kPanelWidth)
};

// The loop nest a call runs (PlanGemm; one path per call, chosen from the problem and options):
enum class GemmPath : uint8_t {
  kBlocked,        // M > 16: tasks are (row block, column block) pairs, cache-blocked
  kSmallM,         // M <= 16: tasks are column blocks, all rows (GEMM, wide or GEMV tiles)
  kRowStream,      // GEMV (M <= 2) on a row-major B not packed, f32 C: rows of B streamed, C accumulated in place
  kColumnStream,   // GEMV (M <= 2) on a transposed B not packed, unit stride along k: columns of B streamed
  kF16Arithmetic,  // the fp16 lane (f16 A, B and C, allow_f16_arithmetic, FEAT_FP16)
};

// One GEMM call after validation and staging, as the per-target task runner sees it:
//   C[m x n] = act(C_old (if accumulate) + A[m x k] * B[k x n] + bias[n])
struct GemmTaskArgs {
  // A: f32, row-major, unit column stride (f16 or strided A is staged to this by ek/gemm.h).
  const float* a = nullptr;
  int64_t lda = 0;

  // B: either pre-packed panels (b_panel_stride > 0: column j, row k at
  // (j / kPanelWidth) * b_panel_stride + k * kPanelWidth + j % kPanelWidth), or a view read in
  // place (b_panel_stride == 0: column j, row k at k * b_k_stride + j * b_n_stride). A view is
  // streamed by rows (row_stream: m <= 2, row-major), by columns (column_stream: m <= 2,
  // transposed with unit stride along k) or packed by each task on the fly, one K
  // block x pack_columns columns at a time, into the task's slot of the workspace
  // (pack_slots + task * pack_slot_bytes; ek/cpu/gemm/gemm-inl.h, PackBChunk).
  const void* b = nullptr;
  DType b_type = DType::kF32;  // f32, f16 or bf16
  int64_t b_panel_stride = 0;  // elements from one panel to the next; 0: a view
  int64_t b_k_stride = 0;      // a view only: elements from row k to row k + 1
  int64_t b_n_stride = 0;      // a view only: elements from column j to column j + 1
  uint8_t* pack_slots = nullptr;
  size_t pack_slot_bytes = 0;
  int64_t pack_columns = 0;    // a multiple of every tile width
  bool prefetch_next_chunk = false;  // tiles prefetch the next chunk's rows of the view (few rows of A)

  // C: row-major, unit column stride, f32 or f16.
  void* c = nullptr;
  DType c_type = DType::kF32;
  int64_t ldc = 0;

  const float* bias = nullptr;  // n values, or null
  bool accumulate = false;      // start from C's values instead of zero
  bool clamp = false;           // apply [clamp_min, clamp_max] after the bias
  float clamp_min = 0.0f;
  float clamp_max = 0.0f;

  int64_t m = 0, n = 0, k = 0;

  // fp16 lane (Arm FEAT_FP16, GemmPath::kF16Arithmetic): A, B (packed) and C are f16; A is read as f16 (a_f16, lda) and
  // products are summed in f16 over blocks of kF16Block k before being added in f32.
  const void* a_f16 = nullptr;

  // Plan (ek/gemm.h, PlanGemm): tasks are (row block, column block) pairs, row block major.
  GemmPath path = GemmPath::kBlocked;
  int64_t kc = 0;         // K block (blocked GEMM; K blocking never changes results, see gemm-inl.h)
  int64_t mc = 0;         // rows per row block (A's mc x kc in L2)
  int64_t row_block_rows = 0;  // rows per task: mc, or all of M when a view of B is packed on the fly
  int64_t nc = 0;         // columns per column block
  int64_t column_blocks = 1;
};

}  // namespace detail
}  // namespace ek

#endif  // EK_CPU_GEMM_ARGS_H_

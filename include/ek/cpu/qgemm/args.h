// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Target-independent types shared by ek/qgemm.h (validation, packing, planning, threading) and
// the per-target integer kernels in ek/cpu/qgemm/qgemm-inl.h. Layouts: docs/quantization.md.
#ifndef EK_CPU_QGEMM_ARGS_H_
#define EK_CPU_QGEMM_ARGS_H_

#include <cstddef>
#include <cstdint>

#include "ek/detail/packed_format.h"
#include "ek/detail/qweights.h"
#include "ek/tensor.h"

namespace ek {
namespace detail {

// Which instructions multiply A by B (ek::QGemmDotLane names the one that runs).
enum class QLane : uint8_t { kWiden, kDot, kMatmul };

// What the epilogue makes of the int32 dot products.
enum class QOutput : uint8_t {
  kRequantize,  // int8 / uint8 C: + col_term (+ row_term), requantize, clamp
  kDequantize,  // f32 C: (float(acc - za_m * colsum) * a_scale_m) * b_scale_n + bias, clamp
  kBlocks,      // f32 C, int4 per-block weights: sum over blocks of acc_block * block_scale
};

// The descriptor of the selected target's int8 micro-kernels for one lane, read by the planner
// through QGemmTileShape (ek/cpu/tile/shapes-inl.h, q8_lanes-inl.h).
struct QTileShape {
  size_t rows = 1;          // rows of the GEMM tile
  size_t block_rows = 1;    // rows of the GEMM tile per quantization block (per-block weights)
  size_t vectors = 1;       // int32 vectors of the GEMM tile
  size_t wide_rows = 2;     // the wide tile (M <= 2): wide_rows x wide_vectors
  size_t wide_vectors = 1;
  size_t lanes = 1;         // int32 elements per vector (capped at the panel width)
  size_t k_step = 4;        // k per multiply-accumulate step: a group (4; i8mm: 8); int4 B holds 8 k per 64 bytes
  size_t panel_width = 16;  // columns per panel of packed B (kQPanelWidth)
};

// One call after validation and staging (A quantized / shifted to u8 and packed by ek/qgemm.h).
struct QGemmTaskArgs {
  // A: u8, row-major, lda bytes per row, K padded with zeros to kp (a multiple of kQKAlign).
  const uint8_t* a = nullptr;
  int64_t lda = 0;

  // B: packed panels of s8 (b_int4 = false) or of two's complement nibbles (b_int4 = true: the low
  // nibbles of a 64-byte row are group 2g, the high nibbles group 2g + 1).
  const uint8_t* b = nullptr;
  int64_t b_panel_bytes = 0;
  bool b_int4 = false;

  QOutput output = QOutput::kRequantize;
  void* c = nullptr;
  DType c_type = DType::kF32;  // kRequantize: i8 or u8; otherwise f32
  int64_t ldc = 0;

  // kRequantize: q = clamp(Requantize(acc + col_term[n] + row_term[m]) with (multiplier[n],
  // shift[n]) + c_zero_point). Arrays are padded to whole panels.
  const int32_t* col_term = nullptr;
  const int32_t* row_term = nullptr;  // null: zero
  const int32_t* multiplier = nullptr;
  const int32_t* shift = nullptr;
  bool any_left_shift = false;  // some shift > 0 (a real multiplier >= 1)
  int32_t c_zero_point = 0;
  int32_t qmin = 0, qmax = 0;

  // kDequantize / kBlocks, per row of A (dynamic quantization): scale and zero point (u8 domain).
  const float* a_scale = nullptr;
  const int32_t* a_zero_point = nullptr;
  // Per column (padded to whole panels): b_scale (kDequantize; as given: int4 sums are shifted),
  // colsum (kDequantize: sum over k of the stored weights), weighted_colsum (kBlocks: sum over
  // blocks of block scale * block column sum, in f32), bias (f32 or null).
  const float* b_scale = nullptr;
  const int32_t* colsum = nullptr;
  const float* weighted_colsum = nullptr;
  const float* bias = nullptr;
  bool clamp = false;
  float clamp_min = 0.0f, clamp_max = 0.0f;
  // kBlocks: block_k k per block (a multiple of kQKAlign); block scales of panel p, block j at
  // element (p * blocks + j) * kQPanelWidth of block_scales, of block_scale_type (as given).
  int64_t block_k = 0;
  int64_t blocks = 0;
  const void* block_scales = nullptr;
  DType block_scale_type = DType::kF32;

  int64_t m = 0, n = 0, k = 0, kp = 0;

  // The multiply lane: kMatmul (Arm i8mm usmmla, NEON targets), kDot (the target's
  // dot-product instruction), kWiden (16-bit multiply-adds: no instruction, or forced off).
  QLane lane = QLane::kDot;

  // Plan: tasks are (row block, column block) pairs, row block major.
  int64_t mc = 0, nc = 0;
  int64_t column_blocks = 1;
};

}  // namespace detail
}  // namespace ek

#endif  // EK_CPU_QGEMM_ARGS_H_

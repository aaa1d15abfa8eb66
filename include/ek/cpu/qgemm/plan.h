// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// The integer GEMM's validation and plan, target-independent: operand checks against the packed
// header, the aliasing rule, the output kind (requantize, dequantize, per block), tasks, and the
// workspace sections. Never depends on the thread count.
#ifndef EK_CPU_QGEMM_PLAN_H_
#define EK_CPU_QGEMM_PLAN_H_

#include <cstdint>
#include <cstring>

#include "ek/cpu/qgemm/args.h"
#include "ek/detail/int_math.h"
#include "ek/detail/packed_format.h"
#include "ek/detail/workspace.h"
#include "ek/gemm_options.h"
#include "ek/packed_weights.h"
#include "ek/requantize.h"
#include "ek/status.h"
#include "ek/tensor.h"
#include "ek/tensor_validate.h"
#include "hwy/base.h"

namespace ek {
namespace detail {

// Everything QGemm derives from its operands, and where its workspace goes.
struct QGemmCall {
  detail::QGemmTaskArgs args;
  detail::PackedQGemmHeader header;
  detail::QPackedLayout layout;
  size_t num_tasks = 0;
  // Workspace sections (byte offsets): packed A, per-row and per-column terms.
  size_t a_offset = 0, row_offset = 0, row2_offset = 0, col_offset = 0, mult_offset = 0, shift_offset = 0;
  size_t workspace_bytes = 0;
};

// The aliasing rule (tensor_validate.h, AliasCheck): C and the workspace are the outputs; A, the
// packed weights, the bias and C's quant params the inputs.
inline Status CheckQGemmAliasing(const TensorView& a, const PackedWeights& packed, const TensorView& c,
                                 const QGemmOptions& o, const void* workspace, size_t workspace_bytes) {
  AliasCheck alias;
  alias.AddView(a, "a", AliasCheck::Role::kInput);
  alias.AddBytes(packed.data, packed.bytes, "packed_b", "", AliasCheck::Role::kInput);
  if (o.bias.rank != 0) alias.AddView(o.bias, "options.bias", AliasCheck::Role::kInput);
  alias.AddView(c, "c", AliasCheck::Role::kOutput, AliasCheck::Role::kInput);
  alias.AddBytes(workspace, workspace_bytes, "workspace", "", AliasCheck::Role::kOutput);
  return alias.Check();
}

// The smallest task worth a thread: 1 M int8 multiply-adds, a few microseconds on a phone's big
// core at its dot-product rate, so that the layers of a vision network (MobileNetV2's 1x1
// convolutions: 1-30 M) split across two threads (tasks of 8 M left most of them whole).
constexpr int64_t kQMinTaskMacs = int64_t{1} << 20;

// Validates the operands and plans the call for the multiply lane that runs (`lane`) and the
// selected target's tiles on it (`tile`).
inline Status PrepareQGemm(QLane lane, const QTileShape& tile, const TensorView& a, const PackedWeights& packed, const TensorView& c,
                           const QGemmOptions& o, QGemmCall& call) {
  detail::PackedQGemmHeader& h = call.header;
  EK_RETURN_IF_ERROR(detail::ReadQHeader(packed.data, packed.bytes, "packed_b", &h, &call.layout));
  const DType w_type = static_cast<DType>(h.weight_type);
  const auto kind = static_cast<detail::QScaleKind>(h.scale_kind);
  EK_RETURN_IF_ERROR(ValidateView(a, "a"));
  EK_RETURN_IF_ERROR(RequireHostMemory(a, "a"));
  if (a.rank != 2) return Status::Error(StatusCode::kInvalidArgument, "a: rank %d, expected 2", a.rank);
  if (a.shape[1] != h.k) {
    return Status::Error(StatusCode::kInvalidArgument, "a: has %lld columns, the packed weights have K = %lld",
                         static_cast<long long>(a.shape[1]), static_cast<long long>(h.k));
  }
  EK_RETURN_IF_ERROR(ValidateOutputView(c, "c"));
  EK_RETURN_IF_ERROR(RequireHostMemory(c, "c"));
  if (c.rank != 2 || c.shape[0] != a.shape[0] || c.shape[1] != h.n) {
    return Status::Error(StatusCode::kInvalidArgument, "c: expected shape [M, N] = [%lld, %lld]",
                         static_cast<long long>(a.shape[0]), static_cast<long long>(h.n));
  }
  if (c.strides[1] != 1 && c.shape[1] > 1) return detail::InvalidArg("c", "column stride must be 1");

  const bool dynamic = a.dtype == DType::kF32;
  if (dynamic) {
    if (w_type == DType::kU8) return detail::InvalidArg("a", "f32 (dynamic) activations need i8 or i4 weights");
    if (c.dtype != DType::kF32) return Status::Error(StatusCode::kInvalidArgument, "c: dtype is %s, expected f32 for f32 a", DTypeName(c.dtype));
  } else if (a.dtype == DType::kI8 || a.dtype == DType::kU8) {
    EK_RETURN_IF_ERROR(RequirePerTensorQuant(a, "a"));
    if (kind == detail::QScaleKind::kPerBlock) {
      return detail::InvalidArg("a", "per-block weights need f32 activations (quantized per row on the fly)");
    }
    if ((a.dtype == DType::kI8) != (w_type == DType::kI8)) {
      return Status::Error(StatusCode::kInvalidArgument, "a: %s activations need %s weights, packed weights are %s",
                           DTypeName(a.dtype), a.dtype == DType::kI8 ? "i8" : "u8", DTypeName(w_type));
    }
    if (c.dtype != a.dtype) return Status::Error(StatusCode::kInvalidArgument, "c: dtype is %s, expected %s like a", DTypeName(c.dtype), DTypeName(a.dtype));
    EK_RETURN_IF_ERROR(RequirePerTensorQuant(c, "c"));
  } else {
    return Status::Error(StatusCode::kInvalidArgument, "a: dtype is %s, expected i8, u8 or f32", DTypeName(a.dtype));
  }
  if (o.bias.rank != 0) {
    const DType bias_type = dynamic ? DType::kF32 : DType::kI32;
    EK_RETURN_IF_ERROR(ValidateView(o.bias, "options.bias"));
    EK_RETURN_IF_ERROR(RequireHostMemory(o.bias, "options.bias"));
    EK_RETURN_IF_ERROR(RequireDType(o.bias, "options.bias", bias_type));
    if (o.bias.rank != 1 || o.bias.shape[0] != h.n || (o.bias.strides[0] != 1 && h.n > 1)) {
      return Status::Error(StatusCode::kInvalidArgument, "options.bias: must be a contiguous %s vector of N elements",
                           DTypeName(bias_type));
    }
  }
  float act_lo = 0.0f, act_hi = 0.0f;
  EK_RETURN_IF_ERROR(ActivationBounds(o, &act_lo, &act_hi));
  EK_RETURN_IF_ERROR(CheckQGemmAliasing(a, packed, c, o, nullptr, 0));

  // ---- Shapes, plan and workspace ----
  detail::QGemmTaskArgs& g = call.args;
  const detail::QPackedLayout& l = call.layout;
  g.m = a.shape[0];
  g.n = h.n;
  g.k = h.k;
  g.kp = l.kp;
  g.lda = static_cast<int64_t>(detail::AlignBytes(static_cast<size_t>(l.kp)));
  g.b = static_cast<const uint8_t*>(packed.data) + sizeof(detail::PackedQGemmHeader);
  g.b_panel_bytes = l.panel_bytes;
  g.b_int4 = w_type == DType::kI4;
  g.c_type = c.dtype;
  g.ldc = c.strides[0];
  g.output = dynamic ? (kind == detail::QScaleKind::kPerBlock ? detail::QOutput::kBlocks : detail::QOutput::kDequantize)
                     : detail::QOutput::kRequantize;
  g.block_k = h.block_size;
  g.blocks = l.blocks;
  g.clamp = dynamic && o.activation != Activation::kNone;
  g.clamp_min = act_lo;
  g.clamp_max = act_hi;
  if (!dynamic) {
    const int32_t qmin = DTypeMin(c.dtype), qmax = DTypeMax(c.dtype);
    QuantizedActivationRange(act_lo, act_hi, c.quant.scale, c.quant.zero_point, qmin, qmax, &g.qmin, &g.qmax);
    g.c_zero_point = c.quant.zero_point;
  }
  const int64_t columns = l.panels * detail::kQPanelWidth;
  detail::WorkspaceLayout layout;
  call.a_offset = layout.Add(static_cast<size_t>(g.m * g.lda));
  call.row_offset = layout.Add(static_cast<size_t>(g.m) * 4);   // f32 scales (dynamic) or int32 row terms
  call.row2_offset = layout.Add(static_cast<size_t>(g.m) * 4);  // int32 zero points (dynamic)
  call.col_offset = layout.Add(static_cast<size_t>(columns) * 4);  // int32 column terms (requantize)
  call.mult_offset = layout.Add(static_cast<size_t>(columns) * 4);
  call.shift_offset = layout.Add(static_cast<size_t>(columns) * 4);
  call.workspace_bytes = layout.Bytes();

  // Tasks: row blocks (multiples of the lane's tile height) x column blocks (multiples of both
  // tile widths, the GEMM tile's and the wide tile's), about kQMinTaskMacs multiply-adds each,
  // at most 64. M <= 2 (the wide tile) keeps all rows in one block.
  const int64_t tile_rows = static_cast<int64_t>(g.output == QOutput::kBlocks ? tile.block_rows : tile.rows);
  const int64_t tile_cols =
      static_cast<int64_t>((tile.vectors > tile.wide_vectors ? tile.vectors : tile.wide_vectors) * tile.lanes);
  const int64_t macs = g.m * g.n * g.k;
  const int64_t want_tasks = HWY_MAX(int64_t{1}, HWY_MIN(int64_t{64}, macs / kQMinTaskMacs));
  const int64_t max_col_blocks = detail::CeilDiv(g.n, tile_cols);
  const int64_t col_blocks = HWY_MIN(want_tasks, max_col_blocks);
  const int64_t max_row_blocks = g.m <= 2 ? 1 : detail::CeilDiv(g.m, tile_rows);
  const int64_t row_blocks = HWY_MIN(detail::CeilDiv(want_tasks, col_blocks), max_row_blocks);
  g.nc = detail::RoundUp(detail::CeilDiv(g.n, col_blocks), tile_cols);
  g.mc = g.m <= 2 ? g.m : detail::RoundUp(detail::CeilDiv(g.m, row_blocks), tile_rows);
  g.column_blocks = detail::CeilDiv(g.n, g.nc);
  call.num_tasks = static_cast<size_t>(g.column_blocks * detail::CeilDiv(g.m, g.mc));
  g.lane = lane;
  return Status::Ok();
}

}  // namespace detail
}  // namespace ek

#endif  // EK_CPU_QGEMM_PLAN_H_

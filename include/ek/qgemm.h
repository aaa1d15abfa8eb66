// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Quantized GEMM and GEMV: C = A * B with int8 / uint8 / int4 weights, pre-packed.
// Schemes, numerics and the packed format: docs/quantization.md.
//
//   ek::PackedQGemmWeightsSize(b, transpose_b, &bytes)
//   ek::PackQGemmWeights(b, transpose_b, out, bytes)     B is [K x N] (or [N x K] if transposed)
//   ek::UnpackQGemmWeights(packed, b, transpose_b)       the values and scales back, exactly
//   ek::QGemmWorkspaceSize(a, packed, c, &bytes)
//   ek::QGemm(a, packed, c, options, ctx, workspace, bytes)
//   ek::QGemm(a, packed, c, options, ctx)                convenience: allocates its workspace
//
// The operand types select the kernel:
//   A i8  (per tensor, zero point)   x B i8 (symmetric, per tensor or per column)  -> C i8
//   A u8  (per tensor, zero point)   x B u8 (per tensor, zero point)               -> C u8
//       C is requantized: ek/requantize.h (gemmlowp's fixed-point rule), bias int32 [N] with scale
//       a_scale * b_scale and zero point 0, activation clamped in C's quantized domain.
//   A f32 (quantized per row on the fly, uint8 with a zero point: ek::DynamicRowParams)
//         x B i8 or i4 (symmetric; per tensor (i8), per column, or per block of 32 / 64 / 128
//           along K with f32 / f16 / bf16 scales)                                 -> C f32
//       C = dequantized result + bias f32 [N], then the activation.
// The int32 sums are exact. Integer outputs are bit-exact on every target and lane.
#ifndef EK_QGEMM_H_
#define EK_QGEMM_H_

// This TU's kernel pass compiles the integer GEMM family (ek/cpu/targets.h).
#ifndef EK_KERNELS_QGEMM
#define EK_KERNELS_QGEMM 1
#endif
#include "ek/cpu/targets.h"  // the kernel pass (the first ek header of the TU runs it)
#ifndef EK_COMPILED_QGEMM
#error "ek/qgemm.h: this TU's kernel pass ran (at its first ek header) without the integer GEMM family: define EK_KERNELS_QGEMM before including any ek header, or include ek/ek.h (every family)"
#endif

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "ek/cpu/qgemm/dispatch.h"
#include "ek/cpu/qgemm/pack.h"
#include "ek/cpu/qgemm/plan.h"
#include "ek/detail/packed_format.h"
#include "ek/detail/qweights.h"
#include "ek/detail/workspace.h"
#include "ek/gemm_options.h"
#include "ek/packed_weights.h"
#include "ek/parallel.h"
#include "ek/requantize.h"
#include "ek/status.h"
#include "ek/tensor.h"
#include "ek/tensor_validate.h"
#ifdef EK_ONLY_DISPATCH
#error "ek/qgemm.h needs the kernels: EK_ONLY_DISPATCH is defined in this translation unit"
#endif

namespace ek {

// ---- Packing --------------------------------------------------------------------------------------

inline Status PackedQGemmWeightsSize(const TensorView& b, bool transpose_b, size_t* bytes) {
  if (bytes == nullptr) return detail::InvalidArg("bytes", "is null");
  *bytes = 0;
  detail::QWeightsInfo w;
  EK_RETURN_IF_ERROR(detail::ValidateQWeights(b, transpose_b, &w));
  *bytes = static_cast<size_t>(
      detail::LayoutFor(b.dtype, w.kind, w.k, w.n, b.quant.block_size, b.quant.scale_type).total_bytes);
  return Status::Ok();
}

// Writes the packed form of B to `out` (4-byte aligned, `out_bytes` >= PackedQGemmWeightsSize).
inline Status PackQGemmWeights(const TensorView& b, bool transpose_b, void* out, size_t out_bytes,
                               const Context& ctx = Context()) {
  detail::QWeightsInfo w;
  EK_RETURN_IF_ERROR(detail::ValidateQWeights(b, transpose_b, &w));
  const detail::QPackedLayout l = detail::LayoutFor(b.dtype, w.kind, w.k, w.n, b.quant.block_size, b.quant.scale_type);
  if (out == nullptr) return detail::InvalidArg("out", "is null");
  if (reinterpret_cast<uintptr_t>(out) % 4 != 0) return detail::InvalidArg("out", "must be 4-byte aligned");
  if (out_bytes < l.total_bytes) {
    return Status::Error(StatusCode::kInvalidArgument, "out: %zu bytes, packing needs %llu", out_bytes,
                         static_cast<unsigned long long>(l.total_bytes));
  }
  AliasCheck alias;
  alias.AddView(b, "b", AliasCheck::Role::kInput);
  alias.AddBytes(out, l.total_bytes, "out", "", AliasCheck::Role::kOutput);
  EK_RETURN_IF_ERROR(alias.Check());
  detail::PackQGemmUnchecked(b, transpose_b, w, l, out, ctx);
  return Status::Ok();
}

// Writes the weights back into `b` (same dtype, shape and orientation as packed) and their scales
// into b.quant's arrays (per axis: scales [N]; per block: scales in b.quant.scale_type; per
// tensor: only checked): the exact values that were packed.
inline Status UnpackQGemmWeights(const PackedWeights& packed, const TensorView& b, bool transpose_b) {
  detail::PackedQGemmHeader h;
  detail::QPackedLayout l;
  EK_RETURN_IF_ERROR(detail::ReadQHeader(packed.data, packed.bytes, "packed", &h, &l));
  TensorView values_only = b;  // the scale arrays are outputs here: their old contents do not matter
  values_only.quant = QuantParams();
  EK_RETURN_IF_ERROR(ValidateOutputView(values_only, "b"));
  EK_RETURN_IF_ERROR(RequireHostMemory(b, "b"));
  const DType type = static_cast<DType>(h.weight_type);
  if (b.dtype != type) {
    return Status::Error(StatusCode::kInvalidArgument, "b: dtype is %s, the packed weights are %s", DTypeName(b.dtype),
                         DTypeName(type));
  }
  const int64_t k = transpose_b ? b.shape[1] : b.shape[0], n = transpose_b ? b.shape[0] : b.shape[1];
  if (b.rank != 2 || k != h.k || n != h.n) return detail::InvalidArg("b", "shape does not match the packed K and N");
  const auto kind = static_cast<detail::QScaleKind>(h.scale_kind);
  const QuantParams& q = b.quant;
  if ((kind == detail::QScaleKind::kPerChannel && (q.scheme != QuantScheme::kPerAxis || q.scales == nullptr ||
                                                   q.axis != (transpose_b ? 0 : 1))) ||
      (kind == detail::QScaleKind::kPerBlock &&
       (q.scheme != QuantScheme::kPerBlock || q.scales == nullptr || q.block_size != h.block_size ||
        q.scale_type != static_cast<DType>(h.scale_type) || q.axis != (transpose_b ? 1 : 0)))) {
    return detail::InvalidArg("b", "quant parameters must have the packed scheme, with writable scale arrays");
  }
  const auto* base = static_cast<const uint8_t*>(packed.data);
  const auto* scales = reinterpret_cast<const float*>(base + l.scales_offset);
  const bool int4 = type == DType::kI4;
  for (int64_t j = 0; j < n; ++j) {
    const uint8_t* panel = base + sizeof(detail::PackedQGemmHeader) + (j / detail::kQPanelWidth) * l.panel_bytes;
    const int64_t jj = j % detail::kQPanelWidth;
    for (int64_t kk = 0; kk < k; ++kk) {
      const int64_t e = b.offset + (transpose_b ? j * b.strides[0] + kk * b.strides[1] : kk * b.strides[0] + j * b.strides[1]);
      if (int4) {
        const uint8_t byte = panel[(kk / 8) * 64 + jj * 4 + kk % 4];
        const int v = (kk % 8) < 4 ? (byte & 0x0F) : (byte >> 4);
        SetI4(b.memory.host, e, v >= 8 ? v - 16 : v);
      } else {
        const int8_t stored = static_cast<int8_t>(panel[(kk / 4) * 64 + jj * 4 + kk % 4]);
        if (type == DType::kU8) {
          static_cast<uint8_t*>(b.memory.host)[e] = static_cast<uint8_t>(stored + 128);
        } else {
          static_cast<int8_t*>(b.memory.host)[e] = stored;
        }
      }
    }
    if (kind == detail::QScaleKind::kPerChannel) {
      const_cast<float*>(static_cast<const float*>(q.scales))[j] = scales[j];
    } else if (kind == detail::QScaleKind::kPerBlock) {  // the stored bits, in the given type
      const size_t scale_bytes = q.scale_type == DType::kF32 ? 4 : 2;
      const uint8_t* block_scales = base + l.scales_offset;
      for (int64_t block = 0; block < l.blocks; ++block) {
        const int64_t stored = ((j / detail::kQPanelWidth) * l.blocks + block) * detail::kQPanelWidth + jj;
        const int64_t index = transpose_b ? j * l.blocks + block : block * n + j;
        std::memcpy(static_cast<uint8_t*>(const_cast<void*>(q.scales)) + index * static_cast<int64_t>(scale_bytes),
                    block_scales + stored * static_cast<int64_t>(scale_bytes), scale_bytes);
      }
    }
  }
  return Status::Ok();
}

namespace {  // the API sits with the per-TU dispatch tables it calls (ek/dispatch.h)

// Workspace bytes QGemm needs for these operands (any alignment).
inline Status QGemmWorkspaceSize(const TensorView& a, const PackedWeights& packed_b, const TensorView& c,
                                 const QGemmOptions& options, size_t* bytes) {
  if (bytes == nullptr) return detail::InvalidArg("bytes", "is null");
  *bytes = 0;
  qgemm_internal::QGemmCall call;
  EK_RETURN_IF_ERROR(qgemm_internal::PrepareQGemm(a, packed_b, c, options, call));
  *bytes = call.workspace_bytes;
  return Status::Ok();
}

inline Status QGemm(const TensorView& a, const PackedWeights& packed_b, const TensorView& c,
                    const QGemmOptions& options, const Context& ctx, void* workspace, size_t workspace_bytes) {
  return qgemm_internal::RunQGemm(a, packed_b, c, options, ctx, workspace, workspace_bytes);
}

// Convenience overload: allocates the workspace on the heap for this call.
inline Status QGemm(const TensorView& a, const PackedWeights& packed_b, const TensorView& c,
                    const QGemmOptions& options = QGemmOptions(), const Context& ctx = Context()) {
  return detail::WithHeapWorkspace(
      [&](size_t* bytes) { return QGemmWorkspaceSize(a, packed_b, c, options, bytes); },
      [&](void* ws, size_t bytes) { return QGemm(a, packed_b, c, options, ctx, ws, bytes); });
}

}  // namespace

}  // namespace ek

#endif  // EK_QGEMM_H_

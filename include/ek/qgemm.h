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

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "ek/detail/packed_format.h"
#include "ek/detail/qgemm_types.h"
#include "ek/detail/workspace.h"
#include "ek/detail/qweights.h"
#include "ek/dispatch.h"
#include "ek/gemm.h"
#include "ek/gemm_options.h"
#include "ek/parallel.h"
#include "ek/requantize.h"
#include "ek/status.h"
#include "ek/tensor.h"
#include "ek/tensor_validate.h"

#include "ek/detail/compile_targets.h"  // all per-target code of ek, once per target
#ifdef EK_ONLY_DISPATCH
#error "ek/qgemm.h needs the kernels: EK_ONLY_DISPATCH is defined in this translation unit"
#endif

namespace ek {

namespace detail {

// Packs panels [begin, end): weights into the panel layout (s8: w, or w - 128 for u8 weights;
// int4: two's complement nibbles), the column sums of the stored values (x16 for int4, as the
// kernels' int4 sums are), and the scales as given: per tensor / channel f32, per block the given
// bits, and the f32 weighted sums (the kernels shift int4 sums down by 4: exact).
inline void PackQPanels(const TensorView& b, bool transpose_b, const QWeights& w, const QPackedLayout& l, uint8_t* out,
                        int64_t begin, int64_t end) {
  const bool int4 = b.dtype == DType::kI4;
  const int32_t shift = b.dtype == DType::kU8 ? 128 : 0;
  int32_t* sums = reinterpret_cast<int32_t*>(out + l.sums_offset);
  float* scales = reinterpret_cast<float*>(out + l.scales_offset);  // per tensor / channel
  uint8_t* block_scales = out + l.scales_offset;                    // per block
  float* weighted_sums = reinterpret_cast<float*>(out + l.weighted_offset);
  const size_t scale_bytes = b.quant.scale_type == DType::kF32 ? 4 : 2;
  for (int64_t p = begin; p < end; ++p) {
    uint8_t* panel = out + sizeof(PackedQGemmHeader) + p * l.panel_bytes;
    std::memset(panel, 0, static_cast<size_t>(l.panel_bytes));
    for (int64_t jj = 0; jj < kQPanelWidth; ++jj) {
      const int64_t j = p * kQPanelWidth + jj;
      int64_t sum = 0;
      double weighted = 0.0;
      int64_t block_sum = 0;
      for (int64_t k = 0; k < w.k && j < w.n; ++k) {
        const int32_t value = WeightAt(b, transpose_b, k, j) - shift;
        sum += value;
        block_sum += value;
        if (int4) {
          // Byte (k / 8) * 64 + jj * 4 + k % 4: low nibble for k % 8 < 4, high nibble otherwise.
          uint8_t& byte = panel[(k / 8) * 64 + jj * 4 + k % 4];
          const uint8_t nibble = static_cast<uint8_t>(value) & 0x0F;
          byte = (k % 8) < 4 ? static_cast<uint8_t>((byte & 0xF0) | nibble) : static_cast<uint8_t>((byte & 0x0F) | (nibble << 4));
        } else {
          panel[(k / 4) * 64 + jj * 4 + k % 4] = static_cast<uint8_t>(static_cast<int8_t>(value));
        }
        if (w.kind == QScaleKind::kPerBlock) {
          const int64_t block_size = b.quant.block_size;
          const int64_t block = k / block_size;
          if ((k + 1) % block_size == 0 || k + 1 == w.k) {
            const float s = WeightScaleAt(b, transpose_b, k, j);
            std::memcpy(block_scales + ((p * l.blocks + block) * kQPanelWidth + jj) * static_cast<int64_t>(scale_bytes),
                        WeightScaleBitsAt(b, transpose_b, k, j), scale_bytes);
            weighted += static_cast<double>(s) * static_cast<double>(block_sum);
            block_sum = 0;
          }
        }
      }
      sums[j] = static_cast<int32_t>(int4 ? sum * 16 : sum);
      if (w.kind == QScaleKind::kPerBlock) {
        weighted_sums[j] = static_cast<float>(weighted);
        if (j >= w.n) {  // padding columns: zero scales (all-zero bits in every type)
          for (int64_t block = 0; block < l.blocks; ++block) {
            std::memset(block_scales + ((p * l.blocks + block) * kQPanelWidth + jj) * static_cast<int64_t>(scale_bytes), 0,
                        scale_bytes);
          }
        }
      } else {
        scales[j] = j < w.n ? WeightScaleAt(b, transpose_b, 0, j) : 0.0f;
      }
    }
  }
}

// Writes the header and the panels of B (already validated, or built by ek itself: GGUF blocks
// may carry negative or zero scales, which the kernels handle like any other).
inline void PackQGemmUnchecked(const TensorView& b, bool transpose_b, const QWeights& w, const QPackedLayout& l,
                               void* out, const Context& ctx) {
  WriteQGemmHeader(b.dtype, w.kind, b.quant.scale_type, b.quant.zero_point, w.k, w.n, b.quant.block_size, l, out);
  uint8_t* dst = static_cast<uint8_t*>(out);
  const TaskPlan plan = PlanTasks(static_cast<size_t>(l.panels), static_cast<size_t>(CeilDiv(64 * 1024, w.k)), 64);
  ParallelFor(ctx.threads, plan.num_tasks, [&](size_t task) {
    PackQPanels(b, transpose_b, w, l, dst, static_cast<int64_t>(plan.Begin(task)),
                static_cast<int64_t>(plan.End(task, static_cast<size_t>(l.panels))));
  });
  SealPacked(out);  // the checksums, over the finished bytes
}

}  // namespace detail

// ---- Packing --------------------------------------------------------------------------------------

inline Status PackedQGemmWeightsSize(const TensorView& b, bool transpose_b, size_t* bytes) {
  if (bytes == nullptr) return detail::InvalidArg("bytes", "is null");
  *bytes = 0;
  detail::QWeights w;
  EK_RETURN_IF_ERROR(detail::ValidateQWeights(b, transpose_b, &w));
  *bytes = static_cast<size_t>(
      detail::LayoutFor(b.dtype, w.kind, w.k, w.n, b.quant.block_size, b.quant.scale_type).total_bytes);
  return Status::Ok();
}

// Writes the packed form of B to `out` (4-byte aligned, `out_bytes` >= PackedQGemmWeightsSize).
inline Status PackQGemmWeights(const TensorView& b, bool transpose_b, void* out, size_t out_bytes,
                               const Context& ctx = Context()) {
  detail::QWeights w;
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

namespace {  // per-TU dispatch tables, unqualified names (see ek/dispatch.h)
HWY_EXPORT(RunQGemmTask);
HWY_EXPORT(QGemmTargetLanes);
HWY_EXPORT(QuantizeRowsDynamic);
HWY_EXPORT(StageRowsU8);
HWY_EXPORT(RequantizeArray);

// The lane QGemm runs on the selected target: "i8mm" (Arm NEON usmmla, FEAT_I8MM), "avx512vnni"
// (x86 vpdpbusd), "sve-udot", "dotprod" (Arm NEON sdot; int4 per-block weights run "widen"
// there), or "widen" (16-bit multiply-adds: no such instruction, or its lane forced off with
// EK_DISABLE_LANES / DisableLane; a target falls back from i8mm to its dot-product lane first).
inline const char* QGemmDotLane() {
  if (!EnsureDispatchReady().ok()) return "none";
  const char* dot = "widen";
  const char* matmul = nullptr;
  HWY_DYNAMIC_DISPATCH(QGemmTargetLanes)(&dot, &matmul);
  if (matmul != nullptr && LaneEnabled(Lane::kI8mm)) return matmul;
  if (std::strcmp(dot, "avx512vnni") == 0 && !LaneEnabled(Lane::kAvx512Vnni)) return "widen";
  if ((std::strcmp(dot, "sve-udot") == 0 || std::strcmp(dot, "dotprod") == 0) && !LaneEnabled(Lane::kDotProd)) {
    return "widen";
  }
  return dot;
}

// The vector requantization of the selected target over `count` accumulators, in `form` (the
// inputs must lie in its domain; tests prove every form equal to ek::Requantize there).
inline Status RequantizeWithKernel(const int32_t* acc, const int32_t* multiplier, const int32_t* shift,
                                   int32_t zero_point, int32_t qmin, int32_t qmax, size_t count, int32_t* out,
                                   RequantizeForm form = RequantizeForm::kGeneral) {
  EK_RETURN_IF_ERROR(EnsureDispatchReady());
  HWY_DYNAMIC_DISPATCH(RequantizeArray)(acc, multiplier, shift, zero_point, qmin, qmax, count, form, out);
  return Status::Ok();
}

namespace qgemm_internal {

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

inline Status PrepareQGemm(const TensorView& a, const PackedWeights& packed, const TensorView& c,
                           const QGemmOptions& o, QGemmCall& call) {
  EK_RETURN_IF_ERROR(EnsureDispatchReady());
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
    if (a.quant.scheme != QuantScheme::kPerTensor) return detail::InvalidArg("a", "must be quantized per tensor");
    EK_RETURN_IF_ERROR(ValidateQuant(a, "a"));
    if (kind == detail::QScaleKind::kPerBlock) {
      return detail::InvalidArg("a", "per-block weights need f32 activations (quantized per row on the fly)");
    }
    if ((a.dtype == DType::kI8) != (w_type == DType::kI8)) {
      return Status::Error(StatusCode::kInvalidArgument, "a: %s activations need %s weights, packed weights are %s",
                           DTypeName(a.dtype), a.dtype == DType::kI8 ? "i8" : "u8", DTypeName(w_type));
    }
    if (c.dtype != a.dtype) return Status::Error(StatusCode::kInvalidArgument, "c: dtype is %s, expected %s like a", DTypeName(c.dtype), DTypeName(a.dtype));
    if (c.quant.scheme != QuantScheme::kPerTensor) return detail::InvalidArg("c", "must be quantized per tensor");
    EK_RETURN_IF_ERROR(ValidateQuant(c, "c"));
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
  EK_RETURN_IF_ERROR(ActivationBounds(o.activation, o.clamp_min, o.clamp_max, &act_lo, &act_hi));
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

  // Tasks: row blocks (multiples of 24 rows: every target's tile height divides it) x column
  // blocks (multiples of 64 columns: every tile width divides it), about 8 M multiply-adds each,
  // at most 64. Decode (M <= 2) keeps all rows in one block.
  const int64_t macs = g.m * g.n * g.k;
  const int64_t want_tasks = HWY_MAX(int64_t{1}, HWY_MIN(int64_t{64}, macs / (int64_t{8} << 20)));
  const int64_t max_col_blocks = detail::CeilDiv(g.n, 64);
  const int64_t col_blocks = HWY_MIN(want_tasks, max_col_blocks);
  const int64_t max_row_blocks = g.m <= 2 ? 1 : detail::CeilDiv(g.m, 24);
  const int64_t row_blocks = HWY_MIN(detail::CeilDiv(want_tasks, col_blocks), max_row_blocks);
  g.nc = detail::RoundUp(detail::CeilDiv(g.n, col_blocks), 64);
  g.mc = g.m <= 2 ? g.m : detail::RoundUp(detail::CeilDiv(g.m, row_blocks), 24);
  g.column_blocks = detail::CeilDiv(g.n, g.nc);
  call.num_tasks = static_cast<size_t>(g.column_blocks * detail::CeilDiv(g.m, g.mc));
  const char* lane = QGemmDotLane();
  g.lane = std::strcmp(lane, "widen") == 0  ? detail::QLane::kWiden
           : std::strcmp(lane, "i8mm") == 0 ? detail::QLane::kMatmul
                                            : detail::QLane::kDot;
  return Status::Ok();
}


// Stages A into the workspace (u8, rows padded to kp) and computes the per-row and per-column
// terms of the epilogue.
inline Status StageQGemm(const TensorView& a, const TensorView& c, const QGemmOptions& o, QGemmCall& call,
                         uint8_t* ws) {
  detail::QGemmTaskArgs& g = call.args;
  const detail::PackedQGemmHeader& h = call.header;
  const detail::QPackedLayout& l = call.layout;
  const auto* packed_base = g.b - sizeof(detail::PackedQGemmHeader);
  const auto* colsum = reinterpret_cast<const int32_t*>(packed_base + l.sums_offset);
  const auto* scales = reinterpret_cast<const float*>(packed_base + l.scales_offset);
  uint8_t* a_packed = ws + call.a_offset;
  g.a = a_packed;
  const int64_t columns = l.panels * detail::kQPanelWidth;
  if (a.dtype == DType::kF32) {
    auto* a_scale = reinterpret_cast<float*>(ws + call.row_offset);
    auto* a_zero = reinterpret_cast<int32_t*>(ws + call.row2_offset);
    if (a.strides[1] == 1 || g.k == 1) {
      HWY_DYNAMIC_DISPATCH(QuantizeRowsDynamic)(a.HostData<const float>(), a.strides[0], g.k, g.kp, 0, g.m, a_packed,
                                                g.lda, a_scale, a_zero);
    } else {  // strided columns: the same rule, one element at a time
      const float* base = a.HostData<const float>();
      for (int64_t i = 0; i < g.m; ++i) {
        float lo = 0.0f, hi = 0.0f;
        for (int64_t kk = 0; kk < g.k; ++kk) {
          const float x = base[i * a.strides[0] + kk * a.strides[1]];
          lo = x < lo ? x : lo;
          hi = x > hi ? x : hi;
        }
        const DynamicQuant q = DynamicRowParams(lo, hi);
        for (int64_t kk = 0; kk < g.kp; ++kk) {
          a_packed[i * g.lda + kk] =
              kk < g.k ? static_cast<uint8_t>(DynamicQuantizeValue(base[i * a.strides[0] + kk * a.strides[1]], q)) : 0;
        }
        a_scale[i] = q.scale;
        a_zero[i] = q.zero_point;
      }
    }
    g.a_scale = a_scale;
    g.a_zero_point = a_zero;
    g.colsum = colsum;
    if (g.output == detail::QOutput::kBlocks) {
      g.block_scales = packed_base + l.scales_offset;
      g.block_scale_type = static_cast<DType>(h.scale_type);
      g.weighted_colsum = reinterpret_cast<const float*>(packed_base + l.weighted_offset);
    } else {
      g.b_scale = scales;
    }
    g.bias = o.bias.rank != 0 ? o.bias.HostData<const float>() : nullptr;
    return Status::Ok();
  }

  // int8 / uint8 activations: stored as u8 (i8 + 128), and their row sums when the weights have
  // a zero point.
  const int32_t a_shift = a.dtype == DType::kI8 ? 128 : 0;
  const int32_t za = a.quant.zero_point + a_shift;              // A's zero point, u8 domain
  const int32_t zw = h.weight_type == static_cast<uint8_t>(DType::kU8) ? h.zero_point - 128 : 0;  // s8 domain
  auto* row_term = reinterpret_cast<int32_t*>(ws + call.row_offset);
  const uint8_t* a_bytes = a.HostData<const uint8_t>();
  const uint8_t flip = a_shift ? 0x80 : 0;
  const int64_t m = g.m, k = g.k, kp = g.kp, lda = g.lda, a_row_stride = a.strides[0], a_col_stride = a.strides[1];
  auto* row_sums = reinterpret_cast<uint32_t*>(row_term);  // K <= kQMaxK: a row's sum fits 32 bits
  if (a_col_stride == 1 || k == 1) {
    HWY_DYNAMIC_DISPATCH(StageRowsU8)(a_bytes, a_row_stride, k, kp, m, flip, a_packed, lda, row_sums);
  } else {  // strided columns: one element at a time
    for (int64_t i = 0; i < m; ++i) {
      uint8_t* dst = a_packed + i * lda;
      uint32_t sum = 0;
      for (int64_t kk = 0; kk < kp; ++kk) {
        dst[kk] = kk < k ? static_cast<uint8_t>(a_bytes[i * a_row_stride + kk * a_col_stride] ^ flip) : 0;
        sum += dst[kk];
      }
      row_sums[i] = sum;
    }
  }
  for (int64_t i = 0; i < m; ++i) {
    const uint32_t row_sum = row_sums[i];
    row_term[i] = static_cast<int32_t>(static_cast<uint32_t>(-static_cast<int64_t>(zw) * row_sum));
  }
  g.row_term = zw != 0 ? row_term : nullptr;
  // Column terms: bias - za * colsum + K * za * zw, modulo 2^32 (docs/quantization.md).
  auto* col_term = reinterpret_cast<int32_t*>(ws + call.col_offset);
  auto* multiplier = reinterpret_cast<int32_t*>(ws + call.mult_offset);
  auto* shift = reinterpret_cast<int32_t*>(ws + call.shift_offset);
  const int32_t* bias = o.bias.rank != 0 ? o.bias.HostData<const int32_t>() : nullptr;
  const bool per_channel = h.scale_kind == static_cast<uint8_t>(detail::QScaleKind::kPerChannel);
  QuantizedMultiplier qm;
  for (int64_t j = 0; j < columns; ++j) {
    const int64_t term = (j < g.n && bias ? int64_t{bias[j]} : 0) - int64_t{za} * colsum[j] + g.k * int64_t{za} * zw;
    col_term[j] = static_cast<int32_t>(static_cast<uint32_t>(term));
    if (j == 0 || (per_channel && j < g.n)) {
      const double real = static_cast<double>(a.quant.scale) * static_cast<double>(scales[j]) /
                          static_cast<double>(c.quant.scale);
      EK_RETURN_IF_ERROR(QuantizeMultiplier(real, &qm, "a.quant.scale * b scale / c.quant.scale"));
    }
    multiplier[j] = qm.multiplier;
    shift[j] = qm.shift;
    g.any_left_shift = g.any_left_shift || qm.shift > 0;
  }
  g.col_term = col_term;
  g.colsum = colsum;  // the sdot lane's correction
  g.multiplier = multiplier;
  g.shift = shift;
  return Status::Ok();
}

inline Status RunQGemm(const TensorView& a, const PackedWeights& packed, const TensorView& c, const QGemmOptions& o,
                       const Context& ctx, void* workspace, size_t workspace_bytes) {
  QGemmCall call;
  EK_RETURN_IF_ERROR(PrepareQGemm(a, packed, c, o, call));
  if (workspace_bytes < call.workspace_bytes || (call.workspace_bytes && workspace == nullptr)) {
    return Status::Error(StatusCode::kInvalidArgument, "workspace: %zu bytes, this call needs %zu (QGemmWorkspaceSize)",
                         workspace_bytes, call.workspace_bytes);
  }
  EK_RETURN_IF_ERROR(CheckQGemmAliasing(a, packed, c, o, workspace, call.workspace_bytes));
  EK_RETURN_IF_ERROR(StageQGemm(a, c, o, call, detail::WorkspaceLayout::Base(workspace)));
  detail::QGemmTaskArgs& g = call.args;
  g.c = c.HostData<void>();
  auto* run = HWY_DYNAMIC_POINTER(RunQGemmTask);
  ParallelFor(ctx.threads, call.num_tasks, [&](size_t task) { run(g, task); });
  return Status::Ok();
}

}  // namespace qgemm_internal

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
  size_t bytes = 0;
  EK_RETURN_IF_ERROR(QGemmWorkspaceSize(a, packed_b, c, options, &bytes));
  gemm_internal::HeapWorkspace ws(bytes);  // ek/gemm.h
  if (bytes && !ws.data) return Status::Error(StatusCode::kOutOfMemory, "workspace: cannot allocate %zu bytes", bytes);
  return QGemm(a, packed_b, c, options, ctx, ws.data, bytes);
}

}  // namespace

}  // namespace ek

#endif  // EK_QGEMM_H_

// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// 2-D convolution on NHWC tensors, f32, f16 storage or quantized (i8 / u8):
//
//   output[n, y, x, o] = act(bias[o] + sum over taps (ky, kx) and the group's input channels c of
//                            input[n, y * sh - top + ky * dh, x * sw - left + kx * dw, g * cg + c]
//                            * filter[o, ky, kx, c])
//
//   input  [N, H, W, C_in]               f32, unit channel stride, any other strides
//   filter [C_out, KH, KW, C_in / groups] f32 (OHWI, TFLite's layout), packed once
//   output [N, OH, OW, C_out]            f32, unit channel stride, pixels evenly strided (a
//                                        dense tensor, or a channel slice of a wider one)
//   bias   [C_out] f32, optional;  act: none, ReLU, ReLU6 or clamp(min, max)
// f16 storage: input and output f16, the filter f16 or f32 (packed as f32), bias f32; the same
// f32 sum, rounded to f16 (docs/conv.md).
//
// Quantized (TFLite's integer convolution, bit-exact with its reference kernels; docs/conv.md):
//   input  i8 per tensor (scale, zero point)   filter i8 symmetric, per tensor or per output
//   output i8 per tensor                        channel (per-axis scales on axis 0)
//   bias   [C_out] i32 with scale input scale x filter scale, zero point 0
//   acc = bias[o] + sum over the taps inside the input of (in - in zero point) * w     (int32)
//   out = clamp(MultiplyByQuantizedMultiplier(acc, M[o]) + out zero point, activation range)
//   with M[o] = input scale * filter scale[o] / output scale (ek/requantize.h's rule: TFLite's).
//   u8 input / filter / output per tensor with zero points: TFLite's older asymmetric scheme,
//   the same sum with (w - filter zero point).
// Dynamic int8: an f32 input against i8 weights (as above), output and bias f32: each output
// pixel's row of taps (0.0f in the padding) is quantized on the fly with ek::QGemm's rule
// (ek::DynamicRowParams), then out = act(dequantized sum x filter scale[o] + bias[o])
// (ek::ref::DynamicConv2D; within ref::QGemmF32ErrorBound). Not for depthwise i8 weights.
// Any kernel size, stride, dilation and explicit padding (ConvOptions; SamePadding /
// ValidPadding give TensorFlow's rules), groups (depthwise: groups = C_in = C_out). Taps in the
// padding contribute zeros. Accumulation is f32, one chain per output in the order of
// ref::Conv2D (taps row-major, then channels), so results are bitwise identical for any thread
// count; they differ from the reference only within ref::ConvErrorBound (docs/conv.md).
//
//   ek::PackConvWeights(filter, groups, out, bytes)        once, after PackedConvWeightsSize
//   ek::Conv2D(input, packed, output, options, ctx, workspace, bytes)   after ConvWorkspaceSize
//   ek::Conv2D(input, packed, output, options, ctx)        convenience: allocates its workspace
//   ek::PackTransposeConvWeights(filter, groups, sh, sw, out, bytes)   transposed convolution:
//   ek::TransposeConv2D(input, packed, output, options, ctx[, workspace, bytes])  (below)
//   ek::MaxPool2D / ek::AvgPool2D(input, output, pool_options, ctx)   (ek/ref/pool.h, exact)
//   ek::GlobalAvgPool2D(input, output, ctx)                [N, H, W, C] -> [N, 1, 1, C] or [N, C]
//
// Paths: 1x1 stride-1 convolutions without padding go straight to the GEMM (ek/gemm.h, or
// ek/qgemm.h for i8 / u8), one per group. Other f32 KxK (and grouped) convolutions run as an
// indirect GEMM on the float micro-kernel layer: an indirection buffer of input pixel pointers
// (a zero row for the padding) in the workspace, read directly by the register tiles, no
// im2col copy. Quantized and dynamic KxK convolutions stage their rows of A (taps x channels)
// into the workspace in chunks of pixels and run ek::QGemm on them. Depthwise convolutions (groups =
// C_in = C_out; f32 and i8) run their own kernels. Packed format EKCV: docs/conv.md.
#ifndef EK_CONV_H_
#define EK_CONV_H_

// This TU's kernel pass compiles the convolution family and the float and integer GEMMs it
// hands 1x1 and quantized convolutions to (ek/cpu/targets.h).
#ifndef EK_KERNELS_CONV
#define EK_KERNELS_CONV 1
#endif
#ifndef EK_KERNELS_GEMM
#define EK_KERNELS_GEMM 1
#endif
#ifndef EK_KERNELS_QGEMM
#define EK_KERNELS_QGEMM 1
#endif
#include "ek/cpu/targets.h"  // the kernel pass (the first ek header of the TU runs it)
#if !defined(EK_COMPILED_CONV) || !defined(EK_COMPILED_GEMM) || !defined(EK_COMPILED_QGEMM)
#error "ek/conv.h: this TU's kernel pass ran (at its first ek header) without the convolution, float GEMM and integer GEMM families: define EK_KERNELS_CONV, EK_KERNELS_GEMM and EK_KERNELS_QGEMM before including any ek header, or include ek/ek.h (every family)"
#endif

#include <cstdint>

#include "ek/conv_options.h"
#include "ek/cpu/conv/dispatch.h"
#include "ek/cpu/conv/pack.h"
#include "ek/cpu/conv/plan.h"
#include "ek/cpu/conv/transpose.h"
#include "ek/detail/packed_format.h"
#include "ek/gemm.h"
#include "ek/qgemm.h"
#include "ek/detail/workspace.h"
#include "ek/packed_weights.h"
#include "ek/parallel.h"
#include "ek/status.h"
#include "ek/tensor.h"
#include "ek/tensor_validate.h"
#ifdef EK_ONLY_DISPATCH
#error "ek/conv.h needs the kernels: EK_ONLY_DISPATCH is defined in this translation unit"
#endif

namespace ek {
namespace {  // the API sits with the per-TU dispatch tables it calls (ek/dispatch.h)

// Bytes PackConvWeights writes for an OHWI filter [C_out, KH, KW, C_in / groups] (f32; i8
// with per-tensor or per-output-channel scales; u8 per tensor).
inline Status PackedConvWeightsSize(const TensorView& filter, int64_t groups, size_t* bytes) {
  if (bytes == nullptr) return detail::InvalidArg("bytes", "is null");
  detail::ConvWeightsShape s;
  EK_RETURN_IF_ERROR(detail::ValidateConvFilter(filter, groups, "filter", &s));
  *bytes = detail::kPackedHeaderBytes + static_cast<size_t>(s.PayloadBytes());
  return Status::Ok();
}

// Packs the filter (bits copied) into `out` (4-byte aligned), with its checksums.
inline Status PackConvWeights(const TensorView& filter, int64_t groups, void* out, size_t out_bytes,
                              const Context& ctx = Context()) {
  EK_RETURN_IF_ERROR(EnsureDispatchReady());
  detail::ConvWeightsShape s;
  EK_RETURN_IF_ERROR(detail::ValidateConvFilter(filter, groups, "filter", &s));
  const size_t need = detail::kPackedHeaderBytes + static_cast<size_t>(s.PayloadBytes());
  if (out == nullptr) return detail::InvalidArg("out", "is null");
  if (reinterpret_cast<uintptr_t>(out) % detail::kPackedAlign != 0) {
    return detail::InvalidArg("out", "is not 4-byte aligned");
  }
  if (out_bytes < need) {
    return Status::Error(StatusCode::kInvalidArgument, "out: %zu bytes, packing needs %zu (PackedConvWeightsSize)",
                         out_bytes, need);
  }
  AliasCheck alias;
  alias.AddView(filter, "filter", AliasCheck::Role::kInput);
  alias.AddBytes(out, need, "out", "", AliasCheck::Role::kOutput);
  EK_RETURN_IF_ERROR(alias.Check());
  EK_RETURN_IF_ERROR(detail::PackConvWeightsUnchecked(filter, s, out, ctx));
  detail::SealPacked(out);
  return Status::Ok();
}

// Workspace bytes Conv2D needs for these operands (0 when it needs none).
inline Status ConvWorkspaceSize(const TensorView& input, const PackedWeights& packed, const TensorView& output,
                                const ConvOptions& options, size_t* bytes) {
  if (bytes == nullptr) return detail::InvalidArg("bytes", "is null");
  detail::ConvCall call;
  EK_RETURN_IF_ERROR(conv_internal::PrepareConv(input, packed, output, options, &call));
  *bytes = call.workspace_bytes;
  return Status::Ok();
}

// output = act(conv(input, filter) + bias), with a caller-owned workspace (any alignment).
inline Status Conv2D(const TensorView& input, const PackedWeights& packed, const TensorView& output,
                     const ConvOptions& options, const Context& ctx, void* workspace, size_t workspace_bytes) {
  return conv_internal::RunConv(input, packed, output, options, ctx, workspace, workspace_bytes);
}

// Convenience overload: allocates the workspace on the heap for this call.
inline Status Conv2D(const TensorView& input, const PackedWeights& packed, const TensorView& output,
                     const ConvOptions& options = ConvOptions(), const Context& ctx = Context()) {
  return detail::WithHeapWorkspace(
      [&](size_t* bytes) { return ConvWorkspaceSize(input, packed, output, options, bytes); },
      [&](void* ws, size_t bytes) { return Conv2D(input, packed, output, options, ctx, ws, bytes); });
}

// ---- Transposed convolution ----------------------------------------------------------------------
// output [N, OH, OW, C_out], OH = (H - 1) x stride_h + KH - top - bottom (TransposeConvOutputSize):
// each input pixel scatters its taps to output (iy x sh - top + ky, ix x sw - left + kx); the
// same filter layout, groups, types, bias and activation as Conv2D (ek/ref/conv.h:
// ref::TransposeConv2D, TFLite's TRANSPOSE_CONV; integer results bit-exact). Dilation 1;
// bottom / right padding may be negative down to -(stride - 1) (TransposeConvSamePadding).
// Weights are packed for their strides ("EKTC": per output phase, the ordinary convolution
// weights of the filter's taps of that phase); each phase runs as a stride-1 Conv2D.

// Bytes PackTransposeConvWeights writes for an OHWI filter and these strides.
inline Status PackedTransposeConvWeightsSize(const TensorView& filter, int64_t groups, int64_t stride_h,
                                             int64_t stride_w, size_t* bytes) {
  if (bytes == nullptr) return detail::InvalidArg("bytes", "is null");
  detail::TransposedConvShape t;
  EK_RETURN_IF_ERROR(detail::ValidateTransposedConvFilter(filter, groups, stride_h, stride_w, &t));
  *bytes = detail::kPackedHeaderBytes + static_cast<size_t>(t.PayloadBytes());
  return Status::Ok();
}

// Packs the filter's sub-filters for strides (stride_h, stride_w) into `out` (4-byte aligned).
inline Status PackTransposeConvWeights(const TensorView& filter, int64_t groups, int64_t stride_h, int64_t stride_w,
                                       void* out, size_t out_bytes, const Context& ctx = Context()) {
  EK_RETURN_IF_ERROR(EnsureDispatchReady());
  detail::TransposedConvShape t;
  EK_RETURN_IF_ERROR(detail::ValidateTransposedConvFilter(filter, groups, stride_h, stride_w, &t));
  const size_t need = detail::kPackedHeaderBytes + static_cast<size_t>(t.PayloadBytes());
  if (out == nullptr) return detail::InvalidArg("out", "is null");
  if (reinterpret_cast<uintptr_t>(out) % detail::kPackedAlign != 0) {
    return detail::InvalidArg("out", "is not 4-byte aligned");
  }
  if (out_bytes < need) {
    return Status::Error(StatusCode::kInvalidArgument,
                         "out: %zu bytes, packing needs %zu (PackedTransposeConvWeightsSize)", out_bytes, need);
  }
  AliasCheck alias;
  alias.AddView(filter, "filter", AliasCheck::Role::kInput);
  alias.AddBytes(out, need, "out", "", AliasCheck::Role::kOutput);
  EK_RETURN_IF_ERROR(alias.Check());
  EK_RETURN_IF_ERROR(detail::PackTransposedConvWeightsUnchecked(filter, t, out, ctx));
  detail::SealPacked(out);
  return Status::Ok();
}

// Workspace bytes TransposeConv2D needs for these operands.
inline Status TransposeConvWorkspaceSize(const TensorView& input, const PackedWeights& packed,
                                         const TensorView& output, const ConvOptions& options, size_t* bytes) {
  if (bytes == nullptr) return detail::InvalidArg("bytes", "is null");
  detail::TransposedConvCall call;
  EK_RETURN_IF_ERROR(conv_internal::PrepareTransposeConv(input, packed, output, options, &call));
  *bytes = call.workspace_bytes;
  return Status::Ok();
}

// output = act(transposed conv(input, filter) + bias), with a caller-owned workspace.
inline Status TransposeConv2D(const TensorView& input, const PackedWeights& packed, const TensorView& output,
                              const ConvOptions& options, const Context& ctx, void* workspace,
                              size_t workspace_bytes) {
  return conv_internal::RunTransposeConv(input, packed, output, options, ctx, workspace, workspace_bytes);
}

// Convenience overload: allocates the workspace on the heap for this call.
inline Status TransposeConv2D(const TensorView& input, const PackedWeights& packed, const TensorView& output,
                              const ConvOptions& options, const Context& ctx = Context()) {
  return detail::WithHeapWorkspace(
      [&](size_t* bytes) { return TransposeConvWorkspaceSize(input, packed, output, options, bytes); },
      [&](void* ws, size_t bytes) { return TransposeConv2D(input, packed, output, options, ctx, ws, bytes); });
}

// Max pooling: output [N, OH, OW, C] = the largest input value of each window (ek/ref/pool.h).
inline Status MaxPool2D(const TensorView& input, const TensorView& output, const PoolOptions& options,
                        const Context& ctx = Context()) {
  return conv_internal::RunPool2D(input, output, options, /*average=*/false, ctx);
}

// Average pooling: the mean of each window's taps inside the input (padding left out).
inline Status AvgPool2D(const TensorView& input, const TensorView& output, const PoolOptions& options,
                        const Context& ctx = Context()) {
  return conv_internal::RunPool2D(input, output, options, /*average=*/true, ctx);
}

// Global average pooling: input [N, H, W, C] -> output [N, 1, 1, C] or [N, C], the mean of each
// image's H x W pixels per channel.
inline Status GlobalAvgPool2D(const TensorView& input, const TensorView& output, const Context& ctx = Context()) {
  return conv_internal::RunGlobalAvgPool2D(input, output, ctx);
}

}  // namespace
}  // namespace ek

#endif  // EK_CONV_H_

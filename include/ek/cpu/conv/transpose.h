// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Transposed convolution (ek::TransposeConv2D) as stride x stride ordinary convolutions, one per
// output phase (the "sub-pixel" decomposition; docs/conv.md):
//
//   output row y = rh + sh * j (phase rh in [0, sh)) takes the filter rows ky = p, p + sh, ...
//   with p = (rh + top) % sh, from input rows q + j - m (m-th of those taps, q = (rh + top - p) / sh)
//
// so phase (rh, rw) is a stride-1 convolution of the input with the sub-filter of residues
// (p, pw) (taps reversed, packed once: EKTC, ek/detail/packed_format.h), over input rows
// q - (TH - 1) .. q + J - 1: the part inside the input is a view of it, the rest becomes the
// convolution's padding. Each phase runs through ek::Conv2D (every path, target and lane, its
// numerics: integer results exact) into the workspace, then is copied to its output pixels.
// A phase that reads no input at all (a kernel smaller than the stride, an output extended past
// the last tap) is the bias alone, requantized when integer. No multiply-add is computed for a
// tap that falls outside the input, unlike a zero-inserted (dilated-input) convolution.
// Target-independent: the kernels are Conv2D's.
#ifndef EK_CPU_CONV_TRANSPOSE_H_
#define EK_CPU_CONV_TRANSPOSE_H_

#include <cstdint>
#include <cstring>

#include "ek/conv_options.h"
#include "ek/cpu/conv/dispatch.h"
#include "ek/cpu/conv/pack.h"
#include "ek/detail/packed_format.h"
#include "ek/detail/workspace.h"
#include "ek/packed_weights.h"
#include "ek/parallel.h"
#include "ek/requantize.h"
#include "ek/status.h"
#include "ek/tensor.h"
#include "ek/tensor_validate.h"
#include "hwy/base.h"

namespace ek {
namespace detail {

// Bytes of one element of the convolution's types (f32, f16, i8, u8).
inline size_t ElementBytes(DType t) { return static_cast<size_t>(DTypeBits(t) / 8); }

// Checks the filter and the strides; fills the packed shape.
inline Status ValidateTransposedConvFilter(const TensorView& filter, int64_t groups, int64_t stride_h,
                                           int64_t stride_w, TransposedConvShape* t) {
  EK_RETURN_IF_ERROR(ValidateConvFilter(filter, groups, "filter", &t->filter));
  if (stride_h < 1 || stride_h > kConvMaxDim) return InvalidArg("stride_h", "must be in [1, 2^20]");
  if (stride_w < 1 || stride_w > kConvMaxDim) return InvalidArg("stride_w", "must be in [1, 2^20]");
  t->stride_h = stride_h;
  t->stride_w = stride_w;
  if (!t->SizesOk()) return InvalidArg("filter", "too large to pack as sub-filters for these strides");
  return Status::Ok();
}

// Writes the EKTC header, each residue pair's sealed EKCV block of its sub-filter (taps of the
// residues, reversed), and the quantized filter's per-channel scales. The sub-filters are
// copied densely (one at a time, on the heap: kOutOfMemory if that fails) and packed by
// PackConvWeightsUnchecked.
inline Status PackTransposedConvWeightsUnchecked(const TensorView& filter, const TransposedConvShape& t, void* out,
                                                 const Context& ctx) {
  WriteTransposedConvHeader(t, out);
  uint8_t* payload = static_cast<uint8_t*>(out) + kPackedHeaderBytes;
  const size_t elem = ElementBytes(filter.dtype);
  const auto* src = static_cast<const uint8_t*>(filter.memory.host);
  int64_t offset = 0;
  for (int64_t rh = 0; rh < t.ResiduesH(); ++rh) {
    for (int64_t rw = 0; rw < t.ResiduesW(); ++rw) {
      const ConvWeightsShape s = t.Sub(rh, rw);
      const size_t sub_bytes = static_cast<size_t>(s.out_channels * s.Taps() * s.group_in) * elem;
      HeapWorkspace copy(sub_bytes);
      if (copy.data == nullptr) {
        return Status::Error(StatusCode::kOutOfMemory, "filter: cannot allocate %zu bytes for a sub-filter", sub_bytes);
      }
      auto* dst = static_cast<uint8_t*>(copy.data);
      // Sub-filter tap (u, v) is filter tap (rh + (TH - 1 - u) sh, rw + (TW - 1 - v) sw).
      CopyFilterDense(
          filter, s, [&](int64_t u) { return rh + (s.kernel_h - 1 - u) * t.stride_h; },
          [&](int64_t v) { return rw + (s.kernel_w - 1 - v) * t.stride_w; },
          [&](int64_t e, size_t i) { std::memcpy(dst + i * elem, src + e * static_cast<int64_t>(elem), elem); });
      TensorView sub = filter;  // the same dtype and quant parameters (per output channel: axis 0)
      sub.memory.host = copy.data;
      sub.offset = 0;
      sub.shape[1] = s.kernel_h;
      sub.shape[2] = s.kernel_w;
      sub.strides[3] = 1;
      sub.strides[2] = s.group_in;
      sub.strides[1] = s.kernel_w * s.group_in;
      sub.strides[0] = s.Taps() * s.group_in;
      uint8_t* block = payload + offset;
      EK_RETURN_IF_ERROR(PackConvWeightsUnchecked(sub, s, block, ctx));
      SealPacked(block);
      const int64_t used = static_cast<int64_t>(kPackedHeaderBytes) + s.PayloadBytes();
      std::memset(block + used, 0, static_cast<size_t>(TransposedConvShape::BlockBytes(s) - used));
      offset += TransposedConvShape::BlockBytes(s);
    }
  }
  if (t.filter.Quantized()) {
    auto* scales = reinterpret_cast<float*>(payload + t.ScalesOffset());
    for (int64_t o = 0; o < t.filter.out_channels; ++o) {
      scales[o] = filter.quant.scheme == QuantScheme::kPerAxis ? static_cast<const float*>(filter.quant.scales)[o]
                                                               : filter.quant.scale;
    }
  }
  return Status::Ok();
}

// One output phase along one axis (rows; columns alike): `count` outputs r, r + stride, ...; a
// stride-1 convolution of sub-filter residue `residue` (`taps` rows) over input rows
// [begin, end) with `pad_before` / `pad_after` rows of padding; reads_input false when no output
// of the phase has a tap inside the input (then the bias alone).
struct TransposedAxisPhase {
  int64_t count = 0, residue = 0, taps = 0, begin = 0, end = 0, pad_before = 0, pad_after = 0;
  bool reads_input = false;
};
inline TransposedAxisPhase AxisPhase(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t pad, int64_t r) {
  TransposedAxisPhase a;
  a.count = r < out ? (out - r + stride - 1) / stride : 0;
  a.residue = (r + pad) % stride;
  a.taps = TransposedConvShape::SubTaps(kernel, stride, a.residue);
  if (a.count == 0 || a.taps == 0) return a;
  const int64_t q = (r + pad - a.residue) / stride;  // the input row of output j = 0's first tap
  const int64_t lo = q - (a.taps - 1), hi = q + a.count - 1;  // the rows the phase's windows span
  a.begin = lo > 0 ? lo : 0;
  a.end = hi < in - 1 ? hi + 1 : in;
  a.reads_input = a.begin < a.end;
  a.pad_before = a.begin - lo;
  a.pad_after = hi + 1 - a.end;
  return a;
}

struct TransposedConvCall {
  TransposedConvShape t;
  int64_t out_h = 0, out_w = 0;
  DType act = DType::kF32;  // the activations' type (f16: storage, with f32 weights)
  size_t phase_offset = 0, conv_offset = 0;  // workspace sections: a phase's output, Conv2D's
  size_t conv_bytes = 0, workspace_bytes = 0;
};

}  // namespace detail

namespace {  // with the dispatch tables Conv2D's pipeline reads (ek/cpu/conv/dispatch.h)
namespace conv_internal {

// Phase (rh, rw)'s convolution: the input view, the sub-filter's block, the options and the shape
// of its output; false (nothing to convolve) when the phase reads no input or has no outputs.
struct TransposedPhaseConv {
  detail::TransposedAxisPhase y, x;
  TensorView input;
  PackedWeights block;
  ConvOptions options;
  TensorView output;  // [N, count_y, count_x, C_out] dense, at `phase_out`
  bool Convolves() const { return y.reads_input && x.reads_input; }
  bool Empty() const { return y.count == 0 || x.count == 0; }
};
inline TransposedPhaseConv PhaseConv(const detail::TransposedConvCall& call, const TensorView& input,
                                     const PackedWeights& packed, const TensorView& output, const ConvOptions& o,
                                     int64_t rh, int64_t rw, void* phase_out) {
  using detail::TransposedConvShape;
  const TransposedConvShape& t = call.t;
  TransposedPhaseConv p;
  p.y = detail::AxisPhase(input.shape[1], call.out_h, t.filter.kernel_h, t.stride_h, o.padding.top, rh);
  p.x = detail::AxisPhase(input.shape[2], call.out_w, t.filter.kernel_w, t.stride_w, o.padding.left, rw);
  if (!p.Convolves()) return p;
  p.input = input;
  p.input.offset += p.y.begin * input.strides[1] + p.x.begin * input.strides[2];
  p.input.shape[1] = p.y.end - p.y.begin;
  p.input.shape[2] = p.x.end - p.x.begin;
  const int64_t block_offset = t.BlockOffset(p.y.residue, p.x.residue);
  p.block.data = static_cast<const uint8_t*>(packed.data) + detail::kPackedHeaderBytes + block_offset;
  p.block.bytes = static_cast<size_t>(TransposedConvShape::BlockBytes(t.Sub(p.y.residue, p.x.residue)));
  p.options = o;
  p.options.stride_h = p.options.stride_w = 1;
  p.options.dilation_h = p.options.dilation_w = 1;
  p.options.padding.top = p.y.pad_before;
  p.options.padding.bottom = p.y.pad_after;
  p.options.padding.left = p.x.pad_before;
  p.options.padding.right = p.x.pad_after;
  p.output = output;
  p.output.memory.host = phase_out;
  p.output.offset = 0;
  p.output.shape[1] = p.y.count;
  p.output.shape[2] = p.x.count;
  p.output.strides[3] = 1;
  p.output.strides[2] = t.filter.out_channels;
  p.output.strides[1] = p.x.count * t.filter.out_channels;
  p.output.strides[0] = p.y.count * p.x.count * t.filter.out_channels;
  return p;
}

// Validates everything and sizes the workspace: the header, operands and options here, and each
// phase's convolution (its block's header against the shape it must have, then Conv2D's own
// validation of its operands) through ConvWorkspaceSize's pipeline.
inline Status PrepareTransposeConv(const TensorView& input, const PackedWeights& packed, const TensorView& output,
                                   const ConvOptions& o, detail::TransposedConvCall* call) {
  using namespace detail;
  EK_RETURN_IF_ERROR(EnsureDispatchReady());
  TransposedConvShape& t = call->t;
  EK_RETURN_IF_ERROR(ReadTransposedConvHeader(packed.data, packed.bytes, "packed", &t));
  const ConvWeightsShape& w = t.filter;
  call->act = ActivationType(input, w.dtype);
  EK_RETURN_IF_ERROR(ValidateNhwcInput(input, call->act));
  if (w.Quantized()) EK_RETURN_IF_ERROR(RequirePerTensorQuant(input, "input"));
  if (o.stride_h != t.stride_h || o.stride_w != t.stride_w) {
    return Status::Error(StatusCode::kInvalidArgument,
                         "options.stride_h: strides %lld x %lld, the packed weights are for %lld x %lld",
                         LL(o.stride_h), LL(o.stride_w), LL(t.stride_h), LL(t.stride_w));
  }
  if (o.dilation_h != 1 || o.dilation_w != 1) return InvalidArg("options.dilation_h", "must be 1 (transposed)");
  if (o.groups != w.groups) {
    return Status::Error(StatusCode::kInvalidArgument, "options.groups: %lld, the packed weights have %lld groups",
                         LL(o.groups), LL(w.groups));
  }
  const ConvPadding& pad = o.padding;
  if (pad.top < 0 || pad.left < 0 || pad.top > kConvMaxDim || pad.left > kConvMaxDim) {
    return InvalidArg("options.padding", "top and left must be in [0, 2^20]");
  }
  if (pad.bottom < 1 - t.stride_h || pad.right < 1 - t.stride_w || pad.bottom > kConvMaxDim ||
      pad.right > kConvMaxDim) {
    return InvalidArg("options.padding", "bottom and right must be in [-(stride - 1), 2^20]");
  }
  EK_RETURN_IF_ERROR(RequireInputChannels(input, w));
  if (input.shape[1] > kConvMaxDim || input.shape[2] > kConvMaxDim) {
    return InvalidArg("input", "height and width must be at most 2^20");
  }
  call->out_h = TransposeConvOutputSize(input.shape[1], w.kernel_h, t.stride_h, pad.top, pad.bottom);
  call->out_w = TransposeConvOutputSize(input.shape[2], w.kernel_w, t.stride_w, pad.left, pad.right);
  if (call->out_h < 1 || call->out_w < 1) return InvalidArg("options.padding", "crops the whole output");
  EK_RETURN_IF_ERROR(ValidateOutputView(output, "output"));
  EK_RETURN_IF_ERROR(RequireHostMemory(output, "output"));
  EK_RETURN_IF_ERROR(RequireDType(output, "output", call->act));
  if (w.Quantized()) EK_RETURN_IF_ERROR(RequirePerTensorQuant(output, "output"));
  if (output.rank != 4 || output.shape[0] != input.shape[0] || output.shape[1] != call->out_h ||
      output.shape[2] != call->out_w || output.shape[3] != w.out_channels) {
    return Status::Error(StatusCode::kInvalidArgument, "output: expected shape [%lld, %lld, %lld, %lld] (NHWC)",
                         LL(input.shape[0]), LL(call->out_h), LL(call->out_w), LL(w.out_channels));
  }
  if (output.strides[3] != 1 && output.shape[3] > 1) return InvalidArg("output", "channel stride must be 1 (NHWC)");
  EK_RETURN_IF_ERROR(ValidateConvBias(o.bias, w, /*float_output=*/!w.Quantized()));
  float lo = 0.0f, hi = 0.0f;
  EK_RETURN_IF_ERROR(ActivationBounds(o, &lo, &hi));
  if (w.Quantized()) {  // the bias-only phases requantize with these
    const auto* scales =
        reinterpret_cast<const float*>(static_cast<const uint8_t*>(packed.data) + kPackedHeaderBytes + t.ScalesOffset());
    for (int64_t c = 0; c < w.out_channels; ++c) {
      QuantizedMultiplier qm;
      EK_RETURN_IF_ERROR(ChannelMultiplier(input.quant.scale, scales[c], output.quant.scale, &qm, kMultiplierWhat));
    }
  }
  size_t phase_bytes = 0, conv_bytes = 0;
  for (int64_t rh = 0; rh < t.stride_h && rh < call->out_h; ++rh) {
    for (int64_t rw = 0; rw < t.stride_w && rw < call->out_w; ++rw) {
      // Sizes only: the phase's output stands in at the output's address (not written here).
      const TransposedPhaseConv p = PhaseConv(*call, input, packed, output, o, rh, rw, output.memory.host);
      if (!p.Convolves()) continue;
      ConvWeightsShape block;
      EK_RETURN_IF_ERROR(ReadConvHeader(p.block.data, p.block.bytes, "packed", &block));
      const ConvWeightsShape expected = t.Sub(p.y.residue, p.x.residue);
      if (block.kernel_h != expected.kernel_h || block.kernel_w != expected.kernel_w ||
          block.group_in != expected.group_in || block.out_channels != expected.out_channels ||
          block.groups != expected.groups || block.dtype != expected.dtype) {
        return InvalidArg("packed", "corrupt (a sub-filter block does not match the header)");
      }
      ConvCall conv;
      EK_RETURN_IF_ERROR(PrepareConv(p.input, p.block, p.output, p.options, &conv, /*check_aliasing=*/false));
      const size_t bytes = static_cast<size_t>(input.shape[0] * p.y.count * p.x.count * w.out_channels) *
                           ElementBytes(call->act);
      phase_bytes = bytes > phase_bytes ? bytes : phase_bytes;
      conv_bytes = conv.workspace_bytes > conv_bytes ? conv.workspace_bytes : conv_bytes;
    }
  }
  WorkspaceLayout layout;
  call->phase_offset = layout.Add(phase_bytes);
  call->conv_offset = layout.Add(conv_bytes);
  call->conv_bytes = conv_bytes;
  call->workspace_bytes = layout.Bytes();
  return Status::Ok();
}

// Writes a phase that reads no input: every output of it is the bias (f32: through the
// activation; quantized: requantized into the activation's range, as a sum of no taps).
inline void FillBiasPhase(const detail::TransposedConvCall& call, const TensorView& input, const PackedWeights& packed,
                          const TensorView& output, const ConvOptions& o, const TransposedPhaseConv& p, int64_t rh,
                          int64_t rw) {
  using namespace detail;
  const ConvWeightsShape& w = call.t.filter;
  const int64_t channels = w.out_channels;
  float lo = 0.0f, hi = 0.0f;
  (void)ActivationBounds(o, &lo, &hi);
  // One row of C_out values, then copied to each of the phase's pixels.
  uint8_t row[4096];
  const size_t elem = ElementBytes(call.act);
  const int64_t chunk = static_cast<int64_t>(sizeof(row) / elem);
  const auto* scales = reinterpret_cast<const float*>(static_cast<const uint8_t*>(packed.data) + kPackedHeaderBytes +
                                                      call.t.ScalesOffset());
  int32_t qmin = 0, qmax = 0;
  if (w.Quantized()) {
    QuantizedActivationRange(lo, hi, output.quant.scale, output.quant.zero_point, DTypeMin(w.dtype), DTypeMax(w.dtype),
                             &qmin, &qmax);
  }
  auto* out = static_cast<uint8_t*>(output.memory.host);
  for (int64_t c0 = 0; c0 < channels; c0 += chunk) {
    const int64_t n_c = channels - c0 < chunk ? channels - c0 : chunk;
    for (int64_t c = 0; c < n_c; ++c) {
      if (w.Quantized()) {
        const int32_t b = o.bias.rank != 0 ? o.bias.HostData<const int32_t>()[c0 + c] : 0;
        QuantizedMultiplier qm;
        (void)ChannelMultiplier(input.quant.scale, scales[c0 + c], output.quant.scale, &qm, kMultiplierWhat);
        row[c] = static_cast<uint8_t>(Requantize(b, qm, output.quant.zero_point, qmin, qmax));
      } else {
        const float b = o.bias.rank != 0 ? o.bias.HostData<const float>()[c0 + c] : 0.0f;
        const float v = b < lo ? lo : (b > hi ? hi : b);
        if (call.act == DType::kF16) {
          const hwy::float16_t half = hwy::F16FromF32(v);
          std::memcpy(row + c * static_cast<int64_t>(elem), &half, elem);
        } else {
          std::memcpy(row + c * static_cast<int64_t>(elem), &v, elem);
        }
      }
    }
    for (int64_t n = 0; n < output.shape[0]; ++n) {
      for (int64_t j = 0; j < p.y.count; ++j) {
        for (int64_t i = 0; i < p.x.count; ++i) {
          const int64_t e = output.offset + n * output.strides[0] + (rh + j * call.t.stride_h) * output.strides[1] +
                            (rw + i * call.t.stride_w) * output.strides[2] + c0;
          std::memcpy(out + e * static_cast<int64_t>(elem), row, static_cast<size_t>(n_c) * elem);
        }
      }
    }
  }
}

inline Status RunTransposeConv(const TensorView& input, const PackedWeights& packed, const TensorView& output,
                               const ConvOptions& o, const Context& ctx, void* workspace, size_t workspace_bytes) {
  using namespace detail;
  TransposedConvCall call;
  EK_RETURN_IF_ERROR(PrepareTransposeConv(input, packed, output, o, &call));
  EK_RETURN_IF_ERROR(
      RequireWorkspace(workspace, workspace_bytes, call.workspace_bytes, "TransposeConvWorkspaceSize"));
  EK_RETURN_IF_ERROR(CheckConvAliasing(input, packed, output, o, workspace, call.workspace_bytes));
  uint8_t* phase_out = WorkspaceLayout::Base(workspace) + call.phase_offset;
  uint8_t* conv_ws = WorkspaceLayout::Base(workspace) + call.conv_offset;
  const size_t elem = ElementBytes(call.act);
  const int64_t channels = call.t.filter.out_channels;
  const size_t pixel_bytes = static_cast<size_t>(channels) * elem;
  auto* out = static_cast<uint8_t*>(output.memory.host);
  for (int64_t rh = 0; rh < call.t.stride_h && rh < call.out_h; ++rh) {
    for (int64_t rw = 0; rw < call.t.stride_w && rw < call.out_w; ++rw) {
      const TransposedPhaseConv p = PhaseConv(call, input, packed, output, o, rh, rw, phase_out);
      if (p.Empty()) continue;
      if (!p.Convolves()) {
        FillBiasPhase(call, input, packed, output, o, p, rh, rw);
        continue;
      }
      EK_RETURN_IF_ERROR(RunConv(p.input, p.block, p.output, p.options, ctx, conv_ws, call.conv_bytes));
      // The phase's rows to their output pixels, rh + j sh, rw + i sw (in parallel over rows).
      const int64_t rows = output.shape[0] * p.y.count;
      const TaskPlan copy = PlanTasks(static_cast<size_t>(rows), 64, 16);
      ParallelFor(ctx.threads, copy.num_tasks, [&](size_t task) {
        const auto end = static_cast<int64_t>(copy.End(task, static_cast<size_t>(rows)));
        for (auto row = static_cast<int64_t>(copy.Begin(task)); row < end; ++row) {
          const int64_t n = row / p.y.count, j = row % p.y.count;
          const uint8_t* src = phase_out + static_cast<size_t>(row * p.x.count) * pixel_bytes;
          uint8_t* dst = out + (output.offset + n * output.strides[0] + (rh + j * call.t.stride_h) * output.strides[1] +
                                rw * output.strides[2]) *
                                   static_cast<int64_t>(elem);
          const int64_t step = call.t.stride_w * output.strides[2] * static_cast<int64_t>(elem);
          for (int64_t i = 0; i < p.x.count; ++i) std::memcpy(dst + i * step, src + i * pixel_bytes, pixel_bytes);
        }
      });
    }
  }
  return Status::Ok();
}

}  // namespace conv_internal
}  // namespace
}  // namespace ek

#endif  // EK_CPU_CONV_TRANSPOSE_H_

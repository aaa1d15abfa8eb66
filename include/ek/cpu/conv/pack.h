// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Packing an OHWI filter view [C_out, KH, KW, C_in / groups] into convolution weights of format
// "EKCV" version 1 (the header and payload kinds: ek/detail/packed_format.h, docs/conv.md):
// f32; i8 symmetric, per tensor or per output channel (a per-axis scale on axis 0, TFLite's
// per-channel scheme); u8 per tensor with a zero point (TFLite's older scheme).
// Target-independent.
#ifndef EK_CPU_CONV_PACK_H_
#define EK_CPU_CONV_PACK_H_

#include <cstdint>
#include <cstring>


#include "ek/cpu/gemm/pack.h"
#include "ek/cpu/qgemm/pack.h"
#include "ek/detail/qweights.h"
#include "ek/detail/int_math.h"
#include "ek/detail/packed_format.h"
#include "ek/detail/workspace.h"
#include "ek/parallel.h"
#include "ek/tensor.h"
#include "hwy/base.h"

namespace ek {
namespace detail {

// Checks the filter view: f32, i8 or u8 with its quantization, host, rank 4 OHWI, C_out a
// multiple of groups, sizes in range.
inline Status ValidateConvFilter(const TensorView& filter, int64_t groups, const char* name, ConvWeightsShape* s) {
  EK_RETURN_IF_ERROR(ValidateView(filter, name));
  EK_RETURN_IF_ERROR(RequireHostMemory(filter, name));
  if (filter.dtype != DType::kF32 && filter.dtype != DType::kF16 && filter.dtype != DType::kI8 &&
      filter.dtype != DType::kU8) {
    return Status::Error(StatusCode::kInvalidArgument, "%s: dtype is %s, expected f32, f16, i8 or u8", name,
                         DTypeName(filter.dtype));
  }
  if (filter.rank != 4) {
    return Status::Error(StatusCode::kInvalidArgument, "%s: rank %d, expected 4 (OHWI: [C_out, KH, KW, C_in / groups])",
                         name, filter.rank);
  }
  if (groups < 1 || groups > kConvMaxDim) return InvalidArg("groups", "must be in [1, 2^20]");
  for (int i = 0; i < 4; ++i) {
    if (filter.shape[i] > kConvMaxDim) return InvalidArg(name, "a dimension is larger than 2^20");
  }
  if (filter.shape[0] % groups != 0) {
    return Status::Error(StatusCode::kInvalidArgument, "%s: %lld output channels, not a multiple of groups = %lld",
                         name, static_cast<long long>(filter.shape[0]), static_cast<long long>(groups));
  }
  s->out_channels = filter.shape[0];
  s->kernel_h = filter.shape[1];
  s->kernel_w = filter.shape[2];
  s->group_in = filter.shape[3];
  s->groups = groups;
  s->dtype = filter.dtype == DType::kF16 ? DType::kF32 : filter.dtype;  // f16 filters are packed as f32 (exact)
  s->kind = ConvKindFor(s->dtype, s->group_in, s->out_channels, groups, s->Taps());
  if (!s->SizesOk()) {
    return InvalidArg(name, "KH x KW x C_in / groups is larger than 2^30 (int8: 16384), or the packed size 2^62");
  }
  if (s->Quantized()) {
    const QuantParams& q = filter.quant;
    if (filter.dtype == DType::kU8 && q.scheme != QuantScheme::kPerTensor) {
      return InvalidArg(name, "u8 weights are quantized per tensor (with a zero point)");
    }
    if (q.scheme == QuantScheme::kPerTensor) {
      if (filter.dtype == DType::kI8 && q.zero_point != 0) return InvalidArg(name, "i8 weights must be symmetric (zero point 0)");
    } else if (q.scheme == QuantScheme::kPerAxis) {
      if (q.axis != 0) {
        return Status::Error(StatusCode::kInvalidArgument, "%s: quant axis %d, expected 0 (per output channel)", name,
                             q.axis);
      }
      if (q.zero_points) {
        for (int64_t o = 0; o < s->out_channels; ++o) {
          if (q.zero_points[o] != 0) return InvalidArg(name, "per-channel weights must be symmetric (zero points 0)");
        }
      }
    } else {
      return InvalidArg(name, "i8 weights need per-tensor or per-channel (axis 0) quant parameters");
    }
    EK_RETURN_IF_ERROR(ValidateQuant(filter, name));
  }
  return Status::Ok();
}

// A tap index mapped to itself (CopyFilterDense's plain form).
struct Identity {
  int64_t operator()(int64_t t) const { return t; }
};

// Walks a dense OHWI copy [s.out_channels, s.kernel_h, s.kernel_w, s.group_in] of `filter`:
// copy(e, i) for each element, e the filter's element index (its view's offset and strides)
// of output channel o, tap (tap_y(u), tap_x(v)) and channel c, i the dense index of (o, u, v,
// c). The f16 filters' f32 copy and the transposed convolution's sub-filters.
template <class TapY, class TapX, class Copy>
inline void CopyFilterDense(const TensorView& filter, const ConvWeightsShape& s, const TapY& tap_y, const TapX& tap_x,
                            const Copy& copy) {
  size_t i = 0;
  for (int64_t o = 0; o < s.out_channels; ++o) {
    for (int64_t u = 0; u < s.kernel_h; ++u) {
      for (int64_t v = 0; v < s.kernel_w; ++v) {
        const int64_t tap = filter.offset + o * filter.strides[0] + tap_y(u) * filter.strides[1] + tap_x(v) * filter.strides[2];
        for (int64_t c = 0; c < s.group_in; ++c) copy(tap + c * filter.strides[3], i++);
      }
    }
  }
}

// Packs a valid quantized filter: per group an EKQB block (the integer GEMM's packed weights of
// B_g [K x group_out], from the group's filter rows as a transposed B), or the int8 depthwise
// rows, sums and scales.
inline Status PackQuantizedConvWeights(const TensorView& filter, const ConvWeightsShape& s, uint8_t* payload,
                                       const Context& ctx) {
  const int8_t* w = static_cast<const int8_t*>(filter.memory.host) + filter.offset;
  const auto* scales = static_cast<const float*>(filter.quant.scales);
  const auto scale_of = [&](int64_t o) { return filter.quant.scheme == QuantScheme::kPerAxis ? scales[o] : filter.quant.scale; };
  const auto at = [&](int64_t o, int64_t ky, int64_t kx, int64_t c) {
    return w[o * filter.strides[0] + ky * filter.strides[1] + kx * filter.strides[2] + c * filter.strides[3]];
  };
  if (s.kind == ConvWeightsKind::kDepthwise) {  // i8 only
    const int64_t channels = s.QDepthwiseChannels();
    auto* rows = reinterpret_cast<int16_t*>(payload);
    auto* sums = reinterpret_cast<int32_t*>(payload + s.QDepthwiseSumsOffset());
    auto* out_scales = reinterpret_cast<float*>(payload + s.QDepthwiseScalesOffset());
    for (int64_t o = 0; o < channels; ++o) {
      int32_t sum = 0;
      for (int64_t t = 0; t < s.Taps(); ++t) {
        const int16_t v = o < s.out_channels ? at(o, t / s.kernel_w, t % s.kernel_w, 0) : 0;
        rows[t * channels + o] = v;
        sum += v;
      }
      sums[o] = sum;
      out_scales[o] = o < s.out_channels ? scale_of(o) : 0.0f;
    }
    return Status::Ok();
  }
  // Group g's B_g is the filter's rows g * group_out .. as an [N x K] matrix (transposed B) with
  // unit stride along K: the filter itself when its rows are contiguous over (ky, kx, c),
  // otherwise a dense copy.
  const int64_t k = s.K(), group_out = s.GroupOut();
  const bool dense_rows = filter.strides[3] == 1 && filter.strides[2] == s.group_in &&
                          filter.strides[1] == s.kernel_w * s.group_in;
  HeapWorkspace dense(dense_rows ? 0 : static_cast<size_t>(s.out_channels * k));
  const int8_t* rows = w;
  int64_t row_stride = filter.strides[0];
  if (!dense_rows) {
    if (dense.data == nullptr) return Status::Error(StatusCode::kOutOfMemory, "filter: cannot allocate its dense copy");
    auto* copy = static_cast<int8_t*>(dense.data);
    CopyFilterDense(filter, s, Identity(), Identity(), [&](int64_t e, size_t i) { copy[i] = w[e - filter.offset]; });
    rows = copy;
    row_stride = k;
  }
  for (int64_t g = 0; g < s.groups; ++g) {
    TensorView b;
    b.dtype = s.dtype;
    b.rank = 2;
    b.shape[0] = group_out;
    b.shape[1] = k;
    b.strides[0] = row_stride;
    b.strides[1] = 1;
    b.memory.host = const_cast<int8_t*>(rows + g * group_out * row_stride);
    b.quant = filter.quant;
    if (filter.quant.scheme == QuantScheme::kPerAxis) b.quant.scales = scales + g * group_out;
    b.quant.zero_points = nullptr;  // checked all zero
    QWeightsInfo info;
    info.k = k;
    info.n = group_out;
    info.kind = filter.quant.scheme == QuantScheme::kPerAxis ? QScaleKind::kPerChannel : QScaleKind::kPerTensor;
    const QPackedLayout l = LayoutFor(s.dtype, info.kind, k, group_out, 0, DType::kF32);
    PackQGemmUnchecked(b, /*transpose_b=*/true, info, l, payload + g * s.StrideBytes(), ctx);
  }
  return Status::Ok();
}

// Packs a valid filter (ValidateConvFilter) into `out` (header + payload); checksums by SealPacked.
inline Status PackConvWeightsUnchecked(const TensorView& filter, const ConvWeightsShape& s, void* out,
                                       const Context& ctx) {
  if (filter.dtype == DType::kF16) {  // f16 storage: packed from a dense f32 copy (exact)
    HeapWorkspace copy(static_cast<size_t>(s.out_channels * s.Taps() * s.group_in) * sizeof(float));
    if (copy.data == nullptr) return Status::Error(StatusCode::kOutOfMemory, "filter: cannot allocate its f32 copy");
    const auto* half = static_cast<const hwy::float16_t*>(filter.memory.host);
    auto* dense_f32 = static_cast<float*>(copy.data);
    CopyFilterDense(filter, s, Identity(), Identity(),
                    [&](int64_t e, size_t i) { dense_f32[i] = hwy::F32FromF16(half[e]); });
    const TensorView dense =
        TensorView::Host(DType::kF32, dense_f32, {s.out_channels, s.kernel_h, s.kernel_w, s.group_in});
    return PackConvWeightsUnchecked(dense, s, out, ctx);
  }
  WriteConvHeader(s, out);
  uint8_t* payload = static_cast<uint8_t*>(out) + kPackedHeaderBytes;
  if (s.Quantized()) return PackQuantizedConvWeights(filter, s, payload, ctx);
  const float* w = static_cast<const float*>(filter.memory.host) + filter.offset;
  if (s.kind == ConvWeightsKind::kDepthwise) {
    const int64_t row = RoundUp(s.out_channels, kPanelWidth);
    float* rows = reinterpret_cast<float*>(payload);
    for (int64_t t = 0; t < s.Taps(); ++t) {
      const int64_t ky = t / s.kernel_w, kx = t % s.kernel_w;
      for (int64_t o = 0; o < row; ++o) {
        rows[t * row + o] =
            o < s.out_channels ? w[o * filter.strides[0] + ky * filter.strides[1] + kx * filter.strides[2]] : 0.0f;
      }
    }
    return Status::Ok();
  }
  // Group g's B_g [K x group_out] is the filter's rows g * group_out .. as an [N x K] matrix
  // (transposed B): element (j, k) at j * strides[0] + k, when a filter row is contiguous over
  // (ky, kx, c); otherwise the view's own strides through a dense copy.
  const int64_t k = s.K(), group_out = s.GroupOut();
  const bool dense_rows = filter.strides[3] == 1 && filter.strides[2] == s.group_in &&
                          filter.strides[1] == s.kernel_w * s.group_in;
  for (int64_t g = 0; g < s.groups; ++g) {
    uint8_t* group_block = payload + g * s.StrideBytes();  // an EKGB block: header, then panels
    WriteGemmHeader(DType::kF32, k, group_out, group_block);
    uint8_t* group_payload = group_block + kPackedHeaderBytes;
    TensorView b;
    b.dtype = DType::kF32;
    b.rank = 2;
    b.shape[0] = group_out;
    b.shape[1] = k;
    b.memory = filter.memory;
    if (dense_rows) {
      b.offset = filter.offset + g * group_out * filter.strides[0];
      b.strides[0] = filter.strides[0];
      b.strides[1] = 1;
      const TensorView view = b;
      const int64_t panels = CeilDiv(group_out, kPanelWidth);
      const TaskPlan plan = PlanTasks(static_cast<size_t>(panels), static_cast<size_t>(CeilDiv(64 * 1024, k)), 64);
      ParallelFor(ctx.threads, plan.num_tasks, [&](size_t task) {
        PackPanels<uint32_t>(view, /*transpose_b=*/true, k, group_out, group_payload,
                             static_cast<int64_t>(plan.Begin(task)),
                             static_cast<int64_t>(plan.End(task, static_cast<size_t>(panels))));
      });
    } else {
      // Any strides: one element at a time into the panels (packing is not a hot path).
      const int64_t panel_floats = PanelStrideBytes(k, DType::kF32) / 4;
      float* panels_f = reinterpret_cast<float*>(group_payload);
      std::memset(group_payload, 0, static_cast<size_t>(s.StrideBytes()) - kPackedHeaderBytes);
      for (int64_t j = 0; j < group_out; ++j) {
        const int64_t o = g * group_out + j;
        for (int64_t kk = 0; kk < k; ++kk) {
          const int64_t t = kk / s.group_in, c = kk % s.group_in;
          const int64_t ky = t / s.kernel_w, kx = t % s.kernel_w;
          panels_f[(j / kPanelWidth) * panel_floats + kk * kPanelWidth + j % kPanelWidth] =
              w[o * filter.strides[0] + ky * filter.strides[1] + kx * filter.strides[2] + c * filter.strides[3]];
        }
      }
    }
    SealPacked(group_block);
  }
  return Status::Ok();
}

}  // namespace detail
}  // namespace ek

#endif  // EK_CPU_CONV_PACK_H_

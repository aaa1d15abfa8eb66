// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// 2-D convolution on an OpenCL device, with the CPU's semantics and numerics (ek/conv.h,
// ek::ref::Conv2D / QConv2D; docs/opencl.md):
//
//   ek::opencl::Conv2D(rt, input, filter, output, options[, event, tile])
//   ek::opencl::GlobalAvgPool2D(rt, input, output[, event])   (below)
//
//   input  [N, H, W, C_in]  NHWC, unit channel stride, any other strides
//   filter [C_out, KH, KW, C_in / groups]  OHWI as a view: any strides, so an HWIO buffer
//          ([KH, KW, C_in / groups, C_out], coalesced weight reads on a GPU) is passed as the
//          OHWI view with strides [1, KW * cg * C_out, cg * C_out, C_out]
//   output [N, OH, OW, C_out]  unit channel stride, any other strides
//   options: ek::ConvOptions (strides, dilations, explicit padding, groups incl. depthwise, bias
//          as an OpenCL buffer view, activation)
// Types: f32; f16 storage (f16 input and output, f16 or f32 filter, f32 bias and sums); i8
// input / output per tensor x i8 filter symmetric per tensor or per output channel, i32 bias;
// u8 per tensor with zero points. All views are ek::TensorView::OpenCL views of this runtime's
// buffers; quant scales stay in host memory.
//
// Paths: pointwise layers (1x1, stride 1, no padding, one group, evenly strided pixels) run on
// the tuned GEMM kernels (ek/opencl/gemm.h, qgemm.h): the input is the A matrix as it lies, the
// filter B (f32 / f16 transposed when OHWI; i8 when its layout is HWIO, B = [C_in, C_out]).
// Everything else runs opencl/conv.cl's direct kernel. Both sum each output in the reference's
// order (taps row-major, channels increasing); integer results equal ek::Conv2D bit for bit.
#ifndef EK_OPENCL_CONV_H_
#define EK_OPENCL_CONV_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "ek/conv_options.h"
#include "ek/detail/pool_rules.h"
#include "ek/detail/qweights.h"
#include "ek/opencl/gemm.h"
#include "ek/opencl/kernel_sources.h"
#include "ek/opencl/operands.h"
#include "ek/opencl/program.h"
#include "ek/opencl/qgemm.h"
#include "ek/opencl/runtime.h"
#include "ek/opencl/tuning.h"
#include "ek/requantize.h"
#include "ek/status.h"
#include "ek/tensor.h"
#include "ek/tensor_validate.h"

namespace ek {
namespace opencl {

namespace detail {

inline long long ConvLL(int64_t x) { return static_cast<long long>(x); }

// The geometry and operands of one direct-kernel call, in opencl/conv.cl's argument order.
struct ConvCall {
  ClSpan input, filter, output;
  int in_h = 0, in_w = 0, in_stride[3] = {0, 0, 0};
  int filter_stride[4] = {0, 0, 0, 0};
  int out_h = 0, out_w = 0, out_c = 0, out_stride[3] = {0, 0, 0};
  int kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  int pad_top = 0, pad_left = 0, group_in = 1, group_out = 1;
  ClSpan bias;
  int batch = 1;
  float lo = -HUGE_VALF, hi = HUGE_VALF;
  int in_zero_point = 0, filter_zero_point = 0, out_zero_point = 0, qmin = 0, qmax = 0;
  int per_channel = 0;
};

// A stride as the kernel's int: 0 for an axis of extent 1 (never stepped).
inline int KernelStride(const TensorView& v, int axis) {
  return v.shape[axis] > 1 ? static_cast<int>(v.strides[axis]) : 0;
}

// Pixels evenly strided (one stride P between consecutive pixels, rows and images): the form the
// GEMM path reads as a matrix of pixels x channels. Returns P, or 0 when not so.
inline int64_t EvenPixelStride(const TensorView& v) {
  const int64_t p = v.shape[2] > 1 ? v.strides[2] : v.shape[1] > 1 ? v.strides[1] : v.shape[0] > 1 ? v.strides[0] : v.shape[3];
  if (p < v.shape[3]) return 0;
  if (v.shape[1] > 1 && v.strides[1] != v.shape[2] * p) return 0;
  if (v.shape[0] > 1 && v.strides[0] != v.shape[1] * v.shape[2] * p) return 0;
  return p;
}

// Checks everything of a convolution call and fills `call` (the direct kernel's arguments).
inline Status ValidateClConv(const Runtime& rt, const TensorView& input, const TensorView& filter,
                             const TensorView& output, const ConvOptions& o, ConvCall* call) {
  if (!rt.ok()) return Status::Error(StatusCode::kInvalidArgument, "runtime: not open");
  if (input.dtype != DType::kF32 && input.dtype != DType::kF16 && input.dtype != DType::kI8 &&
      input.dtype != DType::kU8) {
    return Status::Error(StatusCode::kInvalidArgument, "input: dtype is %s, expected f32, f16, i8 or u8",
                         DTypeName(input.dtype));
  }
  const bool quantized = input.dtype == DType::kI8 || input.dtype == DType::kU8;
  EK_RETURN_IF_ERROR(ClView(rt, input, "input", false, &call->input));
  if (input.rank != 4) return Status::Error(StatusCode::kInvalidArgument, "input: rank %d, expected 4 (NHWC)", input.rank);
  if (input.strides[3] != 1 && input.shape[3] > 1) return ek::detail::InvalidArg("input", "channel stride must be 1 (NHWC)");
  EK_RETURN_IF_ERROR(ClView(rt, filter, "filter", false, &call->filter));
  if (filter.rank != 4) {
    return Status::Error(StatusCode::kInvalidArgument, "filter: rank %d, expected 4 (OHWI)", filter.rank);
  }
  if (input.dtype == DType::kF16) {
    if (filter.dtype != DType::kF16 && filter.dtype != DType::kF32) {
      return Status::Error(StatusCode::kInvalidArgument, "filter: dtype is %s, expected f16 or f32 (f16 input)",
                           DTypeName(filter.dtype));
    }
  } else {
    EK_RETURN_IF_ERROR(RequireDType(filter, "filter", input.dtype));
  }
  if (quantized) {
    EK_RETURN_IF_ERROR(RequirePerTensorQuant(input, "input"));
    if (input.dtype == DType::kU8) {
      EK_RETURN_IF_ERROR(RequirePerTensorQuant(filter, "filter"));
    } else if (filter.quant.scheme == QuantScheme::kPerAxis) {
      if (filter.quant.axis != 0) return ek::detail::InvalidArg("filter", "per-axis scales must be along axis 0 (C_out)");
      for (int64_t j = 0; filter.quant.zero_points != nullptr && j < filter.shape[0]; ++j) {
        if (filter.quant.zero_points[j] != 0) return ek::detail::InvalidArg("filter", "must be symmetric (zero points 0)");
      }
    } else if (filter.quant.scheme != QuantScheme::kPerTensor || filter.quant.zero_point != 0) {
      return ek::detail::InvalidArg("filter", "must be quantized symmetrically per tensor or per output channel");
    }
  }
  EK_RETURN_IF_ERROR(ek::detail::ValidateConvGeometry(o));  // the CPU's rule (ek/conv_options.h)
  if (filter.shape[1] > ek::detail::kConvMaxDim || filter.shape[2] > ek::detail::kConvMaxDim) {
    return ek::detail::InvalidArg("filter", "kernel height and width must be at most 2^20");
  }
  if (o.groups < 1 || filter.shape[0] % o.groups != 0) {
    return Status::Error(StatusCode::kInvalidArgument, "options.groups: %lld does not divide the filter's %lld output channels",
                         ConvLL(o.groups), ConvLL(filter.shape[0]));
  }
  // Every extent the kernel indexes with must fit an int (zero-stride views can be larger than
  // their buffers); the products below then cannot overflow 64 bits.
  for (int d = 0; d < 4; ++d) {
    if (input.shape[d] > INT32_MAX || filter.shape[d] > INT32_MAX) {
      return ek::detail::InvalidArg(input.shape[d] > INT32_MAX ? "input" : "filter",
                                    "an extent above 2^31 - 1: too large for the kernel's int indices");
    }
  }
  if (input.shape[3] != o.groups * filter.shape[3]) {
    return Status::Error(StatusCode::kInvalidArgument,
                         "input: %lld channels, the filter takes groups x C_in / groups = %lld x %lld",
                         ConvLL(input.shape[3]), ConvLL(o.groups), ConvLL(filter.shape[3]));
  }
  if (quantized && (filter.shape[3] > ek::detail::kQMaxK ||
                    filter.shape[1] * filter.shape[2] * filter.shape[3] > ek::detail::kQMaxK)) {
    return Status::Error(StatusCode::kInvalidArgument, "filter: KH x KW x C_in / groups is above %lld (int32 sums could overflow)",
                         ConvLL(ek::detail::kQMaxK));
  }
  const int64_t out_h = ConvOutputSize(input.shape[1], filter.shape[1], o.stride_h, o.dilation_h, o.padding.top, o.padding.bottom);
  const int64_t out_w = ConvOutputSize(input.shape[2], filter.shape[2], o.stride_w, o.dilation_w, o.padding.left, o.padding.right);
  if (out_h < 1 || out_w < 1) return ek::detail::InvalidArg("filter", "the dilated kernel is larger than the padded input");
  EK_RETURN_IF_ERROR(ClView(rt, output, "output", true, &call->output));
  EK_RETURN_IF_ERROR(RequireDType(output, "output", input.dtype));
  if (quantized) EK_RETURN_IF_ERROR(RequirePerTensorQuant(output, "output"));
  if (output.rank != 4 || output.shape[0] != input.shape[0] || output.shape[1] != out_h || output.shape[2] != out_w ||
      output.shape[3] != filter.shape[0]) {
    return Status::Error(StatusCode::kInvalidArgument, "output: expected shape [%lld, %lld, %lld, %lld] (NHWC)",
                         ConvLL(input.shape[0]), ConvLL(out_h), ConvLL(out_w), ConvLL(filter.shape[0]));
  }
  if (output.strides[3] != 1 && output.shape[3] > 1) return ek::detail::InvalidArg("output", "channel stride must be 1 (NHWC)");
  if (o.bias.rank != 0) {
    EK_RETURN_IF_ERROR(ClView(rt, o.bias, "options.bias", false, &call->bias));
    EK_RETURN_IF_ERROR(RequireDType(o.bias, "options.bias", quantized ? DType::kI32 : DType::kF32));
    if (o.bias.rank != 1 || o.bias.shape[0] != filter.shape[0]) {
      return ek::detail::InvalidArg("options.bias", "must be a vector of C_out elements");
    }
    if (o.bias.strides[0] != 1 && filter.shape[0] > 1) return ek::detail::InvalidArg("options.bias", "must be contiguous");
  }
  EK_RETURN_IF_ERROR(ActivationBounds(o, &call->lo, &call->hi));
  AliasCheck alias;
  alias.AddView(input, "input", AliasCheck::Role::kInput);
  alias.AddView(filter, "filter", AliasCheck::Role::kInput);
  if (o.bias.rank != 0) alias.AddView(o.bias, "options.bias", AliasCheck::Role::kInput);
  alias.AddView(output, "output", AliasCheck::Role::kOutput);
  EK_RETURN_IF_ERROR(alias.Check());
  if (input.shape[0] * out_h > INT32_MAX || (out_w + 7) / 8 > INT32_MAX) {
    return ek::detail::InvalidArg("output", "more than 2^31 rows: too large for the kernel's int indices");
  }

  call->batch = static_cast<int>(input.shape[0]);
  call->in_h = static_cast<int>(input.shape[1]);
  call->in_w = static_cast<int>(input.shape[2]);
  for (int d = 0; d < 3; ++d) call->in_stride[d] = KernelStride(input, d);
  for (int d = 0; d < 4; ++d) call->filter_stride[d] = KernelStride(filter, d);
  call->out_h = static_cast<int>(out_h);
  call->out_w = static_cast<int>(out_w);
  call->out_c = static_cast<int>(output.shape[3]);
  for (int d = 0; d < 3; ++d) call->out_stride[d] = KernelStride(output, d);
  call->kernel_h = static_cast<int>(filter.shape[1]);
  call->kernel_w = static_cast<int>(filter.shape[2]);
  call->stride_h = static_cast<int>(o.stride_h);
  call->stride_w = static_cast<int>(o.stride_w);
  call->dilation_h = static_cast<int>(o.dilation_h);
  call->dilation_w = static_cast<int>(o.dilation_w);
  call->pad_top = static_cast<int>(o.padding.top);
  call->pad_left = static_cast<int>(o.padding.left);
  call->group_in = static_cast<int>(filter.shape[3]);
  call->group_out = static_cast<int>(filter.shape[0] / o.groups);
  if (quantized) {
    call->in_zero_point = input.quant.zero_point;
    call->filter_zero_point = input.dtype == DType::kU8 ? filter.quant.zero_point : 0;
    call->out_zero_point = output.quant.zero_point;
    QuantizedActivationRange(call->lo, call->hi, output.quant.scale, output.quant.zero_point, DTypeMin(input.dtype),
                             DTypeMax(input.dtype), &call->qmin, &call->qmax);
    call->per_channel = filter.quant.scheme == QuantScheme::kPerAxis ? 1 : 0;
  }
  return Status::Ok();
}

// The GEMM form of a pointwise convolution, when it has one: A = the input's pixels x C_in,
// B = the filter as [C_out, C_in] (transpose_b) or [C_in, C_out], C = the output's pixels x
// C_out. False when the layer or its layouts do not fit a GEMM kernel.
inline bool PointwiseAsGemm(const TensorView& input, const TensorView& filter, const TensorView& output,
                            const ConvOptions& o, TensorView* a, TensorView* b, TensorView* c, bool* transpose_b) {
  if (filter.shape[1] != 1 || filter.shape[2] != 1 || o.stride_h != 1 || o.stride_w != 1 || o.groups != 1 ||
      o.padding.top != 0 || o.padding.bottom != 0 || o.padding.left != 0 || o.padding.right != 0) {
    return false;
  }
  if (filter.dtype != input.dtype || input.dtype == DType::kU8) return false;  // u8: QGemm takes i8
  const int64_t in_p = EvenPixelStride(input), out_p = EvenPixelStride(output);
  if (in_p == 0 || out_p == 0) return false;
  const int64_t pixels = input.shape[0] * input.shape[1] * input.shape[2];
  const int64_t cin = input.shape[3], cout = output.shape[3];
  const auto matrix = [](const TensorView& v, int64_t rows, int64_t cols, int64_t row_stride, int64_t col_stride) {
    TensorView m = v;
    m.rank = 2;
    m.shape[0] = rows;
    m.shape[1] = cols;
    m.strides[0] = rows > 1 ? row_stride : cols;
    m.strides[1] = col_stride;
    m.layout = Layout::kStrided;
    return m;
  };
  *a = matrix(input, pixels, cin, in_p, 1);
  *c = matrix(output, pixels, cout, out_p, 1);
  const int64_t stride_o = cout > 1 ? filter.strides[0] : 1, stride_i = cin > 1 ? filter.strides[3] : 1;
  if (stride_i == 1 && input.dtype != DType::kI8) {  // OHWI: B^T [C_out, C_in] (the float GEMMs)
    *b = matrix(filter, cout, cin, stride_o, 1);
    *transpose_b = true;
  } else if (stride_o == 1) {  // HWIO: B [C_in, C_out]; per-channel scales become per column
    *b = matrix(filter, cin, cout, stride_i, 1);
    *transpose_b = false;
    if (b->quant.scheme == QuantScheme::kPerAxis) b->quant.axis = 1;
  } else {
    return false;
  }
  return true;
}

inline Status EnqueueDirectConv(Runtime& rt, const TensorView& input, const TensorView& filter, const ConvCall& call,
                                const ConvTile& tile, cl_mem multiplier, cl_mem shift, cl_event* event) {
  const char* type = input.dtype == DType::kF32 ? "EK_CONV_F32"
                     : input.dtype == DType::kF16 ? "EK_CONV_F16"
                     : input.dtype == DType::kI8  ? "EK_CONV_S8"
                                                  : "EK_CONV_U8";
  char options[160];
  std::snprintf(options, sizeof(options), "-cl-std=CL1.2 -D %s -D EK_CONV_PIXELS=%d%s", type, tile.pixels,
                input.dtype == DType::kF16 && filter.dtype == DType::kF32 ? " -D EK_FILTER_F32" : "");
  cl_kernel kernel = nullptr;
  EK_RETURN_IF_ERROR(GetKernel(rt, sources::kConv, options, "ek_conv2d", &kernel));
  KernelArgs args(rt.api(), kernel);
  args.AddBuffer(call.input.buffer).Add(call.input.offset).Add(call.in_h).Add(call.in_w);
  args.Add(call.in_stride[0]).Add(call.in_stride[1]).Add(call.in_stride[2]);
  args.AddBuffer(call.filter.buffer).Add(call.filter.offset);
  for (int d = 0; d < 4; ++d) args.Add(call.filter_stride[d]);
  args.AddBuffer(call.output.buffer).Add(call.output.offset).Add(call.out_h).Add(call.out_w).Add(call.out_c);
  args.Add(call.out_stride[0]).Add(call.out_stride[1]).Add(call.out_stride[2]);
  args.Add(call.kernel_h).Add(call.kernel_w).Add(call.stride_h).Add(call.stride_w);
  args.Add(call.dilation_h).Add(call.dilation_w).Add(call.pad_top).Add(call.pad_left);
  args.Add(call.group_in).Add(call.group_out);
  const int has_bias = call.bias.buffer != nullptr ? 1 : 0;
  args.AddBuffer(call.bias.buffer).Add(call.bias.offset).Add(has_bias).Add(call.lo).Add(call.hi);
  args.Add(call.in_zero_point).Add(call.filter_zero_point).AddBuffer(multiplier).AddBuffer(shift);
  args.Add(call.per_channel).Add(call.out_zero_point).Add(call.qmin).Add(call.qmax);
  EK_RETURN_IF_ERROR(args.status());
  const size_t columns = static_cast<size_t>((call.out_w + tile.pixels - 1) / tile.pixels);
  const size_t rows = static_cast<size_t>(call.batch) * static_cast<size_t>(call.out_h);
  size_t global[3] = {static_cast<size_t>(call.out_c), columns, rows};
  size_t local[3] = {static_cast<size_t>(tile.local_channels), 1, 1};
  if (tile.local_channels > 0) global[0] = (global[0] + local[0] - 1) / local[0] * local[0];
  EK_CL_RETURN_IF_ERROR("clEnqueueNDRangeKernel",
                        rt.api().clEnqueueNDRangeKernel(rt.queue(), kernel, 3, nullptr, global,
                                                        tile.local_channels > 0 ? local : nullptr, 0, nullptr, event));
  return Status::Ok();
}

}  // namespace detail

// The path Conv2D takes for these operands (assumed valid: Conv2D validates them): the GEMM
// kernels for pointwise layers, else the direct kernel. For tests and tools that must know a
// fast path did not silently turn off.
enum class ConvPath { kGemm, kDirect };
inline ConvPath ConvPathFor(const TensorView& input, const TensorView& filter, const TensorView& output,
                            const ConvOptions& options) {
  TensorView a, b, c;
  bool transpose_b = false;
  return detail::PointwiseAsGemm(input, filter, output, options, &a, &b, &c, &transpose_b) ? ConvPath::kGemm
                                                                                          : ConvPath::kDirect;
}

// output = act(conv(input, filter) + bias), or its quantized form; see the top of this file.
// Enqueued on rt.queue() (in order); returns without waiting. `event` (optional) receives the
// last kernel's event. `tile` (optional) sets the direct kernel's launch shape; null: the
// runtime's (rt.conv_tile(): the tuning file's for this device, else the default).
inline Status Conv2D(Runtime& rt, const TensorView& input, const TensorView& filter, const TensorView& output,
                     const ConvOptions& options = ConvOptions(), cl_event* event = nullptr,
                     const ConvTile* tile = nullptr) {
  if (event != nullptr) *event = nullptr;
  const ConvKernelType type = input.dtype == DType::kF32   ? ConvKernelType::kF32
                              : input.dtype == DType::kF16 ? ConvKernelType::kF16
                                                           : ConvKernelType::kInt8;
  const auto tile_ok = [&rt](const ConvTile& c) {
    const size_t limit = rt.ok() ? std::min(rt.caps().max_work_item_sizes[0], rt.caps().max_work_group_size) : 0;
    return c.pixels >= 1 && c.pixels <= 8 && c.local_channels >= 0 && static_cast<size_t>(c.local_channels) <= limit;
  };
  if (tile != nullptr && !tile_ok(*tile)) {
    return ek::detail::InvalidArg("tile", "pixels must be in 1..8 and local_channels in 0..the device's work-group limit");
  }
  // The runtime's tile (tuning file) falls back to the default where it does not fit this device.
  const ConvTile tuned = rt.ok() ? rt.conv_tile(type) : ConvTile();
  const ConvTile t = tile != nullptr ? *tile : tile_ok(tuned) ? tuned : ConvTile();
  detail::ConvCall call;
  EK_RETURN_IF_ERROR(detail::ValidateClConv(rt, input, filter, output, options, &call));
  const bool quantized = input.dtype == DType::kI8 || input.dtype == DType::kU8;
  TensorView a, b, c;
  bool transpose_b = false;
  if (detail::PointwiseAsGemm(input, filter, output, options, &a, &b, &c, &transpose_b)) {
    if (!quantized) {
      GemmOptions g;
      static_cast<EpilogueOptions&>(g) = options;
      g.transpose_b = transpose_b;
      return Gemm(rt, a, b, c, g, event);
    }
    QGemmOptions q;
    static_cast<EpilogueOptions&>(q) = options;
    return QGemm(rt, a, b, c, q, event);
  }
  if (!quantized) return detail::EnqueueDirectConv(rt, input, filter, call, t, nullptr, nullptr, event);
  cl_mem multiplier = nullptr, shift = nullptr;
  const bool per_channel = filter.quant.scheme == QuantScheme::kPerAxis;
  Status s = detail::UploadMultipliers(rt, input.quant.scale, filter.quant, per_channel,
                                       per_channel ? filter.shape[0] : 1, output.quant.scale,
                                       "input.scale * filter.scale / output.scale", &multiplier, &shift);
  if (s.ok()) s = detail::EnqueueDirectConv(rt, input, filter, call, t, multiplier, shift, event);
  ReleaseBuffer(rt, multiplier);
  ReleaseBuffer(rt, shift);
  return s;
}


// Global average pooling: input [N, H, W, C] -> output [N, 1, 1, C] or [N, C], the average of
// each image's pixels (ek::GlobalAvgPool2D's rule, opencl/pool.cl): f32, exact with the CPU on
// a device with correctly rounded f32 division (DeviceCaps::correctly_rounded_divide), else
// within that device's division error; i8 / u8 with the input's scale and zero point (TFLite's
// integer average), bit-exact.
inline Status GlobalAvgPool2D(Runtime& rt, const TensorView& input, const TensorView& output, cl_event* event = nullptr) {
  if (event != nullptr) *event = nullptr;
  if (!rt.ok()) return Status::Error(StatusCode::kInvalidArgument, "runtime: not open");
  detail::ClSpan in, out;
  EK_RETURN_IF_ERROR(detail::ClView(rt, input, "input", false, &in));
  if (input.dtype != DType::kF32 && input.dtype != DType::kI8 && input.dtype != DType::kU8) {
    return Status::Error(StatusCode::kInvalidArgument, "input: dtype is %s, expected f32, i8 or u8", DTypeName(input.dtype));
  }
  if (input.rank != 4) return Status::Error(StatusCode::kInvalidArgument, "input: rank %d, expected 4 (NHWC)", input.rank);
  if (input.strides[3] != 1 && input.shape[3] > 1) return ek::detail::InvalidArg("input", "channel stride must be 1 (NHWC)");
  const bool quantized = input.dtype != DType::kF32;
  if (quantized) EK_RETURN_IF_ERROR(RequirePerTensorQuant(input, "input"));
  EK_RETURN_IF_ERROR(detail::ClView(rt, output, "output", true, &out));
  EK_RETURN_IF_ERROR(ek::detail::PoolOutputRules(input, output));  // the CPU's rules, in its order (ek/detail/pool_rules.h)
  EK_RETURN_IF_ERROR(ek::detail::GlobalPoolOutputShape(input, output));
  if (input.shape[1] > (int64_t{1} << 23) || input.shape[2] > (int64_t{1} << 23) ||
      input.shape[1] * input.shape[2] > (int64_t{1} << 23) || input.shape[0] > INT32_MAX || input.shape[3] > INT32_MAX) {
    return ek::detail::InvalidArg("input", "more than 2^23 pixels per image (the integer sum could overflow)");
  }
  char options[128];
  std::snprintf(options, sizeof(options), "-cl-std=CL1.2 -D %s%s",
                input.dtype == DType::kF32 ? "EK_POOL_F32" : input.dtype == DType::kI8 ? "EK_POOL_S8" : "EK_POOL_U8",
                !quantized && rt.caps().correctly_rounded_divide ? " -cl-fp32-correctly-rounded-divide-sqrt" : "");
  cl_kernel kernel = nullptr;
  EK_RETURN_IF_ERROR(GetKernel(rt, sources::kPool, options, "ek_global_avg_pool", &kernel));
  const int channels = static_cast<int>(input.shape[3]);
  const float lo = -HUGE_VALF, hi = HUGE_VALF;  // no activation (as ek::GlobalAvgPool2D)
  const int qmin = DTypeMin(input.dtype), qmax = DTypeMax(input.dtype);
  detail::KernelArgs args(rt.api(), kernel);
  args.AddBuffer(in.buffer).Add(in.offset).Add(static_cast<int>(input.shape[1])).Add(static_cast<int>(input.shape[2]));
  args.Add(detail::KernelStride(input, 0)).Add(detail::KernelStride(input, 1)).Add(detail::KernelStride(input, 2));
  args.Add(channels).AddBuffer(out.buffer).Add(out.offset).Add(detail::KernelStride(output, 0));
  args.Add(lo).Add(hi).Add(qmin).Add(qmax);
  EK_RETURN_IF_ERROR(args.status());
  const size_t global[2] = {static_cast<size_t>(channels), static_cast<size_t>(input.shape[0])};
  EK_CL_RETURN_IF_ERROR("clEnqueueNDRangeKernel",
                        rt.api().clEnqueueNDRangeKernel(rt.queue(), kernel, 2, nullptr, global, nullptr, 0, nullptr, event));
  return Status::Ok();
}

}  // namespace opencl
}  // namespace ek

#endif  // EK_OPENCL_CONV_H_

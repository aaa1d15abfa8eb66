// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Quantization on an OpenCL device (opencl/convert.cl), bit-exact with the CPU:
//
//   ek::opencl::Quantize(rt, x, q)      f32 -> i8 / u8, q carries the quant params (per tensor, or
//                                       per axis), ek::Quantize's rule (ek/ref/convert.h)
//   ek::opencl::Dequantize(rt, q, x)    i8 / u8 -> f32, q carries the quant params
//   ek::opencl::QuantizeRows(rt, a, q, scales, zero_points)
//                                       dynamic per-row quantization of f32 rows to u8
//                                       (ek::DynamicRowParams), the input of QGemmDynamic
//
// Views are ek::TensorView::OpenCL views, dense row-major (any rank for Quantize / Dequantize);
// the quant parameters (scales, zero points) are host values, as on the CPU. Every argument is
// validated and named; extents are checked against the buffers' sizes. Calls are enqueued on
// rt.queue() and return without waiting; `event` (optional) receives the kernel's event.
#ifndef EK_OPENCL_CONVERT_H_
#define EK_OPENCL_CONVERT_H_

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "ek/opencl/kernel_sources.h"
#include "ek/opencl/operands.h"
#include "ek/opencl/program.h"
#include "ek/opencl/runtime.h"
#include "ek/ref/convert.h"
#include "ek/status.h"
#include "ek/tensor.h"
#include "ek/tensor_validate.h"

namespace ek {
namespace opencl {
namespace detail {

// Per-channel parameters of a quantized view (host values), uploaded for one call: the
// reciprocals (or scales) and zero points, and how the channel of element e is found.
struct ChannelParams {
  cl_mem values = nullptr, zero_points = nullptr;
  int channel_stride = 0;  // 0: per tensor
  int channels = 1;
};

inline void ReleaseChannelParams(const Runtime& rt, ChannelParams* p) {
  ReleaseBuffer(rt, p->values);
  ReleaseBuffer(rt, p->zero_points);
  *p = ChannelParams();
}

inline Status UploadChannelParams(const Runtime& rt, const TensorView& quantized, bool reciprocals, ChannelParams* p) {
  const QuantParams& q = quantized.quant;
  const bool per_axis = q.scheme == QuantScheme::kPerAxis;
  const int64_t channels = per_axis ? quantized.shape[q.axis] : 1;
  int64_t inner = 1;
  for (int d = per_axis ? q.axis + 1 : quantized.rank; d < quantized.rank; ++d) inner *= quantized.shape[d];
  p->channels = static_cast<int>(channels);
  p->channel_stride = per_axis ? static_cast<int>(inner) : 0;
  const size_t bytes = static_cast<size_t>(channels) * 4;
  auto* host = static_cast<uint32_t*>(std::malloc(2 * bytes));
  if (host == nullptr) return Status::Error(StatusCode::kOutOfMemory, "opencl: %zu bytes for quant params", 2 * bytes);
  for (int64_t c = 0; c < channels; ++c) {
    const float scale = per_axis ? static_cast<const float*>(q.scales)[c] : q.scale;
    const int32_t zero_point = per_axis ? (q.zero_points ? q.zero_points[c] : 0) : q.zero_point;
    const float value = reciprocals ? ref::InverseScale(scale) : scale;
    std::memcpy(&host[c], &value, 4);
    std::memcpy(&host[channels + c], &zero_point, 4);
  }
  Status s = CreateBuffer(rt, bytes, &p->values);
  if (s.ok()) s = CreateBuffer(rt, bytes, &p->zero_points);
  if (s.ok()) s = Upload(rt, p->values, 0, host, bytes);
  if (s.ok()) s = Upload(rt, p->zero_points, 0, host + channels, bytes);
  std::free(host);
  if (!s.ok()) ReleaseChannelParams(rt, p);
  return s;
}

inline int ElementWiseGroup(const Runtime& rt) {
  return rt.caps().max_work_group_size >= 64 ? 64 : static_cast<int>(rt.caps().max_work_group_size);
}

// Shared by Quantize and Dequantize: f32 view `real`, quantized view `quantized`.
inline Status EnqueueElementWise(Runtime& rt, const char* kernel_name, const TensorView& real,
                                 const TensorView& quantized, bool real_is_output, cl_event* event) {
  if (event != nullptr) *event = nullptr;
  if (!rt.ok()) return Status::Error(StatusCode::kInvalidArgument, "runtime: not open");
  const char* real_name = real_is_output ? "output" : "input";
  const char* q_name = real_is_output ? "input" : "output";
  EK_RETURN_IF_ERROR(RequireDType(real, real_name, DType::kF32));
  if (quantized.dtype != DType::kI8 && quantized.dtype != DType::kU8) {
    return Status::Error(StatusCode::kInvalidArgument, "%s: dtype is %s, expected i8 or u8", q_name,
                         DTypeName(quantized.dtype));
  }
  EK_RETURN_IF_ERROR(RequireSameShape(real, real_name, quantized, q_name));
  ClSpan r, q;
  EK_RETURN_IF_ERROR(ClView(rt, real, real_name, real_is_output, &r));
  EK_RETURN_IF_ERROR(ClView(rt, quantized, q_name, !real_is_output, &q));
  EK_RETURN_IF_ERROR(RequireDense(real, real_name));
  EK_RETURN_IF_ERROR(RequireDense(quantized, q_name));
  if (quantized.quant.scheme != QuantScheme::kPerTensor && quantized.quant.scheme != QuantScheme::kPerAxis) {
    return ek::detail::InvalidArg(q_name, "needs quant parameters per tensor or per axis");
  }
  EK_RETURN_IF_ERROR(ValidateQuant(quantized, q_name));
  AliasCheck alias;  // the aliasing rule (ek/tensor_validate.h): the quant arrays are read
  alias.AddView(real, real_name, real_is_output ? AliasCheck::Role::kOutput : AliasCheck::Role::kInput);
  alias.AddView(quantized, q_name, real_is_output ? AliasCheck::Role::kInput : AliasCheck::Role::kOutput,
                AliasCheck::Role::kInput);
  EK_RETURN_IF_ERROR(alias.Check());
  if (r.elements == 0) return Status::Ok();
  char options[64];
  std::snprintf(options, sizeof(options), "-cl-std=CL1.2 -D %s", quantized.dtype == DType::kI8 ? "EK_Q_I8" : "EK_Q_U8");
  cl_kernel kernel = nullptr;
  EK_RETURN_IF_ERROR(GetKernel(rt, sources::kConvert, options, kernel_name, &kernel));
  ChannelParams params;
  EK_RETURN_IF_ERROR(UploadChannelParams(rt, quantized, !real_is_output, &params));
  const int count = static_cast<int>(r.elements);
  KernelArgs args(rt.api(), kernel);
  args.Add(count);
  if (real_is_output) {
    args.AddBuffer(q.buffer).Add(q.offset).AddBuffer(r.buffer).Add(r.offset);
  } else {
    args.AddBuffer(r.buffer).Add(r.offset).AddBuffer(q.buffer).Add(q.offset);
  }
  args.AddBuffer(params.values).AddBuffer(params.zero_points).Add(params.channel_stride).Add(params.channels);
  Status s = args.status();
  if (s.ok()) {
    const size_t local = static_cast<size_t>(ElementWiseGroup(rt));
    const size_t global = (static_cast<size_t>(count) + local - 1) / local * local;
    const cl_int err = rt.api().clEnqueueNDRangeKernel(rt.queue(), kernel, 1, nullptr, &global, &local, 0, nullptr, event);
    if (err != CL_SUCCESS) s = ClError("clEnqueueNDRangeKernel", err);
  }
  ReleaseChannelParams(rt, &params);  // freed by the driver once the kernel is done
  return s;
}

}  // namespace detail

// output = quantize(input): f32 -> i8 / u8 with output's quant params, ek::Quantize's rule.
inline Status Quantize(Runtime& rt, const TensorView& input, const TensorView& output, cl_event* event = nullptr) {
  return detail::EnqueueElementWise(rt, "ek_quantize", input, output, false, event);
}

// output = dequantize(input): i8 / u8 with input's quant params -> f32, ek::Dequantize's rule.
inline Status Dequantize(Runtime& rt, const TensorView& input, const TensorView& output, cl_event* event = nullptr) {
  return detail::EnqueueElementWise(rt, "ek_dequantize", output, input, true, event);
}

// The work-group size of ek_quantize_rows.
constexpr int kQuantizeRowsGroup = 64;

// Dynamic per-row quantization (ek::DynamicRowParams, then ek::Quantize's rule): a f32 [M x K]
// (unit column stride) -> q u8 [M x KP] (KP >= K, columns K..KP written as 0; unit column
// stride), scales f32 [M], zero_points i32 [M]. Bit-exact with the CPU where the device divides
// correctly rounded (DeviceCaps::correctly_rounded_divide; docs/opencl.md).
inline Status QuantizeRows(Runtime& rt, const TensorView& a, const TensorView& q, const TensorView& scales,
                           const TensorView& zero_points, cl_event* event = nullptr) {
  if (event != nullptr) *event = nullptr;
  if (!rt.ok()) return Status::Error(StatusCode::kInvalidArgument, "runtime: not open");
  EK_RETURN_IF_ERROR(RequireDType(a, "a", DType::kF32));
  EK_RETURN_IF_ERROR(RequireDType(q, "q", DType::kU8));
  EK_RETURN_IF_ERROR(RequireDType(scales, "scales", DType::kF32));
  EK_RETURN_IF_ERROR(RequireDType(zero_points, "zero_points", DType::kI32));
  if (a.rank != 2) return Status::Error(StatusCode::kInvalidArgument, "a: rank %d, expected 2", a.rank);
  const int64_t m = a.shape[0], k = a.shape[1];
  if (q.rank != 2 || q.shape[0] != m || q.shape[1] < k) {
    return Status::Error(StatusCode::kInvalidArgument, "q: expected shape [%lld, >= %lld]", static_cast<long long>(m),
                         static_cast<long long>(k));
  }
  if (scales.rank != 1 || scales.shape[0] != m) return ek::detail::InvalidArg("scales", "expected M elements");
  if (zero_points.rank != 1 || zero_points.shape[0] != m) {
    return ek::detail::InvalidArg("zero_points", "expected M elements");
  }
  if (a.strides[1] != 1 && k > 1) return ek::detail::InvalidArg("a", "column stride must be 1");
  if (q.strides[1] != 1 && q.shape[1] > 1) return ek::detail::InvalidArg("q", "column stride must be 1");
  if (scales.strides[0] != 1 && m > 1) return ek::detail::InvalidArg("scales", "must be contiguous");
  if (zero_points.strides[0] != 1 && m > 1) return ek::detail::InvalidArg("zero_points", "must be contiguous");
  detail::ClSpan av, qv, sv, zv;
  EK_RETURN_IF_ERROR(detail::ClView(rt, a, "a", false, &av));
  EK_RETURN_IF_ERROR(detail::ClView(rt, q, "q", true, &qv));
  EK_RETURN_IF_ERROR(detail::ClView(rt, scales, "scales", true, &sv));
  EK_RETURN_IF_ERROR(detail::ClView(rt, zero_points, "zero_points", true, &zv));
  AliasCheck alias;  // the aliasing rule (ek/tensor_validate.h)
  alias.AddView(a, "a", AliasCheck::Role::kInput);
  alias.AddView(q, "q", AliasCheck::Role::kOutput);
  alias.AddView(scales, "scales", AliasCheck::Role::kOutput);
  alias.AddView(zero_points, "zero_points", AliasCheck::Role::kOutput);
  EK_RETURN_IF_ERROR(alias.Check());
  if (rt.caps().max_work_group_size < static_cast<size_t>(kQuantizeRowsGroup)) {
    return Status::Error(StatusCode::kUnsupported, "opencl: ek_quantize_rows needs %d work-items per group, the device has %zu",
                         kQuantizeRowsGroup, rt.caps().max_work_group_size);
  }
  char options[160];
  std::snprintf(options, sizeof(options), "-cl-std=CL1.2 -D EK_ROW_GROUP=%d%s%s", kQuantizeRowsGroup,
                rt.caps().correctly_rounded_divide ? " -cl-fp32-correctly-rounded-divide-sqrt" : "",
                rt.caps().subgroups_khr ? " -D EK_SUBGROUPS" : "");
  cl_kernel kernel = nullptr;
  EK_RETURN_IF_ERROR(GetKernel(rt, sources::kConvert, options, "ek_quantize_rows", &kernel));
  const int ki = static_cast<int>(k), kp = static_cast<int>(q.shape[1]);
  const int lda = m > 1 ? static_cast<int>(a.strides[0]) : ki, ldq = m > 1 ? static_cast<int>(q.strides[0]) : kp;
  detail::KernelArgs args(rt.api(), kernel);
  args.Add(ki).Add(kp).AddBuffer(av.buffer).Add(av.offset).Add(lda).AddBuffer(qv.buffer).Add(qv.offset).Add(ldq);
  args.AddBuffer(sv.buffer).Add(sv.offset).AddBuffer(zv.buffer).Add(zv.offset);
  EK_RETURN_IF_ERROR(args.status());
  if (m == 0) return Status::Ok();
  const size_t local = kQuantizeRowsGroup;
  const size_t global = static_cast<size_t>(m) * local;
  EK_CL_RETURN_IF_ERROR("clEnqueueNDRangeKernel",
                        rt.api().clEnqueueNDRangeKernel(rt.queue(), kernel, 1, nullptr, &global, &local, 0, nullptr, event));
  return Status::Ok();
}

}  // namespace opencl
}  // namespace ek

#endif  // EK_OPENCL_CONVERT_H_

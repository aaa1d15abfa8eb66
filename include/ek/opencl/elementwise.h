// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Element-wise ops on an OpenCL device, with the CPU's semantics and numerics (ek/elementwise.h,
// ek::ref::Add / QAdd; opencl/elementwise.cl):
//
//   ek::opencl::Add(rt, a, b, output, options[, event])    output = act(a + b)
//
// a, b, output: OpenCL views of this runtime's buffers, one shape of rank 1..4, each with its
// own strides; f32 (one IEEE addition, then the clamp: exact with the CPU), or i8 / u8 per
// tensor (TFLite's quantized ADD: bit-exact). The output overlaps neither input.
#ifndef EK_OPENCL_ELEMENTWISE_H_
#define EK_OPENCL_ELEMENTWISE_H_

#include <cmath>
#include <cstdint>

#include "ek/detail/elementwise_rules.h"
#include "ek/elementwise_options.h"
#include "ek/opencl/kernel_sources.h"
#include "ek/opencl/operands.h"
#include "ek/opencl/program.h"
#include "ek/opencl/runtime.h"
#include "ek/requantize.h"
#include "ek/status.h"
#include "ek/tensor.h"
#include "ek/tensor_validate.h"

namespace ek {
namespace opencl {

inline Status Add(Runtime& rt, const TensorView& a, const TensorView& b, const TensorView& output,
                  const ElementwiseOptions& options = ElementwiseOptions(), cl_event* event = nullptr) {
  if (event != nullptr) *event = nullptr;
  if (!rt.ok()) return Status::Error(StatusCode::kInvalidArgument, "runtime: not open");
  detail::ClSpan sa, sb, so;
  EK_RETURN_IF_ERROR(detail::ClView(rt, a, "a", false, &sa));
  if (a.rank > 4) return Status::Error(StatusCode::kInvalidArgument, "a: rank %d, the OpenCL add takes 1..4", a.rank);
  EK_RETURN_IF_ERROR(detail::ClView(rt, b, "b", false, &sb));
  EK_RETURN_IF_ERROR(detail::ClView(rt, output, "output", true, &so));
  ek::detail::AddEpilogue e;  // the CPU's rules (ek/detail/elementwise_rules.h)
  EK_RETURN_IF_ERROR(ek::detail::AddRules(a, b, output, options, &e));
  const float lo = e.lo, hi = e.hi;
  const QuantizedAddParams& q = e.q;
  if (sa.elements > INT32_MAX) return ek::detail::InvalidArg("a", "more than 2^31 elements");

  // The views padded to rank 4 with leading extents of 1 (their strides 0).
  int shape[4] = {1, 1, 1, 1};
  int strides[3][4] = {};
  const TensorView* views[3] = {&a, &b, &output};
  for (int d = 0; d < a.rank; ++d) {
    const int axis = 4 - a.rank + d;
    shape[axis] = static_cast<int>(a.shape[d]);
    for (int v = 0; v < 3; ++v) strides[v][axis] = a.shape[d] > 1 ? static_cast<int>(views[v]->strides[d]) : 0;
  }
  const char* type = a.dtype == DType::kF32 ? "-cl-std=CL1.2 -D EK_ADD_F32"
                     : a.dtype == DType::kI8 ? "-cl-std=CL1.2 -D EK_ADD_S8"
                                             : "-cl-std=CL1.2 -D EK_ADD_U8";
  cl_kernel kernel = nullptr;
  EK_RETURN_IF_ERROR(GetKernel(rt, sources::kElementwise, type, "ek_add", &kernel));
  detail::KernelArgs args(rt.api(), kernel);
  const detail::ClSpan* spans[3] = {&sa, &sb, &so};
  for (int v = 0; v < 3; ++v) {
    args.AddBuffer(spans[v]->buffer).Add(spans[v]->offset);
    for (int axis = 0; axis < 4; ++axis) args.Add(strides[v][axis]);
  }
  args.Add(shape[1]).Add(shape[2]).Add(shape[3]).Add(lo).Add(hi);
  args.Add(q.a_offset).Add(q.b_offset).Add(q.a.multiplier).Add(q.a.shift).Add(q.b.multiplier).Add(q.b.shift);
  args.Add(q.out.multiplier).Add(q.out.shift).Add(q.out_zero_point).Add(q.qmin).Add(q.qmax);
  EK_RETURN_IF_ERROR(args.status());
  const size_t global = static_cast<size_t>(sa.elements);
  EK_CL_RETURN_IF_ERROR("clEnqueueNDRangeKernel",
                        rt.api().clEnqueueNDRangeKernel(rt.queue(), kernel, 1, nullptr, &global, nullptr, 0, nullptr, event));
  return Status::Ok();
}

}  // namespace opencl
}  // namespace ek

#endif  // EK_OPENCL_ELEMENTWISE_H_

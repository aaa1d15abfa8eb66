// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Operands of the OpenCL entry points: checks that a tensor view names an OpenCL buffer of the
// runtime and lies inside it with int32-addressable offsets (every kernel indexes with int), the
// matrix and bias forms of those checks, and kernel argument setting.
#ifndef EK_OPENCL_OPERANDS_H_
#define EK_OPENCL_OPERANDS_H_

#include <cstdint>

#include "ek/opencl/runtime.h"
#include "ek/status.h"
#include "ek/tensor.h"
#include "ek/tensor_validate.h"

namespace ek {
namespace opencl {
namespace detail {

// A validated OpenCL operand: its buffer and where its first element is (in elements).
struct ClSpan {
  cl_mem buffer = nullptr;
  int offset = 0;
  int64_t elements = 0;
};

// Checks that `v` is an OpenCL view whose extent lies inside its buffer, with int32-addressable
// element offsets; fills its buffer and element offset.
inline Status ClView(const Runtime& rt, const TensorView& v, const char* name, bool output, ClSpan* out) {
  EK_RETURN_IF_ERROR(output ? ValidateOutputView(v, name) : ValidateView(v, name));
  if (v.memory.kind != MemoryKind::kOpenCLBuffer) {
    return Status::Error(StatusCode::kWrongMemory, "%s: lives in %s memory; ek::opencl kernels need OpenCL buffers",
                         name, MemoryKindName(v.memory.kind));
  }
  const size_t element = DTypeBits(v.dtype) >= 8 ? static_cast<size_t>(DTypeBits(v.dtype) / 8) : 1;
  if (v.memory.byte_offset % element != 0) {
    return ek::detail::InvalidArg(name, "byte_offset is not a multiple of the element size");
  }
  ByteSpan span;
  EK_RETURN_IF_ERROR(ComputeByteSpan(v, name, &span));
  size_t buffer_bytes = 0;
  auto* buffer = static_cast<cl_mem>(v.memory.handle);
  if (rt.api().clGetMemObjectInfo(buffer, CL_MEM_SIZE, sizeof(buffer_bytes), &buffer_bytes, nullptr) != CL_SUCCESS) {
    return ek::detail::InvalidArg(name, "handle is not an OpenCL buffer of this runtime");
  }
  const uint64_t end = v.memory.byte_offset + static_cast<uint64_t>(span.last) + 1;
  if (end > buffer_bytes) {
    return Status::Error(StatusCode::kInvalidArgument, "%s: view ends at byte %llu, the buffer has %zu bytes", name,
                         static_cast<unsigned long long>(end), buffer_bytes);
  }
  const uint64_t first = v.memory.byte_offset / element + static_cast<uint64_t>(v.offset);
  if (first + static_cast<uint64_t>(span.last - span.first) / element + 1 > uint64_t{INT32_MAX}) {
    return ek::detail::InvalidArg(name, "more than 2^31 elements: too large for the OpenCL kernels' int indices");
  }
  out->buffer = buffer;
  out->offset = static_cast<int>(first);
  out->elements = v.NumElements();
  return Status::Ok();
}

// Dense row-major: the layout the element-wise kernels walk.
// The first checks of every matrix entry point: the event cleared (so a failed call leaves no
// stale event), the runtime open, A and B of rank 2.
inline Status BeginMatrixCall(const Runtime& rt, const TensorView& a, const TensorView& b, cl_event* event) {
  if (event != nullptr) *event = nullptr;
  if (!rt.ok()) return Status::Error(StatusCode::kInvalidArgument, "runtime: not open");
  if (a.rank != 2) return Status::Error(StatusCode::kInvalidArgument, "a: rank %d, expected 2", a.rank);
  if (b.rank != 2) return Status::Error(StatusCode::kInvalidArgument, "b: rank %d, expected 2", b.rank);
  return Status::Ok();
}

inline Status RequireDense(const TensorView& v, const char* name) {
  int64_t expected = 1;
  for (int d = v.rank - 1; d >= 0; --d) {
    if (v.shape[d] > 1 && v.strides[d] != expected) {
      return ek::detail::InvalidArg(name, "must be dense row-major (the OpenCL element-wise kernels need it)");
    }
    expected *= v.shape[d];
  }
  return Status::Ok();
}

// Sets kernel arguments in order; the first failure is kept.
class KernelArgs {
 public:
  KernelArgs(const Api& api, cl_kernel kernel) : api_(api), kernel_(kernel) {}
  template <typename T>
  KernelArgs& Add(const T& value) {
    if (err_ == CL_SUCCESS) err_ = api_.clSetKernelArg(kernel_, index_, sizeof(T), &value);
    ++index_;
    return *this;
  }
  KernelArgs& AddBuffer(cl_mem buffer) {  // a null buffer argument when absent
    if (err_ == CL_SUCCESS) err_ = api_.clSetKernelArg(kernel_, index_, sizeof(cl_mem), buffer ? &buffer : nullptr);
    ++index_;
    return *this;
  }
  Status status() const { return err_ == CL_SUCCESS ? Status::Ok() : ClError("clSetKernelArg", err_); }

 private:
  const Api& api_;
  cl_kernel kernel_;
  cl_uint index_ = 0;
  cl_int err_ = CL_SUCCESS;
};

// A validated matrix operand: its buffer, element offset and row stride (in elements).
struct ClMatrix {
  cl_mem buffer = nullptr;
  int offset = 0;
  int ld = 0;
};

inline Status ClOperand(const Runtime& rt, const TensorView& v, const char* name, bool output, int64_t rows,
                        int64_t cols, ClMatrix* out) {
  ClSpan span;
  EK_RETURN_IF_ERROR(ClView(rt, v, name, output, &span));
  if (v.rank != 2 || v.shape[0] != rows || v.shape[1] != cols) {
    return Status::Error(StatusCode::kInvalidArgument, "%s: expected shape [%lld, %lld]", name,
                         static_cast<long long>(rows), static_cast<long long>(cols));
  }
  if (v.strides[1] != 1 && cols > 1) return ek::detail::InvalidArg(name, "column stride must be 1");
  const int64_t ld = rows > 1 ? v.strides[0] : cols;
  if (static_cast<uint64_t>(span.offset) + static_cast<uint64_t>(ld) * static_cast<uint64_t>(rows) > uint64_t{INT32_MAX}) {
    return ek::detail::InvalidArg(name, "more than 2^31 elements: too large for the OpenCL kernels' int indices");
  }
  out->buffer = span.buffer;
  out->offset = span.offset;
  out->ld = static_cast<int>(ld);
  return Status::Ok();
}

inline Status BiasOperand(const Runtime& rt, const TensorView& bias, DType type, int64_t n, const TensorView& c,
                          ClMatrix* out) {
  if (bias.rank == 0) return Status::Ok();
  EK_RETURN_IF_ERROR(RequireDType(bias, "options.bias", type));
  TensorView row = bias;
  if (bias.rank == 1) {  // view the vector as a 1 x N matrix
    row.rank = 2;
    row.shape[0] = 1;
    row.shape[1] = bias.shape[0];
    row.strides[0] = bias.shape[0];
    row.strides[1] = bias.strides[0];
    row.layout = Layout::kStrided;
  } else {
    return ek::detail::InvalidArg("options.bias", "must be a vector of N elements");
  }
  (void)c;  // the aliasing rule is checked by the entry point (AliasCheck), bias included
  return ClOperand(rt, row, "options.bias", false, 1, n, out);
}

// The aliasing rule (ek/tensor_validate.h) for a GEMM: C the output; A, B and the bias inputs.
inline Status CheckGemmAliasing(const TensorView& a, const TensorView& b, const TensorView& bias, const TensorView& c) {
  AliasCheck alias;
  alias.AddView(a, "a", AliasCheck::Role::kInput);
  alias.AddView(b, "b", AliasCheck::Role::kInput);
  if (bias.rank != 0) alias.AddView(bias, "options.bias", AliasCheck::Role::kInput);
  alias.AddView(c, "c", AliasCheck::Role::kOutput);
  return alias.Check();
}

}  // namespace detail
}  // namespace opencl
}  // namespace ek

#endif  // EK_OPENCL_OPERANDS_H_

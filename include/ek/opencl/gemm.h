// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// GEMM on an OpenCL device, with the CPU's semantics (opencl/gemm.cl, one source per type):
//
//   ek::opencl::Gemm(rt, a, b, c, options)    f32 x f32 -> f32, or f16 storage (f32 sums)
//   ek::opencl::QGemm(rt, a, b, c, options)   i8 (per tensor) x i8 (symmetric, per tensor or per
//                                             column) -> i8, requantized bit-exactly as ek::QGemm
//
// Operands are ek::TensorView::OpenCL views (cl_mem + byte offset), row-major with unit column
// stride; B is [K x N], or [N x K] with options.transpose_b (Gemm). Options are the CPU's
// (ek/gemm_options.h): bias (an OpenCL buffer view), activation, clamp, accumulate (Gemm).
// Numerics: docs/opencl.md. Every call validates its inputs and names the bad argument; the
// views' extents are checked against the buffers' sizes, so a kernel never reads or writes out
// of bounds. Calls are enqueued on rt.queue() (in order) and return without waiting; `event`
// (optional) receives the kernel's event, for timing (EventMilliseconds) or waiting.
#ifndef EK_OPENCL_GEMM_H_
#define EK_OPENCL_GEMM_H_

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "ek/detail/qgemm_types.h"
#include "ek/gemm_options.h"
#include "ek/opencl/kernel_sources.h"
#include "ek/opencl/program.h"
#include "ek/opencl/runtime.h"
#include "ek/requantize.h"
#include "ek/status.h"
#include "ek/tensor.h"
#include "ek/tensor_validate.h"

namespace ek {
namespace opencl {

inline Status ValidateGemmTile(const GemmTile& t, const DeviceCaps& caps, size_t element_bytes) {
  const int fields[] = {t.tile_m, t.tile_n, t.tile_k, t.wpt_m, t.wpt_n};
  for (int f : fields) {
    if (f < 1 || f > 256) return Status::Error(StatusCode::kInvalidArgument, "tile: every field must be in 1..256");
  }
  if (t.tile_m % t.wpt_m != 0 || t.tile_n % t.wpt_n != 0) {
    return Status::Error(StatusCode::kInvalidArgument, "tile: tile_m / wpt_m and tile_n / wpt_n must divide");
  }
  const size_t threads = static_cast<size_t>(t.tile_m / t.wpt_m) * static_cast<size_t>(t.tile_n / t.wpt_n);
  if (threads > caps.max_work_group_size || static_cast<size_t>(t.tile_n / t.wpt_n) > caps.max_work_item_sizes[0] ||
      static_cast<size_t>(t.tile_m / t.wpt_m) > caps.max_work_item_sizes[1]) {
    return Status::Error(StatusCode::kInvalidArgument, "tile: %zu work-items per group, the device allows %zu",
                         threads, caps.max_work_group_size);
  }
  const size_t local_bytes = static_cast<size_t>(t.tile_k) * static_cast<size_t>(t.tile_m + t.tile_n) *
                             (element_bytes < 4 ? 4 : element_bytes);
  if (local_bytes > caps.local_memory_bytes) {
    return Status::Error(StatusCode::kInvalidArgument, "tile: needs %zu bytes of local memory, the device has %llu",
                         local_bytes, static_cast<unsigned long long>(caps.local_memory_bytes));
  }
  return Status::Ok();
}

namespace detail {

// A validated matrix operand: its buffer, element offset and row stride (in elements).
struct ClMatrix {
  cl_mem buffer = nullptr;
  int offset = 0;
  int ld = 0;
};

inline Status ClOperand(const Runtime& rt, const TensorView& v, const char* name, bool output, int64_t rows,
                        int64_t cols, ClMatrix* out) {
  EK_RETURN_IF_ERROR(output ? ValidateOutputView(v, name) : ValidateView(v, name));
  if (v.memory.kind != MemoryKind::kOpenCLBuffer) {
    return Status::Error(StatusCode::kWrongMemory, "%s: lives in %s memory; ek::opencl kernels need OpenCL buffers",
                         name, MemoryKindName(v.memory.kind));
  }
  if (v.rank != 2 || v.shape[0] != rows || v.shape[1] != cols) {
    return Status::Error(StatusCode::kInvalidArgument, "%s: expected shape [%lld, %lld]", name,
                         static_cast<long long>(rows), static_cast<long long>(cols));
  }
  if (v.strides[1] != 1 && cols > 1) return ek::detail::InvalidArg(name, "column stride must be 1");
  const size_t element = static_cast<size_t>(DTypeBits(v.dtype) / 8);
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
  const uint64_t offset = v.memory.byte_offset / element + static_cast<uint64_t>(v.offset);
  const int64_t ld = rows > 1 ? v.strides[0] : cols;
  if (offset + static_cast<uint64_t>(ld) * static_cast<uint64_t>(rows) > uint64_t{INT32_MAX}) {
    return ek::detail::InvalidArg(name, "more than 2^31 elements: too large for the OpenCL kernels' int indices");
  }
  out->buffer = buffer;
  out->offset = static_cast<int>(offset);
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
  EK_RETURN_IF_ERROR(ClOperand(rt, row, "options.bias", false, 1, n, out));
  return CheckNoOverlap(c, "c", bias, "options.bias");
}

// The kernel's arguments, in opencl/gemm.cl's order.
struct GemmCall {
  int m = 0, n = 0, k = 0;
  ClMatrix a, b, c, bias;
  int accumulate = 0;
  float lo = -HUGE_VALF, hi = HUGE_VALF;
  int a_zero_point = 0;
  cl_mem multiplier = nullptr, shift = nullptr;
  int c_zero_point = 0, qmin = 0, qmax = 0;
};

inline Status Enqueue(Runtime& rt, const char* type_define, bool transpose_b, const GemmTile& tile, size_t element,
                      const GemmCall& call, cl_event* event) {
  EK_RETURN_IF_ERROR(ValidateGemmTile(tile, rt.caps(), element));
  // Shapes that are whole tiles run the variant without bounds checks.
  const bool exact = call.m % tile.tile_m == 0 && call.n % tile.tile_n == 0 && call.k % tile.tile_k == 0;
  char options[256];
  std::snprintf(options, sizeof(options),
                "-cl-std=CL1.2 -D %s -D EK_TILE_M=%d -D EK_TILE_N=%d -D EK_TILE_K=%d -D EK_WPT_M=%d -D EK_WPT_N=%d%s%s",
                type_define, tile.tile_m, tile.tile_n, tile.tile_k, tile.wpt_m, tile.wpt_n,
                transpose_b ? " -D EK_TRANSPOSE_B" : "", exact ? " -D EK_EXACT_TILES" : "");
  cl_kernel kernel = nullptr;
  EK_RETURN_IF_ERROR(GetKernel(rt, sources::kGemm, options, "ek_gemm", &kernel));
  const Api& api = rt.api();
  cl_uint i = 0;
  cl_int err = CL_SUCCESS;
  const auto arg = [&](size_t size, const void* value) {
    if (err == CL_SUCCESS) err = api.clSetKernelArg(kernel, i, size, value);
    ++i;
  };
  const int has_bias = call.bias.buffer != nullptr ? 1 : 0;
  arg(sizeof(int), &call.m);
  arg(sizeof(int), &call.n);
  arg(sizeof(int), &call.k);
  for (const ClMatrix* mat : {&call.a, &call.b, &call.c}) {
    arg(sizeof(cl_mem), &mat->buffer);
    arg(sizeof(int), &mat->offset);
    arg(sizeof(int), &mat->ld);
  }
  arg(sizeof(cl_mem), has_bias ? &call.bias.buffer : nullptr);  // null buffer argument when absent
  arg(sizeof(int), &call.bias.offset);
  arg(sizeof(int), &has_bias);
  arg(sizeof(int), &call.accumulate);
  arg(sizeof(float), &call.lo);
  arg(sizeof(float), &call.hi);
  arg(sizeof(int), &call.a_zero_point);
  arg(sizeof(cl_mem), call.multiplier != nullptr ? &call.multiplier : nullptr);
  arg(sizeof(cl_mem), call.shift != nullptr ? &call.shift : nullptr);
  arg(sizeof(int), &call.c_zero_point);
  arg(sizeof(int), &call.qmin);
  arg(sizeof(int), &call.qmax);
  if (err != CL_SUCCESS) return ClError("clSetKernelArg", err);
  const size_t local[2] = {static_cast<size_t>(tile.tile_n / tile.wpt_n), static_cast<size_t>(tile.tile_m / tile.wpt_m)};
  const size_t global[2] = {static_cast<size_t>((call.n + tile.tile_n - 1) / tile.tile_n) * local[0],
                            static_cast<size_t>((call.m + tile.tile_m - 1) / tile.tile_m) * local[1]};
  EK_CL_RETURN_IF_ERROR("clEnqueueNDRangeKernel",
                        api.clEnqueueNDRangeKernel(rt.queue(), kernel, 2, nullptr, global, local, 0, nullptr, event));
  return Status::Ok();
}

}  // namespace detail

// C = A * B (+ bias), then the activation. f32 or f16 (storage; f32 sums), all three the same.
// `tile` null: rt.gemm_tile() (the tuning file's, else the defaults).
inline Status Gemm(Runtime& rt, const TensorView& a, const TensorView& b, const TensorView& c,
                   const GemmOptions& options = GemmOptions(), cl_event* event = nullptr,
                   const GemmTile* tile = nullptr) {
  if (event != nullptr) *event = nullptr;
  if (!rt.ok()) return Status::Error(StatusCode::kInvalidArgument, "runtime: not open");
  if (a.rank != 2) return Status::Error(StatusCode::kInvalidArgument, "a: rank %d, expected 2", a.rank);
  if (b.rank != 2) return Status::Error(StatusCode::kInvalidArgument, "b: rank %d, expected 2", b.rank);
  if (a.dtype != DType::kF32 && a.dtype != DType::kF16) {
    return Status::Error(StatusCode::kInvalidArgument, "a: dtype is %s, expected f32 or f16", DTypeName(a.dtype));
  }
  EK_RETURN_IF_ERROR(RequireDType(b, "b", a.dtype));
  EK_RETURN_IF_ERROR(RequireDType(c, "c", a.dtype));
  const int64_t m = a.shape[0], k = a.shape[1];
  const int64_t n = options.transpose_b ? b.shape[0] : b.shape[1];
  if ((options.transpose_b ? b.shape[1] : b.shape[0]) != k) {
    return Status::Error(StatusCode::kInvalidArgument, "b: its K (%lld) differs from a's (%lld)",
                         static_cast<long long>(options.transpose_b ? b.shape[1] : b.shape[0]),
                         static_cast<long long>(k));
  }
  if (options.allow_f16_arithmetic) {
    return ek::detail::InvalidArg("options.allow_f16_arithmetic", "not available on OpenCL yet (f32 sums only)");
  }
  detail::GemmCall call;
  EK_RETURN_IF_ERROR(detail::ClOperand(rt, a, "a", false, m, k, &call.a));
  EK_RETURN_IF_ERROR(detail::ClOperand(rt, b, "b", false, options.transpose_b ? n : k, options.transpose_b ? k : n,
                                       &call.b));
  EK_RETURN_IF_ERROR(detail::ClOperand(rt, c, "c", true, m, n, &call.c));
  EK_RETURN_IF_ERROR(CheckNoOverlap(c, "c", a, "a"));
  EK_RETURN_IF_ERROR(CheckNoOverlap(c, "c", b, "b"));
  EK_RETURN_IF_ERROR(detail::BiasOperand(rt, options.bias, DType::kF32, n, c, &call.bias));
  EK_RETURN_IF_ERROR(
      ActivationBounds(options.activation, options.clamp_min, options.clamp_max, &call.lo, &call.hi));
  call.m = static_cast<int>(m);
  call.n = static_cast<int>(n);
  call.k = static_cast<int>(k);
  call.accumulate = options.accumulate ? 1 : 0;
  const GemmKernelType type = a.dtype == DType::kF32 ? GemmKernelType::kF32 : GemmKernelType::kF16;
  const GemmTile t = tile != nullptr ? *tile : rt.gemm_tile(type);
  const size_t element = a.dtype == DType::kF32 ? 4 : 2;
  return detail::Enqueue(rt, a.dtype == DType::kF32 ? "EK_GEMM_F32" : "EK_GEMM_F16", options.transpose_b, t, element,
                         call, event);
}

// C = requantize(A * B + bias): i8 A (per tensor, zero point) x i8 B (symmetric; per tensor or
// per column, scales in host memory) -> i8 C (per tensor), the CPU's rule (ek/requantize.h) on
// the same int32 sums: bit-exact with ek::QGemm and ek::ref::QGemm. Bias: i32 [N] (OpenCL
// buffer). K is limited as on the CPU (16384).
inline Status QGemm(Runtime& rt, const TensorView& a, const TensorView& b, const TensorView& c,
                    const QGemmOptions& options = QGemmOptions(), cl_event* event = nullptr,
                    const GemmTile* tile = nullptr) {
  if (event != nullptr) *event = nullptr;
  if (!rt.ok()) return Status::Error(StatusCode::kInvalidArgument, "runtime: not open");
  if (a.rank != 2) return Status::Error(StatusCode::kInvalidArgument, "a: rank %d, expected 2", a.rank);
  if (b.rank != 2) return Status::Error(StatusCode::kInvalidArgument, "b: rank %d, expected 2", b.rank);
  EK_RETURN_IF_ERROR(RequireDType(a, "a", DType::kI8));
  EK_RETURN_IF_ERROR(RequireDType(b, "b", DType::kI8));
  EK_RETURN_IF_ERROR(RequireDType(c, "c", DType::kI8));
  const int64_t m = a.shape[0], k = a.shape[1], n = b.shape[1];
  if (b.shape[0] != k) {
    return Status::Error(StatusCode::kInvalidArgument, "b: has %lld rows, a has K = %lld columns",
                         static_cast<long long>(b.shape[0]), static_cast<long long>(k));
  }
  if (k > ek::detail::kQMaxK) {
    return Status::Error(StatusCode::kInvalidArgument, "a: K = %lld is above %lld (int32 sums could overflow)",
                         static_cast<long long>(k), static_cast<long long>(ek::detail::kQMaxK));
  }
  if (a.quant.scheme != QuantScheme::kPerTensor) return ek::detail::InvalidArg("a", "must be quantized per tensor");
  if (c.quant.scheme != QuantScheme::kPerTensor) return ek::detail::InvalidArg("c", "must be quantized per tensor");
  const bool per_column = b.quant.scheme == QuantScheme::kPerAxis;
  if (per_column) {
    if (b.quant.axis != 1) return ek::detail::InvalidArg("b", "per-axis scales must be along axis 1 (columns)");
    for (int64_t j = 0; b.quant.zero_points != nullptr && j < n; ++j) {
      if (b.quant.zero_points[j] != 0) return ek::detail::InvalidArg("b", "must be symmetric (zero points 0)");
    }
  } else if (b.quant.scheme != QuantScheme::kPerTensor || b.quant.zero_point != 0) {
    return ek::detail::InvalidArg("b", "must be quantized symmetrically per tensor or per column");
  }
  detail::GemmCall call;
  EK_RETURN_IF_ERROR(detail::ClOperand(rt, a, "a", false, m, k, &call.a));
  EK_RETURN_IF_ERROR(detail::ClOperand(rt, b, "b", false, k, n, &call.b));
  EK_RETURN_IF_ERROR(detail::ClOperand(rt, c, "c", true, m, n, &call.c));
  EK_RETURN_IF_ERROR(CheckNoOverlap(c, "c", a, "a"));
  EK_RETURN_IF_ERROR(CheckNoOverlap(c, "c", b, "b"));
  EK_RETURN_IF_ERROR(detail::BiasOperand(rt, options.bias, DType::kI32, n, c, &call.bias));
  float lo = 0.0f, hi = 0.0f;
  EK_RETURN_IF_ERROR(ActivationBounds(options.activation, options.clamp_min, options.clamp_max, &lo, &hi));
  QuantizedActivationRange(lo, hi, c.quant.scale, c.quant.zero_point, -128, 127, &call.qmin, &call.qmax);

  // Per-column (multiplier, shift), exactly as the CPU derives them, uploaded for this call.
  const size_t bytes = static_cast<size_t>(n) * sizeof(int32_t);
  int32_t* terms = static_cast<int32_t*>(std::malloc(2 * bytes));
  if (terms == nullptr) return Status::Error(StatusCode::kOutOfMemory, "opencl: %zu bytes for multipliers", 2 * bytes);
  for (int64_t j = 0; j < n; ++j) {
    const float b_scale = per_column ? static_cast<const float*>(b.quant.scales)[j] : b.quant.scale;
    QuantizedMultiplier qm;
    const Status s = QuantizeMultiplier(static_cast<double>(a.quant.scale) * static_cast<double>(b_scale) /
                                            static_cast<double>(c.quant.scale),
                                        &qm, "a.scale * b.scale / c.scale");
    if (!s.ok()) {
      std::free(terms);
      return s;
    }
    terms[j] = qm.multiplier;
    terms[n + j] = qm.shift;
  }
  cl_mem multiplier = nullptr, shift = nullptr;
  Status s = CreateBuffer(rt, bytes, &multiplier);
  if (s.ok()) s = CreateBuffer(rt, bytes, &shift);
  if (s.ok()) s = Upload(rt, multiplier, 0, terms, bytes);
  if (s.ok()) s = Upload(rt, shift, 0, terms + n, bytes);
  std::free(terms);
  if (s.ok()) {
    call.m = static_cast<int>(m);
    call.n = static_cast<int>(n);
    call.k = static_cast<int>(k);
    call.a_zero_point = a.quant.zero_point;
    call.multiplier = multiplier;
    call.shift = shift;
    call.c_zero_point = c.quant.zero_point;
    const GemmTile t = tile != nullptr ? *tile : rt.gemm_tile(GemmKernelType::kS8);
    s = detail::Enqueue(rt, "EK_GEMM_S8", false, t, 1, call, event);
  }
  // Released now, freed by the driver when the kernel that uses them has finished.
  ReleaseBuffer(rt, multiplier);
  ReleaseBuffer(rt, shift);
  return s;
}

}  // namespace opencl
}  // namespace ek

#endif  // EK_OPENCL_GEMM_H_

// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// GEMM on an OpenCL device, with the CPU's semantics (opencl/gemm.cl, one source per type):
//
//   ek::opencl::Gemm(rt, a, b, c, options)    f32 x f32 -> f32, or f16 storage (f32 sums)
//   (the quantized GEMMs, which share this kernel's int8 form: ek/opencl/qgemm.h)
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
#include <cstring>

#include "ek/cpu/qgemm/args.h"
#include "ek/gemm_options.h"
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

inline Status ValidateGemmTile(const GemmTile& t, const DeviceCaps& caps, size_t element_bytes) {
  const int fields[] = {t.tile_m, t.tile_n, t.tile_k, t.wpt_m, t.wpt_n};
  for (int f : fields) {
    if (f < 1 || f > 256) return Status::Error(StatusCode::kInvalidArgument, "tile: every field must be in 1..256");
  }
  if (t.tile_m % t.wpt_m != 0 || t.tile_n % t.wpt_n != 0) {
    return Status::Error(StatusCode::kInvalidArgument, "tile: tile_m / wpt_m and tile_n / wpt_n must divide");
  }
  if (t.kernel == GemmKernel::kVector && t.wpt_n != 4 && t.wpt_n != 8 && t.wpt_n != 16) {
    return Status::Error(StatusCode::kInvalidArgument, "tile: the vector kernel's wpt_n (vector width) must be 4, 8 or 16");
  }
  const size_t threads = static_cast<size_t>(t.tile_m / t.wpt_m) * static_cast<size_t>(t.tile_n / t.wpt_n);
  if (threads > caps.max_work_group_size || static_cast<size_t>(t.tile_n / t.wpt_n) > caps.max_work_item_sizes[0] ||
      static_cast<size_t>(t.tile_m / t.wpt_m) > caps.max_work_item_sizes[1]) {
    return Status::Error(StatusCode::kInvalidArgument, "tile: %zu work-items per group, the device allows %zu",
                         threads, caps.max_work_group_size);
  }
  const size_t local_bytes = static_cast<size_t>(t.tile_k) * static_cast<size_t>(t.tile_m + t.tile_n) *
                             (element_bytes < 4 ? 4 : element_bytes);
  if (t.kernel == GemmKernel::kTiled && local_bytes > caps.local_memory_bytes) {
    return Status::Error(StatusCode::kInvalidArgument, "tile: needs %zu bytes of local memory, the device has %llu",
                         local_bytes, static_cast<unsigned long long>(caps.local_memory_bytes));
  }
  return Status::Ok();
}

namespace detail {

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

// The kernel and tile a call runs: the vector kernel only for float types with B as [K x N];
// f16 arithmetic only on the tiled kernel, whose k tile must divide its 32-k blocks. Otherwise
// the device's default tiled tile.
inline GemmTile TileForCall(const Runtime& rt, const GemmTile& tile, bool int8, bool transpose_b, bool f16_arithmetic) {
  const bool vector_ok = !int8 && !transpose_b && !f16_arithmetic;
  const bool tiled_ok = !f16_arithmetic || (32 % tile.tile_k == 0);
  if (tile.kernel == GemmKernel::kVector ? vector_ok : tiled_ok) return tile;
  return DefaultTiledGemmTile(rt.caps());
}

inline Status Enqueue(Runtime& rt, const char* type_define, bool transpose_b, const GemmTile& requested, size_t element,
                      const GemmCall& call, cl_event* event, bool f16_arithmetic = false) {
  const bool int8 = std::strcmp(type_define, "EK_GEMM_S8") == 0;
  const GemmTile tile = TileForCall(rt, requested, int8, transpose_b, f16_arithmetic);
  EK_RETURN_IF_ERROR(ValidateGemmTile(tile, rt.caps(), element));
  const bool vector = tile.kernel == GemmKernel::kVector;
  // Shapes that are whole tiles run the tiled variant without bounds checks.
  const bool exact = !vector && call.m % tile.tile_m == 0 && call.n % tile.tile_n == 0 && call.k % tile.tile_k == 0;
  char options[320];
  std::snprintf(options, sizeof(options),
                "-cl-std=CL1.2 -D %s -D EK_TILE_M=%d -D EK_TILE_N=%d -D EK_TILE_K=%d -D EK_WPT_M=%d -D EK_WPT_N=%d%s%s%s%s",
                type_define, tile.tile_m, tile.tile_n, tile.tile_k, tile.wpt_m, tile.wpt_n,
                transpose_b ? " -D EK_TRANSPOSE_B" : "", exact ? " -D EK_EXACT_TILES" : "",
                vector ? (tile.wpt_n == 4 ? " -D EK_VEC=4" : tile.wpt_n == 8 ? " -D EK_VEC=8" : " -D EK_VEC=16") : "",
                f16_arithmetic ? " -D EK_F16_ARITHMETIC" : "");
  cl_kernel kernel = nullptr;
  EK_RETURN_IF_ERROR(GetKernel(rt, sources::kGemm, options, vector ? "ek_gemm_vec" : "ek_gemm", &kernel));
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
  EK_RETURN_IF_ERROR(detail::BeginMatrixCall(rt, a, b, event));
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
  detail::GemmCall call;
  EK_RETURN_IF_ERROR(detail::ClOperand(rt, a, "a", false, m, k, &call.a));
  EK_RETURN_IF_ERROR(detail::ClOperand(rt, b, "b", false, options.transpose_b ? n : k, options.transpose_b ? k : n,
                                       &call.b));
  EK_RETURN_IF_ERROR(detail::ClOperand(rt, c, "c", true, m, n, &call.c));
  EK_RETURN_IF_ERROR(detail::BiasOperand(rt, options.bias, DType::kF32, n, c, &call.bias));
  EK_RETURN_IF_ERROR(detail::CheckGemmAliasing(a, b, options.bias, c));
  EK_RETURN_IF_ERROR(
      ActivationBounds(options, &call.lo, &call.hi));
  call.m = static_cast<int>(m);
  call.n = static_cast<int>(n);
  call.k = static_cast<int>(k);
  call.accumulate = options.accumulate ? 1 : 0;
  const GemmKernelType type = a.dtype == DType::kF32 ? GemmKernelType::kF32 : GemmKernelType::kF16;
  const GemmTile t = tile != nullptr ? *tile : rt.gemm_tile(type);
  const size_t element = a.dtype == DType::kF32 ? 4 : 2;
  // f16 arithmetic where the caller allows it and the device has cl_khr_fp16 (as on the CPU:
  // allowed, not required; elsewhere f32 sums).
  const bool f16_arithmetic = options.allow_f16_arithmetic && a.dtype == DType::kF16 && rt.caps().fp16;
  return detail::Enqueue(rt, a.dtype == DType::kF32 ? "EK_GEMM_F32" : "EK_GEMM_F16", options.transpose_b, t, element,
                         call, event, f16_arithmetic);
}

}  // namespace opencl
}  // namespace ek

#endif  // EK_OPENCL_GEMM_H_

// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Quantized GEMM and GEMV on an OpenCL device, with the CPU's numerics (docs/opencl.md):
//
//   ek::opencl::QGemm(rt, a, b, c, options)        i8 (per tensor) x i8 (symmetric, per tensor or
//                                                  per column) -> i8, requantized bit-exactly as
//                                                  ek::QGemm (opencl/gemm.cl, EK_GEMM_S8)
//   ek::opencl::UploadQWeights(rt, b, transpose_b, &w)     int8 / int4 weights -> the GPU layout
//   ek::opencl::DownloadQWeights(rt, w, b, transpose_b)   the values and scales back, identical
//   ek::opencl::QGemmDynamic(rt, a, w, c, options, workspace, bytes)
//                                                  f32 A, quantized per row on the device, x int8
//                                                  or int4 weights -> f32: the LLM decode (M = 1)
//                                                  and prefill path (opencl/convert.cl,
//                                                  opencl/qgemm_dynamic.cl)
//
// GPU weight layout, version kQWeightsLayoutVersion (one buffer, 4-byte units):
//   words    [ceil(K / word_k)][N] uint32, word_k = 4 (int8: byte b = w[4g + b]) or 8 (int4:
//            byte b = w[8g + b] & 15 | w[8g + 4 + b] << 4), zero past K; consecutive columns
//            are consecutive words (coalesced loads, one column per work-item)
//   scales   f32 [blocks][N] per block of K, else [N] (per tensor: the scale repeated)
//   sums     per block: f32 [N], sum over blocks of scale * (sum of the block's w), in double,
//            rounded once (what ek::PackQGemmWeights computes); otherwise int32 [N], sum_k w
//   padding  kQWeightsPadBytes of zeros
// Restore reads the words and scales back: f16 / bf16 scales are exact in f32, so the bytes
// written are the ones uploaded.
#ifndef EK_OPENCL_QGEMM_H_
#define EK_OPENCL_QGEMM_H_

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "ek/detail/int_math.h"
#include "ek/detail/qweights.h"
#include "ek/gemm_options.h"
#include "ek/opencl/gemm.h"
#include "ek/opencl/kernel_sources.h"
#include "ek/opencl/program.h"
#include "ek/opencl/convert.h"
#include "ek/opencl/runtime.h"
#include "ek/ref/convert.h"
#include "ek/requantize.h"
#include "ek/status.h"
#include "ek/tensor.h"
#include "ek/tensor_validate.h"

namespace ek {
namespace opencl {

namespace detail {

// Per output channel j < count, the requantization (multiplier, shift) of in_scale x weight
// scale[j] / out_scale (the per-axis scale, or the per-tensor one for every j), derived exactly
// as the CPU does (ek::QuantizeMultiplier), uploaded into two new buffers. The caller releases
// them once the kernel using them is enqueued (the driver frees them after it ran). `what`
// names the ratio in errors. Shared by QGemm and Conv2D's int8 kernels.
inline Status UploadMultipliers(Runtime& rt, float in_scale, const QuantParams& weights, bool per_axis, int64_t count,
                                float out_scale, const char* what, cl_mem* multiplier, cl_mem* shift) {
  *multiplier = *shift = nullptr;
  const size_t bytes = static_cast<size_t>(count) * sizeof(int32_t);
  auto* terms = static_cast<int32_t*>(std::malloc(2 * bytes));
  if (terms == nullptr) return Status::Error(StatusCode::kOutOfMemory, "opencl: %zu bytes for multipliers", 2 * bytes);
  Status s = Status::Ok();
  for (int64_t j = 0; j < count && s.ok(); ++j) {
    const float w_scale = per_axis ? static_cast<const float*>(weights.scales)[j] : weights.scale;
    QuantizedMultiplier qm;
    s = QuantizeMultiplier(static_cast<double>(in_scale) * static_cast<double>(w_scale) / static_cast<double>(out_scale),
                           &qm, what);
    terms[j] = qm.multiplier;
    terms[count + j] = qm.shift;
  }
  if (s.ok()) s = CreateBuffer(rt, bytes, multiplier);
  if (s.ok()) s = CreateBuffer(rt, bytes, shift);
  if (s.ok()) s = Upload(rt, *multiplier, 0, terms, bytes);
  if (s.ok()) s = Upload(rt, *shift, 0, terms + count, bytes);
  std::free(terms);
  if (!s.ok()) {
    ReleaseBuffer(rt, *multiplier);
    ReleaseBuffer(rt, *shift);
    *multiplier = *shift = nullptr;
  }
  return s;
}

}  // namespace detail

// C = requantize(A * B + bias): i8 A (per tensor, zero point) x i8 B (symmetric; per tensor or
// per column, scales in host memory) -> i8 C (per tensor), the CPU's rule (ek/requantize.h) on
// the same int32 sums: bit-exact with ek::QGemm and ek::ref::QGemm. Bias: i32 [N] (OpenCL
// buffer). K is limited as on the CPU (16384).
inline Status QGemm(Runtime& rt, const TensorView& a, const TensorView& b, const TensorView& c,
                    const QGemmOptions& options = QGemmOptions(), cl_event* event = nullptr,
                    const GemmTile* tile = nullptr) {
  EK_RETURN_IF_ERROR(detail::BeginMatrixCall(rt, a, b, event));
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
  EK_RETURN_IF_ERROR(detail::BiasOperand(rt, options.bias, DType::kI32, n, c, &call.bias));
  EK_RETURN_IF_ERROR(detail::CheckGemmAliasing(a, b, options.bias, c));
  float lo = 0.0f, hi = 0.0f;
  EK_RETURN_IF_ERROR(ActivationBounds(options, &lo, &hi));
  QuantizedActivationRange(lo, hi, c.quant.scale, c.quant.zero_point, -128, 127, &call.qmin, &call.qmax);

  // Per-column (multiplier, shift), exactly as the CPU derives them, uploaded for this call.
  cl_mem multiplier = nullptr, shift = nullptr;
  Status s = detail::UploadMultipliers(rt, a.quant.scale, b.quant, per_column, n, c.quant.scale,
                                       "a.scale * b.scale / c.scale", &multiplier, &shift);
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


// ---- The GPU weight layout ----------------------------------------------------------------------

constexpr uint32_t kQWeightsLayoutVersion = 1;
// Zero bytes after the last section: vector loads of the last columns may read up to 15 words
// past a row (opencl/qgemm_dynamic.cl); those lanes are never stored.
constexpr size_t kQWeightsPadBytes = 64;

// Weights on the device (UploadQWeights); the buffer is owned: ReleaseQWeights.
struct DeviceQWeights {
  cl_mem buffer = nullptr;
  uint32_t layout_version = kQWeightsLayoutVersion;
  DType type = DType::kI8;                  // i8 or i4
  QuantScheme scheme = QuantScheme::kNone;  // per tensor (i8), per axis (N) or per block (K)
  DType scale_type = DType::kF32;           // per block: the scales' type as given (restored as it)
  float tensor_scale = 0.0f;                // per tensor
  int64_t k = 0, n = 0, block_size = 0;     // block_size: per block only
  int64_t words = 0;                        // ceil(K / word_k)
  int64_t scales_offset = 0, sums_offset = 0;  // in 4-byte units from the buffer's start
  size_t bytes = 0;
};

namespace detail {

inline int64_t WordK(DType type) { return type == DType::kI4 ? 8 : 4; }

inline int64_t ScaleRows(const DeviceQWeights& w) {
  return w.scheme == QuantScheme::kPerBlock ? ek::detail::CeilDiv(w.k, w.block_size) : 1;
}

// Fills the layout's sizes from B's description.
inline void PlanQWeights(DeviceQWeights* w) {
  w->words = ek::detail::CeilDiv(w->k, WordK(w->type));
  w->scales_offset = w->words * w->n;
  w->sums_offset = w->scales_offset + ScaleRows(*w) * w->n;
  w->bytes = static_cast<size_t>(w->sums_offset + w->n) * 4 + kQWeightsPadBytes;
}

// Builds the layout of validated weights in host memory (`out`, w.bytes).
inline void BuildQWeights(const TensorView& b, bool transpose_b, const DeviceQWeights& w, uint32_t* out) {
  const int64_t word_k = WordK(w.type), rows = ScaleRows(w);
  auto* scales = reinterpret_cast<float*>(out + w.scales_offset);
  for (int64_t j = 0; j < w.n; ++j) {
    for (int64_t g = 0; g < w.words; ++g) {
      uint32_t word = 0;
      for (int64_t i = 0; i < word_k; ++i) {
        const int64_t kk = g * word_k + i;
        if (kk >= w.k) break;
        const uint32_t v = static_cast<uint32_t>(ek::detail::WeightAt(b, transpose_b, kk, j));
        if (w.type == DType::kI4) {  // byte i % 4, low nibble for i < 4
          word |= (v & 0xFu) << (8 * (i % 4) + (i < 4 ? 0 : 4));
        } else {
          word |= (v & 0xFFu) << (8 * i);
        }
      }
      out[g * w.n + j] = word;
    }
    double weighted = 0.0;
    int64_t column_sum = 0;
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t k0 = r * (w.scheme == QuantScheme::kPerBlock ? w.block_size : w.k);
      const int64_t k1 = w.scheme == QuantScheme::kPerBlock && k0 + w.block_size < w.k ? k0 + w.block_size : w.k;
      const float s = ek::detail::WeightScaleAt(b, transpose_b, k0, j);
      int64_t block_sum = 0;
      for (int64_t kk = k0; kk < k1; ++kk) block_sum += ek::detail::WeightAt(b, transpose_b, kk, j);
      scales[r * w.n + j] = s;
      weighted += static_cast<double>(s) * static_cast<double>(block_sum);
      column_sum += block_sum;
    }
    if (w.scheme == QuantScheme::kPerBlock) {
      reinterpret_cast<float*>(out + w.sums_offset)[j] = static_cast<float>(weighted);
    } else {
      reinterpret_cast<int32_t*>(out + w.sums_offset)[j] = static_cast<int32_t>(column_sum);
    }
  }
}

}  // namespace detail

inline void ReleaseQWeights(const Runtime& rt, DeviceQWeights* w) {
  if (w == nullptr) return;
  ReleaseBuffer(rt, w->buffer);
  *w = DeviceQWeights();
}

// Uploads int8 (symmetric; per tensor, per column or per block of 32 / 64 / 128 along K) or int4
// (symmetric; per column or per block) weights B [K x N] (or [N x K] with transpose_b), host
// memory, into a new buffer in the GPU layout. K is limited as on the CPU.
inline Status UploadQWeights(Runtime& rt, const TensorView& b, bool transpose_b, DeviceQWeights* out) {
  if (out == nullptr) return ek::detail::InvalidArg("out", "is null");
  *out = DeviceQWeights();
  if (!rt.ok()) return Status::Error(StatusCode::kInvalidArgument, "runtime: not open");
  ek::detail::QWeightsInfo v;
  EK_RETURN_IF_ERROR(ek::detail::ValidateQWeights(b, transpose_b, &v));
  if (b.dtype == DType::kU8) return ek::detail::InvalidArg("b", "the OpenCL weight layout holds i8 or i4 weights");
  DeviceQWeights w;
  w.type = b.dtype;
  w.scheme = b.quant.scheme;
  w.scale_type = b.quant.scheme == QuantScheme::kPerBlock ? b.quant.scale_type : DType::kF32;
  w.tensor_scale = b.quant.scheme == QuantScheme::kPerTensor ? b.quant.scale : 0.0f;
  w.k = v.k;
  w.n = v.n;
  w.block_size = b.quant.scheme == QuantScheme::kPerBlock ? b.quant.block_size : 0;
  detail::PlanQWeights(&w);
  if (w.bytes > rt.caps().max_alloc_bytes && rt.caps().max_alloc_bytes > 0) {
    return Status::Error(StatusCode::kInvalidArgument, "b: the layout needs %zu bytes, the device allocates at most %llu",
                         w.bytes, static_cast<unsigned long long>(rt.caps().max_alloc_bytes));
  }
  if (w.sums_offset + w.n > int64_t{INT32_MAX}) return ek::detail::InvalidArg("b", "too large for int indices");
  auto* host = static_cast<uint32_t*>(std::calloc(w.bytes, 1));  // the padding stays zero
  if (host == nullptr) return Status::Error(StatusCode::kOutOfMemory, "b: %zu bytes for the layout", w.bytes);
  detail::BuildQWeights(b, transpose_b, w, host);
  Status s = CreateBuffer(rt, w.bytes, &w.buffer);
  if (s.ok()) s = Upload(rt, w.buffer, 0, host, w.bytes);
  std::free(host);
  if (!s.ok()) {
    ReleaseQWeights(rt, &w);
    return s;
  }
  *out = w;
  return Status::Ok();
}

// Writes the uploaded weights back into `b` (same dtype, orientation, shape and quant scheme as
// uploaded; per axis / per block: writable scale arrays, in the uploaded scale type; per tensor:
// the scale is checked): the values and scales that were uploaded, bit for bit.
inline Status DownloadQWeights(Runtime& rt, const DeviceQWeights& w, const TensorView& b, bool transpose_b) {
  if (!rt.ok()) return Status::Error(StatusCode::kInvalidArgument, "runtime: not open");
  if (w.buffer == nullptr || w.layout_version != kQWeightsLayoutVersion) {
    return ek::detail::InvalidArg("w", "not uploaded weights of this layout version");
  }
  TensorView values_only = b;
  values_only.quant = QuantParams();
  EK_RETURN_IF_ERROR(ValidateOutputView(values_only, "b"));
  EK_RETURN_IF_ERROR(RequireHostMemory(b, "b"));
  EK_RETURN_IF_ERROR(RequireDType(b, "b", w.type));
  const int64_t k = transpose_b ? b.shape[1] : b.shape[0], n = transpose_b ? b.shape[0] : b.shape[1];
  if (b.rank != 2 || k != w.k || n != w.n) return ek::detail::InvalidArg("b", "shape does not match the uploaded K and N");
  const QuantParams& q = b.quant;
  const bool scheme_ok =
      q.scheme == w.scheme &&
      (w.scheme == QuantScheme::kPerTensor ? q.scale == w.tensor_scale
                                           : q.scales != nullptr && q.axis == (w.scheme == QuantScheme::kPerAxis
                                                                                   ? (transpose_b ? 0 : 1)
                                                                                   : (transpose_b ? 1 : 0))) &&
      (w.scheme != QuantScheme::kPerBlock || (q.block_size == w.block_size && q.scale_type == w.scale_type));
  if (!scheme_ok) return ek::detail::InvalidArg("b", "quant parameters must have the uploaded scheme (and scale)");
  auto* host = static_cast<uint32_t*>(std::malloc(w.bytes));
  if (host == nullptr) return Status::Error(StatusCode::kOutOfMemory, "b: %zu bytes to read the layout", w.bytes);
  const Status s = Download(rt, w.buffer, 0, host, w.bytes);
  if (!s.ok()) {
    std::free(host);
    return s;
  }
  const int64_t word_k = detail::WordK(w.type), rows = detail::ScaleRows(w);
  const auto* scales = reinterpret_cast<const float*>(host + w.scales_offset);
  for (int64_t j = 0; j < n; ++j) {
    for (int64_t kk = 0; kk < k; ++kk) {
      const uint32_t word = host[(kk / word_k) * n + j];
      const int64_t i = kk % word_k;
      const int64_t e = b.offset + (transpose_b ? j * b.strides[0] + kk * b.strides[1] : kk * b.strides[0] + j * b.strides[1]);
      if (w.type == DType::kI4) {
        const int v = static_cast<int>((word >> (8 * (i % 4) + (i < 4 ? 0 : 4))) & 0xFu);
        SetI4(b.memory.host, e, v >= 8 ? v - 16 : v);
      } else {
        static_cast<int8_t*>(b.memory.host)[e] = static_cast<int8_t>(static_cast<uint8_t>(word >> (8 * i)));
      }
    }
    if (w.scheme == QuantScheme::kPerTensor) continue;
    for (int64_t r = 0; r < rows; ++r) {
      const float value = scales[r * n + j];
      void* dst = const_cast<void*>(q.scales);
      if (w.scheme == QuantScheme::kPerAxis) {
        static_cast<float*>(dst)[j] = value;
        continue;
      }
      const int64_t index = transpose_b ? j * rows + r : r * n + j;
      if (w.scale_type == DType::kF32) {
        static_cast<float*>(dst)[index] = value;
      } else if (w.scale_type == DType::kF16) {
        static_cast<uint16_t*>(dst)[index] = ref::F32ToF16(value);
      } else {
        static_cast<uint16_t*>(dst)[index] = ref::F32ToBF16(value);
      }
    }
  }
  std::free(host);
  return Status::Ok();
}

// The names before the backends shared one verb set (Pack / Unpack on the host, Upload /
// Download to and from a device). Kept for one release.
using QWeights [[deprecated("renamed DeviceQWeights")]] = DeviceQWeights;
[[deprecated("renamed DownloadQWeights")]] inline Status RestoreQWeights(Runtime& rt, const DeviceQWeights& w,
                                                                       const TensorView& b, bool transpose_b) {
  return DownloadQWeights(rt, w, b, transpose_b);
}

// ---- Dynamic int8 x int8 / int4 GEMM and GEMV ------------------------------------------------------

// K of the quantized activations, padded to whole words of the widest layout (int4: 8 k).
inline int64_t QGemmDynamicKp(int64_t k) { return ek::detail::RoundUp(k, 8); }

// Workspace bytes QGemmDynamic needs (an OpenCL buffer the caller owns): A quantized [M x kp],
// its row scales and zero points.
inline size_t QGemmDynamicWorkspaceBytes(int64_t m, int64_t k) {
  return static_cast<size_t>(ek::detail::RoundUp(m * QGemmDynamicKp(k), 64) + 2 * ek::detail::RoundUp(m * 4, 64));
}

// C [M x N] f32 = dequantized(quantize_rows(A) * W) + bias, then the activation (A f32 [M x K],
// unit column stride; W from UploadQWeights; bias f32 [N]): ek::QGemm's semantics for f32
// activations, within ek::ref::QGemmF32ErrorBound of ek::ref::QGemm. Two kernels are enqueued
// (quantize_rows, then the GEMM); `event` receives the second. `rows_per_item` (0: from M)
// is the work-item's row tile: 1, 2, 4 or 8.
inline Status QGemmDynamic(Runtime& rt, const TensorView& a, const DeviceQWeights& w, const TensorView& c,
                           const QGemmOptions& options, cl_mem workspace, size_t workspace_bytes,
                           cl_event* event = nullptr, int rows_per_item = 0) {
  if (event != nullptr) *event = nullptr;
  if (!rt.ok()) return Status::Error(StatusCode::kInvalidArgument, "runtime: not open");
  if (w.buffer == nullptr || w.layout_version != kQWeightsLayoutVersion) {
    return ek::detail::InvalidArg("w", "not uploaded weights of this layout version");
  }
  EK_RETURN_IF_ERROR(RequireDType(a, "a", DType::kF32));
  EK_RETURN_IF_ERROR(RequireDType(c, "c", DType::kF32));
  if (a.rank != 2) return Status::Error(StatusCode::kInvalidArgument, "a: rank %d, expected 2", a.rank);
  const int64_t m = a.shape[0];
  if (a.shape[1] != w.k) {
    return Status::Error(StatusCode::kInvalidArgument, "a: has %lld columns, the weights have K = %lld",
                         static_cast<long long>(a.shape[1]), static_cast<long long>(w.k));
  }
  if (rows_per_item != 0 && rows_per_item != 1 && rows_per_item != 2 && rows_per_item != 4 && rows_per_item != 8) {
    return ek::detail::InvalidArg("rows_per_item", "must be 0, 1, 2, 4 or 8");
  }
  detail::GemmCall call;
  EK_RETURN_IF_ERROR(detail::ClOperand(rt, a, "a", false, m, w.k, &call.a));
  EK_RETURN_IF_ERROR(detail::ClOperand(rt, c, "c", true, m, w.n, &call.c));
  EK_RETURN_IF_ERROR(detail::BiasOperand(rt, options.bias, DType::kF32, w.n, c, &call.bias));
  EK_RETURN_IF_ERROR(ActivationBounds(options, &call.lo, &call.hi));
  const size_t need = QGemmDynamicWorkspaceBytes(m, w.k);
  size_t have = 0;
  if (workspace == nullptr ||
      rt.api().clGetMemObjectInfo(workspace, CL_MEM_SIZE, sizeof(have), &have, nullptr) != CL_SUCCESS) {
    return ek::detail::InvalidArg("workspace", "is not an OpenCL buffer of this runtime");
  }
  if (have < need || workspace_bytes < need) {
    return Status::Error(StatusCode::kInvalidArgument, "workspace: %zu bytes, this call needs %zu (QGemmDynamicWorkspaceBytes)",
                         have < workspace_bytes ? have : workspace_bytes, need);
  }
  const cl_mem buffers[] = {call.a.buffer, call.c.buffer, call.bias.buffer, w.buffer};
  for (cl_mem buffer : buffers) {
    if (buffer == workspace) return ek::detail::InvalidArg("workspace", "must not be a buffer of a, c, bias or w");
  }
  AliasCheck alias;  // the aliasing rule (ek/tensor_validate.h)
  alias.AddView(a, "a", AliasCheck::Role::kInput);
  if (options.bias.rank != 0) alias.AddView(options.bias, "options.bias", AliasCheck::Role::kInput);
  alias.AddView(c, "c", AliasCheck::Role::kOutput);
  EK_RETURN_IF_ERROR(alias.Check());
  if (call.c.buffer == w.buffer) return ek::detail::InvalidArg("c", "overlaps w (the uploaded weights' buffer)");
  if (m * QGemmDynamicKp(w.k) > int64_t{INT32_MAX}) return ek::detail::InvalidArg("a", "M x K too large for int indices");

  // 1. A -> q (u8, rows of kp), scales and zero points, in the workspace.
  const int64_t kp = QGemmDynamicKp(w.k);
  const int64_t scales_byte = ek::detail::RoundUp(m * kp, 64), zero_points_byte = scales_byte + ek::detail::RoundUp(m * 4, 64);
  const TensorView q = TensorView::OpenCL(DType::kU8, workspace, 0, {m, kp});
  const TensorView scales = TensorView::OpenCL(DType::kF32, workspace, static_cast<uint64_t>(scales_byte), {m});
  const TensorView zero_points = TensorView::OpenCL(DType::kI32, workspace, static_cast<uint64_t>(zero_points_byte), {m});
  EK_RETURN_IF_ERROR(QuantizeRows(rt, a, q, scales, zero_points));

  // 2. The GEMM over q and the weights.
  const int rows = rows_per_item != 0 ? rows_per_item : m >= 8 ? 8 : m >= 4 ? 4 : m >= 2 ? 2 : 1;
  // GPUs: one column per work-item (coalesced words; integer dot products where the device has
  // them). CPU devices: 16 columns per work-item, one SIMD vector of words.
  const bool gpu = rt.caps().gpu;
  const int cols = gpu ? 1 : 16;
  const char* dot = !gpu ? "" : rt.caps().integer_dot_khr ? " -D EK_INT_DOT_KHR" : rt.caps().integer_dot_arm ? " -D EK_INT_DOT_ARM" : "";
  char build[192];
  std::snprintf(build, sizeof(build), "-cl-std=CL1.2 -D %s -D EK_BLOCK_K=%d -D EK_WPT_M=%d -D EK_COLS=%d%s",
                w.type == DType::kI4 ? "EK_W_I4" : "EK_W_I8",
                w.scheme == QuantScheme::kPerBlock ? static_cast<int>(w.block_size) : 0, rows, cols, dot);
  cl_kernel kernel = nullptr;
  EK_RETURN_IF_ERROR(GetKernel(rt, sources::kQgemmDynamic, build, "ek_qgemm_dynamic", &kernel));
  const int mi = static_cast<int>(m), ni = static_cast<int>(w.n), ki = static_cast<int>(w.k);
  const int ldq = static_cast<int>(kp), zero = 0;
  const int scales_at = static_cast<int>(scales_byte / 4), zero_points_at = static_cast<int>(zero_points_byte / 4);
  const int scales_offset = static_cast<int>(w.scales_offset), sums_offset = static_cast<int>(w.sums_offset);
  const int has_bias = call.bias.buffer != nullptr ? 1 : 0;
  detail::KernelArgs args(rt.api(), kernel);
  args.Add(mi).Add(ni).Add(ki).AddBuffer(workspace).Add(zero).Add(ldq);
  args.AddBuffer(workspace).Add(scales_at).AddBuffer(workspace).Add(zero_points_at);
  args.AddBuffer(w.buffer).Add(scales_offset).Add(sums_offset);
  args.AddBuffer(call.bias.buffer).Add(call.bias.offset).Add(has_bias);
  args.AddBuffer(call.c.buffer).Add(call.c.offset).Add(call.c.ld).Add(call.lo).Add(call.hi);
  EK_RETURN_IF_ERROR(args.status());
  const size_t group = gpu ? static_cast<size_t>(detail::ElementWiseGroup(rt)) : 4;
  const size_t items = (static_cast<size_t>(w.n) + static_cast<size_t>(cols) - 1) / static_cast<size_t>(cols);
  const size_t local[2] = {group, 1};
  const size_t global[2] = {(items + group - 1) / group * group, static_cast<size_t>((m + rows - 1) / rows)};
  EK_CL_RETURN_IF_ERROR("clEnqueueNDRangeKernel",
                        rt.api().clEnqueueNDRangeKernel(rt.queue(), kernel, 2, nullptr, global, local, 0, nullptr, event));
  return Status::Ok();
}

// Convenience: a workspace buffer made for this call (released after the enqueue; the driver
// keeps it until the kernels finish). A runtime that calls this per token should own one.
inline Status QGemmDynamic(Runtime& rt, const TensorView& a, const DeviceQWeights& w, const TensorView& c,
                           const QGemmOptions& options = QGemmOptions(), cl_event* event = nullptr) {
  if (!rt.ok()) return Status::Error(StatusCode::kInvalidArgument, "runtime: not open");
  if (a.rank != 2) return Status::Error(StatusCode::kInvalidArgument, "a: rank %d, expected 2", a.rank);
  const size_t bytes = QGemmDynamicWorkspaceBytes(a.shape[0] > 0 ? a.shape[0] : 1, w.k > 0 ? w.k : 1);
  cl_mem workspace = nullptr;
  EK_RETURN_IF_ERROR(CreateBuffer(rt, bytes, &workspace));
  const Status s = QGemmDynamic(rt, a, w, c, options, workspace, bytes, event);
  ReleaseBuffer(rt, workspace);
  return s;
}

}  // namespace opencl
}  // namespace ek

#endif  // EK_OPENCL_QGEMM_H_

// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Floating-point GEMM and GEMV:  C = act(C_old (if accumulating) + A * B + bias)
//
//   A [M x K]  f32 or f16 (f16: storage; converted to f32 into the workspace)
//   B [K x N]  f32, f16 or bf16 weights; or [N x K] with options.transpose_b; or pre-packed
//   C [M x N]  f32 or f16 (storage); unit column stride
//   bias [N]   f32, optional;  act: none, ReLU, ReLU6 or clamp(min, max)
//
// Accumulation is always f32 (one FMA chain per output, k increasing). Results are bitwise
// identical for any thread count, any blocking, packed or unpacked B, small-M or blocked path;
// they differ between targets only within the bound in docs/gemm.md (ref::GemmErrorBound).
//
//   ek::PackGemmWeights(b, transpose_b, buffer, bytes)   once, after PackedGemmWeightsSize
//   ek::Gemm(a, b, c, options, ctx, workspace, bytes)    after GemmWorkspaceSize
//   ek::Gemm(a, packed, c, options, ctx, workspace, bytes)
//   ek::Gemm(a, b_or_packed, c, options, ctx)            convenience: allocates its workspace
//
// M <= 16 runs the small-M tasks (column blocks, all rows), larger M the cache-blocked GEMM; both
// read pre-packed B, or a view of B that each task packs on the fly, a K block x column chunk at
// a time, into its own small slot of the workspace (GEMV on a row-major B streams its rows
// instead). Pre-pack weights that are used more than once. Packed layout: docs/gemm.md, version 2.
#ifndef EK_GEMM_H_
#define EK_GEMM_H_

// This TU's kernel pass compiles the float GEMM family (ek/cpu/targets.h).
#ifndef EK_KERNELS_GEMM
#define EK_KERNELS_GEMM 1
#endif
#include "ek/cpu/targets.h"  // the kernel pass (the first ek header of the TU runs it)
#ifndef EK_COMPILED_GEMM
#error "ek/gemm.h: this TU's kernel pass ran (at its first ek header) without the float GEMM family: define EK_KERNELS_GEMM before including any ek header, or include ek/ek.h (every family)"
#endif

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "ek/cpu/gemm/dispatch.h"
#include "ek/cpu/gemm/pack.h"
#include "ek/cpu/gemm/plan.h"
#include "ek/detail/packed_format.h"
#include "ek/detail/workspace.h"
#include "ek/gemm_options.h"
#include "ek/packed_weights.h"
#include "ek/parallel.h"
#include "ek/status.h"
#include "ek/tensor.h"
#include "ek/tensor_validate.h"
#ifdef EK_ONLY_DISPATCH
#error "ek/gemm.h needs the kernels: EK_ONLY_DISPATCH is defined in this translation unit"
#endif

namespace ek {
namespace {  // the API sits with the per-TU dispatch tables it calls (ek/dispatch.h)

// ---- Packing ----------------------------------------------------------------------------------

// Bytes PackGemmWeights writes for B ([K x N], or [N x K] if transpose_b).
inline Status PackedGemmWeightsSize(const TensorView& b, bool transpose_b, size_t* bytes) {
  if (bytes == nullptr) return detail::InvalidArg("bytes", "is null");
  int64_t k = 0, n = 0;
  EK_RETURN_IF_ERROR(detail::ValidateWeights(b, "b", transpose_b, &k, &n));
  *bytes = sizeof(detail::PackedGemmHeader) + static_cast<size_t>(detail::PackedPayloadBytes(k, n, b.dtype));
  return Status::Ok();
}

// Packs B (same element type; bits copied) into `out` (4-byte aligned); panels in parallel.
inline Status PackGemmWeights(const TensorView& b, bool transpose_b, void* out, size_t out_bytes,
                              const Context& ctx = Context()) {
  EK_RETURN_IF_ERROR(EnsureDispatchReady());
  size_t need = 0;
  EK_RETURN_IF_ERROR(PackedGemmWeightsSize(b, transpose_b, &need));
  if (out == nullptr) return detail::InvalidArg("out", "is null");
  if (reinterpret_cast<uintptr_t>(out) % detail::kPackedAlign != 0) {
    return detail::InvalidArg("out", "is not 4-byte aligned");
  }
  if (out_bytes < need) {
    return Status::Error(StatusCode::kInvalidArgument, "out: %zu bytes, packing needs %zu (PackedGemmWeightsSize)",
                         out_bytes, need);
  }
  AliasCheck alias;
  alias.AddView(b, "b", AliasCheck::Role::kInput);
  alias.AddBytes(out, need, "out", "", AliasCheck::Role::kOutput);
  EK_RETURN_IF_ERROR(alias.Check());
  const int64_t k = transpose_b ? b.shape[1] : b.shape[0];
  const int64_t n = transpose_b ? b.shape[0] : b.shape[1];
  detail::PackWeightsUnchecked(b, transpose_b, k, n, out, ctx);
  detail::SealPacked(out);  // the checksums, over the finished bytes
  return Status::Ok();
}

// Writes packed weights back into B ([K x N], or [N x K] if transpose_b): the exact bits packed.
inline Status UnpackGemmWeights(const PackedWeights& packed, const TensorView& b, bool transpose_b) {
  using namespace detail;
  PackedGemmHeader h;
  EK_RETURN_IF_ERROR(ReadGemmHeader(packed.data, packed.bytes, "packed", &h));
  EK_RETURN_IF_ERROR(ValidateOutputView(b, "b"));
  int64_t k = 0, n = 0;
  EK_RETURN_IF_ERROR(ValidateWeights(b, "b", transpose_b, &k, &n));
  if (b.dtype != static_cast<DType>(h.dtype)) {
    return Status::Error(StatusCode::kInvalidArgument, "b: dtype is %s, the packed weights are %s", DTypeName(b.dtype),
                         DTypeName(static_cast<DType>(h.dtype)));
  }
  if (k != h.k || n != h.n) {
    return Status::Error(StatusCode::kInvalidArgument, "b: K x N is %lld x %lld, the packed weights are %lld x %lld",
                         static_cast<long long>(k), static_cast<long long>(n), static_cast<long long>(h.k),
                         static_cast<long long>(h.n));
  }
  AliasCheck alias;
  alias.AddBytes(packed.data, packed.bytes, "packed", "", AliasCheck::Role::kInput);
  alias.AddView(b, "b", AliasCheck::Role::kOutput);
  EK_RETURN_IF_ERROR(alias.Check());
  const uint8_t* payload = static_cast<const uint8_t*>(packed.data) + sizeof(PackedGemmHeader);
  const int64_t bytes = DTypeBits(b.dtype) / 8;
  uint8_t* base = static_cast<uint8_t*>(b.memory.host);
  const int64_t k_stride = transpose_b ? b.strides[1] : b.strides[0];
  const int64_t n_stride = transpose_b ? b.strides[0] : b.strides[1];
  for (int64_t j = 0; j < n; ++j) {
    const uint8_t* panel = payload + (j / kPanelWidth) * h.panel_stride_bytes + (j % kPanelWidth) * bytes;
    for (int64_t kk = 0; kk < k; ++kk) {
      std::memcpy(base + (b.offset + kk * k_stride + j * n_stride) * bytes, panel + kk * kPanelWidth * bytes,
                  static_cast<size_t>(bytes));
    }
  }
  return Status::Ok();
}

// ---- GEMM -------------------------------------------------------------------------------------

// Workspace bytes Gemm needs for these operands (0 when it needs none).
inline Status GemmWorkspaceSize(const TensorView& a, const TensorView& b, const TensorView& c,
                                const GemmOptions& options, size_t* bytes) {
  if (bytes == nullptr) return detail::InvalidArg("bytes", "is null");
  detail::GemmCall call;
  EK_RETURN_IF_ERROR(gemm_internal::PrepareGemm(a, &b, nullptr, c, options, &call));
  *bytes = call.workspace_bytes;
  return Status::Ok();
}
inline Status GemmWorkspaceSize(const TensorView& a, const PackedWeights& packed_b, const TensorView& c,
                                const GemmOptions& options, size_t* bytes) {
  if (bytes == nullptr) return detail::InvalidArg("bytes", "is null");
  detail::GemmCall call;
  EK_RETURN_IF_ERROR(gemm_internal::PrepareGemm(a, nullptr, &packed_b, c, options, &call));
  *bytes = call.workspace_bytes;
  return Status::Ok();
}

// C = act(C_old (if options.accumulate) + A * B + bias), with a caller-owned workspace.
inline Status Gemm(const TensorView& a, const TensorView& b, const TensorView& c, const GemmOptions& options,
                   const Context& ctx, void* workspace, size_t workspace_bytes) {
  return gemm_internal::RunGemm(a, &b, nullptr, c, options, ctx, workspace, workspace_bytes);
}
inline Status Gemm(const TensorView& a, const PackedWeights& packed_b, const TensorView& c,
                   const GemmOptions& options, const Context& ctx, void* workspace, size_t workspace_bytes) {
  return gemm_internal::RunGemm(a, nullptr, &packed_b, c, options, ctx, workspace, workspace_bytes);
}

// Convenience overloads: allocate the workspace on the heap for this call (a runtime that owns
// its memory calls GemmWorkspaceSize once and the overloads above).
namespace gemm_internal {
template <class B>  // a TensorView or PackedWeights
inline Status WithHeapWorkspace(const TensorView& a, const B& b, const TensorView& c, const GemmOptions& options,
                                const Context& ctx) {
  return detail::WithHeapWorkspace([&](size_t* bytes) { return GemmWorkspaceSize(a, b, c, options, bytes); },
                                   [&](void* ws, size_t bytes) { return Gemm(a, b, c, options, ctx, ws, bytes); });
}
}  // namespace gemm_internal
inline Status Gemm(const TensorView& a, const TensorView& b, const TensorView& c,
                   const GemmOptions& options = GemmOptions(), const Context& ctx = Context()) {
  return gemm_internal::WithHeapWorkspace(a, b, c, options, ctx);
}
inline Status Gemm(const TensorView& a, const PackedWeights& packed_b, const TensorView& c,
                   const GemmOptions& options = GemmOptions(), const Context& ctx = Context()) {
  return gemm_internal::WithHeapWorkspace(a, packed_b, c, options, ctx);
}

}  // namespace

}  // namespace ek

#endif  // EK_GEMM_H_

// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Weights in ggml's GGUF block formats Q8_0 and Q4_0 (docs/quantization.md, "GGUF blocks"):
//
//   Q8_0, 34 bytes per 32 values:  f16 d, int8 qs[32];            value j = d * qs[j]
//   Q4_0, 18 bytes per 32 values:  f16 d, uint8 qs[16];           value j = d * ((qs[j] & 15) - 8),
//                                                                 value j + 16 = d * ((qs[j] >> 4) - 8)
//
// A ggml weight matrix is N rows (output channels) of K values, each row K / 32 blocks.
//
//   ek::DequantizeGgufRows(type, blocks, blocks_bytes, rows, k, out)   rows back to f32
//   ek::PackedGgufWeightsSize(type, n, k, &bytes)
//   ek::PackGgufWeights(type, blocks, blocks_bytes, n, k, out, bytes)   one-time repack into ek's
//                                                      packed QGemm weights: Q8_0 -> int8, Q4_0 ->
//                                                      int4, per block of 32, f16 scales; exact
//                                                      (no requantization)
// blocks_bytes is the size of the caller's block buffer: it must hold the rows * K / 32 blocks
// (a truncated buffer is an error, never a read past its end).
// Then ek::QGemm(a_f32, packed, c_f32) runs the GEMV / GEMM on them (dynamic int8 activations).
#ifndef EK_GGUF_H_
#define EK_GGUF_H_

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "ek/parallel.h"
#include "ek/cpu/qgemm/pack.h"
#include "ek/detail/packed_format.h"
#include "ek/detail/qweights.h"
#include "ek/packed_weights.h"
#include "ek/ref/convert.h"
#include "ek/status.h"
#include "ek/tensor.h"
#include "ek/tensor_validate.h"

namespace ek {

// ggml's type ids.
enum class GgufType : uint32_t { kQ4_0 = 2, kQ8_0 = 8 };

constexpr int64_t kGgufBlockValues = 32;

inline int64_t GgufBlockBytes(GgufType type) { return type == GgufType::kQ8_0 ? 34 : 18; }

namespace detail {

inline Status CheckGgufShape(GgufType type, int64_t rows, int64_t k) {
  if (type != GgufType::kQ8_0 && type != GgufType::kQ4_0) return InvalidArg("type", "must be Q8_0 or Q4_0");
  if (rows < 1) return InvalidArg("rows", "must be >= 1");
  if (k < kGgufBlockValues || k % kGgufBlockValues != 0) {
    return Status::Error(StatusCode::kInvalidArgument, "k: %lld is not a positive multiple of 32 (the GGUF block)",
                         static_cast<long long>(k));
  }
  if (k > kQMaxBlockK || rows > (int64_t{1} << 31)) return InvalidArg("k", "K or the row count is too large");
  return Status::Ok();
}

// The shape, and a block buffer that holds all of it.
inline Status CheckGgufBlocks(GgufType type, const void* blocks, size_t blocks_bytes, int64_t rows, int64_t k) {
  EK_RETURN_IF_ERROR(CheckGgufShape(type, rows, k));
  if (blocks == nullptr) return InvalidArg("blocks", "is null");
  const uint64_t need = static_cast<uint64_t>(rows) * static_cast<uint64_t>(k / kGgufBlockValues) *
                        static_cast<uint64_t>(type == GgufType::kQ8_0 ? 34 : 18);
  if (blocks_bytes < need) {
    return Status::Error(StatusCode::kInvalidArgument, "blocks_bytes: %zu, %lld rows of %lld values need %llu",
                         blocks_bytes, static_cast<long long>(rows), static_cast<long long>(k),
                         static_cast<unsigned long long>(need));
  }
  return Status::Ok();
}

// Value j (0..31) of a block, as an integer, and the block's scale bits.
inline int32_t GgufBlockValue(GgufType type, const uint8_t* block, int64_t j) {
  if (type == GgufType::kQ8_0) return static_cast<int8_t>(block[2 + j]);
  const uint8_t byte = block[2 + (j % 16)];
  return (j < 16 ? (byte & 0x0F) : (byte >> 4)) - 8;
}
inline uint16_t GgufBlockScale(const uint8_t* block) { return static_cast<uint16_t>(block[0] | (block[1] << 8)); }

}  // namespace detail

// Dequantizes `rows` rows of K values (rows * K / 32 consecutive blocks, in blocks_bytes) into
// out, an f32 [rows x k] view with unit column stride: value = f16 scale (as f32) * integer
// value, one f32 multiply.
inline Status DequantizeGgufRows(GgufType type, const void* blocks, size_t blocks_bytes, int64_t rows, int64_t k,
                                 const TensorView& out) {
  EK_RETURN_IF_ERROR(detail::CheckGgufBlocks(type, blocks, blocks_bytes, rows, k));
  EK_RETURN_IF_ERROR(ValidateOutputView(out, "out"));
  EK_RETURN_IF_ERROR(RequireHostMemory(out, "out"));
  EK_RETURN_IF_ERROR(RequireDType(out, "out", DType::kF32));
  if (out.rank != 2 || out.shape[0] != rows || out.shape[1] != k || (out.strides[1] != 1 && k > 1)) {
    return Status::Error(StatusCode::kInvalidArgument, "out: must be [rows, k] = [%lld, %lld] with unit column stride",
                         static_cast<long long>(rows), static_cast<long long>(k));
  }
  AliasCheck alias;
  alias.AddBytes(blocks, blocks_bytes, "blocks", "", AliasCheck::Role::kInput);
  alias.AddView(out, "out", AliasCheck::Role::kOutput);
  EK_RETURN_IF_ERROR(alias.Check());
  float* values = out.HostData<float>();
  const int64_t ld_out = out.strides[0];
  const auto* base = static_cast<const uint8_t*>(blocks);
  const int64_t per_row = k / kGgufBlockValues, block_bytes = GgufBlockBytes(type);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t b = 0; b < per_row; ++b) {
      const uint8_t* block = base + (r * per_row + b) * block_bytes;
      const float d = ref::F16ToF32(detail::GgufBlockScale(block));
      for (int64_t j = 0; j < kGgufBlockValues; ++j) {
        values[r * ld_out + b * kGgufBlockValues + j] = d * static_cast<float>(detail::GgufBlockValue(type, block, j));
      }
    }
  }
  return Status::Ok();
}

namespace detail {

// The GGUF matrix as the tensor view PackQGemmWeights takes: [N x K] (transpose_b), i8 or i4
// values and f16 block scales, in buffers the caller frees.
struct GgufAsView {
  void* values = nullptr;
  uint16_t* scales = nullptr;
  TensorView view;
  GgufAsView() = default;
  GgufAsView(const GgufAsView&) = delete;
  GgufAsView& operator=(const GgufAsView&) = delete;
  ~GgufAsView() {
    std::free(values);
    std::free(scales);
  }
};

inline Status GgufToView(GgufType type, const void* blocks, int64_t n, int64_t k, GgufAsView* v) {
  const bool q4 = type == GgufType::kQ4_0;
  const size_t value_bytes = static_cast<size_t>(q4 ? (n * k + 1) / 2 : n * k);
  const int64_t per_row = k / kGgufBlockValues;
  v->values = std::malloc(value_bytes);
  v->scales = static_cast<uint16_t*>(std::malloc(static_cast<size_t>(n * per_row) * 2));
  if (v->values == nullptr || v->scales == nullptr) {
    return Status::Error(StatusCode::kOutOfMemory, "out: cannot allocate %zu bytes to repack", value_bytes);
  }
  const auto* base = static_cast<const uint8_t*>(blocks);
  const int64_t block_bytes = GgufBlockBytes(type);
  for (int64_t r = 0; r < n; ++r) {
    for (int64_t b = 0; b < per_row; ++b) {
      const uint8_t* block = base + (r * per_row + b) * block_bytes;
      v->scales[r * per_row + b] = GgufBlockScale(block);  // [N x K / 32]: the K axis (1) in blocks
      if ((GgufBlockScale(block) & 0x7C00u) == 0x7C00u) {
        return Status::Error(StatusCode::kInvalidArgument, "blocks: row %lld, block %lld has a non-finite scale",
                             static_cast<long long>(r), static_cast<long long>(b));
      }
      for (int64_t j = 0; j < kGgufBlockValues; ++j) {
        const int64_t e = r * k + b * kGgufBlockValues + j;
        const int32_t value = GgufBlockValue(type, block, j);
        if (q4) {
          SetI4(v->values, e, value);
        } else {
          static_cast<int8_t*>(v->values)[e] = static_cast<int8_t>(value);
        }
      }
    }
  }
  QuantParams q;
  q.scheme = QuantScheme::kPerBlock;
  q.axis = 1;
  q.block_size = kGgufBlockValues;
  q.scale_type = DType::kF16;
  q.scales = v->scales;
  v->view = TensorView::Host(q4 ? DType::kI4 : DType::kI8, v->values, {n, k}).WithQuant(q);
  return Status::Ok();
}

}  // namespace detail

inline Status PackedGgufWeightsSize(GgufType type, int64_t n, int64_t k, size_t* bytes) {
  if (bytes == nullptr) return detail::InvalidArg("bytes", "is null");
  *bytes = 0;
  EK_RETURN_IF_ERROR(detail::CheckGgufShape(type, n, k));
  *bytes = static_cast<size_t>(detail::LayoutFor(type == GgufType::kQ4_0 ? DType::kI4 : DType::kI8,
                                                 detail::QScaleKind::kPerBlock, k, n, kGgufBlockValues, DType::kF16)
                                   .total_bytes);
  return Status::Ok();
}

// Repacks N rows of K values (N * K / 32 consecutive blocks, in blocks_bytes) into ek's packed
// weights (checksums included: ek::VerifyPackedWeights accepts them). Block
// scales are kept as they are, sign included (ggml's Q4_0 writer makes d negative when the
// largest magnitude is positive) and zero (an all-zero block); a non-finite scale is an error.
// Allocates temporary buffers of about N * K bytes (a one-time conversion, not a kernel call).
inline Status PackGgufWeights(GgufType type, const void* blocks, size_t blocks_bytes, int64_t n, int64_t k, void* out,
                              size_t out_bytes, const Context& ctx = Context()) {
  EK_RETURN_IF_ERROR(detail::CheckGgufBlocks(type, blocks, blocks_bytes, n, k));
  size_t bytes = 0;
  EK_RETURN_IF_ERROR(PackedGgufWeightsSize(type, n, k, &bytes));
  if (out == nullptr) return detail::InvalidArg("out", "is null");
  if (reinterpret_cast<uintptr_t>(out) % 4 != 0) return detail::InvalidArg("out", "must be 4-byte aligned");
  if (out_bytes < bytes) {
    return Status::Error(StatusCode::kInvalidArgument, "out: %zu bytes, packing needs %zu", out_bytes, bytes);
  }
  AliasCheck alias;
  alias.AddBytes(blocks, blocks_bytes, "blocks", "", AliasCheck::Role::kInput);
  alias.AddBytes(out, bytes, "out", "", AliasCheck::Role::kOutput);
  EK_RETURN_IF_ERROR(alias.Check());
  detail::GgufAsView v;
  EK_RETURN_IF_ERROR(detail::GgufToView(type, blocks, n, k, &v));
  detail::QWeightsInfo w;
  w.k = k;
  w.n = n;
  w.kind = detail::QScaleKind::kPerBlock;
  const detail::QPackedLayout l = detail::LayoutFor(v.view.dtype, w.kind, k, n, kGgufBlockValues, DType::kF16);
  detail::PackQGemmUnchecked(v.view, /*transpose_b=*/true, w, l, out, ctx);
  return Status::Ok();
}

}  // namespace ek

#endif  // EK_GGUF_H_

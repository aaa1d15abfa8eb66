// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Fuzz target: packed weights (EKGB float, EKQB integer, EKCV convolution, EKTC transposed
// convolution) as a GEMM or convolution call receives them.
// Input: one flags byte, then the packed bytes. Flags bit 0 / 1 re-seal the header / payload
// checksums before use, so that the fuzzer also explores header fields and payload values the
// checksums would otherwise reject. Whatever the bytes: VerifyPackedWeights, Gemm / QGemm /
// Conv2D / TransposeConv2D and Unpack* return a status or a result, never crash, never read or write out of bounds.
#include <cstdint>
#include <cstring>
#include <vector>

#include "ek/ek.h"
#include "fuzz_util.h"

namespace {

void RunFloat(const ek::PackedWeights& packed, int64_t m) {
  ek::detail::PackedGemmHeader h;
  if (!ek::detail::ReadGemmHeader(packed.data, packed.bytes, "packed_b", &h).ok()) return;
  std::vector<float> a(static_cast<size_t>(m * h.k), 0.5f), c(static_cast<size_t>(m * h.n));
  ek::GemmOptions o;
  o.activation = ek::Activation::kRelu;
  (void)ek::Gemm(ek::TensorView::Host(ek::DType::kF32, a.data(), {m, h.k}), packed,
                 ek::TensorView::Host(ek::DType::kF32, c.data(), {m, h.n}), o);
  std::vector<uint32_t> back(static_cast<size_t>(h.k * h.n));
  (void)ek::UnpackGemmWeights(packed, ek::TensorView::Host(static_cast<ek::DType>(h.dtype), back.data(), {h.k, h.n}),
                              false);
}

void RunInteger(const ek::PackedWeights& packed, int64_t m) {
  ek::detail::PackedQGemmHeader h;
  ek::detail::QPackedLayout l;
  if (!ek::detail::ReadQHeader(packed.data, packed.bytes, "packed_b", &h, &l).ok()) return;
  const ek::DType type = static_cast<ek::DType>(h.weight_type);
  std::vector<float> af(static_cast<size_t>(m * h.k), -0.25f), cf(static_cast<size_t>(m * h.n));
  (void)ek::QGemm(ek::TensorView::Host(ek::DType::kF32, af.data(), {m, h.k}), packed,
                  ek::TensorView::Host(ek::DType::kF32, cf.data(), {m, h.n}));
  if (type != ek::DType::kI4) {
    std::vector<uint8_t> a8(static_cast<size_t>(m * h.k), 3), c8(static_cast<size_t>(m * h.n));
    const ek::QuantParams q = ek::QuantParams::PerTensor(0.05f, type == ek::DType::kU8 ? 128 : 0);
    (void)ek::QGemm(ek::TensorView::Host(type, a8.data(), {m, h.k}).WithQuant(q), packed,
                    ek::TensorView::Host(type, c8.data(), {m, h.n}).WithQuant(ek::QuantParams::PerTensor(0.5f, 0)));
  }
  std::vector<uint8_t> values(static_cast<size_t>(h.k * h.n));
  std::vector<float> scales(static_cast<size_t>(h.n * (l.blocks + 1)));
  ek::QuantParams q;
  const auto kind = static_cast<ek::detail::QScaleKind>(h.scale_kind);
  if (kind == ek::detail::QScaleKind::kPerChannel) {
    q = ek::QuantParams::PerAxis(1, scales.data());
  } else if (kind == ek::detail::QScaleKind::kPerBlock) {
    q = ek::QuantParams::PerBlock(0, h.block_size, static_cast<ek::DType>(h.scale_type), scales.data());
  } else {
    q = ek::QuantParams::PerTensor(1.0f, h.zero_point);
  }
  (void)ek::UnpackQGemmWeights(packed, ek::TensorView::Host(type, values.data(), {h.k, h.n}).WithQuant(q), false);
}

void RunConv(const ek::PackedWeights& packed, int64_t extra) {
  ek::detail::ConvWeightsShape w;
  if (!ek::detail::ReadConvHeader(packed.data, packed.bytes, "packed", &w).ok()) return;
  // An image of the kernel's size (+ extra), SAME padding, stride 1 + extra % 2.
  const int64_t h = w.kernel_h + extra, wd = w.kernel_w + extra, c = w.groups * w.group_in;
  if (h * wd * (c + w.out_channels) > (int64_t{1} << 20)) return;
  ek::ConvOptions o;
  o.groups = w.groups;
  o.stride_h = o.stride_w = 1 + extra % 2;
  o.padding = ek::SamePadding(h, wd, w.kernel_h, w.kernel_w, o.stride_h, o.stride_w);
  const int64_t oh = ek::ConvOutputSize(h, w.kernel_h, o.stride_h, 1, o.padding.top, o.padding.bottom);
  const int64_t ow = ek::ConvOutputSize(wd, w.kernel_w, o.stride_w, 1, o.padding.left, o.padding.right);
  if (w.dtype == ek::DType::kF32) {
    std::vector<float> in(static_cast<size_t>(h * wd * c), 0.5f), out(static_cast<size_t>(oh * ow * w.out_channels));
    (void)ek::Conv2D(ek::TensorView::Host(ek::DType::kF32, in.data(), {1, h, wd, c}), packed,
                     ek::TensorView::Host(ek::DType::kF32, out.data(), {1, oh, ow, w.out_channels}), o);
    return;
  }
  // int8 / uint8: per-tensor input and output (the payload's scales and blocks are what is fuzzed).
  std::vector<uint8_t> in(static_cast<size_t>(h * wd * c), 3), out(static_cast<size_t>(oh * ow * w.out_channels));
  const ek::QuantParams q = ek::QuantParams::PerTensor(0.05f, w.dtype == ek::DType::kU8 ? 128 : -3);
  (void)ek::Conv2D(ek::TensorView::Host(w.dtype, in.data(), {1, h, wd, c}).WithQuant(q), packed,
                   ek::TensorView::Host(w.dtype, out.data(), {1, oh, ow, w.out_channels}).WithQuant(q), o);
}

void RunTransposedConv(const ek::PackedWeights& packed, int64_t extra) {
  ek::detail::TransposedConvShape t;
  if (!ek::detail::ReadTransposedConvHeader(packed.data, packed.bytes, "packed", &t).ok()) return;
  const ek::detail::ConvWeightsShape& w = t.filter;
  // A 1 + extra by 2 + extra image, TensorFlow's SAME (output = input x stride, or less).
  const int64_t h = 1 + extra, wd = 2 + extra, c = w.groups * w.group_in;
  ek::ConvOptions o;
  o.groups = w.groups;
  o.stride_h = t.stride_h;
  o.stride_w = t.stride_w;
  o.padding = ek::TransposeConvSamePadding(w.kernel_h, w.kernel_w, t.stride_h, t.stride_w);
  const int64_t oh = ek::TransposeConvOutputSize(h, w.kernel_h, t.stride_h, o.padding.top, o.padding.bottom);
  const int64_t ow = ek::TransposeConvOutputSize(wd, w.kernel_w, t.stride_w, o.padding.left, o.padding.right);
  if (oh < 1 || ow < 1 || h * wd * c > (int64_t{1} << 18) || oh * ow * w.out_channels > (int64_t{1} << 18)) return;
  const size_t elem = w.dtype == ek::DType::kF32 ? 4 : 1;
  std::vector<uint32_t> in(static_cast<size_t>(h * wd * c) * elem / 4 + 1, 0x3F000000u);
  std::vector<uint32_t> out(static_cast<size_t>(oh * ow * w.out_channels) * elem / 4 + 1);
  const ek::QuantParams q =
      w.dtype == ek::DType::kF32 ? ek::QuantParams() : ek::QuantParams::PerTensor(0.05f, w.dtype == ek::DType::kU8 ? 128 : -3);
  (void)ek::TransposeConv2D(ek::TensorView::Host(w.dtype, in.data(), {1, h, wd, c}).WithQuant(q), packed,
                            ek::TensorView::Host(w.dtype, out.data(), {1, oh, ow, w.out_channels}).WithQuant(q), o);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > (1 << 20)) return 0;
  const uint8_t flags = data[0];
  // A 4-byte aligned copy (packed weights must be aligned; a misaligned buffer is its own test).
  std::vector<uint32_t> buffer((size - 1) / 4 + 1);
  std::memcpy(buffer.data(), data + 1, size - 1);
  const ek::PackedWeights packed{buffer.data(), size - 1};
  auto* bytes = reinterpret_cast<uint8_t*>(buffer.data());
  if ((flags & 2) && packed.bytes >= 64) {  // a payload checksum over what the header claims, if it fits
    uint64_t total;
    std::memcpy(&total, bytes + 8, 8);
    if (total >= 64 && total <= packed.bytes) ek::detail::SealPacked(bytes);
  }
  if ((flags & 1) && packed.bytes >= 64) {
    const uint32_t sum = ek::detail::PackedHeaderChecksum(bytes);
    std::memcpy(bytes + 60, &sum, 4);
  }
  (void)ek::VerifyPackedWeights(packed);
  (void)ek::VerifyPackedWeights(ek::PackedWeights{bytes + 1, packed.bytes > 0 ? packed.bytes - 1 : 0});  // misaligned
  const int64_t m = 1 + ((flags >> 2) & 3);
  RunFloat(packed, m);
  RunInteger(packed, m);
  RunConv(packed, m - 1);
  RunTransposedConv(packed, m - 1);
  return 0;
}

// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Fuzz target: tensor-view construction and validation with any shapes, strides, offsets, types,
// layouts, memory kinds and quant parameters (their arrays inside a buffer of ours). Validation
// must never crash or overflow; where it accepts two views that lie inside our buffers, a real
// kernel (Quantize, Dequantize or Convert, chosen by the input) runs on them: every access it
// makes must then be inside the buffers (ASan checks), and its status must be a clean result.
#include <cstdint>
#include <cstring>
#include <vector>

#include "ek/convert.h"
#include "ek/tensor_validate.h"
#include "fuzz_util.h"

namespace {

constexpr size_t kBufferBytes = 4096;
constexpr int kParams = 4096;  // entries of each quant parameter array

// A view from the input; data in `buffer`, quant arrays in `params` (floats and int32s).
ek::TensorView MakeView(ek_fuzz::Input& in, uint8_t* buffer, float* scales, int32_t* zero_points) {
  ek::TensorView v;
  v.dtype = static_cast<ek::DType>(in.Byte() % 8);  // 7: an invalid type
  v.rank = in.Byte() % 7;                           // 0 and 6: invalid ranks
  for (int i = 0; i < ek::kMaxRank; ++i) {
    v.shape[i] = in.Extent();
    v.strides[i] = in.Extent();
  }
  if (in.Byte() % 4 == 0) {  // a dense row-major view, as TensorView::Host makes it
    v = ek::TensorView::Host(v.dtype, buffer, {v.shape[0], v.shape[1], v.shape[2]}).WithStrides({});
    v.rank = 1 + in.Byte() % 3;
  }
  v.offset = in.Extent();
  v.layout = static_cast<ek::Layout>(in.Byte() % 4);
  const uint8_t memory = in.Byte();
  v.memory.kind = static_cast<ek::MemoryKind>(memory % 8 < 6 ? 0 : memory % 4);
  v.memory.host = memory % 16 == 15 ? nullptr : buffer + (memory % 8 == 7 ? 1 : 0);
  v.memory.handle = v.memory.kind == ek::MemoryKind::kHost ? nullptr : buffer;
  const uint8_t scheme = in.Byte();
  ek::QuantParams& q = v.quant;
  q.scheme = static_cast<ek::QuantScheme>(scheme % 5);
  q.scale = in.Value<float>();
  q.zero_point = in.Value<int32_t>();
  q.axis = in.Byte() % 7 - 1;
  q.block_size = in.Extent();
  q.scale_type = static_cast<ek::DType>(in.Byte() % 8);
  q.block_offset = static_cast<ek::BlockOffset>(in.Byte() % 4);
  for (int i = 0; i < kParams; ++i) {
    const bool special = i < 16 && in.Byte() % 8 == 0;
    scales[i] = special ? in.Value<float>() : 0.01f * static_cast<float>(1 + i % 5);
    zero_points[i] = special ? in.Value<int32_t>() : i % 3;
  }
  q.scales = scheme & 0x80 ? nullptr : scales;
  q.zero_points = scheme & 0x40 ? zero_points : nullptr;
  q.offsets = scheme & 0x20 ? static_cast<const void*>(zero_points) : nullptr;
  // Validation reads the scale arrays the parameters promise: keep that promise (at most
  // kParams entries), except where the count overflows 64 bits, which validation must reject
  // before reading anything.
  if (q.scheme == ek::QuantScheme::kPerAxis || q.scheme == ek::QuantScheme::kPerBlock) {
    __int128 count = 1;
    bool overflow = false;
    for (int i = 0; i < v.rank && i < ek::kMaxRank; ++i) {
      __int128 extent = v.shape[i] < 1 ? 1 : v.shape[i];
      if (q.scheme == ek::QuantScheme::kPerBlock && i == q.axis && q.block_size > 0) {
        extent = (extent + q.block_size - 1) / q.block_size;
      }
      if (q.scheme == ek::QuantScheme::kPerAxis) extent = i == q.axis ? extent : 1;
      count *= extent;
      if (count > (static_cast<__int128>(1) << 64)) overflow = true;
      if (overflow) count = static_cast<__int128>(1) << 64;
    }
    if (!overflow && count > kParams) q.scheme = ek::QuantScheme::kNone;
  }
  return v;
}

// Whether the bytes a (validated) view can touch lie inside [base, base + bytes).
bool Inside(const ek::TensorView& v, const uint8_t* base, size_t bytes) {
  ek::ByteSpan span;
  if (v.memory.kind != ek::MemoryKind::kHost || !ek::ComputeByteSpan(v, "v", &span).ok()) return false;
  const uint8_t* host = static_cast<const uint8_t*>(v.memory.host);
  return host >= base && span.first >= 0 && host + span.last < base + bytes;
}

// Per-block parameters are for packed weights, not for Quantize / Dequantize.
bool QuantArraysFit(const ek::TensorView& v) { return v.quant.scheme != ek::QuantScheme::kPerBlock; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ek_fuzz::Input in(data, size);
  alignas(64) static uint8_t buffers[2][kBufferBytes];
  static float scales[2][kParams];
  static int32_t zero_points[2][kParams];
  std::memset(buffers, 0x3C, sizeof(buffers));
  const ek::TensorView a = MakeView(in, buffers[0], scales[0], zero_points[0]);
  const ek::TensorView b = MakeView(in, buffers[1], scales[1], zero_points[1]);
  (void)a.NumElements();
  const bool a_valid = ek::ValidateView(a, "a").ok();
  const bool b_valid = ek::ValidateOutputView(b, "b").ok();
  (void)ek::MayOverlap(a, b);
  if (a_valid && b_valid) {
    ek::AliasCheck alias;
    alias.AddView(a, "a", ek::AliasCheck::Role::kInput);
    alias.AddView(b, "b", ek::AliasCheck::Role::kOutput, ek::AliasCheck::Role::kInput);
    (void)alias.Check();
  }
  // A kernel on two accepted views inside our buffers (and quant arrays inside ours).
  if (a_valid && b_valid && Inside(a, buffers[0], kBufferBytes) && Inside(b, buffers[1], kBufferBytes) &&
      QuantArraysFit(a) && QuantArraysFit(b) && a.NumElements() <= 1024) {
    const uint8_t which = in.Byte() % 3;
    ek::Status s = which == 0 ? ek::Quantize(a, b) : which == 1 ? ek::Dequantize(a, b) : ek::Convert(a, b);
    (void)s;
  }
  return 0;
}

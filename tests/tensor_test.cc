// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// TensorView construction, int4 packing, and every validation rule of tensor_validate.h.
#include <cstdint>
#include <limits>
#include <vector>

#include "ek/status.h"
#include "ek/tensor.h"
#include "ek/tensor_validate.h"
#include "test_util.h"

using ek::DType;
using ek::QuantParams;
using ek::Status;
using ek::TensorView;

namespace {
void ExpectInvalid(const Status& s, const char* fragment) {
  ek_test::ExpectError(s, ek::StatusCode::kInvalidArgument, fragment);
}
}  // namespace

TEST_CASE("Host views are dense row-major", "[tensor]") {
  float data[2 * 3 * 4];
  const TensorView v = TensorView::Host(DType::kF32, data, {2, 3, 4});
  CHECK(v.rank == 3);
  CHECK(v.strides[0] == 12);
  CHECK(v.strides[1] == 4);
  CHECK(v.strides[2] == 1);
  CHECK(v.NumElements() == 24);
  const int64_t index[3] = {1, 2, 3};
  CHECK(v.ElementOffset(index) == 23);
  CHECK(v.WithOffset(5).HostData<float>() == data + 5);
  CHECK(ek::ValidateView(v, "v").ok());
  const TensorView m = TensorView::Matrix(DType::kF32, data, 3, 5, 8);
  CHECK(m.layout == ek::Layout::kRowMajor);
  CHECK(ek::ValidateView(m, "m").ok());
  CHECK(ek::ValidateView(TensorView::NHWC(DType::kU8, data, 1, 2, 3, 4), "x").ok());
}

TEST_CASE("int4 nibble order: element 2k is the low nibble of byte k", "[tensor][i4]") {
  uint8_t bytes[4] = {0, 0, 0, 0};
  const int values[8] = {-8, 7, 0, -1, 3, -4, 5, 1};
  for (int e = 0; e < 8; ++e) ek::SetI4(bytes, e, values[e]);
  CHECK(bytes[0] == 0x78);  // low nibble -8 (0x8), high nibble 7
  CHECK(bytes[1] == 0xF0);  // 0, then -1
  CHECK(bytes[2] == 0xC3);
  CHECK(bytes[3] == 0x15);
  for (int e = 0; e < 8; ++e) CHECK(ek::GetI4(bytes, e) == values[e]);
  // An odd offset addresses the high nibble.
  const TensorView v = TensorView::Host(DType::kI4, bytes, {7}).WithOffset(1);
  CHECK(ek::ValidateView(v, "v").ok());
  CHECK(v.HostByteOf(v.offset) == bytes);
  CHECK(ek::GetI4(bytes, v.offset) == 7);
}

TEST_CASE("validation: rank, extents, strides, offset, null data", "[tensor][validation]") {
  float data[16];
  TensorView v = TensorView::Host(DType::kF32, data, {4, 4});
  TensorView bad = v;
  bad.rank = 0;
  ExpectInvalid(ek::ValidateView(bad, "lhs"), "lhs: rank 0");
  bad.rank = 6;
  ExpectInvalid(ek::ValidateView(bad, "lhs"), "lhs: rank 6");
  ExpectInvalid(ek::ValidateView(TensorView::Host(DType::kF32, data, {1, 2, 3, 4, 5, 6}), "x"), "x: rank 6");
  ExpectInvalid(ek::ValidateView(TensorView::Host(DType::kF32, data, {4, 0}), "rhs"), "rhs: shape[1] is 0");
  ExpectInvalid(ek::ValidateView(TensorView::Host(DType::kF32, data, {-3}), "rhs"), "rhs: shape[0] is -3");
  ExpectInvalid(ek::ValidateView(v.WithStrides({4, -1}), "w"), "w: strides[1] is -1");
  ExpectInvalid(ek::ValidateView(v.WithOffset(-2), "w"), "w: offset -2 is negative");
  ExpectInvalid(ek::ValidateView(TensorView::Host(DType::kF32, nullptr, {4}), "bias"), "bias: data is null");
  TensorView cl = TensorView::OpenCL(DType::kF32, nullptr, 0, {4});
  ExpectInvalid(ek::ValidateView(cl, "c"), "c: buffer handle is null");
  // Broadcast input (stride 0) is a valid input, not a valid output.
  CHECK(ek::ValidateView(v.WithStrides({0, 1}), "in").ok());
  ExpectInvalid(ek::ValidateOutputView(v.WithStrides({0, 1}), "out"), "out: strides[0] = 0");
  ExpectInvalid(ek::ValidateOutputView(v.WithStrides({2, 1}), "out"), "out: strides[0] = 2 makes the output overlap");
  CHECK(ek::ValidateOutputView(v.WithStrides({1, 4}), "out").ok());  // column-major is fine
}

TEST_CASE("validation: 64-bit overflow of extent x stride x element size", "[tensor][validation]") {
  float data[4];
  const int64_t max = std::numeric_limits<int64_t>::max();
  ExpectInvalid(ek::ValidateView(TensorView::Host(DType::kF32, data, {3}).WithStrides({max / 2 + 1}), "a"),
                "a: extent x stride overflows 64 bits (dimension 0)");
  ExpectInvalid(ek::ValidateView(TensorView::Host(DType::kF32, data, {2, 2}).WithStrides({max / 2, max / 2 + 2}), "b"),
                "b: extent x stride overflows 64 bits (dimension 1)");
  ExpectInvalid(ek::ValidateView(TensorView::Host(DType::kF32, data, {2}).WithStrides({max / 2}), "c"),
                "c: extent x stride x element size overflows 64 bits");
  ExpectInvalid(ek::ValidateView(TensorView::Host(DType::kF32, data, {4}).WithOffset(max - 2), "d"),
                "d: extent x stride overflows 64 bits");
  // Fits 64 bits, but no address space is that large.
  ExpectInvalid(ek::ValidateView(TensorView::Host(DType::kF32, data, {2}).WithStrides({max / 8}), "e"),
                "e: view spans");
  ExpectInvalid(ek::ValidateView(TensorView::Host(DType::kI4, data, {2}).WithStrides({max / 2}), "f"), "f: view spans");
  // A view that fits 64 bits but runs past the address space.
  TensorView high = TensorView::Host(DType::kU8, reinterpret_cast<void*>(~uintptr_t{0} - 8), {64});
  ExpectInvalid(ek::ValidateView(high, "g"), "g: view extends past the end of the address space");
  // Issue 16: Host() itself multiplied the extents into strides and overflowed (UBSan: signed
  // overflow) for {4, 2^62, 4}; it saturates now, and validation rejects the view.
  const TensorView huge = TensorView::Host(DType::kF32, data, {4, int64_t{1} << 62, 4});
  CHECK(huge.strides[0] == max);
  CHECK(huge.NumElements() == max);
  ExpectInvalid(ek::ValidateView(huge, "h"), "h: extent x stride overflows 64 bits");
  // Found by the tensor_view fuzzer: NumElements of a view of rank 6 (invalid) read shape[5].
  TensorView rank6 = TensorView::Host(DType::kF32, data, {2, 2});
  rank6.rank = 6;
  for (int i = 2; i < ek::kMaxRank; ++i) rank6.shape[i] = 1;
  CHECK(rank6.NumElements() == 4);
  CHECK(ek::MayOverlap(rank6, rank6));  // no span of an invalid view: "may overlap", never a read past shape
  ek::ByteSpan span;
  ExpectInvalid(ek::ComputeByteSpan(rank6, "r", &span), "r: rank 6");
  // Found by the tensor_view fuzzer (CI, stop 29): ComputeByteSpan, which MayOverlap runs on
  // unvalidated views, took shape - 1 of an extent of INT64_MIN (signed overflow).
  TensorView most_negative = TensorView::Host(DType::kF32, data, {2, 2});
  most_negative.shape[1] = std::numeric_limits<int64_t>::min();
  ExpectInvalid(ek::ComputeByteSpan(most_negative, "n", &span), "n: shape[1] is -9223372036854775808");
  CHECK(ek::MayOverlap(most_negative, most_negative));
  // Found by the tensor_view fuzzer: a view ending at byte 2^63 - 1 overflowed the message's + 1.
  ExpectInvalid(ek::ValidateView(TensorView::Host(DType::kU8, data, {2}).WithStrides({max}).WithOffset(0), "s"),
                "s: view spans 9223372036854775808 bytes");
  ExpectInvalid(ek::ValidateView(TensorView::Host(DType::kF32, data, {int64_t{1} << 40, int64_t{1} << 40, 1 << 20}), "i"),
                "i: extent x stride overflows 64 bits");
}

TEST_CASE("validation: element data must be aligned to the element size", "[tensor][validation]") {
  alignas(8) uint8_t bytes[64] = {};
  ExpectInvalid(ek::ValidateView(TensorView::Host(DType::kF32, bytes + 2, {4}), "a"), "a: data is not 4-byte aligned");
  ExpectInvalid(ek::ValidateView(TensorView::Host(DType::kI32, bytes + 1, {4}), "b"), "b: data is not 4-byte aligned");
  ExpectInvalid(ek::ValidateView(TensorView::Host(DType::kF16, bytes + 1, {4}), "c"), "c: data is not 2-byte aligned");
  CHECK(ek::ValidateView(TensorView::Host(DType::kF16, bytes + 2, {4}), "d").ok());
  CHECK(ek::ValidateView(TensorView::Host(DType::kU8, bytes + 1, {4}), "e").ok());
  CHECK(ek::ValidateView(TensorView::Host(DType::kI4, bytes + 3, {4}), "f").ok());
  // The element offset counts in elements: any offset keeps an aligned base aligned.
  CHECK(ek::ValidateView(TensorView::Host(DType::kF32, bytes, {4}).WithOffset(3), "g").ok());
}

TEST_CASE("validation: layouts", "[tensor][validation]") {
  float data[64];
  ExpectInvalid(ek::ValidateView(TensorView::Matrix(DType::kF32, data, 4, 8, 4), "a"), "a: layout row-major");
  ExpectInvalid(ek::ValidateView(TensorView::Host(DType::kF32, data, {8}).WithLayout(ek::Layout::kRowMajor), "a"),
                "a: layout row-major");
  ExpectInvalid(ek::ValidateView(TensorView::NHWC(DType::kF32, data, 1, 2, 2, 4).WithStrides({16, 8, 4, 2}), "x"),
                "x: layout NHWC");
}

TEST_CASE("validation: quant params must fit the type, axis and block size", "[tensor][validation][quant]") {
  int8_t q[32];
  float f[32];
  const TensorView v = TensorView::Host(DType::kI8, q, {4, 8});
  CHECK(ek::ValidateView(v.WithQuant(QuantParams::PerTensor(0.5f, -128)), "w").ok());
  ExpectInvalid(ek::ValidateView(TensorView::Host(DType::kF32, f, {32}).WithQuant(QuantParams::PerTensor(1.0f)), "x"),
                "x: quant parameters given for a f32 tensor");
  ExpectInvalid(ek::ValidateView(v.WithQuant(QuantParams::PerTensor(-1.0f)), "w"), "w: quant scale[0] = -1");
  ExpectInvalid(ek::ValidateView(v.WithQuant(QuantParams::PerTensor(std::numeric_limits<float>::infinity())), "w"),
                "w: quant scale[0] = inf");
  ExpectInvalid(ek::ValidateView(v.WithQuant(QuantParams::PerTensor(std::numeric_limits<float>::quiet_NaN())), "w"),
                "w: quant scale[0] = nan");
  ExpectInvalid(ek::ValidateView(v.WithQuant(QuantParams::PerTensor(1.0f, 128)), "w"), "w: quant zero_point[0] = 128");
  uint8_t u[32];
  ExpectInvalid(ek::ValidateView(TensorView::Host(DType::kU8, u, {32}).WithQuant(QuantParams::PerTensor(1.0f, -1)), "a"),
                "a: quant zero_point[0] = -1 does not fit u8 (range 0..255)");
  int32_t bias[8];
  ExpectInvalid(ek::ValidateView(TensorView::Host(DType::kI32, bias, {8}).WithQuant(QuantParams::PerTensor(1.0f, 1)), "bias"),
                "bias: quant zero_point[0] = 1 does not fit i32");
  // Per axis.
  float scales[8] = {1, 1, 1, 1, 1, 1, 1, 1};
  int32_t zps[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  CHECK(ek::ValidateView(v.WithQuant(QuantParams::PerAxis(1, scales, zps)), "w").ok());
  ExpectInvalid(ek::ValidateView(v.WithQuant(QuantParams::PerAxis(2, scales)), "w"), "w: quant axis 2 out of range");
  ExpectInvalid(ek::ValidateView(v.WithQuant(QuantParams::PerAxis(-1, scales)), "w"), "w: quant axis -1");
  ExpectInvalid(ek::ValidateView(v.WithQuant(QuantParams::PerAxis(0, nullptr)), "w"), "w: quant scales is null");
  scales[6] = 0.0f;
  ExpectInvalid(ek::ValidateView(v.WithQuant(QuantParams::PerAxis(1, scales)), "w"), "w: quant scale[6] = 0");
  scales[6] = 1.0f;
  zps[3] = -200;
  ExpectInvalid(ek::ValidateView(v.WithQuant(QuantParams::PerAxis(1, scales, zps)), "w"), "w: quant zero_point[3] = -200");
  // Per block (int4 weights, block 4 along axis 1 -> 4 x 2 scales).
  uint8_t packed[16] = {0};
  const TensorView w4 = TensorView::Host(DType::kI4, packed, {4, 8});
  uint16_t half_scales[8];
  for (uint16_t& s : half_scales) s = ek::ref::F32ToF16(0.25f);
  CHECK(ek::ValidateView(w4.WithQuant(QuantParams::PerBlock(1, 4, DType::kF16, half_scales)), "w4").ok());
  ExpectInvalid(ek::ValidateView(w4.WithQuant(QuantParams::PerBlock(1, 0, DType::kF16, half_scales)), "w4"),
                "w4: quant block_size 0");
  ExpectInvalid(ek::ValidateView(w4.WithQuant(QuantParams::PerBlock(1, 4, DType::kI8, half_scales)), "w4"),
                "w4: quant scale_type");
  ExpectInvalid(ek::ValidateView(w4.WithQuant(QuantParams::PerBlock(3, 4, DType::kF16, half_scales)), "w4"),
                "w4: quant axis 3");
  ExpectInvalid(ek::ValidateView(w4.WithQuant(QuantParams::PerBlock(1, 4, DType::kF16, half_scales,
                                                                    ek::BlockOffset::kZeroPoint, nullptr)), "w4"),
                "w4: quant offsets is null");
  int32_t block_zps[8] = {0, 0, 0, 0, 0, 8, 0, 0};
  ExpectInvalid(ek::ValidateView(w4.WithQuant(QuantParams::PerBlock(1, 4, DType::kF16, half_scales,
                                                                    ek::BlockOffset::kZeroPoint, block_zps)), "w4"),
                "w4: quant zero_point[5] = 8 does not fit i4 (range -8..7)");
  half_scales[7] = ek::ref::F32ToF16(-1.0f);
  ExpectInvalid(ek::ValidateView(w4.WithQuant(QuantParams::PerBlock(1, 4, DType::kF16, half_scales)), "w4"),
                "w4: quant scale[7] = -1");
}

TEST_CASE("overlap detection between views", "[tensor][validation]") {
  float buffer[100];
  const TensorView a = TensorView::Host(DType::kF32, buffer, {10});
  CHECK_FALSE(ek::MayOverlap(a, TensorView::Host(DType::kF32, buffer + 10, {10})));
  CHECK(ek::MayOverlap(a, TensorView::Host(DType::kF32, buffer + 9, {10})));
  CHECK(ek::MayOverlap(a, TensorView::Host(DType::kU8, reinterpret_cast<uint8_t*>(buffer) + 39, {1})));
  CHECK_FALSE(ek::MayOverlap(a, TensorView::Host(DType::kU8, reinterpret_cast<uint8_t*>(buffer) + 40, {1})));
  ExpectInvalid(ek::CheckNoOverlap(a, "out", a.WithOffset(3), "in"), "out: overlaps in");
  // Different OpenCL buffers never overlap; the same buffer does by byte range.
  int h1, h2;
  const TensorView c1 = TensorView::OpenCL(DType::kF32, &h1, 0, {16});
  CHECK_FALSE(ek::MayOverlap(c1, TensorView::OpenCL(DType::kF32, &h2, 0, {16})));
  CHECK(ek::MayOverlap(c1, TensorView::OpenCL(DType::kF32, &h1, 60, {16})));
  CHECK_FALSE(ek::MayOverlap(c1, TensorView::OpenCL(DType::kF32, &h1, 64, {16})));
  // Host and OpenCL memory are different spaces.
  CHECK_FALSE(ek::MayOverlap(a, c1));
  const Status wrong = ek::RequireHostMemory(c1, "rhs");
  CHECK(wrong.code() == ek::StatusCode::kWrongMemory);
  CHECK(ek_test::Contains(wrong.message(), "rhs: lives in opencl-buffer memory"));
}

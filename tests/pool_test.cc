// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// ek::MaxPool2D, ek::AvgPool2D and ek::GlobalAvgPool2D (ek/conv.h) against the reference
// (ek/ref/pool.h), exactly, on every compiled target this CPU supports: fixed shapes over every
// edge (windows clipped by padding on every side, 1x1 images, channel counts that are no
// multiple of any vector width, strided input, channel-slice output, batches, activations),
// randomized shapes ([random]), bitwise identity across thread counts, the padding between
// output pixels untouched, and every validation rule.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "ek/conv.h"
#include "ek/parallel.h"
#include "ek/ref/pool.h"
#include "test_util.h"

namespace {

using ek::Activation;
using ek::ConvPadding;
using ek::DType;
using ek::PoolOptions;
using ek::StatusCode;
using ek::TensorView;
using ek_test::ExpectError;
using ek_test::Rng;

using ek_test::kGuardBits;

struct PoolShape {
  int64_t n = 1, h = 1, w = 1, c = 1;
  PoolOptions o;
  bool average = false;
  bool global = false;
  int64_t in_pixel_extra = 0, out_pixel_extra = 0;  // pixel strides beyond the channel count
};

std::string Describe(const PoolShape& s) {
  char text[300];
  std::snprintf(text, sizeof(text),
                "%s N%lld %lldx%lldx%lld kernel %lldx%lld stride %lldx%lld pad t%lld b%lld l%lld r%lld act %d "
                "in+%lld out+%lld",
                s.global ? "global" : s.average ? "avg" : "max", static_cast<long long>(s.n),
                static_cast<long long>(s.h), static_cast<long long>(s.w), static_cast<long long>(s.c),
                static_cast<long long>(s.o.kernel_h), static_cast<long long>(s.o.kernel_w),
                static_cast<long long>(s.o.stride_h), static_cast<long long>(s.o.stride_w),
                static_cast<long long>(s.o.padding.top), static_cast<long long>(s.o.padding.bottom),
                static_cast<long long>(s.o.padding.left), static_cast<long long>(s.o.padding.right),
                static_cast<int>(s.o.activation), static_cast<long long>(s.in_pixel_extra),
                static_cast<long long>(s.out_pixel_extra));
  return text;
}


struct PoolProblem {
  PoolShape s;
  int64_t oh = 1, ow = 1;
  std::vector<float> input, want;
  TensorView in_view;

  PoolProblem(const PoolShape& shape, uint64_t seed) : s(shape) {
    Rng rng(seed);
    if (!s.global) {
      oh = ek::ConvOutputSize(s.h, s.o.kernel_h, s.o.stride_h, 1, s.o.padding.top, s.o.padding.bottom);
      ow = ek::ConvOutputSize(s.w, s.o.kernel_w, s.o.stride_w, 1, s.o.padding.left, s.o.padding.right);
    }
    const int64_t in_pixel = s.c + s.in_pixel_extra;
    input.resize(static_cast<size_t>(s.n * s.h * s.w * in_pixel));
    // Some exact ties and zeros of both signs, so max's choice and the sums' order are exercised.
    for (float& x : input) {
      const int kind = rng.Int(0, 9);
      x = kind == 0 ? 0.5f : kind == 1 ? -0.0f : rng.Uniform(-4.0f, 4.0f);
    }
    in_view = ek_test::NhwcView(input.data(), s.n, s.h, s.w, s.c, in_pixel);
    want.resize(static_cast<size_t>(s.n * oh * ow * s.c));
    const TensorView want_view = ek_test::NhwcView(want.data(), s.n, oh, ow, s.c, s.c);
    if (s.global) {
      ek::ref::GlobalAvgPool2D(in_view, want_view);
    } else {
      ek::ref::Pool2D(in_view, want_view, s.o, s.average);
    }
  }

  ek::Status Call(const TensorView& out_view, const ek::Context& ctx) const {
    if (s.global) return ek::GlobalAvgPool2D(in_view, out_view, ctx);
    return s.average ? ek::AvgPool2D(in_view, out_view, s.o, ctx) : ek::MaxPool2D(in_view, out_view, s.o, ctx);
  }

  std::vector<float> Run(const ek::Context& ctx) const {
    const int64_t out_pixel = s.c + s.out_pixel_extra;
    std::vector<float> out(static_cast<size_t>(s.n * oh * ow * out_pixel));
    for (float& x : out) std::memcpy(&x, &kGuardBits, 4);
    const ek::Status st = Call(ek_test::NhwcView(out.data(), s.n, oh, ow, s.c, out_pixel), ctx);
    INFO(st.message());
    REQUIRE(st.ok());
    return out;
  }

  // Every output equal to the reference's value; the padding between pixels untouched.
  void Check(const std::vector<float>& out) const {
    const int64_t out_pixel = s.c + s.out_pixel_extra;
    int failures = 0;
    for (int64_t p = 0; p < s.n * oh * ow; ++p) {
      for (int64_t c = 0; c < out_pixel; ++c) {
        const float got = out[static_cast<size_t>(p * out_pixel + c)];
        if (c >= s.c) {
          if (ek_test::Bits(got) != kGuardBits && failures++ < 3) FAIL_CHECK("pixel " << p << " padding " << c << " written");
          continue;
        }
        const float w = want[static_cast<size_t>(p * s.c + c)];
        if (!(got == w) && failures++ < 3) FAIL_CHECK("pixel " << p << " channel " << c << ": " << got << ", want " << w);
      }
    }
    CHECK(failures == 0);
  }
};

PoolShape Window(int64_t h, int64_t w, int64_t c, int64_t k, int64_t stride, bool same, bool average) {
  PoolShape s;
  s.h = h;
  s.w = w;
  s.c = c;
  s.o.kernel_h = s.o.kernel_w = k;
  s.o.stride_h = s.o.stride_w = stride;
  if (same) s.o.padding = ek::SamePadding(h, w, k, k, stride, stride);
  s.average = average;
  return s;
}

PoolShape Global(int64_t n, int64_t h, int64_t w, int64_t c) {
  PoolShape s;
  s.n = n;
  s.h = h;
  s.w = w;
  s.c = c;
  s.global = true;
  return s;
}

std::vector<PoolShape> FixedShapes() {
  std::vector<PoolShape> v;
  for (bool average : {false, true}) {
    v.push_back(Window(8, 8, 16, 2, 2, false, average));    // 2x2 stride 2 VALID
    v.push_back(Window(9, 7, 37, 3, 2, true, average));     // 3x3 stride 2 SAME, odd sizes and channels
    v.push_back(Window(6, 6, 200, 3, 1, true, average));    // windows clipped on every side; 4-vector blocks + tail
    v.push_back(Window(1, 1, 5, 3, 1, true, average));      // 1x1 image: 8 of 9 taps in the padding
    v.push_back(Window(5, 5, 1, 5, 1, false, average));     // window == image, one channel
    PoolShape asym = Window(7, 10, 19, 3, 1, false, average);  // 3x2 window, uneven explicit padding
    asym.o.kernel_w = 2;
    asym.o.stride_w = 3;
    asym.o.padding = ConvPadding{2, 0, 1, 1};
    v.push_back(asym);
    PoolShape batch = Window(5, 6, 24, 2, 1, false, average);  // batch, strided input, channel-slice output
    batch.n = 3;
    batch.in_pixel_extra = 3;
    batch.out_pixel_extra = 5;
    v.push_back(batch);
    PoolShape relu6 = Window(6, 6, 33, 3, 1, true, average);
    relu6.o.activation = Activation::kRelu6;
    v.push_back(relu6);
    PoolShape clamp = Window(6, 5, 17, 2, 2, true, average);
    clamp.o.activation = Activation::kClamp;
    clamp.o.clamp_min = -0.25f;
    clamp.o.clamp_max = 0.5f;
    v.push_back(clamp);
  }
  v.push_back(Global(1, 7, 7, 1280));  // MobileNetV2's head
  v.push_back(Global(2, 5, 3, 37));
  v.push_back(Global(1, 1, 1, 3));
  PoolShape strided = Global(2, 4, 4, 20);
  strided.in_pixel_extra = 4;
  v.push_back(strided);
  return v;
}

TEST_CASE("Pooling: fixed shapes equal the reference, every target, threads bitwise", "[pool]") {
  const std::vector<PoolShape> shapes = FixedShapes();
  std::vector<PoolProblem> problems;
  for (size_t i = 0; i < shapes.size(); ++i) problems.emplace_back(shapes[i], 2000 + i);
  ek::ThreadPool pool(3);
  ek::Context threaded;
  threaded.threads = pool.Hook();
  ek_test::ForEachTarget([&](int64_t target) {
    INFO("target " << ek::TargetName(target));
    for (size_t i = 0; i < problems.size(); ++i) {
      INFO("shape " << i << ": " << Describe(problems[i].s));
      const std::vector<float> one = problems[i].Run(ek::Context());
      problems[i].Check(one);
      const std::vector<float> three = problems[i].Run(threaded);
      CHECK(ek_test::SameBits(one.data(), three.data(), one.size() * 4));
    }
  });
}

TEST_CASE("Pooling: a large image splits into tasks, bitwise identical for any thread count", "[pool]") {
  PoolShape s = Window(56, 56, 144, 3, 1, true, true);  // 56 rows x 56 x 9 x 144 reads: many tasks
  const PoolProblem p(s, 77);
  ek::ThreadPool pool(2);
  ek::Context two;
  two.threads = pool.Hook();
  const std::vector<float> one = p.Run(ek::Context());
  p.Check(one);
  const std::vector<float> threaded = p.Run(two);
  CHECK(ek_test::SameBits(one.data(), threaded.data(), one.size() * 4));
}

TEST_CASE("Pooling randomized against the reference, every target", "[random]") {
  const uint64_t seed = ek_test::RandomSeed("Pooling randomized");
  const int cases = ek_test::RandomCases(80);
  ek_test::ForEachTarget([&](int64_t target) {
    Rng rng(seed * 7919 + static_cast<uint64_t>(target % 1000003));
    for (int i = 0; i < cases; ++i) {
      PoolShape s;
      s.n = rng.Int(1, 2);
      s.h = rng.Int(1, 12);
      s.w = rng.Int(1, 12);
      s.c = rng.Int(1, 90);
      s.global = rng.Int(0, 4) == 0;
      s.average = rng.Int(0, 1) == 1;
      s.o.kernel_h = rng.Int(1, 4);
      s.o.kernel_w = rng.Int(1, 4);
      s.o.stride_h = rng.Int(1, 3);
      s.o.stride_w = rng.Int(1, 3);
      s.o.padding = ConvPadding{rng.Int(0, static_cast<int>(s.o.kernel_h) - 1),
                                rng.Int(0, static_cast<int>(s.o.kernel_h) - 1),
                                rng.Int(0, static_cast<int>(s.o.kernel_w) - 1),
                                rng.Int(0, static_cast<int>(s.o.kernel_w) - 1)};
      if (!s.global && (ek::ConvOutputSize(s.h, s.o.kernel_h, s.o.stride_h, 1, s.o.padding.top, s.o.padding.bottom) < 1 ||
                        ek::ConvOutputSize(s.w, s.o.kernel_w, s.o.stride_w, 1, s.o.padding.left, s.o.padding.right) < 1)) {
        continue;  // the window is larger than the padded input (an error, tested below)
      }
      s.o.activation = static_cast<Activation>(rng.Int(0, 3));
      s.o.clamp_min = -1.0f;
      s.o.clamp_max = 1.5f;
      s.in_pixel_extra = rng.Int(0, 2) == 0 ? rng.Int(1, 5) : 0;
      s.out_pixel_extra = rng.Int(0, 2) == 0 ? rng.Int(1, 5) : 0;
      const PoolProblem p(s, rng.Next());
      const int threads = rng.Int(1, 3);
      INFO("case " << i << ": " << Describe(s) << " threads " << threads << " (seed " << seed << ")");
      ek::ThreadPool pool(static_cast<size_t>(threads));
      ek::Context ctx;
      if (threads > 1) ctx.threads = pool.Hook();
      p.Check(p.Run(ctx));
    }
  });
}

TEST_CASE("Pooling: every validation rule returns a status naming the argument", "[pool]") {
  std::vector<float> in(6 * 6 * 4, 1.0f), out(6 * 6 * 4, 0.0f);
  const TensorView in_view = TensorView::Host(DType::kF32, in.data(), {1, 6, 6, 4});
  PoolOptions o;
  o.kernel_h = o.kernel_w = 3;
  o.padding = ConvPadding{1, 1, 1, 1};
  const TensorView out_view = TensorView::Host(DType::kF32, out.data(), {1, 6, 6, 4});
  REQUIRE(ek::MaxPool2D(in_view, out_view, o).ok());
  REQUIRE(ek::AvgPool2D(in_view, out_view, o).ok());
  ExpectError(ek::MaxPool2D(TensorView::Host(DType::kF32, in.data(), {6, 6, 4}), out_view, o),
              StatusCode::kInvalidArgument, "input: rank 3");
  ExpectError(ek::AvgPool2D(TensorView::Host(DType::kF16, in.data(), {1, 6, 6, 4}), out_view, o),
              StatusCode::kInvalidArgument, "input: dtype");
  TensorView strided = in_view;
  strided.shape[3] = 2;
  strided.strides[3] = 2;
  ExpectError(ek::MaxPool2D(strided, out_view, o), StatusCode::kInvalidArgument, "input: channel stride");
  PoolOptions bad = o;
  bad.kernel_h = 0;
  ExpectError(ek::MaxPool2D(in_view, out_view, bad), StatusCode::kInvalidArgument, "options.kernel_h");
  bad = o;
  bad.stride_w = 0;
  ExpectError(ek::MaxPool2D(in_view, out_view, bad), StatusCode::kInvalidArgument, "options.stride");
  bad = o;
  bad.padding.left = -1;
  ExpectError(ek::AvgPool2D(in_view, out_view, bad), StatusCode::kInvalidArgument, "options.padding");
  bad = o;
  bad.padding.bottom = 3;  // a window entirely in the padding
  ExpectError(ek::AvgPool2D(in_view, out_view, bad), StatusCode::kInvalidArgument, "options.padding");
  bad = o;
  bad.kernel_w = 9;
  bad.padding = ConvPadding{};
  ExpectError(ek::MaxPool2D(in_view, out_view, bad), StatusCode::kInvalidArgument, "options.kernel_h");
  bad = o;
  bad.stride_h = int64_t{1} << 21;
  ExpectError(ek::MaxPool2D(in_view, out_view, bad), StatusCode::kInvalidArgument, "options");
  bad = o;
  bad.activation = Activation::kClamp;
  bad.clamp_min = 1.0f;
  bad.clamp_max = 0.0f;
  ExpectError(ek::MaxPool2D(in_view, out_view, bad), StatusCode::kInvalidArgument, "options.clamp_min");
  ExpectError(ek::MaxPool2D(in_view, TensorView::Host(DType::kF32, out.data(), {1, 6, 5, 4}), o),
              StatusCode::kInvalidArgument, "output: expected shape [1, 6, 6, 4]");
  ExpectError(ek::MaxPool2D(in_view, TensorView::Host(DType::kF16, out.data(), {1, 6, 6, 4}), o),
              StatusCode::kInvalidArgument, "output: dtype");
  TensorView column = out_view;
  column.strides[3] = 2;
  column.strides[2] = 8;
  column.strides[1] = 48;
  column.strides[0] = 288;
  std::vector<float> wide(300);
  column.memory.host = wide.data();
  ExpectError(ek::MaxPool2D(in_view, column, o), StatusCode::kInvalidArgument, "output: channel stride");
  ExpectError(ek::MaxPool2D(in_view, in_view, o), StatusCode::kInvalidArgument, "output: overlaps input");
  // Global average pooling.
  const TensorView pooled4 = TensorView::Host(DType::kF32, out.data(), {1, 1, 1, 4});
  const TensorView pooled2 = TensorView::Host(DType::kF32, out.data(), {1, 4});
  REQUIRE(ek::GlobalAvgPool2D(in_view, pooled4).ok());
  REQUIRE(ek::GlobalAvgPool2D(in_view, pooled2).ok());
  ExpectError(ek::GlobalAvgPool2D(in_view, TensorView::Host(DType::kF32, out.data(), {1, 2, 1, 4})),
              StatusCode::kInvalidArgument, "output: expected shape [1, 1, 1, 4] or [1, 4]");
  ExpectError(ek::GlobalAvgPool2D(in_view, TensorView::Host(DType::kF32, out.data(), {1, 5})),
              StatusCode::kInvalidArgument, "output: expected shape");
  ExpectError(ek::GlobalAvgPool2D(TensorView::Host(DType::kF32, in.data(), {36, 4}), pooled2),
              StatusCode::kInvalidArgument, "input: rank 2");
  ExpectError(ek::GlobalAvgPool2D(in_view, TensorView::Host(DType::kF32, in.data() + 4, {1, 4})),
              StatusCode::kInvalidArgument, "output: overlaps input");
  // Outputs are untouched on error.
  std::vector<float> untouched(8, 9.0f);
  (void)ek::GlobalAvgPool2D(in_view, TensorView::Host(DType::kF32, untouched.data(), {2, 4}));
  CHECK(untouched[0] == 9.0f);
}

}  // namespace

// ---- int8 / uint8: TFLite's integer pooling, exactly ------------------------------------------------
namespace {

// Runs the quantized form of `s` (input and output with the same scale and zero point) and
// compares every byte, the gaps between output pixels included (0xA5), with ek::ref::QPool2D.
void CheckQuantizedPool(const PoolShape& s, DType type, uint64_t seed, const ek::Context& ctx) {
  Rng rng(seed);
  int64_t oh = 1, ow = 1;
  if (!s.global) {
    oh = ek::ConvOutputSize(s.h, s.o.kernel_h, s.o.stride_h, 1, s.o.padding.top, s.o.padding.bottom);
    ow = ek::ConvOutputSize(s.w, s.o.kernel_w, s.o.stride_w, 1, s.o.padding.left, s.o.padding.right);
  }
  const int64_t in_pixel = s.c + s.in_pixel_extra, out_pixel = s.c + s.out_pixel_extra;
  std::vector<uint8_t> input(static_cast<size_t>(s.n * s.h * s.w * in_pixel));
  for (uint8_t& x : input) x = static_cast<uint8_t>(rng.Int(0, 255));
  const ek::QuantParams q = ek::QuantParams::PerTensor(0.05f, type == DType::kU8 ? rng.Int(0, 255) : rng.Int(-128, 127));
  TensorView in_view = ek_test::NhwcView(input.data(), s.n, s.h, s.w, s.c, in_pixel, type);
  in_view.quant = q;
  std::vector<uint8_t> got(static_cast<size_t>(s.n * oh * ow * out_pixel), 0xA5), want = got;
  TensorView got_view = ek_test::NhwcView(got.data(), s.n, oh, ow, s.c, out_pixel, type);
  got_view.quant = q;
  TensorView want_view = ek_test::NhwcView(want.data(), s.n, oh, ow, s.c, out_pixel, type);
  want_view.quant = q;
  ek::Status st;
  if (s.global) {
    st = ek::GlobalAvgPool2D(in_view, got_view, ctx);
    ek::ref::QGlobalAvgPool2D(in_view, want_view);
  } else {
    st = s.average ? ek::AvgPool2D(in_view, got_view, s.o, ctx) : ek::MaxPool2D(in_view, got_view, s.o, ctx);
    ek::ref::QPool2D(in_view, want_view, s.o, s.average);
  }
  INFO(st.message());
  REQUIRE(st.ok());
  CHECK(got == want);
}

}  // namespace

TEST_CASE("Pooling int8 / uint8: TFLite's integer rule exactly, every target", "[pool][int8]") {
  const std::vector<PoolShape> shapes = FixedShapes();
  ek::ThreadPool pool(3);
  ek::Context threaded;
  threaded.threads = pool.Hook();
  ek_test::ForEachTarget([&](int64_t target) {
    INFO("target " << ek::TargetName(target));
    for (size_t i = 0; i < shapes.size(); ++i) {
      for (DType type : {DType::kI8, DType::kU8}) {
        INFO("shape " << i << ": " << Describe(shapes[i]) << " " << ek::DTypeName(type));
        CheckQuantizedPool(shapes[i], type, 4000 + i, i % 2 ? threaded : ek::Context());
      }
    }
  });
}

TEST_CASE("Pooling int8: the output must share the input's scale and zero point", "[pool][int8]") {
  std::vector<int8_t> in(4 * 4 * 3), out(3);
  TensorView iv = TensorView::Host(DType::kI8, in.data(), {1, 4, 4, 3});
  iv.quant = ek::QuantParams::PerTensor(0.1f, 2);
  TensorView ov = TensorView::Host(DType::kI8, out.data(), {1, 3});
  ov.quant = ek::QuantParams::PerTensor(0.1f, 2);
  REQUIRE(ek::GlobalAvgPool2D(iv, ov).ok());
  ov.quant = ek::QuantParams::PerTensor(0.2f, 2);
  ExpectError(ek::GlobalAvgPool2D(iv, ov), StatusCode::kInvalidArgument, "output: must be quantized per tensor with");
  ov.quant = ek::QuantParams::PerTensor(0.1f, 2);
  ov.dtype = DType::kU8;
  ExpectError(ek::GlobalAvgPool2D(iv, ov), StatusCode::kInvalidArgument, "output: dtype");
  iv.quant = ek::QuantParams();
  ExpectError(ek::GlobalAvgPool2D(iv, ov), StatusCode::kInvalidArgument, "input: must be quantized per tensor");
}

// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// ek::Conv2D (f32) against the reference (ek/ref/conv.h) within ref::ConvErrorBound, on every
// compiled target this CPU supports: fixed shapes over every path and edge (1x1, KxK, strides,
// dilation, padding modes, groups, depthwise with and without a multiplier, 1x1 images, channel
// counts that are no multiple of any vector width, strided input, channel-slice output), every
// MobileNetV2 layer, randomized shapes ([random]), bitwise identity across thread counts, the
// padding between output pixels untouched, and every validation rule. And MobileNetV2 whole as
// a chain of ek ops (tests/mobilenet_v2_ek.h) at small image sizes (every layer, add and pooling
// step; 224 is the benchmark's): each step's output against the reference op applied to the
// step's own input (convolutions within the bound, add and pooling exactly), so an error in the
// chain's glue (a wrong buffer, shape, stride or option) fails at the step that makes it; the
// logits bitwise identical for any thread count.
#include "mobilenet_v2_ek.h"  // first: it asks for the kernel families it uses (conv, GEMM, add)

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "ek/parallel.h"
#include "ek/conv.h"
#include "ek/ref/conv.h"
#include "ek/ref/elementwise.h"
#include "ek/ref/pool.h"
#include "ek/ref/qgemm.h"
#include "dot_lanes.h"
#include "test_util.h"

namespace {

using ek::Activation;
using ek::ConvOptions;
using ek::ConvPadding;
using ek::DType;
using ek::PackedWeights;
using ek::StatusCode;
using ek::TensorView;
using ek_test::ExpectError;
using ek_test::Rng;

using ek_test::kGuardBits;

struct Shape {
  int64_t n = 1, h = 1, w = 1, cin = 1, cout = 1, kh = 1, kw = 1;
  int64_t sh = 1, sw = 1, dh = 1, dw = 1;
  ConvPadding pad;
  int64_t groups = 1;
  bool bias = false;
  Activation act = Activation::kNone;
  int64_t in_pixel_extra = 0, out_pixel_extra = 0;  // pixel strides beyond the channel count
};

std::string Describe(const Shape& s) {
  char text[400];
  std::snprintf(text, sizeof(text),
                "N%lld %lldx%lldx%lld -> %lld, kernel %lldx%lld stride %lldx%lld dilation %lldx%lld pad t%lld b%lld "
                "l%lld r%lld groups %lld bias %d act %d in+%lld out+%lld",
                static_cast<long long>(s.n), static_cast<long long>(s.h), static_cast<long long>(s.w),
                static_cast<long long>(s.cin), static_cast<long long>(s.cout), static_cast<long long>(s.kh),
                static_cast<long long>(s.kw), static_cast<long long>(s.sh), static_cast<long long>(s.sw),
                static_cast<long long>(s.dh), static_cast<long long>(s.dw), static_cast<long long>(s.pad.top),
                static_cast<long long>(s.pad.bottom), static_cast<long long>(s.pad.left),
                static_cast<long long>(s.pad.right), static_cast<long long>(s.groups), s.bias ? 1 : 0,
                static_cast<int>(s.act), static_cast<long long>(s.in_pixel_extra),
                static_cast<long long>(s.out_pixel_extra));
  return text;
}


// Runs ek::Conv2D with a workspace of ConvWorkspaceSize bytes at `misalign` bytes past an
// allocation (any alignment must work), requiring success.
void RunConv(const TensorView& in, const PackedWeights& packed, const TensorView& out, const ConvOptions& o,
             const ek::Context& ctx, int misalign) {
  size_t ws_bytes = 0;
  const ek::Status sized = ek::ConvWorkspaceSize(in, packed, out, o, &ws_bytes);
  INFO(sized.message());
  REQUIRE(sized.ok());
  std::vector<uint8_t> ws(ws_bytes + 8);
  const ek::Status st = ek::Conv2D(in, packed, out, o, ctx, ws.data() + misalign, ws_bytes);
  INFO(st.message());
  REQUIRE(st.ok());
}

// The options of a shape (clamp: [-0.25, 0.5]); the bias is set by the problem.
ConvOptions OptionsOf(const Shape& s) {
  ConvOptions o;
  o.stride_h = s.sh;
  o.stride_w = s.sw;
  o.dilation_h = s.dh;
  o.dilation_w = s.dw;
  o.padding = s.pad;
  o.groups = s.groups;
  o.activation = s.act;
  o.clamp_min = -0.25f;
  o.clamp_max = 0.5f;
  return o;
}

// f16 storage: the f16 nearest to x, as bits and back as f32.
uint16_t HalfBits(float x) {
  const hwy::float16_t h = hwy::F16FromF32(x);
  uint16_t bits;
  std::memcpy(&bits, &h, 2);
  return bits;
}
float HalfValue(uint16_t bits) {
  hwy::float16_t h;
  std::memcpy(&h, &bits, 2);
  return hwy::F32FromF16(h);
}
constexpr uint16_t kGuardHalf = 0x7E5Au;  // an f16 NaN the kernels never write

// Operands, packed weights and the reference of one convolution. f16 (storage): the input,
// filter and output are f16 (the input and filter values drawn as f16, so the reference sees
// exactly what ek reads); the output is compared after its rounding to f16.
struct Problem {
  Shape s;
  bool f16 = false;
  int64_t oh = 0, ow = 0;
  std::vector<float> input, filter, bias;
  std::vector<uint16_t> input16, filter16;
  TensorView in_view, filter_view;  // f32 (the reference's)
  TensorView in16_view;             // f16: what ek reads
  ConvOptions o;
  std::vector<uint32_t> packed;  // 4-byte aligned
  size_t packed_bytes = 0;
  std::vector<double> want, magnitude;  // per output element (n, y, x, o), dense

  Problem(const Shape& shape, uint64_t seed, bool half = false) : s(shape), f16(half) {
    Rng rng(seed);
    o = OptionsOf(s);
    oh = ek::ConvOutputSize(s.h, s.kh, s.sh, s.dh, s.pad.top, s.pad.bottom);
    ow = ek::ConvOutputSize(s.w, s.kw, s.sw, s.dw, s.pad.left, s.pad.right);
    const int64_t in_pixel = s.cin + s.in_pixel_extra;
    const auto draw = [&](std::vector<float>* v, std::vector<uint16_t>* v16) {
      for (float& x : *v) x = rng.Uniform(-1.0f, 1.0f);
      if (!f16) return;
      v16->resize(v->size());
      for (size_t i = 0; i < v->size(); ++i) {
        (*v16)[i] = HalfBits((*v)[i]);
        (*v)[i] = HalfValue((*v16)[i]);
      }
    };
    input.resize(static_cast<size_t>(s.n * s.h * s.w * in_pixel));
    draw(&input, &input16);
    in_view = ek_test::NhwcView(input.data(), s.n, s.h, s.w, s.cin, in_pixel);
    if (f16) in16_view = ek_test::NhwcView(input16.data(), s.n, s.h, s.w, s.cin, in_pixel, DType::kF16);
    filter.resize(static_cast<size_t>(s.cout * s.kh * s.kw * (s.cin / s.groups)));
    draw(&filter, &filter16);
    filter_view = TensorView::Host(DType::kF32, filter.data(), {s.cout, s.kh, s.kw, s.cin / s.groups});
    const TensorView pack_view =
        f16 ? TensorView::Host(DType::kF16, filter16.data(), {s.cout, s.kh, s.kw, s.cin / s.groups}) : filter_view;
    if (s.bias) {
      bias.resize(static_cast<size_t>(s.cout));
      for (float& x : bias) x = rng.Uniform(-1.0f, 1.0f);
      o.bias = TensorView::Host(DType::kF32, bias.data(), {s.cout});
    }
    size_t bytes = 0;
    REQUIRE(ek::PackedConvWeightsSize(pack_view, s.groups, &bytes).ok());
    packed.resize((bytes + 3) / 4);
    packed_bytes = bytes;
    const ek::Status st = ek::PackConvWeights(pack_view, s.groups, packed.data(), bytes);
    INFO(st.message());
    REQUIRE(st.ok());
  }
  PackedWeights Packed() const { return PackedWeights{packed.data(), packed_bytes}; }
  size_t OutputCount() const { return static_cast<size_t>(s.n * oh * ow * s.cout); }

  void ComputeReference() {
    want.resize(OutputCount());
    magnitude.resize(OutputCount());
    size_t i = 0;
    for (int64_t n = 0; n < s.n; ++n) {
      for (int64_t y = 0; y < oh; ++y) {
        for (int64_t x = 0; x < ow; ++x) {
          for (int64_t c = 0; c < s.cout; ++c, ++i) {
            ek::ref::Conv2DElement(in_view, filter_view, o, n, y, x, c, &want[i], &magnitude[i]);
          }
        }
      }
    }
  }

  // Runs ek::Conv2D into a guarded output (pixel stride cout + out_pixel_extra). f16: the output
  // converted to f32 (its guard to kGuardBits, anything else written there to another NaN).
  std::vector<float> Run(const ek::Context& ctx, int workspace_misalign = 0) const {
    const int64_t out_pixel = s.cout + s.out_pixel_extra;
    std::vector<float> out(static_cast<size_t>(s.n * oh * ow * out_pixel));
    for (float& x : out) std::memcpy(&x, &kGuardBits, 4);
    if (!f16) {
      RunConv(in_view, Packed(), ek_test::NhwcView(out.data(), s.n, oh, ow, s.cout, out_pixel), o, ctx,
              workspace_misalign);
      return out;
    }
    std::vector<uint16_t> out16(out.size(), kGuardHalf);
    RunConv(in16_view, Packed(), ek_test::NhwcView(out16.data(), s.n, oh, ow, s.cout, out_pixel, DType::kF16), o, ctx,
            workspace_misalign);
    for (size_t i = 0; i < out.size(); ++i) out[i] = out16[i] == kGuardHalf ? out[i] : HalfValue(out16[i]);
    return out;
  }

  // Every output within the bound of the reference; the padding between pixels untouched.
  void Check(const std::vector<float>& out) const {
    const int64_t out_pixel = s.cout + s.out_pixel_extra;
    const int64_t terms = s.kh * s.kw * (s.cin / s.groups);
    int failures = 0;
    for (int64_t p = 0; p < s.n * oh * ow; ++p) {
      for (int64_t c = 0; c < out_pixel; ++c) {
        const float got = out[static_cast<size_t>(p * out_pixel + c)];
        if (c >= s.cout) {
          if (ek_test::Bits(got) != kGuardBits && failures++ < 3) FAIL_CHECK("pixel " << p << " padding " << c << " written");
          continue;
        }
        const size_t i = static_cast<size_t>(p * s.cout + c);
        double bound = ek::ref::ConvErrorBound(terms, magnitude[i]);
        if (f16) bound += std::ldexp(std::fabs(want[i]) + bound, -11) + std::ldexp(1.0, -25);  // the f16 rounding
        if (!(std::fabs(static_cast<double>(got) - want[i]) <= bound) && failures++ < 3) {
          FAIL_CHECK("pixel " << p << " channel " << c << ": " << got << ", want " << want[i] << " within " << bound);
        }
      }
    }
    CHECK(failures == 0);
  }
};

Shape Square(int64_t h, int64_t cin, int64_t cout, int64_t k, int64_t stride, bool same, int64_t groups = 1) {
  Shape s;
  s.h = s.w = h;
  s.cin = cin;
  s.cout = cout;
  s.kh = s.kw = k;
  s.sh = s.sw = stride;
  s.groups = groups;
  if (same) s.pad = ek::SamePadding(h, h, k, k, stride, stride);
  return s;
}

std::vector<Shape> FixedShapes() {
  std::vector<Shape> v;
  v.push_back(Square(9, 8, 16, 1, 1, false));    // pointwise
  v.push_back(Square(7, 3, 19, 1, 2, false));    // 1x1 stride 2
  v.push_back(Square(10, 5, 37, 3, 1, true));    // 3x3 SAME, channels no multiple of any vector
  v.push_back(Square(11, 3, 32, 3, 2, true));    // MobileNet's first layer, odd size
  v.push_back(Square(8, 16, 70, 3, 2, true));    // even size, stride 2 SAME: pad bottom / right only
  v.push_back(Square(12, 7, 9, 5, 1, false));    // 5x5 VALID
  v.push_back(Square(1, 17, 33, 3, 1, true));    // 1x1 image, 3x3 kernel: 8 of 9 taps are padding
  v.push_back(Square(4, 6, 5, 4, 1, false));     // kernel == image: one output pixel
  Shape dilated = Square(13, 4, 24, 3, 1, false);
  dilated.dh = dilated.dw = 2;
  dilated.pad = ek::SamePadding(13, 13, 3, 3, 1, 1, 2, 2);
  v.push_back(dilated);
  Shape asymmetric = Square(9, 6, 12, 1, 1, false);  // 1x7 with explicit uneven padding
  asymmetric.kw = 7;
  asymmetric.h = 5;
  asymmetric.pad = ConvPadding{0, 2, 3, 1};
  asymmetric.sh = 2;
  v.push_back(asymmetric);
  Shape pointwise_groups = Square(5, 12, 18, 1, 1, false, 3);  // 1x1 in 3 groups (the GEMM path)
  pointwise_groups.n = 2;
  pointwise_groups.bias = true;
  pointwise_groups.act = Activation::kRelu6;
  pointwise_groups.in_pixel_extra = 3;
  pointwise_groups.out_pixel_extra = 5;
  v.push_back(pointwise_groups);
  v.push_back(Square(6, 8, 12, 3, 1, true, 2));   // groups 2
  v.push_back(Square(6, 12, 8, 3, 2, true, 4));   // groups 4, 3 in / 2 out per group
  for (int64_t c : {1, 3, 17, 32, 40, 96}) {      // depthwise 3x3, strides 1 and 2
    v.push_back(Square(9, c, c, 3, 1, true, c));
    v.push_back(Square(10, c, c, 3, 2, true, c));
  }
  v.push_back(Square(11, 24, 24, 5, 2, true, 24));  // depthwise 5x5
  v.push_back(Square(7, 8, 16, 3, 1, true, 8));     // depthwise with channel multiplier 2
  Shape with_all = Square(8, 12, 20, 3, 1, true);
  with_all.n = 2;
  with_all.bias = true;
  with_all.act = Activation::kClamp;
  with_all.in_pixel_extra = 5;
  with_all.out_pixel_extra = 3;
  v.push_back(with_all);
  Shape dw_all = Square(8, 20, 20, 3, 2, true, 20);
  dw_all.n = 3;
  dw_all.bias = true;
  dw_all.act = Activation::kRelu6;
  dw_all.in_pixel_extra = 4;
  dw_all.out_pixel_extra = 12;
  v.push_back(dw_all);
  Shape relu = Square(5, 9, 13, 3, 1, true);
  relu.bias = true;
  relu.act = Activation::kRelu;
  v.push_back(relu);
  return v;
}

// Every fixed shape on every target: one thread against the reference, three threads bitwise
// equal to one. half: f16 storage.
void CheckFixedShapes(bool half, uint64_t seed) {
  const std::vector<Shape> shapes = FixedShapes();
  std::vector<Problem> problems;
  for (size_t i = 0; i < shapes.size(); ++i) {
    problems.emplace_back(shapes[i], seed + i, half);
    problems.back().ComputeReference();
  }
  ek::ThreadPool pool(3);
  ek::Context threaded;
  threaded.threads = pool.Hook();
  ek_test::ForEachTarget([&](int64_t target) {
    INFO("target " << ek::TargetName(target));
    for (size_t i = 0; i < problems.size(); ++i) {
      INFO("shape " << i << ": " << Describe(problems[i].s) << (half ? ", f16" : ""));
      const std::vector<float> one = problems[i].Run(ek::Context(), static_cast<int>(i % 8));
      problems[i].Check(one);
      const std::vector<float> three = problems[i].Run(threaded, 3);
      CHECK(ek_test::SameBits(one.data(), three.data(), one.size() * 4));
    }
  });
}

TEST_CASE("Conv2D: fixed shapes over every path against the reference, every target, threads bitwise", "[conv]") {
  CheckFixedShapes(/*half=*/false, 1000);
}

TEST_CASE("Conv2D f16 storage: fixed shapes over every path, every target, threads bitwise", "[conv]") {
  CheckFixedShapes(/*half=*/true, 1500);
}

TEST_CASE("Conv2D: every MobileNetV2 layer against the reference, every target", "[conv]") {
  // Under qemu (the arm lanes set QEMU_CPU) the images are 1/4 of the size in each dimension:
  // the same channels, kernels and strides, 16x less emulated work.
  const bool emulated = std::getenv("QEMU_CPU") != nullptr;
  int index = 0;
  for (const ek_mobilenet::ConvLayer& layer : ek_mobilenet::MobileNetV2Layers()) {
    const int64_t size = emulated ? (layer.in_h + 3) / 4 : layer.in_h;
    Shape s = Square(size, layer.in_c, layer.out_c, layer.kernel, layer.stride, true,
                     layer.depthwise ? layer.in_c : 1);
    s.bias = true;
    s.act = layer.name.find("project") == std::string::npos ? Activation::kRelu6 : Activation::kNone;
    Problem p(s, 77 + static_cast<uint64_t>(index++));
    p.ComputeReference();
    INFO("layer " << layer.name << ": " << Describe(s));
    ek_test::ForEachTarget([&](int64_t target) {
      INFO("target " << ek::TargetName(target));
      p.Check(p.Run(ek::Context()));
    });
  }
}

// A random shape for the randomized lanes: sizes up to max_hw, kernels up to 5, strides up to 3,
// dilation 2-3 one time in four, dense, grouped or depthwise (up to max_depthwise channels),
// SAME or explicit padding, bias, activation, pixel strides. False when the kernel is larger
// than the padded input (a validation error, tested on its own).
bool RandomShape(Rng* rng_ptr, int max_hw, int max_depthwise, Shape* out) {
  Rng& rng = *rng_ptr;
  Shape s;
  s.n = rng.Int(1, 2);
  s.h = rng.Int(1, max_hw);
  s.w = rng.Int(1, max_hw);
  s.kh = rng.Int(1, 5);
  s.kw = rng.Int(1, 5);
  s.sh = rng.Int(1, 3);
  s.sw = rng.Int(1, 3);
  s.dh = rng.Int(0, 3) == 0 ? rng.Int(2, 3) : 1;
  s.dw = rng.Int(0, 3) == 0 ? rng.Int(2, 3) : 1;
  const int kind = rng.Int(0, 3);  // 0, 1: dense; 2: grouped; 3: depthwise
  s.groups = kind == 2 ? rng.Int(2, 4) : 1;
  s.cin = s.groups * rng.Int(1, 24);
  s.cout = s.groups * rng.Int(1, 40);
  if (kind == 3) s.groups = s.cin = s.cout = rng.Int(1, max_depthwise);
  if (rng.Int(0, 1) == 0) {
    s.pad = ek::SamePadding(s.h, s.w, s.kh, s.kw, s.sh, s.sw, s.dh, s.dw);
  } else {
    s.pad = ConvPadding{rng.Int(0, 2), rng.Int(0, 2), rng.Int(0, 2), rng.Int(0, 2)};
  }
  s.bias = rng.Int(0, 1) == 1;
  s.act = static_cast<Activation>(rng.Int(0, 3));
  s.in_pixel_extra = rng.Int(0, 2) == 0 ? rng.Int(1, 5) : 0;
  s.out_pixel_extra = rng.Int(0, 2) == 0 ? rng.Int(1, 5) : 0;
  *out = s;
  return ek::ConvOutputSize(s.h, s.kh, s.sh, s.dh, s.pad.top, s.pad.bottom) >= 1 &&
         ek::ConvOutputSize(s.w, s.kw, s.sw, s.dw, s.pad.left, s.pad.right) >= 1;
}

// The randomized differential lane ([random]): random shapes, strides, dilations, padding,
// groups, bias, activations, pixel strides, 1..3 threads and the workspace at any address.
TEST_CASE("Conv2D randomized against the reference, every target", "[random]") {
  const uint64_t seed = ek_test::RandomSeed("Conv2D randomized");
  const int cases = ek_test::RandomCases(60);
  ek_test::ForEachTarget([&](int64_t target) {
    Rng rng(seed * 7919 + static_cast<uint64_t>(target % 1000003));
    for (int i = 0; i < cases; ++i) {
      Shape s;
      if (!RandomShape(&rng, 14, 70, &s)) continue;  // the kernel is larger than the padded input (tested below)
      const bool half = rng.Int(0, 3) == 0;  // f16 storage one case in four
      Problem p(s, rng.Next(), half);
      p.ComputeReference();
      const int threads = rng.Int(1, 3);
      INFO("case " << i << ": " << Describe(s) << (half ? " f16" : "") << " threads " << threads << " (seed " << seed
                   << ")");
      ek::ThreadPool pool(static_cast<size_t>(threads));
      ek::Context ctx;
      if (threads > 1) ctx.threads = pool.Hook();
      p.Check(p.Run(ctx, rng.Int(0, 7)));
    }
  });
}

TEST_CASE("Conv2D: SAME and VALID padding follow TensorFlow", "[conv]") {
  const ConvPadding a = ek::SamePadding(224, 224, 3, 3, 2, 2);  // out 112: 1 row of padding, after
  CHECK(a.top == 0);
  CHECK(a.bottom == 1);
  CHECK(ek::ConvOutputSize(224, 3, 2, 1, a.top, a.bottom) == 112);
  const ConvPadding b = ek::SamePadding(7, 5, 3, 4, 1, 1);  // out 7 x 5: 1 + 1, and 1 + 2
  CHECK((b.top == 1 && b.bottom == 1 && b.left == 1 && b.right == 2));
  const ConvPadding c = ek::SamePadding(13, 13, 3, 3, 1, 1, 2, 2);  // dilated span 5
  CHECK((c.top == 2 && c.bottom == 2));
  CHECK(ek::ConvOutputSize(5, 3, 1, 1, 0, 0) == 3);  // VALID
  CHECK(ek::ConvOutputSize(2, 3, 1, 1, 0, 0) == 0);  // kernel larger than the input
}

TEST_CASE("Conv2D: every validation rule returns a status naming the argument", "[conv]") {
  Shape s = Square(6, 4, 8, 3, 1, true);
  s.bias = true;
  Problem p(s, 5);
  std::vector<float> out(static_cast<size_t>(6 * 6 * 8));
  const TensorView out_view = TensorView::Host(DType::kF32, out.data(), {1, 6, 6, 8});
  const PackedWeights packed = p.Packed();
  ConvOptions o = p.o;
  REQUIRE(ek::Conv2D(p.in_view, packed, out_view, o).ok());
  size_t bytes = 0;
  // Packing.
  ExpectError(ek::PackedConvWeightsSize(p.filter_view, 1, nullptr), StatusCode::kInvalidArgument, "bytes: is null");
  ExpectError(ek::PackedConvWeightsSize(TensorView::Host(DType::kF32, p.filter.data(), {8, 3, 36}), 1, &bytes),
              StatusCode::kInvalidArgument, "filter: rank 3");
  ExpectError(ek::PackedConvWeightsSize(TensorView::Host(DType::kBF16, p.filter.data(), {8, 3, 3, 4}), 1, &bytes),
              StatusCode::kInvalidArgument, "filter: dtype");
  // f16 storage: input and output both f16 (f32 weights).
  std::vector<uint16_t> half_in(static_cast<size_t>(6 * 6 * 4)), half_out(out.size());
  const TensorView in16 = TensorView::Host(DType::kF16, half_in.data(), {1, 6, 6, 4});
  ExpectError(ek::Conv2D(in16, packed, out_view, o), StatusCode::kInvalidArgument, "output: dtype");
  REQUIRE(ek::Conv2D(in16, packed, TensorView::Host(DType::kF16, half_out.data(), {1, 6, 6, 8}), o).ok());
  std::vector<uint16_t> half_shared(static_cast<size_t>(6 * 6 * 4 + 6 * 6 * 8));
  ExpectError(ek::Conv2D(TensorView::Host(DType::kF16, half_shared.data(), {1, 6, 6, 4}), packed,
                         TensorView::Host(DType::kF16, half_shared.data() + 100, {1, 6, 6, 8}), o),
              StatusCode::kInvalidArgument, "output: overlaps input");  // f16 storage aliasing
  ExpectError(ek::PackedConvWeightsSize(p.filter_view, 3, &bytes), StatusCode::kInvalidArgument,
              "filter: 8 output channels, not a multiple of groups = 3");
  ExpectError(ek::PackedConvWeightsSize(p.filter_view, 0, &bytes), StatusCode::kInvalidArgument, "groups");
  REQUIRE(ek::PackedConvWeightsSize(p.filter_view, 1, &bytes).ok());
  std::vector<uint32_t> small(bytes / 4);
  ExpectError(ek::PackConvWeights(p.filter_view, 1, small.data(), bytes - 4), StatusCode::kInvalidArgument,
              "out: ");
  ExpectError(ek::PackConvWeights(p.filter_view, 1, nullptr, bytes), StatusCode::kInvalidArgument, "out: is null");
  ExpectError(ek::PackConvWeights(p.filter_view, 1, reinterpret_cast<uint8_t*>(small.data()) + 1, bytes - 4),
              StatusCode::kInvalidArgument, "out");
  ExpectError(ek::PackConvWeights(p.filter_view, 1, p.filter.data(), bytes), StatusCode::kInvalidArgument, "out");
  // Input.
  ExpectError(ek::Conv2D(TensorView::Host(DType::kF32, p.input.data(), {6, 6, 4}), packed, out_view, o),
              StatusCode::kInvalidArgument, "input: rank 3");
  TensorView strided = p.in_view;
  strided.strides[3] = 2;
  strided.shape[1] = 3;
  ExpectError(ek::Conv2D(strided, packed, out_view, o), StatusCode::kInvalidArgument, "input: channel stride");
  ExpectError(ek::Conv2D(TensorView::Host(DType::kF32, p.input.data(), {1, 6, 8, 3}), packed, out_view, o),
              StatusCode::kInvalidArgument, "input: 3 channels");
  ExpectError(ek::Conv2D(TensorView::Host(DType::kBF16, p.input.data(), {1, 6, 6, 4}), packed, out_view, o),
              StatusCode::kInvalidArgument, "input: dtype");
  // Options.
  ConvOptions bad = o;
  bad.stride_h = 0;
  ExpectError(ek::Conv2D(p.in_view, packed, out_view, bad), StatusCode::kInvalidArgument, "options.stride_h");
  bad = o;
  bad.dilation_w = 0;
  ExpectError(ek::Conv2D(p.in_view, packed, out_view, bad), StatusCode::kInvalidArgument, "options.dilation");
  bad = o;
  bad.padding.left = -1;
  ExpectError(ek::Conv2D(p.in_view, packed, out_view, bad), StatusCode::kInvalidArgument, "options.padding");
  bad = o;
  bad.groups = 2;
  ExpectError(ek::Conv2D(p.in_view, packed, out_view, bad), StatusCode::kInvalidArgument, "options.groups");
  bad = o;
  bad.activation = Activation::kClamp;
  bad.clamp_min = 1.0f;
  bad.clamp_max = 0.0f;
  ExpectError(ek::Conv2D(p.in_view, packed, out_view, bad), StatusCode::kInvalidArgument, "options.clamp_min");
  bad = o;
  bad.bias = TensorView::Host(DType::kF32, p.bias.data(), {7});
  ExpectError(ek::Conv2D(p.in_view, packed, out_view, bad), StatusCode::kInvalidArgument, "options.bias");
  bad = o;
  bad.padding = ConvPadding();  // 6 x 6 input, 3 x 3 kernel, VALID: the output is 4 x 4
  ExpectError(ek::Conv2D(p.in_view, packed, out_view, bad), StatusCode::kInvalidArgument,
              "output: expected shape [1, 4, 4, 8]");
  bad.dilation_h = bad.dilation_w = 4;  // span 9 > 6
  ExpectError(ek::Conv2D(p.in_view, packed, out_view, bad), StatusCode::kInvalidArgument,
              "packed: the dilated kernel is larger than the padded input");
  // Output.
  ExpectError(ek::Conv2D(p.in_view, packed, TensorView::Host(DType::kF32, out.data(), {1, 6, 6, 7}), o),
              StatusCode::kInvalidArgument, "output: expected shape");
  ExpectError(ek::Conv2D(p.in_view, packed, TensorView::Host(DType::kF16, out.data(), {1, 6, 6, 8}), o),
              StatusCode::kInvalidArgument, "output: dtype");
  std::vector<float> wide(static_cast<size_t>(6 * 64));
  TensorView gappy = TensorView::Host(DType::kF32, wide.data(), {1, 6, 6, 8});
  gappy.strides[1] = 6 * 8 + 8;  // rows not a whole number of pixels apart
  ExpectError(ek::Conv2D(p.in_view, packed, gappy, o), StatusCode::kInvalidArgument,
              "output: must be NHWC with unit channel stride and evenly strided pixels");
  TensorView column = gappy;
  column.strides[1] = 48;
  column.strides[3] = 2;  // channels not contiguous
  column.strides[2] = 16;
  column.strides[1] = 96;
  ExpectError(ek::Conv2D(p.in_view, packed, column, o), StatusCode::kInvalidArgument, "output: must be NHWC");
  // Aliasing: the output over the input, the workspace over the output.
  std::vector<float> shared(static_cast<size_t>(6 * 6 * 8));
  ExpectError(ek::Conv2D(TensorView::Host(DType::kF32, shared.data(), {1, 6, 6, 4}), packed,
                         TensorView::Host(DType::kF32, shared.data(), {1, 6, 6, 8}), o),
              StatusCode::kInvalidArgument, "output");
  size_t ws = 0;
  REQUIRE(ek::ConvWorkspaceSize(p.in_view, packed, out_view, o, &ws).ok());
  REQUIRE(ws > 0);
  std::vector<uint8_t> workspace(ws);
  ExpectError(ek::Conv2D(p.in_view, packed, out_view, o, ek::Context(), workspace.data(), ws - 1),
              StatusCode::kInvalidArgument, "workspace: ");
  ExpectError(ek::Conv2D(p.in_view, packed, out_view, o, ek::Context(), nullptr, ws), StatusCode::kInvalidArgument,
              "workspace: is null");
  std::vector<uint8_t> big(ws + out.size() * 4);
  const TensorView out_in_ws = TensorView::Host(DType::kF32, big.data() + 64, {1, 6, 6, 8});
  ExpectError(ek::Conv2D(p.in_view, packed, out_in_ws, o, ek::Context(), big.data(), ws),
              StatusCode::kInvalidArgument, "workspace");
  ExpectError(ek::ConvWorkspaceSize(p.in_view, packed, out_view, o, nullptr), StatusCode::kInvalidArgument,
              "bytes: is null");
  // Packed weights: corrupt, truncated, of another kind; verified by VerifyPackedWeights.
  std::vector<uint32_t> corrupt = p.packed;
  reinterpret_cast<uint8_t*>(corrupt.data())[40] ^= 1;
  ExpectError(ek::Conv2D(p.in_view, PackedWeights{corrupt.data(), p.packed_bytes}, out_view, o),
              StatusCode::kInvalidArgument, "packed: corrupt header");
  ExpectError(ek::Conv2D(p.in_view, PackedWeights{p.packed.data(), p.packed_bytes - 1}, out_view, o),
              StatusCode::kInvalidArgument, "packed: ");
  ExpectError(ek::Conv2D(p.in_view, PackedWeights{nullptr, p.packed_bytes}, out_view, o),
              StatusCode::kInvalidArgument, "packed: data is null");
  CHECK(ek::VerifyPackedWeights(packed).ok());
  corrupt = p.packed;
  corrupt.back() ^= 1;
  ExpectError(ek::VerifyPackedWeights(PackedWeights{corrupt.data(), p.packed_bytes}), StatusCode::kInvalidArgument,
              "packed: payload checksum mismatch");
  // Empty extents are rejected, as by every ek entry point.
  ExpectError(ek::Conv2D(TensorView::Host(DType::kF32, p.input.data(), {0, 6, 6, 4}), packed,
                         TensorView::Host(DType::kF32, out.data(), {0, 6, 6, 8}), o),
              StatusCode::kInvalidArgument, "input: shape[0] is 0");
  ExpectError(ek::PackedConvWeightsSize(TensorView::Host(DType::kF32, p.filter.data(), {8, 3, 0, 4}), 1, &bytes),
              StatusCode::kInvalidArgument, "filter: shape[2] is 0");
  // Nothing was written by the failed calls.
  std::vector<float> before = out;
  bad = o;
  bad.stride_w = 0;
  CHECK_FALSE(ek::Conv2D(p.in_view, packed, out_view, bad).ok());
  CHECK(ek_test::SameBits(before.data(), out.data(), out.size() * 4));
}

// ---- Quantized (i8 / u8) -------------------------------------------------------------------------
// ek::Conv2D on int8 operands must equal ek::ref::QConv2DElement (TFLite's reference integer
// kernels written out) exactly, on every path (1x1 -> ek::QGemm, staged KxK, int8 depthwise),
// target and dot lane, for any thread count.
enum class QScheme { kI8PerChannel, kI8PerTensor, kU8PerTensor };

// TFLite-scheme quant parameters for a convolution of `terms` products per output: the input's
// (per tensor), the filter's (per channel into *filter_scales, or per tensor; u8 with a zero
// point), and an output scale that spreads the sums over the 8-bit range (some saturate; one case
// in four makes the real multipliers >= 1: left shifts).
void RandomQuant(Rng* rng_ptr, QScheme q, int64_t cout, int64_t terms, std::vector<float>* filter_scales,
                 ek::QuantParams* in, ek::QuantParams* filter, ek::QuantParams* out) {
  Rng& rng = *rng_ptr;
  const bool u8 = q == QScheme::kU8PerTensor;
  const float in_scale = 0.02f + 0.01f * static_cast<float>(rng.Int(0, 9));
  *in = ek::QuantParams::PerTensor(in_scale, u8 ? rng.Int(0, 255) : rng.Int(-128, 127));
  const float w_scale = 0.005f + 0.001f * static_cast<float>(rng.Int(0, 9));
  if (q == QScheme::kI8PerChannel) {
    filter_scales->resize(static_cast<size_t>(cout));
    for (float& x : *filter_scales) x = w_scale * (0.5f + 0.1f * static_cast<float>(rng.Int(0, 15)));
    *filter = ek::QuantParams::PerAxis(0, filter_scales->data());
  } else {
    *filter = ek::QuantParams::PerTensor(w_scale, u8 ? rng.Int(0, 255) : 0);
  }
  const double spread = 100.0 * std::sqrt(static_cast<double>(terms));
  const double factor = rng.Int(0, 3) == 0 ? 0.3 / spread : 1.0;
  *out = ek::QuantParams::PerTensor(static_cast<float>(in_scale * w_scale * spread * factor),
                                    u8 ? rng.Int(0, 255) : rng.Int(-128, 127));
}

struct QProblem {
  Shape s;
  QScheme scheme;
  int64_t oh = 0, ow = 0;
  std::vector<uint8_t> input, filter;
  std::vector<float> filter_scales;
  std::vector<int32_t> bias;
  TensorView in_view, filter_view;
  ek::QuantParams out_quant;
  ConvOptions o;
  std::vector<uint32_t> packed;
  size_t packed_bytes = 0;
  std::vector<uint8_t> want;  // dense (n, y, x, o)

  QProblem(const Shape& shape, QScheme q, uint64_t seed) : s(shape), scheme(q) {
    Rng rng(seed);
    const bool u8 = q == QScheme::kU8PerTensor;
    const DType type = u8 ? DType::kU8 : DType::kI8;
    o = OptionsOf(s);
    oh = ek::ConvOutputSize(s.h, s.kh, s.sh, s.dh, s.pad.top, s.pad.bottom);
    ow = ek::ConvOutputSize(s.w, s.kw, s.sw, s.dw, s.pad.left, s.pad.right);
    const int64_t in_pixel = s.cin + s.in_pixel_extra;
    input.resize(static_cast<size_t>(s.n * s.h * s.w * in_pixel));
    for (uint8_t& x : input) x = static_cast<uint8_t>(rng.Int(0, 255));
    in_view = ek_test::NhwcView(input.data(), s.n, s.h, s.w, s.cin, in_pixel, type);
    const int64_t group_in = s.cin / s.groups, terms = s.kh * s.kw * group_in;
    filter.resize(static_cast<size_t>(s.cout * terms));
    for (uint8_t& x : filter) x = static_cast<uint8_t>(u8 ? rng.Int(0, 255) : rng.Int(-127, 127));
    filter_view = TensorView::Host(type, filter.data(), {s.cout, s.kh, s.kw, group_in});
    RandomQuant(&rng, q, s.cout, terms, &filter_scales, &in_view.quant, &filter_view.quant, &out_quant);
    if (s.bias) {
      bias.resize(static_cast<size_t>(s.cout));
      for (int32_t& x : bias) x = rng.Int(-20000, 20000);
      o.bias = TensorView::Host(DType::kI32, bias.data(), {s.cout});
    }
    size_t bytes = 0;
    const ek::Status sized = ek::PackedConvWeightsSize(filter_view, s.groups, &bytes);
    INFO(sized.message());
    REQUIRE(sized.ok());
    packed.resize((bytes + 3) / 4);
    packed_bytes = bytes;
    const ek::Status st = ek::PackConvWeights(filter_view, s.groups, packed.data(), bytes);
    INFO(st.message());
    REQUIRE(st.ok());
    std::vector<uint8_t> dense(OutputCount());
    TensorView want_view = ek_test::NhwcView(dense.data(), s.n, oh, ow, s.cout, s.cout, type);
    want_view.quant = out_quant;
    ek::ref::QConv2D(in_view, filter_view, want_view, o);
    want = dense;
  }
  PackedWeights Packed() const { return PackedWeights{packed.data(), packed_bytes}; }
  size_t OutputCount() const { return static_cast<size_t>(s.n * oh * ow * s.cout); }

  // Runs ek::Conv2D into a guarded output (pixel stride cout + out_pixel_extra, gaps 0xA5).
  std::vector<uint8_t> Run(const ek::Context& ctx, int workspace_misalign = 0) const {
    const int64_t out_pixel = s.cout + s.out_pixel_extra;
    std::vector<uint8_t> out(static_cast<size_t>(s.n * oh * ow * out_pixel), 0xA5);
    TensorView out_view = ek_test::NhwcView(out.data(), s.n, oh, ow, s.cout, out_pixel, in_view.dtype);
    out_view.quant = out_quant;
    RunConv(in_view, Packed(), out_view, o, ctx, workspace_misalign);
    return out;
  }

  // Every output equal to the reference; the gaps between pixels untouched.
  void Check(const std::vector<uint8_t>& out) const {
    const int64_t out_pixel = s.cout + s.out_pixel_extra;
    int failures = 0;
    for (int64_t p = 0; p < s.n * oh * ow; ++p) {
      for (int64_t c = 0; c < out_pixel; ++c) {
        const int got = out[static_cast<size_t>(p * out_pixel + c)];
        const int expected = c < s.cout ? want[static_cast<size_t>(p * s.cout + c)] : 0xA5;
        if (got != expected && failures++ < 3) {
          FAIL_CHECK("pixel " << p << " channel " << c << ": " << got << ", want " << expected);
        }
      }
    }
    CHECK(failures == 0);
  }
};

const char* SchemeName(QScheme q) {
  return q == QScheme::kI8PerChannel ? "i8 per channel" : q == QScheme::kI8PerTensor ? "i8 per tensor" : "u8 per tensor";
}

// Runs each problem on every target and dot lane: on one thread (the workspace i % 8 bytes past
// an allocation) against its reference, and on three threads bitwise equal to that.
template <class Problems, class Name>
void CheckOnEveryTargetAndLane(const Problems& problems, const Name& name) {
  ek::ThreadPool pool(3);
  ek::Context threaded;
  threaded.threads = pool.Hook();
  ek_test::ForEachTarget([&](int64_t target) {
    ek_test::ForEachDotLane(ek::QGemmDotLane, [&] {
      INFO("target " << ek::TargetName(target) << ", lane " << ek::QGemmDotLane());
      for (size_t i = 0; i < problems.size(); ++i) {
        INFO(name(i));
        const auto one = problems[i].Run(ek::Context(), static_cast<int>(i % 8));
        problems[i].Check(one);
        CHECK(problems[i].Run(threaded, 3) == one);
      }
    });
  });
}

TEST_CASE("Conv2D int8 / uint8: fixed shapes bit-exact with TFLite's rule, every target and dot lane", "[conv][int8]") {
  const std::vector<Shape> shapes = FixedShapes();
  std::vector<QProblem> problems;
  for (size_t i = 0; i < shapes.size(); ++i) {
    for (QScheme q : {QScheme::kI8PerChannel, QScheme::kI8PerTensor, QScheme::kU8PerTensor}) {
      problems.emplace_back(shapes[i], q, 3000 + i * 3 + static_cast<size_t>(q));
    }
  }
  CheckOnEveryTargetAndLane(problems, [&](size_t i) {
    return "shape " + std::to_string(i / 3) + ": " + Describe(problems[i].s) + ", " + SchemeName(problems[i].scheme);
  });
}

TEST_CASE("Conv2D int8: every MobileNetV2 layer bit-exact, every target and dot lane", "[conv][int8]") {
  const bool emulated = std::getenv("QEMU_CPU") != nullptr;
  int index = 0;
  for (const ek_mobilenet::ConvLayer& layer : ek_mobilenet::MobileNetV2Layers()) {
    const int64_t size = emulated ? (layer.in_h + 3) / 4 : (layer.in_h + 1) / 2;
    Shape s = Square(size, layer.in_c, layer.out_c, layer.kernel, layer.stride, true,
                     layer.depthwise ? layer.in_c : 1);
    s.bias = true;
    s.act = layer.name.find("project") == std::string::npos ? Activation::kRelu6 : Activation::kNone;
    QProblem p(s, QScheme::kI8PerChannel, 500 + static_cast<uint64_t>(index++));
    INFO("layer " << layer.name << ": " << Describe(s));
    ek_test::ForEachTarget([&](int64_t target) {
      ek_test::ForEachDotLane(ek::QGemmDotLane, [&] {
        INFO("target " << ek::TargetName(target) << ", lane " << ek::QGemmDotLane());
        p.Check(p.Run(ek::Context()));
      });
    });
  }
}

TEST_CASE("Conv2D int8 / uint8 randomized against TFLite's rule, every target", "[random][int8]") {
  const uint64_t seed = ek_test::RandomSeed("Conv2D int8 randomized");
  const int cases = ek_test::RandomCases(40);
  ek_test::ForEachTarget([&](int64_t target) {
    Rng rng(seed * 104729 + static_cast<uint64_t>(target % 1000003));
    for (int i = 0; i < cases; ++i) {
      Shape s;
      if (!RandomShape(&rng, 12, 90, &s)) continue;
      const auto scheme = static_cast<QScheme>(rng.Int(0, 2));
      QProblem p(s, scheme, rng.Next());
      const int threads = rng.Int(1, 3);
      INFO("case " << i << ": " << Describe(s) << ", " << SchemeName(scheme) << ", threads " << threads << " (seed "
                   << seed << ")");
      ek::ThreadPool pool(static_cast<size_t>(threads));
      ek::Context ctx;
      if (threads > 1) ctx.threads = pool.Hook();
      p.Check(p.Run(ctx, rng.Int(0, 7)));
    }
  });
}

TEST_CASE("Conv2D int8: large sums, every activation, the staged path's chunks", "[conv][int8]") {
  // 3x3 over 200 channels: K = 1800 (the staged path chunks 291 rows of 1800 bytes), extreme
  // inputs (all -128 against +-127 weights: the largest sums), and a 1x1 image.
  Shape big = Square(24, 200, 24, 3, 1, true);
  big.bias = true;
  for (Activation act : {Activation::kNone, Activation::kRelu, Activation::kRelu6, Activation::kClamp}) {
    big.act = act;
    QProblem p(big, QScheme::kI8PerChannel, 91 + static_cast<uint64_t>(act));
    for (size_t i = 0; i < p.input.size(); i += 3) p.input[i] = 0x80;  // -128
    std::vector<uint8_t> dense(p.OutputCount());
    TensorView want_view = ek_test::NhwcView(dense.data(), 1, p.oh, p.ow, big.cout, big.cout, DType::kI8);
    want_view.quant = p.out_quant;
    ek::ref::QConv2D(p.in_view, p.filter_view, want_view, p.o);
    p.want = dense;
    INFO("activation " << static_cast<int>(act));
    ek_test::ForEachTarget([&](int64_t target) {
      INFO("target " << ek::TargetName(target));
      p.Check(p.Run(ek::Context()));
    });
  }
}

TEST_CASE("Conv2D int8: validation names the argument", "[conv][int8]") {
  Shape s = Square(6, 4, 8, 3, 1, true);
  s.bias = true;
  QProblem p(s, QScheme::kI8PerChannel, 17);
  std::vector<uint8_t> out(static_cast<size_t>(6 * 6 * 8));
  TensorView out_view = TensorView::Host(DType::kI8, out.data(), {1, 6, 6, 8});
  out_view.quant = p.out_quant;
  const PackedWeights packed = p.Packed();
  REQUIRE(ek::Conv2D(p.in_view, packed, out_view, p.o).ok());
  size_t bytes = 0;
  // Weights: the scheme.
  TensorView w = p.filter_view;
  w.quant = ek::QuantParams::PerAxis(3, p.filter_scales.data());
  ExpectError(ek::PackedConvWeightsSize(w, 1, &bytes), StatusCode::kInvalidArgument, "filter: quant axis 3");
  w.quant = ek::QuantParams::PerTensor(0.1f, 3);
  ExpectError(ek::PackedConvWeightsSize(w, 1, &bytes), StatusCode::kInvalidArgument, "filter: i8 weights must be symmetric");
  w.quant = ek::QuantParams();
  ExpectError(ek::PackedConvWeightsSize(w, 1, &bytes), StatusCode::kInvalidArgument, "filter: i8 weights need");
  w.dtype = DType::kU8;
  w.quant = ek::QuantParams::PerAxis(0, p.filter_scales.data());
  ExpectError(ek::PackedConvWeightsSize(w, 1, &bytes), StatusCode::kInvalidArgument, "filter: u8 weights");
  std::vector<float> bad_scales = p.filter_scales;
  bad_scales[5] = -1.0f;
  w = p.filter_view;
  w.quant = ek::QuantParams::PerAxis(0, bad_scales.data());
  ExpectError(ek::PackedConvWeightsSize(w, 1, &bytes), StatusCode::kInvalidArgument, "filter");
  // Operands: types and quant parameters.
  TensorView in = p.in_view;
  in.dtype = DType::kU8;
  ExpectError(ek::Conv2D(in, packed, out_view, p.o), StatusCode::kInvalidArgument, "input: dtype");
  in = p.in_view;
  in.quant = ek::QuantParams();
  ExpectError(ek::Conv2D(in, packed, out_view, p.o), StatusCode::kInvalidArgument, "input: must be quantized per tensor");
  TensorView o_bad = out_view;
  o_bad.quant.scale = 0.0f;
  ExpectError(ek::Conv2D(p.in_view, packed, o_bad, p.o), StatusCode::kInvalidArgument, "output");
  o_bad = out_view;
  o_bad.dtype = DType::kF32;
  o_bad.quant = ek::QuantParams();
  ExpectError(ek::Conv2D(p.in_view, packed, o_bad, p.o), StatusCode::kInvalidArgument, "output: dtype");
  ConvOptions bad = p.o;
  std::vector<float> float_bias(8);
  bad.bias = TensorView::Host(DType::kF32, float_bias.data(), {8});
  ExpectError(ek::Conv2D(p.in_view, packed, out_view, bad), StatusCode::kInvalidArgument, "options.bias: dtype");
  // An f32 input against int8 weights is dynamic quantization (below): its output is f32. An
  // f16 input is not taken.
  std::vector<float> f(static_cast<size_t>(6 * 6 * 4));
  ExpectError(ek::Conv2D(TensorView::Host(DType::kF32, f.data(), {1, 6, 6, 4}), packed, out_view, p.o),
              StatusCode::kInvalidArgument, "output: dtype");
  ExpectError(ek::Conv2D(TensorView::Host(DType::kF16, f.data(), {1, 6, 6, 4}), packed, out_view, p.o),
              StatusCode::kInvalidArgument, "input: dtype");
  // A multiplier out of range (output scale tiny): the status names it, nothing written.
  o_bad = out_view;
  o_bad.quant.scale = 1e-30f;
  std::vector<uint8_t> before = out;
  ExpectError(ek::Conv2D(p.in_view, packed, o_bad, p.o), StatusCode::kInvalidArgument, "multiplier");
  CHECK(before == out);
}

// ---- Dynamic int8: f32 input x i8 weights -> f32 --------------------------------------------------
// Operands and reference of one dynamic convolution (ek::ref::DynamicConv2D: every row of taps
// quantized on the fly, ek::QGemm's rule). The input's values lie in a random range (all
// positive, all negative, or both; one case in eight all zeros), so the rows' zero points vary.
struct DProblem {
  Shape s;
  bool per_channel = true;
  int64_t oh = 0, ow = 0;
  std::vector<float> input, bias, filter_scales;
  std::vector<int8_t> filter;
  TensorView in_view, filter_view;
  ConvOptions o;
  std::vector<uint32_t> packed;
  size_t packed_bytes = 0;
  std::vector<float> want;  // dense (n, y, x, o)
  std::vector<double> magnitude;

  DProblem(const Shape& shape, bool channel_scales, uint64_t seed) : s(shape), per_channel(channel_scales) {
    Rng rng(seed);
    o = OptionsOf(s);
    oh = ek::ConvOutputSize(s.h, s.kh, s.sh, s.dh, s.pad.top, s.pad.bottom);
    ow = ek::ConvOutputSize(s.w, s.kw, s.sw, s.dw, s.pad.left, s.pad.right);
    const int64_t in_pixel = s.cin + s.in_pixel_extra, group_in = s.cin / s.groups;
    const int range = rng.Int(0, 7);
    const float lo = range == 0 ? 0.0f : range == 1 ? 0.5f : range == 2 ? -3.0f : -rng.Uniform(0.1f, 4.0f);
    const float hi = range == 0 ? 0.0f : range == 1 ? 4.0f : range == 2 ? -0.5f : rng.Uniform(0.1f, 4.0f);
    input.resize(static_cast<size_t>(s.n * s.h * s.w * in_pixel));
    for (float& x : input) x = range == 0 ? 0.0f : rng.Uniform(lo, hi);
    in_view = ek_test::NhwcView(input.data(), s.n, s.h, s.w, s.cin, in_pixel);
    filter.resize(static_cast<size_t>(s.cout * s.kh * s.kw * group_in));
    for (int8_t& x : filter) x = static_cast<int8_t>(rng.Int(-127, 127));
    filter_view = TensorView::Host(DType::kI8, filter.data(), {s.cout, s.kh, s.kw, group_in});
    filter_scales.resize(static_cast<size_t>(s.cout));
    for (float& x : filter_scales) x = rng.Uniform(0.001f, 0.02f);
    filter_view.quant = per_channel ? ek::QuantParams::PerAxis(0, filter_scales.data())
                                    : ek::QuantParams::PerTensor(filter_scales[0]);
    if (s.bias) {
      bias.resize(static_cast<size_t>(s.cout));
      for (float& x : bias) x = rng.Uniform(-1.0f, 1.0f);
      o.bias = TensorView::Host(DType::kF32, bias.data(), {s.cout});
    }
    size_t bytes = 0;
    REQUIRE(ek::PackedConvWeightsSize(filter_view, s.groups, &bytes).ok());
    packed.resize((bytes + 3) / 4);
    packed_bytes = bytes;
    const ek::Status st = ek::PackConvWeights(filter_view, s.groups, packed.data(), bytes);
    INFO(st.message());
    REQUIRE(st.ok());
    want.resize(OutputCount());
    magnitude.resize(OutputCount());
    ek::ref::DynamicConv2D(in_view, filter_view, ek_test::NhwcView(want.data(), s.n, oh, ow, s.cout, s.cout), o,
                           magnitude.data());
  }
  PackedWeights Packed() const { return PackedWeights{packed.data(), packed_bytes}; }
  size_t OutputCount() const { return static_cast<size_t>(s.n * oh * ow * s.cout); }

  // Runs ek::Conv2D into a guarded output (pixel stride cout + out_pixel_extra).
  std::vector<float> Run(const ek::Context& ctx, int workspace_misalign = 0) const {
    const int64_t out_pixel = s.cout + s.out_pixel_extra;
    std::vector<float> out(static_cast<size_t>(s.n * oh * ow * out_pixel));
    for (float& x : out) std::memcpy(&x, &kGuardBits, 4);
    RunConv(in_view, Packed(), ek_test::NhwcView(out.data(), s.n, oh, ow, s.cout, out_pixel), o, ctx,
            workspace_misalign);
    return out;
  }

  // Every output within ref::QGemmF32ErrorBound of the reference; the gaps untouched.
  void Check(const std::vector<float>& out) const {
    const int64_t out_pixel = s.cout + s.out_pixel_extra;
    int failures = 0;
    for (int64_t p = 0; p < s.n * oh * ow; ++p) {
      for (int64_t c = 0; c < out_pixel; ++c) {
        const float got = out[static_cast<size_t>(p * out_pixel + c)];
        if (c >= s.cout) {
          if (ek_test::Bits(got) != kGuardBits && failures++ < 3) FAIL_CHECK("pixel " << p << " gap " << c << " written");
          continue;
        }
        const size_t i = static_cast<size_t>(p * s.cout + c);
        const double bound = ek::ref::QGemmF32ErrorBound(magnitude[i], 1);
        if (!(std::fabs(static_cast<double>(got) - want[i]) <= bound) && failures++ < 3) {
          FAIL_CHECK("pixel " << p << " channel " << c << ": " << got << ", want " << want[i] << " within " << bound);
        }
      }
    }
    CHECK(failures == 0);
  }
};

// The fixed shapes that are not depthwise (the depthwise packing takes i8 input only).
std::vector<Shape> DenseFixedShapes() {
  std::vector<Shape> v;
  for (const Shape& s : FixedShapes()) {
    if (!(s.groups > 1 && s.groups == s.cin && s.groups == s.cout)) v.push_back(s);  // (multiplier 2: grouped)
  }
  return v;
}

TEST_CASE("Conv2D dynamic int8: fixed shapes against the reference, every target and dot lane, threads bitwise",
          "[conv][int8]") {
  const std::vector<Shape> shapes = DenseFixedShapes();
  REQUIRE(shapes.size() >= 12);
  std::vector<DProblem> problems;
  for (size_t i = 0; i < shapes.size(); ++i) {
    for (bool per_channel : {true, false}) problems.emplace_back(shapes[i], per_channel, 4000 + i * 2 + per_channel);
  }
  ek::ThreadPool pool(3);
  ek::Context threaded;
  threaded.threads = pool.Hook();
  ek_test::ForEachTarget([&](int64_t target) {
    ek_test::ForEachDotLane(ek::QGemmDotLane, [&] {
      INFO("target " << ek::TargetName(target) << ", lane " << ek::QGemmDotLane());
      for (size_t i = 0; i < problems.size(); ++i) {
        INFO("shape " << i / 2 << ": " << Describe(problems[i].s) << (problems[i].per_channel ? ", per channel" : ""));
        const std::vector<float> one = problems[i].Run(ek::Context(), static_cast<int>(i % 8));
        problems[i].Check(one);
        const std::vector<float> three = problems[i].Run(threaded, 3);
        CHECK(ek_test::SameBits(one.data(), three.data(), one.size() * 4));
      }
    });
  });
}

TEST_CASE("Conv2D dynamic int8: MobileNetV2's dense layers and the staged path's chunks, every target", "[conv][int8]") {
  const bool emulated = std::getenv("QEMU_CPU") != nullptr;
  std::vector<DProblem> problems;
  int index = 0;
  for (const ek_mobilenet::ConvLayer& layer : ek_mobilenet::MobileNetV2Layers()) {
    if (layer.depthwise || index++ % 3 != 0) continue;  // every third dense layer (the first included)
    const int64_t size = emulated ? (layer.in_h + 7) / 8 : (layer.in_h + 1) / 2;
    Shape s = Square(size, layer.in_c, layer.out_c, layer.kernel, layer.stride, true);
    s.bias = true;
    s.act = layer.name.find("project") == std::string::npos ? Activation::kRelu6 : Activation::kNone;
    problems.emplace_back(s, true, 600 + static_cast<uint64_t>(index));
  }
  Shape big = Square(24, 200, 24, 3, 1, true);  // K = 1800 f32: chunks of 72 rows
  big.bias = true;
  big.act = Activation::kClamp;
  problems.emplace_back(big, true, 97);
  ek_test::ForEachTarget([&](int64_t target) {
    INFO("target " << ek::TargetName(target));
    for (const DProblem& p : problems) {
      INFO(Describe(p.s));
      p.Check(p.Run(ek::Context()));
    }
  });
}

TEST_CASE("Conv2D dynamic int8 randomized against the reference, every target", "[random][int8]") {
  const uint64_t seed = ek_test::RandomSeed("Conv2D dynamic randomized");
  const int cases = ek_test::RandomCases(40);
  ek_test::ForEachTarget([&](int64_t target) {
    Rng rng(seed * 15485863 + static_cast<uint64_t>(target % 1000003));
    for (int i = 0; i < cases; ++i) {
      Shape s;
      if (!RandomShape(&rng, 12, 1, &s)) continue;
      if (s.groups > 1 && s.groups == s.cin && s.groups == s.cout) continue;  // depthwise: i8 input only
      const bool per_channel = rng.Int(0, 1) == 1;
      DProblem p(s, per_channel, rng.Next());
      const int threads = rng.Int(1, 3);
      INFO("case " << i << ": " << Describe(s) << (per_channel ? ", per channel" : "") << ", threads " << threads
                   << " (seed " << seed << ")");
      ek::ThreadPool pool(static_cast<size_t>(threads));
      ek::Context ctx;
      if (threads > 1) ctx.threads = pool.Hook();
      p.Check(p.Run(ctx, rng.Int(0, 7)));
    }
  });
}

TEST_CASE("Conv2D dynamic int8: validation names the argument", "[conv][int8]") {
  Shape s = Square(6, 4, 8, 3, 1, true);
  s.bias = true;
  DProblem p(s, true, 19);
  std::vector<float> out(static_cast<size_t>(6 * 6 * 8));
  const TensorView out_view = TensorView::Host(DType::kF32, out.data(), {1, 6, 6, 8});
  REQUIRE(ek::Conv2D(p.in_view, p.Packed(), out_view, p.o).ok());
  // The bias is f32 (the output is), never i32.
  std::vector<int32_t> int_bias(8);
  ConvOptions bad = p.o;
  bad.bias = TensorView::Host(DType::kI32, int_bias.data(), {8});
  ExpectError(ek::Conv2D(p.in_view, p.Packed(), out_view, bad), StatusCode::kInvalidArgument, "options.bias: dtype");
  // The output is f32: not i8, not f16.
  std::vector<uint8_t> bytes_out(out.size() * 2);
  TensorView i8_out = TensorView::Host(DType::kI8, bytes_out.data(), {1, 6, 6, 8});
  i8_out.quant = ek::QuantParams::PerTensor(0.1f);
  ExpectError(ek::Conv2D(p.in_view, p.Packed(), i8_out, p.o), StatusCode::kInvalidArgument, "output: dtype");
  ExpectError(ek::Conv2D(p.in_view, p.Packed(), TensorView::Host(DType::kF16, bytes_out.data(), {1, 6, 6, 8}), p.o),
              StatusCode::kInvalidArgument, "output: dtype");
  // Depthwise i8 weights take i8 input only; u8 weights have no dynamic form.
  DProblem dw_shape(Square(6, 4, 4, 3, 1, true), true, 23);
  QProblem dw(Square(6, 4, 4, 3, 1, true, 4), QScheme::kI8PerChannel, 29);
  std::vector<float> dw_out(static_cast<size_t>(6 * 6 * 4));
  ExpectError(ek::Conv2D(dw_shape.in_view, dw.Packed(), TensorView::Host(DType::kF32, dw_out.data(), {1, 6, 6, 4}), dw.o),
              StatusCode::kInvalidArgument, "input: is f32 with depthwise i8 weights");
  QProblem u8(s, QScheme::kU8PerTensor, 31);
  ExpectError(ek::Conv2D(p.in_view, u8.Packed(), out_view, p.o), StatusCode::kInvalidArgument, "input: dtype");
  // Nothing written by a refused call.
  std::vector<float> before = out;
  ExpectError(ek::Conv2D(p.in_view, p.Packed(), out_view, bad), StatusCode::kInvalidArgument, "options.bias");
  CHECK(ek_test::SameBits(before.data(), out.data(), out.size() * 4));
}

// ---- MobileNetV2 whole -------------------------------------------------------------------------------
using ek_mobilenet::EkMobileNetV2;
using ek_mobilenet::NetStep;
using ek_mobilenet::StepKind;

void FillImage(EkMobileNetV2* net, uint64_t seed) {
  ek_test::Rng rng(seed);
  for (float& x : net->buffer(0)) x = rng.Uniform(-1.0f, 1.0f);
}

// Each step against its reference on the step's own (ek-computed) input.
void CheckSteps(EkMobileNetV2& net) {
  const ek_mobilenet::NetGraph& g = net.graph();
  for (size_t i = 0; i < g.steps.size(); ++i) {
    const NetStep& s = g.steps[i];
    const std::vector<float>& got = net.buffer(s.out);
    std::vector<float> want(got.size());
    ek::TensorView want_view = net.View(s.out);
    want_view.memory.host = want.data();
    int failures = 0;
    if (s.kind == StepKind::kConv) {
      const ek_mobilenet::ConvLayer& l = g.layers[s.layer];
      INFO("step " << i << ": " << l.name);
      const ek::TensorView in = net.View(s.in);
      const ek::TensorView out = net.View(s.out);
      const ek::ConvOptions o = net.Options(s.layer);
      const int64_t terms = l.kernel * l.kernel * (l.depthwise ? 1 : l.in_c);
      size_t e = 0;
      for (int64_t y = 0; y < out.shape[1]; ++y) {
        for (int64_t x = 0; x < out.shape[2]; ++x) {
          for (int64_t c = 0; c < out.shape[3]; ++c, ++e) {
            double value = 0.0, magnitude = 0.0;
            ek::ref::Conv2DElement(in, net.FilterView(s.layer), o, 0, y, x, c, &value, &magnitude);
            const double bound = ek::ref::ConvErrorBound(terms, magnitude);
            if (!(std::fabs(static_cast<double>(got[e]) - value) <= bound) && failures++ < 3) {
              FAIL_CHECK("pixel " << y << "," << x << " channel " << c << ": " << got[e] << ", want " << value);
            }
          }
        }
      }
    } else {
      INFO("step " << i << (s.kind == StepKind::kAdd ? ": add" : ": global average pool"));
      if (s.kind == StepKind::kAdd) {
        ek::ref::Add(net.View(s.in), net.View(s.in2), want_view, ek::ElementwiseOptions());
      } else {
        ek::ref::GlobalAvgPool2D(net.View(s.in), want_view);
      }
      for (size_t e = 0; e < got.size(); ++e) {
        if (!(got[e] == want[e]) && failures++ < 3) FAIL_CHECK("element " << e << ": " << got[e] << ", want " << want[e]);
      }
    }
    CHECK(failures == 0);
  }
}

// The image sizes the network tests run: 32 (the 1x1 spatial tail from block 14 on) and 40 (odd
// 5x5 / 3x3 / 2x2 maps), or 32 alone on emulated wide vectors.
std::vector<int64_t> NetImages() {
  if (ek_test::EmulatedWideVectors()) return {32};
  return {32, 40};
}

TEST_CASE("MobileNetV2 as a chain of ek ops: every step against its reference, every target", "[net]") {
  // Wide SVE under qemu (max, sve256): the 32x32 image only (the chains took half of those
  // models' emulated conv_test time); every other model runs both.
  for (const int64_t image : NetImages()) {
    EkMobileNetV2 net(image, 5);
    INFO("image " << image);
    // 17 blocks: 10 with a residual add; one global pool; 53 convolutions with the classifier.
    size_t convs = 0, adds = 0, pools = 0;
    for (const NetStep& s : net.graph().steps) {
      convs += s.kind == StepKind::kConv;
      adds += s.kind == StepKind::kAdd;
      pools += s.kind == StepKind::kGlobalAvgPool;
    }
    CHECK(convs == 53);
    CHECK(adds == 10);
    CHECK(pools == 1);
    FillImage(&net, 100 + static_cast<uint64_t>(image));
    ek::ThreadPool pool(2);
    ek::Context two;
    two.threads = pool.Hook();
    ek_test::ForEachTarget([&](int64_t target) {
      INFO("target " << ek::TargetName(target));
      const ek::Status prepared = net.Prepare();  // the workspace depends on the selected target's tiles
      INFO(prepared.message());
      REQUIRE(prepared.ok());
      const ek::Status run = net.Run();
      INFO(run.message());
      REQUIRE(run.ok());
      CheckSteps(net);
      const std::vector<float> logits = net.buffer(net.graph().buffers.size() - 1);
      REQUIRE(logits.size() == 1000);
      double mean = 0.0, spread = 0.0;  // the network is not degenerate: logits differ
      for (float x : logits) mean += x / 1000.0;
      for (float x : logits) spread += (x - mean) * (x - mean);
      CHECK(std::isfinite(spread));
      CHECK(spread > 1e-3);
      REQUIRE(net.Run(two).ok());
      CHECK(ek_test::SameBits(logits.data(), net.buffer(net.graph().buffers.size() - 1).data(), 4000));
    });
  }
}

}  // namespace

// ---- The int8 network --------------------------------------------------------------------------------
// MobileNetV2 quantized after calibration on the float network's run (tests/mobilenet_v2_layers.h,
// QuantizeMobileNetV2), run as a chain of int8 ek ops: each step bit-exact with TFLite's rule on
// the step's own input (ref::QConv2D, ref::QAdd, ref::QGlobalAvgPool2D); the logits bitwise
// identical on two threads; and the int8 logits follow the float network's.
TEST_CASE("MobileNetV2 int8 as a chain of ek ops: every step bit-exact, every target", "[net][int8]") {
  // Wide SVE under qemu (max, sve256): the 32x32 image only (the chains took half of those
  // models' emulated conv_test time); every other model runs both.
  for (const int64_t image : NetImages()) {
    INFO("image " << image);
    EkMobileNetV2 float_net(image, 5);
    FillImage(&float_net, 100 + static_cast<uint64_t>(image));
    REQUIRE(float_net.Prepare().ok());
    REQUIRE(float_net.Run().ok());
    ek_mobilenet::EkMobileNetV2Int8 net(
        ek_mobilenet::QuantizeMobileNetV2(float_net.graph(), 5, ek_mobilenet::BufferRanges(float_net)));
    net.SetImage(float_net.buffer(0));
    const size_t last = net.graph().buffers.size() - 1;
    ek::ThreadPool pool(2);
    ek::Context two;
    two.threads = pool.Hook();
    ek_test::ForEachTarget([&](int64_t target) {
      INFO("target " << ek::TargetName(target) << ", lane " << ek::QGemmDotLane());
      const ek::Status prepared = net.Prepare();
      INFO(prepared.message());
      REQUIRE(prepared.ok());
      const ek::Status run = net.Run();
      INFO(run.message());
      REQUIRE(run.ok());
      const ek_mobilenet::NetGraph& g = net.graph();
      for (size_t i = 0; i < g.steps.size(); ++i) {
        const NetStep& s = g.steps[i];
        const std::vector<int8_t>& got = net.buffer(s.out);
        std::vector<int8_t> want(got.size());
        ek::TensorView want_view = net.View(s.out);
        want_view.memory.host = want.data();
        if (s.kind == StepKind::kConv) {
          ek::ref::QConv2D(net.View(s.in), net.FilterView(s.layer), want_view, net.Options(s.layer));
        } else if (s.kind == StepKind::kAdd) {
          ek::ref::QAdd(net.View(s.in), net.View(s.in2), want_view, ek::ElementwiseOptions());
        } else {
          ek::ref::QGlobalAvgPool2D(net.View(s.in), want_view);
        }
        INFO("step " << i << (s.kind == StepKind::kConv ? ": " + g.layers[s.layer].name : std::string(": add / pool")));
        CHECK(got == want);
      }
      const std::vector<int8_t> logits = net.buffer(last);
      REQUIRE(net.Run(two).ok());
      CHECK(net.buffer(last) == logits);
      // The int8 logits, dequantized, against the float network's: their correlation.
      const ek_mobilenet::BufferQuant q = net.quantized().buffers[last];
      const std::vector<float>& reference = float_net.buffer(last);
      double dot = 0.0, norm_q = 0.0, norm_f = 0.0, mean_q = 0.0, mean_f = 0.0;
      for (size_t e = 0; e < logits.size(); ++e) {
        mean_q += q.scale * static_cast<float>(logits[e] - q.zero_point) / 1000.0;
        mean_f += reference[e] / 1000.0;
      }
      for (size_t e = 0; e < logits.size(); ++e) {
        const double a = q.scale * static_cast<float>(logits[e] - q.zero_point) - mean_q, b = reference[e] - mean_f;
        dot += a * b;
        norm_q += a * a;
        norm_f += b * b;
      }
      const double correlation = dot / std::sqrt(norm_q * norm_f);
      INFO("correlation of the int8 and float logits: " << correlation);
      CHECK(correlation > 0.9);
    });
  }
}

// ---- Transposed convolution ------------------------------------------------------------------------
// ek::TransposeConv2D against ref::TransposeConv2D (f32, within ConvErrorBound) and
// ref::QTransposeConv2D (i8 per channel / per tensor, u8: exact), every target (and dot lane for
// the integer forms), any thread count bitwise; shapes with phases of different sub-kernels,
// kernels smaller than the stride (phases of bias only), an output extended past the last tap
// (negative bottom / right padding), padding that crops whole input rows, groups and depthwise,
// outputs with gaps between pixels.
namespace transposed {

// The output size of a transposed convolution of shape s (dilation unused).
int64_t OutH(const Shape& s) { return ek::TransposeConvOutputSize(s.h, s.kh, s.sh, s.pad.top, s.pad.bottom); }
int64_t OutW(const Shape& s) { return ek::TransposeConvOutputSize(s.w, s.kw, s.sw, s.pad.left, s.pad.right); }

// One transposed convolution of any type: operands, packed weights, the reference output, and
// runs into a guarded output (gaps between pixels must keep their bytes).
struct TProblem {
  Shape s;
  DType type = DType::kF32;
  QScheme scheme = QScheme::kI8PerChannel;
  std::vector<uint8_t> input, filter, bias;  // bytes of the element type
  std::vector<float> filter_scales;
  TensorView in_view, filter_view;
  ek::QuantParams out_quant;
  ConvOptions o;
  std::vector<uint32_t> packed;
  size_t packed_bytes = 0;
  std::vector<double> want, magnitude;  // f32 / f16: per output element, dense
  std::vector<uint8_t> want_q;          // i8 / u8
  std::vector<float> input32, filter32;  // f16: the values as f32, for the reference
  TensorView in_ref, filter_ref;         // the reference's views (f16: of input32 / filter32)

  bool Float() const { return type == DType::kF32 || type == DType::kF16; }
  size_t Elem() const { return type == DType::kF32 ? 4 : type == DType::kF16 ? 2 : 1; }

  TProblem(const Shape& shape, DType t, QScheme q, uint64_t seed) : s(shape), type(t), scheme(q) {
    Rng rng(seed);
    o = OptionsOf(s);
    const bool u8 = t == DType::kU8;
    input.resize(static_cast<size_t>(s.n * s.h * s.w * s.cin) * Elem());
    filter.resize(static_cast<size_t>(s.cout * s.kh * s.kw * (s.cin / s.groups)) * Elem());
    const auto fill = [&](std::vector<uint8_t>* v, std::vector<float>* as_f32, bool weights) {
      if (t == DType::kF32) {
        for (size_t i = 0; i < v->size(); i += 4) {
          const float x = rng.Uniform(-1.0f, 1.0f);
          std::memcpy(v->data() + i, &x, 4);
        }
      } else if (t == DType::kF16) {
        for (size_t i = 0; i < v->size(); i += 2) {
          const uint16_t bits = HalfBits(rng.Uniform(-1.0f, 1.0f));
          std::memcpy(v->data() + i, &bits, 2);
          as_f32->push_back(HalfValue(bits));
        }
      } else {
        for (uint8_t& x : *v) x = static_cast<uint8_t>(u8 || !weights ? rng.Int(0, 255) : rng.Int(-127, 127));
      }
    };
    fill(&input, &input32, false);
    fill(&filter, &filter32, true);
    in_view = TensorView::Host(t, input.data(), {s.n, s.h, s.w, s.cin});
    filter_view = TensorView::Host(t, filter.data(), {s.cout, s.kh, s.kw, s.cin / s.groups});
    in_ref = t == DType::kF16 ? TensorView::Host(DType::kF32, input32.data(), {s.n, s.h, s.w, s.cin}) : in_view;
    filter_ref = t == DType::kF16
                     ? TensorView::Host(DType::kF32, filter32.data(), {s.cout, s.kh, s.kw, s.cin / s.groups})
                     : filter_view;
    if (!Float()) {
      RandomQuant(&rng, q, s.cout, s.kh * s.kw * (s.cin / s.groups), &filter_scales, &in_view.quant,
                  &filter_view.quant, &out_quant);
    }
    if (s.bias) {
      bias.resize(static_cast<size_t>(s.cout) * 4);
      for (size_t i = 0; i < bias.size(); i += 4) {
        if (Float()) {
          const float x = rng.Uniform(-1.0f, 1.0f);
          std::memcpy(bias.data() + i, &x, 4);
        } else {
          const int32_t x = rng.Int(-20000, 20000);
          std::memcpy(bias.data() + i, &x, 4);
        }
      }
      o.bias = TensorView::Host(Float() ? DType::kF32 : DType::kI32, bias.data(), {s.cout});
    }
    size_t bytes = 0;
    const ek::Status sized = ek::PackedTransposeConvWeightsSize(filter_view, s.groups, s.sh, s.sw, &bytes);
    INFO(sized.message());
    REQUIRE(sized.ok());
    packed.resize((bytes + 3) / 4);
    packed_bytes = bytes;
    const ek::Status st = ek::PackTransposeConvWeights(filter_view, s.groups, s.sh, s.sw, packed.data(), bytes);
    INFO(st.message());
    REQUIRE(st.ok());
    REQUIRE(ek::VerifyPackedWeights(Packed()).ok());
    const size_t count = OutputCount();
    if (Float()) {
      want.resize(count);
      magnitude.resize(count);
      size_t i = 0;
      for (int64_t n = 0; n < s.n; ++n) {
        for (int64_t y = 0; y < OutH(s); ++y) {
          for (int64_t x = 0; x < OutW(s); ++x) {
            for (int64_t c = 0; c < s.cout; ++c, ++i) {
              ek::ref::TransposeConv2DElement(in_ref, filter_ref, o, n, y, x, c, &want[i], &magnitude[i]);
            }
          }
        }
      }
    } else {
      want_q.resize(count);
      TensorView want_view = ek_test::NhwcView(want_q.data(), s.n, OutH(s), OutW(s), s.cout, s.cout, t);
      want_view.quant = out_quant;
      ek::ref::QTransposeConv2D(in_view, filter_view, want_view, o);
    }
  }
  PackedWeights Packed() const { return PackedWeights{packed.data(), packed_bytes}; }
  size_t OutputCount() const { return static_cast<size_t>(s.n * OutH(s) * OutW(s) * s.cout); }
  TensorView OutView(std::vector<uint8_t>* out) const {
    TensorView v = ek_test::NhwcView(out->data(), s.n, OutH(s), OutW(s), s.cout, s.cout + s.out_pixel_extra, type);
    v.quant = out_quant;
    return v;
  }

  // Runs ek::TransposeConv2D with a workspace of the queried size at `misalign` bytes past an
  // allocation; the output's bytes start as 0xA5.
  std::vector<uint8_t> Run(const ek::Context& ctx, int misalign = 0) const {
    std::vector<uint8_t> out(static_cast<size_t>(s.n * OutH(s) * OutW(s) * (s.cout + s.out_pixel_extra)) * Elem(),
                             0xA5);
    const TensorView out_view = OutView(&out);
    size_t ws_bytes = 0;
    const ek::Status sized = ek::TransposeConvWorkspaceSize(in_view, Packed(), out_view, o, &ws_bytes);
    INFO(sized.message());
    REQUIRE(sized.ok());
    std::vector<uint8_t> ws(ws_bytes + 8);
    const ek::Status st = ek::TransposeConv2D(in_view, Packed(), out_view, o, ctx, ws.data() + misalign, ws_bytes);
    INFO(st.message());
    REQUIRE(st.ok());
    return out;
  }

  void Check(const std::vector<uint8_t>& out) const {
    const int64_t out_pixel = s.cout + s.out_pixel_extra;
    const int64_t terms = s.kh * s.kw * (s.cin / s.groups);
    int failures = 0;
    for (int64_t p = 0; p < s.n * OutH(s) * OutW(s); ++p) {
      for (int64_t c = 0; c < out_pixel; ++c) {
        const size_t e = static_cast<size_t>(p * out_pixel + c);
        const size_t i = static_cast<size_t>(p * s.cout + c);
        if (c >= s.cout) {
          bool kept = true;
          for (size_t b = 0; b < Elem(); ++b) kept = kept && out[e * Elem() + b] == 0xA5;
          if (!kept && failures++ < 3) FAIL_CHECK("pixel " << p << " gap " << c << " written");
        } else if (Float()) {
          float got;
          double bound = ek::ref::ConvErrorBound(terms, magnitude[i]);
          if (type == DType::kF16) {
            uint16_t bits;
            std::memcpy(&bits, out.data() + e * 2, 2);
            got = HalfValue(bits);
            bound += std::ldexp(std::fabs(want[i]) + bound, -11) + std::ldexp(1.0, -25);  // the f16 rounding
          } else {
            std::memcpy(&got, out.data() + e * 4, 4);
          }
          if (!(std::fabs(static_cast<double>(got) - want[i]) <= bound) && failures++ < 3) {
            FAIL_CHECK("pixel " << p << " channel " << c << ": " << got << ", want " << want[i] << " within " << bound);
          }
        } else if (out[e] != want_q[i] && failures++ < 3) {
          FAIL_CHECK("pixel " << p << " channel " << c << ": " << int{out[e]} << ", want " << int{want_q[i]});
        }
      }
    }
    CHECK(failures == 0);
  }
};

Shape Make(int64_t h, int64_t w, int64_t cin, int64_t cout, int64_t k, int64_t stride, ConvPadding pad,
            int64_t groups = 1) {
  Shape s;
  s.h = h;
  s.w = w;
  s.cin = cin;
  s.cout = cout;
  s.kh = s.kw = k;
  s.sh = s.sw = stride;
  s.pad = pad;
  s.groups = groups;
  s.bias = true;
  return s;
}

std::vector<Shape> FixedShapes() {
  std::vector<Shape> v;
  v.push_back(Make(7, 9, 16, 24, 4, 2, ek::TransposeConvSamePadding(4, 4, 2, 2)));  // decoder upsampling, 2 taps/phase
  v.push_back(Make(6, 5, 5, 19, 3, 2, ek::TransposeConvSamePadding(3, 3, 2, 2)));   // phases of 2 and 1 taps
  v.push_back(Make(5, 5, 8, 8, 2, 2, ConvPadding()));                               // 1x1 phases: GEMMs
  v.push_back(Make(4, 3, 3, 5, 1, 2, ek::TransposeConvSamePadding(1, 1, 2, 2)));    // kernel < stride: bias phases
  v.push_back(Make(5, 6, 7, 9, 3, 1, ConvPadding{1, 1, 1, 1}));                     // stride 1: an ordinary conv
  v.push_back(Make(4, 4, 6, 10, 5, 3, ConvPadding{2, 1, 0, 3}));                    // 5x5 stride 3, uneven padding
  v.push_back(Make(6, 6, 12, 12, 4, 2, ek::TransposeConvSamePadding(4, 4, 2, 2), 12));  // depthwise
  v.push_back(Make(5, 4, 8, 6, 3, 2, ConvPadding{0, -1, 1, 0}, 2));                 // grouped, output extended
  v.push_back(Make(1, 1, 9, 17, 3, 2, ConvPadding()));                              // a 1x1 image
  v.push_back(Make(5, 5, 4, 4, 3, 2, ConvPadding{4, 0, 3, 2}));                     // padding crops input rows
  Shape a = Make(6, 7, 5, 33, 3, 1, ConvPadding{0, 0, 1, 1});                      // strides 2 x 1, batch 2
  a.sh = 2;
  a.kh = 4;
  a.n = 2;
  a.act = Activation::kRelu6;
  a.out_pixel_extra = 3;
  v.push_back(a);
  Shape c = Make(3, 3, 70, 40, 3, 2, ek::TransposeConvSamePadding(3, 3, 2, 2));
  c.act = Activation::kClamp;
  c.bias = false;
  v.push_back(c);
  return v;
}

void CheckTypeOnShapes(DType type, QScheme scheme, const std::vector<Shape>& shapes, uint64_t seed) {
  std::vector<TProblem> problems;
  for (size_t i = 0; i < shapes.size(); ++i) problems.emplace_back(shapes[i], type, scheme, seed + i);
  CheckOnEveryTargetAndLane(problems, [&](size_t i) {
    return "shape " + std::to_string(i) + ": " + Describe(problems[i].s) + ", " + ek::DTypeName(type);
  });
}

}  // namespace transposed

TEST_CASE("TransposeConv2D f32 and f16 storage: fixed shapes against the reference, every target, threads bitwise",
          "[conv]") {
  transposed::CheckTypeOnShapes(DType::kF32, QScheme::kI8PerChannel, transposed::FixedShapes(), 9000);
  transposed::CheckTypeOnShapes(DType::kF16, QScheme::kI8PerChannel, transposed::FixedShapes(), 9050);
}

TEST_CASE("TransposeConv2D int8 / uint8: fixed shapes bit-exact with TFLite's rule, every target and lane",
          "[conv][int8]") {
  transposed::CheckTypeOnShapes(DType::kI8, QScheme::kI8PerChannel, transposed::FixedShapes(), 9100);
  transposed::CheckTypeOnShapes(DType::kI8, QScheme::kI8PerTensor, transposed::FixedShapes(), 9200);
  transposed::CheckTypeOnShapes(DType::kU8, QScheme::kU8PerTensor, transposed::FixedShapes(), 9300);
}

TEST_CASE("TransposeConv2D randomized against the reference, every target", "[random]") {
  const uint64_t seed = ek_test::RandomSeed("TransposeConv2D randomized");
  const int cases = ek_test::RandomCases(40);
  ek_test::ForEachTarget([&](int64_t target) {
    Rng rng(seed * 31337 + static_cast<uint64_t>(target % 1000003));
    for (int i = 0; i < cases; ++i) {
      Shape s;
      s.n = rng.Int(1, 2);
      s.h = rng.Int(1, 9);
      s.w = rng.Int(1, 9);
      s.kh = rng.Int(1, 5);
      s.kw = rng.Int(1, 5);
      s.sh = rng.Int(1, 3);
      s.sw = rng.Int(1, 3);
      const int kind = rng.Int(0, 3);  // 0, 1: dense; 2: grouped; 3: depthwise
      s.groups = kind == 2 ? rng.Int(2, 3) : 1;
      s.cin = s.groups * rng.Int(1, 20);
      s.cout = s.groups * rng.Int(1, 36);
      if (kind == 3) s.groups = s.cin = s.cout = rng.Int(1, 40);
      s.pad = rng.Int(0, 1) == 0 ? ek::TransposeConvSamePadding(s.kh, s.kw, s.sh, s.sw)
                                 : ConvPadding{rng.Int(0, 3), rng.Int(1 - static_cast<int>(s.sh), 3), rng.Int(0, 3),
                                               rng.Int(1 - static_cast<int>(s.sw), 3)};
      if (transposed::OutH(s) < 1 || transposed::OutW(s) < 1) continue;
      s.bias = rng.Int(0, 1) == 1;
      s.act = static_cast<Activation>(rng.Int(0, 3));
      s.out_pixel_extra = rng.Int(0, 2) == 0 ? rng.Int(1, 5) : 0;
      const int type_pick = rng.Int(0, 4);
      const DType type = type_pick < 2    ? DType::kF32
                         : type_pick == 2 ? DType::kI8
                         : type_pick == 3 ? DType::kU8
                                          : DType::kF16;
      const QScheme scheme = type == DType::kU8 ? QScheme::kU8PerTensor
                                                : (rng.Int(0, 1) ? QScheme::kI8PerChannel : QScheme::kI8PerTensor);
      transposed::TProblem p(s, type, scheme, rng.Next());
      const int threads = rng.Int(1, 3);
      INFO("case " << i << ": " << Describe(s) << ", " << ek::DTypeName(type) << ", threads " << threads
                   << " (seed " << seed << ")");
      ek::ThreadPool pool(static_cast<size_t>(threads));
      ek::Context ctx;
      if (threads > 1) ctx.threads = pool.Hook();
      p.Check(p.Run(ctx, rng.Int(0, 7)));
    }
  });
}

TEST_CASE("TransposeConv2D: SAME padding follows TensorFlow's conv2d_transpose", "[conv]") {
  const ConvPadding a = ek::TransposeConvSamePadding(4, 3, 2, 2);
  CHECK((a.top == 1 && a.bottom == 1 && a.left == 0 && a.right == 1));
  CHECK(ek::TransposeConvOutputSize(14, 4, 2, a.top, a.bottom) == 28);
  CHECK(ek::TransposeConvOutputSize(14, 3, 2, a.left, a.right) == 28);
  const ConvPadding b = ek::TransposeConvSamePadding(1, 1, 3, 2);  // kernel < stride: the output extended
  CHECK((b.top == 0 && b.bottom == -2 && b.left == 0 && b.right == -1));
  CHECK(ek::TransposeConvOutputSize(5, 1, 3, b.top, b.bottom) == 15);
  CHECK(ek::TransposeConvOutputSize(5, 2, 2, 0, 0) == 10);  // VALID
  CHECK(ek::TransposeConvOutputSize(1, 2, 1, 1, 1) == 0);   // the padding crops everything
}

TEST_CASE("TransposeConv2D: every validation rule returns a status naming the argument", "[conv]") {
  using transposed::TProblem;
  Shape s = transposed::Make(5, 5, 4, 6, 4, 2, ek::TransposeConvSamePadding(4, 4, 2, 2));
  TProblem p(s, DType::kF32, QScheme::kI8PerChannel, 41);
  std::vector<uint8_t> out(static_cast<size_t>(10 * 10 * 6) * 4);
  const TensorView out_view = p.OutView(&out);
  const PackedWeights packed = p.Packed();
  REQUIRE(ek::TransposeConv2D(p.in_view, packed, out_view, p.o).ok());
  size_t bytes = 0;
  // Packing.
  ExpectError(ek::PackedTransposeConvWeightsSize(p.filter_view, 1, 2, 2, nullptr), StatusCode::kInvalidArgument,
              "bytes: is null");
  ExpectError(ek::PackedTransposeConvWeightsSize(p.filter_view, 1, 0, 2, &bytes), StatusCode::kInvalidArgument,
              "stride_h");
  ExpectError(ek::PackedTransposeConvWeightsSize(p.filter_view, 1, 2, -1, &bytes), StatusCode::kInvalidArgument,
              "stride_w");
  ExpectError(ek::PackedTransposeConvWeightsSize(p.filter_view, 4, 2, 2, &bytes), StatusCode::kInvalidArgument,
              "filter: 6 output channels, not a multiple of groups = 4");
  REQUIRE(ek::PackedTransposeConvWeightsSize(p.filter_view, 1, 2, 2, &bytes).ok());
  std::vector<uint32_t> small(bytes / 4);
  ExpectError(ek::PackTransposeConvWeights(p.filter_view, 1, 2, 2, small.data(), bytes - 4),
              StatusCode::kInvalidArgument, "out: ");
  ExpectError(ek::PackTransposeConvWeights(p.filter_view, 1, 2, 2, p.filter.data(), bytes),
              StatusCode::kInvalidArgument, "out");
  // Options against the packing and the operands.
  ConvOptions o = p.o;
  o.stride_w = 3;
  ExpectError(ek::TransposeConv2D(p.in_view, packed, out_view, o), StatusCode::kInvalidArgument,
              "options.stride_h: strides 2 x 3, the packed weights are for 2 x 2");
  o = p.o;
  o.dilation_h = 2;
  ExpectError(ek::TransposeConv2D(p.in_view, packed, out_view, o), StatusCode::kInvalidArgument, "options.dilation_h");
  o = p.o;
  o.groups = 2;
  ExpectError(ek::TransposeConv2D(p.in_view, packed, out_view, o), StatusCode::kInvalidArgument, "options.groups");
  o = p.o;
  o.padding.top = -1;
  ExpectError(ek::TransposeConv2D(p.in_view, packed, out_view, o), StatusCode::kInvalidArgument, "options.padding");
  o = p.o;
  o.padding.bottom = -2;  // below -(stride - 1)
  ExpectError(ek::TransposeConv2D(p.in_view, packed, out_view, o), StatusCode::kInvalidArgument, "options.padding");
  o = p.o;
  o.padding.top = o.padding.bottom = 7;  // (5 - 1) x 2 + 4 = 12 rows, all cropped
  ExpectError(ek::TransposeConv2D(p.in_view, packed, out_view, o), StatusCode::kInvalidArgument,
              "options.padding: crops the whole output");
  o = p.o;
  o.padding.top = 0;  // one row more than the output has
  ExpectError(ek::TransposeConv2D(p.in_view, packed, out_view, o), StatusCode::kInvalidArgument,
              "output: expected shape [1, 11, 10, 6]");
  o = p.o;
  o.activation = Activation::kClamp;
  o.clamp_min = 1.0f;
  o.clamp_max = 0.0f;
  ExpectError(ek::TransposeConv2D(p.in_view, packed, out_view, o), StatusCode::kInvalidArgument, "clamp");
  o = p.o;
  std::vector<float> short_bias(5);
  o.bias = TensorView::Host(DType::kF32, short_bias.data(), {5});
  ExpectError(ek::TransposeConv2D(p.in_view, packed, out_view, o), StatusCode::kInvalidArgument, "options.bias");
  // Operands.
  std::vector<float> wrong(static_cast<size_t>(5 * 5 * 3));
  ExpectError(ek::TransposeConv2D(TensorView::Host(DType::kF32, wrong.data(), {1, 5, 5, 3}), packed, out_view, p.o),
              StatusCode::kInvalidArgument, "input: 3 channels");
  ExpectError(ek::TransposeConv2D(TensorView::Host(DType::kI8, p.input.data(), {1, 5, 5, 4}), packed, out_view, p.o),
              StatusCode::kInvalidArgument, "input: dtype");
  TensorView bad_out = out_view;
  bad_out.strides[3] = 2;
  ExpectError(ek::TransposeConv2D(p.in_view, packed, bad_out, p.o), StatusCode::kInvalidArgument, "output");
  ExpectError(ek::TransposeConv2D(p.in_view, packed, p.in_view, p.o), StatusCode::kInvalidArgument, "output");
  // Aliasing: an output of the right shape over the input's memory; the workspace over the input.
  std::vector<float> shared(static_cast<size_t>(5 * 5 * 4 + 10 * 10 * 6));
  std::copy(p.input.begin(), p.input.begin() + 5 * 5 * 4, shared.begin());
  const TensorView shared_in = TensorView::Host(DType::kF32, shared.data(), {1, 5, 5, 4});
  ExpectError(ek::TransposeConv2D(shared_in, packed, TensorView::Host(DType::kF32, shared.data() + 50, {1, 10, 10, 6}), p.o),
              StatusCode::kInvalidArgument, "output: overlaps input");
  size_t ws_bytes = 0;
  REQUIRE(ek::TransposeConvWorkspaceSize(p.in_view, packed, out_view, p.o, &ws_bytes).ok());
  REQUIRE(ws_bytes > 0);
  std::vector<float> ws_over_input(ws_bytes / 4 + 5 * 5 * 4);
  const TensorView ws_in = TensorView::Host(DType::kF32, ws_over_input.data(), {1, 5, 5, 4});
  ExpectError(ek::TransposeConv2D(ws_in, packed, out_view, p.o, ek::Context(), ws_over_input.data() + 4, ws_bytes),
              StatusCode::kInvalidArgument, "workspace: overlaps input");
  // Workspace.
  std::vector<uint8_t> ws(ws_bytes);
  ExpectError(ek::TransposeConv2D(p.in_view, packed, out_view, p.o, ek::Context(), ws.data(), ws_bytes - 1),
              StatusCode::kInvalidArgument, "workspace");
  ExpectError(ek::TransposeConv2D(p.in_view, packed, out_view, p.o, ek::Context(), nullptr, ws_bytes),
              StatusCode::kInvalidArgument, "workspace: is null");
  // Packed weights: Conv2D's weights, a corrupted header, a corrupted sub-filter block, a
  // corrupted payload (VerifyPackedWeights), too few bytes.
  Problem conv_problem(Square(5, 4, 6, 3, 1, true), 3);
  ExpectError(ek::TransposeConv2D(p.in_view, conv_problem.Packed(), out_view, p.o), StatusCode::kInvalidArgument,
              "packed: not packed transposed-convolution weights");
  std::vector<uint32_t> copy = p.packed;
  const PackedWeights corrupt{copy.data(), p.packed_bytes};
  reinterpret_cast<uint8_t*>(copy.data())[30] ^= 1;  // kernel_h
  ExpectError(ek::TransposeConv2D(p.in_view, corrupt, out_view, p.o), StatusCode::kInvalidArgument, "packed: corrupt");
  copy = p.packed;
  reinterpret_cast<uint8_t*>(copy.data())[64 + 28] ^= 1;  // the first block's kernel_h
  ExpectError(ek::TransposeConv2D(p.in_view, corrupt, out_view, p.o), StatusCode::kInvalidArgument, "packed");
  copy = p.packed;
  reinterpret_cast<uint8_t*>(copy.data())[p.packed_bytes - 8] ^= 1;
  ExpectError(ek::VerifyPackedWeights(corrupt), StatusCode::kInvalidArgument, "payload checksum");
  ExpectError(ek::TransposeConv2D(p.in_view, PackedWeights{p.packed.data(), p.packed_bytes - 4}, out_view, p.o),
              StatusCode::kInvalidArgument, "packed");
  // A multiplier out of range (int8, output scale tiny): named, nothing written.
  TProblem q(s, DType::kI8, QScheme::kI8PerChannel, 43);
  std::vector<uint8_t> qout(static_cast<size_t>(10 * 10 * 6), 0x5A);
  TensorView q_view = q.OutView(&qout);
  q_view.quant.scale = 1e-30f;
  ExpectError(ek::TransposeConv2D(q.in_view, q.Packed(), q_view, q.o), StatusCode::kInvalidArgument, "multiplier");
  CHECK(qout == std::vector<uint8_t>(qout.size(), 0x5A));
}

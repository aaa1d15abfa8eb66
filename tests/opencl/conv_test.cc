// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// ek::opencl::Conv2D against the scalar specification (ek::ref::Conv2D / QConv2D): i8 and u8
// bit-exact, f32 within ref::ConvErrorBound, f16 storage within that bound plus the output's
// rounding to f16. Shapes: MobileNetV2's kinds of layer (the 3-channel stem, depthwise 3x3
// stride 1 and 2, pointwise expand / project on the GEMM path), grouped, dilated, 5x5 with
// uneven padding, a 1x1 image, odd channel counts, strided views (a channel slice of the input
// and of the output, the filter as HWIO through strides), batch 2; each launch shape of the
// direct kernel; every validation rule. GlobalAvgPool2D (f32, i8, u8) against the reference.
// MobileNetV2 whole on the device (a 32 x 32 image): f32, each step within its bound on the
// step's own input; then int8 (quantized from the f32 run's ranges), every step bit-exact with
// the reference, i.e. with ek's CPU chain. Exit 77 when there is no OpenCL device.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "cl_test_util.h"
#include "ek/opencl/conv.h"
#include "ek/ref/conv.h"
#include "ek/ref/convert.h"
#include "ek/ref/elementwise.h"
#include "ek/ref/pool.h"
#include "mobilenet_v2_cl.h"

namespace {

using ek::Activation;
using ek::DType;
using ek::QuantScheme;
using ek::TensorView;
using ek_cl_test::Check;
using ek_cl_test::CheckRejects;
using ek_cl_test::DeviceCopy;
using ek_cl_test::Next;
using ek_cl_test::Uniform;

enum class Type { kF32, kF16, kF16FilterF32, kI8PerChannel, kI8PerTensor, kU8 };
const char* TypeName(Type t) {
  switch (t) {
    case Type::kF32: return "f32";
    case Type::kF16: return "f16";
    case Type::kF16FilterF32: return "f16 (f32 filter)";
    case Type::kI8PerChannel: return "i8 per channel";
    case Type::kI8PerTensor: return "i8 per tensor";
    default: return "u8";
  }
}

struct Shape {
  const char* name;
  int64_t n, h, w, cin, cout, kh, kw, sh, sw, dh, dw;
  ek::ConvPadding pad;
  int64_t groups;
  bool bias;
  Activation act;
  bool hwio = false;        // the filter stored HWIO, passed as an OHWI view with strides
  int64_t in_extra = 0;     // input pixels this many channels wider (a channel slice)
  int64_t out_extra = 0;    // output pixels this many channels wider
  // Integer numerics at their edges: values in [zero point - small, zero point + small] (0: the
  // whole range); the output scale making every multiplier >= `multiplier` (0: the usual one;
  // >= 1 exercises requantization's left shift); the bias near 2^31 - 1 (the sum wraps).
  int small = 0;
  float multiplier = 0.0f;
  bool bias_wraps = false;
};

// Element bytes of the activations / filter of a type.
size_t ActBytes(Type t) { return t == Type::kF32 ? 4 : (t == Type::kF16 || t == Type::kF16FilterF32) ? 2 : 1; }
size_t FilterBytes(Type t) { return t == Type::kF32 || t == Type::kF16FilterF32 ? 4 : ActBytes(t); }
bool Quantized(Type t) { return ActBytes(t) == 1; }

// Host data in the device's element type, for a view of `elements` elements.
struct HostTensor {
  std::vector<uint8_t> bytes;
  std::vector<float> f32;  // the same values as f32 (float types): what the reference reads
};

// Runs one shape and type on the device; checks every output against the reference.
void RunCase(ek::opencl::Runtime& rt, const Shape& s, Type type, const ek::opencl::ConvTile* tile) {
  const int64_t cg = s.cin / s.groups;
  const int64_t oh = ek::ConvOutputSize(s.h, s.kh, s.sh, s.dh, s.pad.top, s.pad.bottom);
  const int64_t ow = ek::ConvOutputSize(s.w, s.kw, s.sw, s.dw, s.pad.left, s.pad.right);
  const int64_t in_p = s.cin + s.in_extra, out_p = s.cout + s.out_extra;
  const int64_t in_elems = s.n * s.h * s.w * in_p, out_elems = s.n * oh * ow * out_p;
  const int64_t filter_elems = s.cout * s.kh * s.kw * cg;
  const bool quantized = Quantized(type);
  const bool u8 = type == Type::kU8;
  const bool half = type == Type::kF16 || type == Type::kF16FilterF32;

  // Values: floats in [-1, 1] (f16-exact for f16 storage); integers over their whole range.
  std::vector<float> in_f(static_cast<size_t>(in_elems)), filter_f(static_cast<size_t>(filter_elems));
  std::vector<uint8_t> in_q(static_cast<size_t>(in_elems)), filter_q(static_cast<size_t>(filter_elems));
  const int in_zero = u8 ? 131 : -7;
  const auto small_value = [&](int zero) { return static_cast<uint8_t>(zero + static_cast<int>(Next() % (2 * s.small + 1)) - s.small); };
  for (size_t i = 0; i < in_f.size(); ++i) {
    in_f[i] = half ? ek::ref::F16ToF32(ek::ref::F32ToF16(Uniform())) : Uniform();
    in_q[i] = s.small > 0 ? small_value(in_zero) : static_cast<uint8_t>(Next());
  }
  // Filter values in OHWI order (the reference's view); stored HWIO on the device if asked.
  for (size_t i = 0; i < filter_f.size(); ++i) {
    filter_f[i] = type == Type::kF16 ? ek::ref::F16ToF32(ek::ref::F32ToF16(Uniform())) : Uniform();
    filter_q[i] = s.small > 0 ? small_value(u8 ? 140 : 0) : static_cast<uint8_t>(Next());
    if (!u8 && filter_q[i] == 0x80) filter_q[i] = 0x81;  // symmetric int8: -127..127
  }
  std::vector<float> bias_f(static_cast<size_t>(s.cout));
  std::vector<int32_t> bias_q(static_cast<size_t>(s.cout));
  for (int64_t o = 0; o < s.cout; ++o) {
    bias_f[static_cast<size_t>(o)] = Uniform();
    bias_q[static_cast<size_t>(o)] = s.bias_wraps ? INT32_MAX - static_cast<int32_t>(Next() % 200)
                                                  : static_cast<int32_t>(Next() % 20001) - 10000;
  }
  std::vector<float> scales(static_cast<size_t>(s.cout));
  for (float& sc : scales) sc = 0.002f + 0.004f * (Uniform() + 1.0f);

  // Device bytes: activations in their type; the filter OHWI or HWIO.
  const size_t ab = ActBytes(type), fb = FilterBytes(type);
  std::vector<uint8_t> in_dev(static_cast<size_t>(in_elems) * ab), filter_dev(static_cast<size_t>(filter_elems) * fb);
  for (int64_t i = 0; i < in_elems; ++i) {
    if (quantized) {
      in_dev[static_cast<size_t>(i)] = in_q[static_cast<size_t>(i)];
    } else if (half) {
      const uint16_t h = ek::ref::F32ToF16(in_f[static_cast<size_t>(i)]);
      std::memcpy(&in_dev[static_cast<size_t>(i) * 2], &h, 2);
    } else {
      std::memcpy(&in_dev[static_cast<size_t>(i) * 4], &in_f[static_cast<size_t>(i)], 4);
    }
  }
  const auto device_filter_index = [&](int64_t o, int64_t ky, int64_t kx, int64_t c) {
    return s.hwio ? ((ky * s.kw + kx) * cg + c) * s.cout + o : ((o * s.kh + ky) * s.kw + kx) * cg + c;
  };
  for (int64_t o = 0; o < s.cout; ++o) {
    for (int64_t ky = 0; ky < s.kh; ++ky) {
      for (int64_t kx = 0; kx < s.kw; ++kx) {
        for (int64_t c = 0; c < cg; ++c) {
          const size_t src = static_cast<size_t>(((o * s.kh + ky) * s.kw + kx) * cg + c);
          const size_t dst = static_cast<size_t>(device_filter_index(o, ky, kx, c));
          if (quantized) {
            filter_dev[dst] = filter_q[src];
          } else if (fb == 2) {
            const uint16_t h = ek::ref::F32ToF16(filter_f[src]);
            std::memcpy(&filter_dev[dst * 2], &h, 2);
          } else {
            std::memcpy(&filter_dev[dst * 4], &filter_f[src], 4);
          }
        }
      }
    }
  }
  std::vector<uint8_t> guard(static_cast<size_t>(out_elems) * ab, 0xA5);
  DeviceCopy d_in(rt, in_dev.data(), in_dev.size(), 64);
  DeviceCopy d_filter(rt, filter_dev.data(), filter_dev.size(), 128);
  DeviceCopy d_out(rt, guard.data(), guard.size(), 32);
  DeviceCopy d_bias(rt, quantized ? static_cast<const void*>(bias_q.data()) : bias_f.data(), bias_f.size() * 4, 16);

  const DType act_type = quantized ? (u8 ? DType::kU8 : DType::kI8) : half ? DType::kF16 : DType::kF32;
  const DType filter_type = fb == 4 ? DType::kF32 : fb == 2 ? DType::kF16 : act_type;
  TensorView in = TensorView::OpenCL(act_type, d_in.mem, 64, {s.n, s.h, s.w, s.cin})
                      .WithStrides({s.h * s.w * in_p, s.w * in_p, in_p, 1});
  TensorView out = TensorView::OpenCL(act_type, d_out.mem, 32, {s.n, oh, ow, s.cout})
                       .WithStrides({oh * ow * out_p, ow * out_p, out_p, 1});
  TensorView filter = TensorView::OpenCL(filter_type, d_filter.mem, 128, {s.cout, s.kh, s.kw, cg});
  filter = s.hwio ? filter.WithStrides({1, s.kw * cg * s.cout, cg * s.cout, s.cout})
                  : filter.WithStrides({s.kh * s.kw * cg, s.kw * cg, cg, 1});
  ek::ConvOptions o;
  o.stride_h = s.sh;
  o.stride_w = s.sw;
  o.dilation_h = s.dh;
  o.dilation_w = s.dw;
  o.padding = s.pad;
  o.groups = s.groups;
  o.activation = s.act;
  o.clamp_min = -0.5f;
  o.clamp_max = 0.75f;
  if (s.bias) o.bias = TensorView::OpenCL(quantized ? DType::kI32 : DType::kF32, d_bias.mem, 16, {s.cout});
  if (quantized) {
    in.quant = ek::QuantParams::PerTensor(0.02f, in_zero);
    out.quant = ek::QuantParams::PerTensor(u8 ? 0.35f : 0.3f, u8 ? 120 : 5);
    if (s.multiplier > 0.0f) {  // every channel's in scale x filter scale / out scale >= multiplier
      const float smallest = *std::min_element(scales.begin(), scales.end());
      out.quant.scale = 0.02f * (type == Type::kI8PerChannel ? smallest : scales[0]) / s.multiplier;
    }
    if (type == Type::kI8PerChannel) {
      filter.quant = ek::QuantParams::PerAxis(0, scales.data());
    } else {
      filter.quant = ek::QuantParams::PerTensor(scales[0], u8 ? 140 : 0);
    }
  }
  char what[256];
  std::snprintf(what, sizeof(what), "%s %s (tile %d x %d)", s.name, TypeName(type), tile ? tile->pixels : 4,
                tile ? tile->local_channels : 0);
  // The path, from the documented rule: pointwise (1x1, stride 1, no padding, one group; the
  // views here are evenly strided) on the GEMM kernels, except u8, and i8 unless stored HWIO.
  const bool pointwise = s.kh == 1 && s.kw == 1 && s.sh == 1 && s.sw == 1 && s.groups == 1 && s.pad.top == 0 &&
                         s.pad.bottom == 0 && s.pad.left == 0 && s.pad.right == 0;
  const bool gemm_path = pointwise && !u8 && (!quantized || s.hwio) && type != Type::kF16FilterF32;
  char path_what[300];
  std::snprintf(path_what, sizeof(path_what), "%s: the %s path", what, gemm_path ? "GEMM" : "direct");
  Check(ek::opencl::ConvPathFor(in, filter, out, o) ==
            (gemm_path ? ek::opencl::ConvPath::kGemm : ek::opencl::ConvPath::kDirect),
        path_what);
  cl_event event = nullptr;
  const ek::Status st = ek::opencl::Conv2D(rt, in, filter, out, o, &event, tile);
  if (!st.ok()) std::printf("  %s: %s\n", what, st.message());
  Check(st.ok(), what);
  if (!st.ok()) return;
  Check(event != nullptr, "an event is returned");
  if (event != nullptr) rt.api().clReleaseEvent(event);
  const std::vector<uint8_t> got = d_out.Read(32, guard.size());

  // The reference on host views of the same values (OHWI, dense).
  TensorView h_in = TensorView::Host(quantized ? act_type : DType::kF32,
                                     quantized ? static_cast<const void*>(in_q.data()) : in_f.data(),
                                     {s.n, s.h, s.w, s.cin})
                        .WithStrides({s.h * s.w * in_p, s.w * in_p, in_p, 1});
  TensorView h_filter = TensorView::Host(quantized ? act_type : DType::kF32,
                                         quantized ? static_cast<const void*>(filter_q.data()) : filter_f.data(),
                                         {s.cout, s.kh, s.kw, cg});
  h_in.quant = in.quant;
  h_filter.quant = filter.quant;
  ek::ConvOptions ho = o;
  ho.bias = s.bias ? TensorView::Host(quantized ? DType::kI32 : DType::kF32,
                                      quantized ? static_cast<const void*>(bias_q.data()) : bias_f.data(), {s.cout})
                   : TensorView();
  TensorView h_out = out;  // shape and strides of the output, host memory for ForEachOutput
  h_out.memory = TensorView::Host(act_type, got.data(), {1}).memory;
  h_out.offset = 0;
  int bad = 0;
  int64_t checked = 0;
  std::vector<bool> written(got.size() / ab, false);
  ek::ref::ForEachOutput(h_out, [&](int64_t n, int64_t y, int64_t x, int64_t oc, int64_t e) {
    written[static_cast<size_t>(e)] = true;
    ++checked;
    if (quantized) {
      const int32_t want = ek::ref::QConv2DElement(h_in, h_filter, out, ho, n, y, x, oc);
      const int32_t have = u8 ? got[static_cast<size_t>(e)] : static_cast<int8_t>(got[static_cast<size_t>(e)]);
      if (want != have && bad++ < 3) {
        std::printf("  %s: (%lld,%lld,%lld,%lld) got %d want %d\n", what, static_cast<long long>(n),
                    static_cast<long long>(y), static_cast<long long>(x), static_cast<long long>(oc), have, want);
      }
      return;
    }
    double value = 0.0, magnitude = 0.0;
    ek::ref::Conv2DElement(h_in, h_filter, ho, n, y, x, oc, &value, &magnitude);
    float have = 0.0f;
    if (half) {
      uint16_t h;
      std::memcpy(&h, &got[static_cast<size_t>(e) * 2], 2);
      have = ek::ref::F16ToF32(h);
    } else {
      std::memcpy(&have, &got[static_cast<size_t>(e) * 4], 4);
    }
    double bound = ek::ref::ConvErrorBound(s.kh * s.kw * cg, magnitude);
    if (half) bound += std::fabs(value) * std::ldexp(1.0, -11) + std::ldexp(1.0, -25);  // f16 rounding
    if (!(std::fabs(have - value) <= bound) && bad++ < 3) {
      std::printf("  %s: (%lld,%lld,%lld,%lld) got %.9g want %.9g (bound %.3g)\n", what, static_cast<long long>(n),
                  static_cast<long long>(y), static_cast<long long>(x), static_cast<long long>(oc), have, value, bound);
    }
  });
  // The gaps between output pixels keep the guard bytes.
  int touched = 0;
  for (size_t e = 0; e < written.size(); ++e) {
    if (written[e]) continue;
    for (size_t b = 0; b < ab; ++b) touched += got[e * ab + b] != 0xA5;
  }
  Check(bad == 0 && checked == s.n * oh * ow * s.cout, what);
  Check(touched == 0, "the output's gaps are left alone");
}

const Shape kShapes[] = {
    // name, n, h, w, cin, cout, kh, kw, sh, sw, dh, dw, pad, groups, bias, act
    {"stem 3x3/s2 3->16 (MobileNetV2 conv0)", 1, 15, 17, 3, 16, 3, 3, 2, 2, 1, 1, {0, 1, 0, 1}, 1, true, Activation::kRelu6},
    {"depthwise 3x3/s1 24", 1, 9, 10, 24, 24, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, 24, true, Activation::kRelu6},
    {"depthwise 3x3/s2 19, batch 2", 2, 11, 8, 19, 19, 3, 3, 2, 2, 1, 1, {0, 1, 0, 1}, 19, true, Activation::kRelu6},
    {"depthwise x2 multiplier 5x5", 1, 7, 9, 6, 12, 5, 5, 1, 1, 1, 1, {2, 2, 2, 2}, 6, false, Activation::kNone},
    {"pointwise expand 16->96 (float: GEMM path)", 1, 6, 7, 16, 96, 1, 1, 1, 1, 1, 1, {}, 1, true, Activation::kRelu6},
    {"pointwise project 40->24, HWIO (GEMM path)", 2, 5, 3, 40, 24, 1, 1, 1, 1, 1, 1, {}, 1, true, Activation::kNone, true},
    {"pointwise on channel slices", 1, 4, 5, 17, 9, 1, 1, 1, 1, 1, 1, {}, 1, true, Activation::kClamp, false, 3, 5},
    {"pointwise stride 2 (direct)", 1, 7, 7, 8, 12, 1, 1, 2, 2, 1, 1, {}, 1, false, Activation::kRelu},
    {"grouped 3x3, 4 groups, HWIO", 1, 6, 6, 12, 8, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, 4, true, Activation::kRelu, true},
    {"dilated 3x3 d2", 1, 9, 8, 5, 7, 3, 3, 1, 1, 2, 2, {2, 2, 2, 2}, 1, true, Activation::kNone},
    {"5x5/s3 uneven padding, strided views", 1, 13, 11, 7, 11, 5, 5, 3, 2, 1, 1, {1, 3, 0, 2}, 1, true,
     Activation::kClamp, false, 2, 3},
    {"1x1 image, 3x3 padded", 1, 1, 1, 13, 6, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, 1, true, Activation::kNone},
    // Integer edges (the float types run them too): multipliers >= 1 (left shift) on both paths,
    // the bias sum wrapping modulo 2^32, and K = KH x KW x C_in / groups at its limit (16384).
    {"3x3, multipliers >= 2 (left shift)", 1, 5, 6, 3, 5, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, 1, false,
     Activation::kNone, false, 0, 0, 2, 2.5f},
    {"pointwise HWIO, multipliers >= 1 (left shift)", 1, 3, 4, 6, 7, 1, 1, 1, 1, 1, 1, {}, 1, false,
     Activation::kRelu, true, 0, 0, 3, 1.25f},
    {"3x3 with the bias wrapping", 1, 4, 4, 5, 6, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, 1, true, Activation::kNone,
     false, 0, 0, 0, 0.0f, true},
    {"2x2 over 4096 channels: K = 16384", 1, 3, 3, 4096, 3, 2, 2, 1, 1, 1, 1, {}, 1, true, Activation::kNone},
};

void BadInputs(ek::opencl::Runtime& rt) {
  std::vector<float> host(4096, 0.5f);
  DeviceCopy d_in(rt, host.data(), 4 * 8 * 8 * 4, 0), d_filter(rt, host.data(), 4 * 4 * 9 * 4, 0),
      d_out(rt, host.data(), 4 * 6 * 6 * 4 + 64, 0), d_bias(rt, host.data(), 16, 0);
  const TensorView in = TensorView::OpenCL(DType::kF32, d_in.mem, 0, {1, 8, 8, 4});
  const TensorView filter = TensorView::OpenCL(DType::kF32, d_filter.mem, 0, {4, 3, 3, 4});
  const TensorView out = TensorView::OpenCL(DType::kF32, d_out.mem, 0, {1, 6, 6, 4});
  ek::ConvOptions o;
  Check(ek::opencl::Conv2D(rt, in, filter, out, o).ok(), "the valid call of the validation set runs");
  CheckRejects(ek::opencl::Conv2D(rt, TensorView::Host(DType::kF32, host.data(), {1, 8, 8, 4}), filter, out, o), "input");
  CheckRejects(ek::opencl::Conv2D(rt, TensorView::OpenCL(DType::kF32, d_in.mem, 0, {8, 8, 4}), filter, out, o), "input");
  CheckRejects(ek::opencl::Conv2D(rt, TensorView::OpenCL(DType::kF32, d_in.mem, 0, {2, 8, 8, 4}), filter, out, o),
               "input");  // past the buffer's end
  CheckRejects(ek::opencl::Conv2D(rt, in, TensorView::OpenCL(DType::kF32, d_filter.mem, 0, {4, 3, 3, 3}), out, o),
               "input");  // channels differ from the filter's
  CheckRejects(ek::opencl::Conv2D(rt, in, TensorView::OpenCL(DType::kF16, d_filter.mem, 0, {4, 3, 3, 4}), out, o),
               "filter");
  CheckRejects(ek::opencl::Conv2D(rt, in, filter, TensorView::OpenCL(DType::kF32, d_out.mem, 0, {1, 7, 6, 4}), o),
               "output");
  CheckRejects(ek::opencl::Conv2D(rt, in, filter, TensorView::OpenCL(DType::kF32, d_in.mem, 0, {1, 6, 6, 4}), o),
               "output");  // overlaps the input
  ek::ConvOptions bad = o;
  bad.stride_h = 0;
  CheckRejects(ek::opencl::Conv2D(rt, in, filter, out, bad), "options.stride_h");
  bad = o;
  bad.dilation_w = 0;
  CheckRejects(ek::opencl::Conv2D(rt, in, filter, out, bad), "options.dilation_h");
  bad = o;
  bad.padding.left = -1;
  CheckRejects(ek::opencl::Conv2D(rt, in, filter, out, bad), "options.padding");
  bad = o;
  bad.groups = 3;
  CheckRejects(ek::opencl::Conv2D(rt, in, filter, out, bad), "options.groups");
  bad = o;
  bad.bias = TensorView::OpenCL(DType::kF32, d_bias.mem, 0, {3});
  CheckRejects(ek::opencl::Conv2D(rt, in, filter, out, bad), "options.bias");
  bad.bias = TensorView::OpenCL(DType::kI32, d_bias.mem, 0, {4});
  CheckRejects(ek::opencl::Conv2D(rt, in, filter, out, bad), "options.bias");
  bad = o;
  bad.activation = Activation::kClamp;
  bad.clamp_min = 1.0f;
  bad.clamp_max = 0.0f;
  CheckRejects(ek::opencl::Conv2D(rt, in, filter, out, bad), "clamp");
  const TensorView big_filter = TensorView::OpenCL(DType::kF32, d_filter.mem, 0, {1, 9, 9, 4}).WithStrides({0, 0, 0, 1});
  CheckRejects(ek::opencl::Conv2D(rt, in, big_filter, out, o), "filter");  // larger than the padded input
  ek::opencl::ConvTile tile;
  tile.pixels = 9;
  CheckRejects(ek::opencl::Conv2D(rt, in, filter, out, o, nullptr, &tile), "tile");
  tile.pixels = 4;
  tile.local_channels = static_cast<int>(rt.caps().max_work_group_size) + 1;
  CheckRejects(ek::opencl::Conv2D(rt, in, filter, out, o, nullptr, &tile), "tile");
  // A tuned tile the device cannot launch falls back to the default (the call still runs).
  const ek::opencl::ConvTile saved = rt.conv_tile(ek::opencl::ConvKernelType::kF32);
  rt.set_conv_tile(ek::opencl::ConvKernelType::kF32, tile);
  Check(ek::opencl::Conv2D(rt, in, filter, out, o).ok(), "a tuned tile beyond the device's limit falls back");
  rt.set_conv_tile(ek::opencl::ConvKernelType::kF32, saved);
  // Extents above 2^31 - 1 through zero strides (the buffer holds one pixel): rejected.
  const TensorView wide = TensorView::OpenCL(DType::kF32, d_in.mem, 0, {1, 8, int64_t{1} << 31, 4}).WithStrides({0, 0, 0, 1});
  CheckRejects(ek::opencl::Conv2D(rt, wide, filter, out, o), "input: an extent above");
  const TensorView deep = TensorView::OpenCL(DType::kF32, d_filter.mem, 0, {4, 3, 3, int64_t{1} << 31}).WithStrides({0, 0, 0, 0});
  CheckRejects(ek::opencl::Conv2D(rt, in, deep, out, o), "filter: an extent above");
  // Quantized: per-tensor input, symmetric filter, multipliers in range.
  TensorView qin = TensorView::OpenCL(DType::kI8, d_in.mem, 0, {1, 8, 8, 4});
  TensorView qfilter = TensorView::OpenCL(DType::kI8, d_filter.mem, 0, {4, 3, 3, 4});
  TensorView qout = TensorView::OpenCL(DType::kI8, d_out.mem, 0, {1, 6, 6, 4});
  qin.quant = ek::QuantParams::PerTensor(0.5f, 0);
  qout.quant = ek::QuantParams::PerTensor(0.5f, 0);
  qfilter.quant = ek::QuantParams::PerTensor(0.01f, 3);
  CheckRejects(ek::opencl::Conv2D(rt, qin, qfilter, qout, o), "filter");  // not symmetric
  qfilter.quant = ek::QuantParams::PerTensor(0.01f, 0);
  Check(ek::opencl::Conv2D(rt, qin, qfilter, qout, o).ok(), "the valid quantized call runs");
  qfilter.quant = ek::QuantParams::PerTensor(1e12f, 0);
  CheckRejects(ek::opencl::Conv2D(rt, qin, qfilter, qout, o), "input.scale * filter.scale / output.scale");
  qfilter.quant = ek::QuantParams::PerTensor(0.01f, 0);
  qin.quant = TensorView().quant;
  CheckRejects(ek::opencl::Conv2D(rt, qin, qfilter, qout, o), "input");
  ek::opencl::Runtime closed;
  CheckRejects(ek::opencl::Conv2D(closed, in, filter, out, o), "runtime");
}


// Global average pooling: f32 exact where the device divides correctly rounded (else within
// 3 ulp), i8 / u8 exact; strided input pixels, a [N, C] output.
void GlobalPool(ek::opencl::Runtime& rt) {
  // n, h, w, c, pixel stride: two pixels (every other sum a half to round), 35 strided
  // pixels, 16 pixels over 130 channels and 3 images.
  const int64_t shapes[3][5] = {{1, 1, 2, 64, 64}, {2, 7, 5, 19, 23}, {3, 4, 4, 130, 130}};
  for (int variant = 0; variant < 9; ++variant) {
    const auto& shape = shapes[variant / 3];
    const DType type = variant % 3 == 0 ? DType::kF32 : variant % 3 == 1 ? DType::kI8 : DType::kU8;
    const int64_t n = shape[0], h = shape[1], w = shape[2], c = shape[3], p = shape[4];
    const size_t e = type == DType::kF32 ? 4 : 1;
    std::vector<uint8_t> in(static_cast<size_t>(n * h * w * p) * e);
    for (size_t i = 0; i < in.size() / e; ++i) {
      if (type == DType::kF32) {
        const float v = Uniform() * 3.0f;
        std::memcpy(&in[i * 4], &v, 4);
      } else {
        in[i] = static_cast<uint8_t>(Next());
      }
    }
    std::vector<uint8_t> guard(static_cast<size_t>(n * c) * e, 0xA5);
    DeviceCopy d_in(rt, in.data(), in.size(), 8), d_out(rt, guard.data(), guard.size(), 4);
    TensorView input = TensorView::OpenCL(type, d_in.mem, 8, {n, h, w, c}).WithStrides({h * w * p, w * p, p, 1});
    TensorView output = TensorView::OpenCL(type, d_out.mem, 4, {n, c});
    if (type != DType::kF32) input.quant = output.quant = ek::QuantParams::PerTensor(0.1f, type == DType::kU8 ? 128 : -3);
    const ek::Status st = ek::opencl::GlobalAvgPool2D(rt, input, output);
    Check(st.ok(), "GlobalAvgPool2D runs");
    const std::vector<uint8_t> got = d_out.Read(4, guard.size());
    std::vector<uint8_t> want(guard.size());
    TensorView h_in = input, h_out = output;
    h_in.memory = TensorView::Host(type, in.data(), {1}).memory;
    h_in.offset = 0;
    h_out.memory = TensorView::Host(type, want.data(), {1}).memory;
    h_out.offset = 0;
    if (type == DType::kF32) {
      ek::ref::GlobalAvgPool2D(h_in, h_out);
      int bad = 0;
      for (size_t i = 0; i < want.size() / 4; ++i) {
        float a, b;
        std::memcpy(&a, &got[i * 4], 4);
        std::memcpy(&b, &want[i * 4], 4);
        const float ulps = rt.caps().correctly_rounded_divide ? 0.0f : 3.0f;
        bad += !(std::fabs(a - b) <= ulps * std::ldexp(std::fabs(b), -23));
      }
      Check(bad == 0, rt.caps().correctly_rounded_divide ? "f32 global pool equals the reference exactly"
                                                          : "f32 global pool within 3 ulp of the reference");
    } else {
      ek::ref::QGlobalAvgPool2D(h_in, h_out);
      Check(got == want, "integer global pool equals the reference bit for bit");
    }
  }
  std::vector<float> host(256, 0.5f);
  DeviceCopy d_in(rt, host.data(), 4 * 2 * 2 * 8, 0), d_out(rt, host.data(), 4 * 8, 0);
  const TensorView in = TensorView::OpenCL(DType::kF32, d_in.mem, 0, {1, 2, 2, 8});
  CheckRejects(ek::opencl::GlobalAvgPool2D(rt, in, TensorView::OpenCL(DType::kF32, d_out.mem, 0, {1, 7})), "output");
  CheckRejects(ek::opencl::GlobalAvgPool2D(rt, in, TensorView::OpenCL(DType::kI8, d_out.mem, 0, {1, 8})), "output");
  CheckRejects(ek::opencl::GlobalAvgPool2D(rt, TensorView::OpenCL(DType::kF32, d_in.mem, 0, {1, 2, 8}),
                                           TensorView::OpenCL(DType::kF32, d_out.mem, 0, {1, 8})),
               "input");
  CheckRejects(ek::opencl::GlobalAvgPool2D(rt, in, TensorView::OpenCL(DType::kF32, d_in.mem, 0, {1, 8})), "output");
  // Zero-stride views far larger than their buffer: H x W would wrap 64 bits (then divide by 0).
  TensorView huge = TensorView::OpenCL(DType::kI8, d_in.mem, 0, {1, int64_t{1} << 32, int64_t{1} << 32, 8});
  huge = huge.WithStrides({0, 0, 0, 1});
  huge.quant = ek::QuantParams::PerTensor(0.1f, 0);
  TensorView huge_out = TensorView::OpenCL(DType::kI8, d_out.mem, 0, {1, 8});
  huge_out.quant = huge.quant;
  CheckRejects(ek::opencl::GlobalAvgPool2D(rt, huge, huge_out), "input: more than 2^23 pixels");
  TensorView qin = TensorView::OpenCL(DType::kI8, d_in.mem, 0, {1, 2, 2, 8});
  TensorView qout = TensorView::OpenCL(DType::kI8, d_out.mem, 0, {1, 8});
  qin.quant = ek::QuantParams::PerTensor(0.1f, 0);
  qout.quant = ek::QuantParams::PerTensor(0.2f, 0);
  CheckRejects(ek::opencl::GlobalAvgPool2D(rt, qin, qout), "output");  // its own scale
}

// MobileNetV2 on the device: f32 step by step within the bound, then int8 bit-exact.
void MobileNetV2(ek::opencl::Runtime& rt) {
  using ek_mobilenet::NetStep;
  using ek_mobilenet::StepKind;
  const ek_mobilenet::NetGraph graph = ek_mobilenet::MobileNetV2Graph(32);
  const uint64_t seed = 5;
  ek_mobilenet::ClMobileNetV2 net(rt, graph, seed);
  Check(net.status().ok(), "f32 network created on the device");
  if (!net.status().ok()) return;
  std::vector<float> image(static_cast<size_t>(32 * 32 * 3));
  for (float& v : image) v = Uniform();
  Check(net.SetImage(image.data(), image.size() * 4).ok() && net.Run().ok(), "f32 network runs");
  std::vector<std::vector<uint8_t>> f32(graph.buffers.size());
  for (size_t i = 0; i < f32.size(); ++i) Check(net.Read(i, &f32[i]).ok(), "buffer read");
  const auto host_view = [&](std::vector<uint8_t>& bytes, size_t i, DType type, const ek::TensorView& like) {
    const ek_mobilenet::NetBuffer& b = graph.buffers[i];
    TensorView v = TensorView::Host(type, bytes.data(), {1, b.h, b.w, b.c});
    v.quant = like.quant;
    return v;
  };
  std::vector<std::vector<float>> filters(graph.layers.size()), biases(graph.layers.size());
  for (size_t i = 0; i < graph.layers.size(); ++i) ek_mobilenet::LayerWeights(graph.layers[i], seed + i, &filters[i], &biases[i]);
  int bad_f32 = 0;
  for (const NetStep& s : graph.steps) {
    const TensorView in = host_view(f32[s.in], s.in, DType::kF32, TensorView());
    const TensorView out = host_view(f32[s.out], s.out, DType::kF32, TensorView());
    const float* got = reinterpret_cast<const float*>(f32[s.out].data());
    if (s.kind == StepKind::kConv) {
      const ek_mobilenet::ConvLayer& l = graph.layers[s.layer];
      const TensorView filter = TensorView::Host(DType::kF32, filters[s.layer].data(),
                                                 {l.out_c, l.kernel, l.kernel, l.depthwise ? 1 : l.in_c});
      ek::ConvOptions o = net.Options(s.layer);
      o.bias = TensorView::Host(DType::kF32, biases[s.layer].data(), {l.out_c});
      ek::ref::ForEachOutput(out, [&](int64_t n, int64_t y, int64_t x, int64_t c, int64_t e) {
        double value, magnitude;
        ek::ref::Conv2DElement(in, filter, o, n, y, x, c, &value, &magnitude);
        const double bound = ek::ref::ConvErrorBound(l.kernel * l.kernel * filter.shape[3], magnitude);
        bad_f32 += !(std::fabs(got[e] - value) <= bound);
      });
    } else if (s.kind == StepKind::kAdd) {
      std::vector<uint8_t> want(f32[s.out].size());
      ek::ref::Add(in, host_view(f32[s.in2], s.in2, DType::kF32, TensorView()),
                   host_view(want, s.out, DType::kF32, TensorView()), ek::ElementwiseOptions());
      bad_f32 += want != f32[s.out];
    } else {
      std::vector<uint8_t> want(f32[s.out].size());
      ek::ref::GlobalAvgPool2D(in, host_view(want, s.out, DType::kF32, TensorView()));
      const float* w = reinterpret_cast<const float*>(want.data());
      for (size_t i = 0; i < want.size() / 4; ++i) {
        const float ulps = rt.caps().correctly_rounded_divide ? 0.0f : 3.0f;
        bad_f32 += !(std::fabs(got[i] - w[i]) <= ulps * std::ldexp(std::fabs(w[i]), -23));
      }
    }
  }
  if (bad_f32) std::printf("  f32 MobileNetV2: %d outputs outside their bound\n", bad_f32);
  Check(bad_f32 == 0, "f32 MobileNetV2 on the device: every step within its bound");

  // int8 from the f32 run's ranges.
  std::vector<std::pair<float, float>> ranges;
  for (const std::vector<uint8_t>& b : f32) {
    const float* v = reinterpret_cast<const float*>(b.data());
    const auto mm = std::minmax_element(v, v + b.size() / 4);
    ranges.emplace_back(*mm.first, *mm.second);
  }
  const ek_mobilenet::QuantizedMobileNetV2 q = ek_mobilenet::QuantizeMobileNetV2(graph, seed, ranges);
  ek_mobilenet::ClMobileNetV2 qnet(rt, graph, seed, &q);
  Check(qnet.status().ok(), "int8 network created on the device");
  if (!qnet.status().ok()) return;
  std::vector<int8_t> qimage(image.size());
  for (size_t i = 0; i < image.size(); ++i) {
    const long v = std::lround(image[i] / q.buffers[0].scale) + q.buffers[0].zero_point;
    qimage[i] = static_cast<int8_t>(v < -128 ? -128 : (v > 127 ? 127 : v));
  }
  Check(qnet.SetImage(qimage.data(), qimage.size()).ok() && qnet.Run().ok(), "int8 network runs");
  std::vector<std::vector<uint8_t>> i8(graph.buffers.size());
  for (size_t i = 0; i < i8.size(); ++i) Check(qnet.Read(i, &i8[i]).ok(), "buffer read");
  int bad_steps = 0;
  for (const NetStep& s : graph.steps) {
    const TensorView in = host_view(i8[s.in], s.in, DType::kI8, qnet.View(s.in));
    std::vector<uint8_t> want(i8[s.out].size());
    const TensorView want_view = host_view(want, s.out, DType::kI8, qnet.View(s.out));
    if (s.kind == StepKind::kConv) {
      const ek_mobilenet::ConvLayer& l = graph.layers[s.layer];
      TensorView filter = TensorView::Host(DType::kI8, q.layers[s.layer].filter.data(),
                                           {l.out_c, l.kernel, l.kernel, l.depthwise ? 1 : l.in_c});
      filter.quant = ek::QuantParams::PerAxis(0, q.layers[s.layer].scales.data());
      ek::ConvOptions o = qnet.Options(s.layer);
      o.bias = TensorView::Host(DType::kI32, q.layers[s.layer].bias.data(), {l.out_c});
      ek::ref::QConv2D(in, filter, want_view, o);
    } else if (s.kind == StepKind::kAdd) {
      ek::ref::QAdd(in, host_view(i8[s.in2], s.in2, DType::kI8, qnet.View(s.in2)), want_view, ek::ElementwiseOptions());
    } else {
      ek::ref::QGlobalAvgPool2D(in, want_view);
    }
    bad_steps += want != i8[s.out];
  }
  std::printf("MobileNetV2 (32 x 32) on the device: %zu steps, int8 steps differing from the reference: %d\n",
              graph.steps.size(), bad_steps);
  Check(bad_steps == 0, "int8 MobileNetV2 on the device: every step bit-exact with the reference (the CPU's)");
}
}  // namespace

int main() {
  ek::opencl::Runtime rt;
  int skip = 0;
  if (!ek_cl_test::OpenOrSkip(rt, &skip)) return skip;
  std::printf("device: %s, correctly rounded f32 division: %d\n", rt.caps().name, rt.caps().correctly_rounded_divide);
  const Type types[] = {Type::kF32, Type::kF16, Type::kF16FilterF32, Type::kI8PerChannel, Type::kI8PerTensor, Type::kU8};
  for (const Shape& s : kShapes) {
    for (Type t : types) RunCase(rt, s, t, nullptr);
  }
  // Each launch shape of the direct kernel (pixels per work-item, work-group widths).
  const ek::opencl::ConvTile tiles[] = {{1, 0}, {3, 0}, {8, 0}, {4, 8}, {2, 32}};
  for (const ek::opencl::ConvTile& tile : tiles) {
    RunCase(rt, kShapes[2], Type::kI8PerChannel, &tile);
    RunCase(rt, kShapes[10], Type::kF32, &tile);
  }
  BadInputs(rt);
  GlobalPool(rt);
  MobileNetV2(rt);
  return ek_cl_test::Finish();
}

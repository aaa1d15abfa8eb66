// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Peer convolutions in the same binary, one thread, the same layers and operands as
// bench/conv_bench.cc: oneDNN's convolution and deconvolution primitives (Debian's libdnnl, C
// API: `peer/onednn/conv/<type>/{mobilenet_v2,transposed}/<layer>` and
// `peer/onednn/net/mobilenet_v2_convs/<type>`); XNNPACK's convolution2d_nhwc_f32 operator (Debian's libxnnpack; weights
// packed at operator creation, like ek's packed weights; its depthwise kernels are chosen by the
// operator for groups with one input and one output channel), as
// `peer/xnnpack/conv/f32/mobilenet_v2/<layer>` and `peer/xnnpack/net/mobilenet_v2_convs/f32`;
// the int8 layers (ConvLayerData::MakeInt8, TFLite's per-channel scheme) through
// convolution2d_nhwc_qc8 as `peer/xnnpack/conv/i8/...` and `.../mobilenet_v2_convs/i8`; the
// transposed layers through deconvolution2d_nhwc_f32 / _qs8 (`peer/xnnpack/conv/<type>/transposed/`);
// and the whole network (`peer/xnnpack/net/mobilenet_v2/f32`): the graph and weights of
// net/mobilenet_v2/f32 (tests/mobilenet_v2_layers.h: MobileNetV2Graph) through XNNPACK's
// convolution, add_nd, global_average_pooling_nwc and fully_connected_nc operators, each set up
// once on buffers allocated once, run in order.
#include <chrono>
#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bench_util.h"
#include "conv_problem.h"

#if EK_PEER_ONEDNN
#include <oneapi/dnnl/dnnl.h>
#endif
#if EK_PEER_XNNPACK
#include <xnnpack.h>
#endif

namespace ek_bench {
namespace {

#if EK_PEER_XNNPACK
// XNNPACK's convolution operator for MobileNetV2 layer l (SAME padding; ReLU6 where the network
// has it; depthwise layers as groups of one channel), with its weights packed at creation.
bool CreateXnnConvolution(const ek_mobilenet::ConvLayer& l, const float* filter, const float* bias,
                          xnn_operator_t* op) {
  const ek::ConvPadding p = ek::SamePadding(l.in_h, l.in_w, l.kernel, l.kernel, l.stride, l.stride);
  const uint32_t groups = l.depthwise ? static_cast<uint32_t>(l.in_c) : 1;
  const uint32_t k = static_cast<uint32_t>(l.kernel), stride = static_cast<uint32_t>(l.stride);
  const bool relu6 = ek_mobilenet::HasRelu6(l);
  return xnn_create_convolution2d_nhwc_f32(
             static_cast<uint32_t>(p.top), static_cast<uint32_t>(p.right), static_cast<uint32_t>(p.bottom),
             static_cast<uint32_t>(p.left), k, k, stride, stride, 1, 1, groups, static_cast<size_t>(l.in_c) / groups,
             static_cast<size_t>(l.out_c) / groups, static_cast<size_t>(l.in_c), static_cast<size_t>(l.out_c), filter,
             bias, relu6 ? 0.0f : -INFINITY, relu6 ? 6.0f : INFINITY, 0, op) == xnn_status_success;
}

// The int8 form (qc8: per-channel weight scales) of the same operator on the layer's int8
// operands (ConvLayerData::MakeInt8), the activation as the same quantized range ek uses.
bool CreateXnnConvolutionQc8(const ConvLayerData& d, xnn_operator_t* op) {
  const ek_mobilenet::ConvLayer& l = d.layer;
  const uint32_t groups = static_cast<uint32_t>(d.groups);
  const uint32_t k = static_cast<uint32_t>(l.kernel), stride = static_cast<uint32_t>(l.stride);
  return xnn_create_convolution2d_nhwc_qc8(
             static_cast<uint32_t>(d.padding.top), static_cast<uint32_t>(d.padding.right),
             static_cast<uint32_t>(d.padding.bottom), static_cast<uint32_t>(d.padding.left), k, k, stride, stride, 1, 1,
             groups, static_cast<size_t>(l.in_c) / groups, static_cast<size_t>(l.out_c) / groups,
             static_cast<size_t>(l.in_c), static_cast<size_t>(l.out_c), static_cast<int8_t>(d.in_zero), d.in_scale,
             d.filter_scales.data(), d.filter_q.data(), d.bias_q.data(), static_cast<int8_t>(d.out_zero), d.out_scale,
             static_cast<int8_t>(d.q_lo), static_cast<int8_t>(d.q_hi), 0, op) == xnn_status_success;
}

// XNNPACK's deconvolution operator for a transposed layer (TransposedConvLayers; SAME padding,
// which for these kernels needs no adjustment), f32 or qs8 (per-tensor weight scale).
bool CreateXnnDeconvolution(const ConvLayerData& d, bool int8, xnn_operator_t* op) {
  const ek_mobilenet::ConvLayer& l = d.layer;
  const uint32_t k = static_cast<uint32_t>(l.kernel), stride = static_cast<uint32_t>(l.stride);
  const auto top = static_cast<uint32_t>(d.padding.top), right = static_cast<uint32_t>(d.padding.right);
  const auto bottom = static_cast<uint32_t>(d.padding.bottom), left = static_cast<uint32_t>(d.padding.left);
  const size_t in_c = static_cast<size_t>(l.in_c), out_c = static_cast<size_t>(l.out_c);
  if (int8) {
    return xnn_create_deconvolution2d_nhwc_qs8(top, right, bottom, left, k, k, stride, stride, 1, 1, 1, in_c, out_c,
                                               in_c, out_c, static_cast<int8_t>(d.in_zero), d.in_scale,
                                               d.filter_scales[0], d.filter_q.data(), d.bias_q.data(),
                                               static_cast<int8_t>(d.out_zero), d.out_scale,
                                               static_cast<int8_t>(d.q_lo), static_cast<int8_t>(d.q_hi), 0, op) ==
           xnn_status_success;
  }
  return xnn_create_deconvolution2d_nhwc_f32(top, right, bottom, left, k, k, stride, stride, 1, 1, 1, in_c, out_c,
                                             in_c, out_c, d.filter.data(), d.bias.data(), -INFINITY, INFINITY, 0,
                                             op) == xnn_status_success;
}

struct XnnConvLayer {
  ConvLayerData data;
  bool int8 = false;
  xnn_operator_t op = nullptr;
  XnnConvLayer(const ek_mobilenet::ConvLayer& l, bool is_int8, bool transposed = false)
      : data(l, transposed), int8(is_int8) {
    if (int8) data.MakeInt8();
  }
  ~XnnConvLayer() {
    if (op) xnn_delete_operator(op);
  }
  bool Prepare() {
    const ek_mobilenet::ConvLayer& l = data.layer;
    if (data.transposed) {
      const size_t h = static_cast<size_t>(l.in_h), w = static_cast<size_t>(l.in_w);
      if (!CreateXnnDeconvolution(data, int8, &op)) return false;
      return int8 ? xnn_setup_deconvolution2d_nhwc_qs8(op, 1, h, w, 0, 0, data.input_q.data(), data.output_q.data(),
                                                       nullptr) == xnn_status_success
                  : xnn_setup_deconvolution2d_nhwc_f32(op, 1, h, w, 0, 0, data.input.data(), data.output.data(),
                                                       nullptr) == xnn_status_success;
    }
    if (int8) {
      return CreateXnnConvolutionQc8(data, &op) &&
             xnn_setup_convolution2d_nhwc_qc8(op, 1, static_cast<size_t>(l.in_h), static_cast<size_t>(l.in_w),
                                              data.input_q.data(), data.output_q.data(), nullptr) == xnn_status_success;
    }
    return CreateXnnConvolution(l, data.filter.data(), data.bias.data(), &op) &&
           xnn_setup_convolution2d_nhwc_f32(op, 1, static_cast<size_t>(l.in_h), static_cast<size_t>(l.in_w),
                                            data.input.data(), data.output.data(), nullptr) == xnn_status_success;
  }
  bool Run() { return xnn_run_operator(op, nullptr) == xnn_status_success; }
};

bool XnnReady() {
  static const bool initialized = xnn_initialize(nullptr) == xnn_status_success;
  return initialized;
}


void XnnLayer(benchmark::State& state, const ek_mobilenet::ConvLayer& l, bool int8, bool transposed = false) {
  if (!XnnReady()) return state.SkipWithError("xnn_initialize failed");
  XnnConvLayer layer(l, int8, transposed);
  if (!layer.Prepare()) return state.SkipWithError("XNNPACK convolution setup failed");
  const double seconds = TimeRotating(state, 1, [&](size_t) {
    const bool ok = layer.Run();
    if (!ok) state.SkipWithError("xnn_run_operator failed");
    benchmark::DoNotOptimize(layer.data.output.data());
    return ok;
  });
  if (seconds >= 0) SetConvCounters(state, layer.data.Flops(), seconds, int8);
}

void XnnNet(benchmark::State& state, bool int8) {
  if (!XnnReady()) return state.SkipWithError("xnn_initialize failed");
  std::vector<std::unique_ptr<XnnConvLayer>> layers;
  double flops = 0.0;
  for (const ek_mobilenet::ConvLayer& l : ek_mobilenet::MobileNetV2Layers()) {
    layers.push_back(std::make_unique<XnnConvLayer>(l, int8));
    if (!layers.back()->Prepare()) return state.SkipWithError("XNNPACK convolution setup failed");
    flops += layers.back()->data.Flops();
  }
  const double seconds = TimeRotating(state, 1, [&](size_t) {
    for (auto& layer : layers) {
      if (!layer->Run()) {
        state.SkipWithError("xnn_run_operator failed");
        return false;
      }
    }
    return true;
  });
  if (seconds >= 0) SetConvCounters(state, flops, seconds, int8);
}

// The whole network: one XNNPACK operator per step of MobileNetV2Graph(224); int8: the
// quantized graph (CalibratedMobileNetV2Int8) through the qc8 convolution (the classifier too, a
// 1x1 convolution, per-channel like ek's), add_nd_qs8 and global_average_pooling_nwc_qs8.
class XnnNetwork {
 public:
  explicit XnnNetwork(bool int8) : int8_(int8) {}
  ~XnnNetwork() {
    for (xnn_operator_t op : ops_) xnn_delete_operator(op);
  }
  bool Prepare() {
    using ek_mobilenet::StepKind;
    graph_ = ek_mobilenet::MobileNetV2Graph(224);
    const ek_mobilenet::QuantizedMobileNetV2* q = int8_ ? &CalibratedMobileNetV2Int8() : nullptr;
    if (q && q->layers.empty()) return false;
    for (const ek_mobilenet::NetBuffer& b : graph_.buffers) {
      buffers_.emplace_back(static_cast<size_t>(b.h * b.w * b.c), 0.25f);
      qbuffers_.emplace_back(int8_ ? static_cast<size_t>(b.h * b.w * b.c) : 0, int8_t{1});
    }
    weights_.resize(graph_.layers.size());
    for (size_t i = 0; i < graph_.layers.size() && !int8_; ++i) {
      ek_mobilenet::LayerWeights(graph_.layers[i], 1 + i, &weights_[i].first, &weights_[i].second);
    }
    for (const ek_mobilenet::NetStep& s : graph_.steps) {
      xnn_operator_t op = nullptr;
      const ek_mobilenet::NetBuffer& in = graph_.buffers[s.in];
      float* x = buffers_[s.in].data();
      float* y = buffers_[s.out].data();
      int8_t* qx = qbuffers_[s.in].data();
      int8_t* qy = qbuffers_[s.out].data();
      const auto zero = [&](size_t buffer) { return static_cast<int8_t>(q->buffers[buffer].zero_point); };
      const auto scale = [&](size_t buffer) { return q->buffers[buffer].scale; };
      bool ok = false;
      if (s.kind == StepKind::kAdd) {
        const size_t shape[4] = {1, static_cast<size_t>(in.h), static_cast<size_t>(in.w), static_cast<size_t>(in.c)};
        if (int8_) {
          ok = xnn_create_add_nd_qs8(zero(s.in), scale(s.in), zero(s.in2), scale(s.in2), zero(s.out), scale(s.out),
                                     -128, 127, 0, &op) == xnn_status_success &&
               xnn_setup_add_nd_qs8(op, 4, shape, 4, shape, qx, qbuffers_[s.in2].data(), qy, nullptr) ==
                   xnn_status_success;
        } else {
          ok = xnn_create_add_nd_f32(-INFINITY, INFINITY, 0, &op) == xnn_status_success &&
               xnn_setup_add_nd_f32(op, 4, shape, 4, shape, x, buffers_[s.in2].data(), y, nullptr) == xnn_status_success;
        }
      } else if (s.kind == StepKind::kGlobalAvgPool) {
        const size_t c = static_cast<size_t>(in.c);
        if (int8_) {
          ok = xnn_create_global_average_pooling_nwc_qs8(c, c, c, zero(s.in), scale(s.in), zero(s.out), scale(s.out),
                                                         -128, 127, 0, &op) == xnn_status_success &&
               xnn_setup_global_average_pooling_nwc_qs8(op, 1, static_cast<size_t>(in.h * in.w), qx, qy, nullptr) ==
                   xnn_status_success;
        } else {
          ok = xnn_create_global_average_pooling_nwc_f32(c, c, c, -INFINITY, INFINITY, 0, &op) == xnn_status_success &&
               xnn_setup_global_average_pooling_nwc_f32(op, 1, static_cast<size_t>(in.h * in.w), x, y, nullptr) ==
                   xnn_status_success;
        }
      } else if (int8_) {  // every layer, the classifier too, as a qc8 convolution
        ConvLayerData d(graph_.layers[s.layer]);
        const ek_mobilenet::QuantizedLayer& ql = q->layers[s.layer];
        d.filter_q = ql.filter;
        d.filter_scales = ql.scales;
        d.bias_q = ql.bias;
        d.in_scale = scale(s.in);
        d.in_zero = zero(s.in);
        d.out_scale = scale(s.out);
        d.out_zero = zero(s.out);
        ek::QuantizedActivationRange(d.relu6 ? 0.0f : -INFINITY, d.relu6 ? 6.0f : INFINITY, d.out_scale, d.out_zero,
                                     -128, 127, &d.q_lo, &d.q_hi);
        ok = CreateXnnConvolutionQc8(d, &op) &&
             xnn_setup_convolution2d_nhwc_qc8(op, 1, static_cast<size_t>(in.h), static_cast<size_t>(in.w), qx, qy,
                                              nullptr) == xnn_status_success;
      } else {
        const ek_mobilenet::ConvLayer& l = graph_.layers[s.layer];
        const float* filter = weights_[s.layer].first.data();
        const float* bias = weights_[s.layer].second.data();
        const float lo = ek_mobilenet::HasRelu6(l) ? 0.0f : -INFINITY, hi = ek_mobilenet::HasRelu6(l) ? 6.0f : INFINITY;
        if (l.name == "fc") {
          const size_t k = static_cast<size_t>(l.in_c), n = static_cast<size_t>(l.out_c);
          ok = xnn_create_fully_connected_nc_f32(k, n, k, n, filter, bias, lo, hi, 0, &op) == xnn_status_success &&
               xnn_setup_fully_connected_nc_f32(op, 1, x, y, nullptr) == xnn_status_success;
        } else {
          ok = CreateXnnConvolution(l, filter, bias, &op) &&
               xnn_setup_convolution2d_nhwc_f32(op, 1, static_cast<size_t>(in.h), static_cast<size_t>(in.w), x, y,
                                                nullptr) == xnn_status_success;
        }
      }
      if (op != nullptr) ops_.push_back(op);
      if (!ok) return false;
    }
    return true;
  }
  bool Run() {
    for (xnn_operator_t op : ops_) {
      if (xnn_run_operator(op, nullptr) != xnn_status_success) return false;
    }
    return true;
  }
  const ek_mobilenet::NetGraph& graph() const { return graph_; }

 private:
  bool int8_;
  ek_mobilenet::NetGraph graph_;
  std::vector<std::vector<float>> buffers_;
  std::vector<std::vector<int8_t>> qbuffers_;
  std::vector<std::pair<std::vector<float>, std::vector<float>>> weights_;  // filter, bias per layer
  std::vector<xnn_operator_t> ops_;
};

void XnnWholeNet(benchmark::State& state, bool int8) {
  if (!XnnReady()) return state.SkipWithError("xnn_initialize failed");
  XnnNetwork net(int8);
  if (!net.Prepare()) return state.SkipWithError("XNNPACK operator setup failed");
  const double seconds = TimeRotating(state, 1, [&](size_t) {
    const bool ok = net.Run();
    if (!ok) state.SkipWithError("xnn_run_operator failed");
    return ok;
  });
  if (seconds >= 0) SetConvCounters(state, ek_mobilenet::ConvFlops(net.graph()), seconds, int8);
}
#endif


#if EK_PEER_ONEDNN
// oneDNN's convolution (and deconvolution, for the transposed layers) through its C API on the
// same operands, NHWC activations, the weights reordered once into the layout the primitive
// picks (format "any"), one OpenMP thread. int8: s8 source and destination with their zero
// points, s8 weights with the per-channel scales folded into output scales, s32 bias; ReLU6 as a
// clip post-op. oneDNN's int8 rounding is not TFLite's (its outputs are not compared, only timed).
class OneDnnConv {
 public:
  ~OneDnnConv() {
    for (dnnl_memory_t m : {src_, weights_, bias_, dst_, scratch_}) {
      if (m) dnnl_memory_destroy(m);
    }
    if (primitive_) dnnl_primitive_destroy(primitive_);
    if (pd_) dnnl_primitive_desc_destroy(pd_);
    if (stream_) dnnl_stream_destroy(stream_);
    if (engine_) dnnl_engine_destroy(engine_);
  }
  bool Prepare(ConvLayerData* d, bool int8) {
    const ek_mobilenet::ConvLayer& l = d->layer;
    const dnnl_dim_t g = d->groups, ic = l.in_c, oc = l.out_c, k = l.kernel, s = l.stride;
    const dnnl_data_type_t act_type = int8 ? dnnl_s8 : dnnl_f32;
    dnnl_memory_desc_t src_md, dst_md, user_weights_md, any_weights_md, bias_md;
    const dnnl_dims_t src_dims = {1, ic, l.in_h, l.in_w}, dst_dims = {1, oc, d->out_h, d->out_w}, bias_dims = {oc};
    dnnl_dims_t weights_dims = {oc, ic, k, k, 0};
    int weight_rank = 4;
    dnnl_format_tag_t user_weights_tag = dnnl_ohwi;
    if (g > 1) {  // [G, OC / G, IC / G, KH, KW]; OHWI per group is gohwi
      const dnnl_dims_t grouped = {g, oc / g, ic / g, k, k};
      for (int i = 0; i < 5; ++i) weights_dims[i] = grouped[i];
      weight_rank = 5;
      user_weights_tag = dnnl_gohwi;
    }
    if (dnnl_engine_create(&engine_, dnnl_cpu, 0) != dnnl_success ||
        dnnl_stream_create(&stream_, engine_, dnnl_stream_default_flags) != dnnl_success ||
        dnnl_memory_desc_init_by_tag(&src_md, 4, src_dims, act_type, dnnl_nhwc) != dnnl_success ||
        dnnl_memory_desc_init_by_tag(&dst_md, 4, dst_dims, act_type, dnnl_nhwc) != dnnl_success ||
        dnnl_memory_desc_init_by_tag(&user_weights_md, weight_rank, weights_dims, act_type, user_weights_tag) !=
            dnnl_success ||
        dnnl_memory_desc_init_by_tag(&any_weights_md, weight_rank, weights_dims, act_type, dnnl_format_tag_any) !=
            dnnl_success ||
        dnnl_memory_desc_init_by_tag(&bias_md, 1, bias_dims, int8 ? dnnl_s32 : dnnl_f32, dnnl_x) != dnnl_success) {
      return false;
    }
    const dnnl_dims_t strides = {s, s}, pad_l = {d->padding.top, d->padding.left},
                      pad_r = {d->padding.bottom, d->padding.right};
    dnnl_primitive_attr_t attr = nullptr;
    dnnl_post_ops_t post_ops = nullptr;
    if (dnnl_primitive_attr_create(&attr) != dnnl_success || dnnl_post_ops_create(&post_ops) != dnnl_success) {
      return false;
    }
    std::vector<float> scales;
    if (int8) {  // acc x in scale x w scale[o] / out scale; zero points of the source and destination
      for (dnnl_dim_t o = 0; o < oc; ++o) scales.push_back(d->in_scale * d->filter_scales[o] / d->out_scale);
      const int32_t in_zero = d->in_zero, out_zero = d->out_zero;
      dnnl_primitive_attr_set_output_scales(attr, oc, 1 << 1, scales.data());  // per channel of dst
      dnnl_primitive_attr_set_zero_points(attr, DNNL_ARG_SRC, 1, 0, &in_zero);
      dnnl_primitive_attr_set_zero_points(attr, DNNL_ARG_DST, 1, 0, &out_zero);
    }
    if (d->relu6) {
      dnnl_post_ops_append_eltwise(post_ops, 1.0f, dnnl_eltwise_clip, 0.0f, int8 ? 6.0f / d->out_scale : 6.0f);
      dnnl_primitive_attr_set_post_ops(attr, post_ops);
    }
    bool ok;
    if (d->transposed) {
      dnnl_deconvolution_desc_t desc;
      ok = dnnl_deconvolution_forward_desc_init(&desc, dnnl_forward_inference, dnnl_deconvolution_direct, &src_md,
                                                &any_weights_md, &bias_md, &dst_md, strides, pad_l, pad_r) ==
               dnnl_success &&
           dnnl_primitive_desc_create(&pd_, &desc, attr, engine_, nullptr) == dnnl_success;
    } else {
      dnnl_convolution_desc_t desc;
      ok = dnnl_convolution_forward_desc_init(&desc, dnnl_forward_inference, dnnl_convolution_direct, &src_md,
                                              &any_weights_md, &bias_md, &dst_md, strides, pad_l, pad_r) ==
               dnnl_success &&
           dnnl_primitive_desc_create(&pd_, &desc, attr, engine_, nullptr) == dnnl_success;
    }
    dnnl_post_ops_destroy(post_ops);
    dnnl_primitive_attr_destroy(attr);
    if (!ok || dnnl_primitive_create(&primitive_, pd_) != dnnl_success) return false;
    // The weights in the primitive's layout, once (a reorder from OHWI).
    const dnnl_memory_desc_t* weights_md = dnnl_primitive_desc_query_md(pd_, dnnl_query_weights_md, 0);
    const dnnl_memory_desc_t* scratch_md = dnnl_primitive_desc_query_md(pd_, dnnl_query_scratchpad_md, 0);
    void* user_weights = int8 ? static_cast<void*>(d->filter_q.data()) : static_cast<void*>(d->filter.data());
    dnnl_memory_t user = nullptr;
    dnnl_primitive_desc_t reorder_pd = nullptr;
    dnnl_primitive_t reorder = nullptr;
    ok = dnnl_memory_create(&user, &user_weights_md, engine_, user_weights) == dnnl_success &&
         dnnl_memory_create(&weights_, weights_md, engine_, DNNL_MEMORY_ALLOCATE) == dnnl_success &&
         dnnl_reorder_primitive_desc_create(&reorder_pd, &user_weights_md, engine_, weights_md, engine_, nullptr) ==
             dnnl_success &&
         dnnl_primitive_create(&reorder, reorder_pd) == dnnl_success;
    if (ok) {
      const dnnl_exec_arg_t args[] = {{DNNL_ARG_FROM, user}, {DNNL_ARG_TO, weights_}};
      ok = dnnl_primitive_execute(reorder, stream_, 2, args) == dnnl_success && dnnl_stream_wait(stream_) == dnnl_success;
    }
    if (reorder) dnnl_primitive_destroy(reorder);
    if (reorder_pd) dnnl_primitive_desc_destroy(reorder_pd);
    if (user) dnnl_memory_destroy(user);
    void* in = int8 ? static_cast<void*>(d->input_q.data()) : static_cast<void*>(d->input.data());
    void* out = int8 ? static_cast<void*>(d->output_q.data()) : static_cast<void*>(d->output.data());
    void* bias = int8 ? static_cast<void*>(d->bias_q.data()) : static_cast<void*>(d->bias.data());
    return ok && dnnl_memory_create(&src_, &src_md, engine_, in) == dnnl_success &&
           dnnl_memory_create(&dst_, &dst_md, engine_, out) == dnnl_success &&
           dnnl_memory_create(&bias_, &bias_md, engine_, bias) == dnnl_success &&
           (scratch_md == nullptr ||
            dnnl_memory_create(&scratch_, scratch_md, engine_, DNNL_MEMORY_ALLOCATE) == dnnl_success);
  }
  bool Run() {
    const dnnl_exec_arg_t args[] = {{DNNL_ARG_SRC, src_},
                                    {DNNL_ARG_WEIGHTS, weights_},
                                    {DNNL_ARG_BIAS, bias_},
                                    {DNNL_ARG_DST, dst_},
                                    {DNNL_ARG_SCRATCHPAD, scratch_}};
    return dnnl_primitive_execute(primitive_, stream_, scratch_ ? 5 : 4, args) == dnnl_success &&
           dnnl_stream_wait(stream_) == dnnl_success;
  }

 private:
  dnnl_engine_t engine_ = nullptr;
  dnnl_stream_t stream_ = nullptr;
  dnnl_primitive_desc_t pd_ = nullptr;
  dnnl_primitive_t primitive_ = nullptr;
  dnnl_memory_t src_ = nullptr, weights_ = nullptr, bias_ = nullptr, dst_ = nullptr, scratch_ = nullptr;
};

struct OneDnnLayer {
  ConvLayerData data;
  OneDnnConv conv;
  bool int8;
  OneDnnLayer(const ek_mobilenet::ConvLayer& l, bool is_int8, bool transposed) : data(l, transposed), int8(is_int8) {
    if (int8) data.MakeInt8();
  }
  bool Prepare() { return conv.Prepare(&data, int8); }
};

void OneDnnLayerBenchmark(benchmark::State& state, const ek_mobilenet::ConvLayer& l, bool int8, bool transposed) {
  SetOpenMpThreads(1);
  OneDnnLayer layer(l, int8, transposed);
  if (!layer.Prepare()) return state.SkipWithError("oneDNN convolution setup failed");
  const double seconds = TimeRotating(state, 1, [&](size_t) {
    const bool ok = layer.conv.Run();
    if (!ok) state.SkipWithError("dnnl_primitive_execute failed");
    return ok;
  });
  if (seconds >= 0) SetConvCounters(state, layer.data.Flops(), seconds, int8);
}

void OneDnnNetBenchmark(benchmark::State& state, bool int8) {
  SetOpenMpThreads(1);
  std::vector<std::unique_ptr<OneDnnLayer>> layers;
  double flops = 0.0;
  for (const ek_mobilenet::ConvLayer& l : ek_mobilenet::MobileNetV2Layers()) {
    layers.push_back(std::make_unique<OneDnnLayer>(l, int8, false));
    if (!layers.back()->Prepare()) return state.SkipWithError("oneDNN convolution setup failed");
    flops += layers.back()->data.Flops();
  }
  const double seconds = TimeRotating(state, 1, [&](size_t) {
    for (auto& layer : layers) {
      if (!layer->conv.Run()) {
        state.SkipWithError("dnnl_primitive_execute failed");
        return false;
      }
    }
    return true;
  });
  if (seconds >= 0) SetConvCounters(state, flops, seconds, int8);
}
#endif

}  // namespace

void RegisterConvPeers() {
#if EK_PEER_ONEDNN
  for (const bool int8 : {false, true}) {
    const std::string type = int8 ? "i8" : "f32";
    const auto add = [&](const ek_mobilenet::ConvLayer& l, bool transposed) {
      const std::string name =
          "peer/onednn/conv/" + type + (transposed ? "/transposed/" : "/mobilenet_v2/") + l.name;
      benchmark::RegisterBenchmark(name.c_str(), [l, int8, transposed](benchmark::State& state) {
        OneDnnLayerBenchmark(state, l, int8, transposed);
      })->Unit(benchmark::kMicrosecond)->UseRealTime();
    };
    for (const ek_mobilenet::ConvLayer& l : ek_mobilenet::MobileNetV2Layers()) add(l, false);
    for (const ek_mobilenet::ConvLayer& l : TransposedConvLayers()) add(l, true);
    const std::string net = "peer/onednn/net/mobilenet_v2_convs/" + type;
    benchmark::RegisterBenchmark(net.c_str(), [int8](benchmark::State& state) { OneDnnNetBenchmark(state, int8); })
        ->Unit(benchmark::kMicrosecond)
        ->UseRealTime();
  }
#endif
#if EK_PEER_XNNPACK
  for (const bool int8 : {false, true}) {
    const std::string type = int8 ? "i8" : "f32";
    for (const ek_mobilenet::ConvLayer& l : ek_mobilenet::MobileNetV2Layers()) {
      const std::string name = "peer/xnnpack/conv/" + type + "/mobilenet_v2/" + l.name;
      benchmark::RegisterBenchmark(name.c_str(), [l, int8](benchmark::State& state) { XnnLayer(state, l, int8); })
          ->Unit(benchmark::kMicrosecond)
          ->UseRealTime();
    }
    for (const ek_mobilenet::ConvLayer& l : TransposedConvLayers()) {
      const std::string name = "peer/xnnpack/conv/" + type + "/transposed/" + l.name;
      benchmark::RegisterBenchmark(name.c_str(), [l, int8](benchmark::State& state) { XnnLayer(state, l, int8, true); })
          ->Unit(benchmark::kMicrosecond)
          ->UseRealTime();
    }
    const std::string net = "peer/xnnpack/net/mobilenet_v2_convs/" + type;
    benchmark::RegisterBenchmark(net.c_str(), [int8](benchmark::State& state) { XnnNet(state, int8); })
        ->Unit(benchmark::kMicrosecond)
        ->UseRealTime();
  }
  for (const bool int8 : {false, true}) {
    const std::string name = std::string("peer/xnnpack/net/mobilenet_v2/") + (int8 ? "i8" : "f32");
    benchmark::RegisterBenchmark(name.c_str(), [int8](benchmark::State& state) { XnnWholeNet(state, int8); })
        ->Unit(benchmark::kMicrosecond)
        ->UseRealTime();
  }
#endif
}

}  // namespace ek_bench

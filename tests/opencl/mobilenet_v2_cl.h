// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// MobileNetV2 (tests/mobilenet_v2_layers.h: MobileNetV2Graph) run whole on an OpenCL device as
// a chain of ek::opencl ops: Conv2D (stem, depthwise, the pointwise layers on the GEMM kernels,
// the classifier a 1x1 convolution), Add for the residual connections, GlobalAvgPool2D for the
// head. f32 with the float weights (LayerWeights), or int8 from a QuantizedMobileNetV2 (TFLite's
// full-integer scheme), so each step is bit-exact with ek's CPU chain (EkMobileNetV2Int8).
// Every buffer and weight lives on the device from construction, the filters stored HWIO (the
// GPU layout); Run enqueues the steps and waits. Shared by tests/opencl/conv_test.cc and bench/opencl/conv_bench.cc.
#ifndef EK_TESTS_OPENCL_MOBILENET_V2_CL_H_
#define EK_TESTS_OPENCL_MOBILENET_V2_CL_H_

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "ek/opencl/conv.h"
#include "ek/opencl/elementwise.h"
#include "ek/opencl/runtime.h"
#include "ek/status.h"
#include "ek/tensor.h"
#include "../mobilenet_v2_layers.h"

namespace ek_mobilenet {

class ClMobileNetV2 {
 public:
  // f32 (quantized == nullptr) or int8 with `quantized`'s weights and buffer parameters.
  ClMobileNetV2(ek::opencl::Runtime& rt, const NetGraph& graph, uint64_t seed,
                const QuantizedMobileNetV2* quantized = nullptr)
      : rt_(rt), graph_(graph), int8_(quantized != nullptr) {
    if (int8_) quant_ = *quantized;
    const size_t element = int8_ ? 1 : 4;
    for (const NetBuffer& b : graph_.buffers) {
      buffers_.push_back(nullptr);
      if (status_.ok()) status_ = ek::opencl::CreateBuffer(rt_, static_cast<size_t>(b.h * b.w * b.c) * element, &buffers_.back());
    }
    for (size_t i = 0; i < graph_.layers.size() && status_.ok(); ++i) {
      std::vector<float> filter, bias;
      LayerWeights(graph_.layers[i], seed + i, &filter, &bias);
      filters_.push_back(nullptr);
      biases_.push_back(nullptr);
      if (int8_) {
        const std::vector<uint8_t> hwio = Hwio(graph_.layers[i], quant_.layers[i].filter.data(), 1);
        status_ = Upload(hwio.data(), hwio.size(), &filters_.back());
        if (status_.ok()) status_ = Upload(quant_.layers[i].bias.data(), quant_.layers[i].bias.size() * 4, &biases_.back());
      } else {
        const std::vector<uint8_t> hwio = Hwio(graph_.layers[i], filter.data(), 4);
        status_ = Upload(hwio.data(), hwio.size(), &filters_.back());
        if (status_.ok()) status_ = Upload(bias.data(), bias.size() * 4, &biases_.back());
      }
    }
  }
  ClMobileNetV2(const ClMobileNetV2&) = delete;
  ClMobileNetV2& operator=(const ClMobileNetV2&) = delete;
  ~ClMobileNetV2() {
    for (cl_mem m : buffers_) ek::opencl::ReleaseBuffer(rt_, m);
    for (cl_mem m : filters_) ek::opencl::ReleaseBuffer(rt_, m);
    for (cl_mem m : biases_) ek::opencl::ReleaseBuffer(rt_, m);
  }

  const ek::Status& status() const { return status_; }
  const NetGraph& graph() const { return graph_; }
  bool int8() const { return int8_; }

  // Buffer i as an NHWC device view (int8: its scale and zero point).
  ek::TensorView View(size_t i) const {
    const NetBuffer& b = graph_.buffers[i];
    ek::TensorView v = ek::TensorView::OpenCL(int8_ ? ek::DType::kI8 : ek::DType::kF32, buffers_[i], 0, {1, b.h, b.w, b.c});
    if (int8_) v.quant = ek::QuantParams::PerTensor(quant_.buffers[i].scale, quant_.buffers[i].zero_point);
    return v;
  }
  // The filter as an OHWI view of its HWIO storage.
  ek::TensorView FilterView(size_t layer) const {
    const ConvLayer& l = graph_.layers[layer];
    const int64_t cg = l.depthwise ? 1 : l.in_c;
    ek::TensorView v = ek::TensorView::OpenCL(int8_ ? ek::DType::kI8 : ek::DType::kF32, filters_[layer], 0,
                                              {l.out_c, l.kernel, l.kernel, cg})
                           .WithStrides({1, l.kernel * cg * l.out_c, cg * l.out_c, l.out_c});
    if (int8_) v.quant = ek::QuantParams::PerAxis(0, quant_.layers[layer].scales.data());
    return v;
  }
  ek::ConvOptions Options(size_t layer) const {
    const ConvLayer& l = graph_.layers[layer];
    ek::ConvOptions o = LayerConvOptions(l);
    o.bias = ek::TensorView::OpenCL(int8_ ? ek::DType::kI32 : ek::DType::kF32, biases_[layer], 0, {l.out_c});
    return o;
  }

  // Enqueues step s (in order on the runtime's queue).
  ek::Status RunStep(const NetStep& s) {
    switch (s.kind) {
      case StepKind::kConv: return ek::opencl::Conv2D(rt_, View(s.in), FilterView(s.layer), View(s.out), Options(s.layer));
      case StepKind::kAdd: return ek::opencl::Add(rt_, View(s.in), View(s.in2), View(s.out));
      case StepKind::kGlobalAvgPool: return ek::opencl::GlobalAvgPool2D(rt_, View(s.in), View(s.out));
    }
    return ek::Status::Error(ek::StatusCode::kInternal, "unknown step");
  }
  // Every step, then waits for the device.
  ek::Status Run() {
    for (const NetStep& s : graph_.steps) EK_RETURN_IF_ERROR(RunStep(s));
    const cl_int err = rt_.api().clFinish(rt_.queue());
    return err == CL_SUCCESS ? ek::Status::Ok() : ek::opencl::detail::ClError("clFinish", err);
  }

  ek::Status SetImage(const void* data, size_t bytes) { return ek::opencl::Upload(rt_, buffers_[0], 0, data, bytes); }
  // Buffer i's bytes (waits for the queue).
  ek::Status Read(size_t i, std::vector<uint8_t>* out) const {
    const NetBuffer& b = graph_.buffers[i];
    out->resize(static_cast<size_t>(b.h * b.w * b.c) * (int8_ ? 1 : 4));
    return ek::opencl::Download(rt_, buffers_[i], 0, out->data(), out->size());
  }

 private:
  // An OHWI filter's elements (`element` bytes each) in HWIO order: the GPU layout
  // (neighbouring work-items read neighbouring weights; pointwise layers become [C_in, C_out] B
  // matrices, which the int8 GEMM takes).
  static std::vector<uint8_t> Hwio(const ConvLayer& l, const void* ohwi, size_t element) {
    const int64_t cg = l.depthwise ? 1 : l.in_c, taps = l.kernel * l.kernel;
    std::vector<uint8_t> out(static_cast<size_t>(l.out_c * taps * cg) * element);
    const auto* in = static_cast<const uint8_t*>(ohwi);
    for (int64_t o = 0; o < l.out_c; ++o) {
      for (int64_t t = 0; t < taps; ++t) {
        for (int64_t c = 0; c < cg; ++c) {
          std::memcpy(&out[static_cast<size_t>((t * cg + c) * l.out_c + o) * element],
                      &in[static_cast<size_t>((o * taps + t) * cg + c) * element], element);
        }
      }
    }
    return out;
  }

  ek::Status Upload(const void* data, size_t bytes, cl_mem* buffer) {
    EK_RETURN_IF_ERROR(ek::opencl::CreateBuffer(rt_, bytes, buffer));
    return ek::opencl::Upload(rt_, *buffer, 0, data, bytes);
  }

  ek::opencl::Runtime& rt_;
  NetGraph graph_;
  bool int8_;
  QuantizedMobileNetV2 quant_;
  ek::Status status_;
  std::vector<cl_mem> buffers_, filters_, biases_;
};

}  // namespace ek_mobilenet

#endif  // EK_TESTS_OPENCL_MOBILENET_V2_CL_H_

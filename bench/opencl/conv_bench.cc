// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// OpenCL convolution benchmarks on the default device (ek/opencl/conv.h), MobileNetV2 at 224 x
// 224, batch 1 (tests/mobilenet_v2_layers.h), filters stored HWIO (the GPU layout: pointwise
// layers run on the GEMM kernels, the others read coalesced weights):
//   cl_conv/<f32|f16|s8>/mobilenet_v2/<layer>   one layer: the stem, a stride-2 depthwise, an
//                                               expand, a project and the last 1x1
//   cl_net/mobilenet_v2_convs/<f32|f16|s8>      all 52 convolution layers, enqueued back to back
//   cl_net/mobilenet_v2/<f32|s8>                the whole network on the device (convolutions,
//                                               residual adds, global pool, classifier;
//                                               tests/opencl/mobilenet_v2_cl.h), the int8 one
//                                               quantized from the f32 one's ranges on an image
// GFLOPS (GOPS for s8) from 2 x multiply-adds; wall time of the enqueues + clFinish.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "../../tests/mobilenet_v2_layers.h"
#include "../../tests/opencl/mobilenet_v2_cl.h"
#include "ek/opencl/conv.h"

namespace ek_bench {

ek::opencl::Runtime* SharedClRuntime();

namespace {

// The device tensors and views of one layer (released with the object).
struct ClConvLayer {
  ek::opencl::Runtime* rt = nullptr;
  cl_mem input = nullptr, filter = nullptr, output = nullptr, bias = nullptr;
  ek::TensorView in, w, out;
  ek::ConvOptions options;
  std::vector<float> scales;
  double flops = 0.0;
  ek::Status status;

  ClConvLayer(ek::opencl::Runtime& runtime, const ek_mobilenet::ConvLayer& l, ek::DType type) : rt(&runtime) {
    const int64_t k = l.kernel, groups = l.depthwise ? l.in_c : 1, cg = l.in_c / groups;
    options = ek_mobilenet::LayerConvOptions(l);  // (projections: no activation)
    const int64_t oh = ek::ConvOutputSize(l.in_h, k, l.stride, 1, options.padding.top, options.padding.bottom);
    const int64_t ow = ek::ConvOutputSize(l.in_w, k, l.stride, 1, options.padding.left, options.padding.right);
    const size_t element = type == ek::DType::kF32 ? 4 : type == ek::DType::kF16 ? 2 : 1;
    const size_t in_bytes = static_cast<size_t>(l.in_h * l.in_w * l.in_c) * element;
    const size_t filter_bytes = static_cast<size_t>(k * k * cg * l.out_c) * element;
    const size_t out_bytes = static_cast<size_t>(oh * ow * l.out_c) * element;
    status = Fill(&input, in_bytes, type, 1);
    if (status.ok()) status = Fill(&filter, filter_bytes, type, 2);
    if (status.ok()) status = Fill(&output, out_bytes, type, 3);
    if (status.ok()) status = Fill(&bias, static_cast<size_t>(l.out_c) * 4, type == ek::DType::kI8 ? type : ek::DType::kF32, 4);
    in = ek::TensorView::OpenCL(type, input, 0, {1, l.in_h, l.in_w, l.in_c});
    out = ek::TensorView::OpenCL(type, output, 0, {1, oh, ow, l.out_c});
    // HWIO storage, viewed as OHWI.
    w = ek::TensorView::OpenCL(type, filter, 0, {l.out_c, k, k, cg}).WithStrides({1, k * cg * l.out_c, cg * l.out_c, l.out_c});
    options.bias = ek::TensorView::OpenCL(type == ek::DType::kI8 ? ek::DType::kI32 : ek::DType::kF32, bias, 0, {l.out_c});
    if (type == ek::DType::kI8) {
      scales.assign(static_cast<size_t>(l.out_c), 0.004f);
      in.quant = ek::QuantParams::PerTensor(0.02f, -3);
      out.quant = ek::QuantParams::PerTensor(0.05f, 2);
      w.quant = ek::QuantParams::PerAxis(0, scales.data());
    }
    flops = 2.0 * static_cast<double>(oh * ow * l.out_c) * static_cast<double>(k * k * cg);
  }
  ClConvLayer(const ClConvLayer&) = delete;
  ClConvLayer& operator=(const ClConvLayer&) = delete;
  ~ClConvLayer() {
    for (cl_mem m : {input, filter, output, bias}) ek::opencl::ReleaseBuffer(*rt, m);
  }
  ek::Status Run() const { return ek::opencl::Conv2D(*rt, in, w, out, options); }

 private:
  // A buffer of small values of `type` (f32 / f16 in [-0.5, 0.5], integers over a narrow range).
  ek::Status Fill(cl_mem* buffer, size_t bytes, ek::DType type, int seed) {
    EK_RETURN_IF_ERROR(ek::opencl::CreateBuffer(*rt, bytes, buffer));
    std::vector<uint8_t> data(bytes);
    for (size_t i = 0; i < bytes; ++i) {
      const uint32_t r = static_cast<uint32_t>((i + 1) * 2654435761u + static_cast<uint32_t>(seed) * 40503u) >> 24;
      data[i] = type == ek::DType::kF16 ? static_cast<uint8_t>(i % 2 ? 0x34 + (r & 7) : r)
                : type == ek::DType::kF32 ? static_cast<uint8_t>(i % 4 == 3 ? 0x3e : r)
                                         : static_cast<uint8_t>(r % 31);
    }
    return ek::opencl::Upload(*rt, *buffer, 0, data.data(), bytes);
  }
};

void TimeLayers(benchmark::State& state, const std::vector<ek_mobilenet::ConvLayer>& layers, ek::DType type) {
  ek::opencl::Runtime& rt = *SharedClRuntime();
  std::vector<std::unique_ptr<ClConvLayer>> chain;
  double flops = 0.0;
  for (const ek_mobilenet::ConvLayer& l : layers) {
    chain.push_back(std::make_unique<ClConvLayer>(rt, l, type));
    if (!chain.back()->status.ok()) {
      state.SkipWithError(chain.back()->status.message());
      return;
    }
    flops += chain.back()->flops;
  }
  const auto run = [&]() {
    for (const auto& layer : chain) EK_RETURN_IF_ERROR(layer->Run());
    rt.api().clFinish(rt.queue());
    return ek::Status::Ok();
  };
  const ek::Status warm = run();  // builds the kernels
  if (!warm.ok()) {
    state.SkipWithError(warm.message());
    return;
  }
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    if (!run().ok()) {
      state.SkipWithError("call failed");
      return;
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  state.counters[type == ek::DType::kI8 ? "GOPS" : "GFLOPS"] =
      flops * static_cast<double>(state.iterations()) / seconds * 1e-9;
}

// The whole network, f32 or int8 (quantized from the f32 network's ranges on one image).
void TimeNetwork(benchmark::State& state, bool int8) {
  ek::opencl::Runtime& rt = *SharedClRuntime();
  const ek_mobilenet::NetGraph graph = ek_mobilenet::MobileNetV2Graph(224);
  const uint64_t seed = 5;
  ek_mobilenet::ClMobileNetV2 f32(rt, graph, seed);
  std::vector<float> image(static_cast<size_t>(224 * 224 * 3));
  for (size_t i = 0; i < image.size(); ++i) image[i] = static_cast<float>((i * 37) % 200) / 100.0f - 1.0f;
  ek::Status s = f32.status();
  if (s.ok()) s = f32.SetImage(image.data(), image.size() * 4);
  if (s.ok()) s = f32.Run();  // also the warm-up: builds the kernels
  std::unique_ptr<ek_mobilenet::ClMobileNetV2> q8;
  ek_mobilenet::QuantizedMobileNetV2 quantized;
  if (s.ok() && int8) {
    std::vector<std::pair<float, float>> ranges;
    std::vector<uint8_t> bytes;
    for (size_t i = 0; i < graph.buffers.size() && s.ok(); ++i) {
      s = f32.Read(i, &bytes);
      const float* v = reinterpret_cast<const float*>(bytes.data());
      const auto mm = std::minmax_element(v, v + bytes.size() / 4);
      ranges.emplace_back(*mm.first, *mm.second);
    }
    quantized = ek_mobilenet::QuantizeMobileNetV2(graph, seed, ranges);
    q8 = std::make_unique<ek_mobilenet::ClMobileNetV2>(rt, graph, seed, &quantized);
    if (s.ok()) s = q8->status();
    if (s.ok()) s = q8->Run();
  }
  if (!s.ok()) {
    state.SkipWithError(s.message());
    return;
  }
  ek_mobilenet::ClMobileNetV2& net = int8 ? *q8 : f32;
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    if (!net.Run().ok()) {
      state.SkipWithError("run failed");
      return;
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  state.counters[int8 ? "GOPS" : "GFLOPS"] =
      ek_mobilenet::ConvFlops(graph) * static_cast<double>(state.iterations()) / seconds * 1e-9;
}

}  // namespace

void RegisterClConvBenchmarks() {
  if (SharedClRuntime() == nullptr) return;
  const struct {
    const char* name;
    ek::DType type;
  } types[] = {{"f32", ek::DType::kF32}, {"f16", ek::DType::kF16}, {"s8", ek::DType::kI8}};
  const std::vector<ek_mobilenet::ConvLayer> all = ek_mobilenet::MobileNetV2Layers();
  const char* picked[] = {"conv0", "b1_dw", "b1_expand", "b1_project", "conv_last"};
  for (const auto& t : types) {
    const ek::DType type = t.type;
    for (const char* name : picked) {
      for (const ek_mobilenet::ConvLayer& l : all) {
        if (l.name != name) continue;
        const std::vector<ek_mobilenet::ConvLayer> one = {l};
        benchmark::RegisterBenchmark((std::string("cl_conv/") + t.name + "/mobilenet_v2/" + name).c_str(),
                                     [one, type](benchmark::State& s) { TimeLayers(s, one, type); })
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime();
      }
    }
    benchmark::RegisterBenchmark((std::string("cl_net/mobilenet_v2_convs/") + t.name).c_str(),
                                 [all, type](benchmark::State& s) { TimeLayers(s, all, type); })
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }
  for (const bool int8 : {false, true}) {
    benchmark::RegisterBenchmark(int8 ? "cl_net/mobilenet_v2/s8" : "cl_net/mobilenet_v2/f32",
                                 [int8](benchmark::State& s) { TimeNetwork(s, int8); })
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }
}

}  // namespace ek_bench

#!/usr/bin/env python3
# Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
"""Optional peer: MobileNetV2 (224 x 224 x 3, batch 1) in ONNX Runtime, timed like ek_bench.

The same graph as net/mobilenet_v2 (tests/mobilenet_v2_layers.h: MobileNetV2Graph): the paper's
layers with SAME padding, ReLU6 after every convolution but the projections, the residual adds,
global average pooling and the 1280 -> 1000 classifier; random weights (time does not depend on
their values). Built with the `onnx` package, run by `onnxruntime` (PyPI; developer tooling
only, never needed to build, test or run ek). Types: f32, and int8 as ONNX Runtime's static
quantization makes it (QDQ, int8 activations and per-channel int8 weights, calibrated on random
images), the form its int8 kernels run. Threads: intra-op 1 and 2, inter-op 1, sequential.

Prints one line per benchmark in ek_bench's format (names as ek's with the prefix peer/ort/, the
median of --repetitions, each the mean of a timed batch):
  peer/ort/net/mobilenet_v2/f32/real_time_median   4712 us
  peer/ort/net/mobilenet_v2/f32/threads_2/real_time_median ...
  peer/ort/conv/<f32|i8>/mobilenet_v2/<layer>/real_time_median ...   (--layers)
tools/tour.sh runs it when onnxruntime and onnx import (EK_PYTHON, default python3) and prints
these beside ek's medians. LiteRT is not timed: building a .tflite needs TensorFlow.

Usage: ort_mobilenet_v2.py [--layers] [--repetitions N] [--min-time SECONDS]
"""
import argparse
import json
import statistics
import sys
import tempfile
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

IMAGE = 224


def mobilenet_v2_layers(image=IMAGE):
    """(name, in_h, in_c, out_c, kernel, stride, depthwise, residual), as MobileNetV2Layers."""
    layers = [("conv0", image, 3, 32, 3, 2, False, False)]
    size, channels, index = (image + 1) // 2, 32, 0
    for t, c, n, s in [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
                       (6, 160, 3, 2), (6, 320, 1, 1)]:
        for i in range(n):
            stride = s if i == 0 else 1
            expanded = channels * t
            if t != 1:
                layers.append((f"b{index}_expand", size, channels, expanded, 1, 1, False, False))
            layers.append((f"b{index}_dw", size, expanded, expanded, 3, stride, True, False))
            size = (size + stride - 1) // stride
            layers.append((f"b{index}_project", size, expanded, c, 1, 1, False, stride == 1 and channels == c))
            channels = c
            index += 1
    layers.append(("conv_last", size, channels, 1280, 1, 1, False, False))
    return layers


def same_pads(size, kernel, stride):
    out = (size + stride - 1) // stride
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class GraphBuilder:
    def __init__(self, seed=1):
        self.nodes, self.inits, self.rng, self.count = [], [], np.random.default_rng(seed), 0

    def name(self, base):
        self.count += 1
        return f"{base}_{self.count}"

    def conv(self, x, layer):
        name, size, in_c, out_c, k, s, depthwise, _ = layer
        groups = in_c if depthwise else 1
        w = (self.rng.standard_normal((out_c, in_c // groups, k, k)) * np.sqrt(2.0 / (k * k * in_c / groups)))
        b = self.rng.standard_normal(out_c) * 0.01
        wn, bn, y = self.name(name + "_w"), self.name(name + "_b"), self.name(name)
        self.inits += [numpy_helper.from_array(w.astype(np.float32), wn), numpy_helper.from_array(b.astype(np.float32), bn)]
        top, bottom = same_pads(size, k, s)
        self.nodes.append(helper.make_node("Conv", [x, wn, bn], [y], kernel_shape=[k, k], strides=[s, s],
                                           pads=[top, top, bottom, bottom], group=groups))
        if not name.endswith("project"):
            lo, hi = self.name("zero"), self.name("six")
            self.inits += [numpy_helper.from_array(np.array(0.0, np.float32), lo),
                           numpy_helper.from_array(np.array(6.0, np.float32), hi)]
            clipped = self.name(name + "_relu6")
            self.nodes.append(helper.make_node("Clip", [y, lo, hi], [clipped]))
            y = clipped
        return y

    def model(self, inputs, outputs):
        graph = helper.make_graph(self.nodes, "mobilenet_v2", inputs, outputs, self.inits)
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def whole_network():
    g = GraphBuilder()
    x = "image"
    block, block_input = None, x
    for layer in mobilenet_v2_layers():
        prefix = layer[0].split("_")[0]
        if prefix != block:
            block, block_input = prefix, x
        x = g.conv(x, layer)
        if layer[7]:
            y = g.name("add")
            g.nodes.append(helper.make_node("Add", [block_input, x], [y]))
            x = y
    pooled, flat = g.name("pool"), g.name("flat")
    g.nodes += [helper.make_node("GlobalAveragePool", [x], [pooled]), helper.make_node("Flatten", [pooled], [flat])]
    w = (g.rng.standard_normal((1000, 1280)) * 0.03).astype(np.float32)
    g.inits += [numpy_helper.from_array(w, "fc_w"), numpy_helper.from_array(np.zeros(1000, np.float32), "fc_b")]
    g.nodes.append(helper.make_node("Gemm", [flat, "fc_w", "fc_b"], ["logits"], transB=1))
    return g.model([helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, IMAGE, IMAGE])],
                   [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 1000])]), (1, 3, IMAGE, IMAGE)


def single_layer(layer):
    g = GraphBuilder(seed=hash(layer[0]) % 1000)
    y = g.conv("input", layer)
    size, in_c, out_c, s = layer[1], layer[2], layer[3], layer[5]
    out = (size + s - 1) // s
    shape = (1, in_c, size, size)
    return g.model([helper.make_tensor_value_info("input", TensorProto.FLOAT, list(shape))],
                   [helper.make_tensor_value_info(y, TensorProto.FLOAT, [1, out_c, out, out])]), shape


def quantize(model, shape):
    """ONNX Runtime's static int8 quantization (QDQ, per-channel weights), calibrated on random data."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    class Reader(CalibrationDataReader):
        def __init__(self):
            rng = np.random.default_rng(7)
            self.batches = iter([{model.graph.input[0].name: rng.uniform(-1, 1, shape).astype(np.float32)}
                                 for _ in range(4)])

        def get_next(self):
            return next(self.batches, None)

    with tempfile.TemporaryDirectory() as d:
        src, dst = f"{d}/model.onnx", f"{d}/model_int8.onnx"
        onnx.save(model, src)
        quantize_static(src, dst, Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
        return onnx.load(dst)


def median_us(model, shape, threads, repetitions, min_time):
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    feed = {session.get_inputs()[0].name: np.random.default_rng(3).uniform(-1, 1, shape).astype(np.float32)}
    for _ in range(3):
        session.run(None, feed)
    start, runs = time.perf_counter(), 0  # a batch long enough for min_time
    while time.perf_counter() - start < min_time or runs < 1:
        session.run(None, feed)
        runs += 1
    samples = []
    for _ in range(repetitions):
        start = time.perf_counter()
        for _ in range(runs):
            session.run(None, feed)
        samples.append((time.perf_counter() - start) / runs * 1e6)
    return statistics.median(samples)


RESULTS = []


def report(name, us):
    print(f"peer/ort/{name}/real_time_median {us:12.1f} us", flush=True)
    RESULTS.append(json_median(f"peer/ort/{name}", us))


def json_median(name, us):
    """One median in Google Benchmark's JSON form (tools/ek-report reads it with ek_bench's)."""
    return {"name": f"{name}/real_time_median", "run_name": f"{name}/real_time", "run_type": "aggregate",
            "aggregate_name": "median", "real_time": us, "cpu_time": us, "time_unit": "us"}


def write_json(path, what):
    if path:
        with open(path, "w", encoding="utf-8") as f:
            json.dump({"context": {"peer": what}, "benchmarks": RESULTS}, f, indent=1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--layers", action="store_true", help="also time every convolution layer alone")
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--min-time", type=float, default=0.2)
    parser.add_argument("--json", help="also write the medians to this file as Google Benchmark JSON")
    args = parser.parse_args()
    ort.set_default_logger_severity(3)
    what = f"onnxruntime {ort.__version__}, onnx {onnx.__version__}, MobileNetV2 {IMAGE} x {IMAGE}"
    print(f"# {what}", file=sys.stderr)
    model, shape = whole_network()
    models = {"f32": model, "i8": quantize(model, shape)}
    for kind, m in models.items():
        report(f"net/mobilenet_v2/{kind}", median_us(m, shape, 1, args.repetitions, args.min_time))
        report(f"net/mobilenet_v2/{kind}/threads_2", median_us(m, shape, 2, args.repetitions, args.min_time))
    if args.layers:
        for layer in mobilenet_v2_layers():
            m, s = single_layer(layer)
            report(f"conv/f32/mobilenet_v2/{layer[0]}", median_us(m, s, 1, args.repetitions, args.min_time))
            report(f"conv/i8/mobilenet_v2/{layer[0]}", median_us(quantize(m, s), s, 1, args.repetitions, args.min_time))
    write_json(args.json, what)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
# Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
"""Optional peer: attention in ONNX Runtime, timed like ek_bench's attn/<type>/decode and prefill.

Decode: one query token against a KV cache of kv_len tokens, the shapes of bench/attention_bench.cc
(q heads x kv heads x kv len x head dim). Prefill: heads x q len x kv len x d with the causal
mask (is_causal), attention_bench.cc's prefill shape. Through ONNX's own Attention operator (opset 23: GQA
when the KV heads are fewer, the cache as [1, kv heads, kv len, d], i.e. head-major like ek's
/head_major variant), f32 and f16, one intra-op thread. Two copies of the cache rotate, as in
ek's benchmark (both sides equally warm: the 4096-token caches exceed the caches of the machines
measured so far, the 1024-token ones may stay in the last-level cache). Built with the `onnx`
package and run by `onnxruntime` (PyPI; developer tooling only, never needed to build, test or
run ek). Each result is checked against a numpy reference before it is timed (relative to the
largest output, with a peaked softmax, so a wrong scale or head mapping fails).

Prints one line per shape in ek_bench's format (the median of --repetitions, each the mean of a
timed batch):
  peer/ort/attn/f32/decode/32x8x4096x128/real_time_median   3500.0 us
  peer/ort/attn/f32/prefill/32x512x512x128/causal/real_time_median   45000.0 us
tools/tour.sh runs it when onnxruntime and onnx import (EK_PYTHON, default python3) and prints
the ratios beside ek's medians.

Usage: ort_attention.py [--repetitions N] [--min-time SECONDS]
"""
import argparse
import json
import statistics
import sys
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper

# (q heads, kv heads, kv len, head dim): attention_bench.cc's decode shapes.
SHAPES = [(32, 32, 4096, 128), (32, 8, 4096, 128), (32, 8, 1024, 64)]
# (heads, q len, kv len, head dim), causal: attention_bench.cc's prefill shape.
PREFILL_SHAPES = [(32, 512, 512, 128)]


def attention_model(q_heads, kv_heads, q_len, kv_len, d, dtype, causal):
    elem = TensorProto.FLOAT16 if dtype == np.float16 else TensorProto.FLOAT
    inputs = [helper.make_tensor_value_info("q", elem, [1, q_heads, q_len, d]),
              helper.make_tensor_value_info("k", elem, [1, kv_heads, kv_len, d]),
              helper.make_tensor_value_info("v", elem, [1, kv_heads, kv_len, d])]
    output = helper.make_tensor_value_info("y", elem, [1, q_heads, q_len, d])
    node = helper.make_node("Attention", ["q", "k", "v"], ["y"], is_causal=1 if causal else 0)
    graph = helper.make_graph([node], "attention", inputs, [output])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 23)])


def reference(feed, q_heads, kv_heads, d, causal):
    """[q heads, q len, d] in float64; causal: query i sees keys 0 .. i (q len = kv len)."""
    q, k, v = (feed[n].astype(np.float64)[0] for n in ("q", "k", "v"))
    q_len, kv_len = q.shape[1], k.shape[1]
    out = np.zeros((q_heads, q_len, d))
    for h in range(q_heads):
        g = h // (q_heads // kv_heads)
        logits = q[h] @ k[g].T / np.sqrt(d)
        if causal:
            logits[np.triu_indices(q_len, 1, kv_len)] = -np.inf
        w = np.exp(logits - logits.max(axis=1, keepdims=True))
        out[h] = (w @ v[g]) / w.sum(axis=1, keepdims=True)
    return out


def median_us(shape, dtype, repetitions, min_time, q_len=1, causal=False):
    q_heads, kv_heads, kv_len, d = shape
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    model = attention_model(q_heads, kv_heads, q_len, kv_len, d, dtype, causal)
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(5)
    q = rng.uniform(-8.0, 8.0, (1, q_heads, q_len, d)).astype(dtype)  # logits spread over several units
    feeds = [{"q": q, "k": rng.uniform(-0.5, 0.5, (1, kv_heads, kv_len, d)).astype(dtype),
              "v": rng.uniform(-0.5, 0.5, (1, kv_heads, kv_len, d)).astype(dtype)} for _ in range(2)]
    got = session.run(None, feeds[0])[0][0].astype(np.float64)
    want = reference(feeds[0], q_heads, kv_heads, d, causal)
    error = np.abs(got - want).max() / np.abs(want).max()
    if error > (3e-3 if dtype == np.float16 else 1e-5):
        raise RuntimeError(f"ONNX Runtime's result is off by {error} (relative to the largest output)")
    start, runs = time.perf_counter(), 0  # a batch long enough for min_time
    while time.perf_counter() - start < min_time or runs < 2:
        session.run(None, feeds[runs % 2])
        runs += 1
    samples = []
    for _ in range(repetitions):
        start = time.perf_counter()
        for i in range(runs):
            session.run(None, feeds[i % 2])
        samples.append((time.perf_counter() - start) / runs * 1e6)
    return statistics.median(samples)


def report(results, name, us):
    print(f"{name}/real_time_median {us:12.1f} us", flush=True)
    # The same median in Google Benchmark's JSON form (tools/ek-report reads it with ek_bench's).
    results.append({"name": f"{name}/real_time_median", "run_name": f"{name}/real_time", "run_type": "aggregate",
                    "aggregate_name": "median", "real_time": us, "cpu_time": us, "time_unit": "us"})


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--min-time", type=float, default=0.2)
    parser.add_argument("--json", help="also write the medians to this file as Google Benchmark JSON")
    args = parser.parse_args()
    ort.set_default_logger_severity(3)
    what = f"onnxruntime {ort.__version__}, onnx {onnx.__version__}, Attention (opset 23)"
    print(f"# {what}", file=sys.stderr)
    results = []
    for dtype, name in ((np.float32, "f32"), (np.float16, "f16")):
        for shape in SHAPES:
            dims = "x".join(str(s) for s in shape)
            us = median_us(shape, dtype, args.repetitions, args.min_time)
            report(results, f"peer/ort/attn/{name}/decode/{dims}", us)
        for heads, q_len, kv_len, d in PREFILL_SHAPES:
            dims = "x".join(str(s) for s in (heads, q_len, kv_len, d))
            us = median_us((heads, heads, kv_len, d), dtype, args.repetitions, args.min_time, q_len, causal=True)
            report(results, f"peer/ort/attn/{name}/prefill/{dims}/causal", us)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"context": {"peer": what}, "benchmarks": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env bash
# The main job: installs what is missing, builds edgekernels (Release), shows what it sees on
# this machine (tools/ek-info), then runs each kernel on the best target this CPU supports and
# prints a table of its speed and percent of this machine's measured peak (bench/ek_bench).
#
# Usage: tools/tour.sh [extra Google Benchmark flags]
# Build tree: $EK_BUILD_ROOT/host-gcc (default ./out/host-gcc), shared with tools/test-all.sh.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${EK_BUILD_ROOT:-$ROOT/out}
BUILD="$OUT/host-gcc"

"$ROOT/tools/setup.sh" --peers   # the peers are benchmarked side by side
mkdir -p "$OUT"
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=g++ -DEK_WERROR=ON \
  > "$BUILD.configure.log" 2>&1 || { cat "$BUILD.configure.log"; exit 1; }
cmake --build "$BUILD" --target ek-info ek_bench | tail -n 3

echo
"$BUILD/tools/ek-info"
echo
# Names without "/target:" run on the selected (best) target; medians of 3 repetitions, run in
# random order (a slow phase of a shared machine then does not fall on one side of a comparison).
RESULTS="$OUT/tour-bench.txt"
"$BUILD/bench/ek_bench" --benchmark_filter='^[^:]*$' --benchmark_repetitions=3 --benchmark_enable_random_interleaving=true \
  --benchmark_report_aggregates_only=true --benchmark_display_aggregates_only=true \
  --benchmark_min_time=0.1 "$@" 2>&1 | grep -v -e '_mean' -e '_stddev' -e '_cv' | tee "$RESULTS"

# GEMM side by side: ek with B as given (packed per call, like the BLAS peers) and pre-packed
# (like XNNPACK's operator) against the best peer of the same run (medians); decode shapes also
# as % of the DRAM read bandwidth the bench measured.
echo
echo "GEMM f32, one thread, medians of this run (GFLOP/s; ratio = ek / best peer, ratio p = ek packed / best peer)"
awk '
  function counter(line, key,   m) { if (match(line, key "=[0-9.]+")) return substr(line, RSTART + length(key) + 1, RLENGTH - length(key) - 1) + 0; return -1 }
  /^(gemm|peer)\// && /_median/ {
    name = $1; if (name ~ /target:/) next
    sub(/\/real_time_median$/, "", name); sub(/_median$/, "", name)
    g = counter($0, "GFLOPS"); d = counter($0, "pct_dram")
    n = split(name, part, "/")
    if (part[1] == "gemm" && part[2] == "f32" && n <= 4) {
      shape = part[3]; if (!(shape in order)) { order[shape] = ++count; shapes[count] = shape }
      if (n == 4 && part[4] == "packed") { ekp[shape] = g; ekdram[shape] = d } else { eku[shape] = g; ekudram[shape] = d }
    } else if (part[1] == "peer" && part[3] == "gemm" && part[4] == "f32") {
      shape = part[5]; if (g > best[shape]) { best[shape] = g; who[shape] = part[2] }
    } else if (part[1] == "gemm" && n == 5 && part[5] == "threads_2") {
      two[part[3]] = g
    }
  }
  END {
    printf("%-20s %9s %9s %9s %-9s %8s %8s %9s\n", "M x N x K", "ek", "ek packed", "best peer", "(which)", "ratio", "ratio p", "%dram p")
    for (i = 1; i <= count; ++i) {
      s = shapes[i]
      printf("%-20s %9.1f %9.1f %9.1f %-9s %8.2f %8.2f %9s\n", s, eku[s], ekp[s], best[s], who[s],
             (best[s] > 0) ? eku[s] / best[s] : 0, (best[s] > 0) ? ekp[s] / best[s] : 0,
             (ekdram[s] != "" && ekdram[s] >= 0) ? sprintf("%.0f%%", ekdram[s]) : "-")
    }
    for (s in two) printf("two threads, %s packed: %.1f GFLOP/s = %.2fx one thread\n", s, two[s], (ekp[s] > 0) ? two[s] / ekp[s] : 0)
  }' "$RESULTS"

# Quantized GEMM side by side: ek's kernels against the peers' int8 GEMM of the same shape
# (oneDNN u8s8s32, XNNPACK qs8, gemmlowp u8), medians of this run, and ek's own f32 GEMM (packed).
echo
echo "Quantized GEMM, one thread, medians of this run (GOP/s; ratio = ek / best peer; vs f32 = ek / ek f32 packed)"
awk '
  function counter(line, key,   m) { if (match(line, key "=[0-9.]+")) return substr(line, RSTART + length(key) + 1, RLENGTH - length(key) - 1) + 0; return -1 }
  /^(qgemm|peer|gemm)\// && /_median/ {
    name = $1; if (name ~ /target:/) next
    sub(/\/real_time_median$/, "", name); sub(/_median$/, "", name)
    n = split(name, part, "/")
    if (part[1] == "qgemm") {
      key = part[2] (n == 4 ? "/" part[4] : "") " " part[3]
      if (!(key in order)) { order[key] = ++count; keys[count] = key; shape[key] = part[3] }
      ops[key] = counter($0, "GOPS"); dram[key] = counter($0, "pct_dram")
    } else if (part[1] == "peer" && part[3] == "qgemm") {
      g = counter($0, "GOPS"); s = part[5]
      if (g > best[s]) { best[s] = g; who[s] = part[2] }
    } else if (part[1] == "gemm" && part[2] == "f32" && n == 4 && part[4] == "packed") {
      f32[part[3]] = counter($0, "GFLOPS")
    }
  }
  END {
    printf("%-28s %9s %9s %-9s %7s %7s %7s\n", "kernel M x N x K", "ek", "best peer", "(which)", "ratio", "vs f32", "%dram")
    for (i = 1; i <= count; ++i) {
      k = keys[i]; s = shape[k]
      printf("%-28s %9.1f %9.1f %-9s %7.2f %7.2f %7s\n", k, ops[k], best[s], who[s], (best[s] > 0) ? ops[k] / best[s] : 0,
             (f32[s] > 0) ? ops[k] / f32[s] : 0, (dram[k] >= 0) ? sprintf("%.0f%%", dram[k]) : "-")
    }
  }' "$RESULTS"

# ONNX Runtime (optional, developer tooling from PyPI): bench/peers/ort_mobilenet_v2.py times the
# same MobileNetV2 (f32 and int8, one and two threads; and each convolution layer alone) when
# onnxruntime and onnx import in EK_PYTHON (default python3); its lines join this run's results.
PYTHON=${EK_PYTHON:-python3}
if "$PYTHON" -c 'import onnxruntime, onnx, numpy' > /dev/null 2>&1; then
  echo
  echo "ONNX Runtime peer (bench/peers/ort_mobilenet_v2.py, $("$PYTHON" -c 'import onnxruntime; print(onnxruntime.__version__)'))"
  "$PYTHON" "$ROOT/bench/peers/ort_mobilenet_v2.py" --layers --repetitions 3 --min-time 0.1 2> /dev/null | tee -a "$RESULTS" \
    || echo "ONNX Runtime peer: failed (its lines are missing below)"
  echo "ONNX Runtime peer (bench/peers/ort_attention.py: ONNX's Attention operator, decode and causal prefill)"
  "$PYTHON" "$ROOT/bench/peers/ort_attention.py" --repetitions 3 --min-time 0.1 2> /dev/null | tee -a "$RESULTS" \
    || echo "ONNX Runtime attention peer: failed (its lines are missing below)"
else
  echo
  echo "ONNX Runtime peer: not installed (pip install onnxruntime onnx numpy into a venv, then EK_PYTHON=<venv>/bin/python)"
fi

# Convolution side by side: ek's Conv2D (f32, and int8 with TFLite's per-channel scheme) on each
# MobileNetV2 layer, on all 52 in a row (net/mobilenet_v2_convs), ek's TransposeConv2D on
# decoder-head shapes (conv/<type>/transposed), and the whole network as a chain of ek ops
# (net/mobilenet_v2: convs, residual adds, global pooling, classifier), against XNNPACK's and
# oneDNN's operators in the same run and ONNX Runtime when present (medians; int8: XNNPACK's qc8
# / qs8 operators, oneDNN's s8 convolution, ONNX Runtime's QDQ model with u8 activations; oneDNN
# has no whole-network row; ONNX Runtime's single layers include its layout conversions at the
# model's edges, so its whole-network rows are the comparable ones).
echo
echo "Convolution f32 and int8, MobileNetV2 layers, transposed layers and whole network (224 x 224, batch 1), one thread unless threads_2, medians of this run (G/s: GFLOP/s f32, GOP/s int8; ratio = peer time / ek time)"
awk '
  function counter(line, key) { if (match(line, key "=[0-9.]+")) return substr(line, RSTART + length(key) + 1, RLENGTH - length(key) - 1) + 0; return -1 }
  function ratio(peer_us, ek_us) { return (peer_us > 0 && ek_us > 0) ? sprintf("%.2f", peer_us / ek_us) : "-" }
  function us(t) { return (t > 0) ? sprintf("%.1f", t) : "-" }
  /^(conv|net|peer\/(xnnpack|onednn|ort)\/(conv|net))\// && /_median/ {
    name = $1; if (name ~ /target:/ || name ~ /llama_block/) next
    sub(/\/real_time_median$/, "", name); sub(/_median$/, "", name)
    who = "ek"
    if (sub(/^peer\/xnnpack\//, "", name)) who = "xnn"
    if (sub(/^peer\/onednn\//, "", name)) who = "dnnl"
    if (sub(/^peer\/ort\//, "", name)) who = "ort"
    if (!(name in order)) { order[name] = ++count; names[count] = name }
    g = counter($0, "GFLOPS"); if (g < 0) g = counter($0, "GOPS")
    t[who, name] = $2; if (who == "ek") eg[name] = g
  }
  END {
    if (count == 0) exit
    printf("%-38s %9s %7s %10s %6s %10s %6s %9s %6s\n", "layer", "ek us", "G/s", "XNNPACK us", "ratio", "oneDNN us",
           "ratio", "ORT us", "ratio")
    for (i = 1; i <= count; ++i) {
      n = names[i]; e = t["ek", n]
      if (e <= 0) continue
      printf("%-38s %9s %7.1f %10s %6s %10s %6s %9s %6s\n", n, us(e), eg[n], us(t["xnn", n]), ratio(t["xnn", n], e),
             us(t["dnnl", n]), ratio(t["dnnl", n], e), us(t["ort", n]), ratio(t["ort", n], e))
    }
  }' "$RESULTS"

# OpenCL on the default device (PoCL on a CPU-only machine): ek's GEMM kernels against CLBlast's
# SGEMM on the same device and queue, the LLM path (dynamic int8 x int8 / int4), convolution
# (five MobileNetV2 layers and its 52 convolutions back to back), quantization,
# and the program cache (cold build vs load from ek's cache).
echo
echo "OpenCL on the default device, medians of this run (ratio = ek / CLBlast f32 on the same device)"
awk '
  function counter(line, key) { if (match(line, key "=[0-9.]+")) return substr(line, RSTART + length(key) + 1, RLENGTH - length(key) - 1) + 0; return -1 }
  /^(cl_gemm|cl_qgemm|cl_quantize|cl_conv|cl_net|peer\/clblast\/cl_gemm|cl_program)\// && /_median/ {
    name = $1; sub(/\/real_time_median$/, "", name); sub(/\/iterations:[0-9]+/, "", name)
    n = split(name, part, "/")
    if (part[1] == "cl_gemm" || part[1] == "cl_qgemm" || part[1] == "cl_quantize" || part[1] == "cl_conv" || part[1] == "cl_net") {
      unit = "GFLOP/s"; g = counter($0, "GFLOPS")
      if (g < 0) { unit = "GOP/s"; g = counter($0, "GOPS") }
      if (g < 0) { unit = "GB/s"; g = counter($0, "GBps") }
      key = part[1] " " part[2] (n >= 4 ? "/" part[4] : "") " " part[3]
      if (!(key in ek)) { keys[++count] = key; shape[key] = part[3]; type[key] = part[1] "/" part[2] }
      ek[key] = g; units[key] = unit; gbps[key] = (part[1] == "cl_qgemm") ? counter($0, "GBps") : -1
    } else if (part[1] == "peer") {
      clblast[part[5]] = counter($0, "GFLOPS")
    } else if (part[1] == "cl_program") {
      ms[part[2]] = $2
    }
  }
  END {
    printf("%-40s %9s %-8s %9s %7s %9s\n", "kernel M x N x K", "ek", "", "CLBlast", "ratio", "weights")
    for (i = 1; i <= count; ++i) {
      k = keys[i]; s = shape[k]
      c = (type[k] == "cl_gemm/f32" && s in clblast) ? clblast[s] : 0
      printf("%-40s %9.2f %-8s %9s %7s %9s\n", k, ek[k], units[k], c > 0 ? sprintf("%.2f", c) : "-",
             c > 0 ? sprintf("%.2f", ek[k] / c) : "-", gbps[k] >= 0 ? sprintf("%.2f GB/s", gbps[k]) : "-")
    }
    if ("build_cold" in ms && "build_cached" in ms && ms["build_cached"] > 0)
      printf("program build: cold %.1f ms, from ek cache %.2f ms (%.0fx)\n", ms["build_cold"], ms["build_cached"], ms["build_cold"] / ms["build_cached"])
  }' "$RESULTS"

# Attention (CPU): decode of one token against an f32, f16, int8, Q8_0 or Q4_0 KV cache read from DRAM (GB/s
# of K and V and % of the measured DRAM read; views, or an ek::KvCache: /kv_cache contiguous,
# /paged16 in 16-token pages) and a causal prefill (GFLOP/s of the unmasked work, % of the FMA
# peak). Beside the f32 / f16 decode lines, ONNX Runtime's time for the same shape when its peer
# ran (bench/peers/ort_attention.py: its cache is head-major, like ek's /head_major lines) and
# the speed-up ORT time / ek time.
echo
echo "Attention (f32 / f16 / int8 / Q8_0 / Q4_0 cache), one thread, medians of this run (decode: q heads x kv heads x kv len x d; prefill: heads x q len x kv len x d)"
awk '
  function counter(line, key) { if (match(line, key "=[0-9.]+")) return substr(line, RSTART + length(key) + 1, RLENGTH - length(key) - 1) + 0; return -1 }
  /^peer\/ort\/attn\// && /_median/ { name = $1; sub(/^peer\/ort\//, "", name); sub(/\/real_time_median$/, "", name); ort[name] = $2; next }
  /^attn\// && /_median/ && !/target:/ {
    name = $1; sub(/\/real_time_median$/, "", name)
    g = counter($0, "GBps"); p = counter($0, "pct_dram")
    if (g < 0) { g = counter($0, "GFLOPS"); p = counter($0, "pct_peak"); unit = "GFLOP/s"; what = "% FMA peak" } else { unit = "GB/s"; what = "% DRAM read" }
    names[++count] = name; line[name] = sprintf("%-46s %10.1f us %9.2f %-8s %6.1f %-11s", name, $2, g, unit, p, what); us[name] = $2
  }
  END {
    for (i = 1; i <= count; ++i) {
      n = names[i]; base = n; sub(/\/(head_major|kv_cache|paged16)$/, "", base)
      peer = (base in ort) ? sprintf("  ORT %9.1f us  ek %.2fx", ort[base], ort[base] / us[n]) : ""
      print line[n] peer
    }
  }' "$RESULTS"

# The row ops around attention (docs/transformer.md): RMSNorm, LayerNorm, softmax, gated
# activations, RoPE at decode (1 row / token) and prefill shapes; GB/s of inputs + output and %
# of memcpy's rate at the same footprint. No peer in this binary.
echo
echo "Transformer block row ops, one thread, medians of this run (rows x n; RoPE: tokens x heads x head dim)"
awk '
  function counter(line, key) { if (match(line, key "=[0-9.]+")) return substr(line, RSTART + length(key) + 1, RLENGTH - length(key) - 1) + 0; return -1 }
  /^ops\// && /_median/ && !/target:/ {
    name = $1; sub(/\/real_time_median$/, "", name)
    printf("%-40s %10.2f us %9.2f GB/s %6.1f %% memcpy\n", name, $2, counter($0, "GBps"), counter($0, "pct_peak"))
  }' "$RESULTS" | sort

# One decoder block's decode step (bench/llama_block_bench.cc): int4 GEMVs, RoPE, KV append into
# an ek::KvCache (f16, or int8 with /kv_i8), attention, norms, SiLU MLP, weights read from DRAM;
# the implied tokens/s of the whole model (its layers x the block; embedding and LM head left
# out) and the time by stage.
echo
echo "Decoder block decode step (Llama 3.2 1B shapes, Q4_0 weights, f16 KV cache or /kv_i8), one thread, medians of this run"
awk '
  function counter(line, key,   v, unit) {  # Google Benchmark prints counters with SI suffixes (k, M, G; m, u, n)
    if (!match(line, key "=[0-9.]+[kMGmun]?")) return -1
    v = substr(line, RSTART + length(key) + 1, RLENGTH - length(key) - 1); unit = substr(v, length(v))
    if (unit == "k") return v * 1e3; if (unit == "M") return v * 1e6; if (unit == "G") return v * 1e9
    if (unit == "m") return v * 1e-3; if (unit == "u") return v * 1e-6; if (unit == "n") return v * 1e-9
    return v + 0
  }
  /^net\/llama_block\// && /_median/ && !/target:/ {
    name = $1; sub(/\/real_time_median$/, "", name)
    printf("%-44s %8.0f us  %5.1f tok/s  %6.2f GB/s %5.1f %% DRAM  (projections %.0f, attention %.0f, MLP %.0f, rest %.0f us)\n", name,
           counter($0, "block_us"), counter($0, "tokens_per_s"), counter($0, "GBps"), counter($0, "pct_dram"),
           counter($0, "proj_us"), counter($0, "attn_us"), counter($0, "mlp_us"), counter($0, "other_us"))
  }' "$RESULTS" | sort

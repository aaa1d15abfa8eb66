#!/usr/bin/env bash
# The main job: installs what is missing, builds edgekernels (Release), shows what it sees on
# this machine (tools/ek-info), then runs the kernels section by section on the best target this
# CPU supports, beside the peer libraries of the same run, and prints each section's table as
# soon as it is measured (speed, % of this machine's measured peak, ratio to the best peer).
#
# Usage: tools/tour.sh [--full] [--section KEY ...] [-- extra Google Benchmark flags]
#   (default)   the quick tour: a few shapes per kernel family, about 10 minutes on a 2-core
#               cloud machine
#   --full      every shape of every family (about 25 minutes there)
#   --section   only these sections (keys: rows gemm qgemm conv opencl attention ops block)
#   --print-quick-filter   print the quick tour's benchmark filter and stop (tools/ek-phone)
# Results: $EK_BUILD_ROOT/tour/<section>.json (Google Benchmark JSON; tools/ek-report reads them:
# tables, compare two runs, plots). Build tree: $EK_BUILD_ROOT/host-gcc (default ./out/host-gcc),
# shared with tools/test-all.sh.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${EK_BUILD_ROOT:-$ROOT/out}
BUILD="$OUT/host-gcc"

# Sections: key; title; quick filter; full filter; ek-report table (';' separates: the regexes
# hold '|'). Names without "/target:" run on the selected (best) target; peers are named
# peer/<library>/<the same name>.
SHAPES_GEMM='256x256x256|512x512x512|1024x1024x1024|1x4096x4096|1x11008x4096|16x4096x4096|64x4096x4096|196x256x1152'
SHAPES_QGEMM='256x256x256|1024x1024x1024|1x4096x4096|1x11008x4096|16x4096x4096|64x4096x4096|196x256x1152'
LAYERS='conv0|b1_dw|b1_expand|b2_dw|b13_expand|b16_project|conv_last'
SECTIONS=(
  "rows;Conversion and quantization rows;^(convert|quantize|dequantize)/[a-z0-9_]+/(262144|16777216)$;^(convert|quantize|dequantize|packed)/[^:]*$;rows"
  "gemm;GEMM (f32, f16 and bf16 weights) against OpenBLAS, oneDNN, XNNPACK, Eigen;^((peer/[a-z]+/)?gemm/f32/($SHAPES_GEMM)(/packed(/threads_2)?)?|gemm/(f32xf16w|f32xbf16w|f16)/(256x256x256|1x4096x4096|16x4096x4096)/packed)$;^(peer/[a-z]+/)?gemm/[^:]*$;gemm"
  "qgemm;Quantized GEMM against oneDNN u8s8s32, XNNPACK qs8, gemmlowp;^(peer/[a-z]+/)?qgemm/[a-z0-9_]+/($SHAPES_QGEMM)(/b32)?$;^(peer/[a-z]+/)?qgemm/[^:]*$;qgemm"
  "conv;Convolution: MobileNetV2 layers and the whole network against XNNPACK, oneDNN (and ONNX Runtime);^(peer/[a-z]+/)?(net/mobilenet_v2(_convs)?/(f32|i8)(/threads_2)?|conv/(f32|i8)/mobilenet_v2/($LAYERS)|conv/f32/transposed/k4s2_14x14x256_128)$;^(peer/[a-z]+/)?(conv/|net/mobilenet_v2)[^:]*$;conv"
  "opencl;OpenCL on the default device against CLBlast;^(peer/clblast/)?cl_(gemm/f32/[^:]*|qgemm/[a-z0-9]+/1x4096x4096(/b32)?|net/mobilenet_v2/(f32|s8)|program/[a-z_]+)$;^(peer/clblast/)?cl_[^:]*$;opencl"
  "attention;Attention: decode over an f32 / f16 / int8 / Q8_0 / Q4_0 KV cache, causal prefill;^attn/[a-z0-9_]+/(decode/32x8x4096x128(/kv_cache)?|prefill/[^:]*)$;^attn/[^:]*$;attention"
  "ops;Transformer row ops (RMSNorm, LayerNorm, softmax, gated MLP activations, RoPE);^ops/[^:]*$;^ops/[^:]*$;ops"
  "block;One decoder block's decode step (Llama 3.2 1B shapes, Q4_0 weights);^net/llama_block/[a-z0-9_]+/[^/]+/ctx4096(/kv_i8)?$;^net/llama_block/[^:]*$;block"
)

# Benchmarks timed in real time carry "/real_time" at the end of their names.
REAL_TIME='(/real_time)?$'

FULL=0
ONLY=()
EXTRA=()
while [ $# -gt 0 ]; do
  case "$1" in
    --full) FULL=1; shift ;;
    --section) ONLY+=("$2"); shift 2 ;;
    --print-quick-filter)
      filters=()
      for s in "${SECTIONS[@]}"; do IFS=';' read -r _ _ quick _ _ <<< "$s"; filters+=("(${quick//\$/$REAL_TIME})"); done
      (IFS='|'; echo "${filters[*]}")
      exit 0 ;;
    --) shift; EXTRA=("$@"); break ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) EXTRA+=("$1"); shift ;;   # Google Benchmark flags, as before
  esac
done

"$ROOT/tools/setup.sh" --peers   # the peers are benchmarked side by side
mkdir -p "$OUT"
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=g++ -DEK_WERROR=ON \
  > "$BUILD.configure.log" 2>&1 || { cat "$BUILD.configure.log"; exit 1; }
echo "building ek_bench and ek-info (Release; about 10 minutes on 2 cores the first time) ..."
# Progress every 5th step; anything else ninja prints (errors) whole.
cmake --build "$BUILD" --target ek-info ek_bench |
  awk '/^\[[0-9]+\/[0-9]+\]/ { if (++n % 5 == 1) { print "  " $1 " " $NF; fflush() } next } { print; fflush() }'

echo
"$BUILD/tools/ek-info"
echo
REPORT=(/usr/bin/python3 "$ROOT/tools/ek-report")
[ -x /usr/bin/python3 ] || REPORT=(python3 "$ROOT/tools/ek-report")
RESULTS="$OUT/tour"
rm -rf "$RESULTS"
mkdir -p "$RESULTS"

# ONNX Runtime (optional, developer tooling from PyPI): bench/peers/ort_*.py time the same
# MobileNetV2 and attention shapes when onnxruntime and onnx import in EK_PYTHON (default python3).
PYTHON=${EK_PYTHON:-python3}
HAVE_ORT=0
if "$PYTHON" -c 'import onnxruntime, onnx, numpy' > /dev/null 2>&1; then HAVE_ORT=1; fi

selected=()
for s in "${SECTIONS[@]}"; do
  key=${s%%;*}
  if [ ${#ONLY[@]} -gt 0 ] && [[ " ${ONLY[*]} " != *" $key "* ]]; then continue; fi
  selected+=("$s")
done
[ ${#selected[@]} -gt 0 ] || { echo "tour.sh: no section matches: ${ONLY[*]}" >&2; exit 2; }

mode=quick; [ "$FULL" = 1 ] && mode=full
echo "Tour ($mode): ${#selected[@]} sections; each runs its benchmarks 3 times in random order (a slow phase"
echo "of a shared machine then does not fall on one side of a comparison) and prints medians of this run."
tour_start=$SECONDS
index=0
done_files=()
for s in "${selected[@]}"; do
  index=$((index + 1))
  IFS=';' read -r key title quick full table <<< "$s"
  filter=$quick
  [ "$FULL" = 1 ] && filter=$full
  filter=${filter//\$/$REAL_TIME}
  count=$("$BUILD/bench/ek_bench" --benchmark_list_tests --benchmark_filter="$filter" 2>/dev/null | grep -cE '^[^ ]+/[^ ]*$' || true)
  echo
  echo "[$index/${#selected[@]}] $title"
  echo "      $count benchmarks x 3 repetitions; started $(date +%H:%M:%S), $(( (SECONDS - tour_start) / 60 )) min into the tour ..."
  [ "$count" -gt 0 ] || { echo "      (none built on this machine)"; continue; }
  section_start=$SECONDS
  files=("$RESULTS/$key.json")
  "$BUILD/bench/ek_bench" --benchmark_filter="$filter" --benchmark_repetitions=3 --benchmark_enable_random_interleaving=true \
    --benchmark_report_aggregates_only=true --benchmark_min_time=0.1 \
    --benchmark_out="$RESULTS/$key.json" --benchmark_out_format=json "${EXTRA[@]+"${EXTRA[@]}"}" \
    > "$RESULTS/$key.txt" 2>&1 || { echo "tour.sh: ek_bench failed in section $key:"; tail -n 20 "$RESULTS/$key.txt"; exit 1; }
  if [ "$HAVE_ORT" = 1 ] && { [ "$key" = conv ] || [ "$key" = attention ]; }; then
    script=ort_mobilenet_v2.py; args=(--repetitions 3 --min-time 0.1)
    [ "$key" = conv ] && [ "$FULL" = 1 ] && args+=(--layers)
    [ "$key" = attention ] && script=ort_attention.py
    echo "      ONNX Runtime peer (bench/peers/$script) ..."
    if "$PYTHON" "$ROOT/bench/peers/$script" "${args[@]}" --json "$RESULTS/$key-ort.json" > /dev/null 2>&1; then
      files+=("$RESULTS/$key-ort.json")
    else
      echo "      ONNX Runtime peer failed: its columns stay empty"
    fi
  fi
  echo "      done in $((SECONDS - section_start)) s"
  if [ "$index" = 1 ]; then   # ek_bench's header, once: the peaks each % refers to
    sed -n '/^ek_bench:/,/^$/p' "$RESULTS/$key.txt" | sed 's/^/      /'
  fi
  # The earlier sections' results too: the quantized table divides by ek's f32 GEMM of the run.
  done_files+=("${files[@]}")
  "${REPORT[@]}" tables "${done_files[@]}" --section "$table" | sed '1d'   # line 1: the run's context
done
if [ "$HAVE_ORT" = 0 ]; then
  echo
  echo "ONNX Runtime peer: not installed (pip install onnxruntime onnx numpy into a venv, then EK_PYTHON=<venv>/bin/python)"
fi

echo
echo "Tour done in $(( (SECONDS - tour_start) / 60 )) min $(( (SECONDS - tour_start) % 60 )) s. Results: $RESULTS/*.json"
if "${REPORT[@]}" plots "$RESULTS"/*.json --out "$RESULTS/plots" 2> /dev/null; then :; else
  echo "(plots: tools/ek-report plots needs python3-matplotlib)"
fi
echo "Every shape of every family: tools/tour.sh --full. Compare two runs: tools/ek-report compare A.json B.json"

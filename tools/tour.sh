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
# Names without "/target:" run on the selected (best) target; medians of 3 repetitions.
RESULTS="$OUT/tour-bench.txt"
"$BUILD/bench/ek_bench" --benchmark_filter='^[^:]*$' --benchmark_repetitions=3 \
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

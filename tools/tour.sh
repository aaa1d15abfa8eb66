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

"$ROOT/tools/setup.sh"
mkdir -p "$OUT"
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=g++ -DEK_WERROR=ON \
  > "$BUILD.configure.log" 2>&1 || { cat "$BUILD.configure.log"; exit 1; }
cmake --build "$BUILD" --target ek-info ek_bench | tail -n 3

echo
"$BUILD/tools/ek-info"
echo
# Names without "/target:" run on the selected (best) target; medians of 3 repetitions.
"$BUILD/bench/ek_bench" --benchmark_filter='^[^:]*$' --benchmark_repetitions=3 \
  --benchmark_report_aggregates_only=true --benchmark_display_aggregates_only=true \
  --benchmark_min_time=0.1 "$@" 2>&1 | grep -v -e '_mean' -e '_stddev' -e '_cv'

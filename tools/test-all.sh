#!/usr/bin/env bash
# Every test lane of edgekernels, as CI runs them (.ci/run calls this script):
#
#   host-gcc         gcc, Release, -Werror: all tests on every target this CPU supports, plus
#                    the selected target / lanes checked against /proc/cpuinfo, EK_TARGETS=AVX2
#                    forcing, and the OpenCL tests on PoCL (loader, runtime + program cache,
#                    ek-cl-tune, GEMM, convolution, pooling and add kernels, MobileNetV2 whole):
#                    with CI set they must pass, not skip
#   host-clang-asan  clang, ASan + UBSan, -Werror (AVX2, SSE2 and, where the CPU runs it,
#                    AVX3_ZEN4 compiled)
#   host-clang-tsan  clang, ThreadSanitizer: the concurrency tests (caller threads sharing packed
#                    weights and pools, racing first dispatch), the thread pool, and OpenCL's
#                    program cache built by several threads at once
#   fuzz             libFuzzer (clang): every parser and validator (packed weights, ek-quantize's
#                    .npy and weights files, GGUF blocks, tensor views, the OpenCL cache reader,
#                    the KV cache with append and attention over it),
#                    each for EK_FUZZ_SECONDS (default 15) from the committed seed corpus
#   host-restricted  a build that compiles only some Highway targets (binary size), asserting
#                    exactly which ones were compiled and selected
#   consumer         install, then build and run a project outside the tree that uses
#                    find_package(ek CONFIG)
#   arm-gcc          aarch64 cross build with gcc, tests under qemu-user with CPU models
#   arm-clang        the same with clang 19 (the Android NDK's stand-in), built as the phone
#                    preset builds (static, with ek_bench); also the phone workflow: tools/ek-phone
#                    with this machine as the phone (tools/ek-phone-qemu)
#                    cortex-a76 (NEON + dotprod), max (SVE2, 512-bit), max,sve256=on (SVE_256),
#                    max,sve128=on (SVE2_128), cortex-a53 (NEON, no dotprod); each asserts the
#                    Highway target and the lanes that were selected; then the cycle model
#                    (llvm-mca over every micro-kernel loop, floors checked; docs/arm.md)
#
# Every lane that runs the op tests also runs the randomized differential tests (<op>_random):
# a new seed per run of this script (EK_RANDOM_SEED, printed; set it to reproduce a run).
#
# Usage: tools/test-all.sh [--skip-setup] [lane ...]   (default: all lanes)
# Build trees go to $EK_BUILD_ROOT (default: ./out). Exit status is non-zero if any lane failed.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${EK_BUILD_ROOT:-$ROOT/out}
SKIP_SETUP=0
LANES=()
for arg in "$@"; do
  case "$arg" in
    --skip-setup) SKIP_SETUP=1 ;;
    -*) echo "test-all.sh: unknown option $arg" >&2; exit 2 ;;
    *) LANES+=("$arg") ;;
  esac
done
[ ${#LANES[@]} -eq 0 ] && LANES=(host-gcc host-clang-asan host-clang-tsan fuzz host-restricted consumer arm-gcc arm-clang)

if [ "$SKIP_SETUP" = 0 ]; then
  "$ROOT/tools/setup.sh" --arm || { echo "test-all.sh: setup failed" >&2; exit 1; }
fi

JOBS=$(nproc 2>/dev/null || echo 2)
export EK_RANDOM_SEED=${EK_RANDOM_SEED:-$(( $(date +%s) % 1000000007 ))}
echo "randomized differential tests: EK_RANDOM_SEED=$EK_RANDOM_SEED"
export POCL_CACHE_DIR="$OUT/pocl-cache"
mkdir -p "$OUT" "$POCL_CACHE_DIR"
TOTAL_PASSED=0
TOTAL_FAILED=0
TOTAL_SKIPPED=0
RESULTS=()

log() { echo; echo "=== $*"; }

# run_ctest <label> <build dir> [ctest args...]: runs ctest, adds its counts to the totals.
run_ctest() {
  local label=$1 dir=$2
  shift 2
  local logfile="$OUT/ctest-${label//[^A-Za-z0-9_.-]/_}.log"
  (cd "$dir" && ctest --output-on-failure -j"$JOBS" "$@") > "$logfile" 2>&1
  local rc=$?
  cat "$logfile"
  local total failed skipped
  total=$(sed -n 's/.*tests passed, [0-9]* tests failed out of \([0-9]*\).*/\1/p' "$logfile" | tail -1)
  failed=$(sed -n 's/.*tests passed, \([0-9]*\) tests failed out of.*/\1/p' "$logfile" | tail -1)
  skipped=$(grep -c '\*\*\*Skipped' "$logfile" || true)
  total=${total:-0}
  failed=${failed:-0}
  if [ "$total" = 0 ]; then
    echo "test-all.sh: $label ran no test" >&2
    rc=1
  fi
  TOTAL_PASSED=$((TOTAL_PASSED + total - failed - skipped))
  TOTAL_FAILED=$((TOTAL_FAILED + failed))
  TOTAL_SKIPPED=$((TOTAL_SKIPPED + skipped))
  LAST_CTEST_LOG=$logfile
  return $rc
}

# configure_and_build <build dir> [cmake args...] [-- build targets...]  (default: all targets)
configure_and_build() {
  local dir=$1
  shift
  local cmake_args=() build_targets=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do cmake_args+=("$1"); shift; done
  [ $# -gt 0 ] && shift && build_targets=(--target "$@")
  cmake -S "$ROOT" -B "$dir" -G Ninja -DEK_WERROR=ON "${cmake_args[@]}" > "$dir.configure.log" 2>&1 ||
    { cat "$dir.configure.log"; return 1; }
  cmake --build "$dir" -j"$JOBS" "${build_targets[@]}" 2>&1 | tail -n 30
  return "${PIPESTATUS[0]}"
}

lane_host_gcc() {
  local dir="$OUT/host-gcc"
  configure_and_build "$dir" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=g++ || return 1
  run_ctest host-gcc "$dir" || return 1
  # The report tool's test runs here (this tree builds ek_bench); with matplotlib installed
  # (tools/setup.sh does) it must pass, plots included, not be skipped.
  if ! grep -q 'ek_report .*Passed' "$LAST_CTEST_LOG"; then
    echo "test-all.sh: ek_report did not pass on the host" >&2
    return 1
  fi
  # With an OpenCL runtime installed (CI installs PoCL), the OpenCL test must really run.
  if [ -n "${CI:-}" ]; then
    local t
    for t in opencl_loader opencl_runtime opencl_gemm opencl_convert opencl_qgemm opencl_conv opencl_elementwise opencl_cache_concurrency \
      opencl_kernels_compile; do
      if ! grep -q "$t .*Passed" "$LAST_CTEST_LOG"; then
        echo "test-all.sh: $t did not pass on the host although PoCL is installed" >&2
        return 1
      fi
    done
  fi
  "$dir/tools/ek-info"
}

lane_host_clang_asan() {
  local dir="$OUT/host-clang-asan"
  # Sanitized builds of every kernel for every target are slow (each TU compiles all of them):
  # this lane compiles AVX2 and SSE2 and, where this CPU runs it, AVX3_ZEN4 (the AVX-512 tiles
  # and the VNNI lane; elsewhere it could only be compiled, not checked); host-gcc runs every
  # target.
  local disabled="HWY_AVX3_SPR|HWY_AVX3|HWY_SSE4|HWY_SSSE3"
  if ! grep -qw avx512vnni /proc/cpuinfo 2>/dev/null || ! grep -qw avx512vbmi2 /proc/cpuinfo 2>/dev/null; then
    disabled="$disabled|HWY_AVX3_ZEN4"
  fi
  # -O1 with line tables only: sanitizer reports keep file:line; the build takes about 0.6x the
  # time of -O2 -g (gemm_test: 115 -> 73 s).
  configure_and_build "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-14 \
    "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only -DNDEBUG" -DEK_SANITIZE=ON -DEK_BUILD_BENCHMARKS=OFF "-DEK_HWY_DISABLED_TARGETS=$disabled" || return 1
  # LSan: PoCL and its LLVM leak when they compile kernels (tests/lsan_suppressions.txt).
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    LSAN_OPTIONS="suppressions=$ROOT/tests/lsan_suppressions.txt:print_suppressions=0" \
    run_ctest host-clang-asan "$dir"
}

lane_host_clang_tsan() {
  local dir="$OUT/host-clang-tsan"
  # The concurrency tests need few targets: AVX2 and the SSE2 baseline.
  configure_and_build "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-14 \
    "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only -DNDEBUG" -DEK_SANITIZE_THREAD=ON -DEK_BUILD_BENCHMARKS=OFF \
    "-DEK_HWY_DISABLED_TARGETS=HWY_AVX3_SPR|HWY_AVX3_ZEN4|HWY_AVX3|HWY_SSE4|HWY_SSSE3" \
    -- concurrency_test parallel_test opencl_cache_concurrency_test || return 1
  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ignore_noninstrumented_modules=1 suppressions=$ROOT/tests/tsan_suppressions.txt" \
    run_ctest host-clang-tsan "$dir" -R '^(concurrency_test|parallel_test|opencl_cache_concurrency)$' || return 1
  if [ -n "${CI:-}" ] && ! grep -q "opencl_cache_concurrency .*Passed" "$LAST_CTEST_LOG"; then
    echo "test-all.sh: opencl_cache_concurrency did not pass under TSan although PoCL is installed" >&2
    return 1
  fi
}

lane_fuzz() {
  local dir="$OUT/fuzz" seconds=${EK_FUZZ_SECONDS:-15} rc=0 name
  configure_and_build "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-14 \
    "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g -DNDEBUG" -DEK_BUILD_FUZZERS=ON -DEK_BUILD_TESTS=OFF \
    -DEK_BUILD_BENCHMARKS=OFF -DEK_BUILD_TOOLS=OFF || return 1
  mkdir -p "$dir/artifacts"
  for name in packed_weights npy weights_file gguf tensor_view cl_cache kv_cache; do
    # New inputs go to a scratch corpus; the committed seeds are only read.
    rm -rf "$dir/corpus-$name" && mkdir -p "$dir/corpus-$name"
    if "$dir/tests/fuzz/${name}_fuzz" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=20 -print_final_stats=1 \
      -artifact_prefix="$dir/artifacts/$name-" "$dir/corpus-$name" "$ROOT/tests/fuzz/corpus/$name" > "$dir/$name.log" 2>&1; then
      echo "fuzz $name: $(grep -o 'stat::number_of_executed_units: *[0-9]*' "$dir/$name.log" | grep -o '[0-9]*$') runs in ${seconds}s, no failure"
      TOTAL_PASSED=$((TOTAL_PASSED + 1))
    else
      echo "fuzz $name: FAILED (input saved under $dir/artifacts/)" >&2
      tail -n 40 "$dir/$name.log"
      TOTAL_FAILED=$((TOTAL_FAILED + 1))
      rc=1
    fi
  done
  return $rc
}

lane_host_restricted() {
  local dir="$OUT/host-restricted"
  if [ "$(uname -m)" != x86_64 ]; then echo "host-restricted: x86_64 only"; return 0; fi
  # Compile AVX3_ZEN4, AVX3 and AVX2 only (plus SSE2, the baseline every x86-64 binary keeps).
  configure_and_build "$dir" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=g++ -DEK_BUILD_BENCHMARKS=OFF \
    "-DEK_HWY_DISABLED_TARGETS=HWY_AVX3_SPR|HWY_SSE4|HWY_SSSE3" -- convert_test dispatch_test target_expectation_test ||
    return 1
  # The expected target comes from /proc/cpuinfo inside the test, among the compiled targets.
  EK_EXPECT_COMPILED=AVX3_ZEN4,AVX3,AVX2,SSE2 \
    run_ctest host-restricted "$dir" -R 'convert_test|dispatch_test|target_expectation$'
  local rc=$?
  ls -l "$OUT/host-gcc/tests/convert_test" "$dir/tests/convert_test" 2>/dev/null | awk '{print "binary size", $5, $9}'
  return $rc
}

lane_consumer() {
  local dir="$OUT/host-gcc" prefix="$OUT/consumer-prefix" cdir="$OUT/consumer-build"
  [ -f "$dir/CMakeCache.txt" ] || configure_and_build "$dir" -DCMAKE_BUILD_TYPE=Release || return 1
  rm -rf "$prefix" "$cdir"
  cmake --install "$dir" --prefix "$prefix" > "$OUT/consumer-install.log" 2>&1 || { cat "$OUT/consumer-install.log"; return 1; }
  cmake -S "$ROOT/tests/consumer" -B "$cdir" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" > "$OUT/consumer-configure.log" 2>&1 ||
    { cat "$OUT/consumer-configure.log"; return 1; }
  cmake --build "$cdir" 2>&1 | tail -n 20 || return 1
  run_ctest consumer "$cdir"
}

# arm lane: <compiler>
lane_arm() {
  local compiler=$1 dir="$OUT/arm-$1" rc=0
  # clang builds what the phone preset builds (static executables, ek_bench included), so the
  # phone workflow's test (label phone) runs on it; gcc keeps dynamic linking and no benchmarks.
  local kind=(-DEK_BUILD_BENCHMARKS=OFF)
  [ "$compiler" = clang ] && kind=(-DEK_BUILD_BENCHMARKS=ON -DEK_STATIC_EXECUTABLES=ON)
  configure_and_build "$dir" -DCMAKE_BUILD_TYPE=Release "${kind[@]}" \
    -DCMAKE_TOOLCHAIN_FILE="$ROOT/cmake/toolchains/aarch64-linux-gnu-$compiler.cmake" || return 1
  # qemu CPU model | target Highway must select | lanes that must be detected
  local models=(
    "cortex-a76|NEON|dotprod,fp16"
    "max|SVE2|dotprod,i8mm,fp16,bf16,sme"
    "max,sve256=on|SVE_256|dotprod,i8mm,fp16,bf16,sme"
    "max,sve128=on|SVE2_128|dotprod,i8mm,fp16,bf16,sme"
    "cortex-a53|NEON|"
  )
  local entry cpu target lanes
  for entry in "${models[@]}"; do
    IFS='|' read -r cpu target lanes <<< "$entry"
    log "arm-$compiler under qemu -cpu $cpu (expect $target, lanes [$lanes])"
    # Emulation is slow: fewer randomized cases per target than on the host.
    EK_RANDOM_CASES=${EK_RANDOM_CASES:-8} QEMU_CPU=$cpu EK_EXPECT_TARGET=$target EK_EXPECT_LANES=$lanes \
      run_ctest "arm-$compiler-$cpu" "$dir" -LE 'cycle_model|phone' || rc=1
    if ! grep -q 'target_expectation .*Passed' "$LAST_CTEST_LOG"; then
      echo "test-all.sh: target expectation did not pass under $cpu" >&2
      rc=1
    fi
  done
  # llvm-mca on the build machine, once per build: every micro-kernel loop against its floor.
  log "arm-$compiler cycle model (llvm-mca over the micro-kernel loops; docs/arm.md)"
  run_ctest "arm-$compiler-cycle-model" "$dir" -L cycle_model || rc=1
  if [ "$compiler" = clang ]; then
    log "arm-$compiler phone workflow (tools/ek-phone with this machine as the phone, under qemu)"
    run_ctest "arm-$compiler-phone" "$dir" -L phone || rc=1
    grep -q 'ek_phone .*Passed' "$LAST_CTEST_LOG" || { echo "test-all.sh: the ek_phone test did not run" >&2; rc=1; }
  fi
  return $rc
}

for lane in "${LANES[@]}"; do
  log "lane $lane"
  start=$(date +%s)
  case "$lane" in
    host-gcc) lane_host_gcc ;;
    host-clang-asan) lane_host_clang_asan ;;
    host-clang-tsan) lane_host_clang_tsan ;;
    fuzz) lane_fuzz ;;
    host-restricted) lane_host_restricted ;;
    consumer) lane_consumer ;;
    arm-gcc) lane_arm gcc ;;
    arm-clang) lane_arm clang ;;
    *) echo "unknown lane $lane" >&2; false ;;
  esac
  rc=$?
  RESULTS+=("$(printf '%-16s %s  (%ss)' "$lane" "$([ $rc = 0 ] && echo PASS || echo FAIL)" $(( $(date +%s) - start )))")
  [ $rc = 0 ] || LANE_FAILED=1
done

echo
echo "=== summary"
printf '%s\n' "${RESULTS[@]}"
echo "tests: $TOTAL_PASSED passed, $TOTAL_FAILED failed, $TOTAL_SKIPPED skipped"
[ -z "${LANE_FAILED:-}" ] && [ "$TOTAL_FAILED" = 0 ]

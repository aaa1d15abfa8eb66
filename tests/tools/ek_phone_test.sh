#!/usr/bin/env bash
# tools/ek-phone's whole flow with this machine as the phone (tools/ek-phone-qemu as the
# transport, qemu-aarch64 as the CPU): the phone build's static ek_bench, ek-info and a test are
# pushed, run pinned to each cluster of a made-up two-cluster topology, pulled back and reported.
# Checks what came back against what must be there: the emulated core's target in ek-info's
# JSON and in each cluster's benchmark context, each requested benchmark's median in each
# cluster's JSON and in its ek-report table, the test's pass on each cluster. Also the cluster
# naming of a three-cluster phone (--list-clusters) and that a failing remote command fails.
#
# Usage: ek_phone_test.sh <source root> <phone build tree>
set -uo pipefail
ROOT=$1
BUILD=$2
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAILED: $*"; FAILED=1; }
FAILED=0
DEVICE="$ROOT/tools/ek-phone-qemu"

# A phone with 4 little, 3 mid and 1 big core (cpufreq), and one with capacities only.
mkdir -p "$WORK/sys8" "$WORK/sys2"
for cpu in 0 1 2 3 4 5 6 7; do
  freq=1800000; [ $cpu -ge 4 ] && freq=2400000; [ $cpu -eq 7 ] && freq=3000000
  mkdir -p "$WORK/sys8/cpu$cpu/cpufreq"
  echo $freq > "$WORK/sys8/cpu$cpu/cpufreq/cpuinfo_max_freq"
done
listed=$("$ROOT/tools/ek-phone" --device "$DEVICE" --sysfs "$WORK/sys8" --list-clusters) || fail "--list-clusters failed"
echo "$listed"
echo "$listed" | grep -q '^  big 80 7 3000000$' || fail "big cluster of the 8-CPU phone"
echo "$listed" | grep -q '^  mid 70 4,5,6 2400000$' || fail "mid cluster of the 8-CPU phone"
echo "$listed" | grep -q '^  little f 0,1,2,3 1800000$' || fail "little cluster of the 8-CPU phone"

# The phone the flow runs on: this machine's first two CPUs, as a little (cpu0) and a big (cpu1)
# core by capacity; one cluster of cpu0 where the machine has one CPU.
cpus=$(nproc)
mkdir -p "$WORK/sys2/cpu0"; echo 512 > "$WORK/sys2/cpu0/cpu_capacity"
expected_clusters="all"
if [ "$cpus" -ge 2 ]; then
  mkdir -p "$WORK/sys2/cpu1"; echo 1024 > "$WORK/sys2/cpu1/cpu_capacity"
  expected_clusters="big little"
fi

# Two cheap benchmarks (a conversion row and a small packed GEMM) keep the emulated run short.
filter='^(convert/f32_to_f16/[0-9]+|gemm/f32/256x256x256/packed)(/real_time)?$'
export QEMU_CPU=cortex-a76
"$ROOT/tools/ek-phone" --build "$BUILD" --device "$DEVICE" --remote "$WORK/device/ek" --sysfs "$WORK/sys2" \
  --out "$WORK/out" --filter "$filter" --min-time 0.01 --repetitions 2 --tests tensor_test
status=$?
[ $status -eq 0 ] || fail "ek-phone exited with $status"

python3 - "$WORK/out" "$expected_clusters" <<'EOF' || FAILED=1
import json, os, re, sys
out, clusters = sys.argv[1], sys.argv[2].split()
ok = True
def check(condition, what):
    global ok
    if not condition:
        print("FAILED:", what); ok = False
info = json.load(open(os.path.join(out, "info.json")))
check(info.get("selected_target") == "NEON", f"ek-info on cortex-a76 selected {info.get('selected_target')} (NEON)")
for cluster in clusters:
    path = os.path.join(out, f"bench-{cluster}.json")
    if not os.path.exists(path):
        check(False, f"{path} pulled"); continue
    doc = json.load(open(path))
    check(doc["context"].get("ek_target") == "NEON", f"{cluster}: ran on {doc['context'].get('ek_target')} (NEON)")
    medians = {b["run_name"].replace("/real_time", ""): b for b in doc["benchmarks"] if b.get("aggregate_name") == "median"}
    check(any(n.startswith("convert/f32_to_f16/") for n in medians), f"{cluster}: convert median in {sorted(medians)}")
    check("gemm/f32/256x256x256/packed" in medians, f"{cluster}: packed GEMM median in {sorted(medians)}")
    report = open(os.path.join(out, f"report-{cluster}.txt")).read()
    gemm = medians.get("gemm/f32/256x256x256/packed")
    if gemm:
        check(re.search(r"^f32\s+256x256x256\s+-\s+%.1f\s" % gemm["GFLOPS"], report, re.M) is not None,
              f"{cluster}: report shows the packed GEMM at {gemm['GFLOPS']:.1f} GFLOP/s:\n{report}")
    affinity = open(os.path.join(out, f"affinity-{cluster}.txt")).read().split()
    expected = {"all": "0", "big": "1", "little": "0"}[cluster]
    check(affinity[-1:] == [expected], f"{cluster}: a pinned process may run on CPUs {affinity[-1:]} ({expected})")
    test_log = open(os.path.join(out, f"test-tensor_test-{cluster}.txt")).read()
    check("All tests passed" in test_log, f"{cluster}: tensor_test passed on the device")
sys.exit(0 if ok else 1)
EOF

# A command that fails on the device must fail ek-phone and be named (ek_bench rejects a flag
# it does not know); a binary missing from the build tree is named before anything is pushed.
if "$ROOT/tools/ek-phone" --build "$BUILD" --device "$DEVICE" --remote "$WORK/device/ek" --sysfs "$WORK/sys2" \
     --out "$WORK/out2" --filter '^$' -- --no_such_flag > "$WORK/neg1.log" 2>&1; then
  fail "ek-phone succeeded although ek_bench failed on the device"
fi
grep -q "ek_bench failed on cluster" "$WORK/neg1.log" || fail "the device failure is reported: $(cat "$WORK/neg1.log")"
if "$ROOT/tools/ek-phone" --build "$BUILD" --device "$DEVICE" --remote "$WORK/device/ek" --sysfs "$WORK/sys2" \
     --out "$WORK/out3" --filter '^$' --tests no_such_test > "$WORK/neg2.log" 2>&1; then
  fail "ek-phone succeeded with a missing test binary"
fi
grep -q "no_such_test is missing" "$WORK/neg2.log" || fail "the missing binary is named: $(cat "$WORK/neg2.log")"

[ $FAILED = 0 ] && echo "ek-phone flow: all checks passed"
exit $FAILED

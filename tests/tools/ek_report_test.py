#!/usr/bin/env python3
# Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
"""Tests of tools/ek-report: hand-made Google Benchmark JSON runs whose expected figures follow
from their inputs, then a real ek_bench run of this build.

Usage: ek_report_test.py --ek-report tools/ek-report --ek-bench out/host-gcc/bench/ek_bench
Exit status 0: all passed; 1: a failure; 77: everything else passed but matplotlib is missing, so
the plots were not tested (ctest reports the test as skipped).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

FAILURES = []


def check(condition, what):
    if not condition:
        FAILURES.append(what)
        print(f"FAILED: {what}")


def aggregate(name, us, median=True, **counters):
    entry = {"name": f"{name}/real_time_{'median' if median else 'mean'}", "run_name": f"{name}/real_time",
             "run_type": "aggregate", "aggregate_name": "median" if median else "mean", "repetitions": 3,
             "threads": 1, "iterations": 3, "real_time": us, "cpu_time": us, "time_unit": "us"}
    entry.update(counters)
    return entry


def iteration(name, ns, **counters):
    entry = {"name": f"{name}/real_time", "run_name": f"{name}/real_time", "run_type": "iteration",
             "repetitions": 1, "repetition_index": 0, "threads": 1, "iterations": 100, "real_time": ns,
             "cpu_time": ns, "time_unit": "ns"}
    entry.update(counters)
    return entry


def write(directory, file_name, benchmarks, context=None):
    path = os.path.join(directory, file_name)
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"context": context or {"host_name": "test"}, "benchmarks": benchmarks}, f)
    return path


def run(tool, *args, expect=0):
    result = subprocess.run([sys.executable, tool, *args], capture_output=True, text=True, check=False)
    check(result.returncode == expect,
          f"ek-report {' '.join(args)}: status {result.returncode}, expected {expect}; stderr: {result.stderr.strip()}")
    return result.stdout + result.stderr


def row(output, first_cells):
    for line in output.splitlines():
        if line.split()[: len(first_cells)] == first_cells:
            return line.split()
    check(False, f"no row starting with {first_cells} in:\n{output}")
    return []


def test_tables(tool, tmp):
    # Counters of 1000 or more: Google Benchmark's console prints 1112.38 as "1.11238k", which the
    # tour's old awk read as 1.1. The JSON holds the number itself.
    quantized = write(tmp, "q.json", [
        aggregate("qgemm/s8/256x256x256", 900.0, GOPS=326.0),
        aggregate("qgemm/s8/256x256x256", 950.0, median=False, GOPS=300.0),  # a mean: ignored
        aggregate("peer/onednn/qgemm/u8s8s32/256x256x256", 30.0, GOPS=1112.38),
        aggregate("peer/xnnpack/qgemm/qs8/256x256x256", 40.0, GOPS=700.0),
        aggregate("gemm/f32/256x256x256/packed", 200.0, GFLOPS=163.0, pct_peak=80.0),
        aggregate("gemm/f32/256x256x256/target:AVX2", 300.0, GFLOPS=100.0),  # forced target: not in the tables
        {"name": "qgemm/s4/1x4096x4096/real_time", "run_name": "qgemm/s4/1x4096x4096/real_time",
         "run_type": "iteration", "error_occurred": True, "error_message": "target not available"},
    ], context={"ek_cpu": "test cpu", "ek_target": "AVX3", "ek_fma_peak_gflops": "200.5",
                "ek_int8_peak_gops": "1400", "ek_dram_read_gbps": "12.5"})
    # A second file of the same run (the tour writes one per section), without repetitions.
    single = write(tmp, "s.json", [
        iteration("gemm/f32/256x256x256", 250000.0, GFLOPS=134.2),
        iteration("peer/openblas/gemm/f32/256x256x256", 180000.0, GFLOPS=186.4),
        iteration("convert/f32_to_f16/1048576", 1500.0, GBps=5.6, pct_peak=40.0),
    ])
    out = run(tool, "tables", quantized, single, "--all")
    q = row(out, ["s8", "256x256x256"])
    if q:
        check(q[2] == "326.0", f"quantized ek GOP/s: {q[2]} (326.0)")
        check(q[3] == "1112.4", f"best peer GOP/s read from JSON as the number: {q[3]} (1112.4)")
        check(q[4] == "onednn", f"best peer: {q[4]} (onednn)")
        check(q[5] == f"{326.0 / 1112.38:.2f}", f"ratio ek / best peer: {q[5]}")
        check(q[6] == f"{326.0 / 163.0:.2f}", f"vs f32 packed: {q[6]}")
    g = row(out, ["f32", "256x256x256"])
    if g:
        check(g[2:6] == ["134.2", "163.0", "186.4", "openblas"], f"GEMM row cells: {g[2:6]}")
        check(g[6] == f"{134.2 / 186.4:.2f}" and g[7] == f"{163.0 / 186.4:.2f}", f"GEMM ratios: {g[6:8]}")
    check("target:AVX2" not in out.split("Every other benchmark")[0], "a /target: variant in the tables")
    check("qgemm/s4/1x4096x4096" not in out, "a benchmark that reported an error was shown")
    other = row(out, ["convert/f32_to_f16/1048576"])
    if other:
        check(other[1] == "1.50" and other[3] == "5.60", f"iteration-only run: time {other[1]} us (1.50), GB/s {other[3]}")
    check("run: cpu test cpu, target AVX3" in out, "the run's context line")
    run(tool, "tables", quantized, "--section", "nonsense", expect=2)
    bad = os.path.join(tmp, "bad.json")
    with open(bad, "w", encoding="utf-8") as f:
        f.write("gemm/f32/256x256x256 1.0 us GFLOPS=1.11238k\n")
    check(bad in run(tool, "tables", bad, expect=2), "a file that is not JSON: the error names the file")
    run(tool, "tables", os.path.join(tmp, "missing.json"), expect=2)
    return quantized


def test_compare(tool, tmp):
    base = write(tmp, "base.json", [aggregate("a/1", 100.0), aggregate("b/2", 50.0), aggregate("only_base", 1.0)])
    new = write(tmp, "new.json", [aggregate("a/1", 50.0), aggregate("b/2", 100.0), aggregate("only_new", 1.0)])
    out = run(tool, "compare", base, new)
    a, b = row(out, ["a/1"]), row(out, ["b/2"])
    check(a[3:] == ["2.000x", "faster"], f"compare a/1: {a[3:]} (2.000x faster)")
    check(b[3:] == ["0.500x", "SLOWER"], f"compare b/2: {b[3:]} (0.500x SLOWER)")
    check("2 in common, geometric mean speed-up 1.000x" in out and "only in base: 1, only in new: 1" in out,
          f"compare summary:\n{out}")
    run(tool, "compare", base, write(tmp, "disjoint.json", [aggregate("c", 1.0)]), expect=1)


def test_plots(tool, tmp, quantized):
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    out_dir = os.path.join(tmp, "plots")
    out = run(tool, "plots", quantized, "--out", out_dir)
    for name in ("roofline.png", "peers.png"):
        path = os.path.join(out_dir, name)
        ok = os.path.exists(path)
        if ok:
            with open(path, "rb") as f:
                ok = f.read(8) == b"\x89PNG\r\n\x1a\n"
        check(ok, f"{name} written as a PNG")
    # Points: ek's qgemm, two peers' qgemm and ek's packed f32 GEMM (the /target: variant is left out).
    check("(4 points)" in out and "(1 shapes)" in out, f"plot summary: {out.strip()}")
    return True


def test_real_run(tool, bench, tmp):
    out_json = os.path.join(tmp, "real.json")
    name = "convert/f32_to_f16"
    result = subprocess.run([bench, f"--benchmark_filter=^{name}/", "--benchmark_repetitions=3",
                             "--benchmark_report_aggregates_only=true", "--benchmark_min_time=0.01",
                             f"--benchmark_out={out_json}", "--benchmark_out_format=json"],
                            capture_output=True, text=True, check=False)
    check(result.returncode == 0, f"ek_bench run: status {result.returncode}: {result.stderr[-500:]}")
    if result.returncode != 0:
        return
    with open(out_json, encoding="utf-8") as f:
        doc = json.load(f)
    medians = [b for b in doc["benchmarks"] if b.get("aggregate_name") == "median"]
    check(len(medians) >= 1, f"ek_bench wrote {len(medians)} medians for {name}")
    context = doc["context"]
    for key in ("ek_target", "ek_fma_peak_gflops", "ek_dram_read_gbps", "ek_int8_peak_gops"):
        check(key in context, f"ek_bench's JSON context has {key}")
    check(float(context.get("ek_fma_peak_gflops", 0)) > 0, "measured FMA peak > 0")
    out = run(tool, "tables", out_json, "--all")
    for b in medians:
        shown = row(out, [b["run_name"].replace("/real_time", "")])
        if shown:
            check(shown[1] == f"{b['real_time']:.2f}" and shown[3] == f"{b['GBps']:.2f}",
                  f"{b['run_name']}: shown {shown[1]} us {shown[3]} GB/s, JSON {b['real_time']} us {b['GBps']} GB/s")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ek-report", required=True)
    parser.add_argument("--ek-bench")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        quantized = test_tables(args.ek_report, tmp)
        test_compare(args.ek_report, tmp)
        plotted = test_plots(args.ek_report, tmp, quantized)
        if args.ek_bench:
            test_real_run(args.ek_report, args.ek_bench, tmp)
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed")
        return 1
    if not plotted:
        print("matplotlib is missing: the plots were not tested (apt-get install python3-matplotlib)")
        return 77
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

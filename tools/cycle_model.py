#!/usr/bin/env python3
# Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
"""The Arm cycle model: llvm-mca over every marked micro-kernel loop of an aarch64 build.

No Arm hardware runs in CI, so speed on phone cores is estimated statically. The micro-kernels
mark their innermost loop with EK_LOOP_MARK (include/ek/cpu/tile/loop_mark.h), which leaves a
local symbol ek_loop_<kernel>_<p0>_<p1>_<p2>_<uid> in the binary and no instruction. This tool:

  1. disassembles the given aarch64 binaries (llvm-objdump),
  2. finds each mark, the function it is in (and so the Highway target: ek::N_NEON::..., ...),
     and the innermost loop that follows it (the loop whose back edge is a branch to an address
     at or after the mark; of several, the one with the most vector instructions),
  3. runs llvm-mca with each phone core's scheduling model over the loop body, and over blocks of
     24 independent fmla / dot / mmla instructions (that model's own peak for each),
  4. prints per loop and model: instructions, useful multiply-adds and loads per iteration,
     predicted cycles per iteration, % of that model's peak for the loop's instruction, and for
     one- or two-row tiles (GEMV) the bytes of weights consumed per cycle,
  5. with --floors, fails when a loop falls below its recorded floor, or a recorded loop is no
     longer found (a mark that lost its loop, or a kernel that moved to another instruction).

Models (LLVM 19): cortex-a55 (in order), neoverse-n1 (the A76 class: LLVM's cortex-a76 is the
A57 model), cortex-a510 (in order), cortex-a710 (the N2 model; LLVM also maps X2..X4 to it),
neoverse-v2 (4 vector pipes: the X3 / X4 class), and neoverse-v1 for the SVE_256 target only.
Targets and the cores that run them: NEON on all five (what a phone runs when the OS does not
expose SVE and the core has no BF16), NEON_BF16 and SVE2_128 on A510 / A710 / V2 (Armv9 cores),
SVE_256 on V1. Loops with i8mm instructions only on the cores that have i8mm (A510 and later).
The scalable SVE and SVE2 targets are not reported: a phone's 128-bit SVE selects SVE2_128.

Usage: cycle_model.py --compiler clang|gcc [--floors FILE [--write-floors]] [--markdown]
                      [--objdump llvm-objdump-19] [--mca llvm-mca-19] binary...
"""

import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile

MODELS = ["cortex-a55", "neoverse-n1", "cortex-a510", "cortex-a710", "neoverse-v2", "neoverse-v1"]
MODEL_LABEL = {"cortex-a55": "A55", "neoverse-n1": "A76 (N1)", "cortex-a510": "A510",
               "cortex-a710": "A710 (N2)", "neoverse-v2": "X3/X4 (V2)", "neoverse-v1": "V1"}
TARGET_MODELS = {
    "N_NEON": ["cortex-a55", "neoverse-n1", "cortex-a510", "cortex-a710", "neoverse-v2"],
    "N_NEON_BF16": ["cortex-a510", "cortex-a710", "neoverse-v2"],
    "N_SVE2_128": ["cortex-a510", "cortex-a710", "neoverse-v2"],
    "N_SVE_256": ["neoverse-v1"],
}
I8MM_MODELS = {"cortex-a510", "cortex-a710", "neoverse-v2", "neoverse-v1"}
# Vector bits of SVE on each model (the width the core has; SVE2_128 fixes it at 128).
SVE_BITS = {"cortex-a510": 128, "cortex-a710": 128, "neoverse-v2": 128, "neoverse-v1": 256}
MATTR = "+sve2,+i8mm,+dotprod,+bf16,+fullfp16"
ITERATIONS = 200
FLOOR_MARGIN = 0.97  # a floor is 97% of the recorded figure: the model is deterministic

# Instruction classes that do a kernel's multiply-adds, with a block of 24 independent ones
# for the peak (accumulators v0..v23 / z0..z23, sources v28 / v29).
PEAK_BLOCKS = {
    "fmla": "fmla v{i}.4s, v28.4s, v29.4s",
    "fmla_h": "fmla v{i}.8h, v28.8h, v29.8h",
    "fmla_z": "fmla z{i}.s, p0/m, z28.s, z29.s",
    "fmla_zh": "fmla z{i}.h, p0/m, z28.h, z29.h",
    "dot": "sdot v{i}.4s, v28.16b, v29.16b",
    "dot_z": "sdot z{i}.s, z28.b, z29.b",
    "mmla": "usmmla v{i}.4s, v28.16b, v29.16b",
    "mmla_z": "usmmla z{i}.s, z28.b, z29.b",
}
BRANCHES = {"b", "cbz", "cbnz", "tbz", "tbnz"}

HEADER = re.compile(r"^([0-9a-f]+) <(.*)>:$")
INSN = re.compile(r"^\s*([0-9a-f]+):\s+(\S+)\s*(.*)$")
MARK = re.compile(r"^ek_loop_([a-z0-9_]+?)_(\d+)_(\d+)_(\d+)_(\d+)$")
TARGET = re.compile(r"\b(N_[A-Z0-9_]+)::")


def mac_class(mnemonic, operands):
    """The multiply-add class of an instruction, or None."""
    scalable = operands.startswith("z")
    if mnemonic in ("fmla", "fmad", "fmls"):
        if scalable:
            return "fmla_z" if ".s" in operands else "fmla_zh" if ".h" in operands else None
        if operands.startswith("v") and ".4s" in operands:
            return "fmla"
        if operands.startswith("v") and ".8h" in operands:
            return "fmla_h"
        return None
    if mnemonic in ("sdot", "udot", "usdot", "sudot"):
        return "dot_z" if scalable else "dot"
    if mnemonic in ("smmla", "ummla", "usmmla"):
        return "mmla_z" if scalable else "mmla"
    return None


def macs_per_instruction(cls, model):
    """Multiply-adds one instruction of the class does on the model (128-bit NEON; SVE at the
    model's vector width)."""
    bits = SVE_BITS.get(model, 128) if cls.startswith("fmla_z") or cls.endswith("_z") else 128
    base = {"fmla": 4, "fmla_h": 8, "fmla_zh": 8, "dot": 16, "mmla": 32}[cls[:-2] if cls.endswith("_z") else cls]
    return base * bits // 128


class Loop:
    def __init__(self, kernel, params, target, function, body):
        self.kernel, self.params, self.target, self.function = kernel, params, target, function
        self.body = body  # list of (mnemonic, operands)

    def text(self):
        lines = []
        for mnemonic, operands in self.body:
            # pc-relative operands (branch targets, adr / adrp, literal loads) point anywhere
            # here: llvm-mca ignores control flow.
            base = mnemonic.split(".")[0]
            if base in BRANCHES or base in ("bl", "adr", "adrp") or (base.startswith("ld") and "[" not in operands):
                operands = re.sub(r"(?<!#)0x[0-9a-f]+( <.*>)?", ".Lek_loop", operands)
            lines.append(f"  {mnemonic} {operands}".rstrip())
        lines.insert(0, ".Lek_loop:")
        return "\n".join(lines)


def disassemble(objdump, binary):
    out = subprocess.run([objdump, "-d", "--no-show-raw-insn", f"--mattr={MATTR}", "-C", binary],
                         check=True, capture_output=True, text=True).stdout
    return out.splitlines()


def find_loops(lines):
    """Yields the Loop after each mark (function by function)."""
    function, marks, insns = None, [], []

    def flush():
        if function is None or not marks:
            return
        addrs = [a for a, _, _ in insns]
        # Back edges: a branch to an earlier address in this function.
        edges = []
        for addr, mnemonic, operands in insns:
            base = mnemonic.split(".")[0]
            if base not in BRANCHES:
                continue
            found = re.findall(r"(?<!#)0x([0-9a-f]+)", re.sub(r" <.*>$", "", operands))
            if not found:
                continue
            target = int(found[-1], 16)
            if target <= addr and target >= addrs[0]:
                edges.append((target, addr))
        # Several back edges to one header (a continue) are one loop: its last back edge ends it.
        farthest = {}
        for target, addr in edges:
            farthest[target] = max(addr, farthest.get(target, addr))
        edges = sorted(farthest.items())
        innermost = [e for e in edges if not any(o != e and e[0] <= o[0] and o[1] <= e[1] for o in edges)]
        mark_addrs = sorted(marks)
        # Each innermost loop belongs to the nearest mark before it. A mark's loop is the first of
        # its loops with a multiply-add instruction (else its first loop; the first loop for the
        # kernels that have no such instruction), within 2 KB of it: the loop the mark stands
        # before (its preheader lies between them).
        chosen = {}
        for start, end in sorted(innermost):
            owner = None
            for mark in mark_addrs:
                if mark[0] <= start:
                    owner = mark
            if owner is None or start - owner[0] > 2048:
                continue
            body = [(m, o) for a, m, o in insns if start <= a <= end]
            vector = sum(1 for m, o in body if re.search(r"\b[vzq]\d+", o))
            macs = sum(1 for m, o in body if mac_class(m, o))
            wants_macs = expects_macs(owner[1], owner[2])
            if owner not in chosen or (wants_macs and chosen[owner][0][0] == 0 and macs > 0):
                chosen[owner] = ((macs, vector), body)
        target_match = TARGET.search(function)
        target = target_match.group(1) if target_match else "?"
        for (_, kernel, params), (score, body) in chosen.items():
            if score[1] == 0:
                continue
            yield Loop(kernel, params, target, function, body)

    for line in lines:
        h = HEADER.match(line)
        if h:
            name = h.group(2)
            if name.startswith("ek_loop_"):
                m = MARK.match(name)
                if m:  # (address, kernel, params)
                    marks.append((int(h.group(1), 16), m.group(1), tuple(int(m.group(i)) for i in (2, 3, 4))))
                continue
            yield from flush()
            function, marks, insns = name, [], []
            continue
        i = INSN.match(line)
        if i and function is not None:
            operands = i.group(3).split("//")[0].strip()
            insns.append((int(i.group(1), 16), i.group(2), operands))
    yield from flush()


WEIGHTS = {0: "f32", 1: "f16", 2: "bf16", 3: "int8"}
WEIGHT_BYTES = {0: 4, 1: 2, 2: 2, 3: 1}


def expects_macs(kernel, params):
    """Whether the marked kernel's loop has an fmla / dot / mmla instruction (the widen lanes
    and int8 depthwise multiply in 16 bits instead)."""
    _, p1, p2 = params
    if kernel == "q8_dot":
        return bool(p2 % 10 & 1)
    if kernel == "dw_s8":
        return False
    if kernel == "attn_kdot" and p2 == 3:
        return p1 == 1
    if kernel == "attn_kdot_block":
        return p2 == 1
    return True


def describe(loop):
    """What the loop computes, from its kernel name and mark parameters."""
    p0, p1, p2 = loop.params
    source = {0: "", 1: ", strided A", 2: ", indirect A"}.get(p2 // 10, "?")
    code = p2 % 10
    k = loop.kernel
    if k == "f32_tile":
        return f"f32 tile {p0}x{p1} vectors, {WEIGHTS.get(code)} weights{source}"
    if k in ("q8_dot", "q8_mmla"):
        int4, blocks, dot = bool(code & 4), bool(code & 2), bool(code & 1)
        weights = ("int4" if int4 else "int8") + (" per block" if blocks else "")
        lane = "i8mm" if k == "q8_mmla" else ("dot lane" if dot else "widen lane")
        return f"int8 {lane} tile {p0}x{p1} vectors, {weights} weights{source}"
    if k in ("f32_rowstream", "f32_colstream"):
        layout = "row-major" if k == "f32_rowstream" else "column-major"
        return f"f32 GEMV {layout} B, {p0} row(s), {WEIGHTS.get(code)} weights"
    if k == "f16_arith":
        return "f16 arithmetic lane, 1 row x 4 vectors"
    if k in ("dw_f32", "dw_s8"):
        return f"{'f32' if k == 'dw_f32' else 'int8'} depthwise conv, {p0} pixels" + (" (channel tail)" if p1 else "")
    if k == "attn_kdot" and code == 3:
        return f"attention q.k, int8 cache, {'dot lane' if p1 else 'widen lane'}"
    if k == "attn_kdot":
        return f"attention q.k, {WEIGHTS.get(code)} cache"
    if k == "attn_kdot_block":
        return f"attention q.k, Q{p1}_0 cache blocks, {'dot lane' if p2 else 'widen lane'}"
    if k == "attn_v":
        return f"attention p.V, {'Q%d_0 blocks' % p1 if p1 else WEIGHTS.get(code)} cache"
    return f"{k} {loop.params}"


def weight_bytes_per_mac(loop):
    """Bytes of the streamed operand (B, the KV cache) per multiply-add of one row."""
    p0, p1, p2 = loop.params
    if loop.kernel in ("q8_dot", "q8_mmla"):
        return 0.5 if p2 % 10 & 4 else 1.0
    if loop.kernel == "attn_kdot_block" or (loop.kernel == "attn_v" and p1):
        return 34 / 32 if p1 == 8 else 18 / 32  # GGUF Q8_0 / Q4_0: 34 / 18 bytes per 32 values
    if loop.kernel in ("dw_f32", "dw_s8"):
        return None
    return WEIGHT_BYTES.get(p2 % 10, 4)


def useful_fraction(loop):
    """The share of the loop's multiply-add instructions whose results are kept."""
    rows = loop.params[0]
    if loop.kernel == "q8_mmla":
        return rows / (2 * ((rows + 1) // 2))  # an odd last row pairs with row 0 again
    if loop.kernel == "q8_dot" and loop.target.startswith("N_SVE") and loop.params[2] % 10 & 2:
        return 0.5  # SVE per-block weights: the u8 x s8 form, udot on the data + a udot of the sign correction
    return 1.0


def models_for(loop):
    models = TARGET_MODELS.get(loop.target, [])
    if any(mac_class(m, o) in ("mmla", "mmla_z") for m, o in loop.body):
        models = [m for m in models if m in I8MM_MODELS]
    return models


def run_mca(mca, model, regions):
    """regions: list of (name, text). Returns {name: (cycles per iteration, block rthroughput)}."""
    with tempfile.NamedTemporaryFile("w", suffix=".s", delete=False) as f:
        for name, text in regions:
            text = text.replace(".Lek_loop", f".Lek_loop_{name}")
            f.write(f"# LLVM-MCA-BEGIN {name}\n{text}\n# LLVM-MCA-END\n")
        path = f.name
    try:
        run = subprocess.run([mca, "-mtriple=aarch64", f"-mcpu={model}", f"-mattr={MATTR}",
                              f"-iterations={ITERATIONS}", "-timeline=false", "-resource-pressure=false",
                              "-instruction-info=false", "-bottleneck-analysis=false", path],
                             capture_output=True, text=True)
        if run.returncode != 0:
            raise SystemExit(f"cycle_model: llvm-mca failed on {model}:\n{run.stderr[-3000:]}")
        out = run.stdout
    finally:
        os.unlink(path)
    results = {}
    name = None
    for line in out.splitlines():
        m = re.match(r"\[\d+\] Code Region - (\S+)", line)
        if m:
            name = m.group(1)
        m = re.match(r"Total Cycles:\s+(\d+)", line)
        if m and name is not None:
            cycles = int(m.group(1)) / ITERATIONS
        m = re.match(r"Block RThroughput:\s+([\d.]+)", line)
        if m and name is not None:
            results[name] = (cycles, float(m.group(1)))
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binaries", nargs="+")
    ap.add_argument("--compiler", required=True, help="clang or gcc: the key of the floors")
    ap.add_argument("--objdump", default="llvm-objdump-19")
    ap.add_argument("--mca", default="llvm-mca-19")
    ap.add_argument("--floors", help="file of recorded floors; a loop below its floor fails")
    ap.add_argument("--write-floors", action="store_true", help="record this run's figures as the floors")
    ap.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    ap.add_argument("--headline", action="store_true",
                    help="print only the loops that carry the bulk of the work: dense A, the largest tile of "
                         "each kernel and weight type, one- and two-row tiles (GEMV), no channel tails")
    args = ap.parse_args()

    # Unique loop bodies per (target, kernel, params): the worst instance counts.
    loops = collections.OrderedDict()
    for binary in args.binaries:
        for loop in find_loops(disassemble(args.objdump, binary)):
            if loop.target not in TARGET_MODELS:
                continue
            key = (loop.target, loop.kernel, loop.params)
            texts = loops.setdefault(key, collections.OrderedDict())
            texts.setdefault(loop.text(), loop)
    # A mark whose loop the compiler laid out before it picks up whatever loop-like branch
    # follows (an epilogue's): where some copies of a kernel have multiply-adds, those without
    # are not its loop.
    for key, texts in loops.items():
        with_macs = [t for t, l in texts.items() if any(mac_class(m, o) for m, o in l.body)]
        if with_macs and expects_macs(key[1], key[2]):
            for t in [t for t in texts if t not in with_macs]:
                del texts[t]
    if not loops:
        print("cycle_model: no marked loop found (are the binaries aarch64 builds of ek?)", file=sys.stderr)
        return 1

    # One llvm-mca run per model: the peaks, then every loop body that runs on that model.
    bodies = {}  # region name -> (key, Loop)
    names_of = collections.defaultdict(list)  # key -> its region names
    per_model = collections.defaultdict(list)
    for key, texts in loops.items():
        for text, loop in texts.items():
            name = f"loop{len(bodies)}"
            bodies[name] = (key, loop)
            names_of[key].append(name)
            for model in models_for(loop):
                per_model[model].append((name, text))
    figures = {}  # (region, model) -> (cycles, rthroughput)
    peaks = {}    # (class, model) -> instructions per cycle
    for model in MODELS:
        classes = [c for c in PEAK_BLOCKS if (model in SVE_BITS or "_z" not in c) and
                   (model in I8MM_MODELS or not c.startswith("mmla"))]
        regions = [(f"peak_{cls}", "\n".join(PEAK_BLOCKS[cls].format(i=i) for i in range(24))) for cls in classes]
        results = run_mca(args.mca, model, regions + per_model.get(model, []))
        for cls in classes:
            peaks[(cls, model)] = 24 / results[f"peak_{cls}"][0]
        for name, _ in per_model.get(model, []):
            figures[(name, model)] = results[name]

    # Per key: the worst instance (the one with the lowest figure summed over the models, calls
    # first), reported on every model.
    def figures_of(name, model):
        loop = bodies[name][1]
        counts = collections.Counter(mac_class(m, o) for m, o in loop.body)
        counts.pop(None, None)
        loads = sum(1 for m, _ in loop.body if m.startswith("ld"))
        calls = sum(1 for m, _ in loop.body if m in ("bl", "blr"))
        stack = sum(1 for _, o in loop.body if "[sp" in o)  # spills and reloads
        cycles, rthroughput = figures[(name, model)]
        cls = next((c for c in ("mmla_z", "mmla", "dot_z", "dot", "fmla_z", "fmla", "fmla_zh", "fmla_h") if counts.get(c)), None)
        pct, macs, bytes_per_cycle = None, 0, None
        if cls:
            useful = counts[cls] * useful_fraction(loop)
            pct = 100.0 * useful / cycles / peaks[(cls, model)]
            macs = useful * macs_per_instruction(cls, model)
            per_mac = weight_bytes_per_mac(loop)
            bytes_per_cycle = None if per_mac is None else macs / loop.params[0] * per_mac / cycles
        metric = pct if pct is not None else 1000.0 / cycles  # widen lanes: iterations per 1000 cycles
        unit = "pct" if pct is not None else "iter/kcycle"
        return dict(insns=len(loop.body), macs=macs, loads=loads, cycles=cycles, rthroughput=rthroughput,
                    pct=pct, bpc=bytes_per_cycle, metric=metric, unit=unit, calls=calls, stack=stack)

    rows = []
    for key, texts in loops.items():
        names = names_of[key]
        models = [m for m in models_for(bodies[names[0]][1]) if all((n, m) in figures for n in names)]
        if not models:
            continue
        per_name = {n: {m: figures_of(n, m) for m in models} for n in names}
        worst = min(names, key=lambda n: (-max(f["calls"] for f in per_name[n].values()),
                                          sum(f["metric"] for f in per_name[n].values())))
        for model in models:
            row = dict(target=key[0], kernel=key[1], params=key[2], model=model, what=describe(bodies[worst][1]),
                       instances=len(names), **per_name[worst][model])
            rows.append(row)

    def key_of(row):
        return f"{args.compiler} {row['target']} {row['kernel']}_{row['params'][0]}_{row['params'][1]}_{row['params'][2]} {row['model']}"

    print_table([r for r in rows if not args.headline or headline(r, rows)], args.markdown, peaks)
    if args.write_floors:
        if not args.floors:
            print("cycle_model: --write-floors needs --floors", file=sys.stderr)
            return 2
        kept = []
        if os.path.exists(args.floors):
            with open(args.floors) as f:
                kept = [l for l in f if l.strip() and not l.startswith("#") and not l.startswith(args.compiler + " ")]
        with open(args.floors, "w") as f:
            f.write("# compiler target kernel_params model floor unit  (tools/cycle_model.py --write-floors;\n"
                    "# floor = 97% of the recorded % of peak (pct), or of iterations per 1000 cycles\n"
                    "# (iter/kcycle) where the loop has no multiply-add instruction)\n")
            f.writelines(kept)
            for row in rows:
                f.write(f"{key_of(row)} {row['metric'] * FLOOR_MARGIN:.2f} {row['unit']}\n")
        print(f"cycle_model: wrote {len(rows)} floors for {args.compiler} to {args.floors}")
        return 0
    if args.floors:
        floors = {}
        with open(args.floors) as f:
            for line in f:
                if line.startswith("#") or not line.strip():
                    continue
                *key, value, unit = line.split()
                if key[0] == args.compiler:
                    floors[" ".join(key)] = (float(value), unit)
        seen = {key_of(r): r for r in rows}
        failed = 0
        for key, row in seen.items():
            if row["calls"]:
                print(f"FAIL {key}: {row['calls']} call(s) in the loop (a helper the compiler did not inline)")
                failed += 1
        for key, (floor, unit) in floors.items():
            row = seen.get(key)
            if row is None:
                print(f"FAIL {key}: recorded, but no such loop in this build")
                failed += 1
            elif row["unit"] != unit:
                print(f"FAIL {key}: recorded in {unit}, now in {row['unit']} (its multiply-add instructions "
                      "appeared or disappeared)")
                failed += 1
            elif row["metric"] < floor:
                print(f"FAIL {key}: {row['metric']:.2f} below the floor {floor:.2f}")
                failed += 1
        new = [k for k in seen if k not in floors]
        print(f"cycle_model: {len(rows)} loop x model figures, {len(floors)} floors, {failed} below or missing, "
              f"{len(new)} without a floor")
        return 1 if failed else 0
    return 0


def headline(row, rows):
    p0, p1, p2 = row["params"]
    if row["calls"]:
        return True
    if row["kernel"] in ("f32_tile", "q8_dot", "q8_mmla"):
        if p2 // 10 != 0:
            return False
        same = [r for r in rows if r["target"] == row["target"] and r["kernel"] == row["kernel"] and
                r["params"][2] == p2]
        largest = max(r["params"][0] * r["params"][1] for r in same)
        widest_gemv = max(r["params"][1] for r in same if r["params"][0] == 1) if any(
            r["params"][0] == 1 for r in same) else None
        return p0 * p1 == largest or (p0 == 1 and p1 == widest_gemv)
    if row["kernel"] in ("dw_f32", "dw_s8"):
        return p1 == 0 and p0 == max(r["params"][0] for r in rows if r["kernel"] == row["kernel"])
    return True


def print_table(rows, markdown, peaks):
    head = ["target", "loop", "model", "insns", "MACs", "loads", "cycles", "% peak", "B/cycle", "copies", "stack",
            "calls"]
    table = []
    for r in sorted(rows, key=lambda r: (r["target"], r["kernel"], r["params"], MODELS.index(r["model"]))):
        table.append([r["target"].replace("N_", ""), r["what"], MODEL_LABEL[r["model"]], str(r["insns"]),
                      f"{r['macs']:.0f}", str(r["loads"]), f"{r['cycles']:.1f} ({r['rthroughput']:.1f})",
                      "-" if r["pct"] is None else f"{r['pct']:.0f}%",
                      "-" if r["bpc"] is None or r["params"][0] > 2 else f"{r['bpc']:.1f}", str(r["instances"]),
                      str(r["stack"]) if r["stack"] else "", str(r["calls"]) if r["calls"] else ""])
    if markdown:
        # One row per loop, one column per model: "% of peak" (bytes / cycle for GEMV-shaped
        # loops), or cycles per iteration where the loop has no multiply-add instruction.
        models = [m for m in MODELS if any(r["model"] == m for r in rows)]
        print("| target | loop | insns | " + " | ".join(MODEL_LABEL[m] for m in models) + " |")
        print("|---|---|---|" + "---|" * len(models))
        loops = collections.OrderedDict()
        for r in sorted(rows, key=lambda r: (r["target"], r["kernel"], r["params"])):
            loops.setdefault((r["target"], r["kernel"], r["params"]), {})[r["model"]] = r
        for (target, _, _), by_model in loops.items():
            any_row = next(iter(by_model.values()))
            cells = []
            for m in models:
                r = by_model.get(m)
                if r is None:
                    cells.append("")
                elif r["calls"]:
                    cells.append(f"**{r['calls']} call(s)**")
                elif r["pct"] is None:
                    cells.append(f"{r['cycles']:.1f} cyc")
                elif r["bpc"] is not None and r["params"][0] <= 2:
                    cells.append(f"{r['pct']:.0f}%, {r['bpc']:.1f} B/c")
                else:
                    cells.append(f"{r['pct']:.0f}%")
                if r is not None and r["stack"]:
                    cells[-1] += f" ({r['stack']} stack)"
            print(f"| {target.replace('N_', '')} | {any_row['what']} | {any_row['insns']} | " + " | ".join(cells) + " |")
    else:
        widths = [max(len(x) for x in col) for col in zip(head, *table)]
        for t in [head] + table:
            print("  ".join(x.ljust(w) for x, w in zip(t, widths)))
    print("\npeaks (instructions per cycle, 24 independent):",
          "; ".join(f"{MODEL_LABEL[m]}: " + ", ".join(f"{c} {peaks[(c, m)]:.2f}" for c in PEAK_BLOCKS if (c, m) in peaks)
                    for m in MODELS))


if __name__ == "__main__":
    sys.exit(main())

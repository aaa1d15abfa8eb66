// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// EK_LOOP_MARK(name, p0, p1, p2): names the innermost loop that follows it, for the Arm cycle
// model (tools/cycle_model.py, docs/arm.md). On aarch64 builds with gcc or clang it is an asm
// statement that emits no instruction, only the local symbol
//   ek_loop_<name>_<p0>_<p1>_<p2>_<uid>
// at that point of the code (p0..p2: integer constants, the kernel's template parameters; uid:
// the compiler's number for that copy of the statement, so inlined copies stay distinct). The
// tool finds each symbol in a built binary, takes the innermost loop that follows it in the
// same function and runs llvm-mca over that loop: what is measured is the code that ships.
// Place it outside the loop: a volatile asm statement is a scheduling barrier, so inside the
// loop it would change the code it measures. Elsewhere (x86, other compilers, or with
// EK_NO_LOOP_MARKS defined) it is nothing.
#ifndef EK_CPU_TILE_LOOP_MARK_H_
#define EK_CPU_TILE_LOOP_MARK_H_

#if defined(__aarch64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(EK_NO_LOOP_MARKS)
#define EK_LOOP_MARK(name, p0, p1, p2)                                                     \
  asm volatile("ek_loop_" name "_%c0_%c1_%c2_%=:" ::"i"(static_cast<int>(p0)), "i"(static_cast<int>(p1)), \
               "i"(static_cast<int>(p2)))
#else
#define EK_LOOP_MARK(name, p0, p1, p2) static_cast<void>(0)
#endif

#endif  // EK_CPU_TILE_LOOP_MARK_H_

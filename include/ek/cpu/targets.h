// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Compiles the kernel families this translation unit asked for (ek/cpu/kernels-inl.h) once for
// every Highway target in HWY_TARGETS, so that the op headers can HWY_EXPORT their tables.
//
// Per-family compilation: each op header asks for its family before its first include
// (ek/gemm.h: EK_KERNELS_GEMM, ek/qgemm.h: EK_KERNELS_QGEMM, ek/convert.h: EK_KERNELS_CONVERT,
// ek/conv.h: EK_KERNELS_CONV, ek/elementwise.h: EK_KERNELS_ELEMENTWISE, ek/attention.h:
// EK_KERNELS_ATTENTION, ek/transformer.h: EK_KERNELS_TRANSFORMER),
// and the first op header of a TU runs the pass, over the families asked for so far. Highway
// allows one pass per TU (foreach_target.h is include-guarded), so a TU that uses several
// families asks for all of them before its first ek include (or includes ek/ek.h, which asks
// for every family); an op header whose family was left out of the pass stops the build with a
// message saying which macro to define. ek/dispatch.h runs the pass too (its target probe is
// per-target code): a TU that includes it, or any foundation header that does, before an op
// header asks for that op's family first. A TU that includes no op header compiles the probe
// alone (the empty set of families; EK_ONLY_DISPATCH also says so explicitly).
//
// Two cases:
//   - Default: the first op header included runs the pass here.
//   - A TU that runs its own foreach_target pass for its own code defines
//     EK_FOREACH_TARGET_BY_USER and the families it uses before including anything, includes
//     "ek/cpu/kernels-inl.h" inside its per-target code (next to its own), and includes ek's
//     public headers after the pass (under HWY_ONCE). See tests/dispatch_odr_user.cc and
//     docs/architecture.md.
#ifndef EK_CPU_TARGETS_H_
#define EK_CPU_TARGETS_H_

#if defined(EK_FOREACH_TARGET_BY_USER)
#include "hwy/highway.h"
#ifndef EK_KERNELS_INL_INCLUDED
#error "EK_FOREACH_TARGET_BY_USER: include ek/cpu/kernels-inl.h in your per-target code first"
#endif
#else
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "ek/cpu/kernels-inl.h"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "ek/cpu/kernels-inl.h"
#endif

#endif  // EK_CPU_TARGETS_H_

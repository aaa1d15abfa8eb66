// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Compiles all of ek's per-target code (ek/detail/kernels-inl.h) once for every Highway target
// in HWY_TARGETS, so that the public headers can HWY_EXPORT their dispatch tables.
//
// Highway allows one foreach_target pass per translation unit (foreach_target.h is include-
// guarded). Two cases:
//   - Default: the first ek header included runs the pass here.
//   - A TU that runs its own foreach_target pass for its own code defines
//     EK_FOREACH_TARGET_BY_USER before including anything, includes "ek/detail/kernels-inl.h"
//     inside its per-target code (next to its own), and includes ek's public headers after the
//     pass (under HWY_ONCE). See tests/dispatch_odr_user.cc and docs/architecture.md.
#ifndef EK_DETAIL_COMPILE_TARGETS_H_
#define EK_DETAIL_COMPILE_TARGETS_H_

#if defined(EK_FOREACH_TARGET_BY_USER)
#include "hwy/highway.h"
#ifndef EK_KERNELS_INL_INCLUDED
#error "EK_FOREACH_TARGET_BY_USER: include ek/detail/kernels-inl.h in your per-target code first"
#endif
#else
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "ek/detail/kernels-inl.h"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "ek/detail/kernels-inl.h"
#endif

#endif  // EK_DETAIL_COMPILE_TARGETS_H_

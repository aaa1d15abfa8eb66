// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Every per-target header of ek, for one Highway target. Included once per target by
// ek/detail/compile_targets.h, or, when the including TU runs its own foreach_target pass
// (EK_FOREACH_TARGET_BY_USER), by the user's per-target code. Each header below has Highway's
// toggle guard, so this file has none.
#include "ek/detail/target_probe-inl.h"
// EK_ONLY_DISPATCH (defined before any ek header): a TU that uses only dispatch, lanes, system
// information and threading compiles the target probe alone, not the kernels (a faster build;
// docs/building.md). Its kernel headers then refuse to compile.
#ifndef EK_ONLY_DISPATCH
#include "ek/detail/convert-inl.h"
#include "ek/detail/gemm-inl.h"
#include "ek/detail/qgemm-inl.h"
#endif

// Tells ek/detail/compile_targets.h that a user's own foreach_target pass included this file.
#ifndef EK_KERNELS_INL_INCLUDED
#define EK_KERNELS_INL_INCLUDED 1
#endif

// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// The per-target code of the kernel families this translation unit asked for, for one Highway
// target (ek/cpu/targets.h). Included once per target by the pass in ek/cpu/targets.h or, when
// the TU runs its own foreach_target pass (EK_FOREACH_TARGET_BY_USER), by the user's per-target
// code. Each header below has Highway's toggle guard, so this file has none. EK_COMPILED_<FAMILY>
// records what the pass compiled, for the op headers' checks.
#include "ek/cpu/target_probe-inl.h"  // always: ek/dispatch.h's SelectedTarget

#ifdef EK_ONLY_DISPATCH
#if defined(EK_KERNELS_CONVERT) || defined(EK_KERNELS_GEMM) || defined(EK_KERNELS_QGEMM) || defined(EK_KERNELS_CONV) || \
    defined(EK_KERNELS_ELEMENTWISE) || defined(EK_KERNELS_ATTENTION) || defined(EK_KERNELS_TRANSFORMER)
#error "EK_ONLY_DISPATCH is defined, but a kernel family was asked for (EK_KERNELS_*)"
#endif
#endif

#if defined(EK_KERNELS_CONVERT)
#include "ek/cpu/convert/convert-inl.h"
#define EK_COMPILED_CONVERT 1
#endif
#if defined(EK_KERNELS_GEMM)
#include "ek/cpu/gemm/gemm-inl.h"
#define EK_COMPILED_GEMM 1
#endif
#if defined(EK_KERNELS_QGEMM)
#include "ek/cpu/qgemm/qgemm-inl.h"
#define EK_COMPILED_QGEMM 1
#endif
#if defined(EK_KERNELS_CONV)
#include "ek/cpu/conv/conv-inl.h"
#include "ek/cpu/conv/pool-inl.h"
#define EK_COMPILED_CONV 1
#endif
#if defined(EK_KERNELS_ELEMENTWISE)
#include "ek/cpu/elementwise/elementwise-inl.h"
#define EK_COMPILED_ELEMENTWISE 1
#endif
#if defined(EK_KERNELS_ATTENTION)
#include "ek/cpu/attention/attention-inl.h"
#include "ek/cpu/attention/prefill-inl.h"
#define EK_COMPILED_ATTENTION 1
#endif
#if defined(EK_KERNELS_TRANSFORMER)
#include "ek/cpu/transformer/transformer-inl.h"
#define EK_COMPILED_TRANSFORMER 1
#endif

// Tells ek/cpu/targets.h that a user's own foreach_target pass included this file.
#ifndef EK_KERNELS_INL_INCLUDED
#define EK_KERNELS_INL_INCLUDED 1
#endif

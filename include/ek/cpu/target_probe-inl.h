// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Per-target probe: compiled once per Highway target (see ek/dispatch.h). Dispatching to it tells
// which target's code the kernels are running, not which target we think was chosen.

// Highway's per-target toggle guard: this file is included once per target.
#if defined(EK_CPU_TARGET_PROBE_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef EK_CPU_TARGET_PROBE_INL_H_
#undef EK_CPU_TARGET_PROBE_INL_H_
#else
#define EK_CPU_TARGET_PROBE_INL_H_
#endif

#include <stddef.h>
#include <stdint.h>

#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace ek {
namespace HWY_NAMESPACE {

// The Highway target this copy was compiled for.
inline int64_t ProbeTarget() { return HWY_TARGET; }

// Bytes in a full f32 vector of this target (for scalable targets: of this CPU).
inline size_t ProbeVectorBytes() { return hwy::HWY_NAMESPACE::Lanes(hwy::HWY_NAMESPACE::ScalableTag<uint8_t>()); }

}  // namespace HWY_NAMESPACE
}  // namespace ek
HWY_AFTER_NAMESPACE();

#endif  // EK_CPU_TARGET_PROBE_INL_H_

// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// A user translation unit with its own foreach_target pass and no ek at all, linked into the
// same binary as TUs that include ek: per-target namespaces must not collide.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "dispatch_odr_user_only_hwy.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace ek {  // deliberately the same namespace name as the library's
namespace HWY_NAMESPACE {
int64_t UserOnlyTarget() { return HWY_TARGET; }
}  // namespace HWY_NAMESPACE
}  // namespace ek
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include "dispatch_odr.h"
namespace ek {
HWY_EXPORT(UserOnlyTarget);
}  // namespace ek
namespace odr {
int64_t HwyOnlyTarget() { return HWY_DYNAMIC_DISPATCH(ek::UserOnlyTarget)(); }
}  // namespace odr
#endif

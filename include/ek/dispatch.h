// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Run-time target dispatch, header-only.
//
// How it works (details in docs/architecture.md):
//   - Per-target kernel code lives in Highway `-inl.h` headers under ek/cpu/ (one folder per
//     kernel family, the shared micro-kernel layer in ek/cpu/tile/). The first ek header of a
//     TU runs one foreach_target pass over the families the TU asked for (ek/cpu/targets.h), so
//     the code is compiled once per target in HWY_TARGETS (the "compiled" targets).
//   - The per-target functions are `inline` in ek::N_<TARGET> namespaces; the HWY_EXPORT tables
//     and the thin wrappers that index them are in an anonymous namespace: every translation unit
//     gets its own tables, so several TUs (and a user TU with its own foreach_target code) link
//     into one binary without ODR or duplicate-symbol problems (tests/dispatch_odr_*.cc).
//   - Highway picks the best compiled target the CPU supports. EK_TARGETS (read once, at the
//     first kernel call) or RestrictTargets() narrow that choice. This acts on Highway's
//     process-wide choice, so a user's own Highway code in the same process follows it too.
//
// EK_TARGETS syntax: comma-separated Highway target names, case-insensitive, e.g.
//   EK_TARGETS=AVX2            force AVX2
//   EK_TARGETS=AVX2,SSE4       allow only these; the best supported one is used
// A name that is unknown, not compiled in, or not supported by this CPU is an error: every
// kernel call then returns it (no silent fall back to another target).
#ifndef EK_DISPATCH_H_
#define EK_DISPATCH_H_

#include <atomic>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "ek/cpu_features.h"
#include "ek/detail/name_list.h"
#include "ek/status.h"
#include "hwy/targets.h"

#include "ek/cpu/targets.h"  // the per-target code this TU asked for (and the target probe)

namespace ek {

constexpr int kMaxTargetBits = 63;

inline const char* TargetName(int64_t target) { return hwy::TargetName(target); }

// Targets compiled into this translation unit (the same for every TU built with the same flags).
inline int64_t CompiledTargets() { return HWY_TARGETS; }

// Writes the names of the targets in `mask`, best first, separated by `sep`.
inline void FormatTargets(int64_t mask, char* buffer, size_t size, const char* sep = " ") {
  detail::FormatMaskNames(static_cast<uint64_t>(mask), kMaxTargetBits,
                          [](int bit) { return TargetName(int64_t{1} << bit); }, buffer, size, sep);
}

namespace detail {

struct DispatchState {
  int64_t detected = 0;                 // what the CPU supports, before any restriction
  std::atomic<int64_t> restriction{0};  // 0 = none
  Status env_status;                    // error from EK_TARGETS, if any
};

inline bool NameEquals(const char* a, size_t a_len, const char* b) {
  if (std::strlen(b) != a_len) return false;
  for (size_t i = 0; i < a_len; ++i) {
    if (std::toupper(static_cast<unsigned char>(a[i])) != std::toupper(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

inline Status ApplyRestriction(DispatchState& state, const char* what, const char* spec);

inline DispatchState& Dispatch() {
  static DispatchState* state = [] {
    static DispatchState s;
    // Before any mock is installed, this is what the CPU supports (Highway also adds the
    // vector-length specific SVE_256 / SVE2_128 here).
    s.detected = hwy::SupportedTargets();
    // hwy::SupportedTargets() initializes the chosen target *before* adding SVE_256 / SVE2_128
    // (it expects its caller to update the choice): without this, an SVE machine with 256- or
    // 128-bit vectors would never run those targets.
    hwy::GetChosenTarget().Update(s.detected);
    if (const char* env = std::getenv("EK_TARGETS")) {
      if (*env) s.env_status = ApplyRestriction(s, "EK_TARGETS", env);
    }
    return &s;
  }();
  return *state;
}

inline Status ApplyRestriction(DispatchState& state, const char* what, const char* spec) {
  if (spec == nullptr || *spec == '\0') {
    state.restriction.store(0);
    hwy::SetSupportedTargetsForTest(0);
    return Status::Ok();
  }
  int64_t mask = 0;
  EK_RETURN_IF_ERROR(ForEachListItem(spec, [&](const char* name, size_t len) {
    int64_t target = 0;
    for (int bit = 0; bit < kMaxTargetBits && !target; ++bit) {
      if (NameEquals(name, len, TargetName(int64_t{1} << bit))) target = int64_t{1} << bit;
    }
    if (!target) {
      return Status::Error(StatusCode::kInvalidArgument, "%s: unknown target '%.*s'", what, static_cast<int>(len),
                           name);
    }
    if (!(target & CompiledTargets())) {
      char names[256];
      FormatTargets(CompiledTargets(), names, sizeof(names));
      return Status::Error(StatusCode::kUnsupported, "%s: target %s is not compiled in (compiled: %s)", what,
                           TargetName(target), names);
    }
    if (!(target & state.detected)) {
      return Status::Error(StatusCode::kUnsupported, "%s: target %s is not supported by this CPU", what,
                           TargetName(target));
    }
    mask |= target;
    return Status::Ok();
  }));
  if (mask == 0) return Status::Error(StatusCode::kInvalidArgument, "%s: names no target", what);
  state.restriction.store(mask);
  hwy::SetSupportedTargetsForTest(mask);
  return Status::Ok();
}

}  // namespace detail

// Called by every public entry point: returns the error of a bad EK_TARGETS / EK_DISABLE_LANES.
inline Status EnsureDispatchReady() {
  const detail::DispatchState& state = detail::Dispatch();
  if (!state.env_status.ok()) return state.env_status;
  return detail::Lanes().env_status;
}

// Targets this CPU supports, ignoring any restriction.
inline int64_t DetectedTargets() { return detail::Dispatch().detected; }

// Targets dispatch may choose from: supported by the CPU, compiled in, allowed by the restriction.
inline int64_t SupportedTargets() {
  const int64_t restriction = detail::Dispatch().restriction.load();
  return DetectedTargets() & CompiledTargets() & (restriction ? restriction : ~int64_t{0});
}

// Allows only the named targets (same syntax as EK_TARGETS); null or "" removes the restriction.
inline Status RestrictTargets(const char* spec) { return detail::ApplyRestriction(detail::Dispatch(), "targets", spec); }

// Forces one target (a single Highway target bit).
inline Status ForceTarget(int64_t target) { return RestrictTargets(TargetName(target)); }

inline void ResetTargets() { (void)RestrictTargets(nullptr); }

// Per-TU dispatch tables (see the header comment). Exported names stay unqualified: with a single
// compiled target (e.g. -march=native, HWY_COMPILE_ONLY_STATIC) Highway turns dispatch into a
// direct call to N_<TARGET>::name.
namespace {
HWY_EXPORT(ProbeTarget);
HWY_EXPORT(ProbeVectorBytes);

// The target whose code the kernels run now: found by dispatching, not by bookkeeping.
inline int64_t SelectedTarget() {
  (void)detail::Dispatch();
  return HWY_DYNAMIC_DISPATCH(ProbeTarget)();
}

// Bytes per vector of the selected target on this CPU.
inline size_t SelectedVectorBytes() {
  (void)detail::Dispatch();
  return HWY_DYNAMIC_DISPATCH(ProbeVectorBytes)();
}
}  // namespace

}  // namespace ek

#endif  // EK_DISPATCH_H_

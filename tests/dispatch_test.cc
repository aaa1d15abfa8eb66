// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Run-time dispatch: target lists, forcing and restricting targets, errors that name what is
// wrong, and several TUs (two that include ek, one with its own foreach_target pass that uses
// ek, one with its own pass and no ek) linked into this one binary, all following the same
// forced target.
#include <cmath>
#include <vector>

#include "dispatch_odr.h"
#include "ek/ek.h"
#include "test_util.h"

TEST_CASE("target lists are consistent", "[dispatch]") {
  const int64_t compiled = ek::CompiledTargets();
  const int64_t supported = ek::SupportedTargets();
  const int64_t selected = ek::SelectedTarget();
  CHECK(compiled != 0);
  CHECK((supported & ~compiled) == 0);
  CHECK((selected & supported) == selected);
  CHECK((selected & (selected - 1)) == 0);  // exactly one bit
  // With no restriction, the selected target is the best supported one (lowest bit = best).
  if (ek::detail::Dispatch().restriction.load() == 0) CHECK(selected == (supported & -supported));
  CHECK(ek::SelectedVectorBytes() >= 8);
}

TEST_CASE("every TU in the binary runs the forced target and gets the reference result", "[dispatch][odr]") {
  const int64_t n = 1001;
  std::vector<float> in(static_cast<size_t>(n));
  ek_test::Rng rng(5);
  for (float& x : in) x = rng.Uniform(-20.0f, 20.0f);
  std::vector<int8_t> want(static_cast<size_t>(n));
  double sum_sq = 0;
  for (int64_t i = 0; i < n; ++i) {
    want[static_cast<size_t>(i)] = static_cast<int8_t>(ek::ref::QuantizeValue(in[static_cast<size_t>(i)], ek::ref::InverseScale(0.125f), -3, -128, 127));
    sum_sq += static_cast<double>(in[static_cast<size_t>(i)]) * in[static_cast<size_t>(i)];
  }
  const int targets = ek_test::ForEachTarget([&](int64_t target) {
    INFO("target " << ek::TargetName(target));
    std::vector<int8_t> a(static_cast<size_t>(n)), b(static_cast<size_t>(n)), u(static_cast<size_t>(n));
    CHECK(odr::QuantizeInTuA(in.data(), a.data(), n) == target);
    CHECK(odr::QuantizeInTuB(in.data(), b.data(), n) == target);
    CHECK(odr::QuantizeInUserTu(in.data(), u.data(), n) == target);
    CHECK(a == want);
    CHECK(b == want);
    CHECK(u == want);
    // The user's own per-target code follows the same process-wide choice.
    CHECK(odr::UserKernelTarget() == target);
    CHECK(odr::HwyOnlyTarget() == target);
    CHECK(std::fabs(odr::UserSumOfSquares(in.data(), n) - sum_sq) <= 1e-4 * sum_sq);
  });
  CHECK(targets >= 1);
}

TEST_CASE("restricting targets: a set picks its best; bad names are errors, never fall backs", "[dispatch]") {
  const int64_t usable = ek::DetectedTargets() & ek::CompiledTargets();
  // Two usable targets: allowing both selects the better (lower bit).
  int64_t first = usable & -usable;
  int64_t second = (usable & ~first) & -(usable & ~first);
  if (second != 0) {
    char spec[128];
    std::snprintf(spec, sizeof(spec), "%s,%s", ek::TargetName(second), ek::TargetName(first));
    REQUIRE(ek::RestrictTargets(spec).ok());
    CHECK(ek::SelectedTarget() == first);
    CHECK(ek::SupportedTargets() == (first | second));
    // Lower case works too.
    std::string lower = ek::TargetName(second);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    REQUIRE(ek::RestrictTargets(lower.c_str()).ok());
    CHECK(ek::SelectedTarget() == second);
  }
  ek::Status s = ek::RestrictTargets("NOT_A_TARGET");
  CHECK(s.code() == ek::StatusCode::kInvalidArgument);
  CHECK(ek_test::Contains(s.message(), "targets: unknown target 'NOT_A_TARGET'"));
  // A target Highway knows but this binary did not compile (EMU128 and SCALAR are never compiled
  // next to real targets on x86 / Arm builds with run-time dispatch).
  int not_compiled_checked = 0;
  for (int bit = 0; bit < ek::kMaxTargetBits && !not_compiled_checked; ++bit) {
    const int64_t t = int64_t{1} << bit;
    const std::string name = ek::TargetName(t);
    if ((ek::CompiledTargets() & t) || name.empty() || name == "Unknown") continue;
    s = ek::RestrictTargets(name.c_str());
    INFO("target " << name << ": " << s.message());
    CHECK(s.code() == ek::StatusCode::kUnsupported);
    CHECK(ek_test::Contains(s.message(), "is not compiled in"));
    ++not_compiled_checked;
  }
  CHECK(not_compiled_checked == 1);
  // A compiled target this CPU lacks (e.g. AVX3_SPR on Zen4, SVE on cortex-a76), if any.
  const int64_t unsupported = ek::CompiledTargets() & ~ek::DetectedTargets();
  if (unsupported) {
    const int64_t t = unsupported & -unsupported;
    s = ek::ForceTarget(t);
    CHECK(s.code() == ek::StatusCode::kUnsupported);
    CHECK(ek_test::Contains(s.message(), "is not supported by this CPU"));
  }
  ek::ResetTargets();
  CHECK(ek::SupportedTargets() == (ek::DetectedTargets() & ek::CompiledTargets()));
  CHECK(ek::SelectedTarget() == (ek::SupportedTargets() & -ek::SupportedTargets()));
}

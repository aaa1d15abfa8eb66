// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Catch2 main for every test binary: prints which targets will be exercised, then runs.

// Dispatch, lanes, system information and threading only: no kernels compiled (docs/building.md).
#define EK_ONLY_DISPATCH 1

#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdio>

#include "ek/dispatch.h"

int main(int argc, char* argv[]) {
  char compiled[512], supported[512];
  ek::FormatTargets(ek::CompiledTargets(), compiled, sizeof(compiled));
  ek::FormatTargets(ek::SupportedTargets(), supported, sizeof(supported));
  std::printf("ek test: compiled targets [%s], supported here [%s], selected %s\n", compiled, supported,
              ek::TargetName(ek::SelectedTarget()));
  return Catch::Session().run(argc, argv);
}

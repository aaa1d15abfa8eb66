// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// ForEachDotLane: runs a test body on every integer multiply lane of the selected target (the
// integer GEMM's and everything built on it: quantized convolution). Include after ek/qgemm.h
// (or an op header that includes it).
#ifndef EK_TESTS_DOT_LANES_H_
#define EK_TESTS_DOT_LANES_H_

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "ek/cpu_features.h"

namespace ek_test {

// Runs body() with every lane of this target: the best one, then with it forced off (i8mm falls
// back to dotprod), until "widen".
template <typename Body>
void ForEachDotLane(const Body& body) {
  std::vector<ek::Lane> disabled;
  for (;;) {
    const std::string lane = ek::QGemmDotLane();
    INFO("lane " << lane);
    body();
    if (lane == "widen") break;
    const ek::Lane which = lane == "avx512vnni" ? ek::Lane::kAvx512Vnni
                           : lane == "i8mm"     ? ek::Lane::kI8mm
                                                : ek::Lane::kDotProd;
    ek::DisableLane(which);
    disabled.push_back(which);
    const std::string next = ek::QGemmDotLane();
    CHECK(next != lane);
    if (next == lane) break;
  }
  for (const ek::Lane lane : disabled) ek::EnableLane(lane);
}

}  // namespace ek_test

#endif  // EK_TESTS_DOT_LANES_H_

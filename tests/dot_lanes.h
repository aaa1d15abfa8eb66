// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// ForEachDotLane: runs a test body on every integer multiply lane of the selected target, as a
// kernel family's lane query reports them (ek::QGemmDotLane for the integer GEMM and everything
// built on it, ek::AttentionDotLane for int8 KV caches).
#ifndef EK_TESTS_DOT_LANES_H_
#define EK_TESTS_DOT_LANES_H_

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "ek/cpu_features.h"

namespace ek_test {

// Runs body() with every lane `lane_query()` reports: the best one, then with it forced off
// (i8mm falls back to dotprod), until "widen"; each forced-off lane must change the answer.
// The lanes turned off are turned back on however the scope is left.
template <typename Query, typename Body>
void ForEachDotLane(const Query& lane_query, const Body& body) {
  struct Restore {
    std::vector<ek::Lane> lanes;
    ~Restore() {
      for (const ek::Lane lane : lanes) ek::EnableLane(lane);
    }
  } disabled;
  for (;;) {
    const std::string lane = lane_query();
    INFO("lane " << lane);
    body();
    if (lane == "widen") break;
    ek::Lane which;
    if (!ek::MultiplyLaneFeature(lane.c_str(), &which)) {
      FAIL_CHECK("lane " << lane << " is not a multiply lane");
      break;
    }
    ek::DisableLane(which);
    disabled.lanes.push_back(which);
    const std::string next = lane_query();
    CHECK(next != lane);
    if (next == lane) break;
  }
}

}  // namespace ek_test

#endif  // EK_TESTS_DOT_LANES_H_

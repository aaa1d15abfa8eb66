// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Eigen's f32 GEMM (row-major maps, one thread). Eigen is header-only: it is as fast as the ISA
// it is compiled for, so this TU alone is built with -march=native (bench/CMakeLists.txt) and
// the comparison is with Eigen at its best on this machine.
#include <Eigen/Core>

#include "peers/peer_runner.h"

namespace ek_bench {
namespace {

using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

void EigenGemm(benchmark::State& state, const GemmShape& s) {
  Eigen::setNbThreads(1);
  RunPeerGemm<int>(
      state, s, [](const float*) { return 0; },
      [&](int, const float* a, const float* b, float* c) {
        Eigen::Map<const RowMajor> ma(a, s.m, s.k), mb(b, s.k, s.n);
        Eigen::Map<RowMajor> mc(c, s.m, s.n);
        mc.noalias() = ma * mb;
        return true;
      });
}

}  // namespace

void RegisterEigenGemm(const std::vector<GemmShape>& shapes) {
  for (const GemmShape& s : shapes) RegisterPeer("eigen", s, EigenGemm);
}

}  // namespace ek_bench

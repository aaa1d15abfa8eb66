// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// ek used from several threads at once, as a runtime does: the first calls racing through
// dispatch initialization, two threads sharing the same packed weights (each with its own pool,
// or one pool shared), and the results equal to a single-threaded run. Run by every lane, and
// under ThreadSanitizer by the host-clang-tsan lane (tools/test-all.sh).
#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "ek/ek.h"
#include "test_util.h"

namespace {

using ek::DType;
using ek::TensorView;

constexpr int64_t kM = 37, kN = 300, kK = 129;

struct Shared {
  std::vector<float> a, b;
  std::vector<int8_t> b8;
  std::vector<float> b8_scales;
  std::vector<uint32_t> packed_f32, packed_i8;
  ek::PackedWeights gemm_weights, qgemm_weights;

  Shared() : a(kM * kK), b(kK * kN), b8(kK * kN), b8_scales(kN) {
    ek_test::Rng rng(5);
    for (float& x : a) x = rng.Uniform(-1.0f, 1.0f);
    for (float& x : b) x = rng.Uniform(-1.0f, 1.0f);
    for (int8_t& x : b8) x = static_cast<int8_t>(rng.Int(-127, 127));
    for (float& s : b8_scales) s = rng.Uniform(0.001f, 0.01f);
    const TensorView bv = TensorView::Host(DType::kF32, b.data(), {kK, kN});
    size_t bytes = 0;
    REQUIRE(ek::PackedGemmWeightsSize(bv, false, &bytes).ok());
    packed_f32.resize(bytes / 4 + 1);
    REQUIRE(ek::PackGemmWeights(bv, false, packed_f32.data(), bytes).ok());
    gemm_weights = {packed_f32.data(), bytes};
    const TensorView b8v = TensorView::Host(DType::kI8, b8.data(), {kK, kN}).WithQuant(ek::QuantParams::PerAxis(1, b8_scales.data()));
    REQUIRE(ek::PackedQGemmWeightsSize(b8v, false, &bytes).ok());
    packed_i8.resize(bytes / 4 + 1);
    REQUIRE(ek::PackQGemmWeights(b8v, false, packed_i8.data(), bytes).ok());
    qgemm_weights = {packed_i8.data(), bytes};
  }

  // One call of each kernel family on the shared weights; the status, and the outputs appended.
  bool Run(const ek::Context& ctx, std::vector<float>* out) const {
    std::vector<float> c(kM * kN), cq(kM * kN), cv(kM * kN);
    const TensorView av = TensorView::Host(DType::kF32, a.data(), {kM, kK});
    bool ok = ek::Gemm(av, gemm_weights, TensorView::Host(DType::kF32, c.data(), {kM, kN}), ek::GemmOptions(), ctx).ok();
    ok = ok && ek::Gemm(av, TensorView::Host(DType::kF32, b.data(), {kK, kN}), TensorView::Host(DType::kF32, cv.data(), {kM, kN}),
                        ek::GemmOptions(), ctx)
                   .ok();
    ok = ok && ek::QGemm(av, qgemm_weights, TensorView::Host(DType::kF32, cq.data(), {kM, kN}), ek::QGemmOptions(), ctx).ok();
    out->insert(out->end(), c.begin(), c.end());
    out->insert(out->end(), cv.begin(), cv.end());
    out->insert(out->end(), cq.begin(), cq.end());
    return ok;
  }
};

TEST_CASE("Threads racing through the first dispatch all select the same target", "[concurrency]") {
  // Every thread asks for the target and runs a conversion at once; dispatch initializes once.
  std::vector<std::thread> threads;
  std::vector<int64_t> selected(4, 0);
  std::atomic<int> failures{0};
  for (size_t t = 0; t < selected.size(); ++t) {
    threads.emplace_back([&, t] {
      std::vector<float> in(1000, 0.5f);
      std::vector<uint16_t> out(1000);
      if (!ek::Convert(TensorView::Host(DType::kF32, in.data(), {1000}), TensorView::Host(DType::kF16, out.data(), {1000}))
               .ok()) {
        ++failures;
      }
      selected[t] = ek::SelectedTarget();
    });
  }
  for (std::thread& t : threads) t.join();
  CHECK(failures.load() == 0);
  for (int64_t s : selected) CHECK(s == selected[0]);
}


TEST_CASE("Two threads share packed weights and a pool; results equal a single-threaded run", "[concurrency]") {
  const Shared shared;
  std::vector<float> want;
  REQUIRE(shared.Run(ek::Context(), &want));
  constexpr int kThreads = 2, kRounds = 4;
  // Each caller thread with its own 2-thread pool, then both through one shared pool (its calls
  // are serialized by the pool).
  for (const bool shared_pool : {false, true}) {
    INFO((shared_pool ? "one pool shared" : "a pool per caller"));
    ek::ThreadPool common(2);
    std::vector<std::vector<float>> got(kThreads);
    std::atomic<int> failures{0};
    std::vector<std::thread> callers;
    for (int t = 0; t < kThreads; ++t) {
      callers.emplace_back([&, t] {
        ek::ThreadPool own(2);
        ek::Context ctx;
        ctx.threads = shared_pool ? common.Hook() : own.Hook();
        for (int round = 0; round < kRounds; ++round) {
          std::vector<float> out;
          if (!shared.Run(ctx, &out)) ++failures;
          if (round == 0) got[static_cast<size_t>(t)] = out;
          if (out != want) ++failures;
        }
      });
    }
    for (std::thread& c : callers) c.join();
    CHECK(failures.load() == 0);
    for (const auto& g : got) CHECK(g == want);
  }
}

}  // namespace

// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
#include <atomic>
#include <vector>

#include "ek/parallel.h"
#include "test_util.h"

TEST_CASE("ThreadPool runs every task exactly once, for any thread count", "[parallel]") {
  for (size_t threads = 1; threads <= 4; ++threads) {
    ek::ThreadPool pool(threads);
    CHECK(pool.NumThreads() == threads);
    for (size_t num_tasks : {size_t{1}, size_t{2}, size_t{3}, size_t{17}, size_t{1000}}) {
      std::vector<std::atomic<int>> hits(num_tasks);
      for (auto& h : hits) h.store(0);
      ek::ParallelFor(pool.Hook(), num_tasks, [&](size_t i) { hits[i].fetch_add(1); });
      for (size_t i = 0; i < num_tasks; ++i) CHECK(hits[i].load() == 1);
    }
  }
}

TEST_CASE("serial default runs in order on the calling thread", "[parallel]") {
  std::vector<size_t> order;
  ek::ParallelFor(ek::ThreadHook{}, 5, [&](size_t i) { order.push_back(i); });
  CHECK(order == std::vector<size_t>{0, 1, 2, 3, 4});
}

TEST_CASE("PlanTasks depends only on the work, covers it exactly, respects the minimum", "[parallel]") {
  for (size_t total : {size_t{1}, size_t{7}, size_t{100}, size_t{4096}, size_t{1000003}}) {
    for (size_t min_per_task : {size_t{1}, size_t{3}, size_t{64}, size_t{5000}}) {
      const ek::TaskPlan plan = ek::PlanTasks(total, min_per_task);
      size_t covered = 0;
      for (size_t t = 0; t < plan.num_tasks; ++t) {
        const size_t begin = plan.Begin(t), end = plan.End(t, total);
        CHECK(begin == covered);
        CHECK(end > begin);
        covered = end;
        if (plan.num_tasks > 1) CHECK(end - begin >= std::min(min_per_task, total) / 2);
      }
      CHECK(covered == total);
      CHECK(plan.num_tasks <= 256);
    }
  }
}

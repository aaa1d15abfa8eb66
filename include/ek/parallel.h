// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Threading hook. Kernels never own threads: they cut their work into tasks whose boundaries
// depend only on the problem (never on the number of threads), and hand them to a ParallelFor
// that the caller supplies. Results are therefore bitwise identical for any thread count.
//
//   - Default (ThreadHook{}): serial, on the calling thread.
//   - A runtime plugs in its own pool: a function pointer plus a context.
//   - ek::ThreadPool is a small built-in pool for tools, tests and apps without a pool of their
//     own: workers spin for a short while after each call (the next op of a network comes
//     within microseconds), then block.
#ifndef EK_PARALLEL_H_
#define EK_PARALLEL_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace ek {

// Runs task(task_context, i) for every i in [0, num_tasks), on any threads, in any order, and
// returns when all have finished. Tasks are independent; a pool should hand them out
// dynamically (an atomic counter), since phone cores are uneven.
using ParallelForFn = void (*)(void* pool, size_t num_tasks, void (*task)(void* task_context, size_t index),
                               void* task_context);

struct ThreadHook {
  ParallelForFn parallel_for = nullptr;  // null: run serially on the caller's thread
  void* pool = nullptr;
};

// Everything a kernel call may need from its caller besides its operands.
struct Context {
  ThreadHook threads;
};

// Calls func(index) for index in [0, num_tasks) through the hook.
template <typename Func>
void ParallelFor(const ThreadHook& hook, size_t num_tasks, const Func& func) {
  if (num_tasks == 0) return;
  if (hook.parallel_for == nullptr || num_tasks == 1) {
    for (size_t i = 0; i < num_tasks; ++i) func(i);
    return;
  }
  hook.parallel_for(
      hook.pool, num_tasks, [](void* ctx, size_t index) { (*static_cast<const Func*>(ctx))(index); },
      const_cast<void*>(static_cast<const void*>(&func)));
}

// Splits `total` units of work into tasks of at least `min_per_task` units (the minimum work
// size that pays for handing out a task) and at most `max_tasks` tasks. Depends only on its
// arguments, never on the thread count.
struct TaskPlan {
  size_t num_tasks = 1;
  size_t per_task = 0;
  size_t Begin(size_t task) const { return task * per_task; }
  size_t End(size_t task, size_t total) const { return (task + 1) * per_task < total ? (task + 1) * per_task : total; }
};

inline TaskPlan PlanTasks(size_t total, size_t min_per_task, size_t max_tasks = 256) {
  TaskPlan plan;
  if (min_per_task == 0) min_per_task = 1;
  size_t tasks = total / min_per_task;
  if (tasks < 1) tasks = 1;
  if (tasks > max_tasks) tasks = max_tasks;
  plan.per_task = (total + tasks - 1) / tasks;
  if (plan.per_task == 0) plan.per_task = 1;
  plan.num_tasks = (total + plan.per_task - 1) / plan.per_task;
  if (plan.num_tasks == 0) plan.num_tasks = 1;
  return plan;
}

// A small pool: num_threads - 1 workers plus the calling thread. One ParallelFor at a time per
// pool (calls are serialized). Between calls a worker first spins (yielding) for up to
// kSpinMicros, then sleeps on a condition variable; the caller waits for the workers the same
// way. Sleeping at once cost a wake-up per op: MobileNetV2's 65 ops ran slower on two threads
// than on one (6.8 vs 5.7 ms, this machine).
class ThreadPool {
 public:
  static constexpr int64_t kSpinMicros = 100;

  explicit ThreadPool(size_t num_threads) {
    if (num_threads < 1) num_threads = 1;
    for (size_t i = 1; i < num_threads; ++i) workers_.emplace_back([this] { WorkerLoop(); });
  }
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;
  ~ThreadPool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      shutdown_.store(true, std::memory_order_release);
    }
    wake_.notify_all();
    for (std::thread& t : workers_) t.join();
  }

  size_t NumThreads() const { return workers_.size() + 1; }

  ThreadHook Hook() {
    ThreadHook hook;
    hook.parallel_for = &ThreadPool::RunStatic;
    hook.pool = this;
    return hook;
  }

  void Run(size_t num_tasks, void (*task)(void*, size_t), void* task_context) {
    std::lock_guard<std::mutex> call_lock(call_mutex_);
    task_ = task;
    task_context_ = task_context;
    num_tasks_ = num_tasks;
    next_task_.store(0, std::memory_order_relaxed);
    busy_workers_.store(workers_.size(), std::memory_order_relaxed);
    {
      // Under the mutex, so that a worker about to sleep sees either the old generation and
      // then this notify, or the new one. The release publishes the fields above.
      std::lock_guard<std::mutex> lock(mutex_);
      generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    Work();
    if (SpinUntil([this] { return busy_workers_.load(std::memory_order_acquire) == 0; })) return;
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [this] { return busy_workers_.load(std::memory_order_acquire) == 0; });
  }

 private:
  static void RunStatic(void* pool, size_t num_tasks, void (*task)(void*, size_t), void* task_context) {
    static_cast<ThreadPool*>(pool)->Run(num_tasks, task, task_context);
  }

  // Polls `ready` (yielding the core between polls) for up to kSpinMicros; whether it held.
  template <typename Ready>
  static bool SpinUntil(const Ready& ready) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(kSpinMicros);
    for (int polls = 0;; ++polls) {
      if (ready()) return true;
      if ((polls & 15) == 15 && std::chrono::steady_clock::now() > deadline) return ready();
      std::this_thread::yield();
    }
  }

  void Work() {
    for (;;) {
      const size_t i = next_task_.fetch_add(1, std::memory_order_relaxed);
      if (i >= num_tasks_) return;
      task_(task_context_, i);
    }
  }

  void WorkerLoop() {
    size_t seen_generation = 0;
    for (;;) {
      const auto called = [&] {
        return shutdown_.load(std::memory_order_acquire) ||
               generation_.load(std::memory_order_acquire) != seen_generation;
      };
      if (!SpinUntil(called)) {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, called);
      }
      if (shutdown_.load(std::memory_order_acquire)) return;
      seen_generation = generation_.load(std::memory_order_acquire);
      Work();
      if (busy_workers_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> lock(mutex_);  // the caller checks under it before it sleeps
        done_.notify_one();
      }
    }
  }

  std::vector<std::thread> workers_;
  std::mutex call_mutex_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  void (*task_)(void*, size_t) = nullptr;
  void* task_context_ = nullptr;
  size_t num_tasks_ = 0;
  std::atomic<size_t> next_task_{0};
  std::atomic<size_t> busy_workers_{0};
  std::atomic<size_t> generation_{0};
  std::atomic<bool> shutdown_{false};
};

}  // namespace ek

#endif  // EK_PARALLEL_H_

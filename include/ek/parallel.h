// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Threading hook. Kernels never own threads: they cut their work into tasks whose boundaries
// depend only on the problem (never on the number of threads), and hand them to a ParallelFor
// that the caller supplies. Results are therefore bitwise identical for any thread count.
//
//   - Default (ThreadHook{}): serial, on the calling thread.
//   - A runtime plugs in its own pool: a function pointer plus a context.
//   - ek::ThreadPool is a small built-in pool (blocking workers, no spinning) for tools, tests
//     and apps without a pool of their own.
#ifndef EK_PARALLEL_H_
#define EK_PARALLEL_H_

#include <atomic>
#include <condition_variable>
#include <cstddef>
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

// A small pool: num_threads - 1 workers plus the calling thread. Workers sleep on a condition
// variable between calls. One ParallelFor at a time per pool (calls are serialized).
class ThreadPool {
 public:
  explicit ThreadPool(size_t num_threads) {
    if (num_threads < 1) num_threads = 1;
    for (size_t i = 1; i < num_threads; ++i) workers_.emplace_back([this] { WorkerLoop(); });
  }
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;
  ~ThreadPool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      shutdown_ = true;
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
    {
      std::lock_guard<std::mutex> lock(mutex_);
      task_ = task;
      task_context_ = task_context;
      num_tasks_ = num_tasks;
      next_task_.store(0);
      busy_workers_ = workers_.size();
      ++generation_;
    }
    wake_.notify_all();
    Work();
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [this] { return busy_workers_ == 0; });
  }

 private:
  static void RunStatic(void* pool, size_t num_tasks, void (*task)(void*, size_t), void* task_context) {
    static_cast<ThreadPool*>(pool)->Run(num_tasks, task, task_context);
  }

  void Work() {
    for (;;) {
      const size_t i = next_task_.fetch_add(1);
      if (i >= num_tasks_) return;
      task_(task_context_, i);
    }
  }

  void WorkerLoop() {
    size_t seen_generation = 0;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return shutdown_ || generation_ != seen_generation; });
        if (shutdown_) return;
        seen_generation = generation_;
      }
      Work();
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (--busy_workers_ == 0) done_.notify_one();
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
  size_t busy_workers_ = 0;
  size_t generation_ = 0;
  bool shutdown_ = false;
};

}  // namespace ek

#endif  // EK_PARALLEL_H_

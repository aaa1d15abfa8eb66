// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// ek_bench: Google Benchmark main. Prints the selected target and this machine's measured
// peaks, then runs the registered benchmarks. Each benchmark name without "/target:" runs on the
// target dispatch selects; "/target:X" variants force X (EK_TARGETS-style A/B).
#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "bench_util.h"
#include "ek/qgemm.h"  // the kernel pass with the integer GEMM family: QGemmDotLane
#include "ek/dispatch.h"
#include "ek/system_info.h"

namespace ek_bench {

double PeakStreamGBps(size_t bytes) {
  static std::map<size_t, double> cache;
  auto it = cache.find(bytes);
  if (it != cache.end()) return it->second;
  const size_t half = std::max<size_t>(bytes / 2, 64);
  std::vector<uint8_t> src(half, 1), dst(half, 0);
  double best = 0;
  for (int trial = 0; trial < 5; ++trial) {
    size_t iterations = 0;
    const auto start = std::chrono::steady_clock::now();
    double seconds = 0;
    do {
      std::memcpy(dst.data(), src.data(), half);
      benchmark::DoNotOptimize(dst.data());
      benchmark::ClobberMemory();
      ++iterations;
      seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    } while (seconds < 0.05);
    best = std::max(best, 2.0 * static_cast<double>(half) * static_cast<double>(iterations) / seconds * 1e-9);
  }
  cache[bytes] = best;
  return best;
}

void SetStreamCounters(benchmark::State& state, size_t bytes_per_iteration, double seconds) {
  const double gbps = static_cast<double>(bytes_per_iteration) * static_cast<double>(state.iterations()) / seconds * 1e-9;
  state.counters["GBps"] = gbps;
  state.counters["pct_peak"] = 100.0 * gbps / PeakStreamGBps(bytes_per_iteration);
}

void SetOpenMpThreads(int threads) {
  using SetThreads = void (*)(int);
  if (auto set_threads = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "omp_set_num_threads"))) set_threads(threads);
}

void RegisterForTargets(const std::string& name, const std::function<void(benchmark::State&)>& body) {
  const int64_t selected = ek::SelectedTarget();
  benchmark::RegisterBenchmark(name.c_str(), [body](benchmark::State& state) { body(state); })
      ->Unit(benchmark::kMicrosecond)
      ->UseRealTime();
  const int64_t others = ek::SupportedTargets() & ~selected;
  for (int bit = 0; bit < ek::kMaxTargetBits; ++bit) {
    const int64_t target = int64_t{1} << bit;
    if (!(others & target)) continue;
    const std::string full = name + "/target:" + ek::TargetName(target);
    benchmark::RegisterBenchmark(full.c_str(), [body, target](benchmark::State& state) {
      if (!ek::ForceTarget(target).ok()) {
        state.SkipWithError("target not available");
        return;
      }
      body(state);
      ek::ResetTargets();
    })->Unit(benchmark::kMicrosecond)->UseRealTime();
  }
}

}  // namespace ek_bench

namespace ek_bench {
void RegisterConvertBenchmarks();
void RegisterGemmBenchmarks();
void RegisterQGemmBenchmarks();
void RegisterConvBenchmarks();
void RegisterClBenchmarks();
void RegisterAttentionBenchmarks();
void RegisterTransformerBenchmarks();
void RegisterLlamaBlockBenchmarks();
}

namespace ek_bench {

// This machine's measured peaks, printed and written to the JSON output's context (for
// tools/ek-report: roofline, tables).
void ReportMachine(const ek::SystemInfo& sys) {
  std::printf("ek_bench: %s, selected target %s (%zu-byte vectors), L2 %lld KiB\n", sys.cpu_name,
              ek::TargetName(ek::SelectedTarget()), ek::SelectedVectorBytes(),
              static_cast<long long>(sys.DataCacheBytes(2) >> 10));
  std::printf("measured peak (memcpy, bytes read + written): 32 KiB %.1f GB/s, 1.25 MiB %.1f GB/s, 80 MiB %.1f GB/s\n",
              ek_bench::PeakStreamGBps(4096 * 8), ek_bench::PeakStreamGBps(262144 * 5),
              ek_bench::PeakStreamGBps(size_t{16} << 22 | (size_t{16} << 20)));
  std::printf("measured peak (one thread): f32 FMA %.1f GFLOP/s on %s, DRAM read %.1f GB/s (1 GiB)\n",
              ek_bench::FmaPeakGflops(), ek::TargetName(ek::SelectedTarget()), ek_bench::DramReadGBps());
  std::printf("measured peak (one thread): int8 dot %.1f GOP/s on %s (qgemm lane: %s)\n", ek_bench::Int8DotPeakGops(),
              ek::TargetName(ek::SelectedTarget()), ek::QGemmDotLane());
  std::printf("convert: pct_peak = GBps / memcpy GB/s over the same footprint\n");
  std::printf("gemm: pct_peak = GFLOPS / FMA peak; pct_dram = weight GBps / DRAM read (M <= 16, weights colder than the LLC)\n");
  std::printf("qgemm: pct_peak = GOPS / int8 dot peak; pct_dram = packed weight GBps / DRAM read (M <= 16)\n");
  std::printf("conv: pct_peak = GFLOPS / FMA peak (MobileNetV2 layers, 224 x 224, batch 1)\n");
  std::printf("attn: decode pct_dram = KV GBps / DRAM read; prefill pct_peak = GFLOPS (unmasked work) / FMA peak\n\n");
  // The same facts in the JSON context.
  const auto number = [](double value) { return std::to_string(value); };
  benchmark::AddCustomContext("ek_cpu", sys.cpu_name);
  benchmark::AddCustomContext("ek_target", ek::TargetName(ek::SelectedTarget()));
  benchmark::AddCustomContext("ek_qgemm_lane", ek::QGemmDotLane());
  benchmark::AddCustomContext("ek_fma_peak_gflops", number(ek_bench::FmaPeakGflops()));
  benchmark::AddCustomContext("ek_int8_peak_gops", number(ek_bench::Int8DotPeakGops()));
  benchmark::AddCustomContext("ek_dram_read_gbps", number(ek_bench::DramReadGBps()));
  benchmark::AddCustomContext("ek_l2_kib", std::to_string(sys.DataCacheBytes(2) >> 10));
}

}  // namespace ek_bench

int main(int argc, char** argv) {
  const ek::Status ready = ek::EnsureDispatchReady();
  if (!ready.ok()) {
    std::fprintf(stderr, "ek_bench: %s\n", ready.message());
    return 1;
  }
  // Listing the benchmarks runs none: the peaks (a few seconds, longer under emulation) are
  // measured only for a run.
  bool listing = false;
  for (int i = 1; i < argc; ++i) {
    listing |= std::strcmp(argv[i], "--benchmark_list_tests") == 0 || std::strcmp(argv[i], "--benchmark_list_tests=true") == 0 ||
               std::strcmp(argv[i], "--benchmark_list_tests=1") == 0;
  }
  if (!listing) ek_bench::ReportMachine(ek::GetSystemInfo());
  ek_bench::RegisterConvertBenchmarks();
  ek_bench::RegisterGemmBenchmarks();
  ek_bench::RegisterQGemmBenchmarks();
  ek_bench::RegisterConvBenchmarks();
  ek_bench::RegisterClBenchmarks();
  ek_bench::RegisterAttentionBenchmarks();
  ek_bench::RegisterTransformerBenchmarks();
  ek_bench::RegisterLlamaBlockBenchmarks();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Peer int8 GEMMs in the same binary, each compiled in when its Debian package was found
// (bench/CMakeLists.txt), one thread, weights prepared once, rotated past the LLC for M <= 16:
//   peer/onednn/qgemm/s8/<shape>    dnnl_gemm_u8s8s32 (u8 x s8 -> s32, no requantization)
//   peer/xnnpack/qgemm/s8/<shape>   fully connected qs8 (s8 -> s8, requantized; 2022 snapshot)
//   peer/gemmlowp/qgemm/u8/<shape>  GemmWithOutputPipeline, u8 -> u8 (bias, fixed-point scale,
//                                   saturating cast; one thread)
#include <gemmlowp/public/gemmlowp.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "bench_util.h"

#if EK_PEER_ONEDNN
#include <oneapi/dnnl/dnnl.h>
#endif
#if EK_PEER_XNNPACK
#include <xnnpack.h>
#endif

namespace ek_bench {
namespace {

// prepare(weights [N x K] row-major, i.e. column j of B contiguous) -> Handle; run(handle, a, c).
template <typename Handle, typename Prepare, typename Run>
void RunPeerQGemm(benchmark::State& state, const GemmShape& shape, const Prepare& prepare, const Run& run) {
  const size_t weight_bytes = static_cast<size_t>(shape.k * shape.n);
  const size_t copies = ColdCopies(shape, weight_bytes);
  std::vector<uint8_t> a(static_cast<size_t>(shape.m * shape.k));
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<uint8_t>(i * 7 % 255);
  std::vector<int32_t> c(static_cast<size_t>(shape.m * shape.n));
  std::vector<std::vector<int8_t>> weights(copies, std::vector<int8_t>(weight_bytes));
  std::vector<Handle> handles;
  for (size_t i = 0; i < copies; ++i) {
    for (size_t j = 0; j < weight_bytes; ++j) weights[i][j] = static_cast<int8_t>(j * 13 + 5 + i);
    handles.push_back(prepare(weights[i].data()));
  }
  const double seconds = TimeRotating(state, copies, [&](size_t i) {
    const bool ok = run(handles[i], a.data(), weights[i].data(), c.data());
    if (!ok) state.SkipWithError("peer GEMM failed");
    benchmark::DoNotOptimize(c.data());
    return ok;
  });
  if (seconds < 0) return;
  SetQGemmCounters(state, shape, weight_bytes, seconds);
}

#if EK_PEER_ONEDNN
void OneDnnQGemm(benchmark::State& state, const GemmShape& s) {
  SetOpenMpThreads(1);
  const int32_t offset_c = 0;
  RunPeerQGemm<int>(
      state, s, [](const int8_t*) { return 0; },
      [&](int, const uint8_t* a, const int8_t* b, int32_t* c) {
        // B given as [N x K] row-major = transposed [K x N].
        return dnnl_gemm_u8s8s32('N', 'T', 'F', s.m, s.n, s.k, 1.0f, a, s.k, 0, b, s.k, 0, 0.0f, c, s.n, &offset_c) ==
               dnnl_success;
      });
}
#endif

#if EK_PEER_XNNPACK
void XnnpackQGemm(benchmark::State& state, const GemmShape& s) {
  static const bool initialized = xnn_initialize(nullptr) == xnn_status_success;
  if (!initialized) return state.SkipWithError("xnn_initialize failed");
  std::vector<xnn_operator_t> created;
  std::vector<int32_t> bias(static_cast<size_t>(s.n), 100);
  std::vector<int8_t> out(static_cast<size_t>(s.m * s.n));
  RunPeerQGemm<xnn_operator_t>(
      state, s,
      [&](const int8_t* b) {
        xnn_operator_t op = nullptr;
        if (xnn_create_fully_connected_nc_qs8(static_cast<size_t>(s.k), static_cast<size_t>(s.n), static_cast<size_t>(s.k),
                                              static_cast<size_t>(s.n), 3, 0.05f, 0.01f, b, bias.data(), -5, 0.5f, -128,
                                              127, 0, &op) == xnn_status_success) {
          created.push_back(op);
        }
        return op;
      },
      [&](xnn_operator_t op, const uint8_t* a, const int8_t*, int32_t*) {
        if (op == nullptr) return false;
        return xnn_setup_fully_connected_nc_qs8(op, static_cast<size_t>(s.m), reinterpret_cast<const int8_t*>(a),
                                                out.data(), nullptr) == xnn_status_success &&
               xnn_run_operator(op, nullptr) == xnn_status_success;
      });
  for (xnn_operator_t op : created) xnn_delete_operator(op);
}
#endif

void GemmlowpQGemm(benchmark::State& state, const GemmShape& s) {
  gemmlowp::GemmContext context;
  context.set_max_num_threads(1);
  const int n = static_cast<int>(s.n), m = static_cast<int>(s.m), k = static_cast<int>(s.k);
  std::vector<int32_t> bias(static_cast<size_t>(n), 100);
  std::vector<uint8_t> out(static_cast<size_t>(m * n));
  gemmlowp::OutputStageBiasAddition<gemmlowp::VectorMap<const int32_t, gemmlowp::VectorShape::Row>> bias_stage;
  bias_stage.bias_vector = gemmlowp::VectorMap<const int32_t, gemmlowp::VectorShape::Row>(bias.data(), n);
  gemmlowp::OutputStageScaleInt32ByFixedPointAndExponent scale_stage;
  scale_stage.result_fixedpoint_multiplier = 1518500250;
  scale_stage.result_exponent = -8;
  scale_stage.result_offset_after_shift = 128;
  const auto pipeline = std::make_tuple(bias_stage, scale_stage, gemmlowp::OutputStageSaturatingCastToUint8());
  RunPeerQGemm<int>(
      state, s, [](const int8_t*) { return 0; },
      [&](int, const uint8_t* a, const int8_t* b, int32_t*) {
        gemmlowp::MatrixMap<const uint8_t, gemmlowp::MapOrder::RowMajor> lhs(a, m, k);
        gemmlowp::MatrixMap<const uint8_t, gemmlowp::MapOrder::ColMajor> rhs(reinterpret_cast<const uint8_t*>(b), k, n);
        gemmlowp::MatrixMap<uint8_t, gemmlowp::MapOrder::RowMajor> result(out.data(), m, n);
        gemmlowp::GemmWithOutputPipeline<uint8_t, uint8_t, gemmlowp::DefaultL8R8BitDepthParams>(
            &context, lhs, rhs, &result, -3, -128, pipeline);
        return true;
      });
}

void Register(const char* peer, const char* type, const GemmShape& shape,
              void (*body)(benchmark::State&, const GemmShape&)) {
  const std::string name = std::string("peer/") + peer + "/qgemm/" + type + "/" + shape.Name();
  benchmark::RegisterBenchmark(name.c_str(), [shape, body](benchmark::State& state) { body(state, shape); })
      ->Unit(benchmark::kMicrosecond)
      ->UseRealTime();
}

}  // namespace

void RegisterQGemmPeers(const std::vector<GemmShape>& shapes) {
  for (const GemmShape& s : shapes) {
#if EK_PEER_ONEDNN
    Register("onednn", "s8", s, OneDnnQGemm);  // every shape: also the reference for the LLM kernels
#endif
    if (s.group == "llm") continue;
#if EK_PEER_XNNPACK
    Register("xnnpack", "s8", s, XnnpackQGemm);
#endif
    Register("gemmlowp", "u8", s, GemmlowpQGemm);
  }
}

}  // namespace ek_bench

// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Peer f32 GEMMs in the same binary, each compiled in when its Debian package was found
// (bench/CMakeLists.txt): OpenBLAS cblas_sgemm, oneDNN dnnl_sgemm, XNNPACK fully connected f32
// (weights packed at operator creation, like ek's /packed), Eigen (eigen_gemm.cc). All at one
// thread: OpenBLAS via openblas_set_num_threads, oneDNN (OpenMP) via OMP_NUM_THREADS=1 set by
// omp_set_num_threads found at run time, XNNPACK without a thread pool, Eigen without OpenMP.
#include <cmath>
#include <cstdint>

#include "peers/peer_runner.h"

#if EK_PEER_OPENBLAS
#include <cblas-openblas.h>
#endif
#if EK_PEER_ONEDNN
#include <oneapi/dnnl/dnnl.h>
#endif
#if EK_PEER_XNNPACK
#include <xnnpack.h>
#endif

namespace ek_bench {

void RegisterEigenGemm(const std::vector<GemmShape>& shapes);

namespace {

#if EK_PEER_OPENBLAS
void OpenBlasGemm(benchmark::State& state, const GemmShape& s) {
  openblas_set_num_threads(1);
  RunPeerGemm<int>(
      state, s, [](const float*) { return 0; },
      [&](int, const float* a, const float* b, float* c) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<blasint>(s.m), static_cast<blasint>(s.n),
                    static_cast<blasint>(s.k), 1.0f, a, static_cast<blasint>(s.k), b, static_cast<blasint>(s.n), 0.0f,
                    c, static_cast<blasint>(s.n));
        return true;
      });
}
#endif

#if EK_PEER_ONEDNN
void OneDnnGemm(benchmark::State& state, const GemmShape& s) {
  SetOpenMpThreads(1);
  RunPeerGemm<int>(
      state, s, [](const float*) { return 0; },
      [&](int, const float* a, const float* b, float* c) {
        return dnnl_sgemm('N', 'N', s.m, s.n, s.k, 1.0f, a, s.k, b, s.n, 0.0f, c, s.n) == dnnl_success;
      });
}
#endif

#if EK_PEER_XNNPACK
struct XnnOperator {
  xnn_operator_t op = nullptr;
};
void XnnpackGemm(benchmark::State& state, const GemmShape& s) {
  static const bool initialized = xnn_initialize(nullptr) == xnn_status_success;
  if (!initialized) return state.SkipWithError("xnn_initialize failed");
  std::vector<xnn_operator_t> created;
  RunPeerGemm<XnnOperator>(
      state, s,
      [&](const float* b) {
        XnnOperator h;
        // Weights as [K x N] (XNN_FLAG_TRANSPOSE_WEIGHTS): the same B as every other runner.
        if (xnn_create_fully_connected_nc_f32(static_cast<size_t>(s.k), static_cast<size_t>(s.n),
                                              static_cast<size_t>(s.k), static_cast<size_t>(s.n), b, nullptr,
                                              -INFINITY, INFINITY, XNN_FLAG_TRANSPOSE_WEIGHTS,
                                              &h.op) == xnn_status_success) {
          created.push_back(h.op);
        }
        return h;
      },
      [&](const XnnOperator& h, const float* a, const float*, float* c) {
        if (h.op == nullptr) return false;
        return xnn_setup_fully_connected_nc_f32(h.op, static_cast<size_t>(s.m), a, c, nullptr) == xnn_status_success &&
               xnn_run_operator(h.op, nullptr) == xnn_status_success;
      });
  for (xnn_operator_t op : created) xnn_delete_operator(op);
}
#endif

}  // namespace

void RegisterGemmPeers(const std::vector<GemmShape>& shapes) {
  for (const GemmShape& s : shapes) {
#if EK_PEER_OPENBLAS
    RegisterPeer("openblas", s, OpenBlasGemm);
#endif
#if EK_PEER_ONEDNN
    RegisterPeer("onednn", s, OneDnnGemm);
#endif
#if EK_PEER_XNNPACK
    RegisterPeer("xnnpack", s, XnnpackGemm);
#endif
    (void)s;
  }
#if EK_PEER_EIGEN
  RegisterEigenGemm(shapes);
#endif
}

}  // namespace ek_bench

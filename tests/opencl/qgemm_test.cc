// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// OpenCL quantized weights and the dynamic GEMM / GEMV (ek/opencl/qgemm.h) on the default device
// (PoCL in CI):
//   - UploadQWeights + DownloadQWeights give back the uploaded values and scales bit for bit
//     (int8 per tensor / column / block, int4 per column / block; f32, f16, bf16 block scales;
//     B given as [K x N] and transposed);
//   - QGemmDynamic against ek::ref::QGemm within ek::ref::QGemmF32ErrorBound (the CPU's bound),
//     M = 1 (decode) to 64, K not a multiple of the block or the word, every row tile, bias and
//     activations, rows of C padded and checked untouched;
//   - every bad-input rule.
// Exit 77 (skipped) when there is no OpenCL library or device.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "cl_test_util.h"
#include "ek/opencl/qgemm.h"
#include "ek/ref/qgemm.h"

namespace {

using namespace ek_cl_test;

// Host weights with their quant parameters: [K x N] or, transposed, [N x K].
struct HostWeights {
  ek::DType type = ek::DType::kI8;
  ek::QuantScheme scheme = ek::QuantScheme::kPerAxis;
  ek::DType scale_type = ek::DType::kF32;
  int64_t k = 0, n = 0, block = 0;
  bool transpose = false;
  std::vector<uint8_t> values;  // i8, or packed i4 (two per byte)
  std::vector<uint8_t> scales;  // f32 [N] per axis; per block [blocks x N] (or [N x blocks]) of scale_type
  float tensor_scale = 0.0f;

  int64_t Blocks() const { return scheme == ek::QuantScheme::kPerBlock ? (k + block - 1) / block : 1; }
  ek::TensorView View(uint8_t* data, void* scale_data) const {
    const int64_t rows = transpose ? n : k, cols = transpose ? k : n;
    ek::TensorView v = ek::TensorView::Matrix(type, data, rows, cols, cols);
    ek::QuantParams q;
    if (scheme == ek::QuantScheme::kPerTensor) q = ek::QuantParams::PerTensor(tensor_scale);
    if (scheme == ek::QuantScheme::kPerAxis) q = ek::QuantParams::PerAxis(transpose ? 0 : 1, static_cast<const float*>(scale_data));
    if (scheme == ek::QuantScheme::kPerBlock) q = ek::QuantParams::PerBlock(transpose ? 1 : 0, block, scale_type, scale_data);
    return v.WithQuant(q);
  }
  ek::TensorView View() { return View(values.data(), scales.data()); }
};

HostWeights MakeWeights(ek::DType type, ek::QuantScheme scheme, ek::DType scale_type, int64_t k, int64_t n,
                        int64_t block, bool transpose) {
  HostWeights w;
  w.type = type;
  w.scheme = scheme;
  w.scale_type = scale_type;
  w.k = k;
  w.n = n;
  w.block = block;
  w.transpose = transpose;
  const int64_t count = k * n;
  w.values.resize(static_cast<size_t>(type == ek::DType::kI4 ? (count + 1) / 2 : count));
  for (int64_t e = 0; e < count; ++e) {
    if (type == ek::DType::kI4) {
      ek::SetI4(w.values.data(), e, static_cast<int>(Next() % 16) - 8);
    } else {
      w.values[static_cast<size_t>(e)] = static_cast<uint8_t>(Next() % 255 + 129);  // -127..127
    }
  }
  const int64_t scale_count = scheme == ek::QuantScheme::kPerBlock ? w.Blocks() * n : n;
  const size_t scale_bytes = scheme == ek::QuantScheme::kPerBlock && scale_type != ek::DType::kF32 ? 2 : 4;
  w.scales.resize(static_cast<size_t>(scale_count) * scale_bytes);
  for (int64_t i = 0; i < scale_count; ++i) {
    const float s = 0.001f * static_cast<float>(1 + Next() % 97);
    if (scale_bytes == 4) {
      std::memcpy(w.scales.data() + i * 4, &s, 4);
    } else {
      const uint16_t h = scale_type == ek::DType::kF16 ? ek::ref::F32ToF16(s) : ek::ref::F32ToBF16(s);
      std::memcpy(w.scales.data() + i * 2, &h, 2);
    }
  }
  w.tensor_scale = 0.0123f;
  return w;
}

// Upload, restore into zeroed arrays: every weight and every scale as given.
void RunRoundTrip(ek::opencl::Runtime& rt, HostWeights w) {
  ek::opencl::DeviceQWeights uploaded;
  ek::Status s = ek::opencl::UploadQWeights(rt, w.View(), w.transpose, &uploaded);
  Check(s.ok(), s.ok() ? "weights uploaded" : s.message());
  if (!s.ok()) return;
  std::vector<uint8_t> values(w.values.size(), 0), scales(w.scales.size(), 0);
  s = ek::opencl::DownloadQWeights(rt, uploaded, w.View(values.data(), scales.data()), w.transpose);
  Check(s.ok(), s.ok() ? "weights restored" : s.message());
  const int64_t count = w.k * w.n;
  bool same = true;
  for (int64_t e = 0; e < count; ++e) {
    same &= w.type == ek::DType::kI4 ? ek::GetI4(values.data(), e) == ek::GetI4(w.values.data(), e)
                                     : values[static_cast<size_t>(e)] == w.values[static_cast<size_t>(e)];
  }
  if (w.scheme != ek::QuantScheme::kPerTensor) same &= scales == w.scales;
  if (!same) {
    std::printf("  round trip %s scheme %d scale %s %lldx%lld block %lld t=%d differs\n", ek::DTypeName(w.type),
                static_cast<int>(w.scheme), ek::DTypeName(w.scale_type), (long long)w.k, (long long)w.n,
                (long long)w.block, w.transpose);
  }
  Check(same, "restored weights and scales identical to the uploaded ones");
  ek::opencl::ReleaseQWeights(rt, &uploaded);
}

struct Case {
  int64_t m, n, k;
};

// C [m x n] (row stride n + 3) = QGemmDynamic(A [m x k], W) against the reference.
void RunGemmCase(ek::opencl::Runtime& rt, const Case& c, HostWeights w, bool bias, ek::Activation act,
                 int rows_per_item, int* exact_out, int* total_out) {
  const int64_t lda = c.k + 2, ldc = c.n + 3;
  std::vector<float> a(static_cast<size_t>(c.m * lda)), out(static_cast<size_t>(c.m * ldc), 7.0f);
  for (float& v : a) v = Uniform() * 3.0f;
  std::vector<float> bias_values(static_cast<size_t>(c.n));
  for (float& v : bias_values) v = Uniform();
  ek::opencl::DeviceQWeights uploaded;
  ek::Status s = ek::opencl::UploadQWeights(rt, w.View(), w.transpose, &uploaded);
  Check(s.ok(), s.ok() ? "weights uploaded" : s.message());
  if (!s.ok()) return;
  DeviceCopy da(rt, a.data(), a.size() * 4, 4), dc(rt, out.data(), out.size() * 4, 0);
  DeviceCopy dbias(rt, bias_values.data(), bias_values.size() * 4, 0);
  const size_t ws_bytes = ek::opencl::QGemmDynamicWorkspaceBytes(c.m, c.k);
  cl_mem workspace = nullptr;
  Check(ek::opencl::CreateBuffer(rt, ws_bytes, &workspace).ok(), "workspace created");
  ek::QGemmOptions o;
  o.activation = act;
  o.clamp_min = -0.25f;
  o.clamp_max = 0.5f;
  if (bias) o.bias = ek::TensorView::OpenCL(ek::DType::kF32, dbias.mem, 0, {c.n});
  s = ek::opencl::QGemmDynamic(rt, DeviceMatrix(ek::DType::kF32, da, 4, c.m, c.k, lda), uploaded,
                               DeviceMatrix(ek::DType::kF32, dc, 0, c.m, c.n, ldc), o, workspace, ws_bytes, nullptr,
                               rows_per_item);
  Check(s.ok(), s.ok() ? "qgemm_dynamic ran" : s.message());
  const std::vector<uint8_t> got_bytes = dc.Read(0, out.size() * 4);
  ek::opencl::ReleaseBuffer(rt, workspace);
  ek::opencl::ReleaseQWeights(rt, &uploaded);
  if (!s.ok()) return;

  std::vector<float> want(static_cast<size_t>(c.m * c.n));
  std::vector<double> magnitude(want.size());
  ek::QGemmOptions ro = o;
  ro.bias = bias ? ek::TensorView::Host(ek::DType::kF32, bias_values.data(), {c.n}) : ek::TensorView();
  ek::ref::QGemm(ek::TensorView::Matrix(ek::DType::kF32, a.data(), c.m, c.k, lda), w.View(), w.transpose,
                 ek::TensorView::Host(ek::DType::kF32, want.data(), {c.m, c.n}), ro, magnitude.data());
  int bad = 0;
  for (int64_t i = 0; i < c.m; ++i) {
    for (int64_t j = 0; j < ldc; ++j) {
      float got;
      std::memcpy(&got, got_bytes.data() + (i * ldc + j) * 4, 4);
      if (j >= c.n) {
        bad += got != 7.0f;  // padding untouched
        continue;
      }
      const float ref = want[static_cast<size_t>(i * c.n + j)];
      const double bound = ek::ref::QGemmF32ErrorBound(magnitude[static_cast<size_t>(i * c.n + j)], w.Blocks());
      ++*total_out;
      *exact_out += ek::ref::BitsOf(got) == ek::ref::BitsOf(ref);
      if (!(std::fabs(static_cast<double>(got) - ref) <= bound)) {
        if (bad++ < 3) {
          std::printf("  %s scheme %d %lldx%lldx%lld rows %d: c[%lld][%lld] = %.9g, reference %.9g (bound %.3g)\n",
                      ek::DTypeName(w.type), static_cast<int>(w.scheme), (long long)c.m, (long long)c.n,
                      (long long)c.k, rows_per_item, (long long)i, (long long)j, got, ref, bound);
        }
      }
    }
  }
  Check(bad == 0, "qgemm_dynamic within ek::ref::QGemmF32ErrorBound, padding untouched");
}

void BadInputs(ek::opencl::Runtime& rt) {
  HostWeights w = MakeWeights(ek::DType::kI4, ek::QuantScheme::kPerBlock, ek::DType::kF16, 64, 8, 32, false);
  ek::opencl::DeviceQWeights uploaded;
  Check(ek::opencl::UploadQWeights(rt, w.View(), false, &uploaded).ok(), "weights uploaded");
  std::vector<float> host(1024, 0.5f);
  DeviceCopy d(rt, host.data(), host.size() * 4, 0), e(rt, host.data(), host.size() * 4, 0);
  const auto mat = [&](const DeviceCopy& b, int64_t r, int64_t cols) { return DeviceMatrix(ek::DType::kF32, b, 0, r, cols, cols); };
  const size_t ws_bytes = ek::opencl::QGemmDynamicWorkspaceBytes(2, 64);
  cl_mem ws = nullptr, small = nullptr;
  Check(ek::opencl::CreateBuffer(rt, ws_bytes, &ws).ok() && ek::opencl::CreateBuffer(rt, 16, &small).ok(), "workspaces");
  const ek::QGemmOptions o;
  ek::opencl::Runtime closed;
  CheckRejects(ek::opencl::QGemmDynamic(closed, mat(d, 2, 64), uploaded, mat(e, 2, 8), o, ws, ws_bytes), "runtime");
  CheckRejects(ek::opencl::QGemmDynamic(rt, mat(d, 2, 63), uploaded, mat(e, 2, 8), o, ws, ws_bytes), "a: has 63 columns");
  CheckRejects(ek::opencl::QGemmDynamic(rt, mat(d, 2, 64), uploaded, mat(e, 2, 9), o, ws, ws_bytes), "c: expected shape");
  CheckRejects(ek::opencl::QGemmDynamic(rt, mat(d, 2, 64), uploaded, mat(d, 2, 8), o, ws, ws_bytes), "c: overlaps a");
  CheckRejects(ek::opencl::QGemmDynamic(rt, mat(d, 2, 64), uploaded, mat(e, 2, 8), o, small, 16), "workspace: 16 bytes");
  CheckRejects(ek::opencl::QGemmDynamic(rt, mat(d, 2, 64), uploaded, mat(e, 2, 8), o, nullptr, ws_bytes), "workspace");
  CheckRejects(ek::opencl::QGemmDynamic(rt, mat(d, 2, 64), uploaded, mat(e, 2, 8), o, d.mem, d.bytes), "workspace: must not");
  CheckRejects(ek::opencl::QGemmDynamic(rt, mat(d, 2, 64), uploaded, mat(e, 2, 8), o, ws, ws_bytes, nullptr, 3),
               "rows_per_item");
  ek::QGemmOptions clamp;
  clamp.activation = ek::Activation::kClamp;
  clamp.clamp_min = 2.0f;
  clamp.clamp_max = 1.0f;
  CheckRejects(ek::opencl::QGemmDynamic(rt, mat(d, 2, 64), uploaded, mat(e, 2, 8), clamp, ws, ws_bytes), "options.clamp_min");
  ek::QGemmOptions bad_bias;
  bad_bias.bias = ek::TensorView::OpenCL(ek::DType::kF32, e.mem, 0, {9});
  CheckRejects(ek::opencl::QGemmDynamic(rt, mat(d, 2, 64), uploaded, mat(e, 2, 8), bad_bias, ws, ws_bytes), "options.bias");
  ek::opencl::DeviceQWeights empty;
  CheckRejects(ek::opencl::QGemmDynamic(rt, mat(d, 2, 64), empty, mat(e, 2, 8), o, ws, ws_bytes), "w: not uploaded");
  // Upload: u8 weights, a device view, a bad block size; restore into a mismatched view.
  std::vector<uint8_t> u8(64, 1);
  ek::opencl::DeviceQWeights out;
  CheckRejects(ek::opencl::UploadQWeights(rt, ek::TensorView::Matrix(ek::DType::kU8, u8.data(), 8, 8, 8)
                                                   .WithQuant(ek::QuantParams::PerTensor(0.1f, 3)),
                                          false, &out),
               "b");
  CheckRejects(ek::opencl::UploadQWeights(rt, mat(d, 8, 8), false, &out), "b");
  CheckRejects(ek::opencl::UploadQWeights(rt, w.View(), false, nullptr), "out");
  std::vector<uint8_t> values(w.values.size()), scales(w.scales.size());
  CheckRejects(ek::opencl::DownloadQWeights(rt, uploaded, w.View(values.data(), scales.data()), true), "b: shape");
  HostWeights other = w;
  other.scale_type = ek::DType::kBF16;
  CheckRejects(ek::opencl::DownloadQWeights(rt, uploaded, other.View(values.data(), scales.data()), false), "b: quant");
  ek::opencl::ReleaseBuffer(rt, ws);
  ek::opencl::ReleaseBuffer(rt, small);
  ek::opencl::ReleaseQWeights(rt, &uploaded);
}

}  // namespace

int main() {
  ek::opencl::Runtime rt;
  int skip = 0;
  if (!OpenOrSkip(rt, &skip)) return skip;
  std::printf("device: %s, int dot khr %d arm %d\n", rt.caps().name, rt.caps().integer_dot_khr, rt.caps().integer_dot_arm);
  using ek::DType;
  using ek::QuantScheme;
  struct Kind {
    DType type;
    QuantScheme scheme;
    DType scale_type;
    int64_t block;
  };
  const Kind kinds[] = {{DType::kI8, QuantScheme::kPerTensor, DType::kF32, 0},
                        {DType::kI8, QuantScheme::kPerAxis, DType::kF32, 0},
                        {DType::kI8, QuantScheme::kPerBlock, DType::kF32, 64},
                        {DType::kI4, QuantScheme::kPerAxis, DType::kF32, 0},
                        {DType::kI4, QuantScheme::kPerBlock, DType::kF16, 32},
                        {DType::kI4, QuantScheme::kPerBlock, DType::kBF16, 64},
                        {DType::kI4, QuantScheme::kPerBlock, DType::kF32, 128}};
  for (const Kind& kind : kinds) {
    for (bool transpose : {false, true}) {
      RunRoundTrip(rt, MakeWeights(kind.type, kind.scheme, kind.scale_type, 77, 13, kind.block, transpose));
      RunRoundTrip(rt, MakeWeights(kind.type, kind.scheme, kind.scale_type, 256, 64, kind.block, transpose));
    }
  }
  const Case cases[] = {{1, 1, 1}, {1, 64, 64}, {1, 257, 100}, {2, 33, 200}, {3, 65, 129}, {8, 70, 256}, {17, 40, 96}, {64, 96, 512}};
  const ek::Activation acts[] = {ek::Activation::kNone, ek::Activation::kRelu, ek::Activation::kRelu6,
                                 ek::Activation::kClamp};
  const int row_tiles[] = {0, 1, 2, 4, 8};
  int variant = 0, exact = 0, total = 0;
  for (const Kind& kind : kinds) {
    for (const Case& c : cases) {
      const bool transpose = variant % 3 == 1;
      RunGemmCase(rt, c, MakeWeights(kind.type, kind.scheme, kind.scale_type, c.k, c.n, kind.block, transpose),
                  variant % 4 != 3, acts[variant % 4], row_tiles[variant % 5], &exact, &total);
      ++variant;
    }
  }
  std::printf("qgemm_dynamic: %d of %d outputs bit-identical to ek::ref::QGemm\n", exact, total);
  BadInputs(rt);
  return Finish();
}

// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// ek::QGemm on every compiled target this CPU supports and with its dot-product lane on and off:
// int8 / uint8 outputs equal to ek::ref::QGemm (and to gemmlowp's GEMM with its output pipeline)
// exactly; f32 outputs of the dynamic kernels within ek::ref::QGemmF32ErrorBound; thread counts
// bit for bit; packing round trips; every bad-input rule.
#include <gemmlowp/public/gemmlowp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <tuple>
#include <vector>

#include "ek/parallel.h"
#include "ek/qgemm.h"
#include "ek/ref/qgemm.h"
#include "dot_lanes.h"
#include "test_util.h"

namespace {

using ek::Activation;
using ek::DType;
using ek::PackedWeights;
using ek::QGemmOptions;
using ek::TensorView;
using ek_test::ForEachDotLane;
using ek_test::Rng;

// Weights B [K x N] (or [N x K] transposed) of one scheme, with random values and scales.
struct Weights {
  DType type = DType::kI8;
  ek::QuantScheme scheme = ek::QuantScheme::kPerTensor;
  int64_t block = 0;
  DType scale_type = DType::kF32;
  std::vector<uint8_t> data;
  std::vector<float> scales;
  std::vector<uint16_t> half_scales;
  TensorView view;

  Weights(DType t, ek::QuantScheme s, int64_t k, int64_t n, bool transpose, Rng& rng, int64_t block_size = 0,
          DType st = DType::kF32, bool narrow = false)
      : type(t), scheme(s), block(block_size), scale_type(st) {
    const int64_t rows = transpose ? n : k, cols = transpose ? k : n;
    const int64_t ld = cols + 3;  // strided rows
    data.assign(static_cast<size_t>(rows * ld + 8), 0);
    view = TensorView::Matrix(t, data.data(), rows, cols, ld);
    if (t == DType::kI4) {  // i4 rows must start on a byte: ld even
      view.strides[0] = ld + (ld % 2);
      data.assign(static_cast<size_t>(rows * view.strides[0] + 8), 0);
      view.memory.host = data.data();
    }
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < cols; ++c) {
        const int64_t e = r * view.strides[0] + c;
        if (t == DType::kI4) {
          ek::SetI4(data.data(), e, rng.Int(-8, 7));
        } else if (t == DType::kI8) {
          reinterpret_cast<int8_t*>(data.data())[e] = static_cast<int8_t>(rng.Int(narrow ? -127 : -128, 127));
        } else {
          data[static_cast<size_t>(e)] = static_cast<uint8_t>(rng.Int(0, 255));
        }
      }
    }
    ek::QuantParams q;
    if (s == ek::QuantScheme::kPerTensor) {
      q = ek::QuantParams::PerTensor(rng.Uniform(0.002f, 0.02f), t == DType::kU8 ? rng.Int(0, 255) : 0);
    } else if (s == ek::QuantScheme::kPerAxis) {
      for (int64_t j = 0; j < n; ++j) scales.push_back(rng.Uniform(0.002f, 0.02f));
      q = ek::QuantParams::PerAxis(transpose ? 0 : 1, scales.data());
    } else {
      const int64_t blocks = (k + block_size - 1) / block_size;
      for (int64_t i = 0; i < blocks * n; ++i) {
        const float sc = rng.Uniform(0.002f, 0.05f);
        scales.push_back(sc);
        half_scales.push_back(st == DType::kF16 ? ek::ref::F32ToF16(sc) : ek::ref::F32ToBF16(sc));
      }
      q.scheme = ek::QuantScheme::kPerBlock;
      q.axis = transpose ? 1 : 0;
      q.block_size = block_size;
      q.scale_type = st;
      q.scales = st == DType::kF32 ? static_cast<const void*>(scales.data()) : half_scales.data();
    }
    view = view.WithQuant(q);
  }
};

struct Packed {
  std::vector<uint32_t> storage;
  PackedWeights weights;
  explicit Packed(const TensorView& b, bool transpose, int threads = 1) {
    size_t bytes = 0;
    REQUIRE(ek::PackedQGemmWeightsSize(b, transpose, &bytes).ok());
    storage.assign(bytes / 4 + 1, 0xDEADBEEFu);
    ek::ThreadPool pool(threads);
    ek::Context ctx;
    if (threads > 1) ctx.threads = pool.Hook();
    const ek::Status s = ek::PackQGemmWeights(b, transpose, storage.data(), bytes, ctx);
    INFO(s.message());
    REQUIRE(s.ok());
    weights.data = storage.data();
    weights.bytes = bytes;
  }
};

// A [M x K] activations (i8 / u8 per tensor, or f32) with a padded leading dimension.
struct Activations {
  std::vector<uint8_t> bytes;
  std::vector<float> floats;
  TensorView view;
  Activations(DType t, int64_t m, int64_t k, Rng& rng) {
    const int64_t ld = k + 5;
    if (t == DType::kF32) {
      floats.resize(static_cast<size_t>(m * ld));
      for (auto& x : floats) x = rng.Uniform(-2.0f, 3.0f);
      view = TensorView::Matrix(t, floats.data(), m, k, ld);
      return;
    }
    bytes.resize(static_cast<size_t>(m * ld));
    for (auto& x : bytes) x = static_cast<uint8_t>(rng.Int(0, 255));
    view = TensorView::Matrix(t, bytes.data(), m, k, ld)
               .WithQuant(ek::QuantParams::PerTensor(rng.Uniform(0.01f, 0.05f),
                                                     t == DType::kI8 ? rng.Int(-128, 127) : rng.Int(0, 255)));
  }
};

struct Output {
  std::vector<uint8_t> bytes;
  std::vector<float> floats;
  TensorView view;
  Output(DType t, int64_t m, int64_t n, float scale = 1.0f, int32_t zp = 0) {
    const int64_t ld = n + 2;
    if (t == DType::kF32) {
      floats.assign(static_cast<size_t>(m * ld), -777.0f);
      view = TensorView::Matrix(t, floats.data(), m, n, ld);
    } else {
      bytes.assign(static_cast<size_t>(m * ld), 0xA5);
      view = TensorView::Matrix(t, bytes.data(), m, n, ld).WithQuant(ek::QuantParams::PerTensor(scale, zp));
    }
  }
};

struct Case {
  int64_t m, n, k;
  DType a_type;      // i8, u8 or f32
  DType w_type;      // i8, u8 or i4
  ek::QuantScheme scheme;
  int64_t block = 0;
  DType scale_type = DType::kF32;
  bool transpose = false;
  bool bias = false;
  Activation activation = Activation::kNone;
};

std::string Describe(const Case& c) {
  char text[200];
  std::snprintf(text, sizeof(text), "%lldx%lldx%lld a=%s w=%s scheme=%d block=%lld st=%s%s%s act=%d",
                static_cast<long long>(c.m), static_cast<long long>(c.n), static_cast<long long>(c.k),
                ek::DTypeName(c.a_type), ek::DTypeName(c.w_type), static_cast<int>(c.scheme),
                static_cast<long long>(c.block), ek::DTypeName(c.scale_type), c.transpose ? " transposed" : "",
                c.bias ? " bias" : "", static_cast<int>(c.activation));
  return text;
}

// Runs one case through ek::QGemm (threads as given) and checks it against the reference.
// Returns the output bytes (for bitwise comparisons between variants).
std::vector<uint8_t> RunAndCheck(const Case& cs, uint64_t seed, int threads = 1) {
  INFO(Describe(cs));
  Rng rng(seed);
  Activations a(cs.a_type, cs.m, cs.k, rng);
  Weights w(cs.w_type, cs.scheme, cs.k, cs.n, cs.transpose, rng, cs.block, cs.scale_type);
  const bool dynamic = cs.a_type == DType::kF32;
  // Output scale: about the spread of the accumulators, so outputs cover the int8 range.
  const float c_scale = dynamic ? 1.0f : a.view.quant.scale * 0.01f * std::sqrt(static_cast<float>(cs.k)) * 40.0f;
  const int32_t c_zp = cs.a_type == DType::kU8 ? rng.Int(0, 255) : rng.Int(-128, 127);
  Output got(dynamic ? DType::kF32 : cs.a_type, cs.m, cs.n, c_scale, c_zp);
  Output want(dynamic ? DType::kF32 : cs.a_type, cs.m, cs.n, c_scale, c_zp);
  std::vector<int32_t> bias_i(static_cast<size_t>(cs.n));
  std::vector<float> bias_f(static_cast<size_t>(cs.n));
  for (auto& b : bias_i) b = rng.Int(-20000, 20000);
  for (auto& b : bias_f) b = rng.Uniform(-1.0f, 1.0f);
  QGemmOptions o;
  if (cs.bias) {
    o.bias = dynamic ? TensorView::Host(DType::kF32, bias_f.data(), {cs.n}) : TensorView::Host(DType::kI32, bias_i.data(), {cs.n});
  }
  o.activation = cs.activation;
  o.clamp_min = -0.5f;
  o.clamp_max = 0.75f;
  Packed packed(w.view, cs.transpose);
  ek::ThreadPool pool(threads);
  ek::Context ctx;
  if (threads > 1) ctx.threads = pool.Hook();
  const ek::Status s = ek::QGemm(a.view, packed.weights, got.view, o, ctx);
  INFO(s.message());
  REQUIRE(s.ok());
  std::vector<double> magnitude(static_cast<size_t>(cs.m * cs.n));
  ek::ref::QGemm(a.view, w.view, cs.transpose, want.view, o, magnitude.data());
  const int64_t blocks = cs.scheme == ek::QuantScheme::kPerBlock ? (cs.k + cs.block - 1) / cs.block : 1;
  for (int64_t i = 0; i < cs.m; ++i) {
    for (int64_t j = 0; j < cs.n; ++j) {
      const size_t e = static_cast<size_t>(i * (cs.n + 2) + j);
      INFO("element " << i << ", " << j);
      if (dynamic) {
        const double diff = std::fabs(static_cast<double>(got.floats[e]) - want.floats[e]);
        REQUIRE(diff <= ek::ref::QGemmF32ErrorBound(magnitude[static_cast<size_t>(i * cs.n + j)], blocks));
      } else {
        REQUIRE(static_cast<int>(got.bytes[e]) == static_cast<int>(want.bytes[e]));
      }
    }
    // The padding after each row is untouched.
    const size_t pad = static_cast<size_t>(i * (cs.n + 2) + cs.n);
    if (dynamic) {
      REQUIRE(got.floats[pad] == -777.0f);
    } else {
      REQUIRE(got.bytes[pad] == 0xA5);
    }
  }
  return dynamic ? std::vector<uint8_t>(reinterpret_cast<const uint8_t*>(got.floats.data()),
                                        reinterpret_cast<const uint8_t*>(got.floats.data() + got.floats.size()))
                 : got.bytes;
}

const int64_t kEdgeM[] = {1, 2, 3, 5, 7, 8, 9, 25};
const int64_t kEdgeN[] = {1, 15, 16, 17, 33, 64, 65};
const int64_t kEdgeK[] = {1, 3, 4, 5, 8, 9, 31, 33, 100};

TEST_CASE("QGemm int8 / uint8 requantized: exact at every tile edge, on every target and dot lane") {
  const int targets = ek_test::ForEachTarget([&](int64_t target) {
    INFO("target " << ek::TargetName(target) << ", lane " << ek::QGemmDotLane());
    ForEachDotLane(ek::QGemmDotLane, [&] {
      uint64_t seed = 1;
      for (const int64_t m : kEdgeM) {
        for (const int64_t n : kEdgeN) {
          for (const int64_t k : kEdgeK) {
            const Case cs = {m, n, k, seed % 3 == 0 ? DType::kU8 : DType::kI8, DType::kI8, ek::QuantScheme::kPerAxis,
                             0, DType::kF32, seed % 2 == 0, seed % 4 == 0, static_cast<Activation>(seed % 4)};
            Case c2 = cs;
            if (cs.a_type == DType::kU8) {
              c2.w_type = DType::kU8;
              c2.scheme = ek::QuantScheme::kPerTensor;
            }
            RunAndCheck(c2, seed++);
          }
        }
      }
    });
  });
  CHECK(targets >= 1);
}

TEST_CASE("QGemm schemes, epilogues and random shapes up to ~300, on every target and dot lane") {
  ek_test::ForEachTarget([&](int64_t target) {
    INFO("target " << ek::TargetName(target));
    ForEachDotLane(ek::QGemmDotLane, [&] {
      Rng rng(99);
      const ek::QuantScheme kPT = ek::QuantScheme::kPerTensor, kPA = ek::QuantScheme::kPerAxis,
                            kPB = ek::QuantScheme::kPerBlock;
      const Case fixed[] = {
          {37, 70, 293, DType::kI8, DType::kI8, kPT, 0, DType::kF32, false, true, Activation::kRelu6},
          {30, 129, 256, DType::kU8, DType::kU8, kPT, 0, DType::kF32, true, true, Activation::kRelu},
          {1, 300, 257, DType::kF32, DType::kI8, kPA, 0, DType::kF32, false, true, Activation::kNone},
          {19, 100, 130, DType::kF32, DType::kI8, kPT, 0, DType::kF32, true, false, Activation::kClamp},
          {2, 97, 255, DType::kF32, DType::kI4, kPA, 0, DType::kF32, false, true, Activation::kRelu},
          {1, 64, 257, DType::kF32, DType::kI4, kPB, 32, DType::kF16, false, true, Activation::kNone},
          {5, 50, 200, DType::kF32, DType::kI4, kPB, 64, DType::kBF16, true, false, Activation::kNone},
          {33, 47, 300, DType::kF32, DType::kI4, kPB, 128, DType::kF32, false, true, Activation::kRelu6},
          {70, 33, 64, DType::kF32, DType::kI4, kPB, 32, DType::kF16, true, true, Activation::kClamp},
          {1, 90, 288, DType::kF32, DType::kI8, kPB, 32, DType::kF16, true, true, Activation::kNone},   // GGUF Q8_0 shape
          {9, 40, 200, DType::kF32, DType::kI8, kPB, 128, DType::kF32, false, false, Activation::kRelu},
      };
      uint64_t seed = 1000;
      for (const Case& cs : fixed) RunAndCheck(cs, seed++);
      for (int i = 0; i < 12; ++i) {
        Case cs = fixed[static_cast<size_t>(i) % (sizeof(fixed) / sizeof(fixed[0]))];
        cs.m = rng.Int(1, 70);
        cs.n = rng.Int(1, 150);
        cs.k = rng.Int(1, 300);
        RunAndCheck(cs, seed++);
      }
    });
  });
}

// The randomized differential lane ([random]; a new seed per CI run, printed): random shapes,
// every scheme, weight and scale type, transposes, bias, activations and thread counts against
// the reference (integer outputs exactly), on every target and dot lane.
TEST_CASE("QGemm randomized against the reference, every target and lane", "[random]") {
  const uint64_t seed = ek_test::RandomSeed("QGemm randomized");
  const int cases = ek_test::RandomCases(60);
  ek_test::ForEachTarget([&](int64_t target) {
    Rng rng(seed * 104729 + static_cast<uint64_t>(target % 1000003));
    ForEachDotLane(ek::QGemmDotLane, [&] {
      for (int i = 0; i < cases; ++i) {
        Case cs{rng.Int(1, rng.Int(0, 3) == 0 ? 200 : 20), rng.Int(1, rng.Int(0, 3) == 0 ? 200 : 70),
                rng.Int(1, rng.Int(0, 3) == 0 ? 600 : 100), DType::kI8, DType::kI8, ek::QuantScheme::kPerTensor};
        switch (rng.Int(0, 6)) {
          case 0: cs.scheme = ek::QuantScheme::kPerAxis; break;
          case 1: cs.a_type = cs.w_type = DType::kU8; break;
          case 2: cs.a_type = DType::kF32; break;
          case 3: cs.a_type = DType::kF32; cs.scheme = ek::QuantScheme::kPerAxis; break;
          case 4: cs.a_type = DType::kF32; cs.w_type = DType::kI4; cs.scheme = ek::QuantScheme::kPerAxis; break;
          default:
            cs.a_type = DType::kF32;
            cs.w_type = rng.Int(0, 1) ? DType::kI4 : DType::kI8;
            cs.scheme = ek::QuantScheme::kPerBlock;
            cs.block = 32 << rng.Int(0, 2);
            cs.scale_type = rng.Int(0, 2) == 0 ? DType::kF32 : rng.Int(0, 1) ? DType::kF16 : DType::kBF16;
            break;
        }
        cs.transpose = rng.Int(0, 1) == 1;
        cs.bias = rng.Int(0, 1) == 1;
        cs.activation = static_cast<Activation>(rng.Int(0, 3));
        const int threads = rng.Int(1, 3);
        INFO("case " << i << " threads " << threads << " (seed " << seed << ")");
        RunAndCheck(cs, rng.Next(), threads);
      }
    });
  });
}

TEST_CASE("QGemm results are bitwise identical for 1 to 4 threads and any packing thread count") {
  const ek::QuantScheme kPA = ek::QuantScheme::kPerAxis, kPB = ek::QuantScheme::kPerBlock;
  const Case cases[] = {
      {131, 300, 150, DType::kI8, DType::kI8, kPA, 0, DType::kF32, false, true, Activation::kNone},
      {1, 1000, 512, DType::kF32, DType::kI4, kPB, 32, DType::kF16, false, true, Activation::kNone},
      {80, 200, 256, DType::kF32, DType::kI8, kPA, 0, DType::kF32, true, true, Activation::kRelu},
  };
  for (const Case& cs : cases) {
    const std::vector<uint8_t> base = RunAndCheck(cs, 5, 1);
    CHECK(RunAndCheck(cs, 5, 2) == base);
    CHECK(RunAndCheck(cs, 5, 3) == base);
    CHECK(RunAndCheck(cs, 5, 4) == base);
  }
}

// gemmlowp's GEMM (uint8 inputs with offsets) and output pipeline: bias, fixed-point multiplier
// and exponent per column, clamp, saturating cast. ek's int8 and uint8 results must equal it.
template <typename OutputScalar>
void RunGemmlowp(const std::vector<uint8_t>& lhs, const std::vector<uint8_t>& rhs, int m, int n, int k, int lhs_offset,
                 int rhs_offset, const std::vector<int32_t>& bias, const std::vector<int32_t>& multiplier,
                 const std::vector<int32_t>& exponent, int32_t zp, int32_t lo, int32_t hi,
                 std::vector<OutputScalar>* out) {
  using gemmlowp::MapOrder;
  using gemmlowp::VectorShape;
  gemmlowp::GemmContext context;
  context.set_max_num_threads(1);
  gemmlowp::MatrixMap<const uint8_t, MapOrder::RowMajor> lhs_map(lhs.data(), m, k);
  gemmlowp::MatrixMap<const uint8_t, MapOrder::ColMajor> rhs_map(rhs.data(), k, n);  // column j contiguous
  out->assign(static_cast<size_t>(m * n), 0);
  gemmlowp::MatrixMap<OutputScalar, MapOrder::RowMajor> result(out->data(), m, n);
  gemmlowp::OutputStageBiasAddition<gemmlowp::VectorMap<const int32_t, VectorShape::Row>> bias_stage;
  bias_stage.bias_vector = gemmlowp::VectorMap<const int32_t, VectorShape::Row>(bias.data(), n);
  gemmlowp::OutputStageScaleInt32ByFixedPointAndExponentPC<VectorShape::Row> scale_stage;
  scale_stage.result_fixedpoint_multiplier = gemmlowp::VectorMap<const int32_t, VectorShape::Row>(multiplier.data(), n);
  scale_stage.result_exponent = gemmlowp::VectorMap<const int32_t, VectorShape::Row>(exponent.data(), n);
  scale_stage.result_offset_after_shift = zp;
  gemmlowp::OutputStageClamp clamp_stage;
  clamp_stage.min = lo;
  clamp_stage.max = hi;
  using Cast = typename std::conditional<std::is_same<OutputScalar, int8_t>::value, gemmlowp::OutputStageSaturatingCastToInt8,
                                         gemmlowp::OutputStageSaturatingCastToUint8>::type;
  const auto pipeline = std::make_tuple(bias_stage, scale_stage, clamp_stage, Cast());
  gemmlowp::GemmWithOutputPipeline<uint8_t, OutputScalar, gemmlowp::DefaultL8R8BitDepthParams>(
      &context, lhs_map, rhs_map, &result, lhs_offset, rhs_offset, pipeline);
}

TEST_CASE("QGemm int8 and uint8 outputs equal gemmlowp's GEMM with its output pipeline") {
  Rng rng(2024);
  for (int trial = 0; trial < 6; ++trial) {
    const bool signed_ = trial % 2 == 0;
    const int m = rng.Int(1, 40), n = rng.Int(1, 90), k = rng.Int(1, 300);
    INFO("trial " << trial << " " << m << "x" << n << "x" << k << (signed_ ? " int8" : " uint8"));
    const DType type = signed_ ? DType::kI8 : DType::kU8;
    std::vector<uint8_t> a_raw(static_cast<size_t>(m * k)), w_raw(static_cast<size_t>(k * n));
    for (auto& x : a_raw) x = static_cast<uint8_t>(rng.Int(0, 255));
    for (auto& x : w_raw) x = static_cast<uint8_t>(rng.Int(0, 255));
    const int32_t za = signed_ ? rng.Int(-128, 127) : rng.Int(0, 255);
    const int32_t zw = signed_ ? 0 : rng.Int(0, 255);
    const float a_scale = 0.02f, c_scale = signed_ ? 0.05f : 0.2f;
    std::vector<float> w_scales(static_cast<size_t>(n));
    for (auto& s : w_scales) s = rng.Uniform(0.001f, 0.01f);
    const int32_t zc = signed_ ? rng.Int(-20, 20) : rng.Int(100, 150);
    std::vector<int32_t> bias(static_cast<size_t>(n));
    for (auto& b : bias) b = rng.Int(-5000, 5000);

    // ek: A [m x k] row-major, B [k x n] row-major (int8: per-column scales; uint8: per tensor).
    TensorView a = TensorView::Matrix(type, a_raw.data(), m, k, k).WithQuant(ek::QuantParams::PerTensor(a_scale, za));
    TensorView b = TensorView::Matrix(type, w_raw.data(), k, n, n);
    b = b.WithQuant(signed_ ? ek::QuantParams::PerAxis(1, w_scales.data()) : ek::QuantParams::PerTensor(w_scales[0], zw));
    std::vector<uint8_t> c_raw(static_cast<size_t>(m * n));
    const TensorView c = TensorView::Matrix(type, c_raw.data(), m, n, n).WithQuant(ek::QuantParams::PerTensor(c_scale, zc));
    QGemmOptions o;
    o.bias = TensorView::Host(DType::kI32, bias.data(), {n});
    o.activation = trial % 3 == 0 ? Activation::kRelu : Activation::kNone;
    Packed packed(b, false);
    const ek::Status s = ek::QGemm(a, packed.weights, c, o);
    INFO(s.message());
    REQUIRE(s.ok());

    // gemmlowp: uint8 inputs; int8 data enters as x + 128 with offsets corrected to match.
    std::vector<uint8_t> lhs(a_raw), rhs(static_cast<size_t>(k * n));
    for (int kk = 0; kk < k; ++kk) {
      for (int j = 0; j < n; ++j) rhs[static_cast<size_t>(j * k + kk)] = w_raw[static_cast<size_t>(kk * n + j)];
    }
    if (signed_) {
      for (auto& x : lhs) x ^= 0x80;
      for (auto& x : rhs) x ^= 0x80;
    }
    const int lhs_offset = signed_ ? -(za + 128) : -za;
    const int rhs_offset = signed_ ? -128 : -zw;
    std::vector<int32_t> multiplier(static_cast<size_t>(n)), exponent(static_cast<size_t>(n));
    for (int j = 0; j < n; ++j) {
      ek::QuantizedMultiplier qm;
      const float w_scale = signed_ ? w_scales[static_cast<size_t>(j)] : w_scales[0];
      REQUIRE(ek::QuantizeMultiplier(double{a_scale} * double{w_scale} / double{c_scale}, &qm).ok());
      multiplier[static_cast<size_t>(j)] = qm.multiplier;
      exponent[static_cast<size_t>(j)] = qm.shift;
    }
    int32_t lo = 0, hi = 0;
    const float act_lo = o.activation == Activation::kRelu ? 0.0f : -HUGE_VALF;
    ek::QuantizedActivationRange(act_lo, HUGE_VALF, c_scale, zc, ek::DTypeMin(type), ek::DTypeMax(type), &lo, &hi);
    size_t compared = 0;
    if (signed_) {
      std::vector<int8_t> want;
      RunGemmlowp<int8_t>(lhs, rhs, m, n, k, lhs_offset, rhs_offset, bias, multiplier, exponent, zc, lo, hi, &want);
      for (size_t e = 0; e < want.size(); ++e, ++compared) REQUIRE(static_cast<int8_t>(c_raw[e]) == want[e]);
    } else {
      std::vector<uint8_t> want;
      RunGemmlowp<uint8_t>(lhs, rhs, m, n, k, lhs_offset, rhs_offset, bias, multiplier, exponent, zc, lo, hi, &want);
      for (size_t e = 0; e < want.size(); ++e, ++compared) REQUIRE(c_raw[e] == want[e]);
    }
    CHECK(compared == static_cast<size_t>(m * n));
  }
}

TEST_CASE("Packed integer weights unpack to the same values and scales, in either orientation") {
  Rng rng(17);
  struct Kind {
    DType type;
    ek::QuantScheme scheme;
    int64_t block;
    DType scale_type;
  };
  const Kind kinds[] = {{DType::kI8, ek::QuantScheme::kPerTensor, 0, DType::kF32},
                        {DType::kI8, ek::QuantScheme::kPerAxis, 0, DType::kF32},
                        {DType::kU8, ek::QuantScheme::kPerTensor, 0, DType::kF32},
                        {DType::kI4, ek::QuantScheme::kPerAxis, 0, DType::kF32},
                        {DType::kI4, ek::QuantScheme::kPerBlock, 32, DType::kF16},
                        {DType::kI4, ek::QuantScheme::kPerBlock, 64, DType::kBF16},
                        {DType::kI4, ek::QuantScheme::kPerBlock, 128, DType::kF32},
                        {DType::kI8, ek::QuantScheme::kPerBlock, 32, DType::kF16}};
  for (const Kind& kind : kinds) {
    for (const bool transpose : {false, true}) {
      const int64_t k = 150, n = 37;
      INFO(ek::DTypeName(kind.type) << " scheme " << static_cast<int>(kind.scheme) << (transpose ? " transposed" : ""));
      Weights w(kind.type, kind.scheme, k, n, transpose, rng, kind.block, kind.scale_type);
      Packed packed(w.view, transpose, 3);
      Weights back(kind.type, kind.scheme, k, n, transpose, rng, kind.block, kind.scale_type);  // other values
      REQUIRE(ek::UnpackQGemmWeights(packed.weights, back.view, transpose).ok());
      for (int64_t kk = 0; kk < k; ++kk) {
        for (int64_t j = 0; j < n; ++j) {
          REQUIRE(ek::detail::WeightAt(back.view, transpose, kk, j) == ek::detail::WeightAt(w.view, transpose, kk, j));
        }
      }
      CHECK(back.scales.size() == w.scales.size());
      if (kind.scale_type == DType::kF32) {
        CHECK(back.scales == w.scales);
      } else {
        CHECK(back.half_scales == w.half_scales);
      }
      // The documented layout: int8 column j, row k at panel j / 16, byte (k / 4) * 64 + (j % 16) * 4 + k % 4.
      if (kind.type == DType::kI8) {
        const auto* payload = reinterpret_cast<const int8_t*>(packed.weights.data) + 64;
        const int64_t panel_bytes = ((k + 7) / 8 * 8) * 16;
        const int64_t kk = 37, j = 20;
        CHECK(payload[(j / 16) * panel_bytes + (kk / 4) * 64 + (j % 16) * 4 + kk % 4] ==
              ek::detail::WeightAt(w.view, transpose, kk, j));
      }
    }
  }
}

// Dynamic quantization at the edges of f32 (issue 16): an all-zero row gives exactly the bias
// (its zero point is 0: per-block weights gave C[2,0] = -0.000977 with 128), and rows of tiny
// magnitude keep their accuracy: down to ~3e-36 the reciprocal of the row's scale overflowed to
// inf (every value quantized to 255), and int4 per-channel weights folded 1/16 into a scale
// product that underflowed to subnormals. Each row is checked against the reference (same
// quantized values, the documented f32 bound) and against the exact product of the f32 inputs
// within the quantization error: sum_k |w * s| * scale (+ the scale's own rounding).
TEST_CASE("QGemm dynamic: zero rows give exactly the bias, tiny rows stay accurate, on every target and lane") {
  const float magnitudes[] = {0.0f, 1.0f, 1e-30f, 1e-36f, 3e-37f, 1e-37f, 1e-38f, 1e-40f};
  const int64_t m = 8, n = 200, k = 1024;  // K of 32 blocks: the zero point's rounding showed there
  struct Scheme {
    DType type;
    ek::QuantScheme scheme;
    int64_t block;
    DType scale_type;
  };
  const Scheme schemes[] = {{DType::kI8, ek::QuantScheme::kPerAxis, 0, DType::kF32},
                            {DType::kI4, ek::QuantScheme::kPerAxis, 0, DType::kF32},
                            {DType::kI8, ek::QuantScheme::kPerBlock, 32, DType::kF16},
                            {DType::kI4, ek::QuantScheme::kPerBlock, 32, DType::kBF16}};
  ek_test::ForEachTarget([&](int64_t target) {
    ForEachDotLane(ek::QGemmDotLane, [&] {
      for (const Scheme& sc : schemes) {
        for (bool with_bias : {false, true}) {
          INFO("target " << ek::TargetName(target) << " lane " << ek::QGemmDotLane() << " w=" << ek::DTypeName(sc.type)
                         << " block " << sc.block << (with_bias ? " bias" : ""));
          Rng rng(11);
          Weights w(sc.type, sc.scheme, k, n, false, rng, sc.block, sc.scale_type);
          Packed packed(w.view, false);
          std::vector<float> a(static_cast<size_t>(m * k));
          for (int64_t i = 0; i < m; ++i) {
            for (int64_t kk = 0; kk < k; ++kk) {
              a[static_cast<size_t>(i * k + kk)] = magnitudes[i] * rng.Uniform(i % 2 ? 0.25f : -1.0f, 1.0f);
            }
          }
          std::vector<float> bias(static_cast<size_t>(n));
          for (float& b : bias) b = rng.Uniform(-1.0f, 1.0f);
          QGemmOptions o;
          if (with_bias) o.bias = TensorView::Host(DType::kF32, bias.data(), {n});
          const TensorView av = TensorView::Host(DType::kF32, a.data(), {m, k});
          Output got(DType::kF32, m, n), want(DType::kF32, m, n);
          const ek::Status s = ek::QGemm(av, packed.weights, got.view, o);
          INFO(s.message());
          REQUIRE(s.ok());
          std::vector<double> magnitude(static_cast<size_t>(m * n));
          ek::ref::QGemm(av, w.view, false, want.view, o, magnitude.data());
          const int64_t blocks = sc.block ? k / sc.block : 1;
          for (int64_t i = 0; i < m; ++i) {
            double lo = 0.0, hi = 0.0;
            for (int64_t kk = 0; kk < k; ++kk) {
              lo = std::min(lo, static_cast<double>(a[static_cast<size_t>(i * k + kk)]));
              hi = std::max(hi, static_cast<double>(a[static_cast<size_t>(i * k + kk)]));
            }
            const double scale = (hi - lo) / 255.0;
            for (int64_t j = 0; j < n; ++j) {
              INFO("row magnitude " << magnitudes[i] << " element " << i << ", " << j);
              const size_t e = static_cast<size_t>(i * (n + 2) + j);
              const double b = with_bias ? bias[static_cast<size_t>(j)] : 0.0;
              if (magnitudes[i] == 0.0f) {
                REQUIRE(got.floats[e] == static_cast<float>(b));
                continue;
              }
              REQUIRE(std::fabs(static_cast<double>(got.floats[e]) - want.floats[e]) <=
                      ek::ref::QGemmF32ErrorBound(magnitude[static_cast<size_t>(i * n + j)], blocks));
              double exact = 0.0, weight_sum = 0.0, term_sum = 0.0;
              for (int64_t kk = 0; kk < k; ++kk) {
                const double ws = static_cast<double>(ek::detail::WeightAt(w.view, false, kk, j)) *
                                  ek::detail::WeightScaleAt(w.view, false, kk, j);
                exact += static_cast<double>(a[static_cast<size_t>(i * k + kk)]) * ws;
                weight_sum += std::fabs(ws);
                term_sum += std::fabs(static_cast<double>(a[static_cast<size_t>(i * k + kk)]) * ws);
              }
              // Quantization error (half a step, a whole one where the rounded zero point pushes
              // the row's extreme against 0 or 255), the scale's f32 rounding (subnormal below
              // 255 * 2^-126) and a few f32 roundings of the result (and of the bias).
              const double scale_ulp = std::max(std::ldexp(scale, -23), std::ldexp(1.0, -149));
              const double bound = weight_sum * (scale + scale_ulp * 256) * 1.01 + term_sum * 1e-6 +
                                   std::fabs(exact + b) * 1e-6 + std::ldexp(1.0, -149) * 8;
              REQUIRE(std::fabs(static_cast<double>(got.floats[e]) - (exact + b)) <= bound);
            }
          }
        }
      }
    });
  });
}

TEST_CASE("QGemm runs the dot-product lane the CPU has, and none when it is forced off") {
  ek_test::ForEachTarget([&](int64_t target) {
    const std::string lane = ek::QGemmDotLane();
    INFO("target " << ek::TargetName(target) << " lane " << lane);
    const bool vnni_target = target == HWY_AVX3_DL || target == HWY_AVX3_ZEN4 || target == HWY_AVX3_SPR;
    const bool sve_target = (target & HWY_ALL_SVE) != 0;
    const bool neon_target = HWY_ARCH_ARM_A64 && (target & HWY_ALL_NEON) != 0;
    if (vnni_target) {
      CHECK(lane == (ek::LaneEnabled(ek::Lane::kAvx512Vnni) ? "avx512vnni" : "widen"));
    } else if (sve_target) {
      CHECK(lane == (ek::LaneEnabled(ek::Lane::kDotProd) ? "sve-sdot" : "widen"));
    } else if (neon_target) {
      CHECK(lane == (ek::LaneEnabled(ek::Lane::kI8mm)      ? "i8mm"
                     : ek::LaneEnabled(ek::Lane::kDotProd) ? "dotprod"
                                                           : "widen"));
      if (ek::LaneEnabled(ek::Lane::kI8mm)) {  // forced off: sdot next
        ek::DisableLane(ek::Lane::kI8mm);
        CHECK(std::string(ek::QGemmDotLane()) == (ek::LaneEnabled(ek::Lane::kDotProd) ? "dotprod" : "widen"));
        ek::EnableLane(ek::Lane::kI8mm);
      }
    } else {
      CHECK(lane == "widen");
    }
  });
}

TEST_CASE("QGemm rejects bad input with a message naming the argument") {
  Rng rng(3);
  const int64_t m = 4, n = 20, k = 40;
  Activations a(DType::kI8, m, k, rng);
  Activations af(DType::kF32, m, k, rng);
  Weights w(DType::kI8, ek::QuantScheme::kPerAxis, k, n, false, rng);
  Packed packed(w.view, false);
  Output c(DType::kI8, m, n, 0.1f, 0);
  Output cf(DType::kF32, m, n);
  using ek::StatusCode;
  using ek_test::ExpectError;
  QGemmOptions o;
  REQUIRE(ek::QGemm(a.view, packed.weights, c.view, o).ok());
  size_t bytes = 0;

  // Weights.
  std::vector<float> fw(static_cast<size_t>(k * n));
  ExpectError(ek::PackedQGemmWeightsSize(TensorView::Matrix(DType::kF32, fw.data(), k, n, n), false, &bytes),
              StatusCode::kInvalidArgument, "b: dtype is f32");
  Weights w_zp(DType::kI8, ek::QuantScheme::kPerTensor, k, n, false, rng);
  w_zp.view.quant.zero_point = 3;
  ExpectError(ek::PackedQGemmWeightsSize(w_zp.view, false, &bytes), StatusCode::kInvalidArgument, "symmetric");
  Weights w4(DType::kI4, ek::QuantScheme::kPerBlock, k, n, false, rng, 32, DType::kF16);
  w4.view.quant.block_size = 48;
  ExpectError(ek::PackedQGemmWeightsSize(w4.view, false, &bytes), StatusCode::kInvalidArgument, "block_size 48");
  w4.view.quant.block_size = 32;
  w4.view.quant.axis = 1;
  ExpectError(ek::PackedQGemmWeightsSize(w4.view, false, &bytes), StatusCode::kInvalidArgument, "K axis");
  Weights w_axis(DType::kI8, ek::QuantScheme::kPerAxis, k, n, false, rng);
  const std::vector<float> k_scales(static_cast<size_t>(k), 0.01f);  // valid for either axis
  w_axis.view.quant.scales = k_scales.data();
  w_axis.view.quant.axis = 0;
  ExpectError(ek::PackedQGemmWeightsSize(w_axis.view, false, &bytes), StatusCode::kInvalidArgument, "N axis");
  std::vector<int8_t> big(static_cast<size_t>(ek::detail::kQMaxK + 1));
  const float one = 1.0f;
  const TensorView too_long = TensorView::Matrix(DType::kI8, big.data(), ek::detail::kQMaxK + 1, 1, 1)
                                  .WithQuant(ek::QuantParams::PerAxis(1, &one));
  ExpectError(ek::PackedQGemmWeightsSize(too_long, false, &bytes), StatusCode::kInvalidArgument, "overflow");
  ExpectError(ek::PackQGemmWeights(w.view, false, nullptr, 100), StatusCode::kInvalidArgument, "out");
  std::vector<uint32_t> small(16);
  ExpectError(ek::PackQGemmWeights(w.view, false, small.data(), 64), StatusCode::kInvalidArgument, "out:");

  // Packed weights.
  std::vector<uint32_t> corrupt(packed.storage);
  corrupt[0] ^= 1;
  ExpectError(ek::QGemm(a.view, PackedWeights{corrupt.data(), packed.weights.bytes}, c.view, o),
              StatusCode::kInvalidArgument, "packed_b: not packed");
  ExpectError(ek::QGemm(a.view, PackedWeights{packed.storage.data(), packed.weights.bytes - 1}, c.view, o),
              StatusCode::kInvalidArgument, "packed_b:");
  corrupt = packed.storage;
  corrupt[8] = 999999;  // K
  ExpectError(ek::QGemm(a.view, PackedWeights{corrupt.data(), packed.weights.bytes}, c.view, o),
              StatusCode::kInvalidArgument, "packed_b: corrupt");
  // Issue 16: the scale kind (per channel -> per tensor, same size) and a u8 zero point could be
  // changed and were accepted with a different result (an out-of-range zero point also
  // overflowed int32 in the staging); reserved bytes were not checked; payload corruption was
  // never detected. Every header byte is now under the header checksum, checked on every call.
  Weights w_u8(DType::kU8, ek::QuantScheme::kPerTensor, k, n, false, rng);
  Packed packed_u8(w_u8.view, false);
  Activations a_u8_ok(DType::kU8, m, k, rng);
  Output c_u8(DType::kU8, m, n, 0.1f, 0);
  REQUIRE(ek::QGemm(a_u8_ok.view, packed_u8.weights, c_u8.view, o).ok());
  for (const Packed* p : {&packed, &packed_u8}) {
    const bool u8 = p == &packed_u8;
    for (size_t at = 6; at < 64; ++at) {
      INFO("header byte " << at << (u8 ? " (u8 weights)" : ""));
      std::vector<uint32_t> bad = p->storage;
      reinterpret_cast<uint8_t*>(bad.data())[at] ^= at == 25 ? 0x03 : 0x40;  // 25: scale kind 1 -> 2
      ExpectError(ek::QGemm(u8 ? a_u8_ok.view : a.view, PackedWeights{bad.data(), p->weights.bytes}, u8 ? c_u8.view : c.view, o),
                  StatusCode::kInvalidArgument, "packed_b: corrupt header");
      ExpectError(ek::VerifyPackedWeights(PackedWeights{bad.data(), p->weights.bytes}), StatusCode::kInvalidArgument,
                  "packed: corrupt header");
    }
    CHECK(ek::VerifyPackedWeights(p->weights).ok());
    for (size_t at : {size_t{64}, size_t{300}, p->weights.bytes - 1}) {
      INFO("payload byte " << at);
      std::vector<uint32_t> bad = p->storage;
      reinterpret_cast<uint8_t*>(bad.data())[at] ^= 0x01;
      ExpectError(ek::VerifyPackedWeights(PackedWeights{bad.data(), p->weights.bytes}), StatusCode::kInvalidArgument,
                  "packed: payload checksum mismatch");
    }
  }
  {
    // A header whose fields are inconsistent although its checksum matches (as a buggy or
    // hostile writer could make): an out-of-range u8 zero point, a per-channel scale kind for u8
    // weights, reserved bytes set. Rejected by the field checks themselves.
    const auto reseal = [](std::vector<uint32_t> bytes, size_t at, uint32_t value, size_t width) {
      std::memcpy(reinterpret_cast<uint8_t*>(bytes.data()) + at, &value, width);
      const uint32_t sum = ek::detail::PackedHeaderChecksum(reinterpret_cast<const uint8_t*>(bytes.data()));
      std::memcpy(reinterpret_cast<uint8_t*>(bytes.data()) + 60, &sum, 4);
      return bytes;
    };
    for (const auto& edit : {std::make_tuple(size_t{28}, uint32_t{0x80000000u}, size_t{4}),
                             std::make_tuple(size_t{28}, uint32_t{256}, size_t{4}),
                             std::make_tuple(size_t{25}, uint32_t{1}, size_t{1}),
                             std::make_tuple(size_t{52}, uint32_t{1}, size_t{4})}) {
      INFO("field at " << std::get<0>(edit) << " = " << std::get<1>(edit));
      const std::vector<uint32_t> bad = reseal(packed_u8.storage, std::get<0>(edit), std::get<1>(edit), std::get<2>(edit));
      ExpectError(ek::QGemm(a_u8_ok.view, PackedWeights{bad.data(), packed_u8.weights.bytes}, c_u8.view, o),
                  StatusCode::kInvalidArgument, "packed_b: corrupt header");
    }
  }
  ExpectError(ek::QGemm(a.view, PackedWeights{reinterpret_cast<const uint8_t*>(packed.storage.data()) + 1,
                                              packed.weights.bytes - 1}, c.view, o),
              StatusCode::kInvalidArgument, "aligned");

  // Activations, outputs, options.
  Activations a_u8(DType::kU8, m, k, rng);
  ExpectError(ek::QGemm(a_u8.view, packed.weights, c.view, o), StatusCode::kInvalidArgument, "a: u8 activations need u8");
  Activations a_short(DType::kI8, m, k - 1, rng);
  ExpectError(ek::QGemm(a_short.view, packed.weights, c.view, o), StatusCode::kInvalidArgument, "a: has 39 columns");
  ExpectError(ek::QGemm(af.view, packed.weights, c.view, o), StatusCode::kInvalidArgument, "c: dtype is i8, expected f32");
  ExpectError(ek::QGemm(a.view, packed.weights, cf.view, o), StatusCode::kInvalidArgument, "c: dtype is f32");
  Output c_wrong(DType::kI8, m, n + 1, 0.1f, 0);
  ExpectError(ek::QGemm(a.view, packed.weights, c_wrong.view, o), StatusCode::kInvalidArgument, "c: expected shape");
  std::vector<float> bias_f(static_cast<size_t>(n));
  QGemmOptions bad_bias;
  bad_bias.bias = TensorView::Host(DType::kF32, bias_f.data(), {n});
  ExpectError(ek::QGemm(a.view, packed.weights, c.view, bad_bias), StatusCode::kInvalidArgument, "options.bias");
  QGemmOptions bad_clamp;
  bad_clamp.activation = Activation::kClamp;
  bad_clamp.clamp_min = 2.0f;
  bad_clamp.clamp_max = 1.0f;
  ExpectError(ek::QGemm(a.view, packed.weights, c.view, bad_clamp), StatusCode::kInvalidArgument, "options.clamp_min");
  Output c_tiny(DType::kI8, m, n, 1e-30f, 0);  // a_scale * b_scale / c_scale >= 2^30
  ExpectError(ek::QGemm(a.view, packed.weights, c_tiny.view, o), StatusCode::kInvalidArgument, "c.quant.scale");
  REQUIRE(ek::QGemmWorkspaceSize(a.view, packed.weights, c.view, o, &bytes).ok());
  std::vector<uint8_t> ws(bytes);
  ExpectError(ek::QGemm(a.view, packed.weights, c.view, o, ek::Context(), ws.data(), bytes - 1),
              StatusCode::kInvalidArgument, "workspace:");
  REQUIRE(ek::QGemm(a.view, packed.weights, c.view, o, ek::Context(), ws.data(), bytes).ok());
  ExpectError(ek::QGemm(a.view, packed.weights, a.view, o, ek::Context(), ws.data(), bytes), StatusCode::kInvalidArgument,
              "c:");
  // The workspace is an output; any address is fine.
  ExpectError(ek::QGemm(a.view, packed.weights, c.view, o, ek::Context(), c.bytes.data(), bytes),
              StatusCode::kInvalidArgument, "c: overlaps workspace");
  std::vector<uint8_t> ws_odd(bytes + 1);
  REQUIRE(ek::QGemm(a.view, packed.weights, c.view, o, ek::Context(), ws_odd.data() + 1, bytes).ok());
}

}  // namespace

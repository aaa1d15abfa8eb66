// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// GGUF Q8_0 / Q4_0 blocks (ek/gguf.h), built by hand from ggml's published layout: dequantized
// rows, the repack into ek's packed weights (and back), and QGemm on them against the reference
// computed from the hand-made integer values and scales, on every target.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "ek/gguf.h"
#include "ek/qgemm.h"
#include "ek/ref/qgemm.h"
#include "test_util.h"

namespace {

using ek::DType;
using ek::GgufType;
using ek::TensorView;
using ek_test::Rng;

// N rows of K values as GGUF blocks, plus the same values and scales kept separately.
struct GgufMatrix {
  GgufType type;
  int64_t n, k;
  std::vector<uint8_t> blocks;
  std::vector<int8_t> values;    // [N x K]
  std::vector<uint16_t> scales;  // [N x K / 32], f16 bits

  GgufMatrix(GgufType t, int64_t rows, int64_t cols, Rng& rng) : type(t), n(rows), k(cols) {
    const int64_t per_row = k / 32, block_bytes = t == GgufType::kQ8_0 ? 34 : 18;
    blocks.assign(static_cast<size_t>(n * per_row * block_bytes), 0);
    values.resize(static_cast<size_t>(n * k));
    for (int64_t r = 0; r < n; ++r) {
      for (int64_t b = 0; b < per_row; ++b) {
        // Scales as ggml writes them: positive, negative (Q4_0's d = max / -8) and, rarely, zero.
        const int pick = rng.Int(0, 9);
        const float d = pick == 0 ? 0.0f : (pick < 4 ? -1.0f : 1.0f) * rng.Uniform(0.001f, 0.05f);
        const uint16_t d_bits = ek::ref::F32ToF16(d);
        scales.push_back(d_bits);
        uint8_t* block = &blocks[static_cast<size_t>((r * per_row + b) * block_bytes)];
        block[0] = static_cast<uint8_t>(d_bits & 0xFF);  // little-endian f16
        block[1] = static_cast<uint8_t>(d_bits >> 8);
        for (int64_t j = 0; j < 32; ++j) {
          const int v = t == GgufType::kQ8_0 ? rng.Int(-127, 127) : rng.Int(-8, 7);
          values[static_cast<size_t>(r * k + b * 32 + j)] = static_cast<int8_t>(v);
          if (t == GgufType::kQ8_0) {
            block[2 + j] = static_cast<uint8_t>(static_cast<int8_t>(v));
          } else if (j < 16) {  // qs[j]: low nibble = value j + 8, high nibble = value j + 16 + 8
            block[2 + j] = static_cast<uint8_t>((block[2 + j] & 0xF0) | (v + 8));
          } else {
            block[2 + j - 16] = static_cast<uint8_t>((block[2 + j - 16] & 0x0F) | ((v + 8) << 4));
          }
        }
      }
    }
  }

  // The same matrix as an ek view: [N x K] (transposed B), per block of 32 along K, f16 scales.
  std::vector<uint8_t> view_storage;
  TensorView View() {
    const bool q4 = type == GgufType::kQ4_0;
    view_storage.assign(static_cast<size_t>(q4 ? (n * k + 1) / 2 : n * k), 0);
    for (int64_t e = 0; e < n * k; ++e) {
      if (q4) {
        ek::SetI4(view_storage.data(), e, values[static_cast<size_t>(e)]);
      } else {
        view_storage[static_cast<size_t>(e)] = static_cast<uint8_t>(values[static_cast<size_t>(e)]);
      }
    }
    ek::QuantParams q;
    q.scheme = ek::QuantScheme::kPerBlock;
    q.axis = 1;
    q.block_size = 32;
    q.scale_type = DType::kF16;
    q.scales = scales.data();
    return TensorView::Host(q4 ? DType::kI4 : DType::kI8, view_storage.data(), {n, k}).WithQuant(q);
  }
};

TEST_CASE("GGUF rows dequantize to scale * value, as ggml defines them") {
  Rng rng(1);
  for (const GgufType type : {GgufType::kQ8_0, GgufType::kQ4_0}) {
    GgufMatrix g(type, 5, 96, rng);
    std::vector<float> out(static_cast<size_t>(5 * 100), -1.0f);
    REQUIRE(ek::DequantizeGgufRows(type, g.blocks.data(), g.blocks.size(), 5, 96,
                                   TensorView::Matrix(DType::kF32, out.data(), 5, 96, 100))
                .ok());
    for (int64_t r = 0; r < 5; ++r) {
      for (int64_t j = 0; j < 96; ++j) {
        const float d = ek::ref::F16ToF32(g.scales[static_cast<size_t>(r * 3 + j / 32)]);
        REQUIRE(out[static_cast<size_t>(r * 100 + j)] == d * static_cast<float>(g.values[static_cast<size_t>(r * 96 + j)]));
      }
      REQUIRE(out[static_cast<size_t>(r * 100 + 96)] == -1.0f);  // past k: untouched
    }
  }
}

TEST_CASE("GGUF weights repack exactly and QGemm on them matches the reference, on every target") {
  Rng rng(2);
  ek_test::ForEachTarget([&](int64_t target) {
    for (const GgufType type : {GgufType::kQ8_0, GgufType::kQ4_0}) {
      for (const int64_t m : {1, 5, 33}) {
        const int64_t n = 70, k = 256;
        INFO(ek::TargetName(target) << (type == GgufType::kQ8_0 ? " Q8_0" : " Q4_0") << " m " << m);
        GgufMatrix g(type, n, k, rng);
        size_t bytes = 0;
        REQUIRE(ek::PackedGgufWeightsSize(type, n, k, &bytes).ok());
        std::vector<uint32_t> packed(bytes / 4 + 1);
        REQUIRE(ek::PackGgufWeights(type, g.blocks.data(), g.blocks.size(), n, k, packed.data(), bytes).ok());
        const ek::PackedWeights pw{packed.data(), bytes};
        REQUIRE(ek::VerifyPackedWeights(pw).ok());

        // Unpacks to the hand-made values and scale bits.
        const TensorView want_view = g.View();
        std::vector<uint8_t> back_values(g.view_storage.size());
        std::vector<uint16_t> back_scales(g.scales.size());
        TensorView back = want_view;
        back.memory.host = back_values.data();
        back.quant.scales = back_scales.data();
        REQUIRE(ek::UnpackQGemmWeights(pw, back, true).ok());
        CHECK(back_values == g.view_storage);
        CHECK(back_scales == g.scales);

        std::vector<float> a(static_cast<size_t>(m * k)), c(static_cast<size_t>(m * n)), want(c.size());
        for (auto& x : a) x = rng.Uniform(-1.0f, 1.0f);
        const TensorView va = TensorView::Host(DType::kF32, a.data(), {m, k});
        const ek::Status s = ek::QGemm(va, pw, TensorView::Host(DType::kF32, c.data(), {m, n}));
        INFO(s.message());
        REQUIRE(s.ok());
        std::vector<double> magnitude(c.size());
        ek::ref::QGemm(va, want_view, true, TensorView::Host(DType::kF32, want.data(), {m, n}), ek::QGemmOptions(),
                       magnitude.data());
        for (size_t e = 0; e < c.size(); ++e) {
          INFO("element " << e);
          REQUIRE(std::fabs(static_cast<double>(c[e]) - want[e]) <= ek::ref::QGemmF32ErrorBound(magnitude[e], k / 32));
        }
      }
    }
  });
}

TEST_CASE("GGUF entry points reject bad input with a message naming the argument") {
  Rng rng(3);
  GgufMatrix g(GgufType::kQ4_0, 2, 64, rng);
  std::vector<float> out(128);
  using ek::StatusCode;
  using ek_test::ExpectError;
  const size_t have = g.blocks.size();
  const TensorView out_view = TensorView::Matrix(DType::kF32, out.data(), 2, 64, 64);
  ExpectError(ek::DequantizeGgufRows(GgufType::kQ4_0, g.blocks.data(), have, 2, 48, out_view), StatusCode::kInvalidArgument,
              "k: 48");
  ExpectError(ek::DequantizeGgufRows(GgufType::kQ4_0, nullptr, have, 2, 64, out_view), StatusCode::kInvalidArgument, "blocks");
  ExpectError(ek::DequantizeGgufRows(static_cast<GgufType>(5), g.blocks.data(), have, 2, 64, out_view),
              StatusCode::kInvalidArgument, "type");
  ExpectError(ek::DequantizeGgufRows(GgufType::kQ4_0, g.blocks.data(), have, 2, 64,
                                     TensorView::Matrix(DType::kF32, out.data(), 2, 32, 64)),
              StatusCode::kInvalidArgument, "out: must be [rows, k]");
  // Issue 16: the entry points took no byte count, so a truncated block buffer was read past
  // its end. Now one byte short is an error naming blocks_bytes.
  ExpectError(ek::DequantizeGgufRows(GgufType::kQ4_0, g.blocks.data(), have - 1, 2, 64, out_view),
              StatusCode::kInvalidArgument, "blocks_bytes: 71, 2 rows of 64 values need 72");
  std::vector<float> shared(128 + 32);  // blocks copied into the output's memory
  std::memcpy(shared.data() + 64, g.blocks.data(), have);
  ExpectError(ek::DequantizeGgufRows(GgufType::kQ4_0, shared.data() + 64, have, 2, 64,
                                     TensorView::Matrix(DType::kF32, shared.data(), 2, 64, 64)),
              StatusCode::kInvalidArgument, "out: overlaps blocks");
  size_t bytes = 0;
  REQUIRE(ek::PackedGgufWeightsSize(GgufType::kQ4_0, 2, 64, &bytes).ok());
  std::vector<uint32_t> packed(bytes / 4 + 1);
  ExpectError(ek::PackGgufWeights(GgufType::kQ4_0, g.blocks.data(), have, 2, 64, packed.data(), bytes - 4),
              StatusCode::kInvalidArgument, "out:");
  ExpectError(ek::PackGgufWeights(GgufType::kQ4_0, g.blocks.data(), have - 18, 2, 64, packed.data(), bytes),
              StatusCode::kInvalidArgument, "blocks_bytes:");
  g.blocks[36 + 1] = 0x7C;  // row 1, block 0 (2 blocks of 18 bytes per row): scale = inf
  g.blocks[36] = 0x00;
  ExpectError(ek::PackGgufWeights(GgufType::kQ4_0, g.blocks.data(), have, 2, 64, packed.data(), bytes),
              StatusCode::kInvalidArgument, "blocks: row 1, block 0");
}

}  // namespace

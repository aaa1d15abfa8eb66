// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// The micro-kernel layer on its own (ek/cpu/tile/), on every compiled target this CPU supports
// and every int8 lane it has: each tile shape x A source (dense rows; k-chunks of row pointers
// with padding rows) x epilogue (sums as they are, from zero or from C; bias + clamp) x weight
// type, at every row count and valid-column edge, against scalar references written here:
//   - f32 tiles: the documented FMA chain (docs/gemm.md), bit for bit: std::fma where the
//     target fuses (Highway's HWY_NATIVE_FMA), a rounded product then a rounded sum where not;
//   - int8 tiles: the exact int32 sums (int4 sums x 16, as the layer defines them), and per block
//     the f32 sum of the scaled block sums.
// The op tests (gemm_test, qgemm_test) cover the loop nests above the layer.
//
// This TU runs its own foreach_target pass (docs/architecture.md): the per-target runners below
// call the layer's templates directly, as a kernel family does.
#define EK_FOREACH_TARGET_BY_USER 1
#define EK_KERNELS_GEMM 1
#define EK_KERNELS_QGEMM 1

// The cases, the same type for every target (outside the per-target namespaces).
#ifndef EK_TESTS_CPU_TILE_TEST_CASES_
#define EK_TESTS_CPU_TILE_TEST_CASES_
#include <cstddef>
#include <cstdint>

#include "ek/cpu/tile/operands.h"
#include "ek/tensor.h"

namespace ek_tile_test {

// The layer's A sources over a case's rows: dense (rows[0..8), k values each) or indirect
// (chunks x 8 pointers, chunk_k values each, `offset` in unless the pointer is `zero`).
template <typename T>
ek::detail::DenseRowsA<T> DenseA(const T* const* rows, int64_t k) {
  ek::detail::DenseRowsA<T> a;
  for (size_t r = 0; r < ek::detail::kTileMaxRows; ++r) a.rows[r] = rows[r];
  a.k_count = k;
  return a;
}
template <typename T>
ek::detail::IndirectRowsA<T> IndirectA(const T* const* pointers, int64_t chunks, int64_t chunk_k, size_t offset,
                                       const T* zero) {
  ek::detail::IndirectRowsA<T> a;
  a.pointers = pointers;
  a.chunks = chunks;
  a.chunk_k = chunk_k;
  a.offset = offset;
  a.zero = zero;
  return a;
}

// One call of the float micro-kernel: shape (rows, vectors) from the runtime arguments (the few
// instantiations the GEMM uses), A dense or indirect, epilogue sums or bias + clamp.
struct F32TileCase {
  int rows = 1;            // 1..kGemmTileRows
  int vectors = 1;         // kGemmTileVectors, its half, kWideTileVectors or kGemvTileVectors
  ek::DType b_type = ek::DType::kF32;
  bool indirect = false;   // A as k-chunks of row pointers
  int64_t a_k_stride = 0;  // > 0: A strided (row r's k-th value at a_rows[r][k x a_k_stride])
  const float* const* a_rows = nullptr;  // dense: [8] rows; indirect: [chunks][8] pointers
  int64_t k_count = 0;     // dense: K; indirect: K per chunk
  int64_t chunks = 1;
  size_t a_offset = 0;
  const float* zero = nullptr;
  const void* b_vectors[8] = {};
  size_t b_k_stride = 0;
  bool start_from_io = false;
  bool bias_clamp = false;
  const float* bias = nullptr;
  float lo = 0.0f, hi = 0.0f;
  float* io = nullptr;
  size_t io_stride = 0;
};

// One call of an int8 micro-kernel: lane, shape (GEMM or wide tile), weight kind, A source;
// the sums go to `out` (C at (0, 0), int32, or f32 bits per block) through QStoreSums.
struct QTileCase {
  int rows = 1;
  int vectors = 1;          // kQTileVectors or kQWideTileVectors
  int lane = 0;             // ek::detail::QLane
  bool int4 = false;
  bool blocks = false;
  bool indirect = false;    // s8, no blocks
  const uint8_t* const* a_rows = nullptr;  // dense: [8] rows; indirect: [chunks][8] pointers
  int64_t k_count = 0;      // dense: kp; indirect: k per chunk
  int64_t chunks = 1;
  size_t a_offset = 0;
  const uint8_t* zero = nullptr;
  int64_t block_k = 0, blocks_count = 1;
  const void* block_scales = nullptr;
  ek::DType block_scale_type = ek::DType::kF32;
  const int32_t* colsum = nullptr;
  int64_t b_panel_bytes = 0, n = 0;
  const uint8_t* b_vectors[4] = {};
  size_t valid_cols = 0;
  int64_t col0 = 0;
  int32_t* out = nullptr;
  int64_t ld = 0;
};

}  // namespace ek_tile_test
#endif  // EK_TESTS_CPU_TILE_TEST_CASES_

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "cpu/tile_test.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"

#include "ek/cpu/kernels-inl.h"  // the requested families, for this target

HWY_BEFORE_NAMESPACE();
namespace ek_tile_test {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
namespace ekn = ek::HWY_NAMESPACE;

template <size_t kRows, size_t kVectors, typename TW>
void RunF32Tile(const F32TileCase& c) {
  const ekn::GemmTag df;
  ekn::TileB b;
  for (size_t v = 0; v < ekn::kMaxTileVectors; ++v) b.vectors[v] = c.b_vectors[v];
  b.k_stride = c.b_k_stride;
  ekn::TileBiasClamp bias_clamp;
  bias_clamp.bias = c.bias;
  bias_clamp.clamp = true;
  bias_clamp.lo = c.lo;
  bias_clamp.hi = c.hi;
  const ekn::PrefetchShare no_prefetch;
  const auto run = [&](const auto& a) HWY_ATTR {
    if (c.bias_clamp) {
      ekn::MultiplyTile<kRows, kVectors, decltype(df), TW>(df, a, b, c.start_from_io, c.io, c.io_stride, bias_clamp,
                                                           no_prefetch);
    } else {
      ekn::MultiplyTile<kRows, kVectors, decltype(df), TW>(df, a, b, c.start_from_io, c.io, c.io_stride,
                                                           ekn::TileStoreSums(), no_prefetch);
    }
  };
  if (c.indirect) {
    run(IndirectA(c.a_rows, c.chunks, c.k_count, c.a_offset, c.zero));
  } else if (c.a_k_stride > 0) {
    ek::detail::StridedRowsA<float> a;
    for (size_t r = 0; r < ek::detail::kTileMaxRows; ++r) a.rows[r] = c.a_rows[r];
    a.k_count = c.k_count;
    a.k_stride = c.a_k_stride;
    run(a);
  } else {
    run(DenseA(c.a_rows, c.k_count));
  }
}

template <size_t kRows, size_t kVectors>
void RunF32TileTyped(const F32TileCase& c) {
  if (c.b_type == ek::DType::kF16) return RunF32Tile<kRows, kVectors, hwy::float16_t>(c);
  if (c.b_type == ek::DType::kBF16) return RunF32Tile<kRows, kVectors, hwy::bfloat16_t>(c);
  RunF32Tile<kRows, kVectors, float>(c);
}

// kRows from the runtime row count.
template <size_t kMaxRows, size_t kVectors>
void RunF32TileRows(const F32TileCase& c) {
  if constexpr (kMaxRows > 1) {
    if (static_cast<size_t>(c.rows) < kMaxRows) return RunF32TileRows<kMaxRows - 1, kVectors>(c);
  }
  RunF32TileTyped<kMaxRows, kVectors>(c);
}

// Returns false for a shape this target does not instantiate.
bool F32Tile(const F32TileCase& c) {
  constexpr size_t kRows = ekn::kGemmTileRows, kVectors = ekn::kGemmTileVectors;
  if (c.rows < 1 || static_cast<size_t>(c.rows) > kRows) return false;
  if (static_cast<size_t>(c.vectors) == kVectors) {
    RunF32TileRows<kRows, kVectors>(c);
  } else if (kVectors % 2 == 0 && static_cast<size_t>(c.vectors) == kVectors / 2) {
    RunF32TileRows<kRows, (kVectors % 2 == 0 ? kVectors / 2 : kVectors)>(c);
  } else if (static_cast<size_t>(c.vectors) == ekn::kWideTileVectors && c.rows <= 2) {
    RunF32TileRows<2, ekn::kWideTileVectors>(c);
  } else if (static_cast<size_t>(c.vectors) == ekn::kGemvTileVectors && c.rows == 1) {
    RunF32TileRows<1, ekn::kGemvTileVectors>(c);
  } else {
    return false;
  }
  return true;
}

// The tile table of this target (what the planners read through GemmTileShape).
void F32TileShape(ek::detail::TileShape* shape) { ekn::GemmTileShape(shape); }
bool NativeFma() { return HWY_NATIVE_FMA != 0; }

// ---- int8 tiles --------------------------------------------------------------------------------
// Block tiles leave f32 sums in the buffer, which must be read as f32 (the layer's contract):
// reading them as int32 (QStoreSums) lets type-based alias analysis drop the tile's stores
// (clang 19 on SVE2_128 did). Their bits go to the int32 output through a value BitCast.
HWY_INLINE void StoreBlockSumBits(const ekn::QTile& t, const int32_t* buffer, int32_t* out, int64_t ld) {
  const ekn::QTag di;
  const hn::Rebind<float, ekn::QTag> df;
  const size_t lanes = hn::Lanes(di);
  for (size_t r = 0; r < t.valid_rows; ++r) {
    for (size_t col = 0, v = 0; col < t.valid_cols; col += lanes, ++v) {
      const auto sums = hn::Load(df, reinterpret_cast<const float*>(buffer) + (r * ekn::kQMaxVectors + v) * lanes);
      hn::StoreN(hn::BitCast(di, sums), di, out + (t.row0 + static_cast<int64_t>(r)) * ld + t.col0 + static_cast<int64_t>(col),
                 HWY_MIN(lanes, t.valid_cols - col));
    }
  }
}

template <size_t kRows, size_t kVectors, bool kInt4, bool kBlocks, ek::detail::QLane kLane>
void RunQTile(const QTileCase& c) {
  ekn::QTile t;
  for (size_t v = 0; v < ekn::kQMaxVectors; ++v) t.b_vectors[v] = c.b_vectors[v < kVectors ? v : 0];
  t.valid_rows = static_cast<size_t>(c.rows);
  t.valid_cols = c.valid_cols;
  t.col0 = c.col0;
  ekn::QTileParams params;
  params.kp = c.indirect ? 0 : c.k_count;
  params.block_k = c.block_k;
  params.blocks = c.blocks_count;
  params.block_scales = c.block_scales;
  params.block_scale_type = c.block_scale_type;
  params.colsum = c.colsum;
  params.b_panel_bytes = c.b_panel_bytes;
  params.n = c.n;
  HWY_ALIGN int32_t buffer[ekn::kQTileBufferLanes];
  if constexpr (!kBlocks && !kInt4) {
    if (c.indirect) {
      ekn::MultiplyQTile<kRows, kVectors, kInt4, kBlocks, kLane>(
          params, IndirectA(c.a_rows, c.chunks, c.k_count, c.a_offset, c.zero), t, buffer);
      ekn::QStoreSums{c.out, c.ld}.Finish(t, buffer);
      return;
    }
  }
  ekn::MultiplyQTile<kRows, kVectors, kInt4, kBlocks, kLane>(params, DenseA(c.a_rows, c.k_count), t, buffer);
  if constexpr (kBlocks) {
    StoreBlockSumBits(t, buffer, c.out, c.ld);
  } else {
    ekn::QStoreSums{c.out, c.ld}.Finish(t, buffer);
  }
}

template <size_t kMaxRows, size_t kVectors, bool kInt4, bool kBlocks, ek::detail::QLane kLane>
void RunQTileRows(const QTileCase& c) {
  if constexpr (kMaxRows > 1) {
    if (static_cast<size_t>(c.rows) < kMaxRows) return RunQTileRows<kMaxRows - 1, kVectors, kInt4, kBlocks, kLane>(c);
  }
  RunQTile<kMaxRows, kVectors, kInt4, kBlocks, kLane>(c);
}

template <ek::detail::QLane kLane>
bool QTileOnLane(const QTileCase& c) {
  constexpr bool kMatmul = kLane == ek::detail::QLane::kMatmul;
  const size_t max_rows = c.vectors == static_cast<int>(ekn::kQWideTileVectors)
                              ? 2
                              : (c.blocks ? (kMatmul ? ekn::kQMatmulBlockTileRows : ekn::kQBlockTileRows)
                                          : (kMatmul ? ekn::kQMatmulTileRows : ekn::kQTileRows));
  if (c.rows < 1 || static_cast<size_t>(c.rows) > max_rows) return false;
  const auto by_kind = [&](auto vectors) {
    constexpr size_t kV = decltype(vectors)::value;
    constexpr size_t kR = kV == ekn::kQWideTileVectors ? 2
                                                      : (kMatmul ? ekn::kQMatmulTileRows : ekn::kQTileRows);
    constexpr size_t kBR = kV == ekn::kQWideTileVectors ? 2
                                                       : (kMatmul ? ekn::kQMatmulBlockTileRows : ekn::kQBlockTileRows);
    if (!c.int4 && !c.blocks) return RunQTileRows<kR, kV, false, false, kLane>(c);
    if (!c.int4 && c.blocks) return RunQTileRows<kBR, kV, false, true, kLane>(c);
    if (c.int4 && !c.blocks) return RunQTileRows<kR, kV, true, false, kLane>(c);
    RunQTileRows<kBR, kV, true, true, kLane>(c);
  };
  if (c.vectors == static_cast<int>(ekn::kQWideTileVectors)) {
    by_kind(std::integral_constant<size_t, ekn::kQWideTileVectors>());
  } else {
    by_kind(std::integral_constant<size_t, ekn::kQTileVectors>());
  }
  return true;
}

// Returns false where this target has no such lane or tile.
bool QTile(const QTileCase& c) {
  if (c.vectors != static_cast<int>(ekn::kQTileVectors) && c.vectors != static_cast<int>(ekn::kQWideTileVectors)) {
    return false;
  }
  switch (static_cast<ek::detail::QLane>(c.lane)) {
    case ek::detail::QLane::kWiden:
      return QTileOnLane<ek::detail::QLane::kWiden>(c);
    case ek::detail::QLane::kDot:
      if (!ekn::kQDotInstruction) return false;
      // The planner never asks for blocks on a lane that needs the column correction (SVE runs
      // blocks in its u8 x s8 form instead).
      if (ekn::kQDotNeedsColumnCorrection && !ekn::kQDotMixedSign && c.blocks) return false;
      return QTileOnLane<ek::detail::QLane::kDot>(c);
    case ek::detail::QLane::kMatmul:
      if constexpr (ekn::kQMatmulInstruction) return QTileOnLane<ek::detail::QLane::kMatmul>(c);
      return false;
  }
  return false;
}

void QTileShape(int lane, ek::detail::QTileShape* shape) {
  ekn::QGemmTileShape(static_cast<ek::detail::QLane>(lane), shape);
}
void QTargetLanes(const char** dot, const char** matmul) { ekn::QGemmTargetLanes(dot, matmul); }

}  // namespace HWY_NAMESPACE
}  // namespace ek_tile_test
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "ek/gemm.h"
#include "ek/qgemm.h"
#include "ek/ref/convert.h"
#include "test_util.h"

namespace ek_tile_test {
HWY_EXPORT(F32Tile);
HWY_EXPORT(F32TileShape);
HWY_EXPORT(NativeFma);
HWY_EXPORT(QTile);
HWY_EXPORT(QTileShape);
HWY_EXPORT(QTargetLanes);

namespace {

using ek::DType;
using ek::TensorView;
using ek_test::Rng;

// Values of B exactly representable in its type.
float RoundTo(DType type, float x) {
  if (type == DType::kF16) return ek::ref::F16ToF32(ek::ref::F32ToF16(x));
  if (type == DType::kBF16) return ek::ref::BF16ToF32(ek::ref::F32ToBF16(x));
  return x;
}

// The documented chain for one output: start, then for each k (chunk order) one FMA (or a
// rounded product, then a rounded sum), then the epilogue.
float Chain(float start, const std::vector<float>& a, const std::vector<float>& b, bool fma) {
  float acc = start;
  for (size_t i = 0; i < a.size(); ++i) {
    if (fma) {
      acc = std::fma(a[i], b[i], acc);
    } else {
      volatile float product = a[i] * b[i];  // volatile: no contraction into an FMA here
      acc = product + acc;
    }
  }
  return acc;
}

TEST_CASE("f32 tiles: every shape, A source and epilogue equal the documented FMA chain, on every target",
          "[tile]") {
  ek_test::ForEachTarget([&](int64_t target) {
    INFO("target " << ek::TargetName(target));
    ek::detail::TileShape shape;
    HWY_DYNAMIC_DISPATCH(F32TileShape)(&shape);
    const bool fma = HWY_DYNAMIC_DISPATCH(NativeFma)();
    const int lanes = static_cast<int>(shape.lanes);
    const int vector_choices[] = {static_cast<int>(shape.vectors), static_cast<int>(shape.vectors / 2),
                                  static_cast<int>(shape.wide_vectors), static_cast<int>(shape.gemv_vectors)};
    Rng rng(17);
    int runs = 0;
    for (const DType b_type : {DType::kF32, DType::kF16, DType::kBF16}) {
      for (const int vectors : vector_choices) {
        if (vectors < 1) continue;
        const int max_rows = vectors == static_cast<int>(shape.gemv_vectors) && vectors != static_cast<int>(shape.vectors)
                                 ? 1
                                 : vectors == static_cast<int>(shape.wide_vectors) && vectors != static_cast<int>(shape.vectors)
                                       ? 2
                                       : static_cast<int>(shape.rows);
        for (int rows = 1; rows <= max_rows; ++rows) {
          for (const int a_kind : {0, 1, 2}) {  // dense, indirect, strided (the columns of a buffer)
            const bool indirect = a_kind == 1, strided = a_kind == 2;
            for (const int epilogue : {0, 1, 2}) {  // sums from zero, sums from io, bias + clamp from zero
              const int64_t chunk_k = rng.Int(1, 23), chunks = indirect ? rng.Int(1, 4) : 1;
              const int64_t k = chunk_k * chunks;
              const int cols = vectors * lanes;
              INFO("A " << (indirect ? "indirect" : strided ? "strided" : "dense") << ", b " << ek::DTypeName(b_type) << " rows " << rows << " vectors " << vectors << " chunks " << chunks
                        << " chunk_k " << chunk_k << " epilogue " << epilogue);
              // A: a pool of rows (indirect: each chunk picks rows from it, or the zero row).
              const int pool = 12;
              std::vector<float> a_pool(static_cast<size_t>(pool * (chunk_k + 3)));
              for (float& x : a_pool) x = rng.Uniform(-2.0f, 2.0f);
              std::vector<float> zero(static_cast<size_t>(chunk_k), 0.0f);
              const size_t a_offset = indirect ? 3 : 0;  // indirect rows start 3 floats in
              std::vector<const float*> pointers(static_cast<size_t>(chunks * 8));
              std::vector<int> picks(pointers.size());
              for (size_t i = 0; i < pointers.size(); ++i) {
                const int r = static_cast<int>(i % 8);
                picks[i] = r >= rows ? picks[i - static_cast<size_t>(r)]  // rows past `rows` repeat row 0
                           : indirect && rng.Int(0, 4) == 0 ? -1
                                                            : rng.Int(0, pool - 1);
                pointers[i] = picks[i] < 0 ? zero.data() : a_pool.data() + picks[i] * (chunk_k + 3);
              }
              // Dense A: rows of K values (rows past `rows` repeat row 0, as the loop nests do).
              std::vector<float> dense(static_cast<size_t>(8 * k));
              for (float& x : dense) x = rng.Uniform(-2.0f, 2.0f);
              std::vector<const float*> dense_rows(8);
              for (int r = 0; r < 8; ++r) dense_rows[static_cast<size_t>(r)] = dense.data() + (r < rows ? r : 0) * k;
              // Strided A: row r's k-th value at columns[k x 11 + r] (the transpose of a k x 11 buffer).
              const int64_t a_stride = 11;
              std::vector<float> columns(static_cast<size_t>(k * a_stride));
              for (float& x : columns) x = rng.Uniform(-2.0f, 2.0f);
              std::vector<const float*> column_rows(8);
              for (int r = 0; r < 8; ++r) column_rows[static_cast<size_t>(r)] = columns.data() + (r < rows ? r : 0);
              // B: `vectors` vectors of `lanes` columns per k, k_stride = cols (+5 padding).
              const int64_t k_stride = cols + 5;
              std::vector<uint16_t> b_half(static_cast<size_t>(k * k_stride + cols));
              std::vector<float> b_f32(b_half.size()), b_value(b_half.size());
              for (size_t i = 0; i < b_half.size(); ++i) {
                const float x = RoundTo(b_type, rng.Uniform(-1.0f, 1.0f));
                b_value[i] = x;
                b_f32[i] = x;
                b_half[i] = b_type == DType::kF16 ? ek::ref::F32ToF16(x) : ek::ref::F32ToBF16(x);
              }
              F32TileCase c;
              c.rows = rows;
              c.vectors = vectors;
              c.b_type = b_type;
              c.indirect = indirect;
              c.a_rows = indirect ? pointers.data() : strided ? column_rows.data() : dense_rows.data();
              c.a_k_stride = strided ? a_stride : 0;
              c.k_count = indirect ? chunk_k : k;
              c.chunks = chunks;
              c.a_offset = a_offset;
              c.zero = zero.data();
              for (int v = 0; v < 8; ++v) {
                const int vv = v < vectors ? v : 0;
                c.b_vectors[v] = b_type == DType::kF32 ? static_cast<const void*>(b_f32.data() + vv * lanes)
                                                        : static_cast<const void*>(b_half.data() + vv * lanes);
              }
              c.b_k_stride = static_cast<size_t>(k_stride);
              c.start_from_io = epilogue == 1;
              c.bias_clamp = epilogue == 2;
              std::vector<float> bias(static_cast<size_t>(cols));
              for (float& x : bias) x = rng.Uniform(-1.0f, 1.0f);
              c.bias = bias.data();
              c.lo = -0.5f;
              c.hi = 0.75f;
              const size_t io_stride = static_cast<size_t>(cols + 2);
              std::vector<float> io(static_cast<size_t>(8) * io_stride), io_old;
              for (float& x : io) x = rng.Uniform(-1.0f, 1.0f);
              io_old = io;
              c.io = io.data();
              c.io_stride = io_stride;
              if (!HWY_DYNAMIC_DISPATCH(F32Tile)(c)) continue;
              ++runs;
              int failures = 0;
              for (int r = 0; r < rows; ++r) {
                for (int j = 0; j < cols; ++j) {
                  std::vector<float> av, bv;
                  for (int64_t ch = 0; ch < chunks; ++ch) {
                    const int pick = picks[static_cast<size_t>(ch * 8 + r)];
                    for (int64_t kk = 0; kk < chunk_k; ++kk) {
                      const int64_t kg = ch * chunk_k + kk;
                      float a_val;
                      if (indirect) {
                        a_val = pick < 0 ? 0.0f : a_pool[static_cast<size_t>(pick * (chunk_k + 3) + static_cast<int64_t>(a_offset) + kk)];
                      } else if (strided) {
                        a_val = columns[static_cast<size_t>(kg * a_stride + r)];
                      } else {
                        a_val = dense[static_cast<size_t>(r * k + kg)];
                      }
                      av.push_back(a_val);
                      bv.push_back(b_value[static_cast<size_t>(kg * k_stride + j)]);
                    }
                  }
                  float want = Chain(epilogue == 1 ? io_old[static_cast<size_t>(r) * io_stride + static_cast<size_t>(j)] : 0.0f,
                                     av, bv, fma);
                  if (epilogue == 2) {
                    want = want + bias[static_cast<size_t>(j)];
                    want = std::fmin(std::fmax(want, -0.5f), 0.75f);
                  }
                  const float got = io[static_cast<size_t>(r) * io_stride + static_cast<size_t>(j)];
                  if (ek_test::Bits(got) != ek_test::Bits(want) && failures++ < 3) {
                    FAIL_CHECK("(" << r << ", " << j << "): " << got << ", the chain gives " << want);
                  }
                }
              }
              CHECK(failures == 0);
              // Columns past the tile and rows past `rows` are untouched.
              for (int r = 0; r < 8; ++r) {
                for (size_t j = 0; j < io_stride; ++j) {
                  if (r < rows && j < static_cast<size_t>(cols)) continue;
                  CHECK(ek_test::Bits(io[static_cast<size_t>(r) * io_stride + j]) ==
                        ek_test::Bits(io_old[static_cast<size_t>(r) * io_stride + j]));
                }
              }
            }
          }
        }
      }
    }
    CHECK(runs > 50);
  });
}


// Packs W (k x n_total, row-major values) into the panel layout (docs/quantization.md): per
// panel of 16 columns, per group of 4 k (s8) or 8 k (int4: k..k+3 low nibbles, k+4..k+7 high),
// 64 bytes, column jj at byte jj * 4. Column sums of the stored values (int4: x 16).
void PackPanels(const std::vector<int>& w, int64_t k, int64_t n_total, bool int4, std::vector<uint8_t>* packed,
                std::vector<int32_t>* colsum, int64_t* panel_bytes) {
  *panel_bytes = int4 ? k * 8 : k * 16;
  packed->assign(static_cast<size_t>(n_total / 16 * *panel_bytes), 0);
  colsum->assign(static_cast<size_t>(n_total), 0);
  for (int64_t j = 0; j < n_total; ++j) {
    uint8_t* panel = packed->data() + (j / 16) * *panel_bytes;
    const int64_t jj = j % 16;
    for (int64_t kk = 0; kk < k; ++kk) {
      const int value = w[static_cast<size_t>(kk * n_total + j)];
      (*colsum)[static_cast<size_t>(j)] += int4 ? value * 16 : value;
      if (int4) {
        uint8_t& byte = panel[(kk / 8) * 64 + jj * 4 + kk % 4];
        const auto nibble = static_cast<uint8_t>(value & 0x0F);
        byte = kk % 8 < 4 ? static_cast<uint8_t>((byte & 0xF0) | nibble) : static_cast<uint8_t>((byte & 0x0F) | (nibble << 4));
      } else {
        panel[(kk / 4) * 64 + jj * 4 + kk % 4] = static_cast<uint8_t>(static_cast<int8_t>(value));
      }
    }
  }
}

// The lanes of the current target to run: widen always; the dot-product and i8mm lanes when
// the target has them and the CPU's lane is enabled (as ek::QGemmDotLane decides).
std::vector<ek::detail::QLane> LanesToRun() {
  const char* dot = "widen";
  const char* matmul = nullptr;
  HWY_DYNAMIC_DISPATCH(QTargetLanes)(&dot, &matmul);
  std::vector<ek::detail::QLane> lanes = {ek::detail::QLane::kWiden};
  const bool dot_enabled = std::strcmp(dot, "avx512vnni") == 0 ? ek::LaneEnabled(ek::Lane::kAvx512Vnni)
                           : std::strcmp(dot, "widen") == 0    ? false
                                                               : ek::LaneEnabled(ek::Lane::kDotProd);
  if (dot_enabled) lanes.push_back(ek::detail::QLane::kDot);
  if (matmul != nullptr && ek::LaneEnabled(ek::Lane::kI8mm)) lanes.push_back(ek::detail::QLane::kMatmul);
  return lanes;
}

const char* QLaneName(ek::detail::QLane lane) {
  return lane == ek::detail::QLane::kWiden ? "widen" : lane == ek::detail::QLane::kDot ? "dot" : "i8mm";
}

TEST_CASE("int8 tiles: every lane, shape, weight kind and A source give the exact sums, on every target",
          "[tile]") {
  ek_test::ForEachTarget([&](int64_t target) {
    INFO("target " << ek::TargetName(target));
    Rng rng(29);
    std::string ran;
    for (const ek::detail::QLane lane : LanesToRun()) {
      INFO("lane " << QLaneName(lane));
      ek::detail::QTileShape shape;
      HWY_DYNAMIC_DISPATCH(QTileShape)(static_cast<int>(lane), &shape);
      const int lanes = static_cast<int>(shape.lanes);
      int runs = 0;
      // kind: 0 s8 dense, 1 s8 indirect, 2 int4, 3 s8 blocks, 4 int4 blocks
      for (int kind = 0; kind < 5; ++kind) {
        const bool int4 = kind == 2 || kind == 4, blocks = kind >= 3, indirect = kind == 1;
        for (const int vectors : {static_cast<int>(shape.vectors), static_cast<int>(shape.wide_vectors)}) {
          const bool wide = vectors == static_cast<int>(shape.wide_vectors);
          const int max_rows = wide ? 2 : static_cast<int>(blocks ? shape.block_rows : shape.rows);
          for (int rows = 1; rows <= max_rows; ++rows) {
            const int tile_cols = vectors * lanes;
            // valid columns: the whole tile, or a ragged last tile (not a whole vector).
            for (const int valid_cols : {tile_cols, rng.Int(1, tile_cols - 1 > 0 ? tile_cols - 1 : 1)}) {
              const int64_t block_k = blocks ? 32 * rng.Int(1, 2) : 0;
              const int64_t blocks_count = blocks ? rng.Int(1, 3) : 1;
              const int64_t chunk_k = indirect ? 8 * rng.Int(1, 3) : 0, chunks = indirect ? rng.Int(1, 4) : 1;
              const int64_t k = blocks ? block_k * blocks_count : indirect ? chunk_k * chunks : 8 * rng.Int(1, 12);
              const int64_t col0 = 16;  // the tile starts at the second panel
              const int64_t n_total = col0 + (tile_cols + 15) / 16 * 16;
              INFO("kind " << kind << " rows " << rows << " vectors " << vectors << " valid cols " << valid_cols
                           << " k " << k << " chunks " << chunks);
              std::vector<int> w(static_cast<size_t>(k * n_total));
              for (int& x : w) x = int4 ? rng.Int(-8, 7) : rng.Int(-128, 127);
              std::vector<uint8_t> packed;
              std::vector<int32_t> colsum;
              int64_t panel_bytes = 0;
              PackPanels(w, k, n_total, int4, &packed, &colsum, &panel_bytes);
              // Block scales [panel][block][16] in a random type, exact in it.
              const DType scale_type = blocks ? (rng.Int(0, 2) == 0 ? DType::kF32 : rng.Int(0, 1) ? DType::kF16 : DType::kBF16)
                                              : DType::kF32;
              std::vector<float> scale_value(static_cast<size_t>(n_total * blocks_count));  // [block][column]
              std::vector<float> scales_f32(static_cast<size_t>(n_total * blocks_count));
              std::vector<uint16_t> scales_half(scales_f32.size());
              for (int64_t j = 0; j < n_total; ++j) {
                for (int64_t b = 0; b < blocks_count; ++b) {
                  const float x = RoundTo(scale_type, rng.Uniform(-0.05f, 0.05f));
                  scale_value[static_cast<size_t>(b * n_total + j)] = x;
                  const size_t at = static_cast<size_t>(((j / 16) * blocks_count + b) * 16 + j % 16);
                  scales_f32[at] = x;
                  scales_half[at] = scale_type == DType::kF16 ? ek::ref::F32ToF16(x) : ek::ref::F32ToBF16(x);
                }
              }
              // A: u8. Dense: 8 rows of k (rows past `rows` repeat row 0). Indirect: chunks of
              // row pointers into a pool (3 bytes in), or the zero-point row.
              const int pool = 10;
              const uint8_t zero_point = static_cast<uint8_t>(rng.Int(0, 255));
              std::vector<uint8_t> dense(static_cast<size_t>(8 * k + 8)), a_pool(static_cast<size_t>(pool * (chunk_k + 3)));
              for (uint8_t& x : dense) x = static_cast<uint8_t>(rng.Int(0, 255));
              for (uint8_t& x : a_pool) x = static_cast<uint8_t>(rng.Int(0, 255));
              std::vector<uint8_t> zero(static_cast<size_t>(chunk_k), zero_point);
              std::vector<const uint8_t*> dense_rows(8), pointers(static_cast<size_t>(chunks * 8));
              for (int r = 0; r < 8; ++r) dense_rows[static_cast<size_t>(r)] = dense.data() + (r < rows ? r : 0) * k;
              std::vector<int> picks(pointers.size());
              for (size_t i = 0; i < pointers.size(); ++i) {
                const int r = static_cast<int>(i % 8);
                picks[i] = r >= rows ? picks[i - static_cast<size_t>(r)] : rng.Int(0, 4) == 0 ? -1 : rng.Int(0, pool - 1);
                pointers[i] = picks[i] < 0 ? zero.data() : a_pool.data() + picks[i] * (chunk_k + 3);
              }
              const auto a_at = [&](int r, int64_t kk) -> int {
                if (!indirect) return dense[static_cast<size_t>(r * k + kk)];
                const int pick = picks[static_cast<size_t>((kk / chunk_k) * 8 + r)];
                return pick < 0 ? zero_point : a_pool[static_cast<size_t>(pick * (chunk_k + 3) + 3 + kk % chunk_k)];
              };
              QTileCase c;
              c.rows = rows;
              c.vectors = vectors;
              c.lane = static_cast<int>(lane);
              c.int4 = int4;
              c.blocks = blocks;
              c.indirect = indirect;
              c.a_rows = indirect ? pointers.data() : dense_rows.data();
              c.k_count = indirect ? chunk_k : k;
              c.chunks = chunks;
              c.a_offset = 3;
              c.zero = zero.data();
              c.block_k = block_k;
              c.blocks_count = blocks_count;
              c.block_scales = scale_type == DType::kF32 ? static_cast<const void*>(scales_f32.data())
                                                         : static_cast<const void*>(scales_half.data());
              c.block_scale_type = scale_type;
              c.colsum = colsum.data();
              c.b_panel_bytes = panel_bytes;
              c.n = n_total;
              for (int v = 0; v < 4; ++v) {  // as the loop nest: dead vectors read column col0
                int64_t col = col0 + v * lanes;
                if (v >= vectors || col >= col0 + valid_cols) col = col0;
                c.b_vectors[v] = packed.data() + (col / 16) * panel_bytes + (col % 16) * 4;
              }
              c.valid_cols = static_cast<size_t>(valid_cols);
              c.col0 = col0;
              const int64_t ld = n_total + 3;
              std::vector<int32_t> out(static_cast<size_t>(8 * ld), 0x5A5A5A5A);
              c.out = out.data();
              c.ld = ld;
              if (!HWY_DYNAMIC_DISPATCH(QTile)(c)) continue;
              ++runs;
              int failures = 0;
              for (int r = 0; r < rows; ++r) {
                for (int64_t j = col0; j < col0 + valid_cols; ++j) {
                  const int32_t got = out[static_cast<size_t>(r * ld + j)];
                  if (!blocks) {
                    int64_t want = 0;
                    for (int64_t kk = 0; kk < k; ++kk) want += int64_t{a_at(r, kk)} * w[static_cast<size_t>(kk * n_total + j)];
                    if (int4) want *= 16;  // the layer's int4 sums are x 16
                    if (got != want && failures++ < 3) FAIL_CHECK("(" << r << ", " << j << "): " << got << ", want " << want);
                  } else {
                    // Per block: exact int32 sums x block scale, added in block order (f32).
                    double want = 0.0, magnitude = 0.0;
                    for (int64_t b = 0; b < blocks_count; ++b) {
                      int64_t sum = 0;
                      for (int64_t kk = b * block_k; kk < (b + 1) * block_k; ++kk) {
                        sum += int64_t{a_at(r, kk)} * w[static_cast<size_t>(kk * n_total + j)];
                      }
                      const double term = static_cast<double>(sum) * scale_value[static_cast<size_t>(b * n_total + j)];
                      want += term;
                      magnitude += std::fabs(term);
                    }
                    float got_f;
                    std::memcpy(&got_f, &got, 4);
                    const double bound = static_cast<double>(blocks_count + 1) * std::ldexp(1.0, -23) * magnitude;
                    if (!(std::fabs(got_f - want) <= bound) && failures++ < 3) {
                      FAIL_CHECK("(" << r << ", " << j << "): " << got_f << ", want " << want << " within " << bound);
                    }
                  }
                }
              }
              CHECK(failures == 0);
              // Nothing outside the valid rows and columns is written.
              for (int r = 0; r < 8; ++r) {
                for (int64_t j = 0; j < ld; ++j) {
                  if (r < rows && j >= col0 && j < col0 + valid_cols) continue;
                  if (out[static_cast<size_t>(r * ld + j)] != 0x5A5A5A5A && failures++ < 3) {
                    FAIL_CHECK("(" << r << ", " << j << ") outside the tile was written");
                  }
                }
              }
              CHECK(failures == 0);
            }
          }
        }
      }
      CHECK(runs > 20);
      ran += std::string(ran.empty() ? "" : ", ") + QLaneName(lane) + " (" + std::to_string(runs) + " tiles)";
    }
    std::printf("tile_test: %s int8 lanes run: %s\n", ek::TargetName(target), ran.c_str());
  });
}
}  // namespace
}  // namespace ek_tile_test
#endif  // HWY_ONCE

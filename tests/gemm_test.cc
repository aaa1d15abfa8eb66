// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// ek::Gemm on every compiled target this CPU supports, against ek::ref::GemmElement (double
// accumulation) within ek::ref::GemmErrorBound; packed versus unpacked, K blocking and thread
// counts compared bit for bit; packing round trips; every bad-input rule.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#endif

#include "ek/gemm.h"
#include "ek/parallel.h"
#include "ek/ref/gemm.h"
#include "test_util.h"

namespace {

using ek::Activation;
using ek::DType;
using ek::GemmOptions;
using ek::PackedWeights;
using ek::TensorView;
using ek_test::Rng;

// A matrix in its own buffer, with a leading dimension >= cols and an element offset, filled
// with random values exactly representable in its type.
struct Matrix {
  std::vector<uint16_t> storage;  // 2-byte units: f16 / bf16 elements, or halves of f32
  TensorView view;

  Matrix(DType type, int64_t rows, int64_t cols, int64_t pad_cols, int64_t offset, Rng& rng) {
    const int64_t ld = cols + pad_cols;
    const size_t elements = static_cast<size_t>(offset + rows * ld);
    storage.assign(elements * (type == DType::kF32 ? 2 : 1), 0);
    view = TensorView::Matrix(type, storage.data(), rows, cols, ld).WithOffset(offset);
    for (size_t e = 0; e < elements; ++e) Set(e, rng.Uniform(-1.0f, 1.0f));
  }
  void Set(size_t e, float x) {
    if (view.dtype == DType::kF32) {
      std::memcpy(&storage[2 * e], &x, 4);
    } else if (view.dtype == DType::kF16) {
      storage[e] = ek::ref::F32ToF16(x);
    } else {
      storage[e] = ek::ref::F32ToBF16(x);
    }
  }
  size_t Bytes() const { return storage.size() * 2; }
};

struct Case {
  int64_t m, n, k;
  DType a_type = DType::kF32, b_type = DType::kF32, c_type = DType::kF32;
  bool transpose_b = false;
  bool strided = false;  // leading dimensions > cols and element offsets
  bool bias = false;
  bool accumulate = false;
  Activation activation = Activation::kNone;
};

std::string Describe(const Case& c) {
  char text[200];
  std::snprintf(text, sizeof(text), "%lldx%lldx%lld a=%s b=%s c=%s%s%s%s%s act=%d", static_cast<long long>(c.m),
                static_cast<long long>(c.n), static_cast<long long>(c.k), ek::DTypeName(c.a_type),
                ek::DTypeName(c.b_type), ek::DTypeName(c.c_type), c.transpose_b ? " transposed" : "",
                c.strided ? " strided" : "", c.bias ? " bias" : "", c.accumulate ? " accumulate" : "",
                static_cast<int>(c.activation));
  return text;
}

// Operands of one case, and the options that go with them.
struct Problem {
  Rng rng;
  Matrix a, b, c;
  std::vector<float> bias;
  GemmOptions options;

  explicit Problem(const Case& cs, uint64_t seed)
      : rng(seed),
        a(cs.a_type, cs.m, cs.k, cs.strided ? 3 : 0, cs.strided ? 5 : 0, rng),
        b(cs.b_type, cs.transpose_b ? cs.n : cs.k, cs.transpose_b ? cs.k : cs.n, cs.strided ? 7 : 0,
          cs.strided ? 2 : 0, rng),
        c(cs.c_type, cs.m, cs.n, cs.strided ? 4 : 0, cs.strided ? 1 : 0, rng) {
    options.transpose_b = cs.transpose_b;
    options.accumulate = cs.accumulate;
    options.activation = cs.activation;
    if (cs.activation == Activation::kClamp) {
      options.clamp_min = -0.75f;
      options.clamp_max = 0.5f;
    }
    if (cs.bias) {
      bias.resize(static_cast<size_t>(cs.n));
      for (float& x : bias) x = rng.Uniform(-2.0f, 2.0f);
      options.bias = TensorView::Host(DType::kF32, bias.data(), {cs.n});
    }
    if (cs.activation == Activation::kRelu6) {
      // Scale A so that some results exceed 6.
      for (size_t e = 0; e < a.storage.size() / (cs.a_type == DType::kF32 ? 2 : 1); ++e) {
        a.Set(e, rng.Uniform(-4.0f, 4.0f));
      }
    }
  }
};

bool SameBitsAt(const Matrix& x, const Matrix& y, int64_t e) {
  const size_t units = x.view.dtype == DType::kF32 ? 2 : 1;
  return std::memcmp(&x.storage[static_cast<size_t>(e) * units], &y.storage[static_cast<size_t>(e) * units],
                     units * 2) == 0;
}

// Checks every element of p.c (computed from c_old when accumulating) against the reference,
// within the f32 bound or, for the fp16 lane, its own.
void CheckElements(const Problem& p, const Matrix& c_old, const Case& cs, bool f16_lane) {
  TensorView old_view = c_old.view;  // the reference reads C's old values when accumulating
  old_view.memory.host = const_cast<uint16_t*>(c_old.storage.data());
  int failures = 0;
  for (int64_t i = 0; i < cs.m; ++i) {
    for (int64_t j = 0; j < cs.n; ++j) {
      double value, magnitude;
      ek::ref::GemmElement(p.a.view, p.b.view, old_view, p.options, i, j, &value, &magnitude);
      const double got = ek::ref::MatrixValue(p.c.view, i, j);
      const double bound = f16_lane ? ek::ref::GemmF16ArithmeticErrorBound(cs.k, magnitude, value)
                                    : ek::ref::GemmErrorBound(cs.k, magnitude, value, cs.c_type);
      if (!(std::fabs(got - value) <= bound) && failures++ < 3) {
        FAIL_CHECK("C[" << i << "," << j << "] = " << got << ", reference " << value << ", bound " << bound);
      }
    }
  }
  CHECK(failures == 0);
}

// Runs ek::Gemm (unpacked) and checks every element against the reference and its bound.
void CheckAgainstReference(const Case& cs, uint64_t seed) {
  INFO(Describe(cs));
  Problem p(cs, seed);
  const Matrix c_old = p.c;
  REQUIRE(ek::Gemm(p.a.view, p.b.view, p.c.view, p.options).ok());
  CheckElements(p, c_old, cs, false);
  // The padding between rows of C (strided cases) is untouched.
  if (cs.strided) {
    for (int64_t i = 0; i + 1 < cs.m; ++i) {
      for (int64_t j = cs.n; j < cs.n + 4; ++j) CHECK(SameBitsAt(p.c, c_old, p.c.view.offset + i * (cs.n + 4) + j));
    }
  }
}

// Tile edges of every target's micro-kernels: rows 1..9 and around 16 / 17 (small-M / blocked);
// columns around 4, 8, 16, 32, 64 (vectors and panels); K around vector lengths and primes.
const int64_t kEdgeM[] = {1, 2, 3, 5, 6, 7, 8, 9, 13, 16, 17, 25};
const int64_t kEdgeN[] = {1, 3, 7, 8, 15, 16, 17, 31, 33, 63, 65};
const int64_t kEdgeK[] = {1, 2, 7, 16, 17, 61};

TEST_CASE("Gemm f32 matches the reference at every tile edge, on every target") {
  const int targets = ek_test::ForEachTarget([&](int64_t target) {
    INFO("target " << ek::TargetName(target));
    uint64_t seed = 1;
    for (int64_t m : kEdgeM) {
      for (int64_t n : kEdgeN) {
        Case cs{m, n, kEdgeK[static_cast<size_t>(m + n) % 6]};
        cs.transpose_b = (m + n) % 3 == 0;
        cs.strided = (m * n) % 2 == 1;
        CheckAgainstReference(cs, seed++);
      }
    }
  });
  CHECK(targets >= 1);
}

// Strips (many row tiles, K blocks of at most 256) whose column tiles are full or, the last one,
// at most half the tile's width (its half-width instantiation): N = 24, 40, 48 end in 8, 8 and 16
// columns after the 16- or 32-column tiles, so every target meets a last tile of exactly half
// its width, run as strips, and one narrower, run through the buffer.
TEST_CASE("Gemm strips and half-width last column tiles match the reference, on every target") {
  ek_test::ForEachTarget([&](int64_t target) {
    INFO("target " << ek::TargetName(target));
    uint64_t seed = 500;
    for (int64_t n : {24, 40, 48}) {
      for (int64_t k : {61, 256}) {
        Case cs{293, n, k};
        cs.bias = k == 61;
        cs.activation = k == 61 ? Activation::kRelu6 : Activation::kNone;
        cs.strided = n == 40;
        cs.accumulate = n == 48;
        CheckAgainstReference(cs, seed++);
      }
    }
  });
}

TEST_CASE("Gemm types, epilogues and random shapes up to ~300, on every target") {
  ek_test::ForEachTarget([&](int64_t target) {
    INFO("target " << ek::TargetName(target));
    Rng shapes(7);
    const DType types[][3] = {{DType::kF32, DType::kF32, DType::kF32},  {DType::kF32, DType::kF16, DType::kF32},
                              {DType::kF32, DType::kBF16, DType::kF32}, {DType::kF16, DType::kF16, DType::kF16},
                              {DType::kF16, DType::kF32, DType::kF32},  {DType::kF32, DType::kBF16, DType::kF16}};
    const Activation activations[] = {Activation::kNone, Activation::kRelu, Activation::kRelu6, Activation::kClamp};
    uint64_t seed = 100;
    for (int i = 0; i < 12; ++i) {
      Case cs{shapes.Int(1, 40), shapes.Int(1, 90), shapes.Int(1, 70)};
      if (i % 4 == 0) {  // each of M, N, K once near 300 (prime), the others moderate
        const Case large[] = {{293, 37, 61}, {19, 293, 131}, {131, 61, 293}};
        cs = large[i / 4];
      }
      const DType* t = types[i % 6];
      cs.a_type = t[0];
      cs.b_type = t[1];
      cs.c_type = t[2];
      cs.activation = activations[i % 4];
      cs.bias = i % 2 == 0;
      cs.accumulate = i % 3 == 1;
      cs.transpose_b = i % 5 >= 3;
      cs.strided = i % 2 == 1;
      CheckAgainstReference(cs, seed++);
    }
  });
}

// Runs ek::Gemm for `cs` with B packed or not, blocking and thread count as given; returns C.
std::vector<uint16_t> RunVariant(const Case& cs, bool packed, const ek::GemmBlocking& blocking, int threads) {
  Problem p(cs, 42);
  p.options.blocking = blocking;
  ek::ThreadPool pool(threads);
  ek::Context ctx;
  if (threads > 1) ctx.threads = pool.Hook();
  if (packed) {
    size_t bytes = 0;
    REQUIRE(ek::PackedGemmWeightsSize(p.b.view, cs.transpose_b, &bytes).ok());
    std::vector<uint8_t> buffer(bytes + 4);
    // 4-byte alignment is enough: pack at an address that is not 8-, 16- or 64-byte aligned.
    uint8_t* at = buffer.data() + (reinterpret_cast<uintptr_t>(buffer.data()) % 8 == 0 ? 4 : 0);
    REQUIRE(ek::PackGemmWeights(p.b.view, cs.transpose_b, at, bytes, ctx).ok());
    GemmOptions o = p.options;
    o.transpose_b = false;
    const ek::Status s = ek::Gemm(p.a.view, PackedWeights{at, bytes}, p.c.view, o, ctx);
    INFO(s.message());
    REQUIRE(s.ok());
  } else {
    size_t bytes = 0;
    REQUIRE(ek::GemmWorkspaceSize(p.a.view, p.b.view, p.c.view, p.options, &bytes).ok());
    std::vector<uint8_t> workspace(bytes);
    const ek::Status s = ek::Gemm(p.a.view, p.b.view, p.c.view, p.options, ctx, workspace.data(), bytes);
    INFO(s.message());
    REQUIRE(s.ok());
  }
  return p.c.storage;
}

TEST_CASE("Gemm results are bitwise identical: packed or not, any K blocking, 1 to 4 threads") {
  ek_test::ForEachTarget([&](int64_t target) {
    INFO("target " << ek::TargetName(target));
    const Case cases[] = {
        {1, 300, 257},                                            // GEMV
        // GEMV on a row-major B, rows streamed: two column blocks (4096 + 4: the second one
        // narrower than a vector), K not a multiple of the 8-row groups, f16 weights, strided,
        // bias, accumulate, clamp.
        {2, 4100, 19, DType::kF32, DType::kF16, DType::kF32, false, true, true, true, Activation::kClamp},
        {1, 4100, 600},                                           // and two K blocks of the small-M tiles (variants)
        // GEMV on a transposed B, its columns streamed 8 at a time: N % 8 = 4 and K % 4 = 1;
        // two rows of A, bf16 weights, f16 C, strided, bias, accumulate, clamp; f16 weights
        // with two column blocks (1088 + 963) and a ReLU.
        {1, 300, 257, DType::kF32, DType::kF32, DType::kF32, true},
        {2, 1100, 19, DType::kF32, DType::kBF16, DType::kF16, true, true, true, true, Activation::kClamp},
        {1, 2051, 1101, DType::kF32, DType::kF16, DType::kF32, true, false, true, false, Activation::kRelu},
        // 3..16 rows on a view of B, packed on the fly: wide tasks (1024 columns) with chunks of
        // 256 and a last partial panel, f16 weights; then K in three blocks (256 + 256 + 88).
        {16, 4200, 21, DType::kF32, DType::kF16, DType::kF32, false, true, true, true, Activation::kRelu},
        {5, 4099, 600},
        {7, 129, 100, DType::kF32, DType::kF16, DType::kF32},     // small-M, f16 weights
        {16, 70, 300, DType::kF32, DType::kF32, DType::kF32, true, true, true, true},  // small-M, row-major tail
        {67, 101, 257, DType::kF32, DType::kBF16, DType::kF32, false, true, true, true, Activation::kRelu},
        {70, 96, 130, DType::kF16, DType::kF16, DType::kF16, true},
        {131, 150, 97},
        {293, 40, 61},  // strips, the last column tile half-width (AVX2, NEON) or narrower (AVX-512)
        // A view of B larger than a task's slot, packed on the fly by tasks that are column
        // blocks over all rows. Few rows (short K blocks, wide tasks, the next chunk
        // prefetched): two K blocks (256 + 45), chunks of 256 columns and a last partial panel,
        // B transposed (4 x 4 transposes and k % 4 one at a time) with strides.
        {20, 1100, 301, DType::kF32, DType::kF32, DType::kF32, true, true, true, true, Activation::kRelu6},
        {20, 1100, 301, DType::kF32, DType::kF32, DType::kF32, false, true},
        // More rows: K blocks from L2, narrower chunks; bf16 weights.
        {70, 300, 1100, DType::kF32, DType::kBF16, DType::kF32, false, false, true},
    };
    // Wide SVE under qemu: the cases of more than 2M multiply-adds (each run six times here)
    // took 80% of the arm lanes' emulated time; the others keep every variant.
    const bool wide_emulated = ek_test::EmulatedWideVectors();
    int left_out = 0;
    for (const Case& cs : cases) {
      if (wide_emulated && cs.m * cs.n * cs.k > (int64_t{1} << 21)) {
        ++left_out;
        continue;
      }
      INFO(Describe(cs));
      const std::vector<uint16_t> base = RunVariant(cs, false, {}, 1);
      CHECK(RunVariant(cs, true, {}, 1) == base);
      ek::GemmBlocking small;
      small.kc = 16;
      small.mc = 8;
      small.nc = 16;
      CHECK(RunVariant(cs, true, small, 1) == base);
      ek::GemmBlocking odd;
      odd.kc = 37;
      odd.mc = 41;
      odd.nc = 48;
      CHECK(RunVariant(cs, false, odd, 3) == base);
      CHECK(RunVariant(cs, false, {}, 2) == base);
      CHECK(RunVariant(cs, true, {}, 4) == base);
    }
    if (left_out > 0) {
      std::printf("note: %s under qemu with wide SVE vectors: %d large cases left out (run on the 128-bit models)\n",
                  ek::TargetName(target), left_out);
    }
  });
}

// A user blocking of any size (the docs put no restriction on kc, mc, nc) changes no bit: column
// blocks that do not start on a panel of packed B once read the wrong columns (issue 16: M = 1,
// N = 17, K = 3, nc = 3 gave C[0,16] = -0.066 instead of 0.125 on AVX-512).
TEST_CASE("Gemm with any user blocking, nc not a multiple of the vector or panel, gives the same bits") {
  ek_test::ForEachTarget([&](int64_t target) {
    INFO("target " << ek::TargetName(target));
    const Case cases[] = {{1, 17, 3},  {2, 40, 9},  {5, 70, 33, DType::kF32, DType::kF16, DType::kF32, true},
                          {20, 37, 19, DType::kF32, DType::kF32, DType::kF32, false, true, true, true, Activation::kRelu},
                          {3, 33, 5, DType::kF16, DType::kBF16, DType::kF16}};
    for (const Case& cs : cases) {
      INFO(Describe(cs));
      CheckAgainstReference(cs, 42);
      const std::vector<uint16_t> base = RunVariant(cs, false, {}, 1);
      for (int64_t nc = 1; nc <= 40; ++nc) {
        INFO("nc = " << nc);
        ek::GemmBlocking blocking;
        blocking.nc = nc;
        blocking.mc = nc % 7 + 1;
        blocking.kc = nc % 5 == 0 ? 0 : nc % 11 + 1;
        CHECK(RunVariant(cs, nc % 2 == 0, blocking, 1 + static_cast<int>(nc % 3)) == base);
      }
    }
  });
}

// The workspace may start at any address (docs/gemm.md): staged A, packed B and the pack slots
// are placed at aligned offsets inside it (issue 16: UBSan saw misaligned f32 loads and stores
// in the GEMM and convert kernels with a workspace that was not 4-byte aligned).
TEST_CASE("Gemm takes a workspace at any address and gives the same bits") {
  ek_test::ForEachTarget([&](int64_t target) {
    INFO("target " << ek::TargetName(target));
    const Case cases[] = {{20, 70, 33, DType::kF16, DType::kF32, DType::kF32},          // A staged
                          {20, 1100, 301, DType::kF32, DType::kF32, DType::kF32, true},  // slots
                          {5, 300, 40, DType::kF16, DType::kBF16, DType::kF16, false, true, true}};
    for (const Case& cs : cases) {
      INFO(Describe(cs));
      const std::vector<uint16_t> base = RunVariant(cs, false, {}, 1);
      for (size_t misalign = 1; misalign < 4; ++misalign) {
        Problem p(cs, 42);
        size_t bytes = 0;
        REQUIRE(ek::GemmWorkspaceSize(p.a.view, p.b.view, p.c.view, p.options, &bytes).ok());
        REQUIRE(bytes > 0);
        std::vector<uint8_t> buffer(bytes + 128);
        uint8_t* at = buffer.data() + (64 - reinterpret_cast<uintptr_t>(buffer.data()) % 64) % 64 + misalign;
        REQUIRE(at + bytes <= buffer.data() + buffer.size());
        const ek::Status s = ek::Gemm(p.a.view, p.b.view, p.c.view, p.options, ek::Context(), at, bytes);
        INFO(s.message());
        REQUIRE(s.ok());
        CHECK(p.c.storage == base);
      }
    }
  });
}

// The randomized differential lane ([random]; tools/test-all.sh runs it with a new seed per run):
// random shapes, types, strides, offsets, transposes, bias, activations, accumulate, user
// blocking, packed or not, 1..3 threads and the workspace at an odd address, each checked
// against the reference on every target, and bitwise against the default plan.
TEST_CASE("Gemm randomized against the reference, every target", "[random]") {
  const uint64_t seed = ek_test::RandomSeed("Gemm randomized");
  const int cases = ek_test::RandomCases(150);
  ek_test::ForEachTarget([&](int64_t target) {
    Rng rng(seed * 7919 + static_cast<uint64_t>(target % 1000003));
    const DType types[][3] = {{DType::kF32, DType::kF32, DType::kF32},  {DType::kF32, DType::kF16, DType::kF32},
                              {DType::kF32, DType::kBF16, DType::kF32}, {DType::kF16, DType::kF16, DType::kF16},
                              {DType::kF16, DType::kF32, DType::kF32},  {DType::kF32, DType::kBF16, DType::kF16}};
    for (int i = 0; i < cases; ++i) {
      Case cs{rng.Int(1, rng.Int(0, 3) == 0 ? 300 : 40), rng.Int(1, rng.Int(0, 3) == 0 ? 300 : 70),
              rng.Int(1, rng.Int(0, 3) == 0 ? 400 : 64)};
      const DType* t = types[rng.Int(0, 5)];
      cs.a_type = t[0];
      cs.b_type = t[1];
      cs.c_type = t[2];
      cs.transpose_b = rng.Int(0, 1) == 1;
      cs.bias = rng.Int(0, 1) == 1;
      cs.accumulate = rng.Int(0, 3) == 0;
      cs.activation = static_cast<Activation>(rng.Int(0, 3));
      const uint64_t problem_seed = rng.Next();
      Problem p(cs, problem_seed);
      // Random leading dimensions and element offsets.
      Rng pads(problem_seed + 1);
      p.a = Matrix(cs.a_type, cs.m, cs.k, pads.Int(0, 9), pads.Int(0, 9), pads);
      p.b = Matrix(cs.b_type, cs.transpose_b ? cs.n : cs.k, cs.transpose_b ? cs.k : cs.n, pads.Int(0, 9), pads.Int(0, 9), pads);
      p.c = Matrix(cs.c_type, cs.m, cs.n, pads.Int(0, 9), pads.Int(0, 9), pads);
      ek::GemmBlocking blocking;
      if (rng.Int(0, 2) == 0) {
        blocking.kc = rng.Int(0, 1) ? rng.Int(1, 300) : 0;
        blocking.mc = rng.Int(0, 1) ? rng.Int(1, 100) : 0;
        blocking.nc = rng.Int(0, 1) ? rng.Int(1, 300) : 0;
      }
      p.options.blocking = blocking;
      const bool packed = rng.Int(0, 1) == 1;
      const int threads = rng.Int(1, 3);
      INFO("case " << i << ": " << Describe(cs) << (packed ? " packed" : "") << " blocking " << blocking.kc << "/"
                   << blocking.mc << "/" << blocking.nc << " threads " << threads << " (seed " << seed << ")");
      const Matrix c_old = p.c;
      ek::ThreadPool pool(threads);
      ek::Context ctx;
      if (threads > 1) ctx.threads = pool.Hook();
      std::vector<uint8_t> buffer;
      ek::Status s;
      if (packed) {
        size_t bytes = 0;
        REQUIRE(ek::PackedGemmWeightsSize(p.b.view, cs.transpose_b, &bytes).ok());
        std::vector<uint32_t> weights(bytes / 4 + 1);
        REQUIRE(ek::PackGemmWeights(p.b.view, cs.transpose_b, weights.data(), bytes, ctx).ok());
        GemmOptions o = p.options;
        o.transpose_b = false;
        size_t ws_bytes = 0;
        REQUIRE(ek::GemmWorkspaceSize(p.a.view, PackedWeights{weights.data(), bytes}, p.c.view, o, &ws_bytes).ok());
        buffer.resize(ws_bytes + 3);
        s = ek::Gemm(p.a.view, PackedWeights{weights.data(), bytes}, p.c.view, o, ctx, buffer.data() + 3, ws_bytes);
      } else {
        size_t ws_bytes = 0;
        REQUIRE(ek::GemmWorkspaceSize(p.a.view, p.b.view, p.c.view, p.options, &ws_bytes).ok());
        buffer.resize(ws_bytes + 1);
        s = ek::Gemm(p.a.view, p.b.view, p.c.view, p.options, ctx, buffer.data() + 1, ws_bytes);
      }
      INFO(s.message());
      REQUIRE(s.ok());
      CheckElements(p, c_old, cs, false);
      // The same bits as the default plan on one thread.
      Matrix c_default = c_old;
      c_default.view.memory.host = c_default.storage.data();
      GemmOptions o = p.options;
      o.blocking = ek::GemmBlocking();
      REQUIRE(ek::Gemm(p.a.view, p.b.view, c_default.view, o).ok());
      CHECK(c_default.storage == p.c.storage);
    }
  });
}

// GEMV streams a view of B in place, row-major (rows) or transposed with unit stride along K
// (columns): no workspace. A transposed view strided along K is packed on the fly (slots).
TEST_CASE("GEMV on a row-major or transposed view of B needs no workspace") {
  const int64_t k = 300, n = 500;
  std::vector<float> b(static_cast<size_t>(2 * k * n)), a(static_cast<size_t>(2 * k)), c(static_cast<size_t>(2 * n));
  for (int64_t m : {1, 2}) {
    for (bool transpose : {false, true}) {
      INFO("M = " << m << (transpose ? " transposed" : ""));
      GemmOptions o;
      o.transpose_b = transpose;
      const TensorView vb = TensorView::Host(DType::kF32, b.data(), {transpose ? n : k, transpose ? k : n});
      size_t bytes = 1;
      REQUIRE(ek::GemmWorkspaceSize(TensorView::Host(DType::kF32, a.data(), {m, k}), vb,
                                    TensorView::Host(DType::kF32, c.data(), {m, n}), o, &bytes)
                  .ok());
      CHECK(bytes == 0);
    }
  }
  GemmOptions o;
  o.transpose_b = true;
  const TensorView strided_along_k = TensorView::Host(DType::kF32, b.data(), {n, k}).WithStrides({2 * k, 2});
  size_t bytes = 0;
  REQUIRE(ek::GemmWorkspaceSize(TensorView::Host(DType::kF32, a.data(), {1, k}), strided_along_k,
                                TensorView::Host(DType::kF32, c.data(), {1, n}), o, &bytes)
              .ok());
  CHECK(bytes > 0);
}

// A view of B is packed on the fly, a K block x column chunk at a time, into one slot per task:
// the workspace stays far smaller than B (it used to hold all of B packed).
TEST_CASE("Gemm on a large view of B needs a workspace far smaller than B") {
  const int64_t k = 2048, n = 2048;
  std::vector<float> b(static_cast<size_t>(k * n)), a(static_cast<size_t>(64 * k)), c(static_cast<size_t>(64 * n));
  const size_t b_bytes = b.size() * sizeof(float);
  for (int64_t m : {16, 64}) {
    for (bool transpose : {false, true}) {
      INFO("M = " << m << (transpose ? " transposed" : ""));
      GemmOptions o;
      o.transpose_b = transpose;
      size_t bytes = 0;
      REQUIRE(ek::GemmWorkspaceSize(TensorView::Host(DType::kF32, a.data(), {m, k}),
                                    TensorView::Host(DType::kF32, b.data(), {k, n}),
                                    TensorView::Host(DType::kF32, c.data(), {m, n}), o, &bytes)
                  .ok());
      CHECK(bytes > 0);
      CHECK(bytes <= b_bytes / 8);
    }
  }
}

// Whether the fp16 lane should run on `target`, from sources independent of ek's detection: the
// CPU reports half-precision vector arithmetic (Linux auxv HWCAP_ASIMDHP, bit 10), EK_DISABLE_LANES
// does not name it (read with ek's list parser, tested in cpu_features_test), and the target has
// f16 vector arithmetic in Highway 1.2 (HWY_HAVE_FLOAT16 on Arm: the SVE targets and NEON_BF16;
// NEON only when compiled with FEAT_FP16 as baseline).
bool ExpectF16Lane(int64_t target) {
#if defined(__aarch64__) && defined(__linux__)
  const bool cpu = (getauxval(AT_HWCAP) & (1ul << 10)) != 0;
  const char* disabled = std::getenv("EK_DISABLE_LANES");
  uint32_t disabled_lanes = 0;
  if (disabled && ek::detail::ParseLaneList("EK_DISABLE_LANES", disabled, &disabled_lanes).ok() &&
      (disabled_lanes & ek::LaneBit(ek::Lane::kFp16)) != 0) {
    return false;
  }
  int64_t f16_targets = HWY_SVE | HWY_SVE2 | HWY_SVE_256 | HWY_SVE2_128 | HWY_NEON_BF16;
#if defined(__ARM_FEATURE_FP16_VECTOR_ARITHMETIC)
  f16_targets |= HWY_NEON | HWY_NEON_WITHOUT_AES;
#endif
  return cpu && (target & f16_targets) != 0;
#else
  (void)target;
  return false;  // the lane exists on Arm only (ek/cpu/gemm/f16_lane-inl.h)
#endif
}

// The fp16 lane runs exactly where ExpectF16Lane says (so a CPU with FEAT_FP16 and an SVE / SVE2
// / NEON_BF16 target, e.g. qemu `max`, must run it; cortex-a76, FEAT_FP16 with NEON only, must
// not); there it must really run (its results differ from the f32-accumulating path) and stay
// within its documented bound.
TEST_CASE("fp16 lane: f16 accumulation in blocks, within its bound, on every target that has it") {
  int lane_targets = 0;
  ek_test::ForEachTarget([&](int64_t target) {
    INFO("target " << ek::TargetName(target));
    const bool available = ek::GemmF16ArithmeticAvailable();
    CHECK(available == ExpectF16Lane(target));
    if (!ek::LaneDetected(ek::Lane::kFp16)) CHECK_FALSE(available);
    if (!available) return;
    ++lane_targets;
    for (const Case& shape : {Case{1, 77, 300}, Case{5, 40, 65}, Case{20, 130, 97}}) {
      Case cs = shape;
      cs.a_type = cs.b_type = cs.c_type = DType::kF16;
      cs.bias = true;
      cs.accumulate = shape.m == 5;
      cs.activation = shape.m == 20 ? Activation::kRelu : Activation::kNone;
      INFO(Describe(cs));
      Problem lane(cs, 77), plain(cs, 77);
      const Matrix c_old = lane.c;
      lane.options.allow_f16_arithmetic = true;
      REQUIRE(ek::Gemm(lane.a.view, lane.b.view, lane.c.view, lane.options).ok());
      REQUIRE(ek::Gemm(plain.a.view, plain.b.view, plain.c.view, plain.options).ok());
      CHECK(lane.c.storage != plain.c.storage);  // the lane ran
      CheckElements(lane, c_old, cs, true);
      // Thread count still changes nothing.
      Problem threaded(cs, 77);
      threaded.options.allow_f16_arithmetic = true;
      ek::ThreadPool pool(3);
      ek::Context ctx;
      ctx.threads = pool.Hook();
      REQUIRE(ek::Gemm(threaded.a.view, threaded.b.view, threaded.c.view, threaded.options, ctx).ok());
      CHECK(threaded.c.storage == lane.c.storage);
    }
    // Forced off: the lane is not used.
    ek::DisableLane(ek::Lane::kFp16);
    CHECK_FALSE(ek::GemmF16ArithmeticAvailable());
    ek::EnableLane(ek::Lane::kFp16);
  });
  WARN("fp16 lane ran on " << lane_targets << " target(s) of this CPU (asserted per target above)");
}

TEST_CASE("Packed weights unpack to the same bits, in either orientation") {
  Rng rng(5);
  for (DType type : {DType::kF32, DType::kF16, DType::kBF16}) {
    for (bool transpose : {false, true}) {
      Matrix b(type, 37, 21, 3, 1, rng);
      size_t bytes = 0;
      REQUIRE(ek::PackedGemmWeightsSize(b.view, transpose, &bytes).ok());
      std::vector<uint8_t> packed(bytes);
      REQUIRE(ek::PackGemmWeights(b.view, transpose, packed.data(), bytes).ok());
      Matrix back(type, 37, 21, 3, 1, rng);  // different random contents
      REQUIRE(ek::UnpackGemmWeights(PackedWeights{packed.data(), bytes}, back.view, transpose).ok());
      for (int64_t i = 0; i < 37; ++i) {
        for (int64_t j = 0; j < 21; ++j) {
          CHECK(ek::ref::MatrixValue(back.view, i, j) == ek::ref::MatrixValue(b.view, i, j));
        }
      }
      // The documented layout (docs/gemm.md): header, then panels of 16 columns, row k of a
      // panel 16 consecutive elements, zero beyond N.
      const int64_t k = transpose ? 21 : 37, n = transpose ? 37 : 21;
      const ek::detail::PackedGemmHeader* h = reinterpret_cast<const ek::detail::PackedGemmHeader*>(packed.data());
      CHECK(h->prefix.version == 2);
      CHECK(ek::VerifyPackedWeights(PackedWeights{packed.data(), packed.size()}).ok());
      CHECK(h->k == k);
      CHECK(h->n == n);
      const size_t size = static_cast<size_t>(ek::DTypeBits(type) / 8);
      const uint8_t* panel1 = packed.data() + 64 + h->panel_stride_bytes;
      for (int64_t kk = 0; kk < k; ++kk) {
        for (int64_t j = 0; j < 16; ++j) {
          const int64_t col = 16 + j;
          const uint8_t* got = panel1 + (kk * 16 + j) * static_cast<int64_t>(size);
          uint32_t bits = 0;
          std::memcpy(&bits, got, size);
          if (col >= n) {
            CHECK(bits == 0);
          } else {
            const int64_t e = b.view.offset + (transpose ? col * b.view.strides[0] + kk : kk * b.view.strides[0] + col);
            uint32_t expect = 0;
            std::memcpy(&expect, reinterpret_cast<const uint8_t*>(b.storage.data()) + e * static_cast<int64_t>(size),
                        size);
            CHECK(bits == expect);
          }
        }
      }
    }
  }
}

TEST_CASE("Gemm rejects bad input with a message naming the argument") {
  using ek::StatusCode;
  using ek_test::ExpectError;
  Rng rng(9);
  Matrix a(DType::kF32, 4, 5, 0, 0, rng), b(DType::kF32, 5, 6, 0, 0, rng), c(DType::kF32, 4, 6, 0, 0, rng);
  GemmOptions o;
  REQUIRE(ek::Gemm(a.view, b.view, c.view, o).ok());

  ExpectError(ek::Gemm(a.view, b.view, TensorView::Host(DType::kF32, c.storage.data(), {4, 7}), o),
              StatusCode::kInvalidArgument, "c: shape");
  ExpectError(ek::Gemm(TensorView::Host(DType::kF32, a.storage.data(), {4, 4}), b.view, c.view, o),
              StatusCode::kInvalidArgument, "a: has 4 columns");
  ExpectError(ek::Gemm(a.view, TensorView::Host(DType::kI8, b.storage.data(), {5, 6}), c.view, o),
              StatusCode::kInvalidArgument, "b: dtype");
  ExpectError(ek::Gemm(TensorView::Host(DType::kBF16, a.storage.data(), {4, 5}), b.view, c.view, o),
              StatusCode::kInvalidArgument, "a: dtype");
  ExpectError(ek::Gemm(a.view, b.view, TensorView::Host(DType::kBF16, c.storage.data(), {4, 6}), o),
              StatusCode::kInvalidArgument, "c: dtype");
  ExpectError(ek::Gemm(a.view, b.view, c.view.WithStrides({12, 2}).WithLayout(ek::Layout::kStrided), o), StatusCode::kInvalidArgument,
              "c: column stride");
  ExpectError(ek::Gemm(a.view, b.view, TensorView::Host(DType::kF32, nullptr, {4, 6}), o),
              StatusCode::kInvalidArgument, "c: data is null");
  ExpectError(ek::Gemm(a.view, b.view, TensorView::Host(DType::kF32, c.storage.data(), {4, 6, 1}), o),
              StatusCode::kInvalidArgument, "c: rank");
  // C overlapping A, B or the bias: the kernel cannot run in place.
  ExpectError(ek::Gemm(a.view, b.view, TensorView::Host(DType::kF32, a.storage.data(), {4, 6}), o),
              StatusCode::kInvalidArgument, "c: overlaps a");
  ExpectError(ek::Gemm(a.view, b.view, TensorView::Host(DType::kF32, b.storage.data(), {4, 6}), o),
              StatusCode::kInvalidArgument, "c: overlaps b");
  // C overlapping itself.
  ExpectError(ek::Gemm(a.view, b.view, c.view.WithStrides({1, 1}).WithLayout(ek::Layout::kStrided), o), StatusCode::kInvalidArgument, "c:");
  {
    GemmOptions bad = o;
    std::vector<float> bias(5);
    bad.bias = TensorView::Host(DType::kF32, bias.data(), {5});
    ExpectError(ek::Gemm(a.view, b.view, c.view, bad), StatusCode::kInvalidArgument, "options.bias");
    bad.bias = TensorView::Host(DType::kF16, bias.data(), {6});
    ExpectError(ek::Gemm(a.view, b.view, c.view, bad), StatusCode::kInvalidArgument, "options.bias");
    bad = o;
    bad.activation = Activation::kClamp;
    bad.clamp_min = 1.0f;
    bad.clamp_max = 0.0f;
    ExpectError(ek::Gemm(a.view, b.view, c.view, bad), StatusCode::kInvalidArgument, "options.clamp_min");
    bad.clamp_min = NAN;
    ExpectError(ek::Gemm(a.view, b.view, c.view, bad), StatusCode::kInvalidArgument, "options.clamp_min");
    bad = o;
    bad.activation = static_cast<Activation>(9);
    ExpectError(ek::Gemm(a.view, b.view, c.view, bad), StatusCode::kInvalidArgument, "options.activation");
    bad = o;
    bad.blocking.kc = -1;
    ExpectError(ek::Gemm(a.view, b.view, c.view, bad), StatusCode::kInvalidArgument, "options.blocking");
    bad = o;
    bad.transpose_b = true;  // B is then [6 x 5]: K = 5? no: K = 6 != A's 5 columns
    ExpectError(ek::Gemm(a.view, b.view, c.view, bad), StatusCode::kInvalidArgument, "a: has 5 columns");
  }
  // Memory a CPU kernel cannot touch.
  TensorView on_gpu = b.view;
  on_gpu.memory.kind = ek::MemoryKind::kOpenCLBuffer;
  on_gpu.memory.handle = b.storage.data();
  ExpectError(ek::Gemm(a.view, on_gpu, c.view, o), StatusCode::kWrongMemory, "b:");

  // Workspace: too small or null.
  Matrix big_a(DType::kF16, 20, 5, 0, 0, rng);  // f16 A needs staging, M > 16 needs packing
  Matrix big_c(DType::kF32, 20, 6, 0, 0, rng);
  size_t need = 0;
  REQUIRE(ek::GemmWorkspaceSize(big_a.view, b.view, big_c.view, o, &need).ok());
  REQUIRE(need > 0);
  std::vector<uint8_t> ws(need);
  ExpectError(ek::Gemm(big_a.view, b.view, big_c.view, o, ek::Context(), ws.data(), need - 1),
              StatusCode::kInvalidArgument, "workspace:");
  ExpectError(ek::Gemm(big_a.view, b.view, big_c.view, o, ek::Context(), nullptr, need), StatusCode::kInvalidArgument,
              "workspace: is null");
  CHECK(ek::Gemm(big_a.view, b.view, big_c.view, o, ek::Context(), ws.data(), need).ok());
  ExpectError(ek::GemmWorkspaceSize(big_a.view, b.view, big_c.view, o, nullptr), StatusCode::kInvalidArgument,
              "bytes");

  // The workspace is an output: it may not overlap C, A, B or the bias (issue 16: a workspace
  // overlapping C, or a strided A staged into it, gave a silently wrong result).
  {
    std::vector<uint8_t> shared(need + big_c.Bytes() + 64);
    const TensorView c_in_ws = TensorView::Host(DType::kF32, shared.data() + 32, {20, 6});
    ExpectError(ek::Gemm(big_a.view, b.view, c_in_ws, o, ek::Context(), shared.data(), need),
                StatusCode::kInvalidArgument, "c: overlaps workspace");
    Matrix strided_a(DType::kF32, 20, 5, 3, 1, rng);
    TensorView a_strided = TensorView::Host(DType::kF32, strided_a.storage.data(), {20, 5}).WithStrides({1, 20});
    size_t need_strided = 0;
    REQUIRE(ek::GemmWorkspaceSize(a_strided, b.view, big_c.view, o, &need_strided).ok());
    REQUIRE(need_strided > 0);
    ExpectError(ek::Gemm(a_strided, b.view, big_c.view, o, ek::Context(), strided_a.storage.data(), need_strided),
                StatusCode::kInvalidArgument, "workspace: overlaps a");
    std::vector<float> b_and_ws(30 + need);  // B (5 x 6) at the start, the workspace from its last row on
    const TensorView b_view = TensorView::Host(DType::kF32, b_and_ws.data(), {5, 6});
    ExpectError(ek::Gemm(big_a.view, b_view, big_c.view, o, ek::Context(), b_and_ws.data() + 24, need),
                StatusCode::kInvalidArgument, "workspace: overlaps b");
  }

  // Packed weights: size, header, version, shape and type checks.
  size_t bytes = 0;
  REQUIRE(ek::PackedGemmWeightsSize(b.view, false, &bytes).ok());
  std::vector<uint8_t> packed(bytes);
  ExpectError(ek::PackGemmWeights(b.view, false, packed.data(), bytes - 1), StatusCode::kInvalidArgument, "out:");
  ExpectError(ek::PackGemmWeights(b.view, false, nullptr, bytes), StatusCode::kInvalidArgument, "out: is null");
  ExpectError(ek::PackGemmWeights(b.view, false, b.storage.data(), bytes), StatusCode::kInvalidArgument,
              "out: overlaps b");
  std::vector<uint8_t> shifted(bytes + 2);
  ExpectError(ek::PackGemmWeights(b.view, false, shifted.data() + 2, bytes), StatusCode::kInvalidArgument,
              "out: is not 4-byte aligned");
  REQUIRE(ek::PackGemmWeights(b.view, false, packed.data(), bytes).ok());
  const PackedWeights good{packed.data(), bytes};
  std::memcpy(shifted.data() + 2, packed.data(), bytes);
  ExpectError(ek::Gemm(a.view, PackedWeights{shifted.data() + 2, bytes}, c.view, o), StatusCode::kInvalidArgument,
              "packed_b: data is not 4-byte aligned");
  REQUIRE(ek::Gemm(a.view, good, c.view, o).ok());
  ExpectError(ek::Gemm(a.view, PackedWeights{packed.data(), bytes - 1}, c.view, o), StatusCode::kInvalidArgument,
              "packed_b:");
  ExpectError(ek::Gemm(a.view, PackedWeights{packed.data(), 10}, c.view, o), StatusCode::kInvalidArgument,
              "packed_b:");
  ExpectError(ek::Gemm(a.view, PackedWeights{nullptr, bytes}, c.view, o), StatusCode::kInvalidArgument,
              "packed_b: data is null");
  GemmOptions transposed = o;
  transposed.transpose_b = true;
  ExpectError(ek::Gemm(a.view, good, c.view, transposed), StatusCode::kInvalidArgument, "options.transpose_b");
  ExpectError(ek::Gemm(TensorView::Host(DType::kF32, a.storage.data(), {5, 4}), good,
                       TensorView::Host(DType::kF32, c.storage.data(), {5, 4}), o),
              StatusCode::kInvalidArgument, "a: has 4 columns");
  std::vector<uint8_t> corrupt = packed;
  corrupt[0] ^= 1;
  ExpectError(ek::Gemm(a.view, PackedWeights{corrupt.data(), bytes}, c.view, o), StatusCode::kInvalidArgument,
              "bad magic");
  corrupt = packed;
  corrupt[4] = 1;  // version 1
  ExpectError(ek::Gemm(a.view, PackedWeights{corrupt.data(), bytes}, c.view, o), StatusCode::kInvalidArgument,
              "version 1");
  // Issue 16: every header byte is covered by the header checksum (the dtype, K, N, reserved
  // bytes...), checked on every call; the payload by its checksum, checked by Verify.
  for (size_t at = 6; at < 64; ++at) {
    INFO("header byte " << at);
    corrupt = packed;
    corrupt[at] ^= 0x20;
    ExpectError(ek::Gemm(a.view, PackedWeights{corrupt.data(), bytes}, c.view, o), StatusCode::kInvalidArgument,
                "packed_b: corrupt header");
    ExpectError(ek::VerifyPackedWeights(PackedWeights{corrupt.data(), bytes}), StatusCode::kInvalidArgument,
                "packed: corrupt header");
  }
  // A header whose checksum was resealed after K and N were set to 2^40 each: its payload size
  // would overflow int64 (the fuzz lane's finding; UBSan in the asan lane reports a regression).
  corrupt = packed;
  const int64_t huge = int64_t{1} << 40;
  std::memcpy(corrupt.data() + 32, &huge, sizeof(huge));
  std::memcpy(corrupt.data() + 40, &huge, sizeof(huge));
  ek::detail::SealPacked(corrupt.data());
  ExpectError(ek::Gemm(a.view, PackedWeights{corrupt.data(), bytes}, c.view, o), StatusCode::kInvalidArgument,
              "packed_b: corrupt header");
  CHECK(ek::VerifyPackedWeights(good).ok());
  for (size_t at : {size_t{64}, size_t{100}, bytes - 1}) {
    INFO("payload byte " << at);
    corrupt = packed;
    corrupt[at] ^= 0x01;
    ExpectError(ek::VerifyPackedWeights(PackedWeights{corrupt.data(), bytes}), StatusCode::kInvalidArgument,
                "packed: payload checksum mismatch");
  }
  ExpectError(ek::VerifyPackedWeights(PackedWeights{packed.data(), bytes - 1}), StatusCode::kInvalidArgument, "packed:");
  ExpectError(ek::VerifyPackedWeights(PackedWeights{nullptr, bytes}), StatusCode::kInvalidArgument, "packed: data is null");
  ExpectError(ek::Gemm(a.view, PackedWeights{packed.data(), bytes}, TensorView::Host(DType::kF32, packed.data(), {4, 6}), o),
              StatusCode::kInvalidArgument, "c: overlaps packed_b");
  Matrix wrong(DType::kF16, 5, 6, 0, 0, rng);
  ExpectError(ek::UnpackGemmWeights(good, wrong.view, false), StatusCode::kInvalidArgument, "b: dtype");
  Matrix wrong_shape(DType::kF32, 6, 5, 0, 0, rng);
  ExpectError(ek::UnpackGemmWeights(good, wrong_shape.view, false), StatusCode::kInvalidArgument, "b: K x N");
}

}  // namespace

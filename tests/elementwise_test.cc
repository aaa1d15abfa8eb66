// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// ek::Add (ek/elementwise.h) against the reference (ek/ref/elementwise.h), exactly, on every
// compiled target this CPU supports: dense views of every length around the vector widths and
// the task / chunk sizes, views with gaps and non-unit inner strides, ranks 1..5, activations,
// randomized views ([random]), bitwise identity across thread counts, memory outside the output
// untouched, and every validation rule.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "ek/elementwise.h"
#include "ek/parallel.h"
#include "ek/ref/elementwise.h"
#include "test_util.h"

namespace {

using ek::Activation;
using ek::DType;
using ek::ElementwiseOptions;
using ek::StatusCode;
using ek::TensorView;
using ek_test::ExpectError;
using ek_test::Rng;

using ek_test::kGuardBits;

// A view of `shape` over a buffer of its own, each dimension's stride padded by pad[d] elements.
struct Operand {
  std::vector<float> data;
  TensorView view;
  Operand(const std::vector<int64_t>& shape, const std::vector<int64_t>& pad, Rng* rng, bool guard) {
    const int rank = static_cast<int>(shape.size());
    int64_t strides[ek::kMaxRank];
    int64_t stride = 1 + pad[static_cast<size_t>(rank - 1)];
    for (int d = rank - 1; d >= 0; --d) {
      strides[d] = stride;
      stride *= shape[static_cast<size_t>(d)] + (d > 0 ? pad[static_cast<size_t>(d - 1)] : 0);
    }
    const int64_t span = strides[0] * shape[0] + 1;
    data.resize(static_cast<size_t>(span));
    for (float& x : data) {
      if (guard) {
        std::memcpy(&x, &kGuardBits, 4);
      } else {
        x = rng->Uniform(-8.0f, 8.0f);
      }
    }
    view = TensorView::Host(DType::kF32, data.data(), {1});
    view.rank = rank;
    for (int d = 0; d < rank; ++d) {
      view.shape[d] = shape[static_cast<size_t>(d)];
      view.strides[d] = strides[d];
    }
  }
};

// Runs ek::Add and checks every element against the reference and the rest of the output's
// buffer untouched; returns the output buffer.
std::vector<float> RunAndCheck(const std::vector<int64_t>& shape, const std::vector<int64_t>& pad_a,
                               const std::vector<int64_t>& pad_out, const ElementwiseOptions& o, uint64_t seed,
                               const ek::Context& ctx) {
  Rng rng(seed);
  const Operand a(shape, pad_a, &rng, false);
  const Operand b(shape, std::vector<int64_t>(shape.size(), 0), &rng, false);
  Operand out(shape, pad_out, &rng, true);
  Operand want(shape, pad_out, &rng, true);
  const ek::Status st = ek::Add(a.view, b.view, out.view, o, ctx);
  INFO(st.message());
  REQUIRE(st.ok());
  ek::ref::Add(a.view, b.view, want.view, o);
  int failures = 0;
  for (size_t i = 0; i < out.data.size(); ++i) {
    const bool guard = ek_test::Bits(want.data[i]) == kGuardBits;
    const bool ok = guard ? ek_test::Bits(out.data[i]) == kGuardBits : out.data[i] == want.data[i];
    if (!ok && failures++ < 3) FAIL_CHECK("element " << i << ": " << out.data[i] << ", want " << want.data[i]);
  }
  CHECK(failures == 0);
  return out.data;
}

TEST_CASE("Add: dense and strided views equal the reference, every target, threads bitwise", "[elementwise]") {
  ek::ThreadPool pool(3);
  ek::Context threaded;
  threaded.threads = pool.Hook();
  ElementwiseOptions relu6;
  relu6.activation = Activation::kRelu6;
  ElementwiseOptions clamp;
  clamp.activation = Activation::kClamp;
  clamp.clamp_min = -1.0f;
  clamp.clamp_max = 0.5f;
  ek_test::ForEachTarget([&](int64_t target) {
    INFO("target " << ek::TargetName(target));
    for (int64_t n : {1, 3, 15, 16, 17, 31, 33, 64, 100}) {
      INFO("length " << n);
      RunAndCheck({n}, {0}, {0}, ElementwiseOptions(), 10 + static_cast<uint64_t>(n), ek::Context());
      RunAndCheck({n}, {0}, {0}, relu6, 20 + static_cast<uint64_t>(n), ek::Context());
    }
    RunAndCheck({2, 7, 7, 24}, {0, 0, 0, 0}, {0, 0, 3, 0}, clamp, 3, ek::Context());  // channel-slice output
    RunAndCheck({3, 5, 9}, {0, 2, 1}, {1, 0, 0}, ElementwiseOptions(), 4, ek::Context());  // inner stride 2
    RunAndCheck({2, 2, 3, 2, 5}, {1, 0, 2, 0, 0}, {0, 1, 0, 0, 0}, relu6, 5, ek::Context());  // rank 5
    RunAndCheck({1, 1, 1}, {0, 0, 0}, {0, 0, 0}, clamp, 6, ek::Context());  // one element
    // Long enough for several tasks and chunks (16 Ki elements per chunk, 32 Ki per task).
    const std::vector<float> one = RunAndCheck({3, 40000}, {0, 0}, {0, 0}, relu6, 7, ek::Context());
    const std::vector<float> three = RunAndCheck({3, 40000}, {0, 0}, {0, 0}, relu6, 7, threaded);
    CHECK(ek_test::SameBits(one.data(), three.data(), one.size() * 4));
  });
}

TEST_CASE("Add randomized against the reference, every target", "[random]") {
  const uint64_t seed = ek_test::RandomSeed("Add randomized");
  const int cases = ek_test::RandomCases(60);
  ek_test::ForEachTarget([&](int64_t target) {
    Rng rng(seed * 7919 + static_cast<uint64_t>(target % 1000003));
    for (int i = 0; i < cases; ++i) {
      const int rank = rng.Int(1, 5);
      std::vector<int64_t> shape, pad_a, pad_out;
      for (int d = 0; d < rank; ++d) {
        shape.push_back(rng.Int(1, d == rank - 1 ? 70 : 6));
        pad_a.push_back(rng.Int(0, 3) == 0 ? rng.Int(1, 3) : 0);
        pad_out.push_back(rng.Int(0, 3) == 0 ? rng.Int(1, 3) : 0);
      }
      ElementwiseOptions o;
      o.activation = static_cast<Activation>(rng.Int(0, 3));
      o.clamp_min = -2.0f;
      o.clamp_max = 3.0f;
      const int threads = rng.Int(1, 3);
      INFO("case " << i << " rank " << rank << " threads " << threads << " (seed " << seed << ")");
      ek::ThreadPool pool(static_cast<size_t>(threads));
      ek::Context ctx;
      if (threads > 1) ctx.threads = pool.Hook();
      RunAndCheck(shape, pad_a, pad_out, o, rng.Next(), ctx);
    }
  });
}

TEST_CASE("Add: every validation rule returns a status naming the argument", "[elementwise]") {
  std::vector<float> a(24, 1.0f), b(24, 2.0f), out(24, 0.0f);
  const TensorView av = TensorView::Host(DType::kF32, a.data(), {2, 3, 4});
  const TensorView bv = TensorView::Host(DType::kF32, b.data(), {2, 3, 4});
  const TensorView ov = TensorView::Host(DType::kF32, out.data(), {2, 3, 4});
  REQUIRE(ek::Add(av, bv, ov).ok());
  CHECK(out[23] == 3.0f);
  ExpectError(ek::Add(TensorView::Host(DType::kF16, a.data(), {2, 3, 4}), bv, ov), StatusCode::kInvalidArgument,
              "a: dtype");
  ExpectError(ek::Add(av, TensorView::Host(DType::kF32, b.data(), {2, 4, 3}), ov), StatusCode::kInvalidArgument,
              "b: shape differs from a's");
  ExpectError(ek::Add(av, bv, TensorView::Host(DType::kF32, out.data(), {6, 4})), StatusCode::kInvalidArgument,
              "output: shape differs from a's");
  ExpectError(ek::Add(av, bv, TensorView::Host(DType::kI8, out.data(), {2, 3, 4})), StatusCode::kInvalidArgument,
              "output: dtype");
  TensorView null_b = bv;
  null_b.memory.host = nullptr;
  ExpectError(ek::Add(av, null_b, ov), StatusCode::kInvalidArgument, "b: data is null");
  ExpectError(ek::Add(av, bv, av), StatusCode::kInvalidArgument, "output: overlaps a");
  ExpectError(ek::Add(av, bv, bv), StatusCode::kInvalidArgument, "output: overlaps b");
  TensorView self_overlap = ov;
  self_overlap.strides[0] = 1;
  ExpectError(ek::Add(av, bv, self_overlap), StatusCode::kInvalidArgument, "output: strides");
  ElementwiseOptions bad;
  bad.activation = Activation::kClamp;
  bad.clamp_min = 2.0f;
  bad.clamp_max = 1.0f;
  std::fill(out.begin(), out.end(), 7.0f);
  ExpectError(ek::Add(av, bv, ov, bad), StatusCode::kInvalidArgument, "options.clamp_min");
  CHECK(out[0] == 7.0f);  // untouched on error
}

}  // namespace

// ---- int8 / uint8: TFLite's quantized ADD, bit-exact ---------------------------------------------
namespace {

// A quantized operand over its own bytes: shape [rows, cols] with a row stride of cols + pad.
struct QOperand {
  std::vector<uint8_t> data;
  TensorView view;
  QOperand(DType type, int64_t rows, int64_t cols, int64_t pad, float scale, int32_t zero, Rng* rng) {
    data.resize(static_cast<size_t>(rows * (cols + pad)) + 1);
    for (uint8_t& x : data) x = static_cast<uint8_t>(rng ? rng->Int(0, 255) : 0xA5);
    view = TensorView::Host(type, data.data(), {rows, cols});
    view.strides[0] = cols + pad;
    view.quant = ek::QuantParams::PerTensor(scale, zero);
  }
};

void CheckQuantizedAdd(DType type, int64_t rows, int64_t cols, int64_t pad, Activation act, uint64_t seed,
                       const ek::Context& ctx) {
  Rng rng(seed);
  const bool u8 = type == DType::kU8;
  const auto zero = [&] { return u8 ? rng.Int(0, 255) : rng.Int(-128, 127); };
  const float sa = 0.01f * static_cast<float>(rng.Int(1, 40)), sb = 0.01f * static_cast<float>(rng.Int(1, 40));
  const float so = 0.01f * static_cast<float>(rng.Int(2, 60));
  const QOperand a(type, rows, cols, pad, sa, zero(), &rng), b(type, rows, cols, pad ? pad + 1 : 0, sb, zero(), &rng);
  QOperand out(type, rows, cols, pad, so, zero(), nullptr), want(type, rows, cols, pad, so, out.view.quant.zero_point,
                                                                 nullptr);
  ElementwiseOptions o;
  o.activation = act;
  o.clamp_min = -0.5f;
  o.clamp_max = 1.0f;
  const ek::Status st = ek::Add(a.view, b.view, out.view, o, ctx);
  INFO(st.message());
  REQUIRE(st.ok());
  ek::ref::QAdd(a.view, b.view, want.view, o);
  CHECK(out.data == want.data);  // every element, and the gaps untouched (0xA5 in both)
}

}  // namespace

TEST_CASE("Add int8 / uint8: TFLite's rule exactly, dense and strided, every target", "[elementwise][int8]") {
  ek::ThreadPool pool(3);
  ek::Context threaded;
  threaded.threads = pool.Hook();
  ek_test::ForEachTarget([&](int64_t target) {
    INFO("target " << ek::TargetName(target));
    uint64_t seed = 1;
    for (DType type : {DType::kI8, DType::kU8}) {
      for (int64_t cols : {1, 3, 15, 16, 17, 63, 64, 65, 1000}) {
        for (int64_t pad : {0, 5}) {
          for (Activation act : {Activation::kNone, Activation::kRelu, Activation::kRelu6, Activation::kClamp}) {
            INFO(ek::DTypeName(type) << " cols " << cols << " pad " << pad << " act " << static_cast<int>(act));
            CheckQuantizedAdd(type, 3, cols, pad, act, seed++, ek::Context());
          }
        }
      }
      CheckQuantizedAdd(type, 40, 2000, 0, Activation::kNone, seed++, threaded);  // several tasks
    }
  });
}

TEST_CASE("Add int8: validation names the argument", "[elementwise][int8]") {
  Rng rng(3);
  QOperand a(DType::kI8, 2, 8, 0, 0.1f, 1, &rng), b(DType::kI8, 2, 8, 0, 0.2f, -3, &rng);
  QOperand out(DType::kI8, 2, 8, 0, 0.3f, 2, nullptr);
  REQUIRE(ek::Add(a.view, b.view, out.view).ok());
  TensorView bad = b.view;
  bad.dtype = DType::kU8;
  bad.quant.zero_point = 3;
  ExpectError(ek::Add(a.view, bad, out.view), StatusCode::kInvalidArgument, "b: dtype");
  bad = a.view;
  bad.quant = ek::QuantParams();
  ExpectError(ek::Add(bad, b.view, out.view), StatusCode::kInvalidArgument, "a: must be quantized per tensor");
  bad = out.view;
  bad.quant.scale = 1e-9f;  // 2 * 0.2 / (2^20 * 1e-9) > 1
  ExpectError(ek::Add(a.view, b.view, bad), StatusCode::kInvalidArgument, "output: scale");
  ExpectError(ek::Add(a.view, b.view, a.view), StatusCode::kInvalidArgument, "output");
}

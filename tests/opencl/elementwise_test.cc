// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// ek::opencl::Add against the specification (ek::ref::Add / QAdd): f32, i8 and u8 exact (values
// compared, so a clamped -0 may come back +0), ranks 1..4, strided views (each operand its own
// strides and byte offset), every activation, scales that differ per operand; the output's
// gaps untouched; every validation rule. Exit 77 when there is no OpenCL device.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "cl_test_util.h"
#include "ek/opencl/elementwise.h"
#include "ek/ref/elementwise.h"

namespace {

using ek::Activation;
using ek::DType;
using ek::TensorView;
using ek_cl_test::Check;
using ek_cl_test::CheckRejects;
using ek_cl_test::DeviceCopy;
using ek_cl_test::Next;
using ek_cl_test::Uniform;

struct Case {
  int rank;
  int64_t shape[4];
  int64_t pad[3];  // extra elements per innermost row of a, b, output (strided views)
  Activation act;
};

// A view of `shape` whose innermost rows are `pad` elements longer than the shape says.
TensorView Strided(TensorView v, const Case& c, int64_t pad) {
  int64_t stride = 1;
  for (int d = c.rank - 1; d >= 0; --d) {
    v.strides[d] = stride;
    stride *= c.shape[d] + (d == c.rank - 1 ? pad : 0);
  }
  v.layout = ek::Layout::kStrided;
  return v;
}

int64_t Span(const Case& c, int64_t pad) {
  int64_t n = 1;
  for (int d = 0; d < c.rank; ++d) n *= c.shape[d] + (d == c.rank - 1 ? pad : 0);
  return n;
}

void RunCase(ek::opencl::Runtime& rt, const Case& c, DType type) {
  const size_t e = type == DType::kF32 ? 4 : 1;
  std::vector<uint8_t> host[3];
  for (int i = 0; i < 3; ++i) {
    host[i].resize(static_cast<size_t>(Span(c, c.pad[i])) * e);
    for (size_t k = 0; k < host[i].size() / e; ++k) {
      if (type == DType::kF32) {
        const float v = i == 2 ? 0.0f : Uniform() * 8.0f;
        std::memcpy(&host[i][k * 4], &v, 4);
      } else {
        host[i][k] = i == 2 ? 0xA5 : static_cast<uint8_t>(Next());
      }
    }
  }
  if (type == DType::kF32) std::memset(host[2].data(), 0xA5, host[2].size());
  DeviceCopy da(rt, host[0].data(), host[0].size(), 4 * e), db(rt, host[1].data(), host[1].size(), 0),
      dout(rt, host[2].data(), host[2].size(), 8 * e);
  TensorView a = TensorView::OpenCL(type, da.mem, 4 * e, {1});
  a.rank = c.rank;
  for (int d = 0; d < c.rank; ++d) a.shape[d] = c.shape[d];
  TensorView b = a, out = a;
  b.memory = TensorView::OpenCL(type, db.mem, 0, {1}).memory;
  out.memory = TensorView::OpenCL(type, dout.mem, 8 * e, {1}).memory;
  a = Strided(a, c, c.pad[0]);
  b = Strided(b, c, c.pad[1]);
  out = Strided(out, c, c.pad[2]);
  if (type != DType::kF32) {
    const int32_t z = type == DType::kU8 ? 128 : 0;
    a.quant = ek::QuantParams::PerTensor(0.05f, z - 3);
    b.quant = ek::QuantParams::PerTensor(0.11f, z + 7);
    out.quant = ek::QuantParams::PerTensor(0.09f, z - 1);
  }
  ek::ElementwiseOptions o;
  o.activation = c.act;
  o.clamp_min = -1.5f;
  o.clamp_max = 2.5f;
  const ek::Status st = ek::opencl::Add(rt, a, b, out, o);
  if (!st.ok()) std::printf("  %s\n", st.message());
  Check(st.ok(), "Add runs");
  const std::vector<uint8_t> got = dout.Read(8 * e, host[2].size());
  std::vector<uint8_t> want = host[2];
  TensorView ha = a, hb = b, ho = out;
  ha.memory = TensorView::Host(type, host[0].data(), {1}).memory;
  hb.memory = TensorView::Host(type, host[1].data(), {1}).memory;
  ho.memory = TensorView::Host(type, want.data(), {1}).memory;
  if (type == DType::kF32) {
    ek::ref::Add(ha, hb, ho, o);
    bool same = true;
    for (size_t k = 0; k < want.size() / 4; ++k) {
      float x, y;
      std::memcpy(&x, &got[k * 4], 4);
      std::memcpy(&y, &want[k * 4], 4);
      same = same && (x == y || std::memcmp(&got[k * 4], &want[k * 4], 4) == 0);  // gaps: the guard bytes
    }
    Check(same, "f32 add equals the reference, gaps untouched");
  } else {
    ek::ref::QAdd(ha, hb, ho, o);
    Check(got == want, type == DType::kI8 ? "i8 add bit-exact, gaps untouched" : "u8 add bit-exact, gaps untouched");
  }
}

void BadInputs(ek::opencl::Runtime& rt) {
  std::vector<float> host(64, 1.0f);
  DeviceCopy d0(rt, host.data(), 64, 0), d1(rt, host.data(), 64, 0), d2(rt, host.data(), 64, 0);
  const TensorView a = TensorView::OpenCL(DType::kF32, d0.mem, 0, {4, 4});
  const TensorView b = TensorView::OpenCL(DType::kF32, d1.mem, 0, {4, 4});
  const TensorView out = TensorView::OpenCL(DType::kF32, d2.mem, 0, {4, 4});
  Check(ek::opencl::Add(rt, a, b, out).ok(), "the valid call runs");
  CheckRejects(ek::opencl::Add(rt, TensorView::Host(DType::kF32, host.data(), {4, 4}), b, out), "a:");
  CheckRejects(ek::opencl::Add(rt, a, TensorView::OpenCL(DType::kF32, d1.mem, 0, {4, 3}), out), "b:");
  CheckRejects(ek::opencl::Add(rt, a, TensorView::OpenCL(DType::kI8, d1.mem, 0, {4, 4}), out), "b:");
  CheckRejects(ek::opencl::Add(rt, a, b, TensorView::OpenCL(DType::kF32, d2.mem, 0, {4, 5})), "output");
  CheckRejects(ek::opencl::Add(rt, a, b, a), "output");  // overlaps a
  CheckRejects(ek::opencl::Add(rt, TensorView::OpenCL(DType::kF32, d0.mem, 0, {2, 2, 2, 1, 2}),
                               TensorView::OpenCL(DType::kF32, d1.mem, 0, {2, 2, 2, 1, 2}),
                               TensorView::OpenCL(DType::kF32, d2.mem, 0, {2, 2, 2, 1, 2})),
               "a:");  // rank 5
  ek::ElementwiseOptions o;
  o.activation = Activation::kClamp;
  o.clamp_min = 2.0f;
  o.clamp_max = 1.0f;
  CheckRejects(ek::opencl::Add(rt, a, b, out, o), "options.clamp_min");
  TensorView qa = TensorView::OpenCL(DType::kI8, d0.mem, 0, {4, 4});
  TensorView qb = TensorView::OpenCL(DType::kI8, d1.mem, 0, {4, 4});
  TensorView qo = TensorView::OpenCL(DType::kI8, d2.mem, 0, {4, 4});
  qa.quant = qb.quant = ek::QuantParams::PerTensor(0.5f, 0);
  CheckRejects(ek::opencl::Add(rt, qa, qb, qo), "output");  // not quantized
  qo.quant = ek::QuantParams::PerTensor(1e-9f, 0);
  CheckRejects(ek::opencl::Add(rt, qa, qb, qo), "output");  // scale too small for TFLite's add
  ek::opencl::Runtime closed;
  CheckRejects(ek::opencl::Add(closed, a, b, out), "runtime");
}

}  // namespace

int main() {
  ek::opencl::Runtime rt;
  int skip = 0;
  if (!ek_cl_test::OpenOrSkip(rt, &skip)) return skip;
  std::printf("device: %s\n", rt.caps().name);
  const Case cases[] = {
      {1, {1000, 1, 1, 1}, {0, 0, 0}, Activation::kNone},
      {2, {7, 33, 1, 1}, {3, 0, 5}, Activation::kRelu},
      {3, {5, 1, 17, 1}, {0, 2, 1}, Activation::kRelu6},
      {4, {2, 7, 9, 24}, {8, 0, 3}, Activation::kClamp},  // an NHWC residual add on channel slices
      {4, {1, 1, 1, 1}, {0, 0, 0}, Activation::kNone},
  };
  for (const Case& c : cases) {
    for (DType type : {DType::kF32, DType::kI8, DType::kU8}) RunCase(rt, c, type);
  }
  BadInputs(rt);
  return ek_cl_test::Finish();
}

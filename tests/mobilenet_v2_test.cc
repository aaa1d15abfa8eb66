// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// MobileNetV2 end to end as a chain of ek ops (tests/mobilenet_v2_ek.h), on every compiled
// target this CPU supports, at small image sizes (every layer, add and pooling step of the
// network; 224 is the benchmark's): each step's output against the reference op applied to the
// step's own input (convolutions within ref::ConvErrorBound, adds and pooling exactly), so an
// error in the chain's glue (a wrong buffer, shape, stride or option) fails at the step that
// makes it; the logits bitwise identical for any thread count.
#include "mobilenet_v2_ek.h"  // first: it asks for the kernel families it uses

#include <cmath>
#include <cstdint>
#include <vector>

#include "ek/ref/conv.h"
#include "ek/ref/elementwise.h"
#include "ek/ref/pool.h"
#include "test_util.h"

namespace {

using ek_mobilenet::EkMobileNetV2;
using ek_mobilenet::NetStep;
using ek_mobilenet::StepKind;

void FillImage(EkMobileNetV2* net, uint64_t seed) {
  ek_test::Rng rng(seed);
  for (float& x : net->buffer(0)) x = rng.Uniform(-1.0f, 1.0f);
}

// Each step against its reference on the step's own (ek-computed) input.
void CheckSteps(EkMobileNetV2& net) {
  const ek_mobilenet::NetGraph& g = net.graph();
  for (size_t i = 0; i < g.steps.size(); ++i) {
    const NetStep& s = g.steps[i];
    const std::vector<float>& got = net.buffer(s.out);
    std::vector<float> want(got.size());
    ek::TensorView want_view = net.View(s.out);
    want_view.memory.host = want.data();
    int failures = 0;
    if (s.kind == StepKind::kConv) {
      const ek_mobilenet::ConvLayer& l = g.layers[s.layer];
      INFO("step " << i << ": " << l.name);
      const ek::TensorView in = net.View(s.in);
      const ek::TensorView out = net.View(s.out);
      const ek::ConvOptions o = net.Options(s.layer);
      const int64_t terms = l.kernel * l.kernel * (l.depthwise ? 1 : l.in_c);
      size_t e = 0;
      for (int64_t y = 0; y < out.shape[1]; ++y) {
        for (int64_t x = 0; x < out.shape[2]; ++x) {
          for (int64_t c = 0; c < out.shape[3]; ++c, ++e) {
            double value = 0.0, magnitude = 0.0;
            ek::ref::Conv2DElement(in, net.FilterView(s.layer), o, 0, y, x, c, &value, &magnitude);
            const double bound = ek::ref::ConvErrorBound(terms, magnitude);
            if (!(std::fabs(static_cast<double>(got[e]) - value) <= bound) && failures++ < 3) {
              FAIL_CHECK("pixel " << y << "," << x << " channel " << c << ": " << got[e] << ", want " << value);
            }
          }
        }
      }
    } else {
      INFO("step " << i << (s.kind == StepKind::kAdd ? ": add" : ": global average pool"));
      if (s.kind == StepKind::kAdd) {
        ek::ref::Add(net.View(s.in), net.View(s.in2), want_view, ek::ElementwiseOptions());
      } else {
        ek::ref::GlobalAvgPool2D(net.View(s.in), want_view);
      }
      for (size_t e = 0; e < got.size(); ++e) {
        if (!(got[e] == want[e]) && failures++ < 3) FAIL_CHECK("element " << e << ": " << got[e] << ", want " << want[e]);
      }
    }
    CHECK(failures == 0);
  }
}

TEST_CASE("MobileNetV2 as a chain of ek ops: every step against its reference, every target", "[net]") {
  for (const int64_t image : {32, 40}) {
    EkMobileNetV2 net(image, 5);
    INFO("image " << image);
    // 17 blocks: 10 with a residual add; one global pool; 53 convolutions with the classifier.
    size_t convs = 0, adds = 0, pools = 0;
    for (const NetStep& s : net.graph().steps) {
      convs += s.kind == StepKind::kConv;
      adds += s.kind == StepKind::kAdd;
      pools += s.kind == StepKind::kGlobalAvgPool;
    }
    CHECK(convs == 53);
    CHECK(adds == 10);
    CHECK(pools == 1);
    FillImage(&net, 100 + static_cast<uint64_t>(image));
    ek::ThreadPool pool(2);
    ek::Context two;
    two.threads = pool.Hook();
    ek_test::ForEachTarget([&](int64_t target) {
      INFO("target " << ek::TargetName(target));
      const ek::Status prepared = net.Prepare();  // the workspace depends on the selected target's tiles
      INFO(prepared.message());
      REQUIRE(prepared.ok());
      const ek::Status run = net.Run();
      INFO(run.message());
      REQUIRE(run.ok());
      CheckSteps(net);
      const std::vector<float> logits = net.buffer(net.graph().buffers.size() - 1);
      REQUIRE(logits.size() == 1000);
      double mean = 0.0, spread = 0.0;  // the network is not degenerate: logits differ
      for (float x : logits) mean += x / 1000.0;
      for (float x : logits) spread += (x - mean) * (x - mean);
      CHECK(std::isfinite(spread));
      CHECK(spread > 1e-3);
      REQUIRE(net.Run(two).ok());
      CHECK(ek_test::SameBits(logits.data(), net.buffer(net.graph().buffers.size() - 1).data(), 4000));
    });
  }
}

}  // namespace

// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// The convolution's per-TU dispatch tables and the call pipeline over them (validate and plan
// for the selected target, check the workspace, build the indirection buffer, run the tasks
// through the threading hook). In an anonymous namespace, as every HWY_EXPORT table of ek
// (ek/dispatch.h).
#ifndef EK_CPU_CONV_DISPATCH_H_
#define EK_CPU_CONV_DISPATCH_H_

#include <cstdint>
#include <cstring>

#include "ek/cpu/conv/plan.h"
#include "ek/cpu/conv/pool_plan.h"
#include "ek/cpu/targets.h"
#include "ek/dispatch.h"
#include "ek/gemm.h"
#include "ek/parallel.h"
#include "ek/qgemm.h"
#include "ek/requantize.h"

namespace ek {

namespace {  // per-TU dispatch tables, unqualified names (see ek/dispatch.h)
HWY_EXPORT(ConvTileShape);
HWY_EXPORT(RunConvTask);
HWY_EXPORT(RunPoolTask);
HWY_EXPORT(StorePixelsF16);

namespace conv_internal {

// The GEMM path's operands for group `group`: A = the group's input channels as [pixels x
// C_in / groups], B = the group's EKGB (f32) or EKQB (i8 / u8) block, C = the group's output
// channels, and the options (the group's bias slice, the activation). The quant parameters of
// A and C are the input's and the output's.
struct ConvGroupGemm {
  TensorView a, c;
  PackedWeights b;
  GemmOptions options;
  QGemmOptions qoptions;  // the same fields, for ek::QGemm
};
inline ConvGroupGemm GroupGemm(const TensorView& input, const PackedWeights& packed, const TensorView& output,
                               const ConvOptions& o, const detail::ConvTaskArgs& g, int64_t group) {
  const int64_t pixels = g.batch * g.out_h * g.out_w;
  ConvGroupGemm gemm;
  gemm.a = input;
  gemm.a.rank = 2;
  gemm.a.shape[0] = pixels;
  gemm.a.shape[1] = g.group_in;
  gemm.a.strides[0] = input.strides[2];
  gemm.a.strides[1] = 1;
  gemm.a.offset = input.offset + group * g.group_in;
  for (int i = 2; i < kMaxRank; ++i) gemm.a.shape[i] = gemm.a.strides[i] = 0;
  gemm.c = output;
  gemm.c.rank = 2;
  gemm.c.shape[0] = pixels;
  gemm.c.shape[1] = g.group_out;
  gemm.c.strides[0] = g.out_pixel_stride;
  gemm.c.strides[1] = 1;
  gemm.c.offset = output.offset + group * g.group_out;
  for (int i = 2; i < kMaxRank; ++i) gemm.c.shape[i] = gemm.c.strides[i] = 0;
  const int64_t block = g.group_stride * 4;
  gemm.b = PackedWeights{static_cast<const uint8_t*>(packed.data) + detail::kPackedHeaderBytes + group * block,
                         static_cast<size_t>(block)};
  if (o.bias.rank != 0) {
    gemm.options.bias = o.bias;
    gemm.options.bias.shape[0] = g.group_out;
    gemm.options.bias.offset = o.bias.offset + group * g.group_out;
  }
  gemm.options.activation = o.activation;
  gemm.options.clamp_min = o.clamp_min;
  gemm.options.clamp_max = o.clamp_max;
  static_cast<EpilogueOptions&>(gemm.qoptions) = static_cast<const EpilogueOptions&>(gemm.options);
  return gemm;
}

// The staged path's A for `rows` output pixels: the dense [rows x K] bytes at `staged`, with
// the input's type and quant parameters.
inline TensorView StagedA(const TensorView& input, const detail::ConvTaskArgs& g, void* staged, int64_t rows) {
  TensorView a;
  a.dtype = input.dtype;
  a.quant = input.quant;
  a.rank = 2;
  a.shape[0] = rows;
  a.shape[1] = g.kernel_h * g.kernel_w * g.group_in;
  a.strides[0] = a.shape[1];
  a.strides[1] = 1;
  a.memory.host = staged;
  return a;
}

// Copies n bytes with fixed-size moves (the compiler inlines them; a libc call per tap cost a
// third of MobileNet's first layer, whose taps are 3 bytes).
inline void CopyBytes(uint8_t* dst, const uint8_t* src, int64_t n) {
  for (; n >= 8; n -= 8, dst += 8, src += 8) std::memcpy(dst, src, 8);
  if (n & 4) {
    std::memcpy(dst, src, 4);
    dst += 4;
    src += 4;
  }
  if (n & 2) {
    std::memcpy(dst, src, 2);
    dst += 2;
    src += 2;
  }
  if (n & 1) *dst = *src;
}

// Stages the rows of A of output pixels [m0, m0 + rows) for group `group`: per pixel, per tap
// (row-major), the group's group_in input elements (staged_elem_bytes each), or the padding's
// value for a tap in the padding: the input zero point (TFLite skips those taps: (zero point -
// zero point) x w adds nothing), or 0.0f when dynamic (it quantizes to the row's zero point).
// A row of taps that lies inside the input and is contiguous there (dilation 1, pixels of
// group_in elements: groups = 1 on a dense image) is one copy.
inline void StageConvRows(const detail::ConvTaskArgs& g, const uint8_t* input, int64_t group, int64_t m0, int64_t rows,
                          uint8_t* staged) {
  const int64_t e = g.staged_elem_bytes, taps = g.kernel_h * g.kernel_w, row_bytes = taps * g.group_in * e;
  const int64_t pixel_bytes = g.group_in * e, stride_h = g.in_stride_h * e, stride_w = g.in_stride_w * e;
  const auto zero = static_cast<uint8_t>(g.dynamic ? 0 : g.in_zero_point);
  const bool contiguous_taps = g.dilation_w == 1 && g.in_stride_w == g.group_in;
  int64_t n = m0 / (g.out_h * g.out_w), y = m0 / g.out_w % g.out_h, x = m0 % g.out_w;
  for (int64_t r = 0; r < rows; ++r) {
    uint8_t* row = staged + r * row_bytes;
    const uint8_t* image = input + (n * g.in_stride_n + group * g.group_in) * e;
    const int64_t ix0 = x * g.stride_w - g.pad_left;
    const bool row_inside = ix0 >= 0 && ix0 + (g.kernel_w - 1) * g.dilation_w < g.in_w;
    for (int64_t ky = 0; ky < g.kernel_h; ++ky) {
      const int64_t iy = y * g.stride_h - g.pad_top + ky * g.dilation_h;
      const bool y_inside = iy >= 0 && iy < g.in_h;
      if (y_inside && row_inside && contiguous_taps) {
        CopyBytes(row, image + iy * stride_h + ix0 * stride_w, g.kernel_w * pixel_bytes);
        row += g.kernel_w * pixel_bytes;
        continue;
      }
      for (int64_t kx = 0; kx < g.kernel_w; ++kx, row += pixel_bytes) {
        const int64_t ix = ix0 + kx * g.dilation_w;
        if (y_inside && ix >= 0 && ix < g.in_w) {
          CopyBytes(row, image + iy * stride_h + ix * stride_w, pixel_bytes);
        } else {
          std::memset(row, zero, static_cast<size_t>(pixel_bytes));
        }
      }
    }
    if (++x == g.out_w) {
      x = 0;
      if (++y == g.out_h) {
        y = 0;
        ++n;
      }
    }
  }
}

// Names the multiplier of an output channel in errors.
constexpr const char* kMultiplierWhat = "input.quant.scale * filter scale / output.quant.scale";

// The int8 depthwise kernel's per-channel terms (ConvTaskArgs): col_term, multiplier, shift.
inline Status QDepthwiseTerms(const TensorView& input, const TensorView& output, const PackedWeights& packed,
                              const ConvOptions& o, const detail::ConvWeightsShape& w, int32_t* terms,
                              bool* any_left_shift) {
  const auto* payload = static_cast<const uint8_t*>(packed.data) + detail::kPackedHeaderBytes;
  const auto* sums = reinterpret_cast<const int32_t*>(payload + w.QDepthwiseSumsOffset());
  const auto* scales = reinterpret_cast<const float*>(payload + w.QDepthwiseScalesOffset());
  const int32_t* bias = o.bias.rank != 0 ? o.bias.HostData<const int32_t>() : nullptr;
  const int64_t channels = w.QDepthwiseChannels();
  int32_t* col_term = terms;
  int32_t* multiplier = terms + channels;
  int32_t* shift = terms + 2 * channels;
  *any_left_shift = false;
  for (int64_t c = 0; c < channels; ++c) {
    QuantizedMultiplier qm;
    int64_t term = 0;
    if (c < w.out_channels) {
      term = (bias ? int64_t{bias[c]} : 0) - int64_t{input.quant.zero_point} * sums[c];
      EK_RETURN_IF_ERROR(ChannelMultiplier(input.quant.scale, scales[c], output.quant.scale, &qm, kMultiplierWhat));
    }
    col_term[c] = static_cast<int32_t>(static_cast<uint32_t>(term));
    multiplier[c] = qm.multiplier;
    shift[c] = qm.shift;
    *any_left_shift = *any_left_shift || qm.shift > 0;
  }
  return Status::Ok();
}

inline Status PrepareConv(const TensorView& input, const PackedWeights& packed, const TensorView& output,
                          const ConvOptions& o, detail::ConvCall* call, bool check_aliasing = true) {
  EK_RETURN_IF_ERROR(EnsureDispatchReady());
  int64_t tile_rows = 0, tile_cols = 0;
  HWY_DYNAMIC_DISPATCH(ConvTileShape)(&tile_rows, &tile_cols);
  EK_RETURN_IF_ERROR(detail::PrepareConv(tile_rows, tile_cols, input, packed, output, o, call, check_aliasing));
  const detail::ConvTaskArgs& g = call->args;
  if (input.dtype == DType::kF16 && g.path != detail::ConvPath::kGemm) {
    // f16 storage off the GEMM path (which reads and writes f16 itself): the f32 convolution of
    // dense f32 copies in the workspace; sized here on stand-ins at the operands' addresses
    // (not read or written; their aliasing is not checked).
    const TensorView in32 = TensorView::Host(DType::kF32, input.memory.host, {g.batch, g.in_h, g.in_w, g.in_c});
    const TensorView out32 =
        TensorView::Host(DType::kF32, output.memory.host, {g.batch, g.out_h, g.out_w, g.out_c});
    detail::ConvCall inner;
    EK_RETURN_IF_ERROR(PrepareConv(in32, packed, out32, o, &inner, /*check_aliasing=*/false));
    detail::WorkspaceLayout layout;
    call->f16_staged = true;
    call->f16_input_offset = layout.Add(static_cast<size_t>(g.batch * g.in_h * g.in_w * g.in_c) * sizeof(float));
    call->f16_output_offset = layout.Add(static_cast<size_t>(g.batch * g.out_h * g.out_w * g.out_c) * sizeof(float));
    call->f16_inner_offset = layout.Add(inner.workspace_bytes);
    call->f16_inner_bytes = inner.workspace_bytes;
    call->workspace_bytes = layout.Bytes();
    return Status::Ok();
  }
  // The GEMM paths: every group's GEMM has the same shapes, but each group's block is sized
  // (so validated: header, checksum, K and N) and, quantized, its requantization multipliers
  // derived (ek::QGemm derives them per call) here, so that a corrupt block or an out-of-range
  // scale fails the call before any group has written its output.
  if (g.path != detail::ConvPath::kGemm && g.path != detail::ConvPath::kStagedQGemm) return Status::Ok();
  const bool staged = g.path == detail::ConvPath::kStagedQGemm;
  size_t gemm_bytes = 0;
  for (int64_t group = 0; group < g.groups; ++group) {
    ConvGroupGemm gemm = GroupGemm(input, packed, output, o, g, group);
    if (staged) {
      // A stand-in for the staged rows with their shape over one input byte (strides 0): the
      // workspace depends on the shapes only, and it overlaps nothing but the input.
      gemm.a = StagedA(input, g, input.memory.host, g.chunk_rows);
      gemm.a.offset = input.offset;
      gemm.a.strides[0] = gemm.a.strides[1] = 0;
      gemm.c.shape[0] = g.chunk_rows;
    }
    size_t bytes = 0;
    if (g.dtype == DType::kF32) {
      detail::GemmCall gemm_call;  // (stand-ins for the f16 staging: not checked for aliasing)
      EK_RETURN_IF_ERROR(
          gemm_internal::PrepareGemm(gemm.a, nullptr, &gemm.b, gemm.c, gemm.options, &gemm_call, check_aliasing));
      bytes = gemm_call.workspace_bytes;
    } else {
      EK_RETURN_IF_ERROR(QGemmWorkspaceSize(gemm.a, gemm.b, gemm.c, gemm.qoptions, &bytes));
      if (g.dynamic) {  // (f32 output: no requantization multipliers)
        gemm_bytes = bytes > gemm_bytes ? bytes : gemm_bytes;
        continue;
      }
      detail::PackedQGemmHeader h;
      detail::QPackedLayout l;
      EK_RETURN_IF_ERROR(detail::ReadQHeader(gemm.b.data, gemm.b.bytes, "packed", &h, &l));
      const auto* scales = reinterpret_cast<const float*>(static_cast<const uint8_t*>(gemm.b.data) + l.scales_offset);
      const int64_t count = h.scale_kind == static_cast<uint8_t>(detail::QScaleKind::kPerChannel) ? h.n : 1;
      for (int64_t j = 0; j < count; ++j) {
        QuantizedMultiplier qm;
        EK_RETURN_IF_ERROR(ChannelMultiplier(input.quant.scale, scales[j], output.quant.scale, &qm, kMultiplierWhat));
      }
    }
    gemm_bytes = bytes > gemm_bytes ? bytes : gemm_bytes;
  }
  if (staged) {  // the staged rows, then ek::QGemm's workspace
    call->qgemm_offset = call->workspace_bytes;
    call->workspace_bytes += gemm_bytes;
  } else {
    call->workspace_bytes = gemm_bytes;
  }
  return Status::Ok();
}

inline Status RunConv(const TensorView& input, const PackedWeights& packed, const TensorView& output,
                      const ConvOptions& o, const Context& ctx, void* workspace, size_t workspace_bytes);

// f16 storage off the GEMM path: the input's rows to f32 (exact), the f32 convolution, its output
// rounded to f16 into the output's pixels; each in parallel over image rows.
inline Status RunConvF16Staged(const TensorView& input, const PackedWeights& packed, const TensorView& output,
                               const ConvOptions& o, const Context& ctx, const detail::ConvCall& call,
                               void* workspace) {
  const detail::ConvTaskArgs& g = call.args;
  uint8_t* ws = detail::WorkspaceLayout::Base(workspace);
  auto* in32 = reinterpret_cast<float*>(ws + call.f16_input_offset);
  auto* out32 = reinterpret_cast<float*>(ws + call.f16_output_offset);
  const auto over_rows = [&](int64_t rows, const auto& row) {
    const TaskPlan plan = PlanTasks(static_cast<size_t>(rows), 16, 64);
    ParallelFor(ctx.threads, plan.num_tasks, [&](size_t task) {
      const auto end = static_cast<int64_t>(plan.End(task, static_cast<size_t>(rows)));
      for (auto r = static_cast<int64_t>(plan.Begin(task)); r < end; ++r) row(r / (rows / g.batch), r % (rows / g.batch));
    });
  };
  auto* stage = HWY_DYNAMIC_POINTER(StageGemmA);  // f16 rows to f32 (ek/cpu/gemm)
  over_rows(g.batch * g.in_h, [&](int64_t n, int64_t y) {
    stage(input.HostByteOf(input.offset + n * input.strides[0] + y * input.strides[1]), DType::kF16, g.in_w, g.in_c,
          input.strides[2], 1, in32 + (n * g.in_h + y) * g.in_w * g.in_c);
  });
  const TensorView in_view = TensorView::Host(DType::kF32, in32, {g.batch, g.in_h, g.in_w, g.in_c});
  const TensorView out_view = TensorView::Host(DType::kF32, out32, {g.batch, g.out_h, g.out_w, g.out_c});
  EK_RETURN_IF_ERROR(RunConv(in_view, packed, out_view, o, ctx, ws + call.f16_inner_offset, call.f16_inner_bytes));
  auto* store = HWY_DYNAMIC_POINTER(StorePixelsF16);
  auto* out = static_cast<hwy::float16_t*>(output.memory.host);
  over_rows(g.batch * g.out_h, [&](int64_t n, int64_t y) {
    store(out32 + (n * g.out_h + y) * g.out_w * g.out_c, g.out_w, g.out_c,
          out + output.offset + n * output.strides[0] + y * output.strides[1], g.out_pixel_stride);
  });
  return Status::Ok();
}

inline Status RunConv(const TensorView& input, const PackedWeights& packed, const TensorView& output,
                      const ConvOptions& o, const Context& ctx, void* workspace, size_t workspace_bytes) {
  using namespace detail;
  ConvCall call;
  EK_RETURN_IF_ERROR(PrepareConv(input, packed, output, o, &call));
  EK_RETURN_IF_ERROR(RequireWorkspace(workspace, workspace_bytes, call.workspace_bytes, "ConvWorkspaceSize"));
  EK_RETURN_IF_ERROR(CheckConvAliasing(input, packed, output, o, workspace, call.workspace_bytes));
  ConvTaskArgs& g = call.args;
  if (call.f16_staged) return RunConvF16Staged(input, packed, output, o, ctx, call, workspace);
  g.input = input.HostData<float>();
  g.in_stride_n = input.strides[0];
  g.in_stride_h = input.strides[1];
  g.in_stride_w = input.strides[2];
  g.output = output.HostData<float>();
  g.weights = reinterpret_cast<const float*>(static_cast<const uint8_t*>(packed.data) + kPackedHeaderBytes);
  g.bias = o.bias.rank != 0 && g.dtype == DType::kF32 ? o.bias.HostData<float>() : nullptr;
  if (g.path == ConvPath::kGemm) {
    for (int64_t group = 0; group < g.groups; ++group) {
      const ConvGroupGemm gemm = GroupGemm(input, packed, output, o, g, group);
      if (g.dtype == DType::kF32) {
        EK_RETURN_IF_ERROR(Gemm(gemm.a, gemm.b, gemm.c, gemm.options, ctx, workspace, call.workspace_bytes));
      } else {
        EK_RETURN_IF_ERROR(QGemm(gemm.a, gemm.b, gemm.c, gemm.qoptions, ctx, workspace, call.workspace_bytes));
      }
    }
    return Status::Ok();
  }
  uint8_t* ws = WorkspaceLayout::Base(workspace);
  if (g.path == ConvPath::kStagedQGemm) {
    // Per chunk of output pixels and group: stage A's rows (in parallel), then ek::QGemm on them
    // into the chunk's rows of the group's output channels.
    uint8_t* staged = ws + call.staged_offset;
    uint8_t* qgemm_ws = static_cast<uint8_t*>(workspace) + call.qgemm_offset;
    const size_t qgemm_bytes = call.workspace_bytes - call.qgemm_offset;
    const uint8_t* in_bytes = input.HostByteOf(input.offset);
    const int64_t pixels = g.batch * g.out_h * g.out_w, row_bytes = g.kernel_h * g.kernel_w * g.group_in * g.staged_elem_bytes;
    for (int64_t m0 = 0; m0 < pixels; m0 += g.chunk_rows) {
      const int64_t rows = HWY_MIN(g.chunk_rows, pixels - m0);
      for (int64_t group = 0; group < g.groups; ++group) {
        const TaskPlan stage = PlanTasks(static_cast<size_t>(rows), 256, 64);
        ParallelFor(ctx.threads, stage.num_tasks, [&](size_t task) {
          const auto begin = static_cast<int64_t>(stage.Begin(task));
          const auto end = static_cast<int64_t>(stage.End(task, static_cast<size_t>(rows)));
          StageConvRows(g, in_bytes, group, m0 + begin, end - begin, staged + begin * row_bytes);
        });
        ConvGroupGemm gemm = GroupGemm(input, packed, output, o, g, group);
        gemm.a = StagedA(input, g, staged, rows);
        gemm.c.shape[0] = rows;
        gemm.c.offset += m0 * g.out_pixel_stride;
        EK_RETURN_IF_ERROR(QGemm(gemm.a, gemm.b, gemm.c, gemm.qoptions, ctx, qgemm_ws, qgemm_bytes));
      }
    }
    return Status::Ok();
  }
  if (g.path == ConvPath::kDepthwise && g.dtype != DType::kF32) {  // the int8 depthwise kernel
    const ConvWeightsShape& w = call.weights;
    const size_t channels = static_cast<size_t>(w.QDepthwiseChannels());
    auto* zero = reinterpret_cast<int8_t*>(ws + call.zero_offset);
    std::memset(zero, static_cast<uint8_t>(g.in_zero_point), channels);
    auto* terms = reinterpret_cast<int32_t*>(ws + call.terms_offset);
    EK_RETURN_IF_ERROR(QDepthwiseTerms(input, output, packed, o, w, terms, &g.any_left_shift));
    g.zero_q = zero;
    g.col_term = terms;
    g.multiplier = terms + channels;
    g.shift = terms + 2 * channels;
    g.input_q = static_cast<const int8_t*>(input.memory.host) + input.offset;
    g.output_q = static_cast<int8_t*>(output.memory.host) + output.offset;
    g.weights_q = reinterpret_cast<const int16_t*>(static_cast<const uint8_t*>(packed.data) + kPackedHeaderBytes);
    auto* run = HWY_DYNAMIC_POINTER(RunConvTask);
    ParallelFor(ctx.threads, call.num_tasks, [&](size_t task) { run(g, task); });
    return Status::Ok();
  }
  if (g.path == ConvPath::kIndirect) {
    float* zero = reinterpret_cast<float*>(ws + call.zero_offset);
    std::memset(zero, 0, static_cast<size_t>(RoundUp(g.group_in, kPanelWidth)) * sizeof(float));
    g.zero = zero;
    const float** indirection = reinterpret_cast<const float**>(ws + call.indirection_offset);
    const TaskPlan fill = PlanTasks(static_cast<size_t>(g.row_tiles), 256, 64);
    ParallelFor(ctx.threads, fill.num_tasks, [&](size_t task) {
      FillIndirection(g, indirection, static_cast<int64_t>(fill.Begin(task)),
                      static_cast<int64_t>(fill.End(task, static_cast<size_t>(g.row_tiles))));
    });
    g.indirection = indirection;
  } else {
    float* zero = reinterpret_cast<float*>(ws + call.zero_offset);
    std::memset(zero, 0, static_cast<size_t>(RoundUp(g.in_c, kPanelWidth)) * sizeof(float));
    g.zero = zero;
  }
  auto* run = HWY_DYNAMIC_POINTER(RunConvTask);
  ParallelFor(ctx.threads, call.num_tasks, [&](size_t task) { run(g, task); });
  return Status::Ok();
}

// Pooling: the plan validates, then the tasks run through the threading hook.
inline void RunPoolTasks(const detail::PoolTaskArgs& g, size_t num_tasks, const Context& ctx) {
  auto* run = HWY_DYNAMIC_POINTER(RunPoolTask);
  ParallelFor(ctx.threads, num_tasks, [&](size_t task) { run(g, task); });
}
inline Status RunPool2D(const TensorView& input, const TensorView& output, const PoolOptions& o, bool average,
                        const Context& ctx) {
  EK_RETURN_IF_ERROR(EnsureDispatchReady());
  detail::PoolTaskArgs g;
  size_t num_tasks = 0;
  EK_RETURN_IF_ERROR(detail::PlanPool2D(input, output, o, average, &g, &num_tasks));
  RunPoolTasks(g, num_tasks, ctx);
  return Status::Ok();
}
inline Status RunGlobalAvgPool2D(const TensorView& input, const TensorView& output, const Context& ctx) {
  EK_RETURN_IF_ERROR(EnsureDispatchReady());
  detail::PoolTaskArgs g;
  size_t num_tasks = 0;
  EK_RETURN_IF_ERROR(detail::PlanGlobalAvgPool2D(input, output, &g, &num_tasks));
  RunPoolTasks(g, num_tasks, ctx);
  return Status::Ok();
}

}  // namespace conv_internal
}  // namespace

}  // namespace ek

#endif  // EK_CPU_CONV_DISPATCH_H_

// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// The float GEMM's validation and plan, target-independent (the "non-SIMD part", as gemma.cpp
// calls it): operand checks, the aliasing rule, the path, cache blocking from the
// detected caches and the selected target's tile, tasks, and the workspace sections. Never
// depends on the thread count. The per-target kernels: ek/cpu/gemm/gemm-inl.h.
#ifndef EK_CPU_GEMM_PLAN_H_
#define EK_CPU_GEMM_PLAN_H_

#include <cmath>
#include <cstdint>
#include <cstring>

#include "ek/cpu/gemm/args.h"
#include "ek/detail/int_math.h"
#include "ek/detail/packed_format.h"
#include "ek/detail/workspace.h"
#include "ek/dispatch.h"
#include "ek/gemm_options.h"
#include "ek/packed_weights.h"
#include "ek/status.h"
#include "ek/system_info.h"
#include "ek/tensor.h"
#include "ek/tensor_validate.h"

namespace ek {
namespace detail {

constexpr int64_t kSmallMMaxRows = 16;           // M at or below: the small-M path
constexpr int64_t kRowStreamMinColumns = 4096;   // GEMV on a row-major B: columns per task, at least
// A view of B packed on the fly: columns per chunk at most (a multiple of every tile width), and
// bytes of a task's slot at most (then the chunk narrows, down to one tile width).
constexpr int64_t kPackChunkColumns = 256;
constexpr int64_t kPackSlotMaxBytes = 256 * 1024;
constexpr int64_t kPackChunkMinColumns = 64;
// A view of B with at most kStreamBMaxRows rows of A (PlanGemm): K blocks of kStreamBKc rows,
// column blocks of at least kStreamBMinColumns.
constexpr int64_t kStreamBMaxRows = 64;
constexpr int64_t kStreamBKc = 256;
constexpr int64_t kStreamBMinColumns = 1024;
constexpr int64_t kMinSmallMFlopsPerTask = int64_t{1} << 21;
// 2 MFLOP (about 10 us of one core): MobileNetV2's layers (5 to 40 MFLOP) then split into
// tasks for two threads (2^24 left most of them one task: the network ran no faster on two
// threads); one thread, 12544 x 96 x 16 was no slower (413 -> 386 us, this machine).
constexpr int64_t kMinBlockedFlopsPerTask = int64_t{1} << 21;
constexpr int64_t kMaxSmallMTasks = 64;
constexpr int64_t kMaxBlockedTasks = 32;
// A K this short (one K block) does few FMAs per byte of C, so the row block's C counts in the
// L2 budget too (PlanGemm).
constexpr int64_t kShortK = 256;


// Tasks for `flops` of work: one per min_flops_per_task, at least 1, at most max_tasks.
inline int64_t TaskCount(int64_t flops, int64_t min_flops_per_task, int64_t max_tasks) {
  const int64_t tasks = flops / min_flops_per_task;
  return tasks < 1 ? 1 : tasks > max_tasks ? max_tasks : tasks;
}

// B's logical [K x N] shape from a view given as [K x N] or, transposed, [N x K].
inline Status ValidateWeights(const TensorView& b, const char* name, bool transpose_b, int64_t* k, int64_t* n) {
  EK_RETURN_IF_ERROR(ValidateView(b, name));
  EK_RETURN_IF_ERROR(RequireHostMemory(b, name));
  if (b.rank != 2) return Status::Error(StatusCode::kInvalidArgument, "%s: rank %d, expected 2", name, b.rank);
  if (!IsWeightType(b.dtype)) {
    return Status::Error(StatusCode::kInvalidArgument, "%s: dtype is %s, expected f32, f16 or bf16", name,
                         DTypeName(b.dtype));
  }
  *k = transpose_b ? b.shape[1] : b.shape[0];
  *n = transpose_b ? b.shape[0] : b.shape[1];
  return Status::Ok();
}


// Everything Gemm derives from its operands before running: shapes, the work plan and the
// workspace it needs.
struct GemmCall {
  GemmTaskArgs args;
  size_t num_tasks = 0;
  bool stage_a = false;    // A is f16 or has a column stride != 1: converted into the workspace
  bool pack_b = false;     // B is packed into the workspace first (the fp16 lane only)
  size_t pack_slot_bytes = 0;  // per task: a view of B packed on the fly (gemm-inl.h, PackBChunk)
  // Workspace sections (offsets from its aligned base, WorkspaceLayout).
  size_t packed_b_offset = 0, staged_a_offset = 0, pack_slots_offset = 0;
  size_t workspace_bytes = 0;  // what the caller provides, at any address
};

// The aliasing rule (tensor_validate.h, AliasCheck) for Gemm's operands: C and the workspace are
// the outputs; A, B (a view or packed bytes) and the bias the inputs.
inline Status CheckGemmAliasing(const TensorView& a, const TensorView* b, const PackedWeights* packed,
                                const TensorView& c, const GemmOptions& o, const void* workspace, size_t workspace_bytes) {
  AliasCheck alias;
  alias.AddView(a, "a", AliasCheck::Role::kInput);
  if (b) alias.AddView(*b, "b", AliasCheck::Role::kInput);
  if (packed) alias.AddBytes(packed->data, packed->bytes, "packed_b", "", AliasCheck::Role::kInput);
  if (o.bias.rank != 0) alias.AddView(o.bias, "options.bias", AliasCheck::Role::kInput);
  alias.AddView(c, "c", AliasCheck::Role::kOutput);
  alias.AddBytes(workspace, workspace_bytes, "workspace", "", AliasCheck::Role::kOutput);
  return alias.Check();
}

// Checks A, C, bias and the options against the logical shape (k x n) of B.
inline Status ValidateGemm(const TensorView& a, int64_t k, int64_t n, const TensorView& c,
                           const GemmOptions& o) {
  EK_RETURN_IF_ERROR(EnsureDispatchReady());
  EK_RETURN_IF_ERROR(ValidateView(a, "a"));
  EK_RETURN_IF_ERROR(RequireHostMemory(a, "a"));
  if (a.rank != 2) return Status::Error(StatusCode::kInvalidArgument, "a: rank %d, expected 2", a.rank);
  if (a.dtype != DType::kF32 && a.dtype != DType::kF16) {
    return Status::Error(StatusCode::kInvalidArgument, "a: dtype is %s, expected f32 or f16", DTypeName(a.dtype));
  }
  EK_RETURN_IF_ERROR(ValidateOutputView(c, "c"));
  EK_RETURN_IF_ERROR(RequireHostMemory(c, "c"));
  if (c.rank != 2) return Status::Error(StatusCode::kInvalidArgument, "c: rank %d, expected 2", c.rank);
  if (c.dtype != DType::kF32 && c.dtype != DType::kF16) {
    return Status::Error(StatusCode::kInvalidArgument, "c: dtype is %s, expected f32 or f16", DTypeName(c.dtype));
  }
  if (c.strides[1] != 1 && c.shape[1] > 1) return InvalidArg("c", "column stride must be 1");
  if (a.shape[1] != k) {
    return Status::Error(StatusCode::kInvalidArgument, "a: has %lld columns, B has K = %lld rows",
                         static_cast<long long>(a.shape[1]), static_cast<long long>(k));
  }
  if (c.shape[0] != a.shape[0] || c.shape[1] != n) {
    return Status::Error(StatusCode::kInvalidArgument, "c: shape [%lld, %lld], expected [M, N] = [%lld, %lld]",
                         static_cast<long long>(c.shape[0]), static_cast<long long>(c.shape[1]),
                         static_cast<long long>(a.shape[0]), static_cast<long long>(n));
  }
  if (o.bias.rank != 0) {
    EK_RETURN_IF_ERROR(ValidateView(o.bias, "options.bias"));
    EK_RETURN_IF_ERROR(RequireHostMemory(o.bias, "options.bias"));
    EK_RETURN_IF_ERROR(RequireDType(o.bias, "options.bias", DType::kF32));
    if (o.bias.rank != 1 || o.bias.shape[0] != n || (o.bias.strides[0] != 1 && n > 1)) {
      return InvalidArg("options.bias", "must be a contiguous f32 vector of N elements");
    }
  }
  float act_lo = 0.0f, act_hi = 0.0f;  // the range is filled in by PrepareGemm
  EK_RETURN_IF_ERROR(ActivationBounds(o, &act_lo, &act_hi));
  if (o.blocking.kc < 0 || o.blocking.mc < 0 || o.blocking.nc < 0) {
    return InvalidArg("options.blocking", "kc, mc and nc must be >= 0 (0: automatic)");
  }
  return Status::Ok();
}


// The plan: the path (GemmPath), block sizes, tasks and, for a view of B, the chunks each task
// packs. Depends on the problem, the options, the caches of the core planning the call and the
// selected target's tile; never on the thread count. None of these changes a result's bits.
inline void PlanGemm(const TileShape& tile, GemmCall* call, const GemmOptions& o, const TensorView* b) {
  GemmTaskArgs& g = call->args;
  const bool b_view = b != nullptr;
  const int64_t flops = 2 * g.m * g.n * g.k;
  const int64_t lanes = static_cast<int64_t>(tile.lanes);
  const int64_t core_l2 = RunningCoreDataCacheBytes(2);  // the planning core's: big and little differ
  const int64_t l2 = core_l2 > 0 ? core_l2 : 512 * 1024;
  const int64_t tile_rows = static_cast<int64_t>(tile.rows);
  const int64_t tile_cols = static_cast<int64_t>(tile.vectors) * lanes;
  const int64_t weight_bytes = DTypeBits(g.b_type) / 8;
  const bool small_m = g.m <= kSmallMMaxRows;
  bool view_tasks_by_column = false;
  // A view of B with few rows of A: reading B (rows of B a page or more apart) costs as much as
  // the FMAs, so K blocks are short and tasks wide: each chunk a task packs is kc rows x 1 KiB
  // runs, and the next chunk's runs are the continuation of the same rows.
  const bool stream_b = b_view && g.m <= kStreamBMaxRows;
  if (g.c_type != DType::kF32 || (small_m && g.m <= 2 && !b_view && o.blocking.kc == 0)) {
    g.kc = g.k;  // partial sums are kept in C, which needs f32 (gemm-inl.h); GEMV reads B once
  } else if (o.blocking.kc > 0) {
    g.kc = o.blocking.kc;
  } else if (stream_b) {
    g.kc = kStreamBKc;
  } else {
    // A K block of B (kc x tile width) in an eighth of L2: long enough that the per-tile
    // prologue / epilogue is noise (measured: kc 192 -> 1024 took 1024^3 from 125 to 150 GFLOP/s
    // on AVX-512), short enough that the row block's A (mc x kc) still fits L2.
    const int64_t kc = l2 / 8 / (tile_cols * weight_bytes) / 8 * 8;
    g.kc = kc < 128 ? 128 : kc > 1024 ? 1024 : kc;
  }
  if (g.kc > g.k) g.kc = g.k;
  if (small_m) {
    const size_t wide_vectors = g.m == 1 ? tile.gemv_vectors : g.m == 2 ? tile.wide_vectors : tile.vectors;
    const int64_t small_m_cols = static_cast<int64_t>(wide_vectors) * lanes;
    g.nc = RoundUp(CeilDiv(g.n, TaskCount(flops, kMinSmallMFlopsPerTask, kMaxSmallMTasks)), small_m_cols);
    if (stream_b && g.nc < kStreamBMinColumns) g.nc = RoundUp(kStreamBMinColumns, small_m_cols);
    g.mc = g.m;
  } else {
    // Tasks: enough for dynamic balancing on uneven cores, each worth at least
    // kMinBlockedFlopsPerTask. Every row block streams all of B once and every column block all
    // of A, so the split minimizes row_blocks * |B| + column_blocks * |A|: row blocks
    // = sqrt(tasks * |A| / |B|) (square problems: sqrt(tasks); a small M against large weights,
    // e.g. 64 x 4096 x 4096: one row block, B read from memory once). A view of B: tasks are
    // column blocks over all rows, so that each part of B is packed once.
    const int64_t tasks = TaskCount(flops, kMinBlockedFlopsPerTask, kMaxBlockedTasks);
    const double a_bytes = static_cast<double>(g.m) * static_cast<double>(g.k) * 4.0;
    const double b_bytes = static_cast<double>(g.k) * static_cast<double>(g.n) * static_cast<double>(weight_bytes);
    // Tasks over a view of B larger than a slot are column blocks over all rows (each part of B
    // packed once); a smaller B is packed by every task of its columns, as cheap as reading it.
    view_tasks_by_column = b_view && b_bytes > static_cast<double>(kPackSlotMaxBytes);
    int64_t row_blocks =
        view_tasks_by_column ? 1 : static_cast<int64_t>(std::lround(std::sqrt(static_cast<double>(tasks) * a_bytes / b_bytes)));
    const int64_t max_row_blocks = CeilDiv(g.m, tile_rows);
    row_blocks = row_blocks < 1 ? 1 : row_blocks > tasks ? tasks : row_blocks;
    if (row_blocks > max_row_blocks) row_blocks = max_row_blocks;
    const int64_t task_rows = CeilDiv(g.m, row_blocks);
    // The row block's A (mc x kc) in at most half of L2: more row blocks where it would not fit,
    // as even as the tile height allows.
    // With a short K the row block's C rows (all N columns, written one column tile after
    // another) count too: a row of C that spans several column tiles shares cache lines and
    // adjacent-line prefetches between them, which must still be in L2 when the next column
    // tile writes (MobileNetV2's 12544 x 96 x 16 expansion: mc 6272 -> 1568, 574 -> 400 us,
    // one thread, Sapphire Rapids with 2 MiB of L2).
    const int64_t row_bytes = (g.kc + (g.k <= kShortK ? g.n : 0)) * 4;
    const int64_t l2_rows = l2 / 2 / row_bytes;
    int64_t l2_blocks = 1;
    if (l2_rows >= tile_rows && task_rows > l2_rows) l2_blocks = CeilDiv(task_rows, l2_rows);
    g.mc = o.blocking.mc > 0 ? o.blocking.mc : RoundUp(CeilDiv(task_rows, l2_blocks), tile_rows);
    if (!view_tasks_by_column) row_blocks = CeilDiv(g.m, g.mc);
    g.nc = RoundUp(CeilDiv(g.n, CeilDiv(tasks, row_blocks)), tile_cols);
    if (view_tasks_by_column && g.nc < (stream_b ? kStreamBMinColumns : kPackChunkMinColumns)) {
      g.nc = RoundUp(stream_b ? kStreamBMinColumns : kPackChunkMinColumns, tile_cols);
    }
  }
  // A user's nc is rounded up to whole panels: a column block must start on a panel of packed B
  // (issue 16: nc = 3 read the wrong columns on AVX-512).
  if (o.blocking.nc > 0) g.nc = RoundUp(o.blocking.nc, kPanelWidth);
  // GEMV on a row-major view of B, f32 C: its rows streamed (gemm-inl.h, RunRowStreamTask),
  // one K block, column blocks of at least kRowStreamMinColumns (runs of 16 KiB of each f32 row;
  // measured on Zen2, best of medians: 1x11008x4096 at 2048 / 4096 / 16384 columns 7.4 / 7.9 /
  // 9.0 GFLOP/s, 1x4096x4096 7.9 / 9.0 / -: longer runs read DRAM faster, fewer tasks share less
  // among threads). With options.blocking.nc set, the tiles run on B packed on the fly instead.
  const bool gemv_on_view = b_view && small_m && g.m <= 2 && o.blocking.nc == 0;
  const bool b_row_major = !o.transpose_b && (b_view && (b->strides[1] == 1 || g.n == 1));
  const bool row_stream = gemv_on_view && b_row_major && g.c_type == DType::kF32;
  if (row_stream) {
    g.kc = g.k;
    if (g.nc < kRowStreamMinColumns) g.nc = kRowStreamMinColumns;
  }
  // GEMV on a transposed view of B with unit stride along k ([N x K], a Linear layer's weight):
  // its columns (the view's rows) streamed 8 at a time over all of K (gemm-inl.h,
  // RunColumnStreamTask); any C type (no partial sums in C). With options.blocking.nc set, the
  // tiles run on B packed on the fly instead.
  const bool b_columns_contiguous = o.transpose_b && (b_view && (b->strides[1] == 1 || g.k == 1));
  const bool column_stream = gemv_on_view && b_columns_contiguous && !row_stream;
  if (column_stream) g.kc = g.k;
  g.path = row_stream      ? GemmPath::kRowStream
           : column_stream ? GemmPath::kColumnStream
           : small_m       ? GemmPath::kSmallM
                           : GemmPath::kBlocked;
  g.column_blocks = CeilDiv(g.n, g.nc);
  g.row_block_rows = small_m || view_tasks_by_column ? g.m : g.mc;
  call->num_tasks = static_cast<size_t>(CeilDiv(g.m, g.row_block_rows) * g.column_blocks);
  if (b_view && !row_stream && !column_stream) {
    // The chunk a task packs at a time: at most kPackChunkColumns columns and kPackSlotMaxBytes
    // (in L2 with the row block's A), a multiple of every tile width.
    int64_t columns = g.nc < kPackChunkColumns ? RoundUp(g.nc, kPanelWidth) : kPackChunkColumns;
    const int64_t fit = kPackSlotMaxBytes / (g.kc * weight_bytes) / kPackChunkMinColumns * kPackChunkMinColumns;
    if (columns > fit) columns = fit < kPackChunkMinColumns ? kPackChunkMinColumns : fit;
    if (columns > RoundUp(g.nc, kPanelWidth)) columns = RoundUp(g.nc, kPanelWidth);
    g.pack_columns = columns;
    // With few rows of A the FMAs over a chunk last about as long as reading the next chunk from
    // memory: the tiles prefetch it (more rows: the lines would be evicted before use).
    g.prefetch_next_chunk = stream_b;
    call->pack_slot_bytes = AlignBytes(static_cast<size_t>(g.kc * columns * weight_bytes));
  }
}

// Fills `call` for B given as a view (packed == nullptr) or packed, for the selected target's
// tile and whether its fp16 lane runs on this CPU. check_aliasing false: sizing stand-in views
// whose addresses are not the ones the call will run on (a convolution's f16 staging).
inline Status PrepareGemm(const TileShape& tile, bool f16_lane_available, const TensorView& a, const TensorView* b,
                          const PackedWeights* packed, const TensorView& c, const GemmOptions& o, GemmCall* call,
                          bool check_aliasing = true) {
  int64_t k = 0, n = 0;
  DType b_type = DType::kF32;
  if (packed) {
    if (o.transpose_b) {
      return InvalidArg("options.transpose_b", "does not apply to packed weights (set it when packing)");
    }
    PackedGemmHeader header;
    EK_RETURN_IF_ERROR(ReadGemmHeader(packed->data, packed->bytes, "packed_b", &header));
    k = header.k;
    n = header.n;
    b_type = static_cast<DType>(header.dtype);
  } else {
    EK_RETURN_IF_ERROR(ValidateWeights(*b, "b", o.transpose_b, &k, &n));
    b_type = b->dtype;
  }
  EK_RETURN_IF_ERROR(ValidateGemm(a, k, n, c, o));
  if (check_aliasing) EK_RETURN_IF_ERROR(CheckGemmAliasing(a, b, packed, c, o, nullptr, 0));

  GemmTaskArgs& g = call->args;
  g.m = a.shape[0];
  g.n = n;
  g.k = k;
  g.b_type = b_type;
  g.c_type = c.dtype;
  g.ldc = c.strides[0];
  g.accumulate = o.accumulate;
  g.clamp = o.activation != Activation::kNone;
  // Validated by ValidateGemm above: only fills in the range here.
  EK_RETURN_IF_ERROR(ActivationBounds(o, &g.clamp_min, &g.clamp_max));
  const bool f16_arithmetic = o.allow_f16_arithmetic && a.dtype == DType::kF16 && b_type == DType::kF16 &&
                     c.dtype == DType::kF16 && (a.strides[1] == 1 || k == 1) && f16_lane_available;
  PlanGemm(tile, call, o, b);
  if (f16_arithmetic) {
    g.path = GemmPath::kF16Arithmetic;
    // Reads A as it is and B packed; tasks are column blocks (multiples of a panel), all rows.
    const int64_t tasks = TaskCount(2 * g.m * g.n * g.k, kMinSmallMFlopsPerTask, kMaxSmallMTasks);
    g.nc = RoundUp(CeilDiv(g.n, tasks), 4 * kPanelWidth);
    g.column_blocks = CeilDiv(g.n, g.nc);
    call->num_tasks = static_cast<size_t>(g.column_blocks);
    call->stage_a = false;
    call->pack_slot_bytes = 0;
    call->pack_b = !packed;
    WorkspaceLayout layout;
    call->packed_b_offset =
        layout.Add(call->pack_b ? sizeof(PackedGemmHeader) + static_cast<size_t>(PackedPayloadBytes(k, n, b_type)) : 0);
    call->workspace_bytes = layout.Bytes();
    return Status::Ok();
  }
  call->stage_a = a.dtype != DType::kF32 || (a.strides[1] != 1 && k > 1);
  WorkspaceLayout layout;
  call->staged_a_offset = layout.Add(call->stage_a ? static_cast<size_t>(g.m * k) * 4 : 0);
  call->pack_slots_offset = layout.Add(call->num_tasks * call->pack_slot_bytes);
  call->workspace_bytes = layout.Bytes();
  return Status::Ok();
}

}  // namespace detail
}  // namespace ek

#endif  // EK_CPU_GEMM_PLAN_H_

// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Floating-point GEMM and GEMV:  C = act(C_old (if accumulating) + A * B + bias)
//
//   A [M x K]  f32 or f16 (f16: storage; converted to f32 into the workspace)
//   B [K x N]  f32, f16 or bf16 weights; or [N x K] with options.transpose_b; or pre-packed
//   C [M x N]  f32 or f16 (storage); unit column stride
//   bias [N]   f32, optional;  act: none, ReLU, ReLU6 or clamp(min, max)
//
// Accumulation is always f32 (one FMA chain per output, k increasing). Results are bitwise
// identical for any thread count, any blocking, packed or unpacked B, decode or blocked path;
// they differ between targets only within the bound in docs/gemm.md (ref::GemmErrorBound).
//
//   ek::PackGemmWeights(b, transpose_b, buffer, bytes)   once, after PackedGemmWeightsSize
//   ek::Gemm(a, b, c, options, ctx, workspace, bytes)    after GemmWorkspaceSize
//   ek::Gemm(a, packed, c, options, ctx, workspace, bytes)
//   ek::Gemm(a, b_or_packed, c, options, ctx)            convenience: allocates its workspace
//
// M <= 16 runs the decode tasks (column blocks, all rows), larger M the cache-blocked GEMM; both
// read pre-packed B, or a view of B that each task packs on the fly, a K block x column chunk at
// a time, into its own small slot of the workspace (GEMV on a row-major B streams its rows
// instead). Pre-pack weights that are used more than once. Packed layout: docs/gemm.md, version 2.
#ifndef EK_GEMM_H_
#define EK_GEMM_H_

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "ek/convert.h"
#include "ek/cpu_features.h"
#include "ek/detail/gemm_types.h"
#include "ek/detail/int_math.h"
#include "ek/detail/workspace.h"
#include "ek/dispatch.h"
#include "ek/gemm_options.h"
#include "ek/packed_weights.h"
#include "ek/parallel.h"
#include "ek/status.h"
#include "ek/system_info.h"
#include "ek/tensor.h"
#include "ek/tensor_validate.h"

#include "ek/detail/compile_targets.h"  // all per-target code of ek, once per target
#ifdef EK_ONLY_DISPATCH
#error "ek/gemm.h needs the kernels: EK_ONLY_DISPATCH is defined in this translation unit"
#endif

namespace ek {

namespace detail {

constexpr int64_t kDecodeMaxRows = 16;           // M at or below: decode kernels
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
constexpr int64_t kMinDecodeFlopsPerTask = int64_t{1} << 21;
constexpr int64_t kMinBlockedFlopsPerTask = int64_t{1} << 24;
constexpr int64_t kMaxDecodeTasks = 64;
constexpr int64_t kMaxBlockedTasks = 32;


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

// Copies panels [panel_begin, panel_end) of B (any strides, either orientation) into the packed
// payload. Bits are copied, not values: packing is exact for every type.
template <typename Bits>
void PackPanels(const TensorView& b, bool transpose_b, int64_t k, int64_t n, uint8_t* payload, int64_t panel_begin,
                int64_t panel_end) {
  const Bits* src = static_cast<const Bits*>(b.memory.host) + b.offset;
  const int64_t k_stride = transpose_b ? b.strides[1] : b.strides[0];
  const int64_t n_stride = transpose_b ? b.strides[0] : b.strides[1];
  const int64_t panel_stride = PanelStrideBytes(k, b.dtype);
  const int64_t row_bytes = kPanelWidth * static_cast<int64_t>(sizeof(Bits));
  const int64_t written = k * row_bytes;  // then zeros to the panel stride
  int64_t p = panel_begin;
  if (n_stride == 1) {
    // Row-major B, panels of 16 valid columns: groups of kPackRows rows of B (read in order;
    // the group stays in L2), each panel's part of the group written as one contiguous run
    // (kPackRows x 64 bytes) before the next panel's: row by row, every row of B wrote 64 bytes
    // to each of N / 16 panels a panel stride apart (64 x 4096 x 4096 unpacked: see docs/gemm.md).
    constexpr int64_t kPackRows = 32;
    const int64_t full_end = panel_end < n / kPanelWidth ? panel_end : n / kPanelWidth;
    for (int64_t k0 = 0; k0 < k; k0 += kPackRows) {
      const int64_t k1 = k - k0 < kPackRows ? k : k0 + kPackRows;
      for (int64_t q = p; q < full_end; ++q) {
        uint8_t* dst = payload + q * panel_stride;
        for (int64_t kk = k0; kk < k1; ++kk) {
          std::memcpy(dst + kk * row_bytes, src + kk * k_stride + q * kPanelWidth, static_cast<size_t>(row_bytes));
        }
      }
    }
    for (int64_t q = p; q < full_end; ++q) {
      std::memset(payload + q * panel_stride + written, 0, static_cast<size_t>(panel_stride - written));
    }
    if (full_end > p) p = full_end;
  }
  for (; p < panel_end; ++p) {
    uint8_t* dst = payload + p * panel_stride;
    const int64_t col0 = p * kPanelWidth;
    const int64_t cols = n - col0 < kPanelWidth ? n - col0 : kPanelWidth;
    Bits* rows = reinterpret_cast<Bits*>(dst);  // 4-byte aligned (kPackedAlign): fits every Bits
    if (k_stride == 1 && k > 1) {
      // Transposed B ([N x K], rows contiguous along K): each column read in order.
      if (cols < kPanelWidth) std::memset(dst, 0, static_cast<size_t>(written));
      for (int64_t j = 0; j < cols; ++j) {
        const Bits* column = src + (col0 + j) * n_stride;
        for (int64_t kk = 0; kk < k; ++kk) rows[kk * kPanelWidth + j] = column[kk];
      }
    } else {  // any strides; also the last, partial panel of a row-major B
      for (int64_t kk = 0; kk < k; ++kk) {
        Bits row[kPanelWidth] = {};
        const Bits* s = src + kk * k_stride + col0 * n_stride;
        for (int64_t j = 0; j < cols; ++j) row[j] = s[j * n_stride];
        std::memcpy(rows + kk * kPanelWidth, row, sizeof(row));
      }
    }
    std::memset(dst + written, 0, static_cast<size_t>(panel_stride - written));
  }
}

// Packs B into `out` (header + payload, PackedPayloadBytes + 64 bytes), panels in parallel.
inline void PackWeightsUnchecked(const TensorView& b, bool transpose_b, int64_t k, int64_t n, void* out,
                                 const Context& ctx) {
  WriteGemmHeader(b.dtype, k, n, out);
  uint8_t* payload = static_cast<uint8_t*>(out) + sizeof(PackedGemmHeader);
  const int64_t panels = CeilDiv(n, kPanelWidth);
  const TaskPlan plan = PlanTasks(static_cast<size_t>(panels), static_cast<size_t>(CeilDiv(64 * 1024, k)), 64);
  ParallelFor(ctx.threads, plan.num_tasks, [&](size_t task) {
    const int64_t begin = static_cast<int64_t>(plan.Begin(task));
    const int64_t end = static_cast<int64_t>(plan.End(task, static_cast<size_t>(panels)));
    if (b.dtype == DType::kF32) {
      PackPanels<uint32_t>(b, transpose_b, k, n, payload, begin, end);
    } else {
      PackPanels<uint16_t>(b, transpose_b, k, n, payload, begin, end);
    }
  });
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
  EK_RETURN_IF_ERROR(ActivationBounds(o.activation, o.clamp_min, o.clamp_max, &act_lo, &act_hi));
  if (o.blocking.kc < 0 || o.blocking.mc < 0 || o.blocking.nc < 0) {
    return InvalidArg("options.blocking", "kc, mc and nc must be >= 0 (0: automatic)");
  }
  return Status::Ok();
}

}  // namespace detail

namespace {  // per-TU dispatch tables, unqualified names (see ek/dispatch.h)
HWY_EXPORT(GemmTileShape);
HWY_EXPORT(RunGemmTask);
HWY_EXPORT(GemmHasF16Arithmetic);

// True if the fp16 lane runs on this CPU with the selected target: the fp16 lane is detected and
// enabled (EK_DISABLE_LANES) and the target has f16 vector arithmetic (SVE, SVE2, NEON_BF16).
inline bool GemmF16ArithmeticAvailable() {
  (void)SelectedTarget();
  return LaneEnabled(Lane::kFp16) && HWY_DYNAMIC_DISPATCH(GemmHasF16Arithmetic)();
}

namespace gemm_internal {

// The plan: decode or blocked, block sizes, tasks and, for a view of B, the chunks each task
// packs. Depends on the problem, the options, the caches and the selected target's tile; never
// on the thread count.
inline void PlanGemm(detail::GemmCall* call, const GemmOptions& o, const TensorView* b) {
  using namespace detail;
  GemmTaskArgs& g = call->args;
  const bool b_view = b != nullptr;
  TileShape tile;
  HWY_DYNAMIC_DISPATCH(GemmTileShape)(&tile);
  const int64_t flops = 2 * g.m * g.n * g.k;
  const int64_t lanes = static_cast<int64_t>(tile.lanes);
  const SystemInfo& sys = GetSystemInfo();
  const int64_t l2 = sys.DataCacheBytes(2) > 0 ? sys.DataCacheBytes(2) : 512 * 1024;
  const int64_t tile_rows = static_cast<int64_t>(tile.rows);
  const int64_t tile_cols = static_cast<int64_t>(tile.vectors) * lanes;
  const int64_t weight_bytes = DTypeBits(g.b_type) / 8;
  g.decode = g.m <= kDecodeMaxRows;
  bool view_tasks_by_column = false;
  // A view of B with few rows of A: reading B (rows of B a page or more apart) costs as much as
  // the FMAs, so K blocks are short and tasks wide: each chunk a task packs is kc rows x 1 KiB
  // runs, and the next chunk's runs are the continuation of the same rows.
  const bool stream_b = b_view && g.m <= kStreamBMaxRows;
  if (g.c_type != DType::kF32 || (g.decode && g.m <= 2 && !b_view && o.blocking.kc == 0)) {
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
  if (g.decode) {
    const size_t decode_vectors = g.m == 1 ? tile.gemv_vectors : g.m == 2 ? tile.decode_vectors : tile.vectors;
    const int64_t decode_cols = static_cast<int64_t>(decode_vectors) * lanes;
    g.nc = RoundUp(CeilDiv(g.n, TaskCount(flops, kMinDecodeFlopsPerTask, kMaxDecodeTasks)), decode_cols);
    if (stream_b && g.nc < kStreamBMinColumns) g.nc = RoundUp(kStreamBMinColumns, decode_cols);
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
    const int64_t l2_rows = l2 / 2 / (g.kc * 4);
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
  const bool gemv_on_view = b_view && g.decode && g.m <= 2 && o.blocking.nc == 0;
  const bool b_row_major = !o.transpose_b && (b_view && (b->strides[1] == 1 || g.n == 1));
  g.row_stream = gemv_on_view && b_row_major && g.c_type == DType::kF32;
  if (g.row_stream) {
    g.kc = g.k;
    if (g.nc < kRowStreamMinColumns) g.nc = kRowStreamMinColumns;
  }
  // GEMV on a transposed view of B with unit stride along k ([N x K], a Linear layer's weight):
  // its columns (the view's rows) streamed 8 at a time over all of K (gemm-inl.h,
  // RunColumnStreamTask); any C type (no partial sums in C). With options.blocking.nc set, the
  // tiles run on B packed on the fly instead.
  const bool b_columns_contiguous = o.transpose_b && (b_view && (b->strides[1] == 1 || g.k == 1));
  g.column_stream = gemv_on_view && b_columns_contiguous;
  if (g.column_stream) g.kc = g.k;
  g.column_blocks = CeilDiv(g.n, g.nc);
  g.row_block_rows = g.decode || view_tasks_by_column ? g.m : g.mc;
  call->num_tasks = static_cast<size_t>(CeilDiv(g.m, g.row_block_rows) * g.column_blocks);
  if (b_view && !g.row_stream && !g.column_stream) {
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

// Fills `call` for B given as a view (packed == nullptr) or packed.
inline Status PrepareGemm(const TensorView& a, const TensorView* b, const PackedWeights* packed, const TensorView& c,
                          const GemmOptions& o, detail::GemmCall* call) {
  using namespace detail;
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
  EK_RETURN_IF_ERROR(CheckGemmAliasing(a, b, packed, c, o, nullptr, 0));

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
  EK_RETURN_IF_ERROR(ActivationBounds(o.activation, o.clamp_min, o.clamp_max, &g.clamp_min, &g.clamp_max));
  g.f16_arithmetic = o.allow_f16_arithmetic && a.dtype == DType::kF16 && b_type == DType::kF16 &&
                     c.dtype == DType::kF16 && (a.strides[1] == 1 || k == 1) && GemmF16ArithmeticAvailable();
  PlanGemm(call, o, b);
  if (g.f16_arithmetic) {
    // Reads A as it is and B packed; tasks are column blocks (multiples of a panel), all rows.
    const int64_t tasks = TaskCount(2 * g.m * g.n * g.k, kMinDecodeFlopsPerTask, kMaxDecodeTasks);
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

// Stages A (and, for the fp16 lane, B) into the workspace as planned, then runs the tasks.
inline Status RunGemm(const TensorView& a, const TensorView* b, const PackedWeights* packed, const TensorView& c,
                      const GemmOptions& o, const Context& ctx, void* workspace, size_t workspace_bytes) {
  using namespace detail;
  GemmCall call;
  EK_RETURN_IF_ERROR(PrepareGemm(a, b, packed, c, o, &call));
  if (workspace_bytes < call.workspace_bytes) {
    return Status::Error(StatusCode::kInvalidArgument, "workspace: %zu bytes, this call needs %zu (GemmWorkspaceSize)",
                         workspace_bytes, call.workspace_bytes);
  }
  if (call.workspace_bytes > 0 && workspace == nullptr) return InvalidArg("workspace", "is null");
  EK_RETURN_IF_ERROR(CheckGemmAliasing(a, b, packed, c, o, workspace, call.workspace_bytes));
  GemmTaskArgs& g = call.args;
  uint8_t* ws = WorkspaceLayout::Base(workspace);
  const uint8_t* packed_base = nullptr;
  if (packed) {
    packed_base = static_cast<const uint8_t*>(packed->data);
  } else if (call.pack_b) {
    PackWeightsUnchecked(*b, o.transpose_b, g.k, g.n, ws + call.packed_b_offset, ctx);
    packed_base = ws + call.packed_b_offset;
  }
  if (packed_base) {
    g.b = packed_base + sizeof(PackedGemmHeader);
    g.b_panel_stride = PanelStrideBytes(g.k, g.b_type) / (DTypeBits(g.b_type) / 8);
  } else {
    g.b = b->HostByteOf(b->offset);
    g.b_k_stride = o.transpose_b ? b->strides[1] : b->strides[0];
    g.b_n_stride = o.transpose_b ? b->strides[0] : b->strides[1];
  }
  if (call.stage_a) {
    float* staged = reinterpret_cast<float*>(ws + call.staged_a_offset);
    const TensorView dst = TensorView::Matrix(DType::kF32, staged, g.m, g.k, g.k);
    if (a.dtype == DType::kF32) {
      const float* src = a.HostData<float>();
      for (int64_t i = 0; i < g.m; ++i) {
        for (int64_t j = 0; j < g.k; ++j) staged[i * g.k + j] = src[i * a.strides[0] + j * a.strides[1]];
      }
    } else {
      EK_RETURN_IF_ERROR(Convert(a, dst, ctx));
    }
    g.a = staged;
    g.lda = g.k;
  } else {
    g.a = a.HostData<float>();
    g.lda = a.strides[0];
  }
  if (call.pack_slot_bytes > 0) {
    g.pack_slots = ws + call.pack_slots_offset;
    g.pack_slot_bytes = call.pack_slot_bytes;
  }
  if (g.f16_arithmetic) {
    g.a_f16 = a.HostByteOf(a.offset);
    g.lda = a.strides[0];
  }
  g.c = c.HostByteOf(c.offset);
  g.bias = o.bias.rank != 0 ? o.bias.HostData<float>() : nullptr;
  auto* run = HWY_DYNAMIC_POINTER(RunGemmTask);
  ParallelFor(ctx.threads, call.num_tasks, [&](size_t task) { run(g, task); });
  return Status::Ok();
}

// Owns a heap buffer for the convenience overloads.
struct HeapWorkspace {
  void* data = nullptr;
  explicit HeapWorkspace(size_t bytes) : data(bytes ? std::malloc(bytes) : nullptr) {}
  ~HeapWorkspace() { std::free(data); }
  HeapWorkspace(const HeapWorkspace&) = delete;
  HeapWorkspace& operator=(const HeapWorkspace&) = delete;
};

}  // namespace gemm_internal

// ---- Packing ----------------------------------------------------------------------------------

// Bytes PackGemmWeights writes for B ([K x N], or [N x K] if transpose_b).
inline Status PackedGemmWeightsSize(const TensorView& b, bool transpose_b, size_t* bytes) {
  if (bytes == nullptr) return detail::InvalidArg("bytes", "is null");
  int64_t k = 0, n = 0;
  EK_RETURN_IF_ERROR(detail::ValidateWeights(b, "b", transpose_b, &k, &n));
  *bytes = sizeof(detail::PackedGemmHeader) + static_cast<size_t>(detail::PackedPayloadBytes(k, n, b.dtype));
  return Status::Ok();
}

// Packs B (same element type; bits copied) into `out` (4-byte aligned); panels in parallel.
inline Status PackGemmWeights(const TensorView& b, bool transpose_b, void* out, size_t out_bytes,
                              const Context& ctx = Context()) {
  EK_RETURN_IF_ERROR(EnsureDispatchReady());
  size_t need = 0;
  EK_RETURN_IF_ERROR(PackedGemmWeightsSize(b, transpose_b, &need));
  if (out == nullptr) return detail::InvalidArg("out", "is null");
  if (reinterpret_cast<uintptr_t>(out) % detail::kPackedAlign != 0) {
    return detail::InvalidArg("out", "is not 4-byte aligned");
  }
  if (out_bytes < need) {
    return Status::Error(StatusCode::kInvalidArgument, "out: %zu bytes, packing needs %zu (PackedGemmWeightsSize)",
                         out_bytes, need);
  }
  AliasCheck alias;
  alias.AddView(b, "b", AliasCheck::Role::kInput);
  alias.AddBytes(out, need, "out", "", AliasCheck::Role::kOutput);
  EK_RETURN_IF_ERROR(alias.Check());
  const int64_t k = transpose_b ? b.shape[1] : b.shape[0];
  const int64_t n = transpose_b ? b.shape[0] : b.shape[1];
  detail::PackWeightsUnchecked(b, transpose_b, k, n, out, ctx);
  detail::SealPacked(out);  // the checksums, over the finished bytes
  return Status::Ok();
}

// Writes packed weights back into B ([K x N], or [N x K] if transpose_b): the exact bits packed.
inline Status UnpackGemmWeights(const PackedWeights& packed, const TensorView& b, bool transpose_b) {
  using namespace detail;
  PackedGemmHeader h;
  EK_RETURN_IF_ERROR(ReadGemmHeader(packed.data, packed.bytes, "packed", &h));
  EK_RETURN_IF_ERROR(ValidateOutputView(b, "b"));
  int64_t k = 0, n = 0;
  EK_RETURN_IF_ERROR(ValidateWeights(b, "b", transpose_b, &k, &n));
  if (b.dtype != static_cast<DType>(h.dtype)) {
    return Status::Error(StatusCode::kInvalidArgument, "b: dtype is %s, the packed weights are %s", DTypeName(b.dtype),
                         DTypeName(static_cast<DType>(h.dtype)));
  }
  if (k != h.k || n != h.n) {
    return Status::Error(StatusCode::kInvalidArgument, "b: K x N is %lld x %lld, the packed weights are %lld x %lld",
                         static_cast<long long>(k), static_cast<long long>(n), static_cast<long long>(h.k),
                         static_cast<long long>(h.n));
  }
  AliasCheck alias;
  alias.AddBytes(packed.data, packed.bytes, "packed", "", AliasCheck::Role::kInput);
  alias.AddView(b, "b", AliasCheck::Role::kOutput);
  EK_RETURN_IF_ERROR(alias.Check());
  const uint8_t* payload = static_cast<const uint8_t*>(packed.data) + sizeof(PackedGemmHeader);
  const int64_t bytes = DTypeBits(b.dtype) / 8;
  uint8_t* base = static_cast<uint8_t*>(b.memory.host);
  const int64_t k_stride = transpose_b ? b.strides[1] : b.strides[0];
  const int64_t n_stride = transpose_b ? b.strides[0] : b.strides[1];
  for (int64_t j = 0; j < n; ++j) {
    const uint8_t* panel = payload + (j / kPanelWidth) * h.panel_stride_bytes + (j % kPanelWidth) * bytes;
    for (int64_t kk = 0; kk < k; ++kk) {
      std::memcpy(base + (b.offset + kk * k_stride + j * n_stride) * bytes, panel + kk * kPanelWidth * bytes,
                  static_cast<size_t>(bytes));
    }
  }
  return Status::Ok();
}

// ---- GEMM -------------------------------------------------------------------------------------

// Workspace bytes Gemm needs for these operands (0 when it needs none).
inline Status GemmWorkspaceSize(const TensorView& a, const TensorView& b, const TensorView& c,
                                const GemmOptions& options, size_t* bytes) {
  if (bytes == nullptr) return detail::InvalidArg("bytes", "is null");
  detail::GemmCall call;
  EK_RETURN_IF_ERROR(gemm_internal::PrepareGemm(a, &b, nullptr, c, options, &call));
  *bytes = call.workspace_bytes;
  return Status::Ok();
}
inline Status GemmWorkspaceSize(const TensorView& a, const PackedWeights& packed_b, const TensorView& c,
                                const GemmOptions& options, size_t* bytes) {
  if (bytes == nullptr) return detail::InvalidArg("bytes", "is null");
  detail::GemmCall call;
  EK_RETURN_IF_ERROR(gemm_internal::PrepareGemm(a, nullptr, &packed_b, c, options, &call));
  *bytes = call.workspace_bytes;
  return Status::Ok();
}

// C = act(C_old (if options.accumulate) + A * B + bias), with a caller-owned workspace.
inline Status Gemm(const TensorView& a, const TensorView& b, const TensorView& c, const GemmOptions& options,
                   const Context& ctx, void* workspace, size_t workspace_bytes) {
  return gemm_internal::RunGemm(a, &b, nullptr, c, options, ctx, workspace, workspace_bytes);
}
inline Status Gemm(const TensorView& a, const PackedWeights& packed_b, const TensorView& c,
                   const GemmOptions& options, const Context& ctx, void* workspace, size_t workspace_bytes) {
  return gemm_internal::RunGemm(a, nullptr, &packed_b, c, options, ctx, workspace, workspace_bytes);
}

// Convenience overloads: allocate the workspace on the heap for this call (a runtime that owns
// its memory calls GemmWorkspaceSize once and the overloads above).
inline Status Gemm(const TensorView& a, const TensorView& b, const TensorView& c,
                   const GemmOptions& options = GemmOptions(), const Context& ctx = Context()) {
  size_t bytes = 0;
  EK_RETURN_IF_ERROR(GemmWorkspaceSize(a, b, c, options, &bytes));
  gemm_internal::HeapWorkspace ws(bytes);
  if (bytes && !ws.data) return Status::Error(StatusCode::kOutOfMemory, "workspace: cannot allocate %zu bytes", bytes);
  return Gemm(a, b, c, options, ctx, ws.data, bytes);
}
inline Status Gemm(const TensorView& a, const PackedWeights& packed_b, const TensorView& c,
                   const GemmOptions& options = GemmOptions(), const Context& ctx = Context()) {
  size_t bytes = 0;
  EK_RETURN_IF_ERROR(GemmWorkspaceSize(a, packed_b, c, options, &bytes));
  gemm_internal::HeapWorkspace ws(bytes);
  if (bytes && !ws.data) return Status::Error(StatusCode::kOutOfMemory, "workspace: cannot allocate %zu bytes", bytes);
  return Gemm(a, packed_b, c, options, ctx, ws.data, bytes);
}

}  // namespace

}  // namespace ek

#endif  // EK_GEMM_H_

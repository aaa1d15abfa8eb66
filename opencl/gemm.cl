// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// C = A * B (+ bias), one source for every type (OpenCL C 1.2, no extensions):
//   -D EK_GEMM_F32   f32 A, B, C; f32 fused multiply-adds
//   -D EK_GEMM_F16   f16 storage of A, B, C (vload_half / vstore_half_rte), f32 accumulation;
//                    with -D EK_F16_ARITHMETIC (cl_khr_fp16, options.allow_f16_arithmetic): f16
//                    products and sums over blocks of 32 k, each block added in f32 (the CPU's
//                    fp16 lane and its bound, ek::ref::GemmF16ArithmeticErrorBound)
//   -D EK_GEMM_S8    i8 A (zero point) x i8 B (symmetric, per channel) -> i8 C, exact int32 sums
//                    requantized with the CPU's rule (ek/requantize.h, in requantize.cl)
// Two kernels: ek_gemm (tiles through local memory, below) and ek_gemm_vec (register tiles of
// float vectors read straight from global memory: CPU devices and GPUs whose local memory is
// ordinary memory, e.g. Mali; f32 and f16 storage, B not transposed; after ek_gemm).
// Tile parameters of ek_gemm (host: ek/opencl/gemm.h, per-device defaults, tools/ek-cl-tune):
//   EK_TILE_M x EK_TILE_N outputs per work-group, EK_TILE_K k per step through local memory,
//   EK_WPT_M x EK_WPT_N outputs per work-item (rows ty + i * EK_THREADS_M, columns tx + j * EK_THREADS_N,
//   so neighbouring work-items touch neighbouring local-memory words).
//   EK_TRANSPOSE_B: B is [N x K] (element (k, n) at n * ldb + k) instead of [K x N].
// Loop levels: k tiles (cooperative, bounds-checked loads of A and B into local memory, padded
// with zeros past M, N, K), then k within the tile (per work-item: EK_WPT_M values of A and
// EK_WPT_N of B into private registers, EK_WPT_M x EK_WPT_N multiply-adds), then the epilogue.

#ifndef EK_TILE_M
#define EK_TILE_M 32
#endif
#ifndef EK_TILE_N
#define EK_TILE_N 32
#endif
#ifndef EK_TILE_K
#define EK_TILE_K 16
#endif
#ifndef EK_WPT_M
#define EK_WPT_M 4
#endif
#ifndef EK_WPT_N
#define EK_WPT_N 4
#endif
#define EK_THREADS_M (EK_TILE_M / EK_WPT_M)
#define EK_THREADS_N (EK_TILE_N / EK_WPT_N)
#define EK_THREADS (EK_THREADS_M * EK_THREADS_N)

#if defined(EK_GEMM_F32)
typedef float ek_in;
typedef float ek_out;
typedef float ek_acc;
#define EK_LOAD(p, i) ((p)[i])
#define EK_MAD(acc, a, b) fma((a), (b), (acc))
#elif defined(EK_GEMM_F16) && defined(EK_F16_ARITHMETIC)
#pragma OPENCL EXTENSION cl_khr_fp16 : enable
typedef half ek_in;
typedef half ek_out;
typedef half ek_acc;  // per block of EK_F16_BLOCK k; the blocks are summed in f32
#define EK_LOAD(p, i) ((p)[i])
#define EK_MAD(acc, a, b) fma((a), (b), (acc))
#define EK_F16_BLOCK 32
#elif defined(EK_GEMM_F16)
typedef half ek_in;
typedef half ek_out;
typedef float ek_acc;
#define EK_LOAD(p, i) vload_half((i), (p))
#define EK_MAD(acc, a, b) fma((a), (b), (acc))
#elif defined(EK_GEMM_S8)
typedef char ek_in;
typedef char ek_out;
typedef int ek_acc;
#define EK_LOAD(p, i) ((int)(p)[i])
#define EK_MAD(acc, a, b) ((acc) + (a) * (b))
#else
#error "define EK_GEMM_F32, EK_GEMM_F16 or EK_GEMM_S8"
#endif

// EK_EXACT_TILES: M, N and K are multiples of the tile (the host checks): no bounds checks.
#ifdef EK_EXACT_TILES
#define EK_IN_BOUNDS(cond) 1
#else
#define EK_IN_BOUNDS(cond) (cond)
#endif

#ifdef EK_TRANSPOSE_B
#define EK_B_INDEX(kk, nn) ((nn) * ldb + (kk))
#else
#define EK_B_INDEX(kk, nn) ((kk) * ldb + (nn))
#endif

#if defined(EK_GEMM_S8)
#include "requantize.cl"
#endif

// The arguments of both kernels, in this order (host: ek/opencl/gemm.h, detail::Enqueue).
#define EK_GEMM_PARAMETERS                                                                          \
  const int m, const int n, const int k, __global const ek_in *restrict a, const int a_offset,     \
      const int lda, __global const ek_in *restrict b, const int b_offset, const int ldb,            \
      __global ek_out *restrict c, const int c_offset, const int ldc, __global const void *restrict bias, \
      const int bias_offset, const int has_bias, const int accumulate, const float lo, const float hi, \
      const int a_zero_point, __global const int *restrict multiplier, __global const int *restrict shift, \
      const int c_zero_point, const int qmin, const int qmax

#if !defined(EK_GEMM_S8)
// C[row][col] from the f32 sum: + C_old, + bias, clamp, store in C's type.
void ek_store_output(__global ek_out* restrict c, const int index, float v, __global const float* restrict bias,
                     const int bias_index, const int has_bias, const int accumulate, const float lo, const float hi) {
  if (accumulate) v += (float)EK_LOAD(c, index);
  if (has_bias) v += bias[bias_index];
  v = fmin(fmax(v, lo), hi);
#if defined(EK_GEMM_F16)
  vstore_half_rte(v, index, c);
#else
  c[index] = v;
#endif
}

#endif

// Global size: (ceil(N / EK_TILE_N) * EK_THREADS_N, ceil(M / EK_TILE_M) * EK_THREADS_M).
// Offsets and leading dimensions are in elements. Float types: C = clamp(A * B (+ C if
// accumulate) (+ bias), lo, hi). EK_GEMM_S8: C = requantize(bias + sum (a - a_zero_point) * b)
// with multiplier[n], shift[n], c_zero_point, clamped to [qmin, qmax].
__kernel __attribute__((reqd_work_group_size(EK_THREADS_N, EK_THREADS_M, 1)))
void ek_gemm(EK_GEMM_PARAMETERS) {
  __local ek_acc a_tile[EK_TILE_K][EK_TILE_M];
  __local ek_acc b_tile[EK_TILE_K][EK_TILE_N];
  const int tx = get_local_id(0), ty = get_local_id(1);
  const int thread = ty * EK_THREADS_N + tx;
  const int row0 = get_group_id(1) * EK_TILE_M, col0 = get_group_id(0) * EK_TILE_N;
  a += a_offset;
  b += b_offset;

  ek_acc acc[EK_WPT_M][EK_WPT_N];
  for (int i = 0; i < EK_WPT_M; ++i) {
    for (int j = 0; j < EK_WPT_N; ++j) acc[i][j] = 0;
  }
#ifdef EK_F16_BLOCK
  // f16 sums restart every EK_F16_BLOCK k (the host keeps EK_TILE_K a divisor of it).
  float block_sums[EK_WPT_M][EK_WPT_N];
  for (int i = 0; i < EK_WPT_M; ++i) {
    for (int j = 0; j < EK_WPT_N; ++j) block_sums[i][j] = 0.0f;
  }
#endif

  for (int k0 = 0; k0 < k; k0 += EK_TILE_K) {
    // A tile: consecutive work-items read consecutive k of a row (rows of A are contiguous).
    for (int e = thread; e < EK_TILE_M * EK_TILE_K; e += EK_THREADS) {
      const int r = e / EK_TILE_K, kk = e % EK_TILE_K;
      const int row = row0 + r, kg = k0 + kk;
#if defined(EK_GEMM_S8)
      a_tile[kk][r] = EK_IN_BOUNDS(row < m && kg < k) ? EK_LOAD(a, row * lda + kg) - a_zero_point : 0;
#else
      a_tile[kk][r] = EK_IN_BOUNDS(row < m && kg < k) ? EK_LOAD(a, row * lda + kg) : 0;
#endif
    }
    // B tile: consecutive work-items read consecutive columns (or k when B is transposed).
    for (int e = thread; e < EK_TILE_N * EK_TILE_K; e += EK_THREADS) {
#ifdef EK_TRANSPOSE_B
      const int cc = e / EK_TILE_K, kk = e % EK_TILE_K;
#else
      const int kk = e / EK_TILE_N, cc = e % EK_TILE_N;
#endif
      const int col = col0 + cc, kg = k0 + kk;
      b_tile[kk][cc] = EK_IN_BOUNDS(col < n && kg < k) ? EK_LOAD(b, EK_B_INDEX(kg, col)) : 0;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int kk = 0; kk < EK_TILE_K; ++kk) {
      ek_acc a_reg[EK_WPT_M], b_reg[EK_WPT_N];
      for (int i = 0; i < EK_WPT_M; ++i) a_reg[i] = a_tile[kk][ty + i * EK_THREADS_M];
      for (int j = 0; j < EK_WPT_N; ++j) b_reg[j] = b_tile[kk][tx + j * EK_THREADS_N];
      for (int i = 0; i < EK_WPT_M; ++i) {
        for (int j = 0; j < EK_WPT_N; ++j) acc[i][j] = EK_MAD(acc[i][j], a_reg[i], b_reg[j]);
      }
    }
    barrier(CLK_LOCAL_MEM_FENCE);
#ifdef EK_F16_BLOCK
    if ((k0 + EK_TILE_K) % EK_F16_BLOCK == 0 || k0 + EK_TILE_K >= k) {
      for (int i = 0; i < EK_WPT_M; ++i) {
        for (int j = 0; j < EK_WPT_N; ++j) {
          block_sums[i][j] += (float)acc[i][j];
          acc[i][j] = 0;
        }
      }
    }
#endif
  }
#ifdef EK_F16_BLOCK
#define EK_RESULT(i, j) block_sums[i][j]
#else
#define EK_RESULT(i, j) acc[i][j]
#endif

  // Epilogue.
  for (int i = 0; i < EK_WPT_M; ++i) {
    const int row = row0 + ty + i * EK_THREADS_M;
    if (!EK_IN_BOUNDS(row < m)) continue;
    for (int j = 0; j < EK_WPT_N; ++j) {
      const int col = col0 + tx + j * EK_THREADS_N;
      if (!EK_IN_BOUNDS(col < n)) continue;
      const int index = c_offset + row * ldc + col;
#if defined(EK_GEMM_S8)
      // int32 with wrap-around, as the reference: bias + exact sum.
      const uint total = (uint)(has_bias ? ((__global const int*)bias)[bias_offset + col] : 0) + (uint)acc[i][j];
      const int q = ek_requantize(as_int(total), multiplier[col], shift[col], c_zero_point, qmin, qmax);
      c[index] = (char)q;
#else
      ek_store_output(c, index, EK_RESULT(i, j), (__global const float*)bias, bias_offset + col, has_bias, accumulate, lo,
                      hi);
#endif
    }
  }
}

#if !defined(EK_GEMM_S8) && !defined(EK_TRANSPOSE_B) && !defined(EK_F16_ARITHMETIC)
// ---- ek_gemm_vec: register tiles of float vectors, operands from global memory ----------------
// Work-item: EK_WPT_M rows x EK_VEC columns (one floatN accumulator per row: EK_WPT_M registers
// of EK_VEC floats, + 1 for B's row, + A's broadcast). Work-group: EK_THREADS_N x EK_THREADS_M
// items (EK_TILE_N = EK_VEC * EK_THREADS_N columns, EK_TILE_M = EK_WPT_M * EK_THREADS_M rows);
// neighbours in y share B's columns, so one group walks one sliver of B through the cache.
// Loop levels: k (one vector load of B's row, then per row one broadcast of A and one vector
// fma), then the epilogue. Columns past N: the item of the last, partial vector runs the same
// sums one column at a time. Rows past M repeat the last row and are not stored.
#ifndef EK_VEC
#define EK_VEC 16
#endif
#if EK_VEC == 4
typedef float4 ek_vec;
#define EK_VLOAD(p, i) vload4(0, (p) + (i))
#define EK_VLOAD_HALF(p, i) vload_half4(0, (p) + (i))
#define EK_VSTORE(v, p) vstore4((v), 0, (p))
#elif EK_VEC == 8
typedef float8 ek_vec;
#define EK_VLOAD(p, i) vload8(0, (p) + (i))
#define EK_VLOAD_HALF(p, i) vload_half8(0, (p) + (i))
#define EK_VSTORE(v, p) vstore8((v), 0, (p))
#elif EK_VEC == 16
typedef float16 ek_vec;
#define EK_VLOAD(p, i) vload16(0, (p) + (i))
#define EK_VLOAD_HALF(p, i) vload_half16(0, (p) + (i))
#define EK_VSTORE(v, p) vstore16((v), 0, (p))
#else
#error "EK_VEC must be 4, 8 or 16"
#endif
#if defined(EK_GEMM_F16)
#define EK_VLOAD_B(p, i) EK_VLOAD_HALF(p, i)
#else
#define EK_VLOAD_B(p, i) EK_VLOAD(p, i)
#endif

// Global: (ceil(N / EK_TILE_N) * EK_THREADS_N, ceil(M / EK_TILE_M) * EK_THREADS_M); the same
// arguments as ek_gemm (the quantization ones are unused).
__kernel __attribute__((reqd_work_group_size(EK_THREADS_N, EK_THREADS_M, 1)))
void ek_gemm_vec(EK_GEMM_PARAMETERS) {
  const int col = get_global_id(0) * EK_VEC;
  const int row0 = get_global_id(1) * EK_WPT_M;
  if (col >= n || row0 >= m) return;
  a += a_offset;
  b += b_offset;
  __global const float* bias_f = (__global const float*)bias;
  int rows[EK_WPT_M];
  for (int i = 0; i < EK_WPT_M; ++i) rows[i] = min(row0 + i, m - 1);
  if (col + EK_VEC <= n) {
    ek_vec acc[EK_WPT_M];
    for (int i = 0; i < EK_WPT_M; ++i) acc[i] = (ek_vec)(0.0f);
    for (int kk = 0; kk < k; ++kk) {
      const ek_vec b_row = EK_VLOAD_B(b, kk * ldb + col);
      for (int i = 0; i < EK_WPT_M; ++i) acc[i] = fma((ek_vec)((float)EK_LOAD(a, rows[i] * lda + kk)), b_row, acc[i]);
    }
    for (int i = 0; i < EK_WPT_M && row0 + i < m; ++i) {
      float sums[EK_VEC];
      EK_VSTORE(acc[i], sums);
      for (int j = 0; j < EK_VEC; ++j) {
        ek_store_output(c, c_offset + (row0 + i) * ldc + col + j, sums[j], bias_f, bias_offset + col + j, has_bias,
                        accumulate, lo, hi);
      }
    }
    return;
  }
  // The last, partial vector of columns: one column at a time, the same fma chain per output.
  for (int j = 0; col + j < n; ++j) {
    float acc[EK_WPT_M];
    for (int i = 0; i < EK_WPT_M; ++i) acc[i] = 0.0f;
    for (int kk = 0; kk < k; ++kk) {
      const float b_value = (float)EK_LOAD(b, kk * ldb + col + j);
      for (int i = 0; i < EK_WPT_M; ++i) acc[i] = fma((float)EK_LOAD(a, rows[i] * lda + kk), b_value, acc[i]);
    }
    for (int i = 0; i < EK_WPT_M && row0 + i < m; ++i) {
      ek_store_output(c, c_offset + (row0 + i) * ldc + col + j, acc[i], bias_f, bias_offset + col + j, has_bias,
                      accumulate, lo, hi);
    }
  }
}
#endif

// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// C = dequantized(A_q * W) (+ bias), then the activation: the LLM decode (M = 1) and prefill path,
// with the CPU's numerics (ek/ref/qgemm.h, docs/quantization.md):
//   A_q  u8 [M x kp], quantized per row by ek_quantize_rows (opencl/quantize.cl): scale, zero point
//   W    int8 or int4 weights, symmetric, in the GPU layout (ek/opencl/qgemm.h, docs/opencl.md):
//        32-bit words [ceil(K / kWordK)][N]; word (g, j) holds column j's k in [g * kWordK, ...):
//          int8 (EK_W_I8): byte b = w[4g + b]
//          int4 (EK_W_I4): byte b = w[8g + b] (low nibble) | w[8g + 4 + b] (high nibble)
//        consecutive columns are consecutive words.
//   per channel (EK_BLOCK_K 0): out = ((float)(sum_k (q - zp) * w) * a_scale) * w_scale[j] + bias
//   per block of EK_BLOCK_K:    s = sum over blocks, in order, of (float)(sum_k q * w) * scale[b][j]
//                               out = (s - (float)zp * weighted[j]) * a_scale + bias
// The integer sums are exact; the few f32 operations are those of the reference, in its order,
// with contraction off (on PoCL the outputs are the reference's bit for bit).
//
// Work-item: EK_COLS consecutive columns (1 on GPUs: consecutive work-items read consecutive
// words; 4, 8 or 16 on CPU devices: one int vector per word row, the SIMD width) x EK_WPT_M rows
// (rows past M repeat the last row and are not stored). Registers: EK_WPT_M int sums + EK_WPT_M
// f32 sums of EK_COLS lanes, the word vector and its two nibble halves.
// Loop levels: blocks (the int32 sums restart), words of the block (one load of EK_COLS weight
// words, reused by every row), rows (one 4- or 8-byte load of A_q per row: the same address for
// every work-item of the group, a broadcast), bytes of the word.
// Integer dot products by -D (EK_COLS 1 only): EK_INT_DOT_KHR (cl_khr_integer_dot_product, u8 x
// s8 packed), EK_INT_DOT_ARM (cl_arm_integer_dot_product_int8: signed x signed, so
// (q - 128) . w + 128 . w); without either, shifts and multiply-adds. All give the same integers.
#pragma OPENCL FP_CONTRACT OFF

#if defined(EK_INT_DOT_ARM)
#pragma OPENCL EXTENSION cl_arm_integer_dot_product_int8 : enable
#endif

#ifndef EK_WPT_M
#define EK_WPT_M 1
#endif
#ifndef EK_BLOCK_K
#define EK_BLOCK_K 0
#endif
#ifndef EK_COLS
#define EK_COLS 1
#endif

#if defined(EK_W_I8)
#define EK_WORD_K 4
#elif defined(EK_W_I4)
#define EK_WORD_K 8
#else
#error "define EK_W_I8 or EK_W_I4"
#endif

// EK_COLS lanes of words (uint), sums (int) and f32 values, and their loads / stores.
#if EK_COLS == 1
typedef uint ek_words;
typedef int ek_ints;
typedef float ek_floats;
#define EK_LOAD_WORDS(p) (*(p))
#define EK_LOAD_FLOATS(p) (*(p))
#define EK_AS_INTS(x) as_int(x)
#define EK_TO_FLOATS(x) convert_float(x)
#define EK_STORE_FLOATS(v, p) (*(p) = (v))
#elif EK_COLS == 4
typedef uint4 ek_words;
typedef int4 ek_ints;
typedef float4 ek_floats;
#define EK_LOAD_WORDS(p) vload4(0, (p))
#define EK_LOAD_FLOATS(p) vload4(0, (p))
#define EK_AS_INTS(x) as_int4(x)
#define EK_TO_FLOATS(x) convert_float4(x)
#define EK_STORE_FLOATS(v, p) vstore4((v), 0, (p))
#elif EK_COLS == 8
typedef uint8 ek_words;
typedef int8 ek_ints;
typedef float8 ek_floats;
#define EK_LOAD_WORDS(p) vload8(0, (p))
#define EK_LOAD_FLOATS(p) vload8(0, (p))
#define EK_AS_INTS(x) as_int8(x)
#define EK_TO_FLOATS(x) convert_float8(x)
#define EK_STORE_FLOATS(v, p) vstore8((v), 0, (p))
#elif EK_COLS == 16
typedef uint16 ek_words;
typedef int16 ek_ints;
typedef float16 ek_floats;
#define EK_LOAD_WORDS(p) vload16(0, (p))
#define EK_LOAD_FLOATS(p) vload16(0, (p))
#define EK_AS_INTS(x) as_int16(x)
#define EK_TO_FLOATS(x) convert_float16(x)
#define EK_STORE_FLOATS(v, p) vstore16((v), 0, (p))
#else
#error "EK_COLS must be 1, 4, 8 or 16"
#endif
#if EK_COLS != 1 && (defined(EK_INT_DOT_KHR) || defined(EK_INT_DOT_ARM))
#error "the integer dot products take one column per work-item (EK_COLS 1)"
#endif

// sum over the 4 bytes of the u8 word a (one row of A_q) times the s8 bytes of each word of w.
ek_ints ek_dot_u8s8(uint a, ek_words w) {
#if defined(EK_INT_DOT_KHR)
  return dot_4x8packed_us_int(a, w);
#elif defined(EK_INT_DOT_ARM)
  const char4 wb = as_char4(w);
  return arm_dot(as_char4(a ^ 0x80808080u), wb) + 128 * arm_dot(wb, (char4)(1));
#else
  ek_ints s = (ek_ints)(0);
  for (int b = 0; b < 4; ++b) {
    const int a_byte = (int)((a >> (8 * b)) & 0xFFu);
    s += a_byte * (EK_AS_INTS(w << (24 - 8 * b)) >> 24);  // byte b of w, sign-extended
  }
  return s;
#endif
}

#if defined(EK_W_I4)
// sum over the word's 8 k of a (k 8g..8g+3 in a.x, 8g+4..8g+7 in a.y) times the int4 w, times 16:
// each nibble moved to the top of its byte is its value x 16 as an s8 (two operations per half).
ek_ints ek_dot_u8s4_x16(uint2 a, ek_words w) {
  return ek_dot_u8s8(a.x, (w << 4) & 0xF0F0F0F0u) + ek_dot_u8s8(a.y, w & 0xF0F0F0F0u);
}
#endif

// Global: (ceil(N / EK_COLS) rounded up to the work-group width, ceil(M / EK_WPT_M)). A_q rows
// start 8-byte aligned (q_offset and ldq multiples of 8); offsets in elements. The weight buffer
// holds the words from word 0, the f32 scales at `scales_offset` ([blocks][N], or [N] per
// channel), and at `sums_offset` the int32 column sums (per channel) or f32 weighted sums (per
// block), in 4-byte units, then at least 64 bytes of padding (the last work-item's vector loads
// may read up to EK_COLS - 1 words past a row; those lanes are never stored).
__kernel void ek_qgemm_dynamic(const int m, const int n, const int k,
                               __global const uchar* restrict q, const int q_offset, const int ldq,
                               __global const float* restrict a_scales, const int a_scales_offset,
                               __global const int* restrict a_zero_points, const int a_zero_points_offset,
                               __global const uint* restrict weights, const int scales_offset, const int sums_offset,
                               __global const float* restrict bias, const int bias_offset, const int has_bias,
                               __global float* restrict c, const int c_offset, const int ldc,
                               const float lo, const float hi) {
  const int col = get_global_id(0) * EK_COLS;
  const int row0 = get_global_id(1) * EK_WPT_M;
  if (col >= n) return;
  __global const uint* a_rows[EK_WPT_M];
  for (int r = 0; r < EK_WPT_M; ++r) a_rows[r] = (__global const uint*)(q + q_offset + min(row0 + r, m - 1) * ldq);
  const int words = (k + EK_WORD_K - 1) / EK_WORD_K;
  __global const float* w_scales = (__global const float*)weights + scales_offset;
  // Per channel: one block of all of K (int32 sums, K limited by the host).
  const int words_per_block = EK_BLOCK_K > 0 ? EK_BLOCK_K / EK_WORD_K : words;
  ek_ints dot[EK_WPT_M];
  ek_floats sums[EK_WPT_M];
  for (int r = 0; r < EK_WPT_M; ++r) sums[r] = (ek_floats)(0.0f);
  for (int g0 = 0, block = 0; g0 < words; g0 += words_per_block, ++block) {
    const int g_end = min(words, g0 + words_per_block);
    for (int r = 0; r < EK_WPT_M; ++r) dot[r] = (ek_ints)(0);
    for (int g = g0; g < g_end; ++g) {
      const ek_words w = EK_LOAD_WORDS(weights + g * n + col);
      for (int r = 0; r < EK_WPT_M; ++r) {
#if defined(EK_W_I4)
        dot[r] += ek_dot_u8s4_x16(vload2(g, a_rows[r]), w);
#else
        dot[r] += ek_dot_u8s8(a_rows[r][g], w);
#endif
      }
    }
#if defined(EK_W_I4)
    for (int r = 0; r < EK_WPT_M; ++r) dot[r] >>= 4;  // exact: every term was a multiple of 16
#endif
#if EK_BLOCK_K > 0
    const ek_floats scale = EK_LOAD_FLOATS(w_scales + block * n + col);
    for (int r = 0; r < EK_WPT_M; ++r) sums[r] = EK_TO_FLOATS(dot[r]) * scale + sums[r];
#endif
  }
#if EK_BLOCK_K > 0
  const ek_floats weighted = EK_LOAD_FLOATS((__global const float*)weights + sums_offset + col);
#else
  const ek_ints column_sum = EK_AS_INTS(EK_LOAD_WORDS(weights + sums_offset + col));
  const ek_floats w_scale = EK_LOAD_FLOATS(w_scales + col);
#endif
  ek_floats b = (ek_floats)(0.0f);
  if (has_bias) {
    if (col + EK_COLS <= n) {
      b = EK_LOAD_FLOATS(bias + bias_offset + col);
    } else {
      float tail[EK_COLS];
      for (int j = 0; j < EK_COLS; ++j) tail[j] = col + j < n ? bias[bias_offset + col + j] : 0.0f;
      b = EK_LOAD_FLOATS(tail);
    }
  }
  for (int r = 0; r < EK_WPT_M; ++r) {
    const int row = row0 + r;
    if (row >= m) break;
    const float a_scale = a_scales[a_scales_offset + row];
    const int zp = a_zero_points[a_zero_points_offset + row];
#if EK_BLOCK_K > 0
    ek_floats out = (sums[r] - (float)zp * weighted) * a_scale;
#else
    ek_floats out = (EK_TO_FLOATS(dot[r] - zp * column_sum) * a_scale) * w_scale;
#endif
    out = out + b;
    out = fmin(fmax(out, lo), hi);
    __global float* dst = c + c_offset + row * ldc + col;
    if (col + EK_COLS <= n) {
      EK_STORE_FLOATS(out, dst);
    } else {
      float tail[EK_COLS];
      EK_STORE_FLOATS(out, tail);
      for (int j = 0; col + j < n; ++j) dst[j] = tail[j];
    }
  }
}

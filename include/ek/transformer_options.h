// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// The options of the ops around attention in a transformer block (ek/transformer.h): RMSNorm,
// LayerNorm, softmax, rotary position embedding (RoPE) and the gated-MLP activation. No kernels:
// OpenCL and the NPU trait read them too. The numerics are those of ek/ref/transformer.h.
#ifndef EK_TRANSFORMER_OPTIONS_H_
#define EK_TRANSFORMER_OPTIONS_H_

#include <cstdint>

#include "ek/tensor.h"

namespace ek {

// out = x / sqrt(mean(x^2) + epsilon) x (weight + weight_offset), per row (without a weight:
// x / sqrt(mean(x^2) + epsilon), the offset unused).
struct RmsNormOptions {
  float epsilon = 1e-6f;       // >= 2^-126, finite
  float weight_offset = 0.0f;  // Gemma stores weight - 1: pass 1
};

// out = (x - mean) / sqrt(variance + epsilon) x gamma + beta, per row (variance over n).
struct LayerNormOptions {
  float epsilon = 1e-5f;  // >= 2^-126, finite
};

// out = exp(scale x - max) / sum, per row; -inf entries get 0, a row of -inf gets zeros.
struct SoftmaxOptions {
  float scale = 1.0f;  // > 0, finite (an inverse temperature)
};

// Which elements of a head form the rotated pairs.
enum class RopeStyle : uint8_t {
  kNeox = 0,  // (i, i + rotary_dims / 2): split halves (GPT-NeoX, Llama in Hugging Face's layout)
  kGptj = 1,  // (2i, 2i + 1): interleaved (GPT-J, Llama's original checkpoints, llama.cpp's "norm")
};

// Pair i of a token at position p turns by the angle p x freq_scale x inv_frequency[i], with
// inv_frequency[i] = theta_base^(-2i / rotary_dims) unless the caller gives the table (Llama 3's
// or YaRN's rescaled frequencies). Elements past rotary_dims are copied unchanged (partial
// rotary embedding, as GPT-NeoX and Phi use).
struct RopeOptions {
  RopeStyle style = RopeStyle::kNeox;
  int64_t rotary_dims = 0;     // 0: the whole head; else even, <= head_dim, <= 1024
  float theta_base = 10000.0f;  // > 1, finite
  float freq_scale = 1.0f;      // > 0, finite: linear position interpolation is 1 / factor
  int64_t position_offset = 0;  // token t is at position_offset + t (when positions is absent)
  // Optional i32 [tokens] host view: each token's position (>= 0), instead of the offset.
  TensorView positions;
  // Optional f32 [rotary_dims / 2] host view: the inverse frequencies (finite, >= 0), instead
  // of theta_base's.
  TensorView inv_frequencies;
};

enum class GateActivation : uint8_t {
  kSilu = 0,      // x sigmoid(x) (SwiGLU: Llama, Mistral, Qwen)
  kGeluTanh = 1,  // 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))) (GeGLU: Gemma)
  kGeluErf = 2,   // 0.5 x (1 + erf(x / sqrt(2))) (BERT's exact GELU)
};

// out = act(gate) x up, element by element (up optional: out = act(gate)).
struct GatedActivationOptions {
  GateActivation activation = GateActivation::kSilu;
};

}  // namespace ek

#endif  // EK_TRANSFORMER_OPTIONS_H_

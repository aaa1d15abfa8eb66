// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Fuzz target: GGUF Q8_0 / Q4_0 block buffers (ek/gguf.h). Input: type, rows and K (a few
// bytes, any values: bad ones must be rejected), then the blocks, whose byte count is passed as
// it is (a short buffer must be an error, never a read past its end). Accepted weights are
// repacked, verified and run through QGemm.
#include <cstdint>
#include <cstring>
#include <vector>

#include "ek/qgemm.h"
#include "ek/gguf.h"
#include "ek/packed_weights.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ek_fuzz::Input in(data, size);
  const uint8_t type_byte = in.Byte();
  const auto type = static_cast<ek::GgufType>(type_byte % 3 == 0 ? 2 : type_byte % 3 == 1 ? 8 : type_byte);
  const int64_t rows = in.Extent();
  const int64_t k = in.Byte() % 2 == 0 ? 32 * static_cast<int64_t>(in.Byte() % 9) : in.Extent();
  size_t blocks_bytes = 0;
  const uint8_t* blocks = in.Rest(&blocks_bytes);
  // The blocks in a buffer of exactly blocks_bytes (so that ASan sees any read past its end).
  std::vector<uint8_t> owned(blocks, blocks + blocks_bytes);
  const uint8_t* block_data = owned.empty() ? nullptr : owned.data();
  if (rows >= 1 && rows <= 64 && k >= 1 && k <= 4096) {
    std::vector<float> out(static_cast<size_t>(rows * k));
    (void)ek::DequantizeGgufRows(type, block_data, blocks_bytes, rows, k,
                                 ek::TensorView::Host(ek::DType::kF32, out.data(), {rows, k}));
  }
  size_t packed_bytes = 0;
  if (!ek::PackedGgufWeightsSize(type, rows, k, &packed_bytes).ok() || packed_bytes > (size_t{1} << 22)) return 0;
  std::vector<uint32_t> packed(packed_bytes / 4 + 1);
  if (!ek::PackGgufWeights(type, block_data, blocks_bytes, rows, k, packed.data(), packed_bytes).ok()) return 0;
  const ek::PackedWeights weights{packed.data(), packed_bytes};
  if (!ek::VerifyPackedWeights(weights).ok()) __builtin_trap();  // ek's own packing always verifies
  std::vector<float> a(static_cast<size_t>(k), 1.0f), c(static_cast<size_t>(rows));
  if (!ek::QGemm(ek::TensorView::Host(ek::DType::kF32, a.data(), {1, k}), weights,
                 ek::TensorView::Host(ek::DType::kF32, c.data(), {1, rows}))
           .ok()) {
    __builtin_trap();  // accepted weights always run
  }
  return 0;
}

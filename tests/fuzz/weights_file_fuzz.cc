// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Fuzz target: the ek-quantize weights file reader (ek_quantize::ParseWeightsFile), which also
// verifies the packed weights inside. Input: one flags byte, then the file. Flags bit 0 / 1 /
// 2 re-seal the file header checksum, the file payload checksum and the packed weights'
// checksums first, so that fields behind the checksums are explored too. An accepted file is
// then unpacked and run through QGemm.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "ek/qgemm.h"
#include "ek_quantize_io.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > (1 << 20)) return 0;
  const uint8_t flags = data[0];
  std::vector<uint8_t> file(data + 1, data + size);
  using ek_quantize::FileHeader;
  if (file.size() >= sizeof(FileHeader)) {
    if ((flags & 4) && file.size() >= sizeof(FileHeader) + 64) {
      std::vector<uint32_t> payload((file.size() - sizeof(FileHeader)) / 4 + 1);
      std::memcpy(payload.data(), file.data() + sizeof(FileHeader), file.size() - sizeof(FileHeader));
      uint64_t total;
      std::memcpy(&total, reinterpret_cast<uint8_t*>(payload.data()) + 8, 8);
      if (total >= 64 && total <= file.size() - sizeof(FileHeader)) {
        ek::detail::SealPacked(payload.data());
        std::memcpy(file.data() + sizeof(FileHeader), payload.data(), file.size() - sizeof(FileHeader));
      }
    }
    FileHeader h;
    std::memcpy(&h, file.data(), sizeof(h));
    if (flags & 2) h.checksum = ek::detail::Checksum64(file.data() + sizeof(h), file.size() - sizeof(h));
    if (flags & 1) h.header_checksum = ek_quantize::FileHeaderChecksum(h);
    std::memcpy(file.data(), &h, sizeof(h));
  }
  ek_quantize::WeightsFile weights;
  std::string error;
  if (!ek_quantize::ParseWeightsFile(file.data(), file.size(), &weights, &error)) {
    if (error.empty()) __builtin_trap();
    return 0;
  }
  const ek::PackedWeights packed = weights.Packed();
  const int64_t k = weights.header.k, n = weights.header.n;
  std::vector<float> a(static_cast<size_t>(2 * k), 0.75f), c(static_cast<size_t>(2 * n));
  (void)ek::QGemm(ek::TensorView::Host(ek::DType::kF32, a.data(), {2, k}), packed,
                  ek::TensorView::Host(ek::DType::kF32, c.data(), {2, n}));
  return 0;
}

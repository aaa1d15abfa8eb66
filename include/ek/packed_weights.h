// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Packed weights: the buffers ek::PackGemmWeights ("EKGB", float GEMM), ek::PackQGemmWeights and
// ek::PackGgufWeights ("EKQB", integer GEMM) write, and every GEMM entry point reads. Formats:
// docs/gemm.md and docs/quantization.md; the shared 64-byte header: ek/detail/packed_format.h.
//
// What is checked when:
//   - every read (each Gemm / QGemm call, Unpack*): the header, in full: magic, version, its own
//     checksum, every field against the others and against `bytes`, reserved bytes 0. A
//     corrupted header is an error, never a different computation.
//   - ek::VerifyPackedWeights: the header and the checksum of the payload (the panels, sums and
//     scales), written at pack time. Call it when weights come from storage or another process;
//     ek-quantize's file reader calls it. It reads every byte once (tens of GB/s), so GEMM calls
//     do not.
#ifndef EK_PACKED_WEIGHTS_H_
#define EK_PACKED_WEIGHTS_H_

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "ek/detail/packed_format.h"
#include "ek/status.h"

namespace ek {

// Pre-packed weights: what a Pack*Weights call wrote (header + payload), and its size in bytes
// (at least the packed size; 4-byte aligned).
struct PackedWeights {
  const void* data = nullptr;
  size_t bytes = 0;
};

// Checks packed weights of any of ek's formats whole: the header and the payload checksum.
inline Status VerifyPackedWeights(const PackedWeights& packed) {
  const char* name = "packed";
  if (packed.data == nullptr) return detail::InvalidArg(name, "data is null");
  if (packed.bytes < 4) return detail::InvalidArg(name, "smaller than the 64-byte header");
  uint32_t magic;
  std::memcpy(&magic, packed.data, 4);
  detail::PackedPrefix prefix;
  if (magic == detail::kPackedGemmMagic) {
    detail::PackedGemmHeader h;
    EK_RETURN_IF_ERROR(detail::ReadGemmHeader(packed.data, packed.bytes, name, &h));
    prefix = h.prefix;
  } else if (magic == detail::kPackedQGemmMagic) {
    detail::PackedQGemmHeader h;
    detail::QPackedLayout layout;
    EK_RETURN_IF_ERROR(detail::ReadQHeader(packed.data, packed.bytes, name, &h, &layout));
    prefix = h.prefix;
  } else if (magic == detail::kPackedConvMagic) {
    detail::ConvWeightsShape shape;
    EK_RETURN_IF_ERROR(detail::ReadConvHeader(packed.data, packed.bytes, name, &shape));
    std::memcpy(&prefix, packed.data, sizeof(prefix));
  } else if (magic == detail::kPackedTransposedConvMagic) {
    detail::TransposedConvShape shape;
    EK_RETURN_IF_ERROR(detail::ReadTransposedConvHeader(packed.data, packed.bytes, name, &shape));
    std::memcpy(&prefix, packed.data, sizeof(prefix));
  } else {
    return detail::InvalidArg(name, "not packed weights of ek (bad magic)");
  }
  return detail::VerifyPackedPayload(packed.data, prefix, name);
}

}  // namespace ek

#endif  // EK_PACKED_WEIGHTS_H_

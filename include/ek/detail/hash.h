// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// FNV-1a, 64 bits: the checksum of ek's file formats (EKQW weights, OpenCL program cache) and
// the key of cached programs. Not cryptographic: it detects corruption, not tampering.
#ifndef EK_DETAIL_HASH_H_
#define EK_DETAIL_HASH_H_

#include <cstddef>
#include <cstdint>

namespace ek {
namespace detail {

constexpr uint64_t kFnv1aBasis = 0xcbf29ce484222325ull;

// Continues a hash over n more bytes (start from kFnv1aBasis).
inline uint64_t Fnv1a(const void* data, size_t n, uint64_t hash = kFnv1aBasis) {
  const auto* p = static_cast<const uint8_t*>(data);
  for (size_t i = 0; i < n; ++i) {
    hash ^= p[i];
    hash *= 0x100000001b3ull;
  }
  return hash;
}

}  // namespace detail
}  // namespace ek

#endif  // EK_DETAIL_HASH_H_

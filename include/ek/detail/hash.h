// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Checksums of ek's formats. FNV-1a, 64 bits: the key of cached OpenCL programs and the checksum
// of small files (the OpenCL program cache). Checksum64: packed weights and weight files.
#ifndef EK_DETAIL_HASH_H_
#define EK_DETAIL_HASH_H_

#include <cstddef>
#include <cstdint>
#include <cstring>

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

// Checksum64: the payload checksum of ek's packed weights (docs/gemm.md, "Packed B"). The data
// is read as little-endian 64-bit words (a last partial word padded with zeros); lane i (0..7)
// hashes words i, i + 8, i + 16, ... as  h = rotl64((h ^ word) * kChecksumMix, 31)  from the
// seed kChecksumSeed + i; then h = lane 0, folded with lanes 1..7 and the byte count by the same
// step, and a last h ^= h >> 29. Each step is a bijection of h, so changing any one word always
// changes the result. Eight independent lanes keep the multiplier busy (about 8 words per
// multiply-rotate latency): 10+ GB/s on one core, far faster than FNV-1a's byte at a time. Not
// cryptographic: it detects corruption, not tampering.
constexpr uint64_t kChecksumMix = 0x9E3779B97F4A7C15ull;
constexpr uint64_t kChecksumSeed = 0x243F6A8885A308D3ull;
constexpr size_t kChecksumLanes = 8;

inline uint64_t ChecksumStep(uint64_t h, uint64_t x) {
  h = (h ^ x) * kChecksumMix;
  return (h << 31) | (h >> 33);
}

inline uint64_t LoadLittleEndian64(const uint8_t* p, size_t n) {  // n <= 8 bytes, zero-padded
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  if (n == 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    return w;
  }
#endif
  uint64_t w = 0;
  for (size_t i = 0; i < n; ++i) w |= static_cast<uint64_t>(p[i]) << (8 * i);
  return w;
}

inline uint64_t Checksum64(const void* data, size_t n) {
  const auto* p = static_cast<const uint8_t*>(data);
  uint64_t lane[kChecksumLanes];
  for (size_t i = 0; i < kChecksumLanes; ++i) lane[i] = kChecksumSeed + i;
  const size_t words = n / 8;
  size_t w = 0;
  for (; w + kChecksumLanes <= words; w += kChecksumLanes) {
    for (size_t i = 0; i < kChecksumLanes; ++i) lane[i] = ChecksumStep(lane[i], LoadLittleEndian64(p + (w + i) * 8, 8));
  }
  for (; w < words; ++w) lane[w % kChecksumLanes] = ChecksumStep(lane[w % kChecksumLanes], LoadLittleEndian64(p + w * 8, 8));
  if (n % 8 != 0) lane[w % kChecksumLanes] = ChecksumStep(lane[w % kChecksumLanes], LoadLittleEndian64(p + w * 8, n % 8));
  uint64_t h = lane[0];
  for (size_t i = 1; i < kChecksumLanes; ++i) h = ChecksumStep(h, lane[i]);
  h = ChecksumStep(h, static_cast<uint64_t>(n));
  return h ^ (h >> 29);
}

}  // namespace detail
}  // namespace ek

#endif  // EK_DETAIL_HASH_H_

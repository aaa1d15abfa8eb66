// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Fuzz target: the OpenCL program cache's entry reader (ek::opencl::detail::ParseCacheEntry), on
// any file content, with the key the entry claims (so the fuzzer gets past the key check) and
// with another. Flags byte bit 0 re-computes the payload checksum. No OpenCL library is needed.
#include <cstdint>
#include <cstring>
#include <vector>

#include "ek/opencl/program.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  std::vector<uint8_t> entry(data + 1, data + size);
  using ek::opencl::detail::CacheHeader;
  uint64_t key = 0x1234;
  if (entry.size() >= sizeof(CacheHeader)) {
    CacheHeader h;
    std::memcpy(&h, entry.data(), sizeof(h));
    key = h.key;
    if (data[0] & 1) {
      h.payload_checksum = ek::detail::Fnv1a(entry.data() + sizeof(h), entry.size() - sizeof(h));
      std::memcpy(entry.data(), &h, sizeof(h));
    }
  }
  for (const uint64_t k : {key, key ^ 1}) {
    const uint8_t* binary = nullptr;
    size_t binary_bytes = 0;
    char note[160] = {0};
    if (ek::opencl::detail::ParseCacheEntry(entry.data(), entry.size(), k, &binary, &binary_bytes, note, sizeof(note))) {
      // A hit points inside the entry, past its header.
      if (binary < entry.data() + sizeof(CacheHeader) || binary + binary_bytes != entry.data() + entry.size()) {
        __builtin_trap();
      }
    } else if (note[0] == '\0') {
      __builtin_trap();
    }
  }
  return 0;
}

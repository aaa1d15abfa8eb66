// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Fuzz target: tools/ek-quantize's .npy reader (ek_quantize::ParseNpy) on any bytes, and the
// whole-number option parsers on any text. Never a crash, an out-of-bounds read or an allocation
// larger than the input.
#include <cstdint>
#include <string>

#include "ek_quantize_io.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ek_quantize::Npy npy;
  std::string error;
  if (ek_quantize::ParseNpy(data, size, &npy, &error)) {
    // A success promises exactly rows x cols floats.
    if (npy.rows < 1 || npy.cols < 1 || npy.data.size() != static_cast<size_t>(npy.rows * npy.cols)) __builtin_trap();
  } else if (error.empty()) {
    __builtin_trap();  // every failure says why
  }
  const std::string text(reinterpret_cast<const char*>(data), size < 64 ? size : 64);
  int64_t whole = 0;
  double number = 0.0;
  (void)ek_quantize::ParseWholeNumber(text.c_str(), &whole);
  (void)ek_quantize::ParseWholeFloat(text.c_str(), &number);
  return 0;
}

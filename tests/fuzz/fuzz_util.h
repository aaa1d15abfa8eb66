// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Helpers of the libFuzzer targets (tests/fuzz/*_fuzz.cc): reading values off the input.
#ifndef EK_TESTS_FUZZ_FUZZ_UTIL_H_
#define EK_TESTS_FUZZ_FUZZ_UTIL_H_

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace ek_fuzz {

// Consumes the input front to back; past its end every value is 0.
class Input {
 public:
  Input(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint8_t Byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  template <typename T>
  T Value() {
    T v{};
    const size_t n = size_ - pos_ < sizeof(T) ? size_ - pos_ : sizeof(T);
    std::memcpy(&v, data_ + pos_, n);
    pos_ += n;
    return v;
  }
  // Mostly small values, sometimes any 64-bit value (extremes included).
  int64_t Extent() {
    const uint8_t kind = Byte();
    if (kind < 200) return kind % 12;
    if (kind < 240) return Value<uint16_t>();
    return Value<int64_t>();
  }
  const uint8_t* Rest(size_t* size) {
    *size = size_ - pos_;
    return data_ + pos_;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

}  // namespace ek_fuzz

#endif  // EK_TESTS_FUZZ_FUZZ_UTIL_H_

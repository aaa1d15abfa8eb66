// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Helpers of the OpenCL tests (plain mains, exit 77 when there is no device): pass / fail
// counting, a deterministic generator, device copies of host data with guard bytes before the
// view, and the check that a bad input is rejected with its name.
#ifndef EK_TESTS_OPENCL_CL_TEST_UTIL_H_
#define EK_TESTS_OPENCL_CL_TEST_UTIL_H_

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "ek/opencl/runtime.h"
#include "ek/status.h"
#include "ek/tensor.h"

namespace ek_cl_test {

inline int g_failures = 0, g_passed = 0;

inline void Check(bool ok, const char* what) {
  if (ok) {
    ++g_passed;
  } else {
    ++g_failures;
    std::printf("FAIL %s\n", what);
  }
}

inline uint64_t g_seed = 12345;
inline uint32_t Next() {
  g_seed = g_seed * 6364136223846793005ull + 1442695040888963407ull;
  return static_cast<uint32_t>(g_seed >> 33);
}
inline float Uniform() { return static_cast<float>(Next() % 2001) / 1000.0f - 1.0f; }

// A device buffer holding `host` at `byte_offset` (the bytes before it are filled with 0xAB).
struct DeviceCopy {
  ek::opencl::Runtime* rt = nullptr;
  cl_mem mem = nullptr;
  size_t bytes = 0;
  DeviceCopy(ek::opencl::Runtime& runtime, const void* host, size_t host_bytes, size_t byte_offset) : rt(&runtime) {
    bytes = byte_offset + host_bytes;
    std::vector<uint8_t> image(byte_offset, 0xAB);
    const auto* first = static_cast<const uint8_t*>(host);
    image.insert(image.end(), first, first + host_bytes);
    Check(ek::opencl::CreateBuffer(runtime, bytes, &mem).ok(), "buffer created");
    Check(ek::opencl::Upload(runtime, mem, 0, image.data(), bytes).ok(), "buffer uploaded");
  }
  DeviceCopy(const DeviceCopy&) = delete;
  DeviceCopy& operator=(const DeviceCopy&) = delete;
  ~DeviceCopy() { ek::opencl::ReleaseBuffer(*rt, mem); }
  std::vector<uint8_t> Read(size_t byte_offset, size_t n) const {
    std::vector<uint8_t> out(n);
    Check(ek::opencl::Download(*rt, mem, byte_offset, out.data(), n).ok(), "buffer downloaded");
    return out;
  }
};

inline ek::TensorView DeviceMatrix(ek::DType type, const DeviceCopy& d, size_t byte_offset, int64_t rows, int64_t cols,
                                   int64_t ld) {
  return ek::TensorView::OpenCL(type, d.mem, byte_offset, {rows, cols}).WithStrides({ld, 1});
}

inline void CheckRejects(const ek::Status& s, const char* name) {
  const bool ok = !s.ok() && std::strstr(s.message(), name) != nullptr;
  if (!ok) std::printf("  expected an error naming '%s', got: %s\n", name, s.ok() ? "OK" : s.message());
  Check(ok, "bad input rejected with its name");
}

// Opens the default device; returns 77 (skipped) or 1 through *exit_code when there is none.
inline bool OpenOrSkip(ek::opencl::Runtime& rt, int* exit_code) {
  const ek::Status opened = rt.Open();
  if (opened.ok()) return true;
  std::printf("skipped: %s\n", opened.message());
  *exit_code = opened.code() == ek::StatusCode::kUnavailable ? 77 : 1;
  return false;
}

inline int Finish() {
  std::printf("%d passed, %d failed\n", g_passed, g_failures);
  return g_failures ? 1 : 0;
}

}  // namespace ek_cl_test

#endif  // EK_TESTS_OPENCL_CL_TEST_UTIL_H_

// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// The run-time OpenCL loader: a missing library is a Status, never a crash; with a runtime
// (PoCL in CI) the devices are listed. Exit 77 (skipped) when no OpenCL device is present.
#include <cstdio>
#include <cstring>

#include "ek/opencl/loader.h"

int main() {
  int failures = 0, passed = 0;
  auto check = [&](bool ok, const char* what) {
    std::printf("%s %s\n", ok ? "ok  " : "FAIL", what);
    ok ? ++passed : ++failures;
  };
  // A path that does not exist, given explicitly, is tried first and then the defaults; a
  // library without the entry points (libm) is rejected with a message naming the symbol.
  ek::opencl::Api missing;
  const ek::Status bad = ek::opencl::LoadApi(&missing, "/nonexistent/libOpenCL.so");
  (void)bad;
  ek::opencl::UnloadApi(&missing);
  check(ek::opencl::LoadApi(nullptr).code() == ek::StatusCode::kInvalidArgument, "null api rejected");

  ek::opencl::Api api;
  const ek::Status loaded = ek::opencl::LoadApi(&api);
  if (!loaded.ok()) {
    std::printf("skipped: %s\n", loaded.message());
    check(loaded.code() == ek::StatusCode::kUnavailable, "missing OpenCL is kUnavailable");
    return failures ? 1 : 77;
  }
  ek::opencl::DeviceSummary devices[16];
  int count = 0;
  const ek::Status listed = ek::opencl::ListDevices(api, devices, 16, &count);
  check(listed.ok(), "devices listed");
  if (count == 0) {
    std::printf("skipped: OpenCL library %s has no device\n", api.library_path);
    ek::opencl::UnloadApi(&api);
    return failures ? 1 : 77;
  }
  for (int i = 0; i < count; ++i) {
    std::printf("device %d: %s / %s, %s, %s\n", i, devices[i].platform, devices[i].name, devices[i].version,
                devices[i].c_version);
    check(std::strlen(devices[i].name) > 0, "device has a name");
    check(std::strncmp(devices[i].c_version, "OpenCL C ", 9) == 0, "device reports an OpenCL C version");
    check(devices[i].compute_units >= 1 && devices[i].global_memory_bytes > 0, "device reports resources");
  }
  ek::opencl::UnloadApi(&api);
  std::printf("%d passed, %d failed\n", passed, failures);
  return failures ? 1 : 0;
}

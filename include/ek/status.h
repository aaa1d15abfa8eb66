// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// ek::Status: what every public entry point returns. No exceptions (the library builds with
// -fno-exceptions), no heap allocation: the message lives in a fixed buffer inside the Status.
#ifndef EK_STATUS_H_
#define EK_STATUS_H_

#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace ek {

enum class StatusCode : int {
  kOk = 0,
  kInvalidArgument,   // a view, a parameter or a combination of them is not acceptable
  kUnsupported,       // valid, but this build / CPU / backend cannot do it
  kWrongMemory,       // the data lives where this kernel cannot touch it (e.g. an OpenCL buffer)
  kUnavailable,       // a runtime (OpenCL library, device, accelerator) could not be loaded
  kOutOfMemory,       // a convenience overload could not allocate its workspace
  kInternal,
};

inline const char* StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "OK";
    case StatusCode::kInvalidArgument: return "INVALID_ARGUMENT";
    case StatusCode::kUnsupported: return "UNSUPPORTED";
    case StatusCode::kWrongMemory: return "WRONG_MEMORY";
    case StatusCode::kUnavailable: return "UNAVAILABLE";
    case StatusCode::kOutOfMemory: return "OUT_OF_MEMORY";
    case StatusCode::kInternal: return "INTERNAL";
  }
  return "UNKNOWN";
}

class [[nodiscard]] Status {
 public:
  static constexpr size_t kMaxMessage = 192;

  Status() { message_[0] = '\0'; }  // OK; only the terminator is written (cheap to return)
  Status(const Status& other) : code_(other.code_) { std::memcpy(message_, other.message_, std::strlen(other.message_) + 1); }
  Status& operator=(const Status& other) {
    code_ = other.code_;
    std::memmove(message_, other.message_, std::strlen(other.message_) + 1);
    return *this;
  }

  static Status Ok() { return Status(); }

  // printf-style message; by convention it starts with the name of the bad argument.
#if defined(__GNUC__)
  __attribute__((format(printf, 2, 3)))
#endif
  static Status Error(StatusCode code, const char* format, ...) {
    Status s;
    s.code_ = code;
    va_list args;
    va_start(args, format);
    std::vsnprintf(s.message_, kMaxMessage, format, args);
    va_end(args);
    return s;
  }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const char* message() const { return message_; }

 private:
  StatusCode code_ = StatusCode::kOk;
  char message_[kMaxMessage];
};

#define EK_RETURN_IF_ERROR(expr)          \
  do {                                    \
    ::ek::Status ek_status_tmp_ = (expr); \
    if (!ek_status_tmp_.ok()) return ek_status_tmp_; \
  } while (0)

}  // namespace ek

#endif  // EK_STATUS_H_

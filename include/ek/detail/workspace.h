// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// The caller-owned workspace of an entry point, cut into named sections. Every section starts on
// a 64-byte boundary of the workspace's first 64-byte boundary: the caller may pass a workspace
// at any address (the size a *WorkspaceSize query returns includes the 63 bytes that placing
// the first section may skip), and the kernels get aligned sections. No kernels here.
#ifndef EK_DETAIL_WORKSPACE_H_
#define EK_DETAIL_WORKSPACE_H_

#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "ek/status.h"

namespace ek {
namespace detail {

constexpr size_t kWorkspaceAlign = 64;

inline size_t AlignBytes(size_t x) { return (x + kWorkspaceAlign - 1) / kWorkspaceAlign * kWorkspaceAlign; }

class WorkspaceLayout {
 public:
  // Reserves a section of `bytes` (0: none) and returns its offset from the aligned base.
  size_t Add(size_t bytes) {
    const size_t offset = AlignBytes(end_);
    end_ = offset + bytes;
    return offset;
  }
  // Bytes the caller must provide (any alignment): the sections and the slack to align them.
  size_t Bytes() const { return end_ == 0 ? 0 : end_ + kWorkspaceAlign - 1; }
  // The aligned base of a workspace of Bytes() bytes at `workspace`.
  static uint8_t* Base(void* workspace) {
    const uintptr_t p = reinterpret_cast<uintptr_t>(workspace);
    return reinterpret_cast<uint8_t*>((p + kWorkspaceAlign - 1) & ~uintptr_t{kWorkspaceAlign - 1});
  }

 private:
  size_t end_ = 0;
};

// The check every entry point with a caller workspace makes: at least `need` bytes (what its
// `query`, e.g. "ConvWorkspaceSize", returned), and not null when any are needed.
inline Status RequireWorkspace(const void* workspace, size_t bytes, size_t need, const char* query) {
  if (bytes < need) {
    return Status::Error(StatusCode::kInvalidArgument, "workspace: %zu bytes, this call needs %zu (%s)", bytes, need,
                         query);
  }
  if (need > 0 && workspace == nullptr) return Status::Error(StatusCode::kInvalidArgument, "workspace: is null");
  return Status::Ok();
}

// Owns a heap buffer for the convenience overloads (those without a workspace argument).
struct HeapWorkspace {
  void* data = nullptr;
  explicit HeapWorkspace(size_t bytes) : data(bytes ? std::malloc(bytes) : nullptr) {}
  ~HeapWorkspace() { std::free(data); }
  HeapWorkspace(const HeapWorkspace&) = delete;
  HeapWorkspace& operator=(const HeapWorkspace&) = delete;
};

// Every op's convenience overload: size(&bytes) (the op's <Op>WorkspaceSize), a heap workspace
// of that size for this call, then run(workspace, bytes) (the op with a caller workspace).
template <class SizeFn, class RunFn>
Status WithHeapWorkspace(const SizeFn& size, const RunFn& run) {
  size_t bytes = 0;
  EK_RETURN_IF_ERROR(size(&bytes));
  HeapWorkspace ws(bytes);
  if (bytes && !ws.data) return Status::Error(StatusCode::kOutOfMemory, "workspace: cannot allocate %zu bytes", bytes);
  return run(ws.data, bytes);
}

}  // namespace detail
}  // namespace ek

#endif  // EK_DETAIL_WORKSPACE_H_

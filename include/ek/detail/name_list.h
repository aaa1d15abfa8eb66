// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Comma- or space-separated name lists, as in EK_TARGETS and EK_DISABLE_LANES.
#ifndef EK_DETAIL_NAME_LIST_H_
#define EK_DETAIL_NAME_LIST_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>

#include "ek/status.h"

namespace ek {
namespace detail {

// Calls item(name, length) -> Status for each non-empty item of `list`; returns the first error.
template <typename ItemFn>
Status ForEachListItem(const char* list, const ItemFn& item) {
  const char* p = list;
  while (p && *p) {
    while (*p == ',' || *p == ' ') ++p;
    if (!*p) break;
    const char* end = p;
    while (*end && *end != ',' && *end != ' ') ++end;
    EK_RETURN_IF_ERROR(item(p, static_cast<size_t>(end - p)));
    p = end;
  }
  return Status::Ok();
}

// Writes name(bit) for every set bit of `mask` below `num_bits`, lowest first, separated by `sep`;
// stops (still terminated) if the buffer is full.
template <typename NameFn>
void FormatMaskNames(uint64_t mask, int num_bits, const NameFn& name, char* buffer, size_t size, const char* sep) {
  size_t used = 0;
  if (size) buffer[0] = '\0';
  for (int bit = 0; bit < num_bits; ++bit) {
    if (!(mask & (uint64_t{1} << bit))) continue;
    const int n = std::snprintf(buffer + used, size - used, "%s%s", used ? sep : "", name(bit));
    if (n < 0 || static_cast<size_t>(n) >= size - used) return;
    used += static_cast<size_t>(n);
  }
}

}  // namespace detail
}  // namespace ek

#endif  // EK_DETAIL_NAME_LIST_H_

// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Comma- or space-separated name lists, as in EK_TARGETS and EK_DISABLE_LANES.
#ifndef EK_DETAIL_NAME_LIST_H_
#define EK_DETAIL_NAME_LIST_H_

#include <cstddef>

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

}  // namespace detail
}  // namespace ek

#endif  // EK_DETAIL_NAME_LIST_H_

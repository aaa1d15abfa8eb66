// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Integer helpers for sizes and plans, shared by every public header.
#ifndef EK_DETAIL_INT_MATH_H_
#define EK_DETAIL_INT_MATH_H_

#include <cstdint>

namespace ek {
namespace detail {

inline int64_t RoundUp(int64_t x, int64_t multiple) { return (x + multiple - 1) / multiple * multiple; }
inline int64_t CeilDiv(int64_t x, int64_t y) { return (x + y - 1) / y; }

}  // namespace detail
}  // namespace ek

#endif  // EK_DETAIL_INT_MATH_H_

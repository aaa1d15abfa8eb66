// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Renamed to ek/opencl/convert.h (the CPU header's name, ek/convert.h). Kept for one release.
#ifndef EK_OPENCL_QUANTIZE_H_
#define EK_OPENCL_QUANTIZE_H_
#include "ek/opencl/convert.h"
#endif  // EK_OPENCL_QUANTIZE_H_

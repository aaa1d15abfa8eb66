// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
#ifndef EK_VERSION_H_
#define EK_VERSION_H_

#define EK_VERSION_MAJOR 0
#define EK_VERSION_MINOR 1
#define EK_VERSION_PATCH 0
#define EK_VERSION_STRING "0.1.0"

#endif  // EK_VERSION_H_

// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// edgekernels: the whole public CPU API. (The OpenCL host runtime is in ek/opencl/ and needs
// the Khronos headers; it is not pulled in here.)
//
// It asks for every kernel family (ek/cpu/targets.h): a TU that uses one op builds faster with
// that op's header alone (docs/building.md). Include ek headers at file scope, before any
// foreach_target code of your own (see docs/architecture.md).
#ifndef EK_EK_H_
#define EK_EK_H_

#ifndef EK_KERNELS_CONVERT
#define EK_KERNELS_CONVERT 1
#endif
#ifndef EK_KERNELS_GEMM
#define EK_KERNELS_GEMM 1
#endif
#ifndef EK_KERNELS_QGEMM
#define EK_KERNELS_QGEMM 1
#endif
#ifndef EK_KERNELS_CONV
#define EK_KERNELS_CONV 1
#endif
#ifndef EK_KERNELS_ELEMENTWISE
#define EK_KERNELS_ELEMENTWISE 1
#endif
#ifndef EK_KERNELS_ATTENTION
#define EK_KERNELS_ATTENTION 1
#endif
#ifndef EK_KERNELS_TRANSFORMER
#define EK_KERNELS_TRANSFORMER 1
#endif

#include "ek/version.h"
#include "ek/status.h"
#include "ek/tensor.h"
#include "ek/tensor_validate.h"
#include "ek/cpu_features.h"
#include "ek/dispatch.h"
#include "ek/parallel.h"
#include "ek/system_info.h"
#include "ek/packed_weights.h"
#include "ek/ref/convert.h"
#include "ek/convert.h"
#include "ek/ref/gemm.h"
#include "ek/gemm.h"
#include "ek/requantize.h"
#include "ek/ref/qgemm.h"
#include "ek/qgemm.h"
#include "ek/gguf.h"
#include "ek/calibrate.h"
#include "ek/ref/conv.h"
#include "ek/conv.h"
#include "ek/ref/pool.h"
#include "ek/ref/elementwise.h"
#include "ek/elementwise.h"
#include "ek/ref/attention.h"
#include "ek/kv_cache.h"
#include "ek/attention.h"
#include "ek/ref/transformer.h"
#include "ek/transformer.h"

#endif  // EK_EK_H_

// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Element-wise ops on f32 tensor views (the residual add of vision networks and decoder blocks):
//
//   ek::Add(a, b, output, options, ctx)     output = act(a + b)
//
// a, b and output: f32 host views of the same shape, rank 1..5, any non-negative strides (rows
// that are contiguous in all three run vectorized); the output overlaps neither input (the one
// aliasing rule of every entry point). Numerics: ek/ref/elementwise.h, exact on every target.
#ifndef EK_ELEMENTWISE_H_
#define EK_ELEMENTWISE_H_

// This TU's kernel pass compiles the element-wise family (ek/cpu/targets.h).
#ifndef EK_KERNELS_ELEMENTWISE
#define EK_KERNELS_ELEMENTWISE 1
#endif
#include "ek/cpu/targets.h"  // the kernel pass (the first ek header of the TU runs it)
#ifndef EK_COMPILED_ELEMENTWISE
#error "ek/elementwise.h: this TU's kernel pass ran (at its first ek header) without the element-wise family: define EK_KERNELS_ELEMENTWISE before including any ek header, or include ek/ek.h (every family)"
#endif

#include "ek/cpu/elementwise/walk.h"
#include "ek/dispatch.h"
#include "ek/elementwise_options.h"
#include "ek/parallel.h"
#include "ek/status.h"
#include "ek/tensor.h"
#ifdef EK_ONLY_DISPATCH
#error "ek/elementwise.h needs the kernels: EK_ONLY_DISPATCH is defined in this translation unit"
#endif

namespace ek {

namespace {  // per-TU dispatch tables, unqualified names (see ek/dispatch.h)
HWY_EXPORT(AddRow);

// output = act(a + b), element by element.
inline Status Add(const TensorView& a, const TensorView& b, const TensorView& output,
                  const ElementwiseOptions& options = ElementwiseOptions(), const Context& ctx = Context()) {
  EK_RETURN_IF_ERROR(EnsureDispatchReady());
  detail::AddRowArgs shared;
  EK_RETURN_IF_ERROR(detail::ValidateAdd(a, b, output, options, &shared));
  detail::RunAddRows(a, b, output, shared, HWY_DYNAMIC_POINTER(AddRow), ctx);
  return Status::Ok();
}
}  // namespace

}  // namespace ek

#endif  // EK_ELEMENTWISE_H_

// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Validation of TensorViews at public entry points. Each check returns a Status whose message
// starts with the argument's name, e.g. "output: shape[2] is 0 (extents must be >= 1)".
// Kernels behind validation assume everything checked here.
#ifndef EK_TENSOR_VALIDATE_H_
#define EK_TENSOR_VALIDATE_H_

#include <cmath>
#include <cstdint>
#include <cstring>

#include "ek/ref/convert.h"
#include "ek/status.h"
#include "ek/tensor.h"

namespace ek {

// First and last byte (relative to the start of the view's memory) that a view can touch.
struct ByteSpan {
  int64_t first = 0;
  int64_t last = 0;
};

namespace detail {

inline bool MulOverflows(int64_t a, int64_t b, int64_t* out) { return __builtin_mul_overflow(a, b, out); }
inline bool AddOverflows(int64_t a, int64_t b, int64_t* out) { return __builtin_add_overflow(a, b, out); }

inline Status InvalidArg(const char* name, const char* what) {
  return Status::Error(StatusCode::kInvalidArgument, "%s: %s", name, what);
}

inline float LoadScale(DType type, const void* array, int64_t i) {
  switch (type) {
    case DType::kF16: return ref::F16ToF32(static_cast<const uint16_t*>(array)[i]);
    case DType::kBF16: return ref::BF16ToF32(static_cast<const uint16_t*>(array)[i]);
    default: return static_cast<const float*>(array)[i];
  }
}

// Smallest scale accepted: the smallest normal f32 (2^-126). Below it 1 / scale, which every
// quantizer multiplies by, overflows to inf.
constexpr float kMinQuantScale = 1.17549435e-38f;

inline Status CheckScale(const char* name, float scale, int64_t index) {
  if (!(std::isfinite(scale) && scale >= kMinQuantScale)) {
    return Status::Error(StatusCode::kInvalidArgument,
                         "%s: quant scale[%lld] = %g (scales must be finite and >= 2^-126)", name,
                         static_cast<long long>(index), static_cast<double>(scale));
  }
  return Status::Ok();
}

inline Status CheckZeroPoint(const char* name, DType dtype, int32_t zp, int64_t index) {
  const int32_t lo = dtype == DType::kI32 ? 0 : DTypeMin(dtype);
  const int32_t hi = dtype == DType::kI32 ? 0 : DTypeMax(dtype);
  if (zp < lo || zp > hi) {
    return Status::Error(StatusCode::kInvalidArgument,
                         "%s: quant zero_point[%lld] = %d does not fit %s (range %d..%d)", name,
                         static_cast<long long>(index), zp, DTypeName(dtype), lo, hi);
  }
  return Status::Ok();
}

}  // namespace detail

// Checks the quantization parameters of a (shape-valid) view.
inline Status ValidateQuant(const TensorView& v, const char* name) {
  const QuantParams& q = v.quant;
  if (q.scheme == QuantScheme::kNone) return Status::Ok();
  if (IsFloat(v.dtype)) {
    return Status::Error(StatusCode::kInvalidArgument,
                         "%s: quant parameters given for a %s tensor (only integer tensors are quantized)",
                         name, DTypeName(v.dtype));
  }
  switch (q.scheme) {
    case QuantScheme::kNone: break;
    case QuantScheme::kPerTensor:
      EK_RETURN_IF_ERROR(detail::CheckScale(name, q.scale, 0));
      return detail::CheckZeroPoint(name, v.dtype, q.zero_point, 0);
    case QuantScheme::kPerAxis: {
      if (q.axis < 0 || q.axis >= v.rank) {
        return Status::Error(StatusCode::kInvalidArgument, "%s: quant axis %d out of range for rank %d",
                             name, q.axis, v.rank);
      }
      if (q.scales == nullptr) return detail::InvalidArg(name, "quant scales is null");
      if (q.scale_type != DType::kF32) return detail::InvalidArg(name, "per-axis quant scales must be f32");
      const int64_t n = v.shape[q.axis];
      for (int64_t i = 0; i < n; ++i) {
        EK_RETURN_IF_ERROR(detail::CheckScale(name, static_cast<const float*>(q.scales)[i], i));
        if (q.zero_points) EK_RETURN_IF_ERROR(detail::CheckZeroPoint(name, v.dtype, q.zero_points[i], i));
      }
      return Status::Ok();
    }
    case QuantScheme::kPerBlock: {
      if (q.axis < 0 || q.axis >= v.rank) {
        return Status::Error(StatusCode::kInvalidArgument, "%s: quant axis %d out of range for rank %d",
                             name, q.axis, v.rank);
      }
      if (q.block_size <= 0) {
        return Status::Error(StatusCode::kInvalidArgument, "%s: quant block_size %lld must be >= 1", name,
                             static_cast<long long>(q.block_size));
      }
      if (!IsFloat(q.scale_type)) return detail::InvalidArg(name, "quant scale_type must be f32, f16 or bf16");
      if (q.scales == nullptr) return detail::InvalidArg(name, "quant scales is null");
      if (q.block_offset != BlockOffset::kNone && q.offsets == nullptr) {
        return detail::InvalidArg(name, "quant offsets is null but block_offset needs them");
      }
      int64_t num_scales = 1;
      for (int i = 0; i < v.rank; ++i) {
        const int64_t extent = i == q.axis ? (v.shape[i] + q.block_size - 1) / q.block_size : v.shape[i];
        if (detail::MulOverflows(num_scales, extent, &num_scales)) return detail::InvalidArg(name, "quant scale count overflows");
      }
      for (int64_t i = 0; i < num_scales; ++i) {
        EK_RETURN_IF_ERROR(detail::CheckScale(name, detail::LoadScale(q.scale_type, q.scales, i), i));
        if (q.block_offset == BlockOffset::kZeroPoint) {
          EK_RETURN_IF_ERROR(detail::CheckZeroPoint(name, v.dtype, static_cast<const int32_t*>(q.offsets)[i], i));
        } else if (q.block_offset == BlockOffset::kMin &&
                   !std::isfinite(detail::LoadScale(q.scale_type, q.offsets, i))) {
          return Status::Error(StatusCode::kInvalidArgument, "%s: quant min[%lld] is not finite", name,
                               static_cast<long long>(i));
        }
      }
      return Status::Ok();
    }
  }
  return detail::InvalidArg(name, "unknown quant scheme");
}

// An integer tensor of an op that takes one scale and zero point (TFLite's activations): quant
// parameters per tensor, and valid.
inline Status RequirePerTensorQuant(const TensorView& v, const char* name) {
  if (v.quant.scheme != QuantScheme::kPerTensor) return detail::InvalidArg(name, "must be quantized per tensor");
  return ValidateQuant(v, name);
}

// Computes the bytes a view can touch, checking for 64-bit overflow. Meaningful for views whose
// shape and strides were checked (ValidateView does both); safe on any view.
inline Status ComputeByteSpan(const TensorView& v, const char* name, ByteSpan* span) {
  if (v.rank < 1 || v.rank > kMaxRank) {
    return Status::Error(StatusCode::kInvalidArgument, "%s: rank %d (must be 1..%d)", name, v.rank, kMaxRank);
  }
  int64_t last_element = v.offset;
  for (int i = 0; i < v.rank; ++i) {
    // An unvalidated extent may be INT64_MIN, whose `- 1` would overflow.
    if (v.shape[i] < 1) {
      return Status::Error(StatusCode::kInvalidArgument, "%s: shape[%d] is %lld (extents must be >= 1)", name, i,
                           static_cast<long long>(v.shape[i]));
    }
    int64_t reach;
    if (detail::MulOverflows(v.shape[i] - 1, v.strides[i], &reach) ||
        detail::AddOverflows(last_element, reach, &last_element)) {
      return Status::Error(StatusCode::kInvalidArgument,
                           "%s: extent x stride overflows 64 bits (dimension %d)", name, i);
    }
  }
  const int bits = DTypeBits(v.dtype);
  int64_t first_byte, last_byte;
  if (bits == 4) {
    first_byte = v.offset / 2;
    last_byte = last_element / 2;
  } else {
    const int64_t bytes = bits / 8;
    if (detail::MulOverflows(v.offset, bytes, &first_byte) ||
        detail::MulOverflows(last_element, bytes, &last_byte) ||
        detail::AddOverflows(last_byte, bytes - 1, &last_byte)) {
      return Status::Error(StatusCode::kInvalidArgument, "%s: extent x stride x element size overflows 64 bits", name);
    }
  }
  // No machine addresses more than 2^57 bytes (x86 5-level paging; Arm64 has 48..52 bits).
  constexpr int64_t kMaxSpanBytes = int64_t{1} << 57;
  if (last_byte >= kMaxSpanBytes) {
    return Status::Error(StatusCode::kInvalidArgument, "%s: view spans %llu bytes, more than any address space",
                         name, static_cast<unsigned long long>(last_byte) + 1);
  }
  if (v.memory.kind == MemoryKind::kHost) {
    const uint64_t base = reinterpret_cast<uintptr_t>(v.memory.host);
    if (base + static_cast<uint64_t>(last_byte) < base || static_cast<uint64_t>(last_byte) > UINTPTR_MAX) {
      return detail::InvalidArg(name, "view extends past the end of the address space");
    }
  } else if (static_cast<uint64_t>(last_byte) + v.memory.byte_offset < v.memory.byte_offset) {
    return detail::InvalidArg(name, "byte_offset + extent overflows 64 bits");
  }
  span->first = first_byte;
  span->last = last_byte;
  return Status::Ok();
}

// Checks rank, extents, strides, offset, memory, layout promise, 64-bit overflow and quant params.
inline Status ValidateView(const TensorView& v, const char* name) {
  if (v.rank < 1 || v.rank > kMaxRank) {
    return Status::Error(StatusCode::kInvalidArgument, "%s: rank %d (must be 1..%d)", name, v.rank, kMaxRank);
  }
  for (int i = 0; i < v.rank; ++i) {
    if (v.shape[i] <= 0) {
      return Status::Error(StatusCode::kInvalidArgument, "%s: shape[%d] is %lld (extents must be >= 1)", name, i,
                           static_cast<long long>(v.shape[i]));
    }
    if (v.strides[i] < 0) {
      return Status::Error(StatusCode::kInvalidArgument, "%s: strides[%d] is %lld (must be >= 0)", name, i,
                           static_cast<long long>(v.strides[i]));
    }
  }
  if (v.offset < 0) {
    return Status::Error(StatusCode::kInvalidArgument, "%s: offset %lld is negative", name,
                         static_cast<long long>(v.offset));
  }
  switch (v.memory.kind) {
    case MemoryKind::kHost:
      if (v.memory.host == nullptr) return detail::InvalidArg(name, "data is null");
      // Elements of 2 and 4 bytes are read as such by the kernels and the references.
      if (DTypeBits(v.dtype) >= 16 && reinterpret_cast<uintptr_t>(v.memory.host) % (DTypeBits(v.dtype) / 8) != 0) {
        return Status::Error(StatusCode::kInvalidArgument, "%s: data is not %d-byte aligned (the %s element size)", name,
                             DTypeBits(v.dtype) / 8, DTypeName(v.dtype));
      }
      break;
    case MemoryKind::kOpenCLBuffer:
    case MemoryKind::kAccelerator:
      if (v.memory.handle == nullptr) return detail::InvalidArg(name, "buffer handle is null");
      break;
    default:
      return detail::InvalidArg(name, "unknown memory kind");
  }
  switch (v.layout) {
    case Layout::kStrided: break;
    case Layout::kRowMajor:
      if (v.rank != 2 || v.strides[1] != 1 || v.strides[0] < v.shape[1]) {
        return detail::InvalidArg(name, "layout row-major needs rank 2, strides[1] == 1 and strides[0] >= cols");
      }
      break;
    case Layout::kNHWC:
      if (v.rank != 4 || v.strides[3] != 1) {
        return detail::InvalidArg(name, "layout NHWC needs rank 4 and strides[3] == 1");
      }
      break;
    default:
      return detail::InvalidArg(name, "unknown layout");
  }
  ByteSpan span;
  EK_RETURN_IF_ERROR(ComputeByteSpan(v, name, &span));
  return ValidateQuant(v, name);
}

// An output must also not overlap itself: no two indices may map to the same element.
inline Status ValidateOutputView(const TensorView& v, const char* name) {
  EK_RETURN_IF_ERROR(ValidateView(v, name));
  // Sort the dimensions with extent > 1 by stride; each must step over the whole previous one.
  int order[kMaxRank];
  int n = 0;
  for (int i = 0; i < v.rank; ++i) {
    if (v.shape[i] > 1) order[n++] = i;
  }
  for (int a = 1; a < n; ++a) {
    for (int b = a; b > 0 && v.strides[order[b]] < v.strides[order[b - 1]]; --b) {
      const int t = order[b];
      order[b] = order[b - 1];
      order[b - 1] = t;
    }
  }
  int64_t needed = 1;
  for (int k = 0; k < n; ++k) {
    const int d = order[k];
    if (v.strides[d] < needed) {
      return Status::Error(StatusCode::kInvalidArgument,
                           "%s: strides[%d] = %lld makes the output overlap itself (needs >= %lld)", name, d,
                           static_cast<long long>(v.strides[d]), static_cast<long long>(needed));
    }
    needed = v.strides[d] * v.shape[d];
  }
  return Status::Ok();
}

// Whether two views may share bytes (conservative: compares the spans they can touch).
inline bool MayOverlap(const TensorView& a, const TensorView& b) {
  if (a.memory.kind != b.memory.kind) return false;
  ByteSpan sa, sb;
  if (!ComputeByteSpan(a, "a", &sa).ok() || !ComputeByteSpan(b, "b", &sb).ok()) return true;
  uint64_t a0, b0;
  if (a.memory.kind == MemoryKind::kHost) {
    a0 = reinterpret_cast<uintptr_t>(a.memory.host);
    b0 = reinterpret_cast<uintptr_t>(b.memory.host);
  } else {
    if (a.memory.handle != b.memory.handle) return false;
    a0 = a.memory.byte_offset;
    b0 = b.memory.byte_offset;
  }
  const uint64_t a_first = a0 + static_cast<uint64_t>(sa.first), a_last = a0 + static_cast<uint64_t>(sa.last);
  const uint64_t b_first = b0 + static_cast<uint64_t>(sb.first), b_last = b0 + static_cast<uint64_t>(sb.last);
  return a_first <= b_last && b_first <= a_last;
}

inline Status CheckNoOverlap(const TensorView& output, const char* output_name, const TensorView& input,
                             const char* input_name) {
  if (MayOverlap(output, input)) {
    return Status::Error(StatusCode::kInvalidArgument, "%s: overlaps %s (this kernel cannot run in place)",
                         output_name, input_name);
  }
  return Status::Ok();
}

// ---- The aliasing rule ------------------------------------------------------------------------
// Every entry point: an output may not share a byte with any input, with the workspace or with
// another output (no entry point of ek runs in place). Inputs include the arrays a view's
// quantization parameters point at (scales, zero points, offsets), also those of an output view
// whose parameters are read (ek::Quantize's output, QGemm's c); where an entry point writes
// such arrays (QuantizeWeights, UnpackQGemmWeights) they are outputs. Entry points list their
// operands in an AliasCheck and call Check() once, after each view was validated.
class AliasCheck {
 public:
  enum class Role : uint8_t { kInput, kOutput };

  // A validated view: its elements in `data_role`; its quant arrays (if any) in `quant_role`.
  void AddView(const TensorView& v, const char* name, Role data_role, Role quant_role = Role::kInput) {
    ByteSpan span;
    if (ComputeByteSpan(v, name, &span).ok()) {
      const uint64_t base = v.memory.kind == MemoryKind::kHost ? reinterpret_cast<uintptr_t>(v.memory.host)
                                                                : v.memory.byte_offset;
      Add(v.memory.kind, v.memory.kind == MemoryKind::kHost ? nullptr : v.memory.handle, base + span.first,
          base + span.last, name, "", data_role);
    }
    const QuantParams& q = v.quant;
    if (v.rank < 1 || v.rank > kMaxRank) return;  // invalid: the entry point's validation says so
    if (q.scheme == QuantScheme::kPerAxis && q.axis >= 0 && q.axis < v.rank) {
      const uint64_t count = static_cast<uint64_t>(v.shape[q.axis]);
      AddBytes(q.scales, count * 4, name, ".quant.scales", quant_role);
      AddBytes(q.zero_points, count * 4, name, ".quant.zero_points", quant_role);
    } else if (q.scheme == QuantScheme::kPerBlock && q.axis >= 0 && q.axis < v.rank && q.block_size > 0) {
      uint64_t count = 1;
      for (int i = 0; i < v.rank; ++i) {
        const uint64_t extent = static_cast<uint64_t>(i == q.axis ? (v.shape[i] + q.block_size - 1) / q.block_size
                                                                   : v.shape[i]);
        count = count > UINT64_MAX / (extent ? extent : 1) ? UINT64_MAX / 8 : count * extent;
      }
      const uint64_t scale_bytes = q.scale_type == DType::kF32 ? 4 : 2;
      AddBytes(q.scales, count * scale_bytes, name, ".quant.scales", quant_role);
      if (q.block_offset == BlockOffset::kZeroPoint) AddBytes(q.offsets, count * 4, name, ".quant.offsets", quant_role);
      if (q.block_offset == BlockOffset::kMin) AddBytes(q.offsets, count * scale_bytes, name, ".quant.offsets", quant_role);
    }
  }
  // `bytes` host bytes at p (nothing when p is null or bytes is 0).
  void AddBytes(const void* p, uint64_t bytes, const char* name, const char* part, Role role) {
    if (p == nullptr || bytes == 0) return;
    const uint64_t first = reinterpret_cast<uintptr_t>(p);
    const uint64_t last = first + bytes - 1 < first ? UINT64_MAX : first + bytes - 1;
    Add(MemoryKind::kHost, nullptr, first, last, name, part, role);
  }

  // `bytes` bytes from byte `offset` of a device buffer (an OpenCL cl_mem, an accelerator
  // handle): compared with the views that live in the same buffer.
  void AddDeviceBytes(MemoryKind kind, const void* handle, uint64_t offset, uint64_t bytes, const char* name, Role role) {
    if (handle == nullptr || bytes == 0) return;
    Add(kind, handle, offset, offset + bytes - 1 < offset ? UINT64_MAX : offset + bytes - 1, name, "", role);
  }

  // The first overlap of an output with anything else, named "output: overlaps other".
  Status Check() const {
    if (overflow_) return Status::Error(StatusCode::kInternal, "AliasCheck: more than %d operands", kMaxSpans);
    for (int i = 0; i < count_; ++i) {
      if (spans_[i].role != Role::kOutput) continue;
      for (int j = 0; j < count_; ++j) {
        if (j == i || (spans_[j].role == Role::kOutput && j < i)) continue;  // output pairs once
        const Span& a = spans_[i];
        const Span& b = spans_[j];
        if (a.kind != b.kind || a.handle != b.handle || a.last < b.first || b.last < a.first) continue;
        return Status::Error(StatusCode::kInvalidArgument, "%s%s: overlaps %s%s", a.name, a.part, b.name, b.part);
      }
    }
    return Status::Ok();
  }

 private:
  static constexpr int kMaxSpans = 24;
  struct Span {
    MemoryKind kind;
    const void* handle;  // null for host memory
    uint64_t first, last;
    const char* name;
    const char* part;
    Role role;
  };
  void Add(MemoryKind kind, const void* handle, uint64_t first, uint64_t last, const char* name, const char* part,
           Role role) {
    if (count_ == kMaxSpans) {
      overflow_ = true;
      return;
    }
    spans_[count_++] = Span{kind, handle, first, last, name, part, role};
  }
  Span spans_[kMaxSpans];
  int count_ = 0;
  bool overflow_ = false;
};

inline Status RequireHostMemory(const TensorView& v, const char* name) {
  if (v.memory.kind != MemoryKind::kHost) {
    return Status::Error(StatusCode::kWrongMemory, "%s: lives in %s memory; this CPU kernel needs host memory",
                         name, MemoryKindName(v.memory.kind));
  }
  return Status::Ok();
}

inline Status RequireDType(const TensorView& v, const char* name, DType want) {
  if (v.dtype != want) {
    return Status::Error(StatusCode::kInvalidArgument, "%s: dtype is %s, expected %s", name, DTypeName(v.dtype),
                         DTypeName(want));
  }
  return Status::Ok();
}

inline Status RequireSameShape(const TensorView& a, const char* a_name, const TensorView& b, const char* b_name) {
  bool same = a.rank == b.rank;
  for (int i = 0; same && i < a.rank; ++i) same = a.shape[i] == b.shape[i];
  if (!same) {
    return Status::Error(StatusCode::kInvalidArgument, "%s: shape differs from %s's", a_name, b_name);
  }
  return Status::Ok();
}

}  // namespace ek

#endif  // EK_TENSOR_VALIDATE_H_

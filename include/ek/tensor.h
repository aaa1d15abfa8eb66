// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// ek::TensorView: one non-owning view type for the CPU, OpenCL and accelerator backends.
//
// A view is: an element type, a rank (1..5), a shape and strides counted in *elements*, an offset
// in elements from the start of its memory, where that memory lives (host pointer, OpenCL buffer,
// opaque accelerator buffer), optional quantization parameters, and optionally the layout a
// kernel cares about.
//
// Element e of a view (e = offset + sum_i index_i * strides[i]) lives at:
//   - byte e * DTypeBytes(dtype) for whole-byte types;
//   - for kI4 (two signed 4-bit values per byte): byte e / 2, in the LOW nibble (bits 0..3) when
//     e is even and in the HIGH nibble (bits 4..7) when e is odd. Values are two's complement,
//     -8..7. This is ggml's and KleidiAI's order: element 2k is the low nibble of byte k.
//
// Validation (ValidateView and friends, tensor_validate.h) is what public entry points call
// before any kernel touches memory.
#ifndef EK_TENSOR_H_
#define EK_TENSOR_H_

#include <cstddef>
#include <cstdint>
#include <initializer_list>

namespace ek {

enum class DType : uint8_t { kF32, kF16, kBF16, kI8, kU8, kI32, kI4 };

constexpr int kMaxRank = 5;

inline const char* DTypeName(DType t) {
  switch (t) {
    case DType::kF32: return "f32";
    case DType::kF16: return "f16";
    case DType::kBF16: return "bf16";
    case DType::kI8: return "i8";
    case DType::kU8: return "u8";
    case DType::kI32: return "i32";
    case DType::kI4: return "i4";
  }
  return "?";
}

// Bits per element: 4 for kI4, otherwise 8 * bytes.
constexpr int DTypeBits(DType t) {
  return t == DType::kF32 || t == DType::kI32                    ? 32
         : t == DType::kF16 || t == DType::kBF16                 ? 16
         : t == DType::kI4                                        ? 4
                                                                  : 8;
}

constexpr bool IsFloat(DType t) { return t == DType::kF32 || t == DType::kF16 || t == DType::kBF16; }
constexpr bool IsQuantizable(DType t) { return t == DType::kI8 || t == DType::kU8 || t == DType::kI4 || t == DType::kI32; }

// Range of stored integer values; [0, 0] for float types.
constexpr int32_t DTypeMin(DType t) {
  return t == DType::kI8 ? -128 : t == DType::kI4 ? -8 : t == DType::kI32 ? INT32_MIN : 0;
}
constexpr int32_t DTypeMax(DType t) {
  return t == DType::kI8 ? 127 : t == DType::kU8 ? 255 : t == DType::kI4 ? 7 : t == DType::kI32 ? INT32_MAX : 0;
}

// What a kernel may assume about the arrangement of a view. kStrided promises nothing beyond the
// strides; the others are checked by validation.
enum class Layout : uint8_t {
  kStrided,   // any rank, any non-negative strides
  kRowMajor,  // rank 2 [rows, cols], strides[1] == 1, strides[0] (leading dim) >= cols
  kNHWC,      // rank 4 [N, H, W, C], strides[3] == 1
};

enum class MemoryKind : uint8_t {
  kHost,          // `host` is a CPU address
  kOpenCLBuffer,  // `handle` is a cl_mem; bytes start at `byte_offset` within it
  kAccelerator,   // `handle` is an opaque buffer of an accelerator backend (see ek/npu)
};

inline const char* MemoryKindName(MemoryKind k) {
  switch (k) {
    case MemoryKind::kHost: return "host";
    case MemoryKind::kOpenCLBuffer: return "opencl-buffer";
    case MemoryKind::kAccelerator: return "accelerator";
  }
  return "?";
}

struct Memory {
  MemoryKind kind = MemoryKind::kHost;
  void* host = nullptr;        // kHost: address of element 0 of the memory (before `offset`)
  void* handle = nullptr;      // kOpenCLBuffer: cl_mem; kAccelerator: backend handle
  uint64_t byte_offset = 0;    // kOpenCLBuffer / kAccelerator: start of the memory in `handle`
};

enum class QuantScheme : uint8_t {
  kNone,       // plain values (float types), or raw integers with no real-value meaning
  kPerTensor,  // real = scale * (q - zero_point)
  kPerAxis,    // real = scales[i_axis] * (q - zero_points[i_axis])
  kPerBlock,   // blocks of block_size consecutive indices along `axis`, one scale (and offset) each
};

// What a per-block offset means.
enum class BlockOffset : uint8_t {
  kNone,       // symmetric: real = scale * q
  kZeroPoint,  // real = scale * (q - zero_point), zero points as int32
  kMin,        // real = scale * q + min, mins stored in scale_type (ggml's Q4_1 style)
};

struct QuantParams {
  QuantScheme scheme = QuantScheme::kNone;
  // kPerTensor
  float scale = 1.0f;
  int32_t zero_point = 0;
  // kPerAxis and kPerBlock
  int axis = 0;
  const void* scales = nullptr;         // kPerAxis: float[shape[axis]]; kPerBlock: see below
  const int32_t* zero_points = nullptr; // kPerAxis: int32[shape[axis]] or null (symmetric)
  // kPerBlock: scales (and offsets) are a dense row-major array shaped like the tensor with
  // shape[axis] replaced by ceil(shape[axis] / block_size).
  int64_t block_size = 0;
  DType scale_type = DType::kF32;       // kPerBlock: f32, f16 or bf16 (kPerAxis: f32)
  BlockOffset block_offset = BlockOffset::kNone;
  const void* offsets = nullptr;        // kZeroPoint: int32 array; kMin: scale_type array

  static QuantParams PerTensor(float scale, int32_t zero_point = 0) {
    QuantParams q;
    q.scheme = QuantScheme::kPerTensor;
    q.scale = scale;
    q.zero_point = zero_point;
    return q;
  }
  static QuantParams PerAxis(int axis, const float* scales, const int32_t* zero_points = nullptr) {
    QuantParams q;
    q.scheme = QuantScheme::kPerAxis;
    q.axis = axis;
    q.scales = scales;
    q.zero_points = zero_points;
    return q;
  }
  static QuantParams PerBlock(int axis, int64_t block_size, DType scale_type, const void* scales,
                              BlockOffset block_offset = BlockOffset::kNone,
                              const void* offsets = nullptr) {
    QuantParams q;
    q.scheme = QuantScheme::kPerBlock;
    q.axis = axis;
    q.block_size = block_size;
    q.scale_type = scale_type;
    q.scales = scales;
    q.block_offset = block_offset;
    q.offsets = offsets;
    return q;
  }
};

// a * b for a, b >= 0, saturated at INT64_MAX instead of overflowing.
constexpr int64_t SaturatingMultiply(int64_t a, int64_t b) {
  return a == 0 || b == 0 ? 0 : (a > INT64_MAX / b ? INT64_MAX : a * b);
}

struct TensorView {
  DType dtype = DType::kF32;
  int rank = 0;
  int64_t shape[kMaxRank] = {0, 0, 0, 0, 0};
  int64_t strides[kMaxRank] = {0, 0, 0, 0, 0};  // in elements
  int64_t offset = 0;                           // in elements, from the start of `memory`
  Layout layout = Layout::kStrided;
  Memory memory;
  QuantParams quant;

  // A dense row-major (C order) host view.
  static TensorView Host(DType dtype, const void* data, std::initializer_list<int64_t> shape) {
    TensorView v;
    v.dtype = dtype;
    v.memory.host = const_cast<void*>(data);
    v.rank = static_cast<int>(shape.size() > kMaxRank ? kMaxRank + 1 : shape.size());
    if (v.rank > kMaxRank) return v;  // rejected by validation ("rank")
    int i = 0;
    for (int64_t e : shape) v.shape[i++] = e;
    int64_t stride = 1;
    for (i = v.rank - 1; i >= 0; --i) {
      v.strides[i] = stride;
      // Saturates instead of overflowing (a shape such as {4, 2^62, 4}): validation then
      // rejects the view ("extent x stride overflows 64 bits").
      stride = SaturatingMultiply(stride, v.shape[i] > 0 ? v.shape[i] : 1);
    }
    return v;
  }

  // A row-major matrix with leading dimension `ld` (elements between rows).
  static TensorView Matrix(DType dtype, const void* data, int64_t rows, int64_t cols, int64_t ld) {
    TensorView v = Host(dtype, data, {rows, cols});
    v.strides[0] = ld;
    v.layout = Layout::kRowMajor;
    return v;
  }

  static TensorView NHWC(DType dtype, const void* data, int64_t n, int64_t h, int64_t w, int64_t c) {
    TensorView v = Host(dtype, data, {n, h, w, c});
    v.layout = Layout::kNHWC;
    return v;
  }

  // A view into an OpenCL buffer (cl_mem passed as void*), dense row-major.
  static TensorView OpenCL(DType dtype, void* cl_mem_handle, uint64_t byte_offset,
                           std::initializer_list<int64_t> shape) {
    TensorView v = Host(dtype, nullptr, shape);
    v.memory.kind = MemoryKind::kOpenCLBuffer;
    v.memory.handle = cl_mem_handle;
    v.memory.byte_offset = byte_offset;
    return v;
  }

  TensorView WithStrides(std::initializer_list<int64_t> new_strides) const {
    TensorView v = *this;
    int i = 0;
    for (int64_t s : new_strides) {
      if (i < kMaxRank) v.strides[i] = s;
      ++i;
    }
    return v;
  }
  TensorView WithOffset(int64_t elements) const {
    TensorView v = *this;
    v.offset = elements;
    return v;
  }
  TensorView WithQuant(const QuantParams& q) const {
    TensorView v = *this;
    v.quant = q;
    return v;
  }
  TensorView WithLayout(Layout l) const {
    TensorView v = *this;
    v.layout = l;
    return v;
  }

  // The product of the extents, saturated at INT64_MAX (a valid view never gets there); of an
  // invalid rank's view, of its first kMaxRank extents at most (never read past shape).
  int64_t NumElements() const {
    int64_t n = 1;
    for (int i = 0; i < rank && i < kMaxRank; ++i) n = SaturatingMultiply(n, shape[i]);
    return n;
  }

  // Element offset (including `offset`) of a multi-index; kernels only, after validation.
  int64_t ElementOffset(const int64_t* index) const {
    int64_t e = offset;
    for (int i = 0; i < rank; ++i) e += index[i] * strides[i];
    return e;
  }

  // Host address of the byte holding element offset `e` (for kI4: the byte with both nibbles).
  uint8_t* HostByteOf(int64_t e) const {
    return static_cast<uint8_t*>(memory.host) + (dtype == DType::kI4 ? e / 2 : e * (DTypeBits(dtype) / 8));
  }
  template <typename T>
  T* HostData() const {
    return reinterpret_cast<T*>(HostByteOf(offset));
  }
};

// Packed int4 accessors (two's complement nibbles, element 2k in the low nibble of byte k).
inline int8_t GetI4(const void* base, int64_t e) {
  const uint8_t byte = static_cast<const uint8_t*>(base)[e >> 1];
  const uint8_t nibble = (e & 1) ? static_cast<uint8_t>(byte >> 4) : static_cast<uint8_t>(byte & 0x0F);
  return static_cast<int8_t>(static_cast<int8_t>(nibble << 4) >> 4);  // sign-extend
}
inline void SetI4(void* base, int64_t e, int value) {
  uint8_t& byte = static_cast<uint8_t*>(base)[e >> 1];
  const uint8_t nibble = static_cast<uint8_t>(value) & 0x0F;
  byte = (e & 1) ? static_cast<uint8_t>((byte & 0x0F) | (nibble << 4))
                 : static_cast<uint8_t>((byte & 0xF0) | nibble);
}

}  // namespace ek

#endif  // EK_TENSOR_H_

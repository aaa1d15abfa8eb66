// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// ek's packed weight formats: the 64-byte header they share, each format's own fields and
// layout, and the one reader / writer of both (docs/gemm.md and docs/quantization.md, "Packed
// weights"). Target-independent; no kernels.
//
// Shared header (little-endian), bytes:
//   0  magic u32            "EKGB" float GEMM weights, "EKQB" integer GEMM weights, "EKCV"
//                          convolution weights, "EKTC" transposed-convolution weights
//   4  version u16
//   6  header_bytes u16     64
//   8  total_bytes u64      header + payload
//  16  payload_checksum u64 Checksum64 (ek/detail/hash.h) of bytes [64, total_bytes)
//  24  ... the format's own fields (36 bytes; unused bytes are reserved and must be 0)
//  60  header_checksum u32  the low 32 bits of Checksum64 of bytes [0, 60)
// Every read of packed weights (each GEMM call) checks the header: magic, version, sizes, its
// checksum (so no header field can change unnoticed), every field against the others and
// against the buffer's size, reserved bytes 0. The payload checksum is checked by
// ek::VerifyPackedWeights, and by whoever loads weights from a file: not on every call.
#ifndef EK_DETAIL_PACKED_FORMAT_H_
#define EK_DETAIL_PACKED_FORMAT_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>

#include "ek/detail/hash.h"
#include "ek/detail/int_math.h"
#include "ek/detail/qweights.h"
#include "ek/status.h"
#include "ek/tensor.h"
#include "ek/tensor_validate.h"

namespace ek {
namespace detail {

constexpr size_t kPackedHeaderBytes = 64;

// Columns per panel of packed float B (EKGB). A multiple of every target's vector length in f32
// lanes (4, 8, 16), so a vector never straddles two panels.
constexpr int64_t kPanelWidth = 16;
// Packed integer weights (EKQB): panels of kQPanelWidth columns; inside a panel, k runs in groups
// of kQGroup: one group of one column is kQGroup consecutive bytes, and one group of the whole
// panel is 64 bytes (what one vpdpbusd / sdot consumes per row of A).
constexpr int64_t kQPanelWidth = 16;
constexpr int64_t kQGroup = 4;
// K is padded to a multiple of this (int4 packs two groups into one 64-byte row of nibbles).
constexpr int64_t kQKAlign = 8;
constexpr uintptr_t kPackedAlign = 4;  // packed weights: aligned for every element type

// The fields every format shares (bytes 0..23); the header checksum is bytes 60..63.
struct PackedPrefix {
  uint32_t magic;
  uint16_t version;
  uint16_t header_bytes;
  uint64_t total_bytes;
  uint64_t payload_checksum;
};
static_assert(sizeof(PackedPrefix) == 24, "the shared header fields are 24 bytes");

// The shared fields of a new header (the checksums are written by SealPacked).
inline PackedPrefix NewPackedPrefix(uint32_t magic, uint16_t version, uint64_t total_bytes) {
  PackedPrefix p;
  p.magic = magic;
  p.version = version;
  p.header_bytes = kPackedHeaderBytes;
  p.total_bytes = total_bytes;
  p.payload_checksum = 0;
  return p;
}

inline uint32_t PackedHeaderChecksum(const uint8_t* header) {
  return static_cast<uint32_t>(Checksum64(header, kPackedHeaderBytes - 4));
}

// Writes the checksums of packed weights whose header and payload are complete: call last.
inline void SealPacked(void* data) {
  auto* bytes = static_cast<uint8_t*>(data);
  PackedPrefix p;
  std::memcpy(&p, bytes, sizeof(p));
  p.payload_checksum = Checksum64(bytes + kPackedHeaderBytes, static_cast<size_t>(p.total_bytes - kPackedHeaderBytes));
  std::memcpy(bytes, &p, sizeof(p));
  const uint32_t header_checksum = PackedHeaderChecksum(bytes);
  std::memcpy(bytes + kPackedHeaderBytes - 4, &header_checksum, 4);
}

inline bool AllZero(const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (p[i] != 0) return false;
  }
  return true;
}

// Checks what every format shares; `what` names the format in errors ("packed GEMM weights").
inline Status ReadPackedPrefix(const void* data, size_t bytes, const char* name, uint32_t magic, uint16_t version,
                               const char* what, PackedPrefix* p) {
  if (data == nullptr) return InvalidArg(name, "data is null");
  if (reinterpret_cast<uintptr_t>(data) % kPackedAlign != 0) return InvalidArg(name, "data is not 4-byte aligned");
  if (bytes < kPackedHeaderBytes) {
    return Status::Error(StatusCode::kInvalidArgument, "%s: %zu bytes, smaller than the 64-byte header", name, bytes);
  }
  const auto* header = static_cast<const uint8_t*>(data);
  std::memcpy(p, header, sizeof(*p));
  if (p->magic != magic) return Status::Error(StatusCode::kInvalidArgument, "%s: not %s (bad magic)", name, what);
  if (p->version != version) {
    return Status::Error(StatusCode::kInvalidArgument, "%s: packed format version %u, this library reads version %u",
                         name, static_cast<unsigned>(p->version), static_cast<unsigned>(version));
  }
  uint32_t stored_checksum;
  std::memcpy(&stored_checksum, header + kPackedHeaderBytes - 4, 4);
  if (stored_checksum != PackedHeaderChecksum(header)) {
    return InvalidArg(name, "corrupt header (header checksum mismatch)");
  }
  if (p->header_bytes != kPackedHeaderBytes || p->total_bytes < kPackedHeaderBytes) {
    return InvalidArg(name, "corrupt header (sizes)");
  }
  if (p->total_bytes > bytes) {
    return Status::Error(StatusCode::kInvalidArgument, "%s: %zu bytes, the header says %llu", name, bytes,
                         static_cast<unsigned long long>(p->total_bytes));
  }
  return Status::Ok();
}

// The payload checksum (ek::VerifyPackedWeights; weights loaded from a file).
inline Status VerifyPackedPayload(const void* data, const PackedPrefix& p, const char* name) {
  const auto* bytes = static_cast<const uint8_t*>(data);
  if (Checksum64(bytes + kPackedHeaderBytes, static_cast<size_t>(p.total_bytes - kPackedHeaderBytes)) !=
      p.payload_checksum) {
    return InvalidArg(name, "payload checksum mismatch (the packed weights are corrupt)");
  }
  return Status::Ok();
}

// ---- "EKGB": float GEMM weights (ek/gemm.h), version 2 --------------------------------------
// After the header, ceil(N / 16) panels of 16 columns. Panel p holds columns 16p .. 16p + 15 for
// every k: row k of the panel is 16 consecutive elements (columns past N are zero). Panels start
// every panel_stride_bytes (a multiple of 64).
constexpr uint32_t kPackedGemmMagic = 0x42474B45u;  // "EKGB" in memory order
constexpr uint16_t kPackedGemmVersion = 2;

struct PackedGemmHeader {
  PackedPrefix prefix;
  uint8_t dtype;               // 24: DType of the elements: f32, f16 or bf16
  uint8_t panel_width;         // 25: kPanelWidth
  uint8_t reserved0[6];        // 26
  int64_t k;                   // 32
  int64_t n;                   // 40
  int64_t panel_stride_bytes;  // 48
  uint32_t reserved1;          // 56
  uint32_t header_checksum;    // 60
};
static_assert(sizeof(PackedGemmHeader) == kPackedHeaderBytes, "the packed format's header is 64 bytes");

inline bool IsWeightType(DType t) { return t == DType::kF32 || t == DType::kF16 || t == DType::kBF16; }

inline int64_t PanelStrideBytes(int64_t k, DType type) {
  return RoundUp(k * kPanelWidth * (DTypeBits(type) / 8), 64);
}
inline int64_t PackedPayloadBytes(int64_t k, int64_t n, DType type) {
  return CeilDiv(n, kPanelWidth) * PanelStrideBytes(k, type);
}

// The header of float weights [K x N] of `type`: checksums are written by SealPacked.
inline void WriteGemmHeader(DType type, int64_t k, int64_t n, void* out) {
  PackedGemmHeader h;
  std::memset(&h, 0, sizeof(h));
  h.prefix = NewPackedPrefix(kPackedGemmMagic, kPackedGemmVersion,
                             kPackedHeaderBytes + static_cast<uint64_t>(PackedPayloadBytes(k, n, type)));
  h.dtype = static_cast<uint8_t>(type);
  h.panel_width = static_cast<uint8_t>(kPanelWidth);
  h.k = k;
  h.n = n;
  h.panel_stride_bytes = PanelStrideBytes(k, type);
  std::memcpy(out, &h, sizeof(h));
}

// Reads and checks the header of packed float weights: everything a kernel relies on.
inline Status ReadGemmHeader(const void* data, size_t bytes, const char* name, PackedGemmHeader* h) {
  PackedPrefix p;
  EK_RETURN_IF_ERROR(ReadPackedPrefix(data, bytes, name, kPackedGemmMagic, kPackedGemmVersion,
                                      "packed GEMM weights", &p));
  std::memcpy(h, data, sizeof(*h));
  const DType type = static_cast<DType>(h->dtype);
  // K and N each up to 2^40, and the payload (panels x panel stride) within 2^62 bytes, checked
  // before it is computed (K = N = 2^40 would overflow int64: found by the fuzz lane).
  const bool sizes_ok = h->k >= 1 && h->n >= 1 && h->k <= (int64_t{1} << 40) && h->n <= (int64_t{1} << 40) &&
                        IsWeightType(type) &&
                        CeilDiv(h->n, kPanelWidth) <= (int64_t{1} << 62) / PanelStrideBytes(h->k, type);
  if (h->dtype > static_cast<uint8_t>(DType::kI4) || !IsWeightType(type) || h->panel_width != kPanelWidth ||
      !sizes_ok || h->panel_stride_bytes != PanelStrideBytes(h->k, type) ||
      h->prefix.total_bytes != kPackedHeaderBytes + static_cast<uint64_t>(PackedPayloadBytes(h->k, h->n, type)) ||
      !AllZero(h->reserved0, sizeof(h->reserved0)) || h->reserved1 != 0) {
    return InvalidArg(name, "corrupt header (type, panel width, sizes, reserved bytes)");
  }
  return Status::Ok();
}

// ---- "EKQB": integer GEMM weights (ek/qgemm.h), version 3 -----------------------------------
// Panels of kQPanelWidth columns; inside a panel, k runs in groups of kQGroup: one group of one
// column is kQGroup consecutive bytes, one group of the whole panel 64 bytes. Then the int32
// column sums [panels * 16], then the scales (layout: QPackedLayout, docs/quantization.md).
constexpr uint32_t kPackedQGemmMagic = 0x42514B45u;  // "EKQB" in memory order
// Version 3: the shared header with checksums, and int4 per-channel scales stored as given
// (version 2 folded 1/16 into them); version 2 stored per-block scales in their given type.
constexpr uint16_t kPackedQGemmVersion = 3;

struct PackedQGemmHeader {
  PackedPrefix prefix;
  uint8_t weight_type;       // 24: DType: i8, u8 or i4
  uint8_t scale_kind;        // 25: QScaleKind
  uint8_t scale_type;        // 26: DType of the scales as stored (f32 unless per block)
  uint8_t panel_width;       // 27: kQPanelWidth
  int32_t zero_point;        // 28: u8 weights: their zero point (0..255); otherwise 0
  int64_t k;                 // 32
  int64_t n;                 // 40
  int32_t block_size;        // 48: per block: k per block (32, 64, 128); otherwise 0
  uint32_t reserved[2];      // 52
  uint32_t header_checksum;  // 60
};
static_assert(sizeof(PackedQGemmHeader) == kPackedHeaderBytes, "packed header is 64 bytes");

// Sizes and offsets of the packed sections for B [K x N].
struct QPackedLayout {
  int64_t kp = 0;           // K padded to kQKAlign
  int64_t panels = 0;
  int64_t panel_bytes = 0;  // kp * 16 (s8) or kp * 8 (int4)
  int64_t blocks = 0;       // per block only
  uint64_t sums_offset = 0, scales_offset = 0, weighted_offset = 0, total_bytes = 0;
};

inline QPackedLayout LayoutFor(DType type, QScaleKind kind, int64_t k, int64_t n, int64_t block_size, DType scale_type) {
  QPackedLayout l;
  l.kp = RoundUp(k, kQKAlign);
  l.panels = CeilDiv(n, kQPanelWidth);
  l.panel_bytes = type == DType::kI4 ? l.kp * kQPanelWidth / 2 : l.kp * kQPanelWidth;
  l.blocks = kind == QScaleKind::kPerBlock ? CeilDiv(k, block_size) : 0;
  const int64_t columns = l.panels * kQPanelWidth;
  l.sums_offset = kPackedHeaderBytes + static_cast<uint64_t>(l.panels * l.panel_bytes);
  l.scales_offset = l.sums_offset + static_cast<uint64_t>(columns) * 4;
  if (kind == QScaleKind::kPerBlock) {  // 16 scales of 2 or 4 bytes per panel and block: 4-byte aligned
    const int64_t scale_bytes = scale_type == DType::kF32 ? 4 : 2;
    l.weighted_offset = l.scales_offset + static_cast<uint64_t>(l.panels * l.blocks * kQPanelWidth * scale_bytes);
    l.total_bytes = l.weighted_offset + static_cast<uint64_t>(columns) * 4;
  } else {
    l.total_bytes = l.scales_offset + static_cast<uint64_t>(columns) * 4;
  }
  return l;
}

// The header of integer weights: checksums are written by SealPacked.
inline void WriteQGemmHeader(DType weight_type, QScaleKind kind, DType scale_type, int32_t zero_point, int64_t k,
                             int64_t n, int64_t block_size, const QPackedLayout& l, void* out) {
  PackedQGemmHeader h;
  std::memset(&h, 0, sizeof(h));
  h.prefix = NewPackedPrefix(kPackedQGemmMagic, kPackedQGemmVersion, l.total_bytes);
  h.weight_type = static_cast<uint8_t>(weight_type);
  h.scale_kind = static_cast<uint8_t>(kind);
  h.scale_type = static_cast<uint8_t>(kind == QScaleKind::kPerBlock ? scale_type : DType::kF32);
  h.panel_width = static_cast<uint8_t>(kQPanelWidth);
  h.zero_point = weight_type == DType::kU8 ? zero_point : 0;
  h.k = k;
  h.n = n;
  h.block_size = static_cast<int32_t>(kind == QScaleKind::kPerBlock ? block_size : 0);
  std::memcpy(out, &h, sizeof(h));
}

// Reads and checks the header of packed integer weights: everything a kernel relies on.
inline Status ReadQHeader(const void* data, size_t bytes, const char* name, PackedQGemmHeader* h, QPackedLayout* l) {
  PackedPrefix p;
  EK_RETURN_IF_ERROR(ReadPackedPrefix(data, bytes, name, kPackedQGemmMagic, kPackedQGemmVersion,
                                      "packed integer weights", &p));
  std::memcpy(h, data, sizeof(*h));
  const DType type = static_cast<DType>(h->weight_type);
  const QScaleKind kind = static_cast<QScaleKind>(h->scale_kind);
  const bool type_ok = type == DType::kI8 || type == DType::kU8 || type == DType::kI4;
  const bool per_tensor_or_channel = ((kind == QScaleKind::kPerTensor && type != DType::kI4) ||
                                      (kind == QScaleKind::kPerChannel && type != DType::kU8)) &&
                                     h->block_size == 0 && h->scale_type == static_cast<uint8_t>(DType::kF32);
  const bool per_block =
      kind == QScaleKind::kPerBlock && (type == DType::kI4 || type == DType::kI8) &&
      (h->block_size == 32 || h->block_size == 64 || h->block_size == 128) &&
      (h->scale_type == static_cast<uint8_t>(DType::kF32) || h->scale_type == static_cast<uint8_t>(DType::kF16) ||
       h->scale_type == static_cast<uint8_t>(DType::kBF16));
  const bool kind_ok = per_tensor_or_channel || per_block;
  const bool zero_point_ok = type == DType::kU8 ? h->zero_point >= 0 && h->zero_point <= 255 : h->zero_point == 0;
  const int64_t max_k = kind == QScaleKind::kPerBlock ? kQMaxBlockK : kQMaxK;
  if (!type_ok || !kind_ok || !zero_point_ok || h->panel_width != kQPanelWidth || h->k < 1 || h->k > max_k ||
      h->n < 1 || h->n > (int64_t{1} << 31) || h->reserved[0] != 0 || h->reserved[1] != 0) {
    return InvalidArg(name, "corrupt header (type, scale kind, block size, zero point, K, N or reserved bytes)");
  }
  *l = LayoutFor(type, kind, h->k, h->n, h->block_size, static_cast<DType>(h->scale_type));
  if (h->prefix.total_bytes != l->total_bytes) {
    return InvalidArg(name, "corrupt header (total bytes do not match K, N and the scheme)");
  }
  return Status::Ok();
}

// ---- "EKCV": convolution weights (ek/conv.h), version 1 ---------------------------------------
// From an OHWI filter [C_out, KH, KW, C_in / groups] of type f32, i8 or u8 (the header's dtype).
// Two payload kinds:
//   indirect:  per group (group_stride_bytes apart), a whole sealed block of B_g [K x C_out /
//              groups], K = KH x KW x C_in / groups, row k = (ky * KW + kx) * group_in + c:
//              f32: an EKGB block (the float GEMM's packed weights); i8 / u8: an EKQB block (the
//              integer GEMM's, with its column sums and per-tensor or per-channel scales). The
//              GEMM paths hand a group's block to ek::Gemm / ek::QGemm as it is.
//   depthwise: (groups = C_in = C_out) KH x KW rows, row t holding the C_out weights of tap t,
//              f32: zero-padded to a multiple of 16 floats (group_stride_bytes: the row's bytes).
//              i8 (the int8 depthwise kernel): int16 weights zero-padded to a multiple of 64,
//              then after the KH x KW rows: int32 [C_pad] the sum of each channel's taps, f32
//              [C_pad] each channel's scale (a per-tensor scale repeated).
constexpr uint32_t kPackedConvMagic = 0x56434B45u;  // "EKCV" in memory order
constexpr uint16_t kPackedConvVersion = 1;
constexpr int64_t kConvMaxDim = int64_t{1} << 20;  // kernel sizes, channels and groups

enum class ConvWeightsKind : uint8_t { kIndirect = 0, kDepthwise = 1 };

struct PackedConvHeader {
  PackedPrefix prefix;
  uint8_t dtype;               // 24: DType of the weights: f32, i8 or u8
  uint8_t kind;                // 25: ConvWeightsKind
  uint8_t panel_width;         // 26: kPanelWidth
  uint8_t reserved0;           // 27
  int32_t kernel_h;            // 28
  int32_t kernel_w;            // 32
  int32_t group_in;            // 36: input channels per group
  int32_t out_channels;        // 40
  int32_t groups;              // 44
  int64_t group_stride_bytes;  // 48: indirect: bytes per group; depthwise: bytes per tap row
  uint32_t reserved1;          // 56
  uint32_t header_checksum;    // 60
};
static_assert(sizeof(PackedConvHeader) == kPackedHeaderBytes, "the packed format's header is 64 bytes");

// The shape of packed conv weights, and the byte sizes that follow from it.
struct ConvWeightsShape {
  int64_t kernel_h = 0, kernel_w = 0, group_in = 0, out_channels = 0, groups = 1;
  DType dtype = DType::kF32;
  ConvWeightsKind kind = ConvWeightsKind::kIndirect;
  int64_t Taps() const { return kernel_h * kernel_w; }
  int64_t GroupOut() const { return out_channels / groups; }
  int64_t K() const { return Taps() * group_in; }
  bool Quantized() const { return dtype != DType::kF32; }
  // Channels of an int8 depthwise row: a multiple of every target's int16 vector (at most 32
  // lanes are used) times two.
  static constexpr int64_t kQDepthwiseAlign = 64;
  int64_t QDepthwiseChannels() const { return RoundUp(out_channels, kQDepthwiseAlign); }
  int64_t StrideBytes() const {  // per group (indirect) or per tap row (depthwise)
    if (kind == ConvWeightsKind::kDepthwise) {
      return Quantized() ? QDepthwiseChannels() * 2 : RoundUp(out_channels, kPanelWidth) * 4;
    }
    if (Quantized()) {  // an EKQB block; per-tensor and per-channel blocks have the same size
      return static_cast<int64_t>(LayoutFor(dtype, QScaleKind::kPerChannel, K(), GroupOut(), 0, DType::kF32).total_bytes);
    }
    return static_cast<int64_t>(kPackedHeaderBytes) + PackedPayloadBytes(K(), GroupOut(), DType::kF32);
  }
  // int8 depthwise: the sums and scales after the tap rows.
  int64_t QDepthwiseSumsOffset() const { return Taps() * StrideBytes(); }
  int64_t QDepthwiseScalesOffset() const { return QDepthwiseSumsOffset() + QDepthwiseChannels() * 4; }
  int64_t PayloadBytes() const {
    if (kind == ConvWeightsKind::kDepthwise) {
      return Taps() * StrideBytes() + (Quantized() ? QDepthwiseChannels() * 8 : 0);
    }
    return StrideBytes() * groups;
  }
  // The dimensions are within kConvMaxDim and K within 2^30 (int8: the integer GEMM's K limit),
  // and the payload within 2^62 bytes (checked without overflowing: each of StrideBytes'
  // factors is below 2^31).
  bool SizesOk() const {
    const auto in_range = [](int64_t x) { return x >= 1 && x <= kConvMaxDim; };
    if (!in_range(kernel_h) || !in_range(kernel_w) || !in_range(group_in) || !in_range(out_channels) ||
        !in_range(groups) || out_channels % groups != 0 || Taps() * group_in > (int64_t{1} << 30) ||
        (Quantized() && Taps() * group_in > kQMaxK)) {
      return false;
    }
    const int64_t count = kind == ConvWeightsKind::kDepthwise ? Taps() + 4 : groups;
    return count <= (int64_t{1} << 62) / StrideBytes();
  }
};

// Depthwise weights (their own kernel) when every group has one input and one output channel.
// (kernels of at most kConvMaxDepthwiseTaps taps: the kernel keeps a pointer per tap and pixel).
// f32 and i8; u8 weights (a zero point) run the GEMM path per group.
constexpr int64_t kConvMaxDepthwiseTaps = 64;
inline ConvWeightsKind ConvKindFor(DType dtype, int64_t group_in, int64_t out_channels, int64_t groups, int64_t taps) {
  return dtype != DType::kU8 && groups > 1 && group_in == 1 && out_channels == groups && taps <= kConvMaxDepthwiseTaps
             ? ConvWeightsKind::kDepthwise
             : ConvWeightsKind::kIndirect;
}

inline void WriteConvHeader(const ConvWeightsShape& s, void* out) {
  PackedConvHeader h;
  std::memset(&h, 0, sizeof(h));
  h.prefix = NewPackedPrefix(kPackedConvMagic, kPackedConvVersion,
                             kPackedHeaderBytes + static_cast<uint64_t>(s.PayloadBytes()));
  h.dtype = static_cast<uint8_t>(s.dtype);
  h.kind = static_cast<uint8_t>(s.kind);
  h.panel_width = static_cast<uint8_t>(kPanelWidth);
  h.kernel_h = static_cast<int32_t>(s.kernel_h);
  h.kernel_w = static_cast<int32_t>(s.kernel_w);
  h.group_in = static_cast<int32_t>(s.group_in);
  h.out_channels = static_cast<int32_t>(s.out_channels);
  h.groups = static_cast<int32_t>(s.groups);
  h.group_stride_bytes = s.StrideBytes();
  std::memcpy(out, &h, sizeof(h));
}

// The filter fields both convolution headers carry (EKCV, EKTC): the element type...
inline bool ConvWeightsDTypeOk(uint8_t dtype) {
  return dtype == static_cast<uint8_t>(DType::kF32) || dtype == static_cast<uint8_t>(DType::kI8) ||
         dtype == static_cast<uint8_t>(DType::kU8);
}

// ... and the shape: copied into *s, range-checked and classified (s->kind); false when a
// dimension is out of range.
template <class Header>
inline bool ReadFilterShape(const Header& h, ConvWeightsShape* s) {
  s->kernel_h = h.kernel_h;
  s->kernel_w = h.kernel_w;
  s->group_in = h.group_in;
  s->out_channels = h.out_channels;
  s->groups = h.groups;
  s->dtype = static_cast<DType>(h.dtype);
  const bool dims_ok = h.kernel_h >= 1 && h.kernel_w >= 1 && h.group_in >= 1 && h.groups >= 1 &&
                       h.kernel_h <= kConvMaxDim && h.kernel_w <= kConvMaxDim;
  if (dims_ok) s->kind = ConvKindFor(s->dtype, s->group_in, s->out_channels, s->groups, s->Taps());
  return dims_ok;
}

// Reads and checks the header: everything the kernels rely on.
inline Status ReadConvHeader(const void* data, size_t bytes, const char* name, ConvWeightsShape* s) {
  PackedPrefix p;
  EK_RETURN_IF_ERROR(ReadPackedPrefix(data, bytes, name, kPackedConvMagic, kPackedConvVersion,
                                      "packed convolution weights", &p));
  PackedConvHeader h;
  std::memcpy(&h, data, sizeof(h));
  if (!ConvWeightsDTypeOk(h.dtype) || h.panel_width != kPanelWidth || h.reserved0 != 0 || h.reserved1 != 0) {
    return InvalidArg(name, "corrupt header (type, panel width or reserved bytes)");
  }
  if (!ReadFilterShape(h, s) || !s->SizesOk()) return InvalidArg(name, "corrupt header (sizes)");
  if (h.kind != static_cast<uint8_t>(s->kind) || h.group_stride_bytes != s->StrideBytes() ||
      p.total_bytes != kPackedHeaderBytes + static_cast<uint64_t>(s->PayloadBytes())) {
    return InvalidArg(name, "corrupt header (kind or sizes do not match the shape)");
  }
  return Status::Ok();
}


// ---- "EKTC": transposed convolution weights (ek/conv.h: ek::TransposeConv2D), version 1 -----
// A transposed convolution of stride (sh, sw) is sh x sw ordinary stride-1 convolutions, one per
// phase of the output (docs/conv.md): output rows y with (y + pad_top) % sh == rh take the
// filter's taps ky = rh, rh + sh, rh + 2 sh, ... (kernel rows ceil((KH - rh) / sh)), in reverse
// order. The payload holds, per residue pair (rh, rw) with rh < min(KH, sh) and rw < min(KW, sw),
// row-major, the sealed EKCV block of that sub-filter [C_out, TH, TW, C_in / groups] (taps
// reversed), each at a multiple of 64 bytes from the payload's start; then, quantized, f32
// [C_out] the filter's scale of each output channel (a per-tensor scale repeated), for the
// output phases that read no input (bias only).
constexpr uint32_t kPackedTransposedConvMagic = 0x43544B45u;  // "EKTC" in memory order
constexpr uint16_t kPackedTransposedConvVersion = 1;

struct PackedTransposedConvHeader {
  PackedPrefix prefix;
  uint8_t dtype;             // 24: DType of the weights: f32, i8 or u8
  uint8_t reserved0[3];      // 25
  int32_t kernel_h;          // 28
  int32_t kernel_w;          // 32
  int32_t stride_h;          // 36
  int32_t stride_w;          // 40
  int32_t group_in;          // 44
  int32_t out_channels;      // 48
  int32_t groups;            // 52
  uint32_t reserved1;        // 56
  uint32_t header_checksum;  // 60
};
static_assert(sizeof(PackedTransposedConvHeader) == kPackedHeaderBytes, "the packed format's header is 64 bytes");

// The shape of packed transposed-convolution weights: the filter's (as ConvWeightsShape) and the
// strides, and the sub-filters and byte offsets that follow from them.
struct TransposedConvShape {
  ConvWeightsShape filter;  // [C_out, KH, KW, C_in / groups]
  int64_t stride_h = 1, stride_w = 1;
  // Sub-filter rows of residue r along an axis: taps r, r + stride, ... below kernel.
  static int64_t SubTaps(int64_t kernel, int64_t stride, int64_t r) { return r < kernel ? (kernel - r + stride - 1) / stride : 0; }
  int64_t ResiduesH() const { return filter.kernel_h < stride_h ? filter.kernel_h : stride_h; }
  int64_t ResiduesW() const { return filter.kernel_w < stride_w ? filter.kernel_w : stride_w; }
  // The ordinary convolution weights of residue pair (rh, rw) (rh < ResiduesH(), rw < ResiduesW()).
  ConvWeightsShape Sub(int64_t rh, int64_t rw) const {
    ConvWeightsShape s = filter;
    s.kernel_h = SubTaps(filter.kernel_h, stride_h, rh);
    s.kernel_w = SubTaps(filter.kernel_w, stride_w, rw);
    s.kind = ConvKindFor(s.dtype, s.group_in, s.out_channels, s.groups, s.Taps());
    return s;
  }
  static int64_t BlockBytes(const ConvWeightsShape& s) {
    return RoundUp(static_cast<int64_t>(kPackedHeaderBytes) + s.PayloadBytes(), 64);
  }
  // Along an axis, the first Wide() residues have SubTaps(.., 0) taps, the others one fewer.
  static int64_t Wide(int64_t kernel, int64_t stride) {
    const int64_t residues = kernel < stride ? kernel : stride;
    const int64_t wide = kernel - (SubTaps(kernel, stride, 0) - 1) * stride;
    return wide < residues ? wide : residues;
  }
  // Byte offset of residue pair (rh, rw)'s block from the payload's start (rh = ResiduesH():
  // past the last block). Blocks come in at most four sizes, so this is a sum of counts.
  int64_t BlockOffset(int64_t rh, int64_t rw) const {
    const int64_t wide_h = Wide(filter.kernel_h, stride_h), wide_w = Wide(filter.kernel_w, stride_w);
    const int64_t taps_h = SubTaps(filter.kernel_h, stride_h, 0), taps_w = SubTaps(filter.kernel_w, stride_w, 0);
    const auto block = [&](int64_t th, int64_t tw) {
      ConvWeightsShape s = filter;
      s.kernel_h = th;
      s.kernel_w = tw;
      s.kind = ConvKindFor(s.dtype, s.group_in, s.out_channels, s.groups, s.Taps());
      return BlockBytes(s);
    };
    // The first `count` residues of an axis with `wide` wide ones: (wide ones, narrow ones).
    const auto split = [](int64_t count, int64_t wide) {
      const int64_t w = count < wide ? count : wide;
      return std::pair<int64_t, int64_t>(w, count - w);
    };
    const auto row_bytes = [&](int64_t th, int64_t columns) {
      const auto c = split(columns, wide_w);
      return c.first * block(th, taps_w) + (c.second > 0 ? c.second * block(th, taps_w - 1) : 0);
    };
    const auto rows = split(rh, wide_h);
    int64_t offset = rows.first * row_bytes(taps_h, ResiduesW()) +
                     (rows.second > 0 ? rows.second * row_bytes(taps_h - 1, ResiduesW()) : 0);
    if (rh < ResiduesH()) offset += row_bytes(rh < wide_h ? taps_h : taps_h - 1, rw);
    return offset;
  }
  int64_t ScalesOffset() const { return BlockOffset(ResiduesH(), 0); }  // past the last block
  int64_t PayloadBytes() const { return ScalesOffset() + (filter.Quantized() ? filter.out_channels * 4 : 0); }
  // Strides within 2^20 and at most 2^16 blocks; each block within ConvWeightsShape's limits.
  bool SizesOk() const {
    if (!filter.SizesOk() || stride_h < 1 || stride_w < 1 || stride_h > kConvMaxDim || stride_w > kConvMaxDim ||
        ResiduesH() * ResiduesW() > (int64_t{1} << 16)) {
      return false;
    }
    // The largest block (residue 0 along both axes) bounds the others; the total stays < 2^62.
    const ConvWeightsShape largest = Sub(0, 0);
    return largest.SizesOk() && BlockBytes(largest) <= (int64_t{1} << 45);
  }
};

inline void WriteTransposedConvHeader(const TransposedConvShape& t, void* out) {
  PackedTransposedConvHeader h;
  std::memset(&h, 0, sizeof(h));
  h.prefix = NewPackedPrefix(kPackedTransposedConvMagic, kPackedTransposedConvVersion,
                             kPackedHeaderBytes + static_cast<uint64_t>(t.PayloadBytes()));
  h.dtype = static_cast<uint8_t>(t.filter.dtype);
  h.kernel_h = static_cast<int32_t>(t.filter.kernel_h);
  h.kernel_w = static_cast<int32_t>(t.filter.kernel_w);
  h.stride_h = static_cast<int32_t>(t.stride_h);
  h.stride_w = static_cast<int32_t>(t.stride_w);
  h.group_in = static_cast<int32_t>(t.filter.group_in);
  h.out_channels = static_cast<int32_t>(t.filter.out_channels);
  h.groups = static_cast<int32_t>(t.filter.groups);
  std::memcpy(out, &h, sizeof(h));
}

// Reads and checks the header (the blocks' own headers are checked by the convolutions that read
// them, and against Sub() by ek::TransposeConv2D).
inline Status ReadTransposedConvHeader(const void* data, size_t bytes, const char* name, TransposedConvShape* t) {
  PackedPrefix p;
  EK_RETURN_IF_ERROR(ReadPackedPrefix(data, bytes, name, kPackedTransposedConvMagic, kPackedTransposedConvVersion,
                                      "packed transposed-convolution weights", &p));
  PackedTransposedConvHeader h;
  std::memcpy(&h, data, sizeof(h));
  if (!ConvWeightsDTypeOk(h.dtype) || h.reserved0[0] != 0 || h.reserved0[1] != 0 || h.reserved0[2] != 0 ||
      h.reserved1 != 0) {
    return InvalidArg(name, "corrupt header (type or reserved bytes)");
  }
  t->stride_h = h.stride_h;
  t->stride_w = h.stride_w;
  if (!ReadFilterShape(h, &t->filter) || !t->SizesOk() ||
      p.total_bytes != kPackedHeaderBytes + static_cast<uint64_t>(t->PayloadBytes())) {
    return InvalidArg(name, "corrupt header (sizes)");
  }
  return Status::Ok();
}

}  // namespace detail
}  // namespace ek

#endif  // EK_DETAIL_PACKED_FORMAT_H_

// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Kernel parameters per device: which OpenCL kernel of a family runs and its tile (GemmTile),
// the defaults per device class, and the tuning file that overrides them (LoadGemmTuning, written
// by tools/ek_cl_tune). One section per kernel family (GEMM, convolution; attention adds its
// own here), so the runtime header does not grow with them.
#ifndef EK_OPENCL_TUNING_H_
#define EK_OPENCL_TUNING_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "ek/opencl/device.h"
#include "ek/status.h"

namespace ek {
namespace opencl {

// ---- GEMM (opencl/gemm.cl) ----------------------------------------------------------------------
// Which kernel of opencl/gemm.cl runs, and its tile.
//   kTiled (ek_gemm): tile_m x tile_n outputs per work-group, tile_k k per step through local
//     memory, wpt_m x wpt_n outputs per work-item.
//   kVector (ek_gemm_vec, f32 and f16 storage with B not transposed): wpt_m rows x wpt_n columns
//     per work-item, wpt_n the float vector width (4, 8 or 16); tile_m x tile_n per work-group;
//     tile_k unused. Other calls fall back to the tiled kernel with DefaultGemmTile's tiled tile.
enum class GemmKernel : uint8_t { kTiled = 0, kVector = 1 };

struct GemmTile {
  int tile_m = 32;
  int tile_n = 32;
  int tile_k = 16;
  int wpt_m = 4;
  int wpt_n = 4;
  GemmKernel kernel = GemmKernel::kTiled;
};

// The GEMM kernel's types, each with its own tile.
enum class GemmKernelType : uint8_t { kF32 = 0, kF16 = 1, kS8 = 2 };
constexpr int kGemmKernelTypes = 3;
inline const char* GemmKernelTypeName(GemmKernelType t) {
  return t == GemmKernelType::kF32 ? "f32" : t == GemmKernelType::kF16 ? "f16" : "s8";
}

// The tiled kernel's default tile (GPUs: 256 work-items of 4 x 4; CPU devices: 16 work-items of
// 8 x 8, which PoCL turns into SIMD lanes: ek-cl-tune's best s8 tile at 512^3 and 1024^3).
inline GemmTile DefaultTiledGemmTile(const DeviceCaps& caps) {
  GemmTile t;
  t.tile_m = caps.gpu ? 64 : 32;
  t.tile_n = caps.gpu ? 64 : 32;
  t.tile_k = 16;
  t.wpt_m = caps.gpu ? 4 : 8;
  t.wpt_n = caps.gpu ? 4 : 8;
  return t;
}

// Built-in defaults when no tuning file names the device or its vendor (tools/ek-cl-tune).
// CPU devices run f32 and f16 on the vector kernel: 8 rows x 16 floats per work-item (8 zmm /
// 16 ymm accumulators), 16 items in y sharing a sliver of B (ek-cl-tune on PoCL, AVX-512 Zen 4).
inline GemmTile DefaultGemmTile(const DeviceCaps& caps, GemmKernelType type) {
  if (caps.gpu || type == GemmKernelType::kS8) return DefaultTiledGemmTile(caps);
  GemmTile t;
  t.kernel = GemmKernel::kVector;
  t.wpt_m = 8;
  t.wpt_n = 16;
  t.tile_m = 8 * 16;
  t.tile_n = 16;
  t.tile_k = 1;
  return t;
}

// ---- Convolution (opencl/conv.cl's direct kernel; pointwise layers use the GEMM's tiles) ------
// Output pixels of one row per work-item (1..8) and work-items per group along the output
// channels (0: the driver's choice).
struct ConvTile {
  int pixels = 4;
  int local_channels = 0;
};

enum class ConvKernelType : uint8_t { kF32 = 0, kF16 = 1, kInt8 = 2 };  // kInt8: i8 and u8
constexpr int kConvKernelTypes = 3;
inline const char* ConvKernelTypeName(ConvKernelType t) {
  return t == ConvKernelType::kF32 ? "conv_f32" : t == ConvKernelType::kF16 ? "conv_f16" : "conv_int8";
}

// Built-in default: 4 pixels, the driver's work-group (not measured on a GPU yet).
inline ConvTile DefaultConvTile(const DeviceCaps&, ConvKernelType) { return ConvTile(); }

// True when text holds only white space from offset `from` on (from < 0: the scan failed).
inline bool OnlySpaceFrom(const char* text, int from) {
  if (from < 0) return false;
  for (const char* p = text + from; *p != '\0'; ++p) {
    if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n') return false;
  }
  return true;
}

// Tuning file (written by tools/ek-cl-tune), one entry per line, '#' comments:
//   device <TAB> <device name> <TAB> <type> <TAB> <parameters>
//   vendor <TAB> <vendor name> <TAB> <type> <TAB> <parameters>
// GEMM types f32, f16, s8: tile_m tile_n tile_k wpt_m wpt_n [kernel] (kernel: 0 tiled, the
// default when absent, 1 vector). Convolution types conv_f32, conv_f16, conv_int8: pixels
// local_channels.
// For each type the device's own line wins, then its vendor's, then the built-in default.
// `matched` (optional) receives "device", "vendor" or "default" per type. A missing file is not
// an error (defaults); a malformed line is, naming the line.
inline Status LoadTuning(const char* path, const DeviceCaps& caps, GemmTile tiles[kGemmKernelTypes],
                         ConvTile conv_tiles[kConvKernelTypes], const char* matched[kGemmKernelTypes] = nullptr,
                         const char* conv_matched[kConvKernelTypes] = nullptr) {
  int rank[kGemmKernelTypes];  // 0 default, 1 vendor, 2 device
  int conv_rank[kConvKernelTypes];
  for (int t = 0; t < kGemmKernelTypes; ++t) {
    tiles[t] = DefaultGemmTile(caps, static_cast<GemmKernelType>(t));
    rank[t] = 0;
  }
  for (int t = 0; t < kConvKernelTypes; ++t) {
    conv_tiles[t] = DefaultConvTile(caps, static_cast<ConvKernelType>(t));
    conv_rank[t] = 0;
  }
  FILE* f = path != nullptr && *path != '\0' ? std::fopen(path, "r") : nullptr;
  int line_number = 0;
  char line[512];
  while (f != nullptr && std::fgets(line, sizeof(line), f) != nullptr) {
    ++line_number;
    if (line[0] == '#' || line[0] == '\n' || line[0] == '\0') continue;
    char* fields[4] = {line, nullptr, nullptr, nullptr};
    int count = 1;
    for (char* p = line; *p != '\0' && count < 4; ++p) {
      if (*p == '\t') {
        *p = '\0';
        fields[count++] = p + 1;
      }
    }
    GemmTile tile;
    ConvTile conv;
    int type = -1, conv_type = -1, kernel = 0;
    for (int t = 0; t < kGemmKernelTypes && count == 4; ++t) {
      if (std::strcmp(fields[2], GemmKernelTypeName(static_cast<GemmKernelType>(t))) == 0) type = t;
    }
    for (int t = 0; t < kConvKernelTypes && count == 4; ++t) {
      if (std::strcmp(fields[2], ConvKernelTypeName(static_cast<ConvKernelType>(t))) == 0) conv_type = t;
    }
    const bool is_device = std::strcmp(fields[0], "device") == 0, is_vendor = std::strcmp(fields[0], "vendor") == 0;
    // The integers and nothing after them (%n: where the scan stopped; a trailing field is an
    // error, not ignored).
    int used = -1, used_kernel = -1;
    const int gemm_fields = type >= 0 ? std::sscanf(fields[3], "%d %d %d %d %d%n %d%n", &tile.tile_m, &tile.tile_n,
                                                    &tile.tile_k, &tile.wpt_m, &tile.wpt_n, &used, &kernel, &used_kernel)
                                      : 0;
    const int gemm_end = gemm_fields == 6 ? used_kernel : used;
    const bool gemm_ok = gemm_fields >= 5 && OnlySpaceFrom(fields[3], gemm_end) && kernel >= 0 && kernel <= 1;
    used = -1;
    const bool conv_ok = conv_type >= 0 &&
                         std::sscanf(fields[3], "%d %d%n", &conv.pixels, &conv.local_channels, &used) == 2 &&
                         OnlySpaceFrom(fields[3], used) && conv.pixels >= 1 && conv.pixels <= 8 &&
                         conv.local_channels >= 0;
    if (count != 4 || !(is_device || is_vendor) || !(gemm_ok || conv_ok)) {
      std::fclose(f);
      return Status::Error(StatusCode::kInvalidArgument,
                           "%s:%d: expected 'device|vendor <TAB> name <TAB> f32|f16|s8 <TAB> 5 integers [kernel 0|1]' "
                           "or '... <TAB> conv_f32|conv_f16|conv_int8 <TAB> pixels (1..8) local_channels'",
                           path, line_number);
    }
    tile.kernel = static_cast<GemmKernel>(kernel);
    const bool match = std::strcmp(fields[1], is_device ? caps.name : caps.vendor) == 0;
    const int line_rank = is_device ? 2 : 1;
    if (match && gemm_ok && line_rank >= rank[type]) {
      tiles[type] = tile;
      rank[type] = line_rank;
    }
    if (match && conv_ok && line_rank >= conv_rank[conv_type]) {
      conv_tiles[conv_type] = conv;
      conv_rank[conv_type] = line_rank;
    }
  }
  if (f != nullptr) std::fclose(f);
  const auto name = [](int r) { return r == 2 ? "device" : r == 1 ? "vendor" : "default"; };
  for (int t = 0; matched != nullptr && t < kGemmKernelTypes; ++t) matched[t] = name(rank[t]);
  for (int t = 0; conv_matched != nullptr && t < kConvKernelTypes; ++t) conv_matched[t] = name(conv_rank[t]);
  return Status::Ok();
}

// The GEMM part of LoadTuning.
inline Status LoadGemmTuning(const char* path, const DeviceCaps& caps, GemmTile tiles[kGemmKernelTypes],
                             const char* matched[kGemmKernelTypes] = nullptr) {
  ConvTile conv_tiles[kConvKernelTypes];
  return LoadTuning(path, caps, tiles, conv_tiles, matched);
}

}  // namespace opencl
}  // namespace ek

#endif  // EK_OPENCL_TUNING_H_

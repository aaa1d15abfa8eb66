// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Kernel parameters per device: which OpenCL kernel of a family runs and its tile (GemmTile),
// the defaults per device class, and the tuning file that overrides them (LoadGemmTuning, written
// by tools/ek_cl_tune). One section per kernel family: conv and attention add theirs here, so
// the runtime header does not grow with them.
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

// Tuning file (written by tools/ek-cl-tune), one entry per line, '#' comments:
//   device <TAB> <device name> <TAB> <type> <TAB> tile_m tile_n tile_k wpt_m wpt_n [kernel]
//   vendor <TAB> <vendor name> <TAB> <type> <TAB> tile_m tile_n tile_k wpt_m wpt_n [kernel]
// kernel: 0 tiled (the default when absent), 1 vector.
// For each type the device's own line wins, then its vendor's, then DefaultGemmTile.
// `matched` (optional) receives "device", "vendor" or "default" per type. A missing file is not
// an error (defaults); a malformed line is, naming the line.
inline Status LoadGemmTuning(const char* path, const DeviceCaps& caps, GemmTile tiles[kGemmKernelTypes],
                             const char* matched[kGemmKernelTypes] = nullptr) {
  int rank[kGemmKernelTypes];  // 0 default, 1 vendor, 2 device
  for (int t = 0; t < kGemmKernelTypes; ++t) {
    tiles[t] = DefaultGemmTile(caps, static_cast<GemmKernelType>(t));
    rank[t] = 0;
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
    int type = -1, kernel = 0;
    for (int t = 0; t < kGemmKernelTypes && count == 4; ++t) {
      if (std::strcmp(fields[2], GemmKernelTypeName(static_cast<GemmKernelType>(t))) == 0) type = t;
    }
    const bool is_device = std::strcmp(fields[0], "device") == 0, is_vendor = std::strcmp(fields[0], "vendor") == 0;
    if (count != 4 || type < 0 || !(is_device || is_vendor) ||
        std::sscanf(fields[3], "%d %d %d %d %d %d", &tile.tile_m, &tile.tile_n, &tile.tile_k, &tile.wpt_m,
                    &tile.wpt_n, &kernel) < 5 ||
        kernel < 0 || kernel > 1) {
      std::fclose(f);
      return Status::Error(StatusCode::kInvalidArgument,
                           "%s:%d: expected 'device|vendor <TAB> name <TAB> f32|f16|s8 <TAB> 5 integers [kernel 0|1]'",
                           path, line_number);
    }
    tile.kernel = static_cast<GemmKernel>(kernel);
    const bool match = std::strcmp(fields[1], is_device ? caps.name : caps.vendor) == 0;
    const int line_rank = is_device ? 2 : 1;
    if (match && line_rank >= rank[type]) {
      tiles[type] = tile;
      rank[type] = line_rank;
    }
  }
  if (f != nullptr) std::fclose(f);
  for (int t = 0; matched != nullptr && t < kGemmKernelTypes; ++t) {
    matched[t] = rank[t] == 2 ? "device" : rank[t] == 1 ? "vendor" : "default";
  }
  return Status::Ok();
}

}  // namespace opencl
}  // namespace ek

#endif  // EK_OPENCL_TUNING_H_

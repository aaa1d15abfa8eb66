// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// ek-cl-tune: sweeps the kernels and tile parameters of the OpenCL GEMM (opencl/gemm.cl: the
// tiled ek_gemm and, for f32 / f16, the vector ek_gemm_vec) and the launch shape of the direct
// convolution (opencl/conv.cl: pixels per work-item, work-group width) on the current device and
// writes the fastest per type into a tuning file that ek::opencl::Runtime loads
// (RuntimeOptions::tuning_file; format and fallback order: ek/opencl/tuning.h).
//
//   ek-cl-tune [--out FILE] [--size N] [--types f32,f16,s8,conv_f32,conv_f16,conv_int8]
//              [--device I] [--quick]
//              [--tile M,N,K,WM,WN[,KERNEL] ...]   (time these GEMM tiles instead of the sweep;
//                                                  KERNEL 0 tiled, 1 vector)
//
// Each candidate is built, run once (warm-up), then timed by the queue's profiling events: the
// best of 3 runs of an N x N x N GEMM, or of a depthwise 3x3 convolution over an (N / 8)^2 x 144
// image (8..56 pixels a side). The file keeps other devices' lines; this device's line
// for each tuned type is replaced, and a vendor line is added when the vendor has none. The file
// is written to a temporary name and renamed.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "ek/opencl/conv.h"
#include "ek/opencl/gemm.h"
#include "ek/opencl/qgemm.h"

namespace {

struct Args {
  std::string out = "ek-cl-tuning.txt";
  int size = 512;
  std::string types = "f32,f16,s8,conv_f32,conv_f16,conv_int8";
  int device = -1;
  bool quick = false;
  std::vector<ek::opencl::GemmTile> tiles;  // --tile: time these instead of the sweep
};

int Usage(const char* message) {
  std::fprintf(stderr, "ek-cl-tune: %s\nusage: ek-cl-tune [--out FILE] [--size N] [--types f32,f16,s8,conv_f32,conv_f16,conv_int8] [--device I] [--quick] [--tile M,N,K,WM,WN[,KERNEL] ...]\n",
               message);
  return 2;
}

std::vector<ek::opencl::GemmTile> Candidates(ek::opencl::GemmKernelType type, bool quick) {
  std::vector<ek::opencl::GemmTile> out;
  const int tiles[] = {32, 64, 128};
  const int ks[] = {16, 32};
  const int wpts[][2] = {{4, 4}, {4, 8}, {8, 4}, {8, 8}};
  for (int tm : tiles) {
    for (int tn : tiles) {
      if (quick && (tm != tn || tm == 128)) continue;
      for (int tk : ks) {
        if (quick && tk != 16) continue;
        for (const auto& w : wpts) {
          if (quick && w[0] != w[1]) continue;
          ek::opencl::GemmTile t;
          t.tile_m = tm;
          t.tile_n = tn;
          t.tile_k = tk;
          t.wpt_m = w[0];
          t.wpt_n = w[1];
          if (tm % w[0] == 0 && tn % w[1] == 0) out.push_back(t);
        }
      }
    }
  }
  if (type == ek::opencl::GemmKernelType::kS8) return out;  // the vector kernel is f32 / f16 only
  // The vector kernel: rows per item x vector width, items per group in y (sharing B) and x.
  const int rows[] = {4, 6, 8};
  const int widths[] = {8, 16};
  const int groups[][2] = {{1, 1}, {1, 4}, {1, 16}, {2, 8}};
  for (int r : rows) {
    for (int w : widths) {
      for (const auto& g : groups) {
        if (quick && (r != 8 || g[1] != 16)) continue;
        ek::opencl::GemmTile t;
        t.kernel = ek::opencl::GemmKernel::kVector;
        t.wpt_m = r;
        t.wpt_n = w;
        t.tile_m = r * g[1];
        t.tile_n = w * g[0];
        t.tile_k = 1;
        out.push_back(t);
      }
    }
  }
  return out;
}

// Best of 3 device times (ms) of one GEMM with `tile`, or a negative value if it cannot run.
double TimeTile(ek::opencl::Runtime& rt, ek::opencl::GemmKernelType type, int size, const ek::opencl::GemmTile& tile,
                cl_mem a, cl_mem b, cl_mem c) {
  const ek::DType dtype = type == ek::opencl::GemmKernelType::kF32   ? ek::DType::kF32
                          : type == ek::opencl::GemmKernelType::kF16 ? ek::DType::kF16
                                                                     : ek::DType::kI8;
  ek::QuantParams q;
  q.scheme = ek::QuantScheme::kPerTensor;
  q.scale = 0.01f;
  const auto view = [&](cl_mem m) {
    const ek::TensorView v = ek::TensorView::OpenCL(dtype, m, 0, {size, size});
    return dtype == ek::DType::kI8 ? v.WithQuant(q) : v;
  };
  double best = -1.0;
  for (int run = 0; run < 4; ++run) {
    cl_event event = nullptr;
    const ek::Status s = dtype == ek::DType::kI8
                             ? ek::opencl::QGemm(rt, view(a), view(b), view(c), ek::QGemmOptions(), &event, &tile)
                             : ek::opencl::Gemm(rt, view(a), view(b), view(c), ek::GemmOptions(), &event, &tile);
    if (!s.ok()) return -1.0;
    double ms = 0;
    if (!ek::opencl::EventMilliseconds(rt, event, &ms).ok()) return -1.0;
    if (run > 0 && (best < 0 || ms < best)) best = ms;  // run 0 warms up
  }
  return best;
}

// The convolution candidates: output pixels per work-item x work-items per group along the
// channels (0: the driver's choice).
std::vector<ek::opencl::ConvTile> ConvCandidates(bool quick) {
  std::vector<ek::opencl::ConvTile> out;
  const int pixels[] = {1, 2, 4, 8};
  const int locals[] = {0, 16, 32, 64};
  for (int p : pixels) {
    for (int l : locals) {
      if (quick && (p == 1 || p == 8 || l == 16 || l == 64)) continue;
      ek::opencl::ConvTile t;
      t.pixels = p;
      t.local_channels = l;
      out.push_back(t);
    }
  }
  return out;
}

// Best of 3 device times (ms) of a depthwise 3x3 convolution (stride 1, SAME) over a side x side
// x 144 image with `tile` (the direct kernel's commonest layer in MobileNets), or < 0.
double TimeConvTile(ek::opencl::Runtime& rt, ek::opencl::ConvKernelType type, int side,
                    const ek::opencl::ConvTile& tile, cl_mem input, cl_mem filter, cl_mem output) {
  const ek::DType dtype = type == ek::opencl::ConvKernelType::kF32   ? ek::DType::kF32
                          : type == ek::opencl::ConvKernelType::kF16 ? ek::DType::kF16
                                                                     : ek::DType::kI8;
  const int64_t channels = 144;
  ek::TensorView in = ek::TensorView::OpenCL(dtype, input, 0, {1, side, side, channels});
  ek::TensorView out = ek::TensorView::OpenCL(dtype, output, 0, {1, side, side, channels});
  ek::TensorView w = ek::TensorView::OpenCL(dtype, filter, 0, {channels, 3, 3, 1}).WithStrides({1, 3 * channels, channels, 1});
  if (dtype == ek::DType::kI8) {
    in.quant = ek::QuantParams::PerTensor(0.02f, 0);
    out.quant = ek::QuantParams::PerTensor(0.05f, 0);
    w.quant = ek::QuantParams::PerTensor(0.01f, 0);
  }
  ek::ConvOptions o;
  o.groups = channels;
  o.padding = ek::SamePadding(side, side, 3, 3, 1, 1);
  double best = -1.0;
  for (int run = 0; run < 4; ++run) {
    cl_event event = nullptr;
    if (!ek::opencl::Conv2D(rt, in, w, out, o, &event, &tile).ok()) return -1.0;
    double ms = 0;
    if (!ek::opencl::EventMilliseconds(rt, event, &ms).ok()) return -1.0;
    if (run > 0 && (best < 0 || ms < best)) best = ms;  // run 0 warms up
  }
  return best;
}

// Times every candidate (time(c): device ms, < 0 when it cannot run here), prints each with
// describe(c), and returns the fastest in *best; false when none ran.
template <class Tile, class Time, class Describe>
bool Sweep(const std::string& name, const std::vector<Tile>& candidates, double ops, const Time& time,
           const Describe& describe, Tile* best, double* best_ms) {
  *best_ms = -1.0;
  for (const Tile& tile : candidates) {
    const double ms = time(tile);
    if (ms <= 0) continue;  // not valid on this device (work-group or local memory limits)
    std::printf("  %s %s: %8.3f ms  %7.2f G/s\n", name.c_str(), describe(tile).c_str(), ms, ops / ms * 1e-6);
    if (*best_ms < 0 || ms < *best_ms) {
      *best_ms = ms;
      *best = tile;
    }
  }
  if (*best_ms < 0) std::fprintf(stderr, "ek-cl-tune: no %s candidate ran on this device\n", name.c_str());
  return *best_ms >= 0;
}

// results: (type name, its parameters as the tuning file writes them).
bool WriteTuning(const std::string& path, const ek::opencl::DeviceCaps& caps,
                 const std::vector<std::pair<std::string, std::string>>& results) {
  std::vector<std::string> kept;
  if (FILE* f = std::fopen(path.c_str(), "r")) {
    char line[512];
    while (std::fgets(line, sizeof(line), f) != nullptr) kept.emplace_back(line);
    std::fclose(f);
  }
  const auto line_for = [](const char* kind, const char* name, const std::string& type, const std::string& params) {
    return std::string(kind) + "\t" + name + "\t" + type + "\t" + params + "\n";
  };
  const auto prefix = [](const char* kind, const char* name, const std::string& type) {
    return std::string(kind) + "\t" + name + "\t" + type + "\t";
  };
  std::vector<std::string> lines;
  if (kept.empty()) lines.push_back("# ek-cl-tune: OpenCL GEMM and convolution tiles (ek/opencl/tuning.h, LoadTuning)\n");
  for (const std::string& l : kept) {
    bool replaced = false;
    for (const auto& r : results) replaced = replaced || l.rfind(prefix("device", caps.name, r.first), 0) == 0;
    if (!replaced) lines.push_back(l);
  }
  for (const auto& r : results) {
    lines.push_back(line_for("device", caps.name, r.first, r.second));
    bool vendor_known = false;
    for (const std::string& l : kept) vendor_known = vendor_known || l.rfind(prefix("vendor", caps.vendor, r.first), 0) == 0;
    if (!vendor_known) lines.push_back(line_for("vendor", caps.vendor, r.first, r.second));
  }
  const std::string temporary = path + ".tmp." + std::to_string(getpid());
  FILE* f = std::fopen(temporary.c_str(), "w");
  if (f == nullptr) return false;
  bool ok = true;
  for (const std::string& l : lines) ok = ok && std::fputs(l.c_str(), f) >= 0;
  ok = (std::fclose(f) == 0) && ok;
  ok = ok && std::rename(temporary.c_str(), path.c_str()) == 0;
  if (!ok) std::remove(temporary.c_str());
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--quick") {
      args.quick = true;
    } else if (a == "--out" && has_value) {
      args.out = argv[++i];
    } else if (a == "--size" && has_value) {
      args.size = std::atoi(argv[++i]);
      if (args.size < 16 || args.size > 8192) return Usage("--size must be in 16..8192");
    } else if (a == "--types" && has_value) {
      args.types = argv[++i];
    } else if (a == "--tile" && has_value) {
      ek::opencl::GemmTile t;
      int kernel = 0;
      if (std::sscanf(argv[++i], "%d,%d,%d,%d,%d,%d", &t.tile_m, &t.tile_n, &t.tile_k, &t.wpt_m, &t.wpt_n, &kernel) < 5 ||
          kernel < 0 || kernel > 1) {
        return Usage("--tile takes tile_m,tile_n,tile_k,wpt_m,wpt_n[,kernel 0|1]");
      }
      t.kernel = static_cast<ek::opencl::GemmKernel>(kernel);
      args.tiles.push_back(t);
    } else if (a == "--device" && has_value) {
      args.device = std::atoi(argv[++i]);
    } else {
      return Usage(("unknown or incomplete option " + a).c_str());
    }
  }
  ek::opencl::Runtime rt;
  ek::opencl::RuntimeOptions options;
  options.device_index = args.device;
  const ek::Status opened = rt.Open(options);
  if (!opened.ok()) {
    std::fprintf(stderr, "ek-cl-tune: %s\n", opened.message());
    return opened.code() == ek::StatusCode::kUnavailable ? 77 : 1;
  }
  const ek::opencl::DeviceCaps& caps = rt.caps();
  std::printf("device: %s (%s, vendor %s), %d x %d x %d GEMM, best of 3 device times\n", caps.name, caps.platform,
              caps.vendor, args.size, args.size, args.size);
  const size_t bytes = static_cast<size_t>(args.size) * static_cast<size_t>(args.size) * 4;
  std::vector<uint8_t> init(bytes);
  for (size_t i = 0; i < bytes; ++i) init[i] = static_cast<uint8_t>(i % 2 ? 0x3c : 0x01);
  cl_mem a = nullptr, b = nullptr, c = nullptr;
  if (!ek::opencl::CreateBuffer(rt, bytes, &a).ok() || !ek::opencl::CreateBuffer(rt, bytes, &b).ok() ||
      !ek::opencl::CreateBuffer(rt, bytes, &c).ok() || !ek::opencl::Upload(rt, a, 0, init.data(), bytes).ok() ||
      !ek::opencl::Upload(rt, b, 0, init.data(), bytes).ok()) {
    std::fprintf(stderr, "ek-cl-tune: cannot allocate %zu-byte buffers\n", bytes);
    return 1;
  }
  std::vector<std::pair<std::string, std::string>> results;
  const double ops = 2.0 * args.size * static_cast<double>(args.size) * args.size;
  for (int t = 0; t < ek::opencl::kGemmKernelTypes; ++t) {
    const auto type = static_cast<ek::opencl::GemmKernelType>(t);
    const std::string name = ek::opencl::GemmKernelTypeName(type);
    if (("," + args.types + ",").find("," + name + ",") == std::string::npos) continue;
    double best_ms = -1.0;
    ek::opencl::GemmTile best;
    const auto describe = [](const ek::opencl::GemmTile& t) {
      char text[96];
      std::snprintf(text, sizeof(text), "%-6s tile %3d x %3d x %2d, %2d x %2d per item",
                    t.kernel == ek::opencl::GemmKernel::kVector ? "vector" : "tiled", t.tile_m, t.tile_n, t.tile_k,
                    t.wpt_m, t.wpt_n);
      return std::string(text);
    };
    if (!Sweep(name, args.tiles.empty() ? Candidates(type, args.quick) : args.tiles, ops,
               [&](const ek::opencl::GemmTile& tile) { return TimeTile(rt, type, args.size, tile, a, b, c); }, describe,
               &best, &best_ms)) {
      return 1;
    }
    char params[96];
    std::snprintf(params, sizeof(params), "%d %d %d %d %d %d", best.tile_m, best.tile_n, best.tile_k, best.wpt_m,
                  best.wpt_n, static_cast<int>(best.kernel));
    std::printf("best %s: %s (%.2f G/s)\n", name.c_str(), params, ops / best_ms * 1e-6);
    results.emplace_back(name, params);
  }
  // The direct convolution kernel: a depthwise 3x3 layer of side size / 8 (8..56).
  const int side = args.size / 8 < 8 ? 8 : args.size / 8 > 56 ? 56 : args.size / 8;
  const size_t conv_bytes = static_cast<size_t>(side) * static_cast<size_t>(side) * 144 * 4;
  cl_mem conv_in = nullptr, conv_w = nullptr, conv_out = nullptr;
  std::vector<uint8_t> conv_init(conv_bytes);
  for (size_t i = 0; i < conv_bytes; ++i) conv_init[i] = static_cast<uint8_t>(i % 2 ? 0x3c : 0x01);
  if (!ek::opencl::CreateBuffer(rt, conv_bytes, &conv_in).ok() || !ek::opencl::CreateBuffer(rt, 9 * 144 * 4, &conv_w).ok() ||
      !ek::opencl::CreateBuffer(rt, conv_bytes, &conv_out).ok() ||
      !ek::opencl::Upload(rt, conv_in, 0, conv_init.data(), conv_bytes).ok() ||
      !ek::opencl::Upload(rt, conv_w, 0, conv_init.data(), 9 * 144 * 4).ok()) {
    std::fprintf(stderr, "ek-cl-tune: cannot allocate the convolution's buffers\n");
    return 1;
  }
  const double conv_ops = 2.0 * 9.0 * side * side * 144;
  for (int t = 0; t < ek::opencl::kConvKernelTypes; ++t) {
    const auto type = static_cast<ek::opencl::ConvKernelType>(t);
    const std::string name = ek::opencl::ConvKernelTypeName(type);
    if (("," + args.types + ",").find("," + name + ",") == std::string::npos) continue;
    double best_ms = -1.0;
    ek::opencl::ConvTile best;
    const auto describe = [](const ek::opencl::ConvTile& t) {
      return std::to_string(t.pixels) + " pixels per item, " + std::to_string(t.local_channels) + " items per group";
    };
    if (!Sweep(name, ConvCandidates(args.quick), conv_ops,
               [&](const ek::opencl::ConvTile& tile) { return TimeConvTile(rt, type, side, tile, conv_in, conv_w, conv_out); },
               describe, &best, &best_ms)) {
      return 1;
    }
    const std::string params = std::to_string(best.pixels) + " " + std::to_string(best.local_channels);
    std::printf("best %s: %s (%.2f G/s; depthwise 3x3, %d x %d x 144)\n", name.c_str(), params.c_str(),
                conv_ops / best_ms * 1e-6, side, side);
    results.emplace_back(name, params);
  }
  ek::opencl::ReleaseBuffer(rt, conv_in);
  ek::opencl::ReleaseBuffer(rt, conv_w);
  ek::opencl::ReleaseBuffer(rt, conv_out);
  ek::opencl::ReleaseBuffer(rt, a);
  ek::opencl::ReleaseBuffer(rt, b);
  ek::opencl::ReleaseBuffer(rt, c);
  if (results.empty()) return Usage("--types names no known type (f32, f16, s8, conv_f32, conv_f16, conv_int8)");
  if (!WriteTuning(args.out, caps, results)) {
    std::fprintf(stderr, "ek-cl-tune: cannot write %s\n", args.out.c_str());
    return 1;
  }
  std::printf("wrote %s\n", args.out.c_str());
  return 0;
}

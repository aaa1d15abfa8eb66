// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// ek-quantize: f32 weights (.npy) -> packed int8 / int4 weights in an "EKQW" file, with an error
// report; and reading such files back. File format: docs/quantization.md ("ek-quantize files").
//
//   ek-quantize quantize IN.npy OUT.ekqw [--type i8|i4] [--scheme channel|block] [--block 32|64|128]
//               [--scale-type f32|f16|bf16] [--method minmax|percentile|mse] [--percentile P]
//               [--narrow] [--layout nk|kn]
//   ek-quantize read IN.ekqw [--compare ORIGINAL.npy]
//
// --layout nk (default): the .npy is [N x K] (output channels x inputs, PyTorch's Linear weight);
// kn: [K x N]. Exit status 0 on success, 1 on any error (with a message saying what is wrong),
// 2 on bad usage. OUT is written to a temporary file in the same directory and renamed into
// place only when complete: a failed run leaves no partial file.
#include <unistd.h>

#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "ek/calibrate.h"
#include "ek/ek.h"
#include "ek_quantize_io.h"

namespace {

using ek_quantize::FileHeader;
using ek_quantize::Npy;

bool ReadFile(const char* path, std::vector<uint8_t>* data, std::string* error) {
  FILE* f = std::fopen(path, "rb");
  if (!f) {
    *error = std::string(path) + ": cannot open: " + std::strerror(errno);
    return false;
  }
  data->clear();
  uint8_t buffer[1 << 16];
  size_t got;
  while ((got = std::fread(buffer, 1, sizeof(buffer), f)) > 0) data->insert(data->end(), buffer, buffer + got);
  const bool ok = !std::ferror(f);
  std::fclose(f);
  if (!ok) *error = std::string(path) + ": read error";
  return ok;
}

bool ReadNpy(const char* path, Npy* npy, std::string* error) {
  std::vector<uint8_t> file;
  if (!ReadFile(path, &file, error)) return false;
  if (!ek_quantize::ParseNpy(file.data(), file.size(), npy, error)) {
    *error = std::string(path) + ": " + *error;
    return false;
  }
  return true;
}

// Writes `bytes` to path through a temporary file in the same directory, renamed when complete.
bool WriteAtomically(const std::string& path, const std::vector<uint8_t>& bytes, std::string* error) {
  const std::string tmp = path + ".tmp-" + std::to_string(static_cast<long>(getpid()));
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) {
    *error = tmp + ": cannot create: " + std::strerror(errno);
    return false;
  }
  const bool written = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  const bool flushed = std::fflush(f) == 0 && fsync(fileno(f)) == 0;
  const bool closed = std::fclose(f) == 0;
  if (!written || !flushed || !closed || std::rename(tmp.c_str(), path.c_str()) != 0) {
    *error = path + ": cannot write: " + std::strerror(errno);
    std::remove(tmp.c_str());
    return false;
  }
  return true;
}

const char* MethodName(ek::CalibrationMethod m) {
  return m == ek::CalibrationMethod::kMinMax ? "minmax" : m == ek::CalibrationMethod::kPercentile ? "percentile" : "mse";
}

// Prints the overall error and the worst groups.
void PrintReport(const ek::QuantError& overall, const std::vector<ek::QuantError>& groups, const char* group_name) {
  std::printf("error: SQNR %.2f dB, max |error| %.6g over all weights\n", overall.sqnr_db, overall.max_abs);
  std::vector<size_t> order(groups.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  const size_t shown = order.size() < 5 ? order.size() : 5;
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(shown), order.end(),
                    [&](size_t a, size_t b) { return groups[a].sqnr_db < groups[b].sqnr_db; });
  for (size_t i = 0; i < shown; ++i) {
    std::printf("  worst %s %zu: SQNR %.2f dB, max |error| %.6g\n", group_name, order[i], groups[order[i]].sqnr_db,
                groups[order[i]].max_abs);
  }
}

int Fail(const std::string& message) {
  std::fprintf(stderr, "ek-quantize: %s\n", message.c_str());
  return 1;
}

int Usage() {
  std::fprintf(stderr,
               "usage: ek-quantize quantize IN.npy OUT.ekqw [--type i8|i4] [--scheme channel|block] [--block 32|64|128]\n"
               "                   [--scale-type f32|f16|bf16] [--method minmax|percentile|mse] [--percentile P]\n"
               "                   [--narrow] [--layout nk|kn]\n"
               "       ek-quantize read IN.ekqw [--compare ORIGINAL.npy]\n");
  return 2;
}

int Quantize(int argc, char** argv) {
  if (argc < 4) return Usage();
  const char* in_path = argv[2];
  const std::string out_path = argv[3];
  ek::DType type = ek::DType::kI8;
  bool per_block = false;
  int64_t block = 32;
  ek::DType scale_type = ek::DType::kF32;
  ek::CalibrationOptions options;
  bool layout_nk = true;
  for (int i = 4; i < argc; ++i) {
    const std::string arg = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
    const auto need = [&]() { return value != nullptr; };
    if (arg == "--narrow") {
      options.narrow_range = true;
    } else if (arg == "--type" && need()) {
      if (std::strcmp(value, "i8") == 0) type = ek::DType::kI8;
      else if (std::strcmp(value, "i4") == 0) type = ek::DType::kI4;
      else return Fail(std::string("--type: '") + value + "', expected i8 or i4");
      ++i;
    } else if (arg == "--scheme" && need()) {
      if (std::strcmp(value, "channel") == 0) per_block = false;
      else if (std::strcmp(value, "block") == 0) per_block = true;
      else return Fail(std::string("--scheme: '") + value + "', expected channel or block");
      ++i;
    } else if (arg == "--block" && need()) {
      if (!ek_quantize::ParseWholeNumber(value, &block) || (block != 32 && block != 64 && block != 128)) {
        return Fail(std::string("--block: '") + value + "', expected 32, 64 or 128");
      }
      ++i;
    } else if (arg == "--scale-type" && need()) {
      if (std::strcmp(value, "f32") == 0) scale_type = ek::DType::kF32;
      else if (std::strcmp(value, "f16") == 0) scale_type = ek::DType::kF16;
      else if (std::strcmp(value, "bf16") == 0) scale_type = ek::DType::kBF16;
      else return Fail(std::string("--scale-type: '") + value + "', expected f32, f16 or bf16");
      ++i;
    } else if (arg == "--method" && need()) {
      if (std::strcmp(value, "minmax") == 0) options.method = ek::CalibrationMethod::kMinMax;
      else if (std::strcmp(value, "percentile") == 0) options.method = ek::CalibrationMethod::kPercentile;
      else if (std::strcmp(value, "mse") == 0) options.method = ek::CalibrationMethod::kMse;
      else return Fail(std::string("--method: '") + value + "', expected minmax, percentile or mse");
      ++i;
    } else if (arg == "--percentile" && need()) {
      if (!ek_quantize::ParseWholeFloat(value, &options.percentile)) {
        return Fail(std::string("--percentile: '") + value + "', expected a number in (0, 100]");
      }
      ++i;
    } else if (arg == "--layout" && need()) {
      if (std::strcmp(value, "nk") == 0) layout_nk = true;
      else if (std::strcmp(value, "kn") == 0) layout_nk = false;
      else return Fail(std::string("--layout: '") + value + "', expected nk or kn");
      ++i;
    } else {
      return Usage();
    }
  }
  if (!per_block && scale_type != ek::DType::kF32) return Fail("--scale-type: per-channel scales are f32");

  std::string error;
  Npy npy;
  if (!ReadNpy(in_path, &npy, &error)) return Fail(error);
  const int64_t k = layout_nk ? npy.cols : npy.rows, n = layout_nk ? npy.rows : npy.cols;
  const ek::TensorView w = ek::TensorView::Host(ek::DType::kF32, npy.data.data(), {npy.rows, npy.cols});

  // Quantize into a view of the same shape, then pack.
  std::vector<uint8_t> values(static_cast<size_t>(type == ek::DType::kI4 ? (k * n + 1) / 2 : k * n));
  const int64_t blocks = per_block ? (k + block - 1) / block : 1;
  std::vector<uint8_t> scales(static_cast<size_t>(per_block ? blocks * n : n) * 4);
  ek::QuantParams q;
  if (per_block) {
    q.scheme = ek::QuantScheme::kPerBlock;
    q.axis = layout_nk ? 1 : 0;
    q.block_size = block;
    q.scale_type = scale_type;
  } else {
    q.scheme = ek::QuantScheme::kPerAxis;
    q.axis = layout_nk ? 0 : 1;
  }
  q.scales = scales.data();
  const ek::TensorView qv = ek::TensorView::Host(type, values.data(), {npy.rows, npy.cols}).WithQuant(q);
  ek::Status s = ek::QuantizeWeights(w, layout_nk, qv, options);
  if (!s.ok()) return Fail(std::string(in_path) + ": " + s.message());
  size_t packed_bytes = 0;
  s = ek::PackedQGemmWeightsSize(qv, layout_nk, &packed_bytes);
  if (!s.ok()) return Fail(s.message());
  std::vector<uint32_t> packed(packed_bytes / 4 + 1);  // 4-byte aligned
  s = ek::PackQGemmWeights(qv, layout_nk, packed.data(), packed_bytes);
  if (!s.ok()) return Fail(s.message());
  FileHeader h;
  std::memset(&h, 0, sizeof(h));
  h.layout_nk = layout_nk ? 1 : 0;
  h.k = k;
  h.n = n;
  h.method = static_cast<uint8_t>(options.method);
  h.narrow = options.narrow_range ? 1 : 0;
  const std::vector<uint8_t> out =
      ek_quantize::SerializeWeightsFile(h, reinterpret_cast<const uint8_t*>(packed.data()), packed_bytes);
  if (!WriteAtomically(out_path, out, &error)) return Fail(error);

  ek::QuantError overall;
  std::vector<ek::QuantError> groups(static_cast<size_t>(per_block ? blocks * n : n));
  s = ek::MeasureQuantError(w, qv, layout_nk, &overall, groups.data(), groups.size());
  if (!s.ok()) return Fail(s.message());
  std::printf("%s: %s [N=%lld x K=%lld] -> %s %s%s, %s calibration%s: %zu bytes\n", out_path.c_str(), in_path,
              static_cast<long long>(n), static_cast<long long>(k), ek::DTypeName(type),
              per_block ? ("blocks of " + std::to_string(block) + " (" + ek::DTypeName(scale_type) + " scales)").c_str()
                        : "per channel",
              "", MethodName(options.method), options.narrow_range ? ", narrow range" : "", out.size());
  PrintReport(overall, groups, per_block ? "block" : "channel");
  return 0;
}

int Read(int argc, char** argv) {
  if (argc < 3) return Usage();
  const char* path = argv[2];
  const char* compare = nullptr;
  for (int i = 3; i < argc; ++i) {
    if (std::strcmp(argv[i], "--compare") == 0 && i + 1 < argc) {
      compare = argv[++i];
    } else {
      return Usage();
    }
  }
  std::vector<uint8_t> file;
  std::string error;
  if (!ReadFile(path, &file, &error)) return Fail(error);
  const std::string p = path;
  // Every header field, both checksums and the packed weights themselves (VerifyPackedWeights).
  ek_quantize::WeightsFile weights;
  if (!ek_quantize::ParseWeightsFile(file.data(), file.size(), &weights, &error)) return Fail(p + ": " + error);
  const FileHeader& h = weights.header;
  const ek::PackedWeights packed = weights.Packed();
  ek::detail::PackedQGemmHeader ph;
  ek::detail::QPackedLayout layout;
  ek::Status s = ek::detail::ReadQHeader(packed.data, packed.bytes, "packed", &ph, &layout);
  if (!s.ok()) return Fail(p + ": " + s.message());
  const ek::DType type = static_cast<ek::DType>(ph.weight_type);
  const bool per_block = ph.scale_kind == static_cast<uint8_t>(ek::detail::QScaleKind::kPerBlock);
  const bool nk = h.layout_nk != 0;
  const int64_t rows = nk ? h.n : h.k, cols = nk ? h.k : h.n;
  std::printf("%s: %s [N=%lld x K=%lld], %s, %s calibration%s, checksum ok\n", path, ek::DTypeName(type),
              static_cast<long long>(h.n), static_cast<long long>(h.k),
              per_block ? ("blocks of " + std::to_string(ph.block_size)).c_str() : "per channel",
              MethodName(static_cast<ek::CalibrationMethod>(h.method)), h.narrow ? ", narrow range" : "");
  if (compare == nullptr) return 0;

  Npy npy;
  if (!ReadNpy(compare, &npy, &error)) return Fail(error);
  if (npy.rows != rows || npy.cols != cols) {
    return Fail(std::string(compare) + ": shape (" + std::to_string(npy.rows) + ", " + std::to_string(npy.cols) +
                ") does not match the quantized weights (" + std::to_string(rows) + ", " + std::to_string(cols) + ")");
  }
  const int64_t groups_count = per_block ? layout.blocks * h.n : h.n;
  std::vector<uint8_t> values(static_cast<size_t>(type == ek::DType::kI4 ? (rows * cols + 1) / 2 : rows * cols));
  std::vector<uint8_t> scales(static_cast<size_t>(groups_count) * 4);
  ek::QuantParams q;
  if (per_block) {
    q.scheme = ek::QuantScheme::kPerBlock;
    q.axis = nk ? 1 : 0;
    q.block_size = ph.block_size;
    q.scale_type = static_cast<ek::DType>(ph.scale_type);
  } else {
    q.scheme = ek::QuantScheme::kPerAxis;
    q.axis = nk ? 0 : 1;
  }
  q.scales = scales.data();
  const ek::TensorView qv = ek::TensorView::Host(type, values.data(), {rows, cols}).WithQuant(q);
  s = ek::UnpackQGemmWeights(packed, qv, nk);
  if (!s.ok()) return Fail(p + ": " + s.message());
  const ek::TensorView w = ek::TensorView::Host(ek::DType::kF32, npy.data.data(), {rows, cols});
  ek::QuantError overall;
  std::vector<ek::QuantError> groups(static_cast<size_t>(groups_count));
  s = ek::MeasureQuantError(w, qv, nk, &overall, groups.data(), groups.size());
  if (!s.ok()) return Fail(s.message());
  PrintReport(overall, groups, per_block ? "block" : "channel");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Usage();
  if (std::strcmp(argv[1], "quantize") == 0) return Quantize(argc, argv);
  if (std::strcmp(argv[1], "read") == 0) return Read(argc, argv);
  return Usage();
}

// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// tools/ek-quantize end to end: .npy files written here, the tool run as a process, its output
// file read back through the library; calibration and the error report (ek/calibrate.h); and
// malformed, truncated and mismatched inputs rejected with a message and no output file.
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "ek/calibrate.h"
#include "ek/qgemm.h"
#include "ek/ref/qgemm.h"
#include "test_util.h"

#ifndef EK_QUANTIZE_TOOL
#error "EK_QUANTIZE_TOOL (path of ek-quantize) must be defined by CMake"
#endif

namespace {

using ek::DType;
using ek::TensorView;

std::string TempDir() {
  char pattern[] = "/tmp/ek_quantize_test.XXXXXX";
  const char* dir = mkdtemp(pattern);
  REQUIRE(dir != nullptr);
  return dir;
}

// A .npy file with this header dictionary (padded as numpy pads it) and data.
void WriteRawNpy(const std::string& path, std::string header, const std::vector<float>& data, size_t drop_bytes = 0) {
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  FILE* f = std::fopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  const uint8_t preamble[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, static_cast<uint8_t>(header.size() & 0xFF),
                                static_cast<uint8_t>(header.size() >> 8)};
  std::fwrite(preamble, 1, 10, f);
  std::fwrite(header.data(), 1, header.size(), f);
  std::fwrite(data.data(), 1, data.size() * 4 - drop_bytes, f);
  std::fclose(f);
}

void WriteNpy(const std::string& path, int64_t rows, int64_t cols, const std::vector<float>& data, const char* descr = "<f4",
              size_t drop_bytes = 0) {
  WriteRawNpy(path,
              std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': (" + std::to_string(rows) + ", " +
                  std::to_string(cols) + "), }",
              data, drop_bytes);
}

int Run(const std::string& args, std::string* output) {
  const std::string command = std::string(EK_QUANTIZE_TOOL) + " " + args + " 2>&1";
  FILE* p = popen(command.c_str(), "r");
  REQUIRE(p != nullptr);
  output->clear();
  char buffer[4096];
  size_t got;
  while ((got = std::fread(buffer, 1, sizeof(buffer), p)) > 0) output->append(buffer, got);
  const int status = pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void RemoveDir(const std::string& dir) { CHECK(std::system(("rm -rf '" + dir + "'").c_str()) == 0); }

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

std::vector<float> RandomWeights(int64_t count, uint64_t seed) {
  ek_test::Rng rng(seed);
  std::vector<float> w(static_cast<size_t>(count));
  for (auto& x : w) x = rng.Uniform(-1.0f, 1.0f) * rng.Uniform(0.0f, 1.0f);
  w[7] = 3.0f;  // an outlier: percentile and MSE clip it, min/max does not
  return w;
}

TEST_CASE("Calibration: every method gives valid scales, MSE is no worse than min/max, reports are consistent") {
  const int64_t k = 256, n = 24;
  const std::vector<float> w = RandomWeights(k * n, 1);
  const TensorView wv = TensorView::Host(DType::kF32, w.data(), {k, n});
  for (const DType type : {DType::kI8, DType::kI4}) {
    double sqnr[3] = {0, 0, 0};
    int method_index = 0;
    for (const auto method : {ek::CalibrationMethod::kMinMax, ek::CalibrationMethod::kPercentile, ek::CalibrationMethod::kMse}) {
      std::vector<uint8_t> values(static_cast<size_t>(k * n));
      std::vector<float> scales(static_cast<size_t>(n));
      const TensorView q = TensorView::Host(type, values.data(), {k, n}).WithQuant(ek::QuantParams::PerAxis(1, scales.data()));
      ek::CalibrationOptions o;
      o.method = method;
      o.percentile = 99.0;
      o.narrow_range = true;
      REQUIRE(ek::QuantizeWeights(wv, false, q, o).ok());
      const int32_t qmax = type == DType::kI8 ? 127 : 7;
      for (int64_t kk = 0; kk < k; ++kk) {
        for (int64_t j = 0; j < n; ++j) {
          const int32_t v = ek::detail::WeightAt(q, false, kk, j);
          REQUIRE(v >= -qmax);  // narrow range
          REQUIRE(v <= qmax);
        }
      }
      ek::QuantError overall;
      std::vector<ek::QuantError> groups(static_cast<size_t>(n));
      REQUIRE(ek::MeasureQuantError(wv, q, false, &overall, groups.data(), groups.size()).ok());
      double worst_max = 0;
      for (const auto& g : groups) worst_max = std::max(worst_max, g.max_abs);
      CHECK(overall.max_abs == worst_max);
      CHECK(overall.sqnr_db > (type == DType::kI8 ? 15.0 : 5.0));  // sanity: the outlier costs the clipping methods
      sqnr[method_index++] = overall.sqnr_db;
      // min/max: no element clips, so the error is at most half a step.
      if (method == ek::CalibrationMethod::kMinMax) {
        for (int64_t j = 0; j < n; ++j) CHECK(groups[static_cast<size_t>(j)].max_abs <= scales[static_cast<size_t>(j)] * 0.5 + 1e-7);
      }
    }
    INFO(ek::DTypeName(type) << " minmax " << sqnr[0] << " percentile " << sqnr[1] << " mse " << sqnr[2]);
    CHECK(sqnr[2] >= sqnr[0] - 1e-9);
  }
}

TEST_CASE("ek-quantize writes packed weights that QGemm runs, and reads them back") {
  const std::string dir = TempDir();
  const int64_t n = 40, k = 192;  // [N x K], PyTorch's Linear layout
  const std::vector<float> w = RandomWeights(n * k, 2);
  WriteNpy(dir + "/w.npy", n, k, w);
  struct Variant {
    const char* args;
    bool per_block;
  };
  const Variant variants[] = {{"--type i8", false},
                              {"--type i8 --method mse --narrow", false},
                              {"--type i4 --scheme block --block 32 --scale-type f16", true},
                              {"--type i4 --scheme block --block 64 --scale-type bf16 --method percentile --percentile 99.5", true},
                              {"--type i4 --scheme channel", false}};
  for (const Variant& v : variants) {
    INFO(v.args);
    std::string out;
    REQUIRE(Run("quantize " + dir + "/w.npy " + dir + "/w.ekqw " + v.args, &out) == 0);
    CHECK(ek_test::Contains(out.c_str(), "SQNR"));
    REQUIRE(Run("read " + dir + "/w.ekqw --compare " + dir + "/w.npy", &out) == 0);
    CHECK(ek_test::Contains(out.c_str(), "checksum ok"));
    CHECK(ek_test::Contains(out.c_str(), "SQNR"));

    // The payload is ek's packed weights: QGemm on them equals the reference on their unpacked form.
    FILE* f = std::fopen((dir + "/w.ekqw").c_str(), "rb");
    REQUIRE(f != nullptr);
    std::vector<uint8_t> file(1 << 20);
    file.resize(std::fread(file.data(), 1, file.size(), f));
    std::fclose(f);
    std::vector<uint32_t> payload((file.size() - 64) / 4 + 1);
    std::memcpy(payload.data(), file.data() + 64, file.size() - 64);
    const ek::PackedWeights packed{payload.data(), file.size() - 64};
    std::vector<float> a(static_cast<size_t>(3 * k)), c(static_cast<size_t>(3 * n)), want(c.size());
    ek_test::Rng rng(5);
    for (auto& x : a) x = rng.Uniform(-1, 1);
    const TensorView av = TensorView::Host(DType::kF32, a.data(), {3, k});
    REQUIRE(ek::QGemm(av, packed, TensorView::Host(DType::kF32, c.data(), {3, n})).ok());
    ek::detail::PackedQGemmHeader h;
    ek::detail::QPackedLayout l;
    REQUIRE(ek::detail::ReadQHeader(packed.data, packed.bytes, "packed", &h, &l).ok());
    REQUIRE(ek::VerifyPackedWeights(packed).ok());
    std::vector<uint8_t> values(static_cast<size_t>(n * k));
    std::vector<float> scales(static_cast<size_t>(n * (k / 32 + 1)));
    ek::QuantParams q;
    if (v.per_block) {
      q.scheme = ek::QuantScheme::kPerBlock;
      q.axis = 1;
      q.block_size = h.block_size;
      q.scale_type = static_cast<DType>(h.scale_type);
    } else {
      q.scheme = ek::QuantScheme::kPerAxis;
      q.axis = 0;
    }
    q.scales = scales.data();
    const TensorView qv = TensorView::Host(static_cast<DType>(h.weight_type), values.data(), {n, k}).WithQuant(q);
    REQUIRE(ek::UnpackQGemmWeights(packed, qv, true).ok());
    std::vector<double> magnitude(c.size());
    ek::ref::QGemm(av, qv, true, TensorView::Host(DType::kF32, want.data(), {3, n}), ek::QGemmOptions(), magnitude.data());
    for (size_t e = 0; e < c.size(); ++e) {
      REQUIRE(std::fabs(static_cast<double>(c[e]) - want[e]) <= ek::ref::QGemmF32ErrorBound(magnitude[e], k / 32));
    }
  }
  RemoveDir(dir);
}

TEST_CASE("ek-quantize rejects malformed, truncated and mismatched files and leaves no partial output") {
  const std::string dir = TempDir();
  const std::vector<float> w = RandomWeights(16 * 64, 3);
  std::string out;
  WriteNpy(dir + "/f64.npy", 16, 64, w, "<f8");
  CHECK(Run("quantize " + dir + "/f64.npy " + dir + "/x.ekqw", &out) == 1);
  CHECK(ek_test::Contains(out.c_str(), "float32"));
  WriteNpy(dir + "/short.npy", 16, 64, w, "<f4", 10);
  CHECK(Run("quantize " + dir + "/short.npy " + dir + "/x.ekqw", &out) == 1);
  CHECK(ek_test::Contains(out.c_str(), "truncated"));
  CHECK(Run("quantize " + dir + "/missing.npy " + dir + "/x.ekqw", &out) == 1);
  CHECK(ek_test::Contains(out.c_str(), "cannot open"));
  WriteNpy(dir + "/w.npy", 16, 64, w);
  CHECK(Run("quantize " + dir + "/w.npy " + dir + "/x.ekqw --type i3", &out) == 1);
  CHECK(ek_test::Contains(out.c_str(), "--type"));
  CHECK(Run("quantize " + dir + "/w.npy " + dir + "/no/such/dir/x.ekqw", &out) == 1);
  CHECK_FALSE(Exists(dir + "/x.ekqw"));  // nothing written by any failed run

  REQUIRE(Run("quantize " + dir + "/w.npy " + dir + "/w.ekqw --type i4 --scheme block", &out) == 0);
  FILE* f = std::fopen((dir + "/w.ekqw").c_str(), "rb");
  REQUIRE(f != nullptr);
  std::vector<uint8_t> file(1 << 16);
  file.resize(std::fread(file.data(), 1, file.size(), f));
  std::fclose(f);
  const auto write = [&](const std::string& name, const std::vector<uint8_t>& bytes) {
    FILE* g = std::fopen((dir + "/" + name).c_str(), "wb");
    std::fwrite(bytes.data(), 1, bytes.size(), g);
    std::fclose(g);
  };
  std::vector<uint8_t> truncated(file.begin(), file.end() - 5);
  write("truncated.ekqw", truncated);
  CHECK(Run("read " + dir + "/truncated.ekqw", &out) == 1);
  CHECK(ek_test::Contains(out.c_str(), "truncated"));
  std::vector<uint8_t> corrupt = file;
  corrupt[200] ^= 0x10;
  write("corrupt.ekqw", corrupt);
  CHECK(Run("read " + dir + "/corrupt.ekqw", &out) == 1);
  CHECK(ek_test::Contains(out.c_str(), "checksum"));
  std::vector<uint8_t> magic = file;
  magic[0] = 'X';
  write("magic.ekqw", magic);
  CHECK(Run("read " + dir + "/magic.ekqw", &out) == 1);
  CHECK(ek_test::Contains(out.c_str(), "bad magic"));
  write("tiny.ekqw", std::vector<uint8_t>(10, 0));
  CHECK(Run("read " + dir + "/tiny.ekqw", &out) == 1);
  CHECK(ek_test::Contains(out.c_str(), "shorter than"));
  WriteNpy(dir + "/other.npy", 16, 32, std::vector<float>(w.begin(), w.begin() + 16 * 32));
  CHECK(Run("read " + dir + "/w.ekqw --compare " + dir + "/other.npy", &out) == 1);
  CHECK(ek_test::Contains(out.c_str(), "does not match"));

  // Issue 16: header bytes 12-15 (layout) and 48-63 (method, narrow, reserved) were not checked.
  for (const size_t at : {12, 13, 15, 48, 49, 50, 55, 59, 60, 63}) {
    INFO("file header byte " << at);
    std::vector<uint8_t> bad = file;
    bad[at] ^= 0x04;
    write("header.ekqw", bad);
    CHECK(Run("read " + dir + "/header.ekqw", &out) == 1);
    CHECK(ek_test::Contains(out.c_str(), "corrupt header"));
  }
  // Corruption inside the packed weights' own header (scale kind, zero point, reserved bytes).
  for (const size_t at : {64 + 25, 64 + 28, 64 + 52}) {
    INFO("packed header byte " << at);
    std::vector<uint8_t> bad = file;
    bad[at] ^= 0x01;
    write("packed.ekqw", bad);
    CHECK(Run("read " + dir + "/packed.ekqw", &out) == 1);
    CHECK(ek_test::Contains(out.c_str(), "checksum"));
  }
  RemoveDir(dir);
}

TEST_CASE("ek-quantize parses .npy headers and options strictly") {
  const std::string dir = TempDir();
  const std::vector<float> w = RandomWeights(16 * 64, 4);
  std::string out;
  // Issue 16: a declared shape of (2^31, 2^31) made rows * cols * 4 wrap to 0 and the tool die
  // of an uncaught std::length_error; now a message and exit status 1.
  WriteRawNpy(dir + "/huge.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (2147483648, 2147483648), }", w);
  CHECK(Run("quantize " + dir + "/huge.npy " + dir + "/x.ekqw", &out) == 1);
  CHECK(ek_test::Contains(out.c_str(), "truncated"));
  WriteRawNpy(dir + "/big.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999, 2), }", w);
  CHECK(Run("quantize " + dir + "/big.npy " + dir + "/x.ekqw", &out) == 1);
  // The header is parsed as a dictionary: '<f4' written inside another key's value, or a
  // repeated key, is not taken for the dtype.
  WriteRawNpy(dir + "/trick.npy",
              "{'descr': '<f8', 'fortran_order': False, 'shape': (16, 64), 'note': \"'descr': '<f4'\", }", w);
  CHECK(Run("quantize " + dir + "/trick.npy " + dir + "/x.ekqw", &out) == 1);
  CHECK(ek_test::Contains(out.c_str(), "unexpected key 'note'"));
  WriteRawNpy(dir + "/trick2.npy", "{'shape': (16, 64), 'fortran_order': False, 'descr': '<f8', }", w);
  CHECK(Run("quantize " + dir + "/trick2.npy " + dir + "/x.ekqw", &out) == 1);
  CHECK(ek_test::Contains(out.c_str(), "'<f8'"));
  WriteRawNpy(dir + "/twice.npy", "{'descr': '<f8', 'descr': '<f4', 'fortran_order': False, 'shape': (16, 64), }", w);
  CHECK(Run("quantize " + dir + "/twice.npy " + dir + "/x.ekqw", &out) == 1);
  CHECK(ek_test::Contains(out.c_str(), "repeated 'descr'"));
  WriteRawNpy(dir + "/fortran.npy", "{'descr': '<f4', 'fortran_order': True, 'shape': (16, 64), }", w);
  CHECK(Run("quantize " + dir + "/fortran.npy " + dir + "/x.ekqw", &out) == 1);
  CHECK(ek_test::Contains(out.c_str(), "C order"));
  // Keys in any order and a shape without spaces are fine.
  WriteRawNpy(dir + "/ok.npy", "{'shape':(16,64), 'fortran_order': False, 'descr': '<f4'}", w);
  CHECK(Run("quantize " + dir + "/ok.npy " + dir + "/ok.ekqw", &out) == 0);
  // Numbers are whole: --block 32abc was read as 32.
  CHECK(Run("quantize " + dir + "/ok.npy " + dir + "/x.ekqw --scheme block --block 32abc", &out) == 1);
  CHECK(ek_test::Contains(out.c_str(), "--block: '32abc'"));
  CHECK(Run("quantize " + dir + "/ok.npy " + dir + "/x.ekqw --method percentile --percentile 99x", &out) == 1);
  CHECK(ek_test::Contains(out.c_str(), "--percentile"));
  CHECK_FALSE(Exists(dir + "/x.ekqw"));
  RemoveDir(dir);
}

// QuantizeWeights writes q's values and scales: they may not overlap w or each other (issue 16:
// q aliasing w was reported as "not finite"), and nothing is written before an error (a NaN in
// the last element left every earlier group quantized).
TEST_CASE("QuantizeWeights: outputs may not alias the input, and an error writes nothing") {
  const int64_t k = 64, n = 8;
  std::vector<float> w = RandomWeights(k * n, 6);
  const TensorView wv = TensorView::Host(DType::kF32, w.data(), {k, n});
  std::vector<int8_t> values(static_cast<size_t>(k * n), 0x5A);
  std::vector<float> scales(static_cast<size_t>(n), -1.0f);
  const TensorView q = TensorView::Host(DType::kI8, values.data(), {k, n}).WithQuant(ek::QuantParams::PerAxis(1, scales.data()));
  using ek_test::ExpectError;
  ExpectError(ek::QuantizeWeights(wv, false, TensorView::Host(DType::kI8, w.data(), {k, n}).WithQuant(q.quant)),
              ek::StatusCode::kInvalidArgument, "q: overlaps w");
  ExpectError(ek::QuantizeWeights(wv, false, q.WithQuant(ek::QuantParams::PerAxis(1, w.data() + 8))),
              ek::StatusCode::kInvalidArgument, "q.quant.scales: overlaps w");
  ExpectError(ek::QuantizeWeights(wv, false,
                                  q.WithQuant(ek::QuantParams::PerAxis(1, reinterpret_cast<const float*>(values.data())))),
              ek::StatusCode::kInvalidArgument, "q: overlaps q.quant.scales");
  w.back() = NAN;
  ExpectError(ek::QuantizeWeights(wv, false, q), ek::StatusCode::kInvalidArgument, "w: element (63, 7) is not finite");
  for (int8_t v : values) REQUIRE(v == 0x5A);
  for (float s : scales) REQUIRE(s == -1.0f);
  w.back() = 0.5f;
  REQUIRE(ek::QuantizeWeights(wv, false, q).ok());
  for (float s : scales) CHECK(s > 0.0f);
}

}  // namespace

// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// The file formats of tools/ek-quantize, as functions over bytes in memory: the .npy reader
// (2-D little-endian f32, C order) and the "EKQW" weights file (a 64-byte header, then ek's
// packed QGemm weights). Shared by the tool, its test and the fuzz targets (tests/fuzz/). Every
// reader checks every byte it interprets and never reads outside [data, data + size); a
// malformed input is an error message, never a crash or an allocation larger than the input.
#ifndef EK_TOOLS_EK_QUANTIZE_IO_H_
#define EK_TOOLS_EK_QUANTIZE_IO_H_

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "ek/detail/hash.h"
#include "ek/packed_weights.h"

namespace ek_quantize {

// ---- .npy ---------------------------------------------------------------------------------------
struct Npy {
  int64_t rows = 0, cols = 0;
  std::vector<float> data;
};

// The header dictionary of a .npy file, parsed as the Python literal it is: exactly the keys
// 'descr', 'fortran_order' and 'shape' (numpy's own rule), each once.
struct NpyHeader {
  std::string descr;
  bool fortran_order = false;
  std::vector<int64_t> shape;
};

class NpyHeaderParser {
 public:
  explicit NpyHeaderParser(const std::string& text) : s_(text) {}

  bool Parse(NpyHeader* h, std::string* error) {
    bool seen_descr = false, seen_order = false, seen_shape = false;
    SkipSpace();
    if (!Eat('{')) return Fail("header: expected '{'", error);
    for (;;) {
      SkipSpace();
      if (Eat('}')) break;
      std::string key;
      if (!String(&key)) return Fail("header: expected a quoted key", error);
      SkipSpace();
      if (!Eat(':')) return Fail("header: expected ':' after '" + key + "'", error);
      SkipSpace();
      if (key == "descr") {
        if (seen_descr || !String(&h->descr)) return Fail("header: bad or repeated 'descr'", error);
        seen_descr = true;
      } else if (key == "fortran_order") {
        if (seen_order) return Fail("header: repeated 'fortran_order'", error);
        if (Word("True")) {
          h->fortran_order = true;
        } else if (Word("False")) {
          h->fortran_order = false;
        } else {
          return Fail("header: 'fortran_order' must be True or False", error);
        }
        seen_order = true;
      } else if (key == "shape") {
        if (seen_shape || !Tuple(&h->shape)) return Fail("header: bad or repeated 'shape'", error);
        seen_shape = true;
      } else {
        return Fail("header: unexpected key '" + key + "' (a .npy header has descr, fortran_order, shape)", error);
      }
      SkipSpace();
      if (Eat(',')) continue;
      SkipSpace();
      if (Eat('}')) break;
      return Fail("header: expected ',' or '}'", error);
    }
    SkipSpace();
    if (pos_ != s_.size()) return Fail("header: text after the dictionary", error);
    if (!seen_descr || !seen_order || !seen_shape) return Fail("header: missing descr, fortran_order or shape", error);
    return true;
  }

 private:
  static bool Fail(const std::string& what, std::string* error) {
    *error = what;
    return false;
  }
  void SkipSpace() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }
  bool Eat(char c) {
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool Word(const char* w) {
    const size_t n = std::strlen(w);
    if (s_.compare(pos_, n, w) != 0) return false;
    pos_ += n;
    return true;
  }
  // A Python string literal without escapes: 'x' or "x".
  bool String(std::string* out) {
    if (pos_ >= s_.size() || (s_[pos_] != '\'' && s_[pos_] != '"')) return false;
    const char quote = s_[pos_++];
    const size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] != quote) {
      if (s_[pos_] == '\\') return false;
      ++pos_;
    }
    if (pos_ >= s_.size()) return false;
    *out = s_.substr(start, pos_ - start);
    ++pos_;
    return true;
  }
  // (), (n,), (a, b), (a, b,): non-negative decimal integers below 2^62.
  bool Tuple(std::vector<int64_t>* out) {
    if (!Eat('(')) return false;
    out->clear();
    for (;;) {
      SkipSpace();
      if (Eat(')')) return true;
      if (pos_ >= s_.size() || s_[pos_] < '0' || s_[pos_] > '9') return false;
      int64_t value = 0;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
        if (value > ((int64_t{1} << 62) - 9) / 10) return false;  // the next digit would pass 2^62
        value = value * 10 + (s_[pos_++] - '0');
      }
      if (pos_ < s_.size() && s_[pos_] == 'L') ++pos_;  // Python 2 longs
      out->push_back(value);
      SkipSpace();
      if (Eat(',')) continue;
      SkipSpace();
      return Eat(')');
    }
  }

  const std::string& s_;
  size_t pos_ = 0;
};

// A 2-D little-endian f32 C-order .npy (format versions 1, 2, 3).
inline bool ParseNpy(const uint8_t* file, size_t size, Npy* out, std::string* error) {
  const auto fail = [&](const std::string& what) {
    *error = what;
    return false;
  };
  if (size < 10 || std::memcmp(file, "\x93NUMPY", 6) != 0) return fail("not a .npy file (bad magic)");
  const int major = file[6];
  size_t header_len = 0, header_start = 0;
  if (major == 1) {
    header_len = file[8] | (file[9] << 8);
    header_start = 10;
  } else if (major == 2 || major == 3) {
    if (size < 12) return fail("truncated header");
    header_len = file[8] | (file[9] << 8) | (static_cast<size_t>(file[10]) << 16) | (static_cast<size_t>(file[11]) << 24);
    header_start = 12;
  } else {
    return fail("unsupported .npy version " + std::to_string(major));
  }
  if (header_len > size - header_start) return fail("truncated header");
  const std::string text(reinterpret_cast<const char*>(file + header_start), header_len);
  NpyHeader h;
  std::string why;
  if (!NpyHeaderParser(text).Parse(&h, &why)) return fail(why + "; header: " + text);
  if (h.descr != "<f4") return fail("dtype must be little-endian float32 ('<f4'), not '" + h.descr + "'");
  if (h.fortran_order) return fail("must be C order (fortran_order False)");
  if (h.shape.size() != 2) return fail("shape must be 2-D, e.g. (4096, 4096); header: " + text);
  const int64_t rows = h.shape[0], cols = h.shape[1];
  if (rows < 1 || cols < 1 || rows > (int64_t{1} << 31) || cols > (int64_t{1} << 31)) return fail("shape out of range");
  // rows * cols * 4 in 64 bits without overflow (each <= 2^31: at most 2^64), against the data.
  const uint64_t elements = static_cast<uint64_t>(rows) * static_cast<uint64_t>(cols);
  const uint64_t have = size - header_start - header_len;
  if (elements > have / 4 || elements * 4 != have) {
    return fail("data is " + std::to_string(have) + " bytes, the shape (" + std::to_string(rows) + ", " +
                std::to_string(cols) + ") needs " + (elements > (UINT64_MAX / 4) ? std::string("more than 2^64") : std::to_string(elements * 4)) +
                (elements > have / 4 ? " (truncated)" : " (trailing bytes)"));
  }
  out->rows = rows;
  out->cols = cols;
  out->data.resize(static_cast<size_t>(elements));
  std::memcpy(out->data.data(), file + header_start + header_len, static_cast<size_t>(have));
  return true;
}

// A whole decimal integer (no sign, no trailing characters), e.g. --block 32.
inline bool ParseWholeNumber(const char* text, int64_t* value) {
  if (text == nullptr || *text < '0' || *text > '9') return false;
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0') return false;
  *value = v;
  return true;
}

// A whole decimal number (e.g. --percentile 99.9), finite.
inline bool ParseWholeFloat(const char* text, double* value) {
  if (text == nullptr || *text == '\0') return false;
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(text, &end);
  if (errno != 0 || end == text || *end != '\0' || !(v == v) || v > 1e300 || v < -1e300) return false;
  *value = v;
  return true;
}

// ---- "EKQW" weights files ---------------------------------------------------------------------------
constexpr uint32_t kFileMagic = 0x57514B45u;  // "EKQW" little-endian
// Version 2: a header checksum, every field checked; the payload is EKQB version 3.
constexpr uint32_t kFileVersion = 2;

// The 64-byte file header (little-endian); the payload after it is ek's packed QGemm weights.
struct FileHeader {
  uint32_t magic;            // 0
  uint32_t version;          // 4
  uint32_t header_bytes;     // 8: 64
  uint32_t layout_nk;        // 12: 1 if the source matrix was [N x K], 0 if [K x N]
  int64_t k, n;              // 16, 24
  uint64_t payload_bytes;    // 32
  uint64_t checksum;         // 40: Checksum64 of the payload
  uint8_t method;            // 48: ek::CalibrationMethod (0..2)
  uint8_t narrow;            // 49: 0 or 1
  uint8_t reserved[10];      // 50: 0
  uint32_t header_checksum;  // 60: low 32 bits of Checksum64 of bytes 0..59
};
static_assert(sizeof(FileHeader) == 64, "file header is 64 bytes");

inline uint32_t FileHeaderChecksum(const FileHeader& h) {
  return static_cast<uint32_t>(ek::detail::Checksum64(&h, 60));
}

// A file: header + payload (the packed weights); fills the header's sizes and checksums.
inline std::vector<uint8_t> SerializeWeightsFile(FileHeader h, const uint8_t* payload, size_t payload_bytes) {
  h.magic = kFileMagic;
  h.version = kFileVersion;
  h.header_bytes = sizeof(FileHeader);
  h.payload_bytes = payload_bytes;
  h.checksum = ek::detail::Checksum64(payload, payload_bytes);
  h.header_checksum = FileHeaderChecksum(h);
  std::vector<uint8_t> file(sizeof(FileHeader) + payload_bytes);
  std::memcpy(file.data(), &h, sizeof(h));
  std::memcpy(file.data() + sizeof(h), payload, payload_bytes);
  return file;
}

struct WeightsFile {
  FileHeader header;
  std::vector<uint32_t> payload;  // 4-byte aligned copy (packed weights must be aligned)
  ek::PackedWeights Packed() const { return ek::PackedWeights{payload.data(), static_cast<size_t>(header.payload_bytes)}; }
};

// Checks the whole file: header fields, header checksum, sizes, payload checksum, and the packed
// weights themselves (ek::VerifyPackedWeights), which must agree with the header's K and N.
inline bool ParseWeightsFile(const uint8_t* file, size_t size, WeightsFile* out, std::string* error) {
  const auto fail = [&](const std::string& what) {
    *error = what;
    return false;
  };
  if (size < sizeof(FileHeader)) return fail(std::to_string(size) + " bytes, shorter than the 64-byte header");
  FileHeader& h = out->header;
  std::memcpy(&h, file, sizeof(h));
  if (h.magic != kFileMagic) return fail("not an ek-quantize file (bad magic)");
  if (h.version != kFileVersion) {
    return fail("format version " + std::to_string(h.version) + ", this tool reads " + std::to_string(kFileVersion) +
                (h.version < kFileVersion ? " (quantize the weights again)" : ""));
  }
  if (FileHeaderChecksum(h) != h.header_checksum) return fail("corrupt header (header checksum mismatch)");
  bool reserved_zero = true;
  for (uint8_t b : h.reserved) reserved_zero = reserved_zero && b == 0;
  if (h.header_bytes != sizeof(FileHeader) || h.layout_nk > 1 || h.method > 2 || h.narrow > 1 || !reserved_zero ||
      h.k < 1 || h.n < 1) {
    return fail("corrupt header (fields out of range or reserved bytes set)");
  }
  if (h.payload_bytes != size - sizeof(FileHeader)) {
    return fail("the header says " + std::to_string(h.payload_bytes) + " payload bytes, the file has " +
                std::to_string(size - sizeof(FileHeader)) +
                (h.payload_bytes > size - sizeof(FileHeader) ? " (truncated)" : ""));
  }
  if (ek::detail::Checksum64(file + sizeof(FileHeader), static_cast<size_t>(h.payload_bytes)) != h.checksum) {
    return fail("checksum mismatch (the file is corrupt)");
  }
  out->payload.assign(static_cast<size_t>(h.payload_bytes / 4 + 1), 0);
  std::memcpy(out->payload.data(), file + sizeof(FileHeader), static_cast<size_t>(h.payload_bytes));
  const ek::Status s = ek::VerifyPackedWeights(out->Packed());
  if (!s.ok()) return fail(s.message());
  ek::detail::PackedQGemmHeader ph;
  ek::detail::QPackedLayout layout;
  const ek::Status read = ek::detail::ReadQHeader(out->payload.data(), static_cast<size_t>(h.payload_bytes), "packed", &ph, &layout);
  if (!read.ok()) return fail(read.message());  // e.g. float GEMM weights, which Verify accepts
  if (ph.k != h.k || ph.n != h.n) return fail("file header and packed weights disagree on K and N");
  return true;
}

}  // namespace ek_quantize

#endif  // EK_TOOLS_EK_QUANTIZE_IO_H_

// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Writes the seed corpus of the fuzz targets (tests/fuzz/corpus/<target>/): small valid inputs
// of every format and scheme, from which the fuzzers mutate. The corpus is committed; run this
// again after a format changes:  make_seeds tests/fuzz/corpus
#include <sys/stat.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "ek/ek.h"
#include "ek/opencl/program.h"
#include "ek_quantize_io.h"

namespace {

std::string g_root;

void Write(const std::string& target, const std::string& name, const std::vector<uint8_t>& bytes) {
  const std::string dir = g_root + "/" + target;
  mkdir(dir.c_str(), 0755);
  FILE* f = std::fopen((dir + "/" + name).c_str(), "wb");
  if (f == nullptr) {
    std::fprintf(stderr, "cannot write %s/%s\n", dir.c_str(), name.c_str());
    std::exit(1);
  }
  std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
}

std::vector<uint8_t> Bytes(const void* p, size_t n) {
  const auto* b = static_cast<const uint8_t*>(p);
  return std::vector<uint8_t>(b, b + n);
}

void Check(const ek::Status& s) {
  if (!s.ok()) {
    std::fprintf(stderr, "make_seeds: %s\n", s.message());
    std::exit(1);
  }
}

// Packed float weights (f32 / f16 / bf16) and integer weights of every scheme.
std::vector<std::vector<uint8_t>> PackedSeeds() {
  std::vector<std::vector<uint8_t>> seeds;
  const int64_t k = 9, n = 20;
  std::vector<uint32_t> b32(k * n);
  for (size_t i = 0; i < b32.size(); ++i) {
    const float x = 0.1f * static_cast<float>(static_cast<int>(i % 7) - 3);
    std::memcpy(&b32[i], &x, 4);
  }
  for (const ek::DType t : {ek::DType::kF32, ek::DType::kF16, ek::DType::kBF16}) {
    const ek::TensorView b = ek::TensorView::Host(t, b32.data(), {k, n});
    size_t bytes = 0;
    Check(ek::PackedGemmWeightsSize(b, false, &bytes));
    std::vector<uint32_t> out(bytes / 4 + 1);
    Check(ek::PackGemmWeights(b, false, out.data(), bytes));
    seeds.push_back(Bytes(out.data(), bytes));
  }
  std::vector<uint8_t> w8(k * n);
  for (size_t i = 0; i < w8.size(); ++i) w8[i] = static_cast<uint8_t>(i * 37);
  std::vector<float> scales(64, 0.02f);
  std::vector<uint16_t> half_scales(64, 0x2400);
  const ek::QuantParams schemes[] = {
      ek::QuantParams::PerTensor(0.05f, 0), ek::QuantParams::PerAxis(1, scales.data()),
      ek::QuantParams::PerBlock(0, 32, ek::DType::kF16, half_scales.data()),
      ek::QuantParams::PerBlock(0, 64, ek::DType::kF32, scales.data())};
  const struct {
    ek::DType type;
    int scheme;
  } kinds[] = {{ek::DType::kI8, 0}, {ek::DType::kI8, 1}, {ek::DType::kI8, 2}, {ek::DType::kI4, 1},
               {ek::DType::kI4, 2}, {ek::DType::kI4, 3}, {ek::DType::kU8, 0}};
  for (const auto& kind : kinds) {
    ek::QuantParams q = schemes[kind.scheme];
    if (kind.type == ek::DType::kU8) q.zero_point = 131;
    const ek::TensorView b = ek::TensorView::Host(kind.type, w8.data(), {k, n}).WithQuant(q);
    size_t bytes = 0;
    Check(ek::PackedQGemmWeightsSize(b, false, &bytes));
    std::vector<uint32_t> out(bytes / 4 + 1);
    Check(ek::PackQGemmWeights(b, false, out.data(), bytes));
    seeds.push_back(Bytes(out.data(), bytes));
  }
  // Convolution weights: 3x3 dense (2 groups) and 3x3 depthwise.
  for (const int64_t groups : {int64_t{2}, int64_t{4}}) {
    const int64_t group_in = groups == 4 ? 1 : 3, out_channels = groups == 4 ? 4 : 6;
    std::vector<float> filter(static_cast<size_t>(out_channels * 9 * group_in), 0.25f);
    const ek::TensorView f = ek::TensorView::Host(ek::DType::kF32, filter.data(), {out_channels, 3, 3, group_in});
    size_t bytes = 0;
    Check(ek::PackedConvWeightsSize(f, groups, &bytes));
    std::vector<uint32_t> out(bytes / 4 + 1);
    Check(ek::PackConvWeights(f, groups, out.data(), bytes));
    seeds.push_back(Bytes(out.data(), bytes));
  }
  // Transposed convolution weights (EKTC): 4x4 stride 2, f32; 3x3 stride 2, int8 per channel.
  for (const int64_t kernel : {int64_t{4}, int64_t{3}}) {
    std::vector<uint8_t> filter(static_cast<size_t>(5 * kernel * kernel * 3) * 4);
    for (size_t i = 0; i < filter.size(); ++i) filter[i] = static_cast<uint8_t>(i % 4 == 3 ? 0x3E : i * 11);
    ek::TensorView f = ek::TensorView::Host(kernel == 4 ? ek::DType::kF32 : ek::DType::kI8, filter.data(),
                                            {5, kernel, kernel, 3});
    if (kernel == 3) f.quant = ek::QuantParams::PerAxis(0, scales.data());
    size_t bytes = 0;
    Check(ek::PackedTransposeConvWeightsSize(f, 1, 2, 2, &bytes));
    std::vector<uint32_t> out(bytes / 4 + 1);
    Check(ek::PackTransposeConvWeights(f, 1, 2, 2, out.data(), bytes));
    seeds.push_back(Bytes(out.data(), bytes));
  }
  return seeds;
}

std::vector<uint8_t> Npy(const std::string& dict, size_t floats) {
  std::string header = dict;
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::vector<uint8_t> file = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, static_cast<uint8_t>(header.size() & 0xFF),
                               static_cast<uint8_t>(header.size() >> 8)};
  file.insert(file.end(), header.begin(), header.end());
  for (size_t i = 0; i < floats; ++i) {
    const float x = 0.25f * static_cast<float>(i % 9) - 1.0f;
    const auto* b = reinterpret_cast<const uint8_t*>(&x);
    file.insert(file.end(), b, b + 4);
  }
  return file;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_seeds CORPUS_DIR\n");
    return 2;
  }
  g_root = argv[1];
  mkdir(g_root.c_str(), 0755);

  // packed_weights: flags byte (0: as is; 3: re-sealed) + packed bytes.
  const std::vector<std::vector<uint8_t>> packed = PackedSeeds();
  for (size_t i = 0; i < packed.size(); ++i) {
    std::vector<uint8_t> seed = {static_cast<uint8_t>(i % 2 ? 3 : 0)};
    seed.insert(seed.end(), packed[i].begin(), packed[i].end());
    Write("packed_weights", "packed_" + std::to_string(i), seed);
  }

  // npy: valid files of each header version and spelling, and two malformed ones.
  Write("npy", "ok", Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 5), }", 15));
  Write("npy", "ok_order", Npy("{'shape':(2,4),'descr':\"<f4\",'fortran_order':False}", 8));
  Write("npy", "f8", Npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", 8));
  Write("npy", "huge", Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2147483648, 2147483648), }", 4));

  // weights_file: ek-quantize files (flags byte 0) of int8 per channel and int4 per block.
  {
    const int64_t n = 6, k = 64;
    std::vector<float> w(n * k);
    for (size_t i = 0; i < w.size(); ++i) w[i] = 0.01f * static_cast<float>(static_cast<int>(i % 13) - 6);
    for (int variant = 0; variant < 2; ++variant) {
      std::vector<uint8_t> values(n * k);
      std::vector<float> scales(n * 2);
      ek::QuantParams q = variant == 0 ? ek::QuantParams::PerAxis(0, scales.data())
                                       : ek::QuantParams::PerBlock(1, 32, ek::DType::kF32, scales.data());
      const ek::DType type = variant == 0 ? ek::DType::kI8 : ek::DType::kI4;
      const ek::TensorView qv = ek::TensorView::Host(type, values.data(), {n, k}).WithQuant(q);
      Check(ek::QuantizeWeights(ek::TensorView::Host(ek::DType::kF32, w.data(), {n, k}), true, qv));
      size_t bytes = 0;
      Check(ek::PackedQGemmWeightsSize(qv, true, &bytes));
      std::vector<uint32_t> p(bytes / 4 + 1);
      Check(ek::PackQGemmWeights(qv, true, p.data(), bytes));
      ek_quantize::FileHeader h;
      std::memset(&h, 0, sizeof(h));
      h.layout_nk = 1;
      h.k = k;
      h.n = n;
      std::vector<uint8_t> file = {0};
      const std::vector<uint8_t> body =
          ek_quantize::SerializeWeightsFile(h, reinterpret_cast<const uint8_t*>(p.data()), bytes);
      file.insert(file.end(), body.begin(), body.end());
      Write("weights_file", "variant_" + std::to_string(variant), file);
    }
  }

  // gguf: type byte, rows, k selector, then blocks (Q8_0 and Q4_0, 2 rows of 64).
  for (const uint8_t type : {1, 0}) {  // 1 -> Q8_0, 0 -> Q4_0 (see gguf_fuzz.cc)
    const size_t block_bytes = type == 1 ? 34 : 18;
    std::vector<uint8_t> seed = {type, 2, 0, 2};
    for (size_t b = 0; b < 4; ++b) {
      seed.push_back(0x00);
      seed.push_back(0x2C);  // f16 0.0625
      for (size_t i = 2; i < block_bytes; ++i) seed.push_back(static_cast<uint8_t>(i * 29 + b));
    }
    Write("gguf", type == 1 ? "q8_0" : "q4_0", seed);
  }

  // tensor_view: a few byte strings (every field is derived from the bytes).
  Write("tensor_view", "dense_f32_to_i8", {0, 1, 4, 4, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                            0, 0, 0, 0, 0, 0, 0, 0, 3, 1, 4, 4, 0, 0, 0, 0, 0, 0, 0, 0});
  Write("tensor_view", "strided", std::vector<uint8_t>(200, 3));
  Write("tensor_view", "extremes", std::vector<uint8_t>(200, 0xF5));
  // kv_cache: byte strings (every field is derived from the bytes): uniform ones reach valid
  // caches of each type and storage form (byte % 5 and % 4 pick them), then appends and attention.
  for (const uint8_t b : {0, 1, 2, 5, 6, 9, 16, 0xF5}) {
    Write("kv_cache", "uniform_" + std::to_string(b), std::vector<uint8_t>(400, b));
  }

  // cl_cache: a valid entry (flags byte 0) and a truncated one.
  {
    ek::opencl::detail::CacheHeader h;
    std::memset(&h, 0, sizeof(h));
    std::memcpy(h.magic, ek::opencl::detail::kCacheMagic, 8);
    h.format_version = ek::opencl::detail::kCacheFormatVersion;
    h.key = 0x0123456789ABCDEFull;
    const std::vector<uint8_t> binary = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    h.payload_bytes = binary.size();
    h.payload_checksum = ek::detail::Fnv1a(binary.data(), binary.size());
    std::vector<uint8_t> entry = {0};
    const std::vector<uint8_t> header = Bytes(&h, sizeof(h));
    entry.insert(entry.end(), header.begin(), header.end());
    entry.insert(entry.end(), binary.begin(), binary.end());
    Write("cl_cache", "entry", entry);
    entry.resize(40);
    Write("cl_cache", "truncated", entry);
  }
  std::printf("seeds written to %s\n", g_root.c_str());
  return 0;
}

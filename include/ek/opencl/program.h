// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// OpenCL programs from sources embedded at build time, with an on-disk binary cache.
//
//   ek::opencl::BuildInfo info;
//   cl_program program;
//   EK_RETURN_IF_ERROR(ek::opencl::BuildProgram(rt, source, "-DEK_TILE_M=32", &program, &info));
//
// Cache (on when rt.cache_directory() is set): one file per program, named by a 64-bit FNV-1a
// key over the source, the build options, the device name, driver version and platform
// version, and ek's version. The file is a 64-byte header (magic "EKCLBIN1", format version,
// key, payload size, payload FNV-1a) followed by the device binary. A file with another magic
// or version, another key, a wrong size or checksum (corrupt), or one the driver refuses to
// build (stale) is rebuilt from source and rewritten. Files are written to a temporary name in
// the same directory and renamed, so readers never see half a file. A directory that cannot be
// created or written turns the cache off for that build (BuildInfo says why); the build itself
// still succeeds. Build failures return the compiler's log in the status message.
#ifndef EK_OPENCL_PROGRAM_H_
#define EK_OPENCL_PROGRAM_H_

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "ek/detail/hash.h"
#include "ek/opencl/runtime.h"
#include "ek/status.h"
#include "ek/version.h"

namespace ek {
namespace opencl {

enum class CacheOutcome : uint8_t {
  kOff,        // no cache directory set
  kHit,        // loaded from the cache
  kMiss,       // no entry: built from source, entry written
  kRebuilt,    // an entry was corrupt or stale: built from source, entry rewritten
  kUnusable,   // the directory could not be used: built from source, nothing written
};

inline const char* CacheOutcomeName(CacheOutcome o) {
  switch (o) {
    case CacheOutcome::kOff: return "off";
    case CacheOutcome::kHit: return "hit";
    case CacheOutcome::kMiss: return "miss";
    case CacheOutcome::kRebuilt: return "rebuilt";
    case CacheOutcome::kUnusable: return "unusable";
  }
  return "?";
}

struct BuildInfo {
  CacheOutcome cache = CacheOutcome::kOff;
  char cache_note[384] = {0};  // why an entry was rebuilt or the directory unusable
  char cache_path[600] = {0};
  uint64_t key = 0;
};

namespace detail {

struct CacheHeader {
  char magic[8];             // "EKCLBIN1"
  uint32_t format_version;   // kCacheFormatVersion
  uint32_t reserved0;
  uint64_t key;
  uint64_t payload_bytes;
  uint64_t payload_checksum;  // FNV-1a of the payload
  uint8_t reserved[24];
};
static_assert(sizeof(CacheHeader) == 64, "cache header is 64 bytes");
constexpr uint32_t kCacheFormatVersion = 1;
constexpr char kCacheMagic[8] = {'E', 'K', 'C', 'L', 'B', 'I', 'N', '1'};

inline uint64_t ProgramKey(const DeviceCaps& caps, const char* source, const char* options) {
  uint64_t h = ek::detail::kFnv1aBasis;
  const char* parts[] = {source, options, caps.name, caps.driver_version, caps.platform, caps.platform_version,
                         caps.version, EK_VERSION_STRING};
  for (const char* part : parts) h = ek::detail::Fnv1a(part, std::strlen(part) + 1, h);  // + the terminator
  return h;
}

inline Status BuildLogError(const Runtime& rt, cl_program program, cl_int err, const char* options) {
  char log[3072] = {0};
  size_t size = 0;
  rt.api().clGetProgramBuildInfo(program, rt.device(), CL_PROGRAM_BUILD_LOG, sizeof(log) - 1, log, &size);
  return Status::Error(StatusCode::kInternal, "opencl: program build failed (error %d, options '%s'): %s",
                       static_cast<int>(err), options, log);
}

// Builds `program` for the runtime's device; on failure releases it and returns the log.
inline Status Build(const Runtime& rt, cl_program program, const char* options) {
  const cl_device_id device = rt.device();
  const cl_int err = rt.api().clBuildProgram(program, 1, &device, options, nullptr, nullptr);
  if (err == CL_SUCCESS) return Status::Ok();
  const Status s = BuildLogError(rt, program, err, options);
  rt.api().clReleaseProgram(program);
  return s;
}

inline Status BuildFromSource(const Runtime& rt, const char* source, const char* options, cl_program* out) {
  cl_int err = CL_SUCCESS;
  cl_program program = rt.api().clCreateProgramWithSource(rt.context(), 1, &source, nullptr, &err);
  if (err != CL_SUCCESS) return ClError("clCreateProgramWithSource", err);
  EK_RETURN_IF_ERROR(Build(rt, program, options));
  *out = program;
  return Status::Ok();
}

// Reads a whole small file into malloc'd memory (the caller frees it); false on any failure.
inline bool ReadWholeFile(const char* path, uint8_t** data, size_t* bytes) {
  *data = nullptr;
  *bytes = 0;
  FILE* f = std::fopen(path, "rb");
  if (f == nullptr) return false;
  bool ok = std::fseek(f, 0, SEEK_END) == 0;
  const long size = ok ? std::ftell(f) : -1;
  ok = ok && size >= 0 && std::fseek(f, 0, SEEK_SET) == 0;
  if (ok && size > 0) {
    *data = static_cast<uint8_t*>(std::malloc(static_cast<size_t>(size)));
    ok = *data != nullptr && std::fread(*data, 1, static_cast<size_t>(size), f) == static_cast<size_t>(size);
  }
  std::fclose(f);
  if (!ok) {
    std::free(*data);
    *data = nullptr;
    return false;
  }
  *bytes = static_cast<size_t>(size);
  return true;
}

// Checks a cache entry's bytes (a file's whole content): true with the device binary's place,
// or false with a note on why not (corrupt, of another format version or of another program).
// Reads nothing outside [data, data + bytes).
inline bool ParseCacheEntry(const uint8_t* data, size_t bytes, uint64_t key, const uint8_t** binary,
                            size_t* binary_bytes, char* note, size_t note_size) {
  CacheHeader h;
  const bool valid = data != nullptr && bytes >= sizeof(h);
  if (valid) std::memcpy(&h, data, sizeof(h));
  bool reserved_zero = valid && h.reserved0 == 0;
  for (size_t i = 0; valid && i < sizeof(h.reserved); ++i) reserved_zero = reserved_zero && h.reserved[i] == 0;
  if (!valid || std::memcmp(h.magic, kCacheMagic, sizeof(kCacheMagic)) != 0) {
    std::snprintf(note, note_size, "corrupt entry (no EKCLBIN1 header)");
  } else if (h.format_version != kCacheFormatVersion) {
    std::snprintf(note, note_size, "entry of format version %u (expected %u)", h.format_version, kCacheFormatVersion);
  } else if (!reserved_zero) {
    std::snprintf(note, note_size, "corrupt entry (reserved header bytes set)");
  } else if (h.key != key) {
    std::snprintf(note, note_size, "entry of another program (key mismatch)");
  } else if (h.payload_bytes != bytes - sizeof(h) || h.payload_bytes == 0) {
    std::snprintf(note, note_size, "corrupt entry (payload %llu bytes, file has %llu)",
                  static_cast<unsigned long long>(h.payload_bytes), static_cast<unsigned long long>(bytes - sizeof(h)));
  } else if (ek::detail::Fnv1a(data + sizeof(h), bytes - sizeof(h)) != h.payload_checksum) {
    std::snprintf(note, note_size, "corrupt entry (checksum mismatch)");
  } else {
    *binary = data + sizeof(h);
    *binary_bytes = bytes - sizeof(h);
    return true;
  }
  return false;
}

// Tries the cache entry: kHit with *out built, or a note on why not (missing / corrupt / stale).
inline bool LoadCached(const Runtime& rt, const char* path, uint64_t key, const char* options, cl_program* out,
                       bool* existed, char* note, size_t note_size) {
  uint8_t* data = nullptr;
  size_t bytes = 0;
  *existed = ReadWholeFile(path, &data, &bytes);
  if (!*existed) return false;
  const uint8_t* entry_binary = nullptr;
  size_t entry_bytes = 0;
  if (ParseCacheEntry(data, bytes, key, &entry_binary, &entry_bytes, note, note_size)) {
    const unsigned char* binary = entry_binary;
    const size_t binary_bytes = entry_bytes;
    const cl_device_id device = rt.device();
    cl_int binary_status = CL_SUCCESS, err = CL_SUCCESS;
    cl_program program =
        rt.api().clCreateProgramWithBinary(rt.context(), 1, &device, &binary_bytes, &binary, &binary_status, &err);
    std::free(data);
    if (err != CL_SUCCESS || binary_status != CL_SUCCESS) {
      if (program != nullptr) rt.api().clReleaseProgram(program);
      std::snprintf(note, note_size, "stale entry (driver refused the binary: %d / %d)", static_cast<int>(err),
                    static_cast<int>(binary_status));
      return false;
    }
    if (!Build(rt, program, options).ok()) {
      std::snprintf(note, note_size, "stale entry (binary did not build)");
      return false;
    }
    *out = program;
    return true;
  }
  std::free(data);
  return false;
}

// Writes the entry atomically (temporary file + rename). False with a note when it cannot.
inline bool StoreCached(const Runtime& rt, cl_program program, const char* path, uint64_t key, char* note,
                        size_t note_size) {
  size_t binary_bytes = 0;
  cl_int err = rt.api().clGetProgramInfo(program, CL_PROGRAM_BINARY_SIZES, sizeof(binary_bytes), &binary_bytes, nullptr);
  if (err != CL_SUCCESS || binary_bytes == 0) {
    std::snprintf(note, note_size, "the driver returned no program binary (%d)", static_cast<int>(err));
    return false;
  }
  uint8_t* file = static_cast<uint8_t*>(std::malloc(sizeof(CacheHeader) + binary_bytes));
  if (file == nullptr) {
    std::snprintf(note, note_size, "out of memory for a %zu-byte binary", binary_bytes);
    return false;
  }
  unsigned char* binary = file + sizeof(CacheHeader);
  err = rt.api().clGetProgramInfo(program, CL_PROGRAM_BINARIES, sizeof(binary), &binary, nullptr);
  if (err != CL_SUCCESS) {
    std::free(file);
    std::snprintf(note, note_size, "clGetProgramInfo(CL_PROGRAM_BINARIES) failed (%d)", static_cast<int>(err));
    return false;
  }
  CacheHeader h;
  std::memset(&h, 0, sizeof(h));
  std::memcpy(h.magic, kCacheMagic, sizeof(kCacheMagic));
  h.format_version = kCacheFormatVersion;
  h.key = key;
  h.payload_bytes = binary_bytes;
  h.payload_checksum = ek::detail::Fnv1a(binary, binary_bytes);
  std::memcpy(file, &h, sizeof(h));
  char temporary[640];
  std::snprintf(temporary, sizeof(temporary), "%s.tmp.%ld", path, static_cast<long>(getpid()));
  FILE* f = std::fopen(temporary, "wb");
  bool ok = f != nullptr;
  if (ok) {
    ok = std::fwrite(file, 1, sizeof(h) + binary_bytes, f) == sizeof(h) + binary_bytes;
    ok = (std::fclose(f) == 0) && ok;
  }
  ok = ok && std::rename(temporary, path) == 0;
  if (!ok) {
    std::snprintf(note, note_size, "cannot write %.300s: %s", temporary, std::strerror(errno));
    std::remove(temporary);
  }
  std::free(file);
  return ok;
}

}  // namespace detail

// Builds `source` with `options` for the runtime's device, through the cache when the runtime
// has a cache directory. *program is the caller's to release (clReleaseProgram).
inline Status BuildProgram(const Runtime& rt, const char* source, const char* options, cl_program* program,
                           BuildInfo* info = nullptr) {
  BuildInfo local;
  BuildInfo& bi = info != nullptr ? *info : local;
  bi = BuildInfo();
  if (program == nullptr) return Status::Error(StatusCode::kInvalidArgument, "program: is null");
  *program = nullptr;
  if (!rt.ok()) return Status::Error(StatusCode::kInvalidArgument, "runtime: not open");
  if (source == nullptr || *source == '\0') return Status::Error(StatusCode::kInvalidArgument, "source: is empty");
  if (options == nullptr) options = "";
  const char* directory = rt.cache_directory();
  if (directory[0] == '\0') return detail::BuildFromSource(rt, source, options, program);

  bi.key = detail::ProgramKey(rt.caps(), source, options);
  std::snprintf(bi.cache_path, sizeof(bi.cache_path), "%s/ek-%016llx.clbin", directory,
                static_cast<unsigned long long>(bi.key));
  bool existed = false;
  if (detail::LoadCached(rt, bi.cache_path, bi.key, options, program, &existed, bi.cache_note,
                         sizeof(bi.cache_note))) {
    bi.cache = CacheOutcome::kHit;
    return Status::Ok();
  }
  EK_RETURN_IF_ERROR(detail::BuildFromSource(rt, source, options, program));
  if (mkdir(directory, 0755) != 0 && errno != EEXIST) {
    std::snprintf(bi.cache_note, sizeof(bi.cache_note), "cannot create %.300s: %s", directory, std::strerror(errno));
    bi.cache = CacheOutcome::kUnusable;
    return Status::Ok();
  }
  char note[384] = {0};
  if (!detail::StoreCached(rt, *program, bi.cache_path, bi.key, note, sizeof(note))) {
    std::snprintf(bi.cache_note, sizeof(bi.cache_note), "%s", note);
    bi.cache = CacheOutcome::kUnusable;
    return Status::Ok();
  }
  bi.cache = existed ? CacheOutcome::kRebuilt : CacheOutcome::kMiss;
  return Status::Ok();
}

// The kernel `name` of `source` built with `options`, built once per Runtime and kept in its
// kernel slots (the least recently built is released when all are taken). `info` (optional)
// says whether this call built the program and how the on-disk cache answered.
inline Status GetKernel(Runtime& rt, const char* source, const char* options, const char* name, cl_kernel* kernel,
                        BuildInfo* info = nullptr) {
  if (kernel == nullptr) return Status::Error(StatusCode::kInvalidArgument, "kernel: is null");
  *kernel = nullptr;
  if (!rt.ok()) return Status::Error(StatusCode::kInvalidArgument, "runtime: not open");
  if (source == nullptr || name == nullptr) return Status::Error(StatusCode::kInvalidArgument, "source: is null");
  const uint64_t key = ek::detail::Fnv1a(name, std::strlen(name) + 1, detail::ProgramKey(rt.caps(), source,
                                                                                          options ? options : ""));
  Runtime::KernelSlot* slots = rt.kernel_slots();
  for (int i = 0; i < Runtime::kKernelSlots; ++i) {
    if (slots[i].kernel != nullptr && slots[i].key == key) {
      *kernel = slots[i].kernel;
      if (info != nullptr) *info = BuildInfo();
      return Status::Ok();
    }
  }
  cl_program program = nullptr;
  EK_RETURN_IF_ERROR(BuildProgram(rt, source, options, &program, info));
  cl_int err = CL_SUCCESS;
  cl_kernel built = rt.api().clCreateKernel(program, name, &err);
  if (err != CL_SUCCESS) {
    rt.api().clReleaseProgram(program);
    return Status::Error(StatusCode::kInternal, "opencl: clCreateKernel(%s) failed (error %d)", name,
                         static_cast<int>(err));
  }
  // The first free slot, else slot 0 after moving the others down (oldest first).
  int free_slot = -1;
  for (int i = 0; i < Runtime::kKernelSlots && free_slot < 0; ++i) {
    if (slots[i].kernel == nullptr) free_slot = i;
  }
  if (free_slot < 0) {
    rt.api().clReleaseKernel(slots[0].kernel);
    rt.api().clReleaseProgram(slots[0].program);
    for (int i = 1; i < Runtime::kKernelSlots; ++i) slots[i - 1] = slots[i];
    free_slot = Runtime::kKernelSlots - 1;
  }
  slots[free_slot].key = key;
  slots[free_slot].program = program;
  slots[free_slot].kernel = built;
  *kernel = built;
  return Status::Ok();
}

}  // namespace opencl
}  // namespace ek

#endif  // EK_OPENCL_PROGRAM_H_

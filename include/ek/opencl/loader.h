// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// Loader-free OpenCL: libOpenCL is opened at run time with dlopen, so a binary with OpenCL
// support starts on a machine without OpenCL and gets a Status saying why. Only the Khronos C
// headers are needed at build time (for types and constants); nothing links against libOpenCL.
//
// Search order: the path given by the app, then $EK_OPENCL_LIBRARY, then the usual Linux names,
// then the Android vendor paths.
#ifndef EK_OPENCL_LOADER_H_
#define EK_OPENCL_LOADER_H_

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 300
#endif
// The baseline is OpenCL 1.2 (PoCL, older phone drivers): clCreateCommandQueue is used.
#ifndef CL_USE_DEPRECATED_OPENCL_1_2_APIS
#define CL_USE_DEPRECATED_OPENCL_1_2_APIS
#endif
#include <CL/cl.h>
#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "ek/status.h"

namespace ek {
namespace opencl {

// The entry points the library uses, resolved from the loaded library.
struct Api {
  void* library = nullptr;
  char library_path[256] = {0};
#define EK_OPENCL_FUNCTIONS(X) \
  X(clGetPlatformIDs)          \
  X(clGetPlatformInfo)         \
  X(clGetDeviceIDs)            \
  X(clGetDeviceInfo)           \
  X(clCreateContext)           \
  X(clRetainContext)           \
  X(clReleaseContext)          \
  X(clGetContextInfo)          \
  X(clCreateCommandQueue)      \
  X(clRetainCommandQueue)      \
  X(clReleaseCommandQueue)     \
  X(clGetCommandQueueInfo)     \
  X(clCreateBuffer)            \
  X(clReleaseMemObject)        \
  X(clGetMemObjectInfo)        \
  X(clEnqueueWriteBuffer)      \
  X(clEnqueueReadBuffer)       \
  X(clCreateProgramWithSource) \
  X(clCreateProgramWithBinary) \
  X(clBuildProgram)            \
  X(clGetProgramInfo)          \
  X(clGetProgramBuildInfo)     \
  X(clReleaseProgram)          \
  X(clCreateKernel)            \
  X(clReleaseKernel)           \
  X(clSetKernelArg)            \
  X(clGetKernelWorkGroupInfo)  \
  X(clEnqueueNDRangeKernel)    \
  X(clFlush)                   \
  X(clFinish)                  \
  X(clWaitForEvents)           \
  X(clReleaseEvent)            \
  X(clGetEventProfilingInfo)
#define EK_OPENCL_DECLARE(name) decltype(&::name) name = nullptr;
  EK_OPENCL_FUNCTIONS(EK_OPENCL_DECLARE)
#undef EK_OPENCL_DECLARE
};

inline const char* const* DefaultLibraryPaths() {
  static const char* const kPaths[] = {
      "libOpenCL.so.1",
      "libOpenCL.so",
      "/vendor/lib64/libOpenCL.so",          // Android, most vendors
      "/system/vendor/lib64/libOpenCL.so",
      "/system/lib64/libOpenCL.so",
      "/vendor/lib64/egl/libGLES_mali.so",   // Mali drivers that ship OpenCL inside the GLES lib
      "/system/vendor/lib64/egl/libGLES_mali.so",
      "/vendor/lib64/libOpenCL_adreno.so",
      nullptr};
  return kPaths;
}

inline Status ResolveSymbols(Api* api) {
#define EK_OPENCL_RESOLVE(name)                                                              \
  api->name = reinterpret_cast<decltype(&::name)>(dlsym(api->library, #name));              \
  if (api->name == nullptr) {                                                                \
    return Status::Error(StatusCode::kUnavailable, "opencl: %s lacks %s", api->library_path, #name); \
  }
  EK_OPENCL_FUNCTIONS(EK_OPENCL_RESOLVE)
#undef EK_OPENCL_RESOLVE
  return Status::Ok();
}

// Loads the first usable library of `candidates` (null-terminated).
inline Status LoadApiFrom(Api* api, const char* const* candidates) {
  if (api == nullptr) return Status::Error(StatusCode::kInvalidArgument, "api: is null");
  if (candidates == nullptr) return Status::Error(StatusCode::kInvalidArgument, "candidates: is null");
  *api = Api();
  const char* last_error = "no candidate";
  char resolve_error[320] = {0};
  for (int i = 0; candidates[i] != nullptr; ++i) {
    // RTLD_NODELETE: vendor drivers and ICD loaders keep state (and atexit handlers) that does
    // not survive being unmapped; UnloadApi drops our handle but leaves the code mapped.
    void* lib = dlopen(candidates[i], RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    if (lib == nullptr) {
      const char* e = dlerror();
      if (e) last_error = e;
      continue;
    }
    api->library = lib;
    std::snprintf(api->library_path, sizeof(api->library_path), "%s", candidates[i]);
    const Status s = ResolveSymbols(api);
    if (s.ok()) return s;
    std::snprintf(resolve_error, sizeof(resolve_error), "%s", s.message());
    last_error = resolve_error;
    dlclose(lib);
    api->library = nullptr;
  }
  return Status::Error(StatusCode::kUnavailable, "opencl: no usable OpenCL library found (last error: %s)",
                       last_error);
}

// Loads libOpenCL. `path` may be null (search the default places).
inline Status LoadApi(Api* api, const char* path = nullptr) {
  if (api == nullptr) return Status::Error(StatusCode::kInvalidArgument, "api: is null");
  const char* candidates[17];
  int n = 0;
  if (path && *path) candidates[n++] = path;
  if (const char* env = std::getenv("EK_OPENCL_LIBRARY")) {
    if (*env) candidates[n++] = env;
  }
  for (const char* const* p = DefaultLibraryPaths(); *p && n < 16; ++p) candidates[n++] = *p;
  candidates[n] = nullptr;
  return LoadApiFrom(api, candidates);
}

inline void UnloadApi(Api* api) {
  if (api && api->library) dlclose(api->library);
  if (api) *api = Api();
}

// cl_khr_icd: the ICD loader found no vendor driver (cl_ext.h's CL_PLATFORM_NOT_FOUND_KHR).
constexpr cl_int kPlatformNotFoundKhr = -1001;

struct DeviceSummary {
  char platform[128] = {0};
  char name[128] = {0};
  char version[128] = {0};       // CL_DEVICE_VERSION
  char c_version[128] = {0};     // CL_DEVICE_OPENCL_C_VERSION
  char type[16] = {0};           // "gpu", "cpu", "accelerator", "other"
  cl_uint compute_units = 0;
  cl_ulong global_memory_bytes = 0;
  cl_ulong max_alloc_bytes = 0;
};

// Lists up to `capacity` devices of every platform. A runtime with no platform (the ICD loader
// installed without a driver) is not an error: *count is 0.
inline Status ListDevices(const Api& api, DeviceSummary* devices, int capacity, int* count) {
  *count = 0;
  cl_uint num_platforms = 0;
  cl_int err = api.clGetPlatformIDs(0, nullptr, &num_platforms);
  if (err == kPlatformNotFoundKhr || num_platforms == 0) return Status::Ok();
  if (err != CL_SUCCESS) return Status::Error(StatusCode::kUnavailable, "opencl: clGetPlatformIDs failed (%d)", err);
  cl_platform_id platforms[16];
  if (num_platforms > 16) num_platforms = 16;
  api.clGetPlatformIDs(num_platforms, platforms, nullptr);
  for (cl_uint p = 0; p < num_platforms; ++p) {
    char platform_name[128] = {0};
    api.clGetPlatformInfo(platforms[p], CL_PLATFORM_NAME, sizeof(platform_name) - 1, platform_name, nullptr);
    cl_uint num_devices = 0;
    if (api.clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, 0, nullptr, &num_devices) != CL_SUCCESS) continue;
    cl_device_id ids[16];
    if (num_devices > 16) num_devices = 16;
    api.clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, num_devices, ids, nullptr);
    for (cl_uint d = 0; d < num_devices && *count < capacity; ++d) {
      DeviceSummary& s = devices[(*count)++];
      std::snprintf(s.platform, sizeof(s.platform), "%s", platform_name);
      api.clGetDeviceInfo(ids[d], CL_DEVICE_NAME, sizeof(s.name) - 1, s.name, nullptr);
      api.clGetDeviceInfo(ids[d], CL_DEVICE_VERSION, sizeof(s.version) - 1, s.version, nullptr);
      api.clGetDeviceInfo(ids[d], CL_DEVICE_OPENCL_C_VERSION, sizeof(s.c_version) - 1, s.c_version, nullptr);
      cl_device_type type = 0;
      api.clGetDeviceInfo(ids[d], CL_DEVICE_TYPE, sizeof(type), &type, nullptr);
      std::snprintf(s.type, sizeof(s.type), "%s",
                    (type & CL_DEVICE_TYPE_GPU)           ? "gpu"
                    : (type & CL_DEVICE_TYPE_CPU)         ? "cpu"
                    : (type & CL_DEVICE_TYPE_ACCELERATOR) ? "accelerator"
                                                          : "other");
      api.clGetDeviceInfo(ids[d], CL_DEVICE_MAX_COMPUTE_UNITS, sizeof(s.compute_units), &s.compute_units, nullptr);
      api.clGetDeviceInfo(ids[d], CL_DEVICE_GLOBAL_MEM_SIZE, sizeof(s.global_memory_bytes), &s.global_memory_bytes,
                          nullptr);
      api.clGetDeviceInfo(ids[d], CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof(s.max_alloc_bytes), &s.max_alloc_bytes,
                          nullptr);
    }
  }
  return Status::Ok();
}

}  // namespace opencl
}  // namespace ek

#endif  // EK_OPENCL_LOADER_H_

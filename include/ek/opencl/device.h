// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// An OpenCL device as ek's kernels see it: DeviceCaps, filled by ProbeDevice (version, fp16,
// integer dot product, sizes, vendor), and the OpenCL error status. Used by the runtime
// (ek/opencl/runtime.h) and the kernel tuning (ek/opencl/tuning.h).
#ifndef EK_OPENCL_DEVICE_H_
#define EK_OPENCL_DEVICE_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "ek/opencl/loader.h"
#include "ek/status.h"

namespace ek {
namespace opencl {

// What a device offers, as the kernels need it (ProbeDevice).
struct DeviceCaps {
  char platform[128] = {0};
  char platform_version[128] = {0};
  char name[128] = {0};
  char vendor[128] = {0};
  char driver_version[128] = {0};
  char version[128] = {0};          // CL_DEVICE_VERSION, e.g. "OpenCL 3.0 PoCL ..."
  int c_major = 1, c_minor = 0;     // OpenCL C version the compiler accepts
  bool gpu = false;
  bool fp16 = false;                // cl_khr_fp16: half arithmetic (half storage needs nothing)
  bool subgroups = false;           // cl_khr_subgroups (or the Intel / Qualcomm forms)
  bool subgroups_khr = false;       // cl_khr_subgroups itself (sub_group_reduce_*: opencl/convert.cl)
  bool correctly_rounded_divide = false;  // CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT (f32): IEEE a / b
  bool integer_dot_khr = false;     // cl_khr_integer_dot_product
  bool integer_dot_arm = false;     // cl_arm_integer_dot_product_int8
  bool image_from_buffer = false;   // cl_khr_image2d_from_buffer
  size_t max_work_group_size = 1;
  size_t max_work_item_sizes[3] = {1, 1, 1};
  cl_ulong local_memory_bytes = 0;
  cl_ulong global_memory_bytes = 0;
  cl_ulong max_alloc_bytes = 0;
  cl_uint compute_units = 0;
};

// True if the space-separated extension list has `name` as a whole word.
inline bool HasExtension(const char* extensions, const char* name) {
  const size_t length = std::strlen(name);
  for (const char* p = extensions; p != nullptr && *p != '\0';) {
    while (*p == ' ') ++p;
    const char* end = p;
    while (*end != '\0' && *end != ' ') ++end;
    if (static_cast<size_t>(end - p) == length && std::strncmp(p, name, length) == 0) return true;
    p = end;
  }
  return false;
}

namespace detail {
inline Status ClError(const char* what, cl_int err) {
  return Status::Error(StatusCode::kInternal, "opencl: %s failed (error %d)", what, static_cast<int>(err));
}
#define EK_CL_RETURN_IF_ERROR(what, call)                 \
  do {                                                    \
    const cl_int ek_cl_err_ = (call);                     \
    if (ek_cl_err_ != CL_SUCCESS) {                       \
      return ::ek::opencl::detail::ClError(what, ek_cl_err_); \
    }                                                     \
  } while (0)
}  // namespace detail

inline Status ProbeDevice(const Api& api, cl_device_id device, DeviceCaps* caps) {
  if (caps == nullptr) return Status::Error(StatusCode::kInvalidArgument, "caps: is null");
  if (device == nullptr) return Status::Error(StatusCode::kInvalidArgument, "device: is null");
  *caps = DeviceCaps();
  cl_platform_id platform = nullptr;
  EK_CL_RETURN_IF_ERROR("clGetDeviceInfo(CL_DEVICE_PLATFORM)",
                        api.clGetDeviceInfo(device, CL_DEVICE_PLATFORM, sizeof(platform), &platform, nullptr));
  const auto text = [&](cl_device_info what, char* out, size_t size) {
    api.clGetDeviceInfo(device, what, size - 1, out, nullptr);
  };
  api.clGetPlatformInfo(platform, CL_PLATFORM_NAME, sizeof(caps->platform) - 1, caps->platform, nullptr);
  api.clGetPlatformInfo(platform, CL_PLATFORM_VERSION, sizeof(caps->platform_version) - 1, caps->platform_version,
                        nullptr);
  text(CL_DEVICE_NAME, caps->name, sizeof(caps->name));
  text(CL_DEVICE_VENDOR, caps->vendor, sizeof(caps->vendor));
  text(CL_DRIVER_VERSION, caps->driver_version, sizeof(caps->driver_version));
  text(CL_DEVICE_VERSION, caps->version, sizeof(caps->version));
  char c_version[128] = {0};
  text(CL_DEVICE_OPENCL_C_VERSION, c_version, sizeof(c_version));
  if (std::sscanf(c_version, "OpenCL C %d.%d", &caps->c_major, &caps->c_minor) != 2) {
    return Status::Error(StatusCode::kUnsupported, "opencl: device %s reports OpenCL C version '%s'", caps->name,
                         c_version);
  }
  size_t extensions_size = 0;
  api.clGetDeviceInfo(device, CL_DEVICE_EXTENSIONS, 0, nullptr, &extensions_size);
  char extensions[8192] = {0};
  if (extensions_size > 0 && extensions_size <= sizeof(extensions)) {
    api.clGetDeviceInfo(device, CL_DEVICE_EXTENSIONS, extensions_size, extensions, nullptr);
  }
  caps->fp16 = HasExtension(extensions, "cl_khr_fp16");
  caps->subgroups = HasExtension(extensions, "cl_khr_subgroups") || HasExtension(extensions, "cl_intel_subgroups") ||
                    HasExtension(extensions, "cl_qcom_reqd_sub_group_size");
  caps->subgroups_khr = HasExtension(extensions, "cl_khr_subgroups");
  caps->integer_dot_khr = HasExtension(extensions, "cl_khr_integer_dot_product");
  caps->integer_dot_arm = HasExtension(extensions, "cl_arm_integer_dot_product_int8");
  caps->image_from_buffer = HasExtension(extensions, "cl_khr_image2d_from_buffer");
  cl_device_fp_config fp_config = 0;
  api.clGetDeviceInfo(device, CL_DEVICE_SINGLE_FP_CONFIG, sizeof(fp_config), &fp_config, nullptr);
  caps->correctly_rounded_divide = (fp_config & CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT) != 0;
  cl_device_type type = 0;
  api.clGetDeviceInfo(device, CL_DEVICE_TYPE, sizeof(type), &type, nullptr);
  caps->gpu = (type & CL_DEVICE_TYPE_GPU) != 0;
  api.clGetDeviceInfo(device, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof(caps->max_work_group_size),
                      &caps->max_work_group_size, nullptr);
  api.clGetDeviceInfo(device, CL_DEVICE_MAX_WORK_ITEM_SIZES, sizeof(caps->max_work_item_sizes),
                      caps->max_work_item_sizes, nullptr);
  api.clGetDeviceInfo(device, CL_DEVICE_LOCAL_MEM_SIZE, sizeof(caps->local_memory_bytes), &caps->local_memory_bytes,
                      nullptr);
  api.clGetDeviceInfo(device, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof(caps->global_memory_bytes),
                      &caps->global_memory_bytes, nullptr);
  api.clGetDeviceInfo(device, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof(caps->max_alloc_bytes), &caps->max_alloc_bytes,
                      nullptr);
  api.clGetDeviceInfo(device, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof(caps->compute_units), &caps->compute_units,
                      nullptr);
  return Status::Ok();
}

}  // namespace opencl
}  // namespace ek

#endif  // EK_OPENCL_DEVICE_H_

// Copyright 2026 The edgekernels Authors. SPDX-License-Identifier: Apache-2.0
//
// The OpenCL host runtime: ek::opencl::Runtime, a context + in-order profiling queue on one
// device, opened here (libOpenCL loaded at run time) or borrowed from the caller's own context
// and queue. Buffers, transfers and event timing helpers for tests and benchmarks. The device's
// capabilities: ek/opencl/device.h; its kernel parameters: ek/opencl/tuning.h; programs and their
// on-disk cache: ek/opencl/program.h.
//
//   ek::opencl::Runtime rt;
//   EK_RETURN_IF_ERROR(rt.Open());                 // kUnavailable (with the reason) if no OpenCL
//   rt.caps().fp16, rt.caps().integer_dot_khr ...  // what the kernels may use
#ifndef EK_OPENCL_RUNTIME_H_
#define EK_OPENCL_RUNTIME_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "ek/opencl/device.h"
#include "ek/opencl/loader.h"
#include "ek/opencl/tuning.h"
#include "ek/status.h"

namespace ek {
namespace opencl {

struct RuntimeOptions {
  const char* library_path = nullptr;    // tried first (then $EK_OPENCL_LIBRARY and the defaults)
  int device_index = -1;                 // index over all platforms' devices; -1: first GPU, else first
  const char* cache_directory = nullptr; // program binary cache (ek/opencl/program.h); null: none
  const char* tuning_file = nullptr;     // kernel parameters (LoadTuning); null: defaults
};

// A context and an in-order queue (with profiling when the Runtime made it) on one device.
class Runtime {
 public:
  Runtime() = default;
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;
  ~Runtime() { Close(); }

  // Loads libOpenCL, picks the device, creates a context and a profiling queue.
  Status Open(const RuntimeOptions& options = RuntimeOptions()) {
    Close();
    EK_RETURN_IF_ERROR(LoadApi(&own_api_, options.library_path));
    api_ = &own_api_;
    cl_platform_id platforms[16];
    cl_uint num_platforms = 0;
    const cl_int err = api_->clGetPlatformIDs(16, platforms, &num_platforms);
    if (err != CL_SUCCESS || num_platforms == 0) {
      Close();
      return Status::Error(StatusCode::kUnavailable, "opencl: %s has no platform (error %d)", own_api_.library_path,
                           static_cast<int>(err));
    }
    cl_device_id chosen = nullptr, first = nullptr, first_gpu = nullptr;
    int index = 0;
    for (cl_uint p = 0; p < num_platforms && p < 16; ++p) {
      cl_device_id devices[16];
      cl_uint n = 0;
      if (api_->clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, 16, devices, &n) != CL_SUCCESS) continue;
      for (cl_uint d = 0; d < n && d < 16; ++d, ++index) {
        if (index == options.device_index) chosen = devices[d];
        if (first == nullptr) first = devices[d];
        cl_device_type type = 0;
        api_->clGetDeviceInfo(devices[d], CL_DEVICE_TYPE, sizeof(type), &type, nullptr);
        if (first_gpu == nullptr && (type & CL_DEVICE_TYPE_GPU)) first_gpu = devices[d];
      }
    }
    if (options.device_index >= 0 && chosen == nullptr) {
      Close();
      return Status::Error(StatusCode::kInvalidArgument, "options.device_index: %d, but there are %d devices",
                           options.device_index, index);
    }
    if (chosen == nullptr) chosen = first_gpu != nullptr ? first_gpu : first;
    if (chosen == nullptr) {
      Close();
      return Status::Error(StatusCode::kUnavailable, "opencl: %s offers no device", own_api_.library_path);
    }
    cl_int cerr = CL_SUCCESS;
    context_ = api_->clCreateContext(nullptr, 1, &chosen, nullptr, nullptr, &cerr);
    if (cerr != CL_SUCCESS) {
      Close();
      return detail::ClError("clCreateContext", cerr);
    }
    queue_ = api_->clCreateCommandQueue(context_, chosen, CL_QUEUE_PROFILING_ENABLE, &cerr);
    if (cerr != CL_SUCCESS) {
      Close();
      return detail::ClError("clCreateCommandQueue", cerr);
    }
    device_ = chosen;
    profiling_ = true;
    SetCacheDirectory(options.cache_directory);
    Status s = ProbeDevice(*api_, device_, &caps_);
    if (s.ok()) s = LoadTuning(options.tuning_file, caps_, gemm_tiles_, conv_tiles_);
    if (!s.ok()) Close();
    return s;
  }

  // Uses the caller's context and queue (retained here, released by Close). `api` must outlive
  // this Runtime. Profiling is available if the caller's queue has it.
  Status Wrap(const Api& api, cl_context context, cl_command_queue queue) {
    Close();
    if (api.library == nullptr) return Status::Error(StatusCode::kInvalidArgument, "api: not loaded");
    if (context == nullptr) return Status::Error(StatusCode::kInvalidArgument, "context: is null");
    if (queue == nullptr) return Status::Error(StatusCode::kInvalidArgument, "queue: is null");
    cl_context queue_context = nullptr;
    EK_CL_RETURN_IF_ERROR("clGetCommandQueueInfo(CL_QUEUE_CONTEXT)",
                          api.clGetCommandQueueInfo(queue, CL_QUEUE_CONTEXT, sizeof(queue_context), &queue_context,
                                                    nullptr));
    if (queue_context != context) {
      return Status::Error(StatusCode::kInvalidArgument, "queue: belongs to another context");
    }
    cl_device_id device = nullptr;
    EK_CL_RETURN_IF_ERROR("clGetCommandQueueInfo(CL_QUEUE_DEVICE)",
                          api.clGetCommandQueueInfo(queue, CL_QUEUE_DEVICE, sizeof(device), &device, nullptr));
    cl_command_queue_properties properties = 0;
    api.clGetCommandQueueInfo(queue, CL_QUEUE_PROPERTIES, sizeof(properties), &properties, nullptr);
    EK_RETURN_IF_ERROR(ProbeDevice(api, device, &caps_));
    EK_RETURN_IF_ERROR(LoadTuning(nullptr, caps_, gemm_tiles_, conv_tiles_));
    api_ = &api;
    api_->clRetainContext(context);
    api_->clRetainCommandQueue(queue);
    context_ = context;
    queue_ = queue;
    device_ = device;
    profiling_ = (properties & CL_QUEUE_PROFILING_ENABLE) != 0;
    return Status::Ok();
  }

  // Waits for the work enqueued on the queue, then releases the kernels, queue and context (a
  // wrapped queue is finished too, and ek's reference to it released). Without the wait, a
  // driver that compiles kernels on its own threads at launch (PoCL) could still be compiling
  // when the process exits: LLVM's static destructors then ran under that thread (a segfault
  // in about one run in ten of a test that ended right after its last enqueue).
  void Close() {
    if (api_ != nullptr) {
      if (queue_ != nullptr) api_->clFinish(queue_);
      for (KernelSlot& slot : kernel_slots_) {
        if (slot.kernel != nullptr) api_->clReleaseKernel(slot.kernel);
        if (slot.program != nullptr) api_->clReleaseProgram(slot.program);
        slot = KernelSlot();
      }
      if (queue_ != nullptr) api_->clReleaseCommandQueue(queue_);
      if (context_ != nullptr) api_->clReleaseContext(context_);
    }
    queue_ = nullptr;
    context_ = nullptr;
    device_ = nullptr;
    api_ = nullptr;
    profiling_ = false;
    caps_ = DeviceCaps();
    cache_directory_[0] = '\0';
    if (own_api_.library != nullptr) UnloadApi(&own_api_);
  }

  bool ok() const { return queue_ != nullptr; }
  const Api& api() const { return *api_; }
  cl_context context() const { return context_; }
  cl_command_queue queue() const { return queue_; }
  cl_device_id device() const { return device_; }
  const DeviceCaps& caps() const { return caps_; }
  bool profiling() const { return profiling_; }

  // The directory of the program binary cache (ek/opencl/program.h); null or "" turns it off.
  void SetCacheDirectory(const char* directory) {
    std::snprintf(cache_directory_, sizeof(cache_directory_), "%s", directory ? directory : "");
  }
  const char* cache_directory() const { return cache_directory_; }

  // The GEMM kernel's tile for `type` (tuning file, else defaults), and an override.
  const GemmTile& gemm_tile(GemmKernelType type) const { return gemm_tiles_[static_cast<int>(type)]; }
  void set_gemm_tile(GemmKernelType type, const GemmTile& tile) { gemm_tiles_[static_cast<int>(type)] = tile; }
  const ConvTile& conv_tile(ConvKernelType type) const { return conv_tiles_[static_cast<int>(type)]; }
  void set_conv_tile(ConvKernelType type, const ConvTile& tile) { conv_tiles_[static_cast<int>(type)] = tile; }

  // Kernels the entry points built, kept for later calls (ek/opencl/program.h, GetKernel).
  // A Runtime, like its queue, is used by one thread at a time.
  struct KernelSlot {
    uint64_t key = 0;
    cl_program program = nullptr;
    cl_kernel kernel = nullptr;
  };
  static constexpr int kKernelSlots = 32;
  KernelSlot* kernel_slots() { return kernel_slots_; }

 private:
  Api own_api_;
  const Api* api_ = nullptr;
  cl_context context_ = nullptr;
  cl_command_queue queue_ = nullptr;
  cl_device_id device_ = nullptr;
  bool profiling_ = false;
  DeviceCaps caps_;
  char cache_directory_[512] = {0};
  KernelSlot kernel_slots_[kKernelSlots];
  GemmTile gemm_tiles_[kGemmKernelTypes];
  ConvTile conv_tiles_[kConvKernelTypes];
};

// ---- Buffers and timing (tests, benchmarks, runtimes without their own helpers) ----------------
inline Status CreateBuffer(const Runtime& rt, size_t bytes, cl_mem* buffer) {
  if (buffer == nullptr) return Status::Error(StatusCode::kInvalidArgument, "buffer: is null");
  *buffer = nullptr;
  if (!rt.ok()) return Status::Error(StatusCode::kInvalidArgument, "runtime: not open");
  if (bytes == 0) return Status::Error(StatusCode::kInvalidArgument, "bytes: is 0");
  cl_int err = CL_SUCCESS;
  *buffer = rt.api().clCreateBuffer(rt.context(), CL_MEM_READ_WRITE, bytes, nullptr, &err);
  if (err != CL_SUCCESS) {
    *buffer = nullptr;
    return detail::ClError("clCreateBuffer", err);
  }
  return Status::Ok();
}

inline void ReleaseBuffer(const Runtime& rt, cl_mem buffer) {
  if (buffer != nullptr && rt.ok()) rt.api().clReleaseMemObject(buffer);
}

// Blocking copies between host memory and a buffer.
inline Status Upload(const Runtime& rt, cl_mem buffer, size_t offset, const void* data, size_t bytes) {
  EK_CL_RETURN_IF_ERROR("clEnqueueWriteBuffer",
                        rt.api().clEnqueueWriteBuffer(rt.queue(), buffer, CL_TRUE, offset, bytes, data, 0, nullptr,
                                                      nullptr));
  return Status::Ok();
}
inline Status Download(const Runtime& rt, cl_mem buffer, size_t offset, void* data, size_t bytes) {
  EK_CL_RETURN_IF_ERROR("clEnqueueReadBuffer",
                        rt.api().clEnqueueReadBuffer(rt.queue(), buffer, CL_TRUE, offset, bytes, data, 0, nullptr,
                                                     nullptr));
  return Status::Ok();
}

// Device time of a finished command in milliseconds (profiling queue), and releases the event.
inline Status EventMilliseconds(const Runtime& rt, cl_event event, double* ms) {
  if (event == nullptr || ms == nullptr) return Status::Error(StatusCode::kInvalidArgument, "event: is null");
  if (!rt.profiling()) {
    rt.api().clReleaseEvent(event);
    return Status::Error(StatusCode::kUnsupported, "queue: has no CL_QUEUE_PROFILING_ENABLE");
  }
  cl_ulong start = 0, end = 0;
  cl_int err = rt.api().clWaitForEvents(1, &event);
  if (err == CL_SUCCESS) {
    err = rt.api().clGetEventProfilingInfo(event, CL_PROFILING_COMMAND_START, sizeof(start), &start, nullptr);
  }
  if (err == CL_SUCCESS) {
    err = rt.api().clGetEventProfilingInfo(event, CL_PROFILING_COMMAND_END, sizeof(end), &end, nullptr);
  }
  rt.api().clReleaseEvent(event);
  if (err != CL_SUCCESS) return detail::ClError("clGetEventProfilingInfo", err);
  *ms = static_cast<double>(end - start) * 1e-6;
  return Status::Ok();
}

}  // namespace opencl
}  // namespace ek

#endif  // EK_OPENCL_RUNTIME_H_

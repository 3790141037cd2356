// fx_cuda_exchange_device and the device memory / stream helpers of fixres4j/cuda_check.h (CUDA builds; without
// CUDA, cuda_stub.cpp answers FX_ERR_UNSUPPORTED). Host code only: compiled as C++ against the CUDA runtime.
#include <cuda_runtime.h>

#include "internal.h"

namespace {

fx_status cuda_error(const char *fn, const char *what, cudaError_t e) {
    (void)cudaGetLastError(); // a non-sticky error must not leak into the next call
    const fx_status code = e == cudaErrorMemoryAllocation ? FX_ERR_OUT_OF_MEMORY : FX_ERR_STATE;
    return fx::fail(code, "%s: %s failed: %s (%s, error %d)", fn, what, cudaGetErrorString(e), cudaGetErrorName(e),
                    (int)e);
}

fx_status check_device_index(const char *fn, int32_t device) {
    int n = 0;
    const cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) return cuda_error(fn, "cudaGetDeviceCount (no usable CUDA device)", e);
    if (device < 0 || device >= n)
        return fx::fail(FX_ERR_INVALID_ARGUMENT, "%s: device must be in [0, %d) (got %d)", fn, n, (int)device);
    return FX_OK;
}

// Makes `device` current for the scope, restoring the caller's device afterwards.
class Scoped {
  public:
    cudaError_t enter(int device) {
        cudaError_t e = cudaGetDevice(&prev_);
        if (e != cudaSuccess) return e;
        if (prev_ == device) return cudaSuccess;
        e = cudaSetDevice(device);
        if (e == cudaSuccess) changed_ = true;
        return e;
    }
    ~Scoped() {
        if (changed_) (void)cudaSetDevice(prev_);
    }

  private:
    int prev_ = 0;
    bool changed_ = false;
};

fx_status check_memory(const char *fn, const char *name, const void *ptr) {
    cudaPointerAttributes a;
    const cudaError_t e = cudaPointerGetAttributes(&a, ptr);
    if (e != cudaSuccess) return cuda_error(fn, name, e);
    if (a.type == cudaMemoryTypeDevice || a.type == cudaMemoryTypeManaged) {
        int n = 0;
        if (cudaGetDeviceCount(&n) != cudaSuccess || a.device < 0 || a.device >= n) {
            (void)cudaGetLastError();
            return fx::fail(FX_ERR_INVALID_ARGUMENT, "%s: %s is memory of an unknown device (%d)", fn, name, a.device);
        }
    }
    return FX_OK;
}

} // namespace

extern "C" {

FX_API fx_status fx_cuda_exchange_device(int32_t device, int32_t *previous) {
    static const char *fn = "fx_cuda_exchange_device";
    if (previous == nullptr) return fx::fail(FX_ERR_INVALID_ARGUMENT, "%s: previous is null", fn);
    *previous = -1;
    int cur = -1;
    cudaError_t e = cudaGetDevice(&cur);
    if (e != cudaSuccess) return cuda_error(fn, "cudaGetDevice (no usable CUDA device)", e);
    if (cur == device) {
        *previous = cur;
        return FX_OK; // the message of an earlier failing call stays readable
    }
    const fx_status s = check_device_index(fn, device);
    if (s != FX_OK) return s;
    e = cudaSetDevice(device);
    if (e != cudaSuccess) return cuda_error(fn, "cudaSetDevice", e);
    *previous = cur;
    return FX_OK;
}

FX_API fx_status fx_cuda_check_malloc(int32_t device, int64_t bytes, void **ptr) {
    static const char *fn = "fx_cuda_check_malloc";
    if (ptr == nullptr) return fx::fail(FX_ERR_INVALID_ARGUMENT, "%s: ptr is null", fn);
    *ptr = nullptr;
    if (bytes < 1 || bytes > (int64_t{1} << 40))
        return fx::fail(FX_ERR_INVALID_ARGUMENT, "%s: bytes must be in 1..2^40 (got %lld)", fn, (long long)bytes);
    fx_status s = check_device_index(fn, device);
    if (s != FX_OK) return s;
    Scoped scope;
    cudaError_t e = scope.enter(device);
    if (e != cudaSuccess) return cuda_error(fn, "cudaSetDevice", e);
    void *p = nullptr;
    e = cudaMalloc(&p, (size_t)bytes);
    if (e != cudaSuccess) return cuda_error(fn, "cudaMalloc", e);
    *ptr = p;
    return fx::ok();
}

FX_API fx_status fx_cuda_check_free(void *ptr) {
    static const char *fn = "fx_cuda_check_free";
    if (ptr == nullptr) return fx::ok();
    const cudaError_t e = cudaFree(ptr);
    if (e != cudaSuccess) return cuda_error(fn, "cudaFree", e);
    return fx::ok();
}

FX_API fx_status fx_cuda_check_copy(void *dst, const void *src, int64_t bytes) {
    static const char *fn = "fx_cuda_check_copy";
    if (bytes < 0) return fx::fail(FX_ERR_INVALID_ARGUMENT, "%s: bytes must be >= 0 (got %lld)", fn, (long long)bytes);
    if (bytes == 0) return fx::ok();
    if (dst == nullptr || src == nullptr) return fx::fail(FX_ERR_INVALID_ARGUMENT, "%s: dst and src must not be null", fn);
    fx_status s = check_memory(fn, "dst", dst);
    if (s == FX_OK) s = check_memory(fn, "src", src);
    if (s != FX_OK) return s;
    const cudaError_t e = cudaMemcpy(dst, src, (size_t)bytes, cudaMemcpyDefault);
    if (e != cudaSuccess) return cuda_error(fn, "cudaMemcpy", e);
    return fx::ok();
}

FX_API fx_status fx_cuda_check_stream_create(int32_t device, void **stream) {
    static const char *fn = "fx_cuda_check_stream_create";
    if (stream == nullptr) return fx::fail(FX_ERR_INVALID_ARGUMENT, "%s: stream is null", fn);
    *stream = nullptr;
    fx_status s = check_device_index(fn, device);
    if (s != FX_OK) return s;
    Scoped scope;
    cudaError_t e = scope.enter(device);
    if (e != cudaSuccess) return cuda_error(fn, "cudaSetDevice", e);
    cudaStream_t st = nullptr;
    e = cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking);
    if (e != cudaSuccess) return cuda_error(fn, "cudaStreamCreateWithFlags", e);
    *stream = st;
    return fx::ok();
}

FX_API fx_status fx_cuda_check_stream_synchronize(void *stream) {
    static const char *fn = "fx_cuda_check_stream_synchronize";
    const cudaError_t e = cudaStreamSynchronize(static_cast<cudaStream_t>(stream));
    if (e != cudaSuccess) return cuda_error(fn, "cudaStreamSynchronize", e);
    return fx::ok();
}

FX_API fx_status fx_cuda_check_stream_destroy(void *stream) {
    static const char *fn = "fx_cuda_check_stream_destroy";
    if (stream == nullptr) return fx::ok();
    cudaError_t e = cudaStreamSynchronize(static_cast<cudaStream_t>(stream));
    if (e != cudaSuccess) return cuda_error(fn, "cudaStreamSynchronize", e);
    e = cudaStreamDestroy(static_cast<cudaStream_t>(stream));
    if (e != cudaSuccess) return cuda_error(fn, "cudaStreamDestroy", e);
    return fx::ok();
}

} // extern "C"

// Shared by the CUDA benchmarks (bench_cuda_preprocess.cu, bench_depthwise_cuda.cu): exit-on-error checks of CUDA and
// fx_* calls, the median, and the device-to-device copy bandwidth they report their kernels against.
#ifndef FIXRES4J_TESTS_NATIVE_CUDA_BENCH_COMMON_H
#define FIXRES4J_TESTS_NATIVE_CUDA_BENCH_COMMON_H

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "fixres4j/kernels.h"

namespace fxbench {

#define CK(call)                                                                                                  \
    do {                                                                                                          \
        const cudaError_t e_ = (call);                                                                            \
        if (e_ != cudaSuccess) {                                                                                  \
            std::fprintf(stderr, "CUDA error %s at %s:%d: %s\n", cudaGetErrorString(e_), __FILE__, __LINE__, #call); \
            std::exit(2);                                                                                         \
        }                                                                                                         \
    } while (0)

#define FX(call)                                                                                                  \
    do {                                                                                                          \
        const fx_status s_ = (call);                                                                              \
        if (s_ != FX_OK) {                                                                                        \
            std::fprintf(stderr, "fx error %d at %s:%d: %s: %s\n", (int)s_, __FILE__, __LINE__, #call,            \
                         fx_last_error());                                                                        \
            std::exit(3);                                                                                         \
        }                                                                                                         \
    } while (0)

inline double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n == 0 ? 0.0 : (n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]));
}

// Device-to-device copy bandwidth in GB/s (bytes read + written per second; up to 1 GiB, less when memory is short),
// median of 10 copies; *ms_out gets the median copy time.
inline double copy_bandwidth(double *ms_out) {
    size_t free_b = 0, total_b = 0;
    CK(cudaMemGetInfo(&free_b, &total_b));
    size_t bytes = (size_t)1 << 30;
    while (bytes > ((size_t)64 << 20) && 2 * bytes + ((size_t)512 << 20) > free_b) bytes /= 2;
    void *a = nullptr, *b = nullptr;
    CK(cudaMalloc(&a, bytes));
    CK(cudaMalloc(&b, bytes));
    CK(cudaMemset(a, 1, bytes));
    cudaEvent_t e0, e1;
    CK(cudaEventCreate(&e0));
    CK(cudaEventCreate(&e1));
    for (int i = 0; i < 3; ++i) CK(cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice, nullptr));
    std::vector<double> t;
    for (int i = 0; i < 10; ++i) {
        CK(cudaEventRecord(e0, nullptr));
        CK(cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice, nullptr));
        CK(cudaEventRecord(e1, nullptr));
        CK(cudaEventSynchronize(e1));
        float ms = 0;
        CK(cudaEventElapsedTime(&ms, e0, e1));
        t.push_back(ms);
    }
    CK(cudaEventDestroy(e0));
    CK(cudaEventDestroy(e1));
    CK(cudaFree(a));
    CK(cudaFree(b));
    const double ms = median(t);
    *ms_out = ms;
    return 2.0 * (double)bytes / (ms * 1e-3) / 1e9;
}

} // namespace fxbench

#endif

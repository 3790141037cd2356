// CUDA preprocessing: crop + antialiased resize (Pillow 9.4 exact) + channel order + normalise + layout, for a
// whole batch of differently sized host images in one kernel launch. Bit-identical with fx_preprocess_cpu: the
// taps come from fx::axis_taps, the output values from fx::make_value_table, and the kernel does integer
// arithmetic and table lookups only (kernels/cuda/preprocess_core.h).
//
// One call of fx_cuda_preprocess_batch:
//  1. validates every job (fx::validate_job, through plan_batch) and that out->data is device memory of the
//     preprocessor's device, before any copy;
//  2. plans the upload (batch_plan.cpp): per-image descriptors, the value table, the taps of every kept output
//     pixel, and each image's staged region (only the roi rows and columns the kept pixels' taps touch);
//  3. copies the staged regions into the pinned host staging buffer (several threads for large batches) and
//     enqueues the host-to-device copies on `stream` in a few parts, so the copies of part k + 1 overlap the
//     transfer of part k;
//  4. launches one persistent-grid kernel for the whole batch and records an event after it;
//  5. waits for the event recorded after the last host-to-device copy, so the host staging buffer (and the
//     caller's images) may be reused when the call returns, while the kernel may still be running.
// The next call on another stream first makes that stream wait for the previous kernel (the device staging
// buffer is reused); growing the device buffer waits for it on the host.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "batch_plan.h"
#include "cuda_internal.h"
#include "internal.h"
#include "preprocess_core.h"

namespace fx {
namespace cuda {
namespace {

// ---- the kernel ----------------------------------------------------------------------------------------------

struct DeviceExec {
    ThreadRegs regs;
    __device__ __forceinline__ int64_t block() const { return (int64_t)blockIdx.x; }
    __device__ __forceinline__ int64_t grid() const { return (int64_t)gridDim.x; }
    template <class F>
    __device__ __forceinline__ void each(F &&f) {
        f((int)threadIdx.x, regs);
    }
    __device__ __forceinline__ void sync() { __syncthreads(); }
    __device__ __forceinline__ void note_tile(bool, int) {}
};

template <int K, int MinBlocks>
__global__ void __launch_bounds__(kThreads, MinBlocks) preprocess_kernel(const __grid_constant__ BatchParams bp) {
    extern __shared__ __align__(16) unsigned char smem[];
    DeviceExec ex;
    run_block<K>(bp, smem, ex);
}

using KernelFn = void (*)(BatchParams);

// relaxed == 0 (the default): register caps for 4 (K 8, dynamic), 3 (K 16) or 2 (K 32) resident blocks per SM;
// relaxed == 1: a cap for 2 blocks everywhere (no spills, fewer resident warps). fx_internal_cuda_set_tuning.
KernelFn kernel_for(int K, int relaxed) {
    if (relaxed) {
        switch (K) {
        case 8: return preprocess_kernel<8, 2>;
        case 16: return preprocess_kernel<16, 2>;
        case 32: return preprocess_kernel<32, 2>;
        default: return preprocess_kernel<0, 2>;
        }
    }
    switch (K) {
    case 8: return preprocess_kernel<8, 4>;
    case 16: return preprocess_kernel<16, 3>;
    case 32: return preprocess_kernel<32, 2>;
    default: return preprocess_kernel<0, 4>;
    }
}

// ---- errors ----------------------------------------------------------------------------------------------------

fx_status cuda_fail(cudaError_t e, const char *what) {
    (void)cudaGetLastError(); // clear a non-sticky error so that later calls start clean
    const fx_status code = e == cudaErrorMemoryAllocation ? FX_ERR_OUT_OF_MEMORY : FX_ERR_STATE;
    return fail(code, "CUDA: %s failed: %s (%s, error %d)", what, cudaGetErrorString(e), cudaGetErrorName(e), (int)e);
}

#define FXC_CHECK(call)                                                                                           \
    do {                                                                                                          \
        const cudaError_t fxc_e_ = (call);                                                                        \
        if (fxc_e_ != cudaSuccess) return ::fx::cuda::cuda_fail(fxc_e_, #call);                                    \
    } while (0)

// Makes `device` current for the scope and restores the caller's current device afterwards.
class DeviceGuard {
  public:
    cudaError_t enter(int device) {
        cudaError_t e = cudaGetDevice(&prev_);
        if (e != cudaSuccess) return e;
        if (prev_ != device) {
            e = cudaSetDevice(device);
            if (e != cudaSuccess) return e;
            changed_ = true;
        }
        return cudaSuccess;
    }
    ~DeviceGuard() {
        if (changed_) (void)cudaSetDevice(prev_);
    }

  private:
    int prev_ = 0;
    bool changed_ = false;
};

} // namespace
} // namespace cuda
} // namespace fx

using fx::cuda::BatchParams;
using fx::cuda::BatchPlan;

struct fx_cuda_preprocessor {
    int device = 0;
    int sm_count = 1;
    unsigned char *host = nullptr; // pinned staging
    size_t host_cap = 0;
    unsigned char *dev = nullptr; // device copy of the upload
    size_t dev_cap = 0;
    cudaEvent_t copied = nullptr; // after the last host-to-device copy of the last batch
    cudaEvent_t done = nullptr;   // after the last kernel launched
    bool pending = false;         // `done` has been recorded
    bool have_last = false;       // last_* describe a successful batch
    int relaxed = 0;              // kernel_for's register-cap choice (fx_internal_cuda_set_tuning)
    BatchParams last{};
    int last_K = 0;
    int last_grid = 0;
    fx_cuda_batch_stats stats{};
};

namespace fx {
namespace cuda {
namespace {

fx_status check_output_memory(const fx_cuda_preprocessor *p, const fx_output *out, int64_t bytes) {
    const unsigned char *ends[2] = {static_cast<const unsigned char *>(out->data),
                                    static_cast<const unsigned char *>(out->data) + (bytes > 0 ? bytes - 1 : 0)};
    for (const unsigned char *ptr : ends) {
        cudaPointerAttributes a;
        std::memset(&a, 0, sizeof a);
        const cudaError_t e = cudaPointerGetAttributes(&a, ptr);
        if (e != cudaSuccess) {
            (void)cudaGetLastError();
            return fail(FX_ERR_INVALID_ARGUMENT, "out.data (%p) is not CUDA device memory: %s", out->data,
                        cudaGetErrorString(e));
        }
        if (a.type != cudaMemoryTypeDevice && a.type != cudaMemoryTypeManaged)
            return fail(FX_ERR_INVALID_ARGUMENT,
                        "out.data (%p, %lld bytes) must be CUDA device memory of device %d (memory type %d)",
                        out->data, (long long)bytes, p->device, (int)a.type);
        if (a.device != p->device)
            return fail(FX_ERR_INVALID_ARGUMENT, "out.data is memory of CUDA device %d, the preprocessor's is %d",
                        a.device, p->device);
    }
    return FX_OK;
}

fx_status grow(fx_cuda_preprocessor *p, size_t bytes) {
    if (p->host_cap < bytes) {
        // The previous batch's host-to-device copies have completed (waited for before it returned).
        if (p->host != nullptr) {
            FXC_CHECK(cudaFreeHost(p->host));
            p->host = nullptr;
            p->host_cap = 0;
        }
        const size_t cap = bytes + bytes / 4;
        FXC_CHECK(cudaMallocHost(reinterpret_cast<void **>(&p->host), cap));
        p->host_cap = cap;
    }
    if (p->dev_cap < bytes) {
        if (p->pending) FXC_CHECK(cudaEventSynchronize(p->done)); // the last kernel reads the old buffer
        p->have_last = false;
        if (p->dev != nullptr) {
            FXC_CHECK(cudaFree(p->dev));
            p->dev = nullptr;
            p->dev_cap = 0;
        }
        const size_t cap = bytes + bytes / 4;
        FXC_CHECK(cudaMalloc(reinterpret_cast<void **>(&p->dev), cap));
        p->dev_cap = cap;
    }
    return FX_OK;
}

fx_status launch(fx_cuda_preprocessor *p, const BatchParams &bp, int K, int grid, cudaStream_t stream) {
    const KernelFn fn = kernel_for(K, p->relaxed);
    fn<<<grid, kThreads, (size_t)bp.smem_bytes, stream>>>(bp);
    FXC_CHECK(cudaGetLastError());
    FXC_CHECK(cudaEventRecord(p->done, stream));
    p->pending = true;
    return FX_OK;
}

// Steps 2-5 of a batch (see the top of the file). `enqueued` is set once a copy reading the host staging
// buffer may be in flight.
constexpr int64_t kParallelMinBytes = 4 << 20; // below this, the calling thread copies alone
constexpr int kMaxStagingThreads = 8;

fx_status run_batch(fx_cuda_preprocessor *p, const BatchPlan &plan, const fx_output *out, cudaStream_t stream,
                    bool *enqueued) {
    fx_status s = check_output_memory(p, out, plan.out_bytes);
    if (s != FX_OK) return s;
    s = grow(p, (size_t)plan.total_bytes);
    if (s != FX_OK) return s;
    if (p->pending) FXC_CHECK(cudaStreamWaitEvent(stream, p->done, 0)); // device staging reuse across streams

    // Staging copies (worker threads for large batches) pipelined with the host-to-device copies of the parts.
    StagingOptions so;
    if (plan.staged_bytes >= kParallelMinBytes) {
        const unsigned hc = std::thread::hardware_concurrency();
        so.threads = (int)std::min<unsigned>(hc == 0 ? 1u : hc, (unsigned)kMaxStagingThreads);
    }
    fx_status result = FX_OK;
    stage_upload(plan, p->host, so, [&](int64_t lo, int64_t hi) {
        const cudaError_t e =
            cudaMemcpyAsync(p->dev + lo, p->host + lo, (size_t)(hi - lo), cudaMemcpyHostToDevice, stream);
        *enqueued = true;
        if (e != cudaSuccess) result = cuda_fail(e, "cudaMemcpyAsync(host to device)");
        return e == cudaSuccess;
    });
    if (result != FX_OK) return result;
    FXC_CHECK(cudaEventRecord(p->copied, stream));

    BatchParams bp = plan.params;
    bp.base = p->dev;
    bp.out = out->data;
    const KernelFn fn = kernel_for(plan.K, p->relaxed);
    if (bp.smem_bytes > 48 * 1024)
        FXC_CHECK(cudaFuncSetAttribute(fn, cudaFuncAttributeMaxDynamicSharedMemorySize, bp.smem_bytes));
    int per_sm = 0;
    FXC_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, fn, kThreads, (size_t)bp.smem_bytes));
    const int64_t resident = (int64_t)std::max(1, per_sm) * p->sm_count;
    const int grid = (int)std::max<int64_t>(1, std::min<int64_t>(plan.tiles, resident));
    s = launch(p, bp, plan.K, grid, stream);
    if (s != FX_OK) return s;
    FXC_CHECK(cudaEventSynchronize(p->copied)); // the host staging buffer may be reused from here on
    *enqueued = false;

    p->have_last = true;
    p->last = bp;
    p->last_K = plan.K;
    p->last_grid = grid;
    p->stats.upload_bytes = plan.total_bytes;
    p->stats.staged_bytes = plan.staged_bytes;
    p->stats.meta_bytes = plan.data_off;
    p->stats.out_bytes = plan.out_bytes;
    p->stats.tiles = plan.tiles;
    p->stats.grid = grid;
    p->stats.smem_bytes = bp.smem_bytes;
    p->stats.variant = plan.K;
    p->stats.max_ksize = plan.max_ksize;
    return FX_OK;
}

} // namespace
} // namespace cuda
} // namespace fx

extern "C" {

FX_API int32_t fx_cuda_compiled(void) { return 1; }

FX_API fx_status fx_cuda_device_count(int32_t *count) {
    if (count == nullptr) return fx::fail(FX_ERR_INVALID_ARGUMENT, "count is null");
    *count = 0;
    int n = 0;
    const cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) {
        (void)cudaGetLastError();
        return fx::fail(FX_ERR_STATE, "no usable CUDA device: %s (%s, error %d)", cudaGetErrorString(e),
                        cudaGetErrorName(e), (int)e);
    }
    if (n <= 0) return fx::fail(FX_ERR_STATE, "no usable CUDA device: the driver reports none");
    *count = (int32_t)n;
    return fx::ok();
}

FX_API fx_status fx_cuda_preprocessor_create(int32_t device, fx_cuda_preprocessor **result) {
    if (result == nullptr) return fx::fail(FX_ERR_INVALID_ARGUMENT, "result is null");
    *result = nullptr;
    int32_t n = 0;
    fx_status s = fx_cuda_device_count(&n);
    if (s != FX_OK) return s;
    if (device < 0 || device >= n)
        return fx::fail(FX_ERR_INVALID_ARGUMENT, "device must be in [0, %d) (got %d)", (int)n, (int)device);
    fx::cuda::DeviceGuard guard;
    FXC_CHECK(guard.enter(device));
    int sms = 0;
    FXC_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
    // Fails with "no kernel image" when the library has no code for this GPU's architecture.
    for (int K : {8, 16, 32, 0}) {
        cudaFuncAttributes fa;
        FXC_CHECK(cudaFuncGetAttributes(&fa, fx::cuda::kernel_for(K, 0)));
    }
    std::unique_ptr<fx_cuda_preprocessor> p(new (std::nothrow) fx_cuda_preprocessor());
    if (!p) return fx::fail(FX_ERR_OUT_OF_MEMORY, "out of host memory");
    p->device = device;
    p->sm_count = std::max(1, sms);
    cudaError_t e = cudaEventCreateWithFlags(&p->copied, cudaEventDisableTiming);
    if (e == cudaSuccess) e = cudaEventCreateWithFlags(&p->done, cudaEventDisableTiming);
    if (e != cudaSuccess) {
        if (p->copied != nullptr) (void)cudaEventDestroy(p->copied);
        return fx::cuda::cuda_fail(e, "cudaEventCreateWithFlags");
    }
    *result = p.release();
    return fx::ok();
}

FX_API void fx_cuda_preprocessor_destroy(fx_cuda_preprocessor *p) {
    if (p == nullptr) return;
    {
        fx::cuda::DeviceGuard guard;
        if (guard.enter(p->device) == cudaSuccess) {
            if (p->pending) (void)cudaEventSynchronize(p->done);
            if (p->dev != nullptr) (void)cudaFree(p->dev);
            if (p->host != nullptr) (void)cudaFreeHost(p->host);
            if (p->copied != nullptr) (void)cudaEventDestroy(p->copied);
            if (p->done != nullptr) (void)cudaEventDestroy(p->done);
        }
        (void)cudaGetLastError();
    }
    delete p;
}

FX_API fx_status fx_cuda_preprocess_batch(fx_cuda_preprocessor *p, const fx_preprocess_job *jobs, int32_t count,
                                          const fx_output *out, void *stream) {
    if (p == nullptr) return fx::fail(FX_ERR_INVALID_ARGUMENT, "preprocessor is null");
    bool enqueued = false;
    cudaStream_t st = static_cast<cudaStream_t>(stream);
    try {
        BatchPlan plan;
        fx_status s = fx::cuda::plan_batch(jobs, count, out, fx::cuda::PlanOptions(), &plan);
        if (s != FX_OK) return s;
        if (count == 0) return fx::ok(); // as fx_preprocess_cpu_batch: a valid empty batch does nothing
        fx::cuda::DeviceGuard guard;
        FXC_CHECK(guard.enter(p->device));
        // Not capturable: the batch stages host pixels through pinned memory, allocates on growth and waits for
        // the upload before returning (a capture would record stale staging contents and fail at the wait).
        // Refused before anything is enqueued, so a capture in progress stays valid.
        cudaStreamCaptureStatus capture = cudaStreamCaptureStatusNone;
        const cudaError_t ce = cudaStreamIsCapturing(st, &capture);
        if (ce != cudaSuccess) {
            (void)cudaGetLastError();
            return fx::fail(FX_ERR_STATE,
                            "fx_cuda_preprocess_batch cannot run on this stream while a CUDA graph is being captured "
                            "(%s): run preprocessing before the capture",
                            cudaGetErrorString(ce));
        }
        if (capture != cudaStreamCaptureStatusNone)
            return fx::fail(FX_ERR_STATE,
                            "fx_cuda_preprocess_batch cannot be captured into a CUDA graph (it stages host pixels "
                            "and waits for their upload): run it before the capture and capture what consumes its "
                            "output");
        s = fx::cuda::run_batch(p, plan, out, st, &enqueued);
        if (s != FX_OK && enqueued) {
            // Never return while a copy may still read the staging buffer.
            const std::string msg = fx_last_error();
            (void)cudaStreamSynchronize(st);
            (void)cudaGetLastError();
            return fx::fail(s, "%s", msg.c_str());
        }
        return s == FX_OK ? fx::ok() : s;
    } catch (const std::bad_alloc &) {
        if (enqueued) (void)cudaStreamSynchronize(st);
        return fx::fail(FX_ERR_OUT_OF_MEMORY, "out of host memory in fx_cuda_preprocess_batch");
    } catch (...) {
        if (enqueued) (void)cudaStreamSynchronize(st);
        return fx::fail(FX_ERR_STATE, "unexpected exception in fx_cuda_preprocess_batch");
    }
}

FX_API fx_status fx_internal_cuda_last_stats(const fx_cuda_preprocessor *p, fx_cuda_batch_stats *stats) {
    if (p == nullptr || stats == nullptr) return fx::fail(FX_ERR_INVALID_ARGUMENT, "null argument");
    if (!p->have_last) return fx::fail(FX_ERR_STATE, "no batch has run on this preprocessor");
    *stats = p->stats;
    return fx::ok();
}

FX_API fx_status fx_internal_cuda_set_tuning(fx_cuda_preprocessor *p, int32_t relaxed_registers) {
    if (p == nullptr) return fx::fail(FX_ERR_INVALID_ARGUMENT, "preprocessor is null");
    if (relaxed_registers != 0 && relaxed_registers != 1)
        return fx::fail(FX_ERR_INVALID_ARGUMENT, "relaxed_registers must be 0 or 1");
    p->relaxed = relaxed_registers;
    p->have_last = false; // the last launch configuration belongs to the other kernels
    return fx::ok();
}

FX_API fx_status fx_internal_cuda_relaunch(fx_cuda_preprocessor *p, int32_t repeats, void *stream) {
    if (p == nullptr) return fx::fail(FX_ERR_INVALID_ARGUMENT, "preprocessor is null");
    if (repeats < 0) return fx::fail(FX_ERR_INVALID_ARGUMENT, "repeats must be >= 0");
    if (!p->have_last) return fx::fail(FX_ERR_STATE, "no batch to launch again");
    fx::cuda::DeviceGuard guard;
    FXC_CHECK(guard.enter(p->device));
    for (int32_t i = 0; i < repeats; ++i) {
        const fx_status s = fx::cuda::launch(p, p->last, p->last_K, p->last_grid, static_cast<cudaStream_t>(stream));
        if (s != FX_OK) return s;
    }
    return fx::ok();
}

} // extern "C"

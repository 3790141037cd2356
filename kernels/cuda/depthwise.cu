// CUDA depthwise convolution: the fx_depthwise_*_cuda entry points. The per-block algorithms are in
// depthwise_core.h (shared with the host emulation test); this file validates, picks the template instance
// (dtype x k x vector width), sizes the grids and launches on the caller's stream. Nothing is allocated: the dw/db
// partial sums live in the caller's workspace (fx_depthwise_backward_cuda_workspace).
#include <cuda_runtime.h>

#include "depthwise_core.h"
#include "depthwise_internal.h"

namespace fx {
namespace cuda {
namespace dw {
namespace {

struct DeviceExec {
    __device__ __forceinline__ int64_t bx() const { return (int64_t)blockIdx.x; }
    __device__ __forceinline__ int64_t by() const { return (int64_t)blockIdx.y; }
    __device__ __forceinline__ int64_t bz() const { return (int64_t)blockIdx.z; }
    template <class F>
    __device__ __forceinline__ void each(F &&f) {
        f((int)threadIdx.x);
    }
    __device__ __forceinline__ void sync() { __syncthreads(); }
    __device__ __forceinline__ void atomic_add(float *p, float v) { atomicAdd(p, v); }
};

template <int DT, int K, int VEC>
__global__ void __launch_bounds__(kFwdThreads) k_fwd_nhwc(const __grid_constant__ Params p) {
    extern __shared__ float smem[];
    DeviceExec ex;
    fwd_nhwc_block<DT, K, VEC>(p, smem, ex);
}
template <int DT, int K>
__global__ void __launch_bounds__(kFwdThreads) k_fwd_nchw(const __grid_constant__ Params p) {
    extern __shared__ float smem[];
    DeviceExec ex;
    fwd_nchw_block<DT, K>(p, smem, ex);
}
template <int DT, int K, int VEC>
__global__ void __launch_bounds__(kFwdThreads) k_dx_nhwc(const __grid_constant__ Params p) {
    extern __shared__ float smem[];
    DeviceExec ex;
    dx_nhwc_block<DT, K, VEC>(p, smem, ex);
}
template <int DT, int K>
__global__ void __launch_bounds__(kFwdThreads) k_dx_nchw(const __grid_constant__ Params p) {
    extern __shared__ float smem[];
    DeviceExec ex;
    dx_nchw_block<DT, K>(p, smem, ex);
}
template <int DT, int K>
__global__ void __launch_bounds__(32 * kDwLanes) k_dw_nhwc(const __grid_constant__ Params p) {
    extern __shared__ float smem[];
    DeviceExec ex;
    dw_nhwc_block<DT, K>(p, smem, ex);
}
template <int DT, int K>
__global__ void __launch_bounds__(kDwNchwThreads) k_dw_nchw(const __grid_constant__ Params p) {
    extern __shared__ float smem[];
    DeviceExec ex;
    dw_nchw_block<DT, K>(p, smem, ex);
}
template <int DT>
__global__ void __launch_bounds__(256) k_dw_finish(const __grid_constant__ Params p) {
    dw_finish<DT>(p, (int64_t)blockIdx.x * 256 + threadIdx.x);
}

// ---- validation ------------------------------------------------------------------------------------------------
bool dtype_ok(int32_t dt) { return dt == FX_DTYPE_FLOAT32 || dt == FX_DTYPE_FLOAT16 || dt == FX_DTYPE_BFLOAT16; }

// The pointer checks below query the driver (cudaPointerGetAttributes), never a stream, so they are safe while a
// stream of this thread is being captured into a CUDA graph. The calling thread's capture mode is relaxed for
// their duration all the same, so that a capture in CUDA's strictest ("global") mode can never be invalidated by
// the validation, only by the launches themselves; the caller's mode is restored on return.
class RelaxedCapture {
  public:
    RelaxedCapture() { changed_ = cudaThreadExchangeStreamCaptureMode(&mode_) == cudaSuccess; }
    ~RelaxedCapture() {
        if (changed_) (void)cudaThreadExchangeStreamCaptureMode(&mode_);
    }
    RelaxedCapture(const RelaxedCapture &) = delete;
    RelaxedCapture &operator=(const RelaxedCapture &) = delete;

  private:
    cudaStreamCaptureMode mode_ = cudaStreamCaptureModeRelaxed;
    bool changed_ = false;
};

fx_status check_device_ptr(const char *fn, const char *name, const void *ptr, int32_t esz, int device) {
    if (((uintptr_t)ptr % (uintptr_t)esz) != 0)
        return fail(FX_ERR_INVALID_ARGUMENT, "%s: %s is not aligned to its element size (%d bytes)", fn, name, (int)esz);
    cudaPointerAttributes attr;
    const cudaError_t e = cudaPointerGetAttributes(&attr, ptr);
    if (e != cudaSuccess) {
        cudaGetLastError();
        return fail(FX_ERR_INVALID_ARGUMENT, "%s: %s is not CUDA memory (%s)", fn, name, cudaGetErrorString(e));
    }
    if (attr.type != cudaMemoryTypeDevice && attr.type != cudaMemoryTypeManaged)
        return fail(FX_ERR_INVALID_ARGUMENT, "%s: %s is not device memory", fn, name);
    if (attr.device != device)
        return fail(FX_ERR_INVALID_ARGUMENT, "%s: %s is on device %d, the current device is %d", fn, name, attr.device,
                    device);
    return FX_OK;
}

fx_status current_device(const char *fn, int *device) {
    const cudaError_t e = cudaGetDevice(device);
    if (e != cudaSuccess) {
        cudaGetLastError();
        return fail(FX_ERR_STATE, "%s: no usable CUDA device (%s)", fn, cudaGetErrorString(e));
    }
    return FX_OK;
}

fx_status launch_status(const char *fn) {
    const cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess) return fail(FX_ERR_STATE, "%s: kernel launch failed (%s)", fn, cudaGetErrorString(e));
    return fx::ok();
}

// Grid limits the launches below rely on.
fx_status check_grid(const char *fn, const fx_depthwise_shape &s, int32_t dtype, bool aligned) {
    int vec, gx, gy;
    nhwc_geometry(s.c, dtype, aligned, &vec, &gx, &gy);
    if (s.layout == FX_LAYOUT_NHWC) {
        if ((s.c + (int64_t)gx * vec - 1) / ((int64_t)gx * vec) > 65535)
            return fail(FX_ERR_INVALID_ARGUMENT, "%s: too many channels for the CUDA grid (c %lld)", fn, (long long)s.c);
    } else {
        if (s.n * s.c > INT32_MAX)
            return fail(FX_ERR_INVALID_ARGUMENT, "%s: n * c exceeds the CUDA grid (%lld)", fn, (long long)(s.n * s.c));
        const int64_t per = (int64_t)kFwdThreads * kNchwPixIters;
        if ((s.h * s.w + per - 1) / per > 65535 || ((int64_t)s.out_h * s.out_w + per - 1) / per > 65535)
            return fail(FX_ERR_INVALID_ARGUMENT, "%s: the image is too large for the CUDA grid", fn);
    }
    return FX_OK;
}

// ---- dispatch helpers -----------------------------------------------------------------------------------------
dim3 grid_of(const Launch &l) { return dim3((unsigned)l.gx, (unsigned)l.gy, (unsigned)l.gz); }

template <int DT, int K>
void launch_fwd(const Params &base, const fx_depthwise_shape &s, cudaStream_t st) {
    Params p = base;
    if (s.layout == FX_LAYOUT_NHWC) {
        for (int64_t n0 = 0; n0 < s.n; n0 += 65535) {
            p.n0 = n0;
            const Launch l = launch_geometry(p, s.layout, kFwd, n0);
            if (p.vec == 1)
                k_fwd_nhwc<DT, K, 1><<<grid_of(l), l.threads, (size_t)l.smem_bytes, st>>>(p);
            else
                k_fwd_nhwc<DT, K, 16 / esize<DT>()><<<grid_of(l), l.threads, (size_t)l.smem_bytes, st>>>(p);
        }
    } else {
        const Launch l = launch_geometry(p, s.layout, kFwd, 0);
        k_fwd_nchw<DT, K><<<grid_of(l), l.threads, (size_t)l.smem_bytes, st>>>(p);
    }
}

template <int DT, int K>
void launch_bwd(const Params &base, const fx_depthwise_shape &s, bool want_dx, bool want_dw, cudaStream_t st) {
    Params p = base;
    if (want_dx) {
        if (s.layout == FX_LAYOUT_NHWC) {
            for (int64_t n0 = 0; n0 < s.n; n0 += 65535) {
                p.n0 = n0;
                const Launch l = launch_geometry(p, s.layout, kDx, n0);
                if (p.vec == 1)
                    k_dx_nhwc<DT, K, 1><<<grid_of(l), l.threads, (size_t)l.smem_bytes, st>>>(p);
                else
                    k_dx_nhwc<DT, K, 16 / esize<DT>()><<<grid_of(l), l.threads, (size_t)l.smem_bytes, st>>>(p);
            }
        } else {
            const Launch l = launch_geometry(p, s.layout, kDx, 0);
            k_dx_nchw<DT, K><<<grid_of(l), l.threads, (size_t)l.smem_bytes, st>>>(p);
        }
    }
    if (want_dw) {
        const Launch l = launch_geometry(p, s.layout, kDw, 0);
        if (s.layout == FX_LAYOUT_NHWC)
            k_dw_nhwc<DT, K><<<grid_of(l), l.threads, (size_t)l.smem_bytes, st>>>(p);
        else
            k_dw_nchw<DT, K><<<grid_of(l), l.threads, (size_t)l.smem_bytes, st>>>(p);
        const Launch f = launch_geometry(p, s.layout, kFinish, 0);
        k_dw_finish<DT><<<grid_of(f), f.threads, 0, st>>>(p);
    }
}

template <int DT>
void fwd_k(const Params &p, const fx_depthwise_shape &s, cudaStream_t st) {
    switch (s.k) {
    case 1: launch_fwd<DT, 1>(p, s, st); break;
    case 3: launch_fwd<DT, 3>(p, s, st); break;
    case 5: launch_fwd<DT, 5>(p, s, st); break;
    default: launch_fwd<DT, 7>(p, s, st); break;
    }
}
template <int DT>
void bwd_k(const Params &p, const fx_depthwise_shape &s, bool dx, bool dw, cudaStream_t st) {
    switch (s.k) {
    case 1: launch_bwd<DT, 1>(p, s, dx, dw, st); break;
    case 3: launch_bwd<DT, 3>(p, s, dx, dw, st); break;
    case 5: launch_bwd<DT, 5>(p, s, dx, dw, st); break;
    default: launch_bwd<DT, 7>(p, s, dx, dw, st); break;
    }
}

bool al16(const void *p) { return p == nullptr || ((uintptr_t)p & 15u) == 0; }

} // namespace
} // namespace dw
} // namespace cuda
} // namespace fx

using fx::fail;
using namespace fx::cuda::dw;

extern "C" {

FX_API fx_status fx_depthwise_forward_cuda(const fx_depthwise_shape *shape, int32_t dtype, const void *x, const void *w,
                                           const void *b, int32_t act, void *y, float *se_sums, void *stream) {
    static const char *fn = "fx_depthwise_forward_cuda";
    fx::DwCounts cnt;
    fx_status st = fx::dw_validate_shape(fn, shape, &cnt);
    if (st != FX_OK) return st;
    if (!dtype_ok(dtype))
        return fail(FX_ERR_INVALID_ARGUMENT, "%s: dtype must be FX_DTYPE_FLOAT32, FLOAT16 or BFLOAT16 (got %d)", fn, (int)dtype);
    if (act != FX_ACT_NONE && act != FX_ACT_SILU)
        return fail(FX_ERR_INVALID_ARGUMENT, "%s: act must be FX_ACT_NONE (0) or FX_ACT_SILU (1) (got %d)", fn, (int)act);
    if (x == nullptr || w == nullptr || y == nullptr)
        return fail(FX_ERR_INVALID_ARGUMENT, "%s: x, w and y must not be null", fn);
    const int32_t es = fx::dtype_size(dtype);
    if (fx::dw_overlap(y, cnt.y * es, x, cnt.x * es) || fx::dw_overlap(y, cnt.y * es, w, cnt.w * es) ||
        fx::dw_overlap(y, cnt.y * es, b, shape->c * es) || fx::dw_overlap(se_sums, cnt.nc * 4, y, cnt.y * es) ||
        fx::dw_overlap(se_sums, cnt.nc * 4, x, cnt.x * es))
        return fail(FX_ERR_INVALID_ARGUMENT, "%s: an output (y, se_sums) overlaps another tensor", fn);
    const bool aligned = al16(x) && al16(y);
    st = check_grid(fn, *shape, dtype, aligned);
    if (st != FX_OK) return st;
    int device = 0;
    st = current_device(fn, &device);
    if (st != FX_OK) return st;
    const char *names[5] = {"x", "w", "b", "y", "se_sums"};
    const void *ptrs[5] = {x, w, b, y, se_sums};
    {
        RelaxedCapture relaxed; // for the pointer queries only
        for (int i = 0; i < 5; ++i) {
            if (ptrs[i] == nullptr) continue;
            st = check_device_ptr(fn, names[i], ptrs[i], i == 4 ? 4 : es, device);
            if (st != FX_OK) return st;
        }
    }
    cudaStream_t cs = static_cast<cudaStream_t>(stream);
    Params p = make_params(*shape, dtype, aligned);
    p.x = x;
    p.w = w;
    p.b = b;
    p.y = y;
    p.se = se_sums;
    p.act = act;
    if (se_sums != nullptr) {
        const cudaError_t e = cudaMemsetAsync(se_sums, 0, (size_t)cnt.nc * sizeof(float), cs);
        if (e != cudaSuccess) return fail(FX_ERR_STATE, "%s: cudaMemsetAsync failed (%s)", fn, cudaGetErrorString(e));
    }
    switch (dtype) {
    case FX_DTYPE_FLOAT32: fwd_k<FX_DTYPE_FLOAT32>(p, *shape, cs); break;
    case FX_DTYPE_FLOAT16: fwd_k<FX_DTYPE_FLOAT16>(p, *shape, cs); break;
    default: fwd_k<FX_DTYPE_BFLOAT16>(p, *shape, cs); break;
    }
    return launch_status(fn);
}

FX_API fx_status fx_depthwise_backward_cuda_workspace(const fx_depthwise_shape *shape, int32_t dtype, int64_t *bytes) {
    static const char *fn = "fx_depthwise_backward_cuda_workspace";
    fx::DwCounts cnt;
    fx_status st = fx::dw_validate_shape(fn, shape, &cnt);
    if (st != FX_OK) return st;
    if (!dtype_ok(dtype))
        return fail(FX_ERR_INVALID_ARGUMENT, "%s: dtype must be FX_DTYPE_FLOAT32, FLOAT16 or BFLOAT16 (got %d)", fn, (int)dtype);
    if (bytes == nullptr) return fail(FX_ERR_INVALID_ARGUMENT, "%s: bytes is null", fn);
    int64_t tiles, rpt;
    dw_tiles(shape->n, shape->c, shape->out_h, shape->layout, &tiles, &rpt);
    *bytes = tiles * shape->c * (shape->k * shape->k + 1) * (int64_t)sizeof(float);
    return fx::ok();
}

FX_API fx_status fx_depthwise_backward_cuda(const fx_depthwise_shape *shape, int32_t dtype, const void *x, const void *w,
                                            const void *dy, void *dx, void *dw, void *db, void *workspace,
                                            int64_t workspace_bytes, void *stream) {
    static const char *fn = "fx_depthwise_backward_cuda";
    fx::DwCounts cnt;
    fx_status st = fx::dw_validate_shape(fn, shape, &cnt);
    if (st != FX_OK) return st;
    if (!dtype_ok(dtype))
        return fail(FX_ERR_INVALID_ARGUMENT, "%s: dtype must be FX_DTYPE_FLOAT32, FLOAT16 or BFLOAT16 (got %d)", fn, (int)dtype);
    if (dy == nullptr) return fail(FX_ERR_INVALID_ARGUMENT, "%s: dy is null", fn);
    if (dx == nullptr && dw == nullptr && db == nullptr)
        return fail(FX_ERR_INVALID_ARGUMENT, "%s: dx, dw and db are all null (nothing to compute)", fn);
    if (dx != nullptr && w == nullptr) return fail(FX_ERR_INVALID_ARGUMENT, "%s: w is null but dx is wanted", fn);
    if (dw != nullptr && x == nullptr) return fail(FX_ERR_INVALID_ARGUMENT, "%s: x is null but dw is wanted", fn);
    const bool want_dw = dw != nullptr || db != nullptr;
    int64_t need = 0;
    if (want_dw) {
        int64_t tiles, rpt;
        dw_tiles(shape->n, shape->c, shape->out_h, shape->layout, &tiles, &rpt);
        need = tiles * shape->c * (shape->k * shape->k + 1) * (int64_t)sizeof(float);
        if (workspace == nullptr || workspace_bytes < need || ((uintptr_t)workspace & 3u) != 0)
            return fail(FX_ERR_INVALID_ARGUMENT, "%s: the workspace must be 4-byte aligned with at least %lld bytes (got %lld)",
                        fn, (long long)need, (long long)workspace_bytes);
    }
    const int32_t es = fx::dtype_size(dtype);
    const void *outs[4] = {dx, dw, db, want_dw ? workspace : nullptr};
    const int64_t outb[4] = {cnt.x * es, cnt.w * es, shape->c * es, need};
    const void *ins[3] = {x, w, dy};
    const int64_t inb[3] = {cnt.x * es, cnt.w * es, cnt.y * es};
    for (int i = 0; i < 4; ++i) {
        for (int k = 0; k < 3; ++k)
            if (fx::dw_overlap(outs[i], outb[i], ins[k], inb[k]))
                return fail(FX_ERR_INVALID_ARGUMENT, "%s: an output (dx, dw, db, workspace) overlaps an input", fn);
        for (int k = i + 1; k < 4; ++k)
            if (fx::dw_overlap(outs[i], outb[i], outs[k], outb[k]))
                return fail(FX_ERR_INVALID_ARGUMENT, "%s: the outputs dx, dw, db, workspace overlap each other", fn);
    }
    const bool aligned = al16(dy) && al16(dx);
    st = check_grid(fn, *shape, dtype, aligned);
    if (st != FX_OK) return st;
    int device = 0;
    st = current_device(fn, &device);
    if (st != FX_OK) return st;
    const char *names[7] = {"x", "w", "dy", "dx", "dw", "db", "workspace"};
    const void *ptrs[7] = {x, w, dy, dx, dw, db, want_dw ? workspace : nullptr};
    {
        RelaxedCapture relaxed; // for the pointer queries only
        for (int i = 0; i < 7; ++i) {
            if (ptrs[i] == nullptr) continue;
            st = check_device_ptr(fn, names[i], ptrs[i], i == 6 ? 4 : es, device);
            if (st != FX_OK) return st;
        }
    }
    Params p = make_params(*shape, dtype, aligned);
    p.x = x;
    p.w = w;
    p.dy = dy;
    p.dx = dx;
    p.dw = dw;
    p.db = db;
    p.partial = static_cast<float *>(workspace);
    cudaStream_t cs = static_cast<cudaStream_t>(stream);
    switch (dtype) {
    case FX_DTYPE_FLOAT32: bwd_k<FX_DTYPE_FLOAT32>(p, *shape, dx != nullptr, want_dw, cs); break;
    case FX_DTYPE_FLOAT16: bwd_k<FX_DTYPE_FLOAT16>(p, *shape, dx != nullptr, want_dw, cs); break;
    default: bwd_k<FX_DTYPE_BFLOAT16>(p, *shape, dx != nullptr, want_dw, cs); break;
    }
    return launch_status(fn);
}

} // extern "C"

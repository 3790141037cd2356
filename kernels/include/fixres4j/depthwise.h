/*
 * FixRes4J kernels, part of the one C ABI (included by fixres4j/kernels.h; same rules): depthwise 2-D
 * convolution (groups == channels, one k x k filter per channel), forward and backward, CPU and CUDA.
 *
 * Tensors (all contiguous, no strides; the caller, libtorch through Java, allocates everything):
 *   x   [n, c, h, w] (FX_LAYOUT_NCHW) or [n, h, w, c] (FX_LAYOUT_NHWC)
 *   y   [n, c, out_h, out_w] or [n, out_h, out_w, c] (same layout as x)
 *   w   [c, 1, k, k] (PyTorch's depthwise weight, whatever the layout), b [c]
 *   se_sums [n, c] float32 (also for float16/bfloat16 tensors on CUDA)
 *
 *   pre[n, c, i, j] = b[c] + sum_{kh, kw < k} w[c, kh, kw] * x[n, c, i * stride - pad_top + kh, j * stride - pad_left + kw]
 *   (x outside [0, h) x [0, w) is 0), y = act(pre); se_sums[n, c] = sum_{i, j} y[n, c, i, j].
 *
 * The fused inference block of EfficientNet is act = FX_ACT_SILU with BatchNorm folded into w and b by the
 * caller (w' = w * gamma / sqrt(var + eps), b' = beta - mean * gamma / sqrt(var + eps)); the training path uses
 * act = FX_ACT_NONE, b = NULL (the plain convolution) and libtorch's own BatchNorm and SiLU.
 *
 * Padding is explicit: TF 'same' is pad_total = max((ceil(h / stride) - 1) * stride + k - h, 0),
 * pad_top = pad_total / 2, pad_bottom = pad_total - pad_top (same for the width); symmetric padding p is
 * p, p, p, p. Each pad is in [0, k - 1].
 */
#ifndef FIXRES4J_DEPTHWISE_H
#define FIXRES4J_DEPTHWISE_H

#include "fixres4j/kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { FX_ACT_NONE = 0, FX_ACT_SILU = 1 /* y = pre / (1 + exp(-pre)) */ };
/* OR-ed into act of the CPU forwards (fx_depthwise_forward_cpu, fx_depthwise_forward_cpu_dtype), NHWC only: the
 * convolution reads silu(x) instead of x (each element of x widened to float32 and passed through a SiLU in float32,
 * not rounded: the kernels' own under FX_ISA_SCALAR and FX_ISA_AVX2*, a cheaper one good to ~7e-5 relative under
 * FX_ISA_AVX512), so that the SiLU of the layer before needs no pass of its own. The padding stays 0
 * (silu(0) = 0); se_sums and the output activation are as without it. NCHW: FX_ERR_UNSUPPORTED. The CUDA forward
 * refuses it (FX_ERR_INVALID_ARGUMENT). */
enum { FX_ACT_IN_SILU = 0x100 };

typedef struct fx_depthwise_shape {
    int64_t n, c, h, w; /* > 0 */
    int32_t k;          /* odd, 1 <= k <= 7 (3 and 5 have dedicated code; 1 and 7 go through the same templates) */
    int32_t stride;     /* 1 or 2 */
    int32_t pad_top, pad_left, pad_bottom, pad_right; /* each in [0, k - 1] */
    int32_t layout;     /* FX_LAYOUT_NCHW or FX_LAYOUT_NHWC */
    int32_t out_h, out_w; /* must equal (h + pad_top + pad_bottom - k) / stride + 1 (same for w), >= 1;
                             fx_depthwise_shape_derive fills them */
} fx_depthwise_shape;

/* Validates every field but out_h/out_w, then sets out_h and out_w. FX_ERR_INVALID_ARGUMENT (nothing written)
 * on a bad field or when an element count of x, y or w would overflow int64. */
fx_status fx_depthwise_shape_derive(fx_depthwise_shape *shape);

/* CPU forward, float32. w and x, y as above; b: NULL (no bias) or [c]; act: FX_ACT_*; se_sums: NULL or [n, c]
 * (overwritten with the spatial sums of y, accumulated in double per row). x and y must not overlap.
 * Spread over `threads` threads (>= 1, the calling thread is one of them; pass libtorch's
 * at::get_num_threads()) by (n, channel block). Follows fx_cpu_isa(): AVX-512 kernels (NHWC; NCHW in AVX2) for
 * FX_ISA_AVX512, AVX2 + FMA for FX_ISA_AVX2 and FX_ISA_AVX2_VNNI (SiLU through a polynomial exp good to ~2 ulp),
 * portable code for FX_ISA_SCALAR; all agree with a double-precision reference within ~1e-6 relative. */
fx_status fx_depthwise_forward_cpu(const fx_depthwise_shape *shape, const float *x, const float *w, const float *b,
                                   int32_t act, float *y, float *se_sums, int32_t threads);

/* CPU forward with a dtype, the same semantics as fx_depthwise_forward_cpu. dtype FX_DTYPE_FLOAT32: exactly
 * fx_depthwise_forward_cpu (x, w, b, y are float *). FX_DTYPE_BFLOAT16: x, w, b (NULL or [c]) and y are bfloat16
 * (uint16_t holding the upper 16 bits of a float32), aligned to 2 bytes; se_sums stays float32 [n, c] (or NULL),
 * aligned to 4. w and b are widened to float32 once per call, x as it is read (widening is exact); arithmetic and
 * accumulation are float32 as in the float path (same kernels, same ISA choice: fx_cpu_isa(); under FX_ISA_AVX512
 * on a CPU with AVX512-BF16 the outputs are rounded with vcvtneps2bf16). Each output is rounded once, from the
 * float32 value act(pre), by this rule (every ISA instance alike, bit for bit): a NaN becomes a quiet NaN (its sign
 * and upper 16 bits kept, bit 0x0040 set); zero and float32 subnormals become zero of the same sign; any other value
 * rounds to nearest, ties to even, on its upper 16 bits (past the largest finite bfloat16: infinity). So y is within
 * half a bfloat16 ulp (2^-8 relative) of the float32 result for normal values. se_sums are float32 sums (in double
 * per row, as the float path) of the float32 outputs before rounding (as the CUDA kernels). FX_DTYPE_FLOAT16:
 * FX_ERR_UNSUPPORTED (the CUDA kernels have it); any other dtype FX_ERR_INVALID_ARGUMENT. Nothing is written on an
 * error. */
fx_status fx_depthwise_forward_cpu_dtype(const fx_depthwise_shape *shape, int32_t dtype, const void *x, const void *w,
                                         const void *b, int32_t act, void *y, float *se_sums, int32_t threads);

/* CPU backward of the *unfused* convolution (act = FX_ACT_NONE; the gradient of a bias b is the same whether or
 * not b was passed forward): dy is the gradient of the convolution's output (pre-activation), shaped like y.
 * dx (shaped like x), dw ([c, 1, k, k]) and db ([c]) are each NULL (not wanted) or overwritten (not
 * accumulated) with the gradient of the input, of the weight and of the bias. At least one must be non-NULL.
 * dw and db are accumulated in double. Threaded by channel block. */
fx_status fx_depthwise_backward_cpu(const fx_depthwise_shape *shape, const float *x, const float *w, const float *dy,
                                    float *dx, float *dw, float *db, int32_t threads);

/* Threads of the CPU depthwise kernels. They run between libtorch's operators on the same cores, so by default
 * (FX_THREADING_AUTO) their parallel loops run on the OpenMP runtime libtorch has loaded (GNU OpenMP's
 * GOMP_parallel of the libgomp.so.1 already in the process, looked up, never loaded or linked by this library):
 * libtorch's operators and these kernels then share one team of threads. Without such a runtime in the process, or
 * with FX_THREADING_POOL, they run on this library's own persistent pool (the one fx_preprocess_cpu_batch uses).
 * The results are identical either way (the items and their order of accumulation do not depend on the threads).
 * Process-wide; FX_ERR_UNSUPPORTED for FX_THREADING_OPENMP when no OpenMP runtime is loaded. */
enum { FX_THREADING_AUTO = 0, FX_THREADING_POOL = 1, FX_THREADING_OPENMP = 2 };
fx_status fx_depthwise_set_threading(int32_t mode);
/* What the CPU depthwise kernels' next parallel call uses: FX_THREADING_OPENMP or FX_THREADING_POOL. */
int32_t fx_depthwise_threading(void);
/* The thread count of the OpenBLAS libtorch calls (looked up in the process like the OpenMP runtime). A pthreads
 * OpenBLAS has its own pool, sized to the machine whatever libtorch's thread count, whose idle workers busy-wait
 * after each call: next to libtorch's OpenMP team they take a core from it, and with libtorch on one thread they
 * still make its BLAS calls two-threaded. 1 keeps every parallel loop on the OpenMP team. FX_ERR_UNSUPPORTED when
 * no OpenBLAS is loaded; fx_cpu_blas_threads gives -1 then. */
fx_status fx_cpu_blas_set_threads(int32_t threads);
int32_t fx_cpu_blas_threads(void);

/* CUDA. All pointers are device memory of the current device; every tensor (x, w, b, y, dy, dx, dw, db) has
 * `dtype` (FX_DTYPE_FLOAT32, FX_DTYPE_FLOAT16 or FX_DTYPE_BFLOAT16; arithmetic in float32, each output rounded
 * once to nearest-even) except se_sums, always float32 [n, c]. Enqueued on `stream` (a cudaStream_t; NULL =
 * the legacy default stream); the call returns without waiting. Pointers must be aligned to their element size
 * and be device (or managed) memory of the current device; the NHWC kernels use 16-byte vector loads over
 * channels when c * element size is a multiple of 16 and x, y (dy, dx) are 16-byte aligned, else scalar loads.
 * se_sums are float32 sums of the float32 outputs before rounding (zeroed on the stream, then atomically added
 * per block: the order of the additions may vary). FX_ERR_UNSUPPORTED in a build without CUDA. Capturable:
 * the CUDA entry points only validate, launch and (forward with se_sums) memset on `stream`; they neither
 * allocate nor synchronise, so they may be called while `stream` is captured into a CUDA graph. */
fx_status fx_depthwise_forward_cuda(const fx_depthwise_shape *shape, int32_t dtype, const void *x, const void *w,
                                    const void *b, int32_t act, void *y, float *se_sums, void *stream);

/* Bytes of device scratch fx_depthwise_backward_cuda needs for this shape when dw or db is wanted (the weight
 * gradient's partial sums of the tiled reduction, float32); 0 if none is needed. */
fx_status fx_depthwise_backward_cuda_workspace(const fx_depthwise_shape *shape, int32_t dtype, int64_t *bytes);

/* CUDA backward, same semantics as fx_depthwise_backward_cpu. workspace: device memory of at least
 * fx_depthwise_backward_cuda_workspace bytes (may be NULL when that is 0), used by this call only (it must not
 * be reused until the stream has passed this call). The weight gradient is a tiled reduction reading each
 * activation and each output gradient once; deterministic (no atomics). */
fx_status fx_depthwise_backward_cuda(const fx_depthwise_shape *shape, int32_t dtype, const void *x, const void *w,
                                     const void *dy, void *dx, void *dw, void *db, void *workspace,
                                     int64_t workspace_bytes, void *stream);

#ifdef __cplusplus
}
#endif

#endif /* FIXRES4J_DEPTHWISE_H */

/*
 * The JavaCPP-facing glue: flat wrappers over the C ABI (kernels/include/fixres4j/kernels.h) that take Java
 * primitive arrays instead of structs, so one JNI call carries a whole batch. Nothing here validates: the kernels do
 * (every fx_* entry point checks its arguments before touching memory), and the Java side only passes addresses of
 * memory it owns together with that memory's true sizes.
 *
 * Per-job arrays (job j):
 *   image_addr[j], image_stride[j]               address of the top-left pixel, bytes per row
 *   image_ints[5j .. 5j+3]                        width, height, channels, order (5j+4 unused)
 *   plan_ints[12j .. 12j+11]                      roi_x, roi_y, roi_w, roi_h, resize_w, resize_h, crop_x, crop_y,
 *                                                 out_w, out_h, filter, flip_x
 *   boxes[4j .. 4j+3]                             box_x0, box_y0, box_x1, box_y1
 *   indices[j]                                    batch slot
 * Output: out_addr, batch, out_ints = {layout, dtype, order, out_w, out_h}, mean[3], std[3].
 */
#ifndef FIXRES4J_JNI_H
#define FIXRES4J_JNI_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fixres4j/kernels.h"

static inline fx_status fxj_fill_jobs(int32_t count, const long long *image_addr, const long long *image_stride,
                                      const int32_t *image_ints, const int32_t *plan_ints, const double *boxes,
                                      const long long *indices, fx_preprocess_job *jobs) {
    for (int32_t j = 0; j < count; j++) {
        fx_preprocess_job *job = &jobs[j];
        memset(job, 0, sizeof(*job));
        job->image.data = (const uint8_t *)(uintptr_t)image_addr[j];
        job->image.row_stride = image_stride[j];
        job->image.width = image_ints[5 * j + 0];
        job->image.height = image_ints[5 * j + 1];
        job->image.channels = image_ints[5 * j + 2];
        job->image.order = image_ints[5 * j + 3];
        const int32_t *p = &plan_ints[12 * j];
        job->plan.roi_x = p[0];
        job->plan.roi_y = p[1];
        job->plan.roi_w = p[2];
        job->plan.roi_h = p[3];
        job->plan.resize_w = p[4];
        job->plan.resize_h = p[5];
        job->plan.crop_x = p[6];
        job->plan.crop_y = p[7];
        job->plan.out_w = p[8];
        job->plan.out_h = p[9];
        job->plan.filter = p[10];
        job->plan.flip_x = p[11];
        job->plan.box_x0 = boxes[4 * j + 0];
        job->plan.box_y0 = boxes[4 * j + 1];
        job->plan.box_x1 = boxes[4 * j + 2];
        job->plan.box_y1 = boxes[4 * j + 3];
        job->index = indices[j];
    }
    return FX_OK;
}

static inline void fxj_fill_output(long long out_addr, long long batch, const int32_t *out_ints, const float *mean,
                                   const float *std, fx_output *out) {
    memset(out, 0, sizeof(*out));
    out->data = (void *)(uintptr_t)out_addr;
    out->batch = batch;
    out->layout = out_ints[0];
    out->dtype = out_ints[1];
    out->order = out_ints[2];
    out->out_w = out_ints[3];
    out->out_h = out_ints[4];
    for (int c = 0; c < 3; c++) {
        out->mean[c] = mean[c];
        out->std[c] = std[c];
    }
}

/* CPU batch (count >= 1) over `threads` threads. Returns an fx_status; fx_last_error() has the message. */
static inline int32_t fxj_preprocess_cpu_batch(int32_t count, const long long *image_addr,
                                               const long long *image_stride, const int32_t *image_ints,
                                               const int32_t *plan_ints, const double *boxes,
                                               const long long *indices, long long out_addr, long long batch,
                                               const int32_t *out_ints, const float *mean, const float *std,
                                               int32_t threads) {
    if (count < 1 || count > (1 << 24)) {
        return fx_preprocess_cpu_batch(NULL, count < 0 ? count : -1, NULL, threads); /* the kernel reports it */
    }
    fx_preprocess_job *jobs = (fx_preprocess_job *)calloc((size_t)count, sizeof(fx_preprocess_job));
    if (jobs == NULL) {
        return FX_ERR_OUT_OF_MEMORY;
    }
    fxj_fill_jobs(count, image_addr, image_stride, image_ints, plan_ints, boxes, indices, jobs);
    fx_output out;
    fxj_fill_output(out_addr, batch, out_ints, mean, std, &out);
    fx_status status = fx_preprocess_cpu_batch(jobs, count, &out, threads);
    free(jobs);
    return status;
}

/* CUDA batch: images are host memory, out_addr device memory; stream is a cudaStream_t (0 = default). */
static inline int32_t fxj_preprocess_cuda_batch(long long preprocessor, int32_t count, const long long *image_addr,
                                                const long long *image_stride, const int32_t *image_ints,
                                                const int32_t *plan_ints, const double *boxes,
                                                const long long *indices, long long out_addr, long long batch,
                                                const int32_t *out_ints, const float *mean, const float *std,
                                                long long stream) {
    if (count < 1 || count > (1 << 24)) {
        return fx_cuda_preprocess_batch((fx_cuda_preprocessor *)(uintptr_t)preprocessor, NULL, count < 0 ? count : -1,
                                        NULL, NULL);
    }
    fx_preprocess_job *jobs = (fx_preprocess_job *)calloc((size_t)count, sizeof(fx_preprocess_job));
    if (jobs == NULL) {
        return FX_ERR_OUT_OF_MEMORY;
    }
    fxj_fill_jobs(count, image_addr, image_stride, image_ints, plan_ints, boxes, indices, jobs);
    fx_output out;
    fxj_fill_output(out_addr, batch, out_ints, mean, std, &out);
    fx_status status = fx_cuda_preprocess_batch((fx_cuda_preprocessor *)(uintptr_t)preprocessor, jobs, count, &out,
                                                (void *)(uintptr_t)stream);
    free(jobs);
    return status;
}

/* CUDA preprocessor handle as a jlong (0 on failure; fx_last_error() says why). */
static inline long long fxj_cuda_preprocessor_create(int32_t device, int32_t *status) {
    fx_cuda_preprocessor *p = NULL;
    *status = fx_cuda_preprocessor_create(device, &p);
    return (long long)(uintptr_t)p;
}

static inline void fxj_cuda_preprocessor_destroy(long long preprocessor) {
    fx_cuda_preprocessor_destroy((fx_cuda_preprocessor *)(uintptr_t)preprocessor);
}

/* Number of CUDA devices, or a negative fx_status (fx_last_error() says why). */
static inline int32_t fxj_cuda_device_count(void) {
    int32_t count = 0;
    fx_status status = fx_cuda_device_count(&count);
    return status == FX_OK ? count : -status;
}

/* ---- depthwise convolution (kernels/include/fixres4j/depthwise.h): geometry as scalars, tensors as addresses --- */

/* The shape from its scalars, its derived fields filled in and checked (fx_depthwise_shape_derive's status). */
static inline fx_status fxj_depthwise_shape_of(long long n, long long c, long long h, long long w, int32_t k,
                                               int32_t stride, int32_t pad_top, int32_t pad_left, int32_t pad_bottom,
                                               int32_t pad_right, int32_t layout, fx_depthwise_shape *shape) {
    memset(shape, 0, sizeof(*shape));
    shape->n = n;
    shape->c = c;
    shape->h = h;
    shape->w = w;
    shape->k = k;
    shape->stride = stride;
    shape->pad_top = pad_top;
    shape->pad_left = pad_left;
    shape->pad_bottom = pad_bottom;
    shape->pad_right = pad_right;
    shape->layout = layout;
    return fx_depthwise_shape_derive(shape);
}

/* Output size as out_h << 32 | out_w, or a negative fx_status (fx_last_error() says why). */
static inline long long fxj_depthwise_out_size(long long n, long long c, long long h, long long w, int32_t k,
                                               int32_t stride, int32_t pad_top, int32_t pad_left, int32_t pad_bottom,
                                               int32_t pad_right, int32_t layout) {
    fx_depthwise_shape shape;
    fx_status status = fxj_depthwise_shape_of(n, c, h, w, k, stride, pad_top, pad_left, pad_bottom, pad_right, layout,
                                              &shape);
    if (status != FX_OK) {
        return -(long long)status;
    }
    return ((long long)shape.out_h << 32) | (long long)(uint32_t)shape.out_w;
}

static inline int32_t fxj_depthwise_forward_cpu(long long n, long long c, long long h, long long w, int32_t k,
                                                int32_t stride, int32_t pad_top, int32_t pad_left, int32_t pad_bottom,
                                                int32_t pad_right, int32_t layout, long long x, long long weight,
                                                long long bias, int32_t act, long long y, long long se_sums,
                                                int32_t threads) {
    fx_depthwise_shape shape;
    fx_status status = fxj_depthwise_shape_of(n, c, h, w, k, stride, pad_top, pad_left, pad_bottom, pad_right, layout,
                                              &shape);
    if (status != FX_OK) {
        return status;
    }
    return fx_depthwise_forward_cpu(&shape, (const float *)(uintptr_t)x, (const float *)(uintptr_t)weight,
                                    (const float *)(uintptr_t)bias, act, (float *)(uintptr_t)y,
                                    (float *)(uintptr_t)se_sums, threads);
}

/* fx_depthwise_forward_cpu_dtype: dtype FX_DTYPE_FLOAT32 or FX_DTYPE_BFLOAT16 (x, weight, bias, y of that type) */
static inline int32_t fxj_depthwise_forward_cpu_dtype(long long n, long long c, long long h, long long w, int32_t k,
                                                      int32_t stride, int32_t pad_top, int32_t pad_left,
                                                      int32_t pad_bottom, int32_t pad_right, int32_t layout,
                                                      int32_t dtype, long long x, long long weight, long long bias,
                                                      int32_t act, long long y, long long se_sums, int32_t threads) {
    fx_depthwise_shape shape;
    fx_status status = fxj_depthwise_shape_of(n, c, h, w, k, stride, pad_top, pad_left, pad_bottom, pad_right, layout,
                                              &shape);
    if (status != FX_OK) {
        return status;
    }
    return fx_depthwise_forward_cpu_dtype(&shape, dtype, (const void *)(uintptr_t)x, (const void *)(uintptr_t)weight,
                                          (const void *)(uintptr_t)bias, act, (void *)(uintptr_t)y,
                                          (float *)(uintptr_t)se_sums, threads);
}

static inline int32_t fxj_depthwise_backward_cpu(long long n, long long c, long long h, long long w, int32_t k,
                                                 int32_t stride, int32_t pad_top, int32_t pad_left,
                                                 int32_t pad_bottom, int32_t pad_right, int32_t layout, long long x,
                                                 long long weight, long long dy, long long dx, long long dw,
                                                 long long db, int32_t threads) {
    fx_depthwise_shape shape;
    fx_status status = fxj_depthwise_shape_of(n, c, h, w, k, stride, pad_top, pad_left, pad_bottom, pad_right, layout,
                                              &shape);
    if (status != FX_OK) {
        return status;
    }
    return fx_depthwise_backward_cpu(&shape, (const float *)(uintptr_t)x, (const float *)(uintptr_t)weight,
                                     (const float *)(uintptr_t)dy, (float *)(uintptr_t)dx, (float *)(uintptr_t)dw,
                                     (float *)(uintptr_t)db, threads);
}

/* ---- CUDA depthwise: device pointers and a cudaStream_t as addresses; `device` is made current for the call
 * (fx_cuda_exchange_device) and the caller's current device restored afterwards, keeping the call's message ---- */

static inline int32_t fxj_cuda_restore_device(int32_t status, int32_t previous, int32_t device) {
    if (previous >= 0 && previous != device) {
        int32_t ignored = -1;
        (void)fx_cuda_exchange_device(previous, &ignored);
    }
    return status;
}

static inline int32_t fxj_depthwise_forward_cuda(int32_t device, long long n, long long c, long long h, long long w,
                                                 int32_t k, int32_t stride, int32_t pad_top, int32_t pad_left,
                                                 int32_t pad_bottom, int32_t pad_right, int32_t layout, int32_t dtype,
                                                 long long x, long long weight, long long bias, int32_t act,
                                                 long long y, long long se_sums, long long stream) {
    fx_depthwise_shape shape;
    fx_status status = fxj_depthwise_shape_of(n, c, h, w, k, stride, pad_top, pad_left, pad_bottom, pad_right, layout,
                                              &shape);
    if (status != FX_OK) {
        return status;
    }
    int32_t previous = -1;
    status = fx_cuda_exchange_device(device, &previous);
    if (status != FX_OK) {
        return status;
    }
    status = fx_depthwise_forward_cuda(&shape, dtype, (const void *)(uintptr_t)x, (const void *)(uintptr_t)weight,
                                       (const void *)(uintptr_t)bias, act, (void *)(uintptr_t)y,
                                       (float *)(uintptr_t)se_sums, (void *)(uintptr_t)stream);
    return fxj_cuda_restore_device(status, previous, device);
}

/* Workspace bytes of fxj_depthwise_backward_cuda (>= 0), or a negative fx_status (fx_last_error() says why). */
static inline long long fxj_depthwise_backward_cuda_workspace(long long n, long long c, long long h, long long w,
                                                              int32_t k, int32_t stride, int32_t pad_top,
                                                              int32_t pad_left, int32_t pad_bottom, int32_t pad_right,
                                                              int32_t layout, int32_t dtype) {
    fx_depthwise_shape shape;
    fx_status status = fxj_depthwise_shape_of(n, c, h, w, k, stride, pad_top, pad_left, pad_bottom, pad_right, layout,
                                              &shape);
    if (status != FX_OK) {
        return -(long long)status;
    }
    int64_t bytes = 0;
    status = fx_depthwise_backward_cuda_workspace(&shape, dtype, &bytes);
    return status != FX_OK ? -(long long)status : (long long)bytes;
}

static inline int32_t fxj_depthwise_backward_cuda(int32_t device, long long n, long long c, long long h, long long w,
                                                  int32_t k, int32_t stride, int32_t pad_top, int32_t pad_left,
                                                  int32_t pad_bottom, int32_t pad_right, int32_t layout,
                                                  int32_t dtype, long long x, long long weight, long long dy,
                                                  long long dx, long long dw, long long db, long long workspace,
                                                  long long workspace_bytes, long long stream) {
    fx_depthwise_shape shape;
    fx_status status = fxj_depthwise_shape_of(n, c, h, w, k, stride, pad_top, pad_left, pad_bottom, pad_right, layout,
                                              &shape);
    if (status != FX_OK) {
        return status;
    }
    int32_t previous = -1;
    status = fx_cuda_exchange_device(device, &previous);
    if (status != FX_OK) {
        return status;
    }
    status = fx_depthwise_backward_cuda(&shape, dtype, (const void *)(uintptr_t)x, (const void *)(uintptr_t)weight,
                                        (const void *)(uintptr_t)dy, (void *)(uintptr_t)dx, (void *)(uintptr_t)dw,
                                        (void *)(uintptr_t)db, (void *)(uintptr_t)workspace, workspace_bytes,
                                        (void *)(uintptr_t)stream);
    return fxj_cuda_restore_device(status, previous, device);
}

/* ---- device memory and streams for the JVM device check (fixres4j/cuda_check.h) ---- */

/* Device memory address (0 on failure; *status says why). */
static inline long long fxj_cuda_check_malloc(int32_t device, long long bytes, int32_t *status) {
    void *p = NULL;
    *status = fx_cuda_check_malloc(device, bytes, &p);
    return (long long)(uintptr_t)p;
}

static inline int32_t fxj_cuda_check_free(long long ptr) {
    return fx_cuda_check_free((void *)(uintptr_t)ptr);
}

static inline int32_t fxj_cuda_check_copy(long long dst, long long src, long long bytes) {
    return fx_cuda_check_copy((void *)(uintptr_t)dst, (const void *)(uintptr_t)src, bytes);
}

static inline long long fxj_cuda_check_stream_create(int32_t device, int32_t *status) {
    void *s = NULL;
    *status = fx_cuda_check_stream_create(device, &s);
    return (long long)(uintptr_t)s;
}

static inline int32_t fxj_cuda_check_stream_synchronize(long long stream) {
    return fx_cuda_check_stream_synchronize((void *)(uintptr_t)stream);
}

static inline int32_t fxj_cuda_check_stream_destroy(long long stream) {
    return fx_cuda_check_stream_destroy((void *)(uintptr_t)stream);
}

#endif

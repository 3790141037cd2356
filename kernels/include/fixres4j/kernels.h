/*
 * FixRes4J kernels: the one C ABI between the native kernels (CPU and CUDA) and everything else
 * (Java through JavaCPP, the native tests, the benchmarks).
 *
 * Rules of this header:
 *  - plain C: fixed-width integers, plain structs, no C++ types, no ownership crossing it except the
 *    opaque handles that have an explicit destroy function;
 *  - every entry point validates every argument before touching memory and returns an fx_status;
 *    on failure fx_last_error() returns a message for the calling thread. Nothing aborts;
 *  - kernels never allocate the memory they fill: the caller (libtorch, through Java) does.
 */
#ifndef FIXRES4J_KERNELS_H
#define FIXRES4J_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FX_ABI_VERSION 2

/* ------------------------------------------------------------------------------------------------ */
/* Status and errors                                                                                */
/* ------------------------------------------------------------------------------------------------ */

typedef int32_t fx_status;
enum {
    FX_OK = 0,
    FX_ERR_INVALID_ARGUMENT = 1, /* bad pointer, size, stride, code, box...: Java IllegalArgumentException */
    FX_ERR_STATE = 2,            /* no CUDA device or driver, a CUDA error, ...: Java IllegalStateException */
    FX_ERR_OUT_OF_MEMORY = 3,    /* a native allocation failed: Java IllegalStateException */
    FX_ERR_UNSUPPORTED = 4       /* not compiled into this build (e.g. CUDA without nvcc): Java IllegalStateException */
};

/* The message of the last failing call made on the calling thread ("" if none). Valid until the next
 * call on this thread. */
const char *fx_last_error(void);

/* ABI version (FX_ABI_VERSION) and a human-readable build description (compiler, ISA, CUDA). */
int32_t fx_abi_version(void);
const char *fx_build_info(void);

/* ------------------------------------------------------------------------------------------------ */
/* Backends                                                                                         */
/* ------------------------------------------------------------------------------------------------ */

/* The CPU kernels' instruction sets. Every one gives the same bytes (preprocessing) and the same results within
 * the documented tolerance (depthwise); fx_cpu_set_isa selects one process-wide for preprocessing and depthwise
 * convolution alike. */
enum {
    FX_ISA_AUTO = 0,      /* best the CPU supports (the default) */
    FX_ISA_SCALAR = 1,    /* portable C++ */
    FX_ISA_AVX2 = 2,      /* AVX2 + FMA + F16C */
    FX_ISA_AVX2_VNNI = 3, /* the AVX2 kernels with AVX-VNNI's vpdpwssd (VEX, 256-bit); depthwise: the AVX2 kernels */
    FX_ISA_AVX512 = 4     /* AVX-512 F/VL/BW/DQ + AVX512-VNNI: AVX-512 preprocessing and depthwise kernels */
};

/* 1 if this CPU can run the AVX2+FMA paths, else 0. */
int32_t fx_cpu_supports_avx2(void);
/* 1 if this CPU can run the FX_ISA_AVX2_VNNI paths (AVX2 + FMA + F16C + AVX-VNNI), else 0. */
int32_t fx_cpu_supports_avx2_vnni(void);
/* 1 if this CPU can run the FX_ISA_AVX512 paths (AVX2 + FMA + F16C + AVX-512 F/VL/BW/DQ/VNNI, the OS saving the
 * AVX-512 state), else 0. */
int32_t fx_cpu_supports_avx512(void);
/* The ISA the CPU kernels use from now on, process-wide (tests and benchmarks compare paths with it).
 * FX_ERR_UNSUPPORTED if the CPU lacks it. */
fx_status fx_cpu_set_isa(int32_t isa);
/* The ISA the CPU kernels currently use (FX_ISA_SCALAR, FX_ISA_AVX2, FX_ISA_AVX2_VNNI or FX_ISA_AVX512).
 * FX_ISA_AUTO picks the best one. */
int32_t fx_cpu_isa(void);
/* The environment's override of the CPU ISA, read once, the first time the library chooses an ISA:
 * FIXRES4J_CPU_ISA=auto|scalar|avx2|avx2-vnni|avx512 selects that ISA as the process's initial choice (as if
 * fx_cpu_set_isa had been called; a later fx_cpu_set_isa replaces it). Returns "" when the variable is not set,
 * otherwise one line saying what was done with it (applied, or ignored and why). This is the only environment
 * variable the kernels read. */
const char *fx_cpu_isa_override(void);

/* How the SIMD kernels evaluate the normalisation ((float) v / 255 - mean) / std of float outputs. Each evaluation
 * is verified equal to the exact value table for all 256 values of every channel before it is used, so all modes
 * give the same bytes; the setting exists to test (and diagnose) the slower evaluations. Process-wide. */
enum {
    FX_ARITH_AUTO = 0,      /* the cheapest verified evaluation (the default) */
    FX_ARITH_MARKSTEIN = 1, /* skip the double-float reciprocal product: correctly rounded divisions or the table */
    FX_ARITH_TABLE = 2      /* the value table only */
};
fx_status fx_cpu_set_arith(int32_t mode);

/* 1 if CUDA kernels were compiled into this library. */
int32_t fx_cuda_compiled(void);
/* Number of usable CUDA devices. FX_ERR_UNSUPPORTED when not compiled with CUDA; FX_ERR_STATE with the
 * driver's reason (no driver, no device, ...) when none can be used. Never crashes without a GPU. */
fx_status fx_cuda_device_count(int32_t *count);

/* ------------------------------------------------------------------------------------------------ */
/* Preprocessing: crop + antialiased resize (Pillow-exact) + channel order + normalise + layout      */
/* ------------------------------------------------------------------------------------------------ */

enum { FX_FILTER_NEAREST = 0, FX_FILTER_BILINEAR = 1, FX_FILTER_BICUBIC = 2 };
enum { FX_ORDER_RGB = 0, FX_ORDER_BGR = 1 };
enum { FX_LAYOUT_NCHW = 0, FX_LAYOUT_NHWC = 1 };
enum { FX_DTYPE_FLOAT32 = 0, FX_DTYPE_FLOAT16 = 1, FX_DTYPE_BFLOAT16 = 2, FX_DTYPE_UINT8 = 3 };

/* A decoded image: uint8, HWC, interleaved. */
typedef struct fx_image {
    const uint8_t *data; /* the top-left pixel */
    int32_t width;
    int32_t height;
    int32_t channels;   /* 1 (gray: replicated to RGB), 3, or 4 (the 4th, alpha, is dropped) */
    int32_t order;      /* FX_ORDER_RGB or FX_ORDER_BGR: order of the colour channels in memory */
    int64_t row_stride; /* bytes from one row to the next, >= width * channels */
} fx_image;

/*
 * The geometry of one sample, computed in Java from a transform description. With R the region of
 * interest (roi) of the image, the output is
 *
 *     resized = Pillow: R.resize((resize_w, resize_h), filter, box=(box_x0, box_y0, box_x1, box_y1))
 *     out[y][x] = resized[crop_y + y][crop_x + x]     for 0 <= x < out_w, 0 <= y < out_h
 *                 (0 where crop_x + x or crop_y + y falls outside resized: torchvision pads with zeros)
 *     then mirrored horizontally when flip_x != 0.
 *
 * Only the kept output pixels are computed. The filter reads pixels of R only (clamped at R's edges,
 * exactly as Pillow clamps at the image's edges):
 *  - timm eval (Resize + CenterCrop): roi = whole image, box = whole image, crop = centre window;
 *  - Pillow's resize(size, box=b): roi = whole image, box = b (the filter may read around b);
 *  - torchvision resized_crop(top, left, h, w, size): roi = that crop, box = (0, 0, w, h).
 */
typedef struct fx_resample_plan {
    int32_t roi_x, roi_y, roi_w, roi_h;           /* inside the image, non-empty */
    double box_x0, box_y0, box_x1, box_y1;        /* relative to the roi: 0 <= x0 < x1 <= roi_w, same for y */
    int32_t resize_w, resize_h;                   /* > 0 */
    int32_t crop_x, crop_y;                       /* any value; outside pixels are padded */
    int32_t out_w, out_h;                         /* > 0 */
    int32_t filter;                               /* FX_FILTER_* */
    int32_t flip_x;                               /* 0 or 1 */
} fx_resample_plan;

/* Where and how the result is written: batch slot `index` of a contiguous tensor of shape
 * [batch, 3, out_h, out_w] (NCHW) or [batch, out_h, out_w, 3] (NHWC), every sample of which has the
 * plan's out_w x out_h. For FX_DTYPE_UINT8 the pixel values are written unnormalised; otherwise each
 * value is ((float) v / 255.0f - mean[c]) / std[c] computed in float32 (exactly torchvision's ToTensor +
 * Normalize), then rounded to nearest-even for float16 / bfloat16. mean/std are per *output* channel. */
typedef struct fx_output {
    void *data;    /* base of the tensor (host memory for CPU calls, device memory for CUDA calls) */
    int64_t batch; /* N, > 0 */
    int32_t layout; /* FX_LAYOUT_* */
    int32_t dtype;  /* FX_DTYPE_* */
    int32_t order;  /* FX_ORDER_RGB or FX_ORDER_BGR: channel order written */
    int32_t out_w, out_h; /* must equal every plan's out_w / out_h */
    float mean[3];
    float std[3];   /* finite, non-zero (ignored for FX_DTYPE_UINT8) */
} fx_output;

/* One sample of a batch: the image, its plan, and its slot in the output. */
typedef struct fx_preprocess_job {
    fx_image image;
    fx_resample_plan plan;
    int64_t index; /* 0 <= index < out.batch */
} fx_preprocess_job;

/* CPU, one image, on the calling thread. */
fx_status fx_preprocess_cpu(const fx_image *image, const fx_resample_plan *plan, int64_t index,
                            const fx_output *out);

/* CPU, a batch spread over `threads` threads (>= 1; the calling thread is one of them). All jobs are
 * validated before any is run: on an error nothing is written. */
fx_status fx_preprocess_cpu_batch(const fx_preprocess_job *jobs, int32_t count, const fx_output *out,
                                  int32_t threads);

/* CUDA. A preprocessor owns the pinned host staging buffer and device buffers of one device; it is not
 * thread-safe (one per thread). Images are host pointers (copied once through pinned staging);
 * out->data is device memory on that device. One kernel launch covers the whole batch of images of
 * different sizes; everything is enqueued on `stream` (a cudaStream_t; NULL = the legacy default
 * stream) and the call returns once the host staging may be reused (the kernel may still run). Not capturable:
 * while `stream` is being captured into a CUDA graph the batch is refused (FX_ERR_STATE) before anything is
 * enqueued, so the capture stays valid. */
typedef struct fx_cuda_preprocessor fx_cuda_preprocessor;
fx_status fx_cuda_preprocessor_create(int32_t device, fx_cuda_preprocessor **result);
void fx_cuda_preprocessor_destroy(fx_cuda_preprocessor *p);
fx_status fx_cuda_preprocess_batch(fx_cuda_preprocessor *p, const fx_preprocess_job *jobs, int32_t count,
                                   const fx_output *out, void *stream);

#ifdef __cplusplus
}
#endif

/* Depthwise convolution, forward and backward, CPU and CUDA (same ABI rules). */
#include "fixres4j/depthwise.h"

/* The current CUDA device; device memory and streams for checks without a CUDA-aware host (same ABI rules). */
#include "fixres4j/cuda_check.h"

#endif /* FIXRES4J_KERNELS_H */

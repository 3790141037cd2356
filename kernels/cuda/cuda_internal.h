// Internal entry points of the CUDA preprocessor for the benchmark (tests/native/bench_cuda_preprocess.cu).
// Not part of the C ABI in kernels/include/fixres4j/kernels.h: no stability promise, not for Java.
#ifndef FIXRES4J_KERNELS_CUDA_INTERNAL_H
#define FIXRES4J_KERNELS_CUDA_INTERNAL_H

#include "fixres4j/kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What the preprocessor's last successful fx_cuda_preprocess_batch did. */
typedef struct fx_cuda_batch_stats {
    int64_t upload_bytes; /* bytes copied host to device (descriptors, table, taps, staged pixels) */
    int64_t staged_bytes; /* staged pixel bytes (each read at least once by the kernel) */
    int64_t meta_bytes;   /* descriptors + value table + taps */
    int64_t out_bytes;    /* bytes the kernel writes */
    int64_t tiles;        /* 32x32 output tiles */
    int32_t grid;         /* blocks launched (persistent grid) */
    int32_t smem_bytes;   /* dynamic shared memory per block */
    int32_t variant;      /* K: 8, 16, 32 (taps in registers) or 0 (dynamic) */
    int32_t max_ksize;    /* most taps of any output pixel */
} fx_cuda_batch_stats;

fx_status fx_internal_cuda_last_stats(const fx_cuda_preprocessor *p, fx_cuda_batch_stats *stats);

/* 0 (default): kernels register-capped for 3-4 resident blocks of 256 threads per SM (small spills possible);
 * 1: capped for 2 blocks (no spills). Applies from the next fx_cuda_preprocess_batch. */
fx_status fx_internal_cuda_set_tuning(fx_cuda_preprocessor *p, int32_t relaxed_registers);

/* Launches the kernel of the last successful batch again, `repeats` times, on `stream`, reading the device
 * copy of that batch's upload (still valid until the next fx_cuda_preprocess_batch) and writing the same
 * output again. For timing the kernel alone. */
fx_status fx_internal_cuda_relaunch(fx_cuda_preprocessor *p, int32_t repeats, void *stream);

#ifdef __cplusplus
}
#endif

#endif

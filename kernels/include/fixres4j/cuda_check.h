/*
 * FixRes4J kernels, part of the one C ABI (included by fixres4j/kernels.h; same rules): the current CUDA device,
 * and device memory and streams for checks that drive the CUDA entry points from a host with no CUDA library of
 * its own (the JVM device check of tests/device). Not for production buffers: the callers of the CUDA kernels
 * (libtorch through Java, PyTorch through ctypes) allocate their own memory and streams.
 *
 * Every function validates its arguments first. In a build without CUDA each returns FX_ERR_UNSUPPORTED (and
 * writes nothing but zeroes to its out-parameters); without a driver or device, FX_ERR_STATE with the reason.
 */
#ifndef FIXRES4J_CUDA_CHECK_H
#define FIXRES4J_CUDA_CHECK_H

#include "fixres4j/kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Makes `device` the calling thread's current CUDA device (as cudaSetDevice; nothing is done when it already is)
 * and stores the previous one in *previous. On success the thread's last error message is left as it was, so a
 * wrapper can restore the previous device after a failing call without losing that call's message.
 * FX_ERR_INVALID_ARGUMENT when device is not in [0, count) or previous is NULL. Not enqueued on any stream: legal
 * while a stream of this thread is being captured into a CUDA graph. */
fx_status fx_cuda_exchange_device(int32_t device, int32_t *previous);

/* cudaMalloc of `bytes` (1 .. 2^40) on `device` (made current for the call only); *ptr receives the memory
 * (256-byte aligned) or NULL on failure. Synchronous with respect to the host: never call it while capturing. */
fx_status fx_cuda_check_malloc(int32_t device, int64_t bytes, void **ptr);

/* cudaFree of memory from fx_cuda_check_malloc (NULL: nothing). Waits for the device to finish using it. */
fx_status fx_cuda_check_free(void *ptr);

/* Synchronous copy of `bytes` (>= 0) between any host and device memory (cudaMemcpy, cudaMemcpyDefault): the
 * host side may be pageable. Checked before copying: both pointers non-NULL when bytes > 0, and every device
 * pointer is memory of a CUDA device known to the driver. */
fx_status fx_cuda_check_copy(void *dst, const void *src, int64_t bytes);

/* A new non-blocking stream on `device` (made current for the call only): it does not synchronise with the
 * legacy default stream, like the streams PyTorch hands out. *stream receives it (a cudaStream_t). */
fx_status fx_cuda_check_stream_create(int32_t device, void **stream);

/* Waits for everything enqueued on `stream` (NULL: the legacy default stream); reports an asynchronous kernel
 * error there as FX_ERR_STATE with CUDA's message. */
fx_status fx_cuda_check_stream_synchronize(void *stream);

/* Waits for `stream`, then destroys it (NULL: nothing). */
fx_status fx_cuda_check_stream_destroy(void *stream);

#ifdef __cplusplus
}
#endif

#endif /* FIXRES4J_CUDA_CHECK_H */

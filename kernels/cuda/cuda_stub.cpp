// The fx_cuda_* entry points of a build without CUDA (cmake -DFIXRES_CUDA=OFF, or AUTO without nvcc):
// fx_cuda_compiled() is 0 and everything else answers FX_ERR_UNSUPPORTED.
#include "internal.h"

namespace {
constexpr const char *kNoCuda = "built without CUDA: this build of fixres4j has no CUDA kernels";
}

extern "C" {

FX_API int32_t fx_cuda_compiled(void) { return 0; }

FX_API fx_status fx_cuda_device_count(int32_t *count) {
    if (count != nullptr) *count = 0;
    return fx::fail(FX_ERR_UNSUPPORTED, "%s", kNoCuda);
}

FX_API fx_status fx_cuda_preprocessor_create(int32_t device, fx_cuda_preprocessor **result) {
    (void)device;
    if (result != nullptr) *result = nullptr;
    return fx::fail(FX_ERR_UNSUPPORTED, "%s", kNoCuda);
}

FX_API void fx_cuda_preprocessor_destroy(fx_cuda_preprocessor *p) { (void)p; }

FX_API fx_status fx_cuda_preprocess_batch(fx_cuda_preprocessor *p, const fx_preprocess_job *jobs, int32_t count,
                                          const fx_output *out, void *stream) {
    (void)p;
    (void)jobs;
    (void)count;
    (void)out;
    (void)stream;
    return fx::fail(FX_ERR_UNSUPPORTED, "%s", kNoCuda);
}

} // extern "C"

extern "C" {

FX_API fx_status fx_cuda_exchange_device(int32_t, int32_t *previous) {
    if (previous != nullptr) *previous = -1;
    return fx::fail(FX_ERR_UNSUPPORTED, "fx_cuda_exchange_device: %s", kNoCuda);
}

FX_API fx_status fx_cuda_check_malloc(int32_t, int64_t, void **ptr) {
    if (ptr != nullptr) *ptr = nullptr;
    return fx::fail(FX_ERR_UNSUPPORTED, "fx_cuda_check_malloc: %s", kNoCuda);
}

FX_API fx_status fx_cuda_check_free(void *ptr) {
    if (ptr == nullptr) return fx::ok();
    return fx::fail(FX_ERR_UNSUPPORTED, "fx_cuda_check_free: %s", kNoCuda);
}

FX_API fx_status fx_cuda_check_copy(void *, const void *, int64_t) {
    return fx::fail(FX_ERR_UNSUPPORTED, "fx_cuda_check_copy: %s", kNoCuda);
}

FX_API fx_status fx_cuda_check_stream_create(int32_t, void **stream) {
    if (stream != nullptr) *stream = nullptr;
    return fx::fail(FX_ERR_UNSUPPORTED, "fx_cuda_check_stream_create: %s", kNoCuda);
}

FX_API fx_status fx_cuda_check_stream_synchronize(void *) {
    return fx::fail(FX_ERR_UNSUPPORTED, "fx_cuda_check_stream_synchronize: %s", kNoCuda);
}

FX_API fx_status fx_cuda_check_stream_destroy(void *stream) {
    if (stream == nullptr) return fx::ok();
    return fx::fail(FX_ERR_UNSUPPORTED, "fx_cuda_check_stream_destroy: %s", kNoCuda);
}

} // extern "C"

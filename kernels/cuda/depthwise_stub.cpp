// The fx_depthwise_*_cuda entry points of a build without the CUDA depthwise kernels: FX_ERR_UNSUPPORTED.
#include "depthwise_internal.h"

namespace {
constexpr const char *kNoCuda = "built without CUDA: this build of fixres4j has no CUDA depthwise kernels";
}

extern "C" {

FX_API fx_status fx_depthwise_forward_cuda(const fx_depthwise_shape *, int32_t, const void *, const void *,
                                           const void *, int32_t, void *, float *, void *) {
    return fx::fail(FX_ERR_UNSUPPORTED, "fx_depthwise_forward_cuda: %s", kNoCuda);
}

FX_API fx_status fx_depthwise_backward_cuda_workspace(const fx_depthwise_shape *, int32_t, int64_t *bytes) {
    if (bytes != nullptr) *bytes = 0;
    return fx::fail(FX_ERR_UNSUPPORTED, "fx_depthwise_backward_cuda_workspace: %s", kNoCuda);
}

FX_API fx_status fx_depthwise_backward_cuda(const fx_depthwise_shape *, int32_t, const void *, const void *,
                                            const void *, void *, void *, void *, void *, int64_t, void *) {
    return fx::fail(FX_ERR_UNSUPPORTED, "fx_depthwise_backward_cuda: %s", kNoCuda);
}

} // extern "C"

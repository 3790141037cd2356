// Internal interface between the depthwise CPU driver (depthwise.cpp, baseline ISA) and the per-ISA forward
// kernels (depthwise.cpp's portable instantiation, depthwise_avx2.cpp). Plain structs and function pointers
// only, for the same reason as cpu_internal.h: the AVX2 translation unit must share no inline code with the
// baseline one (depthwise_fwd.h is included inside an unnamed namespace in each).
#ifndef FIXRES4J_KERNELS_CPU_DEPTHWISE_CPU_H
#define FIXRES4J_KERNELS_CPU_DEPTHWISE_CPU_H

#include <cstdint>

namespace fx {
namespace cpu {

// One forward call as the kernels see it (validated; scratch prepared by the driver).
struct DwFwdJob {
    const float *x;
    const float *wgt;  // [c][k*k] (PyTorch's layout): NCHW kernels
    const float *wt;   // [k*k][cpad], zero past c: NHWC kernels
    const float *bias; // [cpad], zero past c (and all zero without a bias)
    float *y;
    float *se; // [n][c] or nullptr
    int64_t n, c, h, w, cpad;
    int32_t k, s, pt, pl, oh, ow;
    int32_t act;
    int32_t wp; // NCHW: floats per row of the padded row buffer (see DwFwdOps::nchw)
};

constexpr int32_t kDwNhwcBlock = 32; // channels per NHWC work item

struct DwFwdOps {
    const char *name;
    // NHWC: image n, channels [c0, c0 + cb), cb <= kDwNhwcBlock, c0 a multiple of kDwNhwcBlock.
    void (*nhwc)(const DwFwdJob &job, int64_t n, int64_t c0, int32_t cb);
    // NCHW: plane (n, c). buf: job.h rows of job.wp floats, zero outside columns [pl, pl + w) (the kernel only
    // writes those columns), 32-byte aligned.
    void (*nchw)(const DwFwdJob &job, int64_t n, int64_t c, float *buf);
};

const DwFwdOps &dw_portable_ops();
#if defined(FIXRES4J_HAVE_AVX2)
const DwFwdOps &dw_avx2_ops();
#endif

} // namespace cpu
} // namespace fx

#endif

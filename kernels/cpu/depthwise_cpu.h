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
    const float *wt;   // [cpad / 16][k*k][16] (16-channel groups), zero past c: NHWC kernels
    const float *bias; // [cpad], zero past c (and all zero without a bias)
    // cpad: c rounded up to 16 (the NHWC kernels' channel group)
    float *y;
    // bfloat16 x and y (forward only; then x and y are nullptr): the kernels widen x to float32 as they read it and
    // round y once as they store it (depthwise_fwd.h)
    const uint16_t *xb;
    uint16_t *yb;
    float *se; // [n][c] or nullptr
    int64_t n, c, h, w, cpad;
    int32_t k, s, pt, pl, oh, ow;
    int32_t act;     // FX_ACT_NONE or FX_ACT_SILU (the FX_ACT_IN_SILU flag is in_silu)
    int32_t in_silu; // NHWC: x is read as silu(x) (dw_nhwc_pack); 0 for the gradient kernels
    int32_t wp; // NCHW: floats per row of the padded row buffer (see DwFwdOps::nchw)
};

struct DwFwdOps {
    const char *name;
    // NHWC: image n, output rows [oh0, oh1), all channels. se: nullptr, or [c] doubles the spatial sums of these
    // rows of y are added to. scratch: dw_nhwc_scratch(job) floats (depthwise_fwd.h), 32-byte aligned, this
    // item's alone.
    void (*nhwc)(const DwFwdJob &job, int64_t n, int64_t oh0, int64_t oh1, double *se, float *scratch);
    int64_t (*nhwc_scratch)(const DwFwdJob &job);
    // NCHW: plane (n, c). buf: job.h rows of job.wp floats, zero outside columns [pl, pl + w) (the kernel only
    // writes those columns), 32-byte aligned.
    void (*nchw)(const DwFwdJob &job, int64_t n, int64_t c, float *buf);
    // NHWC weight and bias gradients (depthwise_dw.h): image n, output rows [oh0, oh1); adds sum(dy * x) per tap into
    // dw_part ([k * k][cpad] doubles) and sum(dy) into db_part ([cpad], or nullptr). Uses job.x and the shape fields;
    // scratch as for nhwc.
    void (*nhwc_dw)(const DwFwdJob &job, const float *dy, int64_t n, int64_t oh0, int64_t oh1, double *dw_part,
                    double *db_part, float *scratch);
    // NCHW weight and bias gradients of channel c over all images (depthwise_dw.h): dw_c ([k * k] doubles) and
    // db_c (or nullptr) receive the sums, starting from zero.
    void (*nchw_dw)(const DwFwdJob &job, const float *dy, int64_t c, double *dw_c, double *db_c);
};

const DwFwdOps &dw_portable_ops();
#if defined(FIXRES4J_HAVE_AVX2)
const DwFwdOps &dw_avx2_ops();
#endif
#if defined(FIXRES4J_HAVE_AVX512_DW)
const DwFwdOps &dw_avx512_ops(); // NHWC in AVX-512, NCHW the AVX2 kernels
#endif
#if defined(FIXRES4J_HAVE_AVX512_BF16_DW)
// The AVX-512 kernels with AVX512-BF16's vcvtneps2bf16 rounding bfloat16 outputs (depthwise_avx512_bf16.cpp); the
// forward's bfloat16 calls use them under FX_ISA_AVX512 when dw_cpu_has_avx512_bf16() says the CPU has the extension.
const DwFwdOps &dw_avx512_bf16_ops();
bool dw_cpu_has_avx512_bf16();
#endif

} // namespace cpu
} // namespace fx

#endif

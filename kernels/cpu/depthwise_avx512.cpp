// The NHWC depthwise forward kernels (depthwise_fwd.h) over AVX-512 vectors: one 16-lane vector is a whole
// 16-channel group, so every load, FMA, SiLU step and store is one instruction where AVX2 needs two, and the 32
// vector registers hold 8-pixel register blocks. Compiled with -mavx512f -mavx512vl -mavx512bw -mavx512dq; chosen at
// run time on CPUs that have those (depthwise.cpp, forward_ops). The NCHW kernels stay the AVX2 ones (their rows
// are 8-column vectors). Includes nothing but the internal headers and intrinsics (see depthwise_cpu.h).
#include "depthwise_cpu.h"
#include "fixres4j/depthwise.h"

#include <immintrin.h>

namespace fx {
namespace cpu {
namespace {

#include "depthwise_avx512_vec.h"

typedef Avx512T<false> Avx512;

#include "depthwise_fwd.h"
#include "depthwise_dw.h"

} // namespace

const DwFwdOps &dw_avx512_ops() {
    static const DwFwdOps ops = {"avx512", &dw_nhwc_dispatch<Avx512>, &dw_nhwc_scratch, dw_avx2_ops().nchw,
                                 &dw_grad_dispatch<Avx512>, dw_avx2_ops().nchw_dw};
    return ops;
}

} // namespace cpu
} // namespace fx

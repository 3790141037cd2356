// The depthwise forward kernels (depthwise_fwd.h) over AVX-512 vectors for CPUs with AVX512-BF16: the same kernels
// as depthwise_avx512.cpp, with bfloat16 outputs rounded by vcvtneps2bf16 (one instruction for the integer
// sequence of the plain AVX-512 instance; same rule, dw_f32_to_bf16). Compiled with -mavx512f -mavx512vl
// -mavx512bw -mavx512dq -mavx512bf16; the forward's bfloat16 calls choose it at run time under FX_ISA_AVX512
// when the CPU has AVX512-BF16 (depthwise.cpp, forward_ops_for). Float calls keep depthwise_avx512.cpp's
// kernels. The NCHW kernels stay the AVX2 ones. Includes nothing but the internal headers and intrinsics.
#include "depthwise_cpu.h"
#include "fixres4j/depthwise.h"

#include <immintrin.h>

namespace fx {
namespace cpu {
namespace {

#include "depthwise_avx512_vec.h"

typedef Avx512T<true> Avx512Bf16;

#include "depthwise_fwd.h"

bool detect_avx512_bf16() {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512bf16") != 0;
}

} // namespace

bool dw_cpu_has_avx512_bf16() {
    static const bool has = detect_avx512_bf16();
    return has;
}

const DwFwdOps &dw_avx512_bf16_ops() {
    static const DwFwdOps ops = {"avx512-bf16", &dw_nhwc_dispatch<Avx512Bf16>, &dw_nhwc_scratch, dw_avx2_ops().nchw,
                                 dw_avx512_ops().nhwc_dw, dw_avx2_ops().nchw_dw};
    return ops;
}

} // namespace cpu
} // namespace fx

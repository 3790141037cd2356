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

struct Avx512 {
    static constexpr int L = 16; // lanes: one vector per 16-channel group
    static constexpr int P = 8;  // pixels per register block, stride 1 (row-blocked: 8 accumulators + k weights)
    static constexpr int P2 = 4; // stride 2 (tap by tap: measured faster there than row blocking or 8 pixels)
    static constexpr bool kRowBlock = true;
    typedef __m512 V;
    typedef __mmask16 M;
    static inline V zero() { return _mm512_setzero_ps(); }
    static inline V set1(float f) { return _mm512_set1_ps(f); }
    static inline V load(const float *p) { return _mm512_loadu_ps(p); }
    static inline V loadm(const float *p, M m) { return _mm512_maskz_loadu_ps(m, p); }
    static inline void store(float *p, V v) { _mm512_storeu_ps(p, v); }
    static inline void storem(float *p, V v, M m) { _mm512_mask_storeu_ps(p, m, v); }
    static inline V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
    static inline V add(V a, V b) { return _mm512_add_ps(a, b); }
    static inline M mask(int n) { return (M)(n >= 16 ? 0xFFFFu : ((1u << n) - 1u)); }
    static inline V keep(V v, M m) { return _mm512_maskz_mov_ps(m, v); }
    static inline void to_array(float *dst, V v) { _mm512_storeu_ps(dst, v); }

    // SiLU's primitives (dw_silu in depthwise_fwd.h); vrcp14ps: 14 bits before the Newton step
    static constexpr bool kExactSilu = false;
    static inline V min(V a, V b) { return _mm512_min_ps(a, b); }
    static inline V max(V a, V b) { return _mm512_max_ps(a, b); }
    static inline V sub(V a, V b) { return _mm512_sub_ps(a, b); }
    static inline V mul(V a, V b) { return _mm512_mul_ps(a, b); }
    static inline V fnma(V a, V b, V c) { return _mm512_fnmadd_ps(a, b, c); }
    static inline V rcp(V a) { return _mm512_rcp14_ps(a); }
    static inline V pow2_bits(V t) { return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_castps_si512(t), 23)); }
};

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

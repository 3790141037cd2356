// The depthwise forward kernels (depthwise_fwd.h) over AVX2 + FMA vectors. Compiled with -mavx2 -mfma; includes
// nothing but the internal headers and intrinsics (see depthwise_cpu.h).
#include "depthwise_cpu.h"
#include "fixres4j/depthwise.h"

#include <immintrin.h>

namespace fx {
namespace cpu {
namespace {

struct Avx2 {
    static constexpr int L = 8; // lanes
    static constexpr int P = 4; // pixels per register block (2 x 4 accumulators)
    static constexpr int P2 = 4; // the same for stride 2
    static constexpr bool kRowBlock = false;
    typedef __m256 V;
    typedef __m256i M;
    static inline V zero() { return _mm256_setzero_ps(); }
    static inline V set1(float f) { return _mm256_set1_ps(f); }
    static inline V load(const float *p) { return _mm256_loadu_ps(p); }
    static inline V loadm(const float *p, M m) { return _mm256_maskload_ps(p, m); }
    static inline void store(float *p, V v) { _mm256_storeu_ps(p, v); }
    static inline void storem(float *p, V v, M m) { _mm256_maskstore_ps(p, m, v); }
    static inline V load_even(const float *p) {
        const __m256 a = _mm256_loadu_ps(p), b = _mm256_loadu_ps(p + 8);
        const __m256 t = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0)); // a0 a2 b0 b2 | a4 a6 b4 b6
        return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(t), _MM_SHUFFLE(3, 1, 2, 0)));
    }
    static inline V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
    static inline V add(V a, V b) { return _mm256_add_ps(a, b); }
    static inline M mask(int n) {
        return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    }
    static inline V keep(V v, M m) { return _mm256_and_ps(v, _mm256_castsi256_ps(m)); }
    static inline void to_array(float *dst, V v) { _mm256_storeu_ps(dst, v); }

    // SiLU's primitives (dw_silu in depthwise_fwd.h)
    static constexpr bool kExactSilu = false;
    static inline V min(V a, V b) { return _mm256_min_ps(a, b); }
    static inline V max(V a, V b) { return _mm256_max_ps(a, b); }
    static inline V sub(V a, V b) { return _mm256_sub_ps(a, b); }
    static inline V mul(V a, V b) { return _mm256_mul_ps(a, b); }
    static inline V fnma(V a, V b, V c) { return _mm256_fnmadd_ps(a, b, c); }
    static inline V rcp(V a) { return _mm256_rcp_ps(a); }
    static inline V pow2_bits(V t) { return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_castps_si256(t), 23)); }
};

#include "depthwise_fwd.h"
#include "depthwise_dw.h"

const DwFwdOps kOps = {"avx2", &dw_nhwc_dispatch<Avx2>, &dw_nhwc_scratch, &dw_nchw_dispatch<Avx2>, &dw_grad_dispatch<Avx2>,
                       &dw_grad_nchw_dispatch<Avx2>};

} // namespace

const DwFwdOps &dw_avx2_ops() { return kOps; }

} // namespace cpu
} // namespace fx

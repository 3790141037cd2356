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

    // v / (1 + exp(-v)). exp(-v) = 2^n * e^-r', r' = v + n ln2 (Cody-Waite, two constants), n = round(-v log2e)
    // by the 1.5 * 2^23 (+ 127 exponent bias) trick, which also leaves the bits of 2^n in the low mantissa bits;
    // e^-r' from a degree-5 polynomial fitted for minimax relative error on |r'| <= ln2 / 2 (1.3e-7 with its float
    // coefficients; fit in tests/native/fit_silu_exp.py), in Horner form. v is clamped to
    // [-88.37, 87.3] (no overflow, no subnormal 2^n: silu of v < -88 is then ~v * 1e-38 instead of smaller or 0).
    // 1 / (1 + e) is vrcpps (12 bits) and one Newton step (~2 ulp): a division costs as much as the rest.
    static inline V silu(V v) {
        const V vc = _mm256_min_ps(_mm256_max_ps(v, _mm256_set1_ps(-88.37f)), _mm256_set1_ps(87.3f));
        const V magic = _mm256_set1_ps(12583039.0f); // 1.5 * 2^23 + 127
        const V t = _mm256_fmadd_ps(vc, _mm256_set1_ps(-1.44269504088896341f), magic);
        const V n = _mm256_sub_ps(t, magic);
        V r = _mm256_fmadd_ps(n, _mm256_set1_ps(0.693359375f), vc);
        r = _mm256_fmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
        V p = _mm256_set1_ps(-8.297619e-3f);
        p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.191563e-2f));
        p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(-1.6667576e-1f));
        p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.999889e-1f));
        p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(-9.999997e-1f));
        p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0000001f));
        const V e = _mm256_mul_ps(p, _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_castps_si256(t), 23)));
        const V d = _mm256_add_ps(_mm256_set1_ps(1.0f), e);
        V q = _mm256_rcp_ps(d);
        q = _mm256_fmadd_ps(_mm256_fnmadd_ps(d, q, _mm256_set1_ps(1.0f)), q, q);
        return _mm256_mul_ps(v, q);
    }
};

#include "depthwise_fwd.h"

const DwFwdOps kOps = {"avx2", &dw_nhwc_dispatch<Avx2>, &dw_nhwc_scratch, &dw_nchw_dispatch<Avx2>};

} // namespace

const DwFwdOps &dw_avx2_ops() { return kOps; }

} // namespace cpu
} // namespace fx

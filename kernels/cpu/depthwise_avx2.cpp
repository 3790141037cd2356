// The depthwise forward kernels (depthwise_fwd.h) over AVX2 + FMA vectors. Compiled with -mavx2 -mfma; includes
// nothing but the internal headers and intrinsics (see depthwise_cpu.h).
#include "depthwise_cpu.h"
#include "fixres4j/depthwise.h"

#include <immintrin.h>

namespace fx {
namespace cpu {
namespace {

struct Avx2 {
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

    // exp(x), Cephes' expf polynomial (max relative error ~2 ulp) on x clamped to [-87.3, 88.37] (no
    // overflow, no subnormal results: silu of x < -87 is then ~x * 1e-38 instead of a smaller value or 0).
    static inline V exp(V x) {
        x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.3f)), _mm256_set1_ps(88.37f));
        const V n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        V r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
        r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
        V p = _mm256_set1_ps(1.9875691500E-4f);
        p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507E-3f));
        p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073E-3f));
        p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894E-2f));
        p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459E-1f));
        p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201E-1f));
        const V r2 = _mm256_mul_ps(r, r);
        const V e = _mm256_add_ps(_mm256_fmadd_ps(p, r2, r), _mm256_set1_ps(1.0f));
        const __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
        return _mm256_mul_ps(e, _mm256_castsi256_ps(bits));
    }
    static inline V silu(V v) {
        // v / (1 + e) as v * r, r = 1 / (1 + e) from vrcpps (12 bits) and one Newton step (~2 ulp): a division
        // costs as much as the rest of the epilogue
        const V d = _mm256_add_ps(_mm256_set1_ps(1.0f), exp(_mm256_sub_ps(_mm256_setzero_ps(), v)));
        V r = _mm256_rcp_ps(d);
        r = _mm256_fmadd_ps(_mm256_fnmadd_ps(d, r, _mm256_set1_ps(1.0f)), r, r);
        return _mm256_mul_ps(v, r);
    }
};

#include "depthwise_fwd.h"

const DwFwdOps kOps = {"avx2", &dw_nhwc_dispatch<Avx2>, &dw_nhwc_scratch, &dw_nchw_dispatch<Avx2>};

} // namespace

const DwFwdOps &dw_avx2_ops() { return kOps; }

} // namespace cpu
} // namespace fx

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
    static constexpr bool kFastSiluIn = false; // the input SiLU is dw_silu (dw_silu_in)
    static inline V min(V a, V b) { return _mm256_min_ps(a, b); }
    static inline V max(V a, V b) { return _mm256_max_ps(a, b); }
    static inline V sub(V a, V b) { return _mm256_sub_ps(a, b); }
    static inline V mul(V a, V b) { return _mm256_mul_ps(a, b); }
    static inline V fnma(V a, V b, V c) { return _mm256_fnmadd_ps(a, b, c); }
    static inline V rcp(V a) { return _mm256_rcp_ps(a); }
    static inline V pow2_bits(V t) { return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_castps_si256(t), 23)); }

    // bfloat16 storage (depthwise_fwd.h): widened exactly; rounded by dw_f32_to_bf16's rule in integer arithmetic.
    // Masked (a short last group) through a small buffer.
    static inline V widen(__m128i h) { return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16)); }
    static inline V load_bf(const uint16_t *p) { return widen(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p))); }
    static inline V loadm_bf(const uint16_t *p, M m) {
        alignas(16) uint16_t t[8] = {};
        alignas(32) int32_t on[8];
        _mm256_store_si256(reinterpret_cast<__m256i *>(on), m);
        for (int i = 0; i < 8; ++i)
            if (on[i] != 0) t[i] = p[i];
        return widen(_mm_load_si128(reinterpret_cast<const __m128i *>(t)));
    }
    static inline __m128i narrow(V v) {
        const __m256i u = _mm256_castps_si256(v), hi = _mm256_srli_epi32(u, 16);
        const __m256i lsb = _mm256_and_si256(hi, _mm256_set1_epi32(1));
        __m256i r = _mm256_srli_epi32(_mm256_add_epi32(u, _mm256_add_epi32(lsb, _mm256_set1_epi32(0x7FFF))), 16);
        // NaN: |u| > 0x7F800000 (signed compare is right: both sides are non-negative)
        const __m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(u, _mm256_set1_epi32(0x7FFFFFFF)),
                                               _mm256_set1_epi32(0x7F800000));
        const __m256i tiny = _mm256_cmpeq_epi32(_mm256_and_si256(u, _mm256_set1_epi32(0x7F800000)),
                                                _mm256_setzero_si256());
        r = _mm256_blendv_epi8(r, _mm256_or_si256(hi, _mm256_set1_epi32(0x0040)), nan);
        r = _mm256_blendv_epi8(r, _mm256_and_si256(hi, _mm256_set1_epi32(0x8000)), tiny);
        const __m256i packed = _mm256_packus_epi32(r, r); // r0-3 r0-3 | r4-7 r4-7 (every value <= 0xFFFF)
        return _mm256_castsi256_si128(_mm256_permute4x64_epi64(packed, _MM_SHUFFLE(3, 1, 2, 0)));
    }
    static inline void store_bf(uint16_t *p, V v) { _mm_storeu_si128(reinterpret_cast<__m128i *>(p), narrow(v)); }
    static inline void storem_bf(uint16_t *p, V v, M m) {
        alignas(16) uint16_t t[8];
        alignas(32) int32_t on[8];
        _mm_store_si128(reinterpret_cast<__m128i *>(t), narrow(v));
        _mm256_store_si256(reinterpret_cast<__m256i *>(on), m);
        for (int i = 0; i < 8; ++i)
            if (on[i] != 0) p[i] = t[i];
    }
};

#include "depthwise_fwd.h"
#include "depthwise_dw.h"

const DwFwdOps kOps = {"avx2", &dw_nhwc_dispatch<Avx2>, &dw_nhwc_scratch, &dw_nchw_dispatch<Avx2>, &dw_grad_dispatch<Avx2>,
                       &dw_grad_nchw_dispatch<Avx2>};

} // namespace

const DwFwdOps &dw_avx2_ops() { return kOps; }

} // namespace cpu
} // namespace fx

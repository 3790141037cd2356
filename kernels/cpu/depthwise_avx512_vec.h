// The AVX-512 vector of the depthwise kernels (depthwise_fwd.h's X), shared by depthwise_avx512.cpp
// (kNativeBf16 = false) and depthwise_avx512_bf16.cpp (true: bfloat16 outputs rounded by AVX512-BF16's
// vcvtneps2bf16, which follows the same rule as the integer path). Include inside an unnamed namespace only, in a
// translation unit compiled with -mavx512f -mavx512vl -mavx512bw -mavx512dq (and -mavx512bf16 for true).
#ifndef FIXRES4J_KERNELS_CPU_DEPTHWISE_AVX512_VEC_H
#define FIXRES4J_KERNELS_CPU_DEPTHWISE_AVX512_VEC_H

template <bool kNativeBf16>
struct Avx512T {
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

    // The input SiLU (FX_ACT_IN_SILU; dw_silu_in in depthwise_fwd.h), cheaper than dw_silu: exp(-v) = 2^n p(r) with
    // n = round(-v log2e) by vrndscaleps, r = v + n ln2 (Cody-Waite), p a degree-4 polynomial fitted like dw_silu's
    // (2.6e-6 relative; tests/native/fit_silu_exp.py) and 2^n applied by vscalefps (saturating to infinity or 0, so
    // no clamps), then vrcp14ps without a Newton step: within ~7e-5 relative of silu(v) (an infinite v gives NaN).
    // 12 vector operations instead of 19; its output feeds the convolution of bfloat16 weights (the libtorch SiLU it
    // replaces rounded to bfloat16, 2^-9).
    static constexpr bool kFastSiluIn = true;
    static inline V silu_in(V v) {
        const V n = _mm512_roundscale_ps(_mm512_mul_ps(v, _mm512_set1_ps(-1.44269504088896341f)),
                                         _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        V r = _mm512_fmadd_ps(n, _mm512_set1_ps(0.693359375f), v);
        r = _mm512_fmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
        V p = _mm512_set1_ps(0.041458398f);
        p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(-0.16791031f));
        p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5000437f));
        p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(-0.99996334f));
        p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.9999993f));
        const V d = _mm512_add_ps(_mm512_set1_ps(1.0f), _mm512_scalef_ps(p, n));
        return _mm512_mul_ps(v, _mm512_rcp14_ps(d));
    }

    // bfloat16 storage (depthwise_fwd.h): widened exactly; rounded by dw_f32_to_bf16's rule, in integer arithmetic
    // or, with kNativeBf16 (a translation unit compiled with -mavx512bf16), by vcvtneps2bf16
    static inline V load_bf(const uint16_t *p) {
        return widen(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(p)));
    }
    static inline V loadm_bf(const uint16_t *p, M m) { return widen(_mm256_maskz_loadu_epi16(m, p)); }
    static inline void store_bf(uint16_t *p, V v) { _mm256_storeu_si256(reinterpret_cast<__m256i *>(p), narrow(v)); }
    static inline void storem_bf(uint16_t *p, V v, M m) { _mm256_mask_storeu_epi16(p, m, narrow(v)); }
    static inline V widen(__m256i h) { return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16)); }
    static inline __m256i narrow(V v) {
        if constexpr (kNativeBf16) {
            return (__m256i)_mm512_cvtneps_pbh(v);
        } else {
            const __m512i u = _mm512_castps_si512(v), hi = _mm512_srli_epi32(u, 16);
            const __m512i lsb = _mm512_and_si512(hi, _mm512_set1_epi32(1));
            __m512i r = _mm512_srli_epi32(_mm512_add_epi32(u, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7FFF))), 16);
            const __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(u, _mm512_set1_epi32(0x7FFFFFFF)),
                                                          _mm512_set1_epi32(0x7F800000));
            const __mmask16 tiny = _mm512_testn_epi32_mask(u, _mm512_set1_epi32(0x7F800000));
            r = _mm512_mask_mov_epi32(r, nan, _mm512_or_si512(hi, _mm512_set1_epi32(0x0040)));
            r = _mm512_mask_mov_epi32(r, tiny, _mm512_and_si512(hi, _mm512_set1_epi32(0x8000)));
            return _mm512_cvtepi32_epi16(r);
        }
    }
};

#endif

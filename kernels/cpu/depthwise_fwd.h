// The depthwise forward kernels, written once over an 8-lane vector abstraction X and instantiated per ISA:
// depthwise.cpp (portable: X = 8 floats in an array) and depthwise_avx2.cpp (X = __m256). Include inside an
// unnamed namespace of fx::cpu only (internal linkage: the AVX2 copies must never replace the baseline ones),
// after depthwise_cpu.h. Uses no std:: templates for the same reason.
//
// X provides: L (lanes: 8, or 16 for AVX-512; a 16-channel group is 16 / L vectors), types V (L floats) and M (a lane mask); V zero(); V set1(float); V load(const float *) (unaligned);
// V loadm(const float *, M) (masked lanes read nothing and are 0); void store(float *, V); void storem(float *,
// V, M); V load_even(const float *p) (p[0], p[2], ..., p[14]); V fma(V a, V b, V c) (a * b + c); V add(V, V);
// kFastSiluIn and, when true, V silu_in(V) (the input SiLU, dw_silu_in); kExactSilu and V silu(V) when true, else min, max, sub, mul, fnma (c - a b), rcp (>= 12 bits) and pow2_bits (the
// low 9 bits of each lane shifted into the exponent field: see dw_silu); M mask(int n) (the first n lanes, 1 <= n <= 8); V keep(V, M) (other lanes 0); void to_array(float *, V).
//
// Storage types: x and y are float (job.x, job.y) or bfloat16 (job.xb, job.yb: the upper 16 bits of a float32, as
// uint16_t). bfloat16 is widened exactly when a row is packed (NHWC) or copied into the row buffer (NCHW), so the
// kernels compute in float32 as they do for float input; outputs are rounded once by X::store_bf / storem_bf with
// the rule of dw_f32_to_bf16. For bfloat16 X also provides V load_bf(const uint16_t *) (L elements), V
// loadm_bf(const uint16_t *, M), void store_bf(uint16_t *, V) and void storem_bf(uint16_t *, V, M).
//
// NHWC: an item is (image n, a band of output rows), all channels; vectors over channels (see dw_nhwc_group). NCHW: an item is one plane; its rows are first copied into a zero-bordered row buffer so that every
// output vector (8 consecutive columns; stride 2 through load_even) reads with no bounds checks; rows outside the
// image are skipped through the tap range. Row sums of y go into double per row (the SE sums).
#ifndef FIXRES4J_KERNELS_CPU_DEPTHWISE_FWD_H
#define FIXRES4J_KERNELS_CPU_DEPTHWISE_FWD_H

#define DW_MIN(a, b) ((a) < (b) ? (a) : (b))
#define DW_MAX(a, b) ((a) > (b) ? (a) : (b))

#define DW_INLINE inline __attribute__((always_inline))

// SiLU, v / (1 + exp(-v)). X::kExactSilu: X::silu (the portable kernels: a division and std::exp). Otherwise from
// X's primitives: exp(-v) = 2^n * e^-r', r' = v + n ln2 (Cody-Waite, two constants), n = round(-v log2e) by the
// 1.5 * 2^23 (+ 127 exponent bias) trick, which also leaves the bits of 2^n in the low mantissa bits (X::pow2_bits
// shifts them into the exponent); e^-r' from a degree-5 polynomial fitted for minimax relative error on
// |r'| <= ln2 / 2 (1.3e-7 with its float coefficients; tests/native/fit_silu_exp.py), in Horner form. v is clamped
// to [-88.37, 87.3] (no overflow, no subnormal 2^n: silu of v < -88 is then ~v * 1e-38 instead of smaller or 0).
// 1 / (1 + e) is X::rcp (vrcpps: 12 bits, vrcp14ps: 14) and one Newton step: a division costs as much as the rest.
template <class X>
DW_INLINE typename X::V dw_silu(typename X::V v) {
    typedef typename X::V V;
    if constexpr (X::kExactSilu) {
        return X::silu(v);
    } else {
        const V vc = X::min(X::max(v, X::set1(-88.37f)), X::set1(87.3f));
        const V magic = X::set1(12583039.0f); // 1.5 * 2^23 + 127
        const V t = X::fma(vc, X::set1(-1.44269504088896341f), magic);
        const V n = X::sub(t, magic);
        V r = X::fma(n, X::set1(0.693359375f), vc);
        r = X::fma(n, X::set1(-2.12194440e-4f), r);
        V p = X::set1(-8.297619e-3f);
        p = X::fma(p, r, X::set1(4.191563e-2f));
        p = X::fma(p, r, X::set1(-1.6667576e-1f));
        p = X::fma(p, r, X::set1(4.999889e-1f));
        p = X::fma(p, r, X::set1(-9.999997e-1f));
        p = X::fma(p, r, X::set1(1.0000001f));
        const V d = X::add(X::set1(1.0f), X::mul(p, X::pow2_bits(t)));
        V q = X::rcp(d);
        q = X::fma(X::fnma(d, q, X::set1(1.0f)), q, q); // q + q (1 - d q)
        return X::mul(v, q);
    }
}


// bfloat16 <-> float32, scalar. Widening is exact. Narrowing (the one rounding of every bfloat16 output, all ISA
// instances alike): NaN -> a quiet NaN (same sign and upper payload bits, 0x0040 set); zero and float32 subnormals
// -> zero of the same sign (as vcvtneps2bf16, which treats subnormal inputs as zero); otherwise round to nearest,
// ties to even, on the upper 16 bits (values past the largest finite bfloat16 round to infinity).
DW_INLINE float dw_bf16_to_f32(uint16_t h) {
    const uint32_t u = (uint32_t)h << 16;
    float f;
    __builtin_memcpy(&f, &u, 4);
    return f;
}

DW_INLINE uint16_t dw_f32_to_bf16(float f) {
    uint32_t u;
    __builtin_memcpy(&u, &f, 4);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((u >> 16) | 0x0040u);
    if ((u & 0x7F800000u) == 0) return (uint16_t)((u >> 16) & 0x8000u);
    return (uint16_t)((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

// Vector access by storage type (overloads on the pointer type) and the job's x and y of that type.
template <class X>
DW_INLINE typename X::V dw_vload(const float *p) { return X::load(p); }
template <class X>
DW_INLINE typename X::V dw_vload(const uint16_t *p) { return X::load_bf(p); }
template <class X>
DW_INLINE typename X::V dw_vloadm(const float *p, typename X::M m) { return X::loadm(p, m); }
template <class X>
DW_INLINE typename X::V dw_vloadm(const uint16_t *p, typename X::M m) { return X::loadm_bf(p, m); }
template <class X>
DW_INLINE void dw_vstore(float *p, typename X::V v) { X::store(p, v); }
template <class X>
DW_INLINE void dw_vstore(uint16_t *p, typename X::V v) { X::store_bf(p, v); }
template <class X>
DW_INLINE void dw_vstorem(float *p, typename X::V v, typename X::M m) { X::storem(p, v, m); }
template <class X>
DW_INLINE void dw_vstorem(uint16_t *p, typename X::V v, typename X::M m) { X::storem_bf(p, v, m); }
DW_INLINE float dw_widen(float v) { return v; }
DW_INLINE float dw_widen(uint16_t v) { return dw_bf16_to_f32(v); }

template <class T>
struct DwIo;
template <>
struct DwIo<float> {
    static const float *x(const DwFwdJob &j) { return j.x; }
    static float *y(const DwFwdJob &j) { return j.y; }
};
template <>
struct DwIo<uint16_t> {
    static const uint16_t *x(const DwFwdJob &j) { return j.xb; }
    static uint16_t *y(const DwFwdJob &j) { return j.yb; }
};

template <class X, bool Mk>
inline typename X::V dw_ld(const float *p, typename X::M m) {
    return Mk ? X::loadm(p, m) : X::load(p);
}

template <class X, int S>
inline typename X::V dw_lds(const float *p) {
    return S == 1 ? X::load(p) : X::load_even(p);
}

template <class X, bool Mk, class T>
inline void dw_emit(T *yp, typename X::V acc, int32_t act, typename X::M m, typename X::V &rs) {
    if (act == FX_ACT_SILU) acc = dw_silu<X>(acc);
    if (Mk) {
        dw_vstorem<X>(yp, acc, m);
        rs = X::add(rs, X::keep(acc, m));
    } else {
        dw_vstore<X>(yp, acc);
        rs = X::add(rs, acc);
    }
}

// NHWC geometry of the packed rows: each input row an item needs is packed once into a ring of K rows, channel
// group g (16 channels) by group: [G][span][16] floats, column q holding input column q - pl (zero outside the
// image and past c), so that every output pixel reads its K x K taps at constant offsets with no bounds checks.
// span = (ow - 1) * s + k columns; rows outside the image read a zero row.
inline int64_t dw_nhwc_span(const DwFwdJob &j) { return (int64_t)(j.ow - 1) * j.s + j.k; }
inline int64_t dw_nhwc_groups(const DwFwdJob &j) { return (j.c + 15) >> 4; }
// floats of scratch one NHWC item needs: K ring rows + the zero row, 32-byte aligned by the caller
inline int64_t dw_nhwc_scratch(const DwFwdJob &j) { return (int64_t)(j.k + 1) * dw_nhwc_groups(j) * dw_nhwc_span(j) * 16; }

// Packs input row ih of image n (xn: x of image n) into dst ([G][span][16]). The row is read in memory order
// (pixel by pixel, all channels), so that the hardware prefetcher streams it from DRAM; the writes scatter over the
// G group rows, which stay in cache.
// The input SiLU (FX_ACT_IN_SILU): X::silu_in where X::kFastSiluIn (AVX-512: a cheaper, ~7e-5 relative
// approximation), else dw_silu.
template <class X>
DW_INLINE typename X::V dw_silu_in(typename X::V v) {
    if constexpr (X::kFastSiluIn)
        return X::silu_in(v);
    else
        return dw_silu<X>(v);
}

// InSilu (FX_ACT_IN_SILU): each value is replaced by dw_silu_in of it as it is packed (float32, not rounded).
template <class X, bool InSilu>
DW_INLINE typename X::V dw_in(typename X::V v) {
    if constexpr (InSilu) return dw_silu_in<X>(v);
    return v;
}

template <class X, bool InSilu, class T>
DW_INLINE void dw_nhwc_pack(const DwFwdJob &j, const T *xn, int64_t ih, float *dst) {
    typedef typename X::V V;
    constexpr int L = X::L, NV = 16 / X::L;
    const int64_t C = j.c, W = j.w, span = dw_nhwc_span(j), G = dw_nhwc_groups(j), gstride = span * 16;
    const int64_t gfull = C >> 4;
    const int rest = (int)(C & 15);
    const T *src = xn + ih * W * C;
    const V z = X::zero();
    const int64_t qlo = DW_MIN(span, (int64_t)j.pl), qhi = DW_MIN(span, (int64_t)j.pl + W);
    for (int64_t q = 0; q < qlo; ++q)
        for (int64_t g = 0; g < G; ++g)
            for (int h = 0; h < NV; ++h) X::store(dst + g * gstride + q * 16 + h * L, z);
    for (int64_t q = qlo; q < qhi; ++q) {
        const T *sp = src + (q - j.pl) * C;
        float *d = dst + q * 16;
        for (int64_t g = 0; g < gfull; ++g, sp += 16, d += gstride)
            for (int h = 0; h < NV; ++h) X::store(d + h * L, dw_in<X, InSilu>(dw_vload<X>(sp + h * L)));
        if (rest != 0)
            for (int h = 0; h < NV; ++h) {
                const int lanes = rest - h * L;
                X::store(d + h * L, lanes >= L ? dw_in<X, InSilu>(dw_vload<X>(sp + h * L))
                                    : lanes > 0 ? dw_in<X, InSilu>(dw_vloadm<X>(sp + h * L, X::mask(lanes))) : z);
            }
    }
    for (int64_t q = qhi; q < span; ++q)
        for (int64_t g = 0; g < G; ++g)
            for (int h = 0; h < NV; ++h) X::store(dst + g * gstride + q * 16 + h * L, z);
}

// P output pixels (16 channels each: 16 / X::L vectors) of one output row from the packed rows: rp[kh] points at
// the group's column of the block's first pixel. wg: the group's weights, [K * K][16]. The weight vectors of a tap
// are loaded once and shared by the P pixels; x is read straight from the packed rows at constant offsets; the
// P * 16 / L accumulators stay in registers (X::P is chosen per ISA so that they fit).
template <class X, int K, int S, int P>
DW_INLINE void dw_nhwc_blk(const float *const *rp, const float *wg, const typename X::V *b, typename X::V *a) {
    constexpr int L = X::L, NV = 16 / X::L;
#pragma GCC unroll 16
    for (int p = 0; p < P; ++p)
#pragma GCC unroll 2
        for (int h = 0; h < NV; ++h) a[NV * p + h] = b[h];
    if constexpr (X::kRowBlock && S == 1) {
        // Row-blocked (X::kRowBlock, stride 1; for ISAs with 32 vector registers and one vector per group): per kernel row the
        // K weight vectors stay in registers and each packed input column the P pixels read ((P - 1) * S + K) is
        // loaded once and fed to every accumulator that uses it. Same sums in the same (kh, kw) order per output.
        static_assert(NV == 1, "row blocking is for one vector per 16-channel group");
#pragma GCC unroll 7
        for (int kh = 0; kh < K; ++kh) {
            const float *r = rp[kh];
            typename X::V wv[K];
#pragma GCC unroll 7
            for (int kw = 0; kw < K; ++kw) wv[kw] = X::load(wg + (kh * K + kw) * 16);
#pragma GCC unroll 64
            for (int q = 0; q < (P - 1) * S + K; ++q) {
                const typename X::V xv = X::load(r + q * 16);
#pragma GCC unroll 7
                for (int kw = 0; kw < K; ++kw) {
                    const int d = q - kw; // = p * S for the pixel p this column's tap kw belongs to
                    if (d >= 0 && d % S == 0 && d / S < P) a[d / S] = X::fma(xv, wv[kw], a[d / S]);
                }
            }
        }
    } else {
#pragma GCC unroll 7
        for (int kh = 0; kh < K; ++kh) {
            const float *r = rp[kh];
#pragma GCC unroll 7
            for (int kw = 0; kw < K; ++kw) {
                typename X::V wv[NV];
#pragma GCC unroll 2
                for (int h = 0; h < NV; ++h) wv[h] = X::load(wg + (kh * K + kw) * 16 + h * L);
#pragma GCC unroll 16
                for (int p = 0; p < P; ++p)
#pragma GCC unroll 2
                    for (int h = 0; h < NV; ++h)
                        a[NV * p + h] = X::fma(X::load(r + (p * S + kw) * 16 + h * L), wv[h], a[NV * p + h]);
            }
        }
    }
}

// Activation, store (pixels C apart; masked for a short last group, slices wholly past c skipped) and the row sums
// of P pixels. Lanes past c hold act(0) = 0 (zero weights, bias and x), so they add nothing to the sums.
template <class X, int P, bool Mk, bool Silu, class T>
DW_INLINE void dw_nhwc_out(T *yp, int64_t C, const typename X::V *a, int r, const typename X::M *m,
                           typename X::V *rs) {
    constexpr int L = X::L, NV = 16 / X::L;
#pragma GCC unroll 16
    for (int p = 0; p < P; ++p)
#pragma GCC unroll 2
        for (int h = 0; h < NV; ++h) {
            typename X::V o = a[NV * p + h];
            if (Silu) o = dw_silu<X>(o);
            if (Mk) {
                if (r > h * L) dw_vstorem<X>(yp + p * C + h * L, o, m[h]);
            } else {
                dw_vstore<X>(yp + p * C + h * L, o);
            }
            rs[h] = X::add(rs[h], o);
        }
}

// One block of P pixels, then the row pointers and the output move on by P pixels.
template <class X, int K, int S, int P, bool Mk, bool Silu, class T>
DW_INLINE void dw_nhwc_step(const float **rp, const float *wg, const typename X::V *b, typename X::V *a, T *&yp,
                            int64_t C, int r, const typename X::M *m, typename X::V *rs) {
    dw_nhwc_blk<X, K, S, P>(rp, wg, b, a);
    dw_nhwc_out<X, P, Mk, Silu>(yp, C, a, r, m, rs);
#pragma GCC unroll 7
    for (int kh = 0; kh < K; ++kh) rp[kh] += P * S * 16;
    yp += P * C;
}

// One 16-channel group of one output row: blocks of X::P pixels (X::P2 for stride 2), then 4, 2 and 1 for the rest of the row.
template <class X, int K, int S, bool Mk, bool Silu, class T>
DW_INLINE void dw_nhwc_group(const DwFwdJob &j, const float *const *rows, int64_t g, T *yrow, double *se) {
    typedef typename X::V V;
    constexpr int L = X::L, NV = 16 / X::L, P = S == 1 ? X::P : X::P2;
    const int64_t C = j.c, OW = j.ow, span = dw_nhwc_span(j), c0 = g * 16;
    const int r = (int)DW_MIN((int64_t)16, C - c0);
    typename X::M m[NV];
    V b[NV], rs[NV];
#pragma GCC unroll 2
    for (int h = 0; h < NV; ++h) {
        const int lanes = r - h * L;
        m[h] = X::mask(lanes >= L ? L : lanes > 0 ? lanes : 1);
        b[h] = X::load(j.bias + c0 + h * L);
        rs[h] = X::zero();
    }
    const float *rp[K];
#pragma GCC unroll 7
    for (int kh = 0; kh < K; ++kh) rp[kh] = rows[kh] + g * span * 16;
    const float *wg = j.wt + g * K * K * 16;
    V a[NV * P];
    T *yp = yrow + c0;
    int64_t ow = 0;
    for (; ow + P <= OW; ow += P) dw_nhwc_step<X, K, S, P, Mk, Silu>(rp, wg, b, a, yp, C, r, m, rs);
    if constexpr (P > 4) {
        if (OW - ow >= 4) {
            dw_nhwc_step<X, K, S, 4, Mk, Silu>(rp, wg, b, a, yp, C, r, m, rs);
            ow += 4;
        }
    }
    if constexpr (P > 2) {
        if (OW - ow >= 2) {
            dw_nhwc_step<X, K, S, 2, Mk, Silu>(rp, wg, b, a, yp, C, r, m, rs);
            ow += 2;
        }
    }
    for (; ow < OW; ++ow) dw_nhwc_step<X, K, S, 1, Mk, Silu>(rp, wg, b, a, yp, C, r, m, rs);
    if (se != nullptr) {
        float tmp[16];
#pragma GCC unroll 2
        for (int h = 0; h < NV; ++h) X::to_array(tmp + h * L, rs[h]);
        for (int l = 0; l < r; ++l) se[c0 + l] += (double)tmp[l];
    }
}

// The ring of packed input rows of one NHWC item (scratch: K rows and a zero row, dw_nhwc_scratch floats): get(oh)
// gives the K rows output row oh reads, packing each input row once per item (slot ih % K) and pointing rows outside
// the image at the zero row. Shared by the forward and the weight-gradient kernels.
template <class X, int K, int S, class T = float>
struct DwRing {
    const DwFwdJob &j;
    const T *xn; // x of the item's image
    float *scratch;
    int64_t rowsz; // floats per packed row
    float *zero;
    int64_t held[K]; // the input row each slot holds, -1 none

    DwRing(const DwFwdJob &job, int64_t n, float *buf)
        : j(job), xn(DwIo<T>::x(job) + n * job.h * job.w * job.c), scratch(buf),
          rowsz(dw_nhwc_groups(job) * dw_nhwc_span(job) * 16), zero(buf + K * rowsz) {
        const typename X::V z = X::zero();
        for (int64_t i = 0; i < rowsz; i += X::L) X::store(zero + i, z);
        for (int i = 0; i < K; ++i) held[i] = -1;
    }

    void get(int64_t oh, const float **rows) {
        for (int kh = 0; kh < K; ++kh) {
            const int64_t ih = oh * S - j.pt + kh;
            if (ih < 0 || ih >= j.h) {
                rows[kh] = zero;
                continue;
            }
            const int slot = (int)(ih % K);
            float *dst = scratch + slot * rowsz;
            if (held[slot] != ih) {
                if (j.in_silu)
                    dw_nhwc_pack<X, true>(j, xn, ih, dst);
                else
                    dw_nhwc_pack<X, false>(j, xn, ih, dst);
                held[slot] = ih;
            }
            rows[kh] = dst;
        }
    }
};

// Output rows [oh0, oh1) of image n, all channels: per row, the K input rows it reads are packed into the ring
// (each input row once per item), then group by group.
template <class X, int K, int S, bool Silu, class T>
void dw_nhwc_rows_t(const DwFwdJob &j, int64_t n, int64_t oh0, int64_t oh1, double *se, float *scratch) {
    const int64_t C = j.c, OW = j.ow, G = dw_nhwc_groups(j);
    T *yn = DwIo<T>::y(j) + n * j.oh * OW * C;
    DwRing<X, K, S, T> ring(j, n, scratch);
    const bool partial = (C & 15) != 0;
    for (int64_t oh = oh0; oh < oh1; ++oh) {
        const float *rows[K];
        ring.get(oh, rows);
        T *yrow = yn + oh * OW * C;
        const int64_t gfull = partial ? G - 1 : G;
        for (int64_t g = 0; g < gfull; ++g) dw_nhwc_group<X, K, S, false, Silu, T>(j, rows, g, yrow, se);
        if (partial) dw_nhwc_group<X, K, S, true, Silu, T>(j, rows, G - 1, yrow, se);
    }
}

template <class X, int K, int S, int NB>
inline void dw_nchw_vecs(const float *buf, int64_t Wp, int64_t ih0, int64_t khlo, int64_t khhi, int64_t ow,
                         const typename X::V *wv, typename X::V b, typename X::V *acc) {
    for (int i = 0; i < NB; ++i) acc[i] = b;
    for (int64_t kh = khlo; kh < khhi; ++kh) {
        const float *r = buf + (ih0 + kh) * Wp + ow * S;
        for (int kw = 0; kw < K; ++kw) {
            const typename X::V wk = wv[kh * K + kw];
            for (int i = 0; i < NB; ++i) acc[i] = X::fma(dw_lds<X, S>(r + 8 * S * i + kw), wk, acc[i]);
        }
    }
}

template <class X, int K, int S, class T>
void dw_nchw_item(const DwFwdJob &j, int64_t n, int64_t c, float *buf) {
    typedef typename X::V V;
    const int64_t H = j.h, W = j.w, OH = j.oh, OW = j.ow, Wp = j.wp;
    const T *xp = DwIo<T>::x(j) + (n * j.c + c) * H * W;
    for (int64_t r = 0; r < H; ++r) {
        float *dst = buf + r * Wp + j.pl;
        const T *src = xp + r * W;
        for (int64_t i = 0; i < W; ++i) dst[i] = dw_widen(src[i]);
    }
    V wv[K * K];
    for (int t = 0; t < K * K; ++t) wv[t] = X::set1(j.wgt[c * K * K + t]);
    const V bv = X::set1(j.bias[c]);
    T *yp = DwIo<T>::y(j) + (n * j.c + c) * OH * OW;
    double sum = 0.0;
    for (int64_t oh = 0; oh < OH; ++oh) {
        const int64_t ih0 = oh * S - j.pt;
        const int64_t khlo = DW_MAX((int64_t)0, -ih0), khhi = DW_MIN((int64_t)K, H - ih0);
        V rs = X::zero();
        T *yrow = yp + oh * OW;
        int64_t ow = 0;
        V acc[4];
        for (; ow + 32 <= OW; ow += 32) {
            dw_nchw_vecs<X, K, S, 4>(buf, Wp, ih0, khlo, khhi, ow, wv, bv, acc);
            for (int i = 0; i < 4; ++i) dw_emit<X, false>(yrow + ow + 8 * i, acc[i], j.act, X::mask(8), rs);
        }
        for (; ow < OW; ow += 8) {
            dw_nchw_vecs<X, K, S, 1>(buf, Wp, ih0, khlo, khhi, ow, wv, bv, acc);
            const int64_t left = OW - ow;
            if (left >= 8)
                dw_emit<X, false>(yrow + ow, acc[0], j.act, X::mask(8), rs);
            else
                dw_emit<X, true>(yrow + ow, acc[0], j.act, X::mask((int)left), rs);
        }
        if (j.se != nullptr) {
            float tmp[8];
            X::to_array(tmp, rs);
            double s = 0.0;
            for (int l = 0; l < 8; ++l) s += (double)tmp[l];
            sum += s;
        }
    }
    if (j.se != nullptr) j.se[n * j.c + c] = (float)sum;
}

// Compile-time (k, stride) for the kernel templates: dw_with_ks(k, s, f) calls f(DwInt<K>(), DwInt<S>()) for the
// shapes the entry points accept (k in {1, 3, 5, 7}, s in {1, 2}) and does nothing otherwise. One switch for the
// forward and gradient dispatchers of every ISA.
template <int V>
struct DwInt {
    static constexpr int value = V;
};

template <int K, class F>
DW_INLINE void dw_with_s(int32_t s, F &f) {
    if (s == 1)
        f(DwInt<K>(), DwInt<1>());
    else
        f(DwInt<K>(), DwInt<2>());
}

template <class F>
DW_INLINE void dw_with_ks(int32_t k, int32_t s, F &&f) {
    switch (k) {
    case 1: dw_with_s<1>(s, f); break;
    case 3: dw_with_s<3>(s, f); break;
    case 5: dw_with_s<5>(s, f); break;
    case 7: dw_with_s<7>(s, f); break;
    default: break;
    }
}

// The ops table of one ISA: dispatch on (k, stride) (and the activation) to the template instances.
template <class X>
void dw_nhwc_dispatch(const DwFwdJob &j, int64_t n, int64_t oh0, int64_t oh1, double *se, float *scratch) {
    dw_with_ks(j.k, j.s, [&](auto k, auto s) {
        constexpr int K = decltype(k)::value, S = decltype(s)::value;
        if (j.xb != nullptr) {
            if (j.act == FX_ACT_SILU)
                dw_nhwc_rows_t<X, K, S, true, uint16_t>(j, n, oh0, oh1, se, scratch);
            else
                dw_nhwc_rows_t<X, K, S, false, uint16_t>(j, n, oh0, oh1, se, scratch);
        } else if (j.act == FX_ACT_SILU) {
            dw_nhwc_rows_t<X, K, S, true, float>(j, n, oh0, oh1, se, scratch);
        } else {
            dw_nhwc_rows_t<X, K, S, false, float>(j, n, oh0, oh1, se, scratch);
        }
    });
}

template <class X>
void dw_nchw_dispatch(const DwFwdJob &j, int64_t n, int64_t c, float *buf) {
    dw_with_ks(j.k, j.s, [&](auto k, auto s) {
        if (j.xb != nullptr)
            dw_nchw_item<X, decltype(k)::value, decltype(s)::value, uint16_t>(j, n, c, buf);
        else
            dw_nchw_item<X, decltype(k)::value, decltype(s)::value, float>(j, n, c, buf);
    });
}

#endif

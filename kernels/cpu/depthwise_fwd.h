// The depthwise forward kernels, written once over an 8-lane vector abstraction X and instantiated per ISA:
// depthwise.cpp (portable: X = 8 floats in an array) and depthwise_avx2.cpp (X = __m256). Include inside an
// unnamed namespace of fx::cpu only (internal linkage: the AVX2 copies must never replace the baseline ones),
// after depthwise_cpu.h. Uses no std:: templates for the same reason.
//
// X provides: types V (8 floats) and M (a lane mask); V zero(); V set1(float); V load(const float *) (unaligned);
// V loadm(const float *, M) (masked lanes read nothing and are 0); void store(float *, V); void storem(float *,
// V, M); V load_even(const float *p) (p[0], p[2], ..., p[14]); V fma(V a, V b, V c) (a * b + c); V add(V, V);
// V silu(V); M mask(int n) (the first n lanes, 1 <= n <= 8); V keep(V, M) (other lanes 0); void to_array(float *, V).
//
// NHWC: an item is (image n, up to 32 channels); vectors over channels. Per output row: the border pixels (some
// tap outside the image) one at a time with clipped tap ranges, the interior in blocks of 4 pixels sharing each
// weight load. NCHW: an item is one plane; its rows are first copied into a zero-bordered row buffer so that every
// output vector (8 consecutive columns; stride 2 through load_even) reads with no bounds checks; rows outside the
// image are skipped through the tap range. Row sums of y go into double per row (the SE sums).
#ifndef FIXRES4J_KERNELS_CPU_DEPTHWISE_FWD_H
#define FIXRES4J_KERNELS_CPU_DEPTHWISE_FWD_H

#define DW_MIN(a, b) ((a) < (b) ? (a) : (b))
#define DW_MAX(a, b) ((a) > (b) ? (a) : (b))

template <class X, bool Mk>
inline typename X::V dw_ld(const float *p, typename X::M m) {
    return Mk ? X::loadm(p, m) : X::load(p);
}

template <class X, int S>
inline typename X::V dw_lds(const float *p) {
    return S == 1 ? X::load(p) : X::load_even(p);
}

template <class X, bool Mk>
inline void dw_emit(float *yp, typename X::V acc, int32_t act, typename X::M m, typename X::V &rs) {
    if (act == FX_ACT_SILU) acc = X::silu(acc);
    if (Mk) {
        X::storem(yp, acc, m);
        rs = X::add(rs, X::keep(acc, m));
    } else {
        X::store(yp, acc);
        rs = X::add(rs, acc);
    }
}

// One output pixel, one channel vector: taps kh in [khlo, khhi), kw in [kwlo, kwhi). xc: x of image n at the
// vector's first channel; wtc: wt at that channel.
template <class X, int K, bool Mk>
inline typename X::V dw_nhwc_px(const float *xc, const float *wtc, typename X::V acc, int64_t ih0, int64_t khlo,
                                int64_t khhi, int64_t iw0, int64_t kwlo, int64_t kwhi, int64_t W, int64_t C, int64_t CP,
                                typename X::M m) {
    for (int64_t kh = khlo; kh < khhi; ++kh) {
        const int64_t base = ((ih0 + kh) * W + iw0) * C;
        const float *wr = wtc + kh * K * CP;
        for (int64_t kw = kwlo; kw < kwhi; ++kw) acc = X::fma(dw_ld<X, Mk>(xc + base + kw * C, m), X::load(wr + kw * CP), acc);
    }
    return acc;
}

// Four output pixels (iw0, iw0 + S, iw0 + 2S, iw0 + 3S are their first input columns; all taps inside the row).
template <class X, int K, int S, bool Mk>
inline void dw_nhwc_blk4(const float *xc, const float *wtc, typename X::V b, int64_t ih0, int64_t khlo, int64_t khhi,
                         int64_t iw0, int64_t W, int64_t C, int64_t CP, typename X::M m, typename X::V *out) {
    typedef typename X::V V;
    V a0 = b, a1 = b, a2 = b, a3 = b;
    constexpr int NX = 3 * S + K; // input columns the four pixels read in one row: each loaded once
    for (int64_t kh = khlo; kh < khhi; ++kh) {
        const float *xr = xc + ((ih0 + kh) * W + iw0) * C;
        const float *wr = wtc + kh * K * CP;
        V xs[NX];
        for (int i = 0; i < NX; ++i) xs[i] = dw_ld<X, Mk>(xr + (int64_t)i * C, m);
        for (int kw = 0; kw < K; ++kw) {
            const V wv = X::load(wr + kw * CP);
            a0 = X::fma(xs[kw], wv, a0);
            a1 = X::fma(xs[S + kw], wv, a1);
            a2 = X::fma(xs[2 * S + kw], wv, a2);
            a3 = X::fma(xs[3 * S + kw], wv, a3);
        }
    }
    out[0] = a0;
    out[1] = a1;
    out[2] = a2;
    out[3] = a3;
}

template <class X, int K, int S>
void dw_nhwc_item(const DwFwdJob &j, int64_t n, int64_t c0, int32_t cb) {
    typedef typename X::V V;
    typedef typename X::M M;
    const int64_t C = j.c, H = j.h, W = j.w, CP = j.cpad, OH = j.oh, OW = j.ow;
    const float *xn = j.x + n * H * W * C + c0;
    float *yn = j.y + n * OH * OW * C + c0;
    const float *wt = j.wt + c0;
    const float *bias = j.bias + c0;
    const int nfull = cb >> 3, tail = cb & 7;
    const M tm = X::mask(tail > 0 ? tail : 8);
    double sums[kDwNhwcBlock];
    for (int i = 0; i < kDwNhwcBlock; ++i) sums[i] = 0.0;
    V rs[kDwNhwcBlock / 8 + 1];
    V bv[kDwNhwcBlock / 8 + 1];
    for (int v = 0; v < nfull + (tail ? 1 : 0); ++v) bv[v] = X::load(bias + 8 * v); // bias is padded to cpad
    const int64_t owlo = DW_MIN(OW, (int64_t)(j.pl + S - 1) / S);
    int64_t owhi = (W - K + j.pl >= 0) ? (W - K + j.pl) / S + 1 : 0;
    owhi = DW_MAX(owlo, DW_MIN(OW, owhi));
    for (int64_t oh = 0; oh < OH; ++oh) {
        const int64_t ih0 = oh * S - j.pt;
        const int64_t khlo = DW_MAX((int64_t)0, -ih0), khhi = DW_MIN((int64_t)K, H - ih0);
        for (int v = 0; v <= nfull; ++v) rs[v] = X::zero();
        float *yrow = yn + oh * OW * C;
        // one pixel at a time (borders and remainders)
#define DW_PIXEL(OWX)                                                                                              \
    do {                                                                                                           \
        const int64_t iw0_ = (OWX)*S - j.pl;                                                                       \
        const int64_t kwlo_ = DW_MAX((int64_t)0, -iw0_), kwhi_ = DW_MIN((int64_t)K, W - iw0_);                     \
        for (int v = 0; v < nfull; ++v) {                                                                          \
            const V acc = dw_nhwc_px<X, K, false>(xn + 8 * v, wt + 8 * v, bv[v], ih0, khlo, khhi, iw0_, kwlo_,    \
                                                  kwhi_, W, C, CP, tm);                                            \
            dw_emit<X, false>(yrow + (OWX)*C + 8 * v, acc, j.act, tm, rs[v]);                                      \
        }                                                                                                          \
        if (tail) {                                                                                                \
            const V acc = dw_nhwc_px<X, K, true>(xn + 8 * nfull, wt + 8 * nfull, bv[nfull], ih0, khlo, khhi, iw0_, \
                                                 kwlo_, kwhi_, W, C, CP, tm);                                      \
            dw_emit<X, true>(yrow + (OWX)*C + 8 * nfull, acc, j.act, tm, rs[nfull]);                               \
        }                                                                                                          \
    } while (0)
        for (int64_t ow = 0; ow < owlo; ++ow) DW_PIXEL(ow);
        int64_t ow = owlo;
        for (; ow + 4 <= owhi; ow += 4) {
            const int64_t iw0 = ow * S - j.pl;
            V out[4];
            for (int v = 0; v < nfull; ++v) {
                dw_nhwc_blk4<X, K, S, false>(xn + 8 * v, wt + 8 * v, bv[v], ih0, khlo, khhi, iw0, W, C, CP, tm, out);
                for (int p = 0; p < 4; ++p) dw_emit<X, false>(yrow + (ow + p) * C + 8 * v, out[p], j.act, tm, rs[v]);
            }
            if (tail) {
                dw_nhwc_blk4<X, K, S, true>(xn + 8 * nfull, wt + 8 * nfull, bv[nfull], ih0, khlo, khhi, iw0, W, C, CP,
                                            tm, out);
                for (int p = 0; p < 4; ++p)
                    dw_emit<X, true>(yrow + (ow + p) * C + 8 * nfull, out[p], j.act, tm, rs[nfull]);
            }
        }
        for (; ow < OW; ++ow) DW_PIXEL(ow);
#undef DW_PIXEL
        if (j.se != nullptr) {
            float tmp[8];
            for (int v = 0; v <= nfull; ++v) {
                const int lanes = v < nfull ? 8 : tail;
                X::to_array(tmp, rs[v]);
                for (int l = 0; l < lanes; ++l) sums[8 * v + l] += (double)tmp[l];
            }
        }
    }
    if (j.se != nullptr)
        for (int32_t i = 0; i < cb; ++i) j.se[n * C + c0 + i] = (float)sums[i];
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

template <class X, int K, int S>
void dw_nchw_item(const DwFwdJob &j, int64_t n, int64_t c, float *buf) {
    typedef typename X::V V;
    const int64_t H = j.h, W = j.w, OH = j.oh, OW = j.ow, Wp = j.wp;
    const float *xp = j.x + (n * j.c + c) * H * W;
    for (int64_t r = 0; r < H; ++r) {
        float *dst = buf + r * Wp + j.pl;
        const float *src = xp + r * W;
        for (int64_t i = 0; i < W; ++i) dst[i] = src[i];
    }
    V wv[K * K];
    for (int t = 0; t < K * K; ++t) wv[t] = X::set1(j.wgt[c * K * K + t]);
    const V bv = X::set1(j.bias[c]);
    float *yp = j.y + (n * j.c + c) * OH * OW;
    double sum = 0.0;
    for (int64_t oh = 0; oh < OH; ++oh) {
        const int64_t ih0 = oh * S - j.pt;
        const int64_t khlo = DW_MAX((int64_t)0, -ih0), khhi = DW_MIN((int64_t)K, H - ih0);
        V rs = X::zero();
        float *yrow = yp + oh * OW;
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

// The ops table of one ISA: dispatch on (k, stride) to the template instances.
template <class X>
void dw_nhwc_dispatch(const DwFwdJob &j, int64_t n, int64_t c0, int32_t cb) {
#define DW_CASE(K)                                                                                                 \
    case K:                                                                                                        \
        if (j.s == 1)                                                                                              \
            dw_nhwc_item<X, K, 1>(j, n, c0, cb);                                                                   \
        else                                                                                                       \
            dw_nhwc_item<X, K, 2>(j, n, c0, cb);                                                                   \
        break;
    switch (j.k) {
        DW_CASE(1)
        DW_CASE(3)
        DW_CASE(5)
        DW_CASE(7)
    default: break;
    }
#undef DW_CASE
}

template <class X>
void dw_nchw_dispatch(const DwFwdJob &j, int64_t n, int64_t c, float *buf) {
#define DW_CASE(K)                                                                                                 \
    case K:                                                                                                        \
        if (j.s == 1)                                                                                              \
            dw_nchw_item<X, K, 1>(j, n, c, buf);                                                                   \
        else                                                                                                       \
            dw_nchw_item<X, K, 2>(j, n, c, buf);                                                                   \
        break;
    switch (j.k) {
        DW_CASE(1)
        DW_CASE(3)
        DW_CASE(5)
        DW_CASE(7)
    default: break;
    }
#undef DW_CASE
}

#endif

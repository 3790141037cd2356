// The NHWC weight- and bias-gradient kernel of the depthwise convolution, written once over the vector abstraction
// X of depthwise_fwd.h (include it after that header, inside the same unnamed namespace) and instantiated per ISA.
//
// An item is (image n, a band of output rows), all channels, like the forward: the input rows an output row reads are
// packed into the same zero-bordered ring (dw_nhwc_pack), so that every tap is a load at a constant offset. Per
// output row, 16-channel group and kernel row kh, K vector accumulators (one per kw) sum dy(ow) * x(ow * S + kw) over
// the row in float32; each row's sums are then added into the item's double partial sums, which the driver adds up
// over items in a fixed order (deterministic for any thread count). db is the sum of dy, taken in the same pass.
#ifndef FIXRES4J_KERNELS_CPU_DEPTHWISE_DW_H
#define FIXRES4J_KERNELS_CPU_DEPTHWISE_DW_H

// One output row oh of image n, group g: adds into dwp ([K * K][cpad] doubles) and, when dbp is not null, dbp
// ([cpad]). dyrow: dy of this output row (OW pixels, C apart).
template <class X, int K, int S>
DW_INLINE void dw_grad_group(const DwFwdJob &j, const float *const *rows, const float *dyrow, int64_t g, double *dwp,
                             double *dbp) {
    typedef typename X::V V;
    constexpr int L = X::L, NV = 16 / X::L;
    const int64_t C = j.c, OW = j.ow, span = dw_nhwc_span(j), c0 = g * 16, cpad = j.cpad;
    const int r = (int)DW_MIN((int64_t)16, C - c0);
#pragma GCC unroll 2
    for (int h = 0; h < NV; ++h) {
        const int lanes = r - h * L;
        if (lanes <= 0) break;
        const bool full = lanes >= L;
        const typename X::M m = X::mask(full ? L : lanes);
        const float *dp = dyrow + c0 + h * L;
        float tmp[L];
        if (dbp != nullptr) {
            V s = X::zero();
            for (int64_t ow = 0; ow < OW; ++ow) s = X::add(s, full ? X::load(dp + ow * C) : X::loadm(dp + ow * C, m));
            X::to_array(tmp, s);
            for (int l = 0; l < (full ? L : lanes); ++l) dbp[c0 + h * L + l] += (double)tmp[l];
        }
#pragma GCC unroll 1
        for (int kh = 0; kh < K; ++kh) {
            const float *xr = rows[kh] + g * span * 16 + h * L;
            V acc[K];
#pragma GCC unroll 7
            for (int kw = 0; kw < K; ++kw) acc[kw] = X::zero();
            for (int64_t ow = 0; ow < OW; ++ow) {
                const V d = full ? X::load(dp + ow * C) : X::loadm(dp + ow * C, m);
                const float *xp = xr + ow * S * 16;
#pragma GCC unroll 7
                for (int kw = 0; kw < K; ++kw) acc[kw] = X::fma(d, X::load(xp + kw * 16), acc[kw]);
            }
#pragma GCC unroll 7
            for (int kw = 0; kw < K; ++kw) {
                X::to_array(tmp, acc[kw]);
                double *dst = dwp + (kh * K + kw) * cpad + c0 + h * L;
                for (int l = 0; l < (full ? L : lanes); ++l) dst[l] += (double)tmp[l];
            }
        }
    }
}

// Output rows [oh0, oh1) of image n, all channels (scratch: dw_nhwc_scratch(j) floats, 32-byte aligned).
template <class X, int K, int S>
void dw_grad_rows_t(const DwFwdJob &j, const float *dy, int64_t n, int64_t oh0, int64_t oh1, double *dwp, double *dbp,
                    float *scratch) {
    const int64_t C = j.c, OW = j.ow, G = dw_nhwc_groups(j);
    DwRing<X, K, S> ring(j, n, scratch);
    for (int64_t oh = oh0; oh < oh1; ++oh) {
        const float *rows[K];
        ring.get(oh, rows);
        const float *dyrow = dy + (n * j.oh + oh) * OW * C;
        for (int64_t g = 0; g < G; ++g) dw_grad_group<X, K, S>(j, rows, dyrow, g, dwp, dbp);
    }
}

template <class X>
void dw_grad_dispatch(const DwFwdJob &j, const float *dy, int64_t n, int64_t oh0, int64_t oh1, double *dwp, double *dbp,
                      float *scratch) {
    dw_with_ks(j.k, j.s, [&](auto k, auto s) {
        dw_grad_rows_t<X, decltype(k)::value, decltype(s)::value>(j, dy, n, oh0, oh1, dwp, dbp, scratch);
    });
}

// NCHW weight and bias gradients of channel c over all images: the sums are added into dwc[k * k] and *dbc (each may
// be null; x is not read without dwc). Per output row and tap, a vector of L partial sums runs along the row (S = 1: contiguous loads;
// S = 2: every other column through load_even, only while one more column of the row exists, since load_even reads
// 2L floats), the rest of the row in scalar; each row's float sum is added in double, rows in order.
template <class X, int K, int S>
void dw_grad_nchw_t(const DwFwdJob &j, const float *dy, int64_t c, double *dwc, double *dbc) {
    typedef typename X::V V;
    constexpr int L = X::L;
    const int64_t H = j.h, W = j.w, OH = j.oh, OW = j.ow;
    int64_t lo[K], hi[K]; // output columns whose tap kw lies inside the row: [lo[kw], hi[kw])
    for (int kw = 0; kw < K; ++kw) {
        const int64_t a = (int64_t)j.pl - kw; // ow * S >= a
        lo[kw] = a <= 0 ? 0 : (a + S - 1) / S;
        const int64_t b = W - 1 + j.pl - kw; // ow * S <= b
        hi[kw] = b < 0 ? 0 : DW_MIN(OW, b / S + 1);
        if (lo[kw] > hi[kw]) lo[kw] = hi[kw];
    }
    float tmp[L];
    for (int64_t n = 0; n < j.n; ++n) {
        const float *xp = j.x + (n * j.c + c) * H * W;
        const float *gp = dy + (n * j.c + c) * OH * OW;
        for (int64_t oh = 0; oh < OH; ++oh) {
            const float *g = gp + oh * OW;
            if (dbc != nullptr) {
                float rs = 0.0f;
                for (int64_t ow = 0; ow < OW; ++ow) rs += g[ow];
                *dbc += (double)rs;
            }
            if (dwc == nullptr) continue;
            const int64_t ih0 = oh * S - j.pt;
            const int64_t khlo = DW_MAX((int64_t)0, -ih0), khhi = DW_MIN((int64_t)K, H - ih0);
            for (int64_t kh = khlo; kh < khhi; ++kh) {
                const int64_t base = (ih0 + kh) * W - j.pl; // x index of column 0 of tap kw = 0, before adding ow * S
                for (int kw = 0; kw < K; ++kw) {
                    V acc = X::zero();
                    int64_t ow = lo[kw];
                    if (S == 1) {
                        for (; ow + L <= hi[kw]; ow += L)
                            acc = X::fma(X::load(g + ow), X::load(xp + (base + ow + kw)), acc);
                    } else {
                        for (; ow + L < hi[kw]; ow += L)
                            acc = X::fma(X::load(g + ow), X::load_even(xp + (base + ow * S + kw)), acc);
                    }
                    X::to_array(tmp, acc);
                    float sum = 0.0f;
                    for (int l = 0; l < L; ++l) sum += tmp[l];
                    for (; ow < hi[kw]; ++ow) sum += g[ow] * xp[base + ow * S + kw];
                    dwc[kh * K + kw] += (double)sum;
                }
            }
        }
    }
}

template <class X>
void dw_grad_nchw_dispatch(const DwFwdJob &j, const float *dy, int64_t c, double *dwc, double *dbc) {
    dw_with_ks(j.k, j.s, [&](auto k, auto s) {
        dw_grad_nchw_t<X, decltype(k)::value, decltype(s)::value>(j, dy, c, dwc, dbc);
    });
}

#endif

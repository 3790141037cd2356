// Shared by the depthwise tests and benchmark: the EfficientNet B0..B7 depthwise layers, TF 'same' padding, and
// a straightforward double-precision reference of the forward and backward passes (independent of the library).
#ifndef FIXRES4J_TESTS_NATIVE_DEPTHWISE_REF_H
#define FIXRES4J_TESTS_NATIVE_DEPTHWISE_REF_H

#include "fixres4j/kernels.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace fxdw {

struct Layer {
    int variant; // 0..7
    int64_t c, h, w;
    int k, stride;
};

// timm's round_channels (divisor 8) and the EfficientNet B0 block table scaled by (width, depth, resolution).
inline int64_t round_ch(double c) {
    int64_t v = (int64_t)(c + 4.0) / 8 * 8;
    if (v < 8) v = 8;
    if ((double)v < 0.9 * c) v += 8;
    return v;
}

// Every depthwise layer of EfficientNet-B<v> at its native resolution (one entry per block, repeats included).
inline std::vector<Layer> efficientnet_layers(int v) {
    static const double wm[8] = {1.0, 1.0, 1.1, 1.2, 1.4, 1.6, 1.8, 2.0};
    static const double dm[8] = {1.0, 1.1, 1.2, 1.4, 1.8, 2.2, 2.6, 3.1};
    static const int res[8] = {224, 240, 260, 300, 380, 456, 528, 600};
    // k, stride, expand, out channels, repeats
    static const int stages[7][5] = {{3, 1, 1, 16, 1}, {3, 2, 6, 24, 2}, {5, 2, 6, 40, 2}, {3, 2, 6, 80, 3},
                                     {5, 1, 6, 112, 3}, {5, 2, 6, 192, 4}, {3, 1, 6, 320, 1}};
    std::vector<Layer> out;
    int64_t in = round_ch(32 * wm[v]);
    int64_t hw = (res[v] + 1) / 2; // stem: stride 2, TF same
    for (auto &s : stages) {
        const int reps = (int)std::ceil(s[4] * dm[v]);
        const int64_t oc = round_ch(s[3] * wm[v]);
        for (int r = 0; r < reps; ++r) {
            const int stride = r == 0 ? s[1] : 1;
            out.push_back(Layer{v, in * s[2], hw, hw, s[0], stride});
            if (stride == 2) hw = (hw + 1) / 2;
            in = oc;
        }
    }
    return out;
}

// TF 'same' padding of one axis.
inline void tf_same(int64_t size, int k, int stride, int32_t *lo, int32_t *hi) {
    const int64_t out = (size + stride - 1) / stride;
    int64_t total = (out - 1) * stride + k - size;
    if (total < 0) total = 0;
    *lo = (int32_t)(total / 2);
    *hi = (int32_t)(total - total / 2);
}

inline fx_depthwise_shape make_shape(int64_t n, int64_t c, int64_t h, int64_t w, int k, int stride, bool tf_pad,
                                     int32_t layout) {
    fx_depthwise_shape s{};
    s.n = n;
    s.c = c;
    s.h = h;
    s.w = w;
    s.k = k;
    s.stride = stride;
    if (tf_pad) {
        tf_same(h, k, stride, &s.pad_top, &s.pad_bottom);
        tf_same(w, k, stride, &s.pad_left, &s.pad_right);
    } else {
        s.pad_top = s.pad_bottom = s.pad_left = s.pad_right = k / 2;
    }
    s.layout = layout;
    fx_depthwise_shape_derive(&s);
    return s;
}

inline std::string shape_str(const fx_depthwise_shape &s) {
    char buf[256];
    std::snprintf(buf, sizeof buf, "n%lld c%lld %lldx%lld k%d s%d pad(t%d l%d b%d r%d) %s -> %dx%d", (long long)s.n,
                  (long long)s.c, (long long)s.h, (long long)s.w, s.k, s.stride, s.pad_top, s.pad_left, s.pad_bottom,
                  s.pad_right, s.layout == FX_LAYOUT_NHWC ? "NHWC" : "NCHW", s.out_h, s.out_w);
    return buf;
}

// Index of element (n, c, i, j) of a tensor [n, c, H, W] in the given layout.
inline int64_t idx(const fx_depthwise_shape &s, int64_t n, int64_t c, int64_t i, int64_t j, int64_t H, int64_t W) {
    return s.layout == FX_LAYOUT_NHWC ? ((n * H + i) * W + j) * s.c + c : ((n * s.c + c) * H + i) * W + j;
}

// Reference forward in double: pre-activation, y = act(pre), the spatial sums of y, and the scale of each output
// (sum of |terms| + |bias|) for the error bound.
inline void ref_forward(const fx_depthwise_shape &s, const float *x, const float *w, const float *b, int act,
                        std::vector<double> *y, std::vector<double> *mag, std::vector<double> *sums) {
    const int64_t OH = s.out_h, OW = s.out_w;
    y->assign((size_t)(s.n * s.c * OH * OW), 0.0);
    mag->assign(y->size(), 0.0);
    sums->assign((size_t)(s.n * s.c), 0.0);
    for (int64_t n = 0; n < s.n; ++n)
        for (int64_t c = 0; c < s.c; ++c)
            for (int64_t i = 0; i < OH; ++i)
                for (int64_t j = 0; j < OW; ++j) {
                    double acc = b ? (double)b[c] : 0.0, m = b ? std::fabs((double)b[c]) : 0.0;
                    for (int kh = 0; kh < s.k; ++kh)
                        for (int kw = 0; kw < s.k; ++kw) {
                            const int64_t ih = i * s.stride - s.pad_top + kh, iw = j * s.stride - s.pad_left + kw;
                            if (ih < 0 || ih >= s.h || iw < 0 || iw >= s.w) continue;
                            const double t = (double)w[(c * s.k + kh) * s.k + kw] * (double)x[idx(s, n, c, ih, iw, s.h, s.w)];
                            acc += t;
                            m += std::fabs(t);
                        }
                    double v = acc;
                    if (act == FX_ACT_SILU) {
                        v = acc / (1.0 + std::exp(-acc));
                        m = m; // silu'(.) <= 1.1: the same scale bounds the activated error
                    }
                    const int64_t o = idx(s, n, c, i, j, OH, OW);
                    (*y)[(size_t)o] = v;
                    (*mag)[(size_t)o] = m;
                    (*sums)[(size_t)(n * s.c + c)] += v;
                }
}

// Reference backward in double (dy is the gradient of the pre-activation output).
inline void ref_backward(const fx_depthwise_shape &s, const float *x, const float *w, const float *dy,
                         std::vector<double> *dx, std::vector<double> *dw, std::vector<double> *db) {
    const int64_t OH = s.out_h, OW = s.out_w;
    dx->assign((size_t)(s.n * s.c * s.h * s.w), 0.0);
    dw->assign((size_t)(s.c * s.k * s.k), 0.0);
    db->assign((size_t)s.c, 0.0);
    for (int64_t n = 0; n < s.n; ++n)
        for (int64_t c = 0; c < s.c; ++c)
            for (int64_t i = 0; i < OH; ++i)
                for (int64_t j = 0; j < OW; ++j) {
                    const double g = dy[idx(s, n, c, i, j, OH, OW)];
                    (*db)[(size_t)c] += g;
                    for (int kh = 0; kh < s.k; ++kh)
                        for (int kw = 0; kw < s.k; ++kw) {
                            const int64_t ih = i * s.stride - s.pad_top + kh, iw = j * s.stride - s.pad_left + kw;
                            if (ih < 0 || ih >= s.h || iw < 0 || iw >= s.w) continue;
                            const int64_t xi = idx(s, n, c, ih, iw, s.h, s.w);
                            (*dx)[(size_t)xi] += g * (double)w[(c * s.k + kh) * s.k + kw];
                            (*dw)[(size_t)((c * s.k + kh) * s.k + kw)] += g * (double)x[xi];
                        }
                }
}

} // namespace fxdw

#endif

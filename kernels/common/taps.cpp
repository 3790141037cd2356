// Pillow 9.4 resampling coefficients, one axis at a time.
//
// Bilinear / bicubic follow libImaging/Resample.c: precompute_coeffs (double-precision weights, normalised by
// their sum) and normalize_coeffs_8bpc (fixed point with PRECISION_BITS = 22, rounded half away from zero).
// Nearest follows _imaging.c _resize -> libImaging/Geometry.c ImagingScaleAffine: the input coordinate is an
// accumulated double (xo += a), truncated (COORD: -1 when negative); an input outside the image gives 0.
//
// This file must be compiled with -ffp-contract=off: a fused multiply-add would change the double results.
#include "internal.h"

#include <cmath>
#include <new>

namespace fx {

namespace {

double bilinear_filter(double x) {
    if (x < 0.0) x = -x;
    if (x < 1.0) return 1.0 - x;
    return 0.0;
}

double bicubic_filter(double x) {
    // a = -0.5, written in Pillow's evaluation order.
    const double a = -0.5;
    if (x < 0.0) x = -x;
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
}

// Limit on count * ksize (coefficients held at once): 2^28 int32 = 1 GiB.
constexpr int64_t kMaxCoefficients = int64_t(1) << 28;

fx_status taps_nearest(int32_t in_size, float in0, float in1, int32_t out_size, int32_t start, int32_t count,
                       AxisTaps *taps) {
    taps->ksize = 1;
    taps->first.assign((size_t)count, 0);
    taps->n.assign((size_t)count, 0);
    taps->coeffs.assign((size_t)count, 0);
    // ImagingScaleAffine: a = (double)(box1 - box0) / size (float subtraction), xo = box0 + a * 0.5, then for
    // x = 0, 1, ...: xin = COORD(xo); xo += a. The accumulation starts at output pixel 0.
    const double a = (double)(in1 - in0) / out_size;
    double xo = (double)in0 + a * 0.5;
    const int64_t end = (int64_t)start + count; // exclusive, in resized coordinates
    const int64_t stop = end < (int64_t)out_size ? end : (int64_t)out_size;
    for (int64_t x = 0; x < stop; ++x) {
        if (x >= start) {
            const int xin = xo < 0.0 ? -1 : (int)xo;
            const size_t i = (size_t)(x - start);
            if (xin >= 0 && xin < in_size) {
                taps->first[i] = xin;
                taps->n[i] = 1;
                taps->coeffs[i] = 1 << kPrecisionBits;
            }
        }
        xo += a;
    }
    return FX_OK;
}

template <double (*fn)(double)>
fx_status taps_filter(double fsupport, int32_t in_size, float in0, float in1, int32_t out_size, int32_t start,
                      int32_t count, AxisTaps *taps) {
    double scale = (double)(in1 - in0) / out_size; // float subtraction, as Pillow's float box
    double filterscale = scale;
    if (filterscale < 1.0) filterscale = 1.0;
    const double support = fsupport * filterscale;
    const double ksize_d = std::ceil(support) * 2 + 1;
    if (!(ksize_d <= (double)(1 << 30)))
        return fail(FX_ERR_OUT_OF_MEMORY, "resampling kernel too large (support %g)", support);
    const int ksize = (int)std::ceil(support) * 2 + 1;
    if ((int64_t)count * ksize > kMaxCoefficients)
        return fail(FX_ERR_OUT_OF_MEMORY, "resampling needs %lld coefficients (count %d x ksize %d): too many",
                    (long long)count * ksize, (int)count, ksize);

    taps->ksize = ksize;
    taps->first.assign((size_t)count, 0);
    taps->n.assign((size_t)count, 0);
    taps->coeffs.assign((size_t)count * (size_t)ksize, 0);

    double stack_k[64];
    std::vector<double> heap_k;
    double *k = stack_k;
    if (ksize > 64) {
        heap_k.resize((size_t)ksize);
        k = heap_k.data();
    }
    const double ss = 1.0 / filterscale;
    for (int32_t i = 0; i < count; ++i) {
        const int64_t xx64 = (int64_t)start + i;
        if (xx64 < 0 || xx64 >= out_size) continue; // padding: n = 0
        const int xx = (int)xx64;
        const double center = in0 + (xx + 0.5) * scale;
        double ww = 0.0;
        int xmin = (int)(center - support + 0.5);
        if (xmin < 0) xmin = 0;
        int xmax = (int)(center + support + 0.5);
        if (xmax > in_size) xmax = in_size;
        xmax -= xmin;
        if (xmax > ksize) xmax = ksize; // cannot happen (xmax <= 2 * support + 1); keeps the buffer safe
        for (int x = 0; x < xmax; ++x) {
            const double w = fn((x + xmin - center + 0.5) * ss);
            k[x] = w;
            ww += w;
        }
        for (int x = 0; x < xmax; ++x) {
            if (ww != 0.0) k[x] /= ww;
        }
        int32_t *c = &taps->coeffs[(size_t)i * (size_t)ksize];
        for (int x = 0; x < xmax; ++x) {
            const double w = k[x];
            if (w < 0)
                c[x] = (int)(-0.5 + w * (1 << kPrecisionBits));
            else
                c[x] = (int)(0.5 + w * (1 << kPrecisionBits));
        }
        taps->first[(size_t)i] = xmax > 0 ? xmin : 0;
        taps->n[(size_t)i] = xmax > 0 ? xmax : 0;
    }
    return FX_OK;
}

} // namespace

fx_status axis_taps(int32_t filter, int32_t in_size, double box0, double box1, int32_t out_size, int32_t start,
                    int32_t count, AxisTaps *taps) {
    if (taps == nullptr) return fail(FX_ERR_INVALID_ARGUMENT, "axis_taps: taps is null");
    if (in_size < 1) return fail(FX_ERR_INVALID_ARGUMENT, "axis_taps: in_size must be >= 1 (got %d)", (int)in_size);
    if (out_size < 1)
        return fail(FX_ERR_INVALID_ARGUMENT, "axis_taps: out_size must be >= 1 (got %d)", (int)out_size);
    if (count < 0) return fail(FX_ERR_INVALID_ARGUMENT, "axis_taps: count must be >= 0 (got %d)", (int)count);
    if (!std::isfinite(box0) || !std::isfinite(box1))
        return fail(FX_ERR_INVALID_ARGUMENT, "axis_taps: box must be finite (got %g, %g)", box0, box1);
    const float in0 = (float)box0, in1 = (float)box1;
    if (!(in0 >= 0.0f) || !(in0 < in1) || !(in1 <= (float)in_size))
        return fail(FX_ERR_INVALID_ARGUMENT, "axis_taps: box [%.17g, %.17g) must lie in [0, %d] and be non-empty",
                    box0, box1, (int)in_size);
    try {
        switch (filter) {
        case FX_FILTER_NEAREST: return taps_nearest(in_size, in0, in1, out_size, start, count, taps);
        case FX_FILTER_BILINEAR:
            return taps_filter<bilinear_filter>(1.0, in_size, in0, in1, out_size, start, count, taps);
        case FX_FILTER_BICUBIC:
            return taps_filter<bicubic_filter>(2.0, in_size, in0, in1, out_size, start, count, taps);
        default: return fail(FX_ERR_INVALID_ARGUMENT, "axis_taps: unknown filter %d", (int)filter);
        }
    } catch (const std::bad_alloc &) {
        return fail(FX_ERR_OUT_OF_MEMORY, "axis_taps: out of memory (count %d)", (int)count);
    }
}

} // namespace fx

// Validation of fx_depthwise_shape (CPU and CUDA entry points) and fx_depthwise_shape_derive.
#include "depthwise_internal.h"

namespace fx {

namespace {

constexpr int64_t kMaxSide = int64_t(1) << 30;  // h, w
constexpr int64_t kMaxBytes = INT64_MAX / 8;    // every tensor's byte count stays far from overflow

// a * b * c * d without overflow, each >= 0; false if the product exceeds kMaxBytes / 4 elements.
bool product(int64_t a, int64_t b, int64_t c, int64_t d, int64_t *out) {
    int64_t p;
    if (__builtin_mul_overflow(a, b, &p) || __builtin_mul_overflow(p, c, &p) || __builtin_mul_overflow(p, d, &p))
        return false;
    if (p > kMaxBytes / 4) return false;
    *out = p;
    return true;
}

fx_status check_fields(const char *fn, const fx_depthwise_shape *s, int64_t *oh, int64_t *ow) {
    if (s == nullptr) return fail(FX_ERR_INVALID_ARGUMENT, "%s: shape is null", fn);
    if (s->n < 1 || s->c < 1)
        return fail(FX_ERR_INVALID_ARGUMENT, "%s: shape.n and shape.c must be >= 1 (got n %lld, c %lld)", fn,
                    (long long)s->n, (long long)s->c);
    if (s->h < 1 || s->h > kMaxSide || s->w < 1 || s->w > kMaxSide)
        return fail(FX_ERR_INVALID_ARGUMENT, "%s: shape.h and shape.w must be in [1, %lld] (got h %lld, w %lld)", fn,
                    (long long)kMaxSide, (long long)s->h, (long long)s->w);
    if (s->k < 1 || s->k > 7 || s->k % 2 == 0)
        return fail(FX_ERR_INVALID_ARGUMENT, "%s: shape.k must be 1, 3, 5 or 7 (got %d)", fn, (int)s->k);
    if (s->stride != 1 && s->stride != 2)
        return fail(FX_ERR_INVALID_ARGUMENT, "%s: shape.stride must be 1 or 2 (got %d)", fn, (int)s->stride);
    const int32_t pads[4] = {s->pad_top, s->pad_left, s->pad_bottom, s->pad_right};
    const char *names[4] = {"pad_top", "pad_left", "pad_bottom", "pad_right"};
    for (int i = 0; i < 4; ++i)
        if (pads[i] < 0 || pads[i] > s->k - 1)
            return fail(FX_ERR_INVALID_ARGUMENT, "%s: shape.%s must be in [0, k - 1 = %d] (got %d)", fn, names[i],
                        (int)s->k - 1, (int)pads[i]);
    if (s->layout != FX_LAYOUT_NCHW && s->layout != FX_LAYOUT_NHWC)
        return fail(FX_ERR_INVALID_ARGUMENT, "%s: shape.layout must be FX_LAYOUT_NCHW (0) or FX_LAYOUT_NHWC (1) (got %d)",
                    fn, (int)s->layout);
    const int64_t eh = s->h + s->pad_top + s->pad_bottom - s->k;
    const int64_t ew = s->w + s->pad_left + s->pad_right - s->k;
    if (eh < 0 || ew < 0)
        return fail(FX_ERR_INVALID_ARGUMENT,
                    "%s: the padded input (%lld x %lld) is smaller than the kernel (k %d)", fn,
                    (long long)(s->h + s->pad_top + s->pad_bottom), (long long)(s->w + s->pad_left + s->pad_right),
                    (int)s->k);
    *oh = eh / s->stride + 1;
    *ow = ew / s->stride + 1;
    int64_t dummy;
    if (!product(s->n, s->c, s->h, s->w, &dummy) || !product(s->n, s->c, *oh, *ow, &dummy))
        return fail(FX_ERR_INVALID_ARGUMENT, "%s: the element count of x or y overflows (n %lld, c %lld, h %lld, w %lld)",
                    fn, (long long)s->n, (long long)s->c, (long long)s->h, (long long)s->w);
    return FX_OK;
}

} // namespace

fx_status dw_validate_shape(const char *fn, const fx_depthwise_shape *s, DwCounts *counts) {
    int64_t oh = 0, ow = 0;
    const fx_status st = check_fields(fn, s, &oh, &ow);
    if (st != FX_OK) return st;
    if (s->out_h != oh || s->out_w != ow)
        return fail(FX_ERR_INVALID_ARGUMENT,
                    "%s: shape.out_h/out_w must be %lld x %lld for this shape (got %d x %d; see fx_depthwise_shape_derive)",
                    fn, (long long)oh, (long long)ow, (int)s->out_h, (int)s->out_w);
    counts->x = s->n * s->c * s->h * s->w;
    counts->y = s->n * s->c * oh * ow;
    counts->w = s->c * s->k * s->k;
    counts->nc = s->n * s->c;
    return FX_OK;
}

bool dw_overlap(const void *a, int64_t an, const void *b, int64_t bn) {
    if (a == nullptr || b == nullptr || an <= 0 || bn <= 0) return false;
    const uintptr_t pa = (uintptr_t)a, pb = (uintptr_t)b;
    return pa < pb + (uintptr_t)bn && pb < pa + (uintptr_t)an;
}

} // namespace fx

extern "C" FX_API fx_status fx_depthwise_shape_derive(fx_depthwise_shape *shape) {
    int64_t oh = 0, ow = 0;
    const fx_status st = fx::check_fields("fx_depthwise_shape_derive", shape, &oh, &ow);
    if (st != FX_OK) return st;
    if (oh > INT32_MAX || ow > INT32_MAX)
        return fx::fail(FX_ERR_INVALID_ARGUMENT, "fx_depthwise_shape_derive: the output is too large");
    shape->out_h = (int32_t)oh;
    shape->out_w = (int32_t)ow;
    return fx::ok();
}

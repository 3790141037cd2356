// Argument validation shared by every entry point (CPU and CUDA). Nothing here touches image or output memory.
#include "internal.h"

#include <cmath>
#include <cstdint>

namespace fx {

namespace {

constexpr int32_t kMaxSide = 1 << 16;          // resize_*, out_*
constexpr int32_t kMaxCrop = 1 << 16;          // |crop_x|, |crop_y|
constexpr int32_t kMaxImageSide = 0x1FFFFFFF;  // width, height: width * channels fits in int32

bool finite(double v) { return std::isfinite(v); }

} // namespace

int32_t dtype_size(int32_t dtype) {
    switch (dtype) {
    case FX_DTYPE_FLOAT32: return 4;
    case FX_DTYPE_FLOAT16: return 2;
    case FX_DTYPE_BFLOAT16: return 2;
    case FX_DTYPE_UINT8: return 1;
    default: return 0;
    }
}

fx_status validate_image(const fx_image *image) {
    if (image == nullptr) return fail(FX_ERR_INVALID_ARGUMENT, "image is null");
    if (image->data == nullptr) return fail(FX_ERR_INVALID_ARGUMENT, "image.data is null");
    if (image->width < 1 || image->width > kMaxImageSide)
        return fail(FX_ERR_INVALID_ARGUMENT, "image.width must be in [1, %d] (got %d)", kMaxImageSide,
                    (int)image->width);
    if (image->height < 1 || image->height > kMaxImageSide)
        return fail(FX_ERR_INVALID_ARGUMENT, "image.height must be in [1, %d] (got %d)", kMaxImageSide,
                    (int)image->height);
    if (image->channels != 1 && image->channels != 3 && image->channels != 4)
        return fail(FX_ERR_INVALID_ARGUMENT, "image.channels must be 1, 3 or 4 (got %d)", (int)image->channels);
    if (image->order != FX_ORDER_RGB && image->order != FX_ORDER_BGR)
        return fail(FX_ERR_INVALID_ARGUMENT, "image.order must be FX_ORDER_RGB (0) or FX_ORDER_BGR (1) (got %d)",
                    (int)image->order);
    const int64_t row_bytes = (int64_t)image->width * image->channels;
    if (image->row_stride < row_bytes)
        return fail(FX_ERR_INVALID_ARGUMENT,
                    "image.row_stride must be >= width * channels = %lld (got %lld)", (long long)row_bytes,
                    (long long)image->row_stride);
    int64_t total = 0;
    if (__builtin_mul_overflow((int64_t)image->height, image->row_stride, &total) || total > (int64_t)PTRDIFF_MAX)
        return fail(FX_ERR_INVALID_ARGUMENT, "image.height * image.row_stride overflows (height %d, row_stride %lld)",
                    (int)image->height, (long long)image->row_stride);
    uintptr_t end = 0;
    if (__builtin_add_overflow((uintptr_t)image->data, (uintptr_t)total, &end))
        return fail(FX_ERR_INVALID_ARGUMENT, "image.data + height * row_stride overflows the address space");
    return FX_OK;
}

fx_status validate_plan(const fx_image *image, const fx_resample_plan *plan) {
    if (plan == nullptr) return fail(FX_ERR_INVALID_ARGUMENT, "plan is null");
    if (image == nullptr) return fail(FX_ERR_INVALID_ARGUMENT, "image is null");
    const fx_resample_plan &p = *plan;
    if (p.roi_x < 0 || p.roi_x >= image->width)
        return fail(FX_ERR_INVALID_ARGUMENT, "plan.roi_x must be in [0, image.width = %d) (got %d)", (int)image->width,
                    (int)p.roi_x);
    if (p.roi_y < 0 || p.roi_y >= image->height)
        return fail(FX_ERR_INVALID_ARGUMENT, "plan.roi_y must be in [0, image.height = %d) (got %d)",
                    (int)image->height, (int)p.roi_y);
    if (p.roi_w < 1 || (int64_t)p.roi_x + p.roi_w > image->width)
        return fail(FX_ERR_INVALID_ARGUMENT, "plan.roi_w must be in [1, image.width - roi_x = %lld] (got %d)",
                    (long long)image->width - p.roi_x, (int)p.roi_w);
    if (p.roi_h < 1 || (int64_t)p.roi_y + p.roi_h > image->height)
        return fail(FX_ERR_INVALID_ARGUMENT, "plan.roi_h must be in [1, image.height - roi_y = %lld] (got %d)",
                    (long long)image->height - p.roi_y, (int)p.roi_h);

    const double box[4] = {p.box_x0, p.box_y0, p.box_x1, p.box_y1};
    static const char *const names[4] = {"box_x0", "box_y0", "box_x1", "box_y1"};
    for (int i = 0; i < 4; ++i)
        if (!finite(box[i])) return fail(FX_ERR_INVALID_ARGUMENT, "plan.%s must be finite (got %g)", names[i], box[i]);
    for (int axis = 0; axis < 2; ++axis) {
        const double b0 = box[axis], b1 = box[axis + 2];
        const int32_t size = axis == 0 ? p.roi_w : p.roi_h;
        const char *n0 = names[axis], *n1 = names[axis + 2];
        const char *sz = axis == 0 ? "roi_w" : "roi_h";
        if (b0 < 0.0) return fail(FX_ERR_INVALID_ARGUMENT, "plan.%s must be >= 0 (got %.17g)", n0, b0);
        if (b1 > (double)size)
            return fail(FX_ERR_INVALID_ARGUMENT, "plan.%s must be <= plan.%s = %d (got %.17g)", n1, sz, (int)size, b1);
        // Pillow rounds the box to float32: the box must stay non-empty after that rounding.
        if (!(b0 < b1) || !((float)b0 < (float)b1))
            return fail(FX_ERR_INVALID_ARGUMENT, "plan.%s must be < plan.%s, also in float32 (got %.17g and %.17g)",
                        n0, n1, b0, b1);
    }

    if (p.resize_w < 1 || p.resize_w > kMaxSide)
        return fail(FX_ERR_INVALID_ARGUMENT, "plan.resize_w must be in [1, %d] (got %d)", kMaxSide, (int)p.resize_w);
    if (p.resize_h < 1 || p.resize_h > kMaxSide)
        return fail(FX_ERR_INVALID_ARGUMENT, "plan.resize_h must be in [1, %d] (got %d)", kMaxSide, (int)p.resize_h);
    if (p.crop_x < -kMaxCrop || p.crop_x > kMaxCrop)
        return fail(FX_ERR_INVALID_ARGUMENT, "plan.crop_x must be in [%d, %d] (got %d)", -kMaxCrop, kMaxCrop,
                    (int)p.crop_x);
    if (p.crop_y < -kMaxCrop || p.crop_y > kMaxCrop)
        return fail(FX_ERR_INVALID_ARGUMENT, "plan.crop_y must be in [%d, %d] (got %d)", -kMaxCrop, kMaxCrop,
                    (int)p.crop_y);
    if (p.out_w < 1 || p.out_w > kMaxSide)
        return fail(FX_ERR_INVALID_ARGUMENT, "plan.out_w must be in [1, %d] (got %d)", kMaxSide, (int)p.out_w);
    if (p.out_h < 1 || p.out_h > kMaxSide)
        return fail(FX_ERR_INVALID_ARGUMENT, "plan.out_h must be in [1, %d] (got %d)", kMaxSide, (int)p.out_h);
    if (p.filter != FX_FILTER_NEAREST && p.filter != FX_FILTER_BILINEAR && p.filter != FX_FILTER_BICUBIC)
        return fail(FX_ERR_INVALID_ARGUMENT, "plan.filter must be FX_FILTER_NEAREST, _BILINEAR or _BICUBIC (got %d)",
                    (int)p.filter);
    if (p.flip_x != 0 && p.flip_x != 1)
        return fail(FX_ERR_INVALID_ARGUMENT, "plan.flip_x must be 0 or 1 (got %d)", (int)p.flip_x);
    return FX_OK;
}

fx_status validate_output(const fx_output *out) {
    if (out == nullptr) return fail(FX_ERR_INVALID_ARGUMENT, "out is null");
    if (out->data == nullptr) return fail(FX_ERR_INVALID_ARGUMENT, "out.data is null");
    if (out->batch < 1) return fail(FX_ERR_INVALID_ARGUMENT, "out.batch must be >= 1 (got %lld)", (long long)out->batch);
    if (out->layout != FX_LAYOUT_NCHW && out->layout != FX_LAYOUT_NHWC)
        return fail(FX_ERR_INVALID_ARGUMENT, "out.layout must be FX_LAYOUT_NCHW (0) or FX_LAYOUT_NHWC (1) (got %d)",
                    (int)out->layout);
    const int32_t esize = dtype_size(out->dtype);
    if (esize == 0)
        return fail(FX_ERR_INVALID_ARGUMENT,
                    "out.dtype must be FX_DTYPE_FLOAT32, _FLOAT16, _BFLOAT16 or _UINT8 (got %d)", (int)out->dtype);
    if (out->order != FX_ORDER_RGB && out->order != FX_ORDER_BGR)
        return fail(FX_ERR_INVALID_ARGUMENT, "out.order must be FX_ORDER_RGB (0) or FX_ORDER_BGR (1) (got %d)",
                    (int)out->order);
    if (out->out_w < 1 || out->out_w > kMaxSide)
        return fail(FX_ERR_INVALID_ARGUMENT, "out.out_w must be in [1, %d] (got %d)", kMaxSide, (int)out->out_w);
    if (out->out_h < 1 || out->out_h > kMaxSide)
        return fail(FX_ERR_INVALID_ARGUMENT, "out.out_h must be in [1, %d] (got %d)", kMaxSide, (int)out->out_h);
    if (out->dtype != FX_DTYPE_UINT8) {
        for (int c = 0; c < 3; ++c) {
            if (!std::isfinite(out->mean[c]))
                return fail(FX_ERR_INVALID_ARGUMENT, "out.mean[%d] must be finite (got %g)", c, (double)out->mean[c]);
            if (!std::isfinite(out->std[c]) || out->std[c] == 0.0f)
                return fail(FX_ERR_INVALID_ARGUMENT, "out.std[%d] must be finite and non-zero (got %g)", c,
                            (double)out->std[c]);
        }
    }
    int64_t n = 0;
    if (__builtin_mul_overflow(out->batch, (int64_t)3, &n) || __builtin_mul_overflow(n, (int64_t)out->out_h, &n) ||
        __builtin_mul_overflow(n, (int64_t)out->out_w, &n) || __builtin_mul_overflow(n, (int64_t)esize, &n) ||
        n > (int64_t)PTRDIFF_MAX)
        return fail(FX_ERR_INVALID_ARGUMENT, "out size batch * 3 * out_h * out_w * %d bytes overflows (batch %lld)",
                    (int)esize, (long long)out->batch);
    uintptr_t end = 0;
    if (__builtin_add_overflow((uintptr_t)out->data, (uintptr_t)n, &end))
        return fail(FX_ERR_INVALID_ARGUMENT, "out.data + the tensor size overflows the address space");
    return FX_OK;
}

fx_status validate_job(const fx_image *image, const fx_resample_plan *plan, int64_t index, const fx_output *out) {
    fx_status s = validate_output(out);
    if (s != FX_OK) return s;
    s = validate_image(image);
    if (s != FX_OK) return s;
    s = validate_plan(image, plan);
    if (s != FX_OK) return s;
    if (plan->out_w != out->out_w || plan->out_h != out->out_h)
        return fail(FX_ERR_INVALID_ARGUMENT, "plan.out_w x out_h (%d x %d) must equal out.out_w x out_h (%d x %d)",
                    (int)plan->out_w, (int)plan->out_h, (int)out->out_w, (int)out->out_h);
    if (index < 0 || index >= out->batch)
        return fail(FX_ERR_INVALID_ARGUMENT, "index must be in [0, out.batch = %lld) (got %lld)",
                    (long long)out->batch, (long long)index);
    // The output must not share memory with the image it reads (both spans are known not to overflow above).
    const uintptr_t im0 = (uintptr_t)image->data;
    const uintptr_t im1 = im0 + (uintptr_t)((int64_t)(image->height - 1) * image->row_stride +
                                            (int64_t)image->width * image->channels);
    const uintptr_t out0 = (uintptr_t)out->data;
    const uintptr_t out1 = out0 + (uintptr_t)(out->batch * 3 * (int64_t)out->out_h * out->out_w * dtype_size(out->dtype));
    if (im0 < out1 && out0 < im1)
        return fail(FX_ERR_INVALID_ARGUMENT, "the output memory overlaps the image's pixels");
    return FX_OK;
}

} // namespace fx

// Internal pieces shared by the CPU and CUDA kernels. Not part of the C ABI (kernels/include/fixres4j/kernels.h).
#ifndef FIXRES4J_KERNELS_COMMON_INTERNAL_H
#define FIXRES4J_KERNELS_COMMON_INTERNAL_H

#include "fixres4j/kernels.h"

#include <cstdint>
#include <vector>

// Marks a definition of the C ABI (fx_*) as exported. The library is compiled with -fvisibility=hidden and
// linked with a version script that exports fx_* only; a definition of an fx_* function must carry FX_API
// (e.g. `extern "C" FX_API fx_status fx_cuda_device_count(int32_t *count) { ... }`), or it stays hidden.
#ifndef FX_API
#define FX_API __attribute__((visibility("default")))
#endif

namespace fx {

// ---- errors ---------------------------------------------------------------------------------------
// Sets the calling thread's message (printf-style) and returns `code`.
fx_status fail(fx_status code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
// Clears the calling thread's message; returns FX_OK.
fx_status ok();

// ---- validation (every entry point calls these before touching memory) ------------------------------
fx_status validate_image(const fx_image *image);
fx_status validate_plan(const fx_image *image, const fx_resample_plan *plan);
fx_status validate_output(const fx_output *out);
// image + plan + output + index, including plan.out_w/out_h == out.out_w/out_h and index < out.batch.
fx_status validate_job(const fx_image *image, const fx_resample_plan *plan, int64_t index, const fx_output *out);
// Bytes of one output element for out->dtype.
int32_t dtype_size(int32_t dtype);

// ---- Pillow 9.4 resampling coefficients for one axis ------------------------------------------------
constexpr int kPrecisionBits = 22; // Pillow's PRECISION_BITS (32 - 8 - 2)

// Taps of a run of output pixels along one axis. For output pixel i (0 <= i < count) of the run:
// first input index first[i], number of taps n[i] (<= ksize), fixed-point coefficients
// coeffs[i * ksize + t] for t < n[i] (zero for t >= n[i]). For FX_FILTER_NEAREST, ksize == 1,
// n[i] == 1 and coeffs[i] == 1 << kPrecisionBits. Input indices are relative to the roi and lie in
// [0, in_size). Output pixels outside [0, out_size) (padding) get n[i] == 0.
struct AxisTaps {
    int32_t ksize = 0;
    std::vector<int32_t> first;
    std::vector<int32_t> n;
    std::vector<int32_t> coeffs;
};

// Output pixels [start, start + count) of Pillow's resize of the roi axis of length in_size, box
// [box0, box1) (rounded to float32 as Pillow does), to out_size pixels with `filter`.
// Bit-exact with Pillow 9.4's precompute_coeffs + normalize_coeffs_8bpc (filters BILINEAR, BICUBIC)
// and with its nearest path (ImagingScaleAffine: accumulated double steps, truncation).
fx_status axis_taps(int32_t filter, int32_t in_size, double box0, double box1, int32_t out_size, int32_t start,
                    int32_t count, AxisTaps *taps);

// ---- output value tables ----------------------------------------------------------------------------
// For each output channel c and pixel value v: the value written, as raw bits of out->dtype
// (float32 bits in f32[c][v]; float16/bfloat16 bits in h16[c][v]; uint8: v itself).
// Exactly ((float) v / 255.0f - mean[c]) / std[c] in float32, then round-to-nearest-even.
struct ValueTable {
    float f32[3][256];
    uint16_t h16[3][256];
    // The constants of the AVX kernels' arithmetic evaluation of the same values, per channel: mean, std, and 1/std
    // as a float32 pair hi + lo (hi = (float)(1.0 / std), lo = (float)(1.0 / std - hi)). Made here once per output
    // description rather than by the kernels for every row.
    float norm[3][4];
};
void make_value_table(const fx_output *out, ValueTable *table);
uint16_t float_to_half_bits(float f);     // round to nearest even, IEEE binary16
uint16_t float_to_bfloat16_bits(float f); // round to nearest even (NaN kept NaN)

} // namespace fx

#endif

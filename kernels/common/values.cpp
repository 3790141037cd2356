// Output value tables: torchvision's ToTensor + Normalize in float32, then float16 / bfloat16 rounding.
#include "internal.h"

#include <cstring>

namespace fx {

uint16_t float_to_half_bits(float f) {
    uint32_t x;
    std::memcpy(&x, &f, sizeof x);
    const uint32_t sign = (x >> 16) & 0x8000u;
    const uint32_t ax = x & 0x7FFFFFFFu;
    if (ax >= 0x7F800000u) { // inf or NaN (NaN stays a quiet NaN, payload truncated)
        if (ax == 0x7F800000u) return (uint16_t)(sign | 0x7C00u);
        return (uint16_t)(sign | 0x7E00u | ((ax >> 13) & 0x3FFu));
    }
    if (ax >= 0x477FF000u) return (uint16_t)(sign | 0x7C00u); // >= 65520: rounds to infinity
    const uint32_t e = ax >> 23;
    if (e < 113) { // below 2^-14: half subnormal (unit 2^-24) or zero
        if (e == 0) return (uint16_t)sign; // float zero or subnormal (< 2^-126): rounds to zero
        const uint32_t m = (ax & 0x7FFFFFu) | 0x800000u;
        const uint32_t s = 126 - e; // value = m * 2^(e - 150) = (m >> s) units of 2^-24
        if (s >= 25) return (uint16_t)sign;
        uint32_t q = m >> s;
        const uint32_t rem = m & ((1u << s) - 1u), half = 1u << (s - 1);
        if (rem > half || (rem == half && (q & 1u))) ++q;
        return (uint16_t)(sign | q);
    }
    uint32_t h = sign | ((e - 112) << 10) | ((ax >> 13) & 0x3FFu);
    const uint32_t rem = ax & 0x1FFFu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h; // carries into the exponent correctly
    return (uint16_t)h;
}

uint16_t float_to_bfloat16_bits(float f) {
    uint32_t x;
    std::memcpy(&x, &f, sizeof x);
    if ((x & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((x >> 16) | 0x0040u); // NaN stays NaN
    return (uint16_t)((x + 0x7FFFu + ((x >> 16) & 1u)) >> 16);
}

void make_value_table(const fx_output *out, ValueTable *table) {
    for (int c = 0; c < 3; ++c) {
        const double r = 1.0 / (double)out->std[c];
        const float r_hi = (float)r;
        table->norm[c][0] = out->mean[c];
        table->norm[c][1] = out->std[c];
        table->norm[c][2] = r_hi;
        table->norm[c][3] = (float)(r - (double)r_hi);
        for (int v = 0; v < 256; ++v) {
            if (out->dtype == FX_DTYPE_UINT8) {
                table->f32[c][v] = (float)v;
                table->h16[c][v] = (uint16_t)v;
                continue;
            }
            // torchvision: ToTensor divides by 255 in float32, Normalize subtracts then divides in float32.
            const float value = ((float)v / 255.0f - out->mean[c]) / out->std[c];
            table->f32[c][v] = value;
            if (out->dtype == FX_DTYPE_FLOAT16)
                table->h16[c][v] = float_to_half_bits(value);
            else if (out->dtype == FX_DTYPE_BFLOAT16)
                table->h16[c][v] = float_to_bfloat16_bits(value);
            else
                table->h16[c][v] = 0;
        }
    }
}

} // namespace fx

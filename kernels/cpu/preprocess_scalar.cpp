// Portable row kernels: the reference the AVX2 kernels are tested against. Written as plainly as Pillow's
// loops: one accumulator per output value, 1 << 21 rounding, arithmetic shift by 22, clamp to [0, 255].
#include "cpu_internal.h"

#include <cstring>

namespace fx {
namespace cpu {

namespace {

inline uint8_t clamp_shift(int32_t acc) {
    const int32_t v = acc >> kPrecisionBits; // arithmetic shift, as Pillow's clip8
    return (uint8_t)(v < 0 ? 0 : (v > 255 ? 255 : v));
}

size_t scalar_hprep_size(const HorizontalJob &) { return 0; }
void scalar_hprep(const HorizontalJob &, uint8_t *) {}

void scalar_hrow(const HorizontalJob &job, const uint8_t *src_row, uint8_t *const *dst) {
    const int32_t ch = job.channels;
    for (int32_t i = 0; i < job.out_w; ++i) {
        const int32_t n = job.n[i];
        const int32_t *k = job.coeffs + (size_t)i * (size_t)job.ksize;
        const uint8_t *s = src_row + (int64_t)job.first[i] * ch;
        for (int32_t p = 0; p < job.nplanes; ++p) {
            const uint8_t *sp = s + job.src_ch[p];
            int32_t acc = 1 << (kPrecisionBits - 1);
            for (int32_t t = 0; t < n; ++t) acc += (int32_t)sp[(int64_t)t * ch] * k[t];
            dst[p][i] = clamp_shift(acc);
        }
    }
}

void scalar_vrow(int32_t nplanes, int32_t width, const uint8_t *const *rows, int32_t n, const int32_t *k,
                 uint8_t *const *dst, void *) {
    for (int32_t p = 0; p < nplanes; ++p) {
        for (int32_t x = 0; x < width; ++x) {
            int32_t acc = 1 << (kPrecisionBits - 1);
            for (int32_t t = 0; t < n; ++t) acc += (int32_t)rows[t * 3 + p][x] * k[t];
            dst[p][x] = clamp_shift(acc);
        }
    }
}

template <typename T> inline void store(uint8_t *base, int64_t element, T value) {
    std::memcpy(base + element * (int64_t)sizeof(T), &value, sizeof(T)); // no alignment assumed
}

void scalar_emit(const EmitJob &e, int32_t y, const uint8_t *const *vb) {
    const int64_t w = e.out_w, h = e.out_h;
    for (int32_t c = 0; c < 3; ++c) {
        const uint8_t *v = vb[e.nplanes == 1 ? 0 : c];
        int64_t pos, step;
        if (e.layout == FX_LAYOUT_NCHW) {
            pos = ((e.index * 3 + c) * h + y) * w;
            step = 1;
        } else {
            pos = ((e.index * h + y) * w) * 3 + c;
            step = 3;
        }
        switch (e.dtype) {
        case FX_DTYPE_FLOAT32:
            for (int64_t x = 0; x < w; ++x, pos += step) store<float>(e.out, pos, e.table->f32[c][v[x]]);
            break;
        case FX_DTYPE_FLOAT16:
        case FX_DTYPE_BFLOAT16:
            for (int64_t x = 0; x < w; ++x, pos += step) store<uint16_t>(e.out, pos, e.table->h16[c][v[x]]);
            break;
        default:
            for (int64_t x = 0; x < w; ++x, pos += step) store<uint8_t>(e.out, pos, v[x]);
            break;
        }
    }
}

const IsaOps kScalarOps = {"scalar", scalar_hprep_size, scalar_hprep, scalar_hrow, scalar_vrow, scalar_emit,
                           nullptr};

} // namespace

const IsaOps &scalar_ops() { return kScalarOps; }

} // namespace cpu
} // namespace fx

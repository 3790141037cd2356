// Internal pieces (linked statically from fixres4j_internal): float16 / bfloat16 rounding, the value table,
// Pillow's axis taps (structural properties; the Pillow goldens check the values) and validation helpers.
#include "aligned_bytes.h"
#include "internal.h"
#include "test_util.h"

#include <immintrin.h>

using namespace fxtest;

namespace {

__attribute__((target("f16c"))) uint16_t hw_half(float f) {
    return (uint16_t)_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}

void test_half() {
    __builtin_cpu_init();
    const bool f16c = __builtin_cpu_supports("f16c");
    int bad = 0;
    uint64_t checked = 0;
    if (f16c) {
        // every float whose bits are a multiple of 7 (about 614 million values) plus all around the half range
        for (uint64_t u = 0; u <= 0xFFFFFFFFull; u += 7) {
            uint32_t b = (uint32_t)u;
            float f;
            std::memcpy(&f, &b, 4);
            if (std::isnan(f)) continue;
            ++checked;
            if (fx::float_to_half_bits(f) != hw_half(f) && bad++ < 5)
                std::printf("half mismatch for bits %08x: %04x vs %04x\n", b, fx::float_to_half_bits(f), hw_half(f));
        }
        for (uint32_t b = 0x33000000u; b <= 0x47800000u; ++b) { // 2^-25 .. 65536, every float
            float f;
            std::memcpy(&f, &b, 4);
            ++checked;
            if (fx::float_to_half_bits(f) != hw_half(f)) ++bad;
            if (fx::float_to_half_bits(-f) != hw_half(-f)) ++bad;
        }
        CHECK(bad == 0, "%d float16 mismatches against F16C", bad);
    } else {
        for (int i = 0; i < 2000; ++i) {
            const float f = (float)((i - 1000) * 0.0371);
            if (fx::float_to_half_bits(f) != ref_half(f)) ++bad;
        }
        CHECK(bad == 0, "%d float16 mismatches", bad);
    }
    CHECK(fx::float_to_half_bits(INFINITY) == 0x7C00);
    CHECK(fx::float_to_half_bits(-INFINITY) == 0xFC00);
    CHECK((fx::float_to_half_bits(NAN) & 0x7C00) == 0x7C00 && (fx::float_to_half_bits(NAN) & 0x3FF) != 0);
    CHECK(fx::float_to_half_bits(65504.0f) == 0x7BFF);
    CHECK(fx::float_to_half_bits(65519.99f) == 0x7BFF);
    CHECK(fx::float_to_half_bits(65520.0f) == 0x7C00);
    CHECK(fx::float_to_half_bits(-0.0f) == 0x8000);
    std::printf("float16: %llu values checked%s\n", (unsigned long long)checked, f16c ? " against F16C" : "");
}

void test_bfloat16() {
    int bad = 0;
    for (uint64_t u = 0; u <= 0xFFFFFFFFull; u += 4099) {
        const uint32_t b = (uint32_t)u;
        float f;
        std::memcpy(&f, &b, 4);
        const uint16_t got = fx::float_to_bfloat16_bits(f);
        if (std::isnan(f)) {
            bad += !((got & 0x7F80) == 0x7F80 && (got & 0x7F) != 0);
            continue;
        }
        if (got != ref_bfloat16(f) && bad++ < 5)
            std::printf("bf16 mismatch for %08x: %04x vs %04x\n", b, got, ref_bfloat16(f));
    }
    // ties
    const uint32_t ties[] = {0x3F808000u, 0x3F818000u, 0x7F7F8000u, 0x7F7FFFFFu};
    for (uint32_t b : ties) {
        float f;
        std::memcpy(&f, &b, 4);
        if (fx::float_to_bfloat16_bits(f) != ref_bfloat16(f)) ++bad;
    }
    CHECK(bad == 0, "%d bfloat16 mismatches", bad);
}

void test_value_table() {
    fx_output out{};
    const float mean[3] = {0.485f, 0.456f, 0.406f}, stdv[3] = {0.229f, 0.224f, 0.225f};
    for (int32_t dtype = 0; dtype < 4; ++dtype) {
        out.dtype = dtype;
        for (int c = 0; c < 3; ++c) out.mean[c] = mean[c], out.std[c] = stdv[c];
        fx::ValueTable t;
        fx::make_value_table(&out, &t);
        int bad = 0;
        for (int c = 0; c < 3; ++c)
            for (int v = 0; v < 256; ++v) {
                const float f = torchvision_value(v, mean[c], stdv[c]);
                if (dtype == FX_DTYPE_UINT8) {
                    bad += t.h16[c][v] != v;
                    continue;
                }
                bad += float_bits(t.f32[c][v]) != float_bits(f);
                if (dtype == FX_DTYPE_FLOAT16) bad += t.h16[c][v] != ref_half(f);
                if (dtype == FX_DTYPE_BFLOAT16) bad += t.h16[c][v] != ref_bfloat16(f);
            }
        CHECK(bad == 0, "dtype %d: %d table entries differ", dtype, bad);
        // the AVX kernels' constants: mean, std, and 1/std as a float pair whose sum is 1/std to about 2^-48
        for (int c = 0; c < 3; ++c) {
            const double r = 1.0 / (double)stdv[c], sum = (double)t.norm[c][2] + (double)t.norm[c][3];
            CHECK(t.norm[c][0] == mean[c] && t.norm[c][1] == stdv[c] && t.norm[c][2] == (float)r &&
                      std::fabs(sum - r) <= r * 0x1p-46,
                  "dtype %d channel %d: norm constants %g %g %a %a", dtype, c, (double)t.norm[c][0],
                  (double)t.norm[c][1], (double)t.norm[c][2], (double)t.norm[c][3]);
        }
    }
}

// Structural properties of the taps for many random axes.
void test_taps() {
    Rng rng(21);
    int bad = 0, sum_bad = 0;
    for (int it = 0; it < 3000; ++it) {
        const int32_t in = rng.uniform(1, 700);
        double b0 = rng.chance(0.5) ? 0.0 : rng.unit() * in, b1 = rng.chance(0.5) ? (double)in : rng.unit() * in;
        if (b0 > b1) std::swap(b0, b1);
        if (!((float)b0 < (float)b1)) continue;
        const int32_t outsz = rng.uniform(1, 700), filter = rng.uniform(0, 2);
        const int32_t start = rng.uniform(-50, outsz), count = rng.uniform(0, 300);
        fx::AxisTaps t;
        const fx_status st = fx::axis_taps(filter, in, b0, b1, outsz, start, count, &t);
        CHECK(st == FX_OK, "%s", fx_last_error());
        if (st != FX_OK) continue;
        if ((int32_t)t.n.size() != count || (int32_t)t.first.size() != count || (int64_t)t.coeffs.size() != (int64_t)count * t.ksize) {
            ++bad;
            continue;
        }
        for (int32_t i = 0; i < count; ++i) {
            const int64_t xx = (int64_t)start + i;
            const int32_t n = t.n[(size_t)i], f = t.first[(size_t)i];
            if (xx < 0 || xx >= outsz) {
                bad += n != 0;
                continue;
            }
            if (filter != FX_FILTER_NEAREST) bad += n < 1;
            bad += n > t.ksize || f < 0 || f + n > in;
            int64_t sum = 0;
            for (int32_t k = 0; k < t.ksize; ++k) {
                const int32_t cv = t.coeffs[(size_t)i * t.ksize + k];
                if (k >= n) bad += cv != 0;
                sum += cv;
            }
            // normalised weights: the fixed-point sum is 2^22 up to the per-tap rounding
            if (n > 0 && std::llabs(sum - (1 << 22)) > t.ksize) ++sum_bad;
            if (filter == FX_FILTER_NEAREST && n == 1) {
                // Pillow's nearest: accumulated double steps (checked against a straight recomputation)
                const double a = (double)((float)b1 - (float)b0) / outsz;
                double xo = (double)(float)b0 + a * 0.5;
                for (int64_t x = 0; x < xx; ++x) xo += a;
                bad += f != (int32_t)xo;
            }
        }
    }
    CHECK(bad == 0, "%d tap structure errors", bad);
    CHECK(sum_bad == 0, "%d tap sums far from 2^22", sum_bad);

    // identity: integer box of the output size gives one 2^22 tap per output
    for (int32_t filter = 0; filter < 3; ++filter) {
        fx::AxisTaps t;
        CHECK(fx::axis_taps(filter, 50, 5.0, 45.0, 40, 0, 40, &t) == FX_OK);
        int wrong = 0;
        for (int32_t i = 0; i < 40; ++i) {
            int nonzero = 0;
            for (int32_t k = 0; k < t.n[(size_t)i]; ++k) {
                const int32_t cv = t.coeffs[(size_t)i * t.ksize + k];
                if (cv != 0) {
                    ++nonzero;
                    wrong += cv != (1 << 22) || t.first[(size_t)i] + k != 5 + i;
                }
            }
            wrong += nonzero != 1;
        }
        CHECK(wrong == 0, "filter %d: identity taps", filter);
    }
    // bad arguments
    fx::AxisTaps t;
    CHECK(fx::axis_taps(3, 10, 0, 10, 5, 0, 5, &t) == FX_ERR_INVALID_ARGUMENT);
    CHECK(fx::axis_taps(1, 10, 0, 11, 5, 0, 5, &t) == FX_ERR_INVALID_ARGUMENT);
    CHECK(fx::axis_taps(1, 10, 3, 3, 5, 0, 5, &t) == FX_ERR_INVALID_ARGUMENT);
    CHECK(fx::axis_taps(1, 10, 0, 10, 0, 0, 5, &t) == FX_ERR_INVALID_ARGUMENT);
    CHECK(fx::axis_taps(1, 10, 0, 10, 5, 0, -1, &t) == FX_ERR_INVALID_ARGUMENT);
    CHECK(fx::axis_taps(1, 10, 0, 10, 5, 0, 5, nullptr) == FX_ERR_INVALID_ARGUMENT);
}

void test_dtype_size() {
    CHECK(fx::dtype_size(FX_DTYPE_FLOAT32) == 4 && fx::dtype_size(FX_DTYPE_FLOAT16) == 2 &&
          fx::dtype_size(FX_DTYPE_BFLOAT16) == 2 && fx::dtype_size(FX_DTYPE_UINT8) == 1 && fx::dtype_size(9) == 0);
    CHECK(fx::fail(FX_ERR_STATE, "x=%d", 5) == FX_ERR_STATE && std::strcmp(fx_last_error(), "x=5") == 0);
    CHECK(fx::ok() == FX_OK && fx_last_error()[0] == '\0');
}

// The scratch buffer of the CPU driver: 64-byte aligned after every growth, the kept bytes kept, new ones filled.
void test_aligned_bytes() {
    fx::AlignedBytes b;
    CHECK(b.empty() && b.data() == nullptr, "a new buffer is empty");
    bool aligned = true, kept = true, filled = true;
    size_t size = 0;
    for (size_t n : {1, 7, 64, 100, 5000, 30, 30, 70000, 3, 200000}) {
        b.resize(n, 0xAB);
        aligned = aligned && (uintptr_t)b.data() % 64 == 0;
        for (size_t i = 0; i < std::min(size, n); ++i) kept = kept && b.data()[i] == (uint8_t)(i * 13);
        for (size_t i = std::min(size, n); i < n; ++i) filled = filled && b.data()[i] == 0xAB;
        for (size_t i = 0; i < n; ++i) b.data()[i] = (uint8_t)(i * 13);
        size = n;
    }
    CHECK(aligned, "data() is 64-byte aligned after every resize");
    CHECK(kept, "resize keeps the first min(old, new) bytes");
    CHECK(filled, "resize fills the new bytes");
    b.assign(4096, 7);
    CHECK(b.size() == 4096 && b.data()[0] == 7 && b.data()[4095] == 7 && (uintptr_t)b.data() % 64 == 0, "assign");
    b.release();
    CHECK(b.empty() && b.capacity() == 0, "release frees the bytes");
}

} // namespace

int main() {
    test_aligned_bytes();
    test_dtype_size();
    test_bfloat16();
    test_value_table();
    test_taps();
    test_half();
    return test_summary();
}

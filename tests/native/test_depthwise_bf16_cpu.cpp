// The bfloat16 CPU depthwise forward (fx_depthwise_forward_cpu_dtype with FX_DTYPE_BFLOAT16), on every ISA this CPU
// runs (scalar, AVX2, AVX-512; under AVX-512 the AVX512-BF16 instance where the CPU has it):
//   - the rounding rule of depthwise.h, bit for bit: every output equals the rule applied to the float32 kernel's
//     output on the widened inputs (same kernels, same ISA), and the SE sums equal the float32 kernel's;
//   - special values (NaN, infinities, subnormals, ties) through a 1x1 identity;
//   - against a double-precision reference: |y - ref| <= 2^-8 |ref| (half a bfloat16 ulp of the rounding) plus the
//     float32 path's own bound, 1e-5 of the sum of |terms|;
//   - with FX_ACT_IN_SILU (NHWC): the same checks against the reference on silu(x) with 1e-4 for 1e-5 (the AVX-512
//     input SiLU is good to ~7e-5 relative), and the float32 kernel itself within 1e-4 of the sum of |terms|;
//   - argument validation (dtype, alignment, overlap, threads, act flags), nothing written on an error.
#include "depthwise_ref.h"
#include "test_util.h"

#include <cmath>
#include <cstring>
#include <vector>

using namespace fxtest;
using namespace fxdw;

namespace {

float widen(uint16_t h) {
    const uint32_t u = (uint32_t)h << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

// The rule of depthwise.h, written out independently of the library.
uint16_t round_rule(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    const uint32_t exp = (u >> 23) & 0xFFu, frac = u & 0x7FFFFFu;
    if (exp == 0xFFu && frac != 0) return (uint16_t)((u >> 16) | 0x40u);
    if (exp == 0) return (uint16_t)((u >> 31) << 15);
    const uint32_t hi = u >> 16, lo = u & 0xFFFFu;
    uint32_t r = hi;
    if (lo > 0x8000u || (lo == 0x8000u && (hi & 1u))) ++r;
    return (uint16_t)r;
}

uint16_t rand_bf16(Rng &rng, double scale) {
    return round_rule((float)((rng.unit() * 2.0 - 1.0) * scale));
}

// Output checks of one shape on the current ISA: bit-exact with the float32 kernel + the rule, close to the double
// reference.
void check_shape(Rng &rng, const fx_depthwise_shape &s, bool bias, bool se, int act, int threads) {
    const int64_t nx = s.n * s.c * s.h * s.w, ny = s.n * s.c * s.out_h * s.out_w, nw = s.c * s.k * s.k;
    std::vector<uint16_t> xh((size_t)nx), wh((size_t)nw), bh((size_t)s.c);
    for (auto &v : xh) v = rand_bf16(rng, 2.0);
    for (auto &v : wh) v = rand_bf16(rng, 0.5);
    for (auto &v : bh) v = rand_bf16(rng, 0.5);
    std::vector<float> xf((size_t)nx), wf((size_t)nw), bf((size_t)s.c);
    for (int64_t i = 0; i < nx; ++i) xf[(size_t)i] = widen(xh[(size_t)i]);
    for (int64_t i = 0; i < nw; ++i) wf[(size_t)i] = widen(wh[(size_t)i]);
    for (int64_t i = 0; i < s.c; ++i) bf[(size_t)i] = widen(bh[(size_t)i]);

    std::vector<float> yf((size_t)ny), sf((size_t)(s.n * s.c));
    fx_status st = fx_depthwise_forward_cpu(&s, xf.data(), wf.data(), bias ? bf.data() : nullptr, act, yf.data(),
                                            se ? sf.data() : nullptr, threads);
    CHECK(st == FX_OK, "float32 forward %s: %s", shape_str(s).c_str(), fx_last_error());
    std::vector<uint16_t> yh((size_t)ny, 0xFFFFu);
    std::vector<float> sh((size_t)(s.n * s.c), -1.0f);
    st = fx_depthwise_forward_cpu_dtype(&s, FX_DTYPE_BFLOAT16, xh.data(), wh.data(), bias ? bh.data() : nullptr, act,
                                        yh.data(), se ? sh.data() : nullptr, threads);
    CHECK(st == FX_OK, "bfloat16 forward %s: %s", shape_str(s).c_str(), fx_last_error());
    if (st != FX_OK) return;
    int64_t mism = 0, first = -1;
    for (int64_t i = 0; i < ny; ++i)
        if (yh[(size_t)i] != round_rule(yf[(size_t)i])) {
            if (first < 0) first = i;
            ++mism;
        }
    CHECK(mism == 0, "%s threads %d: %lld outputs differ from the rounded float32 kernel (first %lld: %04x vs %04x "
          "from %.9g)", shape_str(s).c_str(), threads, (long long)mism, (long long)first,
          first >= 0 ? yh[(size_t)first] : 0, first >= 0 ? round_rule(yf[(size_t)first]) : 0,
          first >= 0 ? (double)yf[(size_t)first] : 0.0);
    if (se) {
        int64_t sm = 0;
        for (int64_t i = 0; i < s.n * s.c; ++i)
            if (std::memcmp(&sh[(size_t)i], &sf[(size_t)i], 4) != 0) ++sm;
        CHECK(sm == 0, "%s: %lld SE sums differ from the float32 kernel's", shape_str(s).c_str(), (long long)sm);
    }
    // FX_ACT_IN_SILU: the reference convolves silu(x) (in double, stored as float32: within 6e-8 relative)
    std::vector<float> xr = xf;
    if ((act & FX_ACT_IN_SILU) != 0)
        for (auto &v : xr) v = (float)((double)v / (1.0 + std::exp(-(double)v)));
    std::vector<double> ref, mag, sums;
    ref_forward(s, xr.data(), wf.data(), bias ? bf.data() : nullptr, act & ~FX_ACT_IN_SILU, &ref, &mag, &sums);
    // the float32 path's bound: 1e-5 of the sum of |terms|; with the input SiLU 1e-4 (under AVX-512 that SiLU is
    // good to ~7e-5 relative, depthwise.h)
    const bool in_silu = (act & FX_ACT_IN_SILU) != 0;
    const double fbound = in_silu ? 1e-4 : 1e-5;
    if (in_silu) {
        // the float32 kernel itself (the bit-exact comparison above rests on it)
        int64_t badf = 0;
        for (int64_t i = 0; i < ny; ++i)
            if (!(std::fabs((double)yf[(size_t)i] - ref[(size_t)i]) <= fbound * (mag[(size_t)i] + 1e-30))) ++badf;
        CHECK(badf == 0, "%s input SiLU, float32: %lld outputs outside 1e-4 * scale", shape_str(s).c_str(),
              (long long)badf);
    }
    int64_t bad = 0;
    double worst = 0.0;
    for (int64_t i = 0; i < ny; ++i) {
        const double r = ref[(size_t)i], err = std::fabs((double)widen(yh[(size_t)i]) - r);
        const double tol = std::ldexp(std::fabs(r), -8) + fbound * (mag[(size_t)i] + 1e-30);
        if (!(err <= tol)) ++bad;
        // relative to |ref| (without the input SiLU, whose error scales with the sum of |terms| instead)
        if (std::fabs(r) > 1e-3 && !in_silu) worst = std::fmax(worst, err / std::fabs(r));
    }
    CHECK(bad == 0, "%s: %lld outputs outside 2^-8 |ref| + %g * scale", shape_str(s).c_str(), (long long)bad, fbound);
    CHECK(worst <= 1.0 / 256.0 + 1e-4, "%s: worst relative error %.3g", shape_str(s).c_str(), worst);
}

void test_shapes(Rng &rng) {
    const int64_t cs[] = {16, 24, 40, 3, 96};
    for (int layout : {FX_LAYOUT_NHWC, FX_LAYOUT_NCHW})
        for (int k : {1, 3, 5, 7})
            for (int stride : {1, 2})
                for (int tf : {0, 1}) {
                    const int64_t c = cs[rng.uniform(0, 4)];
                    const int64_t h = rng.uniform(5, 19), w = rng.uniform(5, 19);
                    const fx_depthwise_shape s = make_shape(rng.uniform(1, 3), c, h, w, k, stride, tf != 0, layout);
                    const int act = rng.chance(0.7) ? FX_ACT_SILU : FX_ACT_NONE;
                    check_shape(rng, s, rng.chance(0.8), rng.chance(0.7), act, rng.uniform(1, 3));
                    if (layout == FX_LAYOUT_NHWC) // the SiLU of the layer before, fused into the packing
                        check_shape(rng, s, rng.chance(0.8), rng.chance(0.7), act | FX_ACT_IN_SILU, rng.uniform(1, 3));
                }
    // an EfficientNet-B0 layer at batch 2 (channel groups full, bands over threads)
    check_shape(rng, make_shape(2, 144, 56, 56, 3, 1, true, FX_LAYOUT_NHWC), true, true, FX_ACT_SILU, 2);
    check_shape(rng, make_shape(2, 240, 28, 28, 5, 2, true, FX_LAYOUT_NHWC), true, true, FX_ACT_SILU, 1);
    check_shape(rng, make_shape(2, 144, 56, 56, 3, 2, true, FX_LAYOUT_NHWC), true, true,
                FX_ACT_SILU | FX_ACT_IN_SILU, 2);
}

// 1x1, weight 1, no bias, no activation: y = round(0 + x) for special values (the sum starts from the zero bias, so
// -0 comes out +0), each channel its own value (NHWC groups full and partial).
void test_special_values() {
    const uint16_t vals[] = {0x0000, 0x8000, 0x0001, 0x8001, 0x007F, 0x0080, 0x3F80, 0xBF80, 0x7F7F, 0xFF7F,
                             0x7F80, 0xFF80, 0x7FC0, 0xFFC0, 0x7F81, 0xFF81, 0x7FFF, 0x4049, 0x3E4C, 0xC2F7};
    const int64_t c = (int64_t)(sizeof vals / sizeof vals[0]);
    for (int layout : {FX_LAYOUT_NHWC, FX_LAYOUT_NCHW}) {
        const fx_depthwise_shape s = make_shape(1, c, 3, 5, 1, 1, false, layout);
        std::vector<uint16_t> x((size_t)(c * 15)), w((size_t)c, 0x3F80), y((size_t)(c * 15), 0x1234);
        for (int64_t ch = 0; ch < c; ++ch)
            for (int64_t p = 0; p < 15; ++p)
                x[(size_t)(layout == FX_LAYOUT_NHWC ? p * c + ch : ch * 15 + p)] = vals[ch];
        const fx_status st = fx_depthwise_forward_cpu_dtype(&s, FX_DTYPE_BFLOAT16, x.data(), w.data(), nullptr,
                                                            FX_ACT_NONE, y.data(), nullptr, 1);
        CHECK(st == FX_OK, "special values: %s", fx_last_error());
        int64_t bad = 0;
        for (size_t i = 0; i < y.size(); ++i)
            if (y[i] != round_rule(0.0f + widen(x[i]))) {
                if (bad == 0)
                    std::printf("  special value %04x gave %04x, expected %04x\n", x[i], y[i],
                                round_rule(0.0f + widen(x[i])));
                ++bad;
            }
        CHECK(bad == 0, "special values (%s): %lld wrong", layout == FX_LAYOUT_NHWC ? "NHWC" : "NCHW", (long long)bad);
    }
    // ties: x * w with a product exactly halfway between two bfloat16 values (1 + 2^-7 squared = 1 + 2^-6 + 2^-14
    // is not a tie; (1 + 2^-7) * (1 + 2^-1) = 1.5 + 2^-7 + 2^-8 is: ties to even)
    const fx_depthwise_shape s = make_shape(1, 1, 1, 1, 1, 1, false, FX_LAYOUT_NHWC);
    const uint16_t x = 0x3F81, w = 0x3FC0; // 1 + 2^-7, 1.5
    uint16_t y = 0;
    fx_depthwise_forward_cpu_dtype(&s, FX_DTYPE_BFLOAT16, &x, &w, nullptr, FX_ACT_NONE, &y, nullptr, 1);
    CHECK(y == round_rule(widen(x) * widen(w)) && y == 0x3FC2, "tie: %04x (expected 3fc2)", y);
}

void test_validation() {
    const fx_depthwise_shape s = make_shape(1, 4, 6, 6, 3, 1, false, FX_LAYOUT_NHWC);
    std::vector<uint16_t> x(4 * 36 + 2, 0x3F80), w(4 * 9 + 1, 0x3F80), b(5, 0), y(4 * 36 + 2, 0x1234);
    auto untouched = [&]() {
        for (size_t i = 0; i < y.size(); ++i)
            if (y[i] != 0x1234) return false;
        return true;
    };
    fx_status st = fx_depthwise_forward_cpu_dtype(&s, FX_DTYPE_FLOAT16, x.data(), w.data(), b.data(), FX_ACT_SILU,
                                                  y.data(), nullptr, 1);
    CHECK(st == FX_ERR_UNSUPPORTED && std::strstr(fx_last_error(), "float16") != nullptr, "float16: %d %s", st,
          fx_last_error());
    st = fx_depthwise_forward_cpu_dtype(&s, 7, x.data(), w.data(), b.data(), FX_ACT_SILU, y.data(), nullptr, 1);
    CHECK(st == FX_ERR_INVALID_ARGUMENT && std::strstr(fx_last_error(), "dtype") != nullptr, "dtype 7: %s",
          fx_last_error());
    st = fx_depthwise_forward_cpu_dtype(&s, FX_DTYPE_UINT8, x.data(), w.data(), b.data(), FX_ACT_SILU, y.data(),
                                        nullptr, 1);
    CHECK(st == FX_ERR_INVALID_ARGUMENT, "uint8 refused");
    const char *xc = reinterpret_cast<const char *>(x.data()) + 1;
    st = fx_depthwise_forward_cpu_dtype(&s, FX_DTYPE_BFLOAT16, xc, w.data(), b.data(), FX_ACT_SILU, y.data(), nullptr,
                                        1);
    CHECK(st == FX_ERR_INVALID_ARGUMENT && std::strstr(fx_last_error(), "2 bytes") != nullptr, "odd x: %s",
          fx_last_error());
    st = fx_depthwise_forward_cpu_dtype(&s, FX_DTYPE_BFLOAT16, x.data(), w.data(), b.data(), FX_ACT_SILU,
                                        reinterpret_cast<char *>(y.data()) + 1, nullptr, 1);
    CHECK(st == FX_ERR_INVALID_ARGUMENT, "odd y refused");
    float se[5];
    st = fx_depthwise_forward_cpu_dtype(&s, FX_DTYPE_BFLOAT16, x.data(), w.data(), b.data(), FX_ACT_SILU, y.data(),
                                        reinterpret_cast<float *>(reinterpret_cast<char *>(se) + 2), 1);
    CHECK(st == FX_ERR_INVALID_ARGUMENT && std::strstr(fx_last_error(), "se_sums") != nullptr, "se_sums align: %s",
          fx_last_error());
    st = fx_depthwise_forward_cpu_dtype(&s, FX_DTYPE_BFLOAT16, x.data(), w.data(), b.data(), FX_ACT_SILU, x.data() + 1,
                                        nullptr, 1);
    CHECK(st == FX_ERR_INVALID_ARGUMENT && std::strstr(fx_last_error(), "overlap") != nullptr, "overlap: %s",
          fx_last_error());
    st = fx_depthwise_forward_cpu_dtype(&s, FX_DTYPE_BFLOAT16, nullptr, w.data(), b.data(), FX_ACT_SILU, y.data(),
                                        nullptr, 1);
    CHECK(st == FX_ERR_INVALID_ARGUMENT, "null x refused");
    st = fx_depthwise_forward_cpu_dtype(&s, FX_DTYPE_BFLOAT16, x.data(), w.data(), b.data(), 5, y.data(), nullptr, 1);
    CHECK(st == FX_ERR_INVALID_ARGUMENT, "act 5 refused");
    st = fx_depthwise_forward_cpu_dtype(&s, FX_DTYPE_BFLOAT16, x.data(), w.data(), b.data(), FX_ACT_SILU | 0x200,
                                        y.data(), nullptr, 1);
    CHECK(st == FX_ERR_INVALID_ARGUMENT, "act flag 0x200 refused");
    const fx_depthwise_shape sc = make_shape(1, 4, 6, 6, 3, 1, false, FX_LAYOUT_NCHW);
    st = fx_depthwise_forward_cpu_dtype(&sc, FX_DTYPE_BFLOAT16, x.data(), w.data(), b.data(),
                                        FX_ACT_SILU | FX_ACT_IN_SILU, y.data(), nullptr, 1);
    CHECK(st == FX_ERR_UNSUPPORTED && std::strstr(fx_last_error(), "NHWC") != nullptr, "input SiLU on NCHW: %s",
          fx_last_error());
    st = fx_depthwise_forward_cpu_dtype(&s, FX_DTYPE_BFLOAT16, x.data(), w.data(), b.data(), FX_ACT_SILU, y.data(),
                                        nullptr, 0);
    CHECK(st == FX_ERR_INVALID_ARGUMENT, "threads 0 refused");
    fx_depthwise_shape bad = s;
    bad.k = 4;
    st = fx_depthwise_forward_cpu_dtype(&bad, FX_DTYPE_BFLOAT16, x.data(), w.data(), b.data(), FX_ACT_SILU, y.data(),
                                        nullptr, 1);
    CHECK(st == FX_ERR_INVALID_ARGUMENT, "k 4 refused");
    CHECK(untouched(), "nothing written on errors");
    // float32 through the dtype entry point is the float32 kernel
    std::vector<float> xf(4 * 36, 0.5f), wf(4 * 9, 0.25f), yf(4 * 36), yg(4 * 36);
    st = fx_depthwise_forward_cpu_dtype(&s, FX_DTYPE_FLOAT32, xf.data(), wf.data(), nullptr, FX_ACT_SILU, yf.data(),
                                        nullptr, 1);
    CHECK(st == FX_OK, "float32 dtype: %s", fx_last_error());
    fx_depthwise_forward_cpu(&s, xf.data(), wf.data(), nullptr, FX_ACT_SILU, yg.data(), nullptr, 1);
    CHECK(std::memcmp(yf.data(), yg.data(), yf.size() * 4) == 0, "float32 dtype equals fx_depthwise_forward_cpu");
}

} // namespace

int main() {
    test_validation();
    for (int32_t isa : {FX_ISA_SCALAR, FX_ISA_AVX2, FX_ISA_AVX512}) {
        if (fx_cpu_set_isa(isa) != FX_OK) {
            std::printf("ISA %s: not on this CPU, skipped\n", isa_name(isa));
            continue;
        }
        std::printf("ISA %s\n", isa_name(isa));
        Rng rng(11 + isa);
        test_special_values();
        test_shapes(rng);
    }
    fx_cpu_set_isa(FX_ISA_AUTO);
    return test_summary();
}

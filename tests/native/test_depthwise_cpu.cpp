// Depthwise convolution on the CPU (fx_depthwise_forward_cpu / fx_depthwise_backward_cpu) against a
// double-precision reference (depthwise_ref.h): every depthwise layer shape of EfficientNet B0..B7 (B0 at full
// resolution, B1..B7 with the spatial size reduced, same parity), TF 'same' and symmetric padding, NCHW and NHWC,
// every ISA's kernels (portable, AVX2, AVX-512), with and without bias / SiLU / SE sums; odd sizes (channels not a multiple of 8, tiny and skinny
// images, k 1 and 7); backward dx/dw/db against the reference and against finite differences of the library's
// own forward; thread counts (bitwise identical results); argument validation (codes, nothing written).
#include "depthwise_ref.h"
#include "test_util.h"

#include <algorithm>
#include <set>
#include <tuple>

using namespace fxtest;
using namespace fxdw;

namespace {

constexpr double kTol = 1e-5; // relative to |reference| + sum of |terms|
double g_max_rel = 0.0;       // max |err| / |ref| over outputs with |ref| >= 1e-2 * scale (reported)
double g_max_err = 0.0;       // max |err| / (|ref| + scale)

std::vector<float> random_vec(Rng &rng, size_t n, double lo, double hi) {
    std::vector<float> v(n);
    for (auto &f : v) f = (float)(lo + (hi - lo) * rng.unit());
    return v;
}

bool close(double got, double ref, double scale, double tol = kTol) {
    const double err = std::fabs(got - ref);
    const double e = err / (std::fabs(ref) + scale + 1e-30);
    g_max_err = std::max(g_max_err, e);
    if (std::fabs(ref) >= 1e-2 * scale && std::fabs(ref) > 0) g_max_rel = std::max(g_max_rel, err / std::fabs(ref));
    return e <= tol;
}

// The ISA of the checks that do not loop over isas(): FX_ISA_AUTO, or --isa NAME (ctest runs the suite once
// more with --isa avx2 so that those checks also run on the AVX2 kernels where the CPU would pick AVX-512).
int32_t g_isa = FX_ISA_AUTO;

// One ISA per kernel set (FX_ISA_AVX2_VNNI runs the AVX2 depthwise kernels).
std::vector<int32_t> isas() {
    std::vector<int32_t> v{FX_ISA_SCALAR};
    if (fx_cpu_supports_avx2()) v.push_back(FX_ISA_AVX2);
    if (fx_cpu_supports_avx512()) v.push_back(FX_ISA_AVX512);
    return v;
}

// One forward check: every output and SE sum against the reference. variant: 0 = bias + SiLU + SE, 1 = bias only,
// 2 = plain (no bias, no act, no SE), 3 = SiLU + SE without bias.
void check_forward(const fx_depthwise_shape &s, int variant, Rng &rng, int32_t threads) {
    const int64_t nx = s.n * s.c * s.h * s.w, ny = s.n * s.c * s.out_h * s.out_w;
    std::vector<float> x = random_vec(rng, (size_t)nx, -2.0, 2.0);
    std::vector<float> w = random_vec(rng, (size_t)(s.c * s.k * s.k), -1.0, 1.0);
    std::vector<float> b = random_vec(rng, (size_t)s.c, -0.5, 0.5);
    const bool use_b = variant == 0 || variant == 1;
    const int act = (variant == 0 || variant == 3) ? FX_ACT_SILU : FX_ACT_NONE;
    const bool use_se = variant == 0 || variant == 3;
    std::vector<double> ry, rmag, rsum;
    ref_forward(s, x.data(), w.data(), use_b ? b.data() : nullptr, act, &ry, &rmag, &rsum);
    for (int32_t isa : isas()) {
        fx_cpu_set_isa(isa);
        std::vector<float> y((size_t)ny + 16, 12345.0f), se((size_t)(s.n * s.c) + 16, 12345.0f);
        const fx_status st = fx_depthwise_forward_cpu(&s, x.data(), w.data(), use_b ? b.data() : nullptr, act, y.data(),
                                                      use_se ? se.data() : nullptr, threads);
        CHECK(st == FX_OK, "%s: status %d (%s)", shape_str(s).c_str(), st, fx_last_error());
        if (st != FX_OK) continue;
        int bad = 0;
        for (int64_t i = 0; i < ny; ++i)
            if (!close(y[(size_t)i], ry[(size_t)i], rmag[(size_t)i]) && bad++ < 3)
                CHECK(false, "%s isa %d variant %d: y[%lld] = %.9g, reference %.9g (scale %.3g)", shape_str(s).c_str(), isa,
                      variant, (long long)i, (double)y[(size_t)i], ry[(size_t)i], rmag[(size_t)i]);
        CHECK(bad == 0, "%s isa %d variant %d: %d outputs off", shape_str(s).c_str(), isa, variant, bad);
        bool guard = true;
        for (size_t i = (size_t)ny; i < y.size(); ++i) guard = guard && y[i] == 12345.0f;
        CHECK(guard, "%s: wrote past y", shape_str(s).c_str());
        if (use_se) {
            int sbad = 0;
            for (int64_t i = 0; i < s.n * s.c; ++i) {
                // scale of a sum: the sum of the outputs' scales
                double scale = 0.0;
                const int64_t n = i / s.c, c = i % s.c;
                for (int64_t p = 0; p < s.out_h * s.out_w; ++p)
                    scale += rmag[(size_t)idx(s, n, c, p / s.out_w, p % s.out_w, s.out_h, s.out_w)];
                if (!close(se[(size_t)i], rsum[(size_t)i], scale) && sbad++ < 3)
                    CHECK(false, "%s isa %d: se[%lld] = %.9g, reference %.9g", shape_str(s).c_str(), isa, (long long)i,
                          (double)se[(size_t)i], rsum[(size_t)i]);
            }
            CHECK(sbad == 0, "%s isa %d: %d SE sums off", shape_str(s).c_str(), isa, sbad);
            guard = true;
            for (size_t i = (size_t)(s.n * s.c); i < se.size(); ++i) guard = guard && se[i] == 12345.0f;
            CHECK(guard, "%s: wrote past se_sums", shape_str(s).c_str());
        }
    }
    fx_cpu_set_isa(g_isa);
}

void check_backward(const fx_depthwise_shape &s, Rng &rng, int32_t threads) {
    const int64_t nx = s.n * s.c * s.h * s.w, ny = s.n * s.c * s.out_h * s.out_w, nw = s.c * s.k * s.k;
    std::vector<float> x = random_vec(rng, (size_t)nx, -2.0, 2.0);
    std::vector<float> w = random_vec(rng, (size_t)nw, -1.0, 1.0);
    std::vector<float> dy = random_vec(rng, (size_t)ny, -1.0, 1.0);
    std::vector<double> rdx, rdw, rdb;
    ref_backward(s, x.data(), w.data(), dy.data(), &rdx, &rdw, &rdb);
    // scales: the same sums with absolute values
    std::vector<float> ax(x), aw(w), ady(dy);
    for (auto &v : ax) v = std::fabs(v);
    for (auto &v : aw) v = std::fabs(v);
    for (auto &v : ady) v = std::fabs(v);
    std::vector<double> mdx, mdw, mdb;
    ref_backward(s, ax.data(), aw.data(), ady.data(), &mdx, &mdw, &mdb);
    // every ISA's kernels (the NHWC dx and dw/db passes are per-ISA vector code)
    for (int32_t isa : isas()) {
        fx_cpu_set_isa(isa);
        std::vector<float> dx((size_t)nx, 777.0f), dw((size_t)nw, 777.0f), db((size_t)s.c, 777.0f);
        fx_status st = fx_depthwise_backward_cpu(&s, x.data(), w.data(), dy.data(), dx.data(), dw.data(), db.data(), threads);
        CHECK(st == FX_OK, "%s: backward status %d (%s)", shape_str(s).c_str(), st, fx_last_error());
        int bad = 0;
        for (int64_t i = 0; i < nx; ++i)
            if (!close(dx[(size_t)i], rdx[(size_t)i], mdx[(size_t)i]) && bad++ < 3)
                CHECK(false, "%s isa %d: dx[%lld] = %.9g, reference %.9g", shape_str(s).c_str(), isa, (long long)i, (double)dx[(size_t)i],
                      rdx[(size_t)i]);
        for (int64_t i = 0; i < nw; ++i)
            if (!close(dw[(size_t)i], rdw[(size_t)i], mdw[(size_t)i]) && bad++ < 6)
                CHECK(false, "%s isa %d: dw[%lld] = %.9g, reference %.9g", shape_str(s).c_str(), isa, (long long)i, (double)dw[(size_t)i],
                      rdw[(size_t)i]);
        for (int64_t i = 0; i < s.c; ++i)
            if (!close(db[(size_t)i], rdb[(size_t)i], mdb[(size_t)i]) && bad++ < 9)
                CHECK(false, "%s isa %d: db[%lld] = %.9g, reference %.9g", shape_str(s).c_str(), isa, (long long)i, (double)db[(size_t)i],
                      rdb[(size_t)i]);
        CHECK(bad == 0, "%s: %d backward values off", shape_str(s).c_str(), bad);
        // each output alone gives the same values
        std::vector<float> dx2((size_t)nx, 1.0f), dw2((size_t)nw, 1.0f), db2((size_t)s.c, 1.0f);
        st = fx_depthwise_backward_cpu(&s, nullptr, w.data(), dy.data(), dx2.data(), nullptr, nullptr, threads);
        CHECK(st == FX_OK && dx2 == dx, "%s: dx alone differs", shape_str(s).c_str());
        st = fx_depthwise_backward_cpu(&s, x.data(), nullptr, dy.data(), nullptr, dw2.data(), nullptr, threads);
        CHECK(st == FX_OK && dw2 == dw, "%s: dw alone differs", shape_str(s).c_str());
        st = fx_depthwise_backward_cpu(&s, nullptr, nullptr, dy.data(), nullptr, nullptr, db2.data(), threads);
        CHECK(st == FX_OK && db2 == db, "%s: db alone differs", shape_str(s).c_str());
    }
    fx_cpu_set_isa(g_isa);
}

// Finite differences of L = sum(dy * (conv(x, w) + b)) through the library's forward (linear: exact up to
// rounding for any step), on a tiny shape.
void check_finite_differences(const fx_depthwise_shape &s, Rng &rng) {
    const int64_t nx = s.n * s.c * s.h * s.w, ny = s.n * s.c * s.out_h * s.out_w, nw = s.c * s.k * s.k;
    std::vector<float> x = random_vec(rng, (size_t)nx, -1.0, 1.0), w = random_vec(rng, (size_t)nw, -1.0, 1.0);
    std::vector<float> b = random_vec(rng, (size_t)s.c, -1.0, 1.0), dy = random_vec(rng, (size_t)ny, -1.0, 1.0);
    std::vector<float> y((size_t)ny);
    auto loss = [&]() {
        fx_depthwise_forward_cpu(&s, x.data(), w.data(), b.data(), FX_ACT_NONE, y.data(), nullptr, 1);
        double l = 0.0;
        for (int64_t i = 0; i < ny; ++i) l += (double)dy[(size_t)i] * y[(size_t)i];
        return l;
    };
    std::vector<float> dx((size_t)nx), dw((size_t)nw), db((size_t)s.c);
    CHECK(fx_depthwise_backward_cpu(&s, x.data(), w.data(), dy.data(), dx.data(), dw.data(), db.data(), 2) == FX_OK);
    const float h = 0.5f;
    int bad = 0;
    auto fd = [&](std::vector<float> &v, size_t i) {
        const float keep = v[i];
        v[i] = keep + h;
        const double lp = loss();
        v[i] = keep - h;
        const double lm = loss();
        v[i] = keep;
        return (lp - lm) / (2.0 * h);
    };
    for (size_t i = 0; i < x.size(); ++i)
        if (std::fabs(fd(x, i) - dx[i]) > 1e-4 && bad++ < 3) CHECK(false, "%s: FD dx[%zu]", shape_str(s).c_str(), i);
    for (size_t i = 0; i < w.size(); ++i)
        if (std::fabs(fd(w, i) - dw[i]) > 1e-4 && bad++ < 3) CHECK(false, "%s: FD dw[%zu]", shape_str(s).c_str(), i);
    for (size_t i = 0; i < b.size(); ++i)
        if (std::fabs(fd(b, i) - db[i]) > 1e-4 && bad++ < 3) CHECK(false, "%s: FD db[%zu]", shape_str(s).c_str(), i);
    CHECK(bad == 0, "%s: finite differences disagree", shape_str(s).c_str());
}

void test_efficientnet_shapes(Rng &rng) {
    int count = 0;
    std::set<std::tuple<int64_t, int64_t, int, int>> seen; // (c, h, k, stride) after reduction
    for (int v = 0; v < 8; ++v) {
        for (const Layer &l : efficientnet_layers(v)) {
            int64_t h = l.h;
            int64_t n = 1;
            if (v > 0) { // reduced: at most ~15 pixels per side, same parity, two images
                if (h > 15) h = 13 + (h % 2);
                n = 2;
            }
            if (!seen.insert(std::make_tuple(l.c, h, l.k, l.stride)).second) continue;
            for (int32_t layout : {FX_LAYOUT_NHWC, FX_LAYOUT_NCHW})
                for (bool tf : {true, false}) {
                    const fx_depthwise_shape s = make_shape(n, l.c, h, h, l.k, l.stride, tf, layout);
                    check_forward(s, count % 4, rng, 1 + count % 3);
                    ++count;
                }
        }
    }
    std::printf("EfficientNet B0..B7 depthwise shapes: %zu distinct, %d forward cases\n", seen.size(), count);
}

void test_odd_shapes(Rng &rng) {
    int count = 0;
    const int64_t chans[] = {1, 3, 5, 8, 13, 31, 33, 40, 67};
    const int64_t sides[][2] = {{1, 1}, {1, 9}, {9, 1}, {2, 3}, {5, 5}, {6, 7}, {8, 8}, {17, 10}, {33, 31}};
    for (int64_t c : chans)
        for (auto &hw : sides)
            for (int k : {1, 3, 5, 7})
                for (int stride : {1, 2}) {
                    if (rng.unit() > 0.35) continue; // a random third of the grid
                    for (int32_t layout : {FX_LAYOUT_NHWC, FX_LAYOUT_NCHW}) {
                        fx_depthwise_shape s = make_shape(2, c, hw[0], hw[1], k, stride, rng.chance(0.5), layout);
                        if (s.out_h < 1 || fx_depthwise_shape_derive(&s) != FX_OK) continue; // k larger than image
                        check_forward(s, (int)(rng.next() % 4), rng, 1 + (int)(rng.next() % 3));
                        ++count;
                    }
                }
    // asymmetric explicit paddings, every combination of small pads
    for (int k : {3, 5})
        for (int pt = 0; pt < k; pt += 2)
            for (int pb = 0; pb < k; pb += 3)
                for (int32_t layout : {FX_LAYOUT_NHWC, FX_LAYOUT_NCHW}) {
                    fx_depthwise_shape s{};
                    s.n = 1;
                    s.c = 11;
                    s.h = 9;
                    s.w = 10;
                    s.k = k;
                    s.stride = 1 + (pt + pb) % 2;
                    s.pad_top = pt;
                    s.pad_bottom = pb;
                    s.pad_left = pb;
                    s.pad_right = pt;
                    s.layout = layout;
                    CHECK(fx_depthwise_shape_derive(&s) == FX_OK);
                    check_forward(s, count % 4, rng, 2);
                    ++count;
                }
    std::printf("odd shapes: %d forward cases\n", count);
}

void test_backward(Rng &rng) {
    int count = 0;
    for (int v : {0, 3, 7}) {
        for (const Layer &l : efficientnet_layers(v)) {
            if (rng.unit() > 0.3) continue;
            const int64_t h = l.h > 11 ? 9 + (l.h % 2) : l.h;
            for (int32_t layout : {FX_LAYOUT_NHWC, FX_LAYOUT_NCHW}) {
                check_backward(make_shape(2, l.c, h, h, l.k, l.stride, rng.chance(0.5), layout), rng, 1 + count % 3);
                ++count;
            }
        }
    }
    for (int64_t c : {1, 5, 12})
        for (int k : {1, 3, 5, 7})
            for (int stride : {1, 2})
                for (int32_t layout : {FX_LAYOUT_NHWC, FX_LAYOUT_NCHW}) {
                    const int64_t h = 4 + (int64_t)(rng.next() % 8), w = 4 + (int64_t)(rng.next() % 8);
                    fx_depthwise_shape s = make_shape(3, c, h, w, k, stride, rng.chance(0.5), layout);
                    if (fx_depthwise_shape_derive(&s) != FX_OK) continue;
                    check_backward(s, rng, 2);
                    ++count;
                }
    // B0's first layer at full size (NHWC and NCHW): long accumulations of dw
    for (int32_t layout : {FX_LAYOUT_NHWC, FX_LAYOUT_NCHW}) {
        check_backward(make_shape(2, 32, 112, 112, 3, 1, true, layout), rng, 2);
        ++count;
    }
    int fdc = 0;
    for (int k : {1, 3, 5})
        for (int stride : {1, 2})
            for (int32_t layout : {FX_LAYOUT_NHWC, FX_LAYOUT_NCHW}) {
                check_finite_differences(make_shape(2, 3, 5, 4 + stride, k, stride, (k + stride) % 2 == 0, layout), rng);
                ++fdc;
            }
    std::printf("backward: %d reference cases, %d finite-difference cases\n", count, fdc);
}

// Thread counts give bitwise identical outputs; NHWC and NCHW agree with each other (same values, transposed).
void test_threads_and_layouts(Rng &rng) {
    for (int32_t layout : {FX_LAYOUT_NHWC, FX_LAYOUT_NCHW}) {
        const fx_depthwise_shape s = make_shape(3, 72, 23, 19, 5, 2, true, layout);
        const int64_t nx = s.n * s.c * s.h * s.w, ny = s.n * s.c * s.out_h * s.out_w;
        std::vector<float> x = random_vec(rng, (size_t)nx, -2, 2), w = random_vec(rng, (size_t)(s.c * 25), -1, 1);
        std::vector<float> b = random_vec(rng, (size_t)s.c, -1, 1), dy = random_vec(rng, (size_t)ny, -1, 1);
        std::vector<float> y1((size_t)ny), yt((size_t)ny), se1((size_t)(s.n * s.c)), set((size_t)(s.n * s.c));
        std::vector<float> dx1((size_t)nx), dxt((size_t)nx), dw1((size_t)(s.c * 25)), dwt((size_t)(s.c * 25));
        CHECK(fx_depthwise_forward_cpu(&s, x.data(), w.data(), b.data(), FX_ACT_SILU, y1.data(), se1.data(), 1) == FX_OK);
        CHECK(fx_depthwise_backward_cpu(&s, x.data(), w.data(), dy.data(), dx1.data(), dw1.data(), nullptr, 1) == FX_OK);
        for (int32_t t : {2, 3, 8, 64}) {
            CHECK(fx_depthwise_forward_cpu(&s, x.data(), w.data(), b.data(), FX_ACT_SILU, yt.data(), set.data(), t) == FX_OK);
            CHECK(yt == y1 && set == se1, "forward with %d threads differs", t);
            CHECK(fx_depthwise_backward_cpu(&s, x.data(), w.data(), dy.data(), dxt.data(), dwt.data(), nullptr, t) == FX_OK);
            CHECK(dxt == dx1 && dwt == dw1, "backward with %d threads differs", t);
        }
    }
}

void test_validation() {
    fx_depthwise_shape good = make_shape(2, 16, 10, 10, 3, 1, true, FX_LAYOUT_NHWC);
    std::vector<float> x(2 * 16 * 100, 1.0f), w(16 * 9, 1.0f), b(16, 0.0f), dy(2 * 16 * 100, 1.0f);
    std::vector<float> y(2 * 16 * 100, -7.0f), se(32, -7.0f), dx(2 * 16 * 100, -7.0f), dw(16 * 9, -7.0f), db(16, -7.0f);
    auto untouched = [&]() {
        for (auto *v : {&y, &se, &dx, &dw, &db})
            for (float f : *v)
                if (f != -7.0f) return false;
        return true;
    };
    auto fwd = [&](const fx_depthwise_shape *s, const float *xp, const float *wp, const float *bp, int act, float *yp,
                   float *sp, int th) {
        const fx_status st = fx_depthwise_forward_cpu(s, xp, wp, bp, act, yp, sp, th);
        return st == FX_ERR_INVALID_ARGUMENT && std::strlen(fx_last_error()) > 0 && untouched();
    };
    CHECK(fwd(nullptr, x.data(), w.data(), b.data(), 1, y.data(), se.data(), 1), "null shape");
    CHECK(fwd(&good, nullptr, w.data(), b.data(), 1, y.data(), se.data(), 1), "null x");
    CHECK(fwd(&good, x.data(), nullptr, b.data(), 1, y.data(), se.data(), 1), "null w");
    CHECK(fwd(&good, x.data(), w.data(), b.data(), 1, nullptr, se.data(), 1), "null y");
    CHECK(fwd(&good, x.data(), w.data(), b.data(), 2, y.data(), se.data(), 1), "bad act");
    CHECK(fwd(&good, x.data(), w.data(), b.data(), -1, y.data(), se.data(), 1), "bad act");
    CHECK(fwd(&good, x.data(), w.data(), b.data(), 1, y.data(), se.data(), 0), "threads 0");
    CHECK(fwd(&good, x.data(), w.data(), b.data(), 1, y.data(), se.data(), -3), "threads < 0");
    CHECK(fwd(&good, x.data(), w.data(), b.data(), 1, x.data(), se.data(), 1), "y == x");
    CHECK(fwd(&good, x.data(), w.data(), b.data(), 1, y.data(), y.data() + 5, 1), "se inside y");
    CHECK(fwd(&good, x.data(), w.data(), b.data(), 1, y.data(), x.data() + 3, 1), "se inside x");
    CHECK(fwd(&good, (const float *)((const char *)x.data() + 1), w.data(), b.data(), 1, y.data(), se.data(), 1),
          "misaligned x");
    // every shape field
    struct Mut {
        const char *what;
        void (*f)(fx_depthwise_shape &);
    };
    const Mut muts[] = {
        {"n 0", [](fx_depthwise_shape &s) { s.n = 0; }},
        {"c -1", [](fx_depthwise_shape &s) { s.c = -1; }},
        {"h 0", [](fx_depthwise_shape &s) { s.h = 0; }},
        {"w huge", [](fx_depthwise_shape &s) { s.w = (int64_t)1 << 40; }},
        {"k even", [](fx_depthwise_shape &s) { s.k = 4; }},
        {"k 9", [](fx_depthwise_shape &s) { s.k = 9; }},
        {"k 0", [](fx_depthwise_shape &s) { s.k = 0; }},
        {"stride 3", [](fx_depthwise_shape &s) { s.stride = 3; }},
        {"stride 0", [](fx_depthwise_shape &s) { s.stride = 0; }},
        {"pad_top -1", [](fx_depthwise_shape &s) { s.pad_top = -1; }},
        {"pad_left k", [](fx_depthwise_shape &s) { s.pad_left = 3; }},
        {"pad_bottom k", [](fx_depthwise_shape &s) { s.pad_bottom = 3; }},
        {"pad_right -5", [](fx_depthwise_shape &s) { s.pad_right = -5; }},
        {"layout 2", [](fx_depthwise_shape &s) { s.layout = 2; }},
        {"out_h wrong", [](fx_depthwise_shape &s) { s.out_h += 1; }},
        {"out_w wrong", [](fx_depthwise_shape &s) { s.out_w = 0; }},
        {"image smaller than k", [](fx_depthwise_shape &s) {
             s.h = 1;
             s.k = 5;
             s.pad_top = s.pad_bottom = 1;
         }},
        {"overflow", [](fx_depthwise_shape &s) {
             s.n = (int64_t)1 << 30;
             s.c = (int64_t)1 << 30;
             s.h = s.w = 1 << 20;
             s.out_h = s.out_w = 1 << 20;
         }},
    };
    for (const Mut &m : muts) {
        fx_depthwise_shape s = good;
        m.f(s);
        CHECK(fwd(&s, x.data(), w.data(), b.data(), 1, y.data(), se.data(), 1), "forward accepted %s", m.what);
        const fx_status st = fx_depthwise_backward_cpu(&s, x.data(), w.data(), dy.data(), dx.data(), dw.data(), db.data(), 1);
        CHECK(st == FX_ERR_INVALID_ARGUMENT && untouched(), "backward accepted %s", m.what);
        if (std::strcmp(m.what, "out_h wrong") != 0 && std::strcmp(m.what, "out_w wrong") != 0) {
            fx_depthwise_shape d = s;
            CHECK(fx_depthwise_shape_derive(&d) == FX_ERR_INVALID_ARGUMENT && d.out_h == s.out_h && d.out_w == s.out_w,
                  "derive accepted %s", m.what);
        }
    }
    CHECK(fx_depthwise_shape_derive(nullptr) == FX_ERR_INVALID_ARGUMENT);
    // backward arguments
    auto bwd = [&](const float *xp, const float *wp, const float *dyp, float *dxp, float *dwp, float *dbp, int th) {
        const fx_status st = fx_depthwise_backward_cpu(&good, xp, wp, dyp, dxp, dwp, dbp, th);
        return st == FX_ERR_INVALID_ARGUMENT && std::strlen(fx_last_error()) > 0 && untouched();
    };
    CHECK(bwd(x.data(), w.data(), nullptr, dx.data(), dw.data(), db.data(), 1), "null dy");
    CHECK(bwd(x.data(), w.data(), dy.data(), nullptr, nullptr, nullptr, 1), "no output");
    CHECK(bwd(nullptr, w.data(), dy.data(), dx.data(), dw.data(), db.data(), 1), "dw without x");
    CHECK(bwd(x.data(), nullptr, dy.data(), dx.data(), dw.data(), db.data(), 1), "dx without w");
    CHECK(bwd(x.data(), w.data(), dy.data(), dx.data(), dw.data(), db.data(), 0), "threads 0");
    CHECK(bwd(x.data(), w.data(), dy.data(), dy.data(), dw.data(), db.data(), 1), "dx == dy");
    CHECK(bwd(x.data(), w.data(), dy.data(), dx.data(), dx.data() + 4, db.data(), 1), "dw inside dx");
    CHECK(bwd(x.data(), w.data(), dy.data(), dx.data(), dw.data(), w.data() + 1, 1), "db inside w");
    CHECK(bwd(x.data(), w.data(), dy.data(), dx.data(), (float *)((char *)dw.data() + 2), db.data(), 1), "misaligned dw");
    // derive
    fx_depthwise_shape d = good;
    d.out_h = d.out_w = -1;
    CHECK(fx_depthwise_shape_derive(&d) == FX_OK && d.out_h == 10 && d.out_w == 10);
    d = make_shape(1, 1, 224, 224, 3, 2, true, FX_LAYOUT_NCHW);
    CHECK(d.out_h == 112 && d.pad_top == 0 && d.pad_bottom == 1, "TF same 224 k3 s2");
    // CUDA entry points: UNSUPPORTED without CUDA (their own tests run with CUDA)
    if (!fx_cuda_compiled()) {
        int64_t bytes = 5;
        CHECK(fx_depthwise_forward_cuda(&good, FX_DTYPE_FLOAT32, x.data(), w.data(), nullptr, 0, y.data(), nullptr,
                                        nullptr) == FX_ERR_UNSUPPORTED);
        CHECK(fx_depthwise_backward_cuda_workspace(&good, FX_DTYPE_FLOAT32, &bytes) == FX_ERR_UNSUPPORTED);
        CHECK(fx_depthwise_backward_cuda(&good, FX_DTYPE_FLOAT32, x.data(), w.data(), dy.data(), dx.data(), nullptr,
                                         nullptr, nullptr, 0, nullptr) == FX_ERR_UNSUPPORTED);
        CHECK(untouched());
    }
}

} // namespace

int main(int argc, char **argv) {
    if (argc == 3 && std::strcmp(argv[1], "--isa") == 0) {
        g_isa = isa_code(argv[2]);
        if (g_isa < 0) {
            std::printf("--isa %s: unknown ISA\n", argv[2]);
            return 2;
        }
        if (fx_cpu_set_isa(g_isa) != FX_OK) { // as the CUDA tests without a GPU
            std::printf("SKIPPED: %s\n", fx_last_error());
            return 0;
        }
    } else if (argc != 1) {
        std::printf("usage: test_depthwise_cpu [--isa auto|scalar|avx2|avx2-vnni|avx512]\n");
        return 2;
    }
    std::printf("ISA of the single-ISA checks: %s\n", isa_name(fx_cpu_isa()));
    // No OpenMP runtime in this process (test_depthwise_openmp has one): the library's own pool, OpenMP refused.
    CHECK(fx_depthwise_threading() == FX_THREADING_POOL);
    CHECK(fx_depthwise_set_threading(FX_THREADING_OPENMP) == FX_ERR_UNSUPPORTED);
    CHECK(fx_depthwise_threading() == FX_THREADING_POOL);
    // nor any OpenBLAS: refused, after the argument check
    CHECK(fx_cpu_blas_threads() == -1);
    CHECK(fx_cpu_blas_set_threads(0) == FX_ERR_INVALID_ARGUMENT);
    CHECK(fx_cpu_blas_set_threads(1) == FX_ERR_UNSUPPORTED);
    Rng rng(4);
    test_validation();
    test_threads_and_layouts(rng);
    test_odd_shapes(rng);
    test_backward(rng);
    test_efficientnet_shapes(rng);
    std::printf("max error / (|ref| + scale): %.3g; max relative error where |ref| >= 1%% of scale: %.3g\n", g_max_err,
                g_max_rel);
    return test_summary();
}

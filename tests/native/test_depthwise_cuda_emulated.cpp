// The CUDA depthwise kernels' block algorithms (kernels/cuda/depthwise_core.h) run on the host, block by block and
// phase by phase as the GPU runs them, with the grids of launch_geometry, compared with the double-precision
// reference for float32, float16 and bfloat16, NHWC (vector and scalar channel paths) and NCHW, forward (bias,
// SiLU, SE sums) and backward (dx, and dw/db through the tiled reduction and its final pass). Needs no GPU.
#include "depthwise_ref.h"
#include "test_util.h"

#include "../../kernels/cuda/depthwise_core.h"

#include <algorithm>

using namespace fxtest;
using namespace fxdw;
namespace d = fx::cuda::dw;

namespace {

struct HostExec {
    int64_t x = 0, y = 0, z = 0;
    int threads = 0;
    int64_t bx() const { return x; }
    int64_t by() const { return y; }
    int64_t bz() const { return z; }
    template <class F>
    void each(F &&f) {
        for (int t = 0; t < threads; ++t) f(t);
    }
    void sync() {}
    void atomic_add(float *p, float v) { *p += v; }
};

template <class F>
void run_grid(const d::Launch &l, F &&block) {
    std::vector<float> smem((size_t)(l.smem_bytes / 4) + 16);
    for (int64_t z = 0; z < l.gz; ++z)
        for (int64_t y = 0; y < l.gy; ++y)
            for (int64_t x = 0; x < l.gx; ++x) {
                std::fill(smem.begin(), smem.end(), std::nanf("")); // no phase may read what it did not write
                HostExec ex;
                ex.x = x;
                ex.y = y;
                ex.z = z;
                ex.threads = l.threads;
                block(smem.data(), ex);
            }
}

// Tensors in dtype (bits) from float values, and back.
template <int DT>
std::vector<uint8_t> encode(const std::vector<float> &v) {
    std::vector<uint8_t> out(v.size() * (size_t)d::esize<DT>() + 16);
    for (size_t i = 0; i < v.size(); ++i) d::store1<DT>(out.data(), (int64_t)i, v[i]);
    return out;
}
template <int DT>
std::vector<float> decode(const std::vector<uint8_t> &b, size_t n) {
    std::vector<float> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = d::load1<DT>(b.data(), (int64_t)i);
    return v;
}

template <int DT, int K>
void emulate_forward(d::Params p, int layout) {
    if (layout == FX_LAYOUT_NHWC) {
        for (int64_t n0 = 0; n0 < p.n; n0 += 65535) {
            p.n0 = n0;
            const d::Launch l = d::launch_geometry(p, layout, d::kFwd, n0);
            run_grid(l, [&](float *smem, HostExec &ex) {
                if (p.vec == 1)
                    d::fwd_nhwc_block<DT, K, 1>(p, smem, ex);
                else
                    d::fwd_nhwc_block<DT, K, 16 / d::esize<DT>()>(p, smem, ex);
            });
        }
    } else {
        run_grid(d::launch_geometry(p, layout, d::kFwd, 0),
                 [&](float *smem, HostExec &ex) { d::fwd_nchw_block<DT, K>(p, smem, ex); });
    }
}

template <int DT, int K>
void emulate_backward(d::Params p, int layout, bool want_dx, bool want_dw) {
    if (want_dx) {
        if (layout == FX_LAYOUT_NHWC) {
            p.n0 = 0;
            run_grid(d::launch_geometry(p, layout, d::kDx, 0), [&](float *smem, HostExec &ex) {
                if (p.vec == 1)
                    d::dx_nhwc_block<DT, K, 1>(p, smem, ex);
                else
                    d::dx_nhwc_block<DT, K, 16 / d::esize<DT>()>(p, smem, ex);
            });
        } else {
            run_grid(d::launch_geometry(p, layout, d::kDx, 0),
                     [&](float *smem, HostExec &ex) { d::dx_nchw_block<DT, K>(p, smem, ex); });
        }
    }
    if (want_dw) {
        run_grid(d::launch_geometry(p, layout, d::kDw, 0), [&](float *smem, HostExec &ex) {
            if (layout == FX_LAYOUT_NHWC)
                d::dw_nhwc_block<DT, K>(p, smem, ex);
            else
                d::dw_nchw_block<DT, K>(p, smem, ex);
        });
        const d::Launch f = d::launch_geometry(p, layout, d::kFinish, 0);
        for (int64_t b = 0; b < f.gx; ++b)
            for (int t = 0; t < f.threads; ++t) d::dw_finish<DT>(p, b * f.threads + t);
    }
}

template <int DT>
double dtype_tol() {
    return DT == FX_DTYPE_FLOAT32 ? 1e-5 : DT == FX_DTYPE_FLOAT16 ? 2e-3 : 1.6e-2;
}

const char *dt_name(int dt) { return dt == 0 ? "f32" : dt == 1 ? "f16" : "bf16"; }

template <int DT, int K>
void check_case(const fx_depthwise_shape &s, bool aligned, int variant, Rng &rng) {
    const int64_t nx = s.n * s.c * s.h * s.w, ny = s.n * s.c * s.out_h * s.out_w, nw = s.c * K * K;
    // values representable in dtype, so the reference sees what the kernel sees
    auto rnd = [&](size_t n, double lo, double hi) {
        std::vector<float> v(n);
        for (auto &f : v) {
            f = (float)(lo + (hi - lo) * rng.unit());
            std::vector<float> one{f};
            f = decode<DT>(encode<DT>(one), 1)[0];
        }
        return v;
    };
    std::vector<float> x = rnd((size_t)nx, -2, 2), w = rnd((size_t)nw, -1, 1), b = rnd((size_t)s.c, -0.5, 0.5);
    std::vector<float> dy = rnd((size_t)ny, -1, 1);
    const bool use_b = variant != 2, use_se = variant != 1;
    const int act = variant == 2 ? FX_ACT_NONE : FX_ACT_SILU;
    std::vector<uint8_t> xb = encode<DT>(x), wb = encode<DT>(w), bb = encode<DT>(b), dyb = encode<DT>(dy);
    std::vector<uint8_t> yb((size_t)ny * (size_t)d::esize<DT>() + 16, 0xEE);
    std::vector<float> se((size_t)(s.n * s.c), 0.0f); // the entry point zeroes it (cudaMemsetAsync) before the kernel
    d::Params p = d::make_params(s, DT, aligned);
    p.x = xb.data();
    p.w = wb.data();
    p.b = use_b ? bb.data() : nullptr;
    p.y = yb.data();
    p.se = use_se ? se.data() : nullptr;
    p.act = act;
    emulate_forward<DT, K>(p, s.layout);
    std::vector<double> ry, rmag, rsum;
    ref_forward(s, x.data(), w.data(), use_b ? b.data() : nullptr, act, &ry, &rmag, &rsum);
    const std::vector<float> y = decode<DT>(yb, (size_t)ny);
    const double tol = dtype_tol<DT>();
    // float16 results below 2^-14 are subnormal: absolute spacing 2^-24
    const double abs_floor = DT == FX_DTYPE_FLOAT16 ? std::ldexp(1.0, -24) : 1e-30;
    int bad = 0;
    for (int64_t i = 0; i < ny; ++i) {
        const double err = std::fabs(y[(size_t)i] - ry[(size_t)i]);
        if (!(err <= tol * (std::fabs(ry[(size_t)i]) + rmag[(size_t)i]) + abs_floor) && bad++ < 3)
            CHECK(false, "%s %s vec %d: y[%lld] = %.7g, reference %.7g", dt_name(DT), shape_str(s).c_str(), p.vec,
                  (long long)i, (double)y[(size_t)i], ry[(size_t)i]);
    }
    bool guard = true;
    for (size_t i = (size_t)ny * (size_t)d::esize<DT>(); i < yb.size(); ++i) guard = guard && yb[i] == 0xEE;
    CHECK(guard, "%s %s: wrote past y", dt_name(DT), shape_str(s).c_str());
    if (use_se)
        for (int64_t i = 0; i < s.n * s.c; ++i) {
            double scale = 0;
            for (int64_t q = 0; q < s.out_h * s.out_w; ++q)
                scale += rmag[(size_t)idx(s, i / s.c, i % s.c, q / s.out_w, q % s.out_w, s.out_h, s.out_w)];
            // the sums are of the float32 values before rounding: float32 accuracy
            if (!(std::fabs(se[(size_t)i] - rsum[(size_t)i]) <= 1e-5 * (std::fabs(rsum[(size_t)i]) + scale)) && bad++ < 6)
                CHECK(false, "%s %s: se[%lld] = %.7g, reference %.7g", dt_name(DT), shape_str(s).c_str(), (long long)i,
                      (double)se[(size_t)i], rsum[(size_t)i]);
        }
    // backward
    std::vector<uint8_t> dxb((size_t)nx * (size_t)d::esize<DT>() + 16, 0xEE), dwb((size_t)nw * (size_t)d::esize<DT>() + 16, 0xEE),
        dbb((size_t)s.c * (size_t)d::esize<DT>() + 16, 0xEE);
    std::vector<float> partial((size_t)(p.tiles * s.c * (K * K + 1)), std::nanf(""));
    p.dy = dyb.data();
    p.dx = dxb.data();
    p.dw = dwb.data();
    p.db = dbb.data();
    p.partial = partial.data();
    emulate_backward<DT, K>(p, s.layout, true, true);
    std::vector<double> rdx, rdw, rdb, mdx, mdw, mdb;
    ref_backward(s, x.data(), w.data(), dy.data(), &rdx, &rdw, &rdb);
    std::vector<float> ax(x), aw(w), ady(dy);
    for (auto &v : ax) v = std::fabs(v);
    for (auto &v : aw) v = std::fabs(v);
    for (auto &v : ady) v = std::fabs(v);
    ref_backward(s, ax.data(), aw.data(), ady.data(), &mdx, &mdw, &mdb);
    const std::vector<float> dx = decode<DT>(dxb, (size_t)nx), dw = decode<DT>(dwb, (size_t)nw), db = decode<DT>(dbb, (size_t)s.c);
    auto cmp = [&](const char *what, const std::vector<float> &got, const std::vector<double> &ref, const std::vector<double> &mag) {
        for (size_t i = 0; i < got.size(); ++i)
            if (!(std::fabs(got[i] - ref[i]) <= tol * (std::fabs(ref[i]) + mag[i]) + abs_floor) && bad++ < 9)
                CHECK(false, "%s %s: %s[%zu] = %.7g, reference %.7g", dt_name(DT), shape_str(s).c_str(), what, i,
                      (double)got[i], ref[i]);
    };
    cmp("dx", dx, rdx, mdx);
    cmp("dw", dw, rdw, mdw);
    cmp("db", db, rdb, mdb);
    CHECK(bad == 0, "%s %s vec %d variant %d: %d values off", dt_name(DT), shape_str(s).c_str(), p.vec, variant, bad);
}

template <int DT>
void check_dt(const fx_depthwise_shape &s, bool aligned, int variant, Rng &rng) {
    switch (s.k) {
    case 1: check_case<DT, 1>(s, aligned, variant, rng); break;
    case 3: check_case<DT, 3>(s, aligned, variant, rng); break;
    case 5: check_case<DT, 5>(s, aligned, variant, rng); break;
    default: check_case<DT, 7>(s, aligned, variant, rng); break;
    }
}

void check_all(const fx_depthwise_shape &s, bool aligned, int variant, Rng &rng) {
    check_dt<FX_DTYPE_FLOAT32>(s, aligned, variant, rng);
    check_dt<FX_DTYPE_FLOAT16>(s, aligned, variant, rng);
    check_dt<FX_DTYPE_BFLOAT16>(s, aligned, variant, rng);
}

} // namespace

int main() {
    Rng rng(44);
    // conversions: every float16 / bfloat16 pattern round-trips; float -> half/bf16 agree with test_util's references
    int conv_bad = 0;
    for (uint32_t h = 0; h < 65536; ++h) {
        const float f = d::half_to_float((uint16_t)h);
        if (!std::isnan(f) && d::float_to_half(f) != h) ++conv_bad;
        const float g = d::bf16_to_float((uint16_t)h);
        if (!std::isnan(g) && d::float_to_bf16(g) != h) ++conv_bad;
    }
    for (int i = 0; i < 200000; ++i) {
        uint32_t u = (uint32_t)rng.next();
        if (i % 2) u = (u & 0x80000000u) | (0x33000000u + (u % 0x14000000u)); // around the half range
        float f;
        std::memcpy(&f, &u, 4);
        if (std::isnan(f)) continue;
        if (d::float_to_bf16(f) != ref_bfloat16(f)) ++conv_bad;
        if (i % 40 == 0 && d::float_to_half(f) != ref_half(f)) ++conv_bad;
    }
    CHECK(conv_bad == 0, "%d conversion mismatches", conv_bad);

    int cases = 0;
    for (int v : {0, 4, 7}) {
        for (const Layer &l : efficientnet_layers(v)) {
            if (rng.unit() > 0.25) continue;
            const int64_t h = l.h > 9 ? 7 + (l.h % 2) : l.h;
            for (int32_t layout : {FX_LAYOUT_NHWC, FX_LAYOUT_NCHW}) {
                check_all(make_shape(2, l.c, h, h, l.k, l.stride, rng.chance(0.5), layout), true, cases % 3, rng);
                ++cases;
            }
        }
    }
    for (int64_t c : {1, 3, 8, 12, 20, 37})
        for (int k : {1, 3, 5, 7})
            for (int32_t layout : {FX_LAYOUT_NHWC, FX_LAYOUT_NCHW}) {
                const int64_t h = 3 + (int64_t)(rng.next() % 9), w = 3 + (int64_t)(rng.next() % 11);
                fx_depthwise_shape s = make_shape(2, c, h, w, k, 1 + (int)(rng.next() % 2), rng.chance(0.5), layout);
                if (fx_depthwise_shape_derive(&s) != FX_OK) continue;
                check_all(s, rng.chance(0.7), cases % 3, rng);
                ++cases;
            }
    std::printf("emulated CUDA depthwise: %d shapes x 3 dtypes\n", cases);
    return test_summary();
}

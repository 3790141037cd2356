// fx_depthwise_*_cuda on a GPU against the double-precision reference (float32 within 1e-5 of the term scale,
// float16 / bfloat16 within their rounding), NHWC and NCHW, B0..B7 layer shapes at reduced size plus odd ones;
// validation (host pointers, bad dtype, small workspace). Without a device: prints "SKIPPED: ..." and exits 77 (ctest reports a skip).
#include "depthwise_ref.h"
#include "test_util.h"

#include "../../kernels/cuda/depthwise_core.h"

#include <cuda_runtime.h>

using namespace fxtest;
using namespace fxdw;
namespace d = fx::cuda::dw;

namespace {

struct Dev {
    void *p = nullptr;
    explicit Dev(size_t n) { cudaMalloc(&p, n + 16); }
    ~Dev() { cudaFree(p); }
};

template <int DT>
std::vector<uint8_t> encode(const std::vector<float> &v) {
    std::vector<uint8_t> out(v.size() * (size_t)d::esize<DT>());
    for (size_t i = 0; i < v.size(); ++i) d::store1<DT>(out.data(), (int64_t)i, v[i]);
    return out;
}
template <int DT>
std::vector<float> fetch(const void *dev, size_t n) {
    std::vector<uint8_t> b(n * (size_t)d::esize<DT>());
    cudaMemcpy(b.data(), dev, b.size(), cudaMemcpyDeviceToHost);
    std::vector<float> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = d::load1<DT>(b.data(), (int64_t)i);
    return v;
}
template <int DT>
void* upload(Dev &dst, const std::vector<float> &v) {
    const std::vector<uint8_t> b = encode<DT>(v);
    cudaMemcpy(dst.p, b.data(), b.size(), cudaMemcpyHostToDevice);
    return dst.p;
}

template <int DT>
void check(const fx_depthwise_shape &s, Rng &rng, cudaStream_t stream) {
    const int64_t nx = s.n * s.c * s.h * s.w, ny = s.n * s.c * s.out_h * s.out_w, nw = s.c * s.k * s.k;
    auto rnd = [&](size_t n, double lo, double hi) {
        std::vector<float> v(n);
        for (auto &f : v) {
            uint8_t b[4];
            d::store1<DT>(b, 0, (float)(lo + (hi - lo) * rng.unit()));
            f = d::load1<DT>(b, 0);
        }
        return v;
    };
    std::vector<float> x = rnd((size_t)nx, -2, 2), w = rnd((size_t)nw, -1, 1), b = rnd((size_t)s.c, -0.5, 0.5),
                       dy = rnd((size_t)ny, -1, 1);
    const int es = d::esize<DT>();
    Dev dx_((size_t)nx * es), dw_((size_t)nw * es), db_((size_t)s.c * es), dy_((size_t)ny * es), y_((size_t)ny * es),
        gx_((size_t)nx * es), gw_((size_t)nw * es), gb_((size_t)s.c * es), se_((size_t)(s.n * s.c) * 4);
    upload<DT>(dx_, x);
    upload<DT>(dw_, w);
    upload<DT>(db_, b);
    upload<DT>(dy_, dy);
    fx_status st = fx_depthwise_forward_cuda(&s, DT, dx_.p, dw_.p, db_.p, FX_ACT_SILU, y_.p, (float *)se_.p, stream);
    CHECK(st == FX_OK, "%s: forward %d (%s)", shape_str(s).c_str(), st, fx_last_error());
    int64_t ws = 0;
    CHECK(fx_depthwise_backward_cuda_workspace(&s, DT, &ws) == FX_OK);
    Dev work((size_t)ws);
    st = fx_depthwise_backward_cuda(&s, DT, dx_.p, dw_.p, dy_.p, gx_.p, gw_.p, gb_.p, work.p, ws, stream);
    CHECK(st == FX_OK, "%s: backward %d (%s)", shape_str(s).c_str(), st, fx_last_error());
    CHECK(cudaStreamSynchronize(stream) == cudaSuccess, "%s: %s", shape_str(s).c_str(), cudaGetErrorString(cudaGetLastError()));
    std::vector<double> ry, rmag, rsum, rdx, rdw, rdb, mdx, mdw, mdb;
    ref_forward(s, x.data(), w.data(), b.data(), FX_ACT_SILU, &ry, &rmag, &rsum);
    ref_backward(s, x.data(), w.data(), dy.data(), &rdx, &rdw, &rdb);
    for (auto *v : {&x, &w, &dy})
        for (auto &f : *v) f = std::fabs(f);
    ref_backward(s, x.data(), w.data(), dy.data(), &mdx, &mdw, &mdb);
    const double tol = DT == FX_DTYPE_FLOAT32 ? 1e-5 : DT == FX_DTYPE_FLOAT16 ? 2e-3 : 1.6e-2;
    const double floor_ = DT == FX_DTYPE_FLOAT16 ? std::ldexp(1.0, -24) : 1e-30;
    int bad = 0;
    auto cmp = [&](const char *what, const std::vector<float> &got, const std::vector<double> &ref, const std::vector<double> &mag, double t) {
        for (size_t i = 0; i < got.size(); ++i)
            if (!(std::fabs(got[i] - ref[i]) <= t * (std::fabs(ref[i]) + mag[i]) + floor_) && bad++ < 5)
                CHECK(false, "dtype %d %s: %s[%zu] = %.7g, reference %.7g", DT, shape_str(s).c_str(), what, i, (double)got[i], ref[i]);
    };
    cmp("y", fetch<DT>(y_.p, (size_t)ny), ry, rmag, tol);
    std::vector<float> se((size_t)(s.n * s.c));
    cudaMemcpy(se.data(), se_.p, se.size() * 4, cudaMemcpyDeviceToHost);
    std::vector<double> smag(se.size(), 0.0);
    for (int64_t i = 0; i < s.n * s.c; ++i)
        for (int64_t q = 0; q < s.out_h * s.out_w; ++q)
            smag[(size_t)i] += rmag[(size_t)idx(s, i / s.c, i % s.c, q / s.out_w, q % s.out_w, s.out_h, s.out_w)];
    cmp("se", se, rsum, smag, 1e-4); // float32 sums, device fast exp, atomics in any order
    cmp("dx", fetch<DT>(gx_.p, (size_t)nx), rdx, mdx, tol);
    cmp("dw", fetch<DT>(gw_.p, (size_t)nw), rdw, mdw, tol);
    cmp("db", fetch<DT>(gb_.p, (size_t)s.c), rdb, mdb, tol);
    CHECK(bad == 0, "dtype %d %s: %d values off", DT, shape_str(s).c_str(), bad);
}

} // namespace

int main() {
    int32_t count = 0;
    if (fx_cuda_device_count(&count) != FX_OK || count < 1) {
        return test_skip((std::string("no CUDA device (") + fx_last_error() + ")").c_str());
    }
    cudaStream_t stream;
    cudaStreamCreate(&stream);
    Rng rng(7);
    int cases = 0;
    for (int v = 0; v < 8; ++v)
        for (const Layer &l : efficientnet_layers(v)) {
            if (rng.unit() > 0.2) continue;
            const int64_t h = l.h > 17 ? 15 + (l.h % 2) : l.h;
            for (int32_t layout : {FX_LAYOUT_NHWC, FX_LAYOUT_NCHW}) {
                const fx_depthwise_shape s = make_shape(3, l.c, h, h, l.k, l.stride, rng.chance(0.5), layout);
                check<FX_DTYPE_FLOAT32>(s, rng, stream);
                check<FX_DTYPE_FLOAT16>(s, rng, stream);
                check<FX_DTYPE_BFLOAT16>(s, rng, stream);
                ++cases;
            }
        }
    for (int64_t c : {1, 5, 12, 37})
        for (int k : {1, 3, 5, 7})
            for (int32_t layout : {FX_LAYOUT_NHWC, FX_LAYOUT_NCHW}) {
                fx_depthwise_shape s = make_shape(2, c, 6 + k, 9, k, 1 + (int)(c % 2), true, layout);
                check<FX_DTYPE_FLOAT32>(s, rng, stream);
                check<FX_DTYPE_BFLOAT16>(s, rng, stream);
                ++cases;
            }
    // validation: host memory, bad dtype, too small a workspace
    const fx_depthwise_shape s = make_shape(1, 8, 5, 5, 3, 1, true, FX_LAYOUT_NHWC);
    std::vector<float> host(8 * 25, 0.0f);
    Dev a(8 * 25 * 4), b(8 * 25 * 4), c(8 * 9 * 4), work(1 << 16);
    CHECK(fx_depthwise_forward_cuda(&s, FX_DTYPE_FLOAT32, host.data(), c.p, nullptr, 0, b.p, nullptr, stream) ==
          FX_ERR_INVALID_ARGUMENT, "host x accepted");
    CHECK(fx_depthwise_forward_cuda(&s, FX_DTYPE_UINT8, a.p, c.p, nullptr, 0, b.p, nullptr, stream) == FX_ERR_INVALID_ARGUMENT);
    CHECK(fx_depthwise_forward_cuda(&s, FX_DTYPE_FLOAT32, a.p, c.p, nullptr, 0, a.p, nullptr, stream) == FX_ERR_INVALID_ARGUMENT,
          "y == x accepted");
    CHECK(fx_depthwise_backward_cuda(&s, FX_DTYPE_FLOAT32, a.p, c.p, b.p, nullptr, work.p, nullptr, work.p, 4, stream) ==
          FX_ERR_INVALID_ARGUMENT, "small workspace accepted");
    cudaStreamDestroy(stream);
    std::printf("CUDA depthwise: %d shapes\n", cases);
    return test_summary();
}

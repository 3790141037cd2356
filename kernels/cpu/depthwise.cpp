// Depthwise convolution on the CPU: the fx_depthwise_*_cpu entry points (validation, scratch, threads), the
// portable instantiation of the forward kernels (depthwise_fwd.h) and the backward pass.
//
// Threads: libtorch's OpenMP team, or the library's persistent worker pool without it (pool.cpp, run_parallel; the
// calling thread is one of them; none with one thread) claiming items from an atomic counter; forward items are (n, band of output rows) (NHWC, all channels)
// or (n, c) planes (NCHW), backward items are channel blocks (8 channels, or one channel in NCHW) so that each item
// owns its dw/db sums. Nothing here throws across the ABI: allocation failures become FX_ERR_OUT_OF_MEMORY before
// anything is written, and without workers the caller does every item.
#include "cpu_internal.h"
#include "depthwise_cpu.h"
#include "depthwise_internal.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

namespace fx {
namespace cpu {
namespace {

// ---- the portable vector: 8 floats, loops the compiler may vectorise -----------------------------------------
struct Portable {
    static constexpr int L = 8; // lanes
    static constexpr int P = 4; // pixels per register block (2 x 4 accumulators)
    static constexpr int P2 = 4; // the same for stride 2
    static constexpr bool kRowBlock = false;
    struct V {
        float v[8];
    };
    struct M {
        int n;
    };
    static inline V zero() {
        V r;
        for (int i = 0; i < 8; ++i) r.v[i] = 0.0f;
        return r;
    }
    static inline V set1(float f) {
        V r;
        for (int i = 0; i < 8; ++i) r.v[i] = f;
        return r;
    }
    static inline V load(const float *p) {
        V r;
        for (int i = 0; i < 8; ++i) r.v[i] = p[i];
        return r;
    }
    static inline V loadm(const float *p, M m) {
        V r = zero();
        for (int i = 0; i < m.n; ++i) r.v[i] = p[i];
        return r;
    }
    static inline void store(float *p, V v) {
        for (int i = 0; i < 8; ++i) p[i] = v.v[i];
    }
    static inline void storem(float *p, V v, M m) {
        for (int i = 0; i < m.n; ++i) p[i] = v.v[i];
    }
    static inline V load_even(const float *p) {
        V r;
        for (int i = 0; i < 8; ++i) r.v[i] = p[2 * i];
        return r;
    }
    static inline V fma(V a, V b, V c) {
        V r;
        for (int i = 0; i < 8; ++i) r.v[i] = a.v[i] * b.v[i] + c.v[i]; // two roundings (-ffp-contract=off)
        return r;
    }
    static inline V add(V a, V b) {
        V r;
        for (int i = 0; i < 8; ++i) r.v[i] = a.v[i] + b.v[i];
        return r;
    }
    static constexpr bool kExactSilu = true;
    static constexpr bool kFastSiluIn = false; // the input SiLU is silu (dw_silu_in)
    static inline V silu(V a) {
        V r;
        for (int i = 0; i < 8; ++i) r.v[i] = a.v[i] / (1.0f + std::exp(-a.v[i]));
        return r;
    }
    static inline M mask(int n) { return M{n}; }
    static inline V keep(V a, M m) {
        for (int i = m.n; i < 8; ++i) a.v[i] = 0.0f;
        return a;
    }
    static inline void to_array(float *dst, V v) { store(dst, v); }
    // bfloat16 storage (depthwise_fwd.h); defined after it (they use dw_bf16_to_f32 / dw_f32_to_bf16)
    static inline V load_bf(const uint16_t *p);
    static inline V loadm_bf(const uint16_t *p, M m);
    static inline void store_bf(uint16_t *p, V v);
    static inline void storem_bf(uint16_t *p, V v, M m);
};

#include "depthwise_fwd.h"
#include "depthwise_dw.h"

inline Portable::V Portable::load_bf(const uint16_t *p) {
    V r;
    for (int i = 0; i < 8; ++i) r.v[i] = dw_bf16_to_f32(p[i]);
    return r;
}
inline Portable::V Portable::loadm_bf(const uint16_t *p, M m) {
    V r = zero();
    for (int i = 0; i < m.n; ++i) r.v[i] = dw_bf16_to_f32(p[i]);
    return r;
}
inline void Portable::store_bf(uint16_t *p, V v) {
    for (int i = 0; i < 8; ++i) p[i] = dw_f32_to_bf16(v.v[i]);
}
inline void Portable::storem_bf(uint16_t *p, V v, M m) {
    for (int i = 0; i < m.n; ++i) p[i] = dw_f32_to_bf16(v.v[i]);
}

const DwFwdOps kPortableOps = {"portable", &dw_nhwc_dispatch<Portable>, &dw_nhwc_scratch, &dw_nchw_dispatch<Portable>,
                               &dw_grad_dispatch<Portable>, &dw_grad_nchw_dispatch<Portable>};

// ---- threads -----------------------------------------------------------------------------------------------
// Runs f(item, slot) for every item in [0, items) on the calling thread and up to threads - 1 more: the threads of
// libtorch's OpenMP team, or workers of the library's persistent pool (pool.cpp, run_parallel; no thread is started
// per call), claiming items from an atomic counter; slot < threads tells the runs apart (per-run scratch). threads <= 1 (or one item): a plain loop.
template <class F>
struct ItemsCtx {
    const F *f;
    int64_t items;
    std::atomic<int64_t> next;
    std::atomic<int32_t> slot;
};

template <class F>
void items_run(void *p) {
    ItemsCtx<F> *c = static_cast<ItemsCtx<F> *>(p);
    const int32_t t = c->slot.fetch_add(1, std::memory_order_relaxed);
    for (;;) {
        const int64_t i = c->next.fetch_add(1, std::memory_order_relaxed);
        if (i >= c->items) return;
        (*c->f)(i, t);
    }
}

template <class F>
void run_items(int64_t items, int32_t threads, const F &f) {
    if (threads > items) threads = (int32_t)items;
    if (threads <= 1) {
        for (int64_t i = 0; i < items; ++i) f(i, 0);
        return;
    }
    ItemsCtx<F> ctx;
    ctx.f = &f;
    ctx.items = items;
    ctx.next.store(0);
    ctx.slot.store(0);
    BatchFn fn{&items_run<F>, &ctx};
    run_parallel(fn, threads);
}

constexpr int32_t kMaxThreads = 4096;

bool aligned4(const void *p) { return ((uintptr_t)p & 3u) == 0; }

// The kernels of the ISA fx_cpu_isa() reports (fx_cpu_set_isa, FIXRES4J_CPU_ISA or the CPU's best): FX_ISA_AVX512
// the AVX-512 NHWC kernels, FX_ISA_AVX2 and FX_ISA_AVX2_VNNI the AVX2 ones, FX_ISA_SCALAR the portable ones.
const DwFwdOps &forward_ops() {
#if defined(FIXRES4J_HAVE_AVX2)
    switch (fx_cpu_isa()) {
#if defined(FIXRES4J_HAVE_AVX512_DW)
    case FX_ISA_AVX512: return dw_avx512_ops();
#else
    case FX_ISA_AVX512:
#endif
    case FX_ISA_AVX2:
    case FX_ISA_AVX2_VNNI: return dw_avx2_ops();
    default: break;
    }
#endif
    return kPortableOps;
}

// The kernels for a forward call: bfloat16 calls under FX_ISA_AVX512 take the AVX512-BF16 instance where the CPU
// has it (same rounding rule, one instruction); everything else forward_ops().
const DwFwdOps &forward_ops_for(bool bf16) {
#if defined(FIXRES4J_HAVE_AVX512_BF16_DW)
    if (bf16 && fx_cpu_isa() == FX_ISA_AVX512 && dw_cpu_has_avx512_bf16()) return dw_avx512_bf16_ops();
#else
    (void)bf16;
#endif
    return forward_ops();
}

int64_t round8(int64_t v) { return (v + 7) & ~(int64_t)7; }

// ---- backward (portable code for both ISAs; the compiler vectorises the lane loops) ----------------------------
struct DwBwdJob {
    const float *x, *w, *wt, *dy;
    float *dx, *dw, *db;
    int64_t n, c, h, w_, cpad, oh, ow;
    int32_t k, s, pt, pl;
};

constexpr int kBwdBlock = 8;

// NHWC, channels [c0, c0 + cb), cb <= 8, all images.
void bwd_nhwc_item(const DwBwdJob &j, int64_t c0, int cb) {
    const int64_t C = j.c, H = j.h, W = j.w_, OH = j.oh, OW = j.ow;
    const int K = j.k, S = j.s, KK = K * K;
    double dwacc[49][kBwdBlock] = {};
    double dbacc[kBwdBlock] = {};
    for (int64_t n = 0; n < j.n; ++n) {
        if (j.dx != nullptr)
            for (int64_t p = 0; p < H * W; ++p) std::memset(j.dx + (n * H * W + p) * C + c0, 0, sizeof(float) * (size_t)cb);
        for (int64_t oh = 0; oh < OH; ++oh) {
            float dwrow[49][kBwdBlock] = {};
            float dbrow[kBwdBlock] = {};
            const int64_t ih0 = oh * S - j.pt;
            const int64_t khlo = ih0 < 0 ? -ih0 : 0, khhi = K < H - ih0 ? K : H - ih0;
            for (int64_t ow = 0; ow < OW; ++ow) {
                const int64_t iw0 = ow * S - j.pl;
                const int64_t kwlo = iw0 < 0 ? -iw0 : 0, kwhi = K < W - iw0 ? K : W - iw0;
                const float *g = j.dy + ((n * OH + oh) * OW + ow) * C + c0;
                for (int l = 0; l < cb; ++l) dbrow[l] += g[l];
                for (int64_t kh = khlo; kh < khhi; ++kh)
                    for (int64_t kw = kwlo; kw < kwhi; ++kw) {
                        const int64_t off = ((n * H + ih0 + kh) * W + iw0 + kw) * C + c0;
                        const int64_t t = kh * K + kw;
                        if (j.dw != nullptr) {
                            const float *xp = j.x + off;
                            float *acc = dwrow[t];
                            for (int l = 0; l < cb; ++l) acc[l] += g[l] * xp[l];
                        }
                        if (j.dx != nullptr) {
                            float *dxp = j.dx + off;
                            const float *wtp = j.wt + t * j.cpad + c0;
                            for (int l = 0; l < cb; ++l) dxp[l] += g[l] * wtp[l];
                        }
                    }
            }
            for (int t = 0; t < KK; ++t)
                for (int l = 0; l < cb; ++l) dwacc[t][l] += (double)dwrow[t][l];
            for (int l = 0; l < cb; ++l) dbacc[l] += (double)dbrow[l];
        }
    }
    if (j.dw != nullptr)
        for (int l = 0; l < cb; ++l)
            for (int t = 0; t < KK; ++t) j.dw[(c0 + l) * KK + t] = (float)dwacc[t][l];
    if (j.db != nullptr)
        for (int l = 0; l < cb; ++l) j.db[c0 + l] = (float)dbacc[l];
}

// NCHW, channel c, all images.
void bwd_nchw_item(const DwBwdJob &j, int64_t c) {
    const int64_t H = j.h, W = j.w_, OH = j.oh, OW = j.ow;
    const int K = j.k, S = j.s, KK = K * K;
    double dwacc[49] = {};
    double dbacc = 0.0;
    // output columns whose tap kw lies inside the row: [lo[kw], hi[kw])
    int64_t lo[7], hi[7];
    for (int kw = 0; kw < K; ++kw) {
        // iw = ow * S - pl + kw in [0, W)
        int64_t a = j.pl - kw; // ow * S >= a
        lo[kw] = a <= 0 ? 0 : (a + S - 1) / S;
        const int64_t b = W - 1 + j.pl - kw; // ow * S <= b
        hi[kw] = b < 0 ? 0 : b / S + 1;
        if (hi[kw] > OW) hi[kw] = OW;
        if (lo[kw] > hi[kw]) lo[kw] = hi[kw];
    }
    const float *wc = j.w != nullptr ? j.w + c * KK : nullptr;
    for (int64_t n = 0; n < j.n; ++n) {
        const float *xp = j.x != nullptr ? j.x + (n * j.c + c) * H * W : nullptr;
        float *dxp = j.dx != nullptr ? j.dx + (n * j.c + c) * H * W : nullptr;
        const float *gp = j.dy + (n * j.c + c) * OH * OW;
        if (dxp != nullptr) std::memset(dxp, 0, sizeof(float) * (size_t)(H * W));
        for (int64_t oh = 0; oh < OH; ++oh) {
            const float *g = gp + oh * OW;
            float dbrow = 0.0f;
            for (int64_t ow = 0; ow < OW; ++ow) dbrow += g[ow];
            dbacc += (double)dbrow;
            const int64_t ih0 = oh * S - j.pt;
            const int64_t khlo = ih0 < 0 ? -ih0 : 0, khhi = K < H - ih0 ? K : H - ih0;
            for (int64_t kh = khlo; kh < khhi; ++kh) {
                const int64_t row = (ih0 + kh) * W - j.pl;
                for (int kw = 0; kw < K; ++kw) {
                    const int64_t t = kh * K + kw;
                    if (xp != nullptr && j.dw != nullptr) {
                        const float *xr = xp + row + kw;
                        float acc = 0.0f;
                        for (int64_t ow = lo[kw]; ow < hi[kw]; ++ow) acc += g[ow] * xr[ow * S];
                        dwacc[t] += (double)acc;
                    }
                    if (dxp != nullptr) {
                        float *dr = dxp + row + kw;
                        const float wv = wc[t];
                        for (int64_t ow = lo[kw]; ow < hi[kw]; ++ow) dr[ow * S] += g[ow] * wv;
                    }
                }
            }
        }
    }
    if (j.dw != nullptr)
        for (int t = 0; t < KK; ++t) j.dw[c * KK + t] = (float)dwacc[t];
    if (j.db != nullptr) j.db[c] = (float)dbacc;
}

// The fields of a forward job that come from the shape (NHWC groups of 16 channels: cpad = c rounded up to 16).
DwFwdJob shape_job(const fx_depthwise_shape &s, const float *x) {
    DwFwdJob job{};
    job.x = x;
    job.n = s.n;
    job.c = s.c;
    job.h = s.h;
    job.w = s.w;
    job.cpad = (s.c + 15) & ~(int64_t)15;
    job.k = s.k;
    job.s = s.stride;
    job.pt = s.pad_top;
    job.pl = s.pad_left;
    job.oh = s.out_h;
    job.ow = s.out_w;
    return job;
}

// NHWC items are (image, band of output rows); bands only when there are too few images for the threads.
int64_t row_bands(const fx_depthwise_shape &s, int32_t threads) {
    int64_t bands = 1;
    if (threads > 1 && s.n < 4 * (int64_t)threads) {
        bands = (4 * (int64_t)threads + s.n - 1) / s.n;
        if (bands > s.out_h) bands = s.out_h;
    }
    return bands;
}

// The forward pass on a validated shape (may throw std::bad_alloc; writes nothing before its scratch exists).
// bfloat16: xb and yb instead of x and y (nullptr); w and b are float32 here (the entry point widened them).
void forward_run(const fx_depthwise_shape *shape, const float *x, const float *w, const float *b, int32_t act, float *y,
                 float *se_sums, int32_t threads, const uint16_t *xb = nullptr, uint16_t *yb = nullptr) {
    const fx_depthwise_shape &s = *shape;
    const int32_t K = s.k, KK = K * K;
    DwFwdJob job = shape_job(s, x);
    job.wgt = w;
    job.y = y;
    job.xb = xb;
    job.yb = yb;
    job.se = se_sums;
    job.act = act & ~(int32_t)FX_ACT_IN_SILU;
    job.in_silu = (act & FX_ACT_IN_SILU) != 0;
    const DwFwdOps &ops = forward_ops_for(xb != nullptr);
    {
        std::vector<float> bias((size_t)job.cpad, 0.0f);
        if (b != nullptr) std::memcpy(bias.data(), b, sizeof(float) * (size_t)s.c);
        job.bias = bias.data();
        if (s.layout == FX_LAYOUT_NHWC) {
            std::vector<float> wt((size_t)(KK * job.cpad), 0.0f); // [group][tap][16]
            for (int64_t c = 0; c < s.c; ++c)
                for (int32_t t = 0; t < KK; ++t) wt[(size_t)(((c >> 4) * KK + t) * 16 + (c & 15))] = w[c * KK + t];
            job.wt = wt.data();
            // items: (image, band of output rows)
            const int64_t OH = s.out_h, bands = row_bands(s, threads);
            // SE sums: double partial sums per item, added up in a fixed order afterwards (deterministic)
            std::vector<double> part;
            if (se_sums != nullptr) part.assign((size_t)(s.n * bands * s.c), 0.0);
            // scratch: the packed input rows of one item, per run slot
            const int64_t items = s.n * bands;
            const int32_t nt = (int32_t)(threads < items ? threads : items);
            const size_t per = (size_t)ops.nhwc_scratch(job) + 8; // + alignment slack
            std::vector<float> scratch(per * (size_t)nt);
            run_items(items, nt, [&](int64_t item, int32_t t) {
                const int64_t n = item / bands, bnd = item % bands;
                const int64_t oh0 = OH * bnd / bands, oh1 = OH * (bnd + 1) / bands;
                float *buf = scratch.data() + per * (size_t)t;
                buf = reinterpret_cast<float *>(((uintptr_t)buf + 31) & ~(uintptr_t)31);
                ops.nhwc(job, n, oh0, oh1, se_sums != nullptr ? part.data() + item * s.c : nullptr, buf);
            });
            if (se_sums != nullptr)
                for (int64_t n = 0; n < s.n; ++n)
                    for (int64_t c = 0; c < s.c; ++c) {
                        double acc = 0.0;
                        for (int64_t bnd = 0; bnd < bands; ++bnd) acc += part[(size_t)((n * bands + bnd) * s.c + c)];
                        se_sums[n * s.c + c] = (float)acc;
                    }
        } else {
            const int64_t ow8 = round8(s.out_w);
            int64_t wp = ow8 * s.stride + K;
            if (wp < s.pad_left + s.w) wp = s.pad_left + s.w;
            wp = round8(wp);
            job.wp = (int32_t)wp;
            const int64_t items = s.n * s.c;
            const int32_t nt = (int32_t)(threads < items ? threads : items);
            const size_t per = (size_t)(s.h * wp) + 8; // + alignment slack
            std::vector<float> bufs(per * (size_t)nt, 0.0f);
            run_items(items, nt, [&](int64_t item, int32_t t) {
                float *buf = bufs.data() + per * (size_t)t;
                buf = reinterpret_cast<float *>(((uintptr_t)buf + 31) & ~(uintptr_t)31);
                ops.nchw(job, item / s.c, item % s.c, buf);
            });
        }
    }
}

// dx as a forward pass (NHWC and NCHW): the input gradient of a depthwise convolution is the convolution of dy (stride 2: with
// a zero between neighbouring pixels) with the kernel turned by 180 degrees and the complementary padding
// (k - 1 - pad_top on top, k - 1 - pad_left on the left; the bottom and right follow from the output being h x w),
// so it runs on the vectorised forward kernels. Returns false, having written nothing, when that padding falls
// outside the forward's range [0, k - 1]; the direct loop (bwd_nhwc_item) then serves.
bool dx_by_forward(const fx_depthwise_shape &s, const float *w, const float *dy, float *dx, int32_t threads) {
    const int32_t K = s.k, KK = K * K;
    const int64_t hd = s.stride == 1 ? s.out_h : 2 * (int64_t)s.out_h - 1;
    const int64_t wd = s.stride == 1 ? s.out_w : 2 * (int64_t)s.out_w - 1;
    fx_depthwise_shape t{};
    t.n = s.n;
    t.c = s.c;
    t.h = hd;
    t.w = wd;
    t.k = K;
    t.stride = 1;
    t.pad_top = K - 1 - s.pad_top;
    t.pad_left = K - 1 - s.pad_left;
    const int64_t pb = s.h - hd + K - 1 - t.pad_top, pr = s.w - wd + K - 1 - t.pad_left;
    if (pb < 0 || pb > K - 1 || pr < 0 || pr > K - 1) return false;
    t.pad_bottom = (int32_t)pb;
    t.pad_right = (int32_t)pr;
    t.layout = s.layout;
    t.out_h = (int32_t)s.h;
    t.out_w = (int32_t)s.w;
    std::vector<float> wf((size_t)(s.c * KK));
    for (int64_t c = 0; c < s.c; ++c)
        for (int32_t i = 0; i < KK; ++i) wf[(size_t)(c * KK + i)] = w[c * KK + (KK - 1 - i)];
    const float *src = dy;
    std::vector<float> dilated;
    if (s.stride == 2) {
        dilated.assign((size_t)(s.n * hd * wd * s.c), 0.0f);
        if (s.layout == FX_LAYOUT_NHWC) {
            for (int64_t n = 0; n < s.n; ++n)
                for (int64_t oh = 0; oh < s.out_h; ++oh)
                    for (int64_t ow = 0; ow < s.out_w; ++ow)
                        std::memcpy(dilated.data() + ((n * hd + 2 * oh) * wd + 2 * ow) * s.c,
                                    dy + ((n * s.out_h + oh) * s.out_w + ow) * s.c, sizeof(float) * (size_t)s.c);
        } else {
            for (int64_t p = 0; p < s.n * s.c; ++p)
                for (int64_t oh = 0; oh < s.out_h; ++oh) {
                    float *d = dilated.data() + (p * hd + 2 * oh) * wd;
                    const float *g = dy + (p * s.out_h + oh) * s.out_w;
                    for (int64_t ow = 0; ow < s.out_w; ++ow) d[2 * ow] = g[ow];
                }
        }
        src = dilated.data();
    }
    forward_run(&t, src, wf.data(), nullptr, FX_ACT_NONE, dx, nullptr, threads);
    return true;
}

// NHWC dw and db (either may be null) through the per-ISA row kernels (depthwise_dw.h): each item adds into its own
// double partial sums, which are then added up over the items in item order (the result does not depend on the
// thread count's scheduling).
void dwdb_nhwc(const fx_depthwise_shape &s, const float *x, const float *dy, float *dw, float *db, int32_t threads) {
    const int64_t bands = row_bands(s, threads), items = s.n * bands;
    if (dw == nullptr) {
        // db alone (x may be null): the same sums in the same order as the row kernels' (per row and channel a
        // float sum over the row, added in double per item, items added in order), so db does not depend on
        // whether dw was asked for too
        std::vector<double> acc((size_t)s.c, 0.0), part((size_t)s.c);
        std::vector<float> row((size_t)s.c);
        for (int64_t item = 0; item < items; ++item) {
            const int64_t n = item / bands, bnd = item % bands;
            std::fill(part.begin(), part.end(), 0.0);
            for (int64_t oh = s.out_h * bnd / bands; oh < s.out_h * (bnd + 1) / bands; ++oh) {
                std::fill(row.begin(), row.end(), 0.0f);
                for (int64_t ow = 0; ow < s.out_w; ++ow) {
                    const float *g = dy + ((n * s.out_h + oh) * s.out_w + ow) * s.c;
                    for (int64_t c = 0; c < s.c; ++c) row[(size_t)c] += g[c];
                }
                for (int64_t c = 0; c < s.c; ++c) part[(size_t)c] += (double)row[(size_t)c];
            }
            for (int64_t c = 0; c < s.c; ++c) acc[(size_t)c] += part[(size_t)c];
        }
        for (int64_t c = 0; c < s.c; ++c) db[c] = (float)acc[(size_t)c];
        return;
    }
    const DwFwdOps &ops = forward_ops();
    const DwFwdJob job = shape_job(s, x);
    const int64_t KK = (int64_t)s.k * s.k, cpad = job.cpad;
    const int32_t nt = (int32_t)(threads < items ? threads : items);
    const size_t partsz = (size_t)((KK + 1) * cpad);
    std::vector<double> part(partsz * (size_t)items, 0.0);
    const size_t per = (size_t)ops.nhwc_scratch(job) + 8; // + alignment slack
    std::vector<float> scratch(per * (size_t)nt);
    run_items(items, nt, [&](int64_t item, int32_t t) {
        const int64_t n = item / bands, bnd = item % bands;
        const int64_t oh0 = s.out_h * bnd / bands, oh1 = s.out_h * (bnd + 1) / bands;
        float *buf = scratch.data() + per * (size_t)t;
        buf = reinterpret_cast<float *>(((uintptr_t)buf + 31) & ~(uintptr_t)31);
        double *p = part.data() + partsz * (size_t)item;
        ops.nhwc_dw(job, dy, n, oh0, oh1, p, db != nullptr ? p + KK * cpad : nullptr, buf);
    });
    for (int64_t c = 0; c < s.c; ++c) {
        if (dw != nullptr)
            for (int64_t t = 0; t < KK; ++t) {
                double acc = 0.0;
                for (int64_t i = 0; i < items; ++i) acc += part[partsz * (size_t)i + (size_t)(t * cpad + c)];
                dw[c * KK + t] = (float)acc;
            }
        if (db != nullptr) {
            double acc = 0.0;
            for (int64_t i = 0; i < items; ++i) acc += part[partsz * (size_t)i + (size_t)(KK * cpad + c)];
            db[c] = (float)acc;
        }
    }
}

} // namespace

const DwFwdOps &dw_portable_ops() { return kPortableOps; }

/* The forward's argument checks, shared by float32 (elem 4) and bfloat16 (elem 2) x, w, b and y; se_sums is float32
 * either way. Fills cnt on success. */
fx_status dw_validate_forward(const char *fn, const fx_depthwise_shape *shape, int64_t elem, const void *x,
                              const void *w, const void *b, int32_t act, const void *y, const float *se_sums,
                              int32_t threads, fx::DwCounts *cnt) {
    fx_status st = fx::dw_validate_shape(fn, shape, cnt);
    if (st != FX_OK) return st;
    if (x == nullptr) return fx::fail(FX_ERR_INVALID_ARGUMENT, "%s: x is null", fn);
    if (w == nullptr) return fx::fail(FX_ERR_INVALID_ARGUMENT, "%s: w is null", fn);
    if (y == nullptr) return fx::fail(FX_ERR_INVALID_ARGUMENT, "%s: y is null", fn);
    const uintptr_t mask = (uintptr_t)(elem - 1);
    if (((uintptr_t)x & mask) != 0 || ((uintptr_t)w & mask) != 0 || ((uintptr_t)b & mask) != 0 ||
        ((uintptr_t)y & mask) != 0)
        return elem == 4 ? fx::fail(FX_ERR_INVALID_ARGUMENT, "%s: every pointer must be aligned to 4 bytes (float32)", fn)
                         : fx::fail(FX_ERR_INVALID_ARGUMENT, "%s: x, w, b and y must be aligned to 2 bytes (bfloat16)",
                                    fn);
    if (!aligned4(se_sums))
        return elem == 4 ? fx::fail(FX_ERR_INVALID_ARGUMENT, "%s: every pointer must be aligned to 4 bytes (float32)", fn)
                         : fx::fail(FX_ERR_INVALID_ARGUMENT, "%s: se_sums must be aligned to 4 bytes (float32)", fn);
    const int32_t out_act = act & ~(int32_t)FX_ACT_IN_SILU;
    if (out_act != FX_ACT_NONE && out_act != FX_ACT_SILU)
        return fx::fail(FX_ERR_INVALID_ARGUMENT,
                        "%s: act must be FX_ACT_NONE (0) or FX_ACT_SILU (1), optionally | FX_ACT_IN_SILU (0x100) "
                        "(got %d)", fn, (int)act);
    if ((act & FX_ACT_IN_SILU) != 0 && shape->layout != FX_LAYOUT_NHWC)
        return fx::fail(FX_ERR_UNSUPPORTED, "%s: FX_ACT_IN_SILU needs the NHWC layout", fn);
    if (threads < 1 || threads > kMaxThreads)
        return fx::fail(FX_ERR_INVALID_ARGUMENT, "%s: threads must be in [1, %d] (got %d)", fn, (int)kMaxThreads,
                        (int)threads);
    const int64_t xb = cnt->x * elem, yb = cnt->y * elem, wb = cnt->w * elem, cb = shape->c * elem, sb = cnt->nc * 4;
    if (fx::dw_overlap(y, yb, x, xb) || fx::dw_overlap(y, yb, w, wb) || fx::dw_overlap(y, yb, b, cb) ||
        fx::dw_overlap(y, yb, se_sums, sb))
        return fx::fail(FX_ERR_INVALID_ARGUMENT, "%s: y overlaps x, w, b or se_sums", fn);
    if (fx::dw_overlap(se_sums, sb, x, xb) || fx::dw_overlap(se_sums, sb, w, wb) || fx::dw_overlap(se_sums, sb, b, cb))
        return fx::fail(FX_ERR_INVALID_ARGUMENT, "%s: se_sums overlaps x, w or b", fn);
    return FX_OK;
}

} // namespace cpu
} // namespace fx

using fx::fail;

extern "C" {

FX_API fx_status fx_depthwise_forward_cpu(const fx_depthwise_shape *shape, const float *x, const float *w,
                                          const float *b, int32_t act, float *y, float *se_sums, int32_t threads) {
    using namespace fx::cpu;
    static const char *fn = "fx_depthwise_forward_cpu";
    fx::DwCounts cnt;
    fx_status st = dw_validate_forward(fn, shape, 4, x, w, b, act, y, se_sums, threads, &cnt);
    if (st != FX_OK) return st;

    try {
        forward_run(shape, x, w, b, act, y, se_sums, threads);
    } catch (const std::bad_alloc &) {
        return fail(FX_ERR_OUT_OF_MEMORY, "%s: out of memory for the scratch buffers", fn);
    } catch (...) {
        return fail(FX_ERR_STATE, "%s: unexpected internal error", fn);
    }
    return fx::ok();
}

FX_API fx_status fx_depthwise_forward_cpu_dtype(const fx_depthwise_shape *shape, int32_t dtype, const void *x,
                                                const void *w, const void *b, int32_t act, void *y, float *se_sums,
                                                int32_t threads) {
    using namespace fx::cpu;
    static const char *fn = "fx_depthwise_forward_cpu_dtype";
    if (dtype == FX_DTYPE_FLOAT32)
        return fx_depthwise_forward_cpu(shape, static_cast<const float *>(x), static_cast<const float *>(w),
                                        static_cast<const float *>(b), act, static_cast<float *>(y), se_sums, threads);
    if (dtype == FX_DTYPE_FLOAT16)
        return fail(FX_ERR_UNSUPPORTED, "%s: float16 is not supported on the CPU (FX_DTYPE_FLOAT32 or FX_DTYPE_BFLOAT16)",
                    fn);
    if (dtype != FX_DTYPE_BFLOAT16)
        return fail(FX_ERR_INVALID_ARGUMENT,
                    "%s: dtype must be FX_DTYPE_FLOAT32 (0) or FX_DTYPE_BFLOAT16 (2) on the CPU (got %d)", fn,
                    (int)dtype);
    fx::DwCounts cnt;
    fx_status st = dw_validate_forward(fn, shape, 2, x, w, b, act, y, se_sums, threads, &cnt);
    if (st != FX_OK) return st;
    try {
        const uint16_t *wh = static_cast<const uint16_t *>(w), *bh = static_cast<const uint16_t *>(b);
        std::vector<float> wf((size_t)cnt.w), bf;
        for (int64_t i = 0; i < cnt.w; ++i) wf[(size_t)i] = dw_bf16_to_f32(wh[i]);
        if (bh != nullptr) {
            bf.resize((size_t)shape->c);
            for (int64_t i = 0; i < shape->c; ++i) bf[(size_t)i] = dw_bf16_to_f32(bh[i]);
        }
        forward_run(shape, nullptr, wf.data(), bh != nullptr ? bf.data() : nullptr, act, nullptr, se_sums, threads,
                    static_cast<const uint16_t *>(x), static_cast<uint16_t *>(y));
    } catch (const std::bad_alloc &) {
        return fail(FX_ERR_OUT_OF_MEMORY, "%s: out of memory for the scratch buffers", fn);
    } catch (...) {
        return fail(FX_ERR_STATE, "%s: unexpected internal error", fn);
    }
    return fx::ok();
}

FX_API fx_status fx_depthwise_backward_cpu(const fx_depthwise_shape *shape, const float *x, const float *w,
                                           const float *dy, float *dx, float *dw, float *db, int32_t threads) {
    using namespace fx::cpu;
    static const char *fn = "fx_depthwise_backward_cpu";
    fx::DwCounts cnt;
    fx_status st = fx::dw_validate_shape(fn, shape, &cnt);
    if (st != FX_OK) return st;
    if (dy == nullptr) return fail(FX_ERR_INVALID_ARGUMENT, "%s: dy is null", fn);
    if (dx == nullptr && dw == nullptr && db == nullptr)
        return fail(FX_ERR_INVALID_ARGUMENT, "%s: dx, dw and db are all null (nothing to compute)", fn);
    if (dw != nullptr && x == nullptr) return fail(FX_ERR_INVALID_ARGUMENT, "%s: x is null but dw is wanted", fn);
    if (dx != nullptr && w == nullptr) return fail(FX_ERR_INVALID_ARGUMENT, "%s: w is null but dx is wanted", fn);
    if (!aligned4(x) || !aligned4(w) || !aligned4(dy) || !aligned4(dx) || !aligned4(dw) || !aligned4(db))
        return fail(FX_ERR_INVALID_ARGUMENT, "%s: every pointer must be aligned to 4 bytes (float32)", fn);
    if (threads < 1 || threads > kMaxThreads)
        return fail(FX_ERR_INVALID_ARGUMENT, "%s: threads must be in [1, %d] (got %d)", fn, (int)kMaxThreads,
                    (int)threads);
    const int64_t xb = cnt.x * 4, yb = cnt.y * 4, wb = cnt.w * 4, cb = shape->c * 4;
    const void *outs[3] = {dx, dw, db};
    const int64_t outb[3] = {xb, wb, cb};
    const void *ins[3] = {x, w, dy};
    const int64_t inb[3] = {xb, wb, yb};
    for (int i = 0; i < 3; ++i) {
        for (int k = 0; k < 3; ++k)
            if (fx::dw_overlap(outs[i], outb[i], ins[k], inb[k]))
                return fail(FX_ERR_INVALID_ARGUMENT, "%s: an output (dx, dw, db) overlaps an input (x, w, dy)", fn);
        for (int k = i + 1; k < 3; ++k)
            if (fx::dw_overlap(outs[i], outb[i], outs[k], outb[k]))
                return fail(FX_ERR_INVALID_ARGUMENT, "%s: the outputs dx, dw, db overlap each other", fn);
    }
    const fx_depthwise_shape &s = *shape;
    DwBwdJob job{};
    job.x = x;
    job.w = w;
    job.dy = dy;
    job.dx = dx;
    job.dw = dw;
    job.db = db;
    job.n = s.n;
    job.c = s.c;
    job.h = s.h;
    job.w_ = s.w;
    job.cpad = round8(s.c);
    job.oh = s.out_h;
    job.ow = s.out_w;
    job.k = s.k;
    job.s = s.stride;
    job.pt = s.pad_top;
    job.pl = s.pad_left;
    try {
        std::vector<float> wt;
        if (s.layout == FX_LAYOUT_NHWC) {
            if (dx != nullptr && dx_by_forward(s, w, dy, dx, threads)) job.dx = nullptr; // done
            if (dw != nullptr || db != nullptr) {
                dwdb_nhwc(s, x, dy, dw, db, threads);
                job.dw = job.db = nullptr; // done
            }
            if (job.dx == nullptr) return fx::ok();
            if (job.dx != nullptr) {
                const int32_t KK = s.k * s.k;
                wt.assign((size_t)(KK * job.cpad), 0.0f);
                for (int64_t c = 0; c < s.c; ++c)
                    for (int32_t t = 0; t < KK; ++t) wt[(size_t)(t * job.cpad + c)] = w[c * KK + t];
                job.wt = wt.data();
            }
            const int64_t blocks = (s.c + kBwdBlock - 1) / kBwdBlock;
            run_items(blocks, threads, [&](int64_t item, int32_t) {
                const int64_t c0 = item * kBwdBlock;
                bwd_nhwc_item(job, c0, (int)(s.c - c0 < kBwdBlock ? s.c - c0 : kBwdBlock));
            });
        } else {
            // stride 2 stays on the direct loop in NCHW: the zero-dilated planes made the forward 3x slower there
            if (dx != nullptr && s.stride == 1 && dx_by_forward(s, w, dy, dx, threads)) job.dx = nullptr; // done
            if (dw != nullptr || db != nullptr) {
                // per channel through the per-ISA row kernels (depthwise_dw.h), each channel's sums its own
                const DwFwdOps &ops = forward_ops();
                const DwFwdJob fj = shape_job(s, x);
                const int64_t KK = (int64_t)s.k * s.k;
                run_items(s.c, threads, [&](int64_t c, int32_t) {
                    double dwc[49] = {};
                    double dbc = 0.0;
                    ops.nchw_dw(fj, dy, c, dw != nullptr ? dwc : nullptr, db != nullptr ? &dbc : nullptr);
                    if (dw != nullptr)
                        for (int64_t t = 0; t < KK; ++t) dw[c * KK + t] = (float)dwc[t];
                    if (db != nullptr) db[c] = (float)dbc;
                });
                job.dw = job.db = nullptr; // done
            }
            if (job.dx == nullptr) return fx::ok();
            run_items(s.c, threads, [&](int64_t c, int32_t) { bwd_nchw_item(job, c); });
        }
    } catch (const std::bad_alloc &) {
        return fail(FX_ERR_OUT_OF_MEMORY, "%s: out of memory for the scratch buffers", fn);
    } catch (...) {
        return fail(FX_ERR_STATE, "%s: unexpected internal error", fn);
    }
    return fx::ok();
}

} // extern "C"

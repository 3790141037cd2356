// The CUDA depthwise kernels' per-block algorithms, written once for two executions (as preprocess_core.h):
//  - on the GPU (kernels/cuda/depthwise.cu): one CUDA thread per `tid`, ex.sync() = __syncthreads();
//  - on the host (tests/native/test_depthwise_cuda_emulated.cpp): a loop over the block's threads per phase, so
//    the indexing, the shared-memory staging and the reductions are checked without a GPU.
// Every phase between two barriers is one ex.each(...) call; state that lives across a barrier is in shared
// memory (no per-thread registers survive a phase).
//
// Element types (DT): FX_DTYPE_FLOAT32 (float), FX_DTYPE_FLOAT16 / FX_DTYPE_BFLOAT16 (16-bit patterns); all
// arithmetic in float32, each output rounded once to nearest-even. Kernels:
//  - forward NHWC: a block is (image n, a chunk of output pixel quads, up to 32 groups of VEC channels); the
//    chunk's weights (float, transposed [tap][channel]) and biases are staged in shared memory; a thread computes
//    four consecutive output pixels of a row for VEC channels (VEC * element size = 16 bytes: one vector load per
//    pixel and tap; VEC = 1 when the channels are not 16-byte multiples), so every weight read serves 4 pixels;
//    SE sums: per-thread partials in shared memory, summed in a fixed order, one atomicAdd per channel and block;
//  - forward NCHW: a block is (plane, pixel chunk); weights of the plane in shared memory, a thread per pixel;
//  - backward dx: the same block shapes, each thread gathers the taps that reach its input pixel;
//  - backward dw/db: a tiled reduction. The (n, out row) rows are split into tiles; a block (NHWC: 32 channels x 4
//    row lanes; NCHW: one channel x 128 pixel lanes) accumulates sum(dy * x) for every tap and sum(dy) over its
//    tile in registers, reading each dy once and x from the rows the tile touches, then writes one partial per
//    (tile, channel, tap) in a fixed order; a second kernel sums the partials over the tiles in order
//    (deterministic, no atomics) and rounds to dtype.
// This header compiles as CUDA and as plain C++ (no __CUDACC__).
#ifndef FIXRES4J_KERNELS_CUDA_DEPTHWISE_CORE_H
#define FIXRES4J_KERNELS_CUDA_DEPTHWISE_CORE_H

#include <stdint.h>
#include <string.h>

#include "fixres4j/depthwise.h"

#if defined(__CUDACC__)
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#define FXD_HD __host__ __device__ __forceinline__
#define FXD_HDC __host__ __device__ constexpr
#else
#define FXD_HD inline
#define FXD_HDC constexpr
#endif

namespace fx {
namespace cuda {
namespace dw {

constexpr int kFwdThreads = 256;  // NHWC: gx channel groups x gy quad lanes; NCHW: 256 pixel lanes
constexpr int kQuadIters = 4;     // NHWC forward: quads per thread per block
constexpr int kNchwPixIters = 4;  // NCHW forward / dx: pixels per thread per block
constexpr int kDwLanes = 4;       // NHWC dw: row lanes per block (x 32 channels)
constexpr int kDwNchwThreads = 128;
constexpr int kMaxTaps = 49;

struct Params {
    const void *x, *w, *b, *dy;
    void *y, *dx, *dw, *db;
    float *se;
    float *partial; // dw/db partials [tiles][c][taps + 1]
    int64_t n, c, h, w_, oh, ow;
    int32_t k, s, pt, pl, act;
    int32_t vec;        // NHWC: channels per thread group (1, 4 or 8)
    int32_t gx, gy;     // NHWC forward/dx block shape (gx * gy == kFwdThreads)
    int64_t n0;         // first image of this launch (NHWC grids with more than 65535 images)
    int64_t tiles, rows_per_tile; // dw/db
};

// ---- element conversions (bit-exact round to nearest-even, identical on host and device) --------------------
FXD_HD float bits_to_float(uint32_t u) {
#if defined(__CUDA_ARCH__)
    return __uint_as_float(u);
#else
    float f;
    memcpy(&f, &u, 4);
    return f;
#endif
}
FXD_HD uint32_t float_to_bits(float f) {
#if defined(__CUDA_ARCH__)
    return __float_as_uint(f);
#else
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
#endif
}
FXD_HD float half_to_float(uint16_t h) {
#if defined(__CUDA_ARCH__)
    return __half2float(__ushort_as_half(h));
#else
    const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    const uint32_t e = (h >> 10) & 0x1Fu, m = h & 0x3FFu;
    if (e == 0x1F) return bits_to_float(sign | 0x7F800000u | (m << 13));
    if (e == 0) {
        const float v = (float)m * (1.0f / 16777216.0f); // m * 2^-24, exact
        return sign ? -v : v;
    }
    return bits_to_float(sign | ((e + 112u) << 23) | (m << 13));
#endif
}
FXD_HD uint16_t float_to_half(float f) {
#if defined(__CUDA_ARCH__)
    return __half_as_ushort(__float2half_rn(f));
#else
    const uint32_t u = float_to_bits(f);
    const uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
    const uint32_t a = u & 0x7FFFFFFFu;
    if (a > 0x7F800000u) return (uint16_t)(sign | 0x7E00u);
    if (a >= 0x477FF000u) return (uint16_t)(sign | 0x7C00u); // >= 65520: rounds to infinity
    if (a < 0x38800000u) {                                  // below 2^-14: subnormal half
        // value in units of 2^-24, rounded to nearest even
        const uint32_t mant = (a & 0x7FFFFFu) | 0x800000u;
        const int shift = 126 - (int)(a >> 23); // 2^-24 units: mant * 2^(e - 127 - 23 + 24)
        if (shift > 24) return sign;
        const uint32_t q = mant >> shift, rem = mant & ((1u << shift) - 1u), half = 1u << (shift - 1);
        const uint32_t r = q + ((rem > half || (rem == half && (q & 1u))) ? 1u : 0u);
        return (uint16_t)(sign | r);
    }
    const uint32_t r = a + 0xFFFu + ((a >> 13) & 1u) - (112u << 23);
    return (uint16_t)(sign | (r >> 13));
#endif
}
FXD_HD float bf16_to_float(uint16_t h) { return bits_to_float((uint32_t)h << 16); }
FXD_HD uint16_t float_to_bf16(float f) {
    const uint32_t u = float_to_bits(f);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((u >> 16) | 0x40u);
    return (uint16_t)((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

template <int DT>
FXD_HD float load1(const void *base, int64_t i) {
    if (DT == FX_DTYPE_FLOAT32) return static_cast<const float *>(base)[i];
    const uint16_t h = static_cast<const uint16_t *>(base)[i];
    return DT == FX_DTYPE_FLOAT16 ? half_to_float(h) : bf16_to_float(h);
}
template <int DT>
FXD_HD void store1(void *base, int64_t i, float v) {
    if (DT == FX_DTYPE_FLOAT32)
        static_cast<float *>(base)[i] = v;
    else
        static_cast<uint16_t *>(base)[i] = DT == FX_DTYPE_FLOAT16 ? float_to_half(v) : float_to_bf16(v);
}
template <int DT>
FXD_HDC int esize() {
    return DT == FX_DTYPE_FLOAT32 ? 4 : 2;
}

// VEC consecutive elements from element i (VEC * esize is 16 or VEC == 1; i * esize 16-byte aligned for 16).
template <int DT, int VEC>
FXD_HD void loadv(const void *base, int64_t i, float *out) {
    if (VEC * esize<DT>() == 16) {
        uint32_t wds[4];
#if defined(__CUDA_ARCH__)
        const uint4 q = *reinterpret_cast<const uint4 *>(static_cast<const char *>(base) + i * esize<DT>());
        wds[0] = q.x;
        wds[1] = q.y;
        wds[2] = q.z;
        wds[3] = q.w;
#else
        memcpy(wds, static_cast<const char *>(base) + i * esize<DT>(), 16);
#endif
        for (int v = 0; v < VEC; ++v) {
            if (DT == FX_DTYPE_FLOAT32)
                out[v] = bits_to_float(wds[v]);
            else {
                const uint16_t hb = (uint16_t)((wds[v >> 1] >> ((v & 1) * 16)) & 0xFFFFu);
                out[v] = DT == FX_DTYPE_FLOAT16 ? half_to_float(hb) : bf16_to_float(hb);
            }
        }
    } else {
        for (int v = 0; v < VEC; ++v) out[v] = load1<DT>(base, i + v);
    }
}
template <int DT, int VEC>
FXD_HD void storev(void *base, int64_t i, const float *val) {
    if (VEC * esize<DT>() == 16) {
        uint32_t wds[4] = {0, 0, 0, 0};
        for (int v = 0; v < VEC; ++v) {
            if (DT == FX_DTYPE_FLOAT32)
                wds[v] = float_to_bits(val[v]);
            else {
                const uint16_t hb = DT == FX_DTYPE_FLOAT16 ? float_to_half(val[v]) : float_to_bf16(val[v]);
                wds[v >> 1] |= (uint32_t)hb << ((v & 1) * 16);
            }
        }
#if defined(__CUDA_ARCH__)
        *reinterpret_cast<uint4 *>(static_cast<char *>(base) + i * esize<DT>()) = make_uint4(wds[0], wds[1], wds[2], wds[3]);
#else
        memcpy(static_cast<char *>(base) + i * esize<DT>(), wds, 16);
#endif
    } else {
        for (int v = 0; v < VEC; ++v) store1<DT>(base, i + v, val[v]);
    }
}

FXD_HD float silu(float v) {
#if defined(__CUDA_ARCH__)
    return v / (1.0f + __expf(-v)); // fast exp: ~2 ulp, well inside bfloat16/float16 rounding and 1e-5 for float32
#else
    return v / (1.0f + expf(-v));
#endif
}

// ---- shared memory layouts ----------------------------------------------------------------------------------
// NHWC forward / dx: weights [taps][gx * vec] float, bias [gx * vec], then partial sums [gy][gx * vec].
FXD_HD int64_t nhwc_smem_floats(int k, int gx, int gy, int vec) {
    return (int64_t)k * k * gx * vec + gx * vec + (int64_t)gy * gx * vec;
}

// ---- forward NHWC -------------------------------------------------------------------------------------------
// Block (bx: quad chunk, by: channel chunk, bz: image - n0). Output quads of the image are numbered
// row-major over (oh, ow / 4); the chunk is [bx * gy * kQuadIters, +gy * kQuadIters).
template <int DT, int K, int VEC, class X>
FXD_HD void fwd_nhwc_block(const Params &p, float *smem, X &ex) {
    const int gx = p.gx, gy = p.gy, S = p.s, KK = K * K;
    const int CW = gx * VEC; // channels of the chunk
    const int64_t n = ex.bz() + p.n0, C = p.c, H = p.h, W = p.w_, OH = p.oh, OW = p.ow;
    const int64_t cbase = ex.by() * (int64_t)CW;
    float *wt = smem, *bias = smem + KK * CW, *red = bias + CW;
    ex.each([&](int tid) {
        for (int i = tid; i < KK * CW; i += kFwdThreads) {
            const int t = i / CW, cl = i % CW;
            const int64_t c = cbase + cl;
            wt[i] = c < C ? load1<DT>(p.w, c * KK + t) : 0.0f;
        }
        for (int i = tid; i < CW; i += kFwdThreads) {
            const int64_t c = cbase + i;
            bias[i] = (c < C && p.b != nullptr) ? load1<DT>(p.b, c) : 0.0f;
        }
    });
    ex.sync();
    const int64_t qrow = (OW + 3) / 4, quads = OH * qrow;
    const int64_t q0 = ex.bx() * (int64_t)gy * kQuadIters;
    ex.each([&](int tid) {
        const int tx = tid % gx, ty = tid / gx;
        const int64_t c0 = cbase + (int64_t)tx * VEC;
        float sum[VEC];
        for (int v = 0; v < VEC; ++v) sum[v] = 0.0f;
        if (c0 < C) {
            for (int it = 0; it < kQuadIters; ++it) {
                const int64_t q = q0 + (int64_t)it * gy + ty;
                if (q >= quads) break;
                const int64_t oh = q / qrow, ow0 = (q % qrow) * 4;
                float acc[4][VEC];
                for (int px = 0; px < 4; ++px)
                    for (int v = 0; v < VEC; ++v) acc[px][v] = bias[tx * VEC + v];
                const int64_t ih0 = oh * S - p.pt;
                for (int kh = 0; kh < K; ++kh) {
                    const int64_t ih = ih0 + kh;
                    if (ih < 0 || ih >= H) continue;
                    const int64_t rowbase = (n * H + ih) * W;
                    for (int kw = 0; kw < K; ++kw) {
                        const float *wv = wt + (kh * K + kw) * CW + tx * VEC;
                        for (int px = 0; px < 4; ++px) {
                            const int64_t iw = (ow0 + px) * S - p.pl + kw;
                            if (iw < 0 || iw >= W || ow0 + px >= OW) continue;
                            float xv[VEC];
                            loadv<DT, VEC>(p.x, (rowbase + iw) * C + c0, xv);
                            for (int v = 0; v < VEC; ++v) acc[px][v] += xv[v] * wv[v];
                        }
                    }
                }
                for (int px = 0; px < 4; ++px) {
                    if (ow0 + px >= OW) break;
                    if (p.act == FX_ACT_SILU)
                        for (int v = 0; v < VEC; ++v) acc[px][v] = silu(acc[px][v]);
                    storev<DT, VEC>(p.y, ((n * OH + oh) * OW + ow0 + px) * C + c0, acc[px]);
                    for (int v = 0; v < VEC; ++v) sum[v] += acc[px][v];
                }
            }
        }
        for (int v = 0; v < VEC; ++v) red[ty * CW + tx * VEC + v] = sum[v];
    });
    if (p.se == nullptr) return;
    ex.sync();
    ex.each([&](int tid) {
        for (int cl = tid; cl < CW; cl += kFwdThreads) {
            const int64_t c = cbase + cl;
            if (c >= C) continue;
            float s = 0.0f;
            for (int r = 0; r < gy; ++r) s += red[r * CW + cl];
            ex.atomic_add(p.se + n * C + c, s);
        }
    });
}

// ---- forward NCHW -------------------------------------------------------------------------------------------
// Block (bx: plane n * c + c, by: pixel chunk of kFwdThreads * kNchwPixIters). smem: taps + 1 + kFwdThreads.
template <int DT, int K, class X>
FXD_HD void fwd_nchw_block(const Params &p, float *smem, X &ex) {
    const int KK = K * K, S = p.s;
    const int64_t plane = ex.bx(), c = plane % p.c, H = p.h, W = p.w_, OH = p.oh, OW = p.ow;
    float *wk = smem, *red = smem + KK + 1;
    ex.each([&](int tid) {
        if (tid < KK) wk[tid] = load1<DT>(p.w, c * KK + tid);
        if (tid == KK) wk[KK] = p.b != nullptr ? load1<DT>(p.b, c) : 0.0f;
    });
    ex.sync();
    const int64_t base = ex.by() * (int64_t)kFwdThreads * kNchwPixIters;
    ex.each([&](int tid) {
        float sum = 0.0f;
        for (int it = 0; it < kNchwPixIters; ++it) {
            const int64_t pix = base + (int64_t)it * kFwdThreads + tid;
            if (pix >= OH * OW) break;
            const int64_t oh = pix / OW, ow = pix % OW;
            float acc = wk[KK];
            for (int kh = 0; kh < K; ++kh) {
                const int64_t ih = oh * S - p.pt + kh;
                if (ih < 0 || ih >= H) continue;
                for (int kw = 0; kw < K; ++kw) {
                    const int64_t iw = ow * S - p.pl + kw;
                    if (iw < 0 || iw >= W) continue;
                    acc += load1<DT>(p.x, (plane * H + ih) * W + iw) * wk[kh * K + kw];
                }
            }
            if (p.act == FX_ACT_SILU) acc = silu(acc);
            store1<DT>(p.y, plane * OH * OW + pix, acc);
            sum += acc;
        }
        red[tid] = sum;
    });
    if (p.se == nullptr) return;
    ex.sync();
    ex.each([&](int tid) {
        if (tid < 32) {
            float s = 0.0f;
            for (int i = tid; i < kFwdThreads; i += 32) s += red[i];
            red[tid] = s; // each of the first 32 threads owns slot tid: no race with the others' reads
        }
    });
    ex.sync();
    ex.each([&](int tid) {
        if (tid == 0) {
            float s = 0.0f;
            for (int i = 0; i < 32; ++i) s += red[i];
            ex.atomic_add(p.se + plane, s);
        }
    });
}

// ---- backward dx --------------------------------------------------------------------------------------------
// Output rows oh with oh * S - pt + kh == ih for some kh in [0, K): the taps reaching input row ih.
FXD_HD bool tap_source(int64_t i, int kh, int S, int pad, int64_t out, int64_t *o) {
    const int64_t num = i + pad - kh;
    if (num < 0) return false;
    if (S == 2 && (num & 1)) return false;
    const int64_t q = S == 2 ? (num >> 1) : num;
    if (q >= out) return false;
    *o = q;
    return true;
}

// NHWC: block (bx: pixel chunk of gy * kQuadIters input pixels, by: channel chunk, bz: image - n0); weights in smem
// as the forward (bias unused).
template <int DT, int K, int VEC, class X>
FXD_HD void dx_nhwc_block(const Params &p, float *smem, X &ex) {
    const int gx = p.gx, gy = p.gy, S = p.s, KK = K * K, CW = gx * VEC;
    const int64_t n = ex.bz() + p.n0, C = p.c, H = p.h, W = p.w_, OH = p.oh, OW = p.ow;
    const int64_t cbase = ex.by() * (int64_t)CW;
    float *wt = smem;
    ex.each([&](int tid) {
        for (int i = tid; i < KK * CW; i += kFwdThreads) {
            const int t = i / CW, cl = i % CW;
            const int64_t c = cbase + cl;
            wt[i] = c < C ? load1<DT>(p.w, c * KK + t) : 0.0f;
        }
    });
    ex.sync();
    const int64_t p0 = ex.bx() * (int64_t)gy * kQuadIters;
    ex.each([&](int tid) {
        const int tx = tid % gx, ty = tid / gx;
        const int64_t c0 = cbase + (int64_t)tx * VEC;
        if (c0 >= C) return;
        for (int it = 0; it < kQuadIters; ++it) {
            const int64_t pix = p0 + (int64_t)it * gy + ty;
            if (pix >= H * W) break;
            const int64_t ih = pix / W, iw = pix % W;
            float acc[VEC];
            for (int v = 0; v < VEC; ++v) acc[v] = 0.0f;
            for (int kh = 0; kh < K; ++kh) {
                int64_t oh;
                if (!tap_source(ih, kh, S, p.pt, OH, &oh)) continue;
                for (int kw = 0; kw < K; ++kw) {
                    int64_t ow;
                    if (!tap_source(iw, kw, S, p.pl, OW, &ow)) continue;
                    float g[VEC];
                    loadv<DT, VEC>(p.dy, ((n * OH + oh) * OW + ow) * C + c0, g);
                    const float *wv = wt + (kh * K + kw) * CW + tx * VEC;
                    for (int v = 0; v < VEC; ++v) acc[v] += g[v] * wv[v];
                }
            }
            storev<DT, VEC>(p.dx, ((n * H + ih) * W + iw) * C + c0, acc);
        }
    });
}

// NCHW: block (bx: plane, by: chunk of kFwdThreads * kNchwPixIters input pixels).
template <int DT, int K, class X>
FXD_HD void dx_nchw_block(const Params &p, float *smem, X &ex) {
    const int KK = K * K, S = p.s;
    const int64_t plane = ex.bx(), c = plane % p.c, H = p.h, W = p.w_, OH = p.oh, OW = p.ow;
    float *wk = smem;
    ex.each([&](int tid) {
        if (tid < KK) wk[tid] = load1<DT>(p.w, c * KK + tid);
    });
    ex.sync();
    const int64_t base = ex.by() * (int64_t)kFwdThreads * kNchwPixIters;
    ex.each([&](int tid) {
        for (int it = 0; it < kNchwPixIters; ++it) {
            const int64_t pix = base + (int64_t)it * kFwdThreads + tid;
            if (pix >= H * W) break;
            const int64_t ih = pix / W, iw = pix % W;
            float acc = 0.0f;
            for (int kh = 0; kh < K; ++kh) {
                int64_t oh;
                if (!tap_source(ih, kh, S, p.pt, OH, &oh)) continue;
                for (int kw = 0; kw < K; ++kw) {
                    int64_t ow;
                    if (!tap_source(iw, kw, S, p.pl, OW, &ow)) continue;
                    acc += load1<DT>(p.dy, (plane * OH + oh) * OW + ow) * wk[kh * K + kw];
                }
            }
            store1<DT>(p.dx, plane * H * W + pix, acc);
        }
    });
}

// ---- backward dw/db: tiled reduction -----------------------------------------------------------------------
// NHWC block (bx: chunk of 32 channels, by: tile of rows_per_tile (n, oh) rows), 32 x kDwLanes threads.
// smem: [kDwLanes][taps + 1][32] floats. Partials: partial[(tile * c + ch) * (taps + 1) + t], t == taps: db.
template <int DT, int K, class X>
FXD_HD void dw_nhwc_block(const Params &p, float *smem, X &ex) {
    const int KK = K * K, S = p.s, T1 = KK + 1;
    const int64_t C = p.c, H = p.h, W = p.w_, OH = p.oh, OW = p.ow;
    const int64_t cbase = ex.bx() * 32, tile = ex.by();
    const int64_t r0 = tile * p.rows_per_tile, rows = p.n * OH;
    const int64_t r1 = r0 + p.rows_per_tile < rows ? r0 + p.rows_per_tile : rows;
    ex.each([&](int tid) {
        const int tx = tid % 32, ty = tid / 32;
        const int64_t c = cbase + tx;
        float acc[kMaxTaps + 1];
        for (int t = 0; t < T1; ++t) acc[t] = 0.0f;
        if (c < C) {
            for (int64_t r = r0 + ty; r < r1; r += kDwLanes) {
                const int64_t n = r / OH, oh = r % OH;
                for (int64_t ow = 0; ow < OW; ++ow) {
                    const float g = load1<DT>(p.dy, ((n * OH + oh) * OW + ow) * C + c);
                    acc[KK] += g;
                    for (int kh = 0; kh < K; ++kh) {
                        const int64_t ih = oh * S - p.pt + kh;
                        if (ih < 0 || ih >= H) continue;
                        for (int kw = 0; kw < K; ++kw) {
                            const int64_t iw = ow * S - p.pl + kw;
                            if (iw < 0 || iw >= W) continue;
                            acc[kh * K + kw] += g * load1<DT>(p.x, ((n * H + ih) * W + iw) * C + c);
                        }
                    }
                }
            }
        }
        for (int t = 0; t < T1; ++t) smem[(ty * T1 + t) * 32 + tx] = acc[t];
    });
    ex.sync();
    ex.each([&](int tid) {
        for (int i = tid; i < T1 * 32; i += 32 * kDwLanes) {
            const int t = i / 32, tx = i % 32;
            const int64_t c = cbase + tx;
            if (c >= C) continue;
            float s = 0.0f;
            for (int l = 0; l < kDwLanes; ++l) s += smem[(l * T1 + t) * 32 + tx];
            p.partial[(tile * C + c) * T1 + t] = s;
        }
    });
}

// NCHW block (bx: channel, by: tile), kDwNchwThreads threads over the tile's (row, ow) pixels.
// smem: [kDwNchwThreads][taps + 1].
template <int DT, int K, class X>
FXD_HD void dw_nchw_block(const Params &p, float *smem, X &ex) {
    const int KK = K * K, S = p.s, T1 = KK + 1;
    const int64_t C = p.c, H = p.h, W = p.w_, OH = p.oh, OW = p.ow;
    const int64_t c = ex.bx(), tile = ex.by();
    const int64_t r0 = tile * p.rows_per_tile, rows = p.n * OH;
    const int64_t r1 = r0 + p.rows_per_tile < rows ? r0 + p.rows_per_tile : rows;
    ex.each([&](int tid) {
        float acc[kMaxTaps + 1];
        for (int t = 0; t < T1; ++t) acc[t] = 0.0f;
        for (int64_t i = tid; i < (r1 - r0) * OW; i += kDwNchwThreads) {
            const int64_t r = r0 + i / OW, ow = i % OW;
            const int64_t n = r / OH, oh = r % OH, plane = n * C + c;
            const float g = load1<DT>(p.dy, (plane * OH + oh) * OW + ow);
            acc[KK] += g;
            for (int kh = 0; kh < K; ++kh) {
                const int64_t ih = oh * S - p.pt + kh;
                if (ih < 0 || ih >= H) continue;
                for (int kw = 0; kw < K; ++kw) {
                    const int64_t iw = ow * S - p.pl + kw;
                    if (iw < 0 || iw >= W) continue;
                    acc[kh * K + kw] += g * load1<DT>(p.x, (plane * H + ih) * W + iw);
                }
            }
        }
        for (int t = 0; t < T1; ++t) smem[tid * T1 + t] = acc[t];
    });
    ex.sync();
    ex.each([&](int tid) {
        if (tid < T1) {
            float s = 0.0f;
            for (int l = 0; l < kDwNchwThreads; ++l) s += smem[l * T1 + tid];
            p.partial[(tile * C + c) * T1 + tid] = s;
        }
    });
}

// Final reduction: element i of [c][taps + 1] summed over the tiles in order; written to dw or db (if wanted).
template <int DT>
FXD_HD void dw_finish(const Params &p, int64_t i) {
    const int KK = p.k * p.k, T1 = KK + 1;
    if (i >= p.c * T1) return;
    const int64_t c = i / T1;
    const int t = (int)(i % T1);
    float s = 0.0f;
    for (int64_t tile = 0; tile < p.tiles; ++tile) s += p.partial[(tile * p.c + c) * T1 + t];
    if (t < KK) {
        if (p.dw != nullptr) store1<DT>(p.dw, c * KK + t, s);
    } else if (p.db != nullptr) {
        store1<DT>(p.db, c, s);
    }
}

// ---- launch geometry (host) ---------------------------------------------------------------------------------
// NHWC channel grouping: vec channels per thread, gx groups per block.
inline void nhwc_geometry(int64_t c, int dtype, bool aligned16, int *vec, int *gx, int *gy) {
    const int es = dtype == FX_DTYPE_FLOAT32 ? 4 : 2;
    int v = 16 / es;
    if (!aligned16 || (c * es) % 16 != 0) v = 1;
    const int64_t groups = (c + v - 1) / v;
    const int gmax = 128 / v < 32 ? 128 / v : 32; // at most 128 channels per block: the staged weights fit 48 KiB
    int g = 1;
    while (g < gmax && g < groups) g <<= 1;
    *vec = v;
    *gx = g;
    *gy = kFwdThreads / g;
}

// dw/db tiles: about 2048 blocks in all, at least one row per tile.
inline void dw_tiles(int64_t n, int64_t c, int64_t oh, int layout, int64_t *tiles, int64_t *rows_per_tile) {
    const int64_t rows = n * oh;
    const int64_t per_tile_blocks = layout == FX_LAYOUT_NHWC ? (c + 31) / 32 : c;
    int64_t t = 2048 / (per_tile_blocks > 0 ? per_tile_blocks : 1);
    if (t < 1) t = 1;
    if (t > rows) t = rows;
    if (t > 65535) t = 65535;
    const int64_t rpt = (rows + t - 1) / t;
    *rows_per_tile = rpt;
    *tiles = (rows + rpt - 1) / rpt;
}

// Params of a validated shape (pointers and act left for the caller); aligned: the NHWC tensors' base
// pointers are 16-byte aligned (vector loads allowed).
inline Params make_params(const fx_depthwise_shape &s, int32_t dtype, bool aligned) {
    Params p{};
    p.n = s.n;
    p.c = s.c;
    p.h = s.h;
    p.w_ = s.w;
    p.oh = s.out_h;
    p.ow = s.out_w;
    p.k = s.k;
    p.s = s.stride;
    p.pt = s.pad_top;
    p.pl = s.pad_left;
    nhwc_geometry(s.c, dtype, aligned, &p.vec, &p.gx, &p.gy);
    dw_tiles(s.n, s.c, s.out_h, s.layout, &p.tiles, &p.rows_per_tile);
    return p;
}

// Grid, block and dynamic shared memory of each kernel (host; shared by depthwise.cu and the emulation test).
// NHWC launches cover images [n0, n0 + gz) (at most 65535 per launch).
struct Launch {
    int64_t gx, gy, gz;
    int threads;
    int64_t smem_bytes;
};
enum Kind { kFwd = 0, kDx = 1, kDw = 2, kFinish = 3 };
inline Launch launch_geometry(const Params &p, int layout, Kind kind, int64_t n0) {
    Launch l{1, 1, 1, kFwdThreads, 0};
    const int KK = p.k * p.k;
    const int64_t cw = (int64_t)p.gx * p.vec;
    const int64_t nz = p.n - n0 < 65535 ? p.n - n0 : 65535;
    if (kind == kFwd || kind == kDx) {
        if (layout == FX_LAYOUT_NHWC) {
            const int64_t items = kind == kFwd ? p.oh * ((p.ow + 3) / 4) : p.h * p.w_;
            const int64_t per = (int64_t)p.gy * kQuadIters;
            l.gx = (items + per - 1) / per;
            l.gy = (p.c + cw - 1) / cw;
            l.gz = nz;
            l.smem_bytes = nhwc_smem_floats(p.k, p.gx, p.gy, p.vec) * 4;
        } else {
            const int64_t items = kind == kFwd ? p.oh * p.ow : p.h * p.w_;
            const int64_t per = (int64_t)kFwdThreads * kNchwPixIters;
            l.gx = p.n * p.c;
            l.gy = (items + per - 1) / per;
            l.smem_bytes = (int64_t)(KK + 1 + kFwdThreads) * 4;
        }
    } else if (kind == kDw) {
        if (layout == FX_LAYOUT_NHWC) {
            l.gx = (p.c + 31) / 32;
            l.threads = 32 * kDwLanes;
            l.smem_bytes = (int64_t)kDwLanes * (KK + 1) * 32 * 4;
        } else {
            l.gx = p.c;
            l.threads = kDwNchwThreads;
            l.smem_bytes = (int64_t)kDwNchwThreads * (KK + 1) * 4;
        }
        l.gy = p.tiles;
    } else {
        l.gx = (p.c * (KK + 1) + 255) / 256;
        l.threads = 256;
    }
    return l;
}

} // namespace dw
} // namespace cuda
} // namespace fx

#endif

// The CUDA preprocessing kernel's per-block algorithm, written once for two executions:
//  - on the GPU (kernels/cuda/preprocess.cu): one CUDA thread per `tid`, ex.sync() = __syncthreads();
//  - on the host (tests/native/test_cuda_emulated.cpp): a plain loop over the block's threads per phase, so the
//    kernel's indexing, chunking and tap handling are checked against the CPU kernel on machines without a GPU.
// Every phase between two barriers is one `ex.each(...)` call; values computed outside `each` are uniform
// across the block (derived from the tile index and read-only memory only).
//
// Exactness (Pillow 9.4, ImagingResampleHorizontal_8bpc / ImagingResampleVertical_8bpc): horizontal pass first
// into a uint8 intermediate (int32 sum from 1 << 21, >> 22, clamped to [0, 255]), then the vertical pass the
// same way; the output value is then looked up in fx::make_value_table's table. No floating point at all.
//
// This header compiles as CUDA (nvcc) and as plain C++ (no __CUDACC__): keep it free of CUDA-only calls.
#ifndef FIXRES4J_KERNELS_CUDA_PREPROCESS_CORE_H
#define FIXRES4J_KERNELS_CUDA_PREPROCESS_CORE_H

#include <stdint.h>

#include "fixres4j/kernels.h"

#if defined(__CUDACC__)
#define FXC_HD __host__ __device__ __forceinline__
#define FXC_HD_TEMPLATE __host__ __device__
#else
#define FXC_HD inline
#define FXC_HD_TEMPLATE
#endif
#if defined(__CUDA_ARCH__)
#define FXC_UNROLL _Pragma("unroll")
#else
#define FXC_UNROLL
#endif

namespace fx {
namespace cuda {

// ---- geometry of a block ------------------------------------------------------------------------------------
constexpr int kTileW = 32;                     // output columns per tile (one warp lane per column)
constexpr int kTileH = 32;                     // output rows per tile
constexpr int kThreads = 256;                  // threads per block
constexpr int kWarps = kThreads / 32;          // 8
constexpr int kRowsPerThread = kTileH / kWarps; // 4 output rows per thread in the vertical pass
constexpr int kMidPitch = kTileW + 1;          // words per intermediate row (odd: no bank conflicts)
constexpr int kTableBytes = 3 * 256 * 4;       // value table (float32 bits, or 16-bit values in the first half)
constexpr int kMinChunkRows = 8;               // the staged-input path needs at least this many rows per chunk
constexpr int32_t kBias = 1 << 21;             // Pillow: 1 << (PRECISION_BITS - 1)
constexpr int kShift = 22;                     // Pillow: PRECISION_BITS

static_assert(kTileH % kWarps == 0, "tile rows must split evenly over the warps");

// ---- what the host uploads (one buffer: descriptors, value table, taps, staged pixels) ---------------------
// All offsets are relative to BatchParams::base. Coordinates in the descriptors are relative to the image's
// staged region (the roi rows and columns that some kept output pixel's taps touch).
struct ImageDesc {
    int64_t src;      // byte offset of the staged region's first pixel
    int64_t index;    // output batch slot
    int64_t hfn;      // int32 index into taps: out_w pairs (first, n) of the horizontal taps (first staged-local)
    int64_t hco;      // int32 index into taps: out_w * ks horizontal coefficients (16-byte aligned)
    int64_t vfn;      // out_h pairs (first, n) of the vertical taps (first = staged-local row)
    int64_t vco;      // out_h * ks vertical coefficients (16-byte aligned)
    int64_t hrange;   // tiles_x pairs (lo, hi): the staged columns a tile column's taps touch (lo == hi: none)
    int64_t vrange;   // tiles_y pairs (lo, hi): the staged rows a tile row's taps touch
    int32_t pitch;    // bytes from one staged row to the next
    int32_t channels; // 1, 3 or 4
    int32_t swap;     // 1: the image's colour order differs from the output's (swap channels 0 and 2)
    int32_t flip;     // 1: mirror the output horizontally
};

struct BatchParams {
    const uint8_t *base; // the uploaded buffer (device memory on the GPU; host memory in the emulation)
    void *out;           // fx_output::data
    int64_t desc_off;    // ImageDesc[count]
    int64_t table_off;   // kTableBytes: float32 bits [3][256], or uint16 [3][256] for float16 / bfloat16
    int64_t taps_off;    // int32 taps (16-byte aligned)
    int32_t count;       // images
    int32_t out_w, out_h;
    int32_t tiles_x, tiles_y;
    int32_t layout, dtype;
    int32_t ks;          // coefficient stride per output pixel (== K for the K > 0 kernels; multiple of 4)
    int32_t smem_bytes;  // dynamic shared memory of a block (>= kTableBytes + kMinChunkRows * 4 * kMidPitch)
};

// Per-thread state kept across the phases of one tile (registers on the GPU).
struct ThreadRegs {
    int32_t acc[kRowsPerThread][3];
};

// ---- small helpers -----------------------------------------------------------------------------------------
FXC_HD int imin(int a, int b) { return a < b ? a : b; }
FXC_HD int imax(int a, int b) { return a > b ? a : b; }
FXC_HD uint32_t clamp8(int32_t acc) {
    int32_t v = acc >> kShift; // arithmetic shift, as Pillow's clip8 lookup
    return (uint32_t)(v < 0 ? 0 : (v > 255 ? 255 : v));
}

// One pixel of the staged region as 0x00BBGGRR-style word in *output* channel order (byte c = channel c).
FXC_HD uint32_t load_pixel(const uint8_t *p, int channels, int swap) {
    if (channels == 1) {
        const uint32_t v = p[0];
        return v | (v << 8) | (v << 16);
    }
    uint32_t b0, b1, b2;
    if (channels == 4) {
        // staged regions are 16-byte aligned and their pitch is a multiple of 4: an aligned 32-bit load
        const uint32_t w = *reinterpret_cast<const uint32_t *>(p);
        b0 = w & 0xFFu;
        b1 = (w >> 8) & 0xFFu;
        b2 = (w >> 16) & 0xFFu;
    } else {
        b0 = p[0];
        b1 = p[1];
        b2 = p[2];
    }
    return swap ? (b2 | (b1 << 8) | (b0 << 16)) : (b0 | (b1 << 8) | (b2 << 16));
}

struct Int4 {
    int32_t x, y, z, w;
};

// K coefficients from a 16-byte-aligned row (K a multiple of 4) into registers.
template <int K>
FXC_HD void load_coeffs(const int32_t *src, int32_t (&k)[K]) {
FXC_UNROLL
    for (int q = 0; q < K / 4; ++q) {
#if defined(__CUDA_ARCH__)
        const int4 v = reinterpret_cast<const int4 *>(src)[q];
#else
        const Int4 v = reinterpret_cast<const Int4 *>(src)[q];
#endif
        k[4 * q + 0] = v.x;
        k[4 * q + 1] = v.y;
        k[4 * q + 2] = v.z;
        k[4 * q + 3] = v.w;
    }
}

// Horizontal pass of one intermediate pixel: taps from a staged-input row in shared memory (`row` points at
// the first tap) or from global memory (`grow` = the first tap's bytes, `cs` = bytes per pixel).
// KR: the register array's size (K, or 4 for the dynamic K == 0 kernel, which does not use it).
template <int K, int KR, bool kStaged>
FXC_HD uint32_t hpass_pixel(const uint32_t *row, const uint8_t *grow, int cs, int swap, int n, const int32_t *kdyn,
                            const int32_t (&k)[KR]) {
    int32_t a0 = kBias, a1 = kBias, a2 = kBias;
    if (K > 0) {
FXC_UNROLL
        for (int t = 0; t < KR; ++t) {
            if (t < n) {
                const uint32_t p = kStaged ? row[t] : load_pixel(grow + t * cs, cs, swap);
                a0 += (int32_t)(p & 0xFFu) * k[t];
                a1 += (int32_t)((p >> 8) & 0xFFu) * k[t];
                a2 += (int32_t)(p >> 16) * k[t];
            }
        }
    } else {
        for (int t = 0; t < n; ++t) {
            const uint32_t p = kStaged ? row[t] : load_pixel(grow + (int64_t)t * cs, cs, swap);
            const int32_t kt = kdyn[t];
            a0 += (int32_t)(p & 0xFFu) * kt;
            a1 += (int32_t)((p >> 8) & 0xFFu) * kt;
            a2 += (int32_t)(p >> 16) * kt;
        }
    }
    return clamp8(a0) | (clamp8(a1) << 8) | (clamp8(a2) << 16);
}

// ---- the block ---------------------------------------------------------------------------------------------
// X (the execution) provides: block(), grid() (int64), each(f) running f(tid, ThreadRegs&) for every thread of
// the block, sync() (a block barrier; also separates phases in the emulation) and note_tile(staged, chunks).
// Shared memory: [value table: kTableBytes][intermediate: rows x kMidPitch words][staged input: rows x pitch].
#if defined(__CUDACC__)
#pragma nv_exec_check_disable
#endif
template <int K, class X>
FXC_HD_TEMPLATE void run_block(const BatchParams &bp, unsigned char *smem, X &ex) {
    static_assert(K >= 0 && K % 4 == 0, "K: 0 (dynamic) or a multiple of 4");
    constexpr int KR = K > 0 ? K : 4;
    const uint8_t *base = bp.base;
    const ImageDesc *descs = reinterpret_cast<const ImageDesc *>(base + bp.desc_off);
    const int32_t *taps = reinterpret_cast<const int32_t *>(base + bp.taps_off);
    uint32_t *table = reinterpret_cast<uint32_t *>(smem);
    uint32_t *mid = reinterpret_cast<uint32_t *>(smem + kTableBytes);
    const int avail = bp.smem_bytes - kTableBytes; // bytes for the intermediate + staged input

    // The value table, once per block.
    if (bp.dtype != FX_DTYPE_UINT8) {
        const int words = bp.dtype == FX_DTYPE_FLOAT32 ? 3 * 256 : 3 * 128;
        const uint32_t *src = reinterpret_cast<const uint32_t *>(base + bp.table_off);
        ex.each([&](int tid, ThreadRegs &) {
            for (int i = tid; i < words; i += kThreads) table[i] = src[i];
        });
        ex.sync();
    }

    const int64_t per_image = (int64_t)bp.tiles_x * bp.tiles_y;
    const int64_t total = per_image * bp.count;
    const int out_w = bp.out_w, out_h = bp.out_h, ks = bp.ks;

    for (int64_t tile = ex.block(); tile < total; tile += ex.grid()) {
        const int img = (int)(tile / per_image);
        const int rem = (int)(tile - (int64_t)img * per_image);
        const int ty = rem / bp.tiles_x, tx = rem - ty * bp.tiles_x;
        const ImageDesc &d = descs[img];
        const int x0 = tx * kTileW, y0 = ty * kTileH;
        const int hlo = taps[d.hrange + 2 * tx], hhi = taps[d.hrange + 2 * tx + 1];
        const int vlo = taps[d.vrange + 2 * ty], vhi = taps[d.vrange + 2 * ty + 1];
        const int32_t *hfn = taps + d.hfn;
        const int32_t *hco = taps + d.hco;
        const int32_t *vfn = taps + d.vfn;
        const int32_t *vco = taps + d.vco;
        const uint8_t *src = base + d.src;
        const int cs = d.channels, swap = d.swap;
        const int64_t pitch_bytes = d.pitch;

        // Chunking of the intermediate rows [vlo, vhi): with the staged input when enough rows fit.
        const int iw = hhi - hlo;          // staged input columns of this tile
        const int ipitch = iw | 1;         // words per staged-input row in shared memory (odd)
        const int need = vhi - vlo;
        const int64_t fit = (int64_t)avail / (4 * ((int64_t)kMidPitch + ipitch)); // 64-bit: iw may be huge
        const bool staged = fit >= imin(need, kMinChunkRows) && fit >= 1;
        const int rows = staged ? (int)fit : avail / (4 * kMidPitch);
        uint32_t *sin = mid + rows * kMidPitch; // staged input (fast path only)
        ex.note_tile(staged, need > 0 ? (need + rows - 1) / rows : 0); // statistics of the emulation (no-op on GPU)

        ex.each([&](int, ThreadRegs &r) {
FXC_UNROLL
            for (int j = 0; j < kRowsPerThread; ++j) r.acc[j][0] = r.acc[j][1] = r.acc[j][2] = kBias;
        });

        for (int c0 = vlo; c0 < vhi; c0 += rows) {
            const int nr = imin(rows, vhi - c0);
            if (staged) {
                // Stage input rows [c0, c0 + nr) x columns [hlo, hhi) as one word per pixel. Item i = r * iw + c,
                // thread tid takes items tid, tid + kThreads, ... (stepped without a division per item).
                if (iw > 0) {
                    const int step_r = kThreads / iw, step_c = kThreads - step_r * iw;
                    ex.each([&](int tid, ThreadRegs &) {
                        int r = tid / iw, c = tid - r * iw;
                        while (r < nr) {
                            const uint8_t *p = src + (int64_t)(c0 + r) * pitch_bytes + (int64_t)(hlo + c) * cs;
                            sin[r * ipitch + c] = load_pixel(p, cs, swap);
                            c += step_c;
                            r += step_r;
                            if (c >= iw) {
                                c -= iw;
                                ++r;
                            }
                        }
                    });
                }
                ex.sync();
            }
            // Horizontal pass: warp w computes tile columns w, w + 8, ...; its lanes walk the chunk's rows.
            ex.each([&](int tid, ThreadRegs &) {
                const int warp = tid >> 5, lane = tid & 31;
                for (int x = warp; x < kTileW; x += kWarps) {
                    const int gx = x0 + x;
                    int f = 0, n = 0;
                    if (gx < out_w) {
                        f = hfn[2 * gx];
                        n = hfn[2 * gx + 1];
                    }
                    const int32_t *kdyn = hco + (int64_t)gx * ks;
                    int32_t k[KR];
                    if (K > 0 && n > 0) load_coeffs<KR>(kdyn, k);
                    if (n <= 0) {
                        for (int r = lane; r < nr; r += 32) mid[r * kMidPitch + x] = 0;
                    } else if (staged) {
                        for (int r = lane; r < nr; r += 32)
                            mid[r * kMidPitch + x] =
                                hpass_pixel<K, KR, true>(sin + r * ipitch + (f - hlo), nullptr, cs, swap, n, kdyn, k);
                    } else {
                        for (int r = lane; r < nr; r += 32)
                            mid[r * kMidPitch + x] = hpass_pixel<K, KR, false>(
                                nullptr, src + (int64_t)(c0 + r) * pitch_bytes + (int64_t)f * cs, cs, swap, n, kdyn, k);
                    }
                }
            });
            ex.sync();
            // Vertical pass: lane = tile column, warp w owns tile rows w, w + 8, ...; sums the chunk's taps.
            ex.each([&](int tid, ThreadRegs &regs) {
                const int warp = tid >> 5, lane = tid & 31;
FXC_UNROLL
                for (int j = 0; j < kRowsPerThread; ++j) {
                    const int gy = y0 + warp + kWarps * j;
                    if (gy >= out_h) continue;
                    const int f = vfn[2 * gy], n = vfn[2 * gy + 1];
                    const int tlo = imax(0, c0 - f), thi = imin(n, c0 + nr - f);
                    if (tlo >= thi) continue;
                    const int32_t *kv = vco + (int64_t)gy * ks;
                    const int m0 = (f - c0) * kMidPitch + lane; // intermediate row f + t: mid[m0 + t * kMidPitch]
                    int32_t a0 = regs.acc[j][0], a1 = regs.acc[j][1], a2 = regs.acc[j][2];
                    if (K > 0) {
                        int32_t k[KR];
                        load_coeffs<KR>(kv, k);
FXC_UNROLL
                        for (int t = 0; t < KR; ++t) {
                            if (t >= tlo && t < thi) {
                                const uint32_t p = mid[m0 + t * kMidPitch];
                                a0 += (int32_t)(p & 0xFFu) * k[t];
                                a1 += (int32_t)((p >> 8) & 0xFFu) * k[t];
                                a2 += (int32_t)(p >> 16) * k[t];
                            }
                        }
                    } else {
                        for (int t = tlo; t < thi; ++t) {
                            const uint32_t p = mid[m0 + t * kMidPitch];
                            const int32_t kt = kv[t];
                            a0 += (int32_t)(p & 0xFFu) * kt;
                            a1 += (int32_t)((p >> 8) & 0xFFu) * kt;
                            a2 += (int32_t)(p >> 16) * kt;
                        }
                    }
                    regs.acc[j][0] = a0;
                    regs.acc[j][1] = a1;
                    regs.acc[j][2] = a2;
                }
            });
            ex.sync(); // the next chunk overwrites the intermediate and the staged input
        }

        // Output: round, clamp, look the value up, write (flip, layout, dtype). Padding has n == 0: value 0.
        ex.each([&](int tid, ThreadRegs &regs) {
            const int warp = tid >> 5, lane = tid & 31;
            const int gx = x0 + lane;
            if (gx >= out_w) return;
            const int xo = d.flip ? out_w - 1 - gx : gx;
FXC_UNROLL
            for (int j = 0; j < kRowsPerThread; ++j) {
                const int gy = y0 + warp + kWarps * j;
                if (gy >= out_h) continue;
                int64_t e[3]; // element offsets of the three channels
                if (bp.layout == FX_LAYOUT_NCHW) {
                    const int64_t plane = (int64_t)out_h * out_w;
                    e[0] = d.index * 3 * plane + (int64_t)gy * out_w + xo;
                    e[1] = e[0] + plane;
                    e[2] = e[1] + plane;
                } else {
                    e[0] = ((d.index * out_h + gy) * (int64_t)out_w + xo) * 3;
                    e[1] = e[0] + 1;
                    e[2] = e[0] + 2;
                }
FXC_UNROLL
                for (int c = 0; c < 3; ++c) {
                    const uint32_t v = clamp8(regs.acc[j][c]);
                    switch (bp.dtype) {
                    case FX_DTYPE_FLOAT32: static_cast<uint32_t *>(bp.out)[e[c]] = table[c * 256 + v]; break;
                    case FX_DTYPE_UINT8: static_cast<uint8_t *>(bp.out)[e[c]] = (uint8_t)v; break;
                    default:
                        static_cast<uint16_t *>(bp.out)[e[c]] = reinterpret_cast<const uint16_t *>(table)[c * 256 + v];
                        break;
                    }
                }
            }
        });
        // No barrier needed here: the output phase reads only the table (never rewritten), and the intermediate
        // and staged input of this tile were last read before the chunk loop's final barrier.
    }
}

} // namespace cuda
} // namespace fx

#endif

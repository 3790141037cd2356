// AVX2 + FMA (+ F16C) row kernels. Compiled with -mavx2 -mfma -mf16c; only called after runtime detection.
//
// Exactness: all resampling arithmetic is in integers and equals Pillow's int32 sum exactly. A coefficient k
// (up to ~24 bits) is split into k = kh * 2^15 + kl with kl in [0, 2^15); vpmaddwd multiplies pairs of
// (pixel, pixel) int16 by (kl, kl) and (kh, kh) pairs; sum(p * kl) + (sum(p * kh) << 15) equals sum(p * k)
// modulo 2^32, and the true sum fits in int32, so the result is exact whatever the order of the additions.
//
// Horizontal pass: the needed part of the source row is first split into planes (one per output channel,
// zero-padded scratch, so no load ever runs past the end of the image). Outputs are processed 8 at a time:
//  - "grouped" (the usual case, down to ~4x reduction): each 128-bit half holds 4 outputs; 16 input bytes
//    around them are loaded once, and one pshufb per pair of taps builds (p[t], p[t + 1]) int16 pairs for the
//    4 outputs, which vpmaddwd weights with per-output interleaved coefficients;
//  - "per pixel" (large reductions): each output is a dot product over its taps, 16 taps per vpmaddwd.
//  A row whose groups all fit one 16-byte load per half with at most 12 taps (bilinear / bicubic down to ~2x
//  reduction, and all enlargements) runs an unrolled kernel that shares the controls and coefficients of a
//  group between the three planes.
// Vertical pass: pairs of intermediate rows are interleaved into int16 pairs (row t, row t + 1) and weighted
// by broadcast coefficient pairs, 32 columns per step.
// Output: the normalisation ((float) v / 255 - mean) / std is computed in float32 with two exactly emulated
// divisions (see Norm); check_arith verifies the evaluation bit for bit against the value table for all 256
// values of every channel before it is used, otherwise the table is used.
//
// Nothing from the C++ standard library is instantiated here (see cpu_internal.h).
#include "cpu_internal.h"

#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

// This file is compiled more than once (cmake/CMakeLists.txt), each time with its own -m flags, as a variant
// of the same kernels: FX_AVX2_VARIANT 0 (or undefined): AVX2 (avx2_ops, FX_ISA_AVX2); 1: AVX2 + AVX-VNNI
// (avxvnni_ops, FX_ISA_AVX2_VNNI); 2: AVX2 + AVX512-VNNI/VL, the same 256-bit vpdpwssd in its EVEX form, the base
// of the 512-bit kernels of FX_ISA_AVX512 (preprocess_avx512.cpp). The variants differ
// only in dpwssd below: vpdpwssd adds the two int16 products of each pair to the int32 accumulator, without
// saturation (modulo 2^32), exactly as vpmaddwd followed by vpaddd, so every variant gives the same integers.
#ifndef FX_AVX2_VARIANT
#define FX_AVX2_VARIANT 0
#endif

namespace fx {
namespace cpu {

namespace {

// acc + the pairwise products of a and b (int16 pairs -> int32), modulo 2^32.
inline __m256i dpwssd(__m256i acc, __m256i a, __m256i b) {
#if FX_AVX2_VARIANT == 1
    return _mm256_dpwssd_avx_epi32(acc, a, b);
#elif FX_AVX2_VARIANT == 2
    return _mm256_dpwssd_epi32(acc, a, b);
#else
    return _mm256_add_epi32(acc, _mm256_madd_epi16(a, b));
#endif
}

constexpr int32_t kGrouped = 0;
constexpr int32_t kPerPixel = 1;

// Horizontal tables: a sequence of 32-byte aligned records, one per group of 8 outputs.
//   grouped:   GroupHdr, ctrl[32] (pshufb control of the pair for tap offset 0), then count (= pairs J) x
//              { int16 kl[16], int16 kh[16] } (lane i holds taps 2j, 2j + 1 of output i)
//   per pixel: GroupHdr, int32 off[8], then 8 outputs x count (= 16-tap chunks) x { int16 kl[16], int16 kh[16] }
struct GroupHdr {
    int32_t kind;
    int32_t count;
    int32_t P; // grouped: pairs per 16-byte load
    int32_t base[2]; // grouped: plane offset of each 4-output half
    int32_t pad[3];
};
static_assert(sizeof(GroupHdr) == 32, "GroupHdr must be 32 bytes");

inline int16_t k_lo(int32_t k) { return (int16_t)(k & 0x7FFF); }
inline int16_t k_hi(int32_t k) { return (int16_t)(k >> 15); }

// ---- pshufb masks ------------------------------------------------------------------------------------
struct Masks {
    uint8_t de3[3][3][16]; // [channel][input vector][byte]: 16 RGB pixels (48 bytes) -> channel plane
    uint8_t in3[3][3][16]; // [output vector][channel][byte]: 3 planes of 16 bytes -> 48 interleaved bytes
    uint8_t de4[16];       // 4 pixels of 4 bytes -> [c0 x4, c1 x4, c2 x4, c3 x4]
};

constexpr Masks make_masks() {
    Masks m{};
    for (int c = 0; c < 3; ++c)
        for (int o = 0; o < 3; ++o)
            for (int j = 0; j < 16; ++j) {
                const int k = 3 * j + c; // interleaved byte of pixel j, channel c
                m.de3[c][o][j] = (uint8_t)(k / 16 == o ? k % 16 : 0x80);
            }
    for (int o = 0; o < 3; ++o)
        for (int c = 0; c < 3; ++c)
            for (int j = 0; j < 16; ++j) {
                const int k = 16 * o + j; // interleaved output byte
                m.in3[o][c][j] = (uint8_t)(k % 3 == c ? k / 3 : 0x80);
            }
    for (int j = 0; j < 16; ++j) m.de4[j] = (uint8_t)((j % 4) * 4 + j / 4);
    return m;
}

constexpr Masks kMasks = make_masks();

inline __m128i load16(const void *p) { return _mm_loadu_si128((const __m128i *)p); }
inline __m256i load32(const void *p) { return _mm256_loadu_si256((const __m256i *)p); }
inline __m256i load2x16(const void *hi, const void *lo) {
    return _mm256_inserti128_si256(_mm256_castsi128_si256(load16(lo)), load16(hi), 1);
}

// ---- horizontal tables -------------------------------------------------------------------------------
// Layout of the prepared buffer: a 32-byte PrepHdr, then one record per group of 8 outputs.
struct PrepHdr {
    int32_t uniform_J; // > 0: every group is grouped with exactly this many pairs and one load per half
    int32_t groups;
    int32_t pad[6];
};
static_assert(sizeof(PrepHdr) == 32, "PrepHdr must be 32 bytes");

constexpr int32_t kMaxFastJ = 6; // pairs handled by the unrolled kernels (taps <= 12)

struct GroupInfo {
    int32_t first[8], n[8], d[8];
    const int32_t *k[8];
    int32_t base[2], nmax, dmax;
};

void group_info(const HorizontalJob &j, int32_t g, GroupInfo *gi) {
    for (int i = 0; i < 8; ++i) {
        const int32_t o = 8 * g + i;
        if (o < j.out_w && j.n[o] > 0) {
            gi->first[i] = j.first[o] - j.sx0;
            gi->n[i] = j.n[o];
            gi->k[i] = j.coeffs + (size_t)o * (size_t)j.ksize;
        } else {
            gi->first[i] = -1;
            gi->n[i] = 0;
            gi->k[i] = nullptr;
        }
    }
    for (int h = 0; h < 2; ++h) {
        int32_t b = -1;
        for (int i = 4 * h; i < 4 * h + 4; ++i)
            if (gi->n[i] > 0 && (b < 0 || gi->first[i] < b)) b = gi->first[i];
        gi->base[h] = b < 0 ? 0 : b;
    }
    gi->nmax = 0;
    gi->dmax = 0;
    for (int i = 0; i < 8; ++i) {
        gi->d[i] = gi->n[i] > 0 ? gi->first[i] - gi->base[i / 4] : 0;
        if (gi->n[i] > gi->nmax) gi->nmax = gi->n[i];
        if (gi->d[i] > gi->dmax) gi->dmax = gi->d[i];
    }
}

// The pairs every group can use with one 16-byte load per half, or 0 if some group cannot.
int32_t uniform_pairs(const HorizontalJob &j) {
    const int32_t groups = (j.out_w + 7) / 8;
    int32_t J = 1;
    GroupInfo gi;
    for (int32_t g = 0; g < groups; ++g) {
        group_info(j, g, &gi);
        const int32_t jg = (gi.nmax + 1) / 2;
        if (jg > J) J = jg;
    }
    if (J > kMaxFastJ) return 0;
    for (int32_t g = 0; g < groups; ++g) {
        group_info(j, g, &gi);
        if (gi.dmax + 2 * J > 16) return 0;
    }
    return J;
}

void write_grouped(const GroupInfo &gi, int32_t J, int32_t P, uint8_t *buf) {
    GroupHdr hdr = {kGrouped, J, P, {gi.base[0], gi.base[1]}, {0, 0, 0}};
    memcpy(buf, &hdr, sizeof hdr);
    uint8_t *ctrl = buf + 32;
    for (int i = 0; i < 8; ++i) {
        uint8_t *c = ctrl + (i / 4) * 16 + (i % 4) * 4;
        c[0] = (uint8_t)gi.d[i];
        c[1] = 0x80;
        c[2] = (uint8_t)(gi.d[i] + 1);
        c[3] = 0x80;
    }
    for (int32_t jj = 0; jj < J; ++jj) {
        int16_t kl[16], kh[16];
        for (int i = 0; i < 8; ++i) {
            for (int e = 0; e < 2; ++e) {
                const int32_t t = 2 * jj + e;
                const int32_t kv = t < gi.n[i] ? gi.k[i][t] : 0;
                kl[2 * i + e] = k_lo(kv);
                kh[2 * i + e] = k_hi(kv);
            }
        }
        memcpy(buf + 64 + (size_t)jj * 64, kl, 32);
        memcpy(buf + 64 + (size_t)jj * 64 + 32, kh, 32);
    }
}

size_t plan_groups(const HorizontalJob &j, uint8_t *buf) {
    const int32_t groups = (j.out_w + 7) / 8;
    const int32_t uJ = uniform_pairs(j);
    if (buf) {
        PrepHdr ph = {uJ, groups, {0, 0, 0, 0, 0, 0}};
        memcpy(buf, &ph, sizeof ph);
        buf += sizeof ph;
    }
    size_t size = sizeof(PrepHdr);
    GroupInfo gi;
    for (int32_t g = 0; g < groups; ++g) {
        group_info(j, g, &gi);
        if (uJ > 0) {
            const size_t bytes = 64 + (size_t)uJ * 64;
            if (buf) {
                write_grouped(gi, uJ, uJ, buf);
                buf += bytes;
            }
            size += bytes;
        } else if (gi.dmax <= 14) {
            const int32_t J = (gi.nmax + 1) / 2;
            int32_t P = (16 - gi.dmax) / 2;
            if (P > J) P = J;
            const size_t bytes = 64 + (size_t)J * 64;
            if (buf) {
                write_grouped(gi, J, P, buf);
                buf += bytes;
            }
            size += bytes;
        } else {
            const int32_t C = (gi.nmax + 15) / 16;
            const size_t bytes = 64 + (size_t)8 * (size_t)C * 64;
            if (buf) {
                GroupHdr hdr = {kPerPixel, C, 0, {0, 0}, {0, 0, 0}};
                memcpy(buf, &hdr, sizeof hdr);
                int32_t off[8];
                for (int i = 0; i < 8; ++i) off[i] = gi.n[i] > 0 ? gi.first[i] : 0;
                memcpy(buf + 32, off, sizeof off);
                for (int i = 0; i < 8; ++i) {
                    for (int32_t c = 0; c < C; ++c) {
                        int16_t kl[16], kh[16];
                        for (int e = 0; e < 16; ++e) {
                            const int32_t t = 16 * c + e;
                            const int32_t kv = t < gi.n[i] ? gi.k[i][t] : 0;
                            kl[e] = k_lo(kv);
                            kh[e] = k_hi(kv);
                        }
                        uint8_t *dst = buf + 64 + ((size_t)i * (size_t)C + (size_t)c) * 64;
                        memcpy(dst, kl, 32);
                        memcpy(dst + 32, kh, 32);
                    }
                }
                buf += bytes;
            }
            size += bytes;
        }
    }
    return size;
}

size_t avx2_hprep_size(const HorizontalJob &job) { return plan_groups(job, nullptr); }
void avx2_hprep(const HorizontalJob &job, uint8_t *buf) { plan_groups(job, buf); }

// ---- horizontal pass ---------------------------------------------------------------------------------

// Splits source columns [sx0, sx1) into the job's planes (planes[p][x - sx0] = channel src_ch[p]).
// Vector steps never read outside [sx0, sx1) of the row: the last step is moved back to end at sx1 (it
// rewrites a few values with the same bytes); rows shorter than one step are split with scalar code.
struct De3 {
    __m256i m[3][3];
};

inline De3 de3_masks() {
    De3 d;
    for (int c = 0; c < 3; ++c)
        for (int o = 0; o < 3; ++o) d.m[c][o] = _mm256_broadcastsi128_si256(load16(kMasks.de3[c][o]));
    return d;
}

inline void de3_step32(const HorizontalJob &j, const uint8_t *s, int32_t x, const De3 &d) {
    const uint8_t *p = s + 3 * (int64_t)x; // low half: pixels x .. x + 15, high half: x + 16 .. x + 31
    const __m256i a = load2x16(p + 48, p), b = load2x16(p + 64, p + 16), c = load2x16(p + 80, p + 32);
    __m256i ch[3];
    for (int cc = 0; cc < 3; ++cc)
        ch[cc] = _mm256_or_si256(_mm256_or_si256(_mm256_shuffle_epi8(a, d.m[cc][0]), _mm256_shuffle_epi8(b, d.m[cc][1])),
                                 _mm256_shuffle_epi8(c, d.m[cc][2]));
    _mm256_storeu_si256((__m256i *)(j.planes[0] + x), ch[j.src_ch[0]]);
    _mm256_storeu_si256((__m256i *)(j.planes[1] + x), ch[j.src_ch[1]]);
    _mm256_storeu_si256((__m256i *)(j.planes[2] + x), ch[j.src_ch[2]]);
}

inline void de3_step16(const HorizontalJob &j, const uint8_t *s, int32_t x) {
    const uint8_t *p = s + 3 * (int64_t)x;
    const __m128i a = load16(p), b = load16(p + 16), c = load16(p + 32);
    __m128i ch[3];
    for (int cc = 0; cc < 3; ++cc)
        ch[cc] = _mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(a, load16(kMasks.de3[cc][0])),
                                           _mm_shuffle_epi8(b, load16(kMasks.de3[cc][1]))),
                              _mm_shuffle_epi8(c, load16(kMasks.de3[cc][2])));
    _mm_storeu_si128((__m128i *)(j.planes[0] + x), ch[j.src_ch[0]]);
    _mm_storeu_si128((__m128i *)(j.planes[1] + x), ch[j.src_ch[1]]);
    _mm_storeu_si128((__m128i *)(j.planes[2] + x), ch[j.src_ch[2]]);
}

inline void de4_step16(const HorizontalJob &j, const uint8_t *s, int32_t x) {
    const __m128i m = load16(kMasks.de4);
    const uint8_t *p = s + 4 * (int64_t)x;
    const __m128i s0 = _mm_shuffle_epi8(load16(p), m), s1 = _mm_shuffle_epi8(load16(p + 16), m);
    const __m128i s2 = _mm_shuffle_epi8(load16(p + 32), m), s3 = _mm_shuffle_epi8(load16(p + 48), m);
    const __m128i t0 = _mm_unpacklo_epi32(s0, s1), t1 = _mm_unpacklo_epi32(s2, s3);
    const __m128i t2 = _mm_unpackhi_epi32(s0, s1), t3 = _mm_unpackhi_epi32(s2, s3);
    __m128i ch[3];
    ch[0] = _mm_unpacklo_epi64(t0, t1);
    ch[1] = _mm_unpackhi_epi64(t0, t1);
    ch[2] = _mm_unpacklo_epi64(t2, t3);
    _mm_storeu_si128((__m128i *)(j.planes[0] + x), ch[j.src_ch[0]]);
    _mm_storeu_si128((__m128i *)(j.planes[1] + x), ch[j.src_ch[1]]);
    _mm_storeu_si128((__m128i *)(j.planes[2] + x), ch[j.src_ch[2]]);
}

void deinterleave(const HorizontalJob &j, const uint8_t *src_row) {
    const int32_t span = j.sx1 - j.sx0;
    const uint8_t *s = src_row + (int64_t)j.sx0 * j.channels;
    if (j.channels == 1) {
        memcpy(j.planes[0], s, (size_t)span);
        return;
    }
    int32_t x = 0;
    if (j.channels == 3) {
        if (span >= 32) {
            const De3 d = de3_masks();
            for (; x + 32 <= span; x += 32) de3_step32(j, s, x, d);
            if (x < span) de3_step32(j, s, span - 32, d);
            return;
        }
        if (span >= 16) {
            de3_step16(j, s, 0);
            if (span > 16) de3_step16(j, s, span - 16);
            return;
        }
    } else if (span >= 16) { // 4 channels: the 4th (alpha) is dropped
        for (; x + 16 <= span; x += 16) de4_step16(j, s, x);
        if (x < span) de4_step16(j, s, span - 16);
        return;
    }
    const int32_t ch = j.channels;
    for (; x < span; ++x) {
        const uint8_t *p = s + (int64_t)x * ch;
        j.planes[0][x] = p[j.src_ch[0]];
        j.planes[1][x] = p[j.src_ch[1]];
        j.planes[2][x] = p[j.src_ch[2]];
    }
}

// acc_lo + (acc_hi << 15) + 2^21, >> 22, clamped to [0, 255] by saturating packs; 8 int32 -> 8 bytes
// (lanes 0-3 of the low half, then lanes 0-3 of the high half).
inline __m128i finish8(__m256i acc_lo, __m256i acc_hi) {
    __m256i t = _mm256_add_epi32(acc_lo, _mm256_slli_epi32(acc_hi, 15));
    t = _mm256_srai_epi32(_mm256_add_epi32(t, _mm256_set1_epi32(1 << (kPrecisionBits - 1))), kPrecisionBits);
    const __m256i w = _mm256_packs_epi32(t, t);  // [0..3 0..3 | 4..7 4..7] int16
    const __m256i b = _mm256_packus_epi16(w, w); // bytes, each half's 4 values repeated
    return _mm_unpacklo_epi32(_mm256_castsi256_si128(b), _mm256_extracti128_si256(b, 1));
}

inline uint8_t finish1(int32_t acc) {
    const int32_t v = (int32_t)((uint32_t)acc + (1u << (kPrecisionBits - 1))) >> kPrecisionBits;
    return (uint8_t)(v < 0 ? 0 : (v > 255 ? 255 : v));
}

inline int32_t hsum8(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(s);
}

// Sum of the split accumulators (acc_lo includes Pillow's rounding term 2^21), shifted: 8 int32 in [-512, 511].
inline __m256i total8(__m256i acc_lo, __m256i acc_hi) {
    return _mm256_srai_epi32(_mm256_add_epi32(acc_lo, _mm256_slli_epi32(acc_hi, 15)), kPrecisionBits);
}

// Unrolled grouped kernel for every group of a row: J pairs, one 16-byte load per half and plane, the
// NP planes of a group share the shuffle controls and coefficients (kept in registers).
template <int J, int NP>
void hrow_uniform(const HorizontalJob &j, uint8_t *const *dst, const uint8_t *rec, int32_t groups) {
    const __m256i round = _mm256_set1_epi32(1 << (kPrecisionBits - 1));
    const __m256i perm = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    const uint8_t *pl[3] = {j.planes[0], j.planes[NP == 3 ? 1 : 0], j.planes[NP == 3 ? 2 : 0]};
    uint8_t *d0 = dst[0], *d1 = dst[NP == 3 ? 1 : 0], *d2 = dst[NP == 3 ? 2 : 0];
    constexpr size_t kRecord = 64 + (size_t)J * 64;
    for (int32_t g = 0; g < groups; ++g, rec += kRecord) {
        int32_t base[2];
        memcpy(base, rec + 12, sizeof base);
        const __m256i ctrl0 = load32(rec + 32);
        __m256i ctrl[J], kl[J], kh[J];
        for (int q = 0; q < J; ++q) {
            ctrl[q] = _mm256_add_epi8(ctrl0, _mm256_set1_epi8((char)(2 * q)));
            kl[q] = load32(rec + 64 + 64 * q);
            kh[q] = load32(rec + 64 + 64 * q + 32);
        }
        __m256i t[NP];
        for (int p = 0; p < NP; ++p) {
            const __m256i data = load2x16(pl[p] + base[1], pl[p] + base[0]);
            __m256i s = _mm256_shuffle_epi8(data, ctrl[0]);
            __m256i al = dpwssd(round, s, kl[0]), ah = _mm256_madd_epi16(s, kh[0]);
            for (int q = 1; q < J; ++q) {
                s = _mm256_shuffle_epi8(data, ctrl[q]);
                al = dpwssd(al, s, kl[q]);
                ah = dpwssd(ah, s, kh[q]);
            }
            t[p] = total8(al, ah); // al holds the rounding term
        }
        if (NP == 3) {
            // [R0-3 G0-3 | R4-7 G4-7] + [B0-3 B0-3 | B4-7 B4-7] -> bytes -> qwords R0-7, G0-7, B0-7
            const __m256i a = _mm256_packs_epi32(t[0], t[NP == 3 ? 1 : 0]);
            const __m256i b = _mm256_packs_epi32(t[NP == 3 ? 2 : 0], t[NP == 3 ? 2 : 0]);
            const __m256i c = _mm256_permutevar8x32_epi32(_mm256_packus_epi16(a, b), perm);
            const __m128i lo = _mm256_castsi256_si128(c);
            _mm_storel_epi64((__m128i *)(d0 + 8 * g), lo);
            _mm_storeh_pd((double *)(d1 + 8 * g), _mm_castsi128_pd(lo));
            _mm_storel_epi64((__m128i *)(d2 + 8 * g), _mm256_extracti128_si256(c, 1));
        } else {
            const __m256i w = _mm256_packs_epi32(t[0], t[0]);
            const __m256i b = _mm256_packus_epi16(w, w);
            _mm_storel_epi64((__m128i *)(d0 + 8 * g),
                             _mm_unpacklo_epi32(_mm256_castsi256_si128(b), _mm256_extracti128_si256(b, 1)));
        }
    }
}

template <int NP> void hrow_uniform_dispatch(int32_t J, const HorizontalJob &j, uint8_t *const *dst,
                                             const uint8_t *rec, int32_t groups) {
    switch (J) {
    case 1: hrow_uniform<1, NP>(j, dst, rec, groups); break;
    case 2: hrow_uniform<2, NP>(j, dst, rec, groups); break;
    case 3: hrow_uniform<3, NP>(j, dst, rec, groups); break;
    case 4: hrow_uniform<4, NP>(j, dst, rec, groups); break;
    case 5: hrow_uniform<5, NP>(j, dst, rec, groups); break;
    default: hrow_uniform<6, NP>(j, dst, rec, groups); break;
    }
}

// General kernel: per group, grouped (any number of pairs, several loads) or per pixel.
void hrow_general(const HorizontalJob &j, uint8_t *const *dst, const uint8_t *rec, int32_t groups) {
    const int32_t nplanes = j.nplanes;
    const __m256i two = _mm256_set1_epi8(2);
    for (int32_t g = 0; g < groups; ++g) {
        GroupHdr hdr;
        memcpy(&hdr, rec, sizeof hdr);
        if (hdr.kind == kGrouped) {
            const int32_t J = hdr.count, P = hdr.P;
            const __m256i ctrl0 = load32(rec + 32);
            const uint8_t *kp = rec + 64;
            for (int32_t p = 0; p < nplanes; ++p) {
                const uint8_t *lo = j.planes[p] + hdr.base[0];
                const uint8_t *hi = j.planes[p] + hdr.base[1];
                __m256i acc_l = _mm256_setzero_si256(), acc_h = _mm256_setzero_si256();
                for (int32_t jj = 0; jj < J; jj += P) {
                    const __m256i data = load2x16(hi + 2 * jj, lo + 2 * jj);
                    __m256i ctrl = ctrl0;
                    const int32_t qend = J - jj < P ? J - jj : P;
                    const uint8_t *kq = kp + (size_t)jj * 64;
                    for (int32_t q = 0; q < qend; ++q, kq += 64) {
                        const __m256i s = _mm256_shuffle_epi8(data, ctrl);
                        acc_l = dpwssd(acc_l, s, load32(kq));
                        acc_h = dpwssd(acc_h, s, load32(kq + 32));
                        ctrl = _mm256_add_epi8(ctrl, two);
                    }
                }
                _mm_storel_epi64((__m128i *)(dst[p] + 8 * g), finish8(acc_l, acc_h));
            }
            rec += 64 + (size_t)J * 64;
        } else {
            const int32_t C = hdr.count;
            int32_t off[8];
            memcpy(off, rec + 32, sizeof off);
            const uint8_t *kp = rec + 64;
            for (int32_t p = 0; p < nplanes; ++p) {
                for (int i = 0; i < 8; ++i) {
                    const uint8_t *s = j.planes[p] + off[i];
                    const uint8_t *kk = kp + (size_t)i * (size_t)C * 64;
                    __m256i acc_l = _mm256_setzero_si256(), acc_h = _mm256_setzero_si256();
                    for (int32_t c = 0; c < C; ++c, s += 16, kk += 64) {
                        const __m256i d = _mm256_cvtepu8_epi16(load16(s));
                        acc_l = dpwssd(acc_l, d, load32(kk));
                        acc_h = dpwssd(acc_h, d, load32(kk + 32));
                    }
                    const __m256i t = _mm256_add_epi32(acc_l, _mm256_slli_epi32(acc_h, 15));
                    dst[p][8 * g + i] = finish1(hsum8(t));
                }
            }
            rec += 64 + (size_t)8 * (size_t)C * 64;
        }
    }
}

void avx2_hrow(const HorizontalJob &j, const uint8_t *src_row, uint8_t *const *dst) {
    deinterleave(j, src_row);
    PrepHdr ph;
    memcpy(&ph, j.prep, sizeof ph);
    const uint8_t *rec = j.prep + sizeof(PrepHdr);
    if (ph.uniform_J > 0) {
        if (j.nplanes == 3)
            hrow_uniform_dispatch<3>(ph.uniform_J, j, dst, rec, ph.groups);
        else
            hrow_uniform_dispatch<1>(ph.uniform_J, j, dst, rec, ph.groups);
    } else {
        hrow_general(j, dst, rec, ph.groups);
    }
}

// ---- vertical pass -----------------------------------------------------------------------------------
// 32 columns of one plane per step: two rows (a, b) are interleaved into int16 pairs (a[x], b[x]) by two
// rounds of byte unpacking (with zero the second time), weighted by the broadcast pairs (kl, kl) / (kh, kh).
// Each 128-bit half holds 16 columns; packs + packus restore the column order without a permute.
struct VPair {
    const uint8_t *a, *b;
    __m256i kl, kh;
};

struct VAcc {
    __m256i l[4], h[4];
};

inline void vstep32(const uint8_t *a, const uint8_t *b, int32_t x, const __m256i &kl, const __m256i &kh, VAcc &acc) {
    const __m256i va = load32(a + x), vb = load32(b + x), z = _mm256_setzero_si256();
    const __m256i tlo = _mm256_unpacklo_epi8(va, vb), thi = _mm256_unpackhi_epi8(va, vb);
    const __m256i u[4] = {_mm256_unpacklo_epi8(tlo, z), _mm256_unpackhi_epi8(tlo, z), _mm256_unpacklo_epi8(thi, z),
                          _mm256_unpackhi_epi8(thi, z)};
    for (int i = 0; i < 4; ++i) {
        acc.l[i] = dpwssd(acc.l[i], u[i], kl);
        acc.h[i] = dpwssd(acc.h[i], u[i], kh);
    }
}

inline void vfinish32(const VAcc &acc, uint8_t *out) {
    __m256i t[4];
    for (int i = 0; i < 4; ++i)
        t[i] = _mm256_srai_epi32(_mm256_add_epi32(acc.l[i], _mm256_slli_epi32(acc.h[i], 15)), kPrecisionBits);
    // t0 = cols [0-3 | 16-19], t1 = [4-7 | 20-23], t2 = [8-11 | 24-27], t3 = [12-15 | 28-31]
    const __m256i p01 = _mm256_packs_epi32(t[0], t[1]), p23 = _mm256_packs_epi32(t[2], t[3]);
    _mm256_storeu_si256((__m256i *)out, _mm256_packus_epi16(p01, p23));
}

inline void vinit(VAcc &acc) {
    const __m256i round = _mm256_set1_epi32(1 << (kPrecisionBits - 1));
    for (int i = 0; i < 4; ++i) acc.l[i] = round, acc.h[i] = _mm256_setzero_si256();
}

template <int J> void vrow_fixed(int32_t width, const VPair *pairs, uint8_t *out) {
    const uint8_t *a[J], *b[J];
    for (int q = 0; q < J; ++q) a[q] = pairs[q].a, b[q] = pairs[q].b;
    for (int32_t x = 0; x < width; x += 32) {
        VAcc acc;
        vinit(acc);
        for (int q = 0; q < J; ++q) vstep32(a[q], b[q], x, pairs[q].kl, pairs[q].kh, acc);
        vfinish32(acc, out + x);
    }
}

void vrow_any(int32_t width, const VPair *pairs, int32_t J, uint8_t *out) {
    for (int32_t x = 0; x < width; x += 32) {
        VAcc acc;
        vinit(acc);
        for (int32_t q = 0; q < J; ++q) vstep32(pairs[q].a, pairs[q].b, x, pairs[q].kl, pairs[q].kh, acc);
        vfinish32(acc, out + x);
    }
}

void avx2_vrow(int32_t nplanes, int32_t width, const uint8_t *const *rows, int32_t n, const int32_t *k,
               uint8_t *const *dst, void *work) {
    const int32_t J = (n + 1) / 2;
    // VPair holds __m256i members: align it inside the work buffer
    static_assert(sizeof(VPair) <= 2 * kVrowWorkPerTap - 32, "VPair must fit the work per 2 taps");
    VPair *pairs = (VPair *)(((uintptr_t)work + 31) & ~(uintptr_t)31);
    for (int32_t q = 0; q < J; ++q) {
        const int32_t k0 = k[2 * q], k1 = 2 * q + 1 < n ? k[2 * q + 1] : 0;
        pairs[q].kl = _mm256_set1_epi32((int32_t)((uint32_t)(uint16_t)k_lo(k0) | ((uint32_t)(uint16_t)k_lo(k1) << 16)));
        pairs[q].kh = _mm256_set1_epi32((int32_t)((uint32_t)(uint16_t)k_hi(k0) | ((uint32_t)(uint16_t)k_hi(k1) << 16)));
    }
    for (int32_t p = 0; p < nplanes; ++p) {
        for (int32_t q = 0; q < J; ++q) {
            pairs[q].a = rows[(2 * q) * 3 + p];
            pairs[q].b = 2 * q + 1 < n ? rows[(2 * q + 1) * 3 + p] : pairs[q].a;
        }
        switch (J) {
        case 1: vrow_fixed<1>(width, pairs, dst[p]); break;
        case 2: vrow_fixed<2>(width, pairs, dst[p]); break;
        case 3: vrow_fixed<3>(width, pairs, dst[p]); break;
        case 4: vrow_fixed<4>(width, pairs, dst[p]); break;
        case 5: vrow_fixed<5>(width, pairs, dst[p]); break;
        case 6: vrow_fixed<6>(width, pairs, dst[p]); break;
        default: vrow_any(width, pairs, J, dst[p]); break;
        }
    }
}

// ---- output ------------------------------------------------------------------------------------------
// Normalisation constants of one channel. Two exact evaluations of ((float) v / 255.0f - mean) / std, each
// verified against the value table for all 256 values by check_arith before it is used:
//  - kFast: each division as a multiplication by a double-float reciprocal (hi + lo, ~48 bits):
//    q = fma(a, r_hi, a * r_lo), correctly rounded unless the quotient lies within ~2^-47 of a rounding
//    midpoint (none of the 256 values, as the verification shows for the given mean / std);
//  - kMarkstein: q = a * r, e = a - q * b (exact, FMA), q' = q + e * r (correctly rounded, Markstein).
constexpr int32_t kArithTable = 0, kArithFast = 1, kArithMarkstein = 2;

struct Norm {
    __m256 m, s, r_hi, r_lo;
};

// From ValueTable::norm[c]: mean, std, 1/std as hi + lo.
inline Norm make_norm(const float k[4]) {
    Norm n;
    n.m = _mm256_set1_ps(k[0]);
    n.s = _mm256_set1_ps(k[1]);
    n.r_hi = _mm256_set1_ps(k[2]);
    n.r_lo = _mm256_set1_ps(k[3]);
    return n;
}

template <int Mode> inline __m256 normalize8(__m256i v, const Norm &n) {
    const __m256 f = _mm256_cvtepi32_ps(v);
    if (Mode == kArithFast) {
        const float c_hi = 1.0f / 255.0f;
        const __m256 r255_hi = _mm256_set1_ps(c_hi);
        const __m256 r255_lo = _mm256_set1_ps((float)(1.0 / 255.0 - (double)c_hi));
        const __m256 a = _mm256_fmadd_ps(f, r255_hi, _mm256_mul_ps(f, r255_lo));
        const __m256 b = _mm256_sub_ps(a, n.m);
        return _mm256_fmadd_ps(b, n.r_hi, _mm256_mul_ps(b, n.r_lo));
    } else {
        const __m256 c255 = _mm256_set1_ps(255.0f), r255 = _mm256_set1_ps(1.0f / 255.0f);
        const __m256 q = _mm256_mul_ps(f, r255);
        const __m256 a = _mm256_fmadd_ps(_mm256_fnmadd_ps(q, c255, f), r255, q);
        const __m256 b = _mm256_sub_ps(a, n.m);
        const __m256 q2 = _mm256_mul_ps(b, n.r_hi);
        return _mm256_fmadd_ps(_mm256_fnmadd_ps(q2, n.s, b), n.r_hi, q2);
    }
}

inline __m256i load8_u8(const uint8_t *p) { return _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)p)); }

inline __m128i to_half8(__m256 f) { return _mm256_cvtps_ph(f, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }

inline __m128i to_bf16_8(__m256 f) {
    const __m256i x = _mm256_castps_si256(f);
    const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(x, 16), _mm256_set1_epi32(1));
    const __m256i r = _mm256_srli_epi32(_mm256_add_epi32(x, _mm256_add_epi32(_mm256_set1_epi32(0x7FFF), lsb)), 16);
    const __m256i p = _mm256_permute4x64_epi64(_mm256_packus_epi32(r, r), _MM_SHUFFLE(3, 1, 2, 0));
    return _mm256_castsi256_si128(p);
}

// Interleaves 8 pixels of three channels into 24 floats.
inline void interleave3(__m256 r, __m256 g, __m256 b, __m256 out[3]) {
    const __m256i i0 = _mm256_setr_epi32(0, 0, 0, 1, 1, 1, 2, 2);
    const __m256i i1 = _mm256_setr_epi32(2, 3, 3, 3, 4, 4, 4, 5);
    const __m256i i2 = _mm256_setr_epi32(5, 5, 6, 6, 6, 7, 7, 7);
    __m256 o;
    o = _mm256_blend_ps(_mm256_permutevar8x32_ps(r, i0), _mm256_permutevar8x32_ps(g, i0), 0x92);
    out[0] = _mm256_blend_ps(o, _mm256_permutevar8x32_ps(b, i0), 0x24);
    o = _mm256_blend_ps(_mm256_permutevar8x32_ps(r, i1), _mm256_permutevar8x32_ps(g, i1), 0x24);
    out[1] = _mm256_blend_ps(o, _mm256_permutevar8x32_ps(b, i1), 0x49);
    o = _mm256_blend_ps(_mm256_permutevar8x32_ps(r, i2), _mm256_permutevar8x32_ps(g, i2), 0x49);
    out[2] = _mm256_blend_ps(o, _mm256_permutevar8x32_ps(b, i2), 0x92);
}

template <int Mode> void emit_nchw(const EmitJob &e, int32_t y, const uint8_t *const *vb) {
    const int32_t w = e.out_w;
    const int32_t es = dtype_size(e.dtype);
    for (int32_t c = 0; c < 3; ++c) {
        const uint8_t *v = vb[e.nplanes == 1 ? 0 : c];
        uint8_t *dst = e.out + (((e.index * 3 + c) * e.out_h + y) * (int64_t)w) * es;
        if (e.dtype == FX_DTYPE_UINT8) {
            memcpy(dst, v, (size_t)w);
            continue;
        }
        const Norm n = make_norm(e.table->norm[c]);
        int32_t x = 0;
        if (e.dtype == FX_DTYPE_FLOAT32) {
            for (; x + 8 <= w; x += 8) _mm256_storeu_ps((float *)(dst + 4 * x), normalize8<Mode>(load8_u8(v + x), n));
            if (x < w) {
                float tmp[8];
                _mm256_storeu_ps(tmp, normalize8<Mode>(load8_u8(v + x), n));
                memcpy(dst + 4 * x, tmp, (size_t)(w - x) * 4);
            }
        } else {
            const bool half = e.dtype == FX_DTYPE_FLOAT16;
            for (; x + 8 <= w; x += 8) {
                const __m256 f = normalize8<Mode>(load8_u8(v + x), n);
                _mm_storeu_si128((__m128i *)(dst + 2 * x), half ? to_half8(f) : to_bf16_8(f));
            }
            if (x < w) {
                uint16_t tmp[8];
                const __m256 f = normalize8<Mode>(load8_u8(v + x), n);
                _mm_storeu_si128((__m128i *)tmp, half ? to_half8(f) : to_bf16_8(f));
                memcpy(dst + 2 * x, tmp, (size_t)(w - x) * 2);
            }
        }
    }
}

template <int Mode> void emit_nhwc(const EmitJob &e, int32_t y, const uint8_t *const *vb) {
    const int32_t w = e.out_w;
    const int32_t es = dtype_size(e.dtype);
    const uint8_t *v0 = vb[0];
    const uint8_t *v1 = vb[e.nplanes == 1 ? 0 : 1];
    const uint8_t *v2 = vb[e.nplanes == 1 ? 0 : 2];
    uint8_t *dst = e.out + ((e.index * e.out_h + y) * (int64_t)w) * 3 * es;
    int32_t x = 0;
    if (e.dtype == FX_DTYPE_UINT8) {
        for (; x + 16 <= w; x += 16) {
            const __m128i r = load16(v0 + x), g = load16(v1 + x), b = load16(v2 + x);
            for (int o = 0; o < 3; ++o) {
                const __m128i t = _mm_or_si128(
                    _mm_or_si128(_mm_shuffle_epi8(r, load16(kMasks.in3[o][0])), _mm_shuffle_epi8(g, load16(kMasks.in3[o][1]))),
                    _mm_shuffle_epi8(b, load16(kMasks.in3[o][2])));
                _mm_storeu_si128((__m128i *)(dst + 3 * x + 16 * o), t);
            }
        }
        for (; x < w; ++x) {
            dst[3 * x] = v0[x];
            dst[3 * x + 1] = v1[x];
            dst[3 * x + 2] = v2[x];
        }
        return;
    }
    const Norm n0 = make_norm(e.table->norm[0]), n1 = make_norm(e.table->norm[1]), n2 = make_norm(e.table->norm[2]);
    for (; x < w; x += 8) {
        __m256 o[3];
        interleave3(normalize8<Mode>(load8_u8(v0 + x), n0), normalize8<Mode>(load8_u8(v1 + x), n1),
                    normalize8<Mode>(load8_u8(v2 + x), n2), o);
        const int32_t count = w - x < 8 ? w - x : 8; // pixels
        if (e.dtype == FX_DTYPE_FLOAT32) {
            if (count == 8) {
                for (int k = 0; k < 3; ++k) _mm256_storeu_ps((float *)(dst + 4 * (3 * x + 8 * k)), o[k]);
            } else {
                float tmp[24];
                for (int k = 0; k < 3; ++k) _mm256_storeu_ps(tmp + 8 * k, o[k]);
                memcpy(dst + 4 * 3 * x, tmp, (size_t)count * 3 * 4);
            }
        } else {
            const bool half = e.dtype == FX_DTYPE_FLOAT16;
            uint16_t tmp[24];
            uint16_t *t = count == 8 ? nullptr : tmp;
            for (int k = 0; k < 3; ++k) {
                const __m128i hv = half ? to_half8(o[k]) : to_bf16_8(o[k]);
                if (t)
                    _mm_storeu_si128((__m128i *)(t + 8 * k), hv);
                else
                    _mm_storeu_si128((__m128i *)(dst + 2 * (3 * x + 8 * k)), hv);
            }
            if (t) memcpy(dst + 2 * 3 * x, tmp, (size_t)count * 3 * 2);
        }
    }
}

void avx2_emit(const EmitJob &e, int32_t y, const uint8_t *const *vb) {
    const int32_t mode = e.dtype == FX_DTYPE_UINT8 ? kArithFast : e.arith;
    if (mode == kArithTable) {
        scalar_ops().emit(e, y, vb); // neither evaluation matched the table for these mean / std
        return;
    }
    if (e.layout == FX_LAYOUT_NCHW) {
        if (mode == kArithFast)
            emit_nchw<kArithFast>(e, y, vb);
        else
            emit_nchw<kArithMarkstein>(e, y, vb);
    } else {
        if (mode == kArithFast)
            emit_nhwc<kArithFast>(e, y, vb);
        else
            emit_nhwc<kArithMarkstein>(e, y, vb);
    }
}

template <int Mode> bool arith_matches(const fx_output *out, const ValueTable *table) {
    for (int c = 0; c < 3; ++c) {
        const Norm n = make_norm(table->norm[c]);
        for (int v = 0; v < 256; v += 8) {
            const __m256i vi = _mm256_add_epi32(_mm256_set1_epi32(v), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
            const __m256 f = normalize8<Mode>(vi, n);
            if (out->dtype == FX_DTYPE_FLOAT32) {
                if (memcmp(&f, &table->f32[c][v], 32) != 0) return false;
            } else {
                const __m128i h = out->dtype == FX_DTYPE_FLOAT16 ? to_half8(f) : to_bf16_8(f);
                if (memcmp(&h, &table->h16[c][v], 16) != 0) return false;
            }
        }
    }
    return true;
}

// The evaluation the emit kernels use for these mean / std (kArith*): the cheapest that equals the table.
// fx_cpu_set_arith (FX_ARITH_MARKSTEIN or FX_ARITH_TABLE) skips the cheaper evaluations (tests and diagnosis).
int32_t avx2_check_arith(const fx_output *out, const ValueTable *table) {
    if (out->dtype == FX_DTYPE_UINT8) return kArithFast;
    const int32_t force = arith_mode();
    const bool table_only = force == FX_ARITH_TABLE;
    const bool no_fast = table_only || force == FX_ARITH_MARKSTEIN;
    if (!no_fast && arith_matches<kArithFast>(out, table)) return kArithFast;
    if (!table_only && arith_matches<kArithMarkstein>(out, table)) return kArithMarkstein;
    return kArithTable;
}

#if FX_AVX2_VARIANT == 1
#define FX_AVX2_OPS_NAME "avx2+avxvnni"
#define FX_AVX2_OPS_FN avxvnni_ops
#elif FX_AVX2_VARIANT == 2
#define FX_AVX2_OPS_NAME "avx512"
#define FX_AVX2_OPS_FN avx512_ops
#else
#define FX_AVX2_OPS_NAME "avx2"
#define FX_AVX2_OPS_FN avx2_ops
#endif

const IsaOps kAvx2Ops = {FX_AVX2_OPS_NAME, avx2_hprep_size, avx2_hprep, avx2_hrow, avx2_vrow, avx2_emit, avx2_check_arith};

} // namespace

// FX_AVX2_NO_OPS: the including file (preprocess_avx512.cpp) builds on these kernels and defines the ops itself.
#if !defined(FX_AVX2_NO_OPS)
const IsaOps &FX_AVX2_OPS_FN() { return kAvx2Ops; }
#endif

} // namespace cpu
} // namespace fx

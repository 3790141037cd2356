// The FX_ISA_AVX512 row kernels: preprocess_avx2.cpp compiled as its AVX512-VNNI variant (EVEX vpdpwssd), plus
// 512-bit instances of its hot loops, which replace the 256-bit ones where they apply:
//  - horizontal pass, rows whose groups all fit one 16-byte load per 4 outputs with at most 12 taps (the
//    "uniform" rows: bilinear / bicubic down to ~2x reduction, all enlargements): 16 outputs per vector, four
//    128-bit lanes of 4 outputs each, the same pshufb pairs and split coefficients as the 256-bit kernel, from
//    tables of 16-output groups (other rows run the 256-bit kernel on its own tables);
//  - vertical pass: 64 columns per step (a 32-column 256-bit step for the rest of the row);
//  - float32 / float16 / bfloat16 NCHW output: 16 values per step, the same float operations per value as the
//    256-bit evaluation that check_arith verified (a vector's width does not change IEEE results).
// Every integer is the same as in the 256-bit kernels (same products, sums modulo 2^32, same shifts and clamps),
// so the output bytes are the same as scalar's (ctest: every preprocessing test runs on every ISA).
// Compiled with -mavx2 -mfma -mf16c -mavx512f -mavx512vl -mavx512bw -mavx512dq -mavx512vnni.
#define FX_AVX2_VARIANT 2
#define FX_AVX2_NO_OPS 1 // the ops of this variant are defined below
#include "preprocess_avx2.cpp"

namespace fx {
namespace cpu {

namespace {

inline __m512i dpwssd512(__m512i acc, __m512i a, __m512i b) { return _mm512_dpwssd_epi32(acc, a, b); }

// ---- horizontal tables ------------------------------------------------------------------------------------
// Prep512Hdr, then either (uniform_J > 0) one record per group of 16 outputs:
//     int32 base[4] (plane offset of each 4-output lane), 48 bytes of padding, ctrl[64] (pshufb control of the
//     pair for tap offset 0), then J x { int16 kl[32], int16 kh[32] } (lane i holds taps 2j, 2j + 1 of output i),
// or (uniform_J == 0) the 256-bit kernel's tables (plan_groups).
struct Prep512Hdr {
    int32_t uniform_J;
    int32_t groups; // groups of 16 outputs (uniform, gather) or of 8 (the 256-bit tables)
    int32_t gather_M; // > 0: the VBMI gather tables (see below), M quads of taps
    int32_t gather_pair; // 1: the last quad of the gather tables is a pair of 16-bit taps (see below)
    int32_t pad[12];
};
static_assert(sizeof(Prep512Hdr) == 64, "Prep512Hdr must be 64 bytes");

constexpr size_t record512_bytes(int32_t J) { return 128 + (size_t)J * 128; }

void write_group16(const HorizontalJob &j, int32_t g, int32_t J, uint8_t *buf) {
    int32_t first[16], n[16];
    const int32_t *k[16];
    for (int i = 0; i < 16; ++i) {
        const int32_t o = 16 * g + i;
        if (o < j.out_w && j.n[o] > 0) {
            first[i] = j.first[o] - j.sx0;
            n[i] = j.n[o];
            k[i] = j.coeffs + (size_t)o * (size_t)j.ksize;
        } else {
            first[i] = -1;
            n[i] = 0;
            k[i] = nullptr;
        }
    }
    int32_t base[4];
    for (int q = 0; q < 4; ++q) {
        int32_t b = -1;
        for (int i = 4 * q; i < 4 * q + 4; ++i)
            if (n[i] > 0 && (b < 0 || first[i] < b)) b = first[i];
        base[q] = b < 0 ? 0 : b;
    }
    memset(buf, 0, 64);
    memcpy(buf, base, sizeof base);
    uint8_t *ctrl = buf + 64;
    for (int i = 0; i < 16; ++i) {
        const int32_t d = n[i] > 0 ? first[i] - base[i / 4] : 0;
        uint8_t *c = ctrl + i * 4; // lane i / 4, position i % 4
        c[0] = (uint8_t)d;
        c[1] = 0x80;
        c[2] = (uint8_t)(d + 1);
        c[3] = 0x80;
    }
    for (int32_t q = 0; q < J; ++q) {
        int16_t kl[32], kh[32];
        for (int i = 0; i < 16; ++i)
            for (int e = 0; e < 2; ++e) {
                const int32_t t = 2 * q + e;
                const int32_t kv = t < n[i] ? k[i][t] : 0;
                kl[2 * i + e] = k_lo(kv);
                kh[2 * i + e] = k_hi(kv);
            }
        memcpy(buf + 128 + (size_t)q * 128, kl, 64);
        memcpy(buf + 128 + (size_t)q * 128 + 64, kh, 64);
    }
}

// ---- horizontal pass, VBMI gather (the usual case where the CPU has AVX512-VBMI) ----------------------------
// Taps are gathered straight from the interleaved source row, without splitting it into planes first: a group
// of 16 outputs reads one 128-byte window of the row (two 64-byte loads, masked where the window passes the last
// column the taps read, so no byte outside [sx0, sx1) is touched), and one vpermt2b per plane and quad of taps
// puts the 4 source bytes of taps 4m .. 4m + 3 of output i into 32-bit lane i. vpdpbusd weights them (unsigned
// bytes times signed bytes, 4 products added to the int32 lane, modulo 2^32) with the coefficients split into
// three signed bytes, k = k2 * 2^16 + k1 * 2^8 + k0, in Horner order:
//     acc = ((32 + sum p * k2) * 2^8 + sum p * k1) * 2^8 + sum p * k0 = 2^21 + sum p * k   (modulo 2^32),
// Pillow's rounded sum exactly (the true sum fits in int32), then >> 22 and clamped as everywhere else.
// Taps past n[i] have coefficient 0 (their gathered bytes are arbitrary bytes of the window).
// Record of one group (64-byte aligned): int32 window offset (bytes from the row's roi column 0), int32 bytes of
// the window that may be read (0-128), 56 bytes of padding; then nplanes x M vpermt2b controls (64 bytes); then
// M x {k2[64], k1[64], k0[64]} (signed bytes, lane i = the 4 taps of output i).
// Pair variant (gather_pair, when the widest output's taps end 1 or 2 past a multiple of 4: 5-6 taps, the usual
// bicubic reduction between 1.25x and 1.5x): the last quad m = M - 1 only has taps 4m and 4m + 1, and it is
// gathered as two 16-bit pixels per lane (a zero-masked vpermt2b) and weighted by vpdpwssd with the coefficients
// split as (k >> 8, k & 255), which join the Horner chain at its second and third stages:
//     acc = ((32 + S2) * 2^8 + S1 + sum p * (k >> 8)) * 2^8 + S0 + sum p * (k & 255) = 2^21 + sum p * k,
// two instructions on port 0 for those taps instead of three. Its coefficient slots: {int16 (k >> 8) pairs[32],
// int16 (k & 255) pairs[32], unused[64]}.
constexpr int32_t kGatherMaxM = 4; // quads of taps of the unrolled kernels (taps <= 16)
constexpr int32_t kGatherWindow = 128;

// Which 512-bit horizontal kernels hprep may choose: the VBMI gather needs AVX512-VBMI (not in FX_ISA_AVX512's
// requirements: Cascade Lake has AVX512-VNNI without it).
bool cpu_has_vbmi() {
    static const bool v = [] {
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512vbmi") != 0;
    }();
    return v;
}

inline size_t gather_record_bytes(int32_t nplanes, int32_t M) { return 64 + (size_t)(nplanes + 3) * (size_t)M * 64; }

inline bool split3(int32_t k, int8_t out[3]) {
    const int32_t k0 = (int8_t)(uint8_t)(k & 0xFF);
    const int32_t r = (k - k0) / 256; // exact
    const int32_t k1 = (int8_t)(uint8_t)(r & 0xFF);
    const int32_t k2 = (r - k1) / 256;
    if (k2 < -128 || k2 > 127) return false;
    out[0] = (int8_t)k0, out[1] = (int8_t)k1, out[2] = (int8_t)k2;
    return true;
}

// Quads of taps M if the gather kernel can run this row (every group's taps inside its window, every
// coefficient splittable, M <= kGatherMaxM), else 0.
int32_t gather_quads(const HorizontalJob &j) {
    if (j.channels != 1 && j.channels != 3 && j.channels != 4) return 0;
    const int32_t M = (j.max_n + 3) / 4;
    if (M < 1 || M > kGatherMaxM) return 0;
    int32_t max_ch = 0;
    for (int p = 0; p < j.nplanes; ++p) max_ch = j.src_ch[p] > max_ch ? j.src_ch[p] : max_ch;
    const int32_t groups = (j.out_w + 15) / 16;
    for (int32_t g = 0; g < groups; ++g) {
        int32_t base = -1;
        for (int i = 0; i < 16; ++i) {
            const int32_t o = 16 * g + i;
            if (o < j.out_w && j.n[o] > 0 && (base < 0 || j.first[o] < base)) base = j.first[o];
        }
        for (int i = 0; i < 16; ++i) {
            const int32_t o = 16 * g + i;
            if (o >= j.out_w || j.n[o] <= 0) continue;
            const int64_t last = ((int64_t)j.first[o] - base + j.n[o] - 1) * j.channels + max_ch;
            if (last >= kGatherWindow) return 0;
            const int32_t *k = j.coeffs + (size_t)o * (size_t)j.ksize;
            int8_t b[3];
            for (int32_t t = 0; t < j.n[o]; ++t)
                if (!split3(k[t], b)) return 0;
        }
    }
    return M;
}

void write_gather_group(const HorizontalJob &j, int32_t g, int32_t M, bool pair, uint8_t *buf) {
    const int32_t ch = j.channels;
    int32_t base = -1;
    for (int i = 0; i < 16; ++i) {
        const int32_t o = 16 * g + i;
        if (o < j.out_w && j.n[o] > 0 && (base < 0 || j.first[o] < base)) base = j.first[o];
    }
    memset(buf, 0, gather_record_bytes(j.nplanes, M));
    int32_t hdr[2] = {0, 0};
    if (base >= 0) {
        hdr[0] = base * ch;
        const int64_t avail = ((int64_t)j.sx1 - base) * ch; // bytes up to the last column any tap reads
        hdr[1] = (int32_t)(avail < kGatherWindow ? avail : kGatherWindow);
    }
    memcpy(buf, hdr, sizeof hdr);
    uint8_t *ctrl = buf + 64;
    int8_t *kq = (int8_t *)(buf + 64 + (size_t)j.nplanes * (size_t)M * 64);
    for (int i = 0; i < 16; ++i) {
        const int32_t o = 16 * g + i;
        const bool live = o < j.out_w && j.n[o] > 0;
        const int32_t n = live ? j.n[o] : 0;
        const int32_t *k = live ? j.coeffs + (size_t)o * (size_t)j.ksize : nullptr;
        for (int32_t m = 0; m < M; ++m) {
            if (pair && m == M - 1) { // taps 4m, 4m + 1 as 16-bit pixels: bytes 4i and 4i + 2 of lane i
                int8_t *hi = kq + (size_t)m * 3 * 64, *lo = hi + 64; // int16 lanes 2i + e
                for (int e = 0; e < 2; ++e) {
                    const int32_t t = 4 * m + e;
                    for (int p = 0; p < j.nplanes; ++p)
                        ctrl[((size_t)p * M + m) * 64 + 4 * i + 2 * e] =
                            (uint8_t)(t < n ? (j.first[o] - base + t) * ch + j.src_ch[p] : 0);
                    const int32_t kv = t < n ? k[t] : 0;
                    const int16_t kh = (int16_t)(kv >> 8), kl = (int16_t)(kv & 255); // |k| < 2^23 (split3 held)
                    memcpy(hi + 2 * (2 * i + e), &kh, 2);
                    memcpy(lo + 2 * (2 * i + e), &kl, 2);
                }
                continue;
            }
            for (int e = 0; e < 4; ++e) {
                const int32_t t = 4 * m + e;
                for (int p = 0; p < j.nplanes; ++p)
                    ctrl[((size_t)p * M + m) * 64 + 4 * i + e] =
                        (uint8_t)(t < n ? (j.first[o] - base + t) * ch + j.src_ch[p] : 0);
                int8_t b[3] = {0, 0, 0};
                if (t < n) split3(k[t], b); // checked by gather_quads
                for (int part = 0; part < 3; ++part) kq[((size_t)m * 3 + (size_t)(2 - part)) * 64 + 4 * i + e] = b[part];
            }
        }
    }
}

#define FX_VBMI __attribute__((target("avx512vbmi")))

template <int M, int NP, bool PAIR>
FX_VBMI void hrow_gather(const HorizontalJob &, const uint8_t *src_row, uint8_t *const *dst, const uint8_t *rec,
                         int32_t groups) {
    constexpr int MQ = PAIR ? M - 1 : M; // quads on vpdpbusd
    constexpr size_t kRecord = 64 + (size_t)(NP + 3) * M * 64;
    const __m512i round = _mm512_set1_epi32(32); // 2^21 >> 16
    const __m512i zero = _mm512_setzero_si512();
    // after packs + packus, lane L holds bytes [plane 0: outputs 4L..4L+3, plane 1: same, plane 2, plane 2]
    alignas(64) uint8_t idx[64];
    for (int d = 0; d < 64; ++d) idx[d] = d < 48 ? (uint8_t)(16 * ((d % 16) / 4) + 4 * (d / 16) + d % 4) : 0;
    const __m512i order = _mm512_load_si512(idx);
    // acc << 8 in every 32-bit lane as a byte shuffle (port 5, beside the vpdpbusd of port 0)
    // (vpshufb indexes within each 128-bit lane: dword d takes bytes 4d .. 4d + 2, and a zero)
    const __m512i shl8 = _mm512_setr_epi32(0x020100FF, 0x060504FF, 0x0A0908FF, 0x0E0D0CFF, 0x020100FF, 0x060504FF,
                                           0x0A0908FF, 0x0E0D0CFF, 0x020100FF, 0x060504FF, 0x0A0908FF, 0x0E0D0CFF,
                                           0x020100FF, 0x060504FF, 0x0A0908FF, 0x0E0D0CFF);
    for (int32_t g = 0; g < groups; ++g, rec += kRecord) {
        int32_t hdr[2];
        memcpy(hdr, rec, sizeof hdr);
        const uint8_t *w = src_row + hdr[0];
        __m512i w0, w1;
        if (hdr[1] >= kGatherWindow) {
            w0 = _mm512_loadu_si512(w);
            w1 = _mm512_loadu_si512(w + 64);
        } else { // the last groups of the row: bytes past the columns read are never loaded (masked, no fault)
            const int32_t lim = hdr[1];
            const __mmask64 m0 = lim >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << lim) - 1);
            const __mmask64 m1 = lim <= 64 ? 0 : (((__mmask64)1 << (lim - 64)) - 1);
            w0 = _mm512_maskz_loadu_epi8(m0, w);
            w1 = _mm512_maskz_loadu_epi8(m1, w + 64);
        }
        const uint8_t *kp = rec + 64 + (size_t)NP * M * 64;
        __m512i t[NP];
        for (int p = 0; p < NP; ++p) {
            __m512i u[M];
            for (int m = 0; m < MQ; ++m)
                u[m] = _mm512_permutex2var_epi8(w0, _mm512_loadu_si512(rec + 64 + ((size_t)p * M + m) * 64), w1);
            if (PAIR) // 16-bit pixels: the odd bytes zeroed
                u[M - 1] = _mm512_maskz_permutex2var_epi8((__mmask64)0x5555555555555555ULL, w0,
                                                          _mm512_loadu_si512(rec + 64 + ((size_t)p * M + M - 1) * 64), w1);
            __m512i acc = round;
            for (int m = 0; m < MQ; ++m) acc = _mm512_dpbusd_epi32(acc, u[m], _mm512_loadu_si512(kp + (size_t)m * 192));
            acc = _mm512_shuffle_epi8(acc, shl8);
            for (int m = 0; m < MQ; ++m)
                acc = _mm512_dpbusd_epi32(acc, u[m], _mm512_loadu_si512(kp + (size_t)m * 192 + 64));
            if (PAIR) acc = _mm512_dpwssd_epi32(acc, u[M - 1], _mm512_loadu_si512(kp + (size_t)(M - 1) * 192));
            acc = _mm512_shuffle_epi8(acc, shl8);
            for (int m = 0; m < MQ; ++m)
                acc = _mm512_dpbusd_epi32(acc, u[m], _mm512_loadu_si512(kp + (size_t)m * 192 + 128));
            if (PAIR) acc = _mm512_dpwssd_epi32(acc, u[M - 1], _mm512_loadu_si512(kp + (size_t)(M - 1) * 192 + 64));
            t[p] = _mm512_srai_epi32(acc, kPrecisionBits);
        }
        if (NP == 3) { // saturating packs clamp to [0, 255]; one vpermb puts each plane's 16 bytes in a lane
            const __m512i a = _mm512_packs_epi32(t[0], t[NP == 3 ? 1 : 0]);
            const __m512i b = _mm512_packs_epi32(t[NP == 3 ? 2 : 0], t[NP == 3 ? 2 : 0]);
            const __m512i c = _mm512_permutexvar_epi8(order, _mm512_packus_epi16(a, b));
            _mm_storeu_si128((__m128i *)(dst[0] + 16 * g), _mm512_castsi512_si128(c));
            _mm_storeu_si128((__m128i *)(dst[1] + 16 * g), _mm512_extracti32x4_epi32(c, 1));
            _mm_storeu_si128((__m128i *)(dst[2] + 16 * g), _mm512_extracti32x4_epi32(c, 2));
        } else {
            _mm_storeu_si128((__m128i *)(dst[0] + 16 * g), _mm512_cvtusepi32_epi8(_mm512_max_epi32(t[0], zero)));
        }
    }
}

template <int NP, bool PAIR>
FX_VBMI void hrow_gather_dispatch(int32_t M, const HorizontalJob &j, const uint8_t *src_row, uint8_t *const *dst,
                                  const uint8_t *rec, int32_t groups) {
    switch (M) {
    case 1: hrow_gather<1, NP, PAIR>(j, src_row, dst, rec, groups); break;
    case 2: hrow_gather<2, NP, PAIR>(j, src_row, dst, rec, groups); break;
    case 3: hrow_gather<3, NP, PAIR>(j, src_row, dst, rec, groups); break;
    default: hrow_gather<4, NP, PAIR>(j, src_row, dst, rec, groups); break;
    }
}

// The 4-output lanes are those of the 256-bit kernel's groups, so a row is uniform for one exactly when it is
// for the other (uniform_pairs: every lane's first offset plus 2J taps within 16 bytes, J <= kMaxFastJ).
size_t plan512(const HorizontalJob &j, uint8_t *buf) {
    Prep512Hdr h;
    memset(&h, 0, sizeof h);
    const int32_t M = cpu_has_vbmi() ? gather_quads(j) : 0;
    if (M > 0) {
        h.gather_M = M;
        h.gather_pair = (j.max_n % 4 == 1 || j.max_n % 4 == 2) ? 1 : 0;
        h.groups = (j.out_w + 15) / 16;
        const size_t record = gather_record_bytes(j.nplanes, M);
        if (buf) {
            memcpy(buf, &h, sizeof h);
            for (int32_t g = 0; g < h.groups; ++g) write_gather_group(j, g, M, h.gather_pair != 0, buf + sizeof h + (size_t)g * record);
        }
        return sizeof h + (size_t)h.groups * record;
    }
    const int32_t J = uniform_pairs(j);
    h.uniform_J = J;
    if (J > 0) {
        h.groups = (j.out_w + 15) / 16;
        if (buf) {
            memcpy(buf, &h, sizeof h);
            for (int32_t g = 0; g < h.groups; ++g) write_group16(j, g, J, buf + sizeof h + (size_t)g * record512_bytes(J));
        }
        return sizeof h + (size_t)h.groups * record512_bytes(J);
    }
    h.groups = (j.out_w + 7) / 8;
    if (buf) {
        memcpy(buf, &h, sizeof h);
        plan_groups(j, buf + sizeof h);
    }
    return sizeof h + plan_groups(j, nullptr);
}

size_t avx512_hprep_size(const HorizontalJob &job) { return plan512(job, nullptr); }
void avx512_hprep(const HorizontalJob &job, uint8_t *buf) { plan512(job, buf); }

// ---- horizontal pass ----------------------------------------------------------------------------------------
inline __m512i load4x16(const uint8_t *p, const int32_t base[4]) {
    __m512i v = _mm512_castsi128_si512(load16(p + base[0]));
    v = _mm512_inserti32x4(v, load16(p + base[1]), 1);
    v = _mm512_inserti32x4(v, load16(p + base[2]), 2);
    return _mm512_inserti32x4(v, load16(p + base[3]), 3);
}

// (acc_lo + (acc_hi << 15)) >> 22 (acc_lo holds the rounding term), clamped to [0, 255]: 16 bytes.
inline __m128i finish16(__m512i al, __m512i ah) {
    const __m512i t = _mm512_srai_epi32(_mm512_add_epi32(al, _mm512_slli_epi32(ah, 15)), kPrecisionBits);
    return _mm512_cvtusepi32_epi8(_mm512_max_epi32(t, _mm512_setzero_si512()));
}

template <int J, int NP>
void hrow512_uniform(const HorizontalJob &j, uint8_t *const *dst, const uint8_t *rec, int32_t groups) {
    const __m512i round = _mm512_set1_epi32(1 << (kPrecisionBits - 1));
    const uint8_t *pl[3] = {j.planes[0], j.planes[NP == 3 ? 1 : 0], j.planes[NP == 3 ? 2 : 0]};
    constexpr size_t kRecord = record512_bytes(J);
    for (int32_t g = 0; g < groups; ++g, rec += kRecord) {
        int32_t base[4];
        memcpy(base, rec, sizeof base);
        const __m512i ctrl0 = _mm512_loadu_si512(rec + 64);
        __m512i ctrl[J], kl[J], kh[J];
        for (int q = 0; q < J; ++q) {
            ctrl[q] = _mm512_add_epi8(ctrl0, _mm512_set1_epi8((char)(2 * q)));
            kl[q] = _mm512_loadu_si512(rec + 128 + 128 * q);
            kh[q] = _mm512_loadu_si512(rec + 128 + 128 * q + 64);
        }
        for (int p = 0; p < NP; ++p) {
            const __m512i data = load4x16(pl[p], base);
            __m512i s = _mm512_shuffle_epi8(data, ctrl[0]);
            __m512i al = dpwssd512(round, s, kl[0]), ah = _mm512_madd_epi16(s, kh[0]);
            for (int q = 1; q < J; ++q) {
                s = _mm512_shuffle_epi8(data, ctrl[q]);
                al = dpwssd512(al, s, kl[q]);
                ah = dpwssd512(ah, s, kh[q]);
            }
            _mm_storeu_si128((__m128i *)(dst[p] + 16 * g), finish16(al, ah));
        }
    }
}

template <int NP>
void hrow512_dispatch(int32_t J, const HorizontalJob &j, uint8_t *const *dst, const uint8_t *rec, int32_t groups) {
    switch (J) {
    case 1: hrow512_uniform<1, NP>(j, dst, rec, groups); break;
    case 2: hrow512_uniform<2, NP>(j, dst, rec, groups); break;
    case 3: hrow512_uniform<3, NP>(j, dst, rec, groups); break;
    case 4: hrow512_uniform<4, NP>(j, dst, rec, groups); break;
    case 5: hrow512_uniform<5, NP>(j, dst, rec, groups); break;
    default: hrow512_uniform<6, NP>(j, dst, rec, groups); break;
    }
}

void avx512_hrow(const HorizontalJob &j, const uint8_t *src_row, uint8_t *const *dst) {
    Prep512Hdr h;
    memcpy(&h, j.prep, sizeof h);
    const uint8_t *rec = j.prep + sizeof h;
    if (h.gather_M > 0) {
        if (h.gather_pair) {
            if (j.nplanes == 3)
                hrow_gather_dispatch<3, true>(h.gather_M, j, src_row, dst, rec, h.groups);
            else
                hrow_gather_dispatch<1, true>(h.gather_M, j, src_row, dst, rec, h.groups);
        } else if (j.nplanes == 3) {
            hrow_gather_dispatch<3, false>(h.gather_M, j, src_row, dst, rec, h.groups);
        } else {
            hrow_gather_dispatch<1, false>(h.gather_M, j, src_row, dst, rec, h.groups);
        }
        return;
    }
    deinterleave(j, src_row);
    if (h.uniform_J > 0) {
        if (j.nplanes == 3)
            hrow512_dispatch<3>(h.uniform_J, j, dst, rec, h.groups);
        else
            hrow512_dispatch<1>(h.uniform_J, j, dst, rec, h.groups);
    } else {
        hrow_general(j, dst, rec + sizeof(PrepHdr), h.groups);
    }
}

// ---- vertical pass --------------------------------------------------------------------------------------------
// 64 columns of one plane per step, the 256-bit vstep32 / vfinish32 widened: each 128-bit lane holds 16 columns
// (the byte unpacks, packs and packus work within lanes, so the column order comes back without a permute).
struct VPair512 {
    const uint8_t *a, *b;
    int32_t kl, kh; // (kl, kl) / (kh, kh) int16 pairs of taps 2q, 2q + 1
};

inline void vstep64(const uint8_t *a, const uint8_t *b, int32_t x, __m512i kl, __m512i kh, __m512i l[4], __m512i h[4]) {
    const __m512i va = _mm512_loadu_si512(a + x), vb = _mm512_loadu_si512(b + x), z = _mm512_setzero_si512();
    const __m512i tlo = _mm512_unpacklo_epi8(va, vb), thi = _mm512_unpackhi_epi8(va, vb);
    const __m512i u[4] = {_mm512_unpacklo_epi8(tlo, z), _mm512_unpackhi_epi8(tlo, z), _mm512_unpacklo_epi8(thi, z),
                          _mm512_unpackhi_epi8(thi, z)};
    for (int i = 0; i < 4; ++i) {
        l[i] = dpwssd512(l[i], u[i], kl);
        h[i] = dpwssd512(h[i], u[i], kh);
    }
}

template <int J> void vrow512(int32_t width, const VPair512 *pairs, int32_t npairs, uint8_t *out) {
    const int32_t np = J > 0 ? J : npairs;
    const __m512i round = _mm512_set1_epi32(1 << (kPrecisionBits - 1));
    const int32_t end = (width + 31) & ~31; // the 256-bit kernel computes up to here
    int32_t x = 0;
    for (; x + 64 <= end; x += 64) {
        __m512i l[4], h[4];
        for (int i = 0; i < 4; ++i) l[i] = round, h[i] = _mm512_setzero_si512();
        for (int32_t q = 0; q < np; ++q)
            vstep64(pairs[q].a, pairs[q].b, x, _mm512_set1_epi32(pairs[q].kl), _mm512_set1_epi32(pairs[q].kh), l, h);
        __m512i t[4];
        for (int i = 0; i < 4; ++i)
            t[i] = _mm512_srai_epi32(_mm512_add_epi32(l[i], _mm512_slli_epi32(h[i], 15)), kPrecisionBits);
        const __m512i p01 = _mm512_packs_epi32(t[0], t[1]), p23 = _mm512_packs_epi32(t[2], t[3]);
        _mm512_storeu_si512(out + x, _mm512_packus_epi16(p01, p23));
    }
    if (x < end) { // 32 columns left
        VAcc acc;
        vinit(acc);
        for (int32_t q = 0; q < np; ++q)
            vstep32(pairs[q].a, pairs[q].b, x, _mm256_set1_epi32(pairs[q].kl), _mm256_set1_epi32(pairs[q].kh), acc);
        vfinish32(acc, out + x);
    }
}

void avx512_vrow(int32_t nplanes, int32_t width, const uint8_t *const *rows, int32_t n, const int32_t *k,
                 uint8_t *const *dst, void *work) {
    const int32_t J = (n + 1) / 2;
    static_assert(sizeof(VPair512) <= 2 * kVrowWorkPerTap, "VPair512 must fit the work per 2 taps");
    VPair512 *pairs = (VPair512 *)(((uintptr_t)work + 15) & ~(uintptr_t)15);
    for (int32_t q = 0; q < J; ++q) {
        const int32_t k0 = k[2 * q], k1 = 2 * q + 1 < n ? k[2 * q + 1] : 0;
        pairs[q].kl = (int32_t)((uint32_t)(uint16_t)k_lo(k0) | ((uint32_t)(uint16_t)k_lo(k1) << 16));
        pairs[q].kh = (int32_t)((uint32_t)(uint16_t)k_hi(k0) | ((uint32_t)(uint16_t)k_hi(k1) << 16));
    }
    for (int32_t p = 0; p < nplanes; ++p) {
        for (int32_t q = 0; q < J; ++q) {
            pairs[q].a = rows[(2 * q) * 3 + p];
            pairs[q].b = 2 * q + 1 < n ? rows[(2 * q + 1) * 3 + p] : pairs[q].a;
        }
        switch (J) {
        case 1: vrow512<1>(width, pairs, J, dst[p]); break;
        case 2: vrow512<2>(width, pairs, J, dst[p]); break;
        case 3: vrow512<3>(width, pairs, J, dst[p]); break;
        case 4: vrow512<4>(width, pairs, J, dst[p]); break;
        case 5: vrow512<5>(width, pairs, J, dst[p]); break;
        case 6: vrow512<6>(width, pairs, J, dst[p]); break;
        default: vrow512<0>(width, pairs, J, dst[p]); break;
        }
    }
}

// ---- output ---------------------------------------------------------------------------------------------------
struct Norm512 {
    __m512 m, s, r_hi, r_lo;
};

inline Norm512 make_norm512(const float k[4]) {
    return {_mm512_set1_ps(k[0]), _mm512_set1_ps(k[1]), _mm512_set1_ps(k[2]), _mm512_set1_ps(k[3])};
}

// normalize8 on 16 values: the same operations, in the same order, per value.
template <int Mode> inline __m512 normalize16(__m512i v, const Norm512 &n) {
    const __m512 f = _mm512_cvtepi32_ps(v);
    if (Mode == kArithFast) {
        const float c_hi = 1.0f / 255.0f;
        const __m512 r255_hi = _mm512_set1_ps(c_hi);
        const __m512 r255_lo = _mm512_set1_ps((float)(1.0 / 255.0 - (double)c_hi));
        const __m512 a = _mm512_fmadd_ps(f, r255_hi, _mm512_mul_ps(f, r255_lo));
        const __m512 b = _mm512_sub_ps(a, n.m);
        return _mm512_fmadd_ps(b, n.r_hi, _mm512_mul_ps(b, n.r_lo));
    } else {
        const __m512 c255 = _mm512_set1_ps(255.0f), r255 = _mm512_set1_ps(1.0f / 255.0f);
        const __m512 q = _mm512_mul_ps(f, r255);
        const __m512 a = _mm512_fmadd_ps(_mm512_fnmadd_ps(q, c255, f), r255, q);
        const __m512 b = _mm512_sub_ps(a, n.m);
        const __m512 q2 = _mm512_mul_ps(b, n.r_hi);
        return _mm512_fmadd_ps(_mm512_fnmadd_ps(q2, n.s, b), n.r_hi, q2);
    }
}

// to_bf16_8 on 16 values (round to nearest even on the bits).
inline __m256i to_bf16_16(__m512 f) {
    const __m512i x = _mm512_castps_si512(f);
    const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(x, 16), _mm512_set1_epi32(1));
    const __m512i r = _mm512_srli_epi32(_mm512_add_epi32(x, _mm512_add_epi32(_mm512_set1_epi32(0x7FFF), lsb)), 16);
    return _mm512_cvtepi32_epi16(r);
}

template <int Mode> void emit512_nchw(const EmitJob &e, int32_t y, const uint8_t *const *vb) {
    // Everything the loops need in locals first: the stores through dst could alias e, which would make the
    // compiler reload e's fields in every iteration.
    const int32_t w = e.out_w, dtype = e.dtype, nplanes = e.nplanes;
    const int64_t es = dtype_size(dtype), first_row = (e.index * 3 * e.out_h + y) * (int64_t)w * es,
                  plane_bytes = (int64_t)e.out_h * w * es;
    uint8_t *const out = e.out;
    const Norm512 norm[3] = {make_norm512(e.table->norm[0]), make_norm512(e.table->norm[1]),
                             make_norm512(e.table->norm[2])};
    const int32_t full = w & ~15;
    const __mmask16 tail = (__mmask16)((1u << (w - full)) - 1);
    for (int32_t c = 0; c < 3; ++c) {
        // the values rows are padded past w (kRowSlack): a full 16-byte load is in bounds
        const uint8_t *v = vb[nplanes == 1 ? 0 : c];
        uint8_t *dst = out + first_row + c * plane_bytes;
        const Norm512 &n = norm[c];
        if (dtype == FX_DTYPE_FLOAT32) {
            float *d = (float *)dst;
            for (int32_t x = 0; x < full; x += 16)
                _mm512_storeu_ps(d + x, normalize16<Mode>(_mm512_cvtepu8_epi32(load16(v + x)), n));
            if (full < w) _mm512_mask_storeu_ps(d + full, tail, normalize16<Mode>(_mm512_cvtepu8_epi32(load16(v + full)), n));
        } else {
            const bool half = dtype == FX_DTYPE_FLOAT16;
            for (int32_t x = 0; x < w; x += 16) {
                const __m512 f = normalize16<Mode>(_mm512_cvtepu8_epi32(load16(v + x)), n);
                const __m256i h = half ? _mm512_cvtps_ph(f, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC) : to_bf16_16(f);
                _mm256_mask_storeu_epi16(dst + 2 * (int64_t)x, x < full ? (__mmask16)0xFFFF : tail, h);
            }
        }
    }
}

void avx512_emit(const EmitJob &e, int32_t y, const uint8_t *const *vb) {
    if (e.layout != FX_LAYOUT_NCHW || e.dtype == FX_DTYPE_UINT8 || e.arith == kArithTable) {
        avx2_emit(e, y, vb);
        return;
    }
    if (e.arith == kArithFast)
        emit512_nchw<kArithFast>(e, y, vb);
    else
        emit512_nchw<kArithMarkstein>(e, y, vb);
}

const IsaOps kAvx512Ops = {"avx512", avx512_hprep_size, avx512_hprep, avx512_hrow, avx512_vrow, avx512_emit,
                           avx2_check_arith};

} // namespace

const IsaOps &avx512_ops() { return kAvx512Ops; }

} // namespace cpu
} // namespace fx

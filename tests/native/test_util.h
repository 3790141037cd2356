// A tiny self-made test harness and helpers shared by the native tests (no dependency but zlib).
//
//   CHECK(cond, fmt, ...)   counts a passed or failed check; on failure prints the location and the message
//   return test_summary();  prints "N passed, N failed" and gives the process exit code
// Also: random images, outputs with sentinels, independent value conversions, and readers for the Pillow
// golden data of tests/data/preprocess/ (gzipped .npy, a minimal JSON reader).
#ifndef FIXRES4J_TESTS_NATIVE_TEST_UTIL_H
#define FIXRES4J_TESTS_NATIVE_TEST_UTIL_H

#include "fixres4j/kernels.h"

#include <zlib.h> // the golden data is gzipped: every test links zlib

#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace fxtest {

inline int &passed_count() {
    static int n = 0;
    return n;
}
inline int &failed_count() {
    static int n = 0;
    return n;
}
inline int &failure_budget() { // failures printed before going quiet
    static int n = 50;
    return n;
}

inline void report_failure(const char *file, int line, const char *expr, const char *fmt, ...) {
    ++failed_count();
    if (failure_budget() <= 0) return;
    --failure_budget();
    std::fprintf(stdout, "FAIL %s:%d: %s", file, line, expr);
    if (fmt && *fmt) {
        std::fprintf(stdout, ": ");
        va_list args;
        va_start(args, fmt);
        std::vfprintf(stdout, fmt, args);
        va_end(args);
    }
    std::fprintf(stdout, "\n");
    std::fflush(stdout);
}

inline int test_summary() {
    std::printf("%d passed, %d failed\n", passed_count(), failed_count());
    return failed_count() == 0 ? 0 : 1;
}

// ctest's SKIP_RETURN_CODE (tests/native/CMakeLists.txt): a test that could not run reports a skip, never a pass.
constexpr int kSkipReturnCode = 77;

// Prints "SKIPPED: why" and the counts; exit code 77 (skipped), or 1 if a check already failed.
inline int test_skip(const char *why) {
    std::printf("SKIPPED: %s\n", why);
    std::printf("%d passed, %d failed\n", passed_count(), failed_count());
    return failed_count() == 0 ? kSkipReturnCode : 1;
}

#define CHECK(cond, ...)                                                                                         \
    do {                                                                                                         \
        if (cond)                                                                                                \
            ++::fxtest::passed_count();                                                                          \
        else                                                                                                     \
            ::fxtest::report_failure(__FILE__, __LINE__, #cond, "" __VA_ARGS__);                                 \
    } while (0)

// ---- random numbers (deterministic, seeded) ---------------------------------------------------------------
struct Rng {
    uint64_t s;
    explicit Rng(uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 0x1234567ull) {}
    uint64_t next() { // splitmix64
        uint64_t z = (s += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    int32_t uniform(int32_t lo, int32_t hi) { // inclusive
        return lo + (int32_t)(next() % (uint64_t)((int64_t)hi - lo + 1));
    }
    double unit() { return (double)(next() >> 11) * (1.0 / 9007199254740992.0); }
    bool chance(double p) { return unit() < p; }
};

// ---- images ---------------------------------------------------------------------------------------------
struct Image {
    std::vector<uint8_t> bytes;
    fx_image view{};
};

// A random image; row_stride = width * channels + pad. Smooth-ish content mixed with noise and extremes so the
// clamping paths are exercised.
inline Image random_image(Rng &rng, int32_t w, int32_t h, int32_t channels, int32_t order, int32_t pad) {
    Image img;
    const int64_t stride = (int64_t)w * channels + pad;
    img.bytes.resize((size_t)(stride * h));
    const int mode = rng.uniform(0, 3);
    for (int32_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < stride; ++x) {
            uint8_t v;
            switch (mode) {
            case 0: v = (uint8_t)rng.next(); break;                                      // noise
            case 1: v = (rng.next() & 1) ? 255 : 0; break;                               // extremes
            case 2: v = (uint8_t)((x * 7 + y * 13 + (int64_t)(rng.next() % 9)) & 255); break; // ramps
            default: v = (uint8_t)(128 + 100 * std::sin(0.05 * (double)x + 0.11 * y) + (double)(rng.next() % 20)); break;
            }
            img.bytes[(size_t)(y * stride + x)] = v;
        }
    img.view.data = img.bytes.data();
    img.view.width = w;
    img.view.height = h;
    img.view.channels = channels;
    img.view.order = order;
    img.view.row_stride = stride;
    return img;
}

// An output tensor (host memory) filled with a sentinel byte pattern.
// ---- the CPU ISAs a test runs on ----------------------------------------------------------------------------
// Every FX_ISA_* path this CPU runs, scalar first.
inline std::vector<int32_t> cpu_isas() {
    std::vector<int32_t> v{FX_ISA_SCALAR};
    if (fx_cpu_supports_avx2()) v.push_back(FX_ISA_AVX2);
    if (fx_cpu_supports_avx2_vnni()) v.push_back(FX_ISA_AVX2_VNNI);
    if (fx_cpu_supports_avx512()) v.push_back(FX_ISA_AVX512);
    return v;
}

inline const char *isa_name(int32_t isa) {
    switch (isa) {
    case FX_ISA_AUTO: return "auto";
    case FX_ISA_SCALAR: return "scalar";
    case FX_ISA_AVX2: return "avx2";
    case FX_ISA_AVX2_VNNI: return "avx2-vnni";
    case FX_ISA_AVX512: return "avx512";
    default: return "?";
    }
}

// The FX_ISA_* code of a name of isa_name (-1 if none).
inline int32_t isa_code(const char *name) {
    for (int32_t isa = FX_ISA_AUTO; isa <= FX_ISA_AVX512; ++isa)
        if (std::strcmp(name, isa_name(isa)) == 0) return isa;
    return -1;
}

// fx_cpu_set_isa for a path of cpu_isas() (FX_ISA_AUTO too).
inline fx_status set_isa(int32_t isa) { return fx_cpu_set_isa(isa); }

struct Output {
    std::vector<uint8_t> bytes;
    fx_output desc{};
};

inline int32_t elem_size(int32_t dtype) { return dtype == FX_DTYPE_FLOAT32 ? 4 : dtype == FX_DTYPE_UINT8 ? 1 : 2; }

inline Output make_output(int64_t batch, int32_t out_w, int32_t out_h, int32_t layout, int32_t dtype, int32_t order,
                          uint8_t sentinel = 0xA5) {
    Output o;
    const size_t n = (size_t)batch * 3 * (size_t)out_w * (size_t)out_h * (size_t)elem_size(dtype);
    o.bytes.assign(n + 64, sentinel); // + 64 guard bytes, checked by guard_ok
    o.desc.data = o.bytes.data();
    o.desc.batch = batch;
    o.desc.layout = layout;
    o.desc.dtype = dtype;
    o.desc.order = order;
    o.desc.out_w = out_w;
    o.desc.out_h = out_h;
    const float mean[3] = {0.485f, 0.456f, 0.406f}, stdv[3] = {0.229f, 0.224f, 0.225f};
    for (int c = 0; c < 3; ++c) {
        o.desc.mean[c] = mean[c];
        o.desc.std[c] = stdv[c];
    }
    return o;
}

inline bool guard_ok(const Output &o, uint8_t sentinel = 0xA5) {
    for (size_t i = o.bytes.size() - 64; i < o.bytes.size(); ++i)
        if (o.bytes[i] != sentinel) return false;
    return true;
}

inline bool all_bytes(const std::vector<uint8_t> &v, uint8_t b) {
    for (uint8_t x : v)
        if (x != b) return false;
    return true;
}

inline std::string plan_str(const fx_resample_plan &p) {
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "roi (%d,%d %dx%d) box (%.9g,%.9g,%.9g,%.9g) resize %dx%d crop (%d,%d) out %dx%d filter %d flip %d",
                  p.roi_x, p.roi_y, p.roi_w, p.roi_h, p.box_x0, p.box_y0, p.box_x1, p.box_y1, p.resize_w, p.resize_h,
                  p.crop_x, p.crop_y, p.out_w, p.out_h, p.filter, p.flip_x);
    return buf;
}

// ---- value conversions, written independently of the library ------------------------------------------
inline float torchvision_value(int v, float mean, float stdv) {
    volatile float a = (float)v / 255.0f; // volatile: one rounding per operation, whatever the flags
    volatile float b = a - mean;
    return b / stdv;
}

inline uint32_t float_bits(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    return u;
}

// bfloat16 by exhaustive neighbour comparison in double: the nearest of the two candidates, ties to even.
inline uint16_t ref_bfloat16(float f) {
    const uint32_t u = float_bits(f);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((u >> 16) | 0x40u);
    const uint32_t lo = u & 0xFFFF0000u;
    if (lo == u) return (uint16_t)(u >> 16);
    const uint32_t hi = lo + 0x10000u;
    float flo, fhi;
    std::memcpy(&flo, &lo, 4);
    std::memcpy(&fhi, &hi, 4);
    // the rounding boundary is exactly representable in double
    const double dlo = std::fabs((double)f - (double)flo);
    double dhi;
    if ((hi & 0x7F800000u) == 0x7F800000u) { // rounding up reaches infinity: compare with 2^128 instead
        const double top = std::ldexp(1.0, 128) * (f < 0 ? -1.0 : 1.0);
        dhi = std::fabs((double)f - top);
    } else {
        dhi = std::fabs((double)f - (double)fhi);
    }
    if (dlo < dhi) return (uint16_t)(lo >> 16);
    if (dhi < dlo) return (uint16_t)(hi >> 16);
    return (uint16_t)(((lo >> 16) & 1u) ? (hi >> 16) : (lo >> 16));
}

// IEEE half by search in double: decode every candidate near the value (slow, exact; used on 256 values).
inline double half_value(uint16_t h) {
    const int e = (h >> 10) & 0x1F, m = h & 0x3FF;
    double v;
    if (e == 0)
        v = std::ldexp((double)m, -24);
    else if (e == 31)
        v = m ? NAN : INFINITY;
    else
        v = std::ldexp((double)(1024 + m), e - 25);
    return (h & 0x8000) ? -v : v;
}

inline uint16_t ref_half(float f) {
    if (std::isnan(f)) return 0x7E00;
    const uint16_t sign = std::signbit(f) ? 0x8000 : 0;
    const double a = std::fabs((double)f);
    if (a >= 65520.0) return sign | 0x7C00;
    uint16_t best = 0;
    double bestd = INFINITY;
    for (uint32_t h = 0; h < 0x7C00; ++h) {
        const double d = std::fabs(half_value((uint16_t)h) - a);
        if (d < bestd || (d == bestd && (h & 1u) == 0)) {
            bestd = d;
            best = (uint16_t)h;
        }
    }
    return sign | best;
}

// ==== Pillow golden data: gzipped .npy arrays and cases.json ====================================
// ---- .npy.gz (uint8, C order) ---------------------------------------------------------------------------
struct NpyU8 {
    std::vector<int64_t> shape;
    std::vector<uint8_t> data;
};

inline bool read_gz(const std::string &path, std::vector<uint8_t> *out, std::string *err) {
    gzFile f = gzopen(path.c_str(), "rb");
    if (!f) {
        *err = "cannot open " + path;
        return false;
    }
    out->clear();
    uint8_t buf[1 << 16];
    for (;;) {
        const int n = gzread(f, buf, sizeof buf);
        if (n < 0) {
            gzclose(f);
            *err = "gzread failed on " + path;
            return false;
        }
        if (n == 0) break;
        out->insert(out->end(), buf, buf + n);
    }
    gzclose(f);
    return true;
}

inline bool read_npy_u8(const std::string &path, NpyU8 *arr, std::string *err) {
    std::vector<uint8_t> raw;
    if (!read_gz(path, &raw, err)) return false;
    if (raw.size() < 10 || std::memcmp(raw.data(), "\x93NUMPY", 6) != 0) {
        *err = path + ": not a .npy file";
        return false;
    }
    const int major = raw[6];
    size_t header_len, offset;
    if (major == 1) {
        header_len = raw[8] | (raw[9] << 8);
        offset = 10;
    } else {
        if (raw.size() < 12) {
            *err = path + ": truncated";
            return false;
        }
        header_len = raw[8] | (raw[9] << 8) | ((size_t)raw[10] << 16) | ((size_t)raw[11] << 24);
        offset = 12;
    }
    if (offset + header_len > raw.size()) {
        *err = path + ": truncated header";
        return false;
    }
    const std::string header((const char *)raw.data() + offset, header_len);
    if (header.find("'|u1'") == std::string::npos && header.find("'u1'") == std::string::npos) {
        *err = path + ": dtype is not uint8: " + header;
        return false;
    }
    if (header.find("'fortran_order': False") == std::string::npos) {
        *err = path + ": Fortran order not supported";
        return false;
    }
    const size_t sp = header.find("'shape':");
    const size_t lp = header.find('(', sp), rp = header.find(')', lp);
    if (sp == std::string::npos || lp == std::string::npos || rp == std::string::npos) {
        *err = path + ": no shape in " + header;
        return false;
    }
    arr->shape.clear();
    const char *p = header.c_str() + lp + 1;
    const char *end = header.c_str() + rp;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == ',')) ++p;
        if (p >= end) break;
        char *q;
        const long long v = std::strtoll(p, &q, 10);
        if (q == p) break;
        arr->shape.push_back(v);
        p = q;
    }
    int64_t count = 1;
    for (int64_t d : arr->shape) count *= d;
    const size_t data_off = offset + header_len;
    if (raw.size() - data_off != (size_t)count) {
        *err = path + ": data size does not match the shape";
        return false;
    }
    arr->data.assign(raw.begin() + (ptrdiff_t)data_off, raw.end());
    return true;
}

// ---- JSON ------------------------------------------------------------------------------------------------
struct Json {
    enum Kind { Null, Bool, Number, String, Array, Object } kind = Null;
    bool b = false;
    double num = 0;
    std::string str;
    std::vector<Json> arr;
    std::map<std::string, Json> obj;

    const Json *get(const std::string &key) const {
        auto it = obj.find(key);
        return it == obj.end() ? nullptr : &it->second;
    }
};

class JsonParser {
  public:
    explicit JsonParser(const std::string &text) : s_(text) {}
    bool parse(Json *out, std::string *err) {
        pos_ = 0;
        if (!value(out)) {
            *err = "JSON error at offset " + std::to_string(pos_) + ": " + err_;
            return false;
        }
        ws();
        if (pos_ != s_.size()) {
            *err = "JSON: trailing characters at offset " + std::to_string(pos_);
            return false;
        }
        return true;
    }

  private:
    const std::string &s_;
    size_t pos_ = 0;
    std::string err_;

    void ws() {
        while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\r' || s_[pos_] == '\t')) ++pos_;
    }
    bool fail(const char *m) {
        err_ = m;
        return false;
    }
    bool literal(const char *lit) {
        const size_t n = std::strlen(lit);
        if (s_.compare(pos_, n, lit) != 0) return fail("bad literal");
        pos_ += n;
        return true;
    }
    bool string(std::string *out) {
        if (s_[pos_] != '"') return fail("expected a string");
        ++pos_;
        out->clear();
        while (pos_ < s_.size() && s_[pos_] != '"') {
            char c = s_[pos_++];
            if (c == '\\') {
                if (pos_ >= s_.size()) return fail("bad escape");
                const char e = s_[pos_++];
                switch (e) {
                case 'n': c = '\n'; break;
                case 't': c = '\t'; break;
                case 'r': c = '\r'; break;
                case 'b': c = '\b'; break;
                case 'f': c = '\f'; break;
                case 'u': {
                    if (pos_ + 4 > s_.size()) return fail("bad \\u escape");
                    const unsigned cp = (unsigned)std::strtoul(s_.substr(pos_, 4).c_str(), nullptr, 16);
                    pos_ += 4;
                    c = cp < 128 ? (char)cp : '?';
                    break;
                }
                default: c = e; break;
                }
            }
            out->push_back(c);
        }
        if (pos_ >= s_.size()) return fail("unterminated string");
        ++pos_;
        return true;
    }
    bool value(Json *out) {
        ws();
        if (pos_ >= s_.size()) return fail("unexpected end");
        const char c = s_[pos_];
        if (c == '{') {
            out->kind = Json::Object;
            ++pos_;
            ws();
            if (s_[pos_] == '}') {
                ++pos_;
                return true;
            }
            for (;;) {
                ws();
                std::string key;
                if (!string(&key)) return false;
                ws();
                if (s_[pos_] != ':') return fail("expected ':'");
                ++pos_;
                Json v;
                if (!value(&v)) return false;
                out->obj[key] = std::move(v);
                ws();
                if (s_[pos_] == ',') {
                    ++pos_;
                    continue;
                }
                if (s_[pos_] == '}') {
                    ++pos_;
                    return true;
                }
                return fail("expected ',' or '}'");
            }
        }
        if (c == '[') {
            out->kind = Json::Array;
            ++pos_;
            ws();
            if (s_[pos_] == ']') {
                ++pos_;
                return true;
            }
            for (;;) {
                Json v;
                if (!value(&v)) return false;
                out->arr.push_back(std::move(v));
                ws();
                if (s_[pos_] == ',') {
                    ++pos_;
                    continue;
                }
                if (s_[pos_] == ']') {
                    ++pos_;
                    return true;
                }
                return fail("expected ',' or ']'");
            }
        }
        if (c == '"') {
            out->kind = Json::String;
            return string(&out->str);
        }
        if (c == 't') {
            out->kind = Json::Bool;
            out->b = true;
            return literal("true");
        }
        if (c == 'f') {
            out->kind = Json::Bool;
            out->b = false;
            return literal("false");
        }
        if (c == 'n') {
            out->kind = Json::Null;
            return literal("null");
        }
        char *end = nullptr;
        const double v = std::strtod(s_.c_str() + pos_, &end); // round-trip exact for Python's repr
        if (end == s_.c_str() + pos_) return fail("expected a value");
        out->kind = Json::Number;
        out->num = v;
        pos_ = (size_t)(end - s_.c_str());
        return true;
    }
};

inline bool read_text(const std::string &path, std::string *out) {
    FILE *f = std::fopen(path.c_str(), "rb");
    if (!f) return false;
    out->clear();
    char buf[1 << 16];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out->append(buf, n);
    std::fclose(f);
    return true;
}

} // namespace fxtest

#endif

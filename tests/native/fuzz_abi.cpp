// Fuzz test of the C ABI: random argument sets for every CPU entry point (preprocessing single and batch,
// depthwise forward and backward, shape derivation, ISA setter) and the CUDA entry points that exist in every
// build (device count, preprocessor create/destroy, batch with a null or bogus preprocessor).
//
// Each set starts from a random *valid* argument set whose buffers are allocated at exactly their size, then
// usually gets 1 to 3 mutations, each of which breaks a documented rule of the ABI: negative, zero, huge and
// overflowing sizes, strides that alias rows or overflow, null pointers, pointers at the top of the address
// space, bad dtype / layout / order / filter / activation codes, rois and boxes outside the image, indices outside
// the batch, overlapping tensors, bad thread counts. The oracle:
//   - a mutated set must return FX_ERR_INVALID_ARGUMENT with a message, and leave every output byte untouched;
//   - an unmutated set must return FX_OK and write nothing outside its buffers (sentinel bytes after every output
//     buffer, and AddressSanitizer in the fuzz_abi_asan build, which compiles the kernels from source with ASan
//     and UBSan).
// What the C side cannot check: a buffer's capacity. The ABI carries pointers and geometry, not allocation sizes,
// so "sizes that are consistent but larger than the memory behind the pointer" are the Java layer's to reject
// (preprocess.OutputTarget, DecodedImage, kernels.Depthwise); the Java fuzz (FuzzMain) checks that layer.
//
//   fuzz_abi [--seed S] [--iterations N] [--log FILE]   (N sets per entry-point family; default 12000)
// Prints one summary line per family and "N passed, N failed"; --log writes one line per set tried.
#include "test_util.h"

#include <climits>
#include <cstring>
#include <map>
#include <string>
#include <vector>

using namespace fxtest;

namespace {

FILE *g_log = nullptr;

// A heap buffer of exactly `bytes` bytes followed by a sentinel region (checked after every call).
struct Guarded {
    static constexpr size_t kGuard = 64;
    std::vector<uint8_t> mem;
    size_t bytes = 0;
    explicit Guarded(size_t n, uint8_t fill = 0xA5) : mem(n + kGuard, fill), bytes(n) {
        for (size_t i = 0; i < kGuard; ++i) mem[n + i] = (uint8_t)(0x5A ^ i);
    }
    uint8_t *data() { return mem.data(); }
    bool guard_intact() const {
        for (size_t i = 0; i < kGuard; ++i)
            if (mem[bytes + i] != (uint8_t)(0x5A ^ i)) return false;
        return true;
    }
};

struct Tally {
    long sets = 0, mutated = 0, valid = 0, rejected = 0, accepted = 0, failures = 0;
    std::map<std::string, long> kinds;
};

void log_set(const char *family, long i, const std::string &what, fx_status st) {
    if (g_log) std::fprintf(g_log, "%s\t%ld\t%s\t%d\t%s\n", family, i, what.c_str(), (int)st, st ? fx_last_error() : "");
}

// ---- preprocessing ---------------------------------------------------------------------------------------

struct PreSet {
    std::vector<Image> images;
    std::vector<fx_preprocess_job> jobs;
    fx_output out{};
    int32_t count = 0, threads = 1;
    bool single = false;     // fx_preprocess_cpu instead of the batch entry point
    bool null_jobs = false;  // pass jobs = NULL
    bool null_out = false;   // pass out = NULL
};

size_t out_bytes(const fx_output &o) {
    return (size_t)o.batch * 3 * (size_t)o.out_w * (size_t)o.out_h * (size_t)elem_size(o.dtype);
}

PreSet valid_preprocess(Rng &rng) {
    PreSet s;
    s.out.batch = rng.uniform(1, 4);
    s.out.layout = rng.uniform(0, 1);
    s.out.dtype = rng.uniform(0, 3);
    s.out.order = rng.uniform(0, 1);
    s.out.out_w = rng.uniform(1, 24);
    s.out.out_h = rng.uniform(1, 24);
    for (int c = 0; c < 3; ++c) {
        s.out.mean[c] = (float)rng.unit();
        s.out.std[c] = 0.1f + (float)rng.unit();
    }
    s.single = rng.chance(0.2);
    s.count = s.single ? 1 : rng.uniform(1, 4);
    s.threads = rng.uniform(1, 3);
    s.images.reserve((size_t)s.count);
    for (int32_t j = 0; j < s.count; ++j) {
        const int32_t w = rng.uniform(1, 40), h = rng.uniform(1, 40);
        const int32_t ch = rng.chance(0.2) ? 1 : rng.chance(0.2) ? 4 : 3;
        s.images.push_back(random_image(rng, w, h, ch, rng.uniform(0, 1), rng.uniform(0, 5)));
        fx_preprocess_job job{};
        job.image = s.images.back().view;
        fx_resample_plan &p = job.plan;
        p.roi_x = rng.uniform(0, w - 1);
        p.roi_y = rng.uniform(0, h - 1);
        p.roi_w = rng.uniform(1, w - p.roi_x);
        p.roi_h = rng.uniform(1, h - p.roi_y);
        const double x0 = rng.unit() * p.roi_w * 0.5, y0 = rng.unit() * p.roi_h * 0.5;
        p.box_x0 = x0;
        p.box_y0 = y0;
        p.box_x1 = x0 + (p.roi_w - x0) * (0.25 + 0.75 * rng.unit());
        p.box_y1 = y0 + (p.roi_h - y0) * (0.25 + 0.75 * rng.unit());
        if (rng.chance(0.3)) {
            p.box_x0 = p.box_y0 = 0;
            p.box_x1 = p.roi_w;
            p.box_y1 = p.roi_h;
        }
        p.resize_w = rng.uniform(1, 48);
        p.resize_h = rng.uniform(1, 48);
        p.crop_x = rng.uniform(-8, 40);
        p.crop_y = rng.uniform(-8, 40);
        p.out_w = s.out.out_w;
        p.out_h = s.out.out_h;
        p.filter = rng.uniform(0, 2);
        p.flip_x = rng.uniform(0, 1);
        job.index = rng.uniform(0, (int32_t)s.out.batch - 1);
        s.jobs.push_back(job);
    }
    return s;
}

// int64 arithmetic saturated to int32: the mutations build on values earlier mutations may have made extreme, and
// this test itself runs under UBSan (fuzz_abi_asan), where int32 overflow would abort it.
int32_t sat(int64_t v) { return (int32_t)std::max<int64_t>(INT32_MIN, std::min<int64_t>(INT32_MAX, v)); }

const int32_t kBadInts[] = {INT_MIN, -65537, -1, 0, 65537, 1 << 20, 0x1FFFFFFF + 1, INT_MAX};

int32_t pick_bad_int(Rng &rng, int32_t lo, int32_t hi) { // a value outside [lo, hi]
    for (;;) {
        const int32_t v = rng.chance(0.7) ? kBadInts[rng.uniform(0, 7)] : (int32_t)rng.next();
        if (v < lo || v > hi) return v;
    }
}

// Applies one rule-breaking mutation to a valid set; returns its name.
std::string mutate_preprocess(Rng &rng, PreSet &s) {
    fx_preprocess_job &job = s.jobs[(size_t)rng.uniform(0, s.count - 1)];
    fx_image &im = job.image;
    fx_resample_plan &p = job.plan;
    const double nan = std::nan(""), inf = INFINITY;
    switch (rng.uniform(0, 33)) {
    case 0: im.data = nullptr; return "image.data=null";
    case 1: im.width = pick_bad_int(rng, 1, 0x1FFFFFFF); return "image.width=" + std::to_string(im.width);
    case 2: im.height = pick_bad_int(rng, 1, 0x1FFFFFFF); return "image.height=" + std::to_string(im.height);
    case 3: im.channels = rng.chance(0.5) ? pick_bad_int(rng, 0, 4) : (rng.chance(0.5) ? 2 : 0);
        if (im.channels == 1 || im.channels == 3 || im.channels == 4) im.channels = 5;
        return "image.channels=" + std::to_string(im.channels);
    case 4: im.order = pick_bad_int(rng, 0, 1); return "image.order=" + std::to_string(im.order);
    case 5: { // rows alias: stride shorter than a row (or negative)
        const int64_t row = (int64_t)im.width * im.channels;
        im.row_stride = rng.chance(0.3) || row < 2 || row > INT32_MAX ? INT64_MIN
                        : rng.chance(0.5) ? -(int64_t)rng.uniform(0, 1000) : row - rng.uniform(1, (int32_t)row);
        return "image.row_stride(alias)=" + std::to_string(im.row_stride);
    }
    case 6: // height * stride overflows
        im.height = std::max<int32_t>(im.height, 2);
        im.row_stride = INT64_MAX / 2 + rng.uniform(1, 1000);
        return "image.row_stride(overflow)";
    case 7: { // the image's last byte would lie past the end of the address space
        int64_t total = 0;
        if (__builtin_mul_overflow((int64_t)im.height, std::max<int64_t>(im.row_stride, 1), &total) || total < 1)
            total = 1; // (height may already be mutated to a negative value)
        im.data = reinterpret_cast<const uint8_t *>(UINTPTR_MAX - (uintptr_t)rng.uniform(0, (int32_t)std::min<int64_t>(total - 1, 4096)));
        return "image.data=top-of-address-space";
    }
    case 8: p.roi_x = rng.chance(0.5) ? sat((int64_t)im.width + rng.uniform(0, 100)) : pick_bad_int(rng, 0, sat((int64_t)im.width - 1));
        return "roi_x=" + std::to_string(p.roi_x);
    case 9: p.roi_y = rng.chance(0.5) ? sat((int64_t)im.height + rng.uniform(0, 100)) : pick_bad_int(rng, 0, sat((int64_t)im.height - 1));
        return "roi_y=" + std::to_string(p.roi_y);
    case 10: p.roi_w = rng.chance(0.5) ? sat((int64_t)im.width - p.roi_x + rng.uniform(1, 100)) : pick_bad_int(rng, 1, sat((int64_t)im.width - p.roi_x));
        return "roi_w=" + std::to_string(p.roi_w);
    case 11: p.roi_h = rng.chance(0.5) ? sat((int64_t)im.height - p.roi_y + rng.uniform(1, 100)) : pick_bad_int(rng, 1, sat((int64_t)im.height - p.roi_y));
        return "roi_h=" + std::to_string(p.roi_h);
    case 12: p.box_x0 = rng.chance(0.3) ? nan : rng.chance(0.5) ? -inf : -(rng.unit() + 1e-9); return "box_x0<0|nan";
    case 13: p.box_y1 = rng.chance(0.3) ? inf : (double)p.roi_h + 1e-6 + rng.unit() * 1e6; return "box_y1>roi_h|inf";
    case 14: p.box_x1 = p.box_x0 - rng.unit(); return "box_x1<=box_x0";
    case 15: // distinct in double, equal in float32
        p.box_y0 = 0.5;
        p.box_y1 = 0.5 + 1e-12;
        return "box_y empty in float32";
    case 16: p.resize_w = pick_bad_int(rng, 1, 1 << 16); return "resize_w=" + std::to_string(p.resize_w);
    case 17: p.resize_h = pick_bad_int(rng, 1, 1 << 16); return "resize_h=" + std::to_string(p.resize_h);
    case 18: p.crop_x = pick_bad_int(rng, -(1 << 16), 1 << 16); return "crop_x=" + std::to_string(p.crop_x);
    case 19: p.crop_y = pick_bad_int(rng, -(1 << 16), 1 << 16); return "crop_y=" + std::to_string(p.crop_y);
    case 20: p.out_w = p.out_w + rng.uniform(1, 50); return "plan.out_w!=out.out_w";
    case 21: p.filter = pick_bad_int(rng, 0, 2); return "filter=" + std::to_string(p.filter);
    case 22: p.flip_x = pick_bad_int(rng, 0, 1); return "flip_x=" + std::to_string(p.flip_x);
    case 23: job.index = rng.chance(0.5) ? -1 - (int64_t)rng.uniform(0, 1000) : s.out.batch + rng.uniform(0, 1000);
        if (rng.chance(0.2)) job.index = rng.chance(0.5) ? INT64_MIN : INT64_MAX;
        return "index=" + std::to_string(job.index);
    case 24: s.out.data = nullptr; return "out.data=null";
    case 25: s.out.batch = rng.chance(0.5) ? -(int64_t)rng.uniform(0, 1000) : INT64_MIN; return "out.batch<1";
    case 26: s.out.batch = INT64_MAX / 2 + rng.uniform(0, 1000); return "out.batch(size overflow)";
    case 27: s.out.layout = pick_bad_int(rng, 0, 1); return "out.layout=" + std::to_string(s.out.layout);
    case 28: s.out.dtype = pick_bad_int(rng, 0, 3); return "out.dtype=" + std::to_string(s.out.dtype);
    case 29: s.out.order = pick_bad_int(rng, 0, 1); return "out.order=" + std::to_string(s.out.order);
    case 30:
        if (s.out.dtype == FX_DTYPE_UINT8) s.out.dtype = FX_DTYPE_FLOAT32;
        if (rng.chance(0.5)) s.out.std[rng.uniform(0, 2)] = rng.chance(0.5) ? 0.0f : (float)nan;
        else s.out.mean[rng.uniform(0, 2)] = rng.chance(0.5) ? (float)inf : (float)nan;
        return "out.mean/std not finite or std 0";
    case 31: s.threads = pick_bad_int(rng, 1, 1024); return "threads=" + std::to_string(s.threads);
    case 32:
        if (rng.chance(0.5)) { s.null_jobs = true; return "jobs=null"; }
        s.null_out = true;
        return "out=null";
    default: // output memory overlapping the image it reads
        s.out.data = const_cast<uint8_t *>(im.data);
        return "out overlaps image";
    }
}

void fuzz_preprocess(Rng &rng, long iterations, Tally &t) {
    for (long i = 0; i < iterations; ++i) {
        PreSet s = valid_preprocess(rng);
        Guarded out(out_bytes(s.out));
        s.out.data = out.data();
        const int nmut = rng.chance(0.2) ? 0 : rng.uniform(1, 3);
        std::string what;
        for (int m = 0; m < nmut; ++m) {
            const std::string k = mutate_preprocess(rng, s);
            t.kinds[k.substr(0, k.find('='))]++;
            what += (m ? "; " : "") + k;
        }
        if (s.threads < 1 || s.threads > 1024 || s.null_jobs) s.single = false; // only the batch call has these
        const std::vector<uint8_t> before(out.mem.begin(), out.mem.begin() + (long)out.bytes);
        fx_status st;
        if (s.single && !s.null_jobs)
            st = fx_preprocess_cpu(&s.jobs[0].image, &s.jobs[0].plan, s.jobs[0].index, s.null_out ? nullptr : &s.out);
        else
            st = fx_preprocess_cpu_batch(s.null_jobs ? nullptr : s.jobs.data(), s.count, s.null_out ? nullptr : &s.out,
                                         s.threads);
        ++t.sets;
        log_set("preprocess", i, nmut ? what : "valid", st);
        if (nmut) {
            ++t.mutated;
            const bool ok = st == FX_ERR_INVALID_ARGUMENT && fx_last_error()[0] != '\0' &&
                            std::memcmp(before.data(), out.data(), out.bytes) == 0 && out.guard_intact();
            if (st != FX_OK) ++t.rejected;
            if (!ok) ++t.failures;
            CHECK(ok, "preprocess set %ld [%s]: status %d (%s), output %s", i, what.c_str(), (int)st, fx_last_error(),
                  std::memcmp(before.data(), out.data(), out.bytes) == 0 ? "untouched" : "WRITTEN");
        } else {
            ++t.valid;
            const bool ok = st == FX_OK && out.guard_intact();
            if (st == FX_OK) ++t.accepted;
            if (!ok) ++t.failures;
            CHECK(ok, "preprocess valid set %ld: status %d (%s), guard %d", i, (int)st, fx_last_error(),
                  (int)out.guard_intact());
        }
    }
}

// ---- depthwise ------------------------------------------------------------------------------------------

struct DwSet {
    fx_depthwise_shape shape{};
    int32_t act = 0, threads = 1;
    bool backward = false;
    bool want_dx = true, want_dw = true, want_db = true, with_bias = true, with_se = true;
    // pointer overrides (set by mutations): index into the pointer table below, or -1
    int null_ptr = -1;
    int misalign_ptr = -1;
    int alias_out = -1; // output that is made to point into an input
    int out_mismatch = 0; // 1: out_h, 2: out_w made inconsistent with the derived size (applied once, last)
};

DwSet valid_depthwise(Rng &rng) {
    DwSet s;
    fx_depthwise_shape &sh = s.shape;
    sh.n = rng.uniform(1, 3);
    sh.c = rng.uniform(1, 24);
    sh.k = 2 * rng.uniform(0, 3) + 1;
    sh.stride = rng.uniform(1, 2);
    sh.layout = rng.uniform(0, 1);
    sh.pad_top = rng.uniform(0, sh.k - 1);
    sh.pad_left = rng.uniform(0, sh.k - 1);
    sh.pad_bottom = rng.uniform(0, sh.k - 1);
    sh.pad_right = rng.uniform(0, sh.k - 1);
    // the padded input must hold the kernel
    sh.h = std::max<int64_t>(rng.uniform(1, 20), sh.k - sh.pad_top - sh.pad_bottom);
    sh.w = std::max<int64_t>(rng.uniform(1, 20), sh.k - sh.pad_left - sh.pad_right);
    sh.h = std::max<int64_t>(sh.h, 1);
    sh.w = std::max<int64_t>(sh.w, 1);
    s.act = rng.uniform(0, 1);
    s.threads = rng.uniform(1, 3);
    s.backward = rng.chance(0.5);
    s.with_bias = rng.chance(0.7);
    s.with_se = rng.chance(0.5);
    do {
        s.want_dx = rng.chance(0.7);
        s.want_dw = rng.chance(0.7);
        s.want_db = rng.chance(0.7);
    } while (!s.want_dx && !s.want_dw && !s.want_db);
    return s;
}

std::string mutate_depthwise(Rng &rng, DwSet &s) {
    fx_depthwise_shape &sh = s.shape;
    switch (rng.uniform(0, 17)) {
    case 0: sh.n = rng.chance(0.5) ? 0 : rng.chance(0.5) ? -1 : INT64_MIN; return "n<1";
    case 1: sh.c = rng.chance(0.5) ? 0 : -(int64_t)rng.uniform(1, 1 << 30); return "c<1";
    case 2: sh.h = rng.chance(0.3) ? 0 : rng.chance(0.5) ? (int64_t(1) << 30) + rng.uniform(1, 100) : INT64_MAX; return "h out of range";
    case 3: sh.w = rng.chance(0.3) ? -5 : INT64_MIN; return "w out of range";
    case 4: // each field fine, the element count overflows
        sh.n = (int64_t)1 << 40;
        sh.c = (int64_t)1 << 30;
        return "n*c*h*w overflow";
    case 5: sh.k = rng.chance(0.5) ? 2 * rng.uniform(0, 4) : pick_bad_int(rng, 1, 7); if (sh.k == 1) sh.k = 9;
        return "k=" + std::to_string(sh.k);
    case 6: sh.stride = pick_bad_int(rng, 1, 2); if (sh.stride == 0 && rng.chance(0.5)) sh.stride = 3;
        return "stride=" + std::to_string(sh.stride);
    case 7: {
        int32_t *pads[4] = {&sh.pad_top, &sh.pad_left, &sh.pad_bottom, &sh.pad_right};
        *pads[rng.uniform(0, 3)] = rng.chance(0.5) ? -rng.uniform(1, 100) : sat((int64_t)sh.k + rng.uniform(0, 100));
        return "pad out of [0, k-1]";
    }
    case 8: sh.layout = pick_bad_int(rng, 0, 1); return "layout=" + std::to_string(sh.layout);
    case 9: s.out_mismatch = 1; return "out_h mismatch";
    case 10: s.out_mismatch = 2; return "out_w mismatch";
    case 11: // padded input smaller than the kernel
        sh.k = 7;
        sh.pad_top = sh.pad_bottom = 0;
        sh.h = rng.uniform(1, 6);
        return "input smaller than kernel";
    case 12: s.null_ptr = rng.uniform(0, 2); return "required pointer null";
    case 13: s.misalign_ptr = rng.uniform(0, 3); return "misaligned pointer";
    case 14: if (!s.backward) { s.act = pick_bad_int(rng, 0, 1); return "act=" + std::to_string(s.act); }
        s.want_dx = s.want_dw = s.want_db = false;
        return "no gradient wanted";
    case 15: s.threads = pick_bad_int(rng, 1, 1024); return "threads=" + std::to_string(s.threads);
    default: s.alias_out = rng.uniform(0, 2); return "output overlaps an input";
    }
}

// Shape with out_h/out_w derived when the fields allow it (else left as they are).
void derive_if_valid(fx_depthwise_shape *sh) {
    fx_depthwise_shape tmp = *sh;
    if (fx_depthwise_shape_derive(&tmp) == FX_OK) {
        sh->out_h = tmp.out_h;
        sh->out_w = tmp.out_w;
    }
}

void fuzz_depthwise(Rng &rng, long iterations, Tally &t) {
    for (long i = 0; i < iterations; ++i) {
        DwSet s = valid_depthwise(rng);
        CHECK(fx_depthwise_shape_derive(&s.shape) == FX_OK, "valid shape rejected: %s", fx_last_error());
        // buffers of the valid shape (exact sizes)
        const fx_depthwise_shape v = s.shape;
        const size_t nx = (size_t)(v.n * v.c * v.h * v.w), ny = (size_t)(v.n * v.c * v.out_h * v.out_w);
        const size_t nw = (size_t)(v.c * v.k * v.k), nc = (size_t)v.c, nnc = (size_t)(v.n * v.c);
        Guarded x(nx * 4, 0x3C), w(nw * 4, 0x3C), b(nc * 4, 0x3C), y(ny * 4), se(nnc * 4), dy(ny * 4, 0x3C),
            dx(nx * 4), dw(nw * 4), db(nc * 4);
        const int nmut = rng.chance(0.2) ? 0 : rng.uniform(1, 3);
        std::string what;
        for (int m = 0; m < nmut; ++m) {
            const std::string k = mutate_depthwise(rng, s);
            t.kinds[k.substr(0, k.find('='))]++;
            what += (m ? "; " : "") + k;
        }
        derive_if_valid(&s.shape); // field mutations must be caught without out_h/out_w help
        if (s.out_mismatch == 1) s.shape.out_h += rng.chance(0.5) && s.shape.out_h > 1 ? -1 : rng.uniform(1, 5);
        if (s.out_mismatch == 2) s.shape.out_w = rng.chance(0.5) ? 0 : s.shape.out_w + 7;
        // pointers: forward (x, w, y | b, se), backward (dy, x, w | dx, dw, db)
        const float *px = (const float *)x.data(), *pw = (const float *)w.data(), *pb = s.with_bias ? (const float *)b.data() : nullptr;
        float *py = (float *)y.data(), *pse = s.with_se ? (float *)se.data() : nullptr;
        const float *pdy = (const float *)dy.data();
        float *pdx = s.want_dx ? (float *)dx.data() : nullptr, *pdw = s.want_dw ? (float *)dw.data() : nullptr;
        float *pdb = s.want_db ? (float *)db.data() : nullptr;
        if (!s.backward) {
            if (s.null_ptr == 0) px = nullptr;
            if (s.null_ptr == 1) pw = nullptr;
            if (s.null_ptr == 2) py = nullptr;
            if (s.misalign_ptr == 0) px = (const float *)(x.data() + 1);
            if (s.misalign_ptr == 1) pw = (const float *)(w.data() + 2);
            if (s.misalign_ptr == 2) py = (float *)(y.data() + 3);
            if (s.misalign_ptr == 3) { pse = (float *)(se.data() + 1); }
            if (s.alias_out == 0) py = (float *)px;
            if (s.alias_out == 1) { py = (float *)pw; }
            if (s.alias_out == 2) { pse = (float *)px; }
        } else {
            if (s.null_ptr == 0) pdy = nullptr;
            if (s.null_ptr == 1) { px = nullptr; pdw = (float *)dw.data(); }
            if (s.null_ptr == 2) { pw = nullptr; pdx = (float *)dx.data(); }
            if (s.misalign_ptr == 0) pdy = (const float *)(dy.data() + 1);
            if (s.misalign_ptr == 1) { pdx = (float *)(dx.data() + 2); }
            if (s.misalign_ptr == 2) { pdw = (float *)(dw.data() + 1); }
            if (s.misalign_ptr == 3) { pdb = (float *)(db.data() + 3); }
            if (s.alias_out == 0) pdx = (float *)pdy;
            if (s.alias_out == 1) { pdw = (float *)pw; if (pw == nullptr) pdw = (float *)pdy; }
            if (s.alias_out == 2) { pdb = (float *)px; if (px == nullptr) pdb = (float *)pdy; }
        }
        Guarded *outs[5] = {&y, &se, &dx, &dw, &db};
        std::vector<std::vector<uint8_t>> before;
        for (Guarded *g : outs) before.emplace_back(g->mem.begin(), g->mem.begin() + (long)g->bytes);
        const std::vector<uint8_t> xin(x.mem), win(w.mem), dyin(dy.mem);
        fx_status st = s.backward ? fx_depthwise_backward_cpu(&s.shape, px, pw, pdy, pdx, pdw, pdb, s.threads)
                                  : fx_depthwise_forward_cpu(&s.shape, px, pw, pb, s.act, py, pse, s.threads);
        ++t.sets;
        log_set(s.backward ? "depthwise_backward" : "depthwise_forward", i, nmut ? what : "valid", st);
        bool guards = true, untouched = true;
        for (int g = 0; g < 5; ++g) {
            guards &= outs[g]->guard_intact();
            untouched &= std::memcmp(before[g].data(), outs[g]->data(), outs[g]->bytes) == 0;
        }
        untouched &= xin == x.mem && win == w.mem && dyin == dy.mem;
        guards &= x.guard_intact() && w.guard_intact() && dy.guard_intact();
        if (nmut) {
            ++t.mutated;
            if (st != FX_OK) ++t.rejected;
            const bool ok = st == FX_ERR_INVALID_ARGUMENT && fx_last_error()[0] != '\0' && untouched && guards;
            if (!ok) ++t.failures;
            CHECK(ok, "depthwise set %ld [%s]: status %d (%s), outputs %s", i, what.c_str(), (int)st, fx_last_error(),
                  untouched ? "untouched" : "WRITTEN");
        } else {
            ++t.valid;
            if (st == FX_OK) ++t.accepted;
            const bool ok = st == FX_OK && guards;
            if (!ok) ++t.failures;
            CHECK(ok, "depthwise valid set %ld: status %d (%s)", i, (int)st, fx_last_error());
        }
    }
}

// ---- derive, ISA, CUDA entry points ---------------------------------------------------------------------

void fuzz_misc(Rng &rng, long iterations, Tally &t) {
    const int32_t isa0 = fx_cpu_isa();
    for (long i = 0; i < iterations; ++i) {
        ++t.sets;
        switch (i % 5) {
        case 0: { // fx_cpu_set_isa with any code: unknown codes rejected, known ones set or UNSUPPORTED
            const int32_t code = rng.chance(0.5) ? rng.uniform(-3, 6) : (int32_t)rng.next();
            const fx_status st = fx_cpu_set_isa(code);
            const bool known = code >= FX_ISA_AUTO && code <= FX_ISA_AVX512;
            log_set("cpu_set_isa", i, std::to_string(code), st);
            const bool ok = known ? (st == FX_OK || st == FX_ERR_UNSUPPORTED) : st == FX_ERR_INVALID_ARGUMENT;
            if (!known) ++t.mutated, t.rejected += st != FX_OK;
            t.failures += !ok;
            CHECK(ok, "fx_cpu_set_isa(%d) = %d", (int)code, (int)st);
            fx_cpu_set_isa(FX_ISA_AUTO);
            break;
        }
        case 1: { // shape derive on fully random fields: OK only if the output is consistent
            fx_depthwise_shape sh{};
            sh.n = (int64_t)rng.next() >> rng.uniform(0, 63);
            sh.c = (int64_t)rng.next() >> rng.uniform(0, 63);
            sh.h = (int64_t)rng.next() >> rng.uniform(0, 63);
            sh.w = (int64_t)rng.next() >> rng.uniform(0, 63);
            sh.k = rng.uniform(-2, 9);
            sh.stride = rng.uniform(-1, 3);
            sh.pad_top = rng.uniform(-1, 7);
            sh.pad_left = rng.uniform(-1, 7);
            sh.pad_bottom = rng.uniform(-1, 7);
            sh.pad_right = rng.uniform(-1, 7);
            sh.layout = rng.uniform(-1, 2);
            const fx_status st = fx_depthwise_shape_derive(&sh);
            log_set("depthwise_shape_derive", i, "random", st);
            bool ok = st == FX_OK || st == FX_ERR_INVALID_ARGUMENT;
            if (st == FX_OK) {
                ok &= sh.n >= 1 && sh.c >= 1 && sh.h >= 1 && sh.w >= 1 && sh.k % 2 == 1 && sh.k <= 7 && sh.out_h >= 1 &&
                      sh.out_w >= 1 && sh.out_h == (sh.h + sh.pad_top + sh.pad_bottom - sh.k) / sh.stride + 1;
            } else {
                ++t.mutated;
                ++t.rejected;
            }
            t.failures += !ok;
            CHECK(ok, "fx_depthwise_shape_derive: status %d", (int)st);
            break;
        }
        case 2: { // device count, create: never crash; without CUDA compiled: UNSUPPORTED
            int32_t count = -7;
            const fx_status st = fx_cuda_device_count(rng.chance(0.2) ? nullptr : &count);
            log_set("cuda_device_count", i, "", st);
            const bool ok = fx_cuda_compiled() ? (st == FX_OK || st == FX_ERR_STATE || st == FX_ERR_INVALID_ARGUMENT)
                                               : st == FX_ERR_UNSUPPORTED;
            t.failures += !ok;
            CHECK(ok, "fx_cuda_device_count = %d", (int)st);
            break;
        }
        case 3: { // create with a bad device or a null result pointer
            fx_cuda_preprocessor *p = nullptr;
            const int32_t dev = rng.chance(0.5) ? -rng.uniform(1, 100) : rng.uniform(64, INT_MAX);
            const fx_status st = fx_cuda_preprocessor_create(dev, rng.chance(0.3) ? nullptr : &p);
            log_set("cuda_preprocessor_create", i, std::to_string(dev), st);
            ++t.mutated;
            t.rejected += st != FX_OK;
            const bool ok = st != FX_OK && p == nullptr;
            t.failures += !ok;
            CHECK(ok, "fx_cuda_preprocessor_create(%d) = %d", (int)dev, (int)st);
            if (p) fx_cuda_preprocessor_destroy(p);
            break;
        }
        default: { // batch with a null preprocessor and a random (valid or mutated) set: never OK, never crashes
            PreSet s = valid_preprocess(rng);
            Guarded out(out_bytes(s.out));
            s.out.data = out.data();
            if (rng.chance(0.5)) mutate_preprocess(rng, s);
            const std::vector<uint8_t> before(out.mem);
            const fx_status st = fx_cuda_preprocess_batch(nullptr, s.null_jobs ? nullptr : s.jobs.data(), s.count,
                                                          s.null_out ? nullptr : &s.out, nullptr);
            log_set("cuda_preprocess_batch", i, "null preprocessor", st);
            ++t.mutated;
            t.rejected += st != FX_OK;
            const bool ok = st != FX_OK && before == out.mem;
            t.failures += !ok;
            CHECK(ok, "fx_cuda_preprocess_batch(NULL, ...) = %d", (int)st);
        }
        }
    }
    fx_cpu_set_isa(isa0 == FX_ISA_SCALAR ? FX_ISA_SCALAR : FX_ISA_AUTO);
}

void print_tally(const char *family, const Tally &t) {
    std::printf("%-12s sets %ld: %ld valid (%ld accepted), %ld with broken rules (%ld rejected), %ld wrong outcomes\n",
                family, t.sets, t.valid, t.accepted, t.mutated, t.rejected, t.failures);
}

} // namespace

int main(int argc, char **argv) {
    uint64_t seed = 1;
    long iterations = 12000;
    const char *log_path = nullptr;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--seed" && i + 1 < argc) seed = std::strtoull(argv[++i], nullptr, 10);
        else if (a == "--iterations" && i + 1 < argc) iterations = std::strtol(argv[++i], nullptr, 10);
        else if (a == "--log" && i + 1 < argc) log_path = argv[++i];
        else {
            std::printf("usage: fuzz_abi [--seed S] [--iterations N] [--log FILE]\n");
            return 2;
        }
    }
    if (log_path) {
        g_log = std::fopen(log_path, "w");
        if (!g_log) {
            std::printf("cannot write %s\n", log_path);
            return 2;
        }
        std::fprintf(g_log, "# fuzz_abi seed %llu: family\tset\tmutations\tstatus\tmessage\n", (unsigned long long)seed);
    }
    Rng rng(seed);
    Tally pre, dw, misc;
    fuzz_preprocess(rng, iterations, pre);
    fuzz_depthwise(rng, iterations, dw);
    fuzz_misc(rng, iterations / 4, misc);
    std::printf("fuzz_abi seed %llu (%s)\n", (unsigned long long)seed, fx_build_info());
    print_tally("preprocess", pre);
    print_tally("depthwise", dw);
    print_tally("misc", misc);
    std::printf("mutation kinds tried: %zu (preprocess), %zu (depthwise)\n", pre.kinds.size(), dw.kinds.size());
    if (g_log) std::fclose(g_log);
    return test_summary();
}

// fx_preprocess_cpu / fx_preprocess_cpu_batch: AVX2 == scalar on random plans, batch == single, and the
// semantic properties of the kernel (identity, padding, channel mapping, flip, dtypes and layouts).
#include "test_util.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

using namespace fxtest;

namespace {

bool g_avx2 = false;

struct Case {
    Image img;
    fx_resample_plan plan{};
};

double random_coord(Rng &rng, int32_t size) { // a box coordinate in [0, size], often fractional
    switch (rng.uniform(0, 3)) {
    case 0: return (double)rng.uniform(0, size);
    case 1: return rng.unit() * size;
    case 2: {
        const double v = rng.uniform(0, size) + 0.5;
        return v > size ? (double)size : v;
    }
    default: return std::min((double)size, rng.uniform(0, size) + rng.uniform(0, 1000) / 1000.0);
    }
}

void random_box(Rng &rng, int32_t size, double *b0, double *b1) {
    if (rng.chance(0.5)) {
        *b0 = 0;
        *b1 = size;
        return;
    }
    for (;;) {
        double a = random_coord(rng, size), b = random_coord(rng, size);
        if (a > b) std::swap(a, b);
        if (a < b && (float)a < (float)b) {
            *b0 = a;
            *b1 = b;
            return;
        }
    }
}

int32_t random_resize(Rng &rng, double box_size) {
    switch (rng.uniform(0, 5)) {
    case 0: return std::max(1, (int32_t)std::lround(box_size)); // about the same size
    case 1: return rng.uniform(1, 40);                          // strong reduction
    case 2: return std::max(1, (int32_t)(box_size / (1.0 + rng.unit() * 3.0)));
    case 3: return std::min(600, (int32_t)(box_size * (1.0 + rng.unit() * 3.0)) + 1); // enlargement
    default: return rng.uniform(1, 400);
    }
}

Case random_case(Rng &rng, int32_t max_side) {
    Case c;
    const int32_t w = rng.chance(0.1) ? rng.uniform(1, 4) : rng.uniform(1, max_side);
    const int32_t h = rng.chance(0.1) ? rng.uniform(1, 4) : rng.uniform(1, max_side);
    const int32_t ch_choices[3] = {1, 3, 4};
    const int32_t channels = ch_choices[rng.uniform(0, 2)];
    const int32_t pad = rng.chance(0.5) ? 0 : rng.uniform(1, 13);
    c.img = random_image(rng, w, h, channels, rng.uniform(0, 1), pad);
    fx_resample_plan &p = c.plan;
    if (rng.chance(0.5)) {
        p.roi_x = 0, p.roi_y = 0, p.roi_w = w, p.roi_h = h;
    } else {
        p.roi_x = rng.uniform(0, w - 1);
        p.roi_y = rng.uniform(0, h - 1);
        p.roi_w = rng.uniform(1, w - p.roi_x);
        p.roi_h = rng.uniform(1, h - p.roi_y);
    }
    random_box(rng, p.roi_w, &p.box_x0, &p.box_x1);
    random_box(rng, p.roi_h, &p.box_y0, &p.box_y1);
    p.resize_w = random_resize(rng, p.box_x1 - p.box_x0);
    p.resize_h = random_resize(rng, p.box_y1 - p.box_y0);
    p.out_w = rng.chance(0.2) ? rng.uniform(1, 300) : std::min(300, rng.uniform(1, p.resize_w));
    p.out_h = rng.chance(0.2) ? rng.uniform(1, 300) : std::min(300, rng.uniform(1, p.resize_h));
    if (rng.chance(0.5)) { // inside (when it fits)
        p.crop_x = p.out_w <= p.resize_w ? rng.uniform(0, p.resize_w - p.out_w) : -(p.out_w - p.resize_w) / 2;
        p.crop_y = p.out_h <= p.resize_h ? rng.uniform(0, p.resize_h - p.out_h) : -(p.out_h - p.resize_h) / 2;
    } else { // anywhere around, with padding
        p.crop_x = rng.uniform(-p.out_w - 2, p.resize_w + 2);
        p.crop_y = rng.uniform(-p.out_h - 2, p.resize_h + 2);
    }
    p.filter = rng.uniform(0, 2);
    p.flip_x = rng.uniform(0, 1);
    return c;
}

fx_status run(int32_t isa, const fx_image &img, const fx_resample_plan &plan, int64_t index, const fx_output &out) {
    if (set_isa(isa) != FX_OK) return -1;
    return fx_preprocess_cpu(&img, &plan, index, &out);
}

// ---- every SIMD path == scalar on random plans -----------------------------------------------------------
void test_simd_equals_scalar(int32_t isa, int cases, uint64_t seed, int32_t max_side) {
    Rng rng(seed);
    int mismatches = 0;
    for (int i = 0; i < cases; ++i) {
        Case c = random_case(rng, max_side);
        const int32_t layout = rng.uniform(0, 1), dtype = rng.uniform(0, 3), order = rng.uniform(0, 1);
        const int64_t batch = rng.uniform(1, 3), index = rng.uniform(0, (int32_t)batch - 1);
        Output a = make_output(batch, c.plan.out_w, c.plan.out_h, layout, dtype, order);
        Output b = make_output(batch, c.plan.out_w, c.plan.out_h, layout, dtype, order);
        if (rng.chance(0.3)) { // other normalisations, including negative std
            for (int k = 0; k < 3; ++k) {
                a.desc.mean[k] = b.desc.mean[k] = (float)(rng.unit() * 2 - 0.5);
                a.desc.std[k] = b.desc.std[k] = (float)((rng.unit() * 2 + 0.01) * (rng.chance(0.1) ? -1 : 1));
            }
        }
        const fx_status sa = run(FX_ISA_SCALAR, c.img.view, c.plan, index, a.desc);
        const fx_status sb = run(isa, c.img.view, c.plan, index, b.desc);
        CHECK(sa == FX_OK && sb == FX_OK, "case %d: status %d / %d: %s (%s)", i, sa, sb, fx_last_error(),
              plan_str(c.plan).c_str());
        const bool same = a.bytes == b.bytes;
        if (!same) ++mismatches;
        CHECK(same, "case %d: %s != scalar: %s, channels %d order %d stride %lld, out layout %d dtype %d order %d",
              i, isa_name(isa), plan_str(c.plan).c_str(), c.img.view.channels, c.img.view.order, (long long)c.img.view.row_stride,
              layout, dtype, order);
        CHECK(guard_ok(a) && guard_ok(b), "case %d: wrote past the end of the output", i);
        // the other batch slots are untouched
        const size_t slot = a.bytes.size() - 64;
        const size_t per = slot / (size_t)batch;
        bool untouched = true;
        for (int64_t s = 0; s < batch; ++s) {
            if (s == index) continue;
            for (size_t k = (size_t)s * per; k < (size_t)(s + 1) * per; ++k)
                if (b.bytes[k] != 0xA5) untouched = false;
        }
        CHECK(untouched, "case %d: wrote outside slot %lld", i, (long long)index);
    }
    std::printf("%s == scalar: %d random cases (max side %d), %d mismatches\n", isa_name(isa), cases, max_side,
                mismatches);
}

// ---- batch == single ---------------------------------------------------------------------------------------
// `count` random cases resized to out_w x out_h into `cases`, and their jobs: job i writes batch slot slot(i).
// (The jobs point at the cases' images: built once every case is in place.)
template <class Slot>
std::vector<fx_preprocess_job> same_size_jobs(Rng &rng, int32_t count, int32_t out_w, int32_t out_h, int32_t max_side,
                                              std::vector<Case> &cases, Slot slot) {
    for (int32_t i = 0; i < count; ++i) {
        Case c = random_case(rng, max_side);
        c.plan.out_w = out_w;
        c.plan.out_h = out_h;
        cases.push_back(std::move(c));
    }
    std::vector<fx_preprocess_job> jobs;
    for (int32_t i = 0; i < count; ++i) {
        fx_preprocess_job j{};
        j.image = cases[(size_t)i].img.view;
        j.plan = cases[(size_t)i].plan;
        j.index = slot(i);
        jobs.push_back(j);
    }
    return jobs;
}

void test_batch_equals_single(uint64_t seed) {
    Rng rng(seed);
    for (int round = 0; round < 6; ++round) {
        const int32_t out_w = rng.uniform(1, 120), out_h = rng.uniform(1, 120);
        const int32_t layout = rng.uniform(0, 1), dtype = rng.uniform(0, 3), order = rng.uniform(0, 1);
        const int32_t count = rng.uniform(1, 9);
        const int64_t batch = count + rng.uniform(0, 2);
        std::vector<Case> cases;
        std::vector<int64_t> slots((size_t)batch);
        for (int64_t s = 0; s < batch; ++s) slots[(size_t)s] = s;
        for (int64_t s = batch - 1; s > 0; --s) std::swap(slots[(size_t)s], slots[(size_t)rng.uniform(0, (int32_t)s)]);
        const std::vector<fx_preprocess_job> jobs =
            same_size_jobs(rng, count, out_w, out_h, 300, cases, [&](int32_t i) { return slots[(size_t)i]; });
        for (int32_t isa : cpu_isas()) {
            set_isa(isa);
            Output single = make_output(batch, out_w, out_h, layout, dtype, order);
            for (const auto &j : jobs) CHECK(fx_preprocess_cpu(&j.image, &j.plan, j.index, &single.desc) == FX_OK, "%s", fx_last_error());
            const int32_t thread_counts[3] = {1, 2, 5};
            for (int32_t threads : thread_counts) {
                Output b = make_output(batch, out_w, out_h, layout, dtype, order);
                const fx_status st = fx_preprocess_cpu_batch(jobs.data(), count, &b.desc, threads);
                CHECK(st == FX_OK, "batch: %s", fx_last_error());
                CHECK(b.bytes == single.bytes, "round %d isa %d threads %d: batch != single", round, isa, threads);
            }
        }
    }
    // count 0 is a no-op
    Output o = make_output(1, 4, 4, FX_LAYOUT_NCHW, FX_DTYPE_FLOAT32, FX_ORDER_RGB);
    CHECK(fx_preprocess_cpu_batch(nullptr, 0, &o.desc, 1) == FX_OK, "%s", fx_last_error());
    CHECK(all_bytes(o.bytes, 0xA5), "count 0 wrote something");
}

// ---- concurrent batch calls -----------------------------------------------------------------------------------
// Several threads call fx_preprocess_cpu_batch at once (the library's worker pool is shared), with different
// geometries, outputs and thread counts; every result equals the single-image calls made beforehand.
void test_concurrent_batches(uint64_t seed) {
    constexpr int kCallers = 4, kRepeats = 6;
    struct Work {
        std::vector<Case> cases;
        std::vector<fx_preprocess_job> jobs;
        int32_t out_w = 0, out_h = 0, layout = 0, dtype = 0, order = 0;
        Output single;
    };
    Rng rng(seed);
    std::vector<Work> works(kCallers);
    for (Work &w : works) {
        w.out_w = rng.uniform(1, 150), w.out_h = rng.uniform(1, 150);
        w.layout = rng.uniform(0, 1), w.dtype = rng.uniform(0, 3), w.order = rng.uniform(0, 1);
        const int32_t count = rng.uniform(1, 24);
        w.jobs = same_size_jobs(rng, count, w.out_w, w.out_h, 300, w.cases, [&](int32_t i) { return count - 1 - i; });
        w.single = make_output(count, w.out_w, w.out_h, w.layout, w.dtype, w.order);
        for (const auto &j : w.jobs)
            CHECK(fx_preprocess_cpu(&j.image, &j.plan, j.index, &w.single.desc) == FX_OK, "%s", fx_last_error());
    }
    std::atomic<int> bad{0}, errors{0};
    std::vector<std::thread> callers;
    for (int t = 0; t < kCallers; ++t)
        callers.emplace_back([&, t]() {
            for (int r = 0; r < kRepeats; ++r) {
                const Work &w = works[(size_t)((t + r) % kCallers)];
                Output b = make_output((int64_t)w.jobs.size(), w.out_w, w.out_h, w.layout, w.dtype, w.order);
                const int32_t threads = 1 + (t + 2 * r) % 5;
                if (fx_preprocess_cpu_batch(w.jobs.data(), (int32_t)w.jobs.size(), &b.desc, threads) != FX_OK)
                    ++errors;
                else if (b.bytes != w.single.bytes)
                    ++bad;
            }
        });
    for (auto &c : callers) c.join();
    CHECK(errors.load() == 0, "%d concurrent batch calls failed", errors.load());
    CHECK(bad.load() == 0, "%d concurrent batch calls differ from the single calls", bad.load());
}

// ---- back-to-back batch calls ------------------------------------------------------------------------------
// The pool's hand-over: a worker spins a while for the next call before it sleeps, and a caller spins for its
// helpers before it sleeps. Calls that follow at once (taken by spinning workers), calls after a pause longer
// than the spin (workers asleep, woken), and a batch of a single job (no helper) in between: every result equals
// the single-image calls.
void test_back_to_back_batches(uint64_t seed) {
    Rng rng(seed);
    const int32_t out_w = rng.uniform(8, 96), out_h = rng.uniform(8, 96);
    std::vector<Case> cases;
    const int32_t count = 7;
    std::vector<fx_preprocess_job> jobs =
        same_size_jobs(rng, count, out_w, out_h, 200, cases, [](int32_t i) { return (int64_t)i; });
    Output single = make_output(count, out_w, out_h, FX_LAYOUT_NCHW, FX_DTYPE_FLOAT32, FX_ORDER_RGB);
    for (const auto &j : jobs) CHECK(fx_preprocess_cpu(&j.image, &j.plan, j.index, &single.desc) == FX_OK, "%s", fx_last_error());
    Output b = make_output(count, out_w, out_h, FX_LAYOUT_NCHW, FX_DTYPE_FLOAT32, FX_ORDER_RGB);
    const size_t sample_bytes = (size_t)3 * (size_t)out_w * (size_t)out_h * sizeof(float);
    int bad = 0;
    for (int call = 0; call < 120; ++call) {
        if (call % 10 == 9) std::this_thread::sleep_for(std::chrono::milliseconds(2)); // workers fall asleep
        const int32_t n = call % 15 == 7 ? 1 : count;
        std::fill(b.bytes.begin(), b.bytes.end(), (uint8_t)0xA5);
        CHECK(fx_preprocess_cpu_batch(jobs.data(), n, &b.desc, 2 + call % 3) == FX_OK, "%s", fx_last_error());
        if (n == count ? b.bytes != single.bytes
                       : !std::equal(b.bytes.begin(), b.bytes.begin() + (ptrdiff_t)sample_bytes, single.bytes.begin()))
            ++bad;
    }
    CHECK(bad == 0, "%d of 120 back-to-back batch calls differ from the single calls", bad);
}

// ---- semantics -----------------------------------------------------------------------------------------
fx_resample_plan whole_plan(const fx_image &img, int32_t rw, int32_t rh, int32_t filter) {
    fx_resample_plan p{};
    p.roi_w = img.width;
    p.roi_h = img.height;
    p.box_x1 = img.width;
    p.box_y1 = img.height;
    p.resize_w = rw;
    p.resize_h = rh;
    p.out_w = rw;
    p.out_h = rh;
    p.filter = filter;
    return p;
}

void for_each_isa(void (*fn)(int32_t isa)) {
    for (int32_t isa : cpu_isas()) fn(isa);
}

void test_identity(int32_t isa) {
    Rng rng(7 + isa);
    for (int i = 0; i < 20; ++i) {
        const int32_t w = rng.uniform(1, 200), h = rng.uniform(1, 200);
        Image img = random_image(rng, w, h, 3, FX_ORDER_RGB, rng.uniform(0, 5));
        for (int32_t filter = 0; filter < 3; ++filter) {
            fx_resample_plan p = whole_plan(img.view, w, h, filter);
            Output o = make_output(1, w, h, FX_LAYOUT_NHWC, FX_DTYPE_UINT8, FX_ORDER_RGB);
            CHECK(run(isa, img.view, p, 0, o.desc) == FX_OK, "%s", fx_last_error());
            bool same = true;
            for (int32_t y = 0; y < h && same; ++y)
                same = std::memcmp(&o.bytes[(size_t)y * w * 3], &img.bytes[(size_t)(y * img.view.row_stride)], (size_t)w * 3) == 0;
            CHECK(same, "isa %d filter %d %dx%d: the identity resize changed pixels", isa, filter, w, h);
        }
    }
}

void test_padding(int32_t isa) {
    Rng rng(11);
    Image img = random_image(rng, 50, 40, 3, FX_ORDER_RGB, 0);
    fx_resample_plan p = whole_plan(img.view, 30, 20, FX_FILTER_BICUBIC);
    p.out_w = 16;
    p.out_h = 8;
    const int32_t crops[4][2] = {{30, 0}, {-16, 0}, {0, 20}, {0, -8}}; // entirely outside
    for (const auto &cr : crops) {
        p.crop_x = cr[0];
        p.crop_y = cr[1];
        Output o = make_output(1, 16, 8, FX_LAYOUT_NCHW, FX_DTYPE_FLOAT32, FX_ORDER_RGB);
        CHECK(run(isa, img.view, p, 0, o.desc) == FX_OK, "%s", fx_last_error());
        bool ok = true;
        for (int c = 0; c < 3; ++c) {
            const float z = torchvision_value(0, o.desc.mean[c], o.desc.std[c]);
            for (int k = 0; k < 16 * 8; ++k) {
                float f;
                std::memcpy(&f, &o.bytes[((size_t)c * 128 + k) * 4], 4);
                if (float_bits(f) != float_bits(z)) ok = false;
            }
        }
        CHECK(ok, "isa %d crop (%d, %d): padding is not normalised zero", isa, cr[0], cr[1]);
    }
    // partially outside: the inside part equals the same pixels of an inside crop
    p.crop_x = -5;
    p.crop_y = -3;
    Output a = make_output(1, 16, 8, FX_LAYOUT_NHWC, FX_DTYPE_UINT8, FX_ORDER_RGB);
    CHECK(run(isa, img.view, p, 0, a.desc) == FX_OK, "%s", fx_last_error());
    p.crop_x = 0;
    p.crop_y = 0;
    Output b = make_output(1, 16, 8, FX_LAYOUT_NHWC, FX_DTYPE_UINT8, FX_ORDER_RGB);
    CHECK(run(isa, img.view, p, 0, b.desc) == FX_OK, "%s", fx_last_error());
    bool ok = true;
    for (int y = 0; y < 8; ++y)
        for (int x = 0; x < 16; ++x)
            for (int c = 0; c < 3; ++c) {
                const uint8_t va = a.bytes[((size_t)y * 16 + x) * 3 + c];
                const int sy = y - 3, sx = x - 5;
                const uint8_t expect = (sy < 0 || sx < 0) ? 0 : b.bytes[((size_t)sy * 16 + sx) * 3 + c];
                if (va != expect) ok = false;
            }
    CHECK(ok, "isa %d: partial padding", isa);
}

// Output values of every dtype / layout agree with the uint8 result through torchvision's formula.
void test_dtypes(int32_t isa) {
    Rng rng(13);
    Image img = random_image(rng, 97, 61, 3, FX_ORDER_RGB, 3);
    fx_resample_plan p = whole_plan(img.view, 45, 33, FX_FILTER_BICUBIC);
    p.out_w = 41;
    p.out_h = 29;
    p.crop_x = 2;
    p.crop_y = 1;
    Output u8 = make_output(1, 41, 29, FX_LAYOUT_NHWC, FX_DTYPE_UINT8, FX_ORDER_RGB);
    CHECK(run(isa, img.view, p, 0, u8.desc) == FX_OK, "%s", fx_last_error());
    static std::vector<uint16_t> half_ref; // ref_half is slow: cache its 768 values
    Output probe = make_output(1, 1, 1, 0, 0, 0);
    if (half_ref.empty())
        for (int c = 0; c < 3; ++c)
            for (int v = 0; v < 256; ++v) half_ref.push_back(ref_half(torchvision_value(v, probe.desc.mean[c], probe.desc.std[c])));
    for (int32_t layout = 0; layout < 2; ++layout)
        for (int32_t dtype = 0; dtype < 4; ++dtype) {
            Output o = make_output(2, 41, 29, layout, dtype, FX_ORDER_RGB);
            CHECK(run(isa, img.view, p, 1, o.desc) == FX_OK, "%s", fx_last_error());
            int bad = 0;
            for (int y = 0; y < 29; ++y)
                for (int x = 0; x < 41; ++x)
                    for (int c = 0; c < 3; ++c) {
                        const int v = u8.bytes[((size_t)y * 41 + x) * 3 + c];
                        const size_t e = layout == FX_LAYOUT_NCHW ? (size_t)((3 + c) * 29 + y) * 41 + x
                                                                  : (size_t)((29 + y) * 41 + x) * 3 + c;
                        const float f = torchvision_value(v, o.desc.mean[c], o.desc.std[c]);
                        if (dtype == FX_DTYPE_FLOAT32) {
                            float got;
                            std::memcpy(&got, &o.bytes[e * 4], 4);
                            bad += float_bits(got) != float_bits(f);
                        } else if (dtype == FX_DTYPE_UINT8) {
                            bad += o.bytes[e] != v;
                        } else {
                            uint16_t got;
                            std::memcpy(&got, &o.bytes[e * 2], 2);
                            const uint16_t want = dtype == FX_DTYPE_FLOAT16 ? half_ref[(size_t)c * 256 + v] : ref_bfloat16(f);
                            bad += got != want;
                        }
                    }
            CHECK(bad == 0, "isa %d layout %d dtype %d: %d values differ from torchvision's formula", isa, layout, dtype, bad);
            const size_t first_slot = o.bytes.size() / 2 - 32;
            bool untouched = true;
            for (size_t k = 0; k < first_slot; ++k) untouched &= o.bytes[k] == 0xA5;
            CHECK(untouched && guard_ok(o), "isa %d layout %d dtype %d: wrote outside slot 1", isa, layout, dtype);
        }
}

// Gray == the same image expanded to RGB; RGBA == RGB whatever the alpha; BGR mappings; flip == mirror.
void test_channels(int32_t isa) {
    Rng rng(17);
    const int32_t w = 83, h = 57;
    Image gray = random_image(rng, w, h, 1, FX_ORDER_RGB, 1);
    Image rgb = random_image(rng, w, h, 3, FX_ORDER_RGB, 0);
    Image g3 = rgb, rgba = random_image(rng, w, h, 4, FX_ORDER_RGB, 2), bgr = rgb;
    for (int32_t y = 0; y < h; ++y)
        for (int32_t x = 0; x < w; ++x) {
            const uint8_t *s = &rgb.bytes[((size_t)y * w + x) * 3];
            uint8_t *d3 = &g3.bytes[((size_t)y * w + x) * 3];
            d3[0] = d3[1] = d3[2] = gray.bytes[(size_t)(y * gray.view.row_stride + x)];
            uint8_t *d4 = &rgba.bytes[(size_t)(y * rgba.view.row_stride) + (size_t)x * 4];
            d4[0] = s[0], d4[1] = s[1], d4[2] = s[2]; // alpha stays random
            uint8_t *db = &bgr.bytes[((size_t)y * w + x) * 3];
            db[0] = s[2], db[1] = s[1], db[2] = s[0];
        }
    g3.view.data = g3.bytes.data();
    bgr.view.data = bgr.bytes.data();
    bgr.view.order = FX_ORDER_BGR;
    for (int32_t filter = 0; filter < 3; ++filter) {
        fx_resample_plan p = whole_plan(rgb.view, 40, 31, filter);
        p.out_w = 36;
        p.out_h = 27;
        p.crop_x = 3;
        p.crop_y = -1;
        auto go = [&](const Image &im, int32_t out_order, int32_t flip) {
            Output o = make_output(1, 36, 27, FX_LAYOUT_NHWC, FX_DTYPE_UINT8, out_order);
            fx_resample_plan q = p;
            q.flip_x = flip;
            CHECK(run(isa, im.view, q, 0, o.desc) == FX_OK, "%s", fx_last_error());
            o.bytes.resize(o.bytes.size() - 64);
            return o.bytes;
        };
        const std::vector<uint8_t> ref = go(rgb, FX_ORDER_RGB, 0);
        CHECK(go(gray, FX_ORDER_RGB, 0) == go(g3, FX_ORDER_RGB, 0), "isa %d filter %d: gray != replicated gray", isa, filter);
        CHECK(go(rgba, FX_ORDER_RGB, 0) == ref, "isa %d filter %d: RGBA != RGB", isa, filter);
        CHECK(go(bgr, FX_ORDER_RGB, 0) == ref, "isa %d filter %d: BGR source, RGB output", isa, filter);
        std::vector<uint8_t> swapped = ref;
        for (size_t k = 0; k < swapped.size(); k += 3) std::swap(swapped[k], swapped[k + 2]);
        CHECK(go(rgb, FX_ORDER_BGR, 0) == swapped, "isa %d filter %d: RGB source, BGR output", isa, filter);
        CHECK(go(bgr, FX_ORDER_BGR, 0) == swapped, "isa %d filter %d: BGR source, BGR output", isa, filter);
        std::vector<uint8_t> mirrored = ref;
        for (int y = 0; y < 27; ++y)
            for (int x = 0; x < 36; ++x)
                for (int c = 0; c < 3; ++c) mirrored[((size_t)y * 36 + x) * 3 + c] = ref[((size_t)y * 36 + (35 - x)) * 3 + c];
        CHECK(go(rgb, FX_ORDER_RGB, 1) == mirrored, "isa %d filter %d: flip != mirror", isa, filter);
    }
}

// A strong reduction (AVX2 per-pixel horizontal path, long vertical windows) and the image ending exactly at
// the last pixel read (no slack after the buffer: valgrind / ASan would see an over-read).
void test_edges(int32_t isa) {
    Rng rng(19);
    const int32_t sizes[][4] = {{1, 1, 1, 1}, {1, 1, 7, 5}, {600, 450, 7, 5}, {599, 3, 13, 2}, {2, 600, 1, 17},
                                {333, 222, 333, 222}, {64, 64, 1, 1}};
    for (const auto &s : sizes)
        for (int32_t ch : {1, 3, 4})
            for (int32_t filter = 0; filter < 3; ++filter) {
                Image img = random_image(rng, s[0], s[1], ch, FX_ORDER_RGB, 0);
                // exact-size heap copy: the image ends at the last byte
                std::vector<uint8_t> exact(img.bytes);
                exact.shrink_to_fit();
                img.view.data = exact.data();
                fx_resample_plan p = whole_plan(img.view, s[2], s[3], filter);
                Output o = make_output(1, s[2], s[3], FX_LAYOUT_NCHW, FX_DTYPE_FLOAT32, FX_ORDER_RGB);
                CHECK(run(isa, img.view, p, 0, o.desc) == FX_OK, "%s", fx_last_error());
                CHECK(guard_ok(o), "guard");
            }
}

// Equal to scalar across the boundaries of the AVX-512 horizontal kernels (VBMI gather: 16 outputs per 128-byte
// window of the interleaved row; else the 512-bit and 256-bit pair kernels): output widths around multiples of
// 16, horizontal scales from strong enlargement to past the gather window (~2.3x reduction for RGB, ~1.6x for
// RGBA), 1-pixel images and crops, roi offsets, flips, every channel count, and images ending exactly at the
// last byte read (masked loads of the last window; valgrind / ASan would see an over-read).
void test_horizontal_boundaries(int32_t isa) {
    Rng rng(29);
    const double scales[] = {0.05, 0.4, 1.0, 1.466, 1.6, 2.0, 2.3, 2.6, 3.0, 4.2, 7.5};
    const int32_t widths[] = {1, 2, 15, 16, 17, 31, 33, 63, 64, 65, 224};
    int bad = 0, runs = 0;
    for (double sc : scales)
        for (int32_t out_w : widths)
            for (int32_t ch : {1, 3, 4}) {
                const int32_t filter = rng.uniform(0, 2);
                const int32_t resize_w = std::max(out_w, rng.uniform(out_w, out_w + 9));
                const int32_t roi_w = std::max(1, (int32_t)std::lround(resize_w * sc));
                const int32_t roi_x = rng.chance(0.5) ? 0 : rng.uniform(1, 5);
                const int32_t w = roi_x + roi_w + (rng.chance(0.5) ? 0 : rng.uniform(1, 3)), h = rng.uniform(1, 6);
                Image img = random_image(rng, w, h, ch, rng.uniform(0, 1), 0);
                std::vector<uint8_t> exact(img.bytes);
                exact.shrink_to_fit();
                img.view.data = exact.data();
                fx_resample_plan p{};
                p.roi_x = roi_x, p.roi_w = roi_w, p.roi_h = h;
                p.box_x1 = roi_w, p.box_y1 = h;
                p.resize_w = resize_w, p.resize_h = rng.uniform(1, 4);
                p.out_w = out_w, p.out_h = p.resize_h;
                p.crop_x = rng.chance(0.7) ? rng.uniform(0, resize_w - out_w) : rng.uniform(-3, 3);
                p.filter = filter;
                p.flip_x = rng.uniform(0, 1);
                const int32_t layout = rng.uniform(0, 1), dtype = rng.uniform(0, 3), order = rng.uniform(0, 1);
                Output a = make_output(1, p.out_w, p.out_h, layout, dtype, order);
                Output b = make_output(1, p.out_w, p.out_h, layout, dtype, order);
                const fx_status sa = run(FX_ISA_SCALAR, img.view, p, 0, a.desc);
                const fx_status sb = run(isa, img.view, p, 0, b.desc);
                ++runs;
                if (sa != FX_OK || sb != FX_OK || a.bytes != b.bytes || !guard_ok(b)) {
                    if (bad++ < 5)
                        std::printf("%s != scalar: %s, channels %d\n", isa_name(isa), plan_str(p).c_str(), ch);
                }
            }
    CHECK(bad == 0, "%s: %d of %d horizontal boundary cases differ from scalar", isa_name(isa), bad, runs);
}

// The per-thread cache of taps and ISA tables: results never depend on the previous call.
void test_geometry_cache() {
    Rng rng(23);
    std::vector<Case> cases;
    for (int i = 0; i < 4; ++i) cases.push_back(random_case(rng, 200));
    Image other = random_image(rng, 37, 29, 3, FX_ORDER_RGB, 0);
    fx_resample_plan flush = whole_plan(other.view, 13, 11, FX_FILTER_BILINEAR);
    int bad = 0;
    for (int it = 0; it < 120; ++it) {
        Case &c = cases[(size_t)rng.uniform(0, 3)];
        fx_resample_plan p = c.plan;
        if (rng.chance(0.3)) p.flip_x ^= 1;
        const std::vector<int32_t> isas = cpu_isas();
        const int32_t isa = isas[(size_t)rng.uniform(0, (int32_t)isas.size() - 1)];
        const int32_t dtype = rng.uniform(0, 3), layout = rng.uniform(0, 1);
        // another image of the same geometry (channels may differ)
        const int32_t chs[3] = {1, 3, 4};
        Image img = random_image(rng, c.img.view.width, c.img.view.height, chs[rng.uniform(0, 2)], rng.uniform(0, 1), rng.uniform(0, 3));
        Output a = make_output(1, p.out_w, p.out_h, layout, dtype, FX_ORDER_RGB);
        Output b = make_output(1, p.out_w, p.out_h, layout, dtype, FX_ORDER_RGB);
        bad += run(isa, img.view, p, 0, a.desc) != FX_OK;
        Output f = make_output(1, 13, 11, FX_LAYOUT_NCHW, FX_DTYPE_FLOAT32, FX_ORDER_RGB);
        bad += run(isa, other.view, flush, 0, f.desc) != FX_OK; // evicts the cached geometry
        bad += run(isa, img.view, p, 0, b.desc) != FX_OK;
        bad += a.bytes != b.bytes;
    }
    CHECK(bad == 0, "%d results depended on the previous call", bad);
}

void test_isa_api() {
    CHECK(fx_cpu_set_isa(FX_ISA_SCALAR) == FX_OK);
    CHECK(fx_cpu_isa() == FX_ISA_SCALAR);
    CHECK(fx_cpu_set_isa(7) == FX_ERR_INVALID_ARGUMENT && std::strlen(fx_last_error()) > 0);
    CHECK(fx_cpu_set_isa(-1) == FX_ERR_INVALID_ARGUMENT);
    CHECK(fx_cpu_set_isa(FX_ISA_AUTO) == FX_OK);
    CHECK(fx_cpu_isa() == (fx_cpu_supports_avx512()      ? FX_ISA_AVX512
                           : fx_cpu_supports_avx2_vnni() ? FX_ISA_AVX2_VNNI
                           : fx_cpu_supports_avx2()      ? FX_ISA_AVX2
                                                         : FX_ISA_SCALAR));
    CHECK(!fx_cpu_supports_avx2_vnni() || fx_cpu_supports_avx2(), "VNNI without AVX2");
    CHECK(!fx_cpu_supports_avx512() || fx_cpu_supports_avx2(), "AVX-512 without AVX2");
    if (g_avx2) {
        CHECK(fx_cpu_set_isa(FX_ISA_AVX2) == FX_OK);
        CHECK(fx_cpu_isa() == FX_ISA_AVX2);
    } else {
        CHECK(fx_cpu_set_isa(FX_ISA_AVX2) == FX_ERR_UNSUPPORTED);
    }
    if (fx_cpu_supports_avx2_vnni()) {
        CHECK(fx_cpu_set_isa(FX_ISA_AVX2_VNNI) == FX_OK);
        CHECK(fx_cpu_isa() == FX_ISA_AVX2_VNNI);
    } else {
        CHECK(fx_cpu_set_isa(FX_ISA_AVX2_VNNI) == FX_ERR_UNSUPPORTED && std::strlen(fx_last_error()) > 0);
    }
    if (fx_cpu_supports_avx512()) {
        CHECK(fx_cpu_set_isa(FX_ISA_AVX512) == FX_OK);
        CHECK(fx_cpu_isa() == FX_ISA_AVX512);
    } else {
        CHECK(fx_cpu_set_isa(FX_ISA_AVX512) == FX_ERR_UNSUPPORTED && std::strlen(fx_last_error()) > 0);
    }
    CHECK(fx_cpu_set_isa(5) == FX_ERR_INVALID_ARGUMENT);
    CHECK(fx_cpu_set_arith(3) == FX_ERR_INVALID_ARGUMENT && std::strlen(fx_last_error()) > 0);
    CHECK(fx_cpu_set_arith(-1) == FX_ERR_INVALID_ARGUMENT);
    CHECK(fx_cpu_set_arith(FX_ARITH_AUTO) == FX_OK);
    // this test runs without FIXRES4J_CPU_ISA (ctest): no override to report
    CHECK(fx_cpu_isa_override() != nullptr && (std::getenv("FIXRES4J_CPU_ISA") != nullptr || *fx_cpu_isa_override() == 0));
    CHECK(fx_abi_version() == FX_ABI_VERSION);
    CHECK(fx_build_info() != nullptr && std::strlen(fx_build_info()) > 0);
    std::printf("build: %s\n", fx_build_info());
}

// test_preprocess_cpu --env-isa NAME EXPECTED: run with FIXRES4J_CPU_ISA=NAME (ctest sets it), the initial ISA is
// EXPECTED (an isa_name), the override is reported, and fx_cpu_set_isa still replaces it.
int test_env_isa(const char *name, const char *expected) {
    const char *env = std::getenv("FIXRES4J_CPU_ISA");
    CHECK(env != nullptr && std::strcmp(env, name) == 0, "FIXRES4J_CPU_ISA is not %s", name);
    const int32_t initial = fx_cpu_isa();
    CHECK(fx_cpu_set_isa(FX_ISA_AUTO) == FX_OK);
    const int32_t want = std::strcmp(expected, "auto") == 0 ? fx_cpu_isa() : isa_code(expected);
    CHECK(want > 0, "unknown ISA %s", expected);
    CHECK(initial == want, "initial ISA %s, expected %s", isa_name(initial), isa_name(want));
    const char *msg = fx_cpu_isa_override();
    std::printf("override: %s\n", msg);
    CHECK(std::strstr(msg, "FIXRES4J_CPU_ISA=") != nullptr, "override not reported: '%s'", msg);
    CHECK((std::strstr(msg, "ignored") != nullptr) == (std::strcmp(name, expected) != 0), "'%s'", msg);
    CHECK(fx_cpu_set_isa(FX_ISA_SCALAR) == FX_OK && fx_cpu_isa() == FX_ISA_SCALAR);
    return test_summary();
}

} // namespace

int main(int argc, char **argv) {
    if (argc == 4 && std::strcmp(argv[1], "--env-isa") == 0) return test_env_isa(argv[2], argv[3]);
    const int scale = argc > 1 ? std::atoi(argv[1]) : 1; // more random cases: test_preprocess_cpu 10
    g_avx2 = fx_cpu_supports_avx2() != 0;
    std::printf("AVX2 available: %s; paths tested:", g_avx2 ? "yes" : "no");
    for (int32_t isa : cpu_isas()) std::printf(" %s", isa_name(isa));
    std::printf("\n");
    test_isa_api();
    for_each_isa(test_identity);
    for_each_isa(test_padding);
    for_each_isa(test_dtypes);
    for (int32_t isa : cpu_isas()) { // the SIMD outputs' other evaluations of the normalisation, forced
        if (isa == FX_ISA_SCALAR) continue;
        for (int32_t mode : {FX_ARITH_MARKSTEIN, FX_ARITH_TABLE}) {
            CHECK(fx_cpu_set_arith(mode) == FX_OK);
            test_dtypes(isa);
            test_padding(isa);
        }
        CHECK(fx_cpu_set_arith(FX_ARITH_AUTO) == FX_OK);
        set_isa(FX_ISA_AUTO);
    }
    for_each_isa(test_channels);
    for_each_isa(test_edges);
    for_each_isa(test_horizontal_boundaries);
    test_geometry_cache();
    for (int32_t isa : cpu_isas()) {
        if (isa == FX_ISA_SCALAR) continue;
        test_simd_equals_scalar(isa, 1500 * scale, 1, 300);
        test_simd_equals_scalar(isa, 150 * scale, 2, 600);
    }
    if (!g_avx2) std::printf("note: no AVX2 on this CPU, SIMD == scalar not tested\n");
    test_batch_equals_single(3);
    for (int32_t isa : cpu_isas()) {
        set_isa(isa);
        test_concurrent_batches(5 + (uint64_t)isa);
        test_back_to_back_batches(11 + (uint64_t)isa);
    }
    set_isa(FX_ISA_AUTO);
    return test_summary();
}

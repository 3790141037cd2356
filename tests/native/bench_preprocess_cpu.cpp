// Micro-benchmark of fx_preprocess_cpu (not a test): a 500x375 RGB image to float32 NCHW normalised, one
// thread, scalar vs AVX2 vs AVX2-VNNI, for timm-style eval geometries (resize the short side, bicubic, centre crop):
//   224: short side 256 -> 341x256, crop 224      320: short 365 -> 486x365, crop 320
//   600: short 685 -> 913x685, crop 600
// plus 1- and 2-thread batch throughput (batches of 16 and 64, one call per batch).
// Usage: bench_preprocess_cpu [min_seconds_per_measure (default 0.5) [auto]] (auto: only the FX_ISA_AUTO parts:
// the other outputs at 224 and the batch scaling)
#include "test_util.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>

using namespace fxtest;

namespace {

struct Geometry {
    const char *name;
    int32_t res, short_side;
};

fx_resample_plan timm_plan(int32_t w, int32_t h, int32_t res, int32_t short_side, int32_t filter) {
    fx_resample_plan p{};
    p.roi_w = w, p.roi_h = h, p.box_x1 = w, p.box_y1 = h;
    if (w <= h) {
        p.resize_w = short_side;
        p.resize_h = (int32_t)((int64_t)short_side * h / w);
    } else {
        p.resize_h = short_side;
        p.resize_w = (int32_t)((int64_t)short_side * w / h);
    }
    p.crop_x = (int32_t)std::nearbyint((p.resize_w - res) / 2.0); // round half to even, as Python's round
    p.crop_y = (int32_t)std::nearbyint((p.resize_h - res) / 2.0);
    p.out_w = res, p.out_h = res;
    p.filter = filter;
    return p;
}

double now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Median over repeated timed blocks of microseconds per image.
double measure(const fx_image &img, const fx_resample_plan &plan, const fx_output &out, double min_seconds) {
    for (int i = 0; i < 3; ++i) fx_preprocess_cpu(&img, &plan, 0, &out); // warm up (tables, scratch)
    std::vector<double> samples;
    const double t_end = now() + min_seconds;
    int per_block = 1;
    {
        const double t0 = now();
        fx_preprocess_cpu(&img, &plan, 0, &out);
        const double dt = now() - t0;
        per_block = std::max(1, (int)(0.01 / std::max(dt, 1e-7)));
    }
    while (now() < t_end || samples.size() < 5) {
        const double t0 = now();
        for (int i = 0; i < per_block; ++i) fx_preprocess_cpu(&img, &plan, 0, &out);
        samples.push_back((now() - t0) / per_block * 1e6);
    }
    std::sort(samples.begin(), samples.end());
    return samples[samples.size() / 2];
}

// 1 thread against `threads` threads on the same batch, in interleaved rounds (one call per batch each): medians of
// us/image and the median, lowest and highest per-round ratio.
struct BatchScaling {
    double one, many, ratio, ratio_min, ratio_max;
};

BatchScaling measure_batch(const fx_image &img, const fx_resample_plan &plan, int32_t count, int32_t threads,
                           double min_seconds) {
    Output o = make_output(count, plan.out_w, plan.out_h, FX_LAYOUT_NCHW, FX_DTYPE_FLOAT32, FX_ORDER_RGB);
    std::vector<fx_preprocess_job> jobs((size_t)count);
    for (int32_t i = 0; i < count; ++i) {
        jobs[(size_t)i].image = img;
        jobs[(size_t)i].plan = plan;
        jobs[(size_t)i].index = i;
    }
    auto block = [&](int32_t t, int calls) {
        const double t0 = now();
        for (int c = 0; c < calls; ++c) fx_preprocess_cpu_batch(jobs.data(), count, &o.desc, t);
        return (now() - t0) / ((double)calls * count) * 1e6;
    };
    block(1, 2), block(threads, 2); // warm up (tables, scratch, the pool's threads)
    const int calls = std::max(1, (int)(min_seconds / 9 / (block(1, 1) * 1e-6 * count)));
    std::vector<double> one, many, ratio;
    for (int r = 0; r < 9; ++r) {
        one.push_back(block(1, calls));
        many.push_back(block(threads, calls));
        ratio.push_back(one.back() / many.back());
    }
    auto median = [](std::vector<double> v) {
        std::sort(v.begin(), v.end());
        return v[v.size() / 2];
    };
    return {median(one), median(many), median(ratio), *std::min_element(ratio.begin(), ratio.end()),
            *std::max_element(ratio.begin(), ratio.end())};
}

} // namespace

int main(int argc, char **argv) {
    const double min_seconds = argc > 1 ? std::atof(argv[1]) : 0.5;
    const bool auto_only = argc > 2 && std::strcmp(argv[2], "auto") == 0; // only the FX_ISA_AUTO parts
    Rng rng(1);
    // smooth content with noise (speed does not depend on the pixel values: integer arithmetic only)
    Image img = random_image(rng, 500, 375, 3, FX_ORDER_RGB, 0);
    const Geometry geos[] = {{"224 (short 256)", 224, 256}, {"320 (short 365)", 320, 365}, {"600 (short 685)", 600, 685}};
    const bool avx2 = fx_cpu_supports_avx2() != 0;
    const bool vnni = fx_cpu_supports_avx2_vnni() != 0;
    const bool avx512 = fx_cpu_supports_avx512() != 0;
    std::printf("%s\n", fx_build_info());
    std::printf("500x375 RGB -> float32 NCHW normalised, one thread, us/image (median)\n");
    std::printf("%-18s %-9s %10s %10s %10s %10s %8s\n", "geometry", "filter", "scalar", "avx2", "avx2-vnni", "avx512",
                "speedup");
    const char *fname[3] = {"nearest", "bilinear", "bicubic"};
    for (const Geometry &g : geos) {
        if (auto_only) break;
        for (int32_t filter : {FX_FILTER_BICUBIC, FX_FILTER_BILINEAR}) {
            const fx_resample_plan plan = timm_plan(500, 375, g.res, g.short_side, filter);
            Output o = make_output(1, g.res, g.res, FX_LAYOUT_NCHW, FX_DTYPE_FLOAT32, FX_ORDER_RGB);
            fx_cpu_set_isa(FX_ISA_SCALAR);
            const double ts = measure(img.view, plan, o.desc, min_seconds);
            double ta = 0, tv = 0, tz = 0;
            if (avx2) {
                fx_cpu_set_isa(FX_ISA_AVX2);
                ta = measure(img.view, plan, o.desc, min_seconds);
            }
            if (vnni) {
                fx_cpu_set_isa(FX_ISA_AVX2_VNNI);
                tv = measure(img.view, plan, o.desc, min_seconds);
            }
            if (avx512) {
                fx_cpu_set_isa(FX_ISA_AVX512);
                tz = measure(img.view, plan, o.desc, min_seconds);
            }
            const double best = tz > 0 ? tz : tv > 0 ? tv : ta;
            std::printf("%-18s %-9s %10.1f %10.1f %10.1f %10.1f %7.1fx\n", g.name, fname[filter], ts, ta, tv, tz,
                        best > 0 ? ts / best : 0.0);
        }
    }
    if (avx2) {
        fx_cpu_set_isa(FX_ISA_AUTO);
        const char *isa = fx_cpu_isa() == FX_ISA_AVX512 ? "AVX-512" : fx_cpu_isa() == FX_ISA_AVX2_VNNI ? "AVX2-VNNI" : "AVX2";
        std::printf("\n%s, 224 bicubic, one thread, other outputs (us/image):\n", isa);
        const fx_resample_plan plan = timm_plan(500, 375, 224, 256, FX_FILTER_BICUBIC);
        const char *dn[4] = {"float32", "float16", "bfloat16", "uint8"};
        for (int32_t layout = 0; layout < 2; ++layout)
            for (int32_t dtype = 0; dtype < 4; ++dtype) {
                Output o = make_output(1, 224, 224, layout, dtype, FX_ORDER_RGB);
                std::printf("  %s %-9s %8.1f\n", layout == 0 ? "NCHW" : "NHWC", dn[dtype], measure(img.view, plan, o.desc, min_seconds / 2));
            }
        std::printf("\n%s, 224 bicubic, batch (one call per batch), us/image, 9 interleaved rounds (median):\n", isa);
        for (int32_t count : {16, 64}) {
            const BatchScaling b = measure_batch(img.view, plan, count, 2, min_seconds);
            std::printf("  batch %2d: 1 thread %.1f, 2 threads %.1f, ratio %.2fx [%.2f-%.2f]\n", count, b.one, b.many,
                        b.ratio, b.ratio_min, b.ratio_max);
        }
    }
    fx_cpu_set_isa(FX_ISA_AUTO);
    return 0;
}

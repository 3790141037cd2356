// Every bad argument of fx_preprocess_cpu / fx_preprocess_cpu_batch returns FX_ERR_INVALID_ARGUMENT with a
// message naming the field, nothing crashes, and nothing is written (the output keeps its sentinel).
#include "test_util.h"

#include <functional>
#include <limits>

using namespace fxtest;

namespace {

struct Setup {
    Image img;
    fx_resample_plan plan{};
    Output out;
};

Setup good() {
    Rng rng(5);
    Setup s;
    s.img = random_image(rng, 64, 48, 3, FX_ORDER_RGB, 4);
    s.plan.roi_x = 2;
    s.plan.roi_y = 3;
    s.plan.roi_w = 60;
    s.plan.roi_h = 44;
    s.plan.box_x0 = 0.5;
    s.plan.box_y0 = 0;
    s.plan.box_x1 = 59.5;
    s.plan.box_y1 = 44;
    s.plan.resize_w = 40;
    s.plan.resize_h = 30;
    s.plan.crop_x = 4;
    s.plan.crop_y = 3;
    s.plan.out_w = 32;
    s.plan.out_h = 24;
    s.plan.filter = FX_FILTER_BICUBIC;
    s.out = make_output(2, 32, 24, FX_LAYOUT_NCHW, FX_DTYPE_FLOAT32, FX_ORDER_RGB);
    return s;
}

const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

struct BadCase {
    const char *name;
    const char *field; // expected in the message
    std::function<void(Setup &)> mutate;
};

std::vector<BadCase> bad_cases() {
    return {
        {"width 0", "width", [](Setup &s) { s.img.view.width = 0; }},
        {"height -1", "height", [](Setup &s) { s.img.view.height = -1; }},
        {"channels 2", "channels", [](Setup &s) { s.img.view.channels = 2; }},
        {"channels 0", "channels", [](Setup &s) { s.img.view.channels = 0; }},
        {"image order 2", "order", [](Setup &s) { s.img.view.order = 2; }},
        {"row_stride small", "row_stride", [](Setup &s) { s.img.view.row_stride = 64 * 3 - 1; }},
        {"row_stride negative", "row_stride", [](Setup &s) { s.img.view.row_stride = -200; }},
        {"row_stride overflow", "row_stride", [](Setup &s) { s.img.view.row_stride = INT64_MAX / 2; }},
        {"data null", "data", [](Setup &s) { s.img.view.data = nullptr; }},
        {"roi_x negative", "roi_x", [](Setup &s) { s.plan.roi_x = -1; }},
        {"roi_y too big", "roi_y", [](Setup &s) { s.plan.roi_y = 48; }},
        {"roi_w 0", "roi_w", [](Setup &s) { s.plan.roi_w = 0; }},
        {"roi_w past the image", "roi_w", [](Setup &s) { s.plan.roi_w = 63; }},
        {"roi_h past the image", "roi_h", [](Setup &s) { s.plan.roi_h = 46; }},
        {"roi_w huge", "roi_w", [](Setup &s) { s.plan.roi_w = INT32_MAX; }},
        {"box_x0 NaN", "box_x0", [](Setup &s) { s.plan.box_x0 = kNaN; }},
        {"box_y1 inf", "box_y1", [](Setup &s) { s.plan.box_y1 = kInf; }},
        {"box_x0 negative", "box_x0", [](Setup &s) { s.plan.box_x0 = -0.25; }},
        {"box_x1 past roi", "box_x1", [](Setup &s) { s.plan.box_x1 = 60.001; }},
        {"box_y1 past roi", "box_y1", [](Setup &s) { s.plan.box_y1 = 45; }},
        {"box empty", "box_x0", [](Setup &s) { s.plan.box_x0 = s.plan.box_x1 = 10; }},
        {"box reversed", "box_y0", [](Setup &s) { s.plan.box_y0 = 20, s.plan.box_y1 = 10; }},
        {"box empty in float", "box_x0", [](Setup &s) { s.plan.box_x0 = 10, s.plan.box_x1 = 10.0000000001; }},
        {"resize_w 0", "resize_w", [](Setup &s) { s.plan.resize_w = 0; }},
        {"resize_h too big", "resize_h", [](Setup &s) { s.plan.resize_h = (1 << 16) + 1; }},
        {"crop_x too negative", "crop_x", [](Setup &s) { s.plan.crop_x = -(1 << 16) - 1; }},
        {"crop_y too big", "crop_y", [](Setup &s) { s.plan.crop_y = INT32_MAX; }},
        {"plan out_w mismatch", "out_w", [](Setup &s) { s.plan.out_w = 31; }},
        {"plan out_h mismatch", "out_h", [](Setup &s) { s.plan.out_h = 25; }},
        {"filter 3", "filter", [](Setup &s) { s.plan.filter = 3; }},
        {"filter -1", "filter", [](Setup &s) { s.plan.filter = -1; }},
        {"flip 2", "flip_x", [](Setup &s) { s.plan.flip_x = 2; }},
        {"out data null", "data", [](Setup &s) { s.out.desc.data = nullptr; }},
        {"batch 0", "batch", [](Setup &s) { s.out.desc.batch = 0; }},
        {"layout 2", "layout", [](Setup &s) { s.out.desc.layout = 2; }},
        {"dtype 4", "dtype", [](Setup &s) { s.out.desc.dtype = 4; }},
        {"out order -1", "order", [](Setup &s) { s.out.desc.order = -1; }},
        {"out_w 0", "out_w", [](Setup &s) { s.out.desc.out_w = 0, s.plan.out_w = 0; }},
        {"out_h too big", "out_h", [](Setup &s) { s.out.desc.out_h = (1 << 16) + 1, s.plan.out_h = (1 << 16) + 1; }},
        {"std 0", "std", [](Setup &s) { s.out.desc.std[1] = 0.0f; }},
        {"std NaN", "std", [](Setup &s) { s.out.desc.std[2] = (float)kNaN; }},
        {"std inf", "std", [](Setup &s) { s.out.desc.std[0] = (float)kInf; }},
        {"mean NaN", "mean", [](Setup &s) { s.out.desc.mean[0] = (float)kNaN; }},
        {"mean inf", "mean", [](Setup &s) { s.out.desc.mean[2] = -(float)kInf; }},
        {"output size overflow", "overflow", [](Setup &s) { s.out.desc.batch = INT64_MAX / 4; }},
    };
}

// The index argument (single calls) / job index (batch).
void test_single(int32_t isa) {
    for (const BadCase &bc : bad_cases()) {
        Setup s = good();
        bc.mutate(s);
        const fx_status st = fx_preprocess_cpu(&s.img.view, &s.plan, 1, &s.out.desc);
        CHECK(st == FX_ERR_INVALID_ARGUMENT, "isa %d %s: status %d", isa, bc.name, st);
        CHECK(std::strstr(fx_last_error(), bc.field) != nullptr, "isa %d %s: message '%s' does not name '%s'", isa,
              bc.name, fx_last_error(), bc.field);
        CHECK(all_bytes(s.out.bytes, 0xA5), "isa %d %s: output written", isa, bc.name);
    }
    Setup s = good();
    CHECK(fx_preprocess_cpu(nullptr, &s.plan, 0, &s.out.desc) == FX_ERR_INVALID_ARGUMENT && std::strstr(fx_last_error(), "image"));
    CHECK(fx_preprocess_cpu(&s.img.view, nullptr, 0, &s.out.desc) == FX_ERR_INVALID_ARGUMENT && std::strstr(fx_last_error(), "plan"));
    CHECK(fx_preprocess_cpu(&s.img.view, &s.plan, 0, nullptr) == FX_ERR_INVALID_ARGUMENT && std::strstr(fx_last_error(), "out"));
    CHECK(fx_preprocess_cpu(&s.img.view, &s.plan, 2, &s.out.desc) == FX_ERR_INVALID_ARGUMENT && std::strstr(fx_last_error(), "index"));
    CHECK(fx_preprocess_cpu(&s.img.view, &s.plan, -1, &s.out.desc) == FX_ERR_INVALID_ARGUMENT && std::strstr(fx_last_error(), "index"));
    CHECK(all_bytes(s.out.bytes, 0xA5), "output written");

    // uint8 ignores mean / std
    s = good();
    s.out = make_output(2, 32, 24, FX_LAYOUT_NHWC, FX_DTYPE_UINT8, FX_ORDER_RGB);
    s.out.desc.std[0] = 0.0f;
    s.out.desc.mean[1] = (float)kNaN;
    CHECK(fx_preprocess_cpu(&s.img.view, &s.plan, 1, &s.out.desc) == FX_OK, "uint8 with std 0: %s", fx_last_error());
    // the good setup works
    s = good();
    CHECK(fx_preprocess_cpu(&s.img.view, &s.plan, 1, &s.out.desc) == FX_OK, "good: %s", fx_last_error());
    // accepted extremes: box exactly the roi, crop far outside, 1x1 everything
    s = good();
    s.plan.box_x0 = 0, s.plan.box_x1 = 60, s.plan.crop_x = -(1 << 16), s.plan.crop_y = 1 << 16;
    CHECK(fx_preprocess_cpu(&s.img.view, &s.plan, 0, &s.out.desc) == FX_OK, "extremes: %s", fx_last_error());
}

void test_batch(int32_t isa) {
    for (const BadCase &bc : bad_cases()) {
        for (int32_t threads : {1, 2}) {
            // three good jobs and one bad one (in the middle): nothing may be written
            std::vector<Setup> setups;
            for (int i = 0; i < 4; ++i) setups.push_back(good());
            Setup &bad = setups[2];
            bc.mutate(bad);
            std::vector<fx_preprocess_job> jobs(4);
            for (int i = 0; i < 4; ++i) {
                jobs[(size_t)i].image = setups[(size_t)i].img.view;
                jobs[(size_t)i].plan = setups[(size_t)i].plan;
                jobs[(size_t)i].index = i % 2;
            }
            // the output description is shared: a bad output field applies to the whole batch
            Output out = make_output(2, 32, 24, FX_LAYOUT_NCHW, FX_DTYPE_FLOAT32, FX_ORDER_RGB);
            fx_output desc = bad.out.desc;
            desc.data = bad.out.desc.data ? (void *)out.bytes.data() : nullptr;
            const fx_status st = fx_preprocess_cpu_batch(jobs.data(), 4, &desc, threads);
            CHECK(st == FX_ERR_INVALID_ARGUMENT, "isa %d batch %s: status %d", isa, bc.name, st);
            CHECK(std::strstr(fx_last_error(), bc.field) != nullptr, "isa %d batch %s: message '%s'", isa, bc.name,
                  fx_last_error());
            CHECK(all_bytes(out.bytes, 0xA5), "isa %d batch %s: output written", isa, bc.name);
        }
    }
    Setup s = good();
    fx_preprocess_job job{};
    job.image = s.img.view;
    job.plan = s.plan;
    job.index = 0;
    CHECK(fx_preprocess_cpu_batch(&job, 1, &s.out.desc, 0) == FX_ERR_INVALID_ARGUMENT && std::strstr(fx_last_error(), "threads"));
    CHECK(fx_preprocess_cpu_batch(&job, 1, &s.out.desc, 100000) == FX_ERR_INVALID_ARGUMENT && std::strstr(fx_last_error(), "threads"));
    CHECK(fx_preprocess_cpu_batch(&job, -1, &s.out.desc, 1) == FX_ERR_INVALID_ARGUMENT && std::strstr(fx_last_error(), "count"));
    CHECK(fx_preprocess_cpu_batch(nullptr, 2, &s.out.desc, 1) == FX_ERR_INVALID_ARGUMENT && std::strstr(fx_last_error(), "jobs"));
    CHECK(fx_preprocess_cpu_batch(&job, 1, nullptr, 1) == FX_ERR_INVALID_ARGUMENT && std::strstr(fx_last_error(), "out"));
    job.index = 2;
    CHECK(fx_preprocess_cpu_batch(&job, 1, &s.out.desc, 1) == FX_ERR_INVALID_ARGUMENT && std::strstr(fx_last_error(), "jobs[0]") &&
          std::strstr(fx_last_error(), "index"));
    CHECK(all_bytes(s.out.bytes, 0xA5), "output written");
    job.index = 1;
    CHECK(fx_preprocess_cpu_batch(&job, 1, &s.out.desc, 1) == FX_OK, "%s", fx_last_error());
}

void test_axis_limits() {
    // a huge reduction (65536 -> 1 per axis would need a big image): 1 x 4000 rows -> 1, 20000 columns -> 1
    Rng rng(9);
    Image img = random_image(rng, 20000, 30, 3, FX_ORDER_RGB, 0);
    fx_resample_plan p{};
    p.roi_w = 20000, p.roi_h = 30, p.box_x1 = 20000, p.box_y1 = 30;
    p.resize_w = 1, p.resize_h = 1, p.out_w = 1, p.out_h = 1, p.filter = FX_FILTER_BICUBIC;
    Output o = make_output(1, 1, 1, FX_LAYOUT_NCHW, FX_DTYPE_UINT8, FX_ORDER_RGB);
    CHECK(fx_preprocess_cpu(&img.view, &p, 0, &o.desc) == FX_OK, "%s", fx_last_error());
    // the biggest output and upsampling factor: 1x1 -> 65536 x 2
    Image one = random_image(rng, 1, 1, 1, FX_ORDER_RGB, 0);
    p = fx_resample_plan{};
    p.roi_w = 1, p.roi_h = 1, p.box_x1 = 1, p.box_y1 = 1;
    p.resize_w = 1 << 16, p.resize_h = 2, p.out_w = 1 << 16, p.out_h = 2, p.filter = FX_FILTER_BILINEAR;
    Output big = make_output(1, 1 << 16, 2, FX_LAYOUT_NHWC, FX_DTYPE_UINT8, FX_ORDER_RGB);
    CHECK(fx_preprocess_cpu(&one.view, &p, 0, &big.desc) == FX_OK, "%s", fx_last_error());
    bool same = true;
    for (size_t k = 0; k + 64 < big.bytes.size(); ++k) same &= big.bytes[k] == one.bytes[0];
    CHECK(same, "1x1 upsampled is not constant");
}

// A job that passes validation but cannot run (its scratch would exceed the library's limit): the error
// is FX_ERR_OUT_OF_MEMORY with a message, single or in a batch (which names the job), and nothing crashes.
void test_runtime_error() {
    Rng rng(31);
    Image tall = random_image(rng, 1, 60000, 3, FX_ORDER_RGB, 0);
    fx_resample_plan p{};
    p.roi_w = 1, p.roi_h = 60000, p.box_x1 = 1, p.box_y1 = 60000;
    p.resize_w = 1 << 16, p.resize_h = 1, p.out_w = 1 << 16, p.out_h = 1, p.filter = FX_FILTER_BICUBIC;
    for (int32_t isa : cpu_isas()) {
        set_isa(isa);
        Output o = make_output(3, 1 << 16, 1, FX_LAYOUT_NCHW, FX_DTYPE_FLOAT32, FX_ORDER_RGB);
        fx_status st = fx_preprocess_cpu(&tall.view, &p, 0, &o.desc);
        CHECK(st == FX_ERR_OUT_OF_MEMORY && std::strlen(fx_last_error()) > 0, "isa %d: status %d '%s'", isa, st,
              fx_last_error());
        // in a batch, between two good jobs
        Image small = random_image(rng, 40, 30, 3, FX_ORDER_RGB, 0);
        fx_resample_plan q{};
        q.roi_w = 40, q.roi_h = 30, q.box_x1 = 40, q.box_y1 = 30, q.resize_w = 1 << 16, q.resize_h = 1;
        q.out_w = 1 << 16, q.out_h = 1, q.filter = FX_FILTER_BILINEAR;
        fx_preprocess_job jobs[3] = {};
        jobs[0].image = small.view, jobs[0].plan = q, jobs[0].index = 0;
        jobs[1].image = tall.view, jobs[1].plan = p, jobs[1].index = 1;
        jobs[2].image = small.view, jobs[2].plan = q, jobs[2].index = 2;
        for (int32_t threads : {1, 2, 3}) {
            st = fx_preprocess_cpu_batch(jobs, 3, &o.desc, threads);
            CHECK(st == FX_ERR_OUT_OF_MEMORY && std::strstr(fx_last_error(), "jobs[1]") != nullptr,
                  "isa %d threads %d: status %d '%s'", isa, threads, st, fx_last_error());
        }
    }
    set_isa(FX_ISA_AUTO);
}

} // namespace

int main() {
    for (int32_t isa : cpu_isas()) {
        set_isa(isa);
        test_single(isa);
        test_batch(isa);
    }
    set_isa(FX_ISA_AUTO);
    test_axis_limits();
    test_runtime_error();
    return test_summary();
}

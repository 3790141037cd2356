// fx_cuda_preprocess_batch on a GPU: byte for byte equal to fx_preprocess_cpu_batch on random batches of
// differently sized images and plans (filters, channels 1/3/4, RGB/BGR, strides, rois, boxes, padding crops,
// flips, dtypes, layouts, batch sizes, streams), equal to the Pillow goldens, and argument validation.
// Without a usable device: checks the error codes, prints "SKIPPED: no CUDA device (<reason>)" and exits 77
// (ctest's SKIP_RETURN_CODE: reported as skipped, not passed).
//
//   test_cuda_preprocess [golden_dir] [--quick]   (--quick: validation, stress and a few random batches only,
//                                                   for compute-sanitizer runs)
#include "cuda_test_common.h"

#include <cuda_runtime.h>

#include <thread>

using namespace fxtest;
using namespace fxcuda;

namespace {

constexpr uint8_t kPoison = 0xA5;
constexpr size_t kGuard = 64;

bool cuda_ok(cudaError_t e, const char *what) {
    CHECK(e == cudaSuccess, "%s: %s", what, cudaGetErrorString(e));
    return e == cudaSuccess;
}

struct DeviceBuffer {
    void *ptr = nullptr;
    size_t size = 0;
    explicit DeviceBuffer(size_t n) : size(n) {
        if (!cuda_ok(cudaMalloc(&ptr, n), "cudaMalloc")) ptr = nullptr;
    }
    ~DeviceBuffer() {
        if (ptr) cudaFree(ptr);
    }
    DeviceBuffer(const DeviceBuffer &) = delete;
    DeviceBuffer &operator=(const DeviceBuffer &) = delete;
};

int cpu_threads() {
    const unsigned n = std::thread::hardware_concurrency();
    return (int)std::max(1u, std::min(n, 16u));
}

// CPU reference of a batch into a poisoned host buffer (with guard bytes).
bool cpu_reference(const Batch &b, std::vector<uint8_t> *ref) {
    ref->assign(b.out_bytes + kGuard, kPoison);
    fx_output out = b.out;
    out.data = ref->data();
    const fx_status s = fx_preprocess_cpu_batch(b.jobs.data(), (int32_t)b.jobs.size(), &out, cpu_threads());
    CHECK(s == FX_OK, "[%s] CPU reference failed: %s", b.what.c_str(), fx_last_error());
    return s == FX_OK;
}

// Runs the batch on the GPU into a poisoned device buffer; scribbles over the host images as soon as the call
// returns (it must not need them any more); returns the device buffer's bytes.
bool gpu_run(fx_cuda_preprocessor *p, Batch &b, cudaStream_t stream, std::vector<uint8_t> *got, bool scribble) {
    DeviceBuffer d(b.out_bytes + kGuard);
    if (!d.ptr) return false;
    if (!cuda_ok(cudaMemset(d.ptr, kPoison, d.size), "cudaMemset")) return false;
    if (!cuda_ok(cudaDeviceSynchronize(), "sync before")) return false;
    fx_output out = b.out;
    out.data = d.ptr;
    const fx_status s = fx_cuda_preprocess_batch(p, b.jobs.data(), (int32_t)b.jobs.size(), &out, stream);
    CHECK(s == FX_OK, "[%s] fx_cuda_preprocess_batch: %s", b.what.c_str(), fx_last_error());
    if (s != FX_OK) return false;
    if (scribble)
        for (Image &im : b.images) std::fill(im.bytes.begin(), im.bytes.end(), (uint8_t)0x5A);
    if (!cuda_ok(cudaStreamSynchronize(stream), "cudaStreamSynchronize")) return false;
    got->assign(d.size, 0);
    return cuda_ok(cudaMemcpy(got->data(), d.ptr, d.size, cudaMemcpyDeviceToHost), "cudaMemcpy D2H");
}

void describe_slot(const Batch &b, size_t byte) {
    const int64_t per = 3LL * b.out.out_w * b.out.out_h * elem_size(b.out.dtype);
    const int64_t slot = (int64_t)byte / per;
    for (const fx_preprocess_job &j : b.jobs)
        if (j.index == slot)
            std::printf("  slot %lld: image %dx%dx%d order %d stride %lld, plan %s\n", (long long)slot, j.image.width,
                        j.image.height, j.image.channels, j.image.order, (long long)j.image.row_stride,
                        plan_str(j.plan).c_str());
}

void compare_batch(fx_cuda_preprocessor *p, Batch &b, cudaStream_t stream, const char *label, bool scribble) {
    std::vector<uint8_t> ref, got;
    if (!cpu_reference(b, &ref)) return;
    if (!gpu_run(p, b, stream, &got, scribble)) return;
    const size_t d = first_diff(ref.data(), got.data(), ref.size());
    CHECK(d == ref.size(), "%s [%s]: first difference at byte %zu of %zu (cpu %u, gpu %u)%s", label, b.what.c_str(), d,
          ref.size(), d < ref.size() ? ref[d] : 0, d < ref.size() ? got[d] : 0,
          d >= b.out_bytes && d < ref.size() ? " (guard bytes: write past the tensor)" : "");
    if (d != ref.size() && d < b.out_bytes) describe_slot(b, d);
}

void test_random(fx_cuda_preprocessor *p, cudaStream_t stream, uint64_t seed, int batches) {
    Rng rng(seed);
    for (int i = 0; i < batches; ++i) {
        const int count = rng.chance(0.2) ? rng.uniform(20, 120) : rng.uniform(1, 10);
        const int32_t ow = rng.chance(0.3) ? rng.uniform(1, 8) : rng.uniform(1, 160);
        const int32_t oh = rng.chance(0.3) ? rng.uniform(1, 8) : rng.uniform(1, 160);
        Batch b = random_batch(rng, count, rng.chance(0.5) ? 64 : 600, ow, oh);
        char label[96];
        std::snprintf(label, sizeof label, "random batch %d (seed %llu)", i, (unsigned long long)seed);
        compare_batch(p, b, (i % 3 == 0) ? nullptr : stream, label, (i & 1) != 0);
    }
}

void test_stress(fx_cuda_preprocessor *p, cudaStream_t stream) {
    Rng rng(11);
    std::vector<Batch> v = stress_batches(rng);
    for (Batch &b : v) compare_batch(p, b, stream, "stress", true);
}

// 256 images around 500x375, timm eval bicubic 224: several staging threads and pipelined copy parts.
void test_large(fx_cuda_preprocessor *p, cudaStream_t stream) {
    Rng rng(5);
    const int32_t dtypes[4] = {FX_DTYPE_FLOAT32, FX_DTYPE_BFLOAT16, FX_DTYPE_FLOAT16, FX_DTYPE_UINT8};
    for (int round = 0; round < 2; ++round) {
        Batch b;
        b.out = make_out(256, 224, 224, round ? FX_LAYOUT_NHWC : FX_LAYOUT_NCHW, dtypes[rng.uniform(0, 3)],
                         FX_ORDER_RGB);
        random_norm(rng, &b.out);
        for (int i = 0; i < 256; ++i) {
            int32_t w = rng.uniform(400, 640), h = rng.uniform(300, 480);
            if (rng.chance(0.3)) std::swap(w, h);
            const int32_t s = 256;
            const int32_t rw = w <= h ? s : (int32_t)((int64_t)s * w / h), rh = w <= h ? (int32_t)((int64_t)s * h / w) : s;
            const int32_t ch = rng.chance(0.1) ? 1 : rng.chance(0.1) ? 4 : 3;
            add_job(b, rng, w, h, ch,
                    simple_plan(w, h, rw, rh, (rw - 224) / 2, (rh - 224) / 2, 224, 224, rng.uniform(0, 2), rng.uniform(0, 1)),
                    255 - i);
        }
        b.what = round ? "256 images NHWC" : "256 images NCHW";
        finalize(b);
        compare_batch(p, b, round ? stream : nullptr, "large", true);
    }
}

void test_goldens(fx_cuda_preprocessor *p, const std::string &dir) {
    std::vector<Golden> cases;
    std::string why;
    if (!load_goldens(dir, &cases, &why)) {
        CHECK(false, "goldens: %s", why.c_str());
        return;
    }
    CHECK(!cases.empty(), "no golden cases in %s", dir.c_str());
    int checked = 0;
    std::vector<bool> done(cases.size(), false);
    for (size_t i = 0; i < cases.size(); ++i) {
        if (done[i]) continue;
        std::vector<size_t> members;
        for (size_t j = i; j < cases.size(); ++j)
            if (!done[j] && cases[j].plan.out_w == cases[i].plan.out_w && cases[j].plan.out_h == cases[i].plan.out_h) {
                members.push_back(j);
                done[j] = true;
            }
        const int32_t ow = cases[i].plan.out_w, oh = cases[i].plan.out_h;
        fx_output out = make_out((int64_t)members.size(), ow, oh, FX_LAYOUT_NHWC, FX_DTYPE_UINT8, FX_ORDER_RGB);
        std::vector<fx_preprocess_job> jobs;
        for (size_t m = 0; m < members.size(); ++m) {
            fx_preprocess_job j{};
            j.image = golden_image(cases[members[m]]);
            j.plan = cases[members[m]].plan;
            j.index = (int64_t)m;
            jobs.push_back(j);
        }
        const size_t n = out_size(out);
        DeviceBuffer d(n);
        if (!d.ptr) return;
        out.data = d.ptr;
        const fx_status s = fx_cuda_preprocess_batch(p, jobs.data(), (int32_t)jobs.size(), &out, nullptr);
        CHECK(s == FX_OK, "golden batch: %s", fx_last_error());
        std::vector<uint8_t> got(n);
        if (!cuda_ok(cudaMemcpy(got.data(), d.ptr, n, cudaMemcpyDeviceToHost), "golden D2H")) return;
        const size_t per = (size_t)3 * ow * oh;
        for (size_t m = 0; m < members.size(); ++m) {
            const Golden &g = cases[members[m]];
            if (g.golden.shape[0] != oh || g.golden.shape[1] != ow || g.golden.shape[2] != 3) {
                CHECK(false, "%s: golden shape", g.name.c_str());
                continue;
            }
            const size_t df = first_diff(g.golden.data.data(), got.data() + m * per, per);
            CHECK(df == per, "%s: differs from Pillow at byte %zu (pixel %zu, channel %zu)", g.name.c_str(), df, df / 3,
                  df % 3);
            ++checked;
        }
    }
    std::printf("goldens: %d cases checked on the GPU\n", checked);
}

void test_validation(fx_cuda_preprocessor *p, int32_t devices) {
    fx_cuda_preprocessor *q = reinterpret_cast<fx_cuda_preprocessor *>(1);
    CHECK(fx_cuda_preprocessor_create(devices, &q) == FX_ERR_INVALID_ARGUMENT && q == nullptr);
    CHECK(fx_cuda_preprocessor_create(-1, &q) == FX_ERR_INVALID_ARGUMENT && q == nullptr);

    Rng rng(3);
    Batch b = random_batch(rng, 4, 80, 30, 20, 0);
    DeviceBuffer d(b.out_bytes);
    if (!d.ptr) return;
    cuda_ok(cudaMemset(d.ptr, kPoison, d.size), "cudaMemset");
    fx_output out = b.out;
    out.data = d.ptr;
    const int32_t n = (int32_t)b.jobs.size();
    auto untouched = [&]() {
        std::vector<uint8_t> h(d.size);
        cuda_ok(cudaDeviceSynchronize(), "sync");
        cuda_ok(cudaMemcpy(h.data(), d.ptr, d.size, cudaMemcpyDeviceToHost), "D2H");
        return all_bytes(h, kPoison);
    };

    CHECK(fx_cuda_preprocess_batch(nullptr, b.jobs.data(), n, &out, nullptr) == FX_ERR_INVALID_ARGUMENT);
    CHECK(fx_cuda_preprocess_batch(p, nullptr, n, &out, nullptr) == FX_ERR_INVALID_ARGUMENT);
    CHECK(fx_cuda_preprocess_batch(p, b.jobs.data(), -1, &out, nullptr) == FX_ERR_INVALID_ARGUMENT);
    CHECK(fx_cuda_preprocess_batch(p, b.jobs.data(), n, nullptr, nullptr) == FX_ERR_INVALID_ARGUMENT);
    CHECK(fx_cuda_preprocess_batch(p, b.jobs.data(), 0, &out, nullptr) == FX_OK);
    CHECK(fx_cuda_preprocess_batch(p, nullptr, 0, &out, nullptr) == FX_OK);

    std::vector<fx_preprocess_job> bad = b.jobs;
    bad[n - 1].image.data = nullptr;
    CHECK(fx_cuda_preprocess_batch(p, bad.data(), n, &out, nullptr) == FX_ERR_INVALID_ARGUMENT);
    CHECK(std::strstr(fx_last_error(), "jobs[") != nullptr, "message: %s", fx_last_error());
    bad = b.jobs;
    bad[0].plan.box_x1 = bad[0].plan.roi_w + 1.0;
    CHECK(fx_cuda_preprocess_batch(p, bad.data(), n, &out, nullptr) == FX_ERR_INVALID_ARGUMENT);
    bad = b.jobs;
    bad[1].index = out.batch;
    CHECK(fx_cuda_preprocess_batch(p, bad.data(), n, &out, nullptr) == FX_ERR_INVALID_ARGUMENT);
    bad = b.jobs;
    bad[2].plan.filter = 7;
    CHECK(fx_cuda_preprocess_batch(p, bad.data(), n, &out, nullptr) == FX_ERR_INVALID_ARGUMENT);
    bad = b.jobs;
    bad[0].image.channels = 2;
    CHECK(fx_cuda_preprocess_batch(p, bad.data(), n, &out, nullptr) == FX_ERR_INVALID_ARGUMENT);
    fx_output o2 = out;
    o2.layout = 5;
    CHECK(fx_cuda_preprocess_batch(p, b.jobs.data(), n, &o2, nullptr) == FX_ERR_INVALID_ARGUMENT);
    o2 = out;
    o2.dtype = FX_DTYPE_FLOAT32;
    o2.std[0] = 0.0f;
    CHECK(fx_cuda_preprocess_batch(p, b.jobs.data(), n, &o2, nullptr) == FX_ERR_INVALID_ARGUMENT);
    // host memory as the output: refused before any copy or launch
    std::vector<uint8_t> host(b.out_bytes, kPoison);
    o2 = out;
    o2.data = host.data();
    CHECK(fx_cuda_preprocess_batch(p, b.jobs.data(), n, &o2, nullptr) == FX_ERR_INVALID_ARGUMENT,
          "host output: %s", fx_last_error());
    CHECK(all_bytes(host, kPoison));
    CHECK(untouched(), "an invalid call wrote to the output");
    // the preprocessor still works after the refusals
    compare_batch(p, b, nullptr, "after validation", false);
}

} // namespace

int main(int argc, char **argv) {
    std::string golden_dir;
    bool quick = false;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--quick") == 0)
            quick = true;
        else
            golden_dir = argv[i];
    }
    CHECK(fx_cuda_compiled() == 1);
    CHECK(fx_cuda_device_count(nullptr) == FX_ERR_INVALID_ARGUMENT);
    CHECK(fx_cuda_preprocessor_create(0, nullptr) == FX_ERR_INVALID_ARGUMENT);
    fx_cuda_preprocessor_destroy(nullptr);
    fx_output dummy = make_out(1, 4, 4, FX_LAYOUT_NCHW, FX_DTYPE_UINT8, FX_ORDER_RGB);
    CHECK(fx_cuda_preprocess_batch(nullptr, nullptr, 0, &dummy, nullptr) == FX_ERR_INVALID_ARGUMENT);

    int32_t devices = -1;
    const fx_status ds = fx_cuda_device_count(&devices);
    if (ds != FX_OK) {
        const std::string reason = fx_last_error();
        CHECK(ds == FX_ERR_STATE, "fx_cuda_device_count without a device: %d", (int)ds);
        CHECK(devices == 0);
        CHECK(!reason.empty());
        fx_cuda_preprocessor *p = reinterpret_cast<fx_cuda_preprocessor *>(1);
        CHECK(fx_cuda_preprocessor_create(0, &p) == FX_ERR_STATE && p == nullptr);
        return test_skip(("no CUDA device (" + reason + ")").c_str());
    }
    CHECK(devices >= 1);
    cudaDeviceProp prop;
    if (cudaGetDeviceProperties(&prop, 0) == cudaSuccess)
        std::printf("device 0: %s, compute capability %d.%d, %d SMs\n", prop.name, prop.major, prop.minor,
                    prop.multiProcessorCount);

    fx_cuda_preprocessor *p = nullptr;
    CHECK(fx_cuda_preprocessor_create(0, &p) == FX_OK && p != nullptr, "create: %s", fx_last_error());
    if (p == nullptr) return test_summary();
    cudaStream_t stream = nullptr, nonblocking = nullptr;
    cuda_ok(cudaStreamCreate(&stream), "cudaStreamCreate");
    cuda_ok(cudaStreamCreateWithFlags(&nonblocking, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");

    test_validation(p, devices);
    test_stress(p, stream);
    if (quick) {
        test_random(p, stream, 1, 6);
        fx_cuda_preprocessor_destroy(p);
        cudaStreamDestroy(stream);
        cudaStreamDestroy(nonblocking);
        return test_summary();
    }
    test_random(p, stream, 1, 40);
    test_random(p, nonblocking, 2, 40);
    test_large(p, stream);
    test_random(p, stream, 3, 10); // smaller batches again after the large ones (buffers shrink nothing)
    if (!golden_dir.empty()) test_goldens(p, golden_dir);

    // a second preprocessor alongside the first
    fx_cuda_preprocessor *p2 = nullptr;
    CHECK(fx_cuda_preprocessor_create(0, &p2) == FX_OK && p2 != nullptr);
    if (p2) {
        test_random(p2, nonblocking, 4, 5);
        fx_cuda_preprocessor_destroy(p2);
    }
    fx_cuda_preprocessor_destroy(p);
    cudaStreamDestroy(stream);
    cudaStreamDestroy(nonblocking);
    CHECK(cudaGetLastError() == cudaSuccess);
    return test_summary();
}

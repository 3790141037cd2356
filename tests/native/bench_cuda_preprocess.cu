// Benchmark of fx_cuda_preprocess_batch (not a test; tests/device/run.sh runs it on the GPU machine).
//
// Workloads (timm EfficientNet eval: shorter side -> 256 bicubic, centre crop 224, NCHW, ImageNet mean/std):
//   variable: `count` RGB images of random sizes around 500x375 (a quarter portrait);
//   fixed:    `count` RGB images of exactly 500x375 (the best case for a batched torch call).
// For each workload, output dtype (float32, bfloat16) and kernel tuning (register caps 0 = default, 1 = relaxed):
//   e2e_ms     host images (pageable) -> device tensor: planning, staging copy, H2D, kernel, until the stream is idle;
//   return_ms  until fx_cuda_preprocess_batch returns (everything but the tail of the kernel);
//   kernel_ms  the kernel alone (fx_internal_cuda_relaunch of the same batch, cudaEvents, 10 launches per sample);
//   GB/s       (staged pixel bytes + descriptor/taps bytes + output bytes) / kernel time.
// Also: device-to-device cudaMemcpy bandwidth (bytes read + written) and pinned host-to-device bandwidth, and a
// byte-for-byte check of the variable-size batch against fx_preprocess_cpu_batch.
// Writes a JSON summary (--json) and, for the torch comparison of tests/device/torch_compare.py, the
// variable-size images and our float32 output (--dir).
//
//   bench_cuda_preprocess [--count 256] [--reps 15] [--json FILE] [--dir DIR]
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "cuda_internal.h"
#include "cuda_bench_common.h"
#include "fixres4j/kernels.h"

namespace {

using fxbench::copy_bandwidth;
using fxbench::median;

bool g_failed = false;

double now_ms() {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Rng {
    uint64_t s;
    explicit Rng(uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 1) {}
    uint64_t next() {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        return s;
    }
    int uniform(int lo, int hi) { return lo + (int)(next() % (uint64_t)(hi - lo + 1)); }
    double unit() { return (double)(next() >> 11) * (1.0 / 9007199254740992.0); }
};

struct Img {
    int w, h;
    std::vector<uint8_t> px; // HWC RGB
};

// Photo-like content (smooth structure plus noise): table lookups and caches behave as on real images.
Img make_image(Rng &rng, int w, int h) {
    Img im{w, h, std::vector<uint8_t>((size_t)w * h * 3)};
    std::vector<float> col((size_t)w * 3), row((size_t)h * 3);
    for (int c = 0; c < 3; ++c) {
        const double fx = 0.005 + 0.05 * rng.unit(), fy = 0.005 + 0.05 * rng.unit(), px = 6.3 * rng.unit(),
                     py = 6.3 * rng.unit();
        for (int x = 0; x < w; ++x) col[(size_t)x * 3 + c] = (float)(50.0 * std::sin(fx * x + px));
        for (int y = 0; y < h; ++y) row[(size_t)y * 3 + c] = (float)(128.0 + 60.0 * std::cos(fy * y + py));
    }
    uint8_t *p = im.px.data();
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
            for (int c = 0; c < 3; ++c) {
                const int noise = (int)(rng.next() & 15) - 8;
                const int v = (int)(row[(size_t)y * 3 + c] + col[(size_t)x * 3 + c]) + noise;
                *p++ = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
    return im;
}

// torchvision Resize(256) (shorter side, long side int(256 * long / short)) + CenterCrop(224), bicubic.
fx_resample_plan timm_plan(int w, int h) {
    fx_resample_plan p{};
    const int s = 256, crop = 224;
    int rw, rh;
    if (w <= h) {
        rw = s;
        rh = (int)((int64_t)s * h / w);
    } else {
        rh = s;
        rw = (int)((int64_t)s * w / h);
    }
    p.roi_x = 0, p.roi_y = 0, p.roi_w = w, p.roi_h = h;
    p.box_x0 = 0, p.box_y0 = 0, p.box_x1 = w, p.box_y1 = h;
    p.resize_w = rw, p.resize_h = rh;
    p.crop_x = (int)std::nearbyint((rw - crop) / 2.0); // round half to even, as Python's round
    p.crop_y = (int)std::nearbyint((rh - crop) / 2.0);
    p.out_w = crop, p.out_h = crop;
    p.filter = FX_FILTER_BICUBIC;
    p.flip_x = 0;
    return p;
}

fx_output make_out(void *data, int64_t batch, int32_t dtype) {
    fx_output o{};
    o.data = data;
    o.batch = batch;
    o.layout = FX_LAYOUT_NCHW;
    o.dtype = dtype;
    o.order = FX_ORDER_RGB;
    o.out_w = 224;
    o.out_h = 224;
    const float mean[3] = {0.485f, 0.456f, 0.406f}, stdv[3] = {0.229f, 0.224f, 0.225f};
    for (int c = 0; c < 3; ++c) o.mean[c] = mean[c], o.std[c] = stdv[c];
    return o;
}

struct Result {
    std::string workload, dtype;
    int tuning = 0;
    double e2e_ms = 0, return_ms = 0, kernel_ms = 0, kernel_spread = 0;
    fx_cuda_batch_stats st{};
    double gbps = 0;
};

double h2d_bandwidth() {
    const size_t bytes = (size_t)128 << 20;
    void *h = nullptr, *d = nullptr;
    CK(cudaMallocHost(&h, bytes));
    CK(cudaMalloc(&d, bytes));
    std::memset(h, 3, bytes);
    cudaEvent_t e0, e1;
    CK(cudaEventCreate(&e0));
    CK(cudaEventCreate(&e1));
    CK(cudaMemcpy(d, h, bytes, cudaMemcpyHostToDevice));
    std::vector<double> t;
    for (int i = 0; i < 5; ++i) {
        CK(cudaEventRecord(e0, nullptr));
        CK(cudaMemcpyAsync(d, h, bytes, cudaMemcpyHostToDevice, nullptr));
        CK(cudaEventRecord(e1, nullptr));
        CK(cudaEventSynchronize(e1));
        float ms = 0;
        CK(cudaEventElapsedTime(&ms, e0, e1));
        t.push_back(ms);
    }
    CK(cudaEventDestroy(e0));
    CK(cudaEventDestroy(e1));
    CK(cudaFreeHost(h));
    CK(cudaFree(d));
    return (double)bytes / (median(t) * 1e-3) / 1e9;
}

Result run_config(fx_cuda_preprocessor *p, const std::vector<fx_preprocess_job> &jobs, const char *workload,
                  int32_t dtype, int tuning, int reps, cudaStream_t stream, void *dout) {
    Result r;
    r.workload = workload;
    r.dtype = dtype == FX_DTYPE_FLOAT32 ? "float32" : "bfloat16";
    r.tuning = tuning;
    FX(fx_internal_cuda_set_tuning(p, tuning));
    const fx_output out = make_out(dout, (int64_t)jobs.size(), dtype);
    const int32_t n = (int32_t)jobs.size();
    for (int i = 0; i < 2; ++i) FX(fx_cuda_preprocess_batch(p, jobs.data(), n, &out, stream)); // warm-up
    CK(cudaStreamSynchronize(stream));
    std::vector<double> e2e, ret;
    for (int i = 0; i < reps; ++i) {
        const double t0 = now_ms();
        FX(fx_cuda_preprocess_batch(p, jobs.data(), n, &out, stream));
        const double t1 = now_ms();
        CK(cudaStreamSynchronize(stream));
        const double t2 = now_ms();
        ret.push_back(t1 - t0);
        e2e.push_back(t2 - t0);
    }
    r.e2e_ms = median(e2e);
    r.return_ms = median(ret);
    FX(fx_internal_cuda_last_stats(p, &r.st));
    cudaEvent_t e0, e1;
    CK(cudaEventCreate(&e0));
    CK(cudaEventCreate(&e1));
    const int per = 10;
    FX(fx_internal_cuda_relaunch(p, 3, stream)); // warm-up
    std::vector<double> k;
    for (int i = 0; i < reps; ++i) {
        CK(cudaEventRecord(e0, stream));
        FX(fx_internal_cuda_relaunch(p, per, stream));
        CK(cudaEventRecord(e1, stream));
        CK(cudaEventSynchronize(e1));
        float ms = 0;
        CK(cudaEventElapsedTime(&ms, e0, e1));
        k.push_back(ms / per);
    }
    CK(cudaEventDestroy(e0));
    CK(cudaEventDestroy(e1));
    r.kernel_ms = median(k);
    std::sort(k.begin(), k.end());
    r.kernel_spread = k.back() - k.front();
    const double bytes = (double)(r.st.staged_bytes + r.st.meta_bytes + r.st.out_bytes);
    r.gbps = bytes / (r.kernel_ms * 1e-3) / 1e9;
    std::printf("%-8s %-8s tuning %d: e2e %.3f ms (returns after %.3f ms), kernel %.4f ms (spread %.4f), %.1f GB/s, "
                "grid %d, smem %d B, K %d, max taps %d\n",
                workload, r.dtype.c_str(), tuning, r.e2e_ms, r.return_ms, r.kernel_ms, r.kernel_spread, r.gbps,
                r.st.grid, r.st.smem_bytes, r.st.variant, r.st.max_ksize);
    std::fflush(stdout);
    return r;
}

bool check_vs_cpu(fx_cuda_preprocessor *p, const std::vector<fx_preprocess_job> &jobs, int32_t dtype, void *dout,
                  cudaStream_t stream) {
    const int32_t n = (int32_t)jobs.size();
    const size_t bytes = (size_t)n * 3 * 224 * 224 * (dtype == FX_DTYPE_FLOAT32 ? 4 : 2);
    CK(cudaMemsetAsync(dout, 0xA5, bytes, stream));
    const fx_output out = make_out(dout, n, dtype);
    FX(fx_cuda_preprocess_batch(p, jobs.data(), n, &out, stream));
    std::vector<uint8_t> gpu(bytes), cpu(bytes, 0xA5);
    CK(cudaStreamSynchronize(stream));
    CK(cudaMemcpy(gpu.data(), dout, bytes, cudaMemcpyDeviceToHost));
    const fx_output cout = make_out(cpu.data(), n, dtype);
    const unsigned hc = std::thread::hardware_concurrency();
    FX(fx_preprocess_cpu_batch(jobs.data(), n, &cout, (int32_t)std::max(1u, std::min(hc, 16u))));
    return std::memcmp(gpu.data(), cpu.data(), bytes) == 0;
}

bool write_file(const std::string &path, const void *data, size_t n) {
    FILE *f = std::fopen(path.c_str(), "wb");
    if (!f) return false;
    const bool ok = std::fwrite(data, 1, n, f) == n;
    return std::fclose(f) == 0 && ok;
}

} // namespace

int main(int argc, char **argv) {
    int count = 256, reps = 15;
    std::string json, dir;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--count" && i + 1 < argc) count = std::atoi(argv[++i]);
        else if (a == "--reps" && i + 1 < argc) reps = std::atoi(argv[++i]);
        else if (a == "--json" && i + 1 < argc) json = argv[++i];
        else if (a == "--dir" && i + 1 < argc) dir = argv[++i];
        else {
            std::fprintf(stderr, "usage: %s [--count N] [--reps N] [--json FILE] [--dir DIR]\n", argv[0]);
            return 1;
        }
    }
    int32_t devices = 0;
    if (fx_cuda_device_count(&devices) != FX_OK) {
        std::printf("no CUDA device: %s\n", fx_last_error());
        return 4;
    }
    cudaDeviceProp prop;
    CK(cudaGetDeviceProperties(&prop, 0));
    std::printf("device: %s, %d SMs, %.0f MB L2\n", prop.name, prop.multiProcessorCount, prop.l2CacheSize / 1048576.0);

    double copy_ms = 0;
    const double copy_gbps = copy_bandwidth(&copy_ms);
    const double h2d_gbps = h2d_bandwidth();
    std::printf("device-to-device cudaMemcpy: %.1f GB/s (read + write); pinned host-to-device: %.1f GB/s\n", copy_gbps,
                h2d_gbps);

    // Images.
    Rng rng(20240601);
    std::vector<Img> var, fixed;
    for (int i = 0; i < count; ++i) {
        int w = rng.uniform(440, 560), h = rng.uniform(330, 420);
        if (rng.uniform(0, 3) == 0) std::swap(w, h);
        var.push_back(make_image(rng, w, h));
    }
    for (int i = 0; i < count; ++i) fixed.push_back(make_image(rng, 500, 375));
    auto jobs_of = [](const std::vector<Img> &imgs) {
        std::vector<fx_preprocess_job> jobs;
        for (size_t i = 0; i < imgs.size(); ++i) {
            fx_preprocess_job j{};
            j.image.data = imgs[i].px.data();
            j.image.width = imgs[i].w;
            j.image.height = imgs[i].h;
            j.image.channels = 3;
            j.image.order = FX_ORDER_RGB;
            j.image.row_stride = (int64_t)imgs[i].w * 3;
            j.plan = timm_plan(imgs[i].w, imgs[i].h);
            j.index = (int64_t)i;
            jobs.push_back(j);
        }
        return jobs;
    };
    const std::vector<fx_preprocess_job> jv = jobs_of(var), jf = jobs_of(fixed);
    size_t in_bytes = 0;
    for (const Img &im : var) in_bytes += im.px.size();
    std::printf("variable-size batch: %d images, %.1f MB of pixels\n", count, in_bytes / 1e6);

    fx_cuda_preprocessor *p = nullptr;
    FX(fx_cuda_preprocessor_create(0, &p));
    cudaStream_t stream;
    CK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    void *dout = nullptr;
    CK(cudaMalloc(&dout, (size_t)count * 3 * 224 * 224 * 4));

    const bool exact_f32 = check_vs_cpu(p, jv, FX_DTYPE_FLOAT32, dout, stream);
    if (!dir.empty()) { // our float32 output and the images, for torch_compare.py
        std::vector<uint8_t> h((size_t)count * 3 * 224 * 224 * 4);
        CK(cudaMemcpy(h.data(), dout, h.size(), cudaMemcpyDeviceToHost));
        std::string sizes = "[";
        std::vector<uint8_t> all;
        all.reserve(in_bytes);
        for (size_t i = 0; i < var.size(); ++i) {
            sizes += (i ? ", [" : "[") + std::to_string(var[i].w) + ", " + std::to_string(var[i].h) + "]";
            all.insert(all.end(), var[i].px.begin(), var[i].px.end());
        }
        sizes += "]";
        if (!write_file(dir + "/ours_f32.bin", h.data(), h.size()) ||
            !write_file(dir + "/images.bin", all.data(), all.size()) ||
            !write_file(dir + "/sizes.json", sizes.data(), sizes.size()))
            std::fprintf(stderr, "warning: could not write to %s\n", dir.c_str());
    }
    const bool exact_bf16 = check_vs_cpu(p, jv, FX_DTYPE_BFLOAT16, dout, stream);
    std::printf("variable-size batch equals fx_preprocess_cpu_batch byte for byte: float32 %s, bfloat16 %s\n",
                exact_f32 ? "yes" : "NO", exact_bf16 ? "yes" : "NO");
    if (!exact_f32 || !exact_bf16) g_failed = true;

    std::vector<Result> results;
    for (int tuning = 0; tuning < 2; ++tuning)
        for (int32_t dt : {FX_DTYPE_FLOAT32, FX_DTYPE_BFLOAT16}) {
            results.push_back(run_config(p, jv, "variable", dt, tuning, reps, stream, dout));
            results.push_back(run_config(p, jf, "fixed", dt, tuning, reps, stream, dout));
        }
    FX(fx_internal_cuda_set_tuning(p, 0));

    if (!json.empty()) {
        FILE *f = std::fopen(json.c_str(), "w");
        if (!f) {
            std::fprintf(stderr, "cannot write %s\n", json.c_str());
            return 5;
        }
        std::fprintf(f, "{\"device\": \"%s\", \"sms\": %d, \"count\": %d, \"copy_gbps\": %.3f, \"copy_ms\": %.4f, "
                        "\"h2d_gbps\": %.3f, \"exact_f32\": %s, \"exact_bf16\": %s, \"input_mb\": %.3f, \"results\": [\n",
                     prop.name, prop.multiProcessorCount, count, copy_gbps, copy_ms, h2d_gbps,
                     exact_f32 ? "true" : "false", exact_bf16 ? "true" : "false", in_bytes / 1e6);
        for (size_t i = 0; i < results.size(); ++i) {
            const Result &r = results[i];
            std::fprintf(f,
                         "  {\"workload\": \"%s\", \"dtype\": \"%s\", \"tuning\": %d, \"e2e_ms\": %.4f, \"return_ms\": "
                         "%.4f, \"kernel_ms\": %.5f, \"kernel_spread_ms\": %.5f, \"gbps\": %.3f, \"staged_bytes\": %lld, "
                         "\"meta_bytes\": %lld, \"out_bytes\": %lld, \"upload_bytes\": %lld, \"grid\": %d, \"smem\": %d, "
                         "\"variant\": %d, \"max_ksize\": %d}%s\n",
                         r.workload.c_str(), r.dtype.c_str(), r.tuning, r.e2e_ms, r.return_ms, r.kernel_ms,
                         r.kernel_spread, r.gbps, (long long)r.st.staged_bytes, (long long)r.st.meta_bytes,
                         (long long)r.st.out_bytes, (long long)r.st.upload_bytes, r.st.grid, r.st.smem_bytes,
                         r.st.variant, r.st.max_ksize, i + 1 < results.size() ? "," : "");
        }
        std::fprintf(f, "]}\n");
        std::fclose(f);
    }
    fx_cuda_preprocessor_destroy(p);
    CK(cudaFree(dout));
    CK(cudaStreamDestroy(stream));
    return g_failed ? 6 : 0;
}

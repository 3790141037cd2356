// Benchmark of the CUDA depthwise kernels (not a test: tests/device/run.sh runs it on the GPU machine,
// tests/device/depthwise_compare.py times PyTorch on the same shapes and prints the table).
//
// Workload: every distinct depthwise layer shape of EfficientNet B0..B7 at its native resolution
// (tests/native/depthwise_ref.h: fxdw::efficientnet_layers, TF 'same' padding), NHWC, bfloat16 (plus B0 in
// float32), at a batch per model (256 for B0-B1, 128 for B2-B3, 64 for B4-B7; halved while the three big buffers
// would exceed --max-gb or 70 % of the free device memory). "count" is how often the shape occurs in the network.
// Per layer, each timed with cudaEvents (median of --reps samples after warm-up; a sample is `per` back-to-back
// calls, per chosen so that a sample lasts >= ~0.3 ms, divided by per):
//   fwd  fx_depthwise_forward_cuda with bias, FX_ACT_SILU and se_sums (the fused inference form: BatchNorm folded
//        into w and b, SiLU, the spatial sums of the squeeze-excitation; includes the se_sums memset);
//   dw   fx_depthwise_backward_cuda with only dw and db wanted (the weight gradient; dw kernel + finish kernel);
//   dx   fx_depthwise_backward_cuda with only dx wanted.
// Bytes moved (compulsory traffic): fwd x + y + w + b + se_sums; dw x + dy + dw + db; dx dy + dx + w (the dw
// workspace's partial sums are not counted). GB/s = bytes / time. Also the device-to-device copy bandwidth
// (cudaMemcpyAsync of a large buffer, bytes read + written / time), the yardstick of "% of copy".
// With --dir, a few small layers (batch 2, bfloat16 and float32) are run once and their inputs and outputs written
// as raw little-endian files (NHWC; w [c,1,k,k]; se_sums float32 [n,c]) for the float64 recomputation of
// depthwise_compare.py.
//
//   bench_depthwise_cuda [--json FILE] [--dir DIR] [--reps N] [--quick] [--models 0,1,..] [--batch N]
//                        [--no-f32] [--max-gb G] [--list]
// (--list prints the layer shapes and batches and exits; it needs no GPU.)
//
// Exit status: 0; 2 CUDA error; 3 a call of the library failed (the JSON is still written, with the error);
// 4 no usable CUDA device; 1 usage; 5 cannot write the output.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "depthwise_ref.h"
#include "cuda_bench_common.h"
#include "fixres4j/kernels.h"

namespace {

using fxbench::copy_bandwidth;
using fxbench::median;

const char *dtype_name(int32_t dt) { return dt == FX_DTYPE_FLOAT32 ? "float32" : dt == FX_DTYPE_FLOAT16 ? "float16" : "bfloat16"; }
int dtype_size(int32_t dt) { return dt == FX_DTYPE_FLOAT32 ? 4 : 2; }

// Random-ish values in [lo, hi) from a hash of the index (deterministic, no state), stored as dtype.
__device__ __forceinline__ uint64_t mix64(uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}
__global__ void fill_kernel(void *p, int64_t n, int32_t dtype, uint64_t seed, float lo, float hi) {
    const int64_t step = (int64_t)gridDim.x * blockDim.x;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += step) {
        const uint64_t h = mix64((uint64_t)i * 0x9E3779B97F4A7C15ull + seed);
        const float v = lo + (hi - lo) * (float)(h >> 40) * (1.0f / 16777216.0f);
        if (dtype == FX_DTYPE_FLOAT32) static_cast<float *>(p)[i] = v;
        else if (dtype == FX_DTYPE_BFLOAT16) static_cast<__nv_bfloat16 *>(p)[i] = __float2bfloat16_rn(v);
        else static_cast<__half *>(p)[i] = __float2half_rn(v);
    }
}
void fill(void *p, int64_t n, int32_t dtype, uint64_t seed, float lo, float hi, cudaStream_t st) {
    const int64_t blocks = std::min<int64_t>((n + 255) / 256, 4096);
    fill_kernel<<<(unsigned)std::max<int64_t>(blocks, 1), 256, 0, st>>>(p, n, dtype, seed, lo, hi);
    CK(cudaGetLastError());
}

// One timed operation: returns the median ms per call, or -1 when a call failed (message in *err).
struct Timing {
    double ms = -1, spread = 0;
    int per = 0;
    std::string err;
};
Timing time_op(const std::function<fx_status()> &op, int reps, cudaStream_t st) {
    Timing t;
    auto call = [&]() -> bool {
        const fx_status s = op();
        if (s != FX_OK) {
            t.err = std::string("status ") + std::to_string((int)s) + ": " + fx_last_error();
            return false;
        }
        return true;
    };
    for (int i = 0; i < 2; ++i)
        if (!call()) return t;
    cudaEvent_t e0, e1;
    CK(cudaEventCreate(&e0));
    CK(cudaEventCreate(&e1));
    auto fail = [&]() {
        CK(cudaStreamSynchronize(st));
        CK(cudaEventDestroy(e0));
        CK(cudaEventDestroy(e1));
        t.ms = -1;
        return t;
    };
    CK(cudaEventRecord(e0, st));
    if (!call()) return fail();
    CK(cudaEventRecord(e1, st));
    CK(cudaEventSynchronize(e1));
    float first = 0;
    CK(cudaEventElapsedTime(&first, e0, e1));
    t.per = (int)std::min(50.0, std::max(1.0, std::ceil(0.3 / std::max(1e-4, (double)first))));
    std::vector<double> v;
    for (int r = 0; r < reps; ++r) {
        CK(cudaEventRecord(e0, st));
        for (int i = 0; i < t.per; ++i)
            if (!call()) return fail();
        CK(cudaEventRecord(e1, st));
        CK(cudaEventSynchronize(e1));
        float ms = 0;
        CK(cudaEventElapsedTime(&ms, e0, e1));
        v.push_back(ms / t.per);
    }
    CK(cudaEventDestroy(e0));
    CK(cudaEventDestroy(e1));
    std::sort(v.begin(), v.end());
    t.ms = median(v);
    t.spread = v.back() - v.front();
    return t;
}

struct Cfg {
    int variant;
    int32_t dtype;
    int count; // occurrences of the shape in the network
    fxdw::Layer l;
    fx_depthwise_shape s;
};

struct Row {
    Cfg cfg;
    Timing fwd, dw, dx;
    double fwd_bytes = 0, dw_bytes = 0, dx_bytes = 0;
};

struct Bytes {
    int64_t x, y, w, b, nc;
};
Bytes sizes_of(const fx_depthwise_shape &s, int32_t dt) {
    const int64_t es = dtype_size(dt);
    return Bytes{s.n * s.c * s.h * s.w * es, s.n * s.c * s.out_h * s.out_w * es, s.c * s.k * s.k * es, s.c * es,
                 s.n * s.c * 4};
}

std::string json_escape(const std::string &in) {
    std::string o;
    for (char ch : in) {
        if (ch == '"' || ch == '\\') o += '\\', o += ch;
        else if ((unsigned char)ch < 0x20) o += ' ';
        else o += ch;
    }
    return o;
}

double gbps(double bytes, double ms) { return ms > 0 ? bytes / (ms * 1e-3) / 1e9 : 0.0; }

struct Spot {
    std::string name;
    int32_t dtype;
    fx_depthwise_shape s;
};

bool write_json(const std::string &path, const cudaDeviceProp &prop, double copy_gbps, double copy_ms, int reps,
                bool quick, bool complete, const std::vector<Row> &rows, const std::vector<Spot> &spots) {
    const std::string tmp = path + ".tmp";
    FILE *f = std::fopen(tmp.c_str(), "w");
    if (!f) return false;
    std::fprintf(f,
                 "{\"device\": \"%s\", \"sms\": %d, \"l2_mb\": %.1f, \"mem_gb\": %.1f, \"copy_gbps\": %.3f, "
                 "\"copy_ms\": %.4f, \"reps\": %d, \"quick\": %s, \"complete\": %s, \"layout\": \"NHWC\",\n \"layers\": [\n",
                 json_escape(prop.name).c_str(), prop.multiProcessorCount, prop.l2CacheSize / 1048576.0,
                 prop.totalGlobalMem / 1e9, copy_gbps, copy_ms, reps, quick ? "true" : "false",
                 complete ? "true" : "false");
    for (size_t i = 0; i < rows.size(); ++i) {
        const Row &r = rows[i];
        const fx_depthwise_shape &s = r.cfg.s;
        std::string err;
        for (const Timing *t : {&r.fwd, &r.dw, &r.dx})
            if (!t->err.empty()) err += (err.empty() ? "" : "; ") + t->err;
        std::fprintf(f,
                     "  {\"model\": \"B%d\", \"variant\": %d, \"dtype\": \"%s\", \"batch\": %lld, \"c\": %lld, \"h\": %lld, "
                     "\"w\": %lld, \"k\": %d, \"stride\": %d, \"pad\": [%d, %d, %d, %d], \"out_h\": %d, \"out_w\": %d, "
                     "\"count\": %d, \"fwd_ms\": %.6f, \"dw_ms\": %.6f, \"dx_ms\": %.6f, \"fwd_spread_ms\": %.6f, "
                     "\"dw_spread_ms\": %.6f, \"dx_spread_ms\": %.6f, \"fwd_bytes\": %.0f, \"dw_bytes\": %.0f, "
                     "\"dx_bytes\": %.0f, \"fwd_gbps\": %.3f, \"dw_gbps\": %.3f, \"dx_gbps\": %.3f, \"per\": [%d, %d, %d], "
                     "\"error\": \"%s\"}%s\n",
                     r.cfg.variant, r.cfg.variant, dtype_name(r.cfg.dtype), (long long)s.n, (long long)s.c,
                     (long long)s.h, (long long)s.w, s.k, s.stride, s.pad_top, s.pad_left, s.pad_bottom, s.pad_right,
                     s.out_h, s.out_w, r.cfg.count, r.fwd.ms, r.dw.ms, r.dx.ms, r.fwd.spread, r.dw.spread, r.dx.spread,
                     r.fwd_bytes, r.dw_bytes, r.dx_bytes, gbps(r.fwd_bytes, r.fwd.ms), gbps(r.dw_bytes, r.dw.ms),
                     gbps(r.dx_bytes, r.dx.ms), r.fwd.per, r.dw.per, r.dx.per, json_escape(err).c_str(),
                     i + 1 < rows.size() ? "," : "");
    }
    std::fprintf(f, " ],\n \"spot\": [\n");
    for (size_t i = 0; i < spots.size(); ++i) {
        const Spot &p = spots[i];
        const fx_depthwise_shape &s = p.s;
        std::fprintf(f,
                     "  {\"name\": \"%s\", \"dtype\": \"%s\", \"n\": %lld, \"c\": %lld, \"h\": %lld, \"w\": %lld, \"k\": %d, "
                     "\"stride\": %d, \"pad\": [%d, %d, %d, %d], \"out_h\": %d, \"out_w\": %d, \"act\": \"silu\"}%s\n",
                     p.name.c_str(), dtype_name(p.dtype), (long long)s.n, (long long)s.c, (long long)s.h,
                     (long long)s.w, s.k, s.stride, s.pad_top, s.pad_left, s.pad_bottom, s.pad_right, s.out_h, s.out_w,
                     i + 1 < spots.size() ? "," : "");
    }
    std::fprintf(f, " ]\n}\n");
    if (std::fclose(f) != 0) return false;
    return std::rename(tmp.c_str(), path.c_str()) == 0;
}

bool write_device(const std::string &path, const void *dev, size_t bytes) {
    std::vector<uint8_t> h(bytes);
    CK(cudaMemcpy(h.data(), dev, bytes, cudaMemcpyDeviceToHost));
    FILE *f = std::fopen(path.c_str(), "wb");
    if (!f) return false;
    const bool ok = std::fwrite(h.data(), 1, bytes, f) == bytes;
    return std::fclose(f) == 0 && ok;
}

// One small layer, run once (forward fused, backward with dx, dw and db); inputs and outputs to dir/name_*.bin.
bool run_spot(const Spot &p, const std::string &dir, cudaStream_t st) {
    const fx_depthwise_shape &s = p.s;
    const Bytes b = sizes_of(s, p.dtype);
    int64_t ws = 0;
    FX(fx_depthwise_backward_cuda_workspace(&s, p.dtype, &ws));
    void *x, *w, *bias, *y, *se, *dy, *dx, *dw, *db, *work;
    CK(cudaMalloc(&x, (size_t)b.x));
    CK(cudaMalloc(&w, (size_t)b.w));
    CK(cudaMalloc(&bias, (size_t)b.b));
    CK(cudaMalloc(&y, (size_t)b.y));
    CK(cudaMalloc(&se, (size_t)b.nc));
    CK(cudaMalloc(&dy, (size_t)b.y));
    CK(cudaMalloc(&dx, (size_t)b.x));
    CK(cudaMalloc(&dw, (size_t)b.w));
    CK(cudaMalloc(&db, (size_t)b.b));
    CK(cudaMalloc(&work, (size_t)std::max<int64_t>(ws, 16)));
    const int64_t es = dtype_size(p.dtype);
    fill(x, b.x / es, p.dtype, 11, -2.0f, 2.0f, st);
    fill(w, b.w / es, p.dtype, 12, -0.6f, 0.6f, st);
    fill(bias, b.b / es, p.dtype, 13, -0.5f, 0.5f, st);
    fill(dy, b.y / es, p.dtype, 14, -1.0f, 1.0f, st);
    FX(fx_depthwise_forward_cuda(&s, p.dtype, x, w, bias, FX_ACT_SILU, y, static_cast<float *>(se), st));
    FX(fx_depthwise_backward_cuda(&s, p.dtype, x, w, dy, dx, dw, db, work, ws, st));
    CK(cudaStreamSynchronize(st));
    const std::string pre = dir + "/" + p.name + "_";
    bool ok = write_device(pre + "x.bin", x, (size_t)b.x) && write_device(pre + "w.bin", w, (size_t)b.w) &&
              write_device(pre + "b.bin", bias, (size_t)b.b) && write_device(pre + "y.bin", y, (size_t)b.y) &&
              write_device(pre + "se.bin", se, (size_t)b.nc) && write_device(pre + "dy.bin", dy, (size_t)b.y) &&
              write_device(pre + "dx.bin", dx, (size_t)b.x) && write_device(pre + "dw.bin", dw, (size_t)b.w) &&
              write_device(pre + "db.bin", db, (size_t)b.b);
    for (void *q : {x, w, bias, y, se, dy, dx, dw, db, work}) CK(cudaFree(q));
    return ok;
}

} // namespace

int main(int argc, char **argv) {
    int reps = 20;
    bool quick = false, f32 = true, list = false;
    int64_t batch_override = 0;
    double max_gb = 60.0;
    std::string json, dir, models_arg;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--json" && i + 1 < argc) json = argv[++i];
        else if (a == "--dir" && i + 1 < argc) dir = argv[++i];
        else if (a == "--reps" && i + 1 < argc) reps = std::max(1, std::atoi(argv[++i]));
        else if (a == "--models" && i + 1 < argc) models_arg = argv[++i];
        else if (a == "--batch" && i + 1 < argc) batch_override = std::atoll(argv[++i]);
        else if (a == "--max-gb" && i + 1 < argc) max_gb = std::atof(argv[++i]);
        else if (a == "--quick") quick = true;
        else if (a == "--no-f32") f32 = false;
        else if (a == "--list") list = true;
        else {
            std::fprintf(stderr,
                         "usage: %s [--json FILE] [--dir DIR] [--reps N] [--quick] [--models 0,1,..] [--batch N] "
                         "[--no-f32] [--max-gb G] [--list]\n",
                         argv[0]);
            return 1;
        }
    }
    std::vector<int> models;
    if (!models_arg.empty()) {
        for (const char *q = models_arg.c_str(); *q;) {
            char *end = nullptr;
            const long v = std::strtol(q, &end, 10);
            if (end == q || v < 0 || v > 7) {
                std::fprintf(stderr, "--models: a comma-separated list of 0..7 (got %s)\n", models_arg.c_str());
                return 1;
            }
            models.push_back((int)v);
            q = *end == ',' ? end + 1 : end;
        }
    } else if (quick) {
        models = {0, 4};
    } else {
        models = {0, 1, 2, 3, 4, 5, 6, 7};
    }
    if (quick) reps = std::min(reps, 3);

    // Layers: distinct shapes per model, in network order, with their counts; batch per model, halved while x, dy
    // (<= x) and dx together would exceed --max-gb or 70 % of the free device memory (known once the device is).
    double free_cap = 1e300;
    std::vector<Cfg> cfgs;
    static const int64_t default_batch[8] = {256, 256, 128, 128, 64, 64, 64, 64};
    auto add_model = [&](int v, int32_t dt) {
        const double cap = std::min(max_gb * 1e9, free_cap);
        std::vector<Cfg> mine;
        for (const fxdw::Layer &l : fxdw::efficientnet_layers(v)) {
            bool seen = false;
            for (Cfg &c : mine)
                if (c.l.c == l.c && c.l.h == l.h && c.l.w == l.w && c.l.k == l.k && c.l.stride == l.stride) {
                    ++c.count;
                    seen = true;
                }
            if (seen) continue;
            int64_t n = batch_override > 0 ? batch_override : quick ? 32 : default_batch[v];
            auto need = [&](int64_t nn) {
                return 3.0 * (double)(nn * l.c * l.h * l.w * dtype_size(dt));
            };
            while (n > 1 && need(n) > cap) n /= 2;
            Cfg c{v, dt, 1, l, fxdw::make_shape(n, l.c, l.h, l.w, l.k, l.stride, true, FX_LAYOUT_NHWC)};
            if (c.s.out_h <= 0) {
                std::fprintf(stderr, "bad shape for B%d: %s (%s)\n", v, fxdw::shape_str(c.s).c_str(), fx_last_error());
                std::exit(3);
            }
            mine.push_back(c);
        }
        if (quick && mine.size() > 4) mine.resize(4);
        cfgs.insert(cfgs.end(), mine.begin(), mine.end());
    };
    for (int v : models) add_model(v, FX_DTYPE_BFLOAT16);
    if (f32 && std::find(models.begin(), models.end(), 0) != models.end() && !quick) add_model(0, FX_DTYPE_FLOAT32);

    if (list) { // the shapes and batches (no GPU needed; the free-memory cap is not applied)
        double total = 0;
        for (const Cfg &c : cfgs) {
            const Bytes b = sizes_of(c.s, c.dtype);
            total += (double)(b.x + b.y);
            std::printf("B%d %-8s x%d %s  x+y %.1f MB\n", c.variant, dtype_name(c.dtype), c.count,
                        fxdw::shape_str(c.s).c_str(), (b.x + b.y) / 1e6);
        }
        std::printf("%zu layer shapes, x + y of all: %.2f GB\n", cfgs.size(), total / 1e9);
        return 0;
    }
    int32_t devices = 0;
    const fx_status ds = fx_cuda_device_count(&devices);
    if (ds != FX_OK || devices < 1) {
        std::fprintf(stderr, "bench_depthwise_cuda: this benchmark needs a GPU: %s\n",
                     ds != FX_OK ? fx_last_error() : "fx_cuda_device_count found 0 devices");
        return 4;
    }
    CK(cudaSetDevice(0));
    cudaDeviceProp prop;
    CK(cudaGetDeviceProperties(&prop, 0));
    std::printf("device: %s, %d SMs, %.0f MB L2, %.1f GB\n", prop.name, prop.multiProcessorCount,
                prop.l2CacheSize / 1048576.0, prop.totalGlobalMem / 1e9);
    double copy_ms = 0;
    const double copy_gbps = copy_bandwidth(&copy_ms);
    std::printf("device-to-device cudaMemcpy: %.1f GB/s (read + write, %.3f ms per copy)\n", copy_gbps, copy_ms);

    size_t free_b = 0, total_b = 0;
    CK(cudaMemGetInfo(&free_b, &total_b));
    free_cap = 0.7 * (double)free_b;
    cfgs.clear(); // again, with the free-memory cap
    for (int v : models) add_model(v, FX_DTYPE_BFLOAT16);
    if (f32 && std::find(models.begin(), models.end(), 0) != models.end() && !quick) add_model(0, FX_DTYPE_FLOAT32);
    // One set of buffers, sized for the largest layer, reused by every layer (filled per layer and dtype).
    int64_t mx = 0, my = 0, mw = 0, mb = 0, mnc = 0, mws = 0;
    for (const Cfg &c : cfgs) {
        const Bytes b = sizes_of(c.s, c.dtype);
        int64_t ws = 0;
        FX(fx_depthwise_backward_cuda_workspace(&c.s, c.dtype, &ws));
        mx = std::max(mx, b.x), my = std::max(my, b.y), mw = std::max(mw, b.w), mb = std::max(mb, b.b);
        mnc = std::max(mnc, b.nc), mws = std::max(mws, ws);
    }
    std::printf("%zu layer shapes; buffers: x %.2f GB, y/dy %.2f GB, dx %.2f GB, workspace %.1f MB; %d reps\n",
                cfgs.size(), mx / 1e9, my / 1e9, mx / 1e9, mws / 1e6, reps);
    std::fflush(stdout);
    void *X, *Y, *DX, *W, *B, *DW, *DB, *WS;
    float *SE;
    CK(cudaMalloc(&X, (size_t)mx));
    CK(cudaMalloc(&Y, (size_t)my));
    CK(cudaMalloc(&DX, (size_t)mx));
    CK(cudaMalloc(&W, (size_t)mw));
    CK(cudaMalloc(&B, (size_t)mb));
    CK(cudaMalloc(&DW, (size_t)mw));
    CK(cudaMalloc(&DB, (size_t)mb));
    CK(cudaMalloc(&WS, (size_t)std::max<int64_t>(mws, 16)));
    CK(cudaMalloc(&SE, (size_t)mnc));
    cudaStream_t st;
    CK(cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking));

    // Spot-check layers first (small, quick), so that a later time-out still leaves them.
    std::vector<Spot> spots;
    if (!dir.empty()) {
        const std::vector<fxdw::Layer> b0 = fxdw::efficientnet_layers(0), b2 = fxdw::efficientnet_layers(2);
        std::vector<fxdw::Layer> picks;
        picks.push_back(b0[0]); // k3 s1, 112x112
        for (const fxdw::Layer &l : b0)
            if (l.k == 3 && l.stride == 2) { picks.push_back(l); break; } // asymmetric TF padding (0, 1)
        for (const fxdw::Layer &l : b0)
            if (l.k == 5 && l.stride == 2) { picks.push_back(l); break; } // asymmetric (1, 2)
        for (const fxdw::Layer &l : b2)
            if (l.k == 5 && l.stride == 2 && (l.h % 2) == 1) { picks.push_back(l); break; } // odd size, symmetric
        int i = 0;
        for (const fxdw::Layer &l : picks) {
            for (int32_t dt : {FX_DTYPE_BFLOAT16, FX_DTYPE_FLOAT32}) {
                Spot p{"spot" + std::to_string(i) + "_" + (dt == FX_DTYPE_FLOAT32 ? "f32" : "bf16"), dt,
                       fxdw::make_shape(2, l.c, l.h, l.w, l.k, l.stride, true, FX_LAYOUT_NHWC)};
                if (!run_spot(p, dir, st)) {
                    std::fprintf(stderr, "cannot write the spot-check files to %s\n", dir.c_str());
                    return 5;
                }
                std::printf("spot check %s: %s\n", p.name.c_str(), fxdw::shape_str(p.s).c_str());
                spots.push_back(p);
            }
            ++i;
        }
    }

    std::vector<Row> rows;
    bool failed = false;
    for (size_t i = 0; i < cfgs.size(); ++i) {
        const Cfg &c = cfgs[i];
        const fx_depthwise_shape &s = c.s;
        const Bytes b = sizes_of(s, c.dtype);
        const int64_t es = dtype_size(c.dtype);
        fill(X, b.x / es, c.dtype, 8 * i + 1, -2.0f, 2.0f, st);
        fill(Y, b.y / es, c.dtype, 8 * i + 2, -1.0f, 1.0f, st); // dy for the backward
        fill(W, b.w / es, c.dtype, 8 * i + 3, -0.6f, 0.6f, st);
        fill(B, b.b / es, c.dtype, 8 * i + 4, -0.5f, 0.5f, st);
        int64_t ws = 0;
        FX(fx_depthwise_backward_cuda_workspace(&s, c.dtype, &ws));
        Row r;
        r.cfg = c;
        // The forward writes y into DX's memory (Y holds dy and stays untouched).
        r.fwd = time_op([&] { return fx_depthwise_forward_cuda(&s, c.dtype, X, W, B, FX_ACT_SILU, DX, SE, st); }, reps, st);
        r.dw = time_op([&] { return fx_depthwise_backward_cuda(&s, c.dtype, X, W, Y, nullptr, DW, DB, WS, ws, st); }, reps, st);
        r.dx = time_op([&] { return fx_depthwise_backward_cuda(&s, c.dtype, X, W, Y, DX, nullptr, nullptr, WS, ws, st); }, reps, st);
        CK(cudaStreamSynchronize(st));
        CK(cudaGetLastError());
        r.fwd_bytes = (double)(b.x + b.y + b.w + b.b + b.nc);
        r.dw_bytes = (double)(b.x + b.y + b.w + b.b);
        r.dx_bytes = (double)(b.y + b.x + b.w);
        for (const Timing *t : {&r.fwd, &r.dw, &r.dx})
            if (!t->err.empty()) {
                failed = true;
                std::fprintf(stderr, "B%d %s: %s\n", c.variant, fxdw::shape_str(s).c_str(), t->err.c_str());
            }
        std::printf("B%d %-8s x%d %-44s fwd %8.4f ms %5.0f GB/s %3.0f%% | dw %8.4f ms %5.0f GB/s | dx %8.4f ms %5.0f GB/s\n",
                    c.variant, dtype_name(c.dtype), c.count, fxdw::shape_str(s).c_str(), r.fwd.ms,
                    gbps(r.fwd_bytes, r.fwd.ms), 100.0 * gbps(r.fwd_bytes, r.fwd.ms) / copy_gbps, r.dw.ms,
                    gbps(r.dw_bytes, r.dw.ms), r.dx.ms, gbps(r.dx_bytes, r.dx.ms));
        std::fflush(stdout);
        rows.push_back(r);
        // Rewritten after every layer: a time-out leaves the layers done so far.
        if (!json.empty() && !write_json(json, prop, copy_gbps, copy_ms, reps, quick, i + 1 == cfgs.size(), rows, spots)) {
            std::fprintf(stderr, "cannot write %s\n", json.c_str());
            return 5;
        }
    }
    if (!json.empty() && cfgs.empty() &&
        !write_json(json, prop, copy_gbps, copy_ms, reps, quick, true, rows, spots)) {
        std::fprintf(stderr, "cannot write %s\n", json.c_str());
        return 5;
    }
    for (void *q : {X, Y, DX, W, B, DW, DB, WS}) CK(cudaFree(q));
    CK(cudaFree(SE));
    CK(cudaStreamDestroy(st));
    std::printf("%zu layers timed%s\n", rows.size(), failed ? ", SOME CALLS FAILED" : "");
    return failed ? 3 : 0;
}

// Micro-benchmark of fx_depthwise_forward_cpu / fx_depthwise_backward_cpu over every depthwise layer of
// EfficientNet-B0 (TF 'same' padding), at a batch size (default 8), for 1 and 2 threads, NHWC and NCHW, ISA AUTO.
// Each layer: best of `iters` runs of the fused forward (folded-BN bias + SiLU + SE sums), of the plain forward
// (no bias, no act: the training path) and of the backward (dx + dw + db). GB/s counts the bytes the pass must move
// (forward: x read + y written; backward: x + dy read, dx written) against the machine's copy bandwidth, measured
// the same way (memcpy of a 256 MiB buffer: bytes read + bytes written per second).
//
//   bench_depthwise_cpu [--batch N] [--threads 1,2] [--iters N] [--layout nhwc|nchw|both] [--layer N] [--json]
//                       [--no-backward]
#include "depthwise_ref.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using namespace fxdw;

namespace {

double now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

template <class F>
double best_of(int iters, F &&f) {
    f(); // warm-up
    double best = 1e30;
    for (int i = 0; i < iters; ++i) {
        const double t0 = now();
        f();
        best = std::min(best, now() - t0);
    }
    return best;
}

double copy_bandwidth() {
    const size_t n = (size_t)256 << 20;
    std::vector<char> a(n, 1), b(n, 2);
    const double t = best_of(5, [&]() { std::memcpy(b.data(), a.data(), n); });
    return 2.0 * (double)n / t / 1e9;
}

} // namespace

int main(int argc, char **argv) {
    int64_t batch = 8;
    int iters = 10;
    std::vector<int> threads{1, 2};
    bool json = false, backward = true;
    int only = -1; // --layer N: that layer only
    std::vector<int32_t> layouts{FX_LAYOUT_NHWC, FX_LAYOUT_NCHW};
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--batch" && i + 1 < argc) batch = std::atoll(argv[++i]);
        else if (a == "--iters" && i + 1 < argc) iters = std::atoi(argv[++i]);
        else if (a == "--threads" && i + 1 < argc) {
            threads.clear();
            for (char *p = argv[++i]; *p;) {
                threads.push_back((int)std::strtol(p, &p, 10));
                if (*p == ',') ++p;
            }
        } else if (a == "--layout" && i + 1 < argc) {
            const std::string l = argv[++i];
            layouts.clear();
            if (l != "nchw") layouts.push_back(FX_LAYOUT_NHWC);
            if (l != "nhwc") layouts.push_back(FX_LAYOUT_NCHW);
        } else if (a == "--layer" && i + 1 < argc) only = std::atoi(argv[++i]);
        else if (a == "--json") json = true;
        else if (a == "--no-backward") backward = false;
        else {
            std::fprintf(stderr, "usage: %s [--batch N] [--threads 1,2] [--iters N] [--layout nhwc|nchw|both] [--layer N] [--json] [--no-backward]\n",
                         argv[0]);
            return 2;
        }
    }
    const double bw = copy_bandwidth();
    if (json)
        std::printf("{\"copy_gbps\": %.2f, \"batch\": %lld, \"isa\": %d, \"results\": [\n", bw, (long long)batch, fx_cpu_isa());
    else
        std::printf("copy bandwidth %.1f GB/s (read + write), batch %lld, ISA %d\n", bw, (long long)batch, fx_cpu_isa());
    const std::vector<Layer> layers = efficientnet_layers(0);
    bool first = true;
    for (int32_t layout : layouts)
        for (int t : threads) {
            double tot_fused = 0, tot_plain = 0, tot_bwd = 0, tot_fb = 0, tot_bb = 0;
            if (!json)
                std::printf("\n%s, %d thread(s)\n%-34s %10s %8s %10s %10s %8s\n", layout == FX_LAYOUT_NHWC ? "NHWC" : "NCHW", t,
                            "layer", "fused ms", "GB/s", "plain ms", "bwd ms", "GB/s");
            for (size_t li = 0; li < layers.size(); ++li) {
                if (only >= 0 && (int)li != only) continue;
                const Layer &l = layers[li];
                const fx_depthwise_shape s = make_shape(batch, l.c, l.h, l.w, l.k, l.stride, true, layout);
                const size_t nx = (size_t)(s.n * s.c * s.h * s.w), ny = (size_t)(s.n * s.c * s.out_h * s.out_w);
                std::vector<float> x(nx), w((size_t)(s.c * s.k * s.k)), b((size_t)s.c), y(ny), se((size_t)(s.n * s.c));
                for (size_t i = 0; i < nx; ++i) x[i] = (float)((i * 7919) % 1000) * 1e-3f - 0.5f;
                for (size_t i = 0; i < w.size(); ++i) w[i] = (float)((i * 31) % 17) * 0.01f - 0.08f;
                for (size_t i = 0; i < b.size(); ++i) b[i] = 0.01f * (float)(i % 5);
                const double tf = best_of(iters, [&]() {
                    fx_depthwise_forward_cpu(&s, x.data(), w.data(), b.data(), FX_ACT_SILU, y.data(), se.data(), t);
                });
                const double tp = best_of(iters, [&]() {
                    fx_depthwise_forward_cpu(&s, x.data(), w.data(), nullptr, FX_ACT_NONE, y.data(), nullptr, t);
                });
                double tb = 0;
                if (backward) {
                    std::vector<float> dx(nx), dw(w.size()), db(b.size());
                    tb = best_of(std::max(1, iters / 3), [&]() {
                        fx_depthwise_backward_cpu(&s, x.data(), w.data(), y.data(), dx.data(), dw.data(), db.data(), t);
                    });
                }
                const double fbytes = 4.0 * (double)(nx + ny), bbytes = 4.0 * (double)(2 * nx + ny);
                tot_fused += tf;
                tot_plain += tp;
                tot_bwd += tb;
                tot_fb += fbytes;
                tot_bb += bbytes;
                char name[64];
                std::snprintf(name, sizeof name, "%zu: c%lld %lldx%lld k%d s%d", li, (long long)l.c, (long long)l.h,
                              (long long)l.w, l.k, l.stride);
                if (json) {
                    std::printf("%s  {\"layout\": \"%s\", \"threads\": %d, \"layer\": %zu, \"c\": %lld, \"h\": %lld, \"k\": %d, "
                                "\"stride\": %d, \"fused_ms\": %.4f, \"fused_gbps\": %.2f, \"plain_ms\": %.4f, \"backward_ms\": %.4f}",
                                first ? "" : ",\n", layout == FX_LAYOUT_NHWC ? "nhwc" : "nchw", t, li, (long long)l.c,
                                (long long)l.h, l.k, l.stride, tf * 1e3, fbytes / tf / 1e9, tp * 1e3, tb * 1e3);
                    first = false;
                } else {
                    std::printf("%-34s %10.3f %8.1f %10.3f %10.3f %8.1f\n", name, tf * 1e3, fbytes / tf / 1e9, tp * 1e3,
                                tb * 1e3, backward ? bbytes / tb / 1e9 : 0.0);
                }
            }
            if (!json)
                std::printf("%-34s %10.3f %8.1f %10.3f %10.3f %8.1f   (fused: %.0f%% of copy bandwidth)\n", "total",
                            tot_fused * 1e3, tot_fb / tot_fused / 1e9, tot_plain * 1e3, tot_bwd * 1e3,
                            backward ? tot_bb / tot_bwd / 1e9 : 0.0, 100.0 * tot_fb / tot_fused / 1e9 / bw);
        }
    if (json) std::printf("\n]}\n");
    return 0;
}

// The CUDA preprocessing kernel's algorithm (kernels/cuda/preprocess_core.h) run on the host, block by block and
// phase by phase exactly as the GPU runs it (one loop over the block's 256 threads per barrier-separated phase),
// on the upload buffer the real host code plans (kernels/cuda/batch_plan.cpp), compared byte for byte with
// fx_preprocess_cpu_batch and with the Pillow goldens. Needs no GPU: it checks the kernel's indexing, chunking,
// tap handling, padding, flips, channel orders, dtypes and layouts wherever the tests run.
//
//   test_cuda_emulated [golden_dir]
#include "cuda_test_common.h"

#include "../../kernels/cuda/batch_plan.h"
#include "../../kernels/cuda/preprocess_core.h"

#include <cstring>

using namespace fxtest;
using namespace fxcuda;
namespace fc = fx::cuda;

namespace {

int g_variant_seen[4] = {0, 0, 0, 0};
int g_max_parts = 0;
Rng g_rng(99);
int64_t g_tiles_staged = 0, g_tiles_global = 0, g_tiles_chunked = 0, g_tiles_empty = 0;

struct HostExec {
    int64_t b = 0, g = 1;
    std::vector<fc::ThreadRegs> regs = std::vector<fc::ThreadRegs>(fc::kThreads);
    int64_t block() const { return b; }
    int64_t grid() const { return g; }
    template <class F>
    void each(F &&f) {
        for (int t = 0; t < fc::kThreads; ++t) f(t, regs[(size_t)t]);
    }
    void sync() {}
    void note_tile(bool staged, int chunks);
};

void HostExec::note_tile(bool staged, int chunks) {
    if (chunks == 0) ++g_tiles_empty;
    else if (staged) ++g_tiles_staged;
    else ++g_tiles_global;
    if (chunks > 1) ++g_tiles_chunked;
}

template <int K>
void run_blocks(const fc::BatchParams &bp, int64_t grid) {
    std::vector<unsigned char> smem((size_t)bp.smem_bytes + 64, 0xCD);
    for (int64_t b = 0; b < grid; ++b) {
        HostExec ex;
        ex.b = b;
        ex.g = grid;
        fc::run_block<K>(bp, smem.data(), ex);
    }
    for (size_t i = (size_t)bp.smem_bytes; i < smem.size(); ++i)
        if (smem[i] != 0xCD) {
            CHECK(false, "shared memory overrun past %d bytes", bp.smem_bytes);
            break;
        }
}

// Emulates fx_cuda_preprocess_batch into host memory `out->data`.
fx_status emulate(const std::vector<fx_preprocess_job> &jobs, const fx_output *out, const fc::PlanOptions &opt,
                  int64_t grid_hint, fc::BatchPlan *plan_out = nullptr) {
    fc::BatchPlan plan;
    const fx_status s = fc::plan_batch(jobs.data(), (int32_t)jobs.size(), out, opt, &plan);
    if (s != FX_OK || jobs.empty()) return s;
    // What the GPU's vector loads need (x86 would not notice): 16-byte aligned regions and coefficient rows.
    const fc::ImageDesc *descs = reinterpret_cast<const fc::ImageDesc *>(plan.meta.data() + plan.params.desc_off);
    bool aligned = plan.params.taps_off % 16 == 0 && plan.params.table_off % 16 == 0 && plan.params.ks % 4 == 0 &&
                   plan.params.smem_bytes % 16 == 0;
    for (size_t i = 0; i < jobs.size(); ++i)
        aligned = aligned && descs[i].src % 16 == 0 && descs[i].hco % 4 == 0 && descs[i].vco % 4 == 0 &&
                  (descs[i].channels != 4 || descs[i].pitch % 4 == 0);
    CHECK(aligned, "upload alignment");
    // The library's staging path: worker threads, units and parts (made tiny here so that there are many),
    // each part "shipped" to the device copy as cudaMemcpyAsync would.
    std::vector<unsigned char> host((size_t)plan.total_bytes, 0xEE), device((size_t)plan.total_bytes, 0xDD);
    fc::StagingOptions so;
    so.threads = (int)(g_rng.next() % 4) + 1;
    so.unit_bytes = (int64_t)(g_rng.next() % 3000) + 1;
    so.part_bytes = (int64_t)(g_rng.next() % 20000) + 1;
    so.max_parts = (int)(g_rng.next() % 40) + 1;
    int64_t shipped_to = 0;
    bool in_order = true;
    const int parts = fc::stage_upload(plan, host.data(), so, [&](int64_t lo, int64_t hi) {
        in_order = in_order && lo == shipped_to && hi > lo;
        std::memcpy(device.data() + lo, host.data() + lo, (size_t)(hi - lo));
        shipped_to = hi;
        return true;
    });
    CHECK(in_order && shipped_to == plan.total_bytes && parts >= 1 && parts <= so.max_parts,
          "staging parts: in order %d, shipped %lld of %lld bytes in %d parts (max %d)", (int)in_order,
          (long long)shipped_to, (long long)plan.total_bytes, parts, so.max_parts);
    g_max_parts = std::max(g_max_parts, parts);
    fc::BatchParams bp = plan.params;
    bp.base = device.data();
    bp.out = out->data;
    const int64_t grid = std::max<int64_t>(1, std::min<int64_t>(grid_hint, plan.tiles));
    switch (plan.K) {
    case 8: run_blocks<8>(bp, grid); break;
    case 16: run_blocks<16>(bp, grid); break;
    case 32: run_blocks<32>(bp, grid); break;
    default: run_blocks<0>(bp, grid); break;
    }
    if (plan_out) *plan_out = std::move(plan);
    return FX_OK;
}


void note_variant(int K) { g_variant_seen[K == 8 ? 0 : K == 16 ? 1 : K == 32 ? 2 : 3]++; }

// Emulated result == CPU result (same poisoned buffers) for one batch under several options.
void compare_batch(Batch &b, Rng &rng, const char *label) {
    const size_t n = b.out_bytes;
    std::vector<uint8_t> ref(n, 0xA5), got(n, 0xA5);
    fx_output out = b.out;
    out.data = ref.data();
    const fx_status cs = fx_preprocess_cpu_batch(b.jobs.data(), (int32_t)b.jobs.size(), &out, 1);
    CHECK(cs == FX_OK, "%s: CPU failed: %s", label, fx_last_error());
    if (cs != FX_OK) return;
    struct Opt {
        int budget;
        bool dyn;
    };
    const Opt opts[4] = {{48 * 1024, false},                                  // as the library
                         {rng.uniform(4200, 9000), false},                     // small: chunks, global path
                         {rng.uniform(9000, 30000), rng.chance(0.5)},          // mid
                         {48 * 1024, true}};                                   // dynamic taps
    for (const Opt &o : opts) {
        std::fill(got.begin(), got.end(), 0xA5);
        out.data = got.data();
        fc::PlanOptions po;
        po.smem_budget = o.budget;
        po.force_dynamic = o.dyn;
        fc::BatchPlan plan;
        const int64_t grid = rng.chance(0.5) ? rng.uniform(1, 7) : 1000000;
        const fx_status s = emulate(b.jobs, &out, po, grid, &plan);
        CHECK(s == FX_OK, "%s: emulation failed: %s", label, fx_last_error());
        if (s != FX_OK) continue;
        note_variant(plan.K);
        const size_t d = first_diff(ref.data(), got.data(), n);
        CHECK(d == n, "%s [%s] budget %d dyn %d K %d smem %d: first difference at byte %zu of %zu (cpu %u, emu %u)",
              label, b.what.c_str(), o.budget, (int)o.dyn, plan.K, plan.params.smem_bytes, d, n,
              d < n ? ref[d] : 0, d < n ? got[d] : 0);
        if (d != n) {
            // locate the job
            const int64_t esize = elem_size(b.out.dtype);
            const int64_t per = 3LL * b.out.out_w * b.out.out_h * esize;
            const int64_t slot = (int64_t)d / per;
            for (const fx_preprocess_job &j : b.jobs)
                if (j.index == slot)
                    std::printf("  slot %lld: image %dx%dx%d order %d stride %lld, plan %s\n", (long long)slot,
                                j.image.width, j.image.height, j.image.channels, j.image.order,
                                (long long)j.image.row_stride, plan_str(j.plan).c_str());
        }
    }
}

void test_random(uint64_t seed, int batches) {
    Rng rng(seed);
    for (int i = 0; i < batches; ++i) {
        const int count = rng.chance(0.2) ? rng.uniform(20, 60) : rng.uniform(1, 8);
        const int32_t ow = rng.chance(0.3) ? rng.uniform(1, 8) : rng.uniform(1, 100);
        const int32_t oh = rng.chance(0.3) ? rng.uniform(1, 8) : rng.uniform(1, 100);
        Batch b = random_batch(rng, count, rng.chance(0.5) ? 64 : 400, ow, oh);
        char label[64];
        std::snprintf(label, sizeof label, "random batch %d (seed %llu)", i, (unsigned long long)seed);
        compare_batch(b, rng, label);
    }
}

void test_stress(uint64_t seed) {
    Rng rng(seed);
    std::vector<Batch> v = stress_batches(rng);
    for (Batch &b : v) compare_batch(b, rng, b.what.c_str());
}

void test_validation() {
    Rng rng(7);
    Batch b = random_batch(rng, 3, 50, 20, 20, 0);
    std::vector<uint8_t> buf(b.out_bytes, 0xA5);
    fx_output out = b.out;
    out.data = buf.data();
    fc::BatchPlan plan;
    fc::PlanOptions po;
    CHECK(fc::plan_batch(b.jobs.data(), 3, &out, po, &plan) == FX_OK);
    CHECK(fc::plan_batch(nullptr, 3, &out, po, &plan) == FX_ERR_INVALID_ARGUMENT);
    CHECK(fc::plan_batch(b.jobs.data(), -1, &out, po, &plan) == FX_ERR_INVALID_ARGUMENT);
    CHECK(fc::plan_batch(b.jobs.data(), 0, &out, po, &plan) == FX_OK && plan.tiles == 0);
    CHECK(fc::plan_batch(nullptr, 0, &out, po, &plan) == FX_OK);
    CHECK(fc::plan_batch(b.jobs.data(), 3, nullptr, po, &plan) == FX_ERR_INVALID_ARGUMENT);
    std::vector<fx_preprocess_job> bad = b.jobs;
    bad[1].plan.roi_w = bad[1].image.width + 1;
    CHECK(fc::plan_batch(bad.data(), 3, &out, po, &plan) == FX_ERR_INVALID_ARGUMENT);
    CHECK(std::strstr(fx_last_error(), "jobs[1]") != nullptr, "message: %s", fx_last_error());
    bad = b.jobs;
    bad[2].index = out.batch;
    CHECK(fc::plan_batch(bad.data(), 3, &out, po, &plan) == FX_ERR_INVALID_ARGUMENT);
    bad = b.jobs;
    bad[0].plan.out_w += 1;
    CHECK(fc::plan_batch(bad.data(), 3, &out, po, &plan) == FX_ERR_INVALID_ARGUMENT);
    fx_output o2 = out;
    o2.dtype = 9;
    CHECK(fc::plan_batch(b.jobs.data(), 3, &o2, po, &plan) == FX_ERR_INVALID_ARGUMENT);
    o2 = out;
    o2.std[1] = 0.0f;
    o2.dtype = FX_DTYPE_FLOAT32;
    CHECK(fc::plan_batch(b.jobs.data(), 3, &o2, po, &plan) == FX_ERR_INVALID_ARGUMENT);
}

void test_goldens(const std::string &dir) {
    std::vector<Golden> cases;
    std::string why;
    if (!load_goldens(dir, &cases, &why)) {
        CHECK(false, "goldens: %s", why.c_str());
        return;
    }
    CHECK(!cases.empty(), "no golden cases in %s", dir.c_str());
    // All cases of one output size in one batch (uint8 NHWC RGB, exactly the goldens' layout).
    std::vector<bool> done(cases.size(), false);
    int batches = 0;
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
            j.index = (int64_t)(members.size() - 1 - m);
            jobs.push_back(j);
        }
        std::vector<uint8_t> got(out_size(out), 0xA5);
        out.data = got.data();
        const fx_status s = emulate(jobs, &out, fc::PlanOptions(), 5);
        CHECK(s == FX_OK, "golden batch: %s", fx_last_error());
        ++batches;
        const size_t per = (size_t)3 * ow * oh;
        for (size_t m = 0; m < members.size(); ++m) {
            const Golden &g = cases[members[m]];
            const bool shape_ok = g.golden.shape[0] == oh && g.golden.shape[1] == ow && g.golden.shape[2] == 3;
            CHECK(shape_ok, "%s: golden shape", g.name.c_str());
            if (!shape_ok) continue;
            const uint8_t *res = got.data() + (members.size() - 1 - m) * per;
            const size_t d = first_diff(g.golden.data.data(), res, per);
            CHECK(d == per, "%s: differs from Pillow at byte %zu (pixel %zu, channel %zu): pillow %u, emulated %u",
                  g.name.c_str(), d, d / 3, d % 3, d < per ? g.golden.data[d] : 0, d < per ? res[d] : 0);
        }
    }
    std::printf("goldens: %zu cases in %d batches\n", cases.size(), batches);
}

} // namespace

int main(int argc, char **argv) {
    const std::string golden_dir = argc > 1 ? argv[1] : "";
    test_validation();
    test_stress(11);
    test_random(1, 60);
    test_random(2, 60);
    if (!golden_dir.empty()) test_goldens(golden_dir);
    std::printf("kernel variants exercised: K8 %d, K16 %d, K32 %d, dynamic %d\n", g_variant_seen[0],
                g_variant_seen[1], g_variant_seen[2], g_variant_seen[3]);
    std::printf("staging: up to %d pipelined parts\n", g_max_parts);
    CHECK(g_max_parts > 3, "several staging parts should have been exercised");
    std::printf("tiles: staged input %lld, global-memory input %lld, several row chunks %lld, no rows %lld\n",
                (long long)g_tiles_staged, (long long)g_tiles_global, (long long)g_tiles_chunked,
                (long long)g_tiles_empty);
    CHECK(g_variant_seen[0] > 0 && g_variant_seen[1] > 0 && g_variant_seen[2] > 0 && g_variant_seen[3] > 0,
          "every kernel variant should have run");
    CHECK(g_tiles_staged > 0 && g_tiles_global > 0 && g_tiles_chunked > 0 && g_tiles_empty > 0,
          "every path of the block should have run");
    return test_summary();
}

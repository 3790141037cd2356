// fx_preprocess_cpu / fx_preprocess_cpu_batch: validation, geometry, per-thread scratch, the row loop and the
// batch work shared with the worker pool (pool.cpp). The arithmetic lives in the per-ISA row kernels
// (preprocess_scalar.cpp, preprocess_avx2.cpp and its variants).
//
// Row loop of one job (out_h output rows, in order):
//   horizontal taps for the out_w output columns in output order (flip applied, padding columns n = 0),
//   vertical taps for the out_h output rows (padding rows n = 0);
//   for each output row y with taps: the input rows it needs are passed through the horizontal kernel into a
//   ring of max(n) intermediate rows (each input row once, its planes back to back), then the vertical kernel
//   makes the row's values (the planes back to back too, in one pass over them all) and the emit kernel writes
//   them to the output (normalised, in its layout).
//   Padding rows are written from a row of zeros.
#include "aligned_bytes.h"
#include "cpu_internal.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <new>
#include <string>
#include <vector>

namespace fx {
namespace cpu {

namespace {

constexpr int32_t kMaxThreads = 1024;
// Refuse jobs whose scratch would exceed this (bytes): a pathological plan must not exhaust the machine.
constexpr size_t kMaxScratch = size_t(1) << 31;

// What one axis' taps depend on (the cache key of Scratch::h / Scratch::v).
struct TapsKey {
    int32_t filter = -1, in_size = 0, out_size = 0, start = 0, count = 0, flip = 0;
    double box0 = 0, box1 = 0;
    bool operator==(const TapsKey &o) const {
        return filter == o.filter && in_size == o.in_size && out_size == o.out_size && start == o.start &&
               count == o.count && flip == o.flip && std::memcmp(&box0, &o.box0, sizeof box0) == 0 &&
               std::memcmp(&box1, &o.box1, sizeof box1) == 0;
    }
};

struct Scratch {
    // The taps and the ISA tables of the last job are kept: images of the same size and geometry (common in
    // a dataset) skip their computation.
    AxisTaps h, v;
    TapsKey hkey, vkey;
    const IsaOps *prep_ops = nullptr; // ops the prep tables were built for (for hkey); nullptr: none
    int32_t prep_pixel[5] = {0, 0, 0, 0, 0}; // channels, nplanes, src_ch[3] the prep tables were built for
    AlignedBytes prep, planes, ring, vb, zero;
    std::vector<int32_t> slot_row, work;
    std::vector<const uint8_t *> rows;
};

thread_local Scratch t_scratch;

struct TableCache {
    bool valid = false;
    int32_t dtype = -1;
    float mean[3] = {0, 0, 0}, std[3] = {0, 0, 0};
    ValueTable table;
    const IsaOps *arith_ops = nullptr; // the ops check_arith ran for
    uint32_t arith_generation = 0;     // isa_generation() when it ran
    int32_t arith = 0;
};

thread_local TableCache t_tables;

// The value table for `out` (cached per thread) and whether `ops` may use its arithmetic path.
const ValueTable *value_table(const fx_output &out, const IsaOps &ops, int32_t *arith) {
    *arith = 0;
    if (out.dtype == FX_DTYPE_UINT8) return nullptr;
    TableCache &t = t_tables;
    if (!t.valid || t.dtype != out.dtype || std::memcmp(t.mean, out.mean, sizeof t.mean) != 0 ||
        std::memcmp(t.std, out.std, sizeof t.std) != 0) {
        make_value_table(&out, &t.table);
        t.dtype = out.dtype;
        std::memcpy(t.mean, out.mean, sizeof t.mean);
        std::memcpy(t.std, out.std, sizeof t.std);
        t.arith_ops = nullptr;
        t.valid = true;
    }
    if (ops.check_arith != nullptr) {
        const uint32_t generation = isa_generation();
        if (t.arith_ops != &ops || t.arith_generation != generation) {
            t.arith = ops.check_arith(&out, &t.table);
            t.arith_ops = &ops;
            t.arith_generation = generation;
        }
        *arith = t.arith;
    }
    return &t.table;
}

void reverse_taps(AxisTaps &t) {
    const size_t count = t.n.size(), k = (size_t)t.ksize;
    std::reverse(t.first.begin(), t.first.end());
    std::reverse(t.n.begin(), t.n.end());
    for (size_t i = 0, j = count ? count - 1 : 0; i < j; ++i, --j)
        std::swap_ranges(t.coeffs.begin() + (ptrdiff_t)(i * k), t.coeffs.begin() + (ptrdiff_t)((i + 1) * k),
                         t.coeffs.begin() + (ptrdiff_t)(j * k));
}

inline size_t round_up(size_t v, size_t m) { return (v + m - 1) / m * m; }

// Runs one validated job, output rows [band * out_h / bands, (band + 1) * out_h / bands) (bands >= 1): the bands of
// a job are independent (each passes the input rows it needs through the horizontal kernel itself), so a batch can
// split its last images between threads. May throw std::bad_alloc.
fx_status run_job(const IsaOps &ops, const fx_image &img, const fx_resample_plan &plan, int64_t index,
                  const fx_output &out, const ValueTable *table, int32_t arith, Scratch &s, int32_t band = 0,
                  int32_t bands = 1) {
    TapsKey hkey;
    hkey.filter = plan.filter, hkey.in_size = plan.roi_w, hkey.out_size = plan.resize_w, hkey.start = plan.crop_x;
    hkey.count = plan.out_w, hkey.flip = plan.flip_x, hkey.box0 = plan.box_x0, hkey.box1 = plan.box_x1;
    TapsKey vkey;
    vkey.filter = plan.filter, vkey.in_size = plan.roi_h, vkey.out_size = plan.resize_h, vkey.start = plan.crop_y;
    vkey.count = plan.out_h, vkey.box0 = plan.box_y0, vkey.box1 = plan.box_y1;
    if (!(hkey == s.hkey)) {
        s.hkey = TapsKey{};
        s.prep_ops = nullptr;
        const fx_status st = axis_taps(plan.filter, plan.roi_w, plan.box_x0, plan.box_x1, plan.resize_w,
                                       plan.crop_x, plan.out_w, &s.h);
        if (st != FX_OK) return st;
        if (plan.flip_x) reverse_taps(s.h);
        s.hkey = hkey;
    }
    if (!(vkey == s.vkey)) {
        s.vkey = TapsKey{};
        const fx_status st = axis_taps(plan.filter, plan.roi_h, plan.box_y0, plan.box_y1, plan.resize_h,
                                       plan.crop_y, plan.out_h, &s.v);
        if (st != FX_OK) return st;
        s.vkey = vkey;
    }

    const int32_t out_w = plan.out_w, out_h = plan.out_h;
    const int32_t y_begin = (int32_t)((int64_t)band * out_h / bands), y_end = (int32_t)((int64_t)(band + 1) * out_h / bands);
    const int32_t nplanes = img.channels == 1 ? 1 : 3;
    // An intermediate row (a ring slot), the row of values (vb) and the zero row hold their planes back to back,
    // `pitch` apart, so that the vertical pass runs over all planes as one row: at 224 that is 10 64-column steps and
    // one of 32 instead of three times 3 and one (the horizontal kernels write at most up to the next multiple of 32).
    const size_t pitch = round_up((size_t)out_w, 32), plane_step = nplanes == 3 ? pitch : 0;
    const size_t slot_bytes = round_up((size_t)nplanes * pitch + kRowSlack, AlignedBytes::kAlign);

    EmitJob ej;
    ej.out = (uint8_t *)out.data;
    ej.index = index;
    ej.layout = out.layout;
    ej.dtype = out.dtype;
    ej.out_w = out_w;
    ej.out_h = out_h;
    ej.nplanes = nplanes;
    ej.table = table;
    ej.arith = arith;

    // Input columns and rows the taps read.
    int32_t sx0 = INT32_MAX, sx1 = 0, max_hn = 0, max_vn = 0;
    for (int32_t i = 0; i < out_w; ++i)
        if (s.h.n[(size_t)i] > 0) {
            sx0 = std::min(sx0, s.h.first[(size_t)i]);
            sx1 = std::max(sx1, s.h.first[(size_t)i] + s.h.n[(size_t)i]);
            max_hn = std::max(max_hn, s.h.n[(size_t)i]);
        }
    for (int32_t y = 0; y < out_h; ++y) max_vn = std::max(max_vn, s.v.n[(size_t)y]);

    if (s.zero.size() < slot_bytes) s.zero.assign(slot_bytes, 0);
    const uint8_t *zero_rows[3] = {s.zero.data(), s.zero.data() + plane_step, s.zero.data() + 2 * plane_step};

    if (max_hn == 0 || max_vn == 0) { // the crop window misses the resized image: all padding
        for (int32_t y = y_begin; y < y_end; ++y) ops.emit(ej, y, zero_rows);
        return FX_OK;
    }

    const size_t span = (size_t)(sx1 - sx0);
    const size_t plane_bytes = round_up(span + (size_t)s.h.ksize + kRowSlack, AlignedBytes::kAlign);
    const size_t ring_rows = (size_t)max_vn;
    if (ring_rows * slot_bytes + nplanes * plane_bytes > kMaxScratch)
        return fail(FX_ERR_OUT_OF_MEMORY, "the plan needs more than %zu bytes of scratch (%zu intermediate rows of %zu)",
                    kMaxScratch, ring_rows, slot_bytes);

    HorizontalJob hj;
    hj.src = img.data + (int64_t)plan.roi_y * img.row_stride + (int64_t)plan.roi_x * img.channels;
    hj.stride = img.row_stride;
    hj.channels = img.channels;
    hj.nplanes = nplanes;
    for (int c = 0; c < 3; ++c) {
        const int colour = out.order == FX_ORDER_RGB ? c : 2 - c; // 0 red, 1 green, 2 blue
        hj.src_ch[c] = img.channels == 1 ? 0 : (img.order == FX_ORDER_RGB ? colour : 2 - colour);
    }
    hj.out_w = out_w;
    hj.ksize = s.h.ksize;
    hj.first = s.h.first.data();
    hj.n = s.h.n.data();
    hj.coeffs = s.h.coeffs.data();
    hj.sx0 = sx0;
    hj.sx1 = sx1;
    hj.max_n = max_hn;

    s.planes.assign(nplanes * plane_bytes, 0);
    for (int p = 0; p < 3; ++p) hj.planes[p] = s.planes.data() + (p < nplanes ? p : 0) * plane_bytes;

    // The tables may depend on the pixel layout too (the AVX-512 gather reads the interleaved row).
    const int32_t pixel[5] = {hj.channels, hj.nplanes, hj.src_ch[0], hj.src_ch[1], hj.src_ch[2]};
    if (s.prep_ops != &ops || std::memcmp(s.prep_pixel, pixel, sizeof pixel) != 0) {
        s.prep_ops = nullptr;
        std::memcpy(s.prep_pixel, pixel, sizeof pixel);
        const size_t prep_bytes = ops.hprep_size(hj);
        s.prep.resize(prep_bytes);
        if (prep_bytes > 0) ops.hprep(hj, s.prep.data());
        s.prep_ops = &ops;
    }
    hj.prep = s.prep.empty() ? nullptr : s.prep.data();

    if (s.ring.size() < ring_rows * slot_bytes) s.ring.resize(ring_rows * slot_bytes, 0);
    s.slot_row.assign(ring_rows, -1);
    if (s.vb.size() < slot_bytes) s.vb.resize(slot_bytes, 0);
    uint8_t *vb[3] = {s.vb.data(), s.vb.data() + plane_step, s.vb.data() + 2 * plane_step};
    const int32_t row_width = (int32_t)((size_t)nplanes * pitch);
    s.rows.assign(ring_rows * 3, nullptr);
    s.work.resize((kVrowWorkPerTap * ring_rows + 64) / sizeof(int32_t));

    // Plain pointers for the row loop: s is usually the thread_local scratch, whose members would otherwise be
    // looked up through the TLS machinery at every access.
    uint8_t *const ring = s.ring.data();
    int32_t *const slot_row = s.slot_row.data();
    const uint8_t **const rows = s.rows.data();
    const int32_t *const vn = s.v.n.data(), *const vfirst = s.v.first.data(), *const vcoeffs = s.v.coeffs.data();
    const size_t vksize = (size_t)s.v.ksize;
    void *const work = s.work.data();
    for (int32_t y = y_begin; y < y_end; ++y) {
        const int32_t n = vn[y];
        if (n == 0) {
            ops.emit(ej, y, zero_rows);
            continue;
        }
        const int32_t first = vfirst[y];
        size_t slot = (size_t)first % ring_rows; // then consecutive rows take consecutive slots
        for (int32_t t = 0; t < n; ++t) {
            const int32_t r = first + t;
            uint8_t *base = ring + slot * slot_bytes;
            if (slot_row[slot] != r) {
                uint8_t *dst[3] = {base, base + plane_step, base + 2 * plane_step};
                ops.hrow(hj, hj.src + (int64_t)r * img.row_stride, dst);
                slot_row[slot] = r;
            }
            rows[(size_t)t * 3] = base;
            if (++slot == ring_rows) slot = 0;
        }
        ops.vrow(1, row_width, rows, n, vcoeffs + (size_t)y * vksize, vb, work); // all planes as one row: vb[0]
        ops.emit(ej, y, vb);
    }
    return FX_OK;
}

// Big scratch buffers are released after the call instead of being kept by the thread forever.
void trim(Scratch &s) {
    constexpr size_t kKeep = size_t(16) << 20;
    auto shrink = [](auto &v) {
        if (v.capacity() * sizeof(v[0]) > kKeep) {
            v.clear();
            v.shrink_to_fit();
        }
    };
    if (s.h.coeffs.capacity() * sizeof(int32_t) > kKeep || s.prep.capacity() > kKeep) {
        s.hkey = TapsKey{};
        s.prep_ops = nullptr;
    }
    if (s.v.coeffs.capacity() * sizeof(int32_t) > kKeep) s.vkey = TapsKey{};
    shrink(s.h.coeffs);
    shrink(s.v.coeffs);
    for (AlignedBytes *b : {&s.prep, &s.planes, &s.ring})
        if (b->capacity() > kKeep) b->release();
}

// One batch call's work, shared by the caller and the pool's workers (BatchFn): jobs are claimed one at a time;
// each thread uses its own thread_local scratch (the workers' caches survive from call to call).
struct BatchWork {
    const fx_preprocess_job *jobs = nullptr;
    int32_t count = 0;
    // Items: jobs [0, whole) one item each, then each later job as kTailBands bands of rows (the threads then
    // finish within a fraction of an image of each other instead of up to one image).
    static constexpr int32_t kTailBands = 4;
    int32_t whole = 0;
    int32_t items() const { return whole + (count - whole) * kTailBands; }
    const fx_output *out = nullptr;
    const IsaOps *ops = nullptr;
    const ValueTable *table = nullptr; // shared read-only
    int32_t arith = 0;
    std::atomic<int32_t> next{0};
    std::atomic<bool> failed{false};
    std::mutex error_mutex;
    fx_status error_status = FX_OK; // the first error (read by the caller after run_batch)
    std::string error_message;

    void record(fx_status code, const char *msg) noexcept {
        try {
            std::lock_guard<std::mutex> lock(error_mutex);
            if (error_status == FX_OK) {
                error_status = code;
                error_message = msg;
            }
        } catch (...) {
            if (error_status == FX_OK) error_status = code; // no message (out of memory for it)
        }
        failed.store(true);
    }

    static void run(void *ctx) noexcept { // BatchFn::run: never throws
        BatchWork &w = *static_cast<BatchWork *>(ctx);
        Scratch &s = t_scratch;
        try {
            for (;;) {
                if (w.failed.load(std::memory_order_relaxed)) break;
                const int32_t item = w.next.fetch_add(1, std::memory_order_relaxed);
                if (item >= w.items()) break;
                const int32_t i = item < w.whole ? item : w.whole + (item - w.whole) / kTailBands;
                const int32_t band = item < w.whole ? 0 : (item - w.whole) % kTailBands;
                const int32_t bands = item < w.whole ? 1 : kTailBands;
                const fx_preprocess_job &j = w.jobs[i];
                const fx_status r = run_job(*w.ops, j.image, j.plan, j.index, *w.out, w.table, w.arith, s, band, bands);
                if (r != FX_OK) {
                    char msg[600];
                    std::snprintf(msg, sizeof msg, "jobs[%d]: %s", (int)i, fx_last_error());
                    w.record(r, msg);
                    break;
                }
            }
        } catch (const std::bad_alloc &) {
            w.record(FX_ERR_OUT_OF_MEMORY, "fx_preprocess_cpu_batch: out of memory");
        } catch (...) {
            w.record(FX_ERR_STATE, "fx_preprocess_cpu_batch: unexpected internal error");
        }
        try {
            trim(s);
        } catch (...) {
        }
    }
};

} // namespace

} // namespace cpu
} // namespace fx

using namespace fx;
using namespace fx::cpu;

extern "C" {

FX_API fx_status fx_preprocess_cpu(const fx_image *image, const fx_resample_plan *plan, int64_t index,
                                   const fx_output *out) {
    try {
        fx_status st = validate_job(image, plan, index, out);
        if (st != FX_OK) return st;
        const IsaOps &ops = current_ops();
        int32_t arith = 0;
        const ValueTable *table = value_table(*out, ops, &arith);
        st = run_job(ops, *image, *plan, index, *out, table, arith, t_scratch);
        trim(t_scratch);
        return st;
    } catch (const std::bad_alloc &) {
        trim(t_scratch);
        return fail(FX_ERR_OUT_OF_MEMORY, "fx_preprocess_cpu: out of memory");
    } catch (...) {
        return fail(FX_ERR_STATE, "fx_preprocess_cpu: unexpected internal error");
    }
}

FX_API fx_status fx_preprocess_cpu_batch(const fx_preprocess_job *jobs, int32_t count, const fx_output *out,
                                         int32_t threads) {
    try {
        fx_status st = validate_output(out);
        if (st != FX_OK) return st;
        if (count < 0) return fail(FX_ERR_INVALID_ARGUMENT, "count must be >= 0 (got %d)", (int)count);
        if (count > 0 && jobs == nullptr) return fail(FX_ERR_INVALID_ARGUMENT, "jobs is null (count %d)", (int)count);
        if (threads < 1 || threads > kMaxThreads)
            return fail(FX_ERR_INVALID_ARGUMENT, "threads must be in [1, %d] (got %d)", kMaxThreads, (int)threads);
        for (int32_t i = 0; i < count; ++i) {
            st = validate_job(&jobs[i].image, &jobs[i].plan, jobs[i].index, out);
            if (st != FX_OK) {
                const std::string msg = fx_last_error();
                return fail(st, "jobs[%d]: %s", (int)i, msg.c_str());
            }
        }
        if (count == 0) return FX_OK;

        const IsaOps &ops = current_ops();
        int32_t arith = 0;
        const ValueTable *table = value_table(*out, ops, &arith); // shared read-only by the workers

        BatchWork w;
        w.jobs = jobs;
        w.count = count;
        const int32_t helpers = std::min(threads, count) - 1;
        // the last `threads` images are split into bands when other threads share the batch
        w.whole = helpers > 0 ? std::max(0, count - threads) : count;
        w.out = out;
        w.ops = &ops;
        w.table = table;
        w.arith = arith;
        BatchFn fn{&BatchWork::run, &w};
        run_batch(fn, helpers);
        if (w.error_status != FX_OK) return fail(w.error_status, "%s", w.error_message.c_str());
        return FX_OK;
    } catch (const std::bad_alloc &) {
        return fail(FX_ERR_OUT_OF_MEMORY, "fx_preprocess_cpu_batch: out of memory");
    } catch (...) {
        return fail(FX_ERR_STATE, "fx_preprocess_cpu_batch: unexpected internal error");
    }
}

} // extern "C"

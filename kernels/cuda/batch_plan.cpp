// Host-side planning of one CUDA preprocessing batch (see batch_plan.h).
#include "batch_plan.h"

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <system_error>
#include <thread>

#include "internal.h"

namespace fx {
namespace cuda {

namespace {

int64_t align_up(int64_t v, int64_t a) { return (v + a - 1) / a * a; }

struct ImageTaps {
    AxisTaps h, v;
    int32_t sx0 = 0, sx1 = 0, sy0 = 0, sy1 = 0; // staged region, roi coordinates (empty: lo == hi)
};

// [lo, hi) of the inputs the taps of outputs [a, b) touch; lo == hi == 0 when none has taps.
void touched(const AxisTaps &t, int32_t a, int32_t b, int32_t *lo, int32_t *hi) {
    int32_t l = INT32_MAX, h = INT32_MIN;
    for (int32_t i = a; i < b; ++i) {
        if (t.n[(size_t)i] <= 0) continue;
        l = std::min(l, t.first[(size_t)i]);
        h = std::max(h, t.first[(size_t)i] + t.n[(size_t)i]);
    }
    if (l > h) l = h = 0;
    *lo = l;
    *hi = h;
}

} // namespace

fx_status plan_batch(const fx_preprocess_job *jobs, int32_t count, const fx_output *out, const PlanOptions &opt,
                     BatchPlan *plan) {
    if (plan == nullptr) return fail(FX_ERR_INVALID_ARGUMENT, "plan is null");
    fx_status st = validate_output(out);
    if (st != FX_OK) return st;
    if (count < 0) return fail(FX_ERR_INVALID_ARGUMENT, "count must be >= 0 (got %d)", (int)count);
    if (count > 0 && jobs == nullptr) return fail(FX_ERR_INVALID_ARGUMENT, "jobs is null (count %d)", (int)count);
    for (int32_t i = 0; i < count; ++i) {
        const fx_status s = validate_job(&jobs[i].image, &jobs[i].plan, jobs[i].index, out);
        if (s != FX_OK) {
            const std::string msg = fx_last_error();
            return fail(s, "jobs[%d]: %s", (int)i, msg.c_str());
        }
    }
    try {
        BatchPlan &p = *plan;
        p = BatchPlan();
        if (count == 0) return FX_OK; // nothing to do (p.tiles == 0)
        const int32_t out_w = out->out_w, out_h = out->out_h;
        const int32_t tiles_x = (out_w + kTileW - 1) / kTileW, tiles_y = (out_h + kTileH - 1) / kTileH;

        // Taps and staged regions.
        std::vector<ImageTaps> it((size_t)count);
        int max_k = 1;
        for (int32_t i = 0; i < count; ++i) {
            const fx_resample_plan &pl = jobs[i].plan;
            ImageTaps &t = it[(size_t)i];
            fx_status s = axis_taps(pl.filter, pl.roi_w, pl.box_x0, pl.box_x1, pl.resize_w, pl.crop_x, out_w, &t.h);
            if (s == FX_OK)
                s = axis_taps(pl.filter, pl.roi_h, pl.box_y0, pl.box_y1, pl.resize_h, pl.crop_y, out_h, &t.v);
            if (s != FX_OK) {
                const std::string msg = fx_last_error();
                return fail(s, "jobs[%d]: %s", (int)i, msg.c_str());
            }
            max_k = std::max(max_k, std::max(t.h.ksize, t.v.ksize));
            touched(t.h, 0, out_w, &t.sx0, &t.sx1);
            touched(t.v, 0, out_h, &t.sy0, &t.sy1);
        }
        p.max_ksize = max_k;
        if (opt.force_dynamic)
            p.K = 0;
        else
            p.K = max_k <= 8 ? 8 : max_k <= 16 ? 16 : max_k <= 32 ? 32 : 0;
        const int32_t ks = p.K > 0 ? p.K : (int32_t)align_up(max_k, 4);

        // Layout of the taps (int32 indices, 4-aligned where int4 loads read them).
        const int64_t per_image_taps = align_up(2 * (int64_t)out_w, 4) + (int64_t)out_w * ks +
                                       align_up(2 * (int64_t)out_h, 4) + (int64_t)out_h * ks +
                                       align_up(2 * (int64_t)tiles_x, 4) + align_up(2 * (int64_t)tiles_y, 4);
        const int64_t taps_ints = per_image_taps * count;
        const int64_t desc_off = 0;
        const int64_t table_off = align_up((int64_t)sizeof(ImageDesc) * count, 16);
        const int64_t taps_off = table_off + kTableBytes;
        const int64_t data_off = align_up(taps_off + 4 * taps_ints, 256);
        p.meta.assign((size_t)data_off, 0);
        unsigned char *meta = p.meta.data();
        int32_t *taps = reinterpret_cast<int32_t *>(meta + taps_off);
        ImageDesc *descs = reinterpret_cast<ImageDesc *>(meta + desc_off);

        // The value table.
        if (out->dtype != FX_DTYPE_UINT8) {
            ValueTable vt;
            make_value_table(out, &vt);
            if (out->dtype == FX_DTYPE_FLOAT32)
                std::memcpy(meta + table_off, vt.f32, sizeof vt.f32);
            else
                std::memcpy(meta + table_off, vt.h16, sizeof vt.h16);
        }

        // Per image: descriptor, taps, tile ranges, staged copy. Smem need of the largest tile.
        int64_t tap = 0, data = data_off, smem_need = 0;
        p.copies.resize((size_t)count);
        for (int32_t i = 0; i < count; ++i) {
            const fx_preprocess_job &job = jobs[i];
            const ImageTaps &t = it[(size_t)i];
            ImageDesc &d = descs[i];
            const int32_t C = job.image.channels;
            d.index = job.index;
            d.channels = C;
            d.swap = (C != 1 && job.image.order != out->order) ? 1 : 0;
            d.flip = job.plan.flip_x ? 1 : 0;

            d.hfn = tap;
            for (int32_t x = 0; x < out_w; ++x) {
                const int32_t n = t.h.n[(size_t)x];
                taps[tap + 2 * x] = n > 0 ? t.h.first[(size_t)x] - t.sx0 : 0;
                taps[tap + 2 * x + 1] = n;
            }
            tap += align_up(2 * (int64_t)out_w, 4);
            d.hco = tap;
            for (int32_t x = 0; x < out_w; ++x)
                for (int32_t k = 0; k < t.h.n[(size_t)x]; ++k)
                    taps[tap + (int64_t)x * ks + k] = t.h.coeffs[(size_t)x * t.h.ksize + k];
            tap += (int64_t)out_w * ks;
            d.vfn = tap;
            for (int32_t y = 0; y < out_h; ++y) {
                const int32_t n = t.v.n[(size_t)y];
                taps[tap + 2 * y] = n > 0 ? t.v.first[(size_t)y] - t.sy0 : 0;
                taps[tap + 2 * y + 1] = n;
            }
            tap += align_up(2 * (int64_t)out_h, 4);
            d.vco = tap;
            for (int32_t y = 0; y < out_h; ++y)
                for (int32_t k = 0; k < t.v.n[(size_t)y]; ++k)
                    taps[tap + (int64_t)y * ks + k] = t.v.coeffs[(size_t)y * t.v.ksize + k];
            tap += (int64_t)out_h * ks;

            int32_t max_ipitch = 1, max_rows = 0;
            d.hrange = tap;
            for (int32_t tx = 0; tx < tiles_x; ++tx) {
                int32_t lo, hi;
                touched(t.h, tx * kTileW, std::min(out_w, (tx + 1) * kTileW), &lo, &hi);
                if (lo < hi) {
                    lo -= t.sx0;
                    hi -= t.sx0;
                }
                taps[tap + 2 * tx] = lo;
                taps[tap + 2 * tx + 1] = hi;
                max_ipitch = std::max(max_ipitch, (hi - lo) | 1);
            }
            tap += align_up(2 * (int64_t)tiles_x, 4);
            d.vrange = tap;
            for (int32_t ty = 0; ty < tiles_y; ++ty) {
                int32_t lo, hi;
                touched(t.v, ty * kTileH, std::min(out_h, (ty + 1) * kTileH), &lo, &hi);
                if (lo < hi) {
                    lo -= t.sy0;
                    hi -= t.sy0;
                }
                taps[tap + 2 * ty] = lo;
                taps[tap + 2 * ty + 1] = hi;
                max_rows = std::max(max_rows, hi - lo);
            }
            tap += align_up(2 * (int64_t)tiles_y, 4);
            smem_need = std::max(smem_need, (int64_t)kTableBytes + (int64_t)max_rows * 4 * (kMidPitch + max_ipitch));

            StagedCopy &c = p.copies[(size_t)i];
            c.rows = t.sy1 - t.sy0;
            c.row_bytes = (int64_t)(t.sx1 - t.sx0) * C;
            c.src_stride = job.image.row_stride;
            c.src = job.image.data + (int64_t)(job.plan.roi_y + t.sy0) * job.image.row_stride +
                    (int64_t)(job.plan.roi_x + t.sx0) * C;
            data = align_up(data, 16);
            c.dst = data;
            d.src = data;
            d.pitch = (int32_t)c.row_bytes;
            data += c.rows * c.row_bytes;
            p.staged_bytes += c.rows * c.row_bytes;
        }

        const int64_t smem_min = kTableBytes + (int64_t)kMinChunkRows * 4 * kMidPitch;
        const int64_t budget = std::max<int64_t>(opt.smem_budget, smem_min);
        const int64_t smem = align_up(std::min(std::max(smem_need, smem_min), budget), 16);

        BatchParams &bp = p.params;
        bp.base = nullptr;
        bp.out = nullptr;
        bp.desc_off = desc_off;
        bp.table_off = table_off;
        bp.taps_off = taps_off;
        bp.count = count;
        bp.out_w = out_w;
        bp.out_h = out_h;
        bp.tiles_x = tiles_x;
        bp.tiles_y = tiles_y;
        bp.layout = out->layout;
        bp.dtype = out->dtype;
        bp.ks = ks;
        bp.smem_bytes = (int32_t)smem;

        p.data_off = data_off;
        p.total_bytes = align_up(data + 16, 256); // 16 spare bytes: no load ever runs past the buffer
        p.out_bytes = (int64_t)count * 3 * out_h * out_w * dtype_size(out->dtype);
        p.tiles = (int64_t)count * tiles_x * tiles_y;
        return FX_OK;
    } catch (const std::bad_alloc &) {
        *plan = BatchPlan();
        return fail(FX_ERR_OUT_OF_MEMORY, "out of host memory while planning a batch of %d images", (int)count);
    }
}

void copy_staged(const BatchPlan &plan, unsigned char *upload, size_t first, size_t last) {
    for (size_t i = first; i < last; ++i) {
        const StagedCopy &c = plan.copies[i];
        unsigned char *dst = upload + c.dst;
        const uint8_t *src = c.src;
        if (c.row_bytes == c.src_stride) {
            std::memcpy(dst, src, (size_t)(c.rows * c.row_bytes));
            continue;
        }
        for (int64_t r = 0; r < c.rows; ++r)
            std::memcpy(dst + r * c.row_bytes, src + r * c.src_stride, (size_t)c.row_bytes);
    }
}

namespace {

struct Unit {
    int32_t image;
    int64_t r0, r1;
};

struct Copier {
    const BatchPlan *plan = nullptr;
    unsigned char *host = nullptr;
    std::vector<Unit> units;
    std::vector<int> part_end;    // units [part_end[k - 1], part_end[k]) form part k
    std::vector<int64_t> part_lo; // upload bytes [part_lo[k], part_lo[k + 1]) ship with part k
    std::unique_ptr<std::atomic<int>[]> next, done;

    int parts() const { return (int)part_end.size(); }
    int unit_begin(int k) const { return k == 0 ? 0 : part_end[(size_t)k - 1]; }

    void build(const BatchPlan &p, unsigned char *h, const StagingOptions &opt) {
        plan = &p;
        host = h;
        const int64_t unit = std::max<int64_t>(1, opt.unit_bytes);
        int64_t in_part = 0;
        for (size_t i = 0; i < p.copies.size(); ++i) {
            const StagedCopy &c = p.copies[i];
            if (c.rows <= 0 || c.row_bytes <= 0) continue;
            const int64_t step = std::max<int64_t>(1, unit / c.row_bytes);
            for (int64_t r = 0; r < c.rows; r += step) {
                units.push_back(Unit{(int32_t)i, r, std::min(c.rows, r + step)});
                in_part += (units.back().r1 - r) * c.row_bytes;
                if (in_part >= opt.part_bytes && (int)part_end.size() < opt.max_parts - 1) {
                    part_end.push_back((int)units.size());
                    in_part = 0;
                }
            }
        }
        if (part_end.empty() || part_end.back() != (int)units.size()) part_end.push_back((int)units.size());
        part_lo.assign(part_end.size() + 1, 0);
        for (int k = 1; k < parts(); ++k) {
            const Unit &u = units[(size_t)unit_begin(k)];
            const StagedCopy &c = p.copies[(size_t)u.image];
            part_lo[(size_t)k] = c.dst + u.r0 * c.row_bytes;
        }
        part_lo[(size_t)parts()] = p.total_bytes;
        next.reset(new std::atomic<int>[part_end.size()]);
        done.reset(new std::atomic<int>[part_end.size()]);
        for (int k = 0; k < parts(); ++k) {
            next[k].store(0);
            done[k].store(0);
        }
    }

    void copy(const Unit &u) const {
        const StagedCopy &c = plan->copies[(size_t)u.image];
        unsigned char *dst = host + c.dst + u.r0 * c.row_bytes;
        const uint8_t *src = c.src + u.r0 * c.src_stride;
        if (c.src_stride == c.row_bytes) {
            std::memcpy(dst, src, (size_t)((u.r1 - u.r0) * c.row_bytes));
            return;
        }
        for (int64_t r = u.r0; r < u.r1; ++r, dst += c.row_bytes, src += c.src_stride)
            std::memcpy(dst, src, (size_t)c.row_bytes);
    }

    // Copies units of part k until none is left to take.
    void drain(int k) {
        const int begin = unit_begin(k), end = part_end[(size_t)k];
        for (;;) {
            const int u = begin + next[k].fetch_add(1, std::memory_order_relaxed);
            if (u >= end) break;
            copy(units[(size_t)u]);
            done[k].fetch_add(1, std::memory_order_release);
        }
    }

    void wait(int k) const {
        const int n = part_end[(size_t)k] - unit_begin(k);
        while (done[k].load(std::memory_order_acquire) < n) std::this_thread::yield();
    }
};

} // namespace

int stage_upload(const BatchPlan &plan, unsigned char *upload, const StagingOptions &opt,
                 const std::function<bool(int64_t lo, int64_t hi)> &ship) {
    Copier copier;
    copier.build(plan, upload, opt);
    std::memcpy(upload, plan.meta.data(), plan.meta.size());
    std::vector<std::thread> workers;
    const int threads = std::max(1, opt.threads);
    workers.reserve((size_t)threads); // no allocation (nor exception) once a thread runs
    for (int i = 1; i < threads; ++i) {
        try {
            workers.emplace_back([&copier] {
                for (int k = 0; k < copier.parts(); ++k) copier.drain(k);
            });
        } catch (const std::system_error &) {
            break; // fewer threads: the calling thread copies whatever is left
        }
    }
    int shipped = 0;
    bool shipping = true;
    for (int k = 0; k < copier.parts(); ++k) {
        copier.drain(k);
        copier.wait(k);
        const int64_t lo = copier.part_lo[(size_t)k], hi = copier.part_lo[(size_t)k + 1];
        if (!shipping || hi <= lo) continue; // keep copying: the workers never wait for this thread
        shipping = ship(lo, hi);
        ++shipped;
    }
    for (std::thread &w : workers) w.join();
    return shipped;
}

} // namespace cuda
} // namespace fx

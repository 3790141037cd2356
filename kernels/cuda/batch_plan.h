// Host-side planning of one CUDA preprocessing batch: validation, Pillow taps (fx::axis_taps), the staged
// region of each image, and the layout of the single upload buffer the kernel reads
// (kernels/cuda/preprocess_core.h). Plain C++ with no CUDA calls, so the emulation test can use it too.
#ifndef FIXRES4J_KERNELS_CUDA_BATCH_PLAN_H
#define FIXRES4J_KERNELS_CUDA_BATCH_PLAN_H

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "preprocess_core.h"

namespace fx {
namespace cuda {

// One image's staged region: `rows` rows of `row_bytes` bytes, copied from `src` (stride `src_stride`) to
// offset `dst` of the upload buffer, rows packed (pitch == row_bytes).
struct StagedCopy {
    const uint8_t *src;
    int64_t src_stride;
    int64_t dst;
    int64_t rows;
    int64_t row_bytes;
};

struct PlanOptions {
    int smem_budget = 48 * 1024; // most dynamic shared memory per block (raised to the minimum if below it)
    bool force_dynamic = false;  // use the K == 0 kernel (no register coefficients) whatever the kernel sizes
};

struct BatchPlan {
    BatchParams params{};               // everything but base and out
    int K = 0;                          // kernel variant: 8, 16, 32 (coefficients in registers) or 0 (dynamic)
    int max_ksize = 0;                  // largest number of taps of any output pixel of the batch
    std::vector<unsigned char> meta;    // bytes [0, data_off) of the upload: descriptors, value table, taps
    std::vector<StagedCopy> copies;     // one per job, in job order (increasing dst)
    int64_t data_off = 0;               // where the staged pixels start in the upload
    int64_t total_bytes = 0;            // size of the upload buffer (meta, pixels, tail padding)
    int64_t staged_bytes = 0;           // pixel bytes staged (sum of rows * row_bytes)
    int64_t out_bytes = 0;              // bytes the kernel writes
    int64_t tiles = 0;                  // blocks' work items: count * tiles_x * tiles_y
};

// Validates the output and every job (fx::validate_job) and plans the batch, with fx_preprocess_cpu_batch's
// rules: count >= 0, jobs non-null when count > 0; count == 0 plans nothing (tiles == 0). On error the calling
// thread's message is set.
fx_status plan_batch(const fx_preprocess_job *jobs, int32_t count, const fx_output *out, const PlanOptions &opt,
                     BatchPlan *plan);

// Copies the staged pixels of jobs [first, last) into `upload` (the host image of the upload buffer).
void copy_staged(const BatchPlan &plan, unsigned char *upload, size_t first, size_t last);

struct StagingOptions {
    int threads = 1;                   // copying threads, the calling thread included (more are started)
    int64_t unit_bytes = 512 << 10;    // a thread's work unit: rows of one image, about this many bytes
    int64_t part_bytes = 16 << 20;     // bytes of pixels per shipped part
    int max_parts = 16;
};

// Fills the host upload buffer (descriptors, table, taps, then every staged region) and, on the calling thread,
// hands its parts to `ship(lo, hi)` in order as soon as each is complete; the parts cover [0, total_bytes)
// exactly once. The next part is copied while the previous one ships (e.g. with cudaMemcpyAsync). Once `ship`
// returns false it is not called again, but the copying still completes. Returns the number of parts shipped.
// Worker threads that cannot be started are done without. Never throws once a worker runs.
int stage_upload(const BatchPlan &plan, unsigned char *upload, const StagingOptions &opt,
                 const std::function<bool(int64_t lo, int64_t hi)> &ship);

} // namespace cuda
} // namespace fx

#endif

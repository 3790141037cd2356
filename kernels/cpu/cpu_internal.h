// Internal interface between the CPU driver (preprocess.cpp, baseline ISA) and the per-ISA row kernels
// (preprocess_scalar.cpp, preprocess_avx2.cpp and its variants). Plain structs and raw pointers only: the AVX2 translation unit is compiled with
// -mavx2 and must not instantiate templates or inline functions shared with baseline code (the linker could
// keep its AVX2 copy for everyone), so it includes nothing but this header, internal.h and intrinsics.
#ifndef FIXRES4J_KERNELS_CPU_INTERNAL_H
#define FIXRES4J_KERNELS_CPU_INTERNAL_H

#include "internal.h"

#include <cstddef>
#include <cstdint>

namespace fx {
namespace cpu {

// Bytes of slack after every scratch row the kernels read with vector loads (plus the horizontal ksize for
// the deinterleaved input rows).
constexpr int32_t kRowSlack = 64;
// Scratch bytes per vertical tap the vertical kernels may use (IsaOps::vrow's work).
constexpr int32_t kVrowWorkPerTap = 128;

// One job's horizontal pass, as the row kernels see it.
struct HorizontalJob {
    const uint8_t *src; // the roi's top-left pixel
    int64_t stride;     // image row stride in bytes
    int32_t channels;   // 1, 3 or 4
    int32_t nplanes;    // 1 (gray, replicated when written) or 3
    int32_t src_ch[3];  // source channel of each plane; planes are in *output* channel order
    int32_t out_w;      // outputs per row, in output order (flip applied)
    int32_t ksize;      // coefficients per output in coeffs
    const int32_t *first; // [out_w] first input column (roi-relative), n[i] taps, coeffs[i * ksize + t]
    const int32_t *n;
    const int32_t *coeffs;
    int32_t sx0, sx1;      // input columns read by the taps: [sx0, sx1), sx0 < sx1
    int32_t max_n;         // max(n)
    const uint8_t *prep;   // ISA tables built by IsaOps::hprep (nullptr if hprep_size returned 0)
    uint8_t *planes[3];    // scratch rows: (sx1 - sx0) + ksize + kRowSlack bytes each, zero-filled slack
};

// Where and how one output row is written.
struct EmitJob {
    uint8_t *out;          // out->data
    int64_t index;         // batch slot
    int32_t layout, dtype; // FX_LAYOUT_*, FX_DTYPE_*
    int32_t out_w, out_h;
    int32_t nplanes;           // 1: plane 0 feeds the three output channels
    const ValueTable *table;   // nullptr for FX_DTYPE_UINT8
    int32_t arith;             // IsaOps::check_arith's answer for this output (0: use the table)
};

struct IsaOps {
    const char *name;
    // Bytes of ISA-specific horizontal tables for this job, and their construction into buf (64-byte aligned).
    size_t (*hprep_size)(const HorizontalJob &job);
    void (*hprep)(const HorizontalJob &job, uint8_t *buf);
    // One input row (src row at roi column 0) -> nplanes rows dst[p] of out_w values (writes may run up to
    // the next multiple of 32 past out_w; dst rows have that room).
    void (*hrow)(const HorizontalJob &job, const uint8_t *src_row, uint8_t *const *dst);
    // Vertical pass of one output row: rows[t * 3 + p] (t < n, p < nplanes) weighted by k[t] -> dst[p],
    // `width` values (may compute up to the next multiple of 32). work: kVrowWorkPerTap * n + 64 bytes of scratch.
    void (*vrow)(int32_t nplanes, int32_t width, const uint8_t *const *rows, int32_t n, const int32_t *k,
                 uint8_t *const *dst, void *work);
    // Writes output row y from the rows of values vb[p] (padded to a multiple of 32 plus kRowSlack).
    void (*emit)(const EmitJob &job, int32_t y, const uint8_t *const *vb);
    // Which arithmetic normalisation the ISA's emit may use for `out`, verified equal to the table for every
    // value of every channel (ISA-specific code; 0: none, use the table). nullptr: the ISA always uses the table.
    int32_t (*check_arith)(const fx_output *out, const ValueTable *table);
};

const IsaOps &scalar_ops();
// The ops of the ISA selected now (fx_cpu_set_isa / FIXRES4J_CPU_ISA / detection).
const IsaOps &current_ops();
// Incremented by every fx_cpu_set_isa / fx_cpu_set_arith call: per-thread cached decisions (IsaOps::check_arith)
// are redone.
uint32_t isa_generation();
// fx_cpu_set_arith's mode (FX_ARITH_*), for IsaOps::check_arith.
int32_t arith_mode();
#if defined(FIXRES4J_HAVE_AVX2)
const IsaOps &avx2_ops();
// preprocess_avx2.cpp compiled as its AVX-VNNI variant (FX_ISA_AVX2_VNNI), and the 512-bit kernels of FX_ISA_AVX512
// built on its AVX512-VNNI variant (preprocess_avx512.cpp).
const IsaOps &avxvnni_ops();
const IsaOps &avx512_ops();
#endif

// ---- the worker pool of fx_preprocess_cpu_batch (pool.cpp) ---------------------------------------------------
// Work of one batch call: run(ctx) claims items until none is left and returns; it is called by the caller and
// by every worker that joins, concurrently, and must not throw.
struct BatchFn {
    void (*run)(void *ctx);
    void *ctx;
};
// Runs fn on the calling thread and on up to `helpers` persistent workers of the library's pool (created and
// grown as needed), and returns once every run has returned. Safe to call from several threads at once (each
// call is its own queue entry). Without workers (shut down, forked child, no thread could start) fn runs on
// the caller alone, so fn must complete all items whoever runs it.
void run_batch(BatchFn &fn, int32_t helpers);
// Workers in the pool now (0 before the first batch call that wanted helpers). For tests.
int32_t pool_threads();
// Runs fn on `threads` threads, the caller being one of them, and returns once every run has returned: on the
// team of the OpenMP runtime libtorch already loaded (the same threads as libtorch's own operators) unless
// fx_depthwise_set_threading chose the pool or no such runtime is loaded, else on the pool (run_batch with
// threads - 1 helpers). As with run_batch, fn must complete all items whoever runs it, and must not throw.
void run_parallel(BatchFn &fn, int32_t threads);
// What run_parallel uses now: FX_THREADING_OPENMP or FX_THREADING_POOL.
int32_t threading_in_use();

} // namespace cpu
} // namespace fx

#endif

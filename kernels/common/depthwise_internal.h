// Internal pieces of the depthwise kernels shared by the CPU and CUDA sides (not part of the C ABI).
#ifndef FIXRES4J_KERNELS_COMMON_DEPTHWISE_INTERNAL_H
#define FIXRES4J_KERNELS_COMMON_DEPTHWISE_INTERNAL_H

#include "fixres4j/depthwise.h"
#include "internal.h"

#include <cstdint>

namespace fx {

// Element counts of a validated shape.
struct DwCounts {
    int64_t x, y, w, nc; // n*c*h*w, n*c*out_h*out_w, c*k*k, n*c
};

// Validates every field of *shape, including out_h/out_w against the formula; fills *counts. `fn` names the
// entry point in the message.
fx_status dw_validate_shape(const char *fn, const fx_depthwise_shape *shape, DwCounts *counts);

// true when [a, a + an) and [b, b + bn) (bytes) overlap; null or empty ranges never overlap.
bool dw_overlap(const void *a, int64_t an, const void *b, int64_t bn);

} // namespace fx

#endif

// CPU feature detection and the process-wide choice of the CPU kernels' ISA.
#include "cpu_internal.h"

#include <atomic>

namespace fx {
namespace cpu {

namespace {

int32_t detect_avx2() {
#if defined(FIXRES4J_HAVE_AVX2)
    __builtin_cpu_init();
    return (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c")) ? 1
                                                                                                              : 0;
#else
    return 0;
#endif
}

int32_t cpu_has_avx2() {
    static const int32_t has = detect_avx2();
    return has;
}

std::atomic<int32_t> g_isa{FX_ISA_AUTO}; // FX_ISA_AUTO until resolved
std::atomic<uint32_t> g_generation{0};

int32_t resolve(int32_t isa) {
    if (isa == FX_ISA_AUTO) return cpu_has_avx2() ? FX_ISA_AVX2 : FX_ISA_SCALAR;
    return isa;
}

} // namespace

uint32_t isa_generation() { return g_generation.load(std::memory_order_relaxed); }

const IsaOps &current_ops() {
#if defined(FIXRES4J_HAVE_AVX2)
    if (resolve(g_isa.load(std::memory_order_relaxed)) == FX_ISA_AVX2) return avx2_ops();
#endif
    return scalar_ops();
}

} // namespace cpu
} // namespace fx

extern "C" {

FX_API int32_t fx_cpu_supports_avx2(void) { return fx::cpu::cpu_has_avx2(); }

FX_API fx_status fx_cpu_set_isa(int32_t isa) {
    using namespace fx::cpu;
    switch (isa) {
    case FX_ISA_AUTO:
    case FX_ISA_SCALAR:
        g_isa.store(isa);
        g_generation.fetch_add(1);
        return FX_OK;
    case FX_ISA_AVX2:
        if (!cpu_has_avx2())
            return fx::fail(FX_ERR_UNSUPPORTED, "fx_cpu_set_isa: this CPU (or this build) has no AVX2 + FMA + F16C");
        g_isa.store(isa);
        g_generation.fetch_add(1);
        return FX_OK;
    default:
        return fx::fail(FX_ERR_INVALID_ARGUMENT,
                        "fx_cpu_set_isa: isa must be FX_ISA_AUTO (0), FX_ISA_SCALAR (1) or FX_ISA_AVX2 (2) (got %d)",
                        (int)isa);
    }
}

FX_API int32_t fx_cpu_isa(void) { return fx::cpu::resolve(fx::cpu::g_isa.load()); }

} // extern "C"

// CPU feature detection and the process-wide choice of the CPU kernels' ISA.
#include "cpu_internal.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

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

// Which 256-bit vpdpwssd the CPU has: 0 none, 1 AVX-VNNI (VEX), 2 AVX512-VNNI + VL only (EVEX).
// (__builtin_cpu_supports checks that the OS saves the AVX-512 state too.)
int32_t detect_vnni() {
#if defined(FIXRES4J_HAVE_AVX2)
    if (!cpu_has_avx2()) return 0;
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avxvnni")) return 1;
    if (__builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vl")) return 2;
#endif
    return 0;
}

int32_t cpu_vnni() {
    static const int32_t v = detect_vnni();
    return v;
}

std::atomic<int32_t> g_isa{FX_ISA_AUTO}; // FX_ISA_AUTO until resolved
std::atomic<int32_t> g_vnni{0};          // the VNNI variant FX_ISA_AVX2_VNNI uses (chosen by fx_cpu_set_isa)
std::atomic<bool> g_vnni_set{false};
std::atomic<uint32_t> g_generation{0};

int32_t resolve(int32_t isa) {
    if (isa == FX_ISA_AUTO) return cpu_vnni() ? FX_ISA_AVX2_VNNI : (cpu_has_avx2() ? FX_ISA_AVX2 : FX_ISA_SCALAR);
    return isa;
}

// The variant of FX_ISA_AVX2_VNNI: the CPU's own, unless FIXRES4J_CPU_VNNI=avx512 asks for the EVEX form on a
// CPU that has both (tests; read by fx_cpu_set_isa).
int32_t choose_vnni() {
    const int32_t v = cpu_vnni();
    const char *force = std::getenv("FIXRES4J_CPU_VNNI");
    if (v == 1 && force != nullptr && std::strcmp(force, "avx512") == 0) {
#if defined(FIXRES4J_HAVE_AVX2)
        if (__builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vl")) return 2;
#endif
    }
    return v;
}

} // namespace

uint32_t isa_generation() { return g_generation.load(std::memory_order_relaxed); }

const IsaOps &current_ops() {
#if defined(FIXRES4J_HAVE_AVX2)
    switch (resolve(g_isa.load(std::memory_order_relaxed))) {
    case FX_ISA_AVX2: return avx2_ops();
    case FX_ISA_AVX2_VNNI: {
        const int32_t v = g_vnni_set.load(std::memory_order_acquire) ? g_vnni.load(std::memory_order_relaxed) : cpu_vnni();
        if (v == 2) return avx512vnni_ops();
        if (v == 1) return avxvnni_ops();
        return avx2_ops(); // cannot happen: resolve / fx_cpu_set_isa check cpu_vnni()
    }
    default: break;
    }
#endif
    return scalar_ops();
}

} // namespace cpu
} // namespace fx

extern "C" {

FX_API int32_t fx_cpu_supports_avx2(void) { return fx::cpu::cpu_has_avx2(); }

FX_API int32_t fx_cpu_supports_avx2_vnni(void) { return fx::cpu::cpu_vnni() != 0 ? 1 : 0; }

FX_API fx_status fx_cpu_set_isa(int32_t isa) {
    using namespace fx::cpu;
    switch (isa) {
    case FX_ISA_AUTO:
    case FX_ISA_SCALAR:
        break;
    case FX_ISA_AVX2:
        if (!cpu_has_avx2())
            return fx::fail(FX_ERR_UNSUPPORTED, "fx_cpu_set_isa: this CPU (or this build) has no AVX2 + FMA + F16C");
        break;
    case FX_ISA_AVX2_VNNI:
        if (cpu_vnni() == 0)
            return fx::fail(FX_ERR_UNSUPPORTED,
                            "fx_cpu_set_isa: this CPU (or this build) has no AVX2 + FMA + F16C with AVX-VNNI or AVX512-VNNI/VL");
        break;
    default:
        return fx::fail(FX_ERR_INVALID_ARGUMENT,
                        "fx_cpu_set_isa: isa must be FX_ISA_AUTO (0), FX_ISA_SCALAR (1), FX_ISA_AVX2 (2) or "
                        "FX_ISA_AVX2_VNNI (3) (got %d)",
                        (int)isa);
    }
    g_vnni.store(choose_vnni(), std::memory_order_relaxed);
    g_vnni_set.store(true, std::memory_order_release);
    g_isa.store(isa);
    g_generation.fetch_add(1);
    return FX_OK;
}

FX_API int32_t fx_cpu_isa(void) { return fx::cpu::resolve(fx::cpu::g_isa.load()); }

} // extern "C"

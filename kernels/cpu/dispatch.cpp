// CPU feature detection, the process-wide choice of the CPU kernels' ISA (preprocessing and depthwise alike) and
// the kernels' only environment override (FIXRES4J_CPU_ISA, read once here).
#include "cpu_internal.h"

#include <atomic>
#include <cstdio>
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

// AVX-VNNI: the VEX-encoded 256-bit vpdpwssd (Alder Lake and later Intel cores, Zen 5).
int32_t detect_avxvnni() {
#if defined(FIXRES4J_HAVE_AVX2)
    if (!cpu_has_avx2()) return 0;
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avxvnni")) return 1;
#endif
    return 0;
}

int32_t cpu_has_avxvnni() {
    static const int32_t v = detect_avxvnni();
    return v;
}

// AVX-512 F/VL/BW/DQ + VNNI (Ice Lake, Sapphire Rapids, Zen 4, Zen 5). __builtin_cpu_supports checks that the OS
// saves the AVX-512 state too.
int32_t detect_avx512() {
#if defined(FIXRES4J_HAVE_AVX2)
    if (!cpu_has_avx2()) return 0;
    __builtin_cpu_init();
    return (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
            __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
            __builtin_cpu_supports("avx512vnni"))
               ? 1
               : 0;
#else
    return 0;
#endif
}

int32_t cpu_has_avx512() {
    static const int32_t v = detect_avx512();
    return v;
}

bool supported(int32_t isa) {
    switch (isa) {
    case FX_ISA_AUTO:
    case FX_ISA_SCALAR: return true;
    case FX_ISA_AVX2: return cpu_has_avx2() != 0;
    case FX_ISA_AVX2_VNNI: return cpu_has_avxvnni() != 0;
    case FX_ISA_AVX512: return cpu_has_avx512() != 0;
    default: return false;
    }
}

int32_t best_isa() {
    if (cpu_has_avx512()) return FX_ISA_AVX512;
    if (cpu_has_avxvnni()) return FX_ISA_AVX2_VNNI;
    return cpu_has_avx2() ? FX_ISA_AVX2 : FX_ISA_SCALAR;
}

// FIXRES4J_CPU_ISA, read once: the initial ISA (FX_ISA_AUTO when unset or unusable) and what was done with it.
struct EnvChoice {
    int32_t isa = FX_ISA_AUTO;
    char message[200] = "";
};

const EnvChoice &env_choice() {
    static const EnvChoice choice = [] {
        EnvChoice c;
        const char *v = std::getenv("FIXRES4J_CPU_ISA");
        if (v == nullptr) return c;
        static const struct {
            const char *name;
            int32_t isa;
        } kNames[] = {{"auto", FX_ISA_AUTO},
                      {"scalar", FX_ISA_SCALAR},
                      {"avx2", FX_ISA_AVX2},
                      {"avx2-vnni", FX_ISA_AVX2_VNNI},
                      {"avx512", FX_ISA_AVX512}};
        for (const auto &n : kNames) {
            if (std::strcmp(v, n.name) != 0) continue;
            if (supported(n.isa)) {
                c.isa = n.isa;
                std::snprintf(c.message, sizeof c.message, "FIXRES4J_CPU_ISA=%s applied", n.name);
            } else {
                std::snprintf(c.message, sizeof c.message, "FIXRES4J_CPU_ISA=%s ignored: this CPU (or build) lacks it",
                              n.name);
            }
            return c;
        }
        std::snprintf(c.message, sizeof c.message,
                      "FIXRES4J_CPU_ISA=%.40s ignored: expected auto, scalar, avx2, avx2-vnni or avx512", v);
        return c;
    }();
    return choice;
}

constexpr int32_t kUnset = -1;
std::atomic<int32_t> g_isa{kUnset}; // kUnset until fx_cpu_set_isa: the environment's choice
std::atomic<int32_t> g_arith{FX_ARITH_AUTO};
std::atomic<uint32_t> g_generation{0};

int32_t resolve(int32_t isa) {
    if (isa == kUnset) isa = env_choice().isa;
    return isa == FX_ISA_AUTO ? best_isa() : isa;
}

} // namespace

uint32_t isa_generation() { return g_generation.load(std::memory_order_relaxed); }

int32_t arith_mode() { return g_arith.load(std::memory_order_relaxed); }

const IsaOps &current_ops() {
#if defined(FIXRES4J_HAVE_AVX2)
    switch (resolve(g_isa.load(std::memory_order_relaxed))) {
    case FX_ISA_AVX2: return avx2_ops();
    case FX_ISA_AVX2_VNNI: return avxvnni_ops();
    case FX_ISA_AVX512: return avx512_ops();
    default: break;
    }
#endif
    return scalar_ops();
}

} // namespace cpu
} // namespace fx

extern "C" {

FX_API int32_t fx_cpu_supports_avx2(void) { return fx::cpu::cpu_has_avx2(); }

FX_API int32_t fx_cpu_supports_avx2_vnni(void) { return fx::cpu::cpu_has_avxvnni(); }

FX_API int32_t fx_cpu_supports_avx512(void) { return fx::cpu::cpu_has_avx512(); }

FX_API fx_status fx_cpu_set_isa(int32_t isa) {
    using namespace fx::cpu;
    switch (isa) {
    case FX_ISA_AUTO:
    case FX_ISA_SCALAR:
        break;
    case FX_ISA_AVX2:
        if (!supported(isa))
            return fx::fail(FX_ERR_UNSUPPORTED, "fx_cpu_set_isa: this CPU (or this build) has no AVX2 + FMA + F16C");
        break;
    case FX_ISA_AVX2_VNNI:
        if (!supported(isa))
            return fx::fail(FX_ERR_UNSUPPORTED, "fx_cpu_set_isa: this CPU (or this build) has no AVX2 + FMA + F16C + AVX-VNNI");
        break;
    case FX_ISA_AVX512:
        if (!supported(isa))
            return fx::fail(FX_ERR_UNSUPPORTED,
                            "fx_cpu_set_isa: this CPU (or this build) has no AVX-512 F/VL/BW/DQ + AVX512-VNNI (with AVX2 + FMA + F16C)");
        break;
    default:
        return fx::fail(FX_ERR_INVALID_ARGUMENT,
                        "fx_cpu_set_isa: isa must be FX_ISA_AUTO (0), FX_ISA_SCALAR (1), FX_ISA_AVX2 (2), "
                        "FX_ISA_AVX2_VNNI (3) or FX_ISA_AVX512 (4) (got %d)",
                        (int)isa);
    }
    g_isa.store(isa);
    g_generation.fetch_add(1);
    return FX_OK;
}

FX_API int32_t fx_cpu_isa(void) { return fx::cpu::resolve(fx::cpu::g_isa.load()); }

FX_API const char *fx_cpu_isa_override(void) { return fx::cpu::env_choice().message; }

FX_API fx_status fx_cpu_set_arith(int32_t mode) {
    if (mode != FX_ARITH_AUTO && mode != FX_ARITH_MARKSTEIN && mode != FX_ARITH_TABLE)
        return fx::fail(FX_ERR_INVALID_ARGUMENT,
                        "fx_cpu_set_arith: mode must be FX_ARITH_AUTO (0), FX_ARITH_MARKSTEIN (1) or FX_ARITH_TABLE (2) "
                        "(got %d)",
                        (int)mode);
    fx::cpu::g_arith.store(mode);
    fx::cpu::g_generation.fetch_add(1); // per-thread check_arith decisions are redone
    return FX_OK;
}

} // extern "C"

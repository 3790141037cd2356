// Thread-local error messages, the ABI version and the build description.
#include "internal.h"

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <string>

namespace fx {

namespace {
constexpr size_t kMessageCapacity = 1024;
thread_local char t_message[kMessageCapacity] = {0};
} // namespace

fx_status fail(fx_status code, const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    int n = std::vsnprintf(t_message, kMessageCapacity, fmt, args);
    va_end(args);
    if (n < 0) {
        std::snprintf(t_message, kMessageCapacity, "error %d (the message could not be formatted)", (int)code);
    }
    if (t_message[0] == '\0') {
        std::snprintf(t_message, kMessageCapacity, "error %d", (int)code);
    }
    return code;
}

fx_status ok() {
    t_message[0] = '\0';
    return FX_OK;
}

} // namespace fx

namespace {

std::string make_build_info() {
    std::string s = "fixres4j kernels, ABI ";
    s += std::to_string(FX_ABI_VERSION);
#if defined(__clang__)
    s += ", clang " __clang_version__;
#elif defined(__GNUC__)
    s += ", gcc " __VERSION__;
#endif
    s += ", C++ " + std::to_string((long)__cplusplus);
#if defined(FIXRES4J_HAVE_AVX2)
    s += ", CPU: scalar + AVX2/FMA + AVX2/VNNI + AVX-512 (runtime dispatch)";
#else
    s += ", CPU: scalar";
#endif
#if defined(FIXRES4J_WITH_CUDA) && FIXRES4J_WITH_CUDA
    s += ", CUDA: compiled";
#else
    s += ", CUDA: not compiled";
#endif
#if defined(NDEBUG)
    s += ", release";
#else
    s += ", debug";
#endif
    return s;
}

} // namespace

extern "C" {

FX_API const char *fx_last_error(void) { return fx::t_message; }

FX_API int32_t fx_abi_version(void) { return FX_ABI_VERSION; }

FX_API const char *fx_build_info(void) {
    // Built once (thread-safe static initialisation); make_build_info cannot throw in practice but an
    // exception must never cross the C ABI.
    static const char *info = []() -> const char * {
        try {
            static std::string s = make_build_info();
            return s.c_str();
        } catch (...) {
            return "fixres4j kernels";
        }
    }();
    return info;
}

} // extern "C"

// avx2.cpp as its AVX512-VNNI + AVX512-VL variant (avx512vnni_ops, 256-bit EVEX vpdpwssd): compiled with
// -mavx2 -mfma -mf16c -mavx512f -mavx512vl -mavx512bw -mavx512vnni (for CPUs without AVX-VNNI: Zen 4, Ice Lake).
#define FX_AVX2_VARIANT 2
#include "avx2.cpp"

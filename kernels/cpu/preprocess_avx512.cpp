// preprocess_avx2.cpp as its AVX512-VNNI variant (avx512_ops, FX_ISA_AVX512: EVEX vpdpwssd): compiled with
// -mavx2 -mfma -mf16c -mavx512f -mavx512vl -mavx512bw -mavx512dq -mavx512vnni.
#define FX_AVX2_VARIANT 2
#include "preprocess_avx2.cpp"

// preprocess_avx2.cpp as its AVX-VNNI variant (avxvnni_ops, FX_ISA_AVX2_VNNI): compiled with
// -mavx2 -mfma -mf16c -mavxvnni.
#define FX_AVX2_VARIANT 1
#include "preprocess_avx2.cpp"

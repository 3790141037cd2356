// avx2.cpp as its AVX-VNNI variant (avxvnni_ops): compiled with -mavx2 -mfma -mf16c -mavxvnni.
#define FX_AVX2_VARIANT 1
#include "avx2.cpp"

# The depthwise-convolution kernels of libfixres4j_kernels: included by cmake/CMakeLists.txt once the
# target fixres4j_kernels exists and the CUDA decision (FIXRES_WITH_CUDA) is made.
#   kernels/common/depthwise_shape.cpp   shape validation shared by CPU and CUDA, fx_depthwise_shape_derive
#   kernels/cpu/depthwise.cpp            CPU entry points, portable forward kernels, backward
#   kernels/cpu/depthwise_avx2.cpp       AVX2 + FMA forward kernels (x86-64 only, chosen at run time)
#   kernels/cpu/depthwise_avx512.cpp     AVX-512 NHWC forward kernels (x86-64 only, FX_ISA_AVX512)
#   kernels/cpu/depthwise_avx512_bf16.cpp  the same with AVX512-BF16 rounding for bfloat16 outputs
#   kernels/cuda/depthwise.cu            CUDA entry points (with CUDA), else kernels/cuda/depthwise_stub.cpp
set(FIXRES_DW_SOURCES
  ${FIXRES_KERNELS_DIR}/common/depthwise_shape.cpp
  ${FIXRES_KERNELS_DIR}/cpu/depthwise.cpp)
if(FIXRES_X86_64)
  set(FIXRES_DW_AVX2_SOURCE ${FIXRES_KERNELS_DIR}/cpu/depthwise_avx2.cpp)
  list(APPEND FIXRES_DW_SOURCES ${FIXRES_DW_AVX2_SOURCE})
  set_source_files_properties(${FIXRES_DW_AVX2_SOURCE} PROPERTIES COMPILE_OPTIONS "-mavx2;-mfma")
  # (-Wno-maybe-uninitialized: GCC 12 warns inside its own _mm512_undefined_ps)
  set(FIXRES_DW_AVX512_SOURCE ${FIXRES_KERNELS_DIR}/cpu/depthwise_avx512.cpp)
  list(APPEND FIXRES_DW_SOURCES ${FIXRES_DW_AVX512_SOURCE})
  set_source_files_properties(${FIXRES_DW_AVX512_SOURCE} PROPERTIES
    COMPILE_OPTIONS "-mavx2;-mfma;-mavx512f;-mavx512vl;-mavx512bw;-mavx512dq;-Wno-maybe-uninitialized")
  target_compile_definitions(fixres4j_kernels PRIVATE FIXRES4J_HAVE_AVX512_DW=1)
  # the same kernels with AVX512-BF16's vcvtneps2bf16 for bfloat16 outputs (chosen at run time, depthwise.cpp)
  set(FIXRES_DW_AVX512_BF16_SOURCE ${FIXRES_KERNELS_DIR}/cpu/depthwise_avx512_bf16.cpp)
  list(APPEND FIXRES_DW_SOURCES ${FIXRES_DW_AVX512_BF16_SOURCE})
  set_source_files_properties(${FIXRES_DW_AVX512_BF16_SOURCE} PROPERTIES
    COMPILE_OPTIONS "-mavx2;-mfma;-mavx512f;-mavx512vl;-mavx512bw;-mavx512dq;-mavx512bf16;-Wno-maybe-uninitialized")
  target_compile_definitions(fixres4j_kernels PRIVATE FIXRES4J_HAVE_AVX512_BF16_DW=1)
endif()
if(FIXRES_WITH_CUDA AND EXISTS "${FIXRES_KERNELS_DIR}/cuda/depthwise.cu")
  list(APPEND FIXRES_DW_SOURCES ${FIXRES_KERNELS_DIR}/cuda/depthwise.cu)
  set(FIXRES_DW_CUDA ON)
else()
  list(APPEND FIXRES_DW_SOURCES ${FIXRES_KERNELS_DIR}/cuda/depthwise_stub.cpp)
  set(FIXRES_DW_CUDA OFF)
endif()
target_sources(fixres4j_kernels PRIVATE ${FIXRES_DW_SOURCES})
target_include_directories(fixres4j_kernels PRIVATE ${FIXRES_KERNELS_DIR}/cuda)
message(STATUS "fixres4j: depthwise kernels, CUDA ${FIXRES_DW_CUDA}")

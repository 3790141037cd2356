# The CUDA part of libfixres4j_kernels. Included by cmake/CMakeLists.txt after the target fixres4j_kernels exists,
# only when CUDA is enabled (enable_language(CUDA) done, CMAKE_CUDA_ARCHITECTURES set, e.g. 80;90).
#
# The library links the CUDA runtime statically (CUDA::cudart_static): it depends on no libcudart.so, finds the
# driver (libcuda.so.1) at run time, and on a machine without driver or GPU fx_cuda_device_count answers
# FX_ERR_STATE (cudaErrorInsufficientDriver / cudaErrorNoDevice) instead of failing to load. The runtime's
# symbols stay inside the library (--exclude-libs and the version script export fx_* only), so a process that
# also loads libtorch's libcudart.so is unaffected; both runtimes share the driver's primary context, so device
# pointers and streams pass between them.
#
# Tests (with FIXRES_BUILD_TESTS): test_cuda_preprocess (GPU vs CPU byte for byte, Pillow goldens, validation;
# prints "SKIPPED: no CUDA device (...)" and passes without a GPU), test_cuda_emulated (the kernel's block
# algorithm run on the host against the CPU kernel and the goldens: needs no GPU) and the benchmark executable
# bench_cuda_preprocess (not a test; tests/device/run.sh runs it).
find_package(CUDAToolkit REQUIRED)

set(FIXRES_CUDA_DIR "${FIXRES_KERNELS_DIR}/cuda")

target_sources(fixres4j_kernels PRIVATE
  "${FIXRES_CUDA_DIR}/preprocess.cu"
  "${FIXRES_CUDA_DIR}/batch_plan.cpp"
  "${FIXRES_CUDA_DIR}/cuda_check.cpp")
target_include_directories(fixres4j_kernels PRIVATE "${FIXRES_CUDA_DIR}")
target_compile_definitions(fixres4j_kernels PRIVATE FIXRES4J_WITH_CUDA=1)
target_link_libraries(fixres4j_kernels PRIVATE CUDA::cudart_static)
# keep the static runtime's symbols local to the library
target_link_options(fixres4j_kernels PRIVATE "LINKER:--exclude-libs,ALL")
set_target_properties(fixres4j_kernels PROPERTIES
  CUDA_SEPARABLE_COMPILATION OFF
  CUDA_RUNTIME_LIBRARY None        # linked explicitly above (static)
  CUDA_STANDARD 17
  CUDA_STANDARD_REQUIRED ON
  CUDA_VISIBILITY_PRESET hidden
  POSITION_INDEPENDENT_CODE ON)
# The device code is integer arithmetic and table lookups only (bit-exact by construction): no fp flags needed.
target_compile_options(fixres4j_kernels PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-fPIC>)

if(FIXRES_BUILD_TESTS)
  enable_testing()
  set(_fx_cuda_tests "${FIXRES_ROOT}/tests/native")
  set(_fx_golden_dir "${FIXRES_ROOT}/tests/data/preprocess")

  # On the GPU, through the C ABI (plus the CUDA runtime for device buffers and streams).
  add_executable(test_cuda_preprocess "${_fx_cuda_tests}/test_cuda_preprocess.cpp")
  target_include_directories(test_cuda_preprocess PRIVATE "${_fx_cuda_tests}")
  target_link_libraries(test_cuda_preprocess PRIVATE fixres4j_kernels CUDA::cudart_static Threads::Threads)
  target_compile_options(test_cuda_preprocess PRIVATE -Wall -Wextra)
  add_test(NAME cuda_preprocess COMMAND test_cuda_preprocess "${_fx_golden_dir}")
  set_tests_properties(cuda_preprocess PROPERTIES SKIP_RETURN_CODE 77) # no device: reported as skipped

  # The kernel's block algorithm on the host (no GPU needed), against the CPU kernel built from the same
  # sources as the library (it does not link the library: it needs the fx:: internals).
  if(DEFINED FIXRES_COMMON_SOURCES AND DEFINED FIXRES_CPU_SOURCES)
    set(_fx_emu_sources ${FIXRES_COMMON_SOURCES} ${FIXRES_CPU_SOURCES})
  else()
    file(GLOB _fx_emu_sources "${FIXRES_KERNELS_DIR}/common/*.cpp" "${FIXRES_KERNELS_DIR}/cpu/*.cpp")
  endif()
  add_executable(test_cuda_emulated "${_fx_cuda_tests}/test_cuda_emulated.cpp" "${FIXRES_CUDA_DIR}/batch_plan.cpp"
    ${_fx_emu_sources})
  target_include_directories(test_cuda_emulated PRIVATE "${FIXRES_KERNELS_DIR}/include" "${FIXRES_KERNELS_DIR}/common"
    "${FIXRES_KERNELS_DIR}/cpu" "${FIXRES_CUDA_DIR}" "${_fx_cuda_tests}")
  target_compile_options(test_cuda_emulated PRIVATE -ffp-contract=off -O2)
  if(FIXRES_X86_64)
    target_compile_definitions(test_cuda_emulated PRIVATE FIXRES4J_HAVE_AVX2=1)
  endif()
  target_link_libraries(test_cuda_emulated PRIVATE Threads::Threads)
  add_test(NAME cuda_emulated COMMAND test_cuda_emulated "${_fx_golden_dir}")

  # The benchmark of tests/device/run.sh (not a ctest).
  add_executable(bench_cuda_preprocess "${_fx_cuda_tests}/bench_cuda_preprocess.cu")
  target_include_directories(bench_cuda_preprocess PRIVATE "${FIXRES_CUDA_DIR}")
  target_link_libraries(bench_cuda_preprocess PRIVATE fixres4j_kernels CUDA::cudart_static)
  set_target_properties(bench_cuda_preprocess PROPERTIES CUDA_RUNTIME_LIBRARY None CUDA_STANDARD 17)
endif()

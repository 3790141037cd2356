# Depthwise-convolution tests and benchmark. Included by tests/native/CMakeLists.txt (fixres_abi_test is
# defined there).
fixres_abi_test(test_depthwise_cpu test_depthwise_cpu.cpp)
add_test(NAME depthwise_cpu COMMAND test_depthwise_cpu)
# The single-ISA checks on the AVX2 kernels too, where the CPU would pick the AVX-512 ones (fx_cpu_set_isa).
add_test(NAME depthwise_cpu_avx2 COMMAND test_depthwise_cpu --isa avx2)
# The kernels' threads on the OpenMP runtime of the process (libtorch's libgomp in the JVM; here the compiler's).
find_package(OpenMP COMPONENTS CXX)
if(OpenMP_CXX_FOUND)
  fixres_abi_test(test_depthwise_openmp test_depthwise_openmp.cpp)
  target_link_libraries(test_depthwise_openmp PRIVATE OpenMP::OpenMP_CXX)
  add_test(NAME depthwise_openmp COMMAND test_depthwise_openmp)
else()
  add_test(NAME depthwise_openmp COMMAND sh -c "echo 'SKIPPED: the compiler has no OpenMP'; exit 77")
  set_tests_properties(depthwise_openmp PROPERTIES SKIP_RETURN_CODE 77)
endif()

# Micro-benchmark (not a test): bench_depthwise_cpu [--threads 1,2] [--batch 8] [--iters N]
fixres_abi_test(bench_depthwise_cpu bench_depthwise_cpu.cpp)

# The CUDA kernels' block algorithms on the host (no GPU needed): kernels/cuda/depthwise_core.h.
fixres_abi_test(test_depthwise_cuda_emulated test_depthwise_cuda_emulated.cpp)
target_compile_options(test_depthwise_cuda_emulated PRIVATE -ffp-contract=off)
add_test(NAME depthwise_cuda_emulated COMMAND test_depthwise_cuda_emulated)

# On a GPU through the C ABI (prints SKIPPED and passes without one). Only in CUDA builds.
if(FIXRES_DW_CUDA)
  fixres_abi_test(test_depthwise_cuda test_depthwise_cuda.cpp)
  target_link_libraries(test_depthwise_cuda PRIVATE CUDA::cudart_static)
  add_test(NAME depthwise_cuda COMMAND test_depthwise_cuda)
  # Benchmark of tests/device/run.sh (not a test): B0..B7 layer shapes, forward / weight gradient / input
  # gradient, JSON for tests/device/depthwise_compare.py. A .cu file (its fill kernel): warnings through -Xcompiler.
  add_executable(bench_depthwise_cuda bench_depthwise_cuda.cu)
  target_include_directories(bench_depthwise_cuda PRIVATE "${FIXRES_TEST_DIR}")
  target_link_libraries(bench_depthwise_cuda PRIVATE fixres4j_kernels CUDA::cudart_static)
  target_compile_options(bench_depthwise_cuda PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall,-Wextra>)
  set_target_properties(bench_depthwise_cuda PROPERTIES CUDA_RUNTIME_LIBRARY None CUDA_STANDARD 17
                        BUILD_RPATH "${CMAKE_BINARY_DIR}")
endif()

# The bfloat16 forward: the rounding rule bit for bit on every ISA the CPU runs, accuracy, validation.
fixres_abi_test(test_depthwise_bf16_cpu test_depthwise_bf16_cpu.cpp)
add_test(NAME depthwise_bf16_cpu COMMAND test_depthwise_bf16_cpu)

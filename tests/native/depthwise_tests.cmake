# Depthwise-convolution tests and benchmark (issue 4). Included by tests/native/CMakeLists.txt (fixres_abi_test is
# defined there).
fixres_abi_test(test_depthwise_cpu test_depthwise_cpu.cpp)
add_test(NAME depthwise_cpu COMMAND test_depthwise_cpu)

# Micro-benchmark (not a test): bench_depthwise_cpu [--threads 1,2] [--batch 8] [--iters N]
fixres_abi_test(bench_depthwise_cpu bench_depthwise_cpu.cpp)

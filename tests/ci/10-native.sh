#!/usr/bin/env bash
# Native kernels: CMake build + ctest.
source "$(dirname "$0")/lib.sh"
cmake -S cmake -B target/cmake-tests -DCMAKE_BUILD_TYPE=Release -DFIXRES_CUDA="${FIXRES_CUDA:-AUTO}" \
      -DFIXRES_BUILD_TESTS=ON >/dev/null
cmake --build target/cmake-tests -j "$(nproc)" >/dev/null
ctest --test-dir target/cmake-tests --output-on-failure

#!/usr/bin/env bash
# CI step: the GPU check's scripts without a GPU. run.sh is only syntax-checked (it needs nvcc and a device);
# torch_compare.py needs torch and bench_cuda_preprocess's output, so it is only byte-compiled; depthwise_compare.py
# runs its CPU dry run on a fake bench (--device cpu --make-fake): with torch installed the full logic, without
# torch (the CI machines) the spot check against numpy's float64 reference and the tables, no torch timings. A fake
# bench with one corrupted value must fail (exit 1): the check can fail.
set -euo pipefail
start=$SECONDS
bash -n tests/device/run.sh
python3 -m py_compile tests/device/torch_compare.py tests/device/depthwise_compare.py
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 tests/device/depthwise_compare.py --device cpu --make-fake "$work/ok" --reps 2 > "$work/ok.log" 2>&1 \
  || { cat "$work/ok.log"; echo "depthwise_compare.py dry run failed" >&2; exit 1; }
grep -E "^(torch is not installed|correctness)" "$work/ok.log"
rc=0
python3 tests/device/depthwise_compare.py --device cpu --make-fake "$work/bad" --fake-corrupt --reps 2 \
  > "$work/bad.log" 2>&1 || rc=$?
if [ "$rc" -ne 1 ]; then
  cat "$work/bad.log"
  echo "depthwise_compare.py accepted a corrupted spot value (exit $rc, expected 1)" >&2
  exit 1
fi
echo "depthwise_compare.py: the corrupted fake bench was caught"

# The ABI harness (abi_harness.py) in its dry run: the CPU entry points through ctypes against torch's float64
# convolution, and every CUDA entry point refused with its reason (FX_ERR_UNSUPPORTED in a CPU-only library, FX_ERR_STATE "no usable CUDA device" in a CUDA build without a GPU). Needs
# torch (Debian's python3-torch); skipped with the reason where python3 has none.
klib=target/classes/org/fixres4j/kernels/linux-x86_64/libfixres4j_kernels.so
PY=python3
if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import torch' 2>/dev/null; then PY=/usr/bin/python3; fi
python3 -m py_compile tests/device/abi_harness.py
if [ ! -f "$klib" ]; then
  echo "abi harness dry run: $klib is missing (build the library first)" >&2; exit 1
elif "$PY" -c 'import torch' 2>/dev/null; then
  "$PY" tests/device/abi_harness.py --dry-run --lib "$klib" > "$work/abi.log" 2>&1 \
    || { cat "$work/abi.log"; echo "abi_harness.py dry run failed" >&2; exit 1; }
  tail -1 "$work/abi.log"
else
  echo "abi harness dry run: skipped (no torch in $PY)"
fi

# The JVM check's dry run: the check jar compiled against the library jar, run on this machine's java with the
# CPU-only kernels: CPU references through the bindings, CUDA entry points refused with UnsupportedBackendException,
# Java's argument checks. No libtorch, OpenCV or CUDA preset on its class path.
libjar=$(ls target/fixres4j-*.jar 2>/dev/null | grep -vE -- '-(cli|sources|javadoc)\.jar$' | head -1 || true)
if [ -n "$libjar" ] && command -v javac >/dev/null 2>&1; then
  bash tests/device/jvm/prepare.sh --no-jre --dest "$work/jvm" > "$work/jvm-prepare.log" 2>&1 \
    || { cat "$work/jvm-prepare.log"; echo "tests/device/jvm/prepare.sh failed" >&2; exit 1; }
  FX_JVM_DIR="$work/jvm" JAVA=java TMPDIR="$work" bash tests/device/jvm/run_check.sh "$klib" --dry-run \
    > "$work/jvm.log" 2>&1 || { cat "$work/jvm.log"; echo "JVM check dry run failed" >&2; exit 1; }
  tail -1 "$work/jvm.log"
else
  echo "JVM check dry run: skipped (no library jar under target/ or no javac)"
fi
echo "device dry run step (with the ABI harness and the JVM check): $((SECONDS - start)) s"

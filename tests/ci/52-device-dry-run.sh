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
echo "device dry run step: $((SECONDS - start)) s (the corrupted fake bench was caught)"

#!/usr/bin/env bash
# The one GPU check of the CUDA preprocessing kernel, for a fresh H100/H200 machine (root, nvcc, cmake, python3
# with torch). Run from anywhere; it works at the repository root:
#
#   bash tests/device/run.sh            # writes logs and device_table.md under $OUT when set
#
# Stages: 0 machine, 1 build (CMake, sm_90 only), 2 ctest (CPU + CUDA + emulated-kernel tests),
# 3 compute-sanitizer memcheck + racecheck on the quick GPU test (skipped when short of time),
# 4 benchmark of our kernel (bench_cuda_preprocess), 5 torch baselines and the results table (torch_compare.py).
# Prints ONE markdown table last. Exit status: non-zero when the build, a test or the bit-exactness check failed.
# Expected total: about 3 to 4 minutes, at most about 6 (budget: 8): the sanitizer runs are capped at 60 s
# each and skipped when the build and ctest took over 3 minutes.
set -euo pipefail

START=$SECONDS
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
OUT_DIR="${OUT:-$(mktemp -d)}"
BUILD="${TMPDIR:-/tmp}/fx-device-build"
WORK="${TMPDIR:-/tmp}/fx-device-work"
mkdir -p "$OUT_DIR" "$WORK"
export PYTHONUNBUFFERED=1

banner() { printf '\n=== [%4ds] %s ===\n' "$((SECONDS - START))" "$*"; }
elapsed() { echo $((SECONDS - START)); }

banner "0/5 machine"
if ! command -v nvcc >/dev/null 2>&1 && [ -x /usr/local/cuda/bin/nvcc ]; then export PATH=/usr/local/cuda/bin:$PATH; fi
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm,clocks.mem --format=csv || true
for tool in cmake nvcc g++ python3; do printf '%-8s %s\n' "$tool" "$(command -v $tool || echo MISSING)"; done
cmake --version | head -1
nvcc --version | tail -1
python3 -c 'import torch, torchvision; print("torch", torch.__version__, "torchvision", torchvision.__version__, "cuda", torch.version.cuda)' || true
nproc

banner "1/5 build: CMake, CUDA on, sm_90 only"
GEN=()
if command -v ninja >/dev/null 2>&1; then GEN=(-G Ninja); fi
cmake -S cmake -B "$BUILD" ${GEN[@]+"${GEN[@]}"} -DCMAKE_BUILD_TYPE=Release -DFIXRES_CUDA=ON \
  -DCMAKE_CUDA_ARCHITECTURES=90 -DFIXRES_BUILD_TESTS=ON > "$OUT_DIR/build.log" 2>&1 || { tail -40 "$OUT_DIR/build.log"; exit 1; }
cmake --build "$BUILD" -j"$(nproc)" >> "$OUT_DIR/build.log" 2>&1 || { tail -60 "$OUT_DIR/build.log"; exit 1; }
grep -iE "warning" "$OUT_DIR/build.log" | head -20 || true
LIB="$BUILD/libfixres4j_kernels.so"
readelf -d "$LIB" | grep NEEDED
if readelf -d "$LIB" | grep -q 'libcudart'; then echo "ERROR: $LIB depends on libcudart.so"; exit 1; fi
BUILD_INFO="sm_90, $(nvcc --version | tail -1 | sed 's/^Build //'), no libcudart.so dependency"
echo "build done at $(elapsed)s"

banner "2/5 ctest"
CTEST_RC=0
(cd "$BUILD" && ctest -V --timeout 150) > "$OUT_DIR/ctest.log" 2>&1 || CTEST_RC=$?
grep -E "Test +#|tests passed|SKIPPED|device 0|[0-9]+ passed, [0-9]+ failed|goldens|variants|tiles:" "$OUT_DIR/ctest.log" || true
if [ "$CTEST_RC" -eq 0 ]; then
  CTEST_SUMMARY="passed: $(grep -Eo '[0-9]+ tests failed out of [0-9]+' "$OUT_DIR/ctest.log" | tail -1 || true)"
else
  CTEST_SUMMARY="FAILED (rc $CTEST_RC, see ctest.log)"
  tail -40 "$OUT_DIR/ctest.log"
fi
echo "ctest: $CTEST_SUMMARY"

banner "3/5 compute-sanitizer (memcheck, racecheck) on test_cuda_preprocess --quick"
SAN_SUMMARY="skipped"
SAN=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null || true)
if [ -n "$SAN" ] && [ "$(elapsed)" -lt 180 ]; then
  SAN_SUMMARY=""
  for tool in memcheck racecheck; do
    rc=0
    timeout 60 "$SAN" --tool "$tool" --error-exitcode 9 "$BUILD/test_cuda_preprocess" --quick \
      > "$WORK/san_$tool.log" 2>&1 || rc=$?
    tail -4 "$WORK/san_$tool.log"
    case $rc in
      0) s="clean" ;;
      124) s="timed out" ;;
      9) s="ERRORS"; grep -m 20 -E "=========" "$WORK/san_$tool.log" || true ;;
      *) s="rc $rc" ;;
    esac
    SAN_SUMMARY="$SAN_SUMMARY$tool $s; "
  done
  cat "$WORK"/san_*.log > "$OUT_DIR/sanitizer.log" || true
elif [ -z "$SAN" ]; then
  SAN_SUMMARY="compute-sanitizer not found"
else
  SAN_SUMMARY="skipped (short of time)"
fi
echo "sanitizer: $SAN_SUMMARY"

banner "4/5 benchmark: our kernel (256 images, timm eval bicubic 224)"
BENCH_RC=0
"$BUILD/bench_cuda_preprocess" --count 256 --reps 15 --json "$WORK/bench.json" --dir "$WORK" \
  2>&1 | tee "$OUT_DIR/bench.log" || BENCH_RC=$?
cp "$WORK/bench.json" "$OUT_DIR/bench.json" 2>/dev/null || true
if [ ! -s "$WORK/bench.json" ]; then echo "ERROR: the benchmark wrote no results (rc $BENCH_RC)"; exit 1; fi

banner "5/5 torch baselines and the table"
python3 tests/device/torch_compare.py --bench "$WORK/bench.json" --dir "$WORK" --table "$WORK/table.md" \
  --ctest "$CTEST_SUMMARY" --sanitizer "$SAN_SUMMARY" --build "$BUILD_INFO" > "$WORK/torch.log" 2>&1 || {
  echo "torch_compare.py failed:"; tail -30 "$WORK/torch.log"; exit 1; }
grep -v '^$' "$WORK/torch.log" | grep -v '^|' | grep -vE '^(workloads|notes)' | tail -5 || true
cp "$WORK/table.md" "$OUT_DIR/device_table.md"

banner "done in $(elapsed)s (ctest rc $CTEST_RC, bench rc $BENCH_RC)"
echo
cat "$WORK/table.md"
if [ "$CTEST_RC" -ne 0 ] || [ "$BENCH_RC" -ne 0 ]; then exit 1; fi

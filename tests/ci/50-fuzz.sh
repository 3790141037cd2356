#!/usr/bin/env bash
# CI step: the short fuzz seed. `fixres fuzz` runs FuzzMain in a child JVM: 10,000 random argument sets for every
# native entry point (raw JNI and typed API), 1,000 mutated JPEG, PNG, safetensors and .pth files each (seeds:
# generated ones + tests/data). Fails on a crash, a hang, or any bad input not rejected with an exception.
# The inputs tried are recorded in target/fuzz/ci-seed-$seed.tsv. Long runs: `./fixres fuzz --minutes 60`.
# (The native fuzz, fuzz_abi and fuzz_abi_asan, runs in ctest; the JUnit FuzzChildJvmTest runs another seed.)
# Env: FIXRES_JAR (the CLI jar), FIXRES_FUZZ_SEED (default 1), FIXRES_FUZZ_ITERATIONS (default 10000).
set -euo pipefail
: "${FIXRES_JAR:?FIXRES_JAR must name the CLI jar}"
seed="${FIXRES_FUZZ_SEED:-1}"
iterations="${FIXRES_FUZZ_ITERATIONS:-10000}"
mkdir -p target/fuzz
start=$SECONDS
java -jar "$FIXRES_JAR" fuzz --seed "$seed" --iterations "$iterations" --corpus tests/data \
  --log "target/fuzz/ci-seed-$seed.tsv"
echo "fuzz step: $((SECONDS - start)) s; inputs tried: target/fuzz/ci-seed-$seed.tsv"

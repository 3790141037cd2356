#!/usr/bin/env bash
# A newcomer's project (tests/consumer: one dependency on org.fixres4j:fixres4j, no flags, built outside this
# repository against what 20-java.sh installed) runs the README's library example on the sample photograph, with an
# empty JavaCPP cache and a system libtorch present; and an application that touches libtorch first, with the
# README's one-line init. Without that line the same application crashes the JVM here: checked too, so that this step
# proves the hazard exists on this machine and not only that nothing crashed.
source "$(dirname "$0")/lib.sh"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
photo="$PWD/java-resources/org/fixres4j/samples/coffee-500x375.jpg"
cp -r tests/consumer "$work/consumer"
cd "$work/consumer"
mvn -B -q package
mvn -B -q dependency:build-classpath -Dmdep.outputFile=cp.txt >/dev/null
if tr ':' '\n' <cp.txt | grep -E 'picocli|fixres4j-[^/]*-cli\.jar'; then
  echo "consumer: the library brings the command line with it (above)" >&2; exit 1
fi
cp="target/classes:$(cat cp.txt)"

echo "-- the README's library example" >&2
cold_run java -cp "$cp" example.ReadmeExample "$photo" "$work/b0-random.safetensors"
echo "-- libtorch first, after Torch.ensureLoaded()" >&2
cold_run java -cp "$cp" example.TorchFirst "$photo"
echo "-- libtorch first, without the init (must crash here)" >&2
rc=0
cold_run java -XX:ErrorFile="$work/hs_err_%p.log" -cp "$cp" example.TorchFirst "$photo" --without-init \
  >"$work/naive.log" 2>&1 || rc=$?
if [ "$rc" = 0 ] || ! grep -q SIGSEGV "$work/naive.log"; then
  cat "$work/naive.log" >&2
  echo "consumer: without the init the application did not crash (exit $rc): this machine lacks the cold-cache" \
       "hazard, so the runs above prove nothing" >&2
  exit 1
fi
echo "consumer: README example and torch-first with the init pass; without it the JVM crashes (SIGSEGV), as expected" >&2

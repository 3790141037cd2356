# Sourced by the CI steps (tests/ci/NN-name.sh). The convention for a step: an executable bash script, run from the
# repository root by `./fixres test` in name order, FIXRES_JAR pointing at the CLI jar; a non-zero exit fails CI.
set -euo pipefail
if [ -z "${FIXRES_JAR:-}" ]; then
  FIXRES_JAR="$PWD/target/fixres4j-$(sed -n 's:^  <version>\(.*\)</version>:\1:p' pom.xml | head -n 1)-cli.jar"
fi
export FIXRES_JAR
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"

# A fresh, empty JavaCPP cache and a system libtorch where the JVM can find it, as on a machine with Debian's
# python3-torch: prints the JVM options (for JAVA_TOOL_OPTIONS) and leaves the directories under $1.
#   libtorch1.13 gives libtorch.so.1.13 & co.; libtorch-dev (a Recommends of python3-torch) adds the unversioned
#   libtorch.so, libtorch_cpu.so, libc10.so in /usr/lib/x86_64-linux-gnu, which is on java.library.path. That name is
#   what the preset's loading falls back to when its own libtorch.so cannot load yet. Without libtorch-dev, the same
#   links in a directory put first on java.library.path make the same machine (and nothing system-wide changes).
cold_cache_options() {
  local dir="$1" sys=/usr/lib/x86_64-linux-gnu
  [ -e "$sys/libtorch.so.1.13" ] || { echo "CI: Debian's libtorch1.13 is not installed" >&2; return 1; }
  mkdir -p "$dir/javacpp-cache" "$dir/system-libtorch"
  local path
  # the JVM's default java.library.path (-XshowSettings prints one entry a line)
  path="$(java -XshowSettings:properties -version 2>&1 \
          | awk '/^ *java.library.path = /{sub(/^ *java.library.path = /,""); print; on=1; next}
                 on && /^ +[^ =]+$/ && !/ = /{sub(/^ +/,""); print; next} {on=0}' | paste -sd:)"
  if [ ! -e "$sys/libtorch.so" ]; then
    for l in libtorch libtorch_cpu libc10 libtorch_global_deps; do
      ln -sf "$sys/$l.so.1.13" "$dir/system-libtorch/$l.so"
    done
    path="$dir/system-libtorch:$path"
  fi
  echo "-Dorg.bytedeco.javacpp.cachedir=$dir/javacpp-cache -Djava.library.path=$path"
}

# Runs "$@" (a java command) with an empty JavaCPP cache and a system libtorch present; fails on a non-zero exit,
# which a JVM crash is. Prints how long it took and how much the cache holds afterwards.
cold_run() {
  local dir; dir="$(mktemp -d)"
  local opts; opts="$(cold_cache_options "$dir")"
  local t0=$SECONDS rc=0
  JAVA_TOOL_OPTIONS="$opts" "$@" || rc=$?
  echo "   (cold cache: $((SECONDS - t0)) s, cache $(du -sm "$dir/javacpp-cache" | cut -f1) MB, exit $rc)" >&2
  rm -rf "$dir"
  return $rc
}

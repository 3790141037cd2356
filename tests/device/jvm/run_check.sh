#!/usr/bin/env bash
# The JVM device check (tests/device/run.sh stage 9, or a dry run here): runs JvmDeviceCheck on Debian's JRE from
# device-jvm/ (see prepare.sh) with the library jar's classes and the kernels library given on the command line in
# place of the jar's own (on the device: the CUDA build for sm_90 made by run.sh; the JNI library is the jar's).
#
#   bash tests/device/jvm/run_check.sh <libfixres4j_kernels.so> [--dry-run]
#
# JAVA=<java> uses that java instead of the .deb's (the dry run here and in CI). Exit status: the check's.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
KLIB="$(realpath "$1")"
shift
DIR="${FX_JVM_DIR:-$ROOT/device-jvm}" # FX_JVM_DIR: what prepare.sh --dest wrote (CI)
WORK="${TMPDIR:-/tmp}/fx-jvm-check"
rm -rf "$WORK/cp" "$WORK/jcache"
mkdir -p "$WORK"
for f in fixres4j.jar javacpp.jar device-check.jar; do
  [ -f "$DIR/$f" ] || { echo "ERROR: $DIR/$f is missing (run tests/device/jvm/prepare.sh and carry device-jvm)"; exit 1; }
done

if [ -z "${JAVA:-}" ]; then
  JRE="$WORK/jre"
  JAVA="$JRE/usr/lib/jvm/java-17-openjdk-amd64/bin/java"
  if [ ! -x "$JAVA" ]; then
    deb=$(ls "$DIR"/openjdk-17-jre-headless_*.deb 2>/dev/null | head -1)
    [ -n "$deb" ] || { echo "ERROR: no openjdk-17-jre-headless .deb in $DIR"; exit 1; }
    if command -v dpkg >/dev/null 2>&1; then
      dpkg -x "$deb" "$JRE"
    else # ar + tar (a .deb is an ar archive holding data.tar.*)
      mkdir -p "$JRE/.deb" && (cd "$JRE/.deb" && ar x "$deb") && tar -xf "$JRE"/.deb/data.tar.* -C "$JRE"
    fi
    # Debian's JRE links its configuration (jvm.cfg, java.security, ...) to absolute /etc paths that exist only
    # where the package is installed: point them at the extracted copies.
    while IFS= read -r link; do
      target=$(readlink "$link")
      if [ -e "$JRE$target" ]; then ln -sfn "$JRE$target" "$link"; fi
    done < <(find "$JRE" -type l -lname '/*')
    # (lib/security/cacerts stays dangling: it belongs to ca-certificates-java, and the check opens no TLS)
    left=$(find "$JRE/usr/lib/jvm" -type l -lname '/etc/java-17-openjdk/*' | wc -l)
    [ "$left" -eq 0 ] || { echo "ERROR: $left links into /etc/java-17-openjdk remain in the extracted JRE"; exit 1; }
  fi
fi
"$JAVA" -version 2>&1 | head -2

# the library's classes and natives, with the kernels library replaced
mkdir -p "$WORK/cp"
python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$DIR/fixres4j.jar" "$WORK/cp"
NATIVES="$WORK/cp/org/fixres4j/kernels/linux-x86_64"
[ -f "$NATIVES/libjnifixres4j.so" ] || { echo "ERROR: the library jar has no JNI library"; exit 1; }
cp "$KLIB" "$NATIVES/libfixres4j_kernels.so"
echo "kernels library: $KLIB ($(stat -c %s "$KLIB") bytes)"

"$JAVA" -Xss4m -Dorg.bytedeco.javacpp.cachedir="$WORK/jcache" -Dorg.bytedeco.javacpp.logger.debug=false \
  -cp "$WORK/cp:$DIR/javacpp.jar:$DIR/device-check.jar" org.fixres4j.devicecheck.JvmDeviceCheck "$@"

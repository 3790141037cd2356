#!/usr/bin/env bash
# Prepares the JVM device check's files under device-jvm/ at the repository root (kept out of git through
# .git/info/exclude, which the worktrees share): run here after `mvn package`, then send device-jvm with the device
# tool's carry. Contents:
#   fixres4j.jar       the library jar (target/fixres4j-<version>.jar: API + natives, no CLI dependencies)
#   javacpp.jar        JavaCPP's classes (the only dependency the kernels' bindings need)
#   device-check.jar   tests/device/jvm/src compiled (org.fixres4j.devicecheck.JvmDeviceCheck)
#   openjdk-17-jre-headless_*.deb   Debian's JRE (apt-get download; the device machine has no JDK)
# Usage: bash tests/device/jvm/prepare.sh [--no-jre] [--dest DIR]
#   --no-jre: nothing downloaded (the dry runs here and in CI use the installed java); --dest: another directory
#   than device-jvm/ (CI: a temporary one; no exclude line is written and the 64 MiB check is skipped)
# Prints the carry size with the working tree's and fails when the total passes the device tool's 64 MiB.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
cd "$ROOT"
DEST=device-jvm
NO_JRE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --no-jre) NO_JRE=1 ;;
    --dest) DEST="$2"; shift ;;
    *) echo "usage: prepare.sh [--no-jre] [--dest DIR]" >&2; exit 2 ;;
  esac
  shift
done
mkdir -p "$DEST"

# out of git: one line in the shared info/exclude (idempotent)
if [ "$DEST" = device-jvm ] && git rev-parse --git-common-dir >/dev/null 2>&1; then
  EXCL="$(git rev-parse --path-format=absolute --git-common-dir)/info/exclude"
  mkdir -p "$(dirname "$EXCL")"
  grep -qxF "/$DEST/" "$EXCL" 2>/dev/null || echo "/$DEST/" >> "$EXCL"
  if [ -n "$(git status --porcelain -- "$DEST")" ]; then echo "ERROR: $DEST is not ignored by git" >&2; exit 1; fi
fi

VERSION=$(sed -n 's:^  <version>\(.*\)</version>:\1:p' pom.xml | head -1)
LIBJAR="target/fixres4j-$VERSION.jar"
[ -f "$LIBJAR" ] || { echo "ERROR: $LIBJAR is missing: run mvn -o -DskipTests package first" >&2; exit 1; }
M2="${MAVEN_REPO:-$HOME/.m2/repository}"
JAVACPP_VERSION=$(sed -n 's:.*<javacpp.version>\(.*\)</javacpp.version>.*:\1:p' pom.xml | head -1)
JAVACPP="$M2/org/bytedeco/javacpp/$JAVACPP_VERSION/javacpp-$JAVACPP_VERSION.jar"
[ -f "$JAVACPP" ] || { echo "ERROR: $JAVACPP is missing" >&2; exit 1; }
stale=$(find java native kernels -newer "$LIBJAR" -type f | head -3)
if [ -n "$stale" ]; then
  echo "ERROR: $LIBJAR is older than the sources (e.g. $(echo $stale | tr '\n' ' ')): run mvn -o -DskipTests package" >&2
  exit 1
fi
cp "$LIBJAR" "$DEST/fixres4j.jar"
cp "$JAVACPP" "$DEST/javacpp.jar"

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
javac --release 17 -Xlint:all,-classfile -Werror -d "$TMP/classes" -cp "$DEST/fixres4j.jar:$DEST/javacpp.jar" \
  $(find tests/device/jvm/src -name '*.java')
jar --create --file "$DEST/device-check.jar" -C "$TMP/classes" .

if [ "$NO_JRE" -eq 0 ] && ! ls "$DEST"/openjdk-17-jre-headless_*.deb >/dev/null 2>&1; then
  (cd "$DEST" && apt-get download openjdk-17-jre-headless)
fi

ls -l "$DEST"
if [ "$DEST" != device-jvm ]; then exit 0; fi
carry=$(du -cb "$DEST" | tail -1 | cut -f1)
tree=$(git ls-files -z --cached --others --exclude-standard | xargs -0 du -cb 2>/dev/null | grep total$ \
  | awk '{s += $1} END {print s + 0}')
total=$((carry + tree))
printf 'carry %s: %.1f MiB; working tree (tracked + untracked, not ignored): %.1f MiB; total %.1f MiB of 64\n' \
  "$DEST" "$(echo "$carry / 1048576" | bc -l)" "$(echo "$tree / 1048576" | bc -l)" "$(echo "$total / 1048576" | bc -l)"
if [ "$total" -gt $((64 * 1048576)) ]; then echo "ERROR: over the device tool's 64 MiB" >&2; exit 1; fi
echo "device tool: carry [\"$DEST\"]"

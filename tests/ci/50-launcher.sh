#!/usr/bin/env bash
# The launcher (./fixres) from elsewhere: it keeps the caller's working directory (relative paths mean what they say),
# reads unicode paths whatever the locale, and passes the command's exit status on.
source "$(dirname "$0")/lib.sh"
root="$PWD"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/photos"
cp java-resources/org/fixres4j/samples/coffee-500x375.jpg "$work/photos/cat.jpg"
cp java-resources/org/fixres4j/samples/coffee-500x375.jpg "$work/photos/kätzchen ☕.jpg"

# 1. relative paths, from another directory (preprocess needs no libtorch: quick)
(cd "$work/photos" && "$root/fixres" preprocess --res 64 --out cat.npy cat.jpg)
[ -s "$work/photos/cat.npy" ] || { echo "launcher: cat.npy not written in the caller's directory" >&2; exit 1; }

# 2. a unicode path under LANG=C (and LC_ALL=C): same bytes out as under a UTF-8 locale
(cd "$work/photos" && env LANG=C LC_ALL=C "$root/fixres" preprocess --res 64 --out "kätzchen ☕.npy" "kätzchen ☕.jpg")
[ -s "$work/photos/kätzchen ☕.npy" ] || { echo "launcher: unicode output missing under LANG=C" >&2; exit 1; }
cmp "$work/photos/cat.npy" "$work/photos/kätzchen ☕.npy"

# 3. errors reach the caller: a missing file is one line naming it, with a non-zero exit
rc=0
(cd "$work/photos" && "$root/fixres" preprocess --res 64 --out missing.npy no-such-cat.jpg) 2>"$work/err" || rc=$?
[ "$rc" != 0 ] || { echo "launcher: a missing image exited 0" >&2; exit 1; }
grep -q "no-such-cat.jpg" "$work/err" || { echo "launcher: the error does not name the file:" >&2; cat "$work/err" >&2; exit 1; }
[ ! -e "$work/photos/missing.npy" ] || { echo "launcher: output written for a failed run" >&2; exit 1; }
rc=0
"$root/fixres" --no-such-option >/dev/null 2>&1 || rc=$?
[ "$rc" != 0 ] || { echo "launcher: a bad option exited 0" >&2; exit 1; }
rc=0
"$root/fixres" >/dev/null 2>&1 || rc=$?
[ "$rc" != 0 ] || { echo "launcher: no command exited 0" >&2; exit 1; }
echo "launcher: caller's directory kept, unicode paths under LANG=C, exit status passed on" >&2

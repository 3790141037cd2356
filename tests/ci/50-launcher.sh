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

# 4. the allocator: jemalloc preloaded where it is installed (./fixres test installs libjemalloc2), else glibc's malloc
#    keeping freed memory; FIXRES_MALLOC=glibc picks glibc; the caller's GLIBC_TUNABLES (even empty), LD_PRELOAD and
#    MALLOC_CONF win. Each run starts from none of these variables, whatever the caller of this step had.
clean=(env -u LD_PRELOAD -u MALLOC_CONF -u GLIBC_TUNABLES -u FIXRES_MALLOC)
"${clean[@]}" "$root/fixres" info >"$work/info" 2>&1
if [ -f "/usr/lib/$(uname -m)-linux-gnu/libjemalloc.so.2" ]; then
  grep -q "malloc under libtorch: libjemalloc.so.2 (LD_PRELOAD, MALLOC_CONF=dirty_decay_ms:-1,muzzy_decay_ms:-1)" \
    "$work/info" || { echo "launcher: jemalloc installed but not preloaded:" >&2; cat "$work/info" >&2; exit 1; }
  "${clean[@]}" MALLOC_CONF=narenas:2 "$root/fixres" info >"$work/info" 2>&1
  grep -q "malloc under libtorch: libjemalloc.so.2 (LD_PRELOAD, MALLOC_CONF=narenas:2)" "$work/info" \
    || { echo "launcher: the caller's MALLOC_CONF was replaced:" >&2; cat "$work/info" >&2; exit 1; }
  "${clean[@]}" FIXRES_MALLOC=glibc "$root/fixres" info >"$work/info" 2>&1
fi
grep -q "malloc under libtorch: keeps freed memory (GLIBC_TUNABLES=glibc.malloc.mmap_max=0" "$work/info" \
  || { echo "launcher: glibc's malloc not tuned without jemalloc:" >&2; cat "$work/info" >&2; exit 1; }
"${clean[@]}" GLIBC_TUNABLES= "$root/fixres" info >"$work/info" 2>&1
grep -q "malloc under libtorch: glibc's default" "$work/info" \
  || { echo "launcher: an empty GLIBC_TUNABLES of the caller was replaced:" >&2; cat "$work/info" >&2; exit 1; }
echo "launcher: jemalloc where installed, else glibc keeping freed memory; the caller's settings win" >&2
# huge pages for libtorch's allocator: opt-in, seen by info --torch (the hg flag of a tensor's mapping)
if [ -r /sys/kernel/mm/transparent_hugepage/enabled ] && [ -r /proc/self/smaps ]; then
  env -u THP_MEM_ALLOC_ENABLE FIXRES_JAVA_OPTS=-Dfixres.thpAlloc=true "$root/fixres" info --torch >"$work/info" 2>&1 || true
  grep -q "libtorch CPU allocator, huge pages: on (THP_MEM_ALLOC_ENABLE=1, set by FixRes4J" "$work/info" \
    || { echo "launcher: -Dfixres.thpAlloc=true did not turn huge pages on:" >&2; cat "$work/info" >&2; exit 1; }
  echo "launcher: -Dfixres.thpAlloc=true turns libtorch's huge pages on" >&2
fi

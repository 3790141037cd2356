#!/usr/bin/env bash
# The gpu build resolves without downloading its ~850 MB of jars:
#  1. `mvn -Pgpu dependency:tree` collects the dependency graph from POMs only: libtorch's CUDA natives
#     (org.bytedeco:pytorch:...:linux-x86_64-gpu), the CUDA preset's classes and JNI jars and org.bytedeco:cuda-redist
#     at the versions the pom names, and no CPU natives of libtorch. A GPU jar that was not in the local repository
#     before must still be missing afterwards.
#  2. A POM says nothing about a classifier (the POM of org.bytedeco:cuda exists, its linux-x86_64-redist jar never
#     did), so each jar of the tree is then asked for with an HTTP HEAD on the remote repository: 200 and its size.
# FIXRES_MVN_OFFLINE=1: Maven offline (the POMs must be in the local repository) and no HEAD requests (step 2 is
# skipped, and says so). FIXRES_MAVEN_REMOTE: the repository to ask (default: Maven Central).
source "$(dirname "$0")/lib.sh"
start=$SECONDS
repo="${FIXRES_M2_REPO:-$HOME/.m2/repository}"
pytorch="$(sed -n 's:^ *<pytorch.version>\(.*\)</pytorch.version>:\1:p' pom.xml | head -n 1)"
cuda="$(sed -n 's:^ *<cuda.version>\(.*\)</cuda.version>:\1:p' pom.xml | head -n 1)"
platform="linux-x86_64"
jars=("$repo/org/bytedeco/pytorch/$pytorch/pytorch-$pytorch-$platform-gpu.jar"
      "$repo/org/bytedeco/cuda-redist/$cuda/cuda-redist-$cuda-$platform.jar")
absent=()
for j in "${jars[@]}"; do [ -e "$j" ] || absent+=("$j"); done
offline=()
[ "${FIXRES_MVN_OFFLINE:-0}" = 1 ] && offline=(-o)
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
if ! mvn -B -q "${offline[@]}" -Pgpu -Djavacpp.platform="$platform" -Dmaven.repo.local="$repo" \
     org.apache.maven.plugins:maven-dependency-plugin:3.8.1:tree -Dincludes=org.bytedeco -DoutputFile="$out" \
     >"$out.log" 2>&1; then
  cat "$out.log" >&2; rm -f "$out.log"
  echo "the -Pgpu dependency tree does not resolve (above)" >&2
  exit 1
fi
rm -f "$out.log"
cat "$out"
for want in "org.bytedeco:pytorch:jar:$platform-gpu:$pytorch:compile" \
            "org.bytedeco:cuda:jar:$cuda:compile" \
            "org.bytedeco:cuda:jar:$platform:$cuda:compile" \
            "org.bytedeco:cuda-redist:jar:$platform:$cuda:compile"; do
  grep -qF -- "$want" "$out" || { echo "the -Pgpu tree lacks $want" >&2; exit 1; }
done
if grep -qF -- "org.bytedeco:pytorch:jar:$platform:$pytorch" "$out"; then
  echo "the -Pgpu tree still has libtorch's CPU natives" >&2; exit 1
fi
for j in "${absent[@]}"; do
  [ ! -e "$j" ] || { echo "resolving the tree downloaded $j: it must need POMs only" >&2; exit 1; }
done
remote="${FIXRES_MAVEN_REMOTE:-https://repo1.maven.org/maven2}"
heads="skipped (offline)"
if [ "${FIXRES_MVN_OFFLINE:-0}" != 1 ]; then
  heads=0
  for coord in "pytorch:$platform-gpu:$pytorch" "cuda::$cuda" "cuda:$platform:$cuda" "cuda-redist:$platform:$cuda"; do
    IFS=: read -r artifact classifier version <<<"$coord"
    url="$remote/org/bytedeco/$artifact/$version/$artifact-$version${classifier:+-$classifier}.jar"
    answer="$(curl -sI -o /dev/null -w '%{http_code} %header{content-length}' --max-time 60 "$url" || true)"
    case "$answer" in
      "200 "*) echo "exists: $url (${answer#200 } bytes)"; heads=$((heads + 1)) ;;
      *) echo "missing on the remote: $url (HTTP ${answer:-no answer})" >&2; exit 1 ;;
    esac
  done
  heads="$heads jars exist on the remote"
fi
echo "gpu pom step: the -Pgpu tree resolves from POMs; $heads ($((SECONDS - start)) s; ${#absent[@]} GPU jar(s)" \
     "absent before and after)"

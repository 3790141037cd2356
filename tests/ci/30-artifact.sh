#!/usr/bin/env bash
# The published artifact: the library jar carries the API and the natives, not the command line; its pom resolves
# with no flags (javacpp.platform from a profile) and does not pass picocli on; sources and javadoc are installed.
source "$(dirname "$0")/lib.sh"
version="$(sed -n 's:^  <version>\(.*\)</version>:\1:p' pom.xml | head -n 1)"
repo="${FIXRES_M2_REPO:-$HOME/.m2/repository}"
dir="$repo/org/fixres4j/fixres4j/$version"
for f in "fixres4j-$version.jar" "fixres4j-$version.pom" "fixres4j-$version-sources.jar" \
         "fixres4j-$version-javadoc.jar" "fixres4j-$version-cli.jar"; do
  [ -s "$dir/$f" ] || { echo "not installed: $dir/$f" >&2; exit 1; }
done
lib="$dir/fixres4j-$version.jar"
entries="$(unzip -Z1 "$lib")"
if grep -E '^org/fixres4j/(cli|bench|app|demo|samples)/|\.py$' <<<"$entries"; then
  echo "the library jar carries command-line files (above)" >&2; exit 1
fi
for must in org/fixres4j/classify/Classifier.class org/fixres4j/torch/Torch.class \
            org/fixres4j/classify/imagenet_classes.txt org/fixres4j/kernels/linux-x86_64/libjnifixres4j.so \
            org/fixres4j/kernels/linux-x86_64/libfixres4j_kernels.so; do
  grep -qx "$must" <<<"$entries" || { echo "the library jar lacks $must" >&2; exit 1; }
done
sources="$(unzip -Z1 "$dir/fixres4j-$version-sources.jar")"
if grep -E '^org/fixres4j/(cli|bench|app)/' <<<"$sources"; then
  echo "the sources jar carries the command line" >&2; exit 1
fi
# (listings into variables first: grep -q stops reading early, which pipefail would count as a failure)
javadoc="$(unzip -Z1 "$dir/fixres4j-$version-javadoc.jar")"
grep -qx 'org/fixres4j/classify/Classifier.html' <<<"$javadoc" \
  || { echo "the javadoc jar lacks Classifier.html" >&2; exit 1; }
manifest="$(unzip -p "$FIXRES_JAR" META-INF/MANIFEST.MF | tr -d '\r')"
grep -q '^Main-Class: org.fixres4j.cli.Main' <<<"$manifest" || { echo "the cli jar has no Main-Class" >&2; exit 1; }
# picocli is the command line's: optional, so not a dependency of projects that use the library
python3 - "$dir/fixres4j-$version.pom" <<'PY'
import sys, xml.etree.ElementTree as ET
ns = {"m": "http://maven.apache.org/POM/4.0.0"}
deps = ET.parse(sys.argv[1]).getroot().findall("m:dependencies/m:dependency", ns)
bad = [d.find("m:artifactId", ns).text for d in deps
       if d.find("m:groupId", ns).text == "info.picocli" and (d.findtext("m:optional", "", ns) != "true")]
sys.exit("picocli is passed on to users: " + str(bad) if bad else 0)
PY
echo "artifact: library $(du -k "$lib" | cut -f1) KB without cli/bench/demo files; sources, javadoc, cli installed" >&2

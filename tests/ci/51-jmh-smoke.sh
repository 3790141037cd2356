#!/usr/bin/env bash
# CI step: JMH smoke. Every benchmark of tests/jmh runs once (one fork, no warm-up, one 100 ms iteration, one value
# per parameter) so that a benchmark that no longer starts or throws fails CI (-foe true). The numbers mean nothing.
# Runs on the test classes Maven already compiled (target/test-classes, with JMH's generated benchmark list) and the
# CLI jar; the JMH jars come from the local Maven repository. Falls back to the Maven profile when they are missing.
# Env: FIXRES_JAR (the CLI jar).
set -euo pipefail
: "${FIXRES_JAR:?FIXRES_JAR must name the CLI jar}"
start=$SECONDS
args=(-f 1 -wi 0 -i 1 -r 100ms -foe true -p res=224 -p batch=1 -p threads=1 -p layer=1)
m2="${MAVEN_REPO:-$HOME/.m2/repository}"
jars=("$m2/org/openjdk/jmh/jmh-core/1.37/jmh-core-1.37.jar"
      "$m2/net/sf/jopt-simple/jopt-simple/5.0.4/jopt-simple-5.0.4.jar"
      "$m2/org/apache/commons/commons-math3/3.6.1/commons-math3-3.6.1.jar")
have=1
for j in "${jars[@]}"; do [ -f "$j" ] || have=0; done
[ -f target/test-classes/META-INF/BenchmarkList ] || have=0
if [ "$have" = 1 ]; then
  cp="$FIXRES_JAR:target/test-classes:$(IFS=:; echo "${jars[*]}")"
  java -cp "$cp" org.openjdk.jmh.Main '.*Jmh.*' "${args[@]}"
else
  echo "jmh smoke: JMH jars or target/test-classes missing: running through Maven" >&2
  mvn -B -o -q -Pjmh -DskipTests verify -Djmh.args="${args[*]}"
fi
echo "jmh smoke step: $((SECONDS - start)) s"

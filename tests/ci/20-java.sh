#!/usr/bin/env bash
# Java: build, every JUnit test, then the artifacts into the local Maven repository (~/.m2): the library jar, its
# -sources and -javadoc jars, and the cli jar. One build: the later steps use the cli jar and the installed artifact.
source "$(dirname "$0")/lib.sh"
mvn -B install

#!/usr/bin/env bash
# CLI smoke: preprocess a real photograph and compare every byte with Pillow.
source "$(dirname "$0")/lib.sh"
java -jar "$FIXRES_JAR" demo preprocess --quick --require-pillow

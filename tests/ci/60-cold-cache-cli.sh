#!/usr/bin/env bash
# Every CLI command that loads libtorch, each with an empty JavaCPP cache and a system libtorch present (the machine
# of someone who installed python3-torch): none may crash. Tiny settings: this is about loading, not results.
source "$(dirname "$0")/lib.sh"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
photo="$PWD/java-resources/org/fixres4j/samples/coffee-500x375.jpg"
# a 10-class image folder (one copy of the photograph per class) for the commands that read a dataset
for c in 0 1 2 3 4 5 6 7 8 9; do mkdir -p "$work/folder/class$c"; cp "$photo" "$work/folder/class$c/a.jpg"; done
fx() { cold_run java -jar "$FIXRES_JAR" "$@"; }

echo "-- info --torch" >&2
fx info --torch
echo "-- train" >&2
# efficientnet_b0's own shape, so that logits and predict (which take a timm name) can read it too
fx train --data shapes --width 1 --depth 1 --res 32 --epochs 1 --batch 16 --train-limit 16 --val-limit 16 \
   --threads 1 --out "$work/model.safetensors"
echo "-- finetune" >&2
fx finetune --model "$work/model.safetensors" --data shapes --res 40 --epochs 1 --batch 16 --train-limit 16 \
   --eval-limit 16 --threads 1 --out "$work/finetuned.safetensors"
echo "-- eval" >&2
fx eval --weights "$work/finetuned.safetensors" --data "$work/folder" --res 32,40 --threads 1
echo "-- recommend (with a confirming sweep)" >&2
fx recommend --weights "$work/model.safetensors" --data "$work/folder" --threads 1
echo "-- logits" >&2
fx logits --arch efficientnet_b0 --res 64 --weights "$work/model.safetensors" --out "$work/logits.npy" "$photo"
echo "-- predict" >&2
fx predict --arch efficientnet_b0 --res 64 --weights "$work/model.safetensors" "$photo"
echo "-- demo (tiny: its own model, generated data, two resolutions)" >&2
fx demo --quick --data shapes --model "$work/model.safetensors" --res 32,40 --finetune-res 40 --test-images 20 \
   --finetune-images 20 --finetune-epochs 1 --modes classifier --no-bn-only --threads 1 --out-dir "$work/demo"
echo "-- bench model" >&2
fx bench model --res 64 --batch 1 --threads 1 --seconds 0.2
echo "cold cache: every libtorch command ran" >&2

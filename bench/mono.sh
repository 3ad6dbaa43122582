#!/usr/bin/env bash
# Mono recordings (BENCHMARKS.md, "Mono recordings"): the labelled scripts of tests/calls, and
# the same with voices swapped and slower speech (a set the diarization was not tuned on),
# rendered in stereo, mixed down to mono, and measured three ways:
#   1. diarization error rate of the mono mix against each channel's energy (250 ms collar),
#      with the real stereo call of tests/fixtures, and the cost per audio second;
#   2. the verdict on the mono mix against the verdict on the stereo original (base model);
#   3. the time both ingests took.
#
#   bench/mono.sh            (needs a release build: cargo build --release --bin callproof,
#                             and the speaker model: callproof model install speaker)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${CALLPROOF_BIN:-$root/target/release/callproof}
[ -x "$bin" ] || { echo "build first: cargo build --release --bin callproof" >&2; exit 1; }
models=${CALLPROOF_MODELS:-$HOME/.cache/callproof/models}
[ -f "$models/speaker-ge2e.safetensors" ] || "$bin" model install speaker
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$root/bench/heldout-scripts.sh" "$work/heldout-scripts"

for set in labelled heldout; do
  if [ "$set" = labelled ]; then scripts=("$root"/tests/calls/*.txt); else scripts=("$work"/heldout-scripts/*.txt); fi
  "$root/tests/scripts/render-set.sh" "$work/$set/stereo" "${scripts[@]}" 2>/dev/null
  mkdir -p "$work/$set/mono" "$work/$set/pcm"
  for f in "$work/$set"/stereo/*.wav; do
    n=$(basename "$f" .wav)
    sox "$f" -c 1 -e u-law "$work/$set/mono/$n.wav" remix 1,2 2>/dev/null
    cp "$work/$set/stereo/$n.json" "$work/$set/mono/$n.json"
    sox "$f" -r 16000 -b 16 -e signed "$work/$set/pcm/$n.wav" 2>/dev/null
  done
  extra=()
  [ "$set" = labelled ] && {
    sox "$root/tests/fixtures/real/en_call_auto_repairs_stereo_ulaw8k.wav" -r 16000 -b 16 -e signed \
      "$work/$set/pcm/en_call_auto_repairs_stereo_ulaw8k.wav" 2>/dev/null
  }
  echo "## $set set: diarization error rate of the mono mixes"
  (cd "$root" && cargo run -q --release -p callproof-diarize --example der -- \
    "$models/speaker-ge2e.safetensors" "$work/$set"/pcm/*.wav)
  for kind in stereo mono; do
    start=$(date +%s.%N)
    "$bin" --data "$work/$set/data-$kind" --model base ingest "$work/$set/$kind" --json > "$work/$set/$kind.json"
    echo "$set $kind: ingested in $(echo "$(date +%s.%N) - $start" | bc) s"
  done
  echo "## $set set: verdicts, mono against stereo"
  python3 "$root/bench/mono_report.py" "$bin" "$work/$set"
done

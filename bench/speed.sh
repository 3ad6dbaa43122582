#!/usr/bin/env bash
# Transcription speed of the whole pipeline (decode, resample, silence skipping, Whisper, index)
# on a generated French stereo call, for tiny.en and base at 1 and 2 threads.
#   bench/speed.sh [BINARY]      (default target/release/callproof; models must be installed)
# Prints audio seconds per wall second. tiny.en is English-only: it runs with --language en on
# the same audio, which measures its speed, not its French.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/callproof}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tests/scripts/render-call.sh tests/calls/fr_vente_consentement.txt "$work/call.wav" 2>/dev/null
audio_s=$(soxi -D "$work/call.wav")
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "audio: $audio_s s, stereo 8 kHz µ-law (tests/calls/fr_vente_consentement.txt)"
printf '%-8s %-8s %-10s %-12s\n' model threads wall_s audio_s/wall_s
for model in tiny.en base; do
  lang=fr; [ "$model" = tiny.en ] && lang=en
  for threads in 1 2; do
    rm -rf "$work/data"
    start=$(date +%s.%N)
    "$bin" --data "$work/data" --model "$model" --threads "$threads" \
      ingest "$work/call.wav" --client bench --language "$lang" >/dev/null
    end=$(date +%s.%N)
    wall=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
    speed=$(awk -v a="$audio_s" -v w="$wall" 'BEGIN { printf "%.1f", a / w }')
    printf '%-8s %-8s %-10s %-12s\n' "$model" "$threads" "$wall" "${speed}x"
  done
done

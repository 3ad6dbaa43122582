#!/usr/bin/env bash
# Transcription throughput of worker processes: the same queue of calls transcribed by one
# process with 2 threads, one process with 1 thread, and 2 processes with 1 thread each (what
# `callproof worker` on a 2-core machine can be run as). Calls are queued with
# `ingest --queue-only`; the workers run `--until-idle`; the wall time is from their start to
# the last one's exit.
#   bench/workers.sh [BINARY] [MODEL] [CALLS]   (default target/release/callproof, base, 8)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/callproof}
model=${2:-base}
calls=${3:-8}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/calls"
# Different calls (a duplicate would be refused): the labelled scripts, rendered.
i=0
for script in tests/calls/*.txt; do
  [ "$i" -ge "$calls" ] && break
  tests/scripts/render-call.sh "$script" "$work/calls/$(basename "$script" .txt).wav" 2>/dev/null
  i=$((i + 1))
done
audio_s=$(for f in "$work"/calls/*.wav; do soxi -D "$f"; done | awk '{ s += $1 } END { printf "%.1f", s }')
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "queue: $i calls, $audio_s s of audio, model $model"
printf '%-28s %-10s %-14s\n' layout wall_s audio_s/wall_s
run() { # PROCESSES THREADS
  local procs=$1 threads=$2 pids=()
  rm -rf "$work/data"
  "$bin" --data "$work/data" ingest --queue-only "$work/calls" --client bench >/dev/null
  local start end
  start=$(date +%s.%N)
  for _ in $(seq "$procs"); do
    "$bin" --data "$work/data" --model "$model" --threads "$threads" worker --until-idle >/dev/null 2>&1 &
    pids+=($!)
  done
  wait "${pids[@]}"
  end=$(date +%s.%N)
  local left
  left=$("$bin" --data "$work/data" jobs --state queued --json | grep -c '"kind": "transcribe"' || true)
  [ "$left" = 0 ] || { echo "jobs left in the queue: $left" >&2; exit 1; }
  local wall speed
  wall=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
  speed=$(awk -v a="$audio_s" -v w="$wall" 'BEGIN { printf "%.1f", a / w }')
  printf '%-28s %-10s %-14s\n' "$procs process(es) × $threads thread(s)" "$wall" "${speed}x"
}
run 1 2
run 1 1
run 2 1

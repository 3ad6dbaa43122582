#!/usr/bin/env bash
# How much of a verdict report is the hearing's chance: the same labelled calls are verified on
# the plain render and on two copies passed through a high-pass filter below the telephone band
# (150 Hz and 250 Hz, sox's two-pole Butterworth). A phone line carries 300-3400 Hz, so the
# filters take away nothing of what was said; a verdict that changes with them rests on how
# Whisper happened to hear that render, not on the words. Prints each run's summary line, then
# the calls whose verdict was right on every hearing, on some, and on none.
#
#   bench/stability.sh [both|hard|labelled|unseen|unseen2]   (default both; CALLPROOF_BIN, WORK
#                                                           as bench/verify-hard.sh takes them)
#
# Three ingests of the set: about 10 minutes for the 43 calls of "both" on 2 cores.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
which=${1:-both}
work=${WORK:-$(mktemp -d)}
[ -n "${WORK:-}" ] || trap 'rm -rf "$work"' EXIT
mkdir -p "$work/plain"

# The plain render, made once by verify-hard.sh's own renderer (kept in $WORK/plain/set).
case "$which" in
  hard) dirs=("$root/tests/calls-hard") ;;
  labelled) dirs=("$root/tests/calls") ;;
  both) dirs=("$root/tests/calls" "$root/tests/calls-hard") ;;
  unseen) dirs=("$root/bench/calls-unseen") ;;
  unseen2) dirs=("$root/bench/calls-unseen-2") ;;
  *) echo "both, hard, labelled, unseen or unseen2" >&2; exit 1 ;;
esac
if [ ! -d "$work/plain/set" ]; then
  scripts=()
  for d in "${dirs[@]}"; do scripts+=("$d"/*.txt); done
  "$root/tests/scripts/render-set.sh" "$work/plain/set" "${scripts[@]}" 2>/dev/null
fi
runs=(plain)
for hz in 150 250; do
  run="highpass-$hz"
  runs+=("$run")
  if [ ! -d "$work/$run/set" ]; then
    mkdir -p "$work/$run/set"
    for f in "$work/plain/set"/*; do
      case "$f" in
        # 16-bit PCM: re-encoding to the render's µ-law would add its own noise.
        *.wav) sox "$f" -b 16 -e signed-integer "$work/$run/set/$(basename "$f")" highpass "$hz" ;;
        *) cp "$f" "$work/$run/set/" ;;
      esac
    done
  fi
done

for run in "${runs[@]}"; do
  echo "== $run" >&2
  WORK="$work/$run" VERDICTS_OUT="$work/$run/verdicts.json" \
    "$root/bench/verify-hard.sh" "$which" > "$work/$run/report.txt" 2> "$work/$run/stderr.txt"
done

python3 "$root/bench/stability_report.py" "$work" "${runs[@]}"

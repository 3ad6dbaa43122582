#!/usr/bin/env bash
# How much of a verdict report is the hearing's chance: the same labelled calls are verified on
# the plain render and on two copies passed through a high-pass filter below the telephone band
# (150 Hz and 250 Hz, sox's two-pole Butterworth). A phone line carries 300-3400 Hz, so the
# filters take away nothing of what was said; a verdict that changes with them rests on how
# Whisper happened to hear that render, not on the words. Prints each run's summary line, then
# the calls whose verdict was right on every hearing, on some, and on none.
#
#   bench/stability.sh [both|hard|labelled|unseen|unseen2|unseen3]   (default both; CALLPROOF_BIN, WORK
#                                                           as bench/verify-hard.sh takes them)
#
# Three ingests of the set: about 10 minutes for the 43 calls of "both" on 2 cores.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
which=${1:-both}
work=${WORK:-$(mktemp -d)}
[ -n "${WORK:-}" ] || trap 'rm -rf "$work"' EXIT
mkdir -p "$work/plain"

# The plain render first: bench/verify-hard.sh renders the set into $WORK/plain/set (once).
verify() {
  echo "== $1" >&2
  WORK="$work/$1" VERDICTS_OUT="$work/$1/verdicts.json" \
    "$root/bench/verify-hard.sh" "$which" > "$work/$1/report.txt" 2> "$work/$1/stderr.txt"
}
verify plain
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
  verify "$run"
done

python3 "$root/bench/stability_report.py" "$work" "${runs[@]}"

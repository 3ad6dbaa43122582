#!/usr/bin/env bash
# Verification accuracy on the harder labelled set (tests/calls-hard: paraphrased disclosures,
# brown noise, GSM and AMR-NB round trips, a quiet customer line, fast and slow speech, voices
# the packs were not written on) together with the labelled set of tests/calls, ingested with
# the base model and scored per rule (bench/verify_report.py). Prints the table BENCHMARKS.md
# quotes, the ingest time, and how many calls needed a second listen.
#
#   bench/verify-hard.sh [hard|labelled|both|unseen|unseenN|overlap]  (default both; unseenN
#                                                 for bench/calls-unseen-N; CALLPROOF_BIN to pick a binary,
#                                                 MODEL another installed model than base,
#                                                 RULES a client rule set for the calls' client,
#                                                 e.g. bench/rules/isosell.toml)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${CALLPROOF_BIN:-$root/target/release/callproof}
[ -x "$bin" ] || { echo "build first: cargo build --release --bin callproof" >&2; exit 1; }
which=${1:-both}
work=${WORK:-$(mktemp -d)}
[ -n "${WORK:-}" ] || trap 'rm -rf "$work"' EXIT
scripts=()
dirs=()
case "$which" in
  hard) dirs=("$root/tests/calls-hard") ;;
  labelled) dirs=("$root/tests/calls") ;;
  both) dirs=("$root/tests/calls" "$root/tests/calls-hard") ;;
  # Scripts written after the packs and margins were set, never tuned on (bench/calls-unseen).
  unseen) dirs=("$root/bench/calls-unseen") ;;
  # Later unseen sets (bench/calls-unseen-N): each set's README says when it was written, and
  # before or after which change, never tuned on before its first run.
  unseen[0-9]*)
    n=${which#unseen}
    [ -d "$root/bench/calls-unseen-$n" ] || { echo "no set bench/calls-unseen-$n" >&2; exit 1; }
    dirs=("$root/bench/calls-unseen-$n") ;;
  # Turns said over each other (thirty-fifth session, before any run on them).
  overlap) dirs=("$root/bench/calls-overlap") ;;
  *) echo "hard, labelled, both, unseen, unseenN (bench/calls-unseen-N) or overlap" >&2; exit 1 ;;
esac
for d in "${dirs[@]}"; do scripts+=("$d"/*.txt); done
if [ ! -d "$work/set" ]; then
  "$root/tests/scripts/render-set.sh" "$work/set" "${scripts[@]}" 2>/dev/null
fi
rm -rf "$work/data"
if [ -n "${RULES:-}" ]; then
  "$bin" --data "$work/data" rules put --client isosell "$RULES" >/dev/null
  echo "client rule set: $RULES"
fi
start=$(date +%s.%N)
# A call that fails to ingest is reported, and counted wrong by the report, not skipped. The
# log (kept in $work/ingest.log, and passed on) says how long each call's stages took.
CALLPROOF_LOG=${CALLPROOF_LOG:-warn,whisper_rs=off,callproof=info} \
  "$bin" --data "$work/data" --model "${MODEL:-base}" ingest "$work/set" > "$work/ingest.out" \
  2> >(tee "$work/ingest.log" >&2) \
  || { echo "some calls failed to ingest:"; grep -i "fail" "$work/ingest.out" || true; }
end=$(date +%s.%N)
wait # for tee to finish the log
echo "ingested $(ls "$work"/set/*.wav | wc -l) calls in $(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.1f", b-a}') s"
# Summed over calls (recordings are transcribed side by side, so the sum exceeds the wall time).
sed 's/\x1b\[[0-9;]*m//g' "$work/ingest.log" | awk '
  / (first pass|second listen|script check) call=/ {
    match($0, / (first pass|second listen|script check) call=/); stage = substr($0, RSTART + 1, RLENGTH - 7)
    match($0, /seconds=[0-9.]+/); t[stage] += substr($0, RSTART + 8, RLENGTH - 8); n[stage]++
  }
  END { printf "time per stage, summed over calls: first pass %.1f s (%d calls), second listen %.1f s (%d), script check %.1f s (%d)\n",
        t["first pass"], n["first pass"], t["second listen"], n["second listen"], t["script check"], n["script check"] }'
python3 "$root/bench/verify_report.py" "$work/data" "$(IFS=:; echo "${dirs[*]}")" "$bin"
python3 "$root/bench/hearing_report.py" "$work/data" "$(IFS=:; echo "${dirs[*]}")" "$bin"

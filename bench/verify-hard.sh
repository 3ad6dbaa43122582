#!/usr/bin/env bash
# Verification accuracy on the harder labelled set (tests/calls-hard: paraphrased disclosures,
# brown noise, GSM and AMR-NB round trips, a quiet customer line, fast and slow speech, voices
# the packs were not written on) together with the labelled set of tests/calls, ingested with
# the base model and scored per rule (bench/verify_report.py). Prints the table BENCHMARKS.md
# quotes, the ingest time, and how many calls needed a second listen.
#
#   bench/verify-hard.sh [hard|labelled|both|unseen|unseen2|unseen3|unseen4|unseen5|unseen6|unseen7|unseen8|unseen9|unseen10|unseen11|unseen12|unseen13|unseen14|unseen15|unseen16|unseen17|unseen18|unseen19|unseen20|unseen21|unseen22|unseen23|overlap]  (default both; CALLPROOF_BIN to pick a binary,
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
  # Written after every change of issue 16, measured once before any further change.
  unseen2) dirs=("$root/bench/calls-unseen-2") ;;
  # Written in the sixteenth session before any of its changes (bench/calls-unseen-3).
  unseen3) dirs=("$root/bench/calls-unseen-3") ;;
  # Written in the twenty-fourth session, after its first change (bench/calls-unseen-4).
  unseen4) dirs=("$root/bench/calls-unseen-4") ;;
  # Written in the twenty-fifth session, before its first change (bench/calls-unseen-5).
  unseen5) dirs=("$root/bench/calls-unseen-5") ;;
  # Written in the twenty-sixth session, before its first change (bench/calls-unseen-6).
  unseen6) dirs=("$root/bench/calls-unseen-6") ;;
  # Written in the twenty-seventh session, before its first change (bench/calls-unseen-7).
  unseen7) dirs=("$root/bench/calls-unseen-7") ;;
  # Written in the thirtieth session, after its first four changes (bench/calls-unseen-8).
  unseen8) dirs=("$root/bench/calls-unseen-8") ;;
  # Written in the thirty-second session, before its first change (bench/calls-unseen-9).
  unseen9) dirs=("$root/bench/calls-unseen-9") ;;
  # Written in the thirty-third session, after its one change, before any run on them.
  unseen10) dirs=("$root/bench/calls-unseen-10") ;;
  # Written in the thirty-sixth session, after its three changes, before any run on them.
  unseen11) dirs=("$root/bench/calls-unseen-11") ;;
  # Written in the thirty-seventh session, before any of its changes and any run on them.
  unseen12) dirs=("$root/bench/calls-unseen-12") ;;
  # Written in the thirty-seventh session, after its change to replies, before any run on them.
  unseen13) dirs=("$root/bench/calls-unseen-13") ;;
  # Written in the thirty-eighth session, before any of its changes and any run on them.
  unseen14) dirs=("$root/bench/calls-unseen-14") ;;
  # Written in the thirty-eighth session, after its change to the agent's words, before any run.
  unseen15) dirs=("$root/bench/calls-unseen-15") ;;
  # Written in the thirty-ninth session, before any of its changes and any run on them.
  unseen16) dirs=("$root/bench/calls-unseen-16") ;;
  # Written in the thirty-ninth session, after its changes to forbidden statements, before any run.
  unseen17) dirs=("$root/bench/calls-unseen-17") ;;
  # Written in the fortieth session, before any of its changes and any run on them.
  unseen18) dirs=("$root/bench/calls-unseen-18") ;;
  # Written in the fortieth session, after its changes to pressure, before any run on them.
  unseen19) dirs=("$root/bench/calls-unseen-19") ;;
  # Written in the forty-first session, before any of its changes and any run on them.
  unseen20) dirs=("$root/bench/calls-unseen-20") ;;
  # Written in the forty-second session, before any of its changes and any run on them.
  unseen21) dirs=("$root/bench/calls-unseen-21") ;;
  # Written in the forty-third session, before any of its changes and any run on them.
  unseen22) dirs=("$root/bench/calls-unseen-22") ;;
  # Written in the forty-third session, after its changes to replies and pressure, before any run.
  unseen23) dirs=("$root/bench/calls-unseen-23") ;;
  # Turns said over each other (thirty-fifth session, before any run on them).
  overlap) dirs=("$root/bench/calls-overlap") ;;
  *) echo "hard, labelled, both, unseen, unseen2, unseen3, unseen4, unseen5, unseen6, unseen7, unseen8, unseen9, unseen10, unseen11, unseen12, unseen13, unseen14, unseen15, unseen16, unseen17, unseen18, unseen19, unseen20, unseen21, unseen22, unseen23 or overlap" >&2; exit 1 ;;
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

#!/usr/bin/env bash
# Verification accuracy on voices the packs were not tuned on: the labelled scripts of
# tests/calls rendered with the agent and customer voices swapped and a slower speech rate,
# ingested with the base model, and scored per rule (bench/verify_report.py). The test suite
# (tests/tests/verification.rs) measures the same on the original voices, the set the packs'
# `heard_as` lists were written from; this is the figure to expect on other voices.
#
#   bench/verify-heldout.sh            (needs a release build: cargo build --release;
#                                       RULES=bench/rules/isosell.toml with the client's words)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${CALLPROOF_BIN:-$root/target/release/callproof}
[ -x "$bin" ] || { echo "build first: cargo build --release --bin callproof" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$root/bench/heldout-scripts.sh" "$work/scripts"
"$root/tests/scripts/render-set.sh" "$work/set" "$work"/scripts/*.txt 2>/dev/null
if [ -n "${RULES:-}" ]; then
  "$bin" --data "$work/data" rules put --client isosell "$RULES" >/dev/null
  echo "client rule set: $RULES"
fi
start=$(date +%s)
"$bin" --data "$work/data" --model base ingest "$work/set" >/dev/null
echo "ingested $(ls "$work"/set/*.wav | wc -l) calls in $(( $(date +%s) - start )) s"
python3 "$root/bench/verify_report.py" "$work/data" "$work/scripts" "$bin"

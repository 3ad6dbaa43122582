#!/usr/bin/env bash
# Renders every call script of tests/calls (or the scripts given) into OUTDIR as the labelled
# verification set: OUTDIR/<name>.wav (stereo 8 kHz µ-law, agent left, customer right) and
# OUTDIR/<name>.json, the metadata sidecar `callproof ingest` reads (client, campaign, language
# and start time from the script's "# language:" and "# started-at:" headers; a Tuesday
# morning in Paris by default, inside the French calling hours).
#
#   render-set.sh OUTDIR [SCRIPT...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$1
shift
mkdir -p "$out"
scripts=("$@")
[ ${#scripts[@]} -gt 0 ] || scripts=("$here"/../calls/*.txt)
for s in "${scripts[@]}"; do
  name=$(basename "$s" .txt)
  lang=$(sed -n 's/^# language: *//p' "$s" | head -n1)
  started=$(sed -n 's/^# started-at: *//p' "$s" | head -n1)
  "$here/render-call.sh" "$s" "$out/$name.wav"
  printf '{"client": "isosell", "campaign": "labelled-set", "agent": "%s", "language": "%s", "started_at": "%s", "contract_ref": "%s"}\n' \
    "${name%%_*}" "${lang:-fr}" "${started:-2026-03-03T10:30:00+01:00}" "$name" > "$out/$name.json"
done

#!/usr/bin/env bash
# Writes the labelled scripts of tests/calls into OUTDIR as a set nothing was tuned on: agent and
# customer voices swapped (mb-fr1 <-> mb-fr4, mb-us1 <-> mb-us2) and speech at 140 words a
# minute. Used by bench/verify-heldout.sh and bench/mono.sh.
#
#   bench/heldout-scripts.sh OUTDIR
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$1
mkdir -p "$out"
for f in "$root"/tests/calls/*.txt; do
  dst="$out/$(basename "$f")"
  sed -e 's/mb-fr1/SWAP/; s/mb-fr4/mb-fr1/; s/SWAP/mb-fr4/' \
      -e 's/mb-us1/SWAP/; s/mb-us2/mb-us1/; s/SWAP/mb-us2/' \
      -e '/^# speed:/d' "$f" > "$dst"
  sed -i '1a # speed: 140' "$dst"
done

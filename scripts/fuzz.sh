#!/usr/bin/env bash
# The property tests over decoding and query parsing, run for a while with fresh random seeds
# (CI runs each once with a few hundred cases). Usage: scripts/fuzz.sh [seconds, default 3600].
# Prints the number of cases tried and stops at the first failure, with proptest's minimal case.
set -euo pipefail
cd "$(dirname "$0")/.."
budget=${1:-3600}
bins=$(cargo test --no-run --message-format=json -p callproof-ingest -p callproof-search --test fuzz 2>/dev/null |
  python3 -c 'import json,sys
for l in sys.stdin:
    m=json.loads(l)
    if m.get("reason")=="compiler-artifact" and m.get("executable") and m["target"]["name"]=="fuzz":
        print(m["executable"])')
[ -n "$bins" ] || { echo "could not build the property tests" >&2; exit 1; }
batch=2000
end=$((SECONDS + budget))
rounds=0
while [ $SECONDS -lt $end ]; do
  for b in $bins; do
    PROPTEST_CASES=$batch "$b" -q >/tmp/callproof-fuzz.log 2>&1 || { cat /tmp/callproof-fuzz.log; echo "FAILED after $rounds rounds"; exit 1; }
  done
  rounds=$((rounds + 1))
done
tests=0
for b in $bins; do tests=$((tests + $("$b" --list 2>/dev/null | grep -c ': test$'))); done
echo "property tests: $rounds rounds x $batch cases x $tests properties = $((rounds * batch * tests)) cases in $SECONDS s, no failure"

#!/usr/bin/env bash
# The main job on the embedded default (local files, local index, SQLite catalog): ingests the
# sample recordings into ./callproof-data, prints search results, then serves the HTTP API.
#   scripts/demo.sh [BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/callproof}
export CALLPROOF_DATA=${CALLPROOF_DATA:-callproof-data}
samples=$(mktemp -d)
trap 'rm -rf "$samples"' EXIT

# A French sale rendered with mbrola voices (agent left, customer right), with its metadata.
tests/scripts/render-call.sh tests/calls/fr_vente_consentement.txt "$samples/vente-0001.wav" 2>/dev/null
cat > "$samples/vente-0001.json" <<'JSON'
{"client": "electricite-du-centre", "campaign": "hiver-2026", "agent": "julie.martin",
 "customer_phone": "+33612345678", "contract_ref": "EDC-2026-0001",
 "started_at": "2026-03-02T10:15:00+01:00", "language": "fr", "channels": ["agent", "customer"]}
JSON
cp tests/fixtures/real/en_call_auto_repairs_stereo_ulaw8k.wav "$samples/auto-repairs.wav"
cat > "$samples/auto-repairs.json" <<'JSON'
{"client": "platinum-motors", "campaign": "service", "agent": "michelle",
 "started_at": "2026-03-03T15:40:00-08:00", "language": "en", "channels": ["agent", "customer"]}
JSON

echo "== ingesting sample calls into $CALLPROOF_DATA (French with base, English with tiny.en)"
"$bin" --model base ingest "$samples/vente-0001.wav" || true
"$bin" --model tiny.en ingest "$samples/auto-repairs.wav" || true
"$bin" calls

echo
echo "== search: \"confirme mon accord\" said by the customer"
"$bin" search '"confirme mon accord"' --speaker customer
echo
echo "== search: service light, client platinum-motors"
"$bin" search 'service light' --client platinum-motors

echo
echo "== verification of the French sale (built-in pack fr-demarchage)"
"$bin" findings "$("$bin" calls --json | python3 -c 'import json,sys; print([c["id"] for c in json.load(sys.stdin) if c["metadata"]["client"] == "electricite-du-centre"][0])')" --all

echo
"$bin" keys init
key=$("$bin" keys create --role admin --name demo 2>/dev/null)
echo
echo "== serving the API (Ctrl-C to stop) with a new admin key; try"
echo "   curl -s -H 'Authorization: Bearer $key' 'http://127.0.0.1:8080/api/v1/search?q=accord' | python3 -m json.tool"
exec "$bin" --model base serve --listen 127.0.0.1:8080

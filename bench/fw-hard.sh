#!/usr/bin/env bash
# faster-whisper (base, int8, its VAD, greedy: its best settings for this job, as in
# bench/compare.sh) on the recordings bench/verify-hard.sh rendered, for the word error rate
# and speed to set beside callproof's on the same calls.
#
#   WORK=DIR bench/fw-hard.sh      (DIR: the WORK folder of a bench/verify-hard.sh run;
#                                   FW_WORKERS recordings at once, default 1, each with
#                                   FW_THREADS threads, default 2 / FW_WORKERS; FW_WORDS=1
#                                   for word times, as callproof gives; FW_BEAM=5 for its
#                                   beam search instead of greedy decoding)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${WORK:?set WORK to the folder of a bench/verify-hard.sh run}
bin=${CALLPROOF_BIN:-$root/target/release/callproof}
[ -x "$root/bench/.venv/bin/python" ] || python3 -m venv "$root/bench/.venv"
"$root/bench/.venv/bin/python" -c "import faster_whisper" 2>/dev/null || "$root/bench/.venv/bin/pip" install -q faster-whisper
ct2=$("$bin" model list --json | python3 -c "import json,sys; print(next(m['ct2_dir'] for m in json.load(sys.stdin) if m['name']=='base'))")
python3 - "$work" "$root" > "$work/fw-manifest.json" <<'PY'
import json, os, sys
work, root = sys.argv[1], sys.argv[2]
items = []
for name in sorted(os.listdir(os.path.join(work, "set"))):
    if not name.endswith(".wav"):
        continue
    stem = name[:-4]
    meta = json.load(open(os.path.join(work, "set", stem + ".json")))
    dirs = ["tests/calls", "tests/calls-hard"] + sorted(
        os.path.join("bench", d) for d in os.listdir(os.path.join(root, "bench")) if d.startswith("calls-"))
    script = next(os.path.join(root, d, stem + ".txt") for d in dirs if os.path.exists(os.path.join(root, d, stem + ".txt")))
    items.append({"path": os.path.join(work, "set", name), "language": meta["language"], "script": script})
print(json.dumps(items))
PY
start=$(date +%s.%N)
workers=${FW_WORKERS:-1}
threads=${FW_THREADS:-$(( workers >= 2 ? 1 : 2 ))}
"$root/bench/.venv/bin/python" "$root/bench/fw_run.py" "$ct2" "$threads" "$work/fw-manifest.json" "$work/fw-out.json" "$workers"
end=$(date +%s.%N)
python3 - "$work/fw-out.json" "$root/bench" "$start" "$end" "$workers" "$threads" <<'PY'
import json, sys
sys.path.insert(0, sys.argv[2])
from report import edit_distance, reference, words
results = json.load(open(sys.argv[1]))
err = {"agent": 0, "customer": 0}
ref = {"agent": 0, "customer": 0}
for r in results:
    want = reference(r["script"])
    for speaker in err:
        rw = words(want[speaker])
        err[speaker] += edit_distance(rw, words(r["channels"].get(speaker, "")))
        ref[speaker] += len(rw)
import os
words = ", word times" if os.environ.get("FW_WORDS") == "1" else ""
words += f", beam {os.environ['FW_BEAM']}" if os.environ.get("FW_BEAM", "1") != "1" else ""
print(f"faster-whisper base int8{words}, {sys.argv[5]} at once x {sys.argv[6]} threads: "
      f"{float(sys.argv[4]) - float(sys.argv[3]):.1f} s for {len(results)} calls; "
      f"WER agent {100 * err['agent'] / ref['agent']:.1f} %, customer {100 * err['customer'] / ref['customer']:.1f} %, "
      f"all {100 * sum(err.values()) / sum(ref.values()):.1f} %")
PY

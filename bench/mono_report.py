"""Verdicts of the mono mixes against the stereo originals (bench/mono.sh).

    python3 bench/mono_report.py BIN SETDIR

SETDIR holds stereo.json and mono.json (`callproof ingest --json` output), the data folders
data-stereo and data-mono, and stereo/NAME.turns.tsv (who said each line when, written by
tests/scripts/render-call.sh). Prints one line per call: the verdicts, and the role accuracy of
the mono transcript (the share of its words, by duration, given to the party whose line they
fall in); then the totals.
"""
import json
import os
import subprocess
import sys

bin_, setdir = sys.argv[1], sys.argv[2]


def calls(kind):
    out = {}
    for c in json.load(open(os.path.join(setdir, kind + ".json"))):
        out[os.path.basename(c["file"])] = c["call_id"]
    return out


def findings(kind, call_id):
    v = json.loads(subprocess.check_output(
        [bin_, "--data", os.path.join(setdir, "data-" + kind), "findings", call_id, "--json"]))
    flagged = sorted(f"{f['rule_id']}:{f['outcome']}:{f['status']}"
                     for f in v["findings"] if f["status"] != "pass")
    return v["verdict"], flagged


def role_accuracy(name, call_id):
    turns = []
    for line in open(os.path.join(setdir, "stereo", name.replace(".wav", ".turns.tsv"))):
        role, start, end, _ = line.rstrip("\n").split("\t", 3)
        turns.append((int(start), int(end), role))
    t = json.loads(subprocess.check_output(
        [bin_, "--data", os.path.join(setdir, "data-mono"), "transcript", call_id, "--json"]))
    right = total = 0
    for seg in t["segments"]:
        for w in seg["words"] or [seg]:
            mid = (w["start_ms"] + w["end_ms"]) // 2
            want = next((r for s, e, r in turns if s - 300 <= mid < e + 300), None)
            if want is None:
                continue
            d = max(1, w["end_ms"] - w["start_ms"])
            total += d
            right += d if seg["speaker"] == want else 0
    return right / total if total else 1.0


stereo, mono = calls("stereo"), calls("mono")
same = worse = 0
roles = []
for name in sorted(stereo):
    s, m = findings("stereo", stereo[name]), findings("mono", mono[name])
    roles.append(role_accuracy(name, mono[name]))
    same += s[0] == m[0]
    # A call compliant on stereo called a violation on mono: the fault the issue forbids.
    worse += s[0] == "compliant" and m[0] == "violation"
    print(f"{'same' if s[0] == m[0] else 'DIFF'}  {name:40} stereo {s[0]:13} mono {m[0]:13} "
          f"roles {100 * roles[-1]:5.1f} % "
          f"{' '.join(m[1]) if s[0] != m[0] else ''}")
print(f"verdict agreement {same}/{len(stereo)} ({100 * same / len(stereo):.0f} %); "
      f"compliant on stereo, violation on mono: {worse}; role accuracy {100 * sum(roles) / len(roles):.1f} % "
      f"(worst {100 * min(roles):.1f} %), roles right (≥ 90 %) on {sum(r >= 0.9 for r in roles)}/{len(roles)} calls")

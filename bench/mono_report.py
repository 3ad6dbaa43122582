"""Verdicts of the mono mixes against the stereo originals (bench/mono.sh).

    python3 bench/mono_report.py BIN SETDIR

SETDIR holds stereo.json and mono.json (`callproof ingest --json` output) and the data folders
data-stereo and data-mono. Prints one line per call and the agreement.
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


stereo, mono = calls("stereo"), calls("mono")
same = worse = 0
for name in sorted(stereo):
    s, m = findings("stereo", stereo[name]), findings("mono", mono[name])
    same += s[0] == m[0]
    # A call compliant on stereo called a violation on mono: the fault the issue forbids.
    worse += s[0] == "compliant" and m[0] == "violation"
    print(f"{'same' if s[0] == m[0] else 'DIFF'}  {name:40} stereo {s[0]:13} mono {m[0]:13} "
          f"{' '.join(m[1]) if s[0] != m[0] else ''}")
print(f"verdict agreement {same}/{len(stereo)} ({100 * same / len(stereo):.0f} %); "
      f"compliant on stereo, violation on mono: {worse}")

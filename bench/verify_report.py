#!/usr/bin/env python3
"""Per-rule precision and recall of callproof's verification on an ingested labelled set.

    verify_report.py DATA_DIR SCRIPTS_DIR[:SCRIPTS_DIR...] [CALLPROOF_BIN]

Each call's file name (without .wav) names its script in one of the SCRIPTS_DIRs; the script's
"# expect: rule outcome" lines are the findings it must produce. A finding that is not a
pass (fail or needs review) counts as flagged, as in tests/tests/verification.rs. The verdict
expected: "no_sale" when the only expectation is the customer's refusal, "violation" when
there is any other, "compliant" when there is none. A violation verdict none of whose failed
findings is on a rule expected to fail is right on a wrong ground, and counted apart. With VERDICTS_OUT=FILE, each call's verdict
and the expected one are also written there as JSON (bench/stability.sh compares runs with it).
"""
import collections
import json
import os
import subprocess
import sys

data, scripts = sys.argv[1], sys.argv[2].split(":")
binary = sys.argv[3] if len(sys.argv) > 3 else "callproof"


def run(*args):
    out = subprocess.run([binary, "--data", data, *args], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


counts = collections.defaultdict(lambda: [0, 0, 0])  # tp, fp, fn
verdicts_right = 0
compliant_as_violation = 0
# A call that breaks the rules let through as compliant: nobody will listen to it.
violation_as_compliant = 0
calls = run("calls", "--json", "--limit", "10000")
differences = []
wrong_ground = []
verdicts = {}
for call in sorted(calls, key=lambda c: c["original_name"]):
    name = call["original_name"].rsplit(".", 1)[0]
    path = next(os.path.join(d, name + ".txt") for d in scripts if os.path.exists(os.path.join(d, name + ".txt")))
    with open(path, encoding="utf-8") as f:
        want = {tuple(l.split()[2:4]) for l in f if l.startswith("# expect:")}
    v = run("findings", call["id"], "--json")
    got = {(x["rule_id"], x["outcome"]) for x in v["findings"] if x["status"] != "pass"}
    for key in got | want:
        c = counts[key[0]]
        if key in got and key in want:
            c[0] += 1
        elif key in got:
            c[1] += 1
        else:
            c[2] += 1
    expected = ("no_sale" if want == {("consent", "refused")} else "violation") if want else "compliant"
    verdicts[name] = {"verdict": v["verdict"], "expected": expected}
    # A violation called on findings the script does not expect only: the right verdict, for a
    # wrong reason (an accusation on a misheard word beside a breach heard with doubt).
    fails = {x["rule_id"] for x in v["findings"] if x["status"] == "fail"}
    if v["verdict"] == "violation" and expected == "violation" and not fails & {r for r, _ in want}:
        wrong_ground.append(name)
    if v["verdict"] == expected:
        verdicts_right += 1
    else:
        differences.append(f"  {name}: verdict {v['verdict']}, expected {expected}")
    if expected == "compliant" and v["verdict"] == "violation":
        compliant_as_violation += 1
    if expected != "compliant" and v["verdict"] == "compliant":
        violation_as_compliant += 1
    if got != want:
        differences.append(f"  {name}: missed {sorted(want - got)}, extra {sorted(got - want)}")


if os.environ.get("VERDICTS_OUT"):
    with open(os.environ["VERDICTS_OUT"], "w", encoding="utf-8") as f:
        json.dump(verdicts, f, indent=1)


def ratio(a, b):
    return a / b if b else 1.0


print("| rule | expected | flagged | right | precision | recall |")
print("|---|---|---|---|---|---|")
total = [0, 0, 0]
for rule in sorted(counts):
    tp, fp, fn = counts[rule]
    total = [total[0] + tp, total[1] + fp, total[2] + fn]
    print(f"| {rule} | {tp + fn} | {tp + fp} | {tp} | {ratio(tp, tp + fp):.2f} | {ratio(tp, tp + fn):.2f} |")
tp, fp, fn = total
print(f"| all | {tp + fn} | {tp + fp} | {tp} | {ratio(tp, tp + fp):.2f} | {ratio(tp, tp + fn):.2f} |")
print(f"verdicts right: {verdicts_right}/{len(calls)}; compliant calls called violations: {compliant_as_violation}; calls with a violation called compliant: {violation_as_compliant}")
print(f"violations called on no expected breach (right verdict, wrong ground): {len(wrong_ground)}" + (f" ({', '.join(wrong_ground)})" if wrong_ground else ""))
if differences:
    print("differences:")
    print("\n".join(differences))

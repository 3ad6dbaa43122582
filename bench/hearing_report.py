#!/usr/bin/env python3
"""Word error rate, rule-word recognition and second-listen use on an ingested labelled set.

    hearing_report.py DATA_DIR SCRIPTS_DIR[:SCRIPTS_DIR...] [CALLPROOF_BIN]

WER per channel against the call scripts (normalised as bench/report.py does: lower case,
punctuation and apostrophes removed, numbers not normalised). Rule words: the words the rule
sets need heard (the packs' vocabulary, the seller's brand, and the legal numbers): for each
call, how many of their occurrences in the script were recognised (a word counts as many times
as both the script and the transcript hold it).
"""
import collections
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from report import edit_distance, reference, words  # noqa: E402

data, scripts = sys.argv[1], sys.argv[2].split(":")
binary = sys.argv[3] if len(sys.argv) > 3 else "callproof"
RULE_WORDS = {
    "fr": ["bloctel", "isosell", "rétractation", "14", "démarchage", "courrier", "signature", "commercial", "commerciale"],
    "en": ["isosell", "recorded", "cancellation", "cooling", "14", "behalf"],
}
# The legal number is written in figures by the recogniser and in words by the scripts.
SAME = {"quatorze": "14", "fourteen": "14"}


def run(*args):
    out = subprocess.run([binary, "--data", data, *args], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


errors = collections.Counter()
ref_words = collections.Counter()
said = heard = 0
second_calls = 0
second_ms = 0
calls = run("calls", "--json", "--limit", "10000")
for call in calls:
    name = call["original_name"].rsplit(".", 1)[0]
    path = next(os.path.join(d, name + ".txt") for d in scripts if os.path.exists(os.path.join(d, name + ".txt")))
    t = run("transcript", call["id"], "--json")
    ref = reference(path)
    hyp = {"agent": [], "customer": []}
    for s in t["segments"]:
        if s["speaker"] in hyp:
            hyp[s["speaker"]].append(s["text"])
    sl = [s for s in t["segments"] if s.get("second_listen")]
    if sl:
        second_calls += 1
        second_ms += sum(s["end_ms"] - s["start_ms"] for s in sl)
    for speaker in ("agent", "customer"):
        rw = words(ref[speaker])
        hw = words(" ".join(hyp[speaker]))
        errors[speaker] += edit_distance(rw, hw)
        ref_words[speaker] += len(rw)
        rc = collections.Counter(SAME.get(w, w) for w in rw)
        hc = collections.Counter(SAME.get(w, w) for w in hw)
        for w in RULE_WORDS.get(t["language"], []):
            said += rc[w]
            heard += min(rc[w], hc[w])
total_err = sum(errors.values())
total_ref = sum(ref_words.values())
print(
    f"WER agent {100 * errors['agent'] / ref_words['agent']:.1f} %, customer {100 * errors['customer'] / ref_words['customer']:.1f} %, "
    f"all {100 * total_err / total_ref:.1f} %; rule words heard {heard}/{said} ({100 * heard / max(said, 1):.0f} %); "
    f"second listen on {second_calls}/{len(calls)} calls, {second_ms / 1000:.0f} s of speech"
)

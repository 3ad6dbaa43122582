"""Turns the runs of bench/compare.sh into the Markdown table of BENCHMARKS.md.

    python report.py RUNS_DIR

RUNS_DIR holds, per run, NAME.time ("wall_s max_rss_kb"), NAME.json (texts per recording and
channel) and NAME.meta.json (system, model, audio seconds, recordings transcribed at once);
references come from the call scripts next to each generated recording (SCRIPT.txt → agent and
customer lines). Repeated runs of one system, model, set and setting (NAME.r1, NAME.r2, …) are
reported as their median wall time, highest peak memory and the word error rate of the first.
"""
import json
import os
import re
import statistics
import sys


def words(text: str) -> list[str]:
    text = text.lower().replace("'", " ").replace("’", " ")
    return re.sub(r"[^\w\s]", " ", text).split()


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1]


def reference(script: str) -> dict[str, str]:
    """Each side's words in a call script: "A: …" and "C: …" lines, and "A<500: …" or
    "C<500: …" (a turn said over the end of the previous one, tests/scripts/render-call.sh)."""
    ref = {"agent": [], "customer": []}
    for line in open(script, encoding="utf-8"):
        m = re.match(r"([AC])(?:<\d+)?:(.*)", line)
        if m:
            ref["agent" if m.group(1) == "A" else "customer"].append(m.group(2).strip())
    return {k: " ".join(v) for k, v in ref.items()}


FW_WORD_TIMES = "faster-whisper, word times"


def main() -> None:
    runs = sys.argv[1]
    runs_of = {}
    for name in sorted(os.listdir(runs)):
        if not name.endswith(".meta.json"):
            continue
        run = name[: -len(".meta.json")]
        meta = json.load(open(os.path.join(runs, name)))
        wall, rss = open(os.path.join(runs, run + ".time")).read().split()
        results = json.load(open(os.path.join(runs, run + ".json")))
        errors = ref_words = 0
        for r in results:
            script = r.get("script")
            if not script:
                continue
            ref = reference(script)
            for speaker in ("agent", "customer"):
                rw = words(ref[speaker])
                errors += edit_distance(rw, words(r["channels"].get(speaker, "")))
                ref_words += len(rw)
        key = (meta["set"], meta["model"], meta["system"], meta["audio_s"], meta.get("workers", 1))
        runs_of.setdefault(key, []).append((float(wall), int(rss) / 1024, errors / max(ref_words, 1)))
    rows = []
    for (s, model, system, audio, workers), reps in runs_of.items():
        wall = statistics.median(r[0] for r in reps)
        rows.append((s, model, system, audio, workers, wall, audio / wall, max(r[1] for r in reps), reps[0][2],
                     len(reps), min(r[0] for r in reps), max(r[0] for r in reps)))
    # callproof times every word (evidence is played from a word): the like-for-like peer is
    # faster-whisper asked for word times too; the ratio to it without them is given beside.
    # "at once" is the recordings transcribed side by side (the threads shared out among them):
    # each system is compared with the other at the same setting.
    print("| recordings | model | system | at once | audio (s) | runs | wall (s), median [min–max] | × real time | callproof / faster-whisper | callproof / faster-whisper with word times | peak RSS (MiB) | WER (generated calls) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")

    def weights_aside(model):
        # "base-q8_0" and "base-bf16" are base's weights stored otherwise: faster-whisper's
        # peer is base.
        for suffix in ("-q8_0", "-bf16"):
            model = model.removesuffix(suffix)
        return model

    def speeds(system):
        return {(r[0], weights_aside(r[1]), r[4]): r[6] for r in rows if r[2] == system}

    plain, timed = speeds("faster-whisper"), speeds(FW_WORD_TIMES)
    for s, model, system, audio, workers, wall, speed, rss, wer, n, lo, hi in sorted(rows):
        key = (s, weights_aside(model), workers)
        mine = not system.startswith("faster-whisper")
        ratio = f"{speed / plain[key]:.2f}" if mine and key in plain else "—"
        ratio_timed = f"{speed / timed[key]:.2f}" if mine and key in timed else "—"
        print(f"| {s} | {model} | {system} | {workers} | {audio:.0f} | {n} | {wall:.1f} [{lo:.1f}–{hi:.1f}] | {speed:.1f} | {ratio} | {ratio_timed} | {rss:.0f} | {100 * wer:.1f} % |")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The summary of bench/stability.sh: each render's verdict report, then which calls' verdicts
were right on every render, on some and on none.

    stability_report.py WORK RUN [RUN...]

Each WORK/RUN holds report.txt (bench/verify-hard.sh's output) and verdicts.json (its
VERDICTS_OUT).
"""
import json
import re
import sys

work, runs = sys.argv[1], sys.argv[2:]
verdicts = {r: json.load(open(f"{work}/{r}/verdicts.json")) for r in runs}
print("| render | verdicts right | precision | recall | WER agent / customer |")
print("|---|---|---|---|---|")
for r in runs:
    report = open(f"{work}/{r}/report.txt").read()
    right = re.search(r"verdicts right: (\d+/\d+)", report).group(1)
    row = re.search(r"^\| all \| \d+ \| \d+ \| \d+ \| ([\d.]+) \| ([\d.]+) \|", report, re.M)
    wer = re.search(r"WER agent ([\d.]+) %, customer ([\d.]+) %", report)
    print(f"| {r} | {right} | {row.group(1)} | {row.group(2)} | {wer.group(1)} / {wer.group(2)} % |")
names = sorted(set.intersection(*(set(v) for v in verdicts.values())))
always, never, sometimes = [], [], []
for n in names:
    right = [verdicts[r][n]["verdict"] == verdicts[r][n]["expected"] for r in runs]
    (always if all(right) else never if not any(right) else sometimes).append(n)
print(f"\nright on every render: {len(always)}/{len(names)}; on some: {len(sometimes)}; on none: {len(never)}")
for n in sometimes:
    seen = ", ".join(f"{r} {verdicts[r][n]['verdict']}" for r in runs)
    print(f"  changes with the render: {n} (expected {verdicts[runs[0]][n]['expected']}): {seen}")
for n in never:
    print(f"  wrong on every render: {n} (expected {verdicts[runs[0]][n]['expected']}, {verdicts[runs[0]][n]['verdict']})")

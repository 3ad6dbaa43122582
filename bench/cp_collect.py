"""Collects callproof's transcripts of a benchmark run in the format of fw_run.py.

    python3 cp_collect.py BINARY DATA_DIR MANIFEST.json OUT.json
"""
import json
import os
import subprocess
import sys


def cli(binary: str, data: str, *args: str):
    out = subprocess.run([binary, "--data", data, *args, "--json"], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def main() -> None:
    binary, data, manifest, out = sys.argv[1:5]
    items = {os.path.basename(i["path"]): i for i in json.load(open(manifest))}
    results = []
    for call in cli(binary, data, "calls", "--limit", "1000"):
        item = items.get(call.get("original_name"))
        if item is None or call["state"] != "indexed":
            continue
        transcript = cli(binary, data, "transcript", call["id"])
        channels = {"agent": [], "customer": []}
        for seg in transcript["segments"]:
            channels.setdefault(seg["speaker"], []).append(seg["text"])
        results.append({**item, "channels": {k: " ".join(v) for k, v in channels.items()}})
    json.dump(results, open(out, "w"), ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# callproof against faster-whisper on the same CTranslate2 weights and the same recordings.
#
#   bench/compare.sh [BINARY]        (default target/release/callproof; THREADS=2 by default)
#
# REPEAT=N (default 3) runs the whole sequence N times, the systems taking turns, and reports the
# median wall time of each: on a shared 2-core machine one run of the same command varies by
# ±10 % or more, enough to turn a ratio around.
#
# Installs faster-whisper into bench/.venv, uses the CTranslate2 folders that
# `callproof model install` kept, renders the generated calls of tests/calls, and runs:
#   - tiny.en on the English recordings (the real stereo call + generated English calls),
#   - base on all recordings (plus generated French calls),
# with faster-whisper (int8, VAD filter, greedy, each channel separately; once as is and once
# asked for word times, as callproof gives every word) and callproof's whole
# pipeline (decode, resample, speech detection, transcription, index; the second listen off) in
# f16, q8_0 and (base) bf16.
# Prints the Markdown table for BENCHMARKS.md; raw runs stay in bench/out/.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-target/release/callproof}")
threads=${THREADS:-2}
out=bench/out
rm -rf "$out"
mkdir -p "$out/audio" "$out/runs" "$out/data"

[ -x bench/.venv/bin/python ] || python3 -m venv bench/.venv
bench/.venv/bin/python -c "import faster_whisper" 2>/dev/null || bench/.venv/bin/pip install -q faster-whisper

for model in tiny.en base; do
  for name in "$model" "$model-q8_0" "$model-bf16"; do
    grep -q "\"name\": \"$name\"" <<<"$("$bin" model list --json)" || "$bin" model install "$name" >/dev/null
  done
done
ct2_dir() { "$bin" model list --json | python3 -c "import json,sys; print(next(m['ct2_dir'] for m in json.load(sys.stdin) if m['name']==sys.argv[1]))" "$1"; }

# Recordings and manifests.
cp tests/fixtures/real/en_call_auto_repairs_stereo_ulaw8k.wav "$out/audio/en_real_auto_repairs.wav"
for script in tests/calls/*.txt; do
  tests/scripts/render-call.sh "$script" "$out/audio/$(basename "$script" .txt).wav" 2>/dev/null
done
python3 - "$out" <<'PY'
import json, os, subprocess, sys
out = sys.argv[1]
sets = {"en": [], "all": []}
for f in sorted(os.listdir(f"{out}/audio")):
    if not f.endswith(".wav"):
        continue
    lang = f[:2]
    script = f"tests/calls/{f[:-4]}.txt"
    item = {"path": os.path.abspath(f"{out}/audio/{f}"), "language": lang,
            "script": script if os.path.exists(script) else None,
            "seconds": float(subprocess.check_output(["soxi", "-D", f"{out}/audio/{f}"]))}
    sets["all"].append(item)
    if lang == "en":
        sets["en"].append(item)
for name, items in sets.items():
    json.dump(items, open(f"{out}/{name}.json", "w"), indent=1)
PY

audio_s() { python3 -c "import json,sys; print(sum(i['seconds'] for i in json.load(open(sys.argv[1]))))" "$out/$1.json"; }
meta() { # system model set run [workers]
  printf '{"system": "%s", "model": "%s", "set": "%s", "audio_s": %s, "workers": %s}\n' \
    "$1" "$2" "$3" "$(audio_s "$3")" "${5:-1}" > "$out/runs/$4.meta.json"
}

share() { echo $(( threads / $1 > 0 ? threads / $1 : 1 )); } # threads each of N at once get

run_fw() { # set model [words] [workers]: with "words", faster-whisper times every word as callproof
  # does; with workers > 1, that many recordings at once, the threads shared out among them
  local workers=${4:-1}
  local par=${4:+-x$workers}
  local run="fw-$1-$2${3:+-words}$par.r$rep" system="faster-whisper${3:+, word times}"
  echo "$system $2 on $1 ($workers at once) ..." >&2
  FW_WORDS=${3:+1} /usr/bin/time -f "%e %M" -o "$out/runs/$run.time" \
    bench/.venv/bin/python bench/fw_run.py "$(ct2_dir "$2")" "$(share "$workers")" \
    "$out/$1.json" "$out/runs/$run.json" "$workers"
  meta "$system" "$2" "$1" "$run" "$workers"
}
run_cp() { # set model [jobs]: with jobs > 1, that many recordings at once (`ingest --jobs`)
  local jobs=${3:-1}
  local par=${3:+-x$jobs}
  local run="cp-$1-$2$par.r$rep" data="$out/data/$1-$2$par"
  rm -rf "$data"
  echo "callproof $2 on $1 ($jobs at once) ..." >&2
  local files
  files=$(python3 -c "import json,sys; print('\n'.join(i['path'] for i in json.load(open(sys.argv[1]))))" "$out/$1.json")
  for f in $files; do
    printf '{"client": "bench", "language": "%s"}\n' "$(basename "$f" | cut -c1-2)" > "${f%.wav}.json"
  done
  # Transcription against transcription: the second listen and the script check are the
  # verification's (bench/verify-hard.sh measures them); on the real call, whose sales talk
  # follows no script, they would add minutes faster-whisper has no counterpart for.
  # shellcheck disable=SC2086
  CALLPROOF_SECOND_LISTEN=off /usr/bin/time -f "%e %M" -o "$out/runs/$run.time" \
    "$bin" --data "$data" --model "$2" --threads "$(share "$jobs")" \
    ingest --jobs "$jobs" $files >/dev/null
  python3 bench/cp_collect.py "$bin" "$data" "$out/$1.json" "$out/runs/$run.json"
  meta callproof "$2" "$1" "$run" "$jobs"
}

for rep in $(seq 1 "${REPEAT:-3}"); do
  run_fw en tiny.en
  run_fw en tiny.en words
  run_cp en tiny.en
  run_cp en tiny.en-q8_0
  run_fw all base
  run_fw all base words
  run_cp all base
  run_cp all base-q8_0
  run_cp all base-bf16
  # Each system at its best on this machine too: faster-whisper gains more from two
  # recordings at once on one thread each than callproof does (its threads scale worse).
  if [ "$threads" -gt 1 ]; then
    run_fw all base "" "$threads"
    run_fw all base words "$threads"
    run_cp all base "$threads"
    run_cp all base-q8_0 "$threads"
    run_cp all base-bf16 "$threads"
  fi
done
python3 bench/report.py "$out/runs"

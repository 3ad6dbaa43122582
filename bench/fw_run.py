"""Runs faster-whisper on stereo call recordings, each channel separately, with its best
settings for this job: int8, its own Silero VAD filter, greedy decoding.

    python fw_run.py MODEL_DIR THREADS MANIFEST.json OUT.json [WORKERS]

MANIFEST lists {"path", "language"}; OUT gets, per recording, the text of each channel.
WORKERS (default 1) recordings are transcribed at once, each with THREADS threads
(CTranslate2's `num_workers`), as `callproof ingest --jobs` does. FW_WORDS=1 asks for word
times too; FW_BEAM=N decodes with N beams instead of greedily.
"""
import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor

from faster_whisper import WhisperModel
from faster_whisper.audio import decode_audio


def main() -> None:
    model_dir, threads, manifest, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    workers = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    # Word times, as callproof gives every word (FW_WORDS=1): faster-whisper then aligns them
    # with cross-attention, as whisper.cpp's DTW does for callproof.
    words = os.environ.get("FW_WORDS") == "1"
    # FW_BEAM=5: its own default beam search, to see what the weights can hear at any cost.
    beam = int(os.environ.get("FW_BEAM", "1"))
    items = json.load(open(manifest))
    model = WhisperModel(
        model_dir, device="cpu", compute_type="int8", cpu_threads=threads, num_workers=workers
    )

    def one(item):
        left, right = decode_audio(item["path"], sampling_rate=16000, split_stereo=True)
        channels = {}
        for speaker, audio in (("agent", left), ("customer", right)):
            segments, _ = model.transcribe(
                audio,
                language=item["language"],
                beam_size=beam,
                best_of=1,
                vad_filter=True,
                word_timestamps=words,
            )
            channels[speaker] = " ".join(s.text.strip() for s in segments)
        return {**item, "channels": channels}

    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(one, items))
    json.dump(results, open(out, "w"), ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()

"""Runs faster-whisper on stereo call recordings, each channel separately, with its best
settings for this job: int8, its own Silero VAD filter, greedy decoding.

    python fw_run.py MODEL_DIR THREADS MANIFEST.json OUT.json

MANIFEST lists {"path", "language"}; OUT gets, per recording, the text of each channel.
"""
import json
import sys

from faster_whisper import WhisperModel
from faster_whisper.audio import decode_audio


def main() -> None:
    model_dir, threads, manifest, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    items = json.load(open(manifest))
    model = WhisperModel(model_dir, device="cpu", compute_type="int8", cpu_threads=threads)
    results = []
    for item in items:
        left, right = decode_audio(item["path"], sampling_rate=16000, split_stereo=True)
        channels = {}
        for speaker, audio in (("agent", left), ("customer", right)):
            segments, _ = model.transcribe(
                audio,
                language=item["language"],
                beam_size=1,
                best_of=1,
                vad_filter=True,
            )
            channels[speaker] = " ".join(s.text.strip() for s in segments)
        results.append({**item, "channels": channels})
    json.dump(results, open(out, "w"), ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()

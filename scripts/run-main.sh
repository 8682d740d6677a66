#!/usr/bin/env bash
# Sets up a fresh machine, then runs every canned scenario on this host and prints the verdicts.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo run --release -p ktstr-cli --bin ktstr -- run "$@"

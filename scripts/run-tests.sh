#!/usr/bin/env bash
# Sets up a fresh machine, then runs ktstr's whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo test --workspace --all-targets "$@"

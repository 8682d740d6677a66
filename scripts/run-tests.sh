#!/usr/bin/env bash
# Sets up a fresh machine (Debian packages, the guest kernel into the cache when it lacks one), then runs
# ktstr's whole test suite: unit, host integration and VM tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --locked -p ktstr-cli
./target/debug/ktstr kernel build
cargo test --locked --workspace "$@"

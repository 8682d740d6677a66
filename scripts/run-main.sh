#!/usr/bin/env bash
# Sets up a fresh machine (Debian packages, the guest kernel into the cache when it lacks one), then runs
# every canned scenario, each in its own VM booting that sched_ext kernel, and prints the verdicts.
# Arguments go to `ktstr run --vm` (e.g. --scheduler scx_simple --topology 2n4l1c1t steady).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --locked --release -p ktstr-cli
./target/release/ktstr kernel build
./target/release/ktstr run --vm "$@"

#!/usr/bin/env bash
# Sets up a fresh machine (Debian packages, the guest kernel and the published schedulers the VM suite
# runs into the cache when it lacks them), then runs ktstr's whole test suite: unit, host integration
# and VM tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --locked -p ktstr-cli
./target/debug/ktstr kernel build
mapfile -t schedulers < <(grep -v '^#' ktstr/tests/real_schedulers.txt | grep .)
./target/debug/ktstr scheduler install "${schedulers[@]}"
cargo test --locked --workspace "$@"
# A separate crate that uses ktstr as a scheduler project would: #[derive(Scheduler)] and #[ktstr_test].
cargo test --locked --manifest-path examples/qmap-tests/Cargo.toml --target-dir target
# cargo-nextest over a small gauntlet: the listing, a filter, partitions hash:1/2 and 2/2.
scripts/check-nextest.sh

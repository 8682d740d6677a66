#!/usr/bin/env bash
# Installs everything ktstr needs on a fresh Debian 12 machine. Idempotent: a second run only checks.
set -euo pipefail

packages=(
  build-essential flex bison bc libelf-dev libssl-dev dwarves cpio
  clang-19 llvm-19 lld-19 libclang1-19 zlib1g-dev linux-source-6.12 qemu-system-x86 busybox-static
  pkg-config jq tmux
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "ktstr setup: installing ${missing[*]}" >&2
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# cargo-nextest runs each trial as a process of its own and shards a gauntlet over machines
# (.config/nextest.toml); crates.io is the one source this needs.
if ! cargo nextest --version >/dev/null 2>&1; then
  echo "ktstr setup: installing cargo-nextest (cargo install, a few minutes the first time)" >&2
  # Without the self-updater and USDT probes: fewer crates to build, nothing ktstr uses.
  cargo install --locked --no-default-features cargo-nextest >/dev/null
fi

#!/usr/bin/env bash
# cargo-nextest over a small gauntlet of examples/qmap-tests (the gauntlet test over scx_qmap's profiles,
# narrowed to two presets): the listing, one filter, and hash partitions 1/2 and 2/2, which together must
# run exactly the variants the listing names, each once. Needs cargo-nextest (scripts/setup.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/../examples/qmap-tests"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-../../target}"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
filter='test(/^gauntlet\/qmap_gauntlet\/(single-cpu|tiny-2llc)\//)'
# The filter must select exactly 6 variants. qmap_gauntlet fans out over each preset × each profile of
# QmapFlags with short-slice excluded (docs/gauntlet.md). QmapFlags declares short-slice, batch and
# boost-nice (which requires batch); without short-slice its profiles are default, batch and
# batch+boost-nice. The test sets no topology bounds, so the filter's 2 presets both stay: 2 × 3 = 6.
# Each of two or more KTSTR_GAUNTLET_KERNELS flavors would multiply that, so the listing runs without it.
expected=6
unset KTSTR_GAUNTLET_KERNELS

# The listing: every variant, the ignored ones (variants run only on request) included.
cargo nextest list --run-ignored all -E "$filter" --message-format json |
    jq -r '."rust-suites"[] | .testcases | to_entries[] | select(.value."filter-match".status == "matches") | .key' |
    sort >"$scratch/listed"
listed=$(wc -l <"$scratch/listed")
echo "check-nextest: $listed variants listed:"
cat "$scratch/listed"
if [ "$listed" -ne "$expected" ]; then
    echo "check-nextest: the filter selected $listed variants, expected $expected (2 presets ×" \
        "3 profiles; the comment above expected= in scripts/check-nextest.sh derives it)" >&2
    exit 1
fi

# Every listed name is a gauntlet variant of one of the two presets.
if grep -vE '^gauntlet/qmap_gauntlet/(single-cpu|tiny-2llc)/' "$scratch/listed"; then
    echo "check-nextest: the filter let through the names above" >&2
    exit 1
fi

for k in 1 2; do
    if ! NEXTEST_EXPERIMENTAL_LIBTEST_JSON=1 cargo nextest run --run-ignored all -E "$filter" \
        --partition "hash:$k/2" --no-fail-fast --message-format libtest-json-plus \
        >"$scratch/events-$k" 2>"$scratch/stderr-$k"; then
        cat "$scratch/stderr-$k" >&2
        echo "check-nextest: partition hash:$k/2 failed (its output is above)" >&2
        exit 1
    fi
    jq -r 'select(.type == "test" and .event == "ok") | .name' "$scratch/events-$k" |
        sed 's/^[^$]*\$//' | sort >"$scratch/ran-$k"
done
sort "$scratch/ran-1" "$scratch/ran-2" >"$scratch/ran"
if ! diff -u "$scratch/listed" "$scratch/ran"; then
    echo "check-nextest: partitions 1/2 and 2/2 together did not run exactly the listed variants" >&2
    exit 1
fi
if [ -n "$(comm -12 "$scratch/ran-1" "$scratch/ran-2")" ]; then
    echo "check-nextest: a variant ran in both partitions" >&2
    exit 1
fi
echo "check-nextest: hash:1/2 ran $(wc -l <"$scratch/ran-1"), hash:2/2 ran $(wc -l <"$scratch/ran-2"): the listing, each once"

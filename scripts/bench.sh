#!/usr/bin/env bash
# Builds the release preset and runs the benchmarks; the markdown report goes
# to stdout and to build/release/bench-results.md. It ends with issue 14's
# three targets as ratio rows (tracking vs the floor, a typed session's
# telemetry CPU vs 5 ms with the quoted Python figure, old vs new).
#
#   scripts/bench.sh [--base-ref REF] [arcade-bench options]
#
# --base-ref REF (e.g. main) builds REF's release binaries in
# build/bench-base (git archive, no checkout) and passes them as --base, so
# the no-regression rows compare old and new back to back in one run.
# Without it, pass --base DIR yourself to get those rows.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-debian.sh
args=()
base_ref=""
while [[ $# -gt 0 ]]; do
    if [[ "$1" == "--base-ref" ]]; then
        base_ref="$2"
        shift 2
    else
        args+=("$1")
        shift
    fi
done
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target arcade arcade-ship arcade-bench sqlite-floor
if [[ -n "$base_ref" ]]; then
    base_dir="$PWD/build/bench-base/$(git rev-parse --short "$base_ref")"
    if [[ ! -x "$base_dir/build/release/bin/arcade-bench" ]]; then
        rm -rf "$base_dir"
        mkdir -p "$base_dir"
        git archive "$base_ref" | tar -x -C "$base_dir"
        (cd "$base_dir" && cmake --preset release >/dev/null &&
            cmake --build --preset release -j "$(nproc)" --target arcade arcade-ship arcade-bench sqlite-floor)
    fi
    args+=(--base "$base_dir/build/release/bin")
fi
build/release/bin/arcade-bench "${args[@]}" | tee build/release/bench-results.md

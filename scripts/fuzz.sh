#!/usr/bin/env bash
# Builds the libFuzzer targets (clang 14, ASan + UBSan) in build/fuzz and runs
# each for FUZZ_SECONDS (default 60) on a temporary copy of its seed corpus
# fuzz/corpus/<name>/, so a run never adds files to the repo. Exits non-zero
# when any target crashes, times out or runs out of memory, and prints where
# the input that did it was saved (build/fuzz/artifacts/<name>/).
#
#   scripts/fuzz.sh                       every target, 60 s each
#   scripts/fuzz.sh sse scrub             only these targets
#   FUZZ_SECONDS=3600 scripts/fuzz.sh     the longer run
#   FUZZ_PARALLEL=1 scripts/fuzz.sh       one target at a time (default: one per core, at most 2)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

scripts/setup-debian.sh --fuzz

seconds=${FUZZ_SECONDS:-60}
parallel=${FUZZ_PARALLEL:-$(nproc)}
((parallel > 2)) && parallel=2
((parallel < 1)) && parallel=1
all_targets=(identity_json credentials sse posthog_response worker_api_response scrub auth_callback terminal_text)
if (($#)); then targets=("$@"); else targets=("${all_targets[@]}"); fi
# The largest input each surface meets in production, where that is bounded
# and cheap enough: usage.json is read up to 64 KiB, the callback request head
# up to 16 KiB, the scrubber looks at 4 KiB. The others get room to nest.
declare -A max_len=([identity_json]=65536 [credentials]=65536 [sse]=16384
                    [posthog_response]=65536 [worker_api_response]=65536 [scrub]=8192 [auth_callback]=16384
                    [terminal_text]=16384)
for t in "${targets[@]}"; do
  [[ -n "${max_len[$t]:-}" ]] || { echo "fuzz.sh: unknown target '$t' (known: ${all_targets[*]})" >&2; exit 2; }
done

echo "== fuzz build (the fuzz preset, build/fuzz)"
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$(nproc)" --target "${targets[@]/#/fuzz_}"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Runs one target; its log goes to $work/<name>.log, its exit code to $work/<name>.rc.
run_target() {
  local t=$1 artifacts="$root/build/fuzz/artifacts/$t" rc=0
  mkdir -p "$artifacts"
  cp -r "fuzz/corpus/$t" "$work/corpus-$t"
  "build/fuzz/bin/fuzz_$t" "$work/corpus-$t" \
    -max_total_time="$seconds" -max_len="${max_len[$t]}" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$artifacts/" -print_final_stats=1 >"$work/$t.log" 2>&1 || rc=$?
  echo "$rc" >"$work/$t.rc"
}

echo "== fuzzing ${targets[*]} for ${seconds} s each, $parallel at a time"
for t in "${targets[@]}"; do
  while (($(jobs -rp | wc -l) >= parallel)); do wait -n || true; done
  run_target "$t" &
done
wait

failed=0
for t in "${targets[@]}"; do
  log="$work/$t.log"
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  cov=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -n 1 || true)
  rc=$(cat "$work/$t.rc")
  if [[ $rc -eq 0 ]]; then
    printf 'fuzz_%-20s ok      %10s runs  %7s exec/s  %s\n' "$t" "${runs:-?}" "${rate:-?}" "$cov"
  else
    failed=1
    printf 'fuzz_%-20s FAILED  (exit %s)\n' "$t" "$rc"
    grep -E 'ERROR: |runtime error|terminate called|what\(\)|^SUMMARY' "$log" | head -n 8 | sed 's/^/    /'
    grep -E "^ +#[0-9]+ .* $root/(src|fuzz)/" "$log" | head -n 8 | sed "s|$root/||; s/^ */      /"
    input=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
    echo "    crashing input: ${input:-none saved (see the log below)}"
    [[ -n "$input" ]] || tail -n 20 "$log" | sed 's/^/    | /'
    echo "    reproduce: build/fuzz/bin/fuzz_$t ${input:-<input>}"
    echo "    then save it as fuzz/regressions/$t/<what-it-broke> for tests/fuzz_regressions"
  fi
done
exit "$failed"

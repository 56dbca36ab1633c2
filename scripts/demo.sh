#!/usr/bin/env bash
# The main job, as a short real demonstration: build arcade, then in a
# throwaway ARCADE_WORK_DIR record usage offline, see the queue, come online
# (a loopback PostHog-compatible sink), deliver, inspect and purge.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-debian.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target arcade arcade-ship posthog-sink

bin=build/release/bin
work=$(mktemp -d /tmp/arcade-demo-XXXXXX)
sink_pid=""
trap '[[ -n $sink_pid ]] && kill $sink_pid 2>/dev/null; rm -rf "$work"' EXIT
export ARCADE_WORK_DIR=$work ARCADE_USAGE_POSTHOG_KEY=phc_demo
unset DO_NOT_TRACK ARCADE_USAGE_TRACKING ARCADE_USAGE_DEBUG

say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

echo "Demo config dir: $work/.arcade"
export ARCADE_USAGE_POSTHOG_HOST=http://127.0.0.1:9   # nothing listens here: we are "offline"
say arcade --version;                     $bin/arcade --version
say arcade no-such-command;               $bin/arcade no-such-command || echo "(exit $?)"
sleep 0.5
say arcade usage status --events;         $bin/arcade usage status --events

"$bin/posthog-sink" --port-file "$work/port" --out "$work/received.jsonl" >/dev/null &
sink_pid=$!
for _ in $(seq 50); do [[ -s $work/port ]] && break; sleep 0.1; done
export ARCADE_USAGE_POSTHOG_HOST=http://127.0.0.1:$(cat "$work/port")
echo; echo "(a PostHog-compatible sink is now listening on $ARCADE_USAGE_POSTHOG_HOST: we are online)"
say arcade usage flush;                   $bin/arcade usage flush
say "what the sink received";             cut -c1-160 "$work/received.jsonl"
say arcade usage status;                  $bin/arcade usage status
say arcade usage purge --yes;             $bin/arcade usage purge --yes

#!/usr/bin/env bash
# Builds the release preset, checks `cmake --install` into a temporary prefix,
# packages the build with CPack (DEB) and tests the package as a user gets it:
#   purge any earlier install, dpkg -i, `arcade --version`, a tracked command
#   whose event is journaled and whose installed arcade-ship runs (against a
#   closed loopback port, so it fails to connect and records the attempt),
#   the man page and the bash completion, then dpkg --purge and check that
#   nothing is left in /usr/bin.
# Needs root (or sudo) for dpkg. Safe to run again: it purges first.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo=""
[[ $(id -u) -ne 0 ]] && sudo="sudo"

scripts/setup-debian.sh --package

fail() {
  echo "test-package: FAIL: $*" >&2
  exit 1
}
step() { echo "== $*"; }

scratch=$(mktemp -d)
purged=0
cleanup() {
  # A failed run must not leave the package behind.
  if [[ $purged -eq 0 ]] && dpkg-query -W -f='${Status}' arcade 2>/dev/null | grep -q "install ok installed"; then
    $sudo dpkg --purge arcade >/dev/null 2>&1 || true
  fi
  rm -rf "$scratch"
}
trap cleanup EXIT

# Runs `$1/arcade usage enable` (a tracked command) in a fresh ARCADE_WORK_DIR
# with PostHog at a closed loopback port, then checks with `usage status` that
# its event is pending and that the arcade-ship beside it ran.
check_tracking() {
  local bin=$1 work
  work=$(mktemp -d "$scratch/work.XXXXXX")
  local -a env_=(env -u DO_NOT_TRACK -u ARCADE_USAGE_TRACKING -u ARCADE_USAGE_DEBUG
                 ARCADE_WORK_DIR="$work" ARCADE_USAGE_POSTHOG_KEY=phc_test
                 ARCADE_USAGE_POSTHOG_HOST=http://127.0.0.1:9)
  "${env_[@]}" "$bin/arcade" usage enable >/dev/null 2>&1 || fail "$bin/arcade usage enable exited non-zero"
  local status="" i
  for ((i = 0; i < 30; i++)); do
    sleep 0.5
    status=$("${env_[@]}" "$bin/arcade" usage status --json --events 2>/dev/null) ||
      fail "$bin/arcade usage status --json exited non-zero"
    if python3 -c 'import json,sys; sys.exit(json.loads(sys.argv[1])["shipper"]["last_attempt_at"] is None)' \
        "$status"; then
      break
    fi
  done
  python3 - "$status" <<'EOF' || fail "usage status for $bin/arcade (see above)"
import json, sys
s = json.loads(sys.argv[1])
problems = []
if not s["tracking"]["enabled"]:
    problems.append("tracking is off: " + s["tracking"]["reason"])
if s["queue"]["pending"] < 1:
    problems.append("no pending event (queue: %s)" % s["queue"])
if not any(e.get("properties", {}).get("command_name") == "usage.enable" for e in s.get("events", [])):
    problems.append("the usage.enable event is not in the journal")
if s["shipper"]["last_attempt_at"] is None:
    problems.append("arcade-ship never attempted a delivery: was it found beside arcade? (shipper: %s)" % s["shipper"])
for p in problems:
    print("  " + p, file=sys.stderr)
print("  pending=%d, shipper last attempt %s, last error: %s"
      % (s["queue"]["pending"], s["shipper"]["last_attempt_at"], s["shipper"]["last_error"]))
sys.exit(1 if problems else 0)
EOF
}

check_version() {
  local out
  out=$("$1/arcade" --version) || fail "$1/arcade --version exited non-zero"
  [[ $out == "arcade 0.1.0" ]] || fail "$1/arcade --version printed '$out', expected 'arcade 0.1.0'"
  echo "  $out"
}

step "release build (build/release)"
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target arcade arcade-ship arcade_man_page

step "cmake --install into a temporary prefix"
prefix="$scratch/prefix"
cmake --install build/release --prefix "$prefix" >/dev/null
for f in bin/arcade bin/arcade-ship share/man/man1/arcade.1.gz share/bash-completion/completions/arcade; do
  [[ -e "$prefix/$f" ]] || fail "cmake --install did not install $f"
done
check_version "$prefix/bin"
check_tracking "$prefix/bin"

step "cpack -G DEB"
rm -f build/release/arcade_*.deb
(cd build/release && cpack -G DEB >/dev/null)
deb=$(ls build/release/arcade_*.deb 2>/dev/null | head -n 1)
[[ -n "$deb" ]] || fail "cpack produced no arcade_*.deb in build/release"
echo "  $deb ($(du -h "$deb" | cut -f1))"
dpkg-deb -f "$deb" Package Version Architecture Maintainer Depends | sed 's/^/  /'
[[ $(dpkg-deb -f "$deb" Package) == arcade ]] || fail "the package is not named arcade"
[[ -n $(dpkg-deb -f "$deb" Depends) ]] || fail "the package has no Depends (shlibdeps did not run)"

step "install (purging any earlier one first)"
$sudo dpkg --purge arcade >/dev/null 2>&1 || true
if ! $sudo dpkg -i "$deb" >/dev/null; then
  echo "  dpkg -i left dependencies missing; apt-get -f install"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get -f install -y -qq >/dev/null
fi
dpkg-query -W -f='${Status}' arcade | grep -q "install ok installed" || fail "arcade is not installed after dpkg -i"
[[ -x /usr/bin/arcade && -x /usr/bin/arcade-ship ]] || fail "/usr/bin/arcade or /usr/bin/arcade-ship missing"
[[ $(command -v arcade) == /usr/bin/arcade ]] || fail "arcade on PATH is $(command -v arcade), not /usr/bin/arcade"
check_version /usr/bin
check_tracking /usr/bin

step "man page and bash completion"
[[ -f /usr/share/man/man1/arcade.1.gz ]] || fail "/usr/share/man/man1/arcade.1.gz missing"
page=$(man -w arcade 2>/dev/null) || fail "man -w arcade finds no page"
echo "  man -w arcade: $page"
rendered=$(MANWIDTH=80 man -l /usr/share/man/man1/arcade.1.gz 2>/dev/null) || fail "man cannot render the page"
[[ $rendered == *"arcade usage purge"* ]] || fail "the rendered man page lacks the usage commands"
completion=/usr/share/bash-completion/completions/arcade
[[ -f $completion ]] || fail "$completion missing"
words=$(bash -c 'source "$1"; COMP_WORDS=(arcade usage ""); COMP_CWORD=2; _arcade; echo "${COMPREPLY[*]}"' _ "$completion")
[[ $words == *status*purge* ]] || fail "bash completion of 'arcade usage ' gave '$words'"
echo "  completion of 'arcade usage ': $words"

step "purge"
$sudo dpkg --purge arcade >/dev/null
purged=1
[[ ! -e /usr/bin/arcade && ! -e /usr/bin/arcade-ship ]] || fail "/usr/bin/arcade still there after dpkg --purge"
[[ ! -e /usr/share/man/man1/arcade.1.gz && ! -e $completion ]] || fail "man page or completion left after purge"
if dpkg-query -W -f='${Status}' arcade 2>/dev/null | grep -q "install ok installed"; then fail "dpkg still lists arcade"; fi

echo "test-package: OK"

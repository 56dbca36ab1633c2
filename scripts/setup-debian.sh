#!/usr/bin/env bash
# The one place that installs Debian 12 packages: every other script calls it
# with the sets it needs, and it installs only those missing (apt-get, as root
# or through sudo).
#   scripts/setup-debian.sh            build dependencies (the dev, asan and release presets)
#   scripts/setup-debian.sh --fuzz     also clang's libFuzzer toolchain (scripts/fuzz.sh)
#   scripts/setup-debian.sh --package  also what scripts/test-package.sh uses (dpkg-dev, man, python3)
#   scripts/setup-debian.sh --tests    everything scripts/test.sh runs: the above and Chromium
set -euo pipefail

packages=(cmake ninja-build g++ pkg-config libsqlitecpp-dev libsqlite3-dev libcurl4-openssl-dev rapidjson-dev
          libcli11-dev libfmt-dev catch2 zlib1g-dev libyaml-cpp-dev libcpp-httplib-dev sqlite3)
fuzz=(clang libclang-rt-14-dev)
package=(dpkg-dev file python3 man-db)

for arg in "$@"; do
  case $arg in
    --fuzz) packages+=("${fuzz[@]}") ;;
    --package) packages+=("${package[@]}") ;;
    --tests) packages+=(chromium "${fuzz[@]}" "${package[@]}") ;;
    *) echo "usage: $0 [--fuzz] [--package] [--tests]" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "Installing: ${missing[*]}"
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

#!/usr/bin/env bash
# Installs the Debian 12 packages arcade needs, only those missing.
#   scripts/setup-debian.sh          build dependencies
#   scripts/setup-debian.sh --tests  also what the test suite drives (Chromium)
set -euo pipefail

packages=(cmake ninja-build g++ pkg-config libsqlitecpp-dev libsqlite3-dev libcurl4-openssl-dev rapidjson-dev
          libcli11-dev libfmt-dev catch2 zlib1g-dev libyaml-cpp-dev libcpp-httplib-dev sqlite3)
if [[ "${1:-}" == "--tests" ]]; then
  packages+=(chromium clang libclang-rt-14-dev)
fi

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

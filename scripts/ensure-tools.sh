#!/usr/bin/env bash
# Installs the tools the test suites need when they are missing (fresh machines, CI).
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1; }

if ! cargo fmt --version >/dev/null 2>&1; then rustup component add rustfmt; fi
if ! cargo clippy --version >/dev/null 2>&1; then rustup component add clippy; fi

apt_install() {
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    if have sudo; then sudo="sudo -n"; else echo "cannot install $* (not root, no sudo)" >&2; return 1; fi
  fi
  if [ ! -f /tmp/.msstore-apt-updated ]; then
    $sudo apt-get update -qq >/dev/null && touch /tmp/.msstore-apt-updated
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

missing=()
have cc || missing+=(gcc)
have clang++ || missing+=(clang)  # scripts/test-unreal-compile.sh compiles with both
have valgrind || missing+=(valgrind)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing: ${missing[*]}"
  apt_install "${missing[@]}"
fi
echo "tools ready: $(cargo --version), $(cc --version | head -n1)"

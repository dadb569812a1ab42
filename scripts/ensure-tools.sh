#!/usr/bin/env bash
# Installs the tools the test suites need when they are missing (fresh machines, CI).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

if ! cargo fmt --version >/dev/null 2>&1; then rustup component add rustfmt; fi
if ! cargo clippy --version >/dev/null 2>&1; then rustup component add clippy; fi

# scripts/test-unreal-compile.sh compiles with both gcc and clang.
install_missing cc:gcc clang++:clang valgrind
echo "tools ready: $(cargo --version), $(cc --version | head -n1)"

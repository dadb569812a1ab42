#!/usr/bin/env bash
# Fuzz suite of scripts/test-all.sh: every fuzz target for a short bounded time (see
# scripts/fuzz-smoke.sh; FUZZ_SECONDS=600 for the longer run). Last line: "N passed, M failed".
set -euo pipefail
exec "$(dirname "$0")/fuzz-smoke.sh" "$@"

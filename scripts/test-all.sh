#!/usr/bin/env bash
# Runs every test suite of msstore: formatting, lints, Rust unit and integration tests (against
# the bundled emulator over loopback), then the C suite (and the C++/C# suites when present).
# Installs what it needs when missing. Used by `.ci/run`.
set -euo pipefail
cd "$(dirname "$0")/.."

section() { printf '\n=== %s ===\n' "$*"; }

section "toolchain"
scripts/ensure-tools.sh

section "cargo fmt --check"
cargo fmt --all -- --check

section "cargo clippy -D warnings"
cargo clippy --all-targets -- -D warnings

section "rust tests"
cargo test --all-targets 2>&1 | tee target/rust-tests.log
# Doc tests compile the examples in the API docs.
cargo test --doc 2>&1 | tail -n 3

# Each other suite prints "N passed, M failed" as its last line and fails with a non-zero exit.
passed=$(grep -Eo '[0-9]+ passed' target/rust-tests.log | awk '{s+=$1} END {print s+0}')
failed=$(grep -Eo '[0-9]+ failed' target/rust-tests.log | awk '{s+=$1} END {print s+0}')
summary="rust: $passed passed, $failed failed"

# The main job of the README must keep working: it exits non-zero when any step fails.
section "main job: cargo run --example quickstart"
cargo run -q --example quickstart 2>&1 | tee target/quickstart.log
passed=$((passed + 1))
summary="$summary; quickstart: ok"
for suite in c cpp csharp pg; do
  if [ -x "scripts/test-$suite.sh" ]; then
    section "$suite tests"
    "scripts/test-$suite.sh" 2>&1 | tee "target/$suite-tests.log"
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "target/$suite-tests.log" | tail -n 1)
    summary="$summary; $suite: $line"
    passed=$((passed + $(echo "$line" | awk '{print $1}')))
    failed=$((failed + $(echo "$line" | awk '{print $3}')))
  fi
done

section "summary"
echo "$summary"
echo "total: $passed passed, $failed failed"

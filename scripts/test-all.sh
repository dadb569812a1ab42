#!/usr/bin/env bash
# Runs every test suite of msstore: formatting, lints, Rust unit and integration tests (against
# the bundled emulator over loopback), then the C suite (and the C++/C#/PostgreSQL suites when
# present), the package suite (scripts/test-package.sh: builds and checks dist/) and the fuzz
# smoke (every fuzz target for a few seconds).
# Installs what it needs when missing. Used by `.ci/run`.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."

# Each section's wall time goes to target/section-times.log and is printed in the summary, so a
# run that nears CI's 30-minute budget shows which suite to trim.
section_name=""
section_start=$SECONDS
mkdir -p target
: >target/section-times.log
end_section() {
  [ -z "$section_name" ] || printf '%5ds  %s\n' $((SECONDS - section_start)) "$section_name" >>target/section-times.log
}
section() {
  end_section
  section_name="$*"
  section_start=$SECONDS
  printf '\n=== %s ===\n' "$*"
}

section "toolchain"
scripts/ensure-tools.sh

section "cargo fmt --check"
cargo fmt --all -- --check

section "cargo clippy -D warnings (workspace; and the library without ledger stores)"
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy -p msstore --no-default-features --lib --tests -- -D warnings

# The minimal feature set first (the client with no ledger store): its unit tests, its C
# library files and the artefact check. The full build below then rewrites target/debug.
section "minimal library: cargo test -p msstore --no-default-features --lib"
cargo test -p msstore --no-default-features --lib 2>&1 | tee target/rust-minimal-tests.log
# With `header`: the C header generated without the ledger stores must equal the committed one.
cargo build -p msstore --no-default-features --lib --features header
scripts/check-artifacts.sh target/debug

section "rust tests (workspace: library, emulator, CLI, benchmark smoke)"
cargo test --workspace --all-targets 2>&1 | tee target/rust-tests.log
# Doc tests compile the examples in the API docs.
cargo test --workspace --doc 2>&1 | tail -n 3

section "shipped library files (default features)"
cargo build -p msstore --lib
scripts/check-artifacts.sh target/debug | tee target/artifacts.log

# Each other suite prints "N passed, M failed" as its last line and fails with a non-zero exit.
passed=$(cat target/rust-tests.log target/rust-minimal-tests.log | grep -Eo '[0-9]+ passed' | awk '{s+=$1} END {print s+0}')
failed=$(cat target/rust-tests.log target/rust-minimal-tests.log | grep -Eo '[0-9]+ failed' | awk '{s+=$1} END {print s+0}')
summary="rust: $passed passed, $failed failed"
passed=$((passed + 1))
summary="$summary; artifacts: ok"

# The main job of the README must keep working: it exits non-zero when any step fails.
section "main job: cargo run --example quickstart"
cargo run -q --example quickstart 2>&1 | tee target/quickstart.log
passed=$((passed + 1))
summary="$summary; quickstart: ok"
for suite in c cpp csharp pg package fuzz; do
  if [ -x "scripts/test-$suite.sh" ]; then
    section "$suite tests"
    "scripts/test-$suite.sh" 2>&1 | tee "target/$suite-tests.log"
    line=$(summary_of "target/$suite-tests.log")
    [ -n "$line" ] || {
      echo "$suite tests: no \"N passed, M failed\" line" >&2
      exit 1
    }
    summary="$summary; $suite: $line"
    add_counts "$line"
  fi
done

section "summary"
echo "wall time per section:"
cat target/section-times.log
printf '%5ds  total\n' "$SECONDS"
echo "$summary"
echo "total: $passed passed, $failed failed"

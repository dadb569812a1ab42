#!/usr/bin/env bash
# Fuzz smoke of msstore: builds the cargo-fuzz targets in fuzz/ (a crate outside the workspace)
# and runs each for FUZZ_SECONDS seconds (default 10; one target per core at a time) from its committed seeds
# (fuzz/seeds/<target>, read only; new inputs go to fuzz/corpus/<target>, not committed).
# A crash, a panic, an input that takes over 10 s or over 2 GiB fails the target, and the
# input is kept under fuzz/artifacts/<target>/. Prints the executions of each target, then
# "N passed, M failed"; exits non-zero on any failure.
#
#   scripts/fuzz-smoke.sh                      # every target, 10 s each (the test command)
#   FUZZ_SECONDS=600 scripts/fuzz-smoke.sh     # the longer run, 10 min each
#   FUZZ_SECONDS=600 scripts/fuzz-smoke.sh responses loopback_operations
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-10}
# cargo-fuzz passes nightly-only flags (-Zsanitizer=address); the stable toolchain accepts them so.
export RUSTC_BOOTSTRAP=1
NOTE_PREFIX=fuzz

if ! cargo fuzz --version >/dev/null 2>&1; then
  note "installing cargo-fuzz"
  cargo install --locked cargo-fuzz >/dev/null
fi

cd fuzz
if [ "$#" -gt 0 ]; then targets=("$@"); else mapfile -t targets < <(cargo fuzz list); fi
note "building ${#targets[@]} targets (release, ASan)"
if ! cargo fuzz build -O >build.log 2>&1; then
  tail -n 40 build.log >&2
  failed=${#targets[@]}
  finish
fi

# run_target T: one target's bounded run; its exit code goes to corpus/T.rc. Each run is one
# process on one core, so the targets run side by side, one per core.
run_target() {
  local t=$1
  mkdir -p "corpus/$t" "artifacts/$t"
  set +e
  cargo fuzz run -O "$t" "corpus/$t" "seeds/$t" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 >"corpus/$t.log" 2>&1
  echo $? >"corpus/$t.rc"
}
cores=$(nproc 2>/dev/null || echo 2)
note "running each target for $seconds s, $cores at a time"
for t in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$cores" ]; do wait -n || true; done
  rm -f "corpus/$t.rc"
  run_target "$t" &
done
wait

for t in "${targets[@]}"; do
  log="corpus/$t.log"
  rc=$(cat "corpus/$t.rc" 2>/dev/null || echo "none")
  runs=$(grep -Eo 'Done [0-9]+ runs' "$log" | awk '{print $2}' | tail -n 1 || true)
  if [ "$rc" = 0 ] && [ -n "$runs" ]; then
    pass
    echo "$t: ${runs} executions in ${seconds} s, no crash"
  else
    failed=$((failed + 1))
    grep -E 'ERROR|panicked|SUMMARY|Test unit written|deadly signal' "$log" | head -n 20 >&2 || true
    echo "$t: FAILED after ${runs:-?} executions (exit $rc; input in fuzz/artifacts/$t, log fuzz/$log)"
  fi
done

finish

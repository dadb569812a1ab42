#!/usr/bin/env bash
# C suite of msstore: checks that include/msstore.h matches a fresh cbindgen generation, builds
# the library and the emulator, compiles the C example and test program with
# -std=c11 -Wall -Wextra -Werror -pedantic, runs both against a fresh emulator (127.0.0.1 only,
# started with --exit-on-stdin-eof so it cannot outlive this script), then runs the test program
# again under valgrind. Last line: "N passed, M failed"; exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

CC=${CC:-cc}
CFLAGS=(-std=c11 -Wall -Wextra -Werror -pedantic -g -Iinclude -Itests/c)
# The tests call the test-only exports (the library is built with the ffi-test-hooks feature);
# the example is compiled against the shipped declarations only.
TEST_CFLAGS=("${CFLAGS[@]}" -DMSSTORE_TEST_HOOKS)
OUT=target/c-tests
mkdir -p "$OUT"
passed=0
failed=0

note() { printf '[test-c] %s\n' "$*" >&2; }

note "header drift check + library build (cargo build -p msstore --lib --features header,ffi-test-hooks), emulator build"
if cargo build -p msstore --lib --features header,ffi-test-hooks 2>"$OUT/build.log" \
  && cargo build -p msstore-emulator --bin msstore-emulator 2>>"$OUT/build.log"; then
  passed=$((passed + 1))
else
  cat "$OUT/build.log" >&2
  note "FAILED: build or header drift (see above; scripts/regen-header.sh regenerates)"
  echo "$passed passed, 1 failed"
  exit 1
fi
LIB=target/debug
LINK=(-L"$LIB" -Wl,-rpath,"$PWD/$LIB" -lmsstore -lpthread -ldl -lm)

note "compiling C sources"
"$CC" "${TEST_CFLAGS[@]}" -o "$OUT/test_msstore" tests/c/test_msstore.c "${LINK[@]}"
"$CC" "${CFLAGS[@]}" -o "$OUT/quickstart" examples/c/quickstart.c "${LINK[@]}"
# The header must also be valid C++ (cpp_compat).
if command -v c++ >/dev/null; then
  printf '#include "msstore.h"\nint main() { return msstore_version() == nullptr; }\n' > "$OUT/cpp_check.cpp"
  c++ -std=c++11 -Wall -Wextra -Werror -pedantic -fno-exceptions -fno-rtti -Iinclude \
    -o "$OUT/cpp_check" "$OUT/cpp_check.cpp" "${LINK[@]}"
  "$OUT/cpp_check" && passed=$((passed + 1)) || failed=$((failed + 1))
fi

# shellcheck source=scripts/lib/emulator.sh
source scripts/lib/emulator.sh
# start_emulator_or_fail: a fresh emulator, or this suite fails.
start_emulator_or_fail() {
  if ! start_emulator 900; then
    note "the emulator did not start"
    exit 1
  fi
}

# run NAME CMD...: runs a test binary against a fresh emulator and adds its counts.
run() {
  local name=$1 log="$OUT/$1.log"
  shift
  start_emulator_or_fail
  note "running $name"
  set +e
  MSSTORE_EMU_SEED="$EMU_SEED" "$@" >"$log" 2>&1
  local rc=$?
  set -e
  stop_emulator
  local line
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1 || true)
  if [ -n "$line" ]; then
    passed=$((passed + $(echo "$line" | awk '{print $1}')))
    failed=$((failed + $(echo "$line" | awk '{print $3}')))
  fi
  if [ $rc -ne 0 ] || [ -z "$line" ]; then
    grep -E 'FAIL|error|==[0-9]+==' "$log" | head -n 60 >&2 || true
    note "$name: exit code $rc"
    [ -z "$line" ] || [ "$(echo "$line" | awk '{print $3}')" = "0" ] && failed=$((failed + 1))
  fi
  note "$name: ${line:-no summary}"
}

run example "$OUT/quickstart"
run c-tests "$OUT/test_msstore"

if ! command -v valgrind >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  note "installing valgrind"
  (apt-get update -qq && apt-get install -y -qq valgrind) >/dev/null 2>&1 || true
fi
if command -v valgrind >/dev/null; then
  run c-tests-valgrind valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite \
    --error-exitcode=1 --suppressions=tests/c/valgrind.supp "$OUT/test_msstore"
else
  note "valgrind unavailable: skipped the memory check"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

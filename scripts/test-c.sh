#!/usr/bin/env bash
# C suite of msstore: checks that include/msstore.h matches a fresh cbindgen generation, builds
# the library and the emulator, compiles the C example and test program with
# -std=c11 -Wall -Wextra -Werror -pedantic, runs both against a fresh emulator (127.0.0.1 only,
# started with --exit-on-stdin-eof so it cannot outlive this script), then runs the test program
# again under valgrind, and once more built with AddressSanitizer. Last line: "N passed,
# M failed"; exits non-zero on any failure.
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
  # No fork test under valgrind: its leak check runs again in the forked child, where the
  # parent's threads are gone, so what only their stacks and thread-locals referenced counts as
  # definitely lost (and the child leaks the parent's objects on purpose). The plain and ASan
  # runs fork.
  run c-tests-valgrind env MSSTORE_TEST_SKIP_FORK="valgrind: leak check in the child" \
    valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite \
    --error-exitcode=1 --suppressions=tests/c/valgrind.supp "$OUT/test_msstore"
else
  note "valgrind unavailable: skipped the memory check"
fi

# AddressSanitizer: the test program built with -fsanitize=address (gcc's libasan here; with
# clang, Debian's libclang-rt-14-dev holds the runtime). The Rust side is not instrumented, but
# its malloc and free go through ASan's interceptors, so a double free, a free of a pointer the
# library did not hand out, a C-side overflow of a buffer it filled, and (LeakSanitizer) a
# result or string the program did not free are reported. Leak checking stays on: the Rust
# runtime's threads report none here (if a toolchain ever makes them, detect_leaks=0 and rely
# on valgrind's suppressions above).
ASAN_FLAGS=(-fsanitize=address -fno-omit-frame-pointer)
if ! "$CC" "${ASAN_FLAGS[@]}" -x c -o "$OUT/asan_probe" - <<<'int main(void) { return 0; }' 2>/dev/null \
  && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  note "installing the AddressSanitizer runtime (libasan, through gcc's libgcc-N-dev)"
  (apt-get update -qq && apt-get install -y -qq "libgcc-$("$CC" -dumpversion | cut -d. -f1)-dev") \
    >/dev/null 2>&1 || true
fi
note "compiling the C test program with AddressSanitizer"
if "$CC" "${TEST_CFLAGS[@]}" "${ASAN_FLAGS[@]}" -o "$OUT/test_msstore_asan" tests/c/test_msstore.c "${LINK[@]}" \
  && nm "$OUT/test_msstore_asan" | grep -c '__asan_init' >/dev/null; then
  passed=$((passed + 1))
  note "ASan is in the binary (nm: __asan_init)"
  run c-tests-asan env ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:exitcode=86 \
    "$OUT/test_msstore_asan"
else
  failed=$((failed + 1))
  note "FAILED: no AddressSanitizer build of the C test program (no __asan_init in it)"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

#!/usr/bin/env bash
# C suite of msstore: checks that include/msstore.h matches a fresh cbindgen generation, builds
# the library and the emulator, compiles the C example and test program with
# -std=c11 -Wall -Wextra -Werror -pedantic, runs both against a fresh emulator (127.0.0.1 only,
# started with --exit-on-stdin-eof so it cannot outlive this script), then runs the test program
# again under valgrind, and once more built with AddressSanitizer. Last line: "N passed,
# M failed"; exits non-zero on any failure.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."

CC=${CC:-cc}
CFLAGS=(-std=c11 -Wall -Wextra -Werror -pedantic -g -Iinclude -Itests/c)
# The tests call the test-only exports (the library is built with the ffi-test-hooks feature);
# the example is compiled against the shipped declarations only.
TEST_CFLAGS=("${CFLAGS[@]}" -DMSSTORE_TEST_HOOKS)
OUT=target/c-tests
mkdir -p "$OUT"

note "header drift check + library build (cargo build -p msstore --lib --features header,ffi-test-hooks), emulator build"
# build: the library (its build script fails on header drift), then the emulator.
build() {
  cargo build -p msstore --lib --features header,ffi-test-hooks &&
    cargo build -p msstore-emulator --bin msstore-emulator
}
check build build || {
  note "a build failed, or include/msstore.h drifted (see above; scripts/regen-header.sh regenerates)"
  finish
}
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
  if "$OUT/cpp_check"; then pass; else fail "the header as C++"; fi
fi

# AddressSanitizer: the test program built with -fsanitize=address (gcc's libasan here; with
# clang, Debian's libclang-rt-14-dev holds the runtime). The Rust side is not instrumented, but
# its malloc and free go through ASan's interceptors, so a double free, a free of a pointer the
# library did not hand out, a C-side overflow of a buffer it filled, and (LeakSanitizer) a
# result or string the program did not free are reported. Leak checking stays on: the Rust
# runtime's threads report none here (if a toolchain ever makes them, detect_leaks=0 and rely
# on valgrind's suppressions below).
ASAN_FLAGS=(-fsanitize=address -fno-omit-frame-pointer)
if ! "$CC" "${ASAN_FLAGS[@]}" -x c -o "$OUT/asan_probe" - <<<'int main(void) { return 0; }' 2>/dev/null; then
  note "the AddressSanitizer runtime (libasan) comes with gcc's libgcc-N-dev"
  apt_install "libgcc-$("$CC" -dumpversion | cut -d. -f1)-dev" || true
fi
note "compiling the C test program with AddressSanitizer"
asan_built=0
rm -f "$OUT/test_msstore_asan"
if "$CC" "${TEST_CFLAGS[@]}" "${ASAN_FLAGS[@]}" -o "$OUT/test_msstore_asan" tests/c/test_msstore.c "${LINK[@]}" \
  && nm "$OUT/test_msstore_asan" | grep -c '__asan_init' >/dev/null; then
  pass
  note "ASan is in the binary (nm: __asan_init)"
  asan_built=1
else
  fail "no AddressSanitizer build of the C test program (no __asan_init in it)"
fi

# shellcheck source=scripts/lib/emulator.sh
source scripts/lib/emulator.sh
# The valgrind run (over a minute on one core) first, then the plain and ASan runs (half a minute
# each, mostly waiting on the tests' deadlines) beside it, and the example.
install_missing valgrind || true
if have valgrind; then
  # No fork test under valgrind: its leak check runs again in the forked child, where the
  # parent's threads are gone, so what only their stacks and thread-locals referenced counts as
  # definitely lost (and the child leaks the parent's objects on purpose). The plain and ASan
  # runs fork.
  run_on_emulator_async c-tests-valgrind 900 env MSSTORE_TEST_SKIP_FORK="valgrind: leak check in the child" \
    "${VALGRIND[@]}" "$OUT/test_msstore"
else
  note "valgrind unavailable: skipped the memory check"
fi
run_on_emulator_async c-tests 900 "$OUT/test_msstore"
if [ "$asan_built" = 1 ]; then
  run_on_emulator_async c-tests-asan 900 env ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:exitcode=86 \
    "$OUT/test_msstore_asan"
fi
run_on_emulator_async example 900 "$OUT/quickstart"
emulator_wait

finish

#!/usr/bin/env bash
# C++ suite of msstore: installs what it needs (g++, clang, cmake, libgtest-dev, valgrind,
# pkg-config) when missing, builds the library and the emulator, stages the CMake package
# (bindings/cpp), then with g++ and clang++ and -std=c++17 -Wall -Wextra -Werror -fno-exceptions
# -fno-rtti: compiles a translation unit instantiating all of msstore.hpp (also through
# pkg-config), the GoogleTest suite (tests/cpp), and the example via CMake find_package (shared
# and static); checks the Unreal plugin's layout and staging. Runs the suite (both compilers) and
# the examples against a fresh emulator each (127.0.0.1 only, --exit-on-stdin-eof so none
# outlives this script), then the suite again under valgrind. Last line: "N passed, M failed"; exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=target/cpp-tests
PREFIX=$PWD/$OUT/prefix
mkdir -p "$OUT"
passed=0
failed=0
export RUST_BACKTRACE=0 # the deliberate panic test would print a long backtrace

note() { printf '[test-cpp] %s\n' "$*" >&2; }
pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); note "FAILED: $*"; }
# check NAME CMD...: runs a build step, counting it; its output goes to $OUT/NAME.log.
check() {
  local name=$1
  shift
  if "$@" >"$OUT/$name.log" 2>&1; then
    pass
  else
    tail -n 40 "$OUT/$name.log" >&2
    fail "$name"
    return 1
  fi
}

# ---- tools --------------------------------------------------------------------------------
have() { command -v "$1" >/dev/null 2>&1; }
missing=()
have g++ || missing+=(g++)
have clang++ || missing+=(clang)
have cmake || missing+=(cmake)
have pkg-config || missing+=(pkg-config)
have valgrind || missing+=(valgrind)
[ -f /usr/include/gtest/gtest.h ] && ls /usr/lib/*/libgtest.a /usr/lib/libgtest.a >/dev/null 2>&1 ||
  missing+=(libgtest-dev)
if [ "${#missing[@]}" -gt 0 ]; then
  note "installing: ${missing[*]}"
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo -n"
  apt_install() { DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@"; }
  if ! apt_install "${missing[@]}" >"$OUT/apt.log" 2>&1; then
    $sudo apt-get update -qq >>"$OUT/apt.log" 2>&1 || true
    apt_install "${missing[@]}" >>"$OUT/apt.log" 2>&1 || { tail -n 20 "$OUT/apt.log" >&2; note "cannot install ${missing[*]}"; }
  fi
fi
for tool in g++ clang++ cmake; do
  if ! have "$tool"; then
    note "$tool is unavailable"
    echo "$passed passed, 1 failed"
    exit 1
  fi
done

# ---- library, package -----------------------------------------------------------------------
note "building the library and the emulator (cargo build -p msstore --lib --features ffi-test-hooks, -p msstore-emulator)"
if ! check cargo-build cargo build -p msstore --lib --features ffi-test-hooks \
  || ! check emulator-build cargo build -p msstore-emulator --bin msstore-emulator; then
  echo "$passed passed, $failed failed"
  exit 1
fi
note "staging the CMake package in $PREFIX"
rm -rf "$PREFIX" "$OUT/pkg-build"
check stage-package sh -c "cmake -S bindings/cpp -B '$OUT/pkg-build' -DMSSTORE_LIB_DIR='$PWD/target/debug' \
  -DCMAKE_INSTALL_PREFIX='$PREFIX' && cmake --install '$OUT/pkg-build'" || true
for f in include/msstore.h include/msstore.hpp lib/libmsstore.so lib/libmsstore.a \
  lib/cmake/msstore/msstoreConfig.cmake lib/cmake/msstore/msstoreConfigVersion.cmake lib/pkgconfig/msstore.pc; do
  [ -f "$PREFIX/$f" ] || { fail "package lacks $f"; }
done

# ---- compile with both compilers ----------------------------------------------------------
CXXFLAGS=(-std=c++17 -Wall -Wextra -Werror -fno-exceptions -fno-rtti -g)
LINK=(-L"$PREFIX/lib" -Wl,-rpath,"$PREFIX/lib" -lmsstore -pthread)
GTEST_LIBS=(-lgtest -pthread)
STRICT=(-pedantic -Wshadow -Wundef -Wold-style-cast -Wconversion -Wsign-conversion -Wnon-virtual-dtor)
for cxx in g++ clang++; do
  note "compiling with $cxx"
  # The header alone also gets the stricter warnings engines turn on (shadowing, undefined macros
  # in #if, conversions), and C++20 (Unreal 5.3+ builds C++20).
  check "instantiate-$cxx" "$cxx" "${CXXFLAGS[@]}" "${STRICT[@]}" -I"$PREFIX/include" -o "$OUT/instantiate-$cxx" \
    tests/cpp/instantiate_all.cpp "${LINK[@]}" && check "instantiate-run-$cxx" "$OUT/instantiate-$cxx" || true
  check "instantiate-cxx20-$cxx" "$cxx" "${CXXFLAGS[@]/-std=c++17/-std=c++20}" "${STRICT[@]}" -I"$PREFIX/include" \
    -c -o "$OUT/instantiate-cxx20-$cxx.o" tests/cpp/instantiate_all.cpp || true
  check "gtest-build-$cxx" "$cxx" "${CXXFLAGS[@]}" -DMSSTORE_TEST_HOOKS -I"$PREFIX/include" -Itests/c -Itests/cpp -o "$OUT/test_msstore-$cxx" \
    tests/cpp/test_msstore.cpp "${LINK[@]}" "${GTEST_LIBS[@]}" || true
done
# pkg-config consumers: same TU, flags from msstore.pc.
check pkg-config sh -c "PKG_CONFIG_PATH='$PREFIX/lib/pkgconfig' g++ ${CXXFLAGS[*]} -o '$OUT/instantiate-pc' \
  tests/cpp/instantiate_all.cpp \$(PKG_CONFIG_PATH='$PREFIX/lib/pkgconfig' pkg-config --cflags --libs msstore) \
  -Wl,-rpath,'$PREFIX/lib' -pthread && '$OUT/instantiate-pc'" || true

# The example through CMake's find_package, shared (clang++) and static (g++).
for variant in shared:clang++:OFF static:g++:ON; do
  IFS=: read -r kind cxx static <<<"$variant"
  dir="$OUT/example-$kind"
  rm -rf "$dir"
  note "building the example via find_package(msstore) ($kind, $cxx)"
  check "example-build-$kind" sh -c "cmake -S examples/cpp -B '$dir' -DCMAKE_PREFIX_PATH='$PREFIX' \
    -DCMAKE_CXX_COMPILER=$cxx -DCMAKE_BUILD_TYPE=Debug -DMSSTORE_LINK_STATIC=$static \
    -DCMAKE_CXX_FLAGS='-Wall -Wextra -Werror -fno-exceptions -fno-rtti' && cmake --build '$dir'" || true
done

# The Unreal plugin cannot be compiled without the engine: check its layout and conventions,
# and that stage-thirdparty.sh fills a copy of it.
note "checking the Unreal plugin (layout, staging)"
check unreal-layout cmake -DPLUGIN_DIR=bindings/unreal -P tests/cpp/check_unreal_plugin.cmake || true
rm -rf "$OUT/unreal" && mkdir -p "$OUT/unreal" && cp -r bindings/unreal "$OUT/unreal/MsStore"
check unreal-stage sh -c "bindings/unreal/stage-thirdparty.sh --lib-dir target/debug --platform Linux '$OUT/unreal/MsStore' &&
  test -f '$OUT/unreal/MsStore/Source/ThirdParty/MsStoreLibrary/include/msstore.hpp' &&
  test -f '$OUT/unreal/MsStore/Source/ThirdParty/MsStoreLibrary/lib/Linux/libmsstore.a' &&
  test -f '$OUT/unreal/MsStore/Binaries/ThirdParty/MsStoreLibrary/Linux/libmsstore.so'" || true
rm -rf "$OUT/unreal"
# Every plugin .cpp against the stand-in engine headers, and the export macro (its own counts).
note "compiling the Unreal plugin against tests/cpp/unreal_stub (scripts/test-unreal-compile.sh)"
set +e
scripts/test-unreal-compile.sh >"$OUT/unreal-compile.log" 2>&1
set -e
line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$OUT/unreal-compile.log" | tail -n 1 || true)
if [ -n "$line" ]; then
  passed=$((passed + $(echo "$line" | awk '{print $1}')))
  failed=$((failed + $(echo "$line" | awk '{print $3}')))
  [ "$(echo "$line" | awk '{print $3}')" = 0 ] || grep -E 'error|FAILED' "$OUT/unreal-compile.log" | head -n 40 >&2
else
  tail -n 20 "$OUT/unreal-compile.log" >&2
  fail "unreal-compile: no summary"
fi

# ---- run against the emulator ----------------------------------------------------------------
# shellcheck source=scripts/lib/emulator.sh
source scripts/lib/emulator.sh
# start_emulator_or_fail: a fresh emulator, or this suite fails.
start_emulator_or_fail() {
  if ! start_emulator 900; then
    note "the emulator did not start"
    echo "$passed passed, $((failed + 1)) failed"
    exit 1
  fi
}

# run NAME CMD...: runs a binary against a fresh emulator and adds its "N passed, M failed".
run() {
  local name=$1 log="$OUT/$1.log"
  shift
  if [ ! -x "$1" ] && [ "$1" != valgrind ]; then
    fail "$name: not built"
    return
  fi
  start_emulator_or_fail
  note "running $name"
  set +e
  MSSTORE_EMU_SEED="$EMU_SEED" timeout 900 "$@" >"$log" 2>&1
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
    grep -E 'FAIL|Failure|Expected|Which is|error|==[0-9]+== [A-Z]' "$log" | head -n 60 >&2 || true
    note "$name: exit code $rc"
    if [ -z "$line" ] || [ "$(echo "$line" | awk '{print $3}')" = "0" ]; then failed=$((failed + 1)); fi
  fi
  note "$name: ${line:-no summary}"
}

run example-shared "$OUT/example-shared/quickstart"
run example-static "$OUT/example-static/quickstart"
run gtest-g++ "$OUT/test_msstore-g++"
run gtest-clang++ "$OUT/test_msstore-clang++"
if have valgrind && [ -x "$OUT/test_msstore-g++" ]; then
  run gtest-valgrind valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite \
    --error-exitcode=1 --suppressions=tests/c/valgrind.supp "$OUT/test_msstore-g++"
else
  note "valgrind unavailable: skipped the memory check"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

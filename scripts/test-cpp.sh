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
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."

OUT=target/cpp-tests
PREFIX=$PWD/$OUT/prefix
mkdir -p "$OUT"
export RUST_BACKTRACE=0 # the deliberate panic test would print a long backtrace

# ---- tools --------------------------------------------------------------------------------
install_missing g++ clang++:clang cmake pkg-config valgrind || true
# GoogleTest: its header, and libgtest.a in the multiarch or the plain library directory.
[ -f /usr/include/gtest/gtest.h ] && { compgen -G '/usr/lib/*/libgtest.a' >/dev/null || [ -f /usr/lib/libgtest.a ]; } ||
  apt_install libgtest-dev || true
require_tools g++ clang++ cmake

# ---- library, package -----------------------------------------------------------------------
# The same features as test-c.sh, so the two suites share one build of the library.
note "building the library and the emulator (cargo build -p msstore --lib --features header,ffi-test-hooks, -p msstore-emulator)"
check cargo-build cargo build -p msstore --lib --features header,ffi-test-hooks || finish
check emulator-build cargo build -p msstore-emulator --bin msstore-emulator || finish
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
# Every compile below is independent: they run side by side (check_async), one per core.
note "compiling with g++ and clang++, and the example via find_package(msstore) (shared with clang++, static with g++)"
for cxx in g++ clang++; do
  rm -f "$OUT/instantiate-$cxx" "$OUT/test_msstore-$cxx"
  # The header alone also gets the stricter warnings engines turn on (shadowing, undefined macros
  # in #if, conversions), and C++20 (Unreal 5.3+ builds C++20).
  check_async "instantiate-$cxx" "$cxx" "${CXXFLAGS[@]}" "${STRICT[@]}" -I"$PREFIX/include" -o "$OUT/instantiate-$cxx" \
    tests/cpp/instantiate_all.cpp "${LINK[@]}"
  check_async "instantiate-cxx20-$cxx" "$cxx" "${CXXFLAGS[@]/-std=c++17/-std=c++20}" "${STRICT[@]}" -I"$PREFIX/include" \
    -c -o "$OUT/instantiate-cxx20-$cxx.o" tests/cpp/instantiate_all.cpp
  check_async "gtest-build-$cxx" "$cxx" "${CXXFLAGS[@]}" -DMSSTORE_TEST_HOOKS -I"$PREFIX/include" -Itests/c -Itests/cpp -o "$OUT/test_msstore-$cxx" \
    tests/cpp/test_msstore.cpp "${LINK[@]}" "${GTEST_LIBS[@]}"
done
# pkg-config consumers: same TU, flags from msstore.pc.
check_async pkg-config sh -c "PKG_CONFIG_PATH='$PREFIX/lib/pkgconfig' g++ ${CXXFLAGS[*]} -o '$OUT/instantiate-pc' \
  tests/cpp/instantiate_all.cpp \$(PKG_CONFIG_PATH='$PREFIX/lib/pkgconfig' pkg-config --cflags --libs msstore) \
  -Wl,-rpath,'$PREFIX/lib' -pthread && '$OUT/instantiate-pc'"

# The example through CMake's find_package, shared (clang++) and static (g++).
for variant in shared:clang++:OFF static:g++:ON; do
  IFS=: read -r kind cxx static <<<"$variant"
  dir="$OUT/example-$kind"
  rm -rf "$dir"
  check_async "example-build-$kind" sh -c "cmake -S examples/cpp -B '$dir' -DCMAKE_PREFIX_PATH='$PREFIX' \
    -DCMAKE_CXX_COMPILER=$cxx -DCMAKE_BUILD_TYPE=Debug -DMSSTORE_LINK_STATIC=$static \
    -DCMAKE_CXX_FLAGS='-Wall -Wextra -Werror -fno-exceptions -fno-rtti' && cmake --build '$dir'"
done
check_wait
for cxx in g++ clang++; do
  if [ "$(cat "$OUT/instantiate-$cxx.rc")" = 0 ]; then
    check "instantiate-run-$cxx" "$OUT/instantiate-$cxx" || true
  fi
done

# The valgrind run takes one core for about a minute: it runs beside the Unreal checks below.
# shellcheck source=scripts/lib/emulator.sh
source scripts/lib/emulator.sh
if have valgrind && [ -x "$OUT/test_msstore-g++" ]; then
  run_on_emulator_async gtest-valgrind 900 "${VALGRIND[@]}" "$OUT/test_msstore-g++"
else
  note "valgrind unavailable: skipped the memory check"
fi

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
suite unreal-compile scripts/test-unreal-compile.sh

# ---- run against the emulator ----------------------------------------------------------------
run_on_emulator example-shared 900 "$OUT/example-shared/quickstart"
run_on_emulator example-static 900 "$OUT/example-static/quickstart"
run_on_emulator gtest-g++ 900 "$OUT/test_msstore-g++"
run_on_emulator gtest-clang++ 900 "$OUT/test_msstore-clang++"
emulator_wait

finish

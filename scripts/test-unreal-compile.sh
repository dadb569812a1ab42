#!/usr/bin/env bash
# Compile checks of the C header's export macro and of the Unreal plugin, without an engine:
#
#   scripts/test-unreal-compile.sh [--include DIR] [--plugin DIR]
#
# 1. include/msstore.h and msstore.hpp, compiled as C and C++ with -DMSSTORE_API=4242 (what
#    UnrealBuildTool defines for a module named MsStore) and -Wall -Wextra -Werror, under clang
#    and gcc: they must not redefine or use MSSTORE_API (tests/cpp/export_macro_check.cpp), and
#    tests/cpp/instantiate_all.cpp must build with -DMSSTORE_API= as well.
# 2. Every .cpp of bindings/unreal/Source/MsStore, under clang++ and g++, against the stand-in
#    engine headers of tests/cpp/unreal_stub/ (plus an empty <Name>.generated.h per plugin
#    header), with UBT's Linux flags (-std=c++20 -fno-exceptions -fno-rtti -Wall -Werror, UBT's
#    enabled and disabled warnings, -Wshadow, -Wundef) plus -Wextra, in three configurations:
#    static library (MSSTORE_STATIC, monolithic MSSTORE_API=), DLL (MSSTORE_RUNTIME_DLL, modular
#    MSSTORE_API=visibility("default")) and unsupported platform (WITH_MSSTORE=0).
# --include DIR compiles against another msstore.h (e.g. an old one, to see the check fail).
# --plugin DIR compiles another copy of the plugin (e.g. unpacked from the release zip) and, when
# it holds staged headers (Source/ThirdParty/MsStoreLibrary/include), against those.
# --quick: only part 2, only clang++ (UBT's Linux compiler), static and DLL: what
# scripts/test-package.sh runs on the unpacked plugin, whose sources it has shown equal to these.
# Installs clang/g++ from Debian when missing. Last line: "N passed, M failed"; exits non-zero on
# any failure.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."

INCLUDE=include
PLUGIN=bindings/unreal
PLUGIN_GIVEN=0
QUICK=0
while [ $# -gt 0 ]; do
  case "$1" in
    --include) INCLUDE=$2; shift 2 ;;
    --plugin) PLUGIN=$2; PLUGIN_GIVEN=1; shift 2 ;;
    --quick) QUICK=1; shift ;;
    -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done

OUT=target/unreal-compile
mkdir -p "$OUT"
CHECK_SHOW=head # a failed compile: its first errors

install_missing g++ clang++:clang || true
require_tools g++ gcc clang clang++

HEADERS=(-I"$INCLUDE" -Ibindings/cpp/include)
if [ "$PLUGIN_GIVEN" = 1 ] && [ -f "$PLUGIN/Source/ThirdParty/MsStoreLibrary/include/msstore.h" ]; then
  HEADERS=(-I"$PLUGIN/Source/ThirdParty/MsStoreLibrary/include")
fi

# ---- 1. the export macro ------------------------------------------------------------------
COMPILERS=(clang++ g++)
CONFIGS=(static dll off)
[ "$QUICK" = 0 ] || { COMPILERS=(clang++); CONFIGS=(static dll); }
[ "$QUICK" = 1 ] || for cc in gcc clang; do
  check_async "export-macro-c-$cc" "$cc" -x c -std=c11 -Wall -Wextra -Werror -DMSSTORE_API=4242 "${HEADERS[@]}" \
    -fsyntax-only tests/cpp/export_macro_check.cpp
done
[ "$QUICK" = 1 ] || for cxx in g++ clang++; do
  check_async "export-macro-cxx-$cxx" "$cxx" -x c++ -std=c++17 -Wall -Wextra -Werror -fno-exceptions -fno-rtti \
    -DMSSTORE_API=4242 "${HEADERS[@]}" -fsyntax-only tests/cpp/export_macro_check.cpp
  check_async "instantiate-monolithic-$cxx" "$cxx" -std=c++20 -Wall -Wextra -Werror -fno-exceptions -fno-rtti \
    -DMSSTORE_API= "${HEADERS[@]}" -fsyntax-only tests/cpp/instantiate_all.cpp
done

# ---- 2. the plugin against the stand-in engine headers -----------------------------------------
MODULE=$PLUGIN/Source/MsStore
GEN="$OUT/generated"
rm -rf "$GEN" && mkdir -p "$GEN"
for header in $(find "$MODULE" -name '*.h'); do
  printf '#pragma once\n' >"$GEN/$(basename "${header%.h}").generated.h"
done
mapfile -t SOURCES < <(find "$MODULE" -name '*.cpp' | sort)
if [ "${#SOURCES[@]}" -lt 5 ]; then
  fail "found only ${#SOURCES[@]} plugin sources in $MODULE"
fi

# UBT's ClangToolChain/ClangWarnings (UE 5.4, clang 14 and later) and what it always adds.
UBT_COMMON=(-std=c++20 -fno-exceptions -DPLATFORM_EXCEPTIONS_DISABLED=1 -fno-rtti -Wall -Werror -Wextra
  -Wdelete-non-virtual-dtor -Wshadow -Wundef -Wno-unused-variable -Wno-unused-function
  -Wno-unknown-pragmas -Wno-switch -Wno-invalid-offsetof -Wno-unused-but-set-variable -Wno-unused-but-set-parameter)
UBT_CLANG=(-Wenum-conversion -Wbitfield-enum-conversion -Wno-enum-enum-conversion -Wno-enum-float-conversion
  -Wno-ambiguous-reversed-operator -Wno-deprecated-anon-enum-enum-conversion -Wno-deprecated-volatile
  -Wno-ordered-compare-function-pointers -Wno-bitwise-instead-of-logical -Wno-gnu-string-literal-operator-template
  -Wno-inconsistent-missing-override -Wno-tautological-compare -Wno-unused-lambda-capture
  -Wno-unused-local-typedef -Wno-unused-private-field -Wno-undefined-var-template
  -Wno-float-conversion -Wno-implicit-float-conversion -Wno-implicit-int-conversion -Wno-c++11-narrowing)
PLUGIN_INCLUDES=(-Itests/cpp/unreal_stub -I"$GEN" -I"$MODULE/Public" -I"$MODULE/Private" "${HEADERS[@]}")
# config_defs NAME: the definitions UBT would pass for one configuration, into defs.
config_defs() {
  case "$1" in
    static) defs=(-DWITH_MSSTORE=1 -DMSSTORE_STATIC=1 -DMSSTORE_API=) ;;
    dll) defs=(-DWITH_MSSTORE=1 '-DMSSTORE_RUNTIME_DLL="libmsstore.so"' '-DMSSTORE_API=__attribute__((visibility("default")))') ;;
    off) defs=(-DWITH_MSSTORE=0 -DMSSTORE_API=) ;;
  esac
}
for cxx in "${COMPILERS[@]}"; do
  flags=("${UBT_COMMON[@]}")
  [ "$cxx" = clang++ ] && flags+=("${UBT_CLANG[@]}")
  for name in "${CONFIGS[@]}"; do
    config_defs "$name"
    for src in "${SOURCES[@]}"; do
      check_async "plugin-$cxx-$name-$(basename "$src" .cpp)" "$cxx" "${flags[@]}" "${defs[@]}" "${PLUGIN_INCLUDES[@]}" \
        -fsyntax-only "$src"
    done
  done
done
check_wait
note "compiled ${#SOURCES[@]} plugin sources x ${#CONFIGS[@]} configurations x ${#COMPILERS[@]} compilers"

finish

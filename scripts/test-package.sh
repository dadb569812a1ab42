#!/usr/bin/env bash
# Package suite of msstore: runs scripts/package.sh (Linux x86_64, glibc 2.17), then checks what a
# team downloads, from the unpacked artefacts only:
# - SHA256SUMS matches; each artefact unpacks and holds the files it documents;
# - every shipped binary is stripped (no .debug_* sections; the .so also no .symtab), the split
#   debug files hold the line tables, and the .so names its debug file (.gnu_debuglink);
# - every binary needs at most GLIBC_2.17 (scripts/check-glibc.sh);
# - the Unity package: every binary has a generated meta (gen-unity-meta.sh --check on the
#   unpacked package), and each PluginImporter enables exactly its platform and CPU (the shipped
#   Linux x86_64 one, and the metas the generator writes for Windows, macOS and Linux arm64);
# - from the tarball: the C++ example via find_package(msstore) (shared and static), the C example
#   (shared, static, pkg-config) and the C++ GoogleTest suite, each run against a fresh emulator;
# - the C# NUnit suite (scripts/test-csharp.sh) against the library of the unpacked Unity package;
# - the unpacked Unreal plugin: its files equal bindings/unreal plus the staged library and
#   headers, which equal include/ and bindings/cpp/include (so the C++ suite's full compile of
#   bindings/unreal covers it); its sources against the stand-in engine headers and the staged
#   headers (scripts/test-unreal-compile.sh --quick); the C example linked with its static library.
# Last line: "N passed, M failed"; exits non-zero on any failure.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."

OUT=target/package-tests
U=$OUT/unpacked
rm -rf "$OUT" && mkdir -p "$U"
# finish_package: finish, without the unpacked copies (they are large; the logs stay).
finish_package() {
  rm -rf "$U"
  finish
}

# ---- build the packages ---------------------------------------------------------------------
VERSION=$(grep -m 1 -E '^version = "' Cargo.toml | cut -d '"' -f 2)
TARBALL=msstore-$VERSION-linux-x86_64.tar.gz
UPM=com.msstore.client-$VERSION.tgz
UNREAL=MsStore-$VERSION-unreal.zip
rm -f "dist/$TARBALL" "dist/$UPM" "dist/$UNREAL" dist/SHA256SUMS
note "scripts/package.sh"
check package scripts/package.sh || finish_package
check sha256sums sh -c 'cd dist && sha256sum -c SHA256SUMS' || true

# ---- unpack ---------------------------------------------------------------------------------------
mkdir -p "$U/tar" "$U/upm" "$U/unreal"
check unpack sh -c "tar -xzf 'dist/$TARBALL' -C '$U/tar' && tar -xzf 'dist/$UPM' -C '$U/upm' && unzip -q 'dist/$UNREAL' -d '$U/unreal'" || finish_package
P=$PWD/$U/tar/msstore-$VERSION-linux-x86_64
PKG=$U/upm/package
PLUGIN=$U/unreal/MsStore
UPM_LIB=$PKG/Runtime/Plugins/Linux/x86_64
missing=0
for f in "$P/LICENSE" "$P/include/msstore.h" "$P/include/msstore.hpp" "$P/lib/libmsstore.so" "$P/lib/libmsstore.a" \
  "$P/lib/.debug/libmsstore.so.debug" "$P/lib/.debug/libmsstore.a.debug" \
  "$P/lib/cmake/msstore/msstoreConfig.cmake" "$P/lib/cmake/msstore/msstoreConfigVersion.cmake" \
  "$P/lib/pkgconfig/msstore.pc" "$PKG/package.json" "$UPM_LIB/libmsstore.so" "$UPM_LIB/libmsstore.so.meta" \
  "$PLUGIN/MsStore.uplugin" "$PLUGIN/Source/ThirdParty/MsStoreLibrary/include/msstore.h" \
  "$PLUGIN/Source/ThirdParty/MsStoreLibrary/include/msstore.hpp" \
  "$PLUGIN/Source/ThirdParty/MsStoreLibrary/lib/Linux/libmsstore.a" \
  "$PLUGIN/Binaries/ThirdParty/MsStoreLibrary/Linux/libmsstore.so"; do
  [ -f "$f" ] || { note "missing from the artefacts: ${f#"$PWD/"}"; missing=1; }
done
if [ $missing -eq 0 ]; then pass; else fail "artefact contents"; fi

# ---- every binary: stripped, glibc 2.17 -------------------------------------------------------------
mapfile -t BINARIES < <(find "$U" \( -name '*.so' -o -name '*.a' \) -not -path '*/.debug/*' | sort)
note "${#BINARIES[@]} binaries: ${BINARIES[*]#"$U/"}"
[ "${#BINARIES[@]}" -eq 5 ] && pass || fail "expected 5 binaries (tarball .so/.a, Unity .so, Unreal .so/.a), found ${#BINARIES[@]}"
# section_names FILE: the section names of an ELF file or of every member of an archive.
section_names() { readelf -SW "$1" 2>/dev/null | sed -n 's/^ *\[ *[0-9]*\] \([^ ]*\).*/\1/p' | sort -u; }
for b in "${BINARIES[@]}"; do
  names=$(section_names "$b")
  case "$b" in
    *.so) bad=$(echo "$names" | grep -E '^\.(z?debug_|symtab$)' | tr '\n' ' ' || true) ;;
    *.a) bad=$(echo "$names" | grep -E '^\.z?debug_' | tr '\n' ' ' || true) ;; # a .a needs .symtab to link
  esac
  if [ -z "$names" ]; then
    fail "${b#"$U/"} is no ELF file"
  elif [ -n "$bad" ]; then
    fail "${b#"$U/"} is not stripped: $bad"
  else
    pass
  fi
done
# The debug files hold what was stripped, and the .so points at its own.
# (grep -c, not -q: an early exit would break the pipe, and pipefail would count it as no match)
if [ "$(section_names "$P/lib/.debug/libmsstore.so.debug" | grep -cx '\.debug_line')" -gt 0 ] &&
  [ "$(section_names "$P/lib/.debug/libmsstore.a.debug" | grep -cx '\.debug_line')" -gt 0 ] &&
  [ "$(objcopy --dump-section .gnu_debuglink=/dev/stdout "$P/lib/libmsstore.so" 2>/dev/null | tr -d '\0' | head -c 19)" = libmsstore.so.debug ]; then
  pass
else
  fail "split debug info: .debug files without .debug_line, or the .so has no .gnu_debuglink to libmsstore.so.debug"
fi
suite check-glibc scripts/check-glibc.sh "${BINARIES[@]}"
grep -E 'needs at most' "$OUT/check-glibc.log" | sed "s|$U/||" >&2 || true

# ---- Unity: metas and import settings --------------------------------------------------------------
check upm-metas scripts/gen-unity-meta.sh --check --root "$PKG" || true
# enabled_platforms META: "Editor:OS:CPU" / "Standalone:TARGET:CPU" of every enabled platform,
# and "exclude-off:TARGET" for each platform the Any entry does not exclude, sorted.
enabled_platforms() {
  awk '
    function flush() { if (key != "" && enabled) print (key ~ /^Editor/ ? "Editor:" os ":" cpu : key ":" cpu); key = "" }
    /^  - first:/ { flush(); getline; k = $0; gsub(/^ +| +$/, "", k); key = k; sub(/: /, ":", key); enabled = 0; cpu = ""; os = "" }
    /^      enabled: 1/ { enabled = 1 }
    /^        CPU:/ { cpu = $2 }
    /^        OS:/ { os = $2 }
    /^        Exclude [A-Za-z0-9]+: 0/ { sub(/:$/, "", $2); print "exclude-off:" $2 }
    /^  userData:/ { flush() }
  ' "$1" | LC_ALL=C sort | tr '\n' ' '
}
# expect_platforms NAME META EXPECTED
expect_platforms() {
  local got
  got=$(enabled_platforms "$2")
  if [ "$got" = "$3" ]; then pass; else fail "$1: PluginImporter enables '$got', expected '$3'"; fi
}
mapfile -t PLUGIN_METAS < <(find "$PKG/Runtime/Plugins" \( -name '*.so.meta' -o -name '*.dll.meta' -o -name '*.dylib.meta' \) | sort)
[ "${#PLUGIN_METAS[@]}" -eq 1 ] && pass || fail "expected 1 plugin meta in the Unity package, found ${#PLUGIN_METAS[@]}"
expect_platforms "shipped Linux x86_64" "$UPM_LIB/libmsstore.so.meta" "Editor:Linux:x86_64 Standalone:Linux64:x86_64 exclude-off:Editor exclude-off:Linux64 "
# The platforms the release workflow builds: the metas the generator writes for their binaries.
for spec in "Windows/x86_64/msstore.dll|Editor:Windows:x86_64 Standalone:Win64:x86_64 exclude-off:Editor exclude-off:Win64 " \
  "macOS/libmsstore.dylib|Editor:OSX:AnyCPU Standalone:OSXUniversal:AnyCPU exclude-off:Editor exclude-off:OSXUniversal " \
  "Linux/arm64/libmsstore.so|Standalone:Linux64:ARM64 exclude-off:Linux64 "; do
  path=Runtime/Plugins/${spec%%|*}
  scripts/gen-unity-meta.sh --plugin-meta "$path" >"$OUT/$(basename "$(dirname "$path")")-$(basename "$path").meta"
  expect_platforms "$path" "$OUT/$(basename "$(dirname "$path")")-$(basename "$path").meta" "${spec#*|}"
done

# ---- the tarball: CMake, C, C++ consumers -------------------------------------------------------------
# The consumers are independent compiles: side by side, one per core (check_async).
CXXFLAGS="-Wall -Wextra -Werror -fno-exceptions -fno-rtti"
for variant in shared:OFF static:ON; do
  kind=${variant%%:*}
  check_async "cmake-$kind" sh -c "cmake -S examples/cpp -B '$OUT/cmake-$kind' -DCMAKE_PREFIX_PATH='$P' \
    -DCMAKE_BUILD_TYPE=Release -DMSSTORE_LINK_STATIC=${variant#*:} -DCMAKE_CXX_FLAGS='$CXXFLAGS' && cmake --build '$OUT/cmake-$kind'"
done
CFLAGS=(-std=c11 -Wall -Wextra -Werror -pedantic -I"$P/include" -Itests/c)
check_async c-shared cc "${CFLAGS[@]}" -o "$OUT/c-shared" examples/c/quickstart.c -L"$P/lib" -Wl,-rpath,"$P/lib" -lmsstore
check_async c-static cc "${CFLAGS[@]}" -DMSSTORE_STATIC -o "$OUT/c-static" examples/c/quickstart.c "$P/lib/libmsstore.a" -lpthread -ldl -lm
check_async c-pkg-config sh -c "cc ${CFLAGS[*]} -o '$OUT/c-pc' examples/c/quickstart.c \
  \$(PKG_CONFIG_PATH='$P/lib/pkgconfig' pkg-config --cflags --libs msstore) -Wl,-rpath,'$P/lib'"
check_async gtest-build g++ -std=c++17 $CXXFLAGS -I"$P/include" -Itests/c -Itests/cpp -o "$OUT/gtest" tests/cpp/test_msstore.cpp \
  -L"$P/lib" -Wl,-rpath,"$P/lib" -lmsstore -lgtest -pthread
check_async unreal-static-link cc "${CFLAGS[@]/-I$P\/include/-I$PLUGIN/Source/ThirdParty/MsStoreLibrary/include}" -DMSSTORE_STATIC \
  -o "$OUT/c-unreal" examples/c/quickstart.c "$PLUGIN/Source/ThirdParty/MsStoreLibrary/lib/Linux/libmsstore.a" -lpthread -ldl -lm
check_wait

# The binaries run against the unpacked library, not a build tree: each records which one it loads.
if [[ "$(ldd "$OUT/c-shared" 2>/dev/null)" == *"$P/lib/libmsstore.so"* ]]; then pass; else fail "c-shared does not load $P/lib/libmsstore.so"; fi

# shellcheck source=scripts/lib/emulator.sh
source scripts/lib/emulator.sh
run_on_emulator run-cmake-shared 600 "$OUT/cmake-shared/quickstart"
run_on_emulator run-cmake-static 600 "$OUT/cmake-static/quickstart"
run_on_emulator run-c-shared 600 "$OUT/c-shared"
run_on_emulator run-c-static 600 "$OUT/c-static"
run_on_emulator run-c-pkg-config 600 "$OUT/c-pc"
run_on_emulator run-c-unreal-static 600 "$OUT/c-unreal"
run_on_emulator run-gtest 600 "$OUT/gtest"

# ---- C# against the Unity package's library; Unreal plugin against the stand-ins ---------------------
note "scripts/test-csharp.sh with MSSTORE_LIB_DIR=$UPM_LIB"
suite csharp env MSSTORE_LIB_DIR="$UPM_LIB" MSSTORE_EXPECT_NO_TEST_HOOKS=1 scripts/test-csharp.sh
# Nothing but the staged files differs from the tree's plugin, and those are the tree's headers.
check unreal-files sh -c "diff -r -x Binaries -x include -x lib bindings/unreal '$PLUGIN' &&
  diff include/msstore.h '$PLUGIN/Source/ThirdParty/MsStoreLibrary/include/msstore.h' &&
  diff bindings/cpp/include/msstore.hpp '$PLUGIN/Source/ThirdParty/MsStoreLibrary/include/msstore.hpp'" || true
note "scripts/test-unreal-compile.sh --quick --plugin $PLUGIN"
suite unreal-compile scripts/test-unreal-compile.sh --quick --plugin "$PLUGIN"

finish_package

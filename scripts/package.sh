#!/usr/bin/env bash
# Builds the release library for this machine's platform and writes the packages to dist/:
#
#   scripts/package.sh
#
#   dist/msstore-<version>-<platform>.tar.gz  include/, lib/ (stripped shared + static library,
#                                             split debug info in lib/.debug/), lib/cmake/msstore/
#                                             (find_package(msstore)), lib/pkgconfig/msstore.pc, LICENSE
#   dist/com.msstore.client-<version>.tgz     the Unity package (bindings/csharp) with the shared
#                                             library under Runtime/Plugins/<platform folder>/ and a
#                                             generated PluginImporter .meta for it
#   dist/MsStore-<version>-unreal.zip         the Unreal plugin with its ThirdParty binaries staged
#   dist/SHA256SUMS
#
# Platforms: linux-x86_64 and linux-arm64 (glibc 2.17, scripts/build-linux-glibc217.sh),
# windows-x86_64, macos-universal (x86_64 + arm64, lipo). Only linux-x86_64 is built and tested
# on the development machine; the others by .github/workflows/release.yml. scripts/test-package.sh
# checks what this writes.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."
REPO=$PWD

VERSION=$(grep -m 1 -E '^version = "' Cargo.toml | cut -d '"' -f 2)
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) PLATFORM=linux-x86_64 UPM_DIR=Linux/x86_64 UE=Linux ;;
  Linux-aarch64) PLATFORM=linux-arm64 UPM_DIR=Linux/arm64 UE=LinuxArm64 ;;
  Darwin-*) PLATFORM=macos-universal UPM_DIR=macOS UE=Mac ;;
  MINGW* | MSYS* | CYGWIN*) PLATFORM=windows-x86_64 UPM_DIR=Windows/x86_64 UE=Win64 ;;
  *) note "unsupported platform $(uname -s)-$(uname -m)"; exit 2 ;;
esac
DIST=$REPO/dist
STAGE=$REPO/target/package-stage
rm -rf "$STAGE" && mkdir -p "$STAGE/lib" "$STAGE/debug" "$DIST"
trap 'rm -rf "$STAGE"' EXIT

# ---- build: the libraries into $STAGE/lib, stripped, their debug info into $STAGE/debug --------
case "$PLATFORM" in
  linux-*)
    built=$(scripts/build-linux-glibc217.sh | tail -n 1)
    cp "$built/libmsstore.so" "$built/libmsstore.a" "$STAGE/lib/"
    (
      cd "$STAGE/lib"
      # Debug info goes to files of their own; the shared library names its file
      # (.gnu_debuglink), which gdb and perf find in lib/.debug/.
      objcopy --only-keep-debug libmsstore.so ../debug/libmsstore.so.debug
      objcopy --only-keep-debug libmsstore.a ../debug/libmsstore.a.debug
      strip --strip-unneeded libmsstore.so
      strip --strip-debug libmsstore.a
      objcopy --add-gnu-debuglink=../debug/libmsstore.so.debug libmsstore.so
    )
    ;;
  macos-universal)
    for t in x86_64-apple-darwin aarch64-apple-darwin; do
      rustup target add "$t" >&2
      CARGO_PROFILE_RELEASE_STRIP=none cargo build -q -p msstore --lib --release --target "$t" >&2
    done
    for f in libmsstore.dylib libmsstore.a; do
      lipo -create -output "$STAGE/lib/$f" "target/x86_64-apple-darwin/release/$f" "target/aarch64-apple-darwin/release/$f"
    done
    install_name_tool -id @rpath/libmsstore.dylib "$STAGE/lib/libmsstore.dylib"
    dsymutil "$STAGE/lib/libmsstore.dylib" -o "$STAGE/debug/libmsstore.dylib.dSYM"
    strip -x "$STAGE/lib/libmsstore.dylib"
    strip -S "$STAGE/lib/libmsstore.a"
    ;;
  windows-x86_64)
    # MSVC keeps debug info in the .pdb already: nothing to strip from the DLL.
    cargo build -q -p msstore --lib --release >&2
    cp target/release/msstore.dll target/release/msstore.dll.lib target/release/msstore.lib "$STAGE/lib/"
    cp target/release/msstore.pdb "$STAGE/debug/" 2>/dev/null || true
    ;;
esac

# ---- the C/C++ tarball ------------------------------------------------------------------------
name=msstore-$VERSION-$PLATFORM
prefix=$STAGE/$name
note "writing $name.tar.gz"
cmake -S bindings/cpp -B "$STAGE/cmake-build" -DMSSTORE_LIB_DIR="$STAGE/lib" -DCMAKE_INSTALL_PREFIX="$prefix" >"$STAGE/cmake.log"
cmake --install "$STAGE/cmake-build" >>"$STAGE/cmake.log"
mkdir -p "$prefix/lib/.debug"
cp -R "$STAGE/debug/." "$prefix/lib/.debug/"
cp LICENSE "$prefix/LICENSE"
tar -czf "$DIST/$name.tar.gz" -C "$STAGE" "$name"

# ---- the Unity package: npm-pack layout (package/ at the top), as Unity's "Add package from
# tarball" reads it ------------------------------------------------------------------------------
upm=$STAGE/upm/package
note "writing com.msstore.client-$VERSION.tgz"
mkdir -p "$STAGE/upm"
cp -R bindings/csharp "$upm"
rm -f "$upm/Runtime/Plugins/$UPM_DIR/.gitkeep"
case "$PLATFORM" in
  windows-*) cp "$STAGE/lib/msstore.dll" "$upm/Runtime/Plugins/$UPM_DIR/" ;;
  macos-*) cp "$STAGE/lib/libmsstore.dylib" "$upm/Runtime/Plugins/$UPM_DIR/" ;;
  *) cp "$STAGE/lib/libmsstore.so" "$upm/Runtime/Plugins/$UPM_DIR/" ;;
esac
scripts/gen-unity-meta.sh --root "$upm"
tar -czf "$DIST/com.msstore.client-$VERSION.tgz" -C "$STAGE/upm" package

# ---- the Unreal plugin --------------------------------------------------------------------------
note "writing MsStore-$VERSION-unreal.zip"
mkdir -p "$STAGE/unreal"
cp -R bindings/unreal "$STAGE/unreal/MsStore"
bindings/unreal/stage-thirdparty.sh --lib-dir "$STAGE/lib" --platform "$UE" "$STAGE/unreal/MsStore" >&2
rm -f "$DIST/MsStore-$VERSION-unreal.zip"
(cd "$STAGE/unreal" && if command -v zip >/dev/null; then zip -qr "$DIST/MsStore-$VERSION-unreal.zip" MsStore; else
  7z a -tzip "$DIST/MsStore-$VERSION-unreal.zip" MsStore >/dev/null; fi)

# ---- checksums ----------------------------------------------------------------------------------
(
  cd "$DIST"
  files=("$name.tar.gz" "com.msstore.client-$VERSION.tgz" "MsStore-$VERSION-unreal.zip")
  if command -v sha256sum >/dev/null; then sha256sum "${files[@]}"; else shasum -a 256 "${files[@]}"; fi >SHA256SUMS
)
for f in "$name.tar.gz" "com.msstore.client-$VERSION.tgz" "MsStore-$VERSION-unreal.zip" SHA256SUMS; do
  note "dist/$f: $(wc -c <"$DIST/$f" | tr -d ' ') bytes"
done

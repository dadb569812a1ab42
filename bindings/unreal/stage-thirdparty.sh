#!/usr/bin/env bash
# Fills the plugin's ThirdParty module from a cargo build, for one platform:
#
#   cargo build --lib --release
#   bindings/unreal/stage-thirdparty.sh [--lib-dir target/release] [--platform Linux|LinuxArm64|Win64|Mac] [PLUGIN_DIR]
#
# PLUGIN_DIR defaults to this directory (bindings/unreal); pass <Project>/Plugins/MsStore to stage
# straight into a game project. Copies
#   include/msstore.h, bindings/cpp/include/msstore.hpp -> Source/ThirdParty/MsStoreLibrary/include/
#   static library (and Win64 import library)           -> Source/ThirdParty/MsStoreLibrary/lib/<Platform>/
#   shared library (DLL / .so / .dylib)                 -> Binaries/ThirdParty/MsStoreLibrary/<Platform>/
# On Linux the shared library gets the SONAME libmsstore.so (patchelf, when installed) so an
# engine binary linking it records no build path.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
LIB_DIR="$REPO/target/release"
PLUGIN_DIR="$(cd "$(dirname "$0")" && pwd)"
case "$(uname -s)" in
  Linux) PLATFORM=$([ "$(uname -m)" = aarch64 ] && echo LinuxArm64 || echo Linux) ;;
  Darwin) PLATFORM=Mac ;;
  *) PLATFORM=Win64 ;;
esac
while [ $# -gt 0 ]; do
  case "$1" in
    --lib-dir) LIB_DIR=$2; shift 2 ;;
    --platform) PLATFORM=$2; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) PLUGIN_DIR=$1; shift ;;
  esac
done
case "$PLATFORM" in
  Win64) STATIC=(msstore.lib msstore.dll.lib); SHARED=msstore.dll ;;
  Mac) STATIC=(libmsstore.a); SHARED=libmsstore.dylib ;;
  Linux|LinuxArm64) STATIC=(libmsstore.a); SHARED=libmsstore.so ;;
  *) echo "unknown platform '$PLATFORM' (Linux, LinuxArm64, Win64, Mac)" >&2; exit 2 ;;
esac
for f in "${STATIC[@]}" "$SHARED"; do
  [ -f "$LIB_DIR/$f" ] || { echo "$LIB_DIR/$f is missing: run cargo build --lib --release (or pass --lib-dir)" >&2; exit 1; }
done

TP="$PLUGIN_DIR/Source/ThirdParty/MsStoreLibrary"
BIN="$PLUGIN_DIR/Binaries/ThirdParty/MsStoreLibrary/$PLATFORM"
mkdir -p "$TP/include" "$TP/lib/$PLATFORM" "$BIN"
cp "$REPO/include/msstore.h" "$REPO/bindings/cpp/include/msstore.hpp" "$TP/include/"
for f in "${STATIC[@]}"; do cp "$LIB_DIR/$f" "$TP/lib/$PLATFORM/"; done
cp "$LIB_DIR/$SHARED" "$BIN/"
if [ "$SHARED" = libmsstore.so ]; then
  if command -v patchelf >/dev/null; then
    patchelf --set-soname libmsstore.so "$BIN/libmsstore.so"
  else
    echo "note: patchelf not found; the shared library keeps no SONAME (fine for the default static link)" >&2
  fi
fi
echo "staged msstore for $PLATFORM into $PLUGIN_DIR"

#!/usr/bin/env bash
# Builds the release library for this Linux machine's CPU (x86_64, aarch64) against glibc 2.17
# (RHEL/CentOS 7+, Ubuntu 16.04+, Debian 9+, Amazon Linux 2, and Unreal's glibc 2.17 sysroot):
#
#   scripts/build-linux-glibc217.sh      # -> target/<arch>-unknown-linux-gnu/release/libmsstore.{so,a}
#
# cargo-zigbuild links with `zig cc` against zig's glibc 2.17 stubs and compiles the C parts
# (ring, the bundled SQLite) with zig's glibc headers for that version. Those headers are what
# keep SQLite's fcntl() from becoming fcntl64 (glibc 2.28): a newer glibc's <fcntl.h> redirects
# fcntl to fcntl64 whenever _FILE_OFFSET_BITS=64, which SQLite defines. scripts/check-glibc.sh
# verifies the result. Installs ziglang (PyPI) and cargo-zigbuild (crates.io) when missing.
# The shared library gets the SONAME libmsstore.so, so what links it records no build path.
# Prints the directory holding the libraries as its last line.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."

TARGET=$(uname -m)-unknown-linux-gnu # x86_64 or aarch64
GLIBC=2.17
NOTE_PREFIX=build-glibc$GLIBC

if ! python3 -m ziglang version >/dev/null 2>&1 && ! have zig; then
  note "installing ziglang from PyPI"
  python3 -m pip install -q --disable-pip-version-check ziglang >&2
fi
if ! have cargo-zigbuild; then
  note "installing cargo-zigbuild from crates.io"
  cargo install -q --locked cargo-zigbuild >&2
fi
rustup target list --installed | grep -qx "$TARGET" || rustup target add "$TARGET" >&2

# Line tables stay in the build (strip = "none" instead of the profile's "debuginfo") so that
# scripts/package.sh can split them into a debug file instead of losing them.
# RUSTFLAGS apply to the target only (not build scripts), since --target is given.
note "cargo zigbuild -p msstore --lib --release --target $TARGET.$GLIBC"
CARGO_PROFILE_RELEASE_STRIP=none \
  RUSTFLAGS="-C link-arg=-Wl,-soname,libmsstore.so" \
  cargo zigbuild -q -p msstore --lib --release --target "$TARGET.$GLIBC" >&2
echo "target/$TARGET/release"

#!/usr/bin/env bash
# Checks the shipped library files: libmsstore.a (what Unreal links) and libmsstore.so must
# carry no server (the emulator, hyper's server side), and export only `msstore_*` functions.
# Prints their sizes after `strip --strip-debug` (what packaging ships) and the export count.
#
#   scripts/check-artifacts.sh [PROFILE_DIR]   # default target/debug; e.g. target/release
#
# Build first: `cargo build -p msstore --lib [--release] [--no-default-features]`.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."
dir=${1:-target/debug}
a="$dir/libmsstore.a"
so="$dir/libmsstore.so"
NOTE_PREFIX=artifacts
NOTE_FD=1 # the notes are the report (scripts/test-all.sh keeps them in target/artifacts.log)
for f in "$a" "$so"; do
  [ -f "$f" ] || {
    note "FAILED: $f is missing (cargo build -p msstore --lib)"
    exit 1
  }
done

syms=$(mktemp)
trap 'rm -f "$syms"' EXIT
nm -C "$a" 2>/dev/null >"$syms" || true
# A symbol table that does not even list the C ABI proves nothing: fail rather than pass.
if ! grep -q ' T msstore_client_new$' "$syms"; then
  note "FAILED: nm lists no msstore_client_new in $a"
  failed=1
fi
# The emulator crate and hyper's server half belong to tools/, never to the shipped library.
for pattern in 'msstore_emulator' 'msstore::emulator' 'hyper::server' 'hyper::proto::h1::role::Server'; do
  n=$(grep -c -- "$pattern" "$syms" || true)
  if [ "$n" -ne 0 ]; then
    note "FAILED: $n symbols matching '$pattern' in $a, e.g.:"
    grep -m 3 -- "$pattern" "$syms" | sed 's/^/    /'
    failed=1
  fi
done

exports=$(nm -D --defined-only "$so" | grep -c ' T ' || true)
c_abi=$(nm -D --defined-only "$so" | grep -c ' T msstore_' || true)
if [ "$exports" -ne "$c_abi" ]; then
  note "FAILED: $so exports $((exports - c_abi)) functions outside the msstore_ prefix:"
  nm -D --defined-only "$so" | grep ' T ' | grep -v ' T msstore_' | head -n 5 | sed 's/^/    /'
  failed=1
fi

# The panic test hook is built only with the `ffi-test-hooks` feature (the C/C++/C# suites).
if [ "$(nm -D --defined-only "$so" | grep -c ' T msstore_debug_trigger_panic$')" != 0 ]; then
  note "FAILED: $so exports the test hook msstore_debug_trigger_panic (build without ffi-test-hooks)"
  failed=1
fi

tmp=$(mktemp -d)
cp "$a" "$so" "$tmp/"
strip --strip-debug "$tmp/libmsstore.a" "$tmp/libmsstore.so"
size() { stat -c %s "$1"; }
note "$dir: libmsstore.so $(size "$so") bytes ($(size "$tmp/libmsstore.so") stripped)," \
  "libmsstore.a $(size "$a") bytes ($(size "$tmp/libmsstore.a") stripped), $c_abi exports"
rm -rf "$tmp"

[ "$failed" -eq 0 ] || finish
note "no emulator or hyper-server symbols; exports all msstore_*"
pass
finish

#!/usr/bin/env bash
# Fails when a Linux library needs a glibc newer than the baseline (default 2.17):
#
#   scripts/check-glibc.sh [--max 2.17] FILE_OR_DIR...   # .so and .a files, or dirs holding them
#
# - a shared library: the GLIBC_x.y versions its dynamic symbols require (`objdump -T`);
# - a static library: object files carry no symbol versions, so each strong undefined symbol that
#   no member defines (`nm`) is looked up in this machine's glibc, whose `objdump -T` names the
#   version that introduced it. A symbol that only exists from a version above the baseline (e.g.
#   fcntl64, GLIBC_2.28) fails. Weak references (`w`) are listed but allowed: a weak reference to a
#   function the consumer's sysroot lacks links as null, and the Rust std checks before calling.
# Prints the highest version each file needs. Last line: "N passed, M failed"; exits non-zero on
# any failure.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

MAX=2.17
files=()
while [ $# -gt 0 ]; do
  case "$1" in
    --max) MAX=$2; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *)
      if [ -d "$1" ]; then
        while IFS= read -r f; do files+=("$f"); done < <(find "$1" -maxdepth 1 \( -name '*.so' -o -name '*.a' \) | sort)
      else
        files+=("$1")
      fi
      shift ;;
  esac
done
[ "${#files[@]}" -gt 0 ] || {
  fail "no .so or .a given"
  finish
}

# newer_than A B: true when glibc version A is above B.
newer_than() { [ "$1" != "$2" ] && [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | tail -n 1)" = "$1" ]; }
# highest VERSIONS...: the highest of the given versions (stdin, one a line).
highest() { sort -V | tail -n 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# This machine's glibc: "symbol oldest-version" for every symbol it defines.
glibc_index() {
  local libs=() l p
  for l in libc.so.6 libm.so.6 libpthread.so.0 libdl.so.2 librt.so.1 libutil.so.1; do
    p=$(cc -print-file-name="$l" 2>/dev/null || true)
    [ -f "$p" ] && libs+=("$(readlink -f "$p")")
  done
  [ "${#libs[@]}" -gt 0 ] || return 1
  for l in "${libs[@]}"; do objdump -T "$l"; done |
    awk 'NF >= 2 && $0 !~ /\*UND\*/ && $(NF-1) ~ /GLIBC_[0-9]/ { v = $(NF-1); gsub(/[()]/, "", v); sub(/GLIBC_/, "", v); print $NF, v }' |
    sort -k1,1 -k2,2V | awk '!seen[$1]++' >"$tmp/glibc.idx"
  [ -s "$tmp/glibc.idx" ]
}

check_so() {
  local f=$1 vers top
  vers=$(objdump -T "$f" | grep -oE '\bGLIBC_[0-9]+(\.[0-9]+)+' | sed 's/GLIBC_//' | sort -uV || true)
  if [ -z "$vers" ]; then
    note "FAILED: $f lists no GLIBC symbol versions (not a glibc shared library?)"
    return 1
  fi
  top=$(echo "$vers" | highest)
  if newer_than "$top" "$MAX"; then
    note "FAILED: $f needs GLIBC_$top (> $MAX):"
    objdump -T "$f" | awk 'NF >= 2 { v = $(NF-1); gsub(/[()]/, "", v); if (v ~ /^GLIBC_[0-9]/) print substr(v, 7), $NF }' |
      while read -r v s; do newer_than "$v" "$MAX" && echo "    $s GLIBC_$v"; done | sort -u | head -n 20 >&2 || true
    return 1
  fi
  note "$f: needs at most GLIBC_$top"
}

check_a() {
  local f=$1 top bad
  if [ ! -s "$tmp/glibc.idx" ] && ! glibc_index; then
    note "FAILED: cannot read this machine's glibc (cc -print-file-name=libc.so.6)"
    return 1
  fi
  nm -g --format=posix "$f" 2>/dev/null | awk 'NF >= 2 && $2 !~ /^[Uwv]$/ {print $1}' | sort -u >"$tmp/defined"
  nm -g --format=posix "$f" 2>/dev/null | awk 'NF >= 2 && $2 == "U" {print $1}' | sort -u |
    comm -23 - "$tmp/defined" >"$tmp/strong"
  nm -g --format=posix "$f" 2>/dev/null | awk 'NF >= 2 && ($2 == "w" || $2 == "v") {print $1}' | sort -u |
    comm -23 - "$tmp/defined" >"$tmp/weak"
  if ! grep -qx 'pthread_create\|malloc' "$tmp/strong"; then
    note "FAILED: nm lists no undefined malloc or pthread_create in $f: nothing checked"
    return 1
  fi
  # Before 2.33, glibc's libc_nonshared.a (linked statically into every program) defined the
  # stat family as wrappers of __xstat & co., so the libc.so of newer glibc lists them from 2.33
  # only; an old sysroot still resolves them.
  grep -vxE '(f|l)?stat(64)?|fstatat(64)?|mknod(at)?' "$tmp/strong" >"$tmp/strong.so" || true
  # "symbol version" of the undefined symbols glibc provides.
  join "$tmp/strong.so" "$tmp/glibc.idx" >"$tmp/strong.v"
  join "$tmp/weak" "$tmp/glibc.idx" >"$tmp/weak.v"
  top=$(awk '{print $2}' "$tmp/strong.v" | highest)
  bad=$(awk '{print $2, $1}' "$tmp/strong.v" | while read -r v s; do newer_than "$v" "$MAX" && echo "    $s GLIBC_$v"; done || true)
  awk '{print $2, $1}' "$tmp/weak.v" | while read -r v s; do
    newer_than "$v" "$MAX" && note "$f: weak (optional) reference to $s (GLIBC_$v)"
  done || true
  if [ -n "$bad" ]; then
    note "FAILED: $f references symbols glibc $MAX lacks (highest: GLIBC_$top):"
    echo "$bad" | head -n 20 >&2
    return 1
  fi
  note "$f: $(wc -l <"$tmp/strong.v") glibc symbols, needs at most GLIBC_$top"
}

for f in "${files[@]}"; do
  case "$f" in
    *.so | *.so.*) if check_so "$f"; then pass; else failed=$((failed + 1)); fi ;;
    *.a) if check_a "$f"; then pass; else failed=$((failed + 1)); fi ;;
    *) fail "$f is neither a .so nor a .a" ;;
  esac
done
finish

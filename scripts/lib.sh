# Sourced by the scripts of scripts/ (`. "$(dirname "$0")/lib.sh"`, before they cd): notes,
# counting, logged steps and installs, written once. A suite counts its checks in `passed` and
# `failed` and ends with `finish`, whose "N passed, M failed" line is what scripts/test-all.sh and
# scripts/test-package.sh parse from the suite's log (the last such line counts). Notes go to
# stderr with a "[name] " prefix, so that no note can be taken for that line.

passed=0
failed=0
# The prefix of notes: the script's name unless the script sets another.
NOTE_PREFIX=$(basename "$0" .sh)
# The stream notes go to: 2 (stderr), or 1 for a script whose notes belong in its piped output.
NOTE_FD=2

# Each note carries the seconds since the script started, so a slow step shows in any log.
note() { printf '[%s +%ds] %s\n' "$NOTE_PREFIX" "$SECONDS" "$*" >&"$NOTE_FD"; }
pass() { passed=$((passed + 1)); }
fail() {
  failed=$((failed + 1))
  note "FAILED: $*"
}
# finish: prints the counts and exits, non-zero when anything failed.
finish() {
  echo "$passed passed, $failed failed"
  if [ "$failed" -eq 0 ]; then exit 0; fi
  exit 1
}

have() { command -v "$1" >/dev/null 2>&1; }

# The memory check of the C and C++ suites: memory errors and definite leaks fail the run.
VALGRIND=(valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=1
  --suppressions=tests/c/valgrind.supp)

# check NAME CMD...: one step, counted; its output goes to $OUT/NAME.log, whose end (CHECK_SHOW:
# "tail" by default, "head" where the first errors matter most) is shown when it fails.
CHECK_SHOW=tail
check() {
  local name=$1
  shift
  if "$@" >"$OUT/$name.log" 2>&1; then
    pass
  else
    "$CHECK_SHOW" -n 40 "$OUT/$name.log" >&2
    fail "$name"
    return 1
  fi
}

# check_async NAME CMD...: `check` run in the background, at most one per core at a time (the
# compile checks are independent, and a serial loop leaves the second core idle); check_wait
# waits for them all and counts them in the order they were started.
ASYNC_NAMES=()
ASYNC_MAX=$(nproc 2>/dev/null || echo 2)
check_async() {
  local name=$1
  shift
  while [ "$(jobs -rp | wc -l)" -ge "$ASYNC_MAX" ]; do wait -n || true; done
  rm -f "$OUT/$name.rc"
  ( set +e; "$@" >"$OUT/$name.log" 2>&1; echo $? >"$OUT/$name.rc" ) &
  ASYNC_NAMES+=("$name")
}
check_wait() {
  local name
  wait
  for name in "${ASYNC_NAMES[@]}"; do
    if [ "$(cat "$OUT/$name.rc" 2>/dev/null)" = 0 ]; then
      pass
    else
      "$CHECK_SHOW" -n 40 "$OUT/$name.log" >&2
      fail "$name"
    fi
  done
  ASYNC_NAMES=()
}

# summary_of LOG: the last "N passed, M failed" line of LOG, or nothing.
summary_of() { grep -E '^[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1 || true; }
# add_counts LINE: adds a "N passed, M failed" line (nothing for an empty one) to the counts.
add_counts() {
  local p f
  [ -n "$1" ] || return 0
  read -r p _ f _ <<<"$1"
  passed=$((passed + p))
  failed=$((failed + f))
}

# suite NAME CMD...: runs a program or script that prints "N passed, M failed" (output in
# $OUT/NAME.log) and adds its counts. An exit code other than 0, or no such line, shows the log's
# error lines and counts one failure more when the line counted none.
suite() {
  local name=$1 log="$OUT/$1.log" rc=0 line f=0
  shift
  "$@" >"$log" 2>&1 || rc=$?
  line=$(summary_of "$log")
  add_counts "$line"
  if [ $rc -ne 0 ] || [ -z "$line" ]; then
    # Our programs' FAIL lines, GoogleTest's failure lines, valgrind's and ASan's ==PID== reports.
    local errors='FAIL|Failure|Expected|Which is|error|==[0-9]+=='
    if grep -qE "$errors" "$log"; then
      grep -E "$errors" "$log" | head -n 60 >&2 || true
    else
      tail -n 30 "$log" >&2
    fi
    [ -z "$line" ] || read -r _ _ f _ <<<"$line"
    if [ "$f" = 0 ]; then fail "$name: exit code $rc"; else note "$name: exit code $rc"; fi
  fi
  note "$name: ${line:-no summary}"
}

# apt_install PKG...: installs Debian packages (through `sudo -n` when not root), updating the
# package lists only when the first attempt fails; on failure shows apt's output and returns 1.
apt_install() {
  local sudo="" log attempt
  if [ "$(id -u)" != 0 ]; then
    have sudo || {
      note "cannot install $* (not root, no sudo)"
      return 1
    }
    sudo="sudo -n"
  fi
  note "installing: $*"
  log=$(mktemp)
  for attempt in first after-update; do
    [ "$attempt" = first ] || $sudo apt-get update -qq >>"$log" 2>&1 || true
    if DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >>"$log" 2>&1; then
      rm -f "$log"
      return 0
    fi
  done
  tail -n 20 "$log" >&2
  rm -f "$log"
  note "cannot install $*"
  return 1
}

# install_missing TOOL[:PACKAGE]...: installs the Debian package (by default named as the tool) of
# each tool that is not on the PATH.
install_missing() {
  local spec packages=()
  for spec in "$@"; do
    have "${spec%%:*}" || packages+=("${spec#*:}")
  done
  [ "${#packages[@]}" -eq 0 ] || apt_install "${packages[@]}"
}

# require_tools TOOL...: ends the suite with a failure when a tool is not on the PATH.
require_tools() {
  local tool
  for tool in "$@"; do
    have "$tool" || {
      fail "$tool is unavailable"
      finish
    }
  done
}

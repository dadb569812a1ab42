# Sourced by the C, C++, C# and package suites, after scripts/lib.sh: a fresh emulator per test
# run, on 127.0.0.1 only, that cannot outlive the script (its stdin is fd 7; closing it, or the
# script exiting, stops it; it also stops itself after MAX_SECONDS).

# start_emulator [MAX_SECONDS]: sets EMU_PID and EMU_SEED (the emulator's JSON line); returns 1,
# after printing the emulator's stderr, when it did not start.
start_emulator() {
  local max=${1:-900} dir
  # The emulator is its own workspace crate (tools/emulator): build it once per script.
  if [ -z "${EMU_BUILT:-}" ]; then
    cargo build -q -p msstore-emulator --bin msstore-emulator >&2 || return 1
    EMU_BUILT=1
  fi
  dir=$(mktemp -d)
  mkfifo "$dir/in"
  target/debug/msstore-emulator --host 127.0.0.1 --port 0 --seed demo --exit-on-stdin-eof \
    --max-seconds "$max" <"$dir/in" >"$dir/out" 2>"$dir/err" &
  EMU_PID=$!
  exec 7>"$dir/in"
  for _ in $(seq 1 200); do
    [ -s "$dir/out" ] && break
    sleep 0.05
  done
  EMU_SEED=$(head -n 1 "$dir/out")
  if [ -z "$EMU_SEED" ]; then
    cat "$dir/err" >&2
    return 1
  fi
}

stop_emulator() {
  exec 7>&-
  wait "$EMU_PID" 2>/dev/null || true
}

# run_on_emulator NAME SECONDS CMD...: `suite NAME CMD...` (scripts/lib.sh) against a fresh
# emulator, CMD and the emulator both bounded by SECONDS. A CMD that was not built is a failure.
run_on_emulator() {
  local name=$1 seconds=$2
  shift 2
  if ! have "$1"; then
    fail "$name: not built"
    return
  fi
  if ! start_emulator "$seconds"; then
    fail "$name: the emulator did not start"
    return
  fi
  note "running $name"
  suite "$name" env MSSTORE_EMU_SEED="$EMU_SEED" timeout "$seconds" "$@"
  stop_emulator
}

# run_on_emulator_async NAME SECONDS CMD...: run_on_emulator in the background, at most one per
# core (with check_async's jobs): a valgrind run takes one core for a minute, which the other
# runs and compiles can share. Each has its own emulator, and its own fd 7 in its subshell.
# emulator_wait waits for them all and adds their counts and notes in the order they started.
EMU_ASYNC_NAMES=()
run_on_emulator_async() {
  local name=$1
  # Built here, once, so that the background runs do not each take cargo's lock.
  if [ -z "${EMU_BUILT:-}" ]; then
    cargo build -q -p msstore-emulator --bin msstore-emulator >&2 || {
      fail "$name: the emulator did not build"
      return
    }
    EMU_BUILT=1
  fi
  while [ "$(jobs -rp | wc -l)" -ge "$ASYNC_MAX" ]; do wait -n || true; done
  rm -f "$OUT/$name.counts"
  (
    passed=0 failed=0
    run_on_emulator "$@" >"$OUT/$name.notes" 2>&1
    echo "$passed $failed" >"$OUT/$name.counts"
  ) &
  EMU_ASYNC_NAMES+=("$name")
}
emulator_wait() {
  local name p f
  wait
  for name in "${EMU_ASYNC_NAMES[@]}"; do
    cat "$OUT/$name.notes" >&"$NOTE_FD" 2>/dev/null || true
    if read -r p f <"$OUT/$name.counts" 2>/dev/null; then
      passed=$((passed + p))
      failed=$((failed + f))
    else
      fail "$name: ended without a result"
    fi
  done
  EMU_ASYNC_NAMES=()
}

trap 'exec 7>&- 2>/dev/null || true' EXIT

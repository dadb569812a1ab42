#!/usr/bin/env bash
# PostgreSQL suite of msstore: runs the ledger tests (tests/it/ledger_pg.rs) against a throw-away
# local PostgreSQL server. Installs Debian's `postgresql` package when no server binaries are
# found, creates a cluster in a temp dir with initdb (as the `postgres` user when run as root:
# the server refuses root), listens on 127.0.0.1 only on a free port, and always stops it.
# Uses an existing server instead when MSSTORE_TEST_PG_URL is already set (then the
# stalled-server test, which stops the server's processes, is skipped).
# Last line: "N passed, M failed"; exits non-zero on any failure.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."

OUT=target/pg-tests
mkdir -p "$OUT"

find_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

PGDATA_DIR=""
PG_BIN=""
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
stop_server() {
  if [ -n "$PGDATA_DIR" ] && [ -f "$PGDATA_DIR/data/postmaster.pid" ]; then
    as_pg "$PG_BIN/pg_ctl" -D "$PGDATA_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  fi
  [ -n "$PGDATA_DIR" ] && rm -rf "$PGDATA_DIR"
  return 0
}
trap stop_server EXIT

if [ -z "${MSSTORE_TEST_PG_URL:-}" ]; then
  PG_BIN=$(find_bin)
  if [ -z "$PG_BIN" ]; then
    apt_install postgresql || {
      fail "cannot install postgresql"
      finish
    }
    PG_BIN=$(find_bin)
  fi
  if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
    useradd --system --home-dir /var/lib/postgresql --shell /bin/false postgres
  fi
  PGDATA_DIR=$(mktemp -d /tmp/msstore-pg.XXXXXX)
  [ "$(id -u)" = 0 ] && chown postgres "$PGDATA_DIR"
  as_pg "$PG_BIN/initdb" -D "$PGDATA_DIR/data" -U msstore --auth=trust -E UTF8 >"$OUT/initdb.log" 2>&1 || {
    cat "$OUT/initdb.log" >&2
    fail "initdb"
    finish
  }
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 55432)
  note "starting PostgreSQL ($PG_BIN) on 127.0.0.1:$PORT"
  as_pg "$PG_BIN/pg_ctl" -D "$PGDATA_DIR/data" -l "$PGDATA_DIR/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PORT -k $PGDATA_DIR -c fsync=on -c max_connections=100" start >/dev/null || {
    cat "$PGDATA_DIR/server.log" >&2
    fail "the server did not start"
    finish
  }
  export MSSTORE_TEST_PG_URL="postgres://msstore@127.0.0.1:$PORT/postgres"
fi

# run_suite LOG ARGS...: one cargo test run; adds its counts to passed/failed.
run_suite() {
  local log=$1 rc=0 line p f
  shift
  "$@" >"$log" 2>&1 || rc=$?
  grep -E '^\[ledger\]|^test |panicked' "$log" >&2 || true
  line=$(grep -E '^test result:' "$log" | tail -n 1 || true)
  p=$(echo "$line" | grep -Eo '[0-9]+ passed' | awk '{print $1}')
  f=$(echo "$line" | grep -Eo '[0-9]+ failed' | awk '{print $1}')
  p=${p:-0}
  f=${f:-0}
  if [ $rc -ne 0 ] && [ "$f" = 0 ]; then
    tail -n 40 "$log" >&2
    f=1
  fi
  passed=$((passed + p))
  failed=$((failed + f))
}

note "running tests/it/ledger_pg.rs"
run_suite "$OUT/cargo.log" cargo test -p msstore --test it ledger_pg:: -- --nocapture --skip pg_stalled
# Alone, after the others: it stops (SIGSTOP) every process of this cluster, then continues it.
if [ -n "$PGDATA_DIR" ]; then
  note "running the stalled-server test"
  run_suite "$OUT/cargo-stall.log" env MSSTORE_TEST_PG_STALL_DATADIR="$PGDATA_DIR/data" \
    cargo test -p msstore --test it ledger_pg::pg_stalled -- --nocapture
fi
finish

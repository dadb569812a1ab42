//! The SQLite store (default): one file, WAL journal, `synchronous=FULL` so every committed
//! state change is fsynced before the call returns. The file and its `-wal`/`-shm` companions
//! are owner-only (0600 on Unix): they hold Store ID keys of pending consumes.

use super::store::{storage, storage_cause, Dialect, SqlConn, Val};
use crate::error::{Error, ErrorKind, Result};
#[cfg(unix)]
use crate::log::{log_at, Level};
use rusqlite::types::{Value, ValueRef};
use rusqlite::Connection;
use std::time::Duration;

pub(crate) struct SqliteConn {
    conn: Connection,
}

impl SqliteConn {
    pub(crate) fn open(path: &str) -> Result<SqliteConn> {
        owner_only(path)?;
        let conn = Connection::open(path)
            .map_err(|e| storage_cause(&format!("cannot open SQLite file '{path}'"), e))?;
        // Several processes (or ledgers) may share the file: wait for the writer, do not fail.
        conn.busy_timeout(Duration::from_secs(10))
            .map_err(|e| storage_cause("busy_timeout", e))?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .map_err(|e| storage_cause("cannot enable WAL", e))?;
        if !mode.eq_ignore_ascii_case("wal") && path != ":memory:" {
            return Err(storage(
                "cannot enable WAL",
                format!("journal mode is '{mode}'"),
            ));
        }
        conn.execute_batch("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;")
            .map_err(|e| storage_cause("pragmas", e))?;
        // SQLite gives a new -wal/-shm the database file's mode; this catches older ones.
        owner_only(path)?;
        Ok(SqliteConn { conn })
    }
}

/// Creates the database file owner-only (0600) if missing, and tightens it and any existing
/// `-wal`/`-shm` to 0600 (a file made by an older version or another tool may be 0644). A file
/// this account may not chmod (another owner) is left as it is, with a warning.
#[cfg(unix)]
fn owner_only(path: &str) -> Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    if path == ":memory:" || path.is_empty() || path.starts_with("file:") {
        return Ok(());
    }
    let cannot = |e: std::io::Error| storage_cause(&format!("cannot open SQLite file '{path}'"), e);
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(cannot(e)),
    }
    for f in [
        path.to_string(),
        format!("{path}-wal"),
        format!("{path}-shm"),
    ] {
        let wide = match std::fs::metadata(&f) {
            // Never chmod what is not a plain file: a path naming a directory (even `/`) or a
            // device must fail to open, not lose its permissions.
            Ok(m) if !m.is_file() => {
                return Err(Error::new(
                    ErrorKind::Storage,
                    format!("the SQLite path '{f}' is not a regular file"),
                ))
            }
            Ok(m) => m.permissions().mode() & 0o077 != 0,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
            Err(e) => return Err(cannot(e)),
        };
        if !wide {
            continue;
        }
        match std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => log_at!(
                Level::Warn,
                "msstore::ledger",
                "ledger file '{f}' is readable by other accounts and not ours to tighten: \
                 chmod 600 it (it holds Store ID keys of pending consumes)"
            ),
            Err(e) => return Err(cannot(e)),
        }
    }
    Ok(())
}

/// Elsewhere the file inherits the directory's access control.
#[cfg(not(unix))]
fn owner_only(_path: &str) -> Result<()> {
    Ok(())
}

/// `$1` placeholders (shared SQL) to SQLite's `?1`.
fn sqlite_sql(sql: &str) -> String {
    sql.replace('$', "?")
}

fn params(p: &[Val]) -> Vec<Value> {
    p.iter()
        .map(|v| match v {
            Val::I(i) => Value::Integer(*i),
            Val::S(s) => Value::Text(s.clone()),
        })
        .collect()
}

impl SqlConn for SqliteConn {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn batch(&mut self, sql: &str) -> Result<()> {
        self.conn
            .execute_batch(sql)
            .map_err(|e| storage_cause("schema", e))
    }

    fn exec(&mut self, sql: &str, p: &[Val]) -> Result<u64> {
        self.conn
            .execute(
                &sqlite_sql(sql),
                rusqlite::params_from_iter(params(p).iter()),
            )
            .map(|n| n as u64)
            .map_err(|e| storage_cause("write", e))
    }

    fn query(&mut self, sql: &str, p: &[Val]) -> Result<Vec<Vec<Val>>> {
        let mut stmt = self
            .conn
            .prepare_cached(&sqlite_sql(sql))
            .map_err(|e| storage_cause("query", e))?;
        let n = stmt.column_count();
        let rows = stmt
            .query_map(rusqlite::params_from_iter(params(p).iter()), |r| {
                (0..n)
                    .map(|i| {
                        Ok(match r.get_ref(i)? {
                            ValueRef::Integer(v) => Val::I(v),
                            ValueRef::Real(v) => Val::I(v as i64),
                            ValueRef::Text(t) => Val::S(String::from_utf8_lossy(t).into_owned()),
                            ValueRef::Blob(b) => Val::S(String::from_utf8_lossy(b).into_owned()),
                            ValueRef::Null => Val::S(String::new()),
                        })
                    })
                    .collect::<rusqlite::Result<Vec<Val>>>()
            })
            .map_err(|e| storage_cause("query", e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| storage_cause("query", e))
    }

    fn begin(&mut self) -> Result<()> {
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| storage_cause("begin", e))
    }

    fn commit(&mut self) -> Result<()> {
        self.conn
            .execute_batch("COMMIT")
            .map_err(|e| storage_cause("commit", e))
    }

    fn rollback(&mut self) {
        let _ = self.conn.execute_batch("ROLLBACK");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn a_failed_statement_keeps_the_sqlite_error_as_source() {
        let mut conn = SqliteConn::open(":memory:").unwrap();
        let err = conn.query("SELECT id FROM no_such_table", &[]).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Storage);
        assert!(err.message.contains("no such table"), "{err}");
        let source = std::error::Error::source(&err).expect("a source");
        let sqlite = source
            .downcast_ref::<rusqlite::Error>()
            .expect("the source is the rusqlite error");
        assert!(sqlite.to_string().contains("no_such_table"), "{sqlite}");
        // Cloning an error keeps its cause.
        assert!(std::error::Error::source(&err.clone()).is_some());
    }
}

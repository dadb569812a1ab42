//! The PostgreSQL store: one ledger shared by a fleet of game servers.
//!
//! The synchronous `postgres` client runs its own small runtime, which must not be entered from
//! inside another tokio runtime; so the connection lives on a dedicated thread and every call is
//! a message to it. That makes the store safe to call from anywhere (the client's runtime, a C
//! callback, a plain thread). A dropped connection is re-opened before the next transaction.

use super::store::{storage, Dialect, SqlConn, Val};
use crate::error::{Error, Result};
use crate::secret::SecretString;
use postgres::types::{ToSql, Type};
use postgres::{Client, NoTls};
use std::sync::mpsc;

type Job = Box<dyn FnOnce(&mut Option<Client>, &SecretString) + Send>;

pub(crate) struct PgConn {
    jobs: mpsc::Sender<Job>,
}

fn connect(url: &SecretString) -> Result<Client> {
    // The error text never includes the connection string (which may carry a password).
    Client::connect(url.expose(), NoTls).map_err(|e| storage("cannot connect to PostgreSQL", e))
}

impl PgConn {
    pub(crate) fn open(url: &SecretString) -> Result<PgConn> {
        let first = connect(url)?;
        let (tx, rx) = mpsc::channel::<Job>();
        let url = url.clone();
        std::thread::Builder::new()
            .name("msstore-ledger-pg".into())
            .spawn(move || {
                let mut client = Some(first);
                // Ends when the PgConn (the only sender) is dropped.
                for job in rx {
                    job(&mut client, &url);
                }
            })
            .map_err(|e| storage("cannot start the PostgreSQL thread", e))?;
        Ok(PgConn { jobs: tx })
    }

    /// Runs `f` on the connection thread and waits for its answer.
    fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Client) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        self.call_with(false, f)
    }

    /// `reconnect`: re-open a dropped connection first. Only at the start of a transaction:
    /// re-opening in the middle would run the rest of it outside the transaction.
    fn call_with<T: Send + 'static>(
        &self,
        reconnect: bool,
        f: impl FnOnce(&mut Client) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let (tx, rx) = mpsc::sync_channel(1);
        let job: Job = Box::new(move |slot, url| {
            if reconnect && slot.as_ref().is_none_or(|c| c.is_closed()) {
                *slot = connect(url).ok();
            }
            let r = match slot.as_mut() {
                Some(c) => f(c),
                None => Err(storage(
                    "PostgreSQL",
                    "the connection is closed and could not be re-opened",
                )),
            };
            let _ = tx.send(r);
        });
        self.jobs
            .send(job)
            .map_err(|_| storage("PostgreSQL", "the connection thread stopped"))?;
        rx.recv()
            .map_err(|_| storage("PostgreSQL", "the connection thread stopped"))?
    }
}

fn boxed(p: &[Val]) -> Vec<Box<dyn ToSql + Sync + Send>> {
    p.iter()
        .map(|v| -> Box<dyn ToSql + Sync + Send> {
            match v {
                Val::I(i) => Box::new(*i),
                Val::S(s) => Box::new(s.clone()),
            }
        })
        .collect()
}

fn refs(b: &[Box<dyn ToSql + Sync + Send>]) -> Vec<&(dyn ToSql + Sync)> {
    b.iter()
        .map(|x| x.as_ref() as &(dyn ToSql + Sync))
        .collect()
}

fn pg_err(context: &str, e: postgres::Error) -> Error {
    storage(context, e)
}

impl SqlConn for PgConn {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn batch(&mut self, sql: &str) -> Result<()> {
        let sql = sql.to_string();
        self.call(move |c| c.batch_execute(&sql).map_err(|e| pg_err("schema", e)))
    }

    fn exec(&mut self, sql: &str, p: &[Val]) -> Result<u64> {
        let (sql, p) = (sql.to_string(), boxed(p));
        self.call(move |c| {
            c.execute(sql.as_str(), &refs(&p))
                .map_err(|e| pg_err("write", e))
        })
    }

    fn query(&mut self, sql: &str, p: &[Val]) -> Result<Vec<Vec<Val>>> {
        let (sql, p) = (sql.to_string(), boxed(p));
        self.call(move |c| {
            let rows = c
                .query(sql.as_str(), &refs(&p))
                .map_err(|e| pg_err("query", e))?;
            rows.iter()
                .map(|r| {
                    (0..r.len())
                        .map(|i| {
                            let ty = r.columns()[i].type_().clone();
                            let v = if ty == Type::INT8 {
                                r.try_get::<_, i64>(i).map(Val::I)
                            } else if ty == Type::INT4 {
                                r.try_get::<_, i32>(i).map(|v| Val::I(v.into()))
                            } else {
                                r.try_get::<_, String>(i).map(Val::S)
                            };
                            v.map_err(|e| pg_err("row", e))
                        })
                        .collect::<Result<Vec<Val>>>()
                })
                .collect()
        })
    }

    fn begin(&mut self) -> Result<()> {
        self.call_with(true, |c| {
            c.batch_execute("BEGIN").map_err(|e| pg_err("begin", e))
        })
    }

    fn commit(&mut self) -> Result<()> {
        self.call(|c| c.batch_execute("COMMIT").map_err(|e| pg_err("commit", e)))
    }

    fn rollback(&mut self) {
        let _ = self.call(|c| {
            c.batch_execute("ROLLBACK")
                .map_err(|e| pg_err("rollback", e))
        });
    }
}

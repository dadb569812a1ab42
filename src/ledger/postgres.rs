//! The PostgreSQL store: one ledger shared by a fleet of game servers.
//!
//! The connection lives on a dedicated thread with its own small tokio runtime (it must not be
//! entered from inside another runtime), and every call is a message to it. That makes the
//! store safe to call from anywhere (the client's runtime, a C callback, a plain thread).
//!
//! Every call is bounded. A stalled server (stopped, or a partition without a reset) answers
//! nothing, not even its own `statement_timeout`, and on loopback the kernel still accepts the
//! connection and acknowledges the bytes, so TCP timeouts do not fire either. So each call runs
//! under the deadline of its transaction (`pg_statement_timeout` from its start, see
//! [`super::store::Store::tx`]); at the deadline the connection is dropped and the call fails
//! with `Timeout`. The next transaction opens a new connection (bounded by
//! `pg_connect_timeout` and by its own deadline).

use super::config::LedgerConfig;
use super::store::{storage, storage_cause, Dialect, SqlConn, Val};
use crate::error::{Error, ErrorKind, Result};
use std::str::FromStr;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, Config, NoTls};

/// What the connection thread does for one call.
enum Op {
    Batch(String),
    Exec(String, Vec<Val>),
    Query(String, Vec<Val>),
}

enum Answer {
    Done,
    Count(u64),
    Rows(Vec<Vec<Val>>),
}

struct Job {
    op: Op,
    /// Re-open a dropped connection first. Only at the start of a transaction: re-opening in
    /// the middle would run the rest of it outside the transaction.
    reconnect: bool,
    deadline: Instant,
}

pub(crate) struct PgConn {
    jobs: mpsc::Sender<(Job, mpsc::SyncSender<Result<Answer>>)>,
    bound: Duration,
    deadline: Option<Instant>,
}

/// The connection settings: the URL plus our timeouts, keepalives and `statement_timeout`.
fn settings(c: &LedgerConfig) -> Result<Config> {
    // The error text never includes the connection string (which may carry a password).
    let mut cfg = Config::from_str(c.postgres_url.expose())
        .map_err(|e| Error::configuration(format!("ledger postgres_url: {e}")))?;
    let ms = c.pg_statement_timeout.as_millis();
    let options = match cfg.get_options() {
        Some(o) if !o.trim().is_empty() => format!("{o} -c statement_timeout={ms}"),
        _ => format!("-c statement_timeout={ms}"),
    };
    cfg.options(options)
        .connect_timeout(c.pg_connect_timeout)
        .keepalives(true)
        .keepalives_idle(c.pg_keepalive_idle)
        // Unacknowledged data (a real partition) drops the connection after this long.
        .tcp_user_timeout(c.pg_statement_timeout);
    Ok(cfg)
}

fn timed_out(what: &str, bound: Duration) -> Error {
    Error::new(
        ErrorKind::Timeout,
        format!(
            "ledger PostgreSQL: {what} got no answer within {} ms; the connection was dropped",
            bound.as_millis()
        ),
    )
}

fn pg_err(context: &str, e: tokio_postgres::Error) -> Error {
    let mut err = storage(context, &e);
    if e.code() == Some(&SqlState::QUERY_CANCELED) {
        // The server's own statement_timeout.
        err.kind = ErrorKind::Timeout;
    }
    match e.as_db_error() {
        // A server's DETAIL can quote a whole row ("Failing row contains ..."), Store ID keys
        // included: keep its SQLSTATE and primary message only.
        Some(db) => err.with_source(ServerError {
            code: db.code().code().to_string(),
            message: db.message().to_string(),
        }),
        // Connection, I/O and protocol failures carry no data.
        None => err.with_source(e),
    }
}

/// What the PostgreSQL server said, without its DETAIL, HINT and WHERE (see `pg_err`).
#[derive(Debug)]
pub struct ServerError {
    /// The SQLSTATE, e.g. `57014` (query canceled).
    pub code: String,
    pub message: String,
}

impl std::fmt::Display for ServerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PostgreSQL error {}: {}", self.code, self.message)
    }
}

impl std::error::Error for ServerError {}

/// The connection thread's state.
struct Worker {
    rt: tokio::runtime::Runtime,
    cfg: Config,
    connect_timeout: Duration,
    client: Option<(Client, tokio::task::JoinHandle<()>)>,
}

impl Worker {
    fn drop_connection(&mut self) {
        if let Some((_, task)) = self.client.take() {
            task.abort();
        }
    }

    fn run(&mut self, job: Job) -> Result<Answer> {
        let Worker {
            rt,
            cfg,
            connect_timeout,
            client,
        } = self;
        let left = job.deadline.saturating_duration_since(Instant::now());
        let r = rt.block_on(async {
            tokio::time::timeout_at(job.deadline.into(), async {
                if job.reconnect && client.as_ref().is_none_or(|(c, _)| c.is_closed()) {
                    if let Some((_, task)) = client.take() {
                        task.abort();
                    }
                    let (c, conn) = tokio::time::timeout(*connect_timeout, cfg.connect(NoTls))
                        .await
                        .map_err(|_| timed_out("connecting", *connect_timeout))?
                        .map_err(|e| pg_err("cannot connect to PostgreSQL", e))?;
                    let task = tokio::spawn(async move {
                        let _ = conn.await;
                    });
                    *client = Some((c, task));
                }
                let Some((c, _)) = client.as_ref() else {
                    return Err(storage(
                        "PostgreSQL",
                        "the connection was dropped inside this transaction",
                    ));
                };
                run_op(c, job.op).await
            })
            .await
        });
        match r {
            Ok(r) => r,
            Err(_) => {
                // Stalled: whatever it was waiting for may still arrive; never reuse it.
                self.drop_connection();
                Err(timed_out("a call", left))
            }
        }
    }
}

async fn run_op(c: &Client, op: Op) -> Result<Answer> {
    match op {
        Op::Batch(sql) => c
            .batch_execute(&sql)
            .await
            .map(|_| Answer::Done)
            .map_err(|e| pg_err("statement", e)),
        Op::Exec(sql, p) => {
            let b = boxed(&p);
            c.execute(sql.as_str(), &refs(&b))
                .await
                .map(Answer::Count)
                .map_err(|e| pg_err("write", e))
        }
        Op::Query(sql, p) => {
            let b = boxed(&p);
            let rows = c
                .query(sql.as_str(), &refs(&b))
                .await
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
                .collect::<Result<Vec<_>>>()
                .map(Answer::Rows)
        }
    }
}

impl PgConn {
    /// Connects (within `pg_connect_timeout`) and starts the connection thread.
    pub(crate) fn open(config: &LedgerConfig) -> Result<PgConn> {
        let cfg = settings(config)?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| storage_cause("cannot start the PostgreSQL runtime", e))?;
        let mut worker = Worker {
            rt,
            cfg,
            connect_timeout: config.pg_connect_timeout,
            client: None,
        };
        // The first connection, here, so that a bad URL or an unreachable server fails open.
        worker.run(Job {
            op: Op::Batch(String::new()),
            reconnect: true,
            deadline: Instant::now() + config.pg_connect_timeout,
        })?;
        type Answered = (Job, mpsc::SyncSender<Result<Answer>>);
        let (jobs, rx) = mpsc::channel::<Answered>();
        std::thread::Builder::new()
            .name("msstore-ledger-pg".into())
            .spawn(move || {
                // Ends when the PgConn (the only sender) is dropped.
                for (job, answer) in rx {
                    let _ = answer.send(worker.run(job));
                }
            })
            .map_err(|e| storage_cause("cannot start the PostgreSQL thread", e))?;
        Ok(PgConn {
            jobs,
            bound: config.pg_statement_timeout,
            deadline: None,
        })
    }

    /// Runs `op` on the connection thread; it answers by the deadline at the latest.
    fn call(&self, op: Op, reconnect: bool) -> Result<Answer> {
        let (tx, rx) = mpsc::sync_channel(1);
        let deadline = self.deadline.unwrap_or_else(|| Instant::now() + self.bound);
        self.jobs
            .send((
                Job {
                    op,
                    reconnect,
                    deadline,
                },
                tx,
            ))
            .map_err(|_| storage("PostgreSQL", "the connection thread stopped"))?;
        rx.recv()
            .map_err(|_| storage("PostgreSQL", "the connection thread stopped"))?
    }

    fn done(&self, op: Op, reconnect: bool) -> Result<()> {
        self.call(op, reconnect).map(|_| ())
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

fn unexpected() -> Error {
    Error::new(ErrorKind::Internal, "ledger PostgreSQL: unexpected answer")
}

impl SqlConn for PgConn {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn batch(&mut self, sql: &str) -> Result<()> {
        self.done(Op::Batch(sql.to_string()), false)
    }

    fn exec(&mut self, sql: &str, p: &[Val]) -> Result<u64> {
        match self.call(Op::Exec(sql.to_string(), p.to_vec()), false)? {
            Answer::Count(n) => Ok(n),
            _ => Err(unexpected()),
        }
    }

    fn query(&mut self, sql: &str, p: &[Val]) -> Result<Vec<Vec<Val>>> {
        match self.call(Op::Query(sql.to_string(), p.to_vec()), false)? {
            Answer::Rows(r) => Ok(r),
            _ => Err(unexpected()),
        }
    }

    fn begin(&mut self) -> Result<()> {
        self.done(Op::Batch("BEGIN".into()), true)
    }

    fn commit(&mut self) -> Result<()> {
        self.done(Op::Batch("COMMIT".into()), false)
    }

    fn rollback(&mut self) {
        let _ = self.done(Op::Batch("ROLLBACK".into()), false);
    }

    fn call_bound(&self) -> Option<Duration> {
        Some(self.bound)
    }

    fn set_deadline(&mut self, deadline: Instant) {
        self.deadline = Some(deadline);
    }
}

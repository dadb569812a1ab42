//! The storage trait ([`SqlConn`]: a connection that runs SQL, implemented for SQLite and
//! PostgreSQL) and the ledger's tables and queries, written once over it.
//!
//! SQL here uses `$1` placeholders, `BIGINT`/`TEXT` columns and no NULLs, a subset both databases
//! run unchanged; the SQLite connection rewrites `$n` to `?n`. Every state change runs in one
//! transaction and is durable when it returns (SQLite `synchronous=FULL`, PostgreSQL commit).
//!
//! Claims keep two game servers from handing the same entry to two games: an entry (or
//! revocation) is handed out only by the instance whose `claim_owner` it carries while
//! `claim_until` is in the future; an expired claim (a crashed server) may be taken over.
//!
//! Clawback tables: `clawbacks` (every event once, by id), `clawed_lines` (order lines a
//! `Revoked`/`Returned` event took back and no reversal restored: matched against consumes
//! recorded later), `revocations` (what the game applies) and `dead_letters` (queue messages
//! that could not be used).

use super::model::{corrupt, EntryState, LedgerEntry, Revocation, RevocationKind};
use crate::consume::{ConsumeResult, OrderTransaction};
use crate::error::{Error, ErrorKind, Result};
use crate::secret::SecretString;
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// One SQL value: the ledger only stores integers and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Val {
    I(i64),
    S(String),
}

impl From<i64> for Val {
    fn from(v: i64) -> Val {
        Val::I(v)
    }
}
impl From<&str> for Val {
    fn from(v: &str) -> Val {
        Val::S(v.to_string())
    }
}
impl From<String> for Val {
    fn from(v: String) -> Val {
        Val::S(v)
    }
}
impl From<&String> for Val {
    fn from(v: &String) -> Val {
        Val::S(v.clone())
    }
}

/// Which SQL dialect a connection speaks, for the few statements that differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// `"sqlite"` or `"postgres"` (what [`crate::Ledger::backend`] reports).
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
        }
    }

    /// The clause that makes a claiming SELECT skip rows another server holds. SQLite needs
    /// none: `BEGIN IMMEDIATE` already serialises writers.
    fn row_lock(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }
}

/// The storage trait: a database connection the ledger runs its SQL on.
pub trait SqlConn: Send {
    fn dialect(&self) -> Dialect;
    /// Runs parameterless statements separated by `;` (schema set-up).
    fn batch(&mut self, sql: &str) -> Result<()>;
    /// Runs one statement; returns the number of rows changed.
    fn exec(&mut self, sql: &str, params: &[Val]) -> Result<u64>;
    /// Runs one query; every column must be BIGINT or TEXT.
    fn query(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Vec<Val>>>;
    /// Starts a write transaction (SQLite takes the write lock at once: `BEGIN IMMEDIATE`).
    fn begin(&mut self) -> Result<()>;
    fn commit(&mut self) -> Result<()>;
    fn rollback(&mut self);
    /// The most one transaction may take (a remote database's statement timeout); `None`
    /// (the default): calls are local and need no bound.
    fn call_bound(&self) -> Option<Duration> {
        None
    }
    /// Every call from now until the next `set_deadline` gives up with a `Timeout` error at
    /// `deadline` (and drops a connection that stalled). Only used when `call_bound` is set.
    fn set_deadline(&mut self, _deadline: Instant) {}
}

// Used by the SQLite and PostgreSQL connections (Cargo features).
#[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
pub(crate) fn storage(context: &str, e: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Storage, format!("ledger {context}: {e}"))
}

/// `storage`, keeping `e` as the `source()` (a database's or the file system's own error).
#[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
pub(crate) fn storage_cause(
    context: &str,
    e: impl std::error::Error + Send + Sync + 'static,
) -> Error {
    storage(context, &e).with_source(e)
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS msstore_ledger_entries (
  id TEXT PRIMARY KEY,
  player_ref TEXT NOT NULL,
  collections_key TEXT NOT NULL,
  product_id TEXT NOT NULL,
  quantity BIGINT NOT NULL,
  sbx TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts BIGINT NOT NULL,
  new_quantity BIGINT NOT NULL,
  last_error TEXT NOT NULL,
  claim_owner TEXT NOT NULL,
  claim_until BIGINT NOT NULL,
  created_ms BIGINT NOT NULL,
  updated_ms BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS msstore_ledger_entries_state ON msstore_ledger_entries (state, created_ms);
CREATE TABLE IF NOT EXISTS msstore_ledger_transactions (
  entry_id TEXT NOT NULL,
  order_id TEXT NOT NULL,
  line_item_id TEXT NOT NULL,
  product_id TEXT NOT NULL,
  quantity BIGINT NOT NULL,
  PRIMARY KEY (entry_id, order_id, line_item_id)
);
CREATE INDEX IF NOT EXISTS msstore_ledger_transactions_line ON msstore_ledger_transactions (order_id, line_item_id);
CREATE TABLE IF NOT EXISTS msstore_ledger_clawbacks (
  event_id TEXT PRIMARY KEY,
  state TEXT NOT NULL,
  order_id TEXT NOT NULL,
  line_item_id TEXT NOT NULL,
  product_id TEXT NOT NULL,
  created_ms BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS msstore_ledger_revocations (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  player_ref TEXT NOT NULL,
  product_id TEXT NOT NULL,
  quantity BIGINT NOT NULL,
  entry_id TEXT NOT NULL,
  order_id TEXT NOT NULL,
  line_item_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  reverses TEXT NOT NULL,
  reversed_by TEXT NOT NULL,
  acknowledged BIGINT NOT NULL,
  claim_owner TEXT NOT NULL,
  claim_until BIGINT NOT NULL,
  created_ms BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS msstore_ledger_revocations_line ON msstore_ledger_revocations (order_id, line_item_id);
CREATE INDEX IF NOT EXISTS msstore_ledger_revocations_event ON msstore_ledger_revocations (event_id);
CREATE TABLE IF NOT EXISTS msstore_ledger_clawed_lines (
  order_id TEXT NOT NULL,
  line_item_id TEXT NOT NULL,
  product_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  state TEXT NOT NULL,
  created_ms BIGINT NOT NULL,
  PRIMARY KEY (order_id, line_item_id, product_id)
);
CREATE TABLE IF NOT EXISTS msstore_ledger_dead_letters (
  message_id TEXT PRIMARY KEY,
  reason TEXT NOT NULL,
  text TEXT NOT NULL,
  dequeue_count BIGINT NOT NULL,
  created_ms BIGINT NOT NULL
);
";

const ENTRY_COLS: &str = "id, player_ref, product_id, quantity, state, attempts, new_quantity, \
                          last_error, created_ms, updated_ms";
pub(crate) const REVOCATION_COLS: &str = "id, kind, player_ref, product_id, quantity, entry_id, \
     order_id, line_item_id, event_id, reverses, acknowledged, created_ms";

pub(crate) fn text(v: &Val) -> Result<String> {
    match v {
        Val::S(s) => Ok(s.clone()),
        Val::I(i) => Err(corrupt(format!("expected text, found {i}"))),
    }
}

pub(crate) fn int(v: &Val) -> Result<i64> {
    match v {
        Val::I(i) => Ok(*i),
        Val::S(s) => Err(corrupt(format!("expected an integer, found '{s}'"))),
    }
}

fn col(row: &[Val], i: usize) -> Result<&Val> {
    row.get(i)
        .ok_or_else(|| corrupt(format!("missing column {i}")))
}

pub(crate) fn revocation_from_row(r: &[Val]) -> Result<Revocation> {
    let reverses = text(col(r, 9)?)?;
    Ok(Revocation {
        id: text(col(r, 0)?)?,
        kind: RevocationKind::parse(&text(col(r, 1)?)?)?,
        player_ref: text(col(r, 2)?)?,
        product_id: text(col(r, 3)?)?,
        quantity: int(col(r, 4)?)?,
        entry_id: text(col(r, 5)?)?,
        order_id: text(col(r, 6)?)?,
        line_item_id: text(col(r, 7)?)?,
        event_id: text(col(r, 8)?)?,
        reverses: (!reverses.is_empty()).then_some(reverses),
        acknowledged: int(col(r, 10)?)? != 0,
        created_ms: int(col(r, 11)?)?,
    })
}

/// What a replay needs besides the public entry: the key and sandbox.
pub(crate) struct SendInfo {
    pub collections_key: SecretString,
    pub product_id: String,
    pub quantity: u32,
    pub sbx: Option<String>,
}

/// A new entry as recorded before the first send.
pub(crate) struct NewEntry<'a> {
    pub id: &'a str,
    pub player_ref: &'a str,
    pub collections_key: &'a str,
    pub product_id: &'a str,
    pub quantity: u32,
    pub sbx: &'a str,
}

/// A claim: who takes entries, now, and until when.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Claim<'a> {
    pub owner: &'a str,
    pub now: i64,
    pub until: i64,
}

/// The ledger's tables over one connection.
pub(crate) struct Store {
    conn: ConnSlot,
    /// The most one transaction may take, waiting for the connection included (`None`: no
    /// bound, SQLite).
    bound: Option<Duration>,
    pub dialect: Dialect,
}

/// The one connection, lent to one transaction at a time. A waiter gives up at its deadline,
/// so a stalled database costs every caller at most its own bound, not a queue of them.
struct ConnSlot {
    conn: Mutex<Option<Box<dyn SqlConn>>>,
    returned: Condvar,
}

/// A lent connection; goes back to the slot when dropped (also on a panic).
struct Lent<'a> {
    slot: &'a ConnSlot,
    conn: Option<Box<dyn SqlConn>>,
}

impl ConnSlot {
    fn take(&self, deadline: Option<Instant>) -> Result<Lent<'_>> {
        let mut g = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(c) = g.take() {
                return Ok(Lent {
                    slot: self,
                    conn: Some(c),
                });
            }
            g = match deadline {
                None => self.returned.wait(g).unwrap_or_else(|p| p.into_inner()),
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(Error::new(
                            ErrorKind::Timeout,
                            "ledger database: no answer within the statement timeout (an earlier call is still waiting for it)",
                        ));
                    }
                    self.returned
                        .wait_timeout(g, left)
                        .unwrap_or_else(|p| p.into_inner())
                        .0
                }
            };
        }
    }
}

impl Drop for Lent<'_> {
    fn drop(&mut self) {
        *self.slot.conn.lock().unwrap_or_else(|p| p.into_inner()) = self.conn.take();
        self.slot.returned.notify_one();
    }
}

impl Store {
    pub(crate) fn new(mut conn: Box<dyn SqlConn>) -> Result<Store> {
        let bound = conn.call_bound();
        if let Some(b) = bound {
            conn.set_deadline(Instant::now() + b);
        }
        let dialect = conn.dialect();
        match dialect {
            Dialect::Sqlite => conn.batch(SCHEMA)?,
            // Servers starting together must not race on CREATE TABLE: one at a time.
            Dialect::Postgres => conn.batch(&format!(
                "BEGIN; SELECT pg_advisory_xact_lock(7170); {SCHEMA} COMMIT;"
            ))?,
        }
        Ok(Store {
            conn: ConnSlot {
                conn: Mutex::new(Some(conn)),
                returned: Condvar::new(),
            },
            bound,
            dialect,
        })
    }

    /// Runs `f` in one transaction: committed when it returns `Ok`, rolled back otherwise.
    pub(crate) fn tx<T>(&self, f: impl FnOnce(&mut dyn SqlConn) -> Result<T>) -> Result<T> {
        // A panic inside `f` leaves no half transaction behind: begin/rollback below reset it.
        let deadline = self.bound.map(|b| Instant::now() + b);
        let mut lent = self.conn.take(deadline)?;
        let c: &mut dyn SqlConn = lent
            .conn
            .as_deref_mut()
            .ok_or_else(|| Error::new(ErrorKind::Internal, "ledger connection missing"))?;
        if let Some(d) = deadline {
            c.set_deadline(d);
        }
        c.begin()?;
        match f(c) {
            Ok(v) => match c.commit() {
                Ok(()) => Ok(v),
                Err(e) => {
                    c.rollback();
                    Err(e)
                }
            },
            Err(e) => {
                c.rollback();
                Err(e)
            }
        }
    }

    /// Records a new pending entry claimed by `claim.owner`. If the id exists, returns the
    /// existing entry (`false`) after checking it is the same consume.
    pub(crate) fn insert_entry(&self, e: &NewEntry, claim: Claim) -> Result<(LedgerEntry, bool)> {
        self.tx(|c| {
            let n = c.exec(
                "INSERT INTO msstore_ledger_entries (id, player_ref, collections_key, product_id, \
                 quantity, sbx, state, attempts, new_quantity, last_error, claim_owner, claim_until, \
                 created_ms, updated_ms) VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, -1, '', $7, $8, $9, $9) \
                 ON CONFLICT (id) DO NOTHING",
                &[
                    e.id.into(),
                    e.player_ref.into(),
                    e.collections_key.into(),
                    e.product_id.into(),
                    (e.quantity as i64).into(),
                    e.sbx.into(),
                    claim.owner.into(),
                    claim.until.into(),
                    claim.now.into(),
                ],
            )?;
            let existing = load_entry(c, e.id)?
                .ok_or_else(|| corrupt(format!("entry {} vanished", e.id)))?;
            if n == 0
                && (existing.player_ref != e.player_ref
                    || existing.product_id != e.product_id
                    || existing.quantity != e.quantity)
            {
                return Err(Error::invalid_argument(format!(
                    "trackingId {} is already recorded for another consume (player, product or quantity differ)",
                    e.id
                )));
            }
            Ok((existing, n == 1))
        })
    }

    /// Takes (or renews) the claim on one open entry; false when another live instance holds it.
    pub(crate) fn claim_entry(&self, id: &str, claim: Claim) -> Result<bool> {
        self.tx(|c| {
            Ok(c.exec(
                "UPDATE msstore_ledger_entries SET claim_owner = $2, claim_until = $3 \
                 WHERE id = $1 AND state IN ('pending', 'applied') \
                 AND (claim_owner = $2 OR claim_until < $4)",
                &[
                    id.into(),
                    claim.owner.into(),
                    claim.until.into(),
                    claim.now.into(),
                ],
            )? == 1)
        })
    }

    /// Before each send: counts the attempt, durably. `None` when the entry is no longer
    /// pending or another instance took the claim (then this one must not send).
    pub(crate) fn begin_send(&self, id: &str, claim: Claim) -> Result<Option<(u32, SendInfo)>> {
        self.tx(|c| {
            let n = c.exec(
                "UPDATE msstore_ledger_entries SET attempts = attempts + 1, claim_until = $3, \
                 updated_ms = $4 WHERE id = $1 AND state = 'pending' AND claim_owner = $2",
                &[
                    id.into(),
                    claim.owner.into(),
                    claim.until.into(),
                    claim.now.into(),
                ],
            )?;
            if n == 0 {
                return Ok(None);
            }
            let rows = c.query(
                "SELECT attempts, collections_key, sbx, product_id, quantity \
                 FROM msstore_ledger_entries WHERE id = $1",
                &[id.into()],
            )?;
            let r = rows
                .first()
                .ok_or_else(|| corrupt(format!("entry {id} vanished")))?;
            let sbx = text(col(r, 2)?)?;
            Ok(Some((
                (int(col(r, 0)?)? - 1).max(0) as u32,
                SendInfo {
                    collections_key: SecretString::new(text(col(r, 1)?)?),
                    product_id: text(col(r, 3)?)?,
                    quantity: int(col(r, 4)?)?.clamp(0, u32::MAX as i64) as u32,
                    sbx: (!sbx.is_empty()).then_some(sbx),
                },
            )))
        })
    }

    /// The Store applied it: record the result and its order lines; keep the claim (the
    /// game that gets it must acknowledge before the lease ends).
    pub(crate) fn mark_applied(
        &self,
        id: &str,
        r: &ConsumeResult,
        claim: Claim,
    ) -> Result<LedgerEntry> {
        self.tx(|c| {
            c.exec(
                "UPDATE msstore_ledger_entries SET state = 'applied', new_quantity = $2, \
                 last_error = '', claim_owner = $3, claim_until = $4, updated_ms = $5 \
                 WHERE id = $1 AND state = 'pending'",
                &[
                    id.into(),
                    r.new_quantity.into(),
                    claim.owner.into(),
                    claim.until.into(),
                    claim.now.into(),
                ],
            )?;
            let product = c.query(
                "SELECT product_id FROM msstore_ledger_entries WHERE id = $1",
                &[id.into()],
            )?;
            let product = match product.first() {
                Some(r) => text(col(r, 0)?)?,
                None => return Err(corrupt(format!("entry {id} vanished"))),
            };
            for t in &r.order_transactions {
                c.exec(
                    "INSERT INTO msstore_ledger_transactions (entry_id, order_id, line_item_id, \
                     product_id, quantity) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                    &[
                        id.into(),
                        (&t.order_id).into(),
                        (&t.order_line_item_id).into(),
                        (&product).into(),
                        t.quantity_consumed.into(),
                    ],
                )?;
            }
            // A clawback may have arrived while the entry was pending: match it now.
            super::clawback::rematch_in(c, super::clawback::Scope::Entry(id), claim.now, None)?;
            load_entry(c, id)?.ok_or_else(|| corrupt(format!("entry {id} vanished")))
        })
    }

    /// The Store refused it: final, nothing applied; the claim is released and the Store ID key
    /// blanked (nothing will be resent).
    pub(crate) fn mark_failed(&self, id: &str, error: &str, now: i64) -> Result<LedgerEntry> {
        self.tx(|c| {
            c.exec(
                "UPDATE msstore_ledger_entries SET state = 'failed', last_error = $2, \
                 collections_key = '', claim_owner = '', claim_until = 0, updated_ms = $3 \
                 WHERE id = $1 AND state = 'pending'",
                &[id.into(), error.into(), now.into()],
            )?;
            load_entry(c, id)?.ok_or_else(|| corrupt(format!("entry {id} vanished")))
        })
    }

    /// Keeps the reason an entry is still pending.
    pub(crate) fn note_error(&self, id: &str, error: &str, now: i64) -> Result<LedgerEntry> {
        self.tx(|c| {
            c.exec(
                "UPDATE msstore_ledger_entries SET last_error = $2, updated_ms = $3 \
                 WHERE id = $1 AND state = 'pending'",
                &[id.into(), error.into(), now.into()],
            )?;
            load_entry(c, id)?.ok_or_else(|| corrupt(format!("entry {id} vanished")))
        })
    }

    pub(crate) fn entry(&self, id: &str) -> Result<Option<LedgerEntry>> {
        self.tx(|c| load_entry(c, id))
    }

    /// Pending and applied-but-unacknowledged entries, oldest first (a read-only view).
    pub(crate) fn open_entries(&self) -> Result<Vec<LedgerEntry>> {
        self.tx(|c| {
            let ids = c.query(
                "SELECT id FROM msstore_ledger_entries WHERE state IN ('pending', 'applied') \
                 ORDER BY created_ms, id",
                &[],
            )?;
            ids.iter()
                .filter_map(|r| r.first().map(text))
                .map(|id| load_entry(c, &id?)?.ok_or_else(|| corrupt("entry vanished".into())))
                .collect()
        })
    }

    /// Claims up to `limit` open entries for `claim.owner` (those it already holds, or whose
    /// claim expired), skipping the `exclude` ids and rows another transaction is claiming
    /// right now.
    pub(crate) fn claim_open(
        &self,
        claim: Claim,
        limit: i64,
        exclude: &std::collections::HashSet<String>,
    ) -> Result<Vec<LedgerEntry>> {
        // Excluded rows may fill the LIMIT: ask for that many more.
        let limit = limit + exclude.len() as i64;
        let lock = self.dialect.row_lock();
        self.tx(|c| {
            let rows = c.query(
                &format!(
                    "SELECT id FROM msstore_ledger_entries WHERE state IN ('pending', 'applied') \
                     AND (claim_owner = $1 OR claim_until < $2) ORDER BY created_ms, id LIMIT $3{lock}"
                ),
                &[claim.owner.into(), claim.now.into(), limit.into()],
            )?;
            let mut out = Vec::new();
            for r in &rows {
                let id = text(col(r, 0)?)?;
                if exclude.contains(&id) {
                    continue;
                }
                c.exec(
                    "UPDATE msstore_ledger_entries SET claim_owner = $2, claim_until = $3 WHERE id = $1",
                    &[(&id).into(), claim.owner.into(), claim.until.into()],
                )?;
                out.push(load_entry(c, &id)?.ok_or_else(|| corrupt("entry vanished".into()))?);
            }
            Ok(out)
        })
    }

    /// Gives up this instance's claims on `ids` (entries or revocations) so that any server may
    /// take them now.
    pub(crate) fn release(&self, ids: &[String], owner: &str) -> Result<()> {
        self.tx(|c| {
            for id in ids {
                c.exec(
                    "UPDATE msstore_ledger_entries SET claim_owner = '', claim_until = 0 \
                     WHERE id = $1 AND claim_owner = $2",
                    &[id.into(), owner.into()],
                )?;
                // Revocation ids too (ids are GUIDs: an id names one row in one table).
                c.exec(
                    "UPDATE msstore_ledger_revocations SET claim_owner = '', claim_until = 0 \
                     WHERE id = $1 AND claim_owner = $2 AND acknowledged = 0",
                    &[id.into(), owner.into()],
                )?;
            }
            Ok(())
        })
    }

    /// Applied -> Completed, blanking the Store ID key (a completed entry is never resent).
    /// Idempotent; refuses entries with nothing to grant.
    pub(crate) fn acknowledge(&self, id: &str, now: i64) -> Result<LedgerEntry> {
        self.tx(|c| {
            let e = load_entry(c, id)?.ok_or_else(|| {
                Error::new(ErrorKind::NotFound, format!("no ledger entry '{id}'"))
            })?;
            match e.state {
                EntryState::Applied => {
                    c.exec(
                        "UPDATE msstore_ledger_entries SET state = 'completed', collections_key = '', \
                         claim_owner = '', claim_until = 0, updated_ms = $2 \
                         WHERE id = $1 AND state = 'applied'",
                        &[id.into(), now.into()],
                    )?;
                    load_entry(c, id)?.ok_or_else(|| corrupt("entry vanished".into()))
                }
                EntryState::Completed => Ok(e),
                EntryState::Pending => Err(Error::invalid_argument(format!(
                    "ledger entry {id} is still pending (not applied yet): replay it, do not grant it"
                ))),
                EntryState::Failed => Err(Error::invalid_argument(format!(
                    "ledger entry {id} failed (the Store applied nothing): there is nothing to grant"
                ))),
            }
        })
    }

    /// Unacknowledged revocations, oldest first (a read-only view).
    pub(crate) fn open_revocations(&self) -> Result<Vec<Revocation>> {
        self.tx(|c| {
            c.query(
                &format!(
                    "SELECT {REVOCATION_COLS} FROM msstore_ledger_revocations \
                     WHERE acknowledged = 0 ORDER BY created_ms, id"
                ),
                &[],
            )?
            .iter()
            .map(|r| revocation_from_row(r))
            .collect()
        })
    }

    /// Claims unacknowledged revocations like [`Store::claim_open`] does entries.
    pub(crate) fn claim_revocations(
        &self,
        claim: Claim,
        limit: i64,
        exclude: &std::collections::HashSet<String>,
    ) -> Result<Vec<Revocation>> {
        let limit = limit + exclude.len() as i64;
        let lock = self.dialect.row_lock();
        self.tx(|c| {
            let rows = c.query(
                &format!(
                    "SELECT {REVOCATION_COLS} FROM msstore_ledger_revocations WHERE acknowledged = 0 \
                     AND (claim_owner = $1 OR claim_until < $2) ORDER BY created_ms, id LIMIT $3{lock}"
                ),
                &[claim.owner.into(), claim.now.into(), limit.into()],
            )?;
            let mut out = Vec::new();
            for r in &rows {
                let rev = revocation_from_row(r)?;
                if exclude.contains(&rev.id) {
                    continue;
                }
                c.exec(
                    "UPDATE msstore_ledger_revocations SET claim_owner = $2, claim_until = $3 WHERE id = $1",
                    &[(&rev.id).into(), claim.owner.into(), claim.until.into()],
                )?;
                out.push(rev);
            }
            Ok(out)
        })
    }

    /// Marks a revocation applied by the game. Idempotent.
    pub(crate) fn acknowledge_revocation(&self, id: &str) -> Result<Revocation> {
        self.tx(|c| {
            c.exec(
                "UPDATE msstore_ledger_revocations SET acknowledged = 1, claim_owner = '', \
                 claim_until = 0 WHERE id = $1",
                &[id.into()],
            )?;
            let rows = c.query(
                &format!("SELECT {REVOCATION_COLS} FROM msstore_ledger_revocations WHERE id = $1"),
                &[id.into()],
            )?;
            match rows.first() {
                Some(r) => revocation_from_row(r),
                None => Err(Error::new(
                    ErrorKind::NotFound,
                    format!("no ledger revocation '{id}'"),
                )),
            }
        })
    }
}

pub(crate) fn load_entry(c: &mut dyn SqlConn, id: &str) -> Result<Option<LedgerEntry>> {
    let rows = c.query(
        &format!("SELECT {ENTRY_COLS} FROM msstore_ledger_entries WHERE id = $1"),
        &[id.into()],
    )?;
    let Some(r) = rows.first() else {
        return Ok(None);
    };
    let txs = c.query(
        "SELECT order_id, line_item_id, quantity FROM msstore_ledger_transactions \
         WHERE entry_id = $1 ORDER BY order_id, line_item_id",
        &[id.into()],
    )?;
    let transactions = txs
        .iter()
        .map(|t| {
            Ok(OrderTransaction {
                order_id: text(col(t, 0)?)?,
                order_line_item_id: text(col(t, 1)?)?,
                quantity_consumed: int(col(t, 2)?)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let new_quantity = int(col(r, 6)?)?;
    let last_error = text(col(r, 7)?)?;
    Ok(Some(LedgerEntry {
        id: text(col(r, 0)?)?,
        player_ref: text(col(r, 1)?)?,
        product_id: text(col(r, 2)?)?,
        quantity: int(col(r, 3)?)?.clamp(0, u32::MAX as i64) as u32,
        state: EntryState::parse(&text(col(r, 4)?)?)?,
        attempts: int(col(r, 5)?)?.clamp(0, u32::MAX as i64) as u32,
        new_quantity: (new_quantity >= 0).then_some(new_quantity),
        transactions,
        last_error: (!last_error.is_empty()).then_some(last_error),
        created_ms: int(col(r, 8)?)?,
        updated_ms: int(col(r, 9)?)?,
        already_handed_out: false,
    }))
}

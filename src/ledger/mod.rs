//! The consume ledger: exactly-once fulfilment across crashes, and clawback matching.
//!
//! A consume goes through the ledger in this order: the pending entry (player, key, product,
//! quantity, trackingId) is written durably *before* the first send; the consume is sent and
//! resent with the same trackingId (the Store applies a trackingId once); the outcome and the
//! order lines it drew from are recorded; the game grants the value and acknowledges; the entry
//! is completed. After a crash, [`Ledger::reconcile`] resends what is still pending and hands
//! back what was applied but never acknowledged. Clawback events are matched against the
//! recorded order lines ([`Ledger::apply_clawback`], or read from the Store by
//! [`Ledger::ingest_clawback_queue`] / [`Ledger::ingest_clawback_orders`]) and become
//! revocations the game applies and acknowledges the same way; an event that arrives before its
//! consume is recorded is matched once it is.
//!
//! One job per module: [`model`] (the records), [`config`], [`store`] (the storage trait and the
//! SQL, written once), [`sqlite`] and [`postgres`] (the two connections), [`flow`] (sending
//! consumes), [`clawback`] (matching), [`convert`] (Store events and v1 order lines to
//! matches), [`ingest`] (reading the clawback queue / v1 orders into the ledger), [`retention`]
//! (what is kept at rest, and for how long).

mod backend;
pub mod clawback;
pub mod config;
pub mod convert;
pub mod flow;
pub mod ingest;
pub mod model;
#[cfg(feature = "postgres")]
pub mod postgres;
pub mod retention;
#[cfg(feature = "sqlite")]
pub mod sqlite;
pub mod store;

pub use config::LedgerConfig;
pub use ingest::{ClawbackIngestOptions, ClawbackIngestSummary, ClawbackOrdersIngestOptions};
pub use model::{
    ClawbackMatch, ClawbackOutcome, ClawbackState, DeadLetter, EntryState, LedgerConsume,
    LedgerEntry, Reconciled, Revocation, RevocationKind,
};
pub use retention::PruneSummary;
pub use store::{Dialect, SqlConn, Val};

use crate::error::Result;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use store::{Claim, Store};

/// A durable consume journal over SQLite or PostgreSQL. Cheap to clone (clones share one
/// connection); safe to use from any number of threads. The synchronous methods run one short
/// database transaction each.
#[derive(Clone)]
pub struct Ledger {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    store: Store,
    instance: String,
    lease: Duration,
    send_rounds: u32,
    resend_delay: Duration,
    batch: u32,
    retention_days: u32,
    /// Entries being sent by this process right now (never replayed concurrently).
    in_flight: Mutex<HashSet<String>>,
    /// Entries and revocations handed to this process's game and not acknowledged yet: handed
    /// out once per process (a restart hands them out again).
    handed_out: Mutex<HashSet<String>>,
    /// One reconcile at a time per process.
    reconciling: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger")
            .field("backend", &self.inner.store.dialect.name())
            .field("instance", &self.inner.instance)
            .finish()
    }
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn set(m: &Mutex<HashSet<String>>) -> std::sync::MutexGuard<'_, HashSet<String>> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Ledger {
    /// Opens (creating tables if needed) the ledger the configuration names.
    pub fn open(config: &LedgerConfig) -> Result<Ledger> {
        config.validate()?;
        Ledger::with_connection(backend::open(config)?, config)
    }

    /// Opens a ledger over any [`SqlConn`] (another database, or a test double).
    pub fn with_connection(conn: Box<dyn SqlConn>, config: &LedgerConfig) -> Result<Ledger> {
        let instance = config.instance()?;
        let ledger = Ledger {
            inner: Arc::new(Inner {
                store: Store::new(conn)?,
                instance,
                lease: config.claim_lease,
                send_rounds: config.send_rounds.max(1),
                resend_delay: config.resend_delay,
                batch: config.reconcile_batch.max(1),
                retention_days: config.retention_days,
                in_flight: Mutex::new(HashSet::new()),
                handed_out: Mutex::new(HashSet::new()),
                reconciling: tokio::sync::Mutex::new(()),
            }),
        };
        ledger.prune()?;
        Ok(ledger)
    }

    /// One bounded retention pass (see [`retention`]): blanks Store ID keys left in closed
    /// entries and, with `retention_days` set, deletes closed entries past it that no clawback
    /// can concern. Runs at open and at each reconcile; callable on its own.
    pub fn prune(&self) -> Result<PruneSummary> {
        self.inner.store.prune(now_ms(), self.inner.retention_days)
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn backend(&self) -> &'static str {
        self.inner.store.dialect.name()
    }

    pub fn instance_id(&self) -> &str {
        &self.inner.instance
    }

    fn claim(&self) -> (i64, i64) {
        let now = now_ms();
        (now, now + self.inner.lease.as_millis() as i64)
    }

    /// One entry by id (= trackingId).
    pub fn entry(&self, id: &str) -> Result<Option<LedgerEntry>> {
        self.inner.store.entry(id)
    }

    /// Every entry that is pending or applied-but-unacknowledged, oldest first. A read-only
    /// view (what `msstore ledger pending` prints); use [`Ledger::reconcile`] to act on them.
    pub fn pending(&self) -> Result<Vec<LedgerEntry>> {
        self.inner.store.open_entries()
    }

    /// The game granted the value of an applied entry: complete it. Idempotent; an entry that
    /// is still pending or failed is refused (`InvalidArgument`), an unknown id is `NotFound`.
    pub fn acknowledge(&self, id: &str) -> Result<LedgerEntry> {
        let e = self.inner.store.acknowledge(id, now_ms())?;
        set(&self.inner.handed_out).remove(id);
        Ok(e)
    }

    /// Matches a clawback event against recorded consumes and records the revocations the game
    /// must apply. Idempotent by `event_id`.
    pub fn apply_clawback(&self, m: &ClawbackMatch) -> Result<ClawbackOutcome> {
        clawback::apply(&self.inner.store, m, now_ms(), None)
    }

    /// Unacknowledged revocations not yet handed to this process's game, claimed for this
    /// instance: apply each, then [`Ledger::acknowledge_revocation`].
    pub fn revocations_to_apply(&self) -> Result<Vec<Revocation>> {
        let (now, until) = self.claim();
        let claim = Claim {
            owner: &self.inner.instance,
            now,
            until,
        };
        let handed = set(&self.inner.handed_out).clone();
        let revs = self.inner.store.claim_revocations(claim, 1000, &handed)?;
        let mut h = set(&self.inner.handed_out);
        Ok(revs
            .into_iter()
            .filter(|r| h.insert(r.id.clone()))
            .collect())
    }

    /// Every unacknowledged revocation (a read-only view).
    pub fn open_revocations(&self) -> Result<Vec<Revocation>> {
        self.inner.store.open_revocations()
    }

    /// The game applied a revocation. Idempotent; unknown id is `NotFound`.
    pub fn acknowledge_revocation(&self, id: &str) -> Result<Revocation> {
        let r = self.inner.store.acknowledge_revocation(id)?;
        set(&self.inner.handed_out).remove(id);
        Ok(r)
    }

    /// Gives up this instance's claims on `ids` (entries or revocations it will not hand to a
    /// game, e.g. after a command-line reconcile), so any server's next reconcile takes them
    /// at once.
    pub fn release(&self, ids: &[String]) -> Result<()> {
        self.inner.store.release(ids, &self.inner.instance)?;
        let mut h = set(&self.inner.handed_out);
        for id in ids {
            h.remove(id);
        }
        Ok(())
    }
}

//! What the ledger keeps, and for how long. A Store ID key is kept only while its entry may
//! still be sent (pending) or is waiting for the game (applied): completing or failing an entry
//! blanks it, and each pass here blanks any a file from an older version still holds. With
//! `retention_days` set, closed entries (completed or failed) older than that are deleted,
//! except those that drew from order lines: a refund or chargeback of such a line can arrive
//! months later, and clawback matching needs the entry (player, product, quantity) and its
//! order and line ids to say what to take back. Old dead letters go too.
//!
//! A pass runs when the ledger opens and at each reconcile; it changes at most [`BATCH`] rows of
//! each kind, so a large backlog is worked off over several passes without a long transaction.

use super::store::Store;
use crate::error::Result;

/// Rows of each kind one pass changes at most.
pub const BATCH: i64 = 500;

const DAY_MS: i64 = 86_400_000;

/// What one pass changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PruneSummary {
    /// Closed entries whose Store ID key was blanked (left by an older version).
    pub keys_blanked: u64,
    /// Closed entries deleted (older than the retention, no order lines).
    pub entries_deleted: u64,
    /// Dead letters deleted (older than the retention).
    pub dead_letters_deleted: u64,
}

impl Store {
    /// One bounded pass; `retention_days == 0` keeps closed entries forever (keys are still
    /// blanked).
    pub(crate) fn prune(&self, now_ms: i64, retention_days: u32) -> Result<PruneSummary> {
        let cutoff = now_ms.saturating_sub(i64::from(retention_days).saturating_mul(DAY_MS));
        self.tx(|c| {
            let mut out = PruneSummary {
                keys_blanked: c.exec(
                    "UPDATE msstore_ledger_entries SET collections_key = '' WHERE id IN \
                     (SELECT id FROM msstore_ledger_entries WHERE state IN ('completed', 'failed') \
                     AND collections_key <> '' LIMIT $1)",
                    &[BATCH.into()],
                )?,
                ..PruneSummary::default()
            };
            if retention_days == 0 {
                return Ok(out);
            }
            out.entries_deleted = c.exec(
                "DELETE FROM msstore_ledger_entries WHERE id IN (SELECT e.id \
                 FROM msstore_ledger_entries e WHERE e.state IN ('completed', 'failed') \
                 AND e.updated_ms < $1 AND NOT EXISTS (SELECT 1 FROM msstore_ledger_transactions t \
                 WHERE t.entry_id = e.id) LIMIT $2)",
                &[cutoff.into(), BATCH.into()],
            )?;
            out.dead_letters_deleted = c.exec(
                "DELETE FROM msstore_ledger_dead_letters WHERE message_id IN (SELECT message_id \
                 FROM msstore_ledger_dead_letters WHERE created_ms < $1 LIMIT $2)",
                &[cutoff.into(), BATCH.into()],
            )?;
            Ok(out)
        })
    }
}

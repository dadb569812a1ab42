//! Clawback ingestion: the Store's refund reports, turned into durable ledger revocations.
//!
//! v2 (the queue, [`Ledger::ingest_clawback_queue`]), per batch of up to 32 messages:
//! receive → decode → keep only the expected sandbox (other sandboxes' messages are left
//! untouched; they reappear after the visibility timeout for the servers of that sandbox) →
//! match and record durably (one transaction per event, idempotent by event id) → only then
//! delete the message with its pop receipt. A delete answered `PopReceiptMismatch` (another
//! receive superseded ours: the message comes back and is then a duplicate) or
//! `MessageNotFound` (already gone) is not a failure.
//!
//! A message that cannot be used (not base64/JSON, an unknown `eventState`, no `lineItemId`)
//! is **dead-lettered**: written to `msstore_ledger_dead_letters` with the reason and its raw
//! text, then deleted. Its content never changes, so leaving it would only redeliver it every
//! visibility timeout until its TTL silently drops it; the dead-letter row keeps it (nothing
//! accepted is lost) for an operator or a newer library version to look at
//! ([`Ledger::clawback_dead_letters`]).
//!
//! v1 ([`Ledger::ingest_clawback_orders`]) polls one user's orders: `Revoked` and `Refunded`
//! lines are recorded under stable synthetic ids (see [`super::convert`]); with
//! `detect_reversals`, a `Purchased` line that v1 had reported clawed back is a chargeback
//! reversal. Each v1 reversal starts a new generation of ids for that line, so a second
//! chargeback after a reversal is recorded again.

use super::clawback::{apply_in, v1_line_status};
use super::convert::v1_event_id;
use super::model::{ClawbackMatch, ClawbackState, DeadLetter, Revocation};
use super::store::{Claim, Store};
use super::{now_ms, set, Inner, Ledger};
use crate::clawback::orders::{LINE_STATE_PURCHASED, LINE_STATE_REFUNDED, LINE_STATE_REVOKED};
use crate::clawback::{ClawbackOrdersRequest, QueueMessage, ReceiveOptions};
use crate::client::Core;
use crate::error::{Error, ErrorKind, Result};
use crate::log::{log_at, Level};
use crate::Client;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The production sandbox.
pub const RETAIL_SANDBOX: &str = "RETAIL";

/// How [`Ledger::ingest_clawback_queue`] reads the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClawbackIngestOptions {
    /// Events of other sandboxes are left in the queue (default `RETAIL`). Compared without
    /// case; an event without a `sandboxId` counts as this sandbox.
    pub expected_sandbox: String,
    /// Messages per receive (≤ 32) and how long they stay hidden while being processed.
    pub receive: ReceiveOptions,
    /// Receives per call at most (default 16); a call also stops at the first short batch.
    pub max_batches: u32,
}

impl Default for ClawbackIngestOptions {
    fn default() -> Self {
        ClawbackIngestOptions {
            expected_sandbox: RETAIL_SANDBOX.into(),
            receive: ReceiveOptions::default(),
            max_batches: 16,
        }
    }
}

impl ClawbackIngestOptions {
    fn validate(&self) -> Result<()> {
        let s = self.expected_sandbox.trim();
        if s.is_empty() || s.len() > 64 {
            return Err(Error::invalid_argument(
                "expected_sandbox must be a sandbox id (e.g. RETAIL), 1..64 characters",
            ));
        }
        if !(1..=1000).contains(&self.max_batches) {
            return Err(Error::invalid_argument("max_batches must be 1..=1000"));
        }
        Ok(())
    }
}

/// How [`Ledger::ingest_clawback_orders`] polls v1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClawbackOrdersIngestOptions {
    pub sbx: Option<String>,
    /// Also read `Purchased` lines, to see chargeback reversals of lines v1 reported clawed
    /// back (default true; costs one database lookup per purchased line).
    pub detect_reversals: bool,
}

impl Default for ClawbackOrdersIngestOptions {
    fn default() -> Self {
        ClawbackOrdersIngestOptions {
            sbx: None,
            detect_reversals: true,
        }
    }
}

/// What one ingestion pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClawbackIngestSummary {
    /// Queue messages received (v1: order lines examined).
    pub received: u32,
    /// Events recorded for the first time.
    pub applied: u32,
    /// Events recorded before (a redelivery): nothing new.
    pub duplicates: u32,
    /// Of `applied`: `Revoked`/`Returned` events no recorded consume drew from yet; kept and
    /// matched when one is recorded.
    pub unmatched: u32,
    /// Events of another sandbox, left in the queue.
    pub ignored: u32,
    /// Unusable messages (v1: lines), recorded as dead letters and deleted.
    pub dead_lettered: u32,
    /// Messages deleted after being recorded.
    pub deleted: u32,
    /// Deletes answered `PopReceiptMismatch` or `MessageNotFound` (expected; not failures).
    pub delete_conflicts: u32,
    /// Other delete failures: the events are recorded; the messages come back as duplicates.
    pub delete_errors: u32,
    pub last_delete_error: Option<String>,
    /// Revocations (and restores) this pass created, claimed for this server and handed to its
    /// game: apply each, then [`Ledger::acknowledge_revocation`]. Not handed out again by
    /// [`Ledger::revocations_to_apply`] in this process.
    pub revocations: Vec<Revocation>,
}

fn sandbox_matches(event: &str, expected: &str) -> bool {
    let e = event.trim();
    e.is_empty() || e.eq_ignore_ascii_case(expected.trim())
}

fn claim_of(inner: &Inner) -> (i64, i64) {
    let now = now_ms();
    (now, now + inner.lease.as_millis() as i64)
}

impl Ledger {
    /// Clawback v2: reads the queue and records every event of `opts.expected_sandbox` (see the
    /// module docs for the order of steps). `Err` when a receive or the database fails: events
    /// recorded before that stay recorded (their revocations come out of
    /// [`Ledger::revocations_to_apply`]) and unrecorded messages come back later.
    pub async fn ingest_clawback_queue(
        &self,
        client: &Client,
        opts: ClawbackIngestOptions,
    ) -> Result<ClawbackIngestSummary> {
        opts.validate()?;
        let me = self.clone();
        client
            .run(move |core| async move { me.ingest_queue_on(core, opts).await })
            .await
    }

    async fn ingest_queue_on(
        &self,
        core: Arc<Core>,
        opts: ClawbackIngestOptions,
    ) -> Result<ClawbackIngestSummary> {
        let mut sum = ClawbackIngestSummary::default();
        for _ in 0..opts.max_batches {
            let msgs = core.clawback_receive(opts.receive).await?;
            let n = msgs.len() as u32;
            for m in msgs {
                self.ingest_message(&core, &m, &opts, &mut sum).await?;
            }
            if n < opts.receive.max_messages {
                break;
            }
        }
        self.hand_out(&sum);
        Ok(sum)
    }

    async fn ingest_message(
        &self,
        core: &Core,
        m: &QueueMessage,
        opts: &ClawbackIngestOptions,
        sum: &mut ClawbackIngestSummary,
    ) -> Result<()> {
        sum.received += 1;
        let matched = m.decode_event().and_then(|ev| {
            if !sandbox_matches(&ev.data.sandbox_id, &opts.expected_sandbox) {
                return Ok(None);
            }
            ClawbackMatch::try_from(&ev).map(Some)
        });
        match matched {
            Ok(None) => {
                // Another sandbox's event: not ours to record or delete.
                sum.ignored += 1;
                return Ok(());
            }
            Ok(Some(mm)) => {
                let inner = self.inner.clone();
                let outcome = self
                    .blocking(move |s| {
                        let (now, until) = claim_of(&inner);
                        let claim = Claim {
                            owner: &inner.instance,
                            now,
                            until,
                        };
                        s.tx(|c| apply_in(c, &mm, now, Some(claim)))
                    })
                    .await?;
                count(sum, outcome);
            }
            Err(e) => {
                log_at!(
                    Level::Warn,
                    "msstore::ledger",
                    "clawback: dead-lettering queue message {}: {}",
                    m.message_id,
                    e.message
                );
                let d = DeadLetter {
                    message_id: m.message_id.clone(),
                    reason: e.message.clone(),
                    text: m.text.chars().take(64 * 1024).collect(),
                    dequeue_count: m.dequeue_count,
                    created_ms: now_ms(),
                };
                self.blocking(move |s| s.dead_letter(&d)).await?;
                sum.dead_lettered += 1;
            }
        }
        // Recorded durably: now, and only now, the message may go.
        let receipt = m.pop_receipt.as_deref().unwrap_or("");
        match core.clawback_delete(&m.message_id, receipt).await {
            Ok(()) => sum.deleted += 1,
            Err(e)
                if matches!(
                    e.kind,
                    ErrorKind::PopReceiptMismatch | ErrorKind::MessageNotFound
                ) =>
            {
                sum.delete_conflicts += 1
            }
            Err(e) => {
                log_at!(
                    Level::Warn,
                    "msstore::ledger",
                    "clawback: message {} recorded but not deleted (it will come back as a duplicate): {e}",
                    m.message_id
                );
                sum.delete_errors += 1;
                sum.last_delete_error = Some(e.to_string());
            }
        }
        Ok(())
    }

    /// Clawback v1: polls one user's orders (the UserPurchaseId) and records what they say.
    pub async fn ingest_clawback_orders(
        &self,
        client: &Client,
        purchase_key: &str,
        opts: ClawbackOrdersIngestOptions,
    ) -> Result<ClawbackIngestSummary> {
        let mut states = vec![LINE_STATE_REVOKED, LINE_STATE_REFUNDED];
        if opts.detect_reversals {
            states.push(LINE_STATE_PURCHASED);
        }
        let mut req = ClawbackOrdersRequest::new(purchase_key).states(&states);
        req.sbx = opts.sbx.clone();
        req.validate()?;
        let me = self.clone();
        client
            .run(move |core| async move { me.ingest_orders_on(core, req).await })
            .await
    }

    async fn ingest_orders_on(
        &self,
        core: Arc<Core>,
        req: ClawbackOrdersRequest,
    ) -> Result<ClawbackIngestSummary> {
        let orders = core.clawback_orders_all(req).await?;
        let inner = self.inner.clone();
        let mut sum = self
            .blocking(move |_| {
                let mut sum = ClawbackIngestSummary::default();
                for o in &orders {
                    for line in &o.order_line_items {
                        sum.received += 1;
                        match ClawbackMatch::from_v1_line(o, line) {
                            Ok(m) => ingest_v1_line(&inner, o, line, m, &mut sum)?,
                            Err(e) => {
                                inner.store.dead_letter(&DeadLetter {
                                    message_id: v1_event_id(
                                        &o.order_id,
                                        &line.line_item_id,
                                        &line.line_item_state,
                                    ),
                                    reason: e.message.clone(),
                                    text: serde_json::to_string(line).unwrap_or_default(),
                                    dequeue_count: 0,
                                    created_ms: now_ms(),
                                })?;
                                sum.dead_lettered += 1;
                            }
                        }
                    }
                }
                Ok(sum)
            })
            .await?;
        sum.revocations.sort_by_key(|r| r.created_ms);
        self.hand_out(&sum);
        Ok(sum)
    }

    /// Marks what a pass created as handed to this process's game.
    fn hand_out(&self, sum: &ClawbackIngestSummary) {
        let mut h = set(&self.inner.handed_out);
        h.extend(sum.revocations.iter().map(|r| r.id.clone()));
    }

    /// Queue messages ingestion could not use (a read-only view), oldest first.
    pub fn clawback_dead_letters(&self) -> Result<Vec<DeadLetter>> {
        self.inner.store.dead_letters()
    }

    /// Clawback events (`Revoked`/`Returned`, not reversed) whose order line no recorded consume
    /// drew from yet: they are matched when one is recorded. A read-only view.
    pub fn unmatched_clawbacks(&self) -> Result<Vec<ClawbackMatch>> {
        self.inner.store.unmatched_clawbacks()
    }
}

fn count(sum: &mut ClawbackIngestSummary, o: super::model::ClawbackOutcome) {
    if o.duplicate {
        sum.duplicates += 1;
    } else {
        sum.applied += 1;
        sum.unmatched += u32::from(o.unmatched);
        sum.revocations.extend(o.revocations);
    }
}

/// One v1 line in one transaction: generation-aware ids, reversal detection.
fn ingest_v1_line(
    inner: &Inner,
    o: &crate::clawback::ClawbackOrder,
    line: &crate::clawback::ClawbackOrderLine,
    m: Option<ClawbackMatch>,
    sum: &mut ClawbackIngestSummary,
) -> Result<()> {
    let store: &Store = &inner.store;
    let (now, until) = claim_of(inner);
    let claim = Claim {
        owner: &inner.instance,
        now,
        until,
    };
    let outcome = store.tx(|c| {
        let (order, line_id, product) = (
            o.order_id.trim(),
            line.line_item_id.trim(),
            line.product_id.trim(),
        );
        let (live_v1, generation) = v1_line_status(c, order, line_id, product)?;
        let m = match m {
            Some(mut m) => {
                if generation > 0 {
                    m.event_id = format!("{}:{generation}", m.event_id);
                }
                m
            }
            // Purchased again after v1 reported it clawed back: the chargeback was reversed.
            None if live_v1.is_some() && !order.is_empty() && !line_id.is_empty() => {
                ClawbackMatch {
                    event_id: format!(
                        "{}:{}",
                        v1_event_id(order, line_id, "ChargebackReversal"),
                        generation + 1
                    ),
                    order_id: order.to_string(),
                    line_item_id: line_id.to_string(),
                    product_id: product.to_string(),
                    state: ClawbackState::ChargebackReversal,
                }
            }
            None => return Ok(None),
        };
        m.validate()?;
        apply_in(c, &m, now, Some(claim)).map(Some)
    })?;
    if let Some(o) = outcome {
        count(sum, o);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sandbox_filter_and_option_limits() {
        assert!(sandbox_matches("RETAIL", "RETAIL"));
        assert!(sandbox_matches("retail", "RETAIL"));
        assert!(sandbox_matches("", "RETAIL"), "no sandboxId: ours");
        assert!(!sandbox_matches("XDKS.1", "RETAIL"));
        ClawbackIngestOptions::default().validate().unwrap();
        for bad in [
            ClawbackIngestOptions {
                expected_sandbox: " ".into(),
                ..Default::default()
            },
            ClawbackIngestOptions {
                max_batches: 0,
                ..Default::default()
            },
        ] {
            assert_eq!(bad.validate().unwrap_err().kind, ErrorKind::InvalidArgument);
        }
    }
}

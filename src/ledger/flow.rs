//! Sending consumes through the ledger: record, send, resend with the same trackingId, record
//! the outcome; and the start-up replay of whatever a crash left open.

use super::model::{EntryState, LedgerConsume, LedgerEntry, Reconciled};
use super::store::{Claim, NewEntry, Store};
use super::{now_ms, set, Inner, Ledger};
use crate::client::Core;
use crate::consume::{ConsumeOutcome, ConsumeRequest};
use crate::error::{Error, ErrorKind, Result};
use crate::Client;
use std::sync::Arc;

/// Marks an entry as being sent by this process for as long as it lives. Dropping it, also when
/// the caller cancels the operation mid-send, frees the entry for a resend or a reconcile.
struct InFlight {
    inner: Arc<Inner>,
    id: String,
}

impl InFlight {
    fn take(inner: &Arc<Inner>, id: &str) -> Option<InFlight> {
        set(&inner.in_flight)
            .insert(id.to_string())
            .then(|| InFlight {
                inner: inner.clone(),
                id: id.to_string(),
            })
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        set(&self.inner.in_flight).remove(&self.id);
    }
}

impl Ledger {
    /// Runs a store call on a blocking thread of the client's runtime.
    pub(super) async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || f(&inner.store))
            .await
            .map_err(|e| {
                if e.is_cancelled() {
                    Error::new(ErrorKind::ShuttingDown, "the client shut down")
                } else {
                    Error::new(ErrorKind::Internal, "a ledger operation panicked")
                }
            })?
    }

    fn claim_now(inner: &Inner) -> (i64, i64) {
        let now = now_ms();
        (now, now + inner.lease.as_millis() as i64)
    }

    /// Consumes through the ledger. Returns the entry:
    /// - `Applied`: the Store applied it: grant the value, then [`Ledger::acknowledge`]; but if
    ///   `already_handed_out` is set, this process was handed it before (an earlier call with
    ///   the same trackingId, or a reconcile) and has not acknowledged it: do not grant again;
    /// - `Failed`: the Store's verdict refused it (see `last_error`), or no send could have
    ///   reached the Store; nothing was applied;
    /// - `Pending`: the outcome is still unknown after `send_rounds` sends (see
    ///   `crate::outcome`); it is recorded and [`Ledger::reconcile`] resends it (safe: same
    ///   trackingId) — do not grant yet;
    /// - `Completed`: granted and acknowledged before (a repeated call).
    ///
    /// `Err` only when nothing could be recorded (bad input, database failure) or the same
    /// trackingId is being handled by another server.
    pub async fn consume(&self, client: &Client, req: LedgerConsume) -> Result<LedgerEntry> {
        let id = req.validate()?;
        let me = self.clone();
        client
            .run(move |core| async move { me.consume_on(core, req, id).await })
            .await
    }

    async fn consume_on(
        &self,
        core: Arc<Core>,
        req: LedgerConsume,
        id: String,
    ) -> Result<LedgerEntry> {
        let inner = self.inner.clone();
        let (now, until) = Self::claim_now(&inner);
        let (entry, created) = {
            let id = id.clone();
            self.blocking(move |s| {
                s.insert_entry(
                    &NewEntry {
                        id: &id,
                        player_ref: &req.player_ref,
                        collections_key: req.collections_key.expose(),
                        product_id: &req.product_id,
                        quantity: req.quantity,
                        sbx: req.sbx.as_deref().unwrap_or(""),
                    },
                    Claim {
                        owner: &inner.instance,
                        now,
                        until,
                    },
                )
            })
            .await?
        };
        if !created {
            // The game sent this trackingId before (it lost the answer): same entry, no resend
            // unless it is still pending and nobody else is on it.
            if matches!(entry.state, EntryState::Failed | EntryState::Completed) {
                return Ok(entry);
            }
            let inner = self.inner.clone();
            let eid = id.clone();
            let mine = self
                .blocking(move |s| {
                    let (now, until) = Self::claim_now(&inner);
                    s.claim_entry(
                        &eid,
                        Claim {
                            owner: &inner.instance,
                            now,
                            until,
                        },
                    )
                })
                .await?;
            if !mine || set(&self.inner.in_flight).contains(&id) {
                return Err(Error::invalid_argument(format!(
                    "trackingId {id} is being handled by another call or game server; wait for its outcome"
                )));
            }
            if entry.state == EntryState::Applied {
                return Ok(self.hand_out_entry(entry));
            }
        }
        let Some(_sending) = InFlight::take(&self.inner, &id) else {
            return Err(Error::invalid_argument(format!(
                "trackingId {id} is being sent by another call"
            )));
        };
        let e = self.drive(&core, &id).await?;
        Ok(if e.state == EntryState::Applied {
            self.hand_out_entry(e)
        } else {
            e
        })
    }

    /// Hands an applied entry to this process's game once: a second hand-out (before the
    /// acknowledgement) carries `already_handed_out`, so a game that repeats its own call
    /// does not grant twice.
    fn hand_out_entry(&self, mut e: LedgerEntry) -> LedgerEntry {
        e.already_handed_out = !set(&self.inner.handed_out).insert(e.id.clone());
        e
    }

    /// Sends a pending entry up to `send_rounds` times and records what happened.
    async fn drive(&self, core: &Core, id: &str) -> Result<LedgerEntry> {
        let rounds = self.inner.send_rounds;
        for round in 0..rounds {
            if round > 0 {
                let d = self.inner.resend_delay * 2u32.saturating_pow(round - 1).min(64);
                tokio::time::sleep(d).await;
            }
            let inner = self.inner.clone();
            let eid = id.to_string();
            let started = self
                .blocking(move |s| {
                    let (now, until) = Self::claim_now(&inner);
                    s.begin_send(
                        &eid,
                        Claim {
                            owner: &inner.instance,
                            now,
                            until,
                        },
                    )
                })
                .await?;
            let Some((prior, info)) = started else {
                // No longer pending, or another server took it over: report what is recorded.
                break;
            };
            let mut req = if info.quantity == 0 {
                ConsumeRequest::developer_managed(info.collections_key.expose(), &info.product_id)
            } else {
                ConsumeRequest::store_managed(
                    info.collections_key.expose(),
                    &info.product_id,
                    info.quantity,
                )
            };
            req.tracking_id = Some(id.to_string());
            req.sbx = info.sbx;
            let eid = id.to_string();
            let inner = self.inner.clone();
            // Any earlier send may have reached the Store: then only a verdict fails it.
            match core.consume_after(req, prior > 0).await {
                ConsumeOutcome::Consumed(r) => {
                    return self
                        .blocking(move |s| {
                            let (now, until) = Self::claim_now(&inner);
                            s.mark_applied(
                                &eid,
                                &r,
                                Claim {
                                    owner: &inner.instance,
                                    now,
                                    until,
                                },
                            )
                        })
                        .await;
                }
                ConsumeOutcome::Failed(e) => {
                    let msg = e.to_string();
                    return self
                        .blocking(move |s| s.mark_failed(&eid, &msg, now_ms()))
                        .await;
                }
                ConsumeOutcome::Unknown { error: e, .. } => {
                    let msg = e.to_string();
                    self.blocking(move |s| s.note_error(&eid, &msg, now_ms()))
                        .await?;
                }
            }
        }
        let eid = id.to_string();
        self.blocking(move |s| s.entry(&eid))
            .await?
            .ok_or_else(|| Error::new(ErrorKind::NotFound, format!("no ledger entry '{id}'")))
    }

    /// The start-up (and periodic) pass: claims every open entry this server may take (its own,
    /// or any whose claim expired), resends the pending ones, and hands back what the game must
    /// act on: applied entries to grant and revocations to apply (acknowledge each after).
    /// Each item is handed out once per process; a restart hands out again whatever was not
    /// acknowledged.
    pub async fn reconcile(&self, client: &Client) -> Result<Reconciled> {
        let me = self.clone();
        client
            .run(move |core| async move { me.reconcile_on(core).await })
            .await
    }

    async fn reconcile_one(&self, core: &Core, e: LedgerEntry, out: &mut Reconciled) -> Result<()> {
        match e.state {
            EntryState::Applied => {
                if set(&self.inner.handed_out).insert(e.id.clone()) {
                    out.to_grant.push(e);
                }
            }
            EntryState::Pending => {
                let Some(_sending) = InFlight::take(&self.inner, &e.id) else {
                    return Ok(());
                };
                let r = self.drive(core, &e.id).await?;
                match r.state {
                    EntryState::Applied => {
                        if set(&self.inner.handed_out).insert(r.id.clone()) {
                            out.to_grant.push(r);
                        }
                    }
                    EntryState::Failed => out.failed.push(r),
                    EntryState::Pending => out.still_pending.push(r),
                    EntryState::Completed => {}
                }
            }
            EntryState::Completed | EntryState::Failed => {}
        }
        Ok(())
    }

    async fn reconcile_on(&self, core: Arc<Core>) -> Result<Reconciled> {
        let _one_at_a_time = self.inner.reconciling.lock().await;
        let mut out = Reconciled::default();
        // Entries this pass already dealt with (those still pending stay claimed by us).
        let mut seen = std::collections::HashSet::new();
        loop {
            let inner = self.inner.clone();
            let mut busy: std::collections::HashSet<String> = set(&inner.in_flight)
                .union(&set(&inner.handed_out))
                .cloned()
                .collect();
            busy.extend(seen.iter().cloned());
            let claimed = self
                .blocking(move |s| {
                    let (now, until) = Self::claim_now(&inner);
                    s.claim_open(
                        Claim {
                            owner: &inner.instance,
                            now,
                            until,
                        },
                        inner.batch.into(),
                        &busy,
                    )
                })
                .await?;
            if claimed.is_empty() {
                break;
            }
            for e in claimed {
                seen.insert(e.id.clone());
                self.reconcile_one(&core, e, &mut out).await?;
            }
        }
        // Clawback events that arrived before their consume was recorded (or raced with it on
        // another server) are matched now.
        self.blocking(|s| s.rematch_all(now_ms())).await?;
        let retention = self.inner.retention_days;
        self.blocking(move |s| s.prune(now_ms(), retention)).await?;
        let me = self.clone();
        out.revocations = tokio::task::spawn_blocking(move || me.revocations_to_apply())
            .await
            .map_err(|_| Error::new(ErrorKind::Internal, "a ledger operation panicked"))??;
        Ok(out)
    }
}

//! Clawback matching: a refund/return/chargeback event for an order line, matched against the
//! order transactions recorded by consumes, becomes durable "revoke N of P from player X"
//! entries (or "restore" entries for a chargeback reversal). One transaction per event;
//! idempotent by event id.
//!
//! Events can arrive before the consume they concern is recorded (its answer was lost; the
//! entry is still pending, so its order lines are unknown). So every line a `Revoked`/`Returned`
//! event claws back is kept in `msstore_ledger_clawed_lines` until a `ChargebackReversal`
//! undoes it, and [`rematch`] matches those lines against order lines recorded later: when a
//! consume is marked applied, and on every reconcile (which also catches two servers racing,
//! one recording the event while the other records the consume).

use super::model::{
    ClawbackMatch, ClawbackOutcome, ClawbackState, DeadLetter, Revocation, RevocationKind,
};
use super::store::{int, revocation_from_row, text, Claim, SqlConn, Store, Val, REVOCATION_COLS};
use crate::error::Result;

/// Records `m` and the revocations it causes. With `claim`, new revocations are claimed for
/// that instance at once (ingestion hands them straight to its game).
pub(crate) fn apply(
    store: &Store,
    m: &ClawbackMatch,
    now: i64,
    claim: Option<Claim>,
) -> Result<ClawbackOutcome> {
    m.validate()?;
    store.tx(|c| apply_in(c, m, now, claim))
}

pub(crate) fn apply_in(
    c: &mut dyn SqlConn,
    m: &ClawbackMatch,
    now: i64,
    claim: Option<Claim>,
) -> Result<ClawbackOutcome> {
    let inserted = c.exec(
        "INSERT INTO msstore_ledger_clawbacks (event_id, state, order_id, line_item_id, \
         product_id, created_ms) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (event_id) DO NOTHING",
        &[
            (&m.event_id).into(),
            m.state.as_str().into(),
            (&m.order_id).into(),
            (&m.line_item_id).into(),
            (&m.product_id).into(),
            now.into(),
        ],
    )?;
    if inserted == 0 {
        return Ok(ClawbackOutcome {
            event_id: m.event_id.clone(),
            duplicate: true,
            revocations: by_event(c, &m.event_id)?,
            unmatched: false,
        });
    }
    let (revocations, unmatched) = match m.state {
        // The customer keeps the item: recorded above, nothing for the game to do.
        ClawbackState::Refunded => (Vec::new(), false),
        // Returned only matters when our ledger shows the units consumed; then, like
        // Revoked, the game must take the value back.
        ClawbackState::Revoked | ClawbackState::Returned => {
            c.exec(
                "INSERT INTO msstore_ledger_clawed_lines (order_id, line_item_id, product_id, \
                 event_id, state, created_ms) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (order_id, line_item_id, product_id) DO UPDATE \
                 SET event_id = excluded.event_id, state = excluded.state",
                &[
                    (&m.order_id).into(),
                    (&m.line_item_id).into(),
                    (&m.product_id).into(),
                    (&m.event_id).into(),
                    m.state.as_str().into(),
                    now.into(),
                ],
            )?;
            let line = Scope::Line {
                order_id: &m.order_id,
                line_item_id: &m.line_item_id,
                product_id: &m.product_id,
            };
            let revs = rematch_in(c, line, now, claim)?;
            let unmatched = revs.is_empty() && consumed_count(c, m)? == 0;
            (revs, unmatched)
        }
        ClawbackState::ChargebackReversal => (restore(c, m, now, claim)?, false),
    };
    Ok(ClawbackOutcome {
        event_id: m.event_id.clone(),
        duplicate: false,
        revocations,
        unmatched,
    })
}

fn by_event(c: &mut dyn SqlConn, event_id: &str) -> Result<Vec<Revocation>> {
    c.query(
        &format!(
            "SELECT {REVOCATION_COLS} FROM msstore_ledger_revocations WHERE event_id = $1 ORDER BY created_ms, id"
        ),
        &[event_id.into()],
    )?
    .iter()
    .map(|r| revocation_from_row(r))
    .collect()
}

/// Recorded consumes (applied or completed) that drew from the event's line.
fn consumed_count(c: &mut dyn SqlConn, m: &ClawbackMatch) -> Result<i64> {
    let rows = c.query(
        "SELECT COUNT(*) FROM msstore_ledger_transactions t \
         JOIN msstore_ledger_entries e ON e.id = t.entry_id \
         WHERE t.order_id = $1 AND t.line_item_id = $2 AND t.product_id = $3 \
         AND e.state IN ('applied', 'completed')",
        &[
            (&m.order_id).into(),
            (&m.line_item_id).into(),
            (&m.product_id).into(),
        ],
    )?;
    rows.first()
        .and_then(|r| r.first())
        .map(int)
        .unwrap_or(Ok(0))
}

/// Which recorded order lines [`rematch_in`] looks at.
#[derive(Clone, Copy)]
pub(crate) enum Scope<'a> {
    /// One clawed-back line (an event just arrived).
    Line {
        order_id: &'a str,
        line_item_id: &'a str,
        product_id: &'a str,
    },
    /// One consume whose order lines were just recorded.
    Entry(&'a str),
    /// Everything (reconcile).
    All,
}

/// Creates a revocation for every consume (applied or completed) that drew from a clawed-back
/// line and has no live (not reversed) revocation for it yet. Idempotent.
pub(crate) fn rematch_in(
    c: &mut dyn SqlConn,
    scope: Scope,
    now: i64,
    claim: Option<Claim>,
) -> Result<Vec<Revocation>> {
    let (filter, params): (&str, Vec<Val>) = match scope {
        Scope::Line {
            order_id,
            line_item_id,
            product_id,
        } => (
            " AND t.order_id = $1 AND t.line_item_id = $2 AND t.product_id = $3",
            vec![order_id.into(), line_item_id.into(), product_id.into()],
        ),
        Scope::Entry(id) => (" AND t.entry_id = $1", vec![id.into()]),
        Scope::All => ("", Vec::new()),
    };
    let rows = c.query(
        &format!(
            "SELECT t.entry_id, t.quantity, e.player_ref, t.order_id, t.line_item_id, \
             t.product_id, l.event_id FROM msstore_ledger_transactions t \
             JOIN msstore_ledger_entries e ON e.id = t.entry_id \
             JOIN msstore_ledger_clawed_lines l ON l.order_id = t.order_id \
             AND l.line_item_id = t.line_item_id AND l.product_id = t.product_id \
             WHERE e.state IN ('applied', 'completed') AND t.quantity > 0{filter} \
             AND NOT EXISTS (SELECT 1 FROM msstore_ledger_revocations r \
             WHERE r.entry_id = t.entry_id AND r.order_id = t.order_id \
             AND r.line_item_id = t.line_item_id AND r.product_id = t.product_id \
             AND r.kind = 'revoke' AND r.reversed_by = '') \
             ORDER BY e.created_ms, t.entry_id, t.order_id, t.line_item_id"
        ),
        &params,
    )?;
    let mut out = Vec::new();
    for row in &rows {
        let [entry_id, quantity, player_ref, order_id, line_item_id, product_id, event_id] =
            row.as_slice()
        else {
            continue;
        };
        let line = ClawbackMatch {
            event_id: text(event_id)?,
            order_id: text(order_id)?,
            line_item_id: text(line_item_id)?,
            product_id: text(product_id)?,
            state: ClawbackState::Revoked,
        };
        out.push(insert(
            c,
            NewRevocation {
                kind: RevocationKind::Revoke,
                player_ref: &text(player_ref)?,
                quantity: int(quantity)?,
                entry_id: &text(entry_id)?,
                line: &line,
                reverses: "",
            },
            now,
            claim,
        )?);
    }
    Ok(out)
}

/// Undoes every live revocation of the line: a "restore" entry for the game, and the original
/// marked as reversed. The line is no longer clawed back, so later consumes are not revoked.
fn restore(
    c: &mut dyn SqlConn,
    m: &ClawbackMatch,
    now: i64,
    claim: Option<Claim>,
) -> Result<Vec<Revocation>> {
    let line: [Val; 3] = [
        (&m.order_id).into(),
        (&m.line_item_id).into(),
        (&m.product_id).into(),
    ];
    c.exec(
        "DELETE FROM msstore_ledger_clawed_lines WHERE order_id = $1 AND line_item_id = $2 \
         AND product_id = $3",
        &line,
    )?;
    let live = c.query(
        &format!(
            "SELECT {REVOCATION_COLS} FROM msstore_ledger_revocations WHERE order_id = $1 \
             AND line_item_id = $2 AND product_id = $3 AND kind = 'revoke' AND reversed_by = '' \
             ORDER BY created_ms, id"
        ),
        &line,
    )?;
    let mut out = Vec::new();
    for row in &live {
        let original = revocation_from_row(row)?;
        let r = insert(
            c,
            NewRevocation {
                kind: RevocationKind::Restore,
                player_ref: &original.player_ref,
                quantity: original.quantity,
                entry_id: &original.entry_id,
                line: m,
                reverses: &original.id,
            },
            now,
            claim,
        )?;
        c.exec(
            "UPDATE msstore_ledger_revocations SET reversed_by = $2 WHERE id = $1",
            &[(&original.id).into(), (&r.id).into()],
        )?;
        out.push(r);
    }
    Ok(out)
}

struct NewRevocation<'a> {
    kind: RevocationKind,
    player_ref: &'a str,
    quantity: i64,
    entry_id: &'a str,
    /// Order line, product and causing event.
    line: &'a ClawbackMatch,
    reverses: &'a str,
}

fn insert(
    c: &mut dyn SqlConn,
    n: NewRevocation,
    now: i64,
    claim: Option<Claim>,
) -> Result<Revocation> {
    let id = uuid::Uuid::new_v4().to_string();
    let (owner, until) = claim.map_or(("", 0), |c| (c.owner, c.until));
    let m = n.line;
    c.exec(
        "INSERT INTO msstore_ledger_revocations (id, kind, player_ref, product_id, quantity, \
         entry_id, order_id, line_item_id, event_id, reverses, reversed_by, acknowledged, \
         claim_owner, claim_until, created_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, '', 0, $11, $12, $13)",
        &[
            (&id).into(),
            n.kind.as_str().into(),
            n.player_ref.into(),
            (&m.product_id).into(),
            n.quantity.into(),
            n.entry_id.into(),
            (&m.order_id).into(),
            (&m.line_item_id).into(),
            (&m.event_id).into(),
            n.reverses.into(),
            owner.into(),
            until.into(),
            now.into(),
        ],
    )?;
    Ok(Revocation {
        id,
        kind: n.kind,
        player_ref: n.player_ref.to_string(),
        product_id: m.product_id.clone(),
        quantity: n.quantity,
        entry_id: n.entry_id.to_string(),
        order_id: m.order_id.clone(),
        line_item_id: m.line_item_id.clone(),
        event_id: m.event_id.clone(),
        reverses: (!n.reverses.is_empty()).then(|| n.reverses.to_string()),
        acknowledged: false,
        created_ms: now,
    })
}

/// The event id of the live clawback of a line, if one came from clawback v1 (its id starts
/// with `v1:`), and how many v1 reversals the line had so far (a generation for v1 ids).
pub(crate) fn v1_line_status(
    c: &mut dyn SqlConn,
    order_id: &str,
    line_item_id: &str,
    product_id: &str,
) -> Result<(Option<String>, i64)> {
    let live = c.query(
        "SELECT event_id FROM msstore_ledger_clawed_lines WHERE order_id = $1 \
         AND line_item_id = $2 AND product_id = $3",
        &[order_id.into(), line_item_id.into(), product_id.into()],
    )?;
    let live = match live.first().and_then(|r| r.first()) {
        Some(v) => Some(text(v)?).filter(|e| e.starts_with("v1:")),
        None => None,
    };
    let n = c.query(
        "SELECT COUNT(*) FROM msstore_ledger_clawbacks WHERE order_id = $1 \
         AND line_item_id = $2 AND product_id = $3 AND state = 'ChargebackReversal' \
         AND event_id LIKE 'v1:%'",
        &[order_id.into(), line_item_id.into(), product_id.into()],
    )?;
    let n = n
        .first()
        .and_then(|r| r.first())
        .map(int)
        .unwrap_or(Ok(0))?;
    Ok((live, n))
}

impl Store {
    /// Matches every clawed-back line against recorded consumes (reconcile).
    pub(crate) fn rematch_all(&self, now: i64) -> Result<Vec<Revocation>> {
        self.tx(|c| rematch_in(c, Scope::All, now, None))
    }

    /// Records an unusable queue message. Idempotent by message id.
    pub(crate) fn dead_letter(&self, d: &DeadLetter) -> Result<()> {
        self.tx(|c| {
            c.exec(
                "INSERT INTO msstore_ledger_dead_letters (message_id, reason, text, \
                 dequeue_count, created_ms) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (message_id) DO NOTHING",
                &[
                    (&d.message_id).into(),
                    (&d.reason).into(),
                    (&d.text).into(),
                    i64::from(d.dequeue_count).into(),
                    d.created_ms.into(),
                ],
            )?;
            Ok(())
        })
    }

    pub(crate) fn dead_letters(&self) -> Result<Vec<DeadLetter>> {
        self.tx(|c| {
            c.query(
                "SELECT message_id, reason, text, dequeue_count, created_ms \
                 FROM msstore_ledger_dead_letters ORDER BY created_ms, message_id",
                &[],
            )?
            .iter()
            .map(|r| match r.as_slice() {
                [id, reason, t, n, at] => Ok(DeadLetter {
                    message_id: text(id)?,
                    reason: text(reason)?,
                    text: text(t)?,
                    dequeue_count: int(n)?.clamp(0, u32::MAX as i64) as u32,
                    created_ms: int(at)?,
                }),
                _ => Err(super::model::corrupt("dead letter row".into())),
            })
            .collect()
        })
    }

    /// Clawed-back lines no recorded consume drew from (yet), oldest first.
    pub(crate) fn unmatched_clawbacks(&self) -> Result<Vec<ClawbackMatch>> {
        self.tx(|c| {
            c.query(
                "SELECT l.event_id, l.order_id, l.line_item_id, l.product_id, l.state \
                 FROM msstore_ledger_clawed_lines l WHERE NOT EXISTS (SELECT 1 \
                 FROM msstore_ledger_transactions t JOIN msstore_ledger_entries e \
                 ON e.id = t.entry_id WHERE t.order_id = l.order_id \
                 AND t.line_item_id = l.line_item_id AND t.product_id = l.product_id \
                 AND e.state IN ('applied', 'completed')) ORDER BY l.created_ms, l.event_id",
                &[],
            )?
            .iter()
            .map(|r| match r.as_slice() {
                [e, o, l, p, s] => Ok(ClawbackMatch {
                    event_id: text(e)?,
                    order_id: text(o)?,
                    line_item_id: text(l)?,
                    product_id: text(p)?,
                    state: ClawbackState::parse(&text(s)?)
                        .ok_or_else(|| super::model::corrupt("clawed line state".into()))?,
                }),
                _ => Err(super::model::corrupt("clawed line row".into())),
            })
            .collect()
        })
    }
}

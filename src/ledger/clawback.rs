//! Clawback matching: a refund/return/chargeback event for an order line, matched against the
//! order transactions recorded by consumes, becomes durable "revoke N of P from player X"
//! entries (or "restore" entries for a chargeback reversal). One transaction per event;
//! idempotent by event id.

use super::model::{ClawbackMatch, ClawbackOutcome, ClawbackState, Revocation, RevocationKind};
use super::store::{int, revocation_from_row, text, SqlConn, Store, REVOCATION_COLS};
use crate::error::Result;

pub(crate) fn apply(store: &Store, m: &ClawbackMatch, now: i64) -> Result<ClawbackOutcome> {
    m.validate()?;
    store.tx(|c| {
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
            });
        }
        let revocations = match m.state {
            // The customer keeps the item: recorded above, nothing for the game to do.
            ClawbackState::Refunded => Vec::new(),
            // Returned only matters when our ledger shows the units consumed; then, like
            // Revoked, the game must take the value back.
            ClawbackState::Revoked | ClawbackState::Returned => revoke(c, m, now)?,
            ClawbackState::ChargebackReversal => restore(c, m, now)?,
        };
        Ok(ClawbackOutcome {
            event_id: m.event_id.clone(),
            duplicate: false,
            revocations,
        })
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

/// One revocation per consume that drew from the line, unless a live (not reversed) one exists
/// already (e.g. Returned and then Revoked for the same line).
fn revoke(c: &mut dyn SqlConn, m: &ClawbackMatch, now: i64) -> Result<Vec<Revocation>> {
    let consumed = c.query(
        "SELECT t.entry_id, t.quantity, e.player_ref FROM msstore_ledger_transactions t \
         JOIN msstore_ledger_entries e ON e.id = t.entry_id \
         WHERE t.order_id = $1 AND t.line_item_id = $2 AND t.product_id = $3 \
         AND e.state IN ('applied', 'completed') ORDER BY e.created_ms, t.entry_id",
        &[
            (&m.order_id).into(),
            (&m.line_item_id).into(),
            (&m.product_id).into(),
        ],
    )?;
    let mut out = Vec::new();
    for row in &consumed {
        let (entry_id, quantity, player_ref) = match row.as_slice() {
            [e, q, p] => (text(e)?, int(q)?, text(p)?),
            _ => continue,
        };
        let live = c.query(
            "SELECT id FROM msstore_ledger_revocations WHERE entry_id = $1 AND order_id = $2 \
             AND line_item_id = $3 AND kind = 'revoke' AND reversed_by = ''",
            &[
                (&entry_id).into(),
                (&m.order_id).into(),
                (&m.line_item_id).into(),
            ],
        )?;
        if !live.is_empty() || quantity <= 0 {
            continue;
        }
        out.push(insert(
            c,
            RevocationKind::Revoke,
            &player_ref,
            quantity,
            &entry_id,
            m,
            "",
            now,
        )?);
    }
    Ok(out)
}

/// Undoes every live revocation of the line: a "restore" entry for the game, and the original
/// marked as reversed.
fn restore(c: &mut dyn SqlConn, m: &ClawbackMatch, now: i64) -> Result<Vec<Revocation>> {
    let live = c.query(
        &format!(
            "SELECT {REVOCATION_COLS} FROM msstore_ledger_revocations WHERE order_id = $1 \
             AND line_item_id = $2 AND product_id = $3 AND kind = 'revoke' AND reversed_by = '' \
             ORDER BY created_ms, id"
        ),
        &[
            (&m.order_id).into(),
            (&m.line_item_id).into(),
            (&m.product_id).into(),
        ],
    )?;
    let mut out = Vec::new();
    for row in &live {
        let original = revocation_from_row(row)?;
        let r = insert(
            c,
            RevocationKind::Restore,
            &original.player_ref,
            original.quantity,
            &original.entry_id,
            m,
            &original.id,
            now,
        )?;
        c.exec(
            "UPDATE msstore_ledger_revocations SET reversed_by = $2 WHERE id = $1",
            &[(&original.id).into(), (&r.id).into()],
        )?;
        out.push(r);
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn insert(
    c: &mut dyn SqlConn,
    kind: RevocationKind,
    player_ref: &str,
    quantity: i64,
    entry_id: &str,
    m: &ClawbackMatch,
    reverses: &str,
    now: i64,
) -> Result<Revocation> {
    let id = uuid::Uuid::new_v4().to_string();
    c.exec(
        "INSERT INTO msstore_ledger_revocations (id, kind, player_ref, product_id, quantity, \
         entry_id, order_id, line_item_id, event_id, reverses, reversed_by, acknowledged, \
         claim_owner, claim_until, created_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, '', 0, '', 0, $11)",
        &[
            (&id).into(),
            kind.as_str().into(),
            player_ref.into(),
            (&m.product_id).into(),
            quantity.into(),
            entry_id.into(),
            (&m.order_id).into(),
            (&m.line_item_id).into(),
            (&m.event_id).into(),
            reverses.into(),
            now.into(),
        ],
    )?;
    Ok(Revocation {
        id,
        kind,
        player_ref: player_ref.to_string(),
        product_id: m.product_id.clone(),
        quantity,
        entry_id: entry_id.to_string(),
        order_id: m.order_id.clone(),
        line_item_id: m.line_item_id.clone(),
        event_id: m.event_id.clone(),
        reverses: (!reverses.is_empty()).then(|| reverses.to_string()),
        acknowledged: false,
        created_ms: now,
    })
}

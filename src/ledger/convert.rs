//! From what the Store reports (a v2 queue event, a v1 order line) to the ledger's
//! [`ClawbackMatch`].
//!
//! | source | Store state | ledger state | in game |
//! |---|---|---|---|
//! | v2 event | `Revoked` | `Revoked` | take back what each consume drew from the line |
//! | v2 event | `Returned` | `Returned` | the Store removed it; take back only what the ledger shows consumed |
//! | v2 event | `Refunded` | `Refunded` | the customer keeps it: recorded, nothing to do |
//! | v2 event | `ChargebackReversal` | `ChargebackReversal` | undo the line's live revocations |
//! | v2 event | anything else | error (`InvalidClawbackEvent`) | dead-lettered by ingestion |
//! | v1 line | `Revoked` (refunded after consume) | `Revoked` | as above |
//! | v1 line | `Refunded` (refunded before fulfilment) | `Returned` | as above |
//! | v1 line | `Purchased` | none (or `ChargebackReversal`, see `ingest`) | |
//!
//! v1 has no event ids: the synthetic id `v1:{orderId}:{lineItemId}:{state}` is stable, so
//! polling the same orders again records nothing new. v1 also cannot tell "refunded, customer
//! keeps it" from "refunded before fulfilment" (both are `Refunded`); mapping it to `Returned`
//! revokes only what the ledger shows consumed from that line.

use super::model::{ClawbackMatch, ClawbackState};
use crate::clawback::{ClawbackEvent, ClawbackEventState, ClawbackOrder, ClawbackOrderLine};
use crate::error::{Error, ErrorKind, Result};

fn unusable(message: String) -> Error {
    Error::new(ErrorKind::InvalidClawbackEvent, message)
}

impl TryFrom<&ClawbackEvent> for ClawbackMatch {
    type Error = Error;

    /// The event's order line and state. Unknown states and events without a line item id
    /// (which cannot be matched to a consume) are `InvalidClawbackEvent`.
    fn try_from(ev: &ClawbackEvent) -> Result<ClawbackMatch> {
        let state = match ev.state() {
            ClawbackEventState::Returned => ClawbackState::Returned,
            ClawbackEventState::Revoked => ClawbackState::Revoked,
            ClawbackEventState::Refunded => ClawbackState::Refunded,
            ClawbackEventState::ChargebackReversal => ClawbackState::ChargebackReversal,
            ClawbackEventState::Other(s) => {
                return Err(unusable(format!(
                    "clawback event {}: unknown eventState '{s}' (expected Returned, Revoked, \
                     Refunded or ChargebackReversal)",
                    ev.id
                )))
            }
        };
        let d = &ev.data;
        if d.line_item_id.trim().is_empty() {
            return Err(unusable(format!(
                "clawback event {}: no lineItemId, so it cannot be matched to a consume",
                ev.id
            )));
        }
        let m = ClawbackMatch {
            event_id: ev.id.trim().to_string(),
            order_id: d.order_id.trim().to_string(),
            line_item_id: d.line_item_id.trim().to_string(),
            product_id: d.product_id.trim().to_string(),
            state,
        };
        m.validate()
            .map_err(|e| unusable(format!("clawback event {}: {}", ev.id, e.message)))?;
        Ok(m)
    }
}

impl ClawbackMatch {
    /// The match for one line of a v1 order: `Ok(None)` for a `Purchased` line (nothing
    /// happened to it), an `InvalidClawbackEvent` error for an unknown line state or missing ids.
    pub fn from_v1_line(
        order: &ClawbackOrder,
        line: &ClawbackOrderLine,
    ) -> Result<Option<ClawbackMatch>> {
        let state = match line.line_item_state.trim().to_ascii_lowercase().as_str() {
            "purchased" => return Ok(None),
            "revoked" => ClawbackState::Revoked,
            "refunded" => ClawbackState::Returned,
            other => {
                return Err(unusable(format!(
                    "v1 order {} line {}: unknown lineItemState '{other}'",
                    order.order_id, line.line_item_id
                )))
            }
        };
        let (o, l) = (order.order_id.trim(), line.line_item_id.trim());
        let m = ClawbackMatch {
            event_id: v1_event_id(o, l, state.as_v1_str()),
            order_id: o.to_string(),
            line_item_id: l.to_string(),
            product_id: line.product_id.trim().to_string(),
            state,
        };
        m.validate()
            .map_err(|e| unusable(format!("v1 order {o}: {}", e.message)))?;
        Ok(Some(m))
    }
}

impl ClawbackState {
    /// The v1 line state this ledger state came from (for synthetic event ids).
    fn as_v1_str(&self) -> &'static str {
        match self {
            ClawbackState::Revoked => "Revoked",
            ClawbackState::Returned => "Refunded",
            ClawbackState::Refunded => "Refunded",
            ClawbackState::ChargebackReversal => "ChargebackReversal",
        }
    }
}

/// `v1:{orderId}:{lineItemId}:{state}`: stable across polls.
pub(crate) fn v1_event_id(order_id: &str, line_item_id: &str, state: &str) -> String {
    format!("v1:{order_id}:{line_item_id}:{state}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(state: &str, line: &str) -> ClawbackEvent {
        ClawbackEvent::decode(&format!(
            r#"{{"id":"ev-1","source":"/Purchase/Refund","data":{{"orderId":"o-1","lineItemId":"{line}",
            "productId":"9P","eventState":"{state}","sandboxId":"RETAIL"}}}}"#
        ))
        .unwrap()
    }

    #[test]
    fn v2_states_map_one_to_one_and_unknown_ones_are_refused() {
        for (s, want) in [
            ("Returned", ClawbackState::Returned),
            ("Revoked", ClawbackState::Revoked),
            ("Refunded", ClawbackState::Refunded),
            ("ChargebackReversal", ClawbackState::ChargebackReversal),
        ] {
            let m = ClawbackMatch::try_from(&event(s, "l-1")).unwrap();
            assert_eq!(
                (m.state, m.event_id.as_str(), m.order_id.as_str()),
                (want, "ev-1", "o-1")
            );
            assert_eq!(
                (m.line_item_id.as_str(), m.product_id.as_str()),
                ("l-1", "9P")
            );
        }
        let e = ClawbackMatch::try_from(&event("Disputed", "l-1")).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidClawbackEvent);
        assert!(e.message.contains("Disputed"), "{e}");
        let e = ClawbackMatch::try_from(&event("Revoked", "")).unwrap_err();
        assert!(e.message.contains("lineItemId"), "{e}");
    }

    #[test]
    fn v1_lines_map_with_stable_ids() {
        let order = ClawbackOrder {
            order_id: "o-9".into(),
            ..ClawbackOrder::default()
        };
        let line = |state: &str| ClawbackOrderLine {
            line_item_id: "l-9".into(),
            line_item_state: state.into(),
            product_id: "9P".into(),
            ..ClawbackOrderLine::default()
        };
        let m = ClawbackMatch::from_v1_line(&order, &line("Revoked"))
            .unwrap()
            .unwrap();
        assert_eq!(m.state, ClawbackState::Revoked);
        assert_eq!(m.event_id, "v1:o-9:l-9:Revoked");
        let again = ClawbackMatch::from_v1_line(&order, &line("Revoked"))
            .unwrap()
            .unwrap();
        assert_eq!(m, again, "re-polling gives the same id");
        let r = ClawbackMatch::from_v1_line(&order, &line("Refunded"))
            .unwrap()
            .unwrap();
        assert_eq!(
            (r.state, r.event_id.as_str()),
            (ClawbackState::Returned, "v1:o-9:l-9:Refunded")
        );
        assert_eq!(
            ClawbackMatch::from_v1_line(&order, &line("Purchased")).unwrap(),
            None
        );
        assert_eq!(
            ClawbackMatch::from_v1_line(&order, &line("Lost"))
                .unwrap_err()
                .kind,
            ErrorKind::InvalidClawbackEvent
        );
        let mut no_product = line("Revoked");
        no_product.product_id.clear();
        assert!(ClawbackMatch::from_v1_line(&order, &no_product).is_err());
    }
}

//! Clawback v2 events
//! (<https://learn.microsoft.com/en-us/gaming/gdk/_content/gc/commerce/service-to-service/xstore-managing-refunds-and-chargebacks>):
//! the CloudEvents-style JSON inside a queue message, decoded
//! from any of the four base64 spellings, with the four event states typed.

use crate::error::{Error, ErrorKind, Result};
use crate::time::Timestamp;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// What happened to a purchase (`data.eventState`, March 2026 documentation).
///
/// | state | payment | item | what the game should do |
/// |---|---|---|---|
/// | `Returned` | back to the customer | removed by the Store (entitlement or unconsumed quantity) | nothing in-game; record it |
/// | `Revoked` | back | could **not** be removed: already consumed | take back the in-game value granted for it |
/// | `Refunded` | back | the customer **keeps** it | nothing to take back; log it and watch for abuse. **Not a revocation.** |
/// | `ChargebackReversal` | the chargeback was appealed | restored | undo an earlier revocation for this order line |
///
/// The official library's older `EventStates` used `Refunded` for what is now `Returned`; we
/// follow the current documentation. Unknown future states arrive as `Other`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ClawbackEventState {
    Returned,
    Revoked,
    Refunded,
    ChargebackReversal,
    Other(String),
}

impl ClawbackEventState {
    pub fn parse(s: &str) -> ClawbackEventState {
        match s.trim().to_ascii_lowercase().as_str() {
            "returned" => ClawbackEventState::Returned,
            "revoked" => ClawbackEventState::Revoked,
            "refunded" => ClawbackEventState::Refunded,
            "chargebackreversal" => ClawbackEventState::ChargebackReversal,
            _ => ClawbackEventState::Other(s.trim().to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            ClawbackEventState::Returned => "Returned",
            ClawbackEventState::Revoked => "Revoked",
            ClawbackEventState::Refunded => "Refunded",
            ClawbackEventState::ChargebackReversal => "ChargebackReversal",
            ClawbackEventState::Other(s) => s,
        }
    }

    /// True only for `Revoked`: the customer got their money back *and* kept value the Store
    /// could not remove, so the game must take it back. `Refunded` (item kept by design) and
    /// `Returned` (the Store already removed it) are not revocations.
    pub fn requires_revocation(&self) -> bool {
        matches!(self, ClawbackEventState::Revoked)
    }

    /// True for `ChargebackReversal`: restore what an earlier revocation took.
    pub fn is_reversal(&self) -> bool {
        matches!(self, ClawbackEventState::ChargebackReversal)
    }
}

impl std::fmt::Display for ClawbackEventState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ClawbackEventState {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ClawbackEventState {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(ClawbackEventState::parse(&s))
    }
}

/// `data.recurrenceData`: present for subscription refunds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClawbackRecurrenceData {
    #[serde(default)]
    pub recurrence_id: String,
    #[serde(default, deserialize_with = "lenient_date")]
    pub duration_interval_start: Option<Timestamp>,
    #[serde(default, deserialize_with = "lenient_i64")]
    pub duration_in_days: i64,
    #[serde(default, deserialize_with = "lenient_i64")]
    pub consumed_duration_in_days: i64,
    /// `Full` or `Partial` (the library also mentions prorated refunds).
    #[serde(default)]
    pub refund_type: String,
}

/// `data` of a clawback event. Match it to your consume records by `order_id` +
/// `line_item_id` + `product_id` (bundles share order and line ids across products;
/// subscriptions match by `recurrence_data.recurrence_id`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClawbackEventData {
    pub order_id: String,
    #[serde(default)]
    pub line_item_id: String,
    pub product_id: String,
    /// `Consumable`, `UnmanagedConsumable`, `Durable`, `Game`, `Pass`, …
    #[serde(default)]
    pub product_type: String,
    #[serde(default)]
    pub sku_id: String,
    /// `RETAIL` in production; leave events of other sandboxes for their own servers.
    #[serde(default)]
    pub sandbox_id: String,
    pub event_state: ClawbackEventState,
    #[serde(default, deserialize_with = "lenient_date")]
    pub purchased_date: Option<Timestamp>,
    #[serde(default, deserialize_with = "lenient_date")]
    pub event_date: Option<Timestamp>,
    #[serde(default)]
    pub recurrence_data: Option<ClawbackRecurrenceData>,
}

/// One clawback event (`type` `ClawbackEventContractV2`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClawbackEvent {
    /// Event id: process each id once.
    pub id: String,
    /// `/Purchase/Refund` or `/Purchase/Chargeback`.
    #[serde(default)]
    pub source: String,
    #[serde(default, rename = "type")]
    pub event_type: String,
    #[serde(default, deserialize_with = "lenient_date")]
    pub time: Option<Timestamp>,
    /// For logs, e.g. `/Purchase/Refund/<guid>`.
    #[serde(default)]
    pub subject: String,
    #[serde(default)]
    pub specversion: Option<String>,
    #[serde(default)]
    pub datacontenttype: Option<String>,
    #[serde(default)]
    pub traceparent: Option<String>,
    pub data: ClawbackEventData,
    /// The event JSON as decoded from the message.
    #[serde(skip)]
    pub raw_json: String,
}

impl ClawbackEvent {
    /// Decodes a queue message's `MessageText`: base64 (standard or URL-safe, padded or not)
    /// of the event JSON. Plain JSON text is accepted as well.
    pub fn decode(message_text: &str) -> Result<ClawbackEvent> {
        let t = message_text.trim();
        let json = if t.starts_with('{') {
            t.as_bytes().to_vec()
        } else {
            crate::jwt::decode_base64_lenient(t)
                .ok_or_else(|| invalid("the message text is neither base64 nor JSON".to_string()))?
        };
        ClawbackEvent::from_json(&json)
    }

    /// Parses the event JSON itself.
    pub fn from_json(json: &[u8]) -> Result<ClawbackEvent> {
        let text = std::str::from_utf8(json)
            .map_err(|e| invalid("the decoded event is not UTF-8".to_string()).with_source(e))?;
        let mut ev: ClawbackEvent = serde_json::from_str(text).map_err(|e| {
            invalid(format!("the decoded message is not a clawback event: {e}")).with_source(e)
        })?;
        if ev.id.trim().is_empty() || ev.data.order_id.trim().is_empty() {
            return Err(invalid(
                "the clawback event has no id or orderId".to_string(),
            ));
        }
        if ev.data.product_id.trim().is_empty() {
            return Err(invalid("the clawback event has no productId".to_string()));
        }
        ev.raw_json = text.to_string();
        Ok(ev)
    }

    pub fn state(&self) -> &ClawbackEventState {
        &self.data.event_state
    }

    /// True when the event came from a chargeback (`source` `/Purchase/Chargeback`).
    pub fn is_chargeback(&self) -> bool {
        self.source.to_ascii_lowercase().contains("chargeback")
    }
}

fn invalid(message: String) -> Error {
    Error::new(ErrorKind::InvalidClawbackEvent, message)
}

/// A date that does not parse (the docs show impossible ones) becomes `None`, not a failure.
pub(crate) fn lenient_date<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<Timestamp>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(s)) => Timestamp::parse(&s).ok(),
        _ => None,
    })
}

/// Integers that may arrive as numbers or numeric strings.
fn lenient_i64<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<i64, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        Some(Value::String(s)) => s.trim().parse().unwrap_or(0),
        _ => 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    use base64::Engine;

    const SPEC_EVENT: &str = r#"{"id":"e5d4c3b2-a190-4f8e-9d7c-6b5a49382716","source":"/Purchase/Refund","type":"ClawbackEventContractV2",
"data":{"lineItemId":"c1e3a5b7-9d0f-4b2d-8f6a-0c2e4a6b8d9f","orderId":"a3c5e7f9-1b2d-4f6a-8c0e-2a4c6e8f0b1d","productId":"9NZB0T3LQH5D",
"productType":"Consumable","purchasedDate":"2026-01-14T09:11:02.0031020+00:00","eventDate":"2026-01-20T16:40:19.7712000+00:00",
"eventState":"Revoked","sandboxId":"RETAIL","skuId":"0010"},"time":"2026-01-20T16:40:21.0100000+00:00","specversion":"1.0",
"datacontenttype":"application/json","subject":"/Purchase/Refund/3b2a1908-7f6e-4d5c-8b4a-392817160504",
"traceparent":"00-8f7e6d5c4b3a29181706f5e4d3c2b1a0-1a2b3c4d5e6f7081-00"}"#;

    #[test]
    fn spec_example_in_all_four_base64_forms() {
        // Pad the JSON so that its base64 needs padding and contains '+' or '/' somewhere.
        let json = format!("{SPEC_EVENT} ");
        let forms = [
            STANDARD.encode(&json),
            STANDARD_NO_PAD.encode(&json),
            URL_SAFE.encode(&json),
            URL_SAFE_NO_PAD.encode(&json),
        ];
        assert_ne!(forms[0], forms[1], "the sample must need padding");
        for f in forms {
            let ev = ClawbackEvent::decode(&f).unwrap();
            assert_eq!(ev.id, "e5d4c3b2-a190-4f8e-9d7c-6b5a49382716");
            assert_eq!(ev.data.event_state, ClawbackEventState::Revoked);
            assert!(ev.state().requires_revocation());
            assert_eq!(ev.data.product_id, "9NZB0T3LQH5D");
            assert_eq!(ev.data.sandbox_id, "RETAIL");
            assert_eq!(
                ev.data.event_date,
                Some(Timestamp::parse("2026-01-20T16:40:19.7712Z").unwrap())
            );
            assert!(!ev.is_chargeback());
            assert!(ev.data.recurrence_data.is_none());
        }
    }

    #[test]
    fn states_and_their_meaning() {
        use ClawbackEventState::*;
        for (s, want) in [
            ("Returned", Returned),
            ("revoked", Revoked),
            ("REFUNDED", Refunded),
            ("ChargebackReversal", ChargebackReversal),
            ("Disputed", Other("Disputed".into())),
        ] {
            assert_eq!(ClawbackEventState::parse(s), want);
        }
        assert!(
            !Refunded.requires_revocation(),
            "Refunded: the item is kept"
        );
        assert!(!Returned.requires_revocation());
        assert!(ChargebackReversal.is_reversal());
        assert_eq!(
            serde_json::to_string(&ChargebackReversal).unwrap(),
            "\"ChargebackReversal\""
        );
    }

    #[test]
    fn recurrence_data_and_lenient_fields() {
        let j = r#"{"id":"x","source":"/Purchase/Chargeback","data":{"orderId":"o","productId":"p",
            "eventState":"Returned","eventDate":null,"purchasedDate":"2021-06-142T00:00:00Z",
            "recurrenceData":{"recurrenceId":"mdr:0:a:b","durationInDays":"30","consumedDurationInDays":12,"refundType":"Partial"}}}"#;
        let ev = ClawbackEvent::decode(j).unwrap();
        assert!(ev.is_chargeback());
        assert_eq!(ev.data.purchased_date, None);
        let r = ev.data.recurrence_data.unwrap();
        assert_eq!((r.duration_in_days, r.consumed_duration_in_days), (30, 12));
        assert_eq!(r.refund_type, "Partial");
    }

    #[test]
    fn bad_messages_are_invalid_clawback_events() {
        for bad in [
            "%%%".to_string(),
            STANDARD.encode("not json"),
            STANDARD.encode(r#"{"id":"x"}"#),
            STANDARD.encode(
                r#"{"id":"","data":{"orderId":"o","productId":"p","eventState":"Revoked"}}"#,
            ),
            STANDARD.encode([0xff, 0xfe]),
        ] {
            let e = ClawbackEvent::decode(&bad).unwrap_err();
            assert_eq!(e.kind, ErrorKind::InvalidClawbackEvent, "{bad}");
        }
    }
}

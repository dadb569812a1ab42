//! Refunds in the emulated Store (https://learn.microsoft.com/en-us/gaming/gdk/_content/gc/commerce/service-to-service/microsoft-store-apis/xstore-v8-clawbackv1, https://learn.microsoft.com/en-us/gaming/gdk/_content/gc/commerce/service-to-service/microsoft-store-apis/xstore-v8-clawbackv2-sastoken): the admin actions that claw
//! a purchase back, their effect on entitlements, balances and order line states, the v2 events
//! they enqueue, and the v1 `/v8.0/b2b/orders/query` route.
//!
//! | action | item | event state | v1 line state |
//! |---|---|---|---|
//! | `refund` | kept by the customer | `Refunded` | `Refunded` |
//! | `return`, `chargeback` | removed: entitlement revoked, unconsumed units taken back | `Returned`, or `Revoked` when some units were already consumed | `Refunded`, or `Revoked` when consumed |
//! | `chargeback_reversal` (after a chargeback) | restored | `ChargebackReversal` | `Purchased` |
//! | `partial_subscription_refund` | subscription ended now | `Returned` with `recurrenceData.refundType` `Partial` | `Refunded` |
//!
//! Events are enqueued for paid products whose kind is in the `clawback_event_kinds` knob: one
//! for the product and one per bundle child (same order and line ids).

use super::catalog::ProductSpec;
use super::json::{self, ApiError, ApiResult};
use super::keys::Caller;
use super::state::{State, UserState};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// Orders older than this are not returned by the v1 query.
const V1_WINDOW_SECS: i64 = 90 * 86_400;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClawbackAction {
    /// Money back, the customer keeps the item (`Refunded`).
    Refund,
    /// Money back, item removed (`Returned` / `Revoked`).
    Return,
    /// Like `Return`, from a payment dispute (`source` `/Purchase/Chargeback`).
    Chargeback,
    /// The dispute was won: what the chargeback removed is restored.
    ChargebackReversal,
    /// Part of a subscription period refunded; the subscription ends now.
    PartialSubscriptionRefund,
}

/// One clawback on an order line (`POST /admin/clawback`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClawbackRequest {
    pub action: ClawbackAction,
    pub store_user_id: String,
    pub order_id: String,
    /// Optional check that the order has this line.
    #[serde(default)]
    pub line_item_id: Option<String>,
    #[serde(default)]
    pub sandbox: Option<String>,
    /// Partial subscription refunds: days of the period used (default: elapsed days).
    #[serde(default)]
    pub consumed_days: Option<i64>,
}

impl ClawbackRequest {
    pub fn new(action: ClawbackAction, store_user_id: &str, order_id: &str) -> Self {
        ClawbackRequest {
            action,
            store_user_id: store_user_id.into(),
            order_id: order_id.into(),
            line_item_id: None,
            sandbox: None,
            consumed_days: None,
        }
    }
}

/// One event put on the queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnqueuedEvent {
    pub event_id: String,
    pub message_id: String,
    pub product_id: String,
    pub event_state: String,
}

/// What a clawback did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClawbackOutcome {
    pub event_state: String,
    pub line_item_state: String,
    /// Unconsumed units taken back from the balance (restored, for a reversal).
    pub units_removed: i64,
    pub was_consumable_quantity_revoked: bool,
    pub events: Vec<EnqueuedEvent>,
}

fn find_order<'a>(
    u: &'a mut UserState,
    req: &ClawbackRequest,
) -> Result<&'a mut super::state::Order, String> {
    let o = u
        .orders
        .iter_mut()
        .find(|o| o.order_id.eq_ignore_ascii_case(req.order_id.trim()))
        .ok_or_else(|| format!("no order '{}' for this user", req.order_id))?;
    if let Some(l) = req.line_item_id.as_deref().filter(|l| !l.is_empty()) {
        if !o.line_item_id.eq_ignore_ascii_case(l.trim()) {
            return Err(format!("order '{}' has no line '{l}'", req.order_id));
        }
    }
    Ok(o)
}

fn set_entitlements(u: &mut UserState, order_id: &str, status: &str, now: Timestamp) {
    for e in u.entitlements.iter_mut().filter(|e| e.order_id == order_id) {
        e.status = status.into();
        e.modified = now;
    }
}

fn days_between(a: Timestamp, b: Timestamp) -> i64 {
    (b.unix_seconds() - a.unix_seconds()).max(0) / 86_400
}

impl State {
    /// Applies one clawback and enqueues its events.
    pub fn clawback(&mut self, req: &ClawbackRequest) -> Result<ClawbackOutcome, String> {
        let now = self.now();
        let sandbox = State::user_key(req.sandbox.as_deref().unwrap_or(""), "").0;
        let user = self
            .users
            .get_mut(&State::user_key(&sandbox, &req.store_user_id))
            .ok_or_else(|| format!("unknown user '{}'", req.store_user_id))?;
        let order = find_order(user, req)?.clone();
        let product: ProductSpec = self
            .product(&order.product_id)
            .cloned()
            .ok_or_else(|| format!("unknown product '{}'", order.product_id))?;
        let is_sub = product.subscription.is_some();
        let user = self
            .users
            .get_mut(&State::user_key(&sandbox, &req.store_user_id))
            .ok_or("user vanished")?;
        let mut recurrence_data = None;
        let (state, line_state, units) = match req.action {
            ClawbackAction::Refund => {
                if order.line_state != "Purchased" {
                    return Err(format!("order line is already {}", order.line_state));
                }
                ("Refunded", "Refunded", 0)
            }
            ClawbackAction::Return | ClawbackAction::Chargeback => {
                if order.item_removed {
                    return Err(format!("order line is already {}", order.line_state));
                }
                let removed = order.remaining;
                let consumed = order.quantity - order.remaining;
                let o = find_order(user, req)?;
                o.remaining = 0;
                o.revoked_units = removed;
                o.item_removed = true;
                o.charged_back = req.action == ClawbackAction::Chargeback;
                o.quantity_revoked = product.kind.is_consumable() && removed > 0;
                if !product.kind.is_consumable() {
                    set_entitlements(user, &order.order_id, "Revoked", now);
                }
                if is_sub {
                    recurrence_data = Some(end_subscription(user, &order.order_id, now, None)?);
                }
                if product.kind.is_consumable() && consumed > 0 {
                    ("Revoked", "Revoked", removed)
                } else {
                    ("Returned", "Refunded", removed)
                }
            }
            ClawbackAction::ChargebackReversal => {
                if !order.charged_back {
                    return Err("only a charged-back order line can be reversed".into());
                }
                if is_sub {
                    return Err("reversing a subscription chargeback is not emulated".into());
                }
                let o = find_order(user, req)?;
                o.remaining += o.revoked_units;
                let restored = o.revoked_units;
                o.revoked_units = 0;
                o.item_removed = false;
                o.charged_back = false;
                o.quantity_revoked = false;
                if !product.kind.is_consumable() {
                    set_entitlements(user, &order.order_id, "Active", now);
                }
                ("ChargebackReversal", "Purchased", restored)
            }
            ClawbackAction::PartialSubscriptionRefund => {
                if !is_sub {
                    return Err(format!(
                        "product '{}' is not a subscription",
                        product.product_id
                    ));
                }
                if order.line_state != "Purchased" {
                    return Err(format!("order line is already {}", order.line_state));
                }
                let o = find_order(user, req)?;
                o.item_removed = true;
                set_entitlements(user, &order.order_id, "Revoked", now);
                recurrence_data = Some(end_subscription(
                    user,
                    &order.order_id,
                    now,
                    Some(req.consumed_days),
                )?);
                ("Returned", "Refunded", 0)
            }
        };
        let o = find_order(user, req)?;
        o.line_state = line_state.into();
        o.refunded_at = if line_state == "Purchased" {
            None
        } else {
            Some(now)
        };
        let quantity_revoked = o.quantity_revoked;
        self.tick();
        let source = match req.action {
            ClawbackAction::Chargeback | ClawbackAction::ChargebackReversal => {
                "/Purchase/Chargeback"
            }
            _ => "/Purchase/Refund",
        };
        let mut events = Vec::new();
        if product.price > 0.0 {
            let mut targets = vec![product.clone()];
            targets.extend(
                product
                    .bundle_children
                    .iter()
                    .filter_map(|c| self.product(c).cloned()),
            );
            for p in targets {
                if !self
                    .knobs
                    .clawback_event_kinds
                    .iter()
                    .any(|k| k.eq_ignore_ascii_case(p.kind.as_str()))
                {
                    continue;
                }
                let rd = (p.product_id == product.product_id)
                    .then(|| recurrence_data.clone())
                    .flatten();
                let ev = self.event_json(source, state, &sandbox, &order, &p, rd);
                let event_id = ev["id"].as_str().unwrap_or_default().to_string();
                let message_id = self.enqueue_message(&ev.to_string());
                events.push(EnqueuedEvent {
                    event_id,
                    message_id,
                    product_id: p.product_id.clone(),
                    event_state: state.into(),
                });
            }
        }
        Ok(ClawbackOutcome {
            event_state: state.into(),
            line_item_state: line_state.into(),
            units_removed: units,
            was_consumable_quantity_revoked: quantity_revoked,
            events,
        })
    }

    fn event_json(
        &mut self,
        source: &str,
        state: &str,
        sandbox: &str,
        order: &super::state::Order,
        p: &ProductSpec,
        recurrence: Option<Value>,
    ) -> Value {
        let now = self.now();
        let (id, subject) = (self.guid(), self.guid());
        let trace = format!("00-{}-{}-00", self.hex32(), &self.hex32()[..16]);
        let mut data = json!({
            "lineItemId": order.line_item_id,
            "orderId": order.order_id,
            "productId": p.product_id,
            "productType": p.kind.as_str(),
            "purchasedDate": order.created.to_iso(),
            "eventDate": now.to_iso(),
            "eventState": state,
            "sandboxId": sandbox,
            "skuId": if p.product_id == order.product_id { order.sku_id.clone() } else { p.default_sku() },
        });
        if let (Some(r), Some(d)) = (recurrence, data.as_object_mut()) {
            d.insert("recurrenceData".into(), r);
        }
        json!({
            "id": id,
            "source": source,
            "type": "ClawbackEventContractV2",
            "data": data,
            "time": now.to_iso(),
            "specversion": "1.0",
            "datacontenttype": "application/json",
            "subject": format!("{source}/{subject}"),
            "traceparent": trace,
        })
    }
}

/// Ends the subscription bought by `order_id` now (Store refund) and describes it as
/// `recurrenceData`. `partial` = Some(consumed days or None for "elapsed") for a partial refund.
fn end_subscription(
    u: &mut UserState,
    order_id: &str,
    now: Timestamp,
    partial: Option<Option<i64>>,
) -> Result<Value, String> {
    let r = u
        .recurrences
        .iter_mut()
        .find(|r| r.order_id == order_id)
        .ok_or("the order has no subscription")?;
    let duration = days_between(r.start, r.expiration).max(1);
    let consumed = match partial {
        Some(Some(d)) if d < 0 || d > duration => {
            return Err(format!("consumed_days must be 0..={duration}"))
        }
        Some(Some(d)) => d,
        _ => days_between(r.start, now).min(duration),
    };
    let v = json!({
        "recurrenceId": r.id,
        "durationIntervalStart": r.start.to_iso(),
        "durationInDays": duration,
        "consumedDurationInDays": consumed,
        "refundType": if partial.is_some() { "Partial" } else { "Full" },
    });
    if !r.is_terminal() {
        r.auto_renew = false;
        r.state = "Canceled".into();
        r.cancellation_date = Some(now);
        r.expiration = r.expiration.min(now);
        r.refunded = true;
        r.last_modified = now;
    }
    Ok(v)
}

/// Opaque paging token: base64url of `{"skip":n}`.
fn parse_token(token: Option<&str>) -> ApiResult<usize> {
    let Some(t) = token.filter(|t| !t.is_empty()) else {
        return Ok(0);
    };
    let bad = || ApiError::bad_request("The field 'continuationToken' is invalid.");
    let bytes = crate::jwt::decode_base64_lenient(t).ok_or_else(bad)?;
    let v: Value = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    v.get("orders_skip")
        .and_then(Value::as_u64)
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(bad)
}

/// `POST /purchase/v8.0/b2b/orders/query`: the caller's consumable orders of the last 90 days
/// whose line state is in `lineItemStateFilter` (absent = every state).
pub fn orders_query(
    state: &mut State,
    caller: &Caller,
    body: &Map<String, Value>,
) -> ApiResult<Value> {
    let sbx = json::opt_str(body, "sbx")?.unwrap_or("").to_string();
    let filter = json::opt_str_list(body, "lineItemStateFilter")?;
    if let Some(f) = &filter {
        if let Some(bad) = f.iter().find(|s| {
            !["Purchased", "Revoked", "Refunded"]
                .iter()
                .any(|k| k.eq_ignore_ascii_case(s))
        }) {
            return Err(ApiError::bad_request(format!(
                "The field 'lineItemStateFilter' has an unknown state '{bad}'."
            )));
        }
    }
    let skip = parse_token(json::opt_str(body, "continuationToken")?)?;
    let page = state.knobs.clawback_orders_page_size.max(1) as usize;
    let since = state.now().add_secs(-V1_WINDOW_SECS);
    let Some(user) = state.user(&sbx, &caller.store_user) else {
        return Ok(json!({ "items": [] }));
    };
    let matching: Vec<Value> = user
        .orders
        .iter()
        .filter(|o| o.kind.is_consumable() && o.created >= since)
        .filter(|o| {
            state
                .product(&o.product_id)
                .is_some_and(|p| p.is_linked_to(&caller.client_id))
        })
        .filter(|o| {
            filter
                .as_ref()
                .is_none_or(|f| f.iter().any(|s| s.eq_ignore_ascii_case(&o.line_state)))
        })
        .map(|o| {
            let mut v = json!({
                "orderId": o.order_id,
                "shortOrderId": o.short_order_id,
                "orderLineItems": [{
                    "lineItemId": o.line_item_id,
                    "lineItemState": o.line_state,
                    "productId": o.product_id,
                    "quantity": o.quantity,
                    "skuId": o.sku_id,
                    "wasConsumableQuantityRevoked": o.quantity_revoked,
                }],
                "orderPurchasedDate": o.created.to_iso(),
            });
            if let (Some(t), Some(m)) = (o.refunded_at, v.as_object_mut()) {
                m.insert("orderRefundedDate".into(), json!(t.to_iso()));
            }
            v
        })
        .collect();
    if skip > matching.len() {
        return Err(ApiError::bad_request(
            "The field 'continuationToken' is invalid.",
        ));
    }
    let end = (skip + page).min(matching.len());
    let mut out = json!({ "items": matching[skip..end].to_vec() });
    if end < matching.len() {
        out["continuationToken"] = json!(crate::jwt::encode_base64url(
            json!({ "orders_skip": end }).to_string().as_bytes()
        ));
    }
    Ok(out)
}

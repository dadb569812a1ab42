//! Subscriptions (https://learn.microsoft.com/en-us/gaming/gdk/_content/gc/commerce/service-to-service/microsoft-store-apis/xstore-v8-recurrence-query, https://learn.microsoft.com/en-us/windows/uwp/monetize/change-the-billing-state-of-a-subscription-for-a-user): recurrence objects, month arithmetic, the clock-driven state
//! machine Active → InDunning (grace, then dunning) → Inactive/Failed, and the two endpoints.

use super::catalog::{ProductSpec, SubscriptionSpec};
use super::json::{self, ApiError, ApiResult};
use super::keys::Caller;
use super::state::{State, RETAIL};
use crate::time::Timestamp;
use serde_json::{json, Map, Value};

/// Safety bound on catch-up renewals after a large clock jump.
const MAX_RENEWALS_PER_TICK: u32 = 10_000;

#[derive(Debug, Clone)]
pub struct Recurrence {
    pub id: String,
    pub product_id: String,
    pub sku_id: String,
    pub start: Timestamp,
    pub expiration: Timestamp,
    pub months: u32,
    pub grace_days: u32,
    pub dunning_days: u32,
    pub auto_renew: bool,
    /// `Active`, `InDunning`, `Inactive`, `Canceled`, `Failed`.
    pub state: String,
    pub is_trial: bool,
    pub last_modified: Timestamp,
    pub market: String,
    pub cancellation_date: Option<Timestamp>,
    pub order_id: String,
    pub refunded: bool,
    /// Under the `state_lag_secs` knob: what the recurrence query still shows, until when.
    pub shown: Option<(Timestamp, Box<Recurrence>)>,
}

/// 00:00:00Z of the day containing `t`.
fn day_start(t: Timestamp) -> Timestamp {
    let (y, m, d, _, _, _) = t.to_civil();
    Timestamp::from_civil(y, m, d, 0, 0, 0, 0).unwrap_or(t)
}

/// End of a billing period starting at `start`: start + N months − 1 s, except that a start
/// day missing from the target month ends on that month's last day (23:59:59Z), so the next
/// period then starts on the 1st (https://learn.microsoft.com/en-us/gaming/gdk/_content/gc/commerce/service-to-service/microsoft-store-apis/xstore-v8-recurrence-query).
pub fn period_end(start: Timestamp, months: u32) -> Timestamp {
    let target = start.add_months(i64::from(months.max(1)));
    let (_, _, sd, _, _, _) = start.to_civil();
    let (_, _, td, _, _, _) = target.to_civil();
    if td != sd {
        day_start(target).add_secs(86_400 - 1)
    } else {
        target.add_secs(-1)
    }
}

impl Recurrence {
    pub fn new(
        id: String,
        product: &ProductSpec,
        sku: &str,
        sub: &SubscriptionSpec,
        now: Timestamp,
        market: &str,
        order_id: &str,
    ) -> Recurrence {
        let start = day_start(now);
        Recurrence {
            id,
            product_id: product.product_id.clone(),
            sku_id: sku.to_string(),
            start,
            expiration: period_end(start, sub.months),
            months: sub.months.max(1),
            grace_days: sub.grace_days,
            dunning_days: sub.dunning_days,
            auto_renew: true,
            state: "Active".into(),
            is_trial: false,
            last_modified: now,
            market: market.to_string(),
            cancellation_date: None,
            order_id: order_id.to_string(),
            refunded: false,
            shown: None,
        }
    }

    /// A trial subscription: the first period is the trial itself, ending at `trial_end`.
    pub fn start_trial(&mut self, trial_end: Timestamp) {
        self.is_trial = true;
        self.expiration = trial_end;
    }

    /// True when a query would show something different.
    fn differs(&self, o: &Recurrence) -> bool {
        (
            &self.state,
            self.expiration,
            self.auto_renew,
            self.is_trial,
            self.cancellation_date,
        ) != (
            &o.state,
            o.expiration,
            o.auto_renew,
            o.is_trial,
            o.cancellation_date,
        )
    }

    /// Records `before` as the queried view for `lag` more seconds; an older pending view
    /// is kept so a burst of changes surfaces together.
    fn note_change(&mut self, before: Recurrence, now: Timestamp, lag: u64) {
        if lag == 0 || !self.differs(&before) {
            return;
        }
        let snap = match self.shown.take() {
            Some((until, s)) if now < until => *s,
            _ => Recurrence {
                shown: None,
                ..before
            },
        };
        let lag = i64::try_from(lag).unwrap_or(i64::MAX / 2);
        self.shown = Some((now.add_secs(lag), Box::new(snap)));
    }

    /// The recurrence as the (lagging) query endpoint reports it at `now`.
    pub fn visible(&self, now: Timestamp) -> &Recurrence {
        match &self.shown {
            Some((until, s)) if now < *until => s,
            _ => self,
        }
    }

    pub fn expiration_with_grace(&self) -> Timestamp {
        self.expiration
            .add_secs(i64::from(self.grace_days) * 86_400)
    }

    fn dunning_end(&self) -> Timestamp {
        self.expiration_with_grace()
            .add_secs(i64::from(self.dunning_days) * 86_400)
    }

    pub fn is_terminal(&self) -> bool {
        matches!(self.state.as_str(), "Inactive" | "Canceled" | "Failed")
    }

    /// Advances the state machine to `now`.
    fn tick(&mut self, now: Timestamp, payment_fails: bool) {
        let mut renewals = 0;
        loop {
            if self.is_terminal() || now <= self.expiration || renewals >= MAX_RENEWALS_PER_TICK {
                return;
            }
            if !self.auto_renew {
                self.state = "Inactive".into();
                self.last_modified = self.expiration;
                return;
            }
            if payment_fails {
                if now > self.dunning_end() {
                    self.state = "Failed".into();
                    self.last_modified = self.dunning_end();
                } else if self.state != "InDunning" {
                    self.state = "InDunning".into();
                    self.last_modified = self.expiration;
                }
                return;
            }
            // Payment succeeds (possibly after a dunning period): a new period starts right
            // after the previous expiration.
            self.expiration = period_end(self.expiration.add_secs(1), self.months);
            // The first paid renewal converts a trial into a full subscription.
            self.is_trial = false;
            self.state = "Active".into();
            self.last_modified = now;
            renewals += 1;
        }
    }

    /// Entitlement status implied by the recurrence (benefits in Grace, not in Dunning).
    fn entitlement_status(&self, now: Timestamp) -> &'static str {
        if self.refunded {
            return "Revoked";
        }
        match self.state.as_str() {
            "Active" => "Active",
            "InDunning" if now <= self.expiration_with_grace() => "Active",
            _ => "Expired",
        }
    }

    pub fn to_json(&self, publisher_user_id: &str) -> Value {
        let mut v = json!({
            "autoRenew": self.auto_renew,
            "beneficiary": format!("pub:{publisher_user_id}"),
            "expirationTime": self.expiration.to_iso(),
            "expirationTimeWithGrace": self.expiration_with_grace().to_iso(),
            "id": self.id,
            "isTrial": self.is_trial,
            "lastModified": self.last_modified.to_iso(),
            "market": self.market,
            "productId": self.product_id,
            "skuId": self.sku_id,
            "startTime": self.start.to_iso(),
            "recurrenceState": self.state,
        });
        if let (Some(c), Some(o)) = (self.cancellation_date, v.as_object_mut()) {
            o.insert("cancellationDate".into(), json!(c.to_iso()));
        }
        v
    }
}

impl State {
    /// Runs every subscription's state machine up to the virtual now and mirrors the result
    /// onto the linked entitlements. Called before each request.
    pub fn tick(&mut self) {
        let now = self.now();
        let fails = self.knobs.subscription_payment_fails;
        let lag = self.knobs.state_lag_secs;
        for user in self.users.values_mut() {
            for r in user.recurrences.iter_mut() {
                let before = (lag > 0).then(|| r.clone());
                r.tick(now, fails);
                if let Some(b) = before {
                    r.note_change(b, now, lag);
                }
                let status = r.entitlement_status(now);
                let end = if r.is_terminal() {
                    r.expiration
                        .min(r.cancellation_date.unwrap_or(Timestamp::MAX))
                } else {
                    r.expiration_with_grace()
                };
                for e in user
                    .entitlements
                    .iter_mut()
                    .filter(|e| e.recurrence_id.as_deref() == Some(r.id.as_str()))
                {
                    if e.status != status || e.end != end || e.is_trial != r.is_trial {
                        e.status = status.into();
                        e.end = end;
                        e.is_trial = r.is_trial;
                        e.modified = now;
                    }
                }
            }
            expire_trials(&mut user.entitlements, now);
        }
    }
}

/// Non-subscription trials end at `trial_end`; subscriptions are handled by their recurrence.
fn expire_trials(entitlements: &mut [super::state::Entitlement], now: Timestamp) {
    for e in entitlements
        .iter_mut()
        .filter(|e| e.is_trial && e.recurrence_id.is_none() && e.status == "Active")
    {
        if e.trial_end.is_some_and(|t| t <= now) {
            e.status = "Expired".into();
            e.modified = now;
        }
    }
}

/// Opaque paging token: base64url of `{"skip":n}` (clients must not interpret it).
fn make_token(offset: usize) -> String {
    crate::jwt::encode_base64url(json!({ "skip": offset }).to_string().as_bytes())
}

fn parse_token(token: Option<&str>) -> ApiResult<usize> {
    let Some(t) = token.filter(|t| !t.is_empty()) else {
        return Ok(0);
    };
    let bad = || ApiError::bad_request("The field 'continuationToken' is invalid.");
    let bytes = crate::jwt::decode_base64_lenient(t).ok_or_else(bad)?;
    let v: Value = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    v.get("skip")
        .and_then(Value::as_u64)
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(bad)
}

/// `POST /purchase/v8.0/b2b/recurrences/query`.
pub fn query(state: &mut State, caller: &Caller, body: &Map<String, Value>) -> ApiResult<Value> {
    let now = state.now();
    let sbx = json::opt_str(body, "sbx")?.unwrap_or("");
    let page_size = json::opt_i64(body, "pageSize")?.unwrap_or(25);
    if !(1..=1000).contains(&page_size) {
        return Err(ApiError::bad_request(
            "The field 'pageSize' must be between 1 and 1000.",
        ));
    }
    let offset = parse_token(json::opt_str(body, "continuationToken")?)?;
    let items: Vec<Value> = state
        .user(sbx, &caller.store_user)
        .map(|u| {
            u.recurrences
                .iter()
                .filter(|r| {
                    state
                        .product(&r.product_id)
                        .is_some_and(|p| p.is_linked_to(&caller.client_id))
                })
                .map(|r| r.visible(now).to_json(&caller.publisher_user_id))
                .collect()
        })
        .unwrap_or_default();
    let page: Vec<Value> = items
        .iter()
        .skip(offset)
        .take(page_size as usize)
        .cloned()
        .collect();
    let next = offset + page.len();
    let mut out = json!({ "items": page });
    if next < items.len() {
        if let Some(o) = out.as_object_mut() {
            o.insert("continuationToken".into(), json!(make_token(next)));
        }
    }
    Ok(out)
}

/// `POST /purchase/v8.0/b2b/recurrences/{id}/change`.
pub fn change(
    state: &mut State,
    caller: &Caller,
    recurrence_id: &str,
    body: &Map<String, Value>,
) -> ApiResult<Value> {
    let sbx = json::opt_str(body, "sbx")?.unwrap_or("").to_string();
    if state.knobs.dev_sandbox_catalog_missing && State::user_key(&sbx, "").0 != RETAIL {
        return Err(ApiError::new(
            400,
            "BadRequest",
            None,
            "Requested catalog product data was not found",
        ));
    }
    let change_type = json::req_str(body, "changeType")?.to_string();
    let days = json::opt_i64(body, "extensionTimeInDays")?;
    let now = state.now();
    let keeps_paid = state.knobs.cancel_keeps_paid_time;
    let bare = state.knobs.change_response_bare;
    let lag = state.knobs.state_lag_secs;
    let client_id = caller.client_id.clone();
    let linked = |s: &State, pid: &str| s.product(pid).is_some_and(|p| p.is_linked_to(&client_id));
    let (product_id, order_id) = {
        let r = state
            .user(&sbx, &caller.store_user)
            .and_then(|u| {
                u.recurrences
                    .iter()
                    .find(|r| r.id.eq_ignore_ascii_case(recurrence_id))
            })
            .ok_or_else(|| {
                ApiError::not_found(format!("Recurrence '{recurrence_id}' was not found."))
            })?;
        (r.product_id.clone(), r.order_id.clone())
    };
    if !linked(state, &product_id) {
        return Err(ApiError::not_found(format!(
            "Recurrence '{recurrence_id}' was not found."
        )));
    }
    let user = state.user_mut(&sbx, &caller.store_user);
    let r = user
        .recurrences
        .iter_mut()
        .find(|r| r.id.eq_ignore_ascii_case(recurrence_id))
        .ok_or_else(|| ApiError::not_found("Recurrence was not found."))?;
    let before = r.clone();
    apply_change(r, &change_type, days, now, keeps_paid)?;
    if r.refunded && !before.refunded {
        if let Some(o) = user.orders.iter_mut().find(|o| o.order_id == order_id) {
            o.state = "Refunded".into();
        }
    }
    r.note_change(before, now, lag);
    state.tick();
    let item = state
        .user(&sbx, &caller.store_user)
        .and_then(|u| {
            u.recurrences
                .iter()
                .find(|r| r.id.eq_ignore_ascii_case(recurrence_id))
        })
        .map(|r| r.to_json(&caller.publisher_user_id))
        .unwrap_or(Value::Null);
    Ok(if bare {
        item
    } else {
        json!({ "items": [item] })
    })
}

/// Applies one `changeType` to the recurrence.
fn apply_change(
    r: &mut Recurrence,
    change_type: &str,
    days: Option<i64>,
    now: Timestamp,
    keeps_paid: bool,
) -> ApiResult<()> {
    match change_type.to_ascii_lowercase().as_str() {
        "cancel" => {
            if !r.is_terminal() {
                r.auto_renew = false;
                r.state = "Canceled".into();
                r.cancellation_date = Some(now);
                if !keeps_paid {
                    r.expiration = r.expiration.min(now);
                }
                r.last_modified = now;
            }
        }
        "refund" => {
            if !r.refunded {
                r.auto_renew = false;
                r.state = "Canceled".into();
                r.cancellation_date = Some(now);
                r.expiration = r.expiration.min(now);
                r.refunded = true;
                r.last_modified = now;
            }
        }
        "extend" => {
            let days = days.ok_or_else(|| {
                ApiError::bad_request("The field 'extensionTimeInDays' is required for Extend.")
            })?;
            if !(-3650..=3650).contains(&days) {
                return Err(ApiError::bad_request(
                    "The field 'extensionTimeInDays' is out of range.",
                ));
            }
            if r.is_terminal() {
                return Err(ApiError::bad_request(
                    "The recurrence is in a terminal state and cannot be extended.",
                ));
            }
            r.expiration = r.expiration.add_secs(days * 86_400);
            r.last_modified = now;
        }
        "toggleautorenew" => {
            // Services may only turn auto-renew off.
            if r.auto_renew {
                r.auto_renew = false;
                r.last_modified = now;
            }
        }
        _ => {
            return Err(ApiError::bad_request(format!(
                "The field 'changeType' has an unsupported value '{change_type}'."
            )))
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_arithmetic() {
        let s = Timestamp::parse("2026-02-03T00:00:00Z").unwrap();
        assert_eq!(period_end(s, 1).to_civil(), (2026, 3, 2, 23, 59, 59));
        let s = Timestamp::parse("2026-01-31T00:00:00Z").unwrap();
        let e = period_end(s, 1);
        assert_eq!(e.to_civil(), (2026, 2, 28, 23, 59, 59));
        assert_eq!(
            period_end(e.add_secs(1), 1).to_civil(),
            (2026, 3, 31, 23, 59, 59)
        );
    }
}

//! Purchase service: free-product grants (<https://learn.microsoft.com/en-us/windows/uwp/monetize/grant-free-products>),
//! subscription query (<https://learn.microsoft.com/en-us/windows/uwp/monetize/get-subscriptions-for-a-user>)
//! and change (<https://learn.microsoft.com/en-us/windows/uwp/monetize/change-the-billing-state-of-a-subscription-for-a-user>).

use crate::client::{
    parse_body, parse_success, serde_request_body, to_json, Client, Core, Service,
};
use crate::collections::IdentityV6;
use crate::error::{Error, ErrorKind, Result};
use crate::http::{backoff, RetryOn};
use crate::outcome::{settle, unknown_error, Settled};
use crate::paging::Page;
use crate::secret::SecretString;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub(crate) const PATH_GRANT: &str = "/v6.0/purchases/grant";
pub(crate) const PATH_RECURRENCE_QUERY: &str = "/v8.0/b2b/recurrences/query";
const OP_RECURRENCES: &str = "query_subscriptions";

/// Grants a zero-price product to the user named by a UserPurchaseId.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantRequest {
    /// The UserPurchaseId.
    pub b2b_key: SecretString,
    pub availability_id: String,
    pub product_id: String,
    pub sku_id: String,
    /// e.g. `en-us`.
    pub language: String,
    /// e.g. `us`.
    pub market: String,
    /// Unique per user; generated when `None`, and reused on every retry.
    pub order_id: Option<String>,
    pub quantity: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dev_offer_id: Option<String>,
}

impl GrantRequest {
    pub fn new(purchase_key: &str, product_id: &str, sku_id: &str, availability_id: &str) -> Self {
        GrantRequest {
            b2b_key: SecretString::new(purchase_key),
            availability_id: availability_id.to_string(),
            product_id: product_id.to_string(),
            sku_id: sku_id.to_string(),
            language: "en-us".into(),
            market: "us".into(),
            order_id: None,
            quantity: 1,
            dev_offer_id: None,
        }
    }

    fn prepare(&mut self) -> Result<()> {
        for (name, v) in [
            ("b2bKey", self.b2b_key.expose()),
            ("availabilityId", &self.availability_id),
            ("productId", &self.product_id),
            ("skuId", &self.sku_id),
            ("language", &self.language),
            ("market", &self.market),
        ] {
            if v.trim().is_empty() {
                return Err(Error::invalid_argument(format!("{name} is required")));
            }
        }
        if self.quantity != 1 {
            return Err(Error::invalid_argument("grant quantity must be 1"));
        }
        match &self.order_id {
            Some(o) if uuid::Uuid::parse_str(o).is_err() => {
                return Err(Error::invalid_argument(format!(
                    "orderId '{o}' is not a GUID"
                )))
            }
            Some(_) => {}
            None => self.order_id = Some(uuid::Uuid::new_v4().to_string()),
        }
        Ok(())
    }
}

/// One line of an order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderLineItem {
    #[serde(default)]
    pub line_item_id: String,
    #[serde(default)]
    pub product_id: String,
    #[serde(default)]
    pub sku_id: String,
    #[serde(default)]
    pub availability_id: String,
    #[serde(default)]
    pub product_type: String,
    #[serde(default)]
    pub quantity: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beneficiary: Option<IdentityV6>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fulfillment_state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fulfillment_date: Option<Timestamp>,
    #[serde(default, alias = "Title", skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_price: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retail_price: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_amount: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_amount: Option<f64>,
}

/// An order, as the grant returns it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    #[serde(default)]
    pub order_id: String,
    /// `Purchased`, `Refunded`, `ChargedBack`, `Cancelled`, …
    #[serde(default)]
    pub order_state: String,
    #[serde(
        default,
        alias = "createdtime",
        skip_serializing_if = "Option::is_none"
    )]
    pub created_time: Option<Timestamp>,
    #[serde(default)]
    pub order_line_items: Vec<OrderLineItem>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purchaser: Option<IdentityV6>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub market: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_amount: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_context: Option<Value>,
    /// The response body as received.
    #[serde(skip)]
    pub raw_json: String,
}

/// Subscription renewal state (`recurrenceState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum RecurrenceState {
    None,
    Active,
    /// Expired with auto-renew off.
    Inactive,
    Canceled,
    /// Renewal payment failing: grace (benefits on) then dunning (off); compare `now` with
    /// `expiration_time_with_grace`.
    InDunning,
    Failed,
    Revoked,
    Unknown,
}

impl RecurrenceState {
    pub fn parse(s: &str) -> RecurrenceState {
        match s.to_ascii_lowercase().as_str() {
            "none" => RecurrenceState::None,
            "active" => RecurrenceState::Active,
            "inactive" => RecurrenceState::Inactive,
            "canceled" | "cancelled" => RecurrenceState::Canceled,
            "indunning" => RecurrenceState::InDunning,
            "failed" => RecurrenceState::Failed,
            "revoked" => RecurrenceState::Revoked,
            _ => RecurrenceState::Unknown,
        }
    }

    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            RecurrenceState::Inactive
                | RecurrenceState::Canceled
                | RecurrenceState::Failed
                | RecurrenceState::Revoked
        )
    }
}

/// A subscription (RecurrenceItem).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecurrenceItem {
    /// The recurrenceId (`mdr:0:…`).
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub product_id: String,
    #[serde(default)]
    pub sku_id: String,
    #[serde(default)]
    pub recurrence_state: String,
    #[serde(default)]
    pub auto_renew: bool,
    #[serde(default)]
    pub is_trial: bool,
    /// `pub:<userId>`.
    #[serde(default)]
    pub beneficiary: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration_time: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration_time_with_grace: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancellation_date: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub market: Option<String>,
}

impl RecurrenceItem {
    pub fn state(&self) -> RecurrenceState {
        RecurrenceState::parse(&self.recurrence_state)
    }

    /// Whether benefits should be granted at `now`: Active before expiry, or InDunning inside
    /// the grace window (<https://learn.microsoft.com/en-us/gaming/gdk/_content/gc/commerce/service-to-service/microsoft-store-apis/xstore-v8-recurrence-query>).
    pub fn grants_benefits(&self, now: Timestamp) -> bool {
        match self.state() {
            RecurrenceState::Active | RecurrenceState::None => {
                self.expiration_time.is_none_or(|e| now < e)
            }
            RecurrenceState::InDunning => self.expiration_time_with_grace.is_some_and(|g| now < g),
            _ => false,
        }
    }
}

serde_request_body!(RecurrenceQueryRequest);

/// Subscription query for the user named by a UserPurchaseId.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecurrenceQueryRequest {
    pub b2b_key: SecretString,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sbx: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub continuation_token: Option<String>,
    /// A string on the wire (UWP table); omitted when `None`.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "as_string_opt"
    )]
    pub page_size: Option<u32>,
}

fn as_string_opt<S: serde::Serializer>(
    v: &Option<u32>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    match v {
        Some(n) => s.serialize_str(&n.to_string()),
        None => s.serialize_none(),
    }
}

impl RecurrenceQueryRequest {
    pub fn new(purchase_key: &str) -> RecurrenceQueryRequest {
        RecurrenceQueryRequest {
            b2b_key: SecretString::new(purchase_key),
            sbx: None,
            continuation_token: None,
            page_size: None,
        }
    }

    fn validate(&self) -> Result<()> {
        if self.b2b_key.expose().trim().is_empty() {
            return Err(Error::invalid_argument(
                "the UserPurchaseId (b2bKey) is empty",
            ));
        }
        if self.page_size == Some(0) {
            return Err(Error::invalid_argument("pageSize must be at least 1"));
        }
        Ok(())
    }
}

/// One page of subscriptions.
pub type RecurrencePage = Page<RecurrenceItem>;

/// The four documented changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChangeType {
    /// No further renewals.
    Cancel,
    /// Move the expiration by `extension_time_in_days` (may be negative in tests).
    Extend,
    /// Cancel and refund remaining time.
    Refund,
    /// Turns auto-renew off (services cannot turn it on).
    ToggleAutoRenew,
}

impl ChangeType {
    pub fn parse(s: &str) -> Option<ChangeType> {
        match s.to_ascii_lowercase().as_str() {
            "cancel" => Some(ChangeType::Cancel),
            "extend" => Some(ChangeType::Extend),
            "refund" => Some(ChangeType::Refund),
            "toggleautorenew" => Some(ChangeType::ToggleAutoRenew),
            _ => None,
        }
    }
}

/// Changes a subscription's billing state.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecurrenceChangeRequest {
    #[serde(skip)]
    pub recurrence_id: String,
    pub b2b_key: SecretString,
    pub change_type: ChangeType,
    /// Required for `Extend`; omitted otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extension_time_in_days: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sbx: Option<String>,
}

impl RecurrenceChangeRequest {
    pub fn new(purchase_key: &str, recurrence_id: &str, change: ChangeType) -> Self {
        RecurrenceChangeRequest {
            recurrence_id: recurrence_id.to_string(),
            b2b_key: SecretString::new(purchase_key),
            change_type: change,
            extension_time_in_days: None,
            sbx: None,
        }
    }

    pub fn extend(purchase_key: &str, recurrence_id: &str, days: i32) -> Self {
        RecurrenceChangeRequest {
            extension_time_in_days: Some(days),
            ..RecurrenceChangeRequest::new(purchase_key, recurrence_id, ChangeType::Extend)
        }
    }

    fn validate(&self) -> Result<()> {
        if self.b2b_key.expose().trim().is_empty() {
            return Err(Error::invalid_argument(
                "the UserPurchaseId (b2bKey) is empty",
            ));
        }
        let id = self.recurrence_id.trim();
        if id.is_empty() || id.contains(['/', '?', '#']) || id.chars().any(char::is_whitespace) {
            return Err(Error::invalid_argument(format!(
                "recurrenceId '{}' is not a subscription id",
                self.recurrence_id
            )));
        }
        match (self.change_type, self.extension_time_in_days) {
            (ChangeType::Extend, None) | (ChangeType::Extend, Some(0)) => Err(
                Error::invalid_argument("Extend requires a non-zero extensionTimeInDays"),
            ),
            (ChangeType::Extend, _) | (_, None) => Ok(()),
            (_, Some(_)) => Err(Error::invalid_argument(
                "extensionTimeInDays is only valid with Extend",
            )),
        }
    }
}

/// The change response: `{"items":[item]}` (UWP docs) or a bare item (official library).
#[derive(Deserialize)]
#[serde(untagged)]
enum ChangeResponseWire {
    Wrapped { items: Vec<RecurrenceItem> },
    Bare(Box<RecurrenceItem>),
}

impl Core {
    pub(crate) async fn grant(&self, mut req: GrantRequest) -> Result<Order> {
        req.prepare()?;
        let order_id = req.order_id.clone().unwrap_or_default();
        let unknown = |e| unknown_error("grant", "orderId", &order_id, e);
        let sent = self
            .store_call(
                Service::Purchase,
                PATH_GRANT,
                to_json(&req)?,
                "grant",
                RetryOn::NetworkAnd5xx,
            )
            .await;
        match settle("grant", sent, false) {
            Settled::Answered(ex) => {
                // Granted, but unreadable: resending the same orderId returns the order.
                let mut order: Order = parse_body("grant", &ex).map_err(unknown)?;
                order.raw_json = ex.into_body_text();
                Ok(order)
            }
            Settled::Failed(e) => Err(e),
            Settled::Unknown(e) => Err(unknown(e)),
        }
    }

    pub(crate) async fn recurrence_page(
        &self,
        req: &RecurrenceQueryRequest,
    ) -> Result<RecurrencePage> {
        self.page(
            Service::Purchase,
            PATH_RECURRENCE_QUERY,
            OP_RECURRENCES,
            req,
        )
        .await
    }

    pub(crate) async fn recurrences_all(
        &self,
        req: RecurrenceQueryRequest,
    ) -> Result<Vec<RecurrenceItem>> {
        let set_token = |r: &mut RecurrenceQueryRequest, t| r.continuation_token = Some(t);
        let all = self
            .all_pages(
                Service::Purchase,
                PATH_RECURRENCE_QUERY,
                OP_RECURRENCES,
                req,
                set_token,
            )
            .await?;
        Ok(all.items)
    }

    async fn find_recurrence(
        &self,
        key: &SecretString,
        sbx: &Option<String>,
        id: &str,
    ) -> Result<Option<RecurrenceItem>> {
        let mut q = RecurrenceQueryRequest::new(key.expose());
        q.sbx = sbx.clone();
        Ok(self
            .recurrences_all(q)
            .await?
            .into_iter()
            .find(|r| r.id == id))
    }

    pub(crate) async fn change_recurrence(
        &self,
        req: RecurrenceChangeRequest,
    ) -> Result<RecurrenceItem> {
        req.validate()?;
        let path = format!(
            "/v8.0/b2b/recurrences/{}/change",
            url::form_urlencoded::byte_serialize(req.recurrence_id.as_bytes())
                .collect::<String>()
                .replace("%3A", ":")
        );
        let body = to_json(&req)?;
        let op = "change_subscription";
        let what = format!("subscription change {:?}", req.change_type);
        let unknown = |e| unknown_error(&what, "recurrenceId", &req.recurrence_id, e);
        if req.change_type != ChangeType::Extend {
            // Cancel, Refund and ToggleAutoRenew converge on the same state: plain retries.
            let sent = self
                .store_call(Service::Purchase, &path, body, op, RetryOn::NetworkAnd5xx)
                .await;
            return match settle(op, sent, false) {
                Settled::Answered(ex) => parse_change(&ex).map_err(unknown),
                Settled::Failed(e) => Err(e),
                Settled::Unknown(e) => Err(unknown(e)),
            };
        }
        // Extend moves the expiration by a delta, so a resent Extend would extend twice
        // (https://learn.microsoft.com/en-us/windows/uwp/monetize/change-the-billing-state-of-a-subscription-for-a-user):
        // note the expiration before sending, and after an ambiguous failure look again first.
        let before = self
            .find_recurrence(&req.b2b_key, &req.sbx, &req.recurrence_id)
            .await?
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::NotFound,
                    format!("no subscription {} for this user", req.recurrence_id),
                )
            })?
            .expiration_time;
        // Whether any attempt so far may have reached the Store.
        let mut reached = false;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let sent = self
                .store_call(Service::Purchase, &path, body.clone(), op, RetryOn::Never)
                .await;
            let transient = match &sent {
                Ok(ex) => ex.status >= 500 || ex.status == 429,
                Err(_) => true,
            };
            let err = match settle(op, sent, reached) {
                Settled::Answered(ex) => return parse_change(&ex).map_err(unknown),
                Settled::Failed(e) if !transient => return Err(e),
                // Nothing reached the Store (connection refused, a first 429): resend.
                Settled::Failed(e) => e,
                Settled::Unknown(e) => {
                    reached = true;
                    e
                }
            };
            if reached {
                match self
                    .find_recurrence(&req.b2b_key, &req.sbx, &req.recurrence_id)
                    .await
                {
                    Ok(Some(now)) if now.expiration_time != before => return Ok(now),
                    Ok(_) => {}
                    // Without a look, a resend could extend twice.
                    Err(_) => return Err(unknown(err)),
                }
            }
            if attempt >= self.config.retry.max_attempts {
                return Err(if reached { unknown(err) } else { err });
            }
            tokio::time::sleep(backoff(&self.config.retry, attempt, err.retry_after)).await;
        }
    }
}

pub(crate) fn parse_change(ex: &crate::http::Exchange) -> Result<RecurrenceItem> {
    match parse_success::<ChangeResponseWire>("change_subscription", ex)? {
        ChangeResponseWire::Bare(item) => Ok(*item),
        ChangeResponseWire::Wrapped { items } => items.into_iter().next().ok_or_else(|| {
            Error::new(
                ErrorKind::MalformedResponse,
                "change_subscription returned no item",
            )
        }),
    }
}

impl Client {
    /// Grants a free product (v6 grant). Retries reuse the same orderId. Once an attempt may
    /// have reached the Store, the error is `ConsumeOutcomeUnknown` (with `tracking_id` = the
    /// orderId) unless the Store refused the grant: resend with that orderId.
    pub async fn grant_free_product(&self, req: GrantRequest) -> Result<Order> {
        self.run(move |c| async move { c.grant(req).await }).await
    }

    /// All of a user's subscriptions (following continuation tokens when the service pages).
    pub async fn query_subscriptions(
        &self,
        req: RecurrenceQueryRequest,
    ) -> Result<Vec<RecurrenceItem>> {
        req.validate()?;
        self.run(move |c| async move { c.recurrences_all(req).await })
            .await
    }

    /// One page of a user's subscriptions.
    pub async fn query_subscriptions_page(
        &self,
        req: RecurrenceQueryRequest,
    ) -> Result<RecurrencePage> {
        req.validate()?;
        self.run(move |c| async move { c.recurrence_page(&req).await })
            .await
    }

    /// Cancel, Extend, Refund or ToggleAutoRenew a subscription; returns its new state. Once an
    /// attempt may have reached the Store, the error is `ConsumeOutcomeUnknown` (with
    /// `tracking_id` = the recurrenceId) unless the Store refused the change. Cancel, Refund and
    /// ToggleAutoRenew are safe to resend; an Extend is not: query the subscription and compare
    /// its `expirationTime` before sending it again.
    pub async fn change_subscription(
        &self,
        req: RecurrenceChangeRequest,
    ) -> Result<RecurrenceItem> {
        self.run(move |c| async move { c.change_recurrence(req).await })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_response_both_shapes() {
        let item = r#"{"autoRenew":true,"beneficiary":"pub:player-004512","expirationTime":"2026-03-05T23:59:59+00:00","id":"mdr:0:x:y","recurrenceState":"Active","productId":"P","skuId":"0002"}"#;
        for body in [format!(r#"{{"items":[{item}]}}"#), item.to_string()] {
            let w: ChangeResponseWire = serde_json::from_str(&body).unwrap();
            let got = match w {
                ChangeResponseWire::Bare(i) => *i,
                ChangeResponseWire::Wrapped { items } => items[0].clone(),
            };
            assert_eq!(got.id, "mdr:0:x:y");
            assert_eq!(got.state(), RecurrenceState::Active);
        }
    }

    #[test]
    fn change_request_shape() {
        let r = RecurrenceChangeRequest::extend("k", "mdr:0:a:b", 3);
        r.validate().unwrap();
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"b2bKey":"k","changeType":"Extend","extensionTimeInDays":3})
        );
        let c = RecurrenceChangeRequest::new("k", "mdr:0:a:b", ChangeType::Cancel);
        assert_eq!(
            serde_json::to_value(&c).unwrap(),
            serde_json::json!({"b2bKey":"k","changeType":"Cancel"})
        );
        assert!(RecurrenceChangeRequest::new("k", "a/b", ChangeType::Cancel)
            .validate()
            .is_err());
        assert!(RecurrenceChangeRequest::new("k", "x", ChangeType::Extend)
            .validate()
            .is_err());
    }

    #[test]
    fn grant_fills_order_id() {
        let mut g = GrantRequest::new("k", "9PX4K2C7ZQ1M", "0010", "9R2F7HK0QX4B");
        g.prepare().unwrap();
        let v = serde_json::to_value(&g).unwrap();
        assert!(uuid::Uuid::parse_str(v["orderId"].as_str().unwrap()).is_ok());
        assert_eq!(v["quantity"], 1);
        assert_eq!(v["b2bKey"], "k");
    }

    #[test]
    fn benefits_in_grace_not_in_dunning() {
        let now = Timestamp::parse("2026-03-05T00:00:00Z").unwrap();
        let mut r = RecurrenceItem {
            recurrence_state: "InDunning".into(),
            expiration_time: Some(Timestamp::parse("2026-03-02T23:59:59Z").unwrap()),
            expiration_time_with_grace: Some(Timestamp::parse("2026-03-09T23:59:59Z").unwrap()),
            ..Default::default()
        };
        assert!(r.grants_benefits(now));
        r.expiration_time_with_grace = Some(Timestamp::parse("2026-03-04T23:59:59Z").unwrap());
        assert!(!r.grants_benefits(now));
    }
}

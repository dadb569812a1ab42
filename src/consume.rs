//! Consume (report fulfilment): v8
//! (<https://learn.microsoft.com/en-us/gaming/gdk/_content/gc/commerce/service-to-service/microsoft-store-apis/xstore-v8-consume-consumable-products>)
//! and v6 (<https://learn.microsoft.com/en-us/windows/uwp/monetize/report-consumable-products-as-fulfilled>).
//! Retried only with the same trackingId, and the outcome says whether the Store applied it,
//! refused it, or we cannot know.

use crate::client::{parse_success, to_json, Client, Core, Service};
use crate::collections::UserIdentity;
use crate::error::{Error, Result};
use crate::http::{Exchange, RetryOn};
use crate::outcome::{settle, unknown_error, Settled};
use crate::secret::SecretString;
use serde::{Deserialize, Serialize};

mod body;

pub(crate) const PATH_CONSUME_V8: &str = "/v8.0/collections/consume";
pub(crate) const PATH_CONSUME_V6: &str = "/v6.0/collections/consume";

/// A v8 consume. Keep it (or at least its `tracking_id`) until the outcome is known: resending
/// the same request is what makes a retry safe.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsumeRequest {
    pub beneficiary: UserIdentity,
    pub product_id: String,
    /// A GUID unique per logical consume. Generated when `None`.
    pub tracking_id: Option<String>,
    /// Units to remove: required for store-managed consumables (`Consumable`), must be `None`
    /// for developer-managed ones (`UnmanagedConsumable`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remove_quantity: Option<u32>,
    /// Ask for the order transactions consumed (needed to match refunds later).
    pub include_order_ids: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sbx: Option<String>,
}

impl ConsumeRequest {
    /// A store-managed consume of `quantity` units (include_order_ids on, as the sample does).
    pub fn store_managed(
        collections_key: impl Into<SecretString>,
        product_id: &str,
        quantity: u32,
    ) -> ConsumeRequest {
        ConsumeRequest {
            beneficiary: UserIdentity::b2b(collections_key),
            product_id: product_id.to_string(),
            tracking_id: None,
            remove_quantity: Some(quantity),
            include_order_ids: true,
            sbx: None,
        }
    }

    /// A developer-managed consume (no quantity: the whole outstanding balance).
    pub fn developer_managed(collections_key: &str, product_id: &str) -> ConsumeRequest {
        ConsumeRequest {
            remove_quantity: None,
            ..ConsumeRequest::store_managed(collections_key, product_id, 1)
        }
    }

    pub fn with_tracking_id(mut self, id: impl Into<String>) -> ConsumeRequest {
        self.tracking_id = Some(id.into());
        self
    }

    /// Checks the fields and fills in a trackingId when none was given.
    fn prepare(&mut self) -> Result<()> {
        if self.beneficiary.identity_value.expose().trim().is_empty() {
            return Err(Error::invalid_argument(
                "the UserCollectionsId (beneficiary) is empty",
            ));
        }
        if self.product_id.trim().is_empty() {
            return Err(Error::invalid_argument("productId is required"));
        }
        if self.remove_quantity == Some(0) {
            return Err(Error::invalid_argument(
                "removeQuantity must be at least 1 (omit it for developer-managed consumables)",
            ));
        }
        match &self.tracking_id {
            Some(t) => {
                uuid::Uuid::parse_str(t).map_err(|_| {
                    Error::invalid_argument(format!("trackingId '{t}' is not a GUID"))
                })?;
            }
            None => self.tracking_id = Some(uuid::Uuid::new_v4().to_string()),
        }
        Ok(())
    }
}

/// One order line a consume drew from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderTransaction {
    pub order_id: String,
    pub order_line_item_id: String,
    #[serde(default)]
    pub quantity_consumed: i64,
}

/// The Store's answer to a consume that was applied.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsumeResult {
    #[serde(default)]
    pub item_id: String,
    #[serde(default)]
    pub product_id: String,
    #[serde(default)]
    pub tracking_id: String,
    /// Remaining balance (always 0 for developer-managed consumables).
    #[serde(default)]
    pub new_quantity: i64,
    #[serde(default)]
    pub order_transactions: Vec<OrderTransaction>,
}

/// Which of the three things happened.
#[derive(Debug, Clone)]
pub enum ConsumeOutcome {
    /// Applied (or had already been applied under this trackingId).
    Consumed(ConsumeResult),
    /// Definitely not applied: the Store's verdict about this trackingId (e.g. insufficient
    /// quantity), or no attempt could have reached the Store (see `crate::outcome`).
    Failed(Error),
    /// It may have been applied (an attempt may have reached the Store and no verdict came
    /// back): resend with `tracking_id` (safe) until it resolves. Never grant on it.
    Unknown { tracking_id: String, error: Error },
}

impl ConsumeOutcome {
    /// `Consumed` as `Ok`; `Failed` as its error; `Unknown` as a `ConsumeOutcomeUnknown` error
    /// carrying the trackingId.
    pub fn into_result(self) -> Result<ConsumeResult> {
        match self {
            ConsumeOutcome::Consumed(r) => Ok(r),
            ConsumeOutcome::Failed(e) => Err(e),
            ConsumeOutcome::Unknown { tracking_id, error } => {
                Err(unknown_error("consume", "trackingId", &tracking_id, error))
            }
        }
    }
}

/// v6 consume: form A (item id + tracking id) or form B (product id + transaction id).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsumeV6Request {
    pub beneficiary: UserIdentity,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracking_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
}

impl ConsumeV6Request {
    /// Form A; a trackingId is generated when `None`.
    pub fn by_item(collections_key: &str, item_id: &str, tracking_id: Option<String>) -> Self {
        ConsumeV6Request {
            beneficiary: UserIdentity::b2b(collections_key),
            item_id: Some(item_id.to_string()),
            tracking_id: Some(tracking_id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string())),
            product_id: None,
            transaction_id: None,
        }
    }

    /// Form B.
    pub fn by_transaction(collections_key: &str, product_id: &str, transaction_id: &str) -> Self {
        ConsumeV6Request {
            beneficiary: UserIdentity::b2b(collections_key),
            item_id: None,
            tracking_id: None,
            product_id: Some(product_id.to_string()),
            transaction_id: Some(transaction_id.to_string()),
        }
    }

    /// The id to resend with when the outcome is unknown: the trackingId (form A) or the
    /// transactionId (form B); empty when neither is set (`validate` refuses that request).
    pub fn resend_id(&self) -> String {
        self.tracking_id
            .clone()
            .or_else(|| self.transaction_id.clone())
            .unwrap_or_default()
    }

    fn validate(&self) -> Result<()> {
        let some = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.trim().is_empty());
        if self.beneficiary.identity_value.expose().trim().is_empty() {
            return Err(Error::invalid_argument("the UserCollectionsId is empty"));
        }
        let form_a = some(&self.item_id) && some(&self.tracking_id);
        let form_b = some(&self.product_id) && some(&self.transaction_id);
        if form_a == form_b {
            return Err(Error::invalid_argument(
                "v6 consume needs either itemId + trackingId or productId + transactionId, not both or neither",
            ));
        }
        Ok(())
    }
}

impl Core {
    pub(crate) async fn consume(&self, req: ConsumeRequest) -> ConsumeOutcome {
        self.consume_after(req, false).await
    }

    /// A v8 consume; `earlier` says an earlier call with the same trackingId may have reached
    /// the Store (the ledger's resends), so only a verdict may fail this one.
    pub(crate) async fn consume_after(
        &self,
        mut req: ConsumeRequest,
        earlier: bool,
    ) -> ConsumeOutcome {
        if let Err(e) = req.prepare() {
            return ConsumeOutcome::Failed(e);
        }
        let tracking_id = req.tracking_id.clone().unwrap_or_default();
        // Serialised once: every retry sends the byte-identical request.
        let body = body::consume_body(&req);
        let sent = self
            .store_call(
                Service::Collections,
                PATH_CONSUME_V8,
                body,
                "consume",
                RetryOn::TransientAndThrottle,
            )
            .await;
        let settled = settle("consume", sent, earlier);
        ConsumeOutcome::from_settled(settled, tracking_id, |ex| {
            parse_success::<ConsumeResult>("consume", ex)
        })
    }

    /// A v6 consume, settled like v8. The id to resend with is the trackingId (form A) or the
    /// transactionId (form B).
    pub(crate) async fn consume_v6(&self, req: ConsumeV6Request, earlier: bool) -> ConsumeOutcome {
        if let Err(e) = req.validate() {
            return ConsumeOutcome::Failed(e);
        }
        let id = req.resend_id();
        let retry = if req.tracking_id.is_some() {
            RetryOn::TransientAndThrottle
        } else {
            // Form B has no documented idempotency key: no resend on a 429 (never applied
            // anyway), only on failures that may have been applied.
            RetryOn::NetworkAnd5xx
        };
        let body = match to_json(&req) {
            Ok(b) => b,
            Err(e) => return ConsumeOutcome::Failed(e),
        };
        let sent = self
            .store_call(
                Service::Collections,
                PATH_CONSUME_V6,
                body,
                "consume_v6",
                retry,
            )
            .await;
        let settled = settle("consume_v6", sent, earlier);
        // 204 No Content: nothing to read but the id.
        // The result echoes the request's item / product (v6 reports no balance).
        let (item_id, product_id) = (req.item_id.clone(), req.product_id.clone());
        ConsumeOutcome::from_settled(settled, id.clone(), |_| {
            Ok(ConsumeResult {
                tracking_id: id.clone(),
                item_id: item_id.unwrap_or_default(),
                product_id: product_id.unwrap_or_default(),
                ..ConsumeResult::default()
            })
        })
    }
}

impl ConsumeOutcome {
    /// The outcome of a settled consume (`read` turns a 2xx answer into the result).
    fn from_settled(
        settled: Settled,
        tracking_id: String,
        read: impl FnOnce(&Exchange) -> Result<ConsumeResult>,
    ) -> ConsumeOutcome {
        match settled {
            Settled::Answered(ex) => match read(&ex) {
                Ok(r) => ConsumeOutcome::Consumed(r),
                // It was applied, but we cannot read how: only a resend can tell us.
                Err(error) => ConsumeOutcome::Unknown { tracking_id, error },
            },
            Settled::Failed(e) => ConsumeOutcome::Failed(e.with_tracking_id(&tracking_id)),
            Settled::Unknown(e) => ConsumeOutcome::Unknown {
                error: e.with_tracking_id(&tracking_id),
                tracking_id,
            },
        }
    }
}

impl Client {
    /// Consumes a consumable (v8). Never fails outright: the outcome says what happened.
    pub async fn consume(&self, mut req: ConsumeRequest) -> ConsumeOutcome {
        // The trackingId is fixed before anything is sent, so every outcome can name it.
        if let Err(e) = req.prepare() {
            return ConsumeOutcome::Failed(e);
        }
        let tracking_id = req.tracking_id.clone().unwrap_or_default();
        match self
            .run(move |c| async move { Ok(c.consume(req).await) })
            .await
        {
            Ok(o) => o,
            // The operation was cut short (shutdown, panic) at a point we cannot know.
            Err(error) => ConsumeOutcome::Unknown { tracking_id, error },
        }
    }

    /// Legacy v6 consume (204 on success): the same three outcomes as v8; `Consumed` carries
    /// only `tracking_id` (the trackingId, or the transactionId for form B).
    pub async fn consume_v6(&self, req: ConsumeV6Request) -> ConsumeOutcome {
        if let Err(e) = req.validate() {
            return ConsumeOutcome::Failed(e);
        }
        let id = req.resend_id();
        match self
            .run(move |c| async move { Ok(c.consume_v6(req, false).await) })
            .await
        {
            Ok(o) => o,
            Err(error) => ConsumeOutcome::Unknown {
                tracking_id: id,
                error,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn request_shape_and_tracking_id() {
        let mut r = ConsumeRequest::store_managed("eyJk", "9NZB0T3LQH5D", 2);
        r.prepare().unwrap();
        let t = r.tracking_id.clone().unwrap();
        assert!(uuid::Uuid::parse_str(&t).is_ok());
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["removeQuantity"], 2);
        assert_eq!(v["includeOrderIds"], true);
        assert_eq!(v["beneficiary"]["identityType"], "b2b");
        assert_eq!(v["trackingId"], t.as_str());
        assert!(v.get("sbx").is_none());
        let mut d = ConsumeRequest::developer_managed("k", "P");
        d.prepare().unwrap();
        assert!(serde_json::to_value(&d)
            .unwrap()
            .get("removeQuantity")
            .is_none());
        let mut bad = ConsumeRequest::store_managed("k", "P", 1).with_tracking_id("nope");
        assert_eq!(bad.prepare().unwrap_err().kind, ErrorKind::InvalidArgument);
    }

    #[test]
    fn parses_spec_response() {
        let r: ConsumeResult = serde_json::from_str(r#"{"itemId":"d41e","newQuantity":1,"productId":"9NZB0T3LQH5D",
 "trackingId":"5d3e2f1a-8b7c-4d6e-9f0a-1b2c3d4e5f60","orderTransactions":[
 {"orderId":"a3c5","orderLineItemId":"c1e3","quantityConsumed":1,"$type":"consumeOrderTransactionV9"}]}"#).unwrap();
        assert_eq!(r.new_quantity, 1);
        assert_eq!(r.order_transactions[0].quantity_consumed, 1);
    }

    #[test]
    fn unknown_outcome_carries_tracking_id() {
        let e = ConsumeOutcome::Unknown {
            tracking_id: "t-1".into(),
            error: Error::new(ErrorKind::Timeout, "timed out"),
        }
        .into_result()
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::ConsumeOutcomeUnknown);
        assert_eq!(e.tracking_id.as_deref(), Some("t-1"));
    }

    #[test]
    fn v6_forms() {
        assert!(ConsumeV6Request::by_item("k", "item", None)
            .validate()
            .is_ok());
        assert!(ConsumeV6Request::by_transaction("k", "P", "tx")
            .validate()
            .is_ok());
        let mut both = ConsumeV6Request::by_item("k", "item", None);
        both.product_id = Some("P".into());
        both.transaction_id = Some("tx".into());
        assert!(both.validate().is_err());
    }
}

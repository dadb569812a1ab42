//! Clawback v1 (<https://learn.microsoft.com/en-us/gaming/gdk/_content/gc/commerce/service-to-service/microsoft-store-apis/xstore-v8-clawbackv1>):
//! `POST {purchase}/v8.0/b2b/orders/query`, the user's consumable
//! orders of the last 90 days filtered by line state, page by page. Deprecated for refund
//! detection (v2 events arrive within seconds; `orderRefundedDate` appears hours late) but still
//! useful to reconcile one user on demand.

use super::event::lenient_date;
use crate::client::{serde_request_body, Core, Service};
use crate::error::{Error, Result};
use crate::paging::Page;
use crate::secret::SecretString;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

pub(crate) const PATH_ORDERS_QUERY: &str = "/v8.0/b2b/orders/query";
const OP: &str = "clawback_orders";

/// Line states a v1 query can filter on.
pub const LINE_STATE_PURCHASED: &str = "Purchased";
/// Refunded after being consumed (the Store could not take the units back).
pub const LINE_STATE_REVOKED: &str = "Revoked";
/// Refunded before fulfilment.
pub const LINE_STATE_REFUNDED: &str = "Refunded";

serde_request_body!(ClawbackOrdersRequest);

/// A v1 purchase orders query for the user of a UserPurchaseId.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClawbackOrdersRequest {
    /// The UserPurchaseId.
    pub b2b_key: SecretString,
    /// Default `["Revoked", "Refunded"]` (what the official library sends).
    pub line_item_state_filter: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sbx: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub continuation_token: Option<String>,
}

impl ClawbackOrdersRequest {
    pub fn new(purchase_key: &str) -> ClawbackOrdersRequest {
        ClawbackOrdersRequest {
            b2b_key: SecretString::new(purchase_key),
            line_item_state_filter: vec![LINE_STATE_REVOKED.into(), LINE_STATE_REFUNDED.into()],
            sbx: None,
            continuation_token: None,
        }
    }

    /// Replaces the line-state filter.
    pub fn states(mut self, states: &[&str]) -> Self {
        self.line_item_state_filter = states.iter().map(|s| s.to_string()).collect();
        self
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if self.b2b_key.expose().trim().is_empty() {
            return Err(Error::invalid_argument(
                "the UserPurchaseId (b2bKey) is empty",
            ));
        }
        if self.line_item_state_filter.is_empty() {
            return Err(Error::invalid_argument(
                "lineItemStateFilter needs at least one state (Purchased, Revoked, Refunded)",
            ));
        }
        if let Some(s) = self
            .line_item_state_filter
            .iter()
            .find(|s| s.trim().is_empty() || s.len() > 64)
        {
            return Err(Error::invalid_argument(format!(
                "lineItemStateFilter entry '{s}' is not a line state"
            )));
        }
        Ok(())
    }
}

/// One line of a v1 order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClawbackOrderLine {
    #[serde(default)]
    pub line_item_id: String,
    /// `Purchased`, `Revoked` (refunded after consumption) or `Refunded` (before fulfilment).
    #[serde(default)]
    pub line_item_state: String,
    #[serde(default)]
    pub product_id: String,
    #[serde(default)]
    pub quantity: i64,
    #[serde(default)]
    pub sku_id: String,
    /// Whether the Store removed the unconsumed quantity from the user's balance.
    #[serde(default)]
    pub was_consumable_quantity_revoked: bool,
}

/// One order of a v1 query.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClawbackOrder {
    #[serde(default)]
    pub order_id: String,
    /// The 10-digit id shown to users.
    #[serde(default)]
    pub short_order_id: String,
    #[serde(default)]
    pub order_line_items: Vec<ClawbackOrderLine>,
    #[serde(default, deserialize_with = "lenient_date")]
    pub order_purchased_date: Option<Timestamp>,
    /// Appears hours after the refund.
    #[serde(default, deserialize_with = "lenient_date")]
    pub order_refunded_date: Option<Timestamp>,
}

/// One page of a v1 query.
pub type ClawbackOrdersPage = Page<ClawbackOrder>;

impl Core {
    pub(crate) async fn clawback_orders_page(
        &self,
        req: &ClawbackOrdersRequest,
    ) -> Result<ClawbackOrdersPage> {
        req.validate()?;
        self.page(Service::Purchase, PATH_ORDERS_QUERY, OP, req)
            .await
    }

    /// Every page of a v1 query.
    pub(crate) async fn clawback_orders_all(
        &self,
        req: ClawbackOrdersRequest,
    ) -> Result<Vec<ClawbackOrder>> {
        req.validate()?;
        let set_token = |r: &mut ClawbackOrdersRequest, t| r.continuation_token = Some(t);
        let all = self
            .all_pages(Service::Purchase, PATH_ORDERS_QUERY, OP, req, set_token)
            .await?;
        Ok(all.items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_shape_and_validation() {
        let r = ClawbackOrdersRequest::new("k");
        r.validate().unwrap();
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            serde_json::json!({"b2bKey":"k","lineItemStateFilter":["Revoked","Refunded"]})
        );
        assert!(ClawbackOrdersRequest::new("k")
            .states(&[])
            .validate()
            .is_err());
        assert!(ClawbackOrdersRequest::new("k")
            .states(&[" "])
            .validate()
            .is_err());
        assert!(ClawbackOrdersRequest::new(" ").validate().is_err());
        assert!(!format!("{r:?}").contains("\"k\""), "the key is redacted");
    }

    #[test]
    fn spec_example_parses_despite_an_impossible_date() {
        let body = r#"{"items":[{"orderId":"a3c5e7f9-1b2d-4f6a-8c0e-2a4c6e8f0b1d","shortOrderId":"6204918375",
 "orderLineItems":[{"lineItemId":"c1e3a5b7-9d0f-4b2d-8f6a-0c2e4a6b8d9f","lineItemState":"Revoked","productId":"9NZB0T3LQH5D",
 "quantity":1,"skuId":"0010","wasConsumableQuantityRevoked":false}],
 "orderPurchasedDate":"2021-06-142T09:11:02.0031020+00:00","orderRefundedDate":"2026-01-20T16:40:19.7712000+00:00"}]}"#;
        let w: crate::paging::PageWire<ClawbackOrder> = serde_json::from_str(body).unwrap();
        let o = &w.items[0];
        assert_eq!(o.short_order_id, "6204918375");
        assert_eq!(o.order_purchased_date, None);
        assert!(o.order_refunded_date.is_some());
        assert_eq!(o.order_line_items[0].line_item_state, LINE_STATE_REVOKED);
        assert!(w.continuation_token.is_none());
    }
}

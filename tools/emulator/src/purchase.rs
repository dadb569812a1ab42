//! v6 purchase grant (https://learn.microsoft.com/en-us/windows/uwp/monetize/grant-free-products): free products only; a repeated `orderId` for the same user returns
//! the existing order (our choice; the real behaviour is undocumented).

use super::json::{self, ApiError, ApiResult};
use super::keys::Caller;
use super::state::{Order, State};
use serde_json::{json, Map, Value};

pub fn order_json(o: &Order, publisher_user_id: &str) -> Value {
    let pub_id = json!({"identityType": "pub", "identityValue": publisher_user_id});
    let total = o.price * o.quantity as f64;
    let mut line = json!({
        "availabilityId": o.availability_id,
        "beneficiary": pub_id,
        "billingState": "Charged",
        "currencyCode": o.currency,
        "description": o.title,
        "fulfillmentDate": o.created.to_iso(),
        "fulfillmentState": "Fulfilled",
        "isPIRequired": false,
        "isTaxIncluded": true,
        "lineItemId": o.line_item_id,
        "listPrice": o.price,
        "payments": [],
        "productId": o.product_id,
        "productType": o.kind.as_str(),
        "quantity": o.quantity,
        "retailPrice": o.price,
        "revenueRecognitionState": "None",
        "skuId": o.sku_id,
        "taxAmount": 0.0,
        "taxType": "NoApplicableTaxes",
        "title": o.title,
        "totalAmount": total,
    });
    if let (Some(d), Some(l)) = (&o.dev_offer_id, line.as_object_mut()) {
        l.insert("devofferId".into(), json!(d));
    }
    json!({
        "clientContext": {"client": o.client_id},
        "createdTime": o.created.to_iso(),
        "currencyCode": o.currency,
        "friendlyName": o.title,
        "isPIRequired": false,
        "language": o.language,
        "market": o.market,
        "orderId": o.order_id,
        "orderLineItems": [line],
        "orderState": o.state,
        "orderValidityStartTime": o.created.to_iso(),
        "orderValidityEndTime": o.created.to_iso(),
        "purchaser": pub_id,
        "testScenarios": "None",
        "totalAmount": total,
        "totalAmountBeforeTax": total,
        "totalChargedToCsvTopOffPI": 0.0,
        "totalTaxAmount": 0.0,
    })
}

/// `POST /purchase/v6.0/purchases/grant`.
pub fn grant(state: &mut State, caller: &Caller, body: &Map<String, Value>) -> ApiResult<Value> {
    let availability_id = json::req_str(body, "availabilityId")?.to_string();
    let language = json::req_str(body, "language")?.to_string();
    let market = json::req_str(body, "market")?.to_string();
    let order_id = uuid::Uuid::parse_str(json::req_str(body, "orderId")?.trim())
        .map_err(|_| ApiError::bad_request("The field 'orderId' must be a GUID."))?
        .to_string();
    let product_id = json::req_str(body, "productId")?.to_string();
    let sku_id = json::req_str(body, "skuId")?.to_string();
    let quantity = json::opt_i64(body, "quantity")?.unwrap_or(1);
    if quantity != 1 {
        return Err(ApiError::bad_request("The field 'quantity' must be 1."));
    }
    let sbx = json::opt_str(body, "sbx")?.unwrap_or("").to_string();
    if let Some(existing) = state.user(&sbx, &caller.store_user).and_then(|u| {
        u.orders
            .iter()
            .find(|o| o.order_id.eq_ignore_ascii_case(&order_id))
    }) {
        return Ok(order_json(existing, &caller.publisher_user_id));
    }
    let product = state
        .product(&product_id)
        .filter(|p| p.is_linked_to(&caller.client_id))
        .cloned()
        .ok_or_else(|| {
            ApiError::bad_request(format!("The product '{product_id}' was not found."))
        })?;
    if !product.skus.iter().any(|s| s.eq_ignore_ascii_case(&sku_id)) {
        return Err(ApiError::bad_request(format!(
            "The field 'skuId' ('{sku_id}') is not a SKU of '{product_id}'."
        )));
    }
    if !product
        .availability_id
        .eq_ignore_ascii_case(&availability_id)
    {
        return Err(ApiError::bad_request(format!(
            "The field 'availabilityId' ('{availability_id}') does not match the product."
        )));
    }
    if product.price != 0.0 {
        return Err(ApiError::bad_request(format!(
            "The product '{product_id}' is not free; only zero-price products can be granted."
        )));
    }
    let r = state
        .create_order(
            &sbx,
            &caller.store_user,
            &caller.publisher_user_id,
            &product_id,
            Some(&sku_id),
            1,
            Some(order_id),
            &caller.client_id,
            &language,
            &market,
        )
        .map_err(ApiError::bad_request)?;
    let order = state
        .user(&sbx, &caller.store_user)
        .and_then(|u| u.orders.iter().find(|o| o.order_id == r.order_id))
        .ok_or_else(|| ApiError::new(500, "InternalServerError", None, "order vanished"))?;
    Ok(order_json(order, &caller.publisher_user_id))
}

//! Consume: v8 (https://learn.microsoft.com/en-us/gaming/gdk/_content/gc/commerce/service-to-service/microsoft-store-apis/xstore-v8-consume-consumable-products) and v6 (https://learn.microsoft.com/en-us/windows/uwp/monetize/report-consumable-products-as-fulfilled),, with their documented idempotency rules.
//! Store-managed consumables deduct FIFO across orders; developer-managed ones fulfil one
//! outstanding unit at a time and always report `newQuantity: 0`.

use super::catalog::ProductKind;
use super::json::{self, ApiError, ApiResult};
use super::keys::Caller;
use super::state::{ConsumeRecord, State, UserState};
use serde_json::{json, Map, Value};

fn insufficient(state: &State, product_id: &str) -> ApiError {
    let status = state.knobs.insufficient_quantity_status;
    let code = if status == 400 {
        "BadRequest"
    } else {
        "Conflict"
    };
    ApiError::new(
        status,
        code,
        Some("InsufficientQuantity"),
        format!("The user does not have enough quantity of '{product_id}' to consume (emulator: synthetic error, the real code is unpublished)."),
    )
}

fn parse_guid(name: &str, s: &str) -> ApiResult<String> {
    uuid::Uuid::parse_str(s.trim())
        .map(|u| u.to_string())
        .map_err(|_| ApiError::bad_request(format!("The field '{name}' must be a GUID.")))
}

/// Deducts `qty` units FIFO across the user's orders of `product_id`.
fn deduct_fifo(user: &mut UserState, product_id: &str, mut qty: i64) -> Vec<(String, String, i64)> {
    let mut txs = Vec::new();
    for o in user
        .orders
        .iter_mut()
        .filter(|o| o.product_id.eq_ignore_ascii_case(product_id) && o.state == "Purchased")
    {
        if qty == 0 {
            break;
        }
        let take = o.remaining.min(qty);
        if take > 0 {
            o.remaining -= take;
            qty -= take;
            txs.push((o.order_id.clone(), o.line_item_id.clone(), take));
        }
    }
    txs
}

fn consumable_product(
    state: &State,
    caller: &Caller,
    product_id: &str,
) -> ApiResult<(String, ProductKind)> {
    let p = state
        .product(product_id)
        .filter(|p| p.is_linked_to(&caller.client_id))
        .ok_or_else(|| {
            ApiError::bad_request(format!("The product '{product_id}' was not found."))
        })?;
    if !p.kind.is_consumable() {
        return Err(ApiError::bad_request(format!(
            "The product '{product_id}' is not a consumable."
        )));
    }
    Ok((p.product_id.clone(), p.kind))
}

fn response(
    rec: &ConsumeRecord,
    tracking_id: &str,
    new_quantity: i64,
    include: bool,
    txs: &[(String, String, i64)],
) -> Value {
    let mut v = json!({
        "itemId": rec.item_id,
        "productId": rec.product_id,
        "trackingId": tracking_id,
        "newQuantity": new_quantity,
    });
    if include {
        if let Some(o) = v.as_object_mut() {
            o.insert(
                "orderTransactions".into(),
                Value::Array(
                    txs.iter()
                        .map(|(oid, lid, q)| json!({"orderId": oid, "orderLineItemId": lid, "quantityConsumed": q}))
                        .collect(),
                ),
            );
        }
    }
    v
}

/// `POST /collections/v8.0/collections/consume`.
pub fn consume_v8(
    state: &mut State,
    caller: &Caller,
    body: &Map<String, Value>,
) -> ApiResult<Value> {
    let product_id = json::req_str(body, "productId")?.to_string();
    let tracking_id = parse_guid("trackingId", json::req_str(body, "trackingId")?)?;
    let quantity = match json::opt_i64(body, "removeQuantity")? {
        Some(q) => Some(q),
        None => json::opt_i64(body, "quantity")?,
    };
    let include = json::opt_bool(body, "includeOrderIds")?.unwrap_or(false);
    let sbx = match json::opt_str(body, "sbx")? {
        Some(s) => s.to_string(),
        None => json::opt_str(body, "sandbox")?.unwrap_or("").to_string(),
    };
    let (canonical_id, kind) = consumable_product(state, caller, &product_id)?;
    match (kind, quantity) {
        (ProductKind::Consumable, None) => {
            return Err(ApiError::bad_request(
                "The field 'removeQuantity' is required for store-managed consumables.",
            ))
        }
        (ProductKind::Consumable, Some(q)) if q < 1 => {
            return Err(ApiError::bad_request(
                "The field 'removeQuantity' must be at least 1.",
            ))
        }
        (ProductKind::UnmanagedConsumable, Some(_))
            if state.knobs.reject_remove_quantity_for_unmanaged =>
        {
            return Err(ApiError::bad_request(
                "The field 'removeQuantity' must be omitted for developer-managed consumables.",
            ))
        }
        _ => {}
    }
    let key = tracking_id.to_ascii_lowercase();
    let reject_reuse = state.knobs.reject_tracking_id_reuse;
    if let Some(rec) = state
        .user(&sbx, &caller.store_user)
        .and_then(|u| u.consumes.get(&key))
        .cloned()
    {
        if rec.product_id.eq_ignore_ascii_case(&canonical_id) && rec.quantity == quantity {
            // Idempotent replay: no deduction, current balance, original transactions.
            let balance = match kind {
                ProductKind::Consumable => state.balance(&sbx, &caller.store_user, &canonical_id),
                _ => 0,
            };
            let txs = if kind == ProductKind::Consumable {
                rec.order_transactions.clone()
            } else {
                Vec::new()
            };
            return Ok(response(&rec, &tracking_id, balance, include, &txs));
        }
        if reject_reuse {
            return Err(ApiError::bad_request(
                "The trackingId was already used for a different consume request.",
            ));
        }
    }
    let balance = state.balance(&sbx, &caller.store_user, &canonical_id);
    let take = match kind {
        ProductKind::Consumable => quantity.unwrap_or(1),
        _ => 1,
    };
    if balance < take {
        return Err(insufficient(state, &canonical_id));
    }
    let now = state.now();
    let user = state.user_mut(&sbx, &caller.store_user);
    let txs = deduct_fifo(user, &canonical_id, take);
    let item_id = match user
        .entitlements
        .iter_mut()
        .find(|e| e.product_id.eq_ignore_ascii_case(&canonical_id))
    {
        Some(e) => {
            e.modified = now;
            e.id.clone()
        }
        None => String::new(),
    };
    let rec = ConsumeRecord {
        product_id: canonical_id.clone(),
        quantity,
        item_id,
        order_transactions: txs.clone(),
    };
    user.consumes.insert(key, rec.clone());
    let new_quantity = match kind {
        ProductKind::Consumable => state.balance(&sbx, &caller.store_user, &canonical_id),
        _ => 0,
    };
    Ok(response(&rec, &tracking_id, new_quantity, include, &txs))
}

/// `POST /collections/v6.0/collections/consume`: 204 on success (both forms).
pub fn consume_v6(state: &mut State, caller: &Caller, body: &Map<String, Value>) -> ApiResult<()> {
    let item_id = json::opt_str(body, "itemId")?.filter(|s| !s.is_empty());
    let tracking = json::opt_str(body, "trackingId")?.filter(|s| !s.is_empty());
    let product_id = json::opt_str(body, "productId")?.filter(|s| !s.is_empty());
    let transaction = json::opt_str(body, "transactionId")?.filter(|s| !s.is_empty());
    let now = state.now();
    match (item_id, tracking, product_id, transaction) {
        (Some(item), Some(tracking), None, None) => {
            let tracking = parse_guid("trackingId", tracking)?.to_ascii_lowercase();
            let product_id = state
                .user("", &caller.store_user)
                .and_then(|u| {
                    u.entitlements
                        .iter()
                        .find(|e| e.id.eq_ignore_ascii_case(item))
                })
                .map(|e| e.product_id.clone())
                .ok_or_else(|| {
                    ApiError::bad_request(format!("The item '{item}' was not found."))
                })?;
            let (pid, _kind) = consumable_product(state, caller, &product_id)?;
            if let Some(rec) = state
                .user("", &caller.store_user)
                .and_then(|u| u.consumes.get(&tracking))
            {
                if rec.item_id.eq_ignore_ascii_case(item) {
                    return Ok(());
                }
                if state.knobs.reject_tracking_id_reuse {
                    return Err(ApiError::bad_request(
                        "The trackingId was already used for a different consume request.",
                    ));
                }
            }
            if state.balance("", &caller.store_user, &pid) < 1 {
                return Err(insufficient(state, &pid));
            }
            let user = state.user_mut("", &caller.store_user);
            let txs = deduct_fifo(user, &pid, 1);
            if let Some(e) = user
                .entitlements
                .iter_mut()
                .find(|e| e.id.eq_ignore_ascii_case(item))
            {
                e.modified = now;
            }
            user.consumes.insert(
                tracking,
                ConsumeRecord {
                    product_id: pid,
                    quantity: Some(1),
                    item_id: item.to_string(),
                    order_transactions: txs,
                },
            );
            Ok(())
        }
        (None, None, Some(product_id), Some(transaction)) => {
            let (pid, _kind) = consumable_product(state, caller, product_id)?;
            let user = state.user_mut("", &caller.store_user);
            let order = user
                .orders
                .iter_mut()
                .find(|o| {
                    o.order_id.eq_ignore_ascii_case(transaction)
                        && o.product_id.eq_ignore_ascii_case(&pid)
                })
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "The transaction '{transaction}' was not found for product '{pid}'."
                    ))
                })?;
            // Reporting the whole purchase as fulfilled; repeating it is a no-op (idempotent).
            order.remaining = 0;
            if let Some(e) = user
                .entitlements
                .iter_mut()
                .find(|e| e.product_id.eq_ignore_ascii_case(&pid))
            {
                e.modified = now;
            }
            Ok(())
        }
        _ => Err(ApiError::bad_request(
            "Exactly one of 'itemId'+'trackingId' or 'productId'+'transactionId' is required.",
        )),
    }
}

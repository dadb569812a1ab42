//! Collections queries: v6 `collections/query` (https://learn.microsoft.com/en-us/windows/uwp/monetize/query-for-products), v8 `b2bLicensePreview` (https://learn.microsoft.com/en-us/gaming/gdk/_content/gc/commerce/service-to-service/microsoft-store-apis/xstore-v8-query-for-products) and v9
//! `publisherQuery` (https://learn.microsoft.com/en-us/gaming/gdk/_content/gc/commerce/service-to-service/microsoft-store-apis/xstore-v9-query-for-products). Filtering, duplicate rules, and an opaque continuation token that
//! is a JSON string such as `{"checkSatisfactionIndex":2}` (the cursor into the sorted result).

use super::catalog::ProductKind;
use super::json::{self, ApiError, ApiResult};
use super::keys::Caller;
use super::state::{Entitlement, State};
use crate::time::{format_timespan, Timestamp};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryVersion {
    V6,
    V8,
    V9,
}

/// The `identityValue` (Store ID key) of the first beneficiary.
pub fn beneficiary_key(body: &Map<String, Value>, field: &str) -> ApiResult<String> {
    let first = match json::get_present(body, field) {
        Some(Value::Array(a)) => a.first().cloned().ok_or_else(|| {
            ApiError::bad_request(format!("The field '{field}' must contain one beneficiary."))
        })?,
        Some(Value::Object(o)) => Value::Object(o.clone()),
        Some(_) => {
            return Err(ApiError::bad_request(format!(
                "The field '{field}' must be an array of UserIdentity objects."
            )))
        }
        None => {
            return Err(ApiError::bad_request(format!(
                "The field '{field}' is required."
            )))
        }
    };
    let Value::Object(o) = first else {
        return Err(ApiError::bad_request(format!(
            "The field '{field}' must contain UserIdentity objects."
        )));
    };
    if let Some(t) = json::opt_str(&o, "identityType")? {
        if !t.eq_ignore_ascii_case("b2b") {
            return Err(ApiError::bad_request(
                "The field 'identityType' must be 'b2b'.",
            ));
        }
    }
    Ok(json::req_str(&o, "identityValue")?.to_string())
}

/// Reads the identityValue for fault matching without failing.
pub fn peek_key(body: &Map<String, Value>) -> Option<String> {
    for f in ["beneficiaries", "beneficiary"] {
        if let Ok(k) = beneficiary_key(body, f) {
            return Some(k);
        }
    }
    ["b2bKey", "key"]
        .iter()
        .find_map(|f| json::opt_str(body, f).ok().flatten().map(str::to_string))
}

struct SkuFilter {
    product_id: String,
    sku_id: Option<String>,
}

fn parse_sku_filters(body: &Map<String, Value>) -> ApiResult<Option<Vec<SkuFilter>>> {
    let Some(list) = json::opt_array(body, "productSkuIds")? else {
        return Ok(None);
    };
    list.iter()
        .map(|v| {
            let o = v.as_object().ok_or_else(|| {
                ApiError::bad_request(
                    "The field 'productSkuIds' must contain ProductSkuId objects.",
                )
            })?;
            Ok(SkuFilter {
                product_id: json::req_str(o, "productId")?.to_string(),
                sku_id: json::opt_str(o, "skuId")?
                    .filter(|s| !s.is_empty())
                    .map(str::to_string),
            })
        })
        .collect::<ApiResult<Vec<_>>>()
        .map(Some)
}

/// Parses an `entitlementFilters` entry `<productId or *>:<Kind>`.
fn parse_entitlement_filter(s: &str) -> ApiResult<(Option<String>, ProductKind)> {
    let bad = || ApiError::bad_request(format!("The entitlementFilters value '{s}' is invalid."));
    let (scope, kind) = s.split_once(':').ok_or_else(bad)?;
    let kind = ProductKind::parse(kind).ok_or_else(bad)?;
    let scope = scope.trim();
    Ok((
        (scope != "*" && !scope.is_empty()).then(|| scope.to_string()),
        kind,
    ))
}

fn is_valid(e: &Entitlement, now: Timestamp) -> bool {
    e.status == "Active" && e.start <= now && now < e.end
}

fn status_rank(e: &Entitlement) -> u8 {
    match e.status.as_str() {
        "Active" => 0,
        "Revoked" => 2,
        _ => 1,
    }
}

/// Keeps the best entitlement per key: Active > other (most recent) > Revoked.
fn better(a: &Entitlement, b: &Entitlement) -> bool {
    (status_rank(a), std::cmp::Reverse(a.modified))
        < (status_rank(b), std::cmp::Reverse(b.modified))
}

fn parse_cursor(token: Option<&str>) -> ApiResult<usize> {
    let Some(t) = token.filter(|t| !t.is_empty()) else {
        return Ok(0);
    };
    let bad = || ApiError::bad_request("The field 'continuationToken' is invalid.");
    let v: Value = serde_json::from_str(t).map_err(|_| bad())?;
    v.get("checkSatisfactionIndex")
        .and_then(Value::as_u64)
        .map(|n| n as usize)
        .ok_or_else(bad)
}

/// Handles the three query versions.
pub fn query(
    state: &mut State,
    caller: &Caller,
    version: QueryVersion,
    body: &Map<String, Value>,
) -> ApiResult<Value> {
    let now = state.now();
    let (cap, default_page) = match version {
        QueryVersion::V9 => (200, 100),
        _ => (100, 100),
    };
    let page_size = json::opt_i64(body, "maxPageSize")?.unwrap_or(default_page);
    // Over-the-cap sizes are rejected (not clamped) so client bugs surface.
    if page_size < 1 || page_size > cap {
        return Err(ApiError::bad_request(format!(
            "The field 'maxPageSize' must be between 1 and {cap}."
        )));
    }
    let skus = parse_sku_filters(body)?;
    if version == QueryVersion::V9 {
        match &skus {
            None => {
                return Err(ApiError::bad_request(
                    "The field 'productSkuIds' is required.",
                ))
            }
            Some(s) if s.len() > 100 => {
                return Err(ApiError::bad_request(
                    "The field 'productSkuIds' must not contain more than 100 entries.",
                ))
            }
            Some(s) if s.is_empty() => {
                return Err(ApiError::bad_request(
                    "The field 'productSkuIds' must not be empty.",
                ))
            }
            _ => {}
        }
    }
    let cursor = parse_cursor(json::opt_str(body, "continuationToken")?)?;
    let sbx = if version == QueryVersion::V6 {
        ""
    } else {
        json::opt_str(body, "sbx")?.unwrap_or("")
    };
    let validity = json::opt_str(body, "validityType")?
        .unwrap_or("All")
        .to_string();
    if !["All", "Valid", "Invalid", "NotYetEnded", "NotYetStarted"]
        .iter()
        .any(|v| v.eq_ignore_ascii_case(&validity))
    {
        return Err(ApiError::bad_request(format!(
            "The field 'validityType' has an unsupported value '{validity}'."
        )));
    }
    let (kind_filters, expand, exclude_dups) = match version {
        QueryVersion::V8 => {
            let filters = json::opt_str_list(body, "entitlementFilters")?
                .map(|l| {
                    l.iter()
                        .map(|s| parse_entitlement_filter(s))
                        .collect::<ApiResult<Vec<_>>>()
                })
                .transpose()?;
            json::opt_str(body, "market")?;
            (
                filters,
                json::opt_bool(body, "expandSatisfyingItems")?.unwrap_or(true),
                json::opt_bool(body, "excludeDuplicates")?.unwrap_or(true),
            )
        }
        QueryVersion::V9 => (
            None,
            true,
            json::opt_bool(body, "excludeDuplicates")?.unwrap_or(true),
        ),
        QueryVersion::V6 => {
            let types = json::opt_str_list(body, "productTypes")?
                .ok_or_else(|| ApiError::bad_request("The field 'productTypes' is required."))?;
            let filters = types
                .iter()
                .map(|t| {
                    ProductKind::parse(t).map(|k| (None, k)).ok_or_else(|| {
                        ApiError::bad_request(format!("The productTypes value '{t}' is invalid."))
                    })
                })
                .collect::<ApiResult<Vec<_>>>()?;
            (Some(filters), true, true)
        }
    };
    let parent = if version == QueryVersion::V6 {
        json::opt_str(body, "parentProductId")?.map(str::to_string)
    } else {
        None
    };
    let modified_after = match json::opt_str(body, "modifiedAfter")? {
        Some(s) if version == QueryVersion::V6 => Some(Timestamp::parse(s).map_err(|_| {
            ApiError::bad_request("The field 'modifiedAfter' is not a valid date.")
        })?),
        _ => None,
    };

    let Some(user) = state.user(sbx, &caller.store_user) else {
        return Ok(json!({ "items": [] }));
    };
    let candidates: Vec<&Entitlement> = user
        .entitlements
        .iter()
        .filter(|e| {
            let Some(p) = state.product(&e.product_id) else {
                return false;
            };
            if !p.is_linked_to(&caller.client_id) {
                return false;
            }
            if let Some(skus) = &skus {
                if !skus.iter().any(|f| {
                    f.product_id.eq_ignore_ascii_case(&e.product_id)
                        && none_or_eq(f.sku_id.as_ref(), &e.sku_id)
                }) {
                    return false;
                }
            }
            if let Some(kf) = &kind_filters {
                if !kf.iter().any(|(scope, kind)| {
                    *kind == e.kind && none_or_eq(scope.as_ref(), &e.product_id)
                }) {
                    return false;
                }
            }
            if !expand && e.source != super::state::Source::Direct {
                return false;
            }
            if let Some(pp) = &parent {
                if !p
                    .parent_product_id
                    .as_deref()
                    .is_some_and(|x| x.eq_ignore_ascii_case(pp))
                {
                    return false;
                }
            }
            if modified_after.is_some_and(|m| e.modified <= m) {
                return false;
            }
            match validity.to_ascii_lowercase().as_str() {
                "valid" => is_valid(e, now),
                "invalid" => !is_valid(e, now),
                "notyetended" => e.end > now,
                "notyetstarted" => e.start > now,
                _ => true,
            }
        })
        .collect();

    // Same-source duplicates always collapse; with excludeDuplicates one item per product,
    // preferring direct > bundle > subscription > promo.
    let mut best: HashMap<(String, u8), &Entitlement> = HashMap::new();
    for e in candidates {
        let k = (
            e.product_id.to_ascii_uppercase(),
            if exclude_dups { 0 } else { e.source.priority() },
        );
        let replace = match best.get(&k) {
            None => true,
            Some(cur) if exclude_dups => {
                (e.source.priority(), status_rank(e)) < (cur.source.priority(), status_rank(cur))
                    || (e.source == cur.source && better(e, cur))
            }
            Some(cur) => better(e, cur),
        };
        if replace {
            best.insert(k, e);
        }
    }
    let mut items: Vec<&Entitlement> = best.into_values().collect();
    items.sort_by(|a, b| {
        (a.acquired, &a.product_id, &a.id).cmp(&(b.acquired, &b.product_id, &b.id))
    });

    let total = items.len();
    let start = cursor.min(total);
    let end = (start + page_size as usize).min(total);
    let mut page: Vec<Value> = Vec::new();
    if state.knobs.inject_cross_page_duplicates && start > 0 && start <= total {
        if let Some(prev) = items.get(start - 1) {
            let mut dup = item_json(state, caller, sbx, prev, version, now);
            if let Some(o) = dup.as_object_mut() {
                o.insert("status".into(), json!("Expired"));
            }
            page.push(dup);
        }
    }
    for e in &items[start..end] {
        page.push(item_json(state, caller, sbx, e, version, now));
    }
    let mut out = json!({ "items": page });
    if end < total {
        if let Some(o) = out.as_object_mut() {
            o.insert(
                "continuationToken".into(),
                json!(json!({ "checkSatisfactionIndex": end }).to_string()),
            );
        }
    }
    Ok(out)
}

/// An absent filter matches everything; a present one matches case-insensitively.
fn none_or_eq(filter: Option<&String>, value: &str) -> bool {
    match filter {
        None => true,
        Some(f) => f.eq_ignore_ascii_case(value),
    }
}

fn quantity(state: &State, caller: &Caller, sbx: &str, e: &Entitlement) -> i64 {
    match e.kind {
        ProductKind::Consumable => state.balance(sbx, &caller.store_user, &e.product_id),
        ProductKind::UnmanagedConsumable => {
            state.balance(sbx, &caller.store_user, &e.product_id).min(1)
        }
        _ => 1,
    }
}

fn trial_json(e: &Entitlement, now: Timestamp) -> Value {
    let mut t = json!({
        "isTrial": e.is_trial,
        "isInTrialPeriod": e.is_trial && e.trial_end.is_some_and(|t| now < t),
    });
    if let (Some(end), Some(o)) = (e.trial_end, t.as_object_mut()) {
        o.insert(
            "trialTimeRemaining".into(),
            json!(format_timespan(end.duration_since(now))),
        );
    }
    t
}

fn item_json(
    state: &State,
    caller: &Caller,
    sbx: &str,
    e: &Entitlement,
    version: QueryVersion,
    now: Timestamp,
) -> Value {
    let product = state.product(&e.product_id);
    let qty = quantity(state, caller, sbx, e);
    match version {
        QueryVersion::V6 => {
            let mut v = json!({
                "acquiredDate": e.acquired.to_iso(),
                "endDate": e.end.to_iso(),
                "itemId": e.id,
                "localTicketReference": caller.publisher_user_id,
                "modifiedDate": e.modified.to_iso(),
                "orderId": e.order_id,
                "orderLineItemId": e.line_item_id,
                "ownershipType": "OwnedByBeneficiary",
                "productId": e.product_id,
                "productType": e.kind.as_str(),
                "purchasedCountry": e.purchased_country,
                "purchaser": {"identityType": "pub", "identityValue": e.publisher_user_id},
                "quantity": 1,
                "skuId": e.sku_id,
                "skuType": if e.is_trial { "Trial" } else { "Full" },
                "startDate": e.start.to_iso(),
                "status": e.status,
                "tags": [],
                "transactionId": e.transaction_id,
            });
            if let (Some(p), Some(o)) = (product, v.as_object_mut()) {
                if let Some(d) = &p.dev_offer_id {
                    o.insert("devOfferId".into(), json!(d));
                }
                if let Some(t) = &p.in_app_offer_token {
                    o.insert("inAppOfferToken".into(), json!(t));
                }
            }
            v
        }
        QueryVersion::V8 => {
            let mut v = json!({
                "acquiredDate": e.acquired.to_iso(),
                "acquisitionType": e.acquisition_type,
                "beneficiary": {"identityType": "pub", "identityValue": caller.publisher_user_id},
                "endDate": e.end.to_iso(),
                "id": e.id,
                "localTicketReference": "",
                "modifiedDate": e.modified.to_iso(),
                "productFamily": product.map(|p| p.product_family.clone()).unwrap_or_default(),
                "productId": e.product_id,
                "productKind": e.kind.as_str(),
                "purchasedCountry": e.purchased_country,
                "quantity": qty,
                "recurrenceData": match &e.recurrence_id {
                    Some(r) => json!({"recurrenceId": r}),
                    None => json!({}),
                },
                "satisfiedByProductIds": e.satisfied_by,
                "sharingSource": "None",
                "skuId": e.sku_id,
                "startDate": e.start.to_iso(),
                "status": e.status,
                "tags": [],
                "transactionId": e.transaction_id,
                "trialData": trial_json(e, now),
            });
            if let (Some(p), Some(o)) = (product, v.as_object_mut()) {
                if let Some(d) = &p.dev_offer_id {
                    o.insert("devOfferId".into(), json!(d));
                }
                if let Some(t) = &p.in_app_offer_token {
                    o.insert("inAppOfferToken".into(), json!(t));
                }
                if let Some(l) = &p.legacy_product_id {
                    o.insert("legacyProductId".into(), json!(l));
                    o.insert("legacyOfferInstanceId".into(), json!(e.line_item_id));
                }
            }
            v
        }
        QueryVersion::V9 => {
            let mut v = json!({
                "acquiredDate": e.acquired.to_iso(),
                "acquisitionType": e.acquisition_type,
                "endDate": e.end.to_iso(),
                "id": e.id,
                "modifiedDate": e.modified.to_iso(),
                "productId": e.product_id,
                "productKind": e.kind.as_str(),
                "quantity": qty,
                "satisfiedByProductIds": e.satisfied_by,
                "skuId": e.sku_id,
                "startDate": e.start.to_iso(),
                "status": e.status,
                "tags": [],
                "transactionId": e.transaction_id,
                "trialData": trial_json(e, now),
            });
            if let (Some(r), Some(o)) = (&e.recurrence_id, v.as_object_mut()) {
                o.insert("recurrenceId".into(), json!(r));
                if state.knobs.v9_emit_recurrence_data {
                    o.insert("recurrenceData".into(), json!(r));
                }
            }
            v
        }
    }
}

//! The composed example requests and responses of the wire spec, as fixtures: our request types
//! serialise to them and our response types parse them.

use msstore::{
    ConsumeRequest, ConsumeResult, EntitlementItem, GrantRequest, Order, ProductSkuId,
    QueryV8Request, QueryV9Request, RecurrenceChangeRequest, RecurrenceItem, RecurrenceState,
    StoreIdKey, Timestamp,
};
use serde_json::{json, Value};

#[derive(serde::Deserialize)]
struct Page {
    items: Vec<EntitlementItem>,
    #[serde(default, rename = "continuationToken")]
    continuation_token: Option<String>,
}

#[test]
fn v6_query_response() {
    let body = r#"{"items":[{"acquiredDate":"2025-11-02T18:04:11.5120333+00:00","endDate":"9999-12-31T23:59:59.9999999+00:00",
 "itemId":"6f0c2b9d1e7a4c55b3d8e2a917c4f0aa","localTicketReference":"player-004512","modifiedDate":"2025-11-02T18:04:11.6003121+00:00",
 "ownershipType":"OwnedByBeneficiary","productId":"9PX4K2C7ZQ1M","productType":"Durable","quantity":1,"skuId":"0010",
 "skuType":"Full","startDate":"2025-11-02T18:04:11.5120333+00:00","status":"Active","tags":[],
 "transactionId":"0b9a7c1e-44d2-4f6b-9e3a-5c2d8f1b7a60"}]}"#;
    let p: Page = serde_json::from_str(body).unwrap();
    let i = &p.items[0];
    assert_eq!(i.id, "6f0c2b9d1e7a4c55b3d8e2a917c4f0aa");
    assert_eq!(i.kind(), msstore::ProductKind::Durable);
    assert_eq!(i.sku_type.as_deref(), Some("Full"));
    assert!(i.end_date.unwrap().is_max());
    assert_eq!(
        i.acquired_date.unwrap().to_iso(),
        "2025-11-02T18:04:11.5120333+00:00"
    );
    assert!(p.continuation_token.is_none());
}

#[test]
fn v8_query_request_and_response() {
    let mut r = QueryV8Request::new("eyJ…");
    r.entitlement_filters = vec!["*:Consumable".into(), "*:Durable".into()];
    r.product_sku_ids = Some(vec![ProductSkuId::product("9NZB0T3LQH5D")]);
    r.sbx = Some("XDKS.1".into());
    let v = serde_json::to_value(&r).unwrap();
    assert_eq!(
        v,
        json!({"beneficiaries":[{"identityType":"b2b","identityValue":"eyJ…","localTicketReference":""}],
         "excludeDuplicates":true,"maxPageSize":100,"entitlementFilters":["*:Consumable","*:Durable"],
         "market":"neutral","expandSatisfyingItems":true,"productSkuIds":[{"productId":"9NZB0T3LQH5D"}],"sbx":"XDKS.1"})
    );
    let body = r#"{"items":[{"acquiredDate":"2026-01-14T09:12:40.1173402+00:00","acquisitionType":"Single",
 "beneficiary":{"identityType":"pub","identityValue":"player-004512"},"endDate":"9999-12-31T23:59:59.9999999+00:00",
 "id":"d41e6a0b7c2f4e9a8b3c5d6e7f8091a2","localTicketReference":"","modifiedDate":"2026-01-14T09:12:40.2040011+00:00",
 "productFamily":"Games","productId":"9NZB0T3LQH5D","productKind":"Consumable","purchasedCountry":"DE","quantity":3,
 "recurrenceData":{},"satisfiedByProductIds":[],"sharingSource":"None","skuId":"0010","startDate":"2026-01-14T09:12:40.1173402+00:00",
 "status":"Active","tags":[],"transactionId":"7e2d1c4b-9a8f-4b3e-a1d2-c3e4f5a6b7c8",
 "trialData":{"isInTrialPeriod":false,"isTrial":false},"$type":"x","payments":[]}]}"#;
    let p: Page = serde_json::from_str(body).unwrap();
    let i = &p.items[0];
    assert_eq!(i.quantity, 3);
    assert_eq!(i.acquisition(), msstore::AcquisitionType::Single);
    assert_eq!(
        i.beneficiary.as_ref().unwrap().identity_value,
        "player-004512"
    );
    assert_eq!(i.recurrence_id, None);
    assert!(!i.trial_data.as_ref().unwrap().is_trial);
}

#[test]
fn v9_continuation_request() {
    let mut r = QueryV9Request::new("eyJ…", vec![ProductSkuId::product("9NZB0T3LQH5D")]);
    r.continuation_token = Some("{\"checkSatisfactionIndex\":2}".into());
    let v = serde_json::to_value(&r).unwrap();
    assert_eq!(v["continuationToken"], "{\"checkSatisfactionIndex\":2}");
    let text = serde_json::to_string(&r).unwrap();
    assert!(text.contains(r#""continuationToken":"{\"checkSatisfactionIndex\":2}""#));
}

#[test]
fn v8_consume_request_and_response() {
    let r = ConsumeRequest::store_managed("eyJ…", "9NZB0T3LQH5D", 2)
        .with_tracking_id("5d3e2f1a-8b7c-4d6e-9f0a-1b2c3d4e5f60");
    assert_eq!(
        serde_json::to_value(&r).unwrap(),
        json!({"beneficiary":{"identityType":"b2b","identityValue":"eyJ…","localTicketReference":""},
         "productId":"9NZB0T3LQH5D","trackingId":"5d3e2f1a-8b7c-4d6e-9f0a-1b2c3d4e5f60","removeQuantity":2,"includeOrderIds":true})
    );
    let body = r#"{"itemId":"d41e6a0b7c2f4e9a8b3c5d6e7f8091a2","newQuantity":1,"productId":"9NZB0T3LQH5D",
 "trackingId":"5d3e2f1a-8b7c-4d6e-9f0a-1b2c3d4e5f60","orderTransactions":[
 {"orderId":"a3c5e7f9-1b2d-4f6a-8c0e-2a4c6e8f0b1d","orderLineItemId":"c1e3a5b7-9d0f-4b2d-8f6a-0c2e4a6b8d9f","quantityConsumed":1},
 {"orderId":"f0e1d2c3-b4a5-4968-8776-655443322110","orderLineItemId":"0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d","quantityConsumed":1}]}"#;
    let r: ConsumeResult = serde_json::from_str(body).unwrap();
    assert_eq!(r.new_quantity, 1);
    assert_eq!(r.order_transactions.len(), 2);
}

#[test]
fn grant_request_and_response() {
    let mut g = GrantRequest::new("eyJ…", "9PX4K2C7ZQ1M", "0010", "9R2F7HK0QX4B");
    g.order_id = Some("2c4e6a8b-0d1f-4a3b-9c5d-7e9f1a3b5c7d".into());
    assert_eq!(
        serde_json::to_value(&g).unwrap(),
        json!({"b2bKey":"eyJ…","availabilityId":"9R2F7HK0QX4B","productId":"9PX4K2C7ZQ1M","skuId":"0010",
         "language":"en-us","market":"us","orderId":"2c4e6a8b-0d1f-4a3b-9c5d-7e9f1a3b5c7d","quantity":1})
    );
    let body = r#"{"clientContext":{"client":"b6e0d7c2-41a8-4f3e-9d25-0c7a18e4f9b6"},"createdTime":"2026-02-03T10:00:01.1000000+00:00",
 "currencyCode":"USD","isPIRequired":false,"language":"en-us","market":"us","orderId":"2c4e6a8b-0d1f-4a3b-9c5d-7e9f1a3b5c7d",
 "orderLineItems":[{"availabilityId":"9R2F7HK0QX4B","beneficiary":{"identityType":"pub","identityValue":"player-004512"},
 "billingState":"Charged","currencyCode":"USD","description":"Starter Pack","fulfillmentDate":"2026-02-03T10:00:01.4000000+00:00",
 "fulfillmentState":"Fulfilled","isPIRequired":false,"isTaxIncluded":true,"lineItemId":"9e8d7c6b-5a49-4382-b1a0-f9e8d7c6b5a4",
 "listPrice":0.0,"productId":"9PX4K2C7ZQ1M","productType":"Durable","quantity":1,"retailPrice":0.0,
 "revenueRecognitionState":"None","skuId":"0010","taxAmount":0.0,"taxType":"NoApplicableTaxes","title":"Starter Pack","totalAmount":0.0}],
 "orderState":"Purchased","purchaser":{"identityType":"pub","identityValue":"player-004512"},"totalAmount":0.0,"totalTaxAmount":0.0}"#;
    let o: Order = serde_json::from_str(body).unwrap();
    assert_eq!(o.order_state, "Purchased");
    assert_eq!(o.order_line_items[0].title.as_deref(), Some("Starter Pack"));
    assert_eq!(
        o.order_line_items[0].fulfillment_state.as_deref(),
        Some("Fulfilled")
    );
    assert_eq!(
        o.created_time.unwrap().to_iso(),
        "2026-02-03T10:00:01.1000000+00:00"
    );
}

#[test]
fn recurrence_query_and_change() {
    let body = r#"{"items":[{"autoRenew":true,"beneficiary":"pub:player-004512","expirationTime":"2026-03-02T23:59:59+00:00",
"expirationTimeWithGrace":"2026-03-09T23:59:59+00:00","id":"mdr:0:4f1e2d3c4b5a69788796a5b4c3d2e1f0:6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d",
"isTrial":false,"lastModified":"2026-02-03T00:00:04.12+00:00","market":"US","productId":"9MWQ3RSN7T2K","skuId":"0002",
"startTime":"2026-02-03T00:00:00+00:00","recurrenceState":"Active"}]}"#;
    #[derive(serde::Deserialize)]
    struct P {
        items: Vec<RecurrenceItem>,
    }
    let p: P = serde_json::from_str(body).unwrap();
    let r = &p.items[0];
    assert_eq!(r.state(), RecurrenceState::Active);
    assert!(r.grants_benefits(Timestamp::parse("2026-03-01T00:00:00Z").unwrap()));
    assert!(!r.grants_benefits(Timestamp::parse("2026-03-03T00:00:00Z").unwrap()));
    let c = RecurrenceChangeRequest::extend("eyJ…", &r.id, 3);
    assert_eq!(
        serde_json::to_value(&c).unwrap(),
        json!({"b2bKey":"eyJ…","changeType":"Extend","extensionTimeInDays":3})
    );
}

#[test]
fn renew_key_example_claims_decode() {
    let claims: Value = json!({"http://schemas.microsoft.com/marketplace/2015/08/claims/key/clientId":"b6e0d7c241a84f3e9d250c7a18e4f9b6",
     "http://schemas.microsoft.com/marketplace/2015/08/claims/key/payload":"q8Zt==",
     "http://schemas.microsoft.com/marketplace/2015/08/claims/key/userId":"player-004512",
     "http://schemas.microsoft.com/marketplace/2015/08/claims/key/refreshUri":"https://purchase.mp.microsoft.com/v6.0/b2b/keys/renew",
     "iat":1767225600,"nbf":1767222000,"exp":1769817600,
     "iss":"https://purchase.mp.microsoft.com/v6.0/keys","aud":"https://purchase.mp.microsoft.com/v6.0/keys"});
    let key = format!(
        "{}.sig",
        msstore::jwt::signing_input(&json!({"typ":"JWT","alg":"RS256","x5t":"x"}), &claims)
    );
    let k = StoreIdKey::decode(&key).unwrap();
    assert_eq!(k.kind, msstore::KeyKind::Purchase);
    assert_eq!(k.issued_at.to_iso(), "2026-01-01T00:00:00.0000000+00:00");
}

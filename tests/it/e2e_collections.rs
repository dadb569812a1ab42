//! Collections queries and consume against the emulator over loopback HTTP.

use crate::common;

use common::World;
use msstore::{
    ConsumeOutcome, ConsumeRequest, ConsumeV6Request, EntitlementStatus, ErrorKind, ProductKind,
    ProductSkuId, QueryV6Request, QueryV8Request, QueryV9Request,
};
use msstore_emulator::{FaultKind, ProductKind as EmuKind, ProductSpec};
use std::time::{Duration, Instant};

fn all_products(w: &World) -> Vec<ProductSkuId> {
    [
        &w.seed.durable_product_id,
        &w.seed.consumable_product_id,
        &w.seed.unmanaged_consumable_product_id,
        &w.seed.subscription_product_id,
        &w.seed.bundle_product_id,
        &w.seed.bundle_child_product_id,
        &w.seed.free_product_id,
    ]
    .iter()
    .map(|p| ProductSkuId::product(*p))
    .collect()
}

#[test]
fn v9_query_returns_typed_items() {
    let w = World::new();
    let c = w.client();
    let r = c
        .block_on(c.query_v9(QueryV9Request::new(
            &w.seed.collections_key,
            all_products(&w),
        )))
        .unwrap()
        .unwrap();
    let find = |id: &str| r.items.iter().find(|i| i.product_id == id).cloned();
    let durable = find(&w.seed.durable_product_id).expect("durable owned");
    assert_eq!(durable.kind(), ProductKind::Durable);
    assert_eq!(durable.status(), EntitlementStatus::Active);
    assert!(durable.end_date.unwrap().is_max());
    let consumable = find(&w.seed.consumable_product_id).unwrap();
    assert_eq!(consumable.kind(), ProductKind::Consumable);
    assert_eq!(consumable.quantity, 10);
    let sub = find(&w.seed.subscription_product_id).unwrap();
    assert_eq!(
        sub.recurrence_id.as_deref(),
        Some(w.seed.recurrence_id.as_str())
    );
    assert!(
        find(&w.seed.bundle_child_product_id).is_some(),
        "bundle contents are expanded"
    );
    assert!(find(&w.seed.free_product_id).is_none(), "not granted yet");
    assert_eq!(r.pages, 1);
}

#[test]
fn paging_followed_page_by_page_and_capped() {
    let w = World::new();
    w.emu
        .update_knobs(|k| k.inject_cross_page_duplicates = true);
    let c = w.client();
    let mut req = QueryV9Request::new(&w.seed.collections_key, all_products(&w));
    req.max_page_size = 2;
    let all = c.block_on(c.query_v9(req.clone())).unwrap().unwrap();
    assert!(all.pages >= 3, "pages: {}", all.pages);
    assert!(all.duplicates_removed >= 1, "cross-page duplicates removed");
    let mut ids: Vec<_> = all.items.iter().map(|i| i.product_id.clone()).collect();
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n, "one item per product");
    assert!(all
        .items
        .iter()
        .all(|i| i.status() == EntitlementStatus::Active));

    // Page by page gives the same pages.
    let mut pages = 0;
    let mut seen = 0;
    let mut page_req = req.clone();
    loop {
        let p = c
            .block_on(c.query_v9_page(page_req.clone()))
            .unwrap()
            .unwrap();
        pages += 1;
        seen += p.items.len();
        assert!(p.raw_json.contains("items"));
        match p.continuation_token {
            Some(t) => page_req.continuation_token = Some(t),
            None => break,
        }
    }
    assert_eq!(pages, all.pages);
    assert_eq!(seen, n + all.duplicates_removed as usize);

    let capped = w.client_with(|c| c.max_pages = 2);
    let e = capped.block_on(capped.query_v9(req)).unwrap().unwrap_err();
    assert!(e.message.contains("max_pages"), "{e}");
}

#[test]
fn v8_and_v6_queries() {
    let w = World::new();
    let c = w.client();
    let mut v8 = QueryV8Request::new(&w.seed.collections_key);
    v8.entitlement_filters = vec!["*:Durable".into()];
    let r = c.block_on(c.query_v8(v8)).unwrap().unwrap();
    assert!(!r.items.is_empty());
    assert!(
        r.items.iter().all(|i| i.kind() == ProductKind::Durable),
        "{:?}",
        r.items
    );

    let r = c
        .block_on(c.query_v6(QueryV6Request::new(&w.seed.collections_key)))
        .unwrap()
        .unwrap();
    let durable = r
        .items
        .iter()
        .find(|i| i.product_id == w.seed.durable_product_id)
        .expect("v6 lists the durable");
    assert!(!durable.id.is_empty(), "v6 itemId mapped to id");
    assert_eq!(durable.kind(), ProductKind::Durable);
}

#[test]
fn unlinked_products_give_empty_results_not_errors() {
    let w = World::new();
    w.emu.add_product(ProductSpec {
        product_id: "9UNLINKED001".into(),
        kind: EmuKind::Durable,
        price: 1.0,
        linked_client_ids: vec!["99999999-0000-0000-0000-000000000000".into()],
        ..ProductSpec::default()
    });
    w.emu
        .purchase(&w.seed.store_user_id, "9UNLINKED001", "0010", 1)
        .unwrap();
    let c = w.client();
    let r = c
        .block_on(c.query_v9(QueryV9Request::new(
            &w.seed.collections_key,
            vec![ProductSkuId::product("9UNLINKED001")],
        )))
        .unwrap()
        .unwrap();
    assert!(r.items.is_empty());
}

#[test]
fn query_input_errors_are_caught_locally() {
    let w = World::new();
    let c = w.client();
    let too_many = (0..101)
        .map(|i| ProductSkuId::product(format!("9P{i:010}")))
        .collect();
    let e = c
        .block_on(c.query_v9(QueryV9Request::new(&w.seed.collections_key, too_many)))
        .unwrap()
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
    let e = c
        .block_on(c.query_v9(QueryV9Request::new("", all_products(&w))))
        .unwrap()
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
    assert!(w.emu.requests().is_empty(), "nothing was sent");
}

#[test]
fn throttled_query_waits_out_retry_after_then_succeeds() {
    let w = World::new();
    w.fault(
        "collections_v9_query",
        FaultKind::Throttle {
            retry_after_secs: 1,
        },
        1,
    );
    let c = w.client();
    let started = Instant::now();
    c.block_on(c.query_v9(QueryV9Request::new(
        &w.seed.collections_key,
        all_products(&w),
    )))
    .unwrap()
    .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(950));
    assert_eq!(w.statuses("collections_v9_query"), vec![429, 200]);
}

#[test]
fn long_retry_after_is_returned_to_the_caller() {
    let w = World::new();
    w.fault(
        "collections_v9_query",
        FaultKind::Throttle {
            retry_after_secs: 120,
        },
        1,
    );
    let c = w.client();
    let e = c
        .block_on(c.query_v9(QueryV9Request::new(
            &w.seed.collections_key,
            all_products(&w),
        )))
        .unwrap()
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Throttled);
    assert_eq!(e.retry_after, Some(Duration::from_secs(120)));
    assert_eq!(e.http_status, Some(429));
    assert!(e.ms_cv.is_some());
}

#[test]
fn server_errors_timeouts_and_garbage() {
    let w = World::new();
    let c = w.client_with(|c| {
        c.retry.max_attempts = 2;
        c.request_timeout = Duration::from_millis(300);
    });
    let q = || QueryV9Request::new(&w.seed.collections_key, all_products(&w));
    w.fault("collections_v9_query", FaultKind::Status { status: 500 }, 5);
    let e = c.block_on(c.query_v9(q())).unwrap().unwrap_err();
    assert_eq!(e.kind, ErrorKind::Network);
    assert_eq!(e.http_status, Some(500));
    w.emu.clear_faults();

    w.fault("collections_v9_query", FaultKind::Delay { ms: 1500 }, 2);
    let e = c.block_on(c.query_v9(q())).unwrap().unwrap_err();
    assert_eq!(e.kind, ErrorKind::Timeout);
    w.emu.clear_faults();

    w.fault("collections_v9_query", FaultKind::MalformedJson, 1);
    let e = c.block_on(c.query_v9(q())).unwrap().unwrap_err();
    assert_eq!(e.kind, ErrorKind::MalformedResponse);

    w.fault("collections_v9_query", FaultKind::DropBeforeApply, 1);
    c.block_on(c.query_v9(q())).unwrap().unwrap();
}

#[test]
fn consume_store_managed_and_replay_is_idempotent() {
    let w = World::new();
    let c = w.client();
    let product = &w.seed.consumable_product_id;
    let req = ConsumeRequest::store_managed(&w.seed.collections_key, product, 5)
        .with_tracking_id("5d3e2f1a-8b7c-4d6e-9f0a-1b2c3d4e5f60");
    let first = c
        .block_on(c.consume(req.clone()))
        .unwrap()
        .into_result()
        .unwrap();
    assert_eq!(first.new_quantity, 5);
    // FIFO across the two seeded orders (4 + 6): 4 from the first, 1 from the second.
    let consumed: Vec<i64> = first
        .order_transactions
        .iter()
        .map(|t| t.quantity_consumed)
        .collect();
    assert_eq!(consumed, vec![4, 1]);
    let again = c.block_on(c.consume(req)).unwrap().into_result().unwrap();
    assert_eq!(again.new_quantity, 5);
    assert_eq!(again.order_transactions, first.order_transactions);
    assert_eq!(w.emu.balance(&w.seed.store_user_id, product), 5);
}

#[test]
fn consume_with_dropped_response_is_retried_with_the_same_tracking_id() {
    let w = World::new();
    let c = w.client();
    let product = &w.seed.consumable_product_id;
    w.fault("collections_v8_consume", FaultKind::DropAfterApply, 1);
    let r = c
        .block_on(c.consume(ConsumeRequest::store_managed(
            &w.seed.collections_key,
            product,
            2,
        )))
        .unwrap()
        .into_result()
        .unwrap();
    assert_eq!(r.new_quantity, 8);
    assert_eq!(
        w.emu.balance(&w.seed.store_user_id, product),
        8,
        "deducted once"
    );
    let bodies: Vec<serde_json::Value> = w
        .emu
        .requests()
        .into_iter()
        .filter(|r| r.route == "collections_v8_consume")
        .map(|r| serde_json::from_str(&r.body).unwrap())
        .collect();
    assert_eq!(bodies.len(), 2);
    assert_eq!(bodies[0]["trackingId"], bodies[1]["trackingId"]);
    assert_eq!(bodies[0], bodies[1], "byte-identical logical request");
    assert_eq!(w.statuses("collections_v8_consume"), vec![0, 200]);
}

#[test]
fn consume_outcomes_failed_and_unknown() {
    let w = World::new();
    let c = w.client_with(|c| c.retry.max_attempts = 2);
    let product = &w.seed.consumable_product_id;
    // Business failure: definitely not applied.
    match c
        .block_on(c.consume(ConsumeRequest::store_managed(
            &w.seed.collections_key,
            product,
            50,
        )))
        .unwrap()
    {
        ConsumeOutcome::Failed(e) => {
            assert_eq!(e.kind, ErrorKind::Service);
            assert_eq!(e.inner_code.as_deref(), Some("InsufficientQuantity"));
            assert!(e.tracking_id.is_some());
        }
        other => panic!("expected Failed, got {other:?}"),
    }
    // Every attempt applied but lost: unknown, with the trackingId to resend.
    w.fault("collections_v8_consume", FaultKind::DropAfterApply, 2);
    let (tracking_id, error) = match c
        .block_on(c.consume(ConsumeRequest::store_managed(
            &w.seed.collections_key,
            product,
            1,
        )))
        .unwrap()
    {
        ConsumeOutcome::Unknown { tracking_id, error } => (tracking_id, error),
        other => panic!("expected Unknown, got {other:?}"),
    };
    assert_eq!(error.kind, ErrorKind::Network);
    assert_eq!(w.emu.balance(&w.seed.store_user_id, product), 9);
    // Resending with the trackingId resolves it without deducting again.
    let r = c
        .block_on(
            c.consume(
                ConsumeRequest::store_managed(&w.seed.collections_key, product, 1)
                    .with_tracking_id(&tracking_id),
            ),
        )
        .unwrap()
        .into_result()
        .unwrap();
    assert_eq!(r.new_quantity, 9);
    assert_eq!(w.emu.balance(&w.seed.store_user_id, product), 9);

    // 5xx on every attempt: unknown too (the service may have applied it).
    w.fault(
        "collections_v8_consume",
        FaultKind::Status { status: 503 },
        2,
    );
    let e = c
        .block_on(c.consume(ConsumeRequest::store_managed(
            &w.seed.collections_key,
            product,
            1,
        )))
        .unwrap()
        .into_result()
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::ConsumeOutcomeUnknown);
    assert!(e.tracking_id.is_some());

    // Nothing listening: never sent, so definitely not applied.
    let dead = w.client_with(|c| {
        c.collections_base_url = "http://127.0.0.1:9/collections".into();
        c.retry.max_attempts = 1;
    });
    match dead
        .block_on(dead.consume(ConsumeRequest::store_managed(
            &w.seed.collections_key,
            product,
            1,
        )))
        .unwrap()
    {
        ConsumeOutcome::Failed(e) => assert_eq!(e.kind, ErrorKind::Network),
        other => panic!("expected Failed, got {other:?}"),
    }
}

#[test]
fn developer_managed_consume_and_v6_consume() {
    let w = World::new();
    let c = w.client();
    let product = &w.seed.unmanaged_consumable_product_id;
    let r = c
        .block_on(c.consume(ConsumeRequest::developer_managed(
            &w.seed.collections_key,
            product,
        )))
        .unwrap()
        .into_result()
        .unwrap();
    assert_eq!(r.new_quantity, 0);
    assert_eq!(w.emu.balance(&w.seed.store_user_id, product), 0);

    // v6, form B (product + transaction id from a v6 query).
    w.emu
        .purchase(&w.seed.store_user_id, product, &w.seed.sku_id, 1)
        .unwrap();
    let items = c
        .block_on(c.query_v6(QueryV6Request::new(&w.seed.collections_key)))
        .unwrap()
        .unwrap()
        .items;
    let item = items
        .iter()
        .find(|i| &i.product_id == product && i.is_active())
        .expect("v6 lists the unmanaged consumable");
    let done = c
        .block_on(c.consume_v6(ConsumeV6Request::by_item(
            &w.seed.collections_key,
            &item.id,
            None,
        )))
        .unwrap()
        .into_result()
        .unwrap();
    assert!(uuid::Uuid::parse_str(&done.tracking_id).is_ok(), "{done:?}");
    assert_eq!(w.emu.balance(&w.seed.store_user_id, product), 0);
    assert_eq!(w.statuses("collections_v6_consume"), vec![204]);
}

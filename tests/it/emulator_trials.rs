//! Trials: `purchase_trial` and `POST /admin/purchases {"trial":true}` → `trialData` on v8/v9,
//! `skuType: "Trial"` on v6, `isTrial` on recurrences; trials end on the virtual clock.
use crate::emulator_support;

use emulator_support::*;
use msstore::time::parse_timespan;
use msstore_emulator::{ProductKind, ProductSpec};
use serde_json::json;
use std::time::Duration;

const GAME: &str = "9TRIALGAME01";
const SUB: &str = "9TRIALSUB001";

fn world_with_trials() -> World {
    let w = World::new();
    w.emu
        .add_product(ProductSpec::new(GAME, ProductKind::Game).trial(7));
    w.emu.add_product(
        ProductSpec::new(SUB, ProductKind::Durable)
            .subscription(1, 7, 36)
            .trial(14),
    );
    w
}

fn remaining(item: &serde_json::Value) -> Duration {
    let s = item["trialData"]["trialTimeRemaining"]
        .as_str()
        .unwrap_or_else(|| panic!("no trialTimeRemaining in {item}"));
    parse_timespan(s).unwrap_or_else(|| panic!("not a TimeSpan: {s}"))
}

/// The virtual clock ticks with real time: allow a minute of test run time.
fn assert_close(got: Duration, want: Duration) {
    assert!(
        got <= want && want - got < Duration::from_secs(60),
        "{got:?} vs {want:?}"
    );
}

#[test]
fn trial_items_carry_trial_data_and_expire() {
    let mut w = world_with_trials();
    let user = w.seed.store_user_id.clone();
    w.emu.purchase_trial(&user, GAME, "").unwrap();

    let v8 = item_for(&w.v8(json!({})).json(), GAME);
    assert_eq!(v8["trialData"]["isTrial"], true);
    assert_eq!(v8["trialData"]["isInTrialPeriod"], true);
    assert_close(remaining(&v8), Duration::from_secs(7 * 86_400));
    assert_eq!(v8["status"], "Active");

    w.advance(Duration::from_secs(86_400 + 3_600));
    let v9 = item_for(
        &w.v9(json!({"productSkuIds": [{"productId": GAME}]})).json(),
        GAME,
    );
    assert_eq!(v9["trialData"]["isInTrialPeriod"], true);
    assert_close(remaining(&v9), Duration::from_secs(5 * 86_400 + 23 * 3_600));
    // d.hh:mm:ss.fffffff; the virtual clock also ticks in real time, hence the two spellings.
    let s = v9["trialData"]["trialTimeRemaining"].as_str().unwrap();
    assert!(
        s == "5.23:00:00.0000000" || s.starts_with("5.22:59:5"),
        "{s}"
    );
    assert_eq!(s.len(), "5.20:00:00.0000000".len(), "{s}");

    let v6 = item_for(&w.v6(json!({})).json(), GAME);
    assert_eq!(v6["skuType"], "Trial");

    // After the trial: not in the trial period any more, expired, invisible to "Valid".
    w.advance(Duration::from_secs(6 * 86_400));
    let v8 = item_for(&w.v8(json!({})).json(), GAME);
    assert_eq!(v8["trialData"]["isTrial"], true);
    assert_eq!(v8["trialData"]["isInTrialPeriod"], false);
    assert_eq!(v8["status"], "Expired");
    let valid = w.v8(json!({"validityType": "Valid"})).json();
    assert!(!product_ids(&valid).contains(&GAME.to_string()));
}

#[test]
fn full_purchases_are_not_trials() {
    let w = world_with_trials();
    w.emu.purchase(&w.seed.store_user_id, GAME, "", 1).unwrap();
    let v8 = item_for(&w.v8(json!({})).json(), GAME);
    assert_eq!(v8["trialData"]["isTrial"], false);
    assert_eq!(v8["trialData"]["isInTrialPeriod"], false);
    assert_eq!(item_for(&w.v6(json!({})).json(), GAME)["skuType"], "Full");
}

#[test]
fn trial_subscription_is_trial_until_first_renewal() {
    let mut w = world_with_trials();
    let o = w
        .emu
        .purchase_trial(&w.seed.store_user_id, SUB, "")
        .unwrap();
    let rid = o
        .recurrence_id
        .expect("subscription trial has a recurrence");
    let j = w.recurrences(json!({})).json();
    let rec = j["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == rid.as_str())
        .cloned()
        .unwrap();
    assert_eq!(rec["isTrial"], true);
    assert_eq!(rec["recurrenceState"], "Active");
    let v9 = item_for(
        &w.v9(json!({"productSkuIds": [{"productId": SUB}]})).json(),
        SUB,
    );
    assert_eq!(v9["trialData"]["isTrial"], true);
    assert_eq!(v9["trialData"]["isInTrialPeriod"], true);
    assert_eq!(v9["recurrenceId"], rid.as_str());

    // Auto-renew converts the trial into a paid subscription.
    w.advance(Duration::from_secs(15 * 86_400));
    let j = w.recurrences(json!({})).json();
    let rec = j["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == rid.as_str())
        .cloned()
        .unwrap();
    assert_eq!(rec["isTrial"], false);
    assert_eq!(rec["recurrenceState"], "Active");
    let v9 = item_for(
        &w.v9(json!({"productSkuIds": [{"productId": SUB}]})).json(),
        SUB,
    );
    assert_eq!(v9["trialData"]["isTrial"], false);
    assert_eq!(v9["status"], "Active");
}

#[test]
fn trial_rules_and_admin_route() {
    let w = world_with_trials();
    let user = &w.seed.store_user_id;
    // No trial configured / consumable: refused, not a panic.
    assert!(w
        .emu
        .purchase_trial(user, &w.seed.durable_product_id, "")
        .is_err());
    assert!(w
        .emu
        .purchase_trial(user, &w.seed.consumable_product_id, "")
        .is_err());
    assert!(w.emu.purchase_trial(user, "9NOSUCHPROD1", "").is_err());

    let url = format!("{}/admin/purchases", w.emu.base_url());
    let r = w.http.post_json(
        &url,
        None,
        &json!({"store_user_id": user, "product_id": GAME, "trial": true}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.json()["entitlement_id"].is_string());
    let v8 = item_for(&w.v8(json!({})).json(), GAME);
    assert_eq!(v8["trialData"]["isTrial"], true);
    let r = w.http.post_json(
        &url,
        None,
        &json!({"store_user_id": user, "product_id": w.seed.durable_product_id, "trial": true}),
    );
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.json()["error"].as_str().unwrap().contains("no trial"));
}

//! The `msstore` command-line tool against the in-process emulator.

#[path = "../../../tests/it/common/mod.rs"]
mod common;

use common::World;
use serde_json::Value;
use std::process::{Command, Output};

fn msstore(w: Option<&World>, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_msstore"));
    cmd.args(args);
    for var in [
        "MSSTORE_TENANT_ID",
        "MSSTORE_CLIENT_ID",
        "MSSTORE_CLIENT_SECRET",
        "MSSTORE_EMULATOR_URL",
    ] {
        cmd.env_remove(var);
    }
    if let Some(w) = w {
        cmd.env("MSSTORE_TENANT_ID", &w.seed.tenant_id)
            .env("MSSTORE_CLIENT_ID", &w.seed.client_id)
            .env("MSSTORE_CLIENT_SECRET", &w.seed.client_secret)
            .env("MSSTORE_EMULATOR_URL", w.emu.base_url());
    }
    cmd.output().expect("msstore runs")
}

fn json(out: &[u8]) -> Value {
    serde_json::from_slice(out)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(out)))
}

#[test]
fn key_decode_works_offline() {
    let w = World::new();
    let key = w.seed.collections_key.clone();
    drop(w); // no emulator, no configuration: decode needs neither
    let out = msstore(None, &["key", "decode", &key]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&out.stdout);
    assert_eq!(v["kind"], "collections");
    assert_eq!(v["user_id"], "player-004512");
    assert!(v["renew_after"].is_string());
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains(&key),
        "the key is not echoed"
    );

    let out = msstore(None, &["key", "decode", "garbage"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json(&out.stderr)["error"]["kind"], "invalid_key");
}

#[test]
fn token_query_consume_grant_subscriptions() {
    let w = World::new();
    let out = msstore(Some(&w), &["token", "--audience", "collections"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(json(&out.stdout)["access_token"]
        .as_str()
        .unwrap()
        .starts_with("eyJ"));

    let out = msstore(
        Some(&w),
        &[
            "query",
            "--key",
            &w.seed.collections_key,
            "--product",
            &w.seed.consumable_product_id,
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(json(&out.stdout)["items"][0]["quantity"], 10);

    let out = msstore(
        Some(&w),
        &[
            "consume",
            "--key",
            &w.seed.collections_key,
            "--product",
            &w.seed.consumable_product_id,
            "--quantity",
            "2",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&out.stdout);
    assert_eq!(v["outcome"], "consumed");
    assert_eq!(v["result"]["newQuantity"], 8);
    assert_eq!(
        w.emu
            .balance(&w.seed.store_user_id, &w.seed.consumable_product_id),
        8
    );

    let out = msstore(
        Some(&w),
        &[
            "grant",
            "--key",
            &w.seed.purchase_key,
            "--product",
            &w.seed.free_product_id,
            "--sku",
            &w.seed.free_sku_id,
            "--availability",
            &w.seed.free_availability_id,
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(json(&out.stdout)["orderState"], "Purchased");

    let out = msstore(Some(&w), &["subscriptions", "--key", &w.seed.purchase_key]);
    assert!(out.status.success());
    assert_eq!(
        json(&out.stdout)["items"][0]["id"],
        w.seed.recurrence_id.as_str()
    );

    let out = msstore(
        Some(&w),
        &[
            "subscription",
            "change",
            "--key",
            &w.seed.purchase_key,
            "--id",
            &w.seed.recurrence_id,
            "--type",
            "ToggleAutoRenew",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(json(&out.stdout)["autoRenew"], false);

    let out = msstore(Some(&w), &["key", "renew", &w.seed.purchase_key]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(json(&out.stdout)["decoded"]["kind"], "purchase");
}

#[test]
fn errors_are_json_with_exit_codes() {
    let w = World::new();
    // Insufficient balance: a service error.
    let out = msstore(
        Some(&w),
        &[
            "consume",
            "--key",
            &w.seed.collections_key,
            "--product",
            &w.seed.consumable_product_id,
            "--quantity",
            "99",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let e = json(&out.stderr);
    assert_eq!(e["error"]["inner_code"], "InsufficientQuantity");
    assert!(e["error"]["tracking_id"].is_string());

    // Revoked key: renewal says re-mint (exit 4).
    w.emu.revoke_key(&w.seed.purchase_key);
    let out = msstore(Some(&w), &["key", "renew", &w.seed.purchase_key]);
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(json(&out.stderr)["error"]["kind"], "key_must_be_reminted");

    // Missing configuration (exit 3), unknown flag and unknown command (exit 2).
    let out = msstore(None, &["token"]);
    assert_eq!(out.status.code(), Some(3));
    let out = msstore(Some(&w), &["query", "--key", "k", "--bogus", "1"]);
    assert_eq!(out.status.code(), Some(2));
    let out = msstore(Some(&w), &["fly"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!String::from_utf8_lossy(&out.stderr).contains(&w.seed.client_secret));
}

#[test]
fn clawback_orders_receive_peek_delete() {
    use msstore_emulator::ClawbackAction;
    let w = World::new();
    let user = w.seed.store_user_id.clone();
    let o = w
        .emu
        .purchase(&user, &w.seed.consumable_product_id, "", 2)
        .unwrap();
    w.emu
        .clawback_order(ClawbackAction::Return, &user, &o.order_id)
        .unwrap();

    let out = msstore(
        Some(&w),
        &["clawback", "orders", "--key", &w.seed.purchase_key],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&out.stdout);
    assert_eq!(v["items"].as_array().unwrap().len(), 1);
    assert_eq!(v["items"][0]["orderId"], o.order_id.as_str());
    assert!(!String::from_utf8_lossy(&out.stdout).contains(&w.seed.purchase_key));

    let out = msstore(Some(&w), &["clawback", "peek", "--max", "5"]);
    let v = json(&out.stdout);
    assert_eq!(v["messages"][0]["pop_receipt"], Value::Null);
    assert_eq!(v["messages"][0]["event"]["data"]["eventState"], "Returned");

    let out = msstore(
        Some(&w),
        &["clawback", "receive", "--visibility-timeout", "60"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&out.stdout);
    let m = &v["messages"][0];
    assert_eq!(m["event"]["data"]["orderId"], o.order_id.as_str());
    let id = m["message_id"].as_str().unwrap().to_string();
    let receipt = m["pop_receipt"].as_str().unwrap().to_string();

    let out = msstore(
        Some(&w),
        &["clawback", "delete", "--id", &id, "--pop-receipt", &receipt],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = msstore(
        Some(&w),
        &["clawback", "delete", "--id", &id, "--pop-receipt", &receipt],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out.stderr)["error"]["kind"], "message_not_found");

    let out = msstore(Some(&w), &["clawback", "receive", "--max", "40"]);
    assert_eq!(out.status.code(), Some(2));
    let out = msstore(Some(&w), &["clawback", "nope"]);
    assert_eq!(out.status.code(), Some(2));
}

/// `consume --api v6`: form A (item + trackingId, resendable) and form B (product +
/// transactionId), the same `{"outcome":"consumed"}` output as v8, and usage errors for mixed
/// or incomplete forms.
#[test]
fn consume_v6_both_forms() {
    let w = World::new();
    let user = w.seed.store_user_id.clone();
    let product = w.seed.unmanaged_consumable_product_id.clone();
    let key = w.seed.collections_key.clone();
    let before = w.emu.balance(&user, &product);
    w.emu.purchase(&user, &product, &w.seed.sku_id, 1).unwrap();
    assert_eq!(w.emu.balance(&user, &product), before + 1);

    let out = msstore(Some(&w), &["query", "--api", "v6", "--key", &key]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let items = json(&out.stdout)["items"].as_array().cloned().unwrap();
    let item = items
        .iter()
        .find(|i| i["productId"] == product.as_str() && i["status"] == "Active")
        .expect("v6 lists the unmanaged consumable");
    let item_id = item["id"].as_str().unwrap().to_string();

    // Form A, twice with the same trackingId: consumed both times, applied once.
    let tracking = "0f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a";
    for _ in 0..2 {
        let out = msstore(
            Some(&w),
            &[
                "consume",
                "--api",
                "v6",
                "--key",
                &key,
                "--item",
                &item_id,
                "--tracking-id",
                tracking,
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v = json(&out.stdout);
        assert_eq!(v["outcome"], "consumed");
        assert_eq!(v["result"]["trackingId"], tracking);
        assert_eq!(v["result"]["itemId"], item_id.as_str());
        assert_eq!(w.emu.balance(&user, &product), before);
    }
    assert_eq!(w.statuses("collections_v6_consume"), vec![204, 204]);

    // Form B: the purchase's transaction id.
    let order = w.emu.purchase(&user, &product, &w.seed.sku_id, 1).unwrap();
    assert_eq!(w.emu.balance(&user, &product), before + 1);
    let out = msstore(
        Some(&w),
        &[
            "consume",
            "--api",
            "6",
            "--key",
            &key,
            "--product",
            &product,
            "--transaction-id",
            &order.order_id,
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&out.stdout);
    assert_eq!(v["outcome"], "consumed");
    assert_eq!(v["result"]["productId"], product.as_str());
    assert_eq!(v["result"]["trackingId"], order.order_id.as_str());
    assert_eq!(w.emu.balance(&user, &product), before);

    // Usage errors: both forms, a trackingId in form B, half a form B, v8-only flags, bad api.
    for bad in [
        vec!["--item", "i", "--product", "p", "--transaction-id", "t"],
        vec![
            "--product",
            "p",
            "--transaction-id",
            "t",
            "--tracking-id",
            tracking,
        ],
        vec!["--product", "p"],
        vec!["--item", "i", "--quantity", "1"],
        vec![],
    ] {
        let mut args = vec!["consume", "--api", "v6", "--key", &key];
        args.extend(bad.iter().copied());
        let out = msstore(Some(&w), &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(json(&out.stderr)["error"]["kind"], "invalid_argument");
    }
    let out = msstore(
        Some(&w),
        &[
            "consume",
            "--api",
            "v7",
            "--key",
            &key,
            "--product",
            &product,
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(w.statuses("collections_v6_consume").len(), 3);
}

fn doctor_lines(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn doctor_passes_a_healthy_setup_with_keys() {
    let w = World::new();
    let keys = [w.seed.collections_key.clone(), w.seed.purchase_key.clone()];
    let out = msstore(Some(&w), &["doctor", "--key", &keys[0], "--key", &keys[1]]);
    let lines = doctor_lines(&out);
    assert!(out.status.success(), "{lines:#?}");
    let names: Vec<&str> = lines
        .iter()
        .map(|l| l.split(':').next().unwrap_or(""))
        .collect();
    for want in [
        "PASS configuration",
        "PASS credential expiry",
        "PASS token https",
        "PASS token claims https",
        "PASS store call (service token)",
        "PASS key 1 decode",
        "PASS key 1 query",
        "PASS key 1 renew",
        "PASS key 2 decode",
        "PASS key 2 query",
        "PASS key 2 renew",
    ] {
        assert!(
            names.iter().any(|n| n.starts_with(want)),
            "{want}: {lines:#?}"
        );
    }
    // 1 + 1 + 3 tokens × 2 + 1 store call + 2 keys × 3.
    assert_eq!(lines.len(), 15, "{lines:#?}");
    let text = lines.join("\n");
    for secret in [w.seed.client_secret.as_str(), &keys[0], &keys[1], "eyJ"] {
        assert!(!text.contains(secret), "doctor printed a secret: {text}");
    }
}

#[test]
fn doctor_names_a_wrong_secret_with_its_fix_and_stops() {
    let w = World::new();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_msstore"));
    cmd.args(["doctor"])
        .env("MSSTORE_TENANT_ID", &w.seed.tenant_id)
        .env("MSSTORE_CLIENT_ID", &w.seed.client_id)
        .env("MSSTORE_CLIENT_SECRET", "wrong-secret-value")
        .env("MSSTORE_EMULATOR_URL", w.emu.base_url());
    let out = cmd.output().unwrap();
    let lines = doctor_lines(&out);
    assert_eq!(out.status.code(), Some(4), "{lines:#?}");
    let last = lines.last().unwrap();
    assert!(
        last.starts_with("FAIL token https://onestore.microsoft.com"),
        "{last}"
    );
    assert!(last.contains("AADSTS7000215"), "{last}");
    assert!(
        last.contains("To fix: the client secret is wrong"),
        "{last}"
    );
    // It stops there: configuration, expiry, then the failing token.
    assert_eq!(lines.len(), 3, "{lines:#?}");
    assert!(!lines.join("\n").contains("wrong-secret-value"));
    // A configuration that cannot work fails first, with exit 3.
    let out = msstore(None, &["doctor"]);
    let lines = doctor_lines(&out);
    assert_eq!(out.status.code(), Some(3), "{lines:#?}");
    assert!(lines[0].starts_with("FAIL configuration"), "{lines:#?}");
}

//! Issue 11 §1 through the CLI: a consume that may have been applied exits 6 and names the
//! trackingId to resend with (the Rust API and ledger sides are in tests/it/money_path.rs).

#[path = "../../../tests/it/common/mod.rs"]
mod common;
#[path = "../../../tests/it/ledger_support/mod.rs"]
mod ledger_support;
#[path = "../../../tests/it/money_support/mod.rs"]
mod money_support;

use ledger_support::*;
use money_support::*;
use std::process::Command;

fn cli_consume(w: &World, quantity: u32, tracking_id: Option<&str>) -> std::process::Output {
    let q = quantity.to_string();
    let mut args = vec![
        "consume",
        "--key",
        w.seed.collections_key.as_str(),
        "--product",
        w.seed.consumable_product_id.as_str(),
        "--quantity",
        q.as_str(),
        "--retries",
        "1",
    ];
    if let Some(t) = tracking_id {
        args.extend(["--tracking-id", t]);
    }
    Command::new(env!("CARGO_BIN_EXE_msstore"))
        .args(&args)
        .env_remove("MSSTORE_EMULATOR_URL")
        .env("MSSTORE_TENANT_ID", &w.seed.tenant_id)
        .env("MSSTORE_CLIENT_ID", &w.seed.client_id)
        .env("MSSTORE_CLIENT_SECRET", &w.seed.client_secret)
        .env("MSSTORE_EMULATOR_URL", w.emu.base_url())
        .output()
        .expect("msstore runs")
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn cli_error(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stderr)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", stderr(out)))
}

#[test]
fn the_cli_says_unknown_and_names_the_tracking_id() {
    let w = World::new();
    w.emu
        .purchase(
            &w.seed.store_user_id,
            &w.seed.consumable_product_id,
            "",
            100,
        )
        .unwrap();
    for (what, arm) in sequences() {
        let start = balance(&w);
        let t = uuid::Uuid::new_v4().to_string();
        arm(&w);
        let out = cli_consume(&w, 1, Some(&t));
        assert_eq!(out.status.code(), Some(6), "{what}: {}", stderr(&out));
        let v = cli_error(&out);
        assert_eq!(v["outcome"], "unknown", "{what}: {v}");
        assert_eq!(v["error"]["kind"], "consume_outcome_unknown", "{what}");
        assert_eq!(v["error"]["tracking_id"], t.as_str(), "{what}");
        let msg = v["error"]["message"].as_str().unwrap();
        assert!(
            msg.contains("outcome unknown") && msg.contains(&format!("resend with trackingId {t}")),
            "{what}: {msg}"
        );
        assert_eq!(balance(&w), start - 1, "{what}: applied once");
        w.emu.clear_faults();
        let out = cli_consume(&w, 1, Some(&t));
        assert!(out.status.success(), "{what}: resend: {}", stderr(&out));
        assert_eq!(balance(&w), start - 1, "{what}: the resend changed nothing");
    }
}

#[test]
fn insufficient_quantity_after_a_drop_is_a_verdict_through_the_cli() {
    let w = World::new();
    let start = balance(&w);
    w.fault(
        CONSUME_ROUTE,
        msstore_emulator::FaultKind::DropAfterApply,
        1,
    );
    let out = cli_consume(&w, 99, None);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        cli_error(&out)["error"]["inner_code"],
        "InsufficientQuantity"
    );
    assert_eq!(balance(&w), start, "nothing applied");
}

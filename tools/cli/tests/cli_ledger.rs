//! `msstore ledger pending` and `msstore ledger reconcile` against the in-process emulator.

#[path = "../../../tests/it/common/mod.rs"]
mod common;
#[path = "../../../tests/it/ledger_support/mod.rs"]
mod ledger_support;

use ledger_support::*;
use msstore::{EntryState, Ledger};
use msstore_emulator::FaultKind;
use serde_json::Value;
use std::process::{Command, Output};

fn msstore(w: &World, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_msstore"));
    cmd.args(args);
    for var in [
        "MSSTORE_LEDGER_PATH",
        "MSSTORE_LEDGER_POSTGRES_URL",
        "MSSTORE_LEDGER_INSTANCE",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("MSSTORE_TENANT_ID", &w.seed.tenant_id)
        .env("MSSTORE_CLIENT_ID", &w.seed.client_id)
        .env("MSSTORE_CLIENT_SECRET", &w.seed.client_secret)
        .env("MSSTORE_EMULATOR_URL", w.emu.base_url());
    cmd.output().expect("msstore runs")
}

fn json(out: &[u8]) -> Value {
    serde_json::from_slice(out)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(out)))
}

#[test]
fn pending_and_reconcile_from_the_command_line() {
    let w = World::new();
    let db = SqliteDb::new();
    let path = db.path.to_string_lossy().to_string();
    let id = {
        let client = one_shot_client(&w);
        let mut cfg = db.config("local");
        cfg.send_rounds = 1;
        cfg.claim_lease = std::time::Duration::from_millis(100);
        let l = Ledger::open(&cfg).unwrap();
        w.fault(CONSUME_ROUTE, FaultKind::DropAfterApply, 1);
        let e = client
            .block_on(l.consume(&client, consume_req(&w, "player-3", 2)))
            .unwrap()
            .unwrap();
        assert_eq!(e.state, EntryState::Pending);
        e.id
    };
    let out = msstore(&w, &["ledger", "pending", "--ledger", &path]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains(&w.seed.collections_key),
        "the stored key is never printed"
    );
    let v = json(&out.stdout);
    assert_eq!(v["backend"], "sqlite");
    assert_eq!(v["entries"].as_array().unwrap().len(), 1);
    assert_eq!(v["entries"][0]["id"], id.as_str());
    assert_eq!(v["entries"][0]["state"], "pending");
    assert_eq!(v["entries"][0]["player_ref"], "player-3");

    // The CLI takes only entries whose claim ran out (the game server "crashed").
    std::thread::sleep(std::time::Duration::from_millis(150));
    let out = msstore(&w, &["ledger", "reconcile", "--ledger", &path]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&out.stdout);
    assert_eq!(v["applied_awaiting_game"][0]["id"], id.as_str());
    assert_eq!(v["applied_awaiting_game"][0]["state"], "applied");
    assert_eq!(
        v["applied_awaiting_game"][0]["attempts"], 2,
        "replayed by the CLI"
    );
    assert_eq!(balance(&w), 8, "applied exactly once");

    // Released: the game server takes it at once, grants and acknowledges.
    let l = Ledger::open(&db.config("server-2")).unwrap();
    let c = w.client();
    let r = c.block_on(l.reconcile(&c)).unwrap().unwrap();
    assert_eq!(r.to_grant.len(), 1);
    l.acknowledge(&id).unwrap();
    let v = json(&msstore(&w, &["ledger", "pending", "--ledger", &path]).stdout);
    assert!(v["entries"].as_array().unwrap().is_empty());

    let out = msstore(
        &w,
        &[
            "ledger",
            "pending",
            "--ledger",
            "/nonexistent-dir/a/b.sqlite",
        ],
    );
    assert_eq!(out.status.code(), Some(7));
    assert_eq!(json(&out.stderr)["error"]["kind"], "storage");
    let out = msstore(&w, &["ledger", "pending", "--bogus", "1"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn reconcile_ingests_the_clawback_queue_unless_told_not_to() {
    use msstore_emulator::ClawbackAction;
    let w = World::new();
    let db = SqliteDb::new();
    let path = db.path.to_string_lossy().to_string();
    let p = coins(&w);
    let order = buy(&w, &p, 2);
    {
        let client = w.client();
        let l = Ledger::open(&db.config("server-1")).unwrap();
        ledger_consume(&w, &client, &l, "player-cli", &p, 2);
    }
    assert_eq!(claw(&w, ClawbackAction::Return, &order), "Revoked");

    let out = msstore(
        &w,
        &["ledger", "reconcile", "--ledger", &path, "--no-clawback"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&out.stdout);
    assert!(v["clawback"].is_null());
    assert_eq!(w.emu.queue_messages().len(), 1, "left in the queue");

    let out = msstore(&w, &["ledger", "reconcile", "--ledger", &path]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&out.stdout);
    assert_eq!(v["clawback"]["applied"], 1, "{v}");
    assert_eq!(v["clawback"]["deleted"], 1);
    assert_eq!(v["clawback"]["revocations"][0]["player_ref"], "player-cli");
    assert_eq!(v["clawback"]["revocations"][0]["quantity"], 2);
    assert_eq!(v["revocations"].as_array().unwrap().len(), 1);
    assert!(w.emu.queue_messages().is_empty());

    // Released: the game server takes the revocation at once.
    let l = Ledger::open(&db.config("server-1")).unwrap();
    let todo = l.revocations_to_apply().unwrap();
    assert_eq!(todo.len(), 1);
    assert_eq!(
        (todo[0].player_ref.as_str(), todo[0].quantity),
        ("player-cli", 2)
    );
    l.acknowledge_revocation(&todo[0].id).unwrap();
    let v = json(&msstore(&w, &["ledger", "pending", "--ledger", &path]).stdout);
    assert!(v["revocations"].as_array().unwrap().is_empty());
    assert!(v["unmatched_clawbacks"].as_array().unwrap().is_empty());
    let out = msstore(
        &w,
        &["ledger", "reconcile", "--ledger", &path, "--sandbox", " "],
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "a blank sandbox is a usage error"
    );
}

//! Ledger test bodies shared by the SQLite suite (tests/ledger.rs) and the PostgreSQL suite
//! (tests/ledger_pg.rs): each takes a [`Db`] that hands out ledger configurations.
#![allow(dead_code)]

use crate::common;

pub use common::World;
use msstore::{
    ClawbackMatch, ClawbackState, Client, EntryState, ErrorKind, Ledger, LedgerConfig,
    LedgerConsume, RetryPolicy, RevocationKind,
};
use msstore_emulator::FaultKind;
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

pub const CONSUME_ROUTE: &str = "collections_v8_consume";

/// A database the ledger can live in; `config(instance)` names one game server.
pub trait Db: Sync {
    fn config(&self, instance: &str) -> LedgerConfig;
    /// Runs raw SQL on the ledger's own tables (as an operator would look at them): a
    /// statement, or a query whose columns are all TEXT.
    fn raw_exec(&self, sql: &str) -> u64;
    fn raw_text(&self, sql: &str) -> Vec<Vec<String>>;
}

/// A fresh SQLite file in the temp dir, removed on drop.
pub struct SqliteDb {
    pub path: std::path::PathBuf,
}

impl SqliteDb {
    pub fn new() -> SqliteDb {
        let path = std::env::temp_dir().join(format!(
            "msstore-ledger-test-{}.sqlite",
            uuid::Uuid::new_v4()
        ));
        SqliteDb { path }
    }
}

impl Db for SqliteDb {
    fn config(&self, instance: &str) -> LedgerConfig {
        let mut c = LedgerConfig::sqlite(self.path.to_string_lossy());
        c.instance_id = instance.to_string();
        fast(c)
    }

    fn raw_exec(&self, sql: &str) -> u64 {
        let c = rusqlite::Connection::open(&self.path).unwrap();
        c.execute(sql, []).unwrap() as u64
    }

    fn raw_text(&self, sql: &str) -> Vec<Vec<String>> {
        let c = rusqlite::Connection::open(&self.path).unwrap();
        let mut st = c.prepare(sql).unwrap();
        let n = st.column_count();
        st.query_map([], |r| (0..n).map(|i| r.get::<_, String>(i)).collect())
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }
}

impl Drop for SqliteDb {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut p = self.path.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Short resend delays so fault-heavy runs take seconds.
pub fn fast(mut c: LedgerConfig) -> LedgerConfig {
    c.send_rounds = 2;
    c.resend_delay = Duration::from_millis(5);
    // Small batches, so that servers reconciling together interleave.
    c.reconcile_batch = 2;
    c
}

/// A client that gives up after one attempt: a dropped response stays unknown.
pub fn one_shot_client(w: &World) -> Client {
    w.client_with(|c| c.retry = RetryPolicy::none())
}

pub fn consume_req(w: &World, player: &str, quantity: u32) -> LedgerConsume {
    LedgerConsume::new(
        player,
        &w.seed.collections_key,
        &w.seed.consumable_product_id,
        quantity,
    )
}

pub fn balance(w: &World) -> i64 {
    w.emu
        .balance(&w.seed.store_user_id, &w.seed.consumable_product_id)
}

/// A consume whose response is dropped, then a "restart" (client and ledger dropped and
/// re-created over the same database): the entry is replayed and the balance drops once.
pub fn dropped_response_then_restart(db: &dyn Db) {
    let w = World::new();
    let before = balance(&w);
    for (i, fault) in [FaultKind::DropAfterApply, FaultKind::DropBeforeApply]
        .into_iter()
        .enumerate()
    {
        let start = balance(&w);
        let id = {
            let client = one_shot_client(&w);
            let mut cfg = db.config("server-1");
            cfg.send_rounds = 1;
            let ledger = Ledger::open(&cfg).unwrap();
            w.fault(CONSUME_ROUTE, fault.clone(), 1);
            let e = client
                .block_on(ledger.consume(&client, consume_req(&w, "player-7", 2)))
                .unwrap()
                .unwrap();
            assert_eq!(e.state, EntryState::Pending, "{fault:?}: outcome unknown");
            assert_eq!(e.attempts, 1);
            assert!(e.last_error.is_some());
            let expected = if i == 0 { start - 2 } else { start };
            assert_eq!(balance(&w), expected, "{fault:?} applied or not");
            e.id
        }; // the process "crashes": nothing acknowledged, nothing in memory survives
        let client = w.client();
        let ledger = Ledger::open(&db.config("server-1")).unwrap();
        let open = ledger.pending().unwrap();
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].id, id);
        let r = client.block_on(ledger.reconcile(&client)).unwrap().unwrap();
        assert_eq!(r.to_grant.len(), 1, "{r:?}");
        let e = &r.to_grant[0];
        assert_eq!((e.id.as_str(), e.state), (id.as_str(), EntryState::Applied));
        assert_eq!(e.attempts, 2, "replayed once with the same trackingId");
        assert_eq!(
            e.transactions
                .iter()
                .map(|t| t.quantity_consumed)
                .sum::<i64>(),
            2
        );
        assert_eq!(
            balance(&w),
            start - 2,
            "{fault:?}: the balance dropped exactly once"
        );
        // Handed out once per process: a second reconcile does not hand it out again.
        let again = client.block_on(ledger.reconcile(&client)).unwrap().unwrap();
        assert!(again.to_grant.is_empty());
        assert_eq!(
            ledger.acknowledge(&id).unwrap().state,
            EntryState::Completed
        );
        assert_eq!(
            ledger.acknowledge(&id).unwrap().state,
            EntryState::Completed,
            "idempotent"
        );
        assert!(ledger.pending().unwrap().is_empty());
    }
    assert_eq!(balance(&w), before - 4);
}

/// A consume canceled mid-send (the C ABI's `msstore_op_cancel` aborts the task; so does
/// aborting it here) leaves its entry pending, and the same process resends it at the next
/// reconcile: applied exactly once.
pub fn canceled_consume_is_resent_by_the_same_process(db: &dyn Db) {
    let w = World::new();
    let client = w.client();
    let ledger = Ledger::open(&db.config("server-1")).unwrap();
    let start = balance(&w);
    // The emulator holds the send long enough for the abort below to land while it is out.
    w.fault(CONSUME_ROUTE, FaultKind::Delay { ms: 2000 }, 1);
    let mut req = consume_req(&w, "player-3", 1);
    let id = uuid::Uuid::new_v4().to_string();
    req.tracking_id = Some(id.clone());
    let task = {
        let (ledger, client) = (ledger.clone(), client.clone());
        msstore::driver::runtime_handle(&client)
            .spawn(async move { ledger.consume(&client, req).await })
    };
    // Abort once the entry is recorded (the send follows at once and is held by the emulator).
    let deadline = Instant::now() + Duration::from_secs(10);
    while ledger.pending().unwrap().is_empty() {
        assert!(Instant::now() < deadline, "the entry was never recorded");
        std::thread::sleep(Duration::from_millis(2));
    }
    task.abort();
    let joined = client.block_on(task).unwrap();
    assert!(joined.unwrap_err().is_cancelled());
    let open = ledger.pending().unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(
        (open[0].id.as_str(), open[0].state),
        (id.as_str(), EntryState::Pending)
    );

    let r = client.block_on(ledger.reconcile(&client)).unwrap().unwrap();
    assert_eq!(r.to_grant.len(), 1, "the canceled entry is resent: {r:?}");
    let e = &r.to_grant[0];
    assert_eq!((e.id.as_str(), e.state), (id.as_str(), EntryState::Applied));
    assert_eq!(balance(&w), start - 1, "applied once");
    ledger.acknowledge(&id).unwrap();
    assert!(ledger.pending().unwrap().is_empty());
    // If the held send reaches the Store after all, the same trackingId changes nothing.
    let deadline = Instant::now() + Duration::from_secs(3);
    while w.emu.count_requests(CONSUME_ROUTE) < e.attempts as usize && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(balance(&w), start - 1, "applied exactly once");
}

/// Applied but never acknowledged (the game crashed before granting): the restart hands it out
/// again, without sending anything.
pub fn applied_unacknowledged_is_handed_out_after_restart(db: &dyn Db) {
    let w = World::new();
    let id = {
        let client = w.client();
        let ledger = Ledger::open(&db.config("server-1")).unwrap();
        let e = client
            .block_on(ledger.consume(&client, consume_req(&w, "player-1", 1)))
            .unwrap()
            .unwrap();
        assert_eq!(e.state, EntryState::Applied);
        assert_eq!(e.new_quantity, Some(9));
        e.id
    };
    let sent = w.statuses(CONSUME_ROUTE).len();
    let client = w.client();
    let ledger = Ledger::open(&db.config("server-1")).unwrap();
    let r = client.block_on(ledger.reconcile(&client)).unwrap().unwrap();
    assert_eq!(r.to_grant.len(), 1);
    assert_eq!(r.to_grant[0].id, id);
    assert_eq!(w.statuses(CONSUME_ROUTE).len(), sent, "nothing resent");
    ledger.acknowledge(&id).unwrap();
    assert_eq!(balance(&w), 9);
}

/// Refusals are final and recorded; bad input is refused before anything is recorded; the same
/// trackingId returns the same entry.
pub fn refusals_and_bad_input(db: &dyn Db) {
    let w = World::new();
    let client = w.client();
    let ledger = Ledger::open(&db.config("server-1")).unwrap();
    let e = client
        .block_on(ledger.consume(&client, consume_req(&w, "player-1", 50)))
        .unwrap()
        .unwrap();
    assert_eq!(e.state, EntryState::Failed);
    assert!(
        e.last_error
            .as_deref()
            .unwrap()
            .contains("InsufficientQuantity"),
        "{e:?}"
    );
    assert_eq!(
        ledger.acknowledge(&e.id).unwrap_err().kind,
        ErrorKind::InvalidArgument
    );
    assert_eq!(balance(&w), 10);
    for bad in [
        consume_req(&w, "", 1),
        LedgerConsume::new("p", "", "P", 1),
        LedgerConsume::new("p", "k", " ", 1),
        consume_req(&w, "p", 1).with_tracking_id("not-a-guid"),
    ] {
        let err = client
            .block_on(ledger.consume(&client, bad))
            .unwrap()
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidArgument);
        assert!(!err.message.contains(&w.seed.collections_key));
    }
    assert!(ledger.pending().unwrap().is_empty(), "nothing recorded");
    assert_eq!(
        ledger.acknowledge("nope").unwrap_err().kind,
        ErrorKind::NotFound
    );
    // The same trackingId twice: one consume.
    let t = uuid::Uuid::new_v4().to_string();
    let a = client
        .block_on(ledger.consume(&client, consume_req(&w, "p", 3).with_tracking_id(&t)))
        .unwrap()
        .unwrap();
    ledger.acknowledge(&a.id).unwrap();
    let b = client
        .block_on(ledger.consume(&client, consume_req(&w, "p", 3).with_tracking_id(&t)))
        .unwrap()
        .unwrap();
    assert_eq!(
        (b.id.as_str(), b.state),
        (t.as_str(), EntryState::Completed)
    );
    assert_eq!(balance(&w), 7);
    let other = client
        .block_on(ledger.consume(&client, consume_req(&w, "p", 2).with_tracking_id(&t)))
        .unwrap()
        .unwrap_err();
    assert_eq!(other.kind, ErrorKind::InvalidArgument);
    // Debug output of the ledger shows no secret and no path to the key.
    assert!(!format!("{ledger:?} {a:?}").contains(&w.seed.collections_key));
}

/// Clawback matching with synthetic events against real consumes.
pub fn clawback_matching(db: &dyn Db) {
    let w = World::new();
    let client = w.client();
    let ledger = Ledger::open(&db.config("server-1")).unwrap();
    // 5 units: 4 from the first order line, 1 from the second (FIFO).
    let e = client
        .block_on(ledger.consume(&client, consume_req(&w, "player-9", 5)))
        .unwrap()
        .unwrap();
    assert_eq!(e.transactions.len(), 2, "{e:?}");
    ledger.acknowledge(&e.id).unwrap();
    let t0 = e.transactions[0].clone();
    let product = w.seed.consumable_product_id.clone();
    let m = |event: &str, state: ClawbackState| ClawbackMatch {
        event_id: event.into(),
        order_id: t0.order_id.clone(),
        line_item_id: t0.order_line_item_id.clone(),
        product_id: product.clone(),
        state,
    };

    let r = ledger
        .apply_clawback(&m("ev-refunded", ClawbackState::Refunded))
        .unwrap();
    assert!(
        !r.duplicate && r.revocations.is_empty(),
        "Refunded: customer keeps it"
    );

    let r = ledger
        .apply_clawback(&m("ev-revoked", ClawbackState::Revoked))
        .unwrap();
    assert_eq!(r.revocations.len(), 1);
    let rev = r.revocations[0].clone();
    assert_eq!(rev.kind, RevocationKind::Revoke);
    assert_eq!(
        (rev.player_ref.as_str(), rev.quantity, rev.entry_id.as_str()),
        ("player-9", t0.quantity_consumed, e.id.as_str())
    );
    assert_eq!(t0.quantity_consumed, 4);

    let dup = ledger
        .apply_clawback(&m("ev-revoked", ClawbackState::Revoked))
        .unwrap();
    assert!(dup.duplicate);
    assert_eq!(
        dup.revocations, r.revocations,
        "the same revocation, not a second one"
    );
    let again = ledger
        .apply_clawback(&m("ev-returned", ClawbackState::Returned))
        .unwrap();
    assert!(
        again.revocations.is_empty(),
        "already revoked for this line"
    );
    assert_eq!(ledger.open_revocations().unwrap().len(), 1);

    // Returned for a line nobody consumed: nothing to do in game.
    let mut stranger = m("ev-other", ClawbackState::Returned);
    stranger.order_id = uuid::Uuid::new_v4().to_string();
    assert!(ledger
        .apply_clawback(&stranger)
        .unwrap()
        .revocations
        .is_empty());
    // Same ids but another product: no match.
    let mut wrong = m("ev-wrong-product", ClawbackState::Revoked);
    wrong.product_id = w.seed.durable_product_id.clone();
    assert!(ledger
        .apply_clawback(&wrong)
        .unwrap()
        .revocations
        .is_empty());

    let todo = ledger.revocations_to_apply().unwrap();
    assert_eq!(todo, vec![rev.clone()]);
    assert!(
        ledger.revocations_to_apply().unwrap().is_empty(),
        "handed out once"
    );
    assert!(ledger.acknowledge_revocation(&rev.id).unwrap().acknowledged);
    assert!(ledger.open_revocations().unwrap().is_empty());

    // A chargeback reversal undoes it.
    let r = ledger
        .apply_clawback(&m("ev-reversal", ClawbackState::ChargebackReversal))
        .unwrap();
    assert_eq!(r.revocations.len(), 1);
    let restore = &r.revocations[0];
    assert_eq!(restore.kind, RevocationKind::Restore);
    assert_eq!(restore.reverses.as_deref(), Some(rev.id.as_str()));
    assert_eq!(restore.quantity, 4);
    let dup = ledger
        .apply_clawback(&m("ev-reversal", ClawbackState::ChargebackReversal))
        .unwrap();
    assert!(dup.duplicate && dup.revocations.len() == 1);
    let second = ledger
        .apply_clawback(&m("ev-reversal-2", ClawbackState::ChargebackReversal))
        .unwrap();
    assert!(second.revocations.is_empty(), "nothing left to reverse");
    // Revoked again after the reversal: a new revocation.
    let r = ledger
        .apply_clawback(&m("ev-revoked-2", ClawbackState::Revoked))
        .unwrap();
    assert_eq!(r.revocations.len(), 1);
    assert_ne!(r.revocations[0].id, rev.id);

    // Across a restart, unacknowledged revocations are handed out again.
    drop(ledger);
    let ledger = Ledger::open(&db.config("server-1")).unwrap();
    let todo = ledger.revocations_to_apply().unwrap();
    assert_eq!(todo.len(), 2, "the restore and the new revoke");
    for t in &todo {
        ledger.acknowledge_revocation(&t.id).unwrap();
    }
    let err = ledger
        .apply_clawback(&ClawbackMatch {
            event_id: String::new(),
            ..m("x", ClawbackState::Revoked)
        })
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidArgument);
    assert_eq!(
        ledger.acknowledge_revocation("nope").unwrap_err().kind,
        ErrorKind::NotFound
    );
}

/// Two game servers share one ledger. Server A leaves entries pending and dies; after its
/// lease ends, servers B and C reconcile at the same time: every entry is handed to exactly one
/// of them, and the Store applied each exactly once. Meanwhile both consume concurrently.
pub fn two_servers_share_the_ledger(db: &dyn Db) {
    let w = World::new();
    w.emu
        .purchase(
            &w.seed.store_user_id,
            &w.seed.consumable_product_id,
            "",
            200,
        )
        .unwrap();
    let start = balance(&w);
    let lease = Duration::from_millis(1500);
    let n = 12;
    // The first claim is the oldest: while it is live, all of A's are.
    let claimed_at = Instant::now();
    let ids: HashSet<String> = {
        let client = one_shot_client(&w);
        let mut cfg = db.config("server-a");
        cfg.send_rounds = 1;
        cfg.claim_lease = lease;
        let a = Ledger::open(&cfg).unwrap();
        (0..n)
            .map(|i| {
                let kind = if i % 3 == 0 {
                    FaultKind::DropBeforeApply
                } else {
                    FaultKind::DropAfterApply
                };
                w.fault(CONSUME_ROUTE, kind, 1);
                let e = client
                    .block_on(a.consume(&client, consume_req(&w, &format!("p{i}"), 1)))
                    .unwrap()
                    .unwrap();
                assert_eq!(e.state, EntryState::Pending);
                e.id
            })
            .collect()
    };
    // Before the lease ends nobody else may take them.
    let mut cfg_b = db.config("server-b");
    cfg_b.claim_lease = lease;
    let b = Ledger::open(&cfg_b).unwrap();
    let cb = w.client();
    let early = cb.block_on(b.reconcile(&cb)).unwrap().unwrap();
    // Only meaningful while the last claim is surely live: on a loaded machine A's consumes can
    // outlast the lease, and then B may rightly take the oldest ones.
    if claimed_at.elapsed() + Duration::from_millis(100) < lease {
        assert!(
            early.to_grant.is_empty() && early.still_pending.is_empty(),
            "A's claims are live: {early:?}"
        );
    }
    std::thread::sleep(lease + Duration::from_millis(100));

    let mut cfg_c = db.config("server-c");
    cfg_c.claim_lease = Duration::from_secs(60);
    let c = Ledger::open(&cfg_c).unwrap();
    let cc = w.client();
    let b = Ledger::open(&{
        let mut x = db.config("server-b");
        x.claim_lease = Duration::from_secs(60);
        x
    })
    .unwrap();
    let (got_b, got_c, new_b, new_c) = std::thread::scope(|s| {
        let rb = s.spawn(|| {
            let r = cb.block_on(b.reconcile(&cb)).unwrap().unwrap();
            let fresh: Vec<String> = (0..10)
                .map(|i| {
                    let e = cb
                        .block_on(b.consume(&cb, consume_req(&w, &format!("b{i}"), 1)))
                        .unwrap()
                        .unwrap();
                    assert_eq!(e.state, EntryState::Applied);
                    b.acknowledge(&e.id).unwrap();
                    e.id
                })
                .collect();
            (r, fresh)
        });
        let rc = s.spawn(|| {
            let r = cc.block_on(c.reconcile(&cc)).unwrap().unwrap();
            let fresh: Vec<String> = (0..10)
                .map(|i| {
                    let e = cc
                        .block_on(c.consume(&cc, consume_req(&w, &format!("c{i}"), 1)))
                        .unwrap()
                        .unwrap();
                    assert_eq!(e.state, EntryState::Applied);
                    c.acknowledge(&e.id).unwrap();
                    e.id
                })
                .collect();
            (r, fresh)
        });
        let (rb, fb) = rb.join().unwrap();
        let (rc, fc) = rc.join().unwrap();
        (rb, rc, fb, fc)
    });
    let b_ids: HashSet<String> = got_b.to_grant.iter().map(|e| e.id.clone()).collect();
    let c_ids: HashSet<String> = got_c.to_grant.iter().map(|e| e.id.clone()).collect();
    assert!(
        b_ids.is_disjoint(&c_ids),
        "handed to both servers: {b_ids:?} {c_ids:?}"
    );
    let all: HashSet<String> = b_ids.union(&c_ids).cloned().collect();
    assert_eq!(all, ids, "every entry handed to exactly one server");
    eprintln!(
        "[ledger] {} backend: server-b took {}, server-c took {} of {n} abandoned entries",
        b.backend(),
        b_ids.len(),
        c_ids.len()
    );
    for id in &b_ids {
        b.acknowledge(id).unwrap();
    }
    for id in &c_ids {
        c.acknowledge(id).unwrap();
    }
    assert_eq!(new_b.len() + new_c.len(), 20);
    assert_eq!(
        balance(&w),
        start - n as i64 - 20,
        "each consume applied exactly once"
    );
    assert!(b.pending().unwrap().is_empty());
}

/// Figures of a randomised run.
#[derive(Debug, Default)]
pub struct RunStats {
    pub consumes: usize,
    pub completed: usize,
    pub failed: usize,
    pub faults: usize,
    pub restarts: usize,
    pub replayed: usize,
    pub refused: usize,
    /// Consumes the game repeated with the same trackingId (its own retry).
    pub repeated: usize,
    /// Consumes the Store applied that the ledger closed as failed: the player paid and got
    /// nothing. Must be 0.
    pub lost: usize,
    /// Consumes the ledger closed as completed that the Store never applied. Must be 0.
    pub phantom: usize,
    /// Times one process was handed the same entry to grant twice. Must be 0.
    pub doubled: usize,
}

/// Whether the ledger says this applied entry was handed to this process before (issue 11 §2).
fn handed_out_before(e: &msstore::LedgerEntry) -> bool {
    e.already_handed_out
}

/// A fault sequence for the next consume: dropped responses before/after applying, 5xx, 429,
/// delays, and the sequences of issue 11 (a drop after applying, then a non-verdict answer:
/// 400 without a consume body, 401, 403, 404, 408, 409; or a 401 whose token refresh fails),
/// plus those answers on their own (a clean first answer: nothing applied).
fn arm_random_faults(w: &World, rng: &mut fastrand::Rng) -> bool {
    let status = |s: u16| FaultKind::Status { status: s };
    let times = rng.u32(1..=2);
    let after_drop = [400u16, 401, 403, 404, 408, 409];
    match rng.u32(..100) {
        0..=7 => w.fault(CONSUME_ROUTE, FaultKind::DropAfterApply, times),
        8..=13 => w.fault(CONSUME_ROUTE, FaultKind::DropBeforeApply, times),
        14..=19 => w.fault(
            CONSUME_ROUTE,
            status([500, 502, 503][rng.usize(..3)]),
            times,
        ),
        20..=25 => w.fault(
            CONSUME_ROUTE,
            FaultKind::Throttle {
                retry_after_secs: 0,
            },
            times,
        ),
        26..=29 => w.fault(CONSUME_ROUTE, FaultKind::Delay { ms: 250 }, 1),
        30..=44 => {
            w.fault(CONSUME_ROUTE, FaultKind::DropAfterApply, 1);
            w.fault(
                CONSUME_ROUTE,
                status(after_drop[rng.usize(..after_drop.len())]),
                times,
            )
        }
        45..=49 => {
            // The 401 forces a token refresh, and Entra fails it.
            w.fault(CONSUME_ROUTE, FaultKind::DropAfterApply, 1);
            w.fault(CONSUME_ROUTE, status(401), 1);
            w.fault("entra_v2", status([400, 401, 500][rng.usize(..3)]), 4)
        }
        50..=54 => w.fault(
            CONSUME_ROUTE,
            status(after_drop[rng.usize(..after_drop.len())]),
            1,
        ),
        _ => return false,
    };
    true
}

/// At least `steps` consumes with random faults (see `arm_random_faults`), random restarts and
/// repeated calls, ending with every accepted consume applied exactly once and acknowledged,
/// checked per trackingId against the emulator.
pub fn randomised_run(db: &dyn Db, steps: usize, seed: u64) -> RunStats {
    let mut rng = fastrand::Rng::with_seed(seed);
    let w = World::new();
    w.emu
        .purchase(
            &w.seed.store_user_id,
            &w.seed.consumable_product_id,
            "",
            (steps * 3) as i64,
        )
        .unwrap();
    let initial = balance(&w);
    let new_client = || {
        w.client_with(|c| {
            c.request_timeout = Duration::from_millis(120);
            c.retry = RetryPolicy {
                max_attempts: 3,
                base_delay: Duration::from_millis(2),
                max_delay: Duration::from_millis(10),
                max_retry_after: Duration::from_secs(1),
            };
        })
    };
    let open = || Ledger::open(&db.config("server-1")).unwrap();
    let mut client = new_client();
    let mut ledger = open();
    let mut stats = RunStats::default();
    let mut accepted: HashMap<String, u32> = HashMap::new();
    // Entries handed to this process's game since its last restart.
    let mut handed: HashSet<String> = HashSet::new();
    let ctx = |step: usize| format!("seed {seed} (MSSTORE_LEDGER_SEED={seed}), step {step}");
    let t0 = Instant::now();

    let hand_out =
        |e: &msstore::LedgerEntry, handed: &mut HashSet<String>, stats: &mut RunStats| {
            if !handed.insert(e.id.clone()) {
                stats.doubled += 1;
            }
        };
    let reconcile = |client: &Client,
                     ledger: &Ledger,
                     stats: &mut RunStats,
                     handed: &mut HashSet<String>,
                     step: usize| {
        let r = client
            .block_on(ledger.reconcile(client))
            .unwrap()
            .unwrap_or_else(|e| panic!("{}: reconcile: {e}", ctx(step)));
        stats.replayed += r.to_grant.len() + r.failed.len();
        for e in &r.to_grant {
            hand_out(e, handed, stats);
            ledger.acknowledge(&e.id).unwrap();
        }
    };

    for step in 0..steps {
        if rng.u32(..100) < 4 {
            // Restart: drop everything in memory, re-open, replay.
            drop(std::mem::replace(&mut client, new_client()));
            drop(std::mem::replace(&mut ledger, open()));
            handed.clear();
            stats.restarts += 1;
            reconcile(&client, &ledger, &mut stats, &mut handed, step);
        }
        if arm_random_faults(&w, &mut rng) {
            stats.faults += 1;
        }
        // Now and then more than the balance: the Store refuses, nothing may be applied.
        let q = if rng.u32(..100) < 2 {
            1_000_000
        } else {
            rng.u32(1..=3)
        };
        let req = consume_req(&w, &format!("p{}", step % 17), q)
            .with_tracking_id(uuid::Uuid::new_v4().to_string());
        let e = client
            .block_on(ledger.consume(&client, req.clone()))
            .unwrap()
            .unwrap_or_else(|e| panic!("{}: consume refused: {e}", ctx(step)));
        stats.consumes += 1;
        if q == 1_000_000 {
            stats.refused += 1;
            assert_ne!(e.state, EntryState::Applied, "{}", ctx(step));
        }
        accepted.insert(e.id.clone(), q);
        // Sometimes the game "crashes" before acknowledging: the restart must hand it out again.
        let grant = e.state == EntryState::Applied && !handed_out_before(&e);
        if grant {
            hand_out(&e, &mut handed, &mut stats);
        }
        // Sometimes the game repeats its own call (it lost the answer): never a second grant.
        if rng.u32(..100) < 5 {
            stats.repeated += 1;
            if let Ok(again) = client.block_on(ledger.consume(&client, req)).unwrap() {
                if again.state == EntryState::Applied && !handed_out_before(&again) {
                    hand_out(&again, &mut handed, &mut stats);
                }
            }
        }
        if grant && rng.u32(..10) < 9 {
            ledger.acknowledge(&e.id).unwrap();
        }
        if rng.u32(..100) < 3 {
            reconcile(&client, &ledger, &mut stats, &mut handed, step);
        }
    }
    w.emu.clear_faults();
    for _ in 0..5 {
        drop(std::mem::replace(&mut client, new_client()));
        drop(std::mem::replace(&mut ledger, open()));
        handed.clear();
        reconcile(&client, &ledger, &mut stats, &mut handed, steps);
        if ledger.pending().unwrap().is_empty() {
            break;
        }
    }
    let mut consumed = 0i64;
    for (id, q) in &accepted {
        let e = ledger
            .entry(id)
            .unwrap()
            .expect("accepted entries are kept");
        let applied = w.emu.consume_applied(&w.seed.store_user_id, id);
        match e.state {
            EntryState::Completed => {
                stats.completed += 1;
                consumed += *q as i64;
                let drawn: i64 = e.transactions.iter().map(|t| t.quantity_consumed).sum();
                assert_eq!(drawn, *q as i64, "{}: order lines of {id}", ctx(steps));
                stats.phantom += usize::from(!applied);
            }
            EntryState::Failed => {
                stats.failed += 1;
                stats.lost += usize::from(applied);
            }
            s => panic!("{}: entry {id} ended {s:?}", ctx(steps)),
        }
    }
    eprintln!(
        "[ledger] {} random run seed {seed}: {} consumes, {} restarts, {} faults: {} lost, {} doubled, {} phantom; {stats:?}, {} units, {:.1}s",
        ledger.backend(),
        stats.consumes,
        stats.restarts,
        stats.faults,
        stats.lost,
        stats.doubled,
        stats.phantom,
        consumed,
        t0.elapsed().as_secs_f64()
    );
    assert_eq!(
        (stats.lost, stats.doubled, stats.phantom),
        (0, 0, 0),
        "{}: lost, doubled, phantom consumes; {stats:?}",
        ctx(steps)
    );
    assert!(
        ledger.pending().unwrap().is_empty(),
        "{}: entries left open: {:?}",
        ctx(steps),
        ledger.pending().unwrap()
    );
    assert_eq!(
        initial - balance(&w),
        consumed,
        "{}: the Store's balance moved by exactly the completed consumes (nothing lost or doubled); {stats:?}",
        ctx(steps)
    );
    stats
}

/// The run's seed: `MSSTORE_LEDGER_SEED` or the clock.
pub fn seed() -> u64 {
    std::env::var("MSSTORE_LEDGER_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        })
}

// ---- clawback ingestion, end to end ---------------------------------------------------------

use msstore::clawback::{ClawbackEventState, ReceiveOptions};
use msstore::ledger::{ClawbackIngestOptions, ClawbackIngestSummary, ClawbackOrdersIngestOptions};
use msstore::Revocation;
use msstore_emulator::{ClawbackAction, ProductKind, ProductSpec};

/// A paid store-managed consumable of its own, so FIFO consumption hits known orders.
pub fn coins(w: &World) -> String {
    w.emu
        .add_product(ProductSpec::new("9COINS000001", ProductKind::Consumable).price(0.99))
}

pub fn buy(w: &World, product: &str, quantity: i64) -> String {
    w.emu
        .purchase(&w.seed.store_user_id, product, "", quantity)
        .unwrap()
        .order_id
}

pub fn claw(w: &World, action: ClawbackAction, order_id: &str) -> String {
    w.emu
        .clawback_order(action, &w.seed.store_user_id, order_id)
        .unwrap()
        .event_state
}

/// Consumes through the ledger and acknowledges; returns the entry id.
pub fn ledger_consume(
    w: &World,
    client: &Client,
    ledger: &Ledger,
    player: &str,
    product: &str,
    quantity: u32,
) -> String {
    let e = client
        .block_on(ledger.consume(
            client,
            LedgerConsume::new(player, &w.seed.collections_key, product, quantity),
        ))
        .unwrap()
        .unwrap();
    assert_eq!(e.state, EntryState::Applied, "{e:?}");
    ledger.acknowledge(&e.id).unwrap();
    e.id
}

pub fn ingest(client: &Client, ledger: &Ledger) -> ClawbackIngestSummary {
    client
        .block_on(ledger.ingest_clawback_queue(client, ClawbackIngestOptions::default()))
        .unwrap()
        .unwrap()
}

fn sorted(revs: &[Revocation]) -> Vec<(RevocationKind, String, i64)> {
    let mut v: Vec<_> = revs
        .iter()
        .map(|r| (r.kind, r.player_ref.clone(), r.quantity))
        .collect();
    v.sort_by(|a, b| (a.1.clone(), a.0.as_str()).cmp(&(b.1.clone(), b.0.as_str())));
    v
}

/// Refund / return / chargeback / reversal in the emulator, consumed through the ledger, then
/// one ingestion pass: the right typed events, the right revocations; then redelivery, other
/// sandboxes and unusable messages.
pub fn clawback_ingest_end_to_end(db: &dyn Db) {
    let w = World::new();
    let client = w.client();
    let ledger = Ledger::open(&db.config("server-1")).unwrap();
    let p = coins(&w);
    let a = buy(&w, &p, 3);
    let e_a = ledger_consume(&w, &client, &ledger, "player-a", &p, 3); // all of a
    let b = buy(&w, &p, 3);
    let c = buy(&w, &p, 3);
    // FIFO: b first. Refund b (kept) after consuming it, so the consume of c draws from c.
    let e_b = ledger_consume(&w, &client, &ledger, "player-b", &p, 3);
    let e_c = ledger_consume(&w, &client, &ledger, "player-c", &p, 1); // 1 of c
    let d = buy(&w, &p, 2);
    let durable = buy(&w, &w.seed.durable_product_id, 1);

    assert_eq!(claw(&w, ClawbackAction::Return, &a), "Revoked", "consumed");
    assert_eq!(claw(&w, ClawbackAction::Refund, &b), "Refunded");
    assert_eq!(claw(&w, ClawbackAction::Chargeback, &c), "Revoked");
    assert_eq!(
        claw(&w, ClawbackAction::ChargebackReversal, &c),
        "ChargebackReversal"
    );
    assert_eq!(
        claw(&w, ClawbackAction::Return, &d),
        "Returned",
        "never consumed"
    );
    assert_eq!(claw(&w, ClawbackAction::Return, &durable), "Returned");

    // The typed events on the queue, before the ledger reads it.
    let peeked = client.block_on(client.clawback_peek(32)).unwrap().unwrap();
    let states: Vec<ClawbackEventState> = peeked
        .iter()
        .map(|m| m.decode_event().unwrap().data.event_state)
        .collect();
    use ClawbackEventState::*;
    assert_eq!(
        states,
        vec![
            Revoked,
            Refunded,
            Revoked,
            ChargebackReversal,
            Returned,
            Returned
        ]
    );
    let revoked_c_text = peeked[2].text.clone();

    let s = ingest(&client, &ledger);
    assert_eq!(
        (
            s.received,
            s.applied,
            s.duplicates,
            s.ignored,
            s.dead_lettered
        ),
        (6, 6, 0, 0, 0),
        "{s:?}"
    );
    assert_eq!((s.deleted, s.delete_conflicts, s.delete_errors), (6, 0, 0));
    assert_eq!(
        s.unmatched, 2,
        "d and the durable: nothing consumed from them"
    );
    assert!(w.emu.queue_messages().is_empty(), "every message deleted");
    // Refunded (b): nothing. Revoked (a): 3 from player-a. Chargeback then reversal (c):
    // revoke 1, restore 1.
    assert_eq!(
        sorted(&s.revocations),
        vec![
            (RevocationKind::Revoke, "player-a".into(), 3),
            (RevocationKind::Restore, "player-c".into(), 1),
            (RevocationKind::Revoke, "player-c".into(), 1),
        ]
    );
    let rev_a = s
        .revocations
        .iter()
        .find(|r| r.player_ref == "player-a")
        .unwrap();
    assert_eq!(
        (rev_a.entry_id.as_str(), rev_a.order_id.as_str()),
        (e_a.as_str(), a.as_str())
    );
    let rev_c = s
        .revocations
        .iter()
        .find(|r| r.kind == RevocationKind::Revoke && r.player_ref == "player-c")
        .unwrap();
    let restore_c = s
        .revocations
        .iter()
        .find(|r| r.kind == RevocationKind::Restore)
        .unwrap();
    assert_eq!(rev_c.entry_id, e_c);
    assert_eq!(restore_c.reverses.as_deref(), Some(rev_c.id.as_str()));
    assert!(
        s.revocations.iter().all(|r| r.entry_id != e_b),
        "b was refunded, kept"
    );
    // Handed to this game already: not again, but listed until acknowledged.
    assert!(ledger.revocations_to_apply().unwrap().is_empty());
    assert_eq!(ledger.open_revocations().unwrap().len(), 3);
    for r in &s.revocations {
        ledger.acknowledge_revocation(&r.id).unwrap();
    }
    assert_eq!(ledger.unmatched_clawbacks().unwrap().len(), 2);

    // Redelivery of an event already recorded: a duplicate, no second revocation.
    w.emu.enqueue_raw_queue_message(&revoked_c_text);
    // Another sandbox's event stays in the queue for its own servers.
    let foreign = serde_json::json!({"id": "ev-foreign", "source": "/Purchase/Refund",
        "data": {"orderId": a, "lineItemId": "l", "productId": p, "eventState": "Revoked",
                 "sandboxId": "XDKS.1"}});
    w.emu.enqueue_raw_queue_message(&foreign.to_string());
    // Unusable: not base64, and a state this library does not know.
    let junk = w.emu.enqueue_raw_queue_message("%%% not an event");
    let odd = serde_json::json!({"id": "ev-odd", "data": {"orderId": a, "lineItemId": "l",
        "productId": p, "eventState": "Disputed", "sandboxId": "RETAIL"}});
    let odd_id = w.emu.enqueue_raw_queue_message(&odd.to_string());
    let s = ingest(&client, &ledger);
    assert_eq!(
        (
            s.received,
            s.applied,
            s.duplicates,
            s.ignored,
            s.dead_lettered,
            s.deleted
        ),
        (4, 0, 1, 1, 2, 3),
        "{s:?}"
    );
    assert!(s.revocations.is_empty(), "no double revocation");
    assert!(ledger.open_revocations().unwrap().is_empty());
    let left = w.emu.queue_messages();
    assert_eq!(left.len(), 1, "the foreign event is left alone");
    let dead = ledger.clawback_dead_letters().unwrap();
    let mut ids: Vec<&str> = dead.iter().map(|d| d.message_id.as_str()).collect();
    ids.sort();
    let mut want = vec![junk.as_str(), odd_id.as_str()];
    want.sort();
    assert_eq!(ids, want);
    assert!(
        dead.iter().any(|d| d.reason.contains("Disputed")),
        "{dead:?}"
    );
    assert!(dead.iter().any(|d| d.text == "%%% not an event"));

    // A server of that sandbox takes it.
    let mut opts = ClawbackIngestOptions {
        expected_sandbox: "XDKS.1".into(),
        ..ClawbackIngestOptions::default()
    };
    w.emu.advance(Duration::from_secs(31));
    let s = client
        .block_on(ledger.ingest_clawback_queue(&client, opts.clone()))
        .unwrap()
        .unwrap();
    assert_eq!((s.applied, s.deleted, s.unmatched), (1, 1, 1), "{s:?}");
    opts.max_batches = 0;
    let e = client
        .block_on(ledger.ingest_clawback_queue(&client, opts))
        .unwrap()
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
}

/// Events that arrive while their consume is still pending are matched once the consume is
/// recorded (by the reconcile that replays it); a reversal that also came first cancels it.
pub fn clawback_before_the_consume_is_recorded(db: &dyn Db) {
    let w = World::new();
    let p = coins(&w);
    let x = buy(&w, &p, 5);
    let y = buy(&w, &p, 5);
    let pending = |player: &str, q: u32| {
        let client = one_shot_client(&w);
        let mut cfg = db.config("server-1");
        cfg.send_rounds = 1;
        let ledger = Ledger::open(&cfg).unwrap();
        w.fault(CONSUME_ROUTE, FaultKind::DropAfterApply, 1);
        let e = client
            .block_on(ledger.consume(
                &client,
                LedgerConsume::new(player, &w.seed.collections_key, &p, q),
            ))
            .unwrap()
            .unwrap();
        assert_eq!(e.state, EntryState::Pending);
        assert!(e.transactions.is_empty(), "order lines unknown yet");
        e.id
    };
    let late = pending("player-late", 5); // all of x, applied by the Store, answer lost
    let cancelled = pending("player-cancelled", 2); // 2 of y
    assert_eq!(claw(&w, ClawbackAction::Chargeback, &x), "Revoked");
    assert_eq!(claw(&w, ClawbackAction::Chargeback, &y), "Revoked");
    assert_eq!(
        claw(&w, ClawbackAction::ChargebackReversal, &y),
        "ChargebackReversal"
    );

    let client = w.client();
    let ledger = Ledger::open(&db.config("server-1")).unwrap();
    let s = ingest(&client, &ledger);
    assert_eq!((s.applied, s.unmatched), (3, 2), "{s:?}");
    assert!(s.revocations.is_empty(), "nothing recorded to match yet");
    let waiting = ledger.unmatched_clawbacks().unwrap();
    assert_eq!(
        waiting.len(),
        1,
        "x only: y's reversal cancelled it: {waiting:?}"
    );
    assert_eq!(waiting[0].order_id, x);

    // The restart's reconcile replays both consumes; recording x's order line matches the event.
    let r = client.block_on(ledger.reconcile(&client)).unwrap().unwrap();
    assert_eq!(r.to_grant.len(), 2, "{r:?}");
    assert_eq!(r.revocations.len(), 1, "{r:?}");
    let rev = &r.revocations[0];
    assert_eq!(
        (
            rev.kind,
            rev.player_ref.as_str(),
            rev.quantity,
            rev.entry_id.as_str()
        ),
        (RevocationKind::Revoke, "player-late", 5, late.as_str())
    );
    assert_eq!(rev.order_id, x);
    assert!(ledger.unmatched_clawbacks().unwrap().is_empty());
    for e in &r.to_grant {
        ledger.acknowledge(&e.id).unwrap();
    }
    ledger.acknowledge_revocation(&rev.id).unwrap();
    // Nothing more on later passes, and nothing for the reversed line.
    let again = client.block_on(ledger.reconcile(&client)).unwrap().unwrap();
    assert!(again.revocations.is_empty());
    assert!(ledger
        .open_revocations()
        .unwrap()
        .iter()
        .all(|r| r.entry_id != cancelled));
    assert!(ledger.open_revocations().unwrap().is_empty());
}

/// Clawback v1: refunded orders polled for one user become the same revocations; polling
/// again records nothing new; a reversal (the line back to Purchased) restores; a second
/// chargeback after it revokes again.
pub fn clawback_v1_end_to_end(db: &dyn Db) {
    let w = World::new();
    let client = w.client();
    let ledger = Ledger::open(&db.config("server-1")).unwrap();
    let p = coins(&w);
    let a = buy(&w, &p, 3);
    let e1 = ledger_consume(&w, &client, &ledger, "v1-player-1", &p, 3);
    let c = buy(&w, &p, 2);
    let e2 = ledger_consume(&w, &client, &ledger, "v1-player-2", &p, 1);
    let b = buy(&w, &p, 2);
    assert_eq!(claw(&w, ClawbackAction::Return, &a), "Revoked");
    assert_eq!(claw(&w, ClawbackAction::Chargeback, &c), "Revoked");
    assert_eq!(claw(&w, ClawbackAction::Refund, &b), "Refunded");
    let poll = || {
        client
            .block_on(ledger.ingest_clawback_orders(
                &client,
                &w.seed.purchase_key,
                ClawbackOrdersIngestOptions::default(),
            ))
            .unwrap()
            .unwrap()
    };
    let s = poll();
    assert_eq!(
        (s.applied, s.duplicates, s.dead_lettered),
        (3, 0, 0),
        "{s:?}"
    );
    assert_eq!(
        sorted(&s.revocations),
        vec![
            (RevocationKind::Revoke, "v1-player-1".into(), 3),
            (RevocationKind::Revoke, "v1-player-2".into(), 1),
        ]
    );
    let first_c = s
        .revocations
        .iter()
        .find(|r| r.entry_id == e2)
        .unwrap()
        .clone();
    assert!(s.revocations.iter().any(|r| r.entry_id == e1));
    assert!(
        first_c.event_id.starts_with(&format!("v1:{c}:")),
        "{first_c:?}"
    );
    assert!(
        ledger.revocations_to_apply().unwrap().is_empty(),
        "handed out"
    );

    let s = poll();
    assert_eq!(
        (s.applied, s.duplicates),
        (0, 3),
        "re-polling is idempotent: {s:?}"
    );
    assert!(s.revocations.is_empty());

    assert_eq!(
        claw(&w, ClawbackAction::ChargebackReversal, &c),
        "ChargebackReversal"
    );
    let s = poll();
    assert_eq!(s.applied, 1, "{s:?}");
    assert_eq!(s.revocations.len(), 1);
    assert_eq!(s.revocations[0].kind, RevocationKind::Restore);
    assert_eq!(
        s.revocations[0].reverses.as_deref(),
        Some(first_c.id.as_str())
    );
    assert!(
        poll().revocations.is_empty(),
        "the reversal is recorded once"
    );

    assert_eq!(claw(&w, ClawbackAction::Chargeback, &c), "Revoked");
    let s = poll();
    assert_eq!(
        sorted(&s.revocations),
        vec![(RevocationKind::Revoke, "v1-player-2".into(), 1)]
    );
    assert_ne!(
        s.revocations[0].event_id, first_c.event_id,
        "a new generation"
    );
    assert!(poll().revocations.is_empty());
    // a's and c's first revocations, c's restore, c's second revocation.
    assert_eq!(ledger.open_revocations().unwrap().len(), 4);

    let e = client
        .block_on(ledger.ingest_clawback_orders(&client, " ", Default::default()))
        .unwrap()
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
}

/// The SAS expires in the middle of a pass (renewed on the 403), and a delete whose pop
/// receipt went stale (the message was received again meanwhile) is not a failure: the
/// redelivery is a duplicate.
pub fn clawback_ingest_sas_expiry_and_stale_receipt(db: &dyn Db) {
    let w = World::new();
    w.emu.update_knobs(|k| k.sas_lifetime_secs = 3600);
    let client = w.client();
    let ledger = Ledger::open(&db.config("server-1")).unwrap();
    let p = coins(&w);
    for _ in 0..2 {
        let o = buy(&w, &p, 1);
        claw(&w, ClawbackAction::Refund, &o);
    }
    let one_at_a_time = ClawbackIngestOptions {
        receive: ReceiveOptions {
            max_messages: 1,
            visibility_timeout_secs: 30,
        },
        ..ClawbackIngestOptions::default()
    };
    // The first delete is held 600 ms; meanwhile two hours pass on the Store's clock.
    w.fault("queue_delete", FaultKind::Delay { ms: 600 }, 1);
    let s = std::thread::scope(|scope| {
        let run = scope.spawn(|| {
            client
                .block_on(ledger.ingest_clawback_queue(&client, one_at_a_time.clone()))
                .unwrap()
                .unwrap()
        });
        std::thread::sleep(Duration::from_millis(250));
        w.emu.advance(Duration::from_secs(2 * 3600));
        run.join().unwrap()
    });
    assert_eq!(
        (s.applied, s.deleted, s.delete_conflicts),
        (2, 2, 0),
        "{s:?}"
    );
    assert_eq!(client.clawback_sas_fetches(), 2, "renewed once, mid-pass");
    let deletes = w.statuses("queue_delete");
    assert_eq!(
        deletes.iter().filter(|s| **s == 403).count(),
        1,
        "{deletes:?}"
    );
    assert!(w.emu.queue_messages().is_empty());

    // Stale pop receipt: while our delete is held, the message's visibility lapses and another
    // consumer receives it (a new receipt supersedes ours).
    let o = buy(&w, &p, 1);
    claw(&w, ClawbackAction::Refund, &o);
    w.fault("queue_delete", FaultKind::Delay { ms: 600 }, 1);
    let other = w.client();
    let s = std::thread::scope(|scope| {
        let run = scope.spawn(|| ingest(&client, &ledger));
        std::thread::sleep(Duration::from_millis(250));
        w.emu.advance(Duration::from_secs(31));
        let got = other
            .block_on(other.clawback_receive(ReceiveOptions::default()))
            .unwrap()
            .unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].dequeue_count, 2);
        run.join().unwrap()
    });
    assert_eq!(
        (s.applied, s.deleted, s.delete_conflicts, s.delete_errors),
        (1, 0, 1, 0),
        "{s:?}"
    );
    assert_eq!(w.emu.queue_messages().len(), 1, "it comes back");
    w.emu.advance(Duration::from_secs(31));
    let s = ingest(&client, &ledger);
    assert_eq!((s.received, s.duplicates, s.deleted), (1, 1, 1), "{s:?}");
    assert!(w.emu.queue_messages().is_empty());
}

/// The Store ID key of one entry, read from the raw table.
fn raw_key(db: &dyn Db, id: &str) -> String {
    let rows = db.raw_text(&format!(
        "SELECT collections_key FROM msstore_ledger_entries WHERE id = '{id}'"
    ));
    rows.first()
        .map(|r| r[0].clone())
        .unwrap_or_else(|| "<no row>".into())
}

fn raw_ids(db: &dyn Db) -> HashSet<String> {
    db.raw_text("SELECT id FROM msstore_ledger_entries")
        .into_iter()
        .map(|r| r[0].clone())
        .collect()
}

/// Moves an entry's close time `days` into the past.
fn backdate(db: &dyn Db, id: &str, days: i64) {
    let ms = days * 86_400_000;
    let n = db.raw_exec(&format!(
        "UPDATE msstore_ledger_entries SET updated_ms = updated_ms - {ms} WHERE id = '{id}'"
    ));
    assert_eq!(n, 1);
}

/// At rest: the Store ID key is kept only while an entry may be sent or granted (blanked on
/// complete and on fail, and in closed rows an older version left), and `retention_days`
/// deletes old closed entries except those clawback matching needs (they drew from order
/// lines), at open and at reconcile.
pub fn keys_are_blanked_and_retention_prunes(db: &dyn Db) {
    let w = World::new();
    let key = w.seed.collections_key.clone();
    let client = w.client();
    let consume = |ledger: &Ledger, quantity: u32| {
        client
            .block_on(ledger.consume(&client, consume_req(&w, "player-r", quantity)))
            .unwrap()
            .unwrap()
    };
    let mut keep = db.config("server-1");
    keep.retention_days = 0;
    let ledger = Ledger::open(&keep).unwrap();
    let completed = consume(&ledger, 1);
    assert_eq!(completed.state, EntryState::Applied);
    assert_eq!(
        raw_key(db, &completed.id),
        key,
        "kept until the game acknowledges"
    );
    ledger.acknowledge(&completed.id).unwrap();
    assert_eq!(raw_key(db, &completed.id), "", "blanked on complete");
    let failed = consume(&ledger, 50);
    assert_eq!(failed.state, EntryState::Failed);
    assert_eq!(raw_key(db, &failed.id), "", "blanked on fail");
    let applied = consume(&ledger, 1);
    assert_eq!(applied.state, EntryState::Applied);
    // A completed entry that drew from no order line (as a developer-managed one).
    let lineless = consume(&ledger, 1);
    ledger.acknowledge(&lineless.id).unwrap();
    db.raw_exec(&format!(
        "DELETE FROM msstore_ledger_transactions WHERE entry_id = '{}'",
        lineless.id
    ));
    // A recent failure, inside the retention.
    let recent = consume(&ledger, 60);
    assert_eq!(recent.state, EntryState::Failed);
    drop(ledger);

    // A file from an older version: keys left in closed rows are blanked at open.
    db.raw_exec(&format!(
        "UPDATE msstore_ledger_entries SET collections_key = 'legacy-key' WHERE id IN ('{}', '{}')",
        completed.id, failed.id
    ));
    for id in [&completed.id, &failed.id, &applied.id, &lineless.id] {
        backdate(db, id, 31);
    }
    db.raw_exec(
        "INSERT INTO msstore_ledger_dead_letters (message_id, reason, text, dequeue_count, \
         created_ms) VALUES ('old-letter', 'r', 't', 1, 1000)",
    );
    let ledger = Ledger::open(&keep).unwrap();
    assert_eq!(raw_key(db, &completed.id), "");
    assert_eq!(raw_key(db, &failed.id), "");
    assert_eq!(raw_key(db, &applied.id), key, "an open entry keeps its key");
    assert_eq!(raw_ids(db).len(), 5, "retention 0 deletes nothing");
    drop(ledger);

    let mut month = db.config("server-1");
    month.retention_days = 30;
    let ledger = Ledger::open(&month).unwrap();
    let ids = raw_ids(db);
    assert!(!ids.contains(&failed.id), "old failure deleted at open");
    assert!(
        !ids.contains(&lineless.id),
        "old completed entry without order lines deleted"
    );
    assert!(
        ids.contains(&completed.id),
        "kept: clawback matching needs its order lines"
    );
    assert!(ids.contains(&applied.id), "open entries are never pruned");
    assert!(ids.contains(&recent.id), "inside the retention");
    assert!(db
        .raw_text("SELECT message_id FROM msstore_ledger_dead_letters")
        .is_empty());
    let lines = db.raw_text(&format!(
        "SELECT order_id, line_item_id FROM msstore_ledger_transactions WHERE entry_id = '{}'",
        completed.id
    ));
    assert!(!lines.is_empty() && lines.iter().all(|l| !l[0].is_empty() && !l[1].is_empty()));
    // The kept entry still matches a late clawback.
    let t = &completed.transactions[0];
    let r = ledger
        .apply_clawback(&ClawbackMatch {
            event_id: "late-refund".into(),
            order_id: t.order_id.clone(),
            line_item_id: t.order_line_item_id.clone(),
            product_id: w.seed.consumable_product_id.clone(),
            state: ClawbackState::Revoked,
        })
        .unwrap();
    // Every consume that drew from the line, the aged one included.
    assert!(
        r.revocations
            .iter()
            .any(|v| v.entry_id == completed.id && v.player_ref == "player-r" && v.quantity == 1),
        "{r:?}"
    );

    // Reconcile prunes too: the recent failure ages past the retention.
    backdate(db, &recent.id, 31);
    client.block_on(ledger.reconcile(&client)).unwrap().unwrap();
    assert!(!raw_ids(db).contains(&recent.id), "pruned at reconcile");
    assert_eq!(
        ledger.prune().unwrap(),
        msstore::ledger::PruneSummary::default()
    );
}

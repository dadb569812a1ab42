//! The consume ledger over SQLite (the default store) against the in-process emulator. The
//! same bodies run over PostgreSQL in tests/ledger_pg.rs.

use crate::ledger_support;

use ledger_support::*;

#[test]
fn dropped_response_is_replayed_once_after_a_restart() {
    dropped_response_then_restart(&SqliteDb::new());
}

#[test]
fn applied_but_unacknowledged_is_handed_out_again_after_a_restart() {
    applied_unacknowledged_is_handed_out_after_restart(&SqliteDb::new());
}

#[test]
fn refusals_are_final_and_bad_input_is_never_recorded() {
    refusals_and_bad_input(&SqliteDb::new());
}

#[test]
fn clawback_events_become_revocations() {
    clawback_matching(&SqliteDb::new());
}

#[test]
fn two_servers_on_one_file_never_hand_out_an_entry_twice() {
    two_servers_share_the_ledger(&SqliteDb::new());
}

#[test]
fn randomised_faults_and_restarts_lose_and_double_nothing() {
    let stats = randomised_run(&SqliteDb::new(), 520, seed());
    assert!(stats.consumes >= 500);
    assert!(stats.restarts > 0 && stats.faults > 50, "{stats:?}");
}

#[test]
fn the_database_file_is_durable_and_uses_wal() {
    let db = SqliteDb::new();
    let ledger = msstore::Ledger::open(&db.config("x")).unwrap();
    assert_eq!(ledger.backend(), "sqlite");
    drop(ledger);
    let c = rusqlite::Connection::open(&db.path).unwrap();
    let mode: String = c
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    // An unopenable path is a clear storage error, not a panic.
    let bad = msstore::LedgerConfig::sqlite("/nonexistent-dir/x/ledger.sqlite");
    let err = msstore::Ledger::open(&bad).unwrap_err();
    assert_eq!(err.kind, msstore::ErrorKind::Storage);
    assert!(err.message.contains("cannot open"), "{err}");
}

#[test]
fn clawback_queue_ingestion_end_to_end() {
    clawback_ingest_end_to_end(&SqliteDb::new());
}

#[test]
fn clawback_arriving_before_its_consume_is_matched_later() {
    clawback_before_the_consume_is_recorded(&SqliteDb::new());
}

#[test]
fn clawback_v1_orders_ingestion_end_to_end() {
    clawback_v1_end_to_end(&SqliteDb::new());
}

#[test]
fn clawback_ingestion_survives_sas_expiry_and_stale_receipts() {
    clawback_ingest_sas_expiry_and_stale_receipt(&SqliteDb::new());
}

#[test]
fn a_canceled_consume_is_resent_by_the_same_process() {
    canceled_consume_is_resent_by_the_same_process(&SqliteDb::new());
}

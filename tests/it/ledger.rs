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

#[cfg(unix)]
#[test]
fn a_directory_as_the_sqlite_path_is_refused_and_keeps_its_permissions() {
    use std::os::unix::fs::PermissionsExt;
    // Found the hard way: an open with a directory path once chmod-ed the directory (even `/`)
    // to 0600 while tightening "the ledger file".
    let dir = std::env::temp_dir().join(format!("msstore-dir-as-db-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let err =
        msstore::Ledger::open(&msstore::LedgerConfig::sqlite(dir.to_str().unwrap())).unwrap_err();
    assert_eq!(err.kind, msstore::ErrorKind::Storage);
    assert!(err.message.contains("not a regular file"), "{err}");
    let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(mode, 0o755);
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

#[test]
fn keys_are_blanked_when_closed_and_retention_prunes_old_entries() {
    keys_are_blanked_and_retention_prunes(&SqliteDb::new());
}

/// The file and its -wal/-shm are owner-only: fresh, and when an older version left them 0644.
#[cfg(unix)]
#[test]
fn the_database_file_and_its_wal_and_shm_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &str| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let db = SqliteDb::new();
    let path = db.path.to_string_lossy().into_owned();
    let files = [path.clone(), format!("{path}-wal"), format!("{path}-shm")];
    // The temp directory already exists; the ledger creates the file in it.
    let ledger = msstore::Ledger::open(&db.config("x")).unwrap();
    ledger
        .apply_clawback(&msstore::ClawbackMatch {
            event_id: "e1".into(),
            order_id: "o".into(),
            line_item_id: "l".into(),
            product_id: "p".into(),
            state: msstore::ClawbackState::Refunded,
        })
        .unwrap();
    for f in &files {
        assert_eq!(mode(f), 0o600, "{f}");
    }
    // Widened by someone else while open: tightened by the next open.
    for f in &files {
        std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let again = msstore::Ledger::open(&db.config("x")).unwrap();
    assert!(again.pending().unwrap().is_empty());
    for f in &files {
        assert_eq!(mode(f), 0o600, "{f}");
    }
    drop((ledger, again));
    // A file that exists before the first open (created 0644 by another tool).
    let pre = SqliteDb::new();
    std::fs::write(&pre.path, b"").unwrap();
    std::fs::set_permissions(&pre.path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let l = msstore::Ledger::open(&pre.config("x")).unwrap();
    let p = pre.path.to_string_lossy().into_owned();
    for f in [p.clone(), format!("{p}-wal"), format!("{p}-shm")] {
        assert_eq!(mode(&f), 0o600, "{f}");
    }
    drop(l);
}

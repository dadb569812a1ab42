//! The consume ledger over PostgreSQL: the same bodies as tests/ledger.rs, plus two servers
//! reconciling one shared ledger at the same time. Needs `MSSTORE_TEST_PG_URL` (a loopback
//! server; `scripts/test-pg.sh` starts one and sets it); without it every test here prints a
//! note and returns. Each test gets its own schema, so they may run in parallel.

use crate::ledger_support;

use ledger_support::*;
use msstore::LedgerConfig;

struct PgDb {
    url: String,
}

impl PgDb {
    /// A fresh schema on the test server, or `None` (with a note) when none is configured.
    fn new(test: &str) -> Option<PgDb> {
        let Ok(base) = std::env::var("MSSTORE_TEST_PG_URL") else {
            // Written to the real stderr (the test harness captures eprintln!), so the skip shows.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "note: MSSTORE_TEST_PG_URL is not set; skipped {test} (scripts/test-pg.sh runs it)"
            );
            return None;
        };
        let schema = format!(
            "t_{}_{}",
            test,
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        let mut c = postgres::Client::connect(&base, postgres::NoTls).expect("test PostgreSQL");
        c.batch_execute(&format!("CREATE SCHEMA {schema}")).unwrap();
        let sep = if base.contains('?') { '&' } else { '?' };
        Some(PgDb {
            url: format!("{base}{sep}options=-csearch_path%3D{schema}"),
        })
    }
}

impl Db for PgDb {
    fn config(&self, instance: &str) -> LedgerConfig {
        fast(LedgerConfig::postgres(self.url.as_str(), instance))
    }
}

#[test]
fn pg_dropped_response_is_replayed_once_after_a_restart() {
    if let Some(db) = PgDb::new("restart") {
        dropped_response_then_restart(&db);
    }
}

#[test]
fn pg_applied_but_unacknowledged_is_handed_out_again_after_a_restart() {
    if let Some(db) = PgDb::new("unacked") {
        applied_unacknowledged_is_handed_out_after_restart(&db);
    }
}

#[test]
fn pg_refusals_are_final_and_bad_input_is_never_recorded() {
    if let Some(db) = PgDb::new("refusals") {
        refusals_and_bad_input(&db);
    }
}

#[test]
fn pg_clawback_events_become_revocations() {
    if let Some(db) = PgDb::new("clawback") {
        clawback_matching(&db);
    }
}

#[test]
fn pg_two_servers_never_hand_out_an_entry_twice() {
    if let Some(db) = PgDb::new("two_servers") {
        two_servers_share_the_ledger(&db);
    }
}

#[test]
fn pg_randomised_faults_and_restarts_lose_and_double_nothing() {
    if let Some(db) = PgDb::new("random") {
        let stats = randomised_run(&db, 500, seed());
        assert!(stats.consumes >= 500);
    }
}

#[test]
fn pg_configuration_errors_are_clear() {
    if let Some(db) = PgDb::new("config") {
        let mut c = db.config("");
        c.instance_id.clear();
        assert_eq!(
            msstore::Ledger::open(&c).unwrap_err().kind,
            msstore::ErrorKind::Configuration
        );
        // Nothing listens on port 1: a storage error naming PostgreSQL, without the URL.
        let bad = LedgerConfig::postgres("postgres://u:pw-secret@127.0.0.1:1/db", "s1");
        let err = msstore::Ledger::open(&bad).unwrap_err();
        assert_eq!(err.kind, msstore::ErrorKind::Storage);
        assert!(
            err.message.contains("PostgreSQL") && !err.message.contains("pw-secret"),
            "{err}"
        );
    }
}

#[test]
fn pg_clawback_queue_ingestion_end_to_end() {
    if let Some(db) = PgDb::new("ingest") {
        clawback_ingest_end_to_end(&db);
    }
}

#[test]
fn pg_clawback_arriving_before_its_consume_is_matched_later() {
    if let Some(db) = PgDb::new("late") {
        clawback_before_the_consume_is_recorded(&db);
    }
}

#[test]
fn pg_clawback_v1_orders_ingestion_end_to_end() {
    if let Some(db) = PgDb::new("v1") {
        clawback_v1_end_to_end(&db);
    }
}

#[test]
fn pg_clawback_ingestion_survives_sas_expiry_and_stale_receipts() {
    if let Some(db) = PgDb::new("sas") {
        clawback_ingest_sas_expiry_and_stale_receipt(&db);
    }
}

#[test]
fn pg_a_canceled_consume_is_resent_by_the_same_process() {
    if let Some(db) = PgDb::new("canceled") {
        canceled_consume_is_resent_by_the_same_process(&db);
    }
}

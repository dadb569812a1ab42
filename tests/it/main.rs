//! The integration tests: one test binary (linking the library once), one module per suite.
//! Everything runs against an in-process emulator (`msstore-emulator`) on 127.0.0.1. A new
//! suite is a file here plus a `mod` line below; shared set-up sits in the `*_support` and
//! `common` modules. The CLI's tests live in tools/cli/tests, the benchmark's in tools/bench/tests.

mod common;
mod emulator_support;
mod ledger_support;
#[cfg(feature = "sqlite")]
mod money_support;
mod support_hostile;

mod clawback;
mod credentials;
mod e2e_collections;
mod e2e_purchase;
mod e2e_tokens_keys;
mod emulator_collections;
mod emulator_consume;
mod emulator_entra;
mod emulator_faults;
mod emulator_keys;
mod emulator_knobs;
mod emulator_promotions;
mod emulator_recurrences;
mod emulator_tls;
mod emulator_trials;
mod hostile_bodies;
#[cfg(feature = "sqlite")]
mod ledger;
#[cfg(feature = "postgres")]
mod ledger_pg;
mod managed_identity;
#[cfg(feature = "sqlite")]
mod money_path;
mod rotation;
mod spec_fixtures;

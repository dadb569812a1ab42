//! The C ABI (`msstore_*`), the only way game engines reach the library.
//!
//! One job per module:
//! - `accessors`: the accessors, takes and frees of result handles, generated from
//!   `exports_table.rs` by build.rs;
//! - [`types`]: `repr(C)` enums and structs shared with C (result codes, options, item views);
//! - [`handles`]: the registry of live handles (freed-handle detection, `msstore_live_objects`);
//! - [`panic`]: the panic boundary every export runs inside;
//! - `versions`: the published sizes of every struct with a `struct_size` (read and written
//!   only at those sizes);
//! - [`strings`]: strings in (NUL-terminated UTF-8, bounded) and out (owned by a handle);
//! - [`error`]: result-code mapping, `msstore_error` objects and their accessors;
//! - [`completion`]: operation handles, the per-client queue, the three completion modes;
//! - `lane`: IMMEDIATE callbacks run on the blocking pool, drained in batches;
//! - [`client`]: client creation from options or JSON, poll, shutdown, free;
//! - [`ops`]: one start function per network operation;
//! - [`results`]: result handles and their copy-by-index accessors;
//! - [`clawback`]: refunds (clawback v1 orders, v2 queue receive/peek/delete) and their results;
//! - [`credential`]: the credential forms as handles for the client options, the caller-supplied
//!   token provider (callback and sink), the credential's expiry;
//! - [`doctor`]: the setup checks of `msstore doctor` and their report;
//! - [`key`]: synchronous Store ID key decoding and key accessors;
//! - [`log`]: the log callback (secrets redacted);
//! - `fork`: `fork()` detection: a child never touches the handles it inherited;
//! - [`ledger`]: the consume ledger (open, consume/reconcile operations, acknowledgements,
//!   clawback matching).
//! - `driver` (feature `bench-driver`, hidden): safe Rust calls into this C ABI, made as a C caller makes them (benchmarks).
//!
//! Handles given to C are opaque ids from [`handles`], never raw Rust pointers: the library never
//! dereferences a handle, so a freed, foreign or garbage handle is an error code, not UB.
//! `unsafe` appears only in this module tree, for reading C pointers the caller passed in; each
//! block says why it is sound.
#![allow(non_camel_case_types)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

mod accessors;
mod admission;
pub mod clawback;
pub mod client;
pub mod completion;
pub mod credential;
pub mod doctor;
#[cfg(feature = "bench-driver")]
#[doc(hidden)]
pub mod driver;
pub mod error;
mod fork;
pub mod handles;
pub mod key;
mod lane;
pub mod ledger;
#[cfg(test)]
mod lifecycle_stress;
pub mod log;
mod op_table;
pub mod ops;
mod packed;
pub mod panic;
mod parked;
pub mod results;
pub mod strings;
pub mod types;
mod versions;

use panic::boundary;
use std::ffi::c_char;

static VERSION_C: &[u8] = concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes();

/// The library version as a static NUL-terminated string `"MAJOR.MINOR.PATCH"`.
///
/// Ownership: static; never free it. Threading: any thread. Errors: none.
/// Compare with `MSSTORE_VERSION_STRING` to detect a header/library mismatch.
#[no_mangle]
pub extern "C" fn msstore_version() -> *const c_char {
    boundary!({ Ok(VERSION_C.as_ptr().cast()) })
}

/// The number of live library objects (clients, operations, errors, result handles, credentials
/// and doctor reports) in the process. A leak check for tests: after every object has been freed it is 0.
///
/// Threading: any thread. Errors: none.
#[no_mangle]
pub extern "C" fn msstore_live_objects() -> usize {
    boundary!({ Ok(handles::count()) })
}

/// Test hook: panics inside the library on purpose, to show that the panic boundary turns it
/// into `MSSTORE_E_PANIC` instead of aborting the host. Always returns `MSSTORE_E_PANIC`. Only
/// in builds with the Cargo feature `ffi-test-hooks` (the test suites'; never shipped), and
/// declared only when `MSSTORE_TEST_HOOKS` is defined.
///
/// Threading: any thread. The panic message is printed to stderr by the Rust panic hook.
#[cfg(feature = "ffi-test-hooks")]
#[no_mangle]
#[allow(unreachable_code)] // the `Ok(())` that gives the body its type
pub extern "C" fn msstore_debug_trigger_panic() -> types::msstore_result {
    boundary!({
        panic!("msstore_debug_trigger_panic called");
        Ok(())
    })
}

//! The consume ledger in C: open/free, consume-through-ledger and reconcile (operations, see
//! [`super::ops`] for the common contract), and synchronous list/acknowledge/clawback calls
//! (one short database transaction each; with PostgreSQL each gives up with
//! `MSSTORE_E_TIMEOUT` after `pg_statement_timeout_ms` when the server does not answer).
//!
//! Threading: a `msstore_ledger` is safe to share across threads and clients.

use super::clawback::msstore_clawback_event_state;
use super::completion::{start, start_in_doubt, InDoubt};
use super::error::{code_of, error_for_code, fail};
use super::handles;
use super::panic::boundary;
use super::results::{transaction_view, Payload, Views};
use super::strings::{
    cstring, in_opt_string, in_string, non_null, read_versioned, read_versioned_explained,
    write_out, Arena,
};
use super::types::{
    msstore_call_options, msstore_client, msstore_completion_cb, msstore_error, msstore_op,
    msstore_order_transaction, msstore_result, zeroed_default, Versioned,
};
use super::versions::StructVersions;
use crate::clawback::ReceiveOptions;
use crate::error::{Error, Result};
use crate::ledger::{
    ClawbackIngestOptions, ClawbackIngestSummary, ClawbackMatch, ClawbackOrdersIngestOptions,
    ClawbackState, EntryState, Ledger, LedgerConfig, LedgerConsume, LedgerEntry, Revocation,
    RevocationKind,
};
use std::ffi::{c_char, c_void, CString};
use std::time::Duration;

/// A durable consume ledger (SQLite file or PostgreSQL). Thread-safe.
pub struct msstore_ledger {
    _private: [u8; 0],
}

/// Ledger entries and/or revocations (a consume's entry, a reconcile's or a listing's items).
/// Immutable; thread-safe.
pub struct msstore_ledger_items {
    _private: [u8; 0],
}

/// State of a ledger entry (`msstore_ledger_entry.state`).
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum msstore_ledger_state {
    /// Recorded; the outcome is not known yet. Do not grant; reconcile resends it.
    MSSTORE_LEDGER_PENDING = 1,
    /// The Store applied it: grant the value, then `msstore_ledger_acknowledge_entry`.
    MSSTORE_LEDGER_APPLIED = 2,
    /// Granted and acknowledged. Final.
    MSSTORE_LEDGER_COMPLETED = 3,
    /// The Store refused it; nothing was applied (`last_error` says why). Final.
    MSSTORE_LEDGER_FAILED = 4,
}

/// What a revocation asks the game to do (`msstore_ledger_revocation.kind`).
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum msstore_revocation_kind {
    /// Take `quantity` of `product_id` away from `player_ref`.
    MSSTORE_REVOCATION_REVOKE = 1,
    /// Give it back (a chargeback reversal of revocation `reverses`).
    MSSTORE_REVOCATION_RESTORE = 2,
}

/// Options of `msstore_ledger_open` (`msstore_ledger_options_init` fills defaults).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct msstore_ledger_options {
    pub struct_size: u32,
    /// SQLite file, created if missing (default `msstore-ledger.sqlite`). Ignored when
    /// `postgres_url` is set.
    pub sqlite_path: *const c_char,
    /// `postgres://user:password@host:port/db` (no TLS: loopback or private network). A secret:
    /// never logged.
    pub postgres_url: *const c_char,
    /// This server's stable, unique name; required with PostgreSQL. NULL = `local` (SQLite).
    pub instance_id: *const c_char,
    /// How long a claim on an entry handed to this server's game lasts; 0 = 300 000.
    pub claim_lease_ms: u32,
    /// Sends per consume call before leaving an entry pending; 0 = 3.
    pub send_rounds: u32,
    /// Wait before the second send (doubles after); 0 = 500.
    pub resend_delay_ms: u32,
    /// Closed entries older than this many days are deleted, except those that drew from
    /// order lines (kept, without keys, for clawback matching). 0 = keep them. Added in 0.1
    /// after `resend_delay_ms`, like the three below: callers built with an older header
    /// (smaller `struct_size`) get their defaults.
    pub retention_days: u32,
    /// PostgreSQL: the most opening a connection may take; 0 = 5000.
    pub pg_connect_timeout_ms: u32,
    /// PostgreSQL: server `statement_timeout` and the client-side bound on each call's
    /// transaction; a stalled server gives `MSSTORE_E_TIMEOUT` after this long; 0 = 5000.
    pub pg_statement_timeout_ms: u32,
    /// PostgreSQL: idle time before TCP keepalive probes; 0 = 10000.
    pub pg_keepalive_idle_ms: u32,
}
// SAFETY: repr(C), u32 first, only integers and raw pointers.
unsafe impl Versioned for msstore_ledger_options {}

/// A consume through the ledger (`msstore_ledger_consume`).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct msstore_ledger_consume_options {
    pub struct_size: u32,
    /// The game's reference of the player who gets the value. Required.
    pub player_ref: *const c_char,
    /// The UserCollectionsId. Required. Stored in the ledger for replays; never logged.
    pub collections_key: *const c_char,
    /// Required.
    pub product_id: *const c_char,
    /// Store-managed: units (>= 1). 0 = developer-managed consumable.
    pub quantity: u32,
    /// A GUID; NULL = generated. Passing an earlier entry's id returns that entry.
    pub tracking_id: *const c_char,
    pub sbx: *const c_char,
}
// SAFETY: repr(C), u32 first, only integers and raw pointers.
unsafe impl Versioned for msstore_ledger_consume_options {}

/// A clawback event to match (`msstore_ledger_apply_clawback`). All strings required.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct msstore_clawback_match_options {
    pub struct_size: u32,
    /// The event id (idempotency key).
    pub event_id: *const c_char,
    pub order_id: *const c_char,
    pub line_item_id: *const c_char,
    pub product_id: *const c_char,
    /// A `msstore_clawback_event_state` value other than `MSSTORE_CLAWBACK_OTHER`.
    pub state: i32,
}
// SAFETY: repr(C), u32 first, only integers and raw pointers.
unsafe impl Versioned for msstore_clawback_match_options {}

/// Options of `msstore_ledger_ingest_clawback`; NULL options = all defaults.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct msstore_clawback_ingest_options {
    pub struct_size: u32,
    /// Events of other sandboxes are left in the queue. NULL = `RETAIL`.
    pub expected_sandbox: *const c_char,
    /// Messages per receive, 1..32; 0 = 32.
    pub max_messages: u32,
    /// How long received messages stay hidden while being recorded; 0 = 30 s.
    pub visibility_timeout_secs: u32,
    /// Receives per call at most (a call also stops at the first short batch); 0 = 16.
    pub max_batches: u32,
}
// SAFETY: repr(C), u32 first, only integers and raw pointers.
unsafe impl Versioned for msstore_clawback_ingest_options {}

/// The summary of a ledger items handle, filled by `msstore_ledger_items_get_info`: its counts
/// and, for the result of a clawback ingestion pass, what the pass did (the revocations it
/// created are the items' revocations: apply each, then acknowledge it).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct msstore_ledger_items_info {
    pub struct_size: u32,
    /// 1 for the result of `msstore_ledger_ingest_clawback[_orders]` (the counts from
    /// `received` on are set); else 0.
    pub is_ingest_summary: u32,
    /// Entries (`msstore_ledger_items_entry_at`).
    pub entry_count: usize,
    /// Revocations (`msstore_ledger_items_revocation_at`).
    pub revocation_count: usize,
    /// Queue messages received (v1: order lines examined).
    pub received: u32,
    /// Events recorded for the first time.
    pub applied: u32,
    /// Events recorded before (redeliveries): nothing new.
    pub duplicates: u32,
    /// Of `applied`: events for lines no recorded consume drew from yet (matched later).
    pub unmatched: u32,
    /// Events of another sandbox, left in the queue.
    pub ignored: u32,
    /// Unusable messages, recorded as dead letters and deleted.
    pub dead_lettered: u32,
    /// Messages deleted after being recorded.
    pub deleted: u32,
    /// Deletes answered PopReceiptMismatch / MessageNotFound (expected, not failures).
    pub delete_conflicts: u32,
    /// Other delete failures (the events are recorded; the messages come back as duplicates).
    pub delete_errors: u32,
}

/// One ledger entry, filled by `msstore_ledger_items_entry_at`. Strings owned by the items handle.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct msstore_ledger_entry {
    pub struct_size: u32,
    /// The entry id, which is also the consume's tracking id.
    pub id: *const c_char,
    pub player_ref: *const c_char,
    pub product_id: *const c_char,
    pub quantity: u32,
    /// A `msstore_ledger_state` value.
    pub state: i32,
    pub attempts: u32,
    /// The Store's remaining balance once applied; -1 before.
    pub new_quantity: i64,
    /// Order lines drawn from (`msstore_ledger_items_entry_transaction_at`).
    pub transaction_count: usize,
    /// Why it is still pending or failed; NULL when none.
    pub last_error: *const c_char,
    pub created_unix_ms: i64,
    /// 1 on an APPLIED entry this process was handed before (by an earlier
    /// `msstore_ledger_consume` with the same tracking id, or a reconcile) and has not
    /// acknowledged: whoever received it first grants it; do NOT grant it again. 0 otherwise.
    /// A restart hands the entry out again with 0.
    pub already_handed_out: u32,
}

/// One revocation, filled by `msstore_ledger_items_revocation_at`. Strings owned by the handle.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct msstore_ledger_revocation {
    pub struct_size: u32,
    pub id: *const c_char,
    /// A `msstore_revocation_kind` value.
    pub kind: i32,
    pub player_ref: *const c_char,
    pub product_id: *const c_char,
    pub quantity: i64,
    /// The consume entry whose value is taken back.
    pub entry_id: *const c_char,
    pub order_id: *const c_char,
    pub line_item_id: *const c_char,
    pub event_id: *const c_char,
    /// For a restore: the revocation it undoes; else NULL.
    pub reverses: *const c_char,
    pub acknowledged: u32,
    pub created_unix_ms: i64,
}

zeroed_default!(
    msstore_ledger_options,
    msstore_ledger_consume_options,
    msstore_clawback_match_options,
    msstore_ledger_entry,
    msstore_ledger_revocation,
    msstore_clawback_ingest_options,
    msstore_ledger_items_info
);

pub(crate) struct LedgerObj(Ledger);

pub(crate) struct LedgerItemsObj {
    _arena: Arena,
    pub(crate) entries: Views<msstore_ledger_entry>,
    pub(crate) transactions: Vec<Views<msstore_order_transaction>>,
    pub(crate) revocations: Views<msstore_ledger_revocation>,
    pub(crate) info: Views<msstore_ledger_items_info>,
    pub(crate) json: CString,
}

fn state_c(s: EntryState) -> i32 {
    use msstore_ledger_state::*;
    (match s {
        EntryState::Pending => MSSTORE_LEDGER_PENDING,
        EntryState::Applied => MSSTORE_LEDGER_APPLIED,
        EntryState::Completed => MSSTORE_LEDGER_COMPLETED,
        EntryState::Failed => MSSTORE_LEDGER_FAILED,
    }) as i32
}

impl LedgerItemsObj {
    pub(crate) fn new(entries: &[LedgerEntry], revocations: &[Revocation]) -> LedgerItemsObj {
        let mut a = Arena::default();
        let mut transactions = Vec::new();
        let views = entries
            .iter()
            .map(|e| {
                transactions.push(Views(
                    e.transactions
                        .iter()
                        .map(|t| transaction_view(&mut a, t))
                        .collect(),
                ));
                msstore_ledger_entry {
                    struct_size: std::mem::size_of::<msstore_ledger_entry>() as u32,
                    id: a.s(&e.id),
                    player_ref: a.s(&e.player_ref),
                    product_id: a.s(&e.product_id),
                    quantity: e.quantity,
                    state: state_c(e.state),
                    attempts: e.attempts,
                    new_quantity: e.new_quantity.unwrap_or(-1),
                    transaction_count: e.transactions.len(),
                    last_error: a.o(e.last_error.as_deref()),
                    created_unix_ms: e.created_ms,
                    already_handed_out: u32::from(e.already_handed_out),
                }
            })
            .collect();
        let revs = revocations
            .iter()
            .map(|r| msstore_ledger_revocation {
                struct_size: std::mem::size_of::<msstore_ledger_revocation>() as u32,
                id: a.s(&r.id),
                kind: match r.kind {
                    RevocationKind::Revoke => msstore_revocation_kind::MSSTORE_REVOCATION_REVOKE,
                    RevocationKind::Restore => msstore_revocation_kind::MSSTORE_REVOCATION_RESTORE,
                } as i32,
                player_ref: a.s(&r.player_ref),
                product_id: a.s(&r.product_id),
                quantity: r.quantity,
                entry_id: a.s(&r.entry_id),
                order_id: a.s(&r.order_id),
                line_item_id: a.s(&r.line_item_id),
                event_id: a.s(&r.event_id),
                reverses: a.o(r.reverses.as_deref()),
                acknowledged: u32::from(r.acknowledged),
                created_unix_ms: r.created_ms,
            })
            .collect();
        let json = serde_json::json!({ "entries": entries, "revocations": revocations });
        let info = msstore_ledger_items_info {
            struct_size: std::mem::size_of::<msstore_ledger_items_info>() as u32,
            entry_count: entries.len(),
            revocation_count: revocations.len(),
            ..Default::default()
        };
        LedgerItemsObj {
            _arena: a,
            entries: Views(views),
            transactions,
            revocations: Views(revs),
            info: Views(vec![info]),
            json: cstring(&json.to_string()),
        }
    }

    /// The result of an ingestion pass: its revocations, its counts, and the summary as JSON.
    pub(crate) fn from_summary(s: &ClawbackIngestSummary) -> LedgerItemsObj {
        let mut o = LedgerItemsObj::new(&[], &s.revocations);
        o.info = Views(vec![msstore_ledger_items_info {
            is_ingest_summary: 1,
            received: s.received,
            applied: s.applied,
            duplicates: s.duplicates,
            unmatched: s.unmatched,
            ignored: s.ignored,
            dead_lettered: s.dead_lettered,
            deleted: s.deleted,
            delete_conflicts: s.delete_conflicts,
            delete_errors: s.delete_errors,
            ..o.info.0[0]
        }]);
        let json = serde_json::json!({ "entries": [], "revocations": s.revocations, "summary": s });
        o.json = cstring(&json.to_string());
        o
    }
}

/// Reports `e` through the optional error out-parameter.
///
/// # Safety
/// `err` is NULL or writable.
unsafe fn report(err: *mut *mut msstore_error, e: &Error) -> msstore_result {
    // SAFETY: forwarded contract.
    unsafe { fail(err, code_of(e.kind), e) }
}

/// The body of a synchronous ledger call (inside the export's boundary): argument codes and
/// core errors both go to `err`.
///
/// # Safety
/// `err` is NULL or writable.
unsafe fn sync_call(
    err: *mut *mut msstore_error,
    f: impl FnOnce() -> std::result::Result<Result<()>, msstore_result>,
) -> msstore_result {
    match f() {
        Ok(Ok(())) => msstore_result::MSSTORE_OK,
        // SAFETY: forwarded contract.
        Ok(Err(e)) => unsafe { report(err, &e) },
        Err(code) => {
            let e = error_for_code(
                code,
                "an argument is unusable (NULL, not UTF-8 or too long)",
            );
            // SAFETY: forwarded contract.
            unsafe { fail(err, code, &e) }
        }
    }
}

/// Reads the options of a synchronous call ([`sync_call`]): a `struct_size` that is no
/// published version's is an error whose message names the sizes accepted.
///
/// # Safety
/// As [`read_versioned_explained`].
unsafe fn sync_options<T: Versioned + StructVersions + Default>(
    p: *const T,
) -> std::result::Result<Result<T>, msstore_result> {
    // SAFETY: forwarded contract.
    match unsafe { read_versioned_explained(p) } {
        Ok(o) => Ok(Ok(o)),
        Err((code @ msstore_result::MSSTORE_E_INVALID_ARGUMENT, message)) => {
            Ok(Err(error_for_code(code, &message)))
        }
        Err((code, _)) => Err(code),
    }
}

fn ledger_of(l: *const msstore_ledger) -> std::result::Result<Ledger, msstore_result> {
    Ok(handles::get(l)?.0.clone())
}

/// Writes a new items handle to `out` (which must not be NULL; checked by the caller).
///
/// # Safety
/// `out` is writable.
unsafe fn give_items(out: *mut *mut msstore_ledger_items, items: LedgerItemsObj) {
    // SAFETY: forwarded contract.
    let _ = unsafe { write_out(out, handles::register(items)) };
}

/// Fills `opts` with defaults and its `struct_size`. Returns `MSSTORE_E_NULL_POINTER` for NULL.
///
/// # Safety
/// `opts` is NULL or points to a writable `msstore_ledger_options`.
#[no_mangle]
pub unsafe extern "C" fn msstore_ledger_options_init(
    opts: *mut msstore_ledger_options,
) -> msstore_result {
    boundary!({
        let v = msstore_ledger_options {
            struct_size: std::mem::size_of::<msstore_ledger_options>() as u32,
            ..Default::default()
        };
        // SAFETY: forwarded contract.
        unsafe { write_out(opts, v) }
    })
}

/// Opens (creating its tables if needed) a ledger. Ownership: on `MSSTORE_OK` the caller owns
/// `*out` (free it with `msstore_ledger_free` after the operations using it completed); on
/// failure `*out` is untouched and `*err` (if not NULL) is a new error to free. Errors:
/// `MSSTORE_E_NULL_POINTER`, `MSSTORE_E_INVALID_ARGUMENT` (struct_size),
/// `MSSTORE_E_INVALID_UTF8`, `MSSTORE_E_CONFIGURATION` (no instance_id with PostgreSQL, bad
/// URL, an `sslmode` asking for TLS, which this build has not), `MSSTORE_E_STORAGE` (cannot
/// open the file or reach the server), `MSSTORE_E_TIMEOUT` (PostgreSQL did not answer within
/// `pg_connect_timeout_ms` + `pg_statement_timeout_ms`). Threading: any thread.
///
/// # Safety
/// `opts` points to a valid `msstore_ledger_options`; `out` is writable; `err` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn msstore_ledger_open(
    opts: *const msstore_ledger_options,
    out: *mut *mut msstore_ledger,
    err: *mut *mut msstore_error,
) -> msstore_result {
    boundary!({
        // SAFETY: forwarded contract.
        Ok(unsafe {
            sync_call(err, || {
                non_null(out)?;
                let o = match sync_options(opts)? {
                    Ok(o) => o,
                    Err(e) => return Ok(Err(e)),
                };
                let mut c = LedgerConfig::default();
                if let Some(p) = in_opt_string(o.sqlite_path)? {
                    c.sqlite_path = p;
                }
                if let Some(u) = in_opt_string(o.postgres_url)? {
                    c.postgres_url = u.into();
                }
                if let Some(i) = in_opt_string(o.instance_id)? {
                    c.instance_id = i;
                }
                if o.claim_lease_ms != 0 {
                    c.claim_lease = Duration::from_millis(o.claim_lease_ms.into());
                }
                if o.send_rounds != 0 {
                    c.send_rounds = o.send_rounds;
                }
                if o.resend_delay_ms != 0 {
                    c.resend_delay = Duration::from_millis(o.resend_delay_ms.into());
                }
                c.retention_days = o.retention_days;
                for (ms, field) in [
                    (o.pg_connect_timeout_ms, &mut c.pg_connect_timeout),
                    (o.pg_statement_timeout_ms, &mut c.pg_statement_timeout),
                    (o.pg_keepalive_idle_ms, &mut c.pg_keepalive_idle),
                ] {
                    if ms != 0 {
                        *field = Duration::from_millis(ms.into());
                    }
                }
                Ok(Ledger::open(&c).map(|l| {
                    let _ = write_out(out, handles::register(LedgerObj(l)));
                }))
            })
        })
    })
}

/// Consumes through the ledger: records the entry durably, sends (and resends with the same
/// tracking id), records the outcome. Result: `msstore_op_take_ledger_items` with one entry
/// whose state says what to do: APPLIED (grant, then `msstore_ledger_acknowledge_entry`; but if
/// `already_handed_out` is 1, this process was handed it before, e.g. the game repeated its
/// own call, and has not acknowledged it: do NOT grant again), FAILED (the Store's verdict
/// refused it, or no send could have reached the Store; nothing applied), PENDING (it may
/// have been applied; `msstore_ledger_reconcile` resends it; do not grant), COMPLETED (granted
/// and acknowledged before). Errors in the callback: `MSSTORE_E_INVALID_ARGUMENT` (bad field, tracking id
/// used for another consume or being handled elsewhere), `MSSTORE_E_STORAGE`, …
/// Interrupted after it started (`msstore_op_cancel`, `timeout_ms`, shutdown), it completes
/// `MSSTORE_E_CONSUME_OUTCOME_UNKNOWN` with the entry's id in the error's `tracking_id`: the
/// entry stays PENDING; the next `msstore_ledger_reconcile` (or this call again with that
/// `tracking_id`) finishes it. Do not grant until then.
///
/// # Safety
/// See the operations contract in `ops`; `opts` points to a valid
/// `msstore_ledger_consume_options`.
#[no_mangle]
pub unsafe extern "C" fn msstore_ledger_consume(
    client: *mut msstore_client,
    ledger: *mut msstore_ledger,
    opts: *const msstore_ledger_consume_options,
    call: *const msstore_call_options,
    cb: msstore_completion_cb,
    user_data: *mut c_void,
    out_op: *mut *mut msstore_op,
) -> msstore_result {
    boundary!({
        let l = ledger_of(ledger)?;
        // SAFETY: forwarded contract.
        let o = unsafe { read_versioned(opts) }?;
        // SAFETY: the struct's strings are NULL or NUL-terminated per the contract.
        let mut r = unsafe {
            let mut r = LedgerConsume::new(
                &in_string(o.player_ref)?,
                &in_string(o.collections_key)?,
                &in_string(o.product_id)?,
                o.quantity,
            );
            r.tracking_id = in_opt_string(o.tracking_id)?;
            r.sbx = in_opt_string(o.sbx)?;
            r
        };
        // The entry id (the trackingId) is fixed here, so that an interruption after the start
        // (cancel, timeout_ms, shutdown) can name it: the entry may be recorded and sent, and
        // stays PENDING for the next reconcile or a resend with that id.
        // Bad input is left to the operation, which fails with its error as before.
        let in_doubt = r.validate().ok().map(|id| {
            r.tracking_id = Some(id.clone());
            InDoubt {
                what: "ledger consume",
                id_name: "trackingId",
                id,
            }
        });
        // SAFETY: forwarded contract.
        unsafe {
            start_in_doubt(
                client,
                call,
                cb,
                user_data,
                out_op,
                in_doubt,
                move |c| async move {
                    let e = l.consume(&c, r).await?;
                    Ok(Payload::new(LedgerItemsObj::new(&[e], &[])))
                },
            )
        }
    })
}

/// The start-up (and periodic) pass: resends pending consumes this server may take, and hands
/// back what its game must act on. Result: `msstore_op_take_ledger_items`: entries APPLIED
/// (grant, acknowledge), FAILED (refused during the replay) or PENDING (still unknown), and
/// revocations to apply (then `msstore_ledger_acknowledge_revocation`). Each item is handed out
/// once per process.
///
/// # Safety
/// See the operations contract in `ops`.
#[no_mangle]
pub unsafe extern "C" fn msstore_ledger_reconcile(
    client: *mut msstore_client,
    ledger: *mut msstore_ledger,
    call: *const msstore_call_options,
    cb: msstore_completion_cb,
    user_data: *mut c_void,
    out_op: *mut *mut msstore_op,
) -> msstore_result {
    boundary!({
        let l = ledger_of(ledger)?;
        // SAFETY: forwarded contract.
        unsafe {
            start(client, call, cb, user_data, out_op, move |c| async move {
                let r = l.reconcile(&c).await?;
                let mut entries = r.to_grant;
                entries.extend(r.failed);
                entries.extend(r.still_pending);
                Ok(Payload::new(LedgerItemsObj::new(&entries, &r.revocations)))
            })
        }
    })
}

/// Clawback v2 into the ledger: receives the queue (up to `max_batches` times), records every
/// event of the expected sandbox durably (matched against recorded consumes; idempotent by
/// event id), and only then deletes each message; unusable messages are recorded as dead
/// letters and deleted; other sandboxes' messages are left alone. Result:
/// `msstore_op_take_ledger_items`: the revocations this pass created, claimed for this server
/// (apply each, then `msstore_ledger_acknowledge_revocation`), and the counts through
/// `msstore_ledger_items_get_info`. `opts` may be NULL (defaults). Errors at start:
/// `MSSTORE_E_INVALID_ARGUMENT` (struct_size, max_messages > 32, empty sandbox), argument
/// codes; in the callback: queue or SAS failures, `MSSTORE_E_STORAGE` (events recorded before
/// the failure stay recorded; their revocations come out of
/// `msstore_ledger_claim_revocations`).
///
/// # Safety
/// See the operations contract in `ops`; `opts` is NULL or points to a valid
/// `msstore_clawback_ingest_options`.
#[no_mangle]
pub unsafe extern "C" fn msstore_ledger_ingest_clawback(
    client: *mut msstore_client,
    ledger: *mut msstore_ledger,
    opts: *const msstore_clawback_ingest_options,
    call: *const msstore_call_options,
    cb: msstore_completion_cb,
    user_data: *mut c_void,
    out_op: *mut *mut msstore_op,
) -> msstore_result {
    boundary!({
        let l = ledger_of(ledger)?;
        let o = if opts.is_null() {
            msstore_clawback_ingest_options::default()
        } else {
            // SAFETY: non-null; forwarded contract.
            unsafe { read_versioned(opts) }?
        };
        let d = ClawbackIngestOptions::default();
        let nonzero = |v: u32, default: u32| if v == 0 { default } else { v };
        let r = ClawbackIngestOptions {
            // SAFETY: the struct's string is NULL or NUL-terminated per the contract.
            expected_sandbox: unsafe { in_opt_string(o.expected_sandbox) }?
                .unwrap_or(d.expected_sandbox),
            receive: ReceiveOptions {
                max_messages: nonzero(o.max_messages, d.receive.max_messages),
                visibility_timeout_secs: nonzero(
                    o.visibility_timeout_secs,
                    d.receive.visibility_timeout_secs,
                ),
            },
            max_batches: nonzero(o.max_batches, d.max_batches),
        };
        if r.receive.max_messages > crate::clawback::queue::MAX_MESSAGES
            || r.receive.visibility_timeout_secs
                > crate::clawback::queue::MAX_VISIBILITY_TIMEOUT_SECS
            || r.max_batches > 1000
            || r.expected_sandbox.trim().is_empty()
        {
            return Err(msstore_result::MSSTORE_E_INVALID_ARGUMENT);
        }
        // SAFETY: forwarded contract.
        unsafe {
            start(client, call, cb, user_data, out_op, move |c| async move {
                let s = l.ingest_clawback_queue(&c, r).await?;
                Ok(Payload::new(LedgerItemsObj::from_summary(&s)))
            })
        }
    })
}

/// Clawback v1 into the ledger: polls the orders of the user of `purchase_key` (a
/// UserPurchaseId; `sbx` may be NULL) and records `Revoked` and `Refunded` lines under stable
/// ids (`v1:{orderId}:{lineItemId}:{state}`), and chargeback reversals (a line back to
/// `Purchased`). Result as `msstore_ledger_ingest_clawback`.
///
/// # Safety
/// See the operations contract in `ops`; `purchase_key` is NUL-terminated; `sbx` is NULL or
/// NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn msstore_ledger_ingest_clawback_orders(
    client: *mut msstore_client,
    ledger: *mut msstore_ledger,
    purchase_key: *const c_char,
    sbx: *const c_char,
    call: *const msstore_call_options,
    cb: msstore_completion_cb,
    user_data: *mut c_void,
    out_op: *mut *mut msstore_op,
) -> msstore_result {
    boundary!({
        let l = ledger_of(ledger)?;
        // SAFETY: forwarded contract.
        let key = unsafe { in_string(purchase_key) }?;
        let opts = ClawbackOrdersIngestOptions {
            // SAFETY: forwarded contract.
            sbx: unsafe { in_opt_string(sbx) }?,
            ..ClawbackOrdersIngestOptions::default()
        };
        // SAFETY: forwarded contract.
        unsafe {
            start(client, call, cb, user_data, out_op, move |c| async move {
                let s = l.ingest_clawback_orders(&c, &key, opts).await?;
                Ok(Payload::new(LedgerItemsObj::from_summary(&s)))
            })
        }
    })
}

/// Lists (without claiming) every entry that is pending or applied-but-unacknowledged and every
/// unacknowledged revocation. Ownership: on `MSSTORE_OK` the caller owns `*out`
/// (`msstore_ledger_items_free`). Errors: `MSSTORE_E_NULL_POINTER`, `MSSTORE_E_INVALID_HANDLE`,
/// `MSSTORE_E_STORAGE`. Threading: any thread.
///
/// # Safety
/// `out` is writable; `err` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn msstore_ledger_list_pending(
    ledger: *mut msstore_ledger,
    out: *mut *mut msstore_ledger_items,
    err: *mut *mut msstore_error,
) -> msstore_result {
    boundary!({
        // SAFETY: forwarded contract.
        Ok(unsafe {
            sync_call(err, || {
                non_null(out)?;
                let l = ledger_of(ledger)?;
                Ok((|| {
                    let items = LedgerItemsObj::new(&l.pending()?, &l.open_revocations()?);
                    give_items(out, items);
                    Ok(())
                })())
            })
        })
    })
}

/// The game granted an APPLIED entry: completes it. Idempotent. Errors:
/// `MSSTORE_E_NOT_FOUND` (unknown id), `MSSTORE_E_INVALID_ARGUMENT` (still pending, or failed:
/// nothing to grant), `MSSTORE_E_STORAGE`, argument codes.
///
/// # Safety
/// `entry_id` is NULL or NUL-terminated; `err` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn msstore_ledger_acknowledge_entry(
    ledger: *mut msstore_ledger,
    entry_id: *const c_char,
    err: *mut *mut msstore_error,
) -> msstore_result {
    boundary!({
        // SAFETY: forwarded contract.
        Ok(unsafe {
            sync_call(err, || {
                let l = ledger_of(ledger)?;
                let id = in_string(entry_id)?;
                Ok(l.acknowledge(&id).map(drop))
            })
        })
    })
}

/// Matches a clawback event against the consumes the ledger recorded and records the
/// revocations the game must apply. Idempotent by event id. `out` (may be NULL) receives the
/// revocations this event produced (for a duplicate: the earlier ones); `out_duplicate` (may be
/// NULL) is set to 1 when the event had been applied before. Errors:
/// `MSSTORE_E_INVALID_ARGUMENT` (empty field, bad state), `MSSTORE_E_STORAGE`, argument codes.
///
/// # Safety
/// `m` points to a valid `msstore_clawback_match_options`; `out`, `out_duplicate` and `err` are
/// NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn msstore_ledger_apply_clawback(
    ledger: *mut msstore_ledger,
    m: *const msstore_clawback_match_options,
    out: *mut *mut msstore_ledger_items,
    out_duplicate: *mut u32,
    err: *mut *mut msstore_error,
) -> msstore_result {
    boundary!({
        // SAFETY: forwarded contract.
        Ok(unsafe {
            sync_call(err, || {
                let l = ledger_of(ledger)?;
                let o = match sync_options(m)? {
                    Ok(o) => o,
                    Err(e) => return Ok(Err(e)),
                };
                use msstore_clawback_event_state::*;
                let state = match o.state {
                    x if x == MSSTORE_CLAWBACK_RETURNED as i32 => ClawbackState::Returned,
                    x if x == MSSTORE_CLAWBACK_REVOKED as i32 => ClawbackState::Revoked,
                    x if x == MSSTORE_CLAWBACK_REFUNDED as i32 => ClawbackState::Refunded,
                    x if x == MSSTORE_CLAWBACK_CHARGEBACK_REVERSAL as i32 => {
                        ClawbackState::ChargebackReversal
                    }
                    _ => return Err(msstore_result::MSSTORE_E_INVALID_ARGUMENT),
                };
                let mm = ClawbackMatch {
                    event_id: in_string(o.event_id)?,
                    order_id: in_string(o.order_id)?,
                    line_item_id: in_string(o.line_item_id)?,
                    product_id: in_string(o.product_id)?,
                    state,
                };
                Ok(l.apply_clawback(&mm).map(|r| {
                    if !out_duplicate.is_null() {
                        let _ = write_out(out_duplicate, u32::from(r.duplicate));
                    }
                    if !out.is_null() {
                        give_items(out, LedgerItemsObj::new(&[], &r.revocations));
                    }
                }))
            })
        })
    })
}

/// Unacknowledged revocations not yet handed to this process's game, claimed for this
/// instance: apply each, then `msstore_ledger_acknowledge_revocation`. Ownership: on
/// `MSSTORE_OK` the caller owns `*out`. Errors: `MSSTORE_E_NULL_POINTER`,
/// `MSSTORE_E_INVALID_HANDLE`, `MSSTORE_E_STORAGE`.
///
/// # Safety
/// `out` is writable; `err` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn msstore_ledger_claim_revocations(
    ledger: *mut msstore_ledger,
    out: *mut *mut msstore_ledger_items,
    err: *mut *mut msstore_error,
) -> msstore_result {
    boundary!({
        // SAFETY: forwarded contract.
        Ok(unsafe {
            sync_call(err, || {
                non_null(out)?;
                let l = ledger_of(ledger)?;
                Ok(l.revocations_to_apply()
                    .map(|r| give_items(out, LedgerItemsObj::new(&[], &r))))
            })
        })
    })
}

/// The game applied a revocation. Idempotent. Errors: `MSSTORE_E_NOT_FOUND`,
/// `MSSTORE_E_STORAGE`, argument codes.
///
/// # Safety
/// `revocation_id` is NULL or NUL-terminated; `err` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn msstore_ledger_acknowledge_revocation(
    ledger: *mut msstore_ledger,
    revocation_id: *const c_char,
    err: *mut *mut msstore_error,
) -> msstore_result {
    boundary!({
        // SAFETY: forwarded contract.
        Ok(unsafe {
            sync_call(err, || {
                let l = ledger_of(ledger)?;
                let id = in_string(revocation_id)?;
                Ok(l.acknowledge_revocation(&id).map(drop))
            })
        })
    })
}

//! The registry of live handles.
//!
//! A handle given to C is a never-reused id (it looks like an aligned pointer, but the library
//! never dereferences it): every call looks it up here and gets an `Arc` of the object. A freed
//! handle, a handle of the wrong type or a garbage value is simply not found and gives
//! `MSSTORE_E_INVALID_HANDLE`; a `_free` racing with a call on another thread is safe because
//! the call holds its own `Arc`.
//!
//! A handle another object owns (an operation's result or error until the caller takes it) is
//! registered as *borrowed*: it can be looked up, but its `_free` is refused with
//! `MSSTORE_E_BORROWED_HANDLE` and changes nothing; its owner removes it.
//!
//! Every operation registers and looks up several handles (client, op, result), from the
//! caller's thread, runtime workers and the polling thread at once, so the registry is split
//! into shards, each a mutex around a map keyed with a cheap hash of the id: consecutive ids
//! land in different shards, and no lock is shared by unrelated handles.
//!
//! The operations whose handle the caller holds (`out_op`) are kept apart, one pointer each, in
//! `op_table` (every waiting operation has one); their handles have bit 3 set, so the two
//! tables' handles never meet.

use super::types::{self, msstore_result};
use super::{
    clawback, client, completion, credential, doctor, error, fork, key, ledger, op_table, results,
};
use once_cell::sync::Lazy;
use std::any::Any;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

type Obj = Arc<dyn Any + Send + Sync>;

/// Ids are unique and step by 16: multiplying by an odd constant spreads them over the map's
/// buckets (SipHash's resistance to chosen keys buys nothing for ids we allocate ourselves).
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(*b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_usize(&mut self, id: usize) {
        self.0 = ((id as u64) >> 4).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// A live object, and whether another object owns it (its `_free` is refused).
struct Entry {
    obj: Obj,
    borrowed: bool,
}

type Map = HashMap<usize, Entry, BuildHasherDefault<IdHasher>>;
type Shard = Mutex<Map>;
type ShardGuard = std::sync::MutexGuard<'static, Map>;

const SHARDS: usize = 16;

static LIVE: Lazy<[Shard; SHARDS]> = Lazy::new(|| std::array::from_fn(|_| Mutex::default()));

/// Ids start high and step by 16 so that they look like (and are as aligned as) heap pointers to
/// debuggers, and are never 0.
static NEXT: AtomicUsize = AtomicUsize::new(0x10_0000);

fn shard(id: usize) -> ShardGuard {
    // A panic while holding this lock cannot leave the map inconsistent (single inserts and
    // removes), so a poisoned lock is still usable.
    LIVE[(id >> 4) % SHARDS]
        .lock()
        .unwrap_or_else(|p| p.into_inner())
}

/// Pairs a C handle type with the Rust object behind it. Every lookup, registration and free is
/// typed by the C handle, so giving a `msstore_key*` where the code expects a
/// `msstore_error*`, or pairing a handle with the wrong object, does not compile; at run time a
/// stale or foreign handle is still only an `MSSTORE_E_INVALID_HANDLE`.
pub(crate) trait Handle: 'static {
    type Obj: Any + Send + Sync;
}

macro_rules! handle_types {
    ($($c:ty => $obj:ty,)*) => {
        $(impl Handle for $c { type Obj = $obj; })*
    };
}

// The pairs, written once.
handle_types! {
    types::msstore_client => client::ClientObj,
    types::msstore_op => completion::Op,
    types::msstore_error => error::ErrorObj,
    types::msstore_token => results::TokenObj,
    types::msstore_key => key::KeyObj,
    types::msstore_entitlements => results::EntitlementsObj,
    types::msstore_consume_result => results::ConsumeObj,
    types::msstore_order => results::OrderObj,
    types::msstore_subscriptions => results::SubscriptionsObj,
    clawback::msstore_clawback_orders => clawback::ClawbackOrdersObj,
    clawback::msstore_clawback_messages => clawback::ClawbackMessagesObj,
    ledger::msstore_ledger => ledger::LedgerObj,
    ledger::msstore_ledger_items => ledger::LedgerItemsObj,
    credential::msstore_credential => credential::CredentialObj,
    credential::msstore_token_sink => credential::SinkObj,
    doctor::msstore_doctor_report => doctor::DoctorReportObj,
}

/// Registers an object and returns its new handle.
pub(crate) fn register<H: Handle>(value: H::Obj) -> *mut H {
    register_arc(Arc::new(value))
}

pub(crate) fn register_arc<H: Handle>(value: Arc<H::Obj>) -> *mut H {
    ptr_of(register_any(value))
}

/// Registers an object of any type (an operation's result, typed when it is taken).
pub(crate) fn register_any(value: Obj) -> usize {
    let id = reserve_id();
    insert_any(id, value);
    id
}

/// A new handle id, registered later with `insert` (an operation's id is fixed at its start,
/// but it is looked up only once handed to C).
pub(crate) fn reserve_id() -> usize {
    fork::watch();
    NEXT.fetch_add(16, Ordering::Relaxed)
}

/// Makes the operation with `make(its handle)` and registers it (one the caller holds from its
/// start, `out_op`).
pub(crate) fn register_op<F>(make: F) -> Arc<completion::Op>
where
    F: FnOnce(usize) -> Arc<completion::Op>,
{
    fork::watch();
    op_table::insert(make).unwrap_or_else(|make| {
        // Its table is full: a general id, as any handle.
        let id = reserve_id();
        let op = make(id);
        insert::<types::msstore_op>(id, op.clone());
        op
    })
}

/// Registers `value` under an id from `reserve_id`.
pub(crate) fn insert<H: Handle>(id: usize, value: Arc<H::Obj>) {
    insert_any(id, value);
}

fn insert_any(id: usize, value: Obj) {
    shard(id).insert(
        id,
        Entry {
            obj: value,
            borrowed: false,
        },
    );
}

/// Marks a live handle as owned by another object (`true`: its `_free` is refused) or hands it
/// to the caller (`false`: a take).
pub(crate) fn set_borrowed(id: usize, borrowed: bool) {
    if let Some(e) = shard(id).get_mut(&id) {
        e.borrowed = borrowed;
    }
}

/// Looks up a live handle.
pub(crate) fn get<H: Handle>(p: *const H) -> Result<Arc<H::Obj>, msstore_result> {
    get_id::<H::Obj>(id_of(p))
}

fn get_id<T: Any + Send + Sync>(id: usize) -> Result<Arc<T>, msstore_result> {
    if id == 0 {
        return Err(msstore_result::MSSTORE_E_NULL_POINTER);
    }
    let obj: Obj = if op_table::owns(id) {
        op_table::get(id).ok_or(msstore_result::MSSTORE_E_INVALID_HANDLE)?
    } else {
        shard(id)
            .get(&id)
            .map(|e| e.obj.clone())
            .ok_or(msstore_result::MSSTORE_E_INVALID_HANDLE)?
    };
    if fork::inherited(id) {
        return Err(msstore_result::MSSTORE_E_FORKED);
    }
    obj.downcast::<T>()
        .map_err(|_| msstore_result::MSSTORE_E_INVALID_HANDLE)
}

/// Whether `id` is a live object of handle type `H` (a result an operation holds).
pub(crate) fn holds<H: Handle>(id: usize) -> bool {
    get_id::<H::Obj>(id).is_ok()
}

/// Unregisters a live handle and returns the object (dropped when the last `Arc` goes). Fails,
/// leaving the registry unchanged, when the handle is not live, of another type
/// (`MSSTORE_E_INVALID_HANDLE`) or borrowed (`MSSTORE_E_BORROWED_HANDLE`).
pub(crate) fn remove<H: Handle>(p: *mut H) -> Result<Arc<H::Obj>, msstore_result> {
    let id = id_of(p);
    if id == 0 {
        return Err(msstore_result::MSSTORE_E_NULL_POINTER);
    }
    if op_table::owns(id) {
        return remove_op(id);
    }
    let mut map = shard(id);
    match map.get(&id) {
        Some(e) if !e.obj.is::<H::Obj>() => return Err(msstore_result::MSSTORE_E_INVALID_HANDLE),
        Some(e) if e.borrowed => return Err(msstore_result::MSSTORE_E_BORROWED_HANDLE),
        Some(_) => {}
        None => return Err(msstore_result::MSSTORE_E_INVALID_HANDLE),
    }
    if fork::inherited(id) {
        // Left in place: dropping a parent's object in the child would disturb the parent.
        return Err(msstore_result::MSSTORE_E_FORKED);
    }
    let obj = map
        .remove(&id)
        .ok_or(msstore_result::MSSTORE_E_INVALID_HANDLE)?
        .obj;
    drop(map);
    obj.downcast::<H::Obj>()
        .map_err(|_| msstore_result::MSSTORE_E_INVALID_HANDLE)
}

/// `remove` of an `op_table` handle (never borrowed: an operation's lending is its own).
fn remove_op<T: Any + Send + Sync>(id: usize) -> Result<Arc<T>, msstore_result> {
    let op = get_id::<T>(id)?; // not live, another type, or inherited from a parent process
    drop(op);
    let obj: Obj = op_table::remove(id).ok_or(msstore_result::MSSTORE_E_INVALID_HANDLE)?;
    obj.downcast::<T>()
        .map_err(|_| msstore_result::MSSTORE_E_INVALID_HANDLE)
}

/// The body of every `_free`: NULL is a no-op; a stale or foreign handle is an error.
pub(crate) fn free<H: Handle>(p: *mut H) -> Result<(), msstore_result> {
    if p.is_null() {
        return Ok(());
    }
    remove(p).map(drop)
}

/// Unregisters whatever the id is, borrowed or not (the owner's release of result handles an
/// operation still owns).
pub(crate) fn remove_any(id: usize) {
    if op_table::owns(id) {
        drop(op_table::remove(id));
    } else {
        let obj = shard(id).remove(&id);
        drop(obj);
    }
}

/// The id the next general handle gets: every one alive now has a smaller one (`op_table`'s
/// handles are ordered by their own `op_table::seq_of`).
pub(crate) fn next_id() -> usize {
    NEXT.load(Ordering::Relaxed)
}

thread_local! {
    /// Every shard's lock, held by the forking thread across `fork()` (see `fork`).
    static FORK_HOLD: std::cell::RefCell<Vec<ShardGuard>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Before `fork()`: takes every shard's lock (in order; no code holds two).
pub(crate) fn before_fork() {
    FORK_HOLD.with(|h| h.borrow_mut().extend((0..SHARDS).map(|i| shard(i << 4))));
    op_table::before_fork();
}

/// After `fork()`, in the parent and in the child: releases them.
pub(crate) fn after_fork() {
    op_table::after_fork();
    FORK_HOLD.with(|h| h.borrow_mut().clear());
}

pub(crate) fn count() -> usize {
    let general: usize = LIVE
        .iter()
        .map(|s| s.lock().unwrap_or_else(|p| p.into_inner()).len())
        .sum();
    general + op_table::count()
}

/// Handle id of a C pointer (never dereferenced).
pub(crate) fn id_of<T>(p: *const T) -> usize {
    p as usize
}

/// C pointer of a handle id (opaque; C never dereferences it either).
pub(crate) fn ptr_of<T>(id: usize) -> *mut T {
    id as *mut T
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Small;
    impl Handle for Small {
        type Obj = u32;
    }
    struct Text;
    impl Handle for Text {
        type Obj = String;
    }
    struct Index;
    impl Handle for Index {
        type Obj = usize;
    }

    #[test]
    fn typed_lookup_and_removal() {
        let a: *mut Small = register(5u32);
        assert_eq!(*get(a).unwrap(), 5);
        let wrong: *mut Text = a.cast();
        assert_eq!(
            get(wrong).unwrap_err(),
            msstore_result::MSSTORE_E_INVALID_HANDLE
        );
        assert!(remove(wrong).is_err());
        assert!(remove(a).is_ok());
        assert_eq!(
            get(a).unwrap_err(),
            msstore_result::MSSTORE_E_INVALID_HANDLE
        );
        assert_eq!(
            get::<Small>(std::ptr::null()).unwrap_err(),
            msstore_result::MSSTORE_E_NULL_POINTER
        );
        assert_eq!(free::<Small>(std::ptr::null_mut()), Ok(()));
        assert_eq!(free(a), Err(msstore_result::MSSTORE_E_INVALID_HANDLE));
    }

    #[test]
    fn a_borrowed_handle_is_not_freed_until_handed_over() {
        let a: *mut Small = register(7u32);
        set_borrowed(id_of(a), true);
        assert_eq!(free(a), Err(msstore_result::MSSTORE_E_BORROWED_HANDLE));
        assert_eq!(*get(a).unwrap(), 7, "a refused free changes nothing");
        set_borrowed(id_of(a), false);
        assert_eq!(free(a), Ok(()));
        assert!(get(a).is_err());
        let b: *mut Small = register(8u32);
        set_borrowed(id_of(b), true);
        remove_any(id_of(b));
        assert!(get(b).is_err(), "the owner removes it");
    }

    #[test]
    fn ids_spread_over_shards_and_garbage_is_not_found() {
        let ids: Vec<*mut Index> = (0..64usize).map(register).collect();
        let used: std::collections::HashSet<usize> =
            ids.iter().map(|p| (id_of(*p) >> 4) % SHARDS).collect();
        assert_eq!(used.len(), SHARDS, "consecutive ids use every shard");
        for (n, p) in ids.iter().enumerate() {
            assert_eq!(*get(*p).unwrap(), n);
            // Unaligned or never-issued values are not handles.
            assert!(get::<Index>(ptr_of(id_of(*p) + 1)).is_err());
        }
        assert!(get::<Index>(ptr_of(usize::MAX)).is_err());
        for p in ids {
            remove(p).unwrap();
            assert!(get(p).is_err());
        }
    }
}

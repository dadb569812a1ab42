//! The registry of live handles.
//!
//! A handle given to C is a never-reused id (it looks like an aligned pointer, but the library
//! never dereferences it): every call looks it up here and gets an `Arc` of the object. A freed
//! handle, a handle of the wrong type or a garbage value is simply not found and gives
//! `MSSTORE_E_INVALID_HANDLE`; a `_free` racing with a call on another thread is safe because
//! the call holds its own `Arc`.
//!
//! Every operation registers and looks up several handles (client, op, result), from the
//! caller's thread, runtime workers and the polling thread at once, so the registry is split
//! into shards, each a mutex around a map keyed with a cheap hash of the id: consecutive ids
//! land in different shards, and no lock is shared by unrelated handles.

use super::types::{self, msstore_result};
use super::{clawback, client, completion, credential, doctor, error, key, ledger, results};
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

type Shard = Mutex<HashMap<usize, Obj, BuildHasherDefault<IdHasher>>>;

const SHARDS: usize = 16;

static LIVE: Lazy<[Shard; SHARDS]> = Lazy::new(|| std::array::from_fn(|_| Mutex::default()));

/// Ids start high and step by 16 so that they look like (and are as aligned as) heap pointers to
/// debuggers, and are never 0.
static NEXT: AtomicUsize = AtomicUsize::new(0x10_0000);

fn shard(
    id: usize,
) -> std::sync::MutexGuard<'static, HashMap<usize, Obj, BuildHasherDefault<IdHasher>>> {
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
    let id = NEXT.fetch_add(16, Ordering::Relaxed);
    shard(id).insert(id, value);
    id
}

/// Looks up a live handle.
pub(crate) fn get<H: Handle>(p: *const H) -> Result<Arc<H::Obj>, msstore_result> {
    get_id::<H::Obj>(id_of(p))
}

fn get_id<T: Any + Send + Sync>(id: usize) -> Result<Arc<T>, msstore_result> {
    if id == 0 {
        return Err(msstore_result::MSSTORE_E_NULL_POINTER);
    }
    let obj = shard(id)
        .get(&id)
        .cloned()
        .ok_or(msstore_result::MSSTORE_E_INVALID_HANDLE)?;
    obj.downcast::<T>()
        .map_err(|_| msstore_result::MSSTORE_E_INVALID_HANDLE)
}

/// Whether `id` is a live object of handle type `H` (a result an operation holds).
pub(crate) fn holds<H: Handle>(id: usize) -> bool {
    get_id::<H::Obj>(id).is_ok()
}

/// Unregisters a live handle and returns the object (dropped when the last `Arc` goes). Fails,
/// leaving the registry unchanged, when the handle is not live or of another type.
pub(crate) fn remove<H: Handle>(p: *mut H) -> Result<Arc<H::Obj>, msstore_result> {
    let id = id_of(p);
    if id == 0 {
        return Err(msstore_result::MSSTORE_E_NULL_POINTER);
    }
    let mut map = shard(id);
    match map.get(&id) {
        Some(o) if o.is::<H::Obj>() => {}
        _ => return Err(msstore_result::MSSTORE_E_INVALID_HANDLE),
    }
    let obj = map
        .remove(&id)
        .ok_or(msstore_result::MSSTORE_E_INVALID_HANDLE)?;
    drop(map);
    obj.downcast::<H::Obj>()
        .map_err(|_| msstore_result::MSSTORE_E_INVALID_HANDLE)
}

/// The body of every `_free`: NULL is a no-op; a stale or foreign handle is an error.
pub(crate) fn free<H: Handle>(p: *mut H) -> Result<(), msstore_result> {
    if p.is_null() {
        return Ok(());
    }
    remove(p).map(drop)
}

/// Unregisters whatever the id is (used for result handles an operation still owns).
pub(crate) fn remove_any(id: usize) {
    let obj = shard(id).remove(&id);
    drop(obj);
}

pub(crate) fn count() -> usize {
    LIVE.iter()
        .map(|s| s.lock().unwrap_or_else(|p| p.into_inner()).len())
        .sum()
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

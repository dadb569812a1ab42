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

use super::types::msstore_result;
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

/// Registers an object and returns its new handle id.
pub(crate) fn register<T: Any + Send + Sync>(value: T) -> usize {
    register_arc(Arc::new(value))
}

pub(crate) fn register_arc<T: Any + Send + Sync>(value: Arc<T>) -> usize {
    let id = NEXT.fetch_add(16, Ordering::Relaxed);
    shard(id).insert(id, value);
    id
}

/// Looks up a live handle of type `T`.
pub(crate) fn get<T: Any + Send + Sync>(id: usize) -> Result<Arc<T>, msstore_result> {
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

/// Unregisters a live handle of type `T` and returns the object (dropped when the last `Arc`
/// goes). Fails, leaving the registry unchanged, when the id is not a live `T`.
pub(crate) fn remove<T: Any + Send + Sync>(id: usize) -> Result<Arc<T>, msstore_result> {
    if id == 0 {
        return Err(msstore_result::MSSTORE_E_NULL_POINTER);
    }
    let mut map = shard(id);
    match map.get(&id) {
        Some(o) if o.is::<T>() => {}
        _ => return Err(msstore_result::MSSTORE_E_INVALID_HANDLE),
    }
    let obj = map
        .remove(&id)
        .ok_or(msstore_result::MSSTORE_E_INVALID_HANDLE)?;
    drop(map);
    obj.downcast::<T>()
        .map_err(|_| msstore_result::MSSTORE_E_INVALID_HANDLE)
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

    #[test]
    fn typed_lookup_and_removal() {
        let a = register(5u32);
        assert_eq!(*get::<u32>(a).unwrap(), 5);
        assert_eq!(
            get::<String>(a).unwrap_err(),
            msstore_result::MSSTORE_E_INVALID_HANDLE
        );
        assert!(remove::<String>(a).is_err());
        assert!(remove::<u32>(a).is_ok());
        assert_eq!(
            get::<u32>(a).unwrap_err(),
            msstore_result::MSSTORE_E_INVALID_HANDLE
        );
        assert_eq!(
            get::<u32>(0).unwrap_err(),
            msstore_result::MSSTORE_E_NULL_POINTER
        );
    }

    #[test]
    fn ids_spread_over_shards_and_garbage_is_not_found() {
        let ids: Vec<usize> = (0..64usize).map(register).collect();
        let used: std::collections::HashSet<usize> =
            ids.iter().map(|id| (id >> 4) % SHARDS).collect();
        assert_eq!(used.len(), SHARDS, "consecutive ids use every shard");
        for (n, id) in ids.iter().enumerate() {
            assert_eq!(*get::<usize>(*id).unwrap(), n);
            // Unaligned or never-issued values are not handles.
            assert!(get::<usize>(id + 1).is_err());
        }
        assert!(get::<usize>(usize::MAX).is_err());
        for id in ids {
            remove::<usize>(id).unwrap();
            assert!(get::<usize>(id).is_err());
        }
    }
}

//! The handle table's part for the operations whose handle the caller holds (`out_op`).
//!
//! Every such operation has a handle while it waits, so its entry is one pointer: a slot in a
//! shard's array of fixed-size chunks, found from the handle's own bits. (In the general table's
//! hash map an entry is the key, a fat `Arc`, a flag and a control byte, in a table between 7/16
//! and 7/8 full: 54 bytes per waiting operation measured with heaptrack.) A handle matches only
//! when the operation in its slot carries exactly that handle as its id.
//!
//! A handle is `seq << 20 | index << 4 | 8`. Bit 3 tells it from the general table's ids
//! (multiples of 16; the value is still as aligned as a heap pointer and never 0). `index` is
//! the slot in shard `seq % 16`, so consecutive operations use different locks. `seq` counts op
//! handles and is never reused: when its 44 bits run out (1.7e13 handles: 5 years at 100,000
//! operations a second) or a shard's 65,536 slots are taken, operations get general ids
//! instead. So however often a slot is reused, a freed handle never names a later operation.

use super::completion::Op;
use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

const TAG: usize = 8;
const TAG_MASK: usize = 15;
const INDEX_SHIFT: u32 = 4;
const INDEX_BITS: u32 = 16;
const SEQ_SHIFT: u32 = INDEX_SHIFT + INDEX_BITS;
const SEQ_LIMIT: u64 = 1 << (usize::BITS - SEQ_SHIFT);
const SLOTS: usize = 1 << INDEX_BITS;
const SHARDS: usize = 16;
/// Slots are added 64 at a time (512 bytes): the table grows with the operations in flight,
/// without moving the slots already there.
const CHUNK: usize = 64;

type Chunk = Box<[Option<Arc<Op>>; CHUNK]>;

#[derive(Default)]
struct Shard {
    chunks: Vec<Chunk>,
    /// Empty slots below `used` (most recently freed last: its chunk is warm).
    free: Vec<u16>,
    /// Slots ever handed out; the next new one.
    used: usize,
    live: usize,
}

impl Shard {
    fn vacant(&mut self) -> Option<usize> {
        if let Some(i) = self.free.pop() {
            return Some(usize::from(i));
        }
        if self.used == SLOTS {
            return None;
        }
        if self.used % CHUNK == 0 {
            self.chunks.push(Box::new(std::array::from_fn(|_| None)));
        }
        self.used += 1;
        Some(self.used - 1)
    }

    fn slot(&mut self, index: usize) -> Option<&mut Option<Arc<Op>>> {
        self.chunks
            .get_mut(index / CHUNK)
            .map(|chunk| &mut chunk[index % CHUNK])
    }
}

static TABLE: once_cell::sync::Lazy<[Mutex<Shard>; SHARDS]> =
    once_cell::sync::Lazy::new(|| std::array::from_fn(|_| Mutex::default()));

/// The next handle's `seq`. Starts at 16: the first handles are not tiny numbers.
static NEXT_SEQ: AtomicU64 = AtomicU64::new(SHARDS as u64);

fn lock(shard: usize) -> MutexGuard<'static, Shard> {
    // Every change under this lock is a single slot write and its counters: a panic cannot
    // leave it half done, so a poisoned lock is still usable.
    TABLE[shard].lock().unwrap_or_else(|p| p.into_inner())
}

/// Whether `id` has this table's shape (else it is a general id, or garbage).
pub(crate) fn owns(id: usize) -> bool {
    id & TAG_MASK == TAG
}

/// The order in which the handle was made (for `fork`), if it is this table's.
pub(crate) fn seq_of(id: usize) -> Option<u64> {
    owns(id).then_some((id >> SEQ_SHIFT) as u64)
}

/// The `seq` the next handle gets: every handle alive now has a smaller one.
pub(crate) fn next_seq() -> u64 {
    NEXT_SEQ.load(Ordering::Relaxed)
}

/// Makes the operation with `make(its handle)` and registers it; gives `make` back when the
/// table is full (see the module comment).
pub(crate) fn insert<F: FnOnce(usize) -> Arc<Op>>(make: F) -> Result<Arc<Op>, F> {
    let seq = NEXT_SEQ.fetch_add(1, Ordering::Relaxed);
    if seq >= SEQ_LIMIT {
        return Err(make);
    }
    let mut shard = lock(seq as usize % SHARDS);
    let Some(index) = shard.vacant() else {
        return Err(make);
    };
    let id = (seq as usize) << SEQ_SHIFT | index << INDEX_SHIFT | TAG;
    let op = make(id);
    if let Some(slot) = shard.slot(index) {
        *slot = Some(op.clone());
        shard.live += 1;
    }
    Ok(op)
}

fn with_slot<R>(id: usize, f: impl FnOnce(&mut Shard, usize) -> Option<R>) -> Option<R> {
    let seq = seq_of(id)?;
    let index = (id >> INDEX_SHIFT) & (SLOTS - 1);
    let mut shard = lock(seq as usize % SHARDS);
    let live = shard.slot(index)?.as_ref().is_some_and(|op| op.id() == id);
    if live {
        f(&mut shard, index)
    } else {
        None
    }
}

/// The live operation `id` names.
pub(crate) fn get(id: usize) -> Option<Arc<Op>> {
    with_slot(id, |shard, index| shard.slot(index)?.clone())
}

/// Unregisters the live operation `id` names.
pub(crate) fn remove(id: usize) -> Option<Arc<Op>> {
    with_slot(id, |shard, index| {
        let op = shard.slot(index)?.take();
        shard.live -= 1;
        // `index` < SLOTS = 2^16.
        shard.free.push(index as u16);
        op
    })
}

pub(crate) fn count() -> usize {
    (0..SHARDS).map(|s| lock(s).live).sum()
}

thread_local! {
    /// Every shard's lock, held by the forking thread across `fork()` (see `fork`).
    static FORK_HOLD: RefCell<Vec<MutexGuard<'static, Shard>>> = const { RefCell::new(Vec::new()) };
}

/// Before `fork()`: takes every shard's lock (in order; no code holds two).
pub(crate) fn before_fork() {
    FORK_HOLD.with(|h| h.borrow_mut().extend((0..SHARDS).map(lock)));
}

/// After `fork()`, in the parent and in the child: releases them.
pub(crate) fn after_fork() {
    FORK_HOLD.with(|h| h.borrow_mut().clear());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::client::{
        msstore_client_free, msstore_client_new_from_json, msstore_client_poll,
    };
    use crate::ffi::completion::{msstore_op_cancel, msstore_op_free, msstore_op_status};
    use crate::ffi::handles;
    use crate::ffi::ops::msstore_client_get_token;
    use crate::ffi::types::msstore_result::{self, *};
    use crate::ffi::types::{msstore_audience, msstore_client, msstore_error, msstore_op};
    use std::ffi::c_void;
    use std::sync::atomic::AtomicUsize;
    use std::time::{Duration, Instant};

    static CALLBACKS: AtomicUsize = AtomicUsize::new(0);

    extern "C" fn counted(_: *mut c_void, _: msstore_result, _: *mut msstore_op) {
        CALLBACKS.fetch_add(1, Ordering::SeqCst);
    }

    /// A QUEUED client whose Store is a closed loopback port.
    fn client() -> *mut msstore_client {
        let json = c"{\"emulator_base_url\":\"http://127.0.0.1:9\",\"tenant_id\":\"t\",\
            \"client_id\":\"c\",\"client_secret\":\"s\",\"completion_mode\":\"queued\"}";
        let mut c = std::ptr::null_mut();
        // SAFETY: `json` is NUL-terminated; `c` is a writable local; `err` is NULL.
        let r =
            unsafe { msstore_client_new_from_json(json.as_ptr(), &mut c, std::ptr::null_mut()) };
        assert_eq!(r, MSSTORE_OK);
        c
    }

    /// Starts a token request with `out_op`, runs `while_live` on its id, cancels it and frees
    /// the handle: its slot is free once its callback ran.
    fn start_cancel_free(c: *mut msstore_client, while_live: impl FnOnce(usize)) -> usize {
        let mut op = std::ptr::null_mut();
        // SAFETY: `c` is live; NULL call options; `op` is a writable local.
        let r = unsafe {
            msstore_client_get_token(
                c,
                msstore_audience::MSSTORE_AUDIENCE_SERVICE as i32,
                std::ptr::null(),
                Some(counted),
                std::ptr::null_mut(),
                &mut op,
            )
        };
        assert_eq!(r, MSSTORE_OK);
        while_live(handles::id_of(op));
        assert_eq!(msstore_op_cancel(op), MSSTORE_OK);
        assert_eq!(msstore_op_free(op), MSSTORE_OK);
        handles::id_of(op)
    }

    fn poll_until_callbacks(c: *mut msstore_client, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while CALLBACKS.load(Ordering::SeqCst) < n {
            assert!(Instant::now() < deadline, "callbacks never came");
            msstore_client_poll(c, 0);
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    fn slot_of(id: usize) -> (u64, usize) {
        let seq = seq_of(id).unwrap();
        (seq % SHARDS as u64, (id >> INDEX_SHIFT) & (SLOTS - 1))
    }

    #[test]
    fn a_freed_op_handle_stays_dead_while_its_slot_is_reused() {
        let c = client();
        let mut op = std::ptr::null_mut();
        // SAFETY: as in `start_cancel_free`.
        let r = unsafe {
            msstore_client_get_token(
                c,
                0,
                std::ptr::null(),
                Some(counted),
                std::ptr::null_mut(),
                &mut op,
            )
        };
        assert_eq!(r, MSSTORE_OK);
        let first = handles::id_of(op);
        assert!(owns(first), "a held operation is in the op table");
        assert_eq!(first % 8, 0, "as aligned as a heap pointer");
        assert!(handles::get(op).is_ok());
        // Another handle type, or a neighbouring slot, does not reach it.
        let wrong: *const msstore_error = op.cast();
        assert_eq!(handles::get(wrong).err(), Some(MSSTORE_E_INVALID_HANDLE));
        let neighbour: *const msstore_op = handles::ptr_of(first + (1 << INDEX_SHIFT));
        assert_eq!(msstore_op_status(neighbour), MSSTORE_E_INVALID_HANDLE);
        assert_eq!(msstore_op_cancel(op), MSSTORE_OK);
        assert_eq!(msstore_op_free(op), MSSTORE_OK);
        poll_until_callbacks(c, 1);

        // Other tests of this binary take and hold op-table slots at the same time (some for
        // their whole run), so the freed slot itself may not come back here. What matters is
        // the same either way: a live op in `first`'s shard is never reached by a handle with
        // `first`'s seq and that op's slot (exactly `first` when the slot is reused).
        let (first_shard, _) = slot_of(first);
        let first_seq = seq_of(first).unwrap() as usize;
        let (mut reused, mut same_shard) = (0, 0);
        let mut n = 1;
        while n < 200 || (same_shard < 3 && n < 5_000) {
            n += 1;
            let next = start_cancel_free(c, |live| {
                let (shard, index) = slot_of(live);
                if shard != first_shard {
                    return;
                }
                same_shard += 1;
                let stale = first_seq << SEQ_SHIFT | index << INDEX_SHIFT | TAG;
                reused += usize::from(stale == first);
                let stale: *const msstore_op = handles::ptr_of(stale);
                assert_eq!(msstore_op_status(stale), MSSTORE_E_INVALID_HANDLE);
                assert_eq!(msstore_op_free(stale.cast_mut()), MSSTORE_E_INVALID_HANDLE);
            });
            poll_until_callbacks(c, n);
            assert_ne!(next, first, "a handle value is never given twice");
            assert_eq!(msstore_op_status(op), MSSTORE_E_INVALID_HANDLE);
            assert_eq!(msstore_op_free(op), MSSTORE_E_INVALID_HANDLE);
        }
        assert!(
            same_shard > 0,
            "no later operation landed in the freed handle's shard"
        );
        eprintln!("{same_shard} ops in the freed handle's shard, {reused} of them in its slot");
        assert_eq!(CALLBACKS.load(Ordering::SeqCst), n, "exactly once each");
        assert_eq!(msstore_client_free(c), MSSTORE_OK);
    }

    #[test]
    fn a_shard_grows_by_chunks_reuses_freed_slots_and_refuses_beyond_its_bits() {
        let mut s = Shard::default();
        for i in 0..SLOTS {
            assert_eq!(s.vacant(), Some(i));
        }
        assert_eq!(s.chunks.len(), SLOTS / CHUNK);
        assert_eq!(
            s.vacant(),
            None,
            "full: operations fall back to general ids"
        );
        s.free.push(7);
        assert_eq!(s.vacant(), Some(7));
        assert!(s.slot(SLOTS).is_none());
    }

    #[test]
    fn general_ids_are_never_this_tables() {
        for id in (0x10_0000..0x10_1000).step_by(16) {
            assert!(!owns(id) && seq_of(id).is_none());
        }
        assert!(owns(SHARDS << SEQ_SHIFT | TAG));
    }
}

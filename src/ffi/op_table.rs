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

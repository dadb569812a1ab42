//! Admission of C ABI operations to the client's runtime.
//!
//! A burst of operations far beyond what the per-host connection cap can send at once used to
//! spawn a task per operation at once, each holding its boxed future until a connection slot
//! freed. Here only `limit` operations run at a time; the others wait as a small deferred-start
//! record: the operation object (the completion target) and the closure that builds its future
//! (holding the request in its compact form: one copy of the key, the ids packed; see
//! `PendingQuery` in `ops`) and its deadline, in one allocation. The record is started when a
//! running operation ends.
//!
//! Exactly-once still holds: a waiting operation is completed by the reaper when its deadline
//! passes (TIMEOUT), by `msstore_op_cancel` (CANCELED) or by shutdown (SHUTTING_DOWN, through
//! the client's op table as before); a record whose op already has a final code is dropped
//! unstarted. Nothing of a waiting operation has been sent, so these codes are verdicts.

use super::client::ClientObj;
use super::completion::{lock, Op};
use super::types::msstore_result;
use crate::Client;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::sync::{Arc, Mutex, Weak};
use std::time::Instant;

/// Running operations allowed per per-host connection slot. One: a started operation beyond
/// the connections it can use only holds a task and a future (~1.3 KB) while it waits for one
/// inside the pool. The time an operation spends outside a host slot (the single-flight token
/// fetch, a retry's back-off) is short beside its round trip, so the slots stay busy.
const RUNNING_PER_CONNECTION: usize = 1;

/// Queue capacity kept once the queue drains: a burst's capacity is given back, a steady
/// trickle does not reallocate.
const KEEP_CAPACITY: usize = 64;

/// A waiting operation's deferred start: the op and what starts its task. One allocation per
/// waiting op (the op is not held a second time beside the closure).
trait Deferred: Send {
    fn op(&self) -> &Arc<Op>;
    /// Starts the task with the client and the slot it inherits.
    fn begin(self: Box<Self>, client: Client, slot: Slot);
}

struct Later<F> {
    op: Arc<Op>,
    begin: F,
}

impl<F> Deferred for Later<F>
where
    F: FnOnce(Arc<Op>, Client, Slot, bool) + Send,
{
    fn op(&self) -> &Arc<Op> {
        &self.op
    }

    fn begin(self: Box<Self>, client: Client, slot: Slot) {
        let Later { op, begin } = *self;
        begin(op, client, slot, false)
    }
}

type Waiting = Box<dyn Deferred>;

/// Waiting operations in arrival order. An op keeps its sequence number (`Op::set_waiting`);
/// its entry is `entries[seq - head]`, so a cancel or a deadline takes it out in O(1) and
/// leaves a tombstone (`None`, 16 bytes) that the front skips. A tombstone never sits at the
/// front, so an empty `entries` means nothing waits; sequence numbers are never reused (a
/// stale deadline entry cannot reach a later op).
#[derive(Default)]
struct Fifo {
    entries: VecDeque<Option<Waiting>>,
    /// Sequence number of `entries[0]`.
    head: u64,
}

impl Fifo {
    fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn push(&mut self, w: Waiting) -> u64 {
        let seq = self.head + self.entries.len() as u64;
        self.entries.push_back(Some(w));
        seq
    }

    fn pop(&mut self) -> Option<Waiting> {
        let w = self.entries.pop_front()?;
        self.head += 1;
        self.trim();
        w
    }

    fn remove(&mut self, seq: u64) -> Option<Waiting> {
        let i = usize::try_from(seq.checked_sub(self.head)?).ok()?;
        let w = self.entries.get_mut(i)?.take();
        self.trim();
        w
    }

    /// Drops tombstones at the front; gives a drained burst's capacity back.
    fn trim(&mut self) {
        while matches!(self.entries.front(), Some(None)) {
            self.entries.pop_front();
            self.head += 1;
        }
        if self.entries.is_empty() && self.entries.capacity() > KEEP_CAPACITY {
            self.entries.shrink_to(KEEP_CAPACITY);
        }
    }

    fn take_all(&mut self) -> Vec<Waiting> {
        std::mem::take(&mut self.entries)
            .into_iter()
            .flatten()
            .collect()
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.iter().filter(|e| e.is_some()).count()
    }
}

#[derive(Default)]
struct Queue {
    running: usize,
    waiting: Fifo,
    /// Deadlines of waiting ops (entries of ops that left the queue are skipped when popped).
    deadlines: BinaryHeap<Reverse<(Instant, u64)>>,
    reaper_running: bool,
    closed: bool,
}

pub(crate) struct Admission {
    limit: usize,
    queue: Mutex<Queue>,
    runtime: tokio::runtime::Handle,
}

/// A running operation's admission; dropping it hands the slot to the next waiting operation.
pub(crate) struct Slot {
    owner: Weak<ClientObj>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(c) = self.owner.upgrade() {
            c.admission.hand_on(&c);
        }
    }
}

impl Admission {
    pub(crate) fn new(client: &Client) -> Admission {
        let per_host = client.config().max_connections_per_host.max(1);
        Admission {
            limit: per_host.saturating_mul(RUNNING_PER_CONNECTION),
            queue: Mutex::new(Queue::default()),
            runtime: client.runtime_handle().clone(),
        }
    }

    /// Runs `begin` now (inline = true: on the caller's thread) when a slot is free; otherwise
    /// queues it behind the running operations.
    pub(crate) fn admit<F>(
        &self,
        owner: &Arc<ClientObj>,
        op: Arc<Op>,
        deadline: Option<Instant>,
        client: Client,
        begin: F,
    ) where
        F: FnOnce(Arc<Op>, Client, Slot, bool) + Send + 'static,
    {
        let mut q = lock(&self.queue);
        if q.running < self.limit && q.waiting.is_empty() {
            q.running += 1;
            drop(q);
            begin(op, client, Slot::of(owner), true);
            return;
        }
        drop(client);
        let w: Waiting = Box::new(Later {
            op: op.clone(),
            begin,
        });
        let seq = q.waiting.push(w);
        op.set_waiting(Some(seq));
        if let Some(d) = deadline {
            q.deadlines.push(Reverse((d, seq)));
            if !q.reaper_running {
                q.reaper_running = true;
                let owner = Arc::downgrade(owner);
                drop(self.runtime.spawn(reap(owner)));
            }
        }
    }

    /// A running operation ended: start the next waiting one in its slot, or free the slot.
    fn hand_on(&self, owner: &Arc<ClientObj>) {
        loop {
            let next = {
                let mut q = lock(&self.queue);
                let next = if q.closed { None } else { q.waiting.pop() };
                match next {
                    Some(w) => {
                        w.op().set_waiting(None);
                        w
                    }
                    None => {
                        q.running = q.running.saturating_sub(1);
                        return;
                    }
                }
            };
            if next.op().code().is_some() {
                continue; // completed while waiting (shutdown); never started
            }
            let client = lock(&owner.state).client.clone();
            match client {
                Some(c) => return next.begin(c, Slot::of(owner)),
                None => {
                    let _rt = self.runtime.enter();
                    finish(next.op(), msstore_result::MSSTORE_E_SHUTTING_DOWN);
                }
            }
        }
    }

    /// `msstore_op_cancel`: a waiting operation leaves the queue (its record dropped unstarted)
    /// and completes CANCELED; a running one's task is aborted and completes once its future is
    /// dropped (`Op::cancel`), as the `select!` on a cancel signal in its task used to (without
    /// a `Notify` in every `Op`: 32 bytes per waiting operation).
    pub(crate) fn cancel(&self, op: &Arc<Op>) {
        let waiting = {
            let mut q = lock(&self.queue);
            // Read under the queue's lock: set and cleared only with it held.
            let w = op.waiting_seq().and_then(|seq| q.waiting.remove(seq));
            op.set_waiting(None);
            w
        };
        // IMMEDIATE delivery hands the callback to the runtime's blocking pool.
        let _rt = self.runtime.enter();
        op.cancel();
        drop(waiting);
    }

    /// Shutdown: drops every waiting record (their ops were completed by the shutdown).
    pub(crate) fn close(&self) {
        let dropped: Vec<Waiting> = {
            let mut q = lock(&self.queue);
            q.closed = true;
            q.deadlines.clear();
            q.waiting.take_all()
        };
        drop(dropped);
    }

    /// Operations waiting for a slot.
    #[cfg(test)]
    pub(crate) fn waiting(&self) -> usize {
        lock(&self.queue).waiting.len()
    }

    /// Removes the waiting ops whose deadline is at or before `now`; returns them and the next
    /// deadline still pending (`None`: the reaper stops, marked here under the lock).
    fn take_expired(&self, now: Instant) -> (Vec<Arc<Op>>, Option<Instant>) {
        let mut q = lock(&self.queue);
        let mut expired = Vec::new();
        while let Some(&Reverse((d, seq))) = q.deadlines.peek() {
            if d > now {
                return (expired, Some(d));
            }
            q.deadlines.pop();
            if let Some(w) = q.waiting.remove(seq) {
                w.op().set_waiting(None);
                expired.push(w.op().clone());
            }
        }
        q.reaper_running = false;
        (expired, None)
    }
}

impl Slot {
    fn of(owner: &Arc<ClientObj>) -> Slot {
        Slot {
            owner: Arc::downgrade(owner),
        }
    }
}

/// Completes waiting operations whose `timeout_ms` passed before they got a slot.
async fn reap(owner: Weak<ClientObj>) {
    loop {
        let Some(c) = owner.upgrade() else { return };
        let (expired, next) = c.admission.take_expired(Instant::now());
        drop(c);
        for op in expired {
            finish(&op, msstore_result::MSSTORE_E_TIMEOUT);
        }
        match next {
            Some(d) => tokio::time::sleep_until(d.into()).await,
            None => return,
        }
    }
}

/// Completes a never-started operation with `code` and delivers it as its task would have.
fn finish(op: &Arc<Op>, code: msstore_result) {
    let message = match code {
        msstore_result::MSSTORE_E_CANCELED => "the operation was canceled",
        msstore_result::MSSTORE_E_TIMEOUT => {
            "the operation's timeout_ms elapsed while it waited for a connection slot"
        }
        _ => "the client shut down before the operation started",
    };
    op.finish_interrupted(code, message);
}

#[cfg(test)]
mod tests {
    //! Waiting operations complete exactly once, with the right code, under cancel, timeout
    //! and client free, against a server that accepts connections and never answers.
    use super::super::client::{
        msstore_client_free, msstore_client_new, msstore_client_options_init, msstore_client_poll,
    };
    use super::super::completion::msstore_op_cancel;
    use super::super::handles;
    use super::super::ops::msstore_client_get_token;
    use super::super::types::*;
    use crate::stall_server::StallServer;
    use std::ffi::{c_void, CString};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    type Log = Mutex<Vec<(usize, msstore_result)>>;

    /// What each operation's callback gets: its number and the shared log.
    struct Tag {
        n: usize,
        log: Arc<Log>,
    }

    unsafe extern "C" fn on_done(
        user_data: *mut c_void,
        code: msstore_result,
        _op: *mut msstore_op,
    ) {
        // SAFETY: user_data is a `Tag` the test keeps alive until every callback has fired.
        let tag = unsafe { &*(user_data as *const Tag) };
        tag.log
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((tag.n, code));
    }

    struct Fixture {
        _server: StallServer,
        client: *mut msstore_client,
        log: Arc<Log>,
        tags: Vec<Arc<Tag>>,
    }

    impl Fixture {
        /// A client with one connection per host (two running operations) and `mode`.
        fn new(mode: msstore_completion_mode) -> Fixture {
            let server = StallServer::start();
            let url = CString::new(server.url.clone()).expect("url");
            let text = CString::new("00000000-0000-0000-0000-000000000001").expect("id");
            let secret = CString::new("not-a-real-secret").expect("secret");
            // SAFETY: all-zero is a valid options struct; init fills it right below.
            let mut o: msstore_client_options = unsafe { std::mem::zeroed() };
            // SAFETY: `o` is writable.
            let r = unsafe { msstore_client_options_init(&mut o) };
            assert_eq!(r, msstore_result::MSSTORE_OK);
            o.emulator_base_url = url.as_ptr();
            o.tenant_id = text.as_ptr();
            o.client_id = text.as_ptr();
            o.client_secret = secret.as_ptr();
            o.completion_mode = mode as i32;
            o.max_connections_per_host = 1;
            let mut client = std::ptr::null_mut();
            // SAFETY: `o` is initialised, its strings outlive the call, `client` is writable.
            let r = unsafe { msstore_client_new(&o, &mut client, std::ptr::null_mut()) };
            assert_eq!(r, msstore_result::MSSTORE_OK);
            Fixture {
                _server: server,
                client,
                log: Arc::new(Mutex::new(Vec::new())),
                tags: Vec::new(),
            }
        }

        /// Starts operation `n` (a service token fetch: it stalls at the server).
        fn start(&mut self, n: usize, timeout_ms: u32) -> *mut msstore_op {
            let call = msstore_call_options {
                struct_size: std::mem::size_of::<msstore_call_options>() as u32,
                completion_mode: 0,
                timeout_ms,
            };
            let tag = Arc::new(Tag {
                n,
                log: self.log.clone(),
            });
            let ud = Arc::as_ptr(&tag) as *mut c_void;
            self.tags.push(tag);
            let mut op = std::ptr::null_mut();
            // SAFETY: the client is live, `call` is a valid struct, `op` is writable and the
            // tag outlives the callback (freed after the client).
            let r = unsafe {
                msstore_client_get_token(
                    self.client,
                    msstore_audience::MSSTORE_AUDIENCE_SERVICE as i32,
                    &call,
                    Some(on_done),
                    ud,
                    &mut op,
                )
            };
            assert_eq!(r, msstore_result::MSSTORE_OK);
            op
        }

        fn waiting(&self) -> usize {
            handles::get(self.client)
                .expect("client")
                .admission
                .waiting()
        }

        /// Polls (QUEUED) until operation `n` has called back, 10 s at most.
        fn wait_for(&self, n: usize) -> msstore_result {
            let end = Instant::now() + Duration::from_secs(10);
            loop {
                msstore_client_poll(self.client, 0);
                if let Some(&(_, c)) = self.log.lock().expect("log").iter().find(|(k, _)| *k == n) {
                    return c;
                }
                assert!(Instant::now() < end, "operation {n} never completed");
                std::thread::sleep(Duration::from_millis(5));
            }
        }

        /// Frees the client; returns every callback as (op, code), sorted, each exactly once.
        fn free(self) -> Vec<(usize, msstore_result)> {
            assert_eq!(msstore_client_free(self.client), msstore_result::MSSTORE_OK);
            let mut all = self.log.lock().expect("log").clone();
            all.sort_by_key(|(n, _)| *n);
            drop(self.tags);
            all
        }
    }

    fn cancel_timeout_and_free(mode: msstore_completion_mode) {
        use msstore_result::*;
        let mut f = Fixture::new(mode);
        let ops: Vec<_> = [0, 0, 150, 0, 0, 0]
            .iter()
            .enumerate()
            .map(|(n, t)| f.start(n, *t))
            .collect();
        assert_eq!(f.waiting(), 5, "one runs (limit = cap 1), five wait");
        assert_eq!(msstore_op_cancel(ops[3]), MSSTORE_OK);
        assert_eq!(
            f.waiting(),
            4,
            "a canceled waiting op leaves the queue at once"
        );
        assert_eq!(f.wait_for(3), MSSTORE_E_CANCELED);
        assert_eq!(
            f.wait_for(2),
            MSSTORE_E_TIMEOUT,
            "the deadline covers the wait"
        );
        assert_eq!(f.waiting(), 3);
        for op in ops {
            assert_eq!(super::super::completion::msstore_op_free(op), MSSTORE_OK);
        }
        let all = f.free();
        let want = vec![
            (0, MSSTORE_E_SHUTTING_DOWN),
            (1, MSSTORE_E_SHUTTING_DOWN),
            (2, MSSTORE_E_TIMEOUT),
            (3, MSSTORE_E_CANCELED),
            (4, MSSTORE_E_SHUTTING_DOWN),
            (5, MSSTORE_E_SHUTTING_DOWN),
        ];
        assert_eq!(all, want, "every callback exactly once");
    }

    #[test]
    fn waiting_ops_complete_once_queued() {
        cancel_timeout_and_free(msstore_completion_mode::MSSTORE_COMPLETION_QUEUED);
    }

    #[test]
    fn waiting_ops_complete_once_immediate() {
        cancel_timeout_and_free(msstore_completion_mode::MSSTORE_COMPLETION_IMMEDIATE);
    }

    /// What every waiting op holds besides its request, printed and bounded, so that a field
    /// added to `Op` or a fatter queue entry shows here (issue 14 §4: <= 300 bytes a waiting op).
    #[test]
    fn waiting_record_sizes() {
        let op = std::mem::size_of::<super::Op>();
        let entry = std::mem::size_of::<Option<super::Waiting>>();
        println!("bytes: Op {op} (+16 Arc counts), queue entry {entry}");
        assert!(op <= 104, "Op is {op} bytes");
        assert_eq!(entry, 16, "a queue entry is one fat pointer");
    }

    /// The queue's FIFO: sequence numbers stay valid across pops and removals, tombstones
    /// never linger at the ends, and a drained burst gives its capacity back.
    #[test]
    fn fifo_keeps_order_and_finds_entries_by_sequence() {
        struct Nothing;
        impl super::Deferred for Nothing {
            fn op(&self) -> &Arc<super::Op> {
                unreachable!("not called by the queue")
            }
            fn begin(self: Box<Self>, _: crate::Client, _: super::Slot) {}
        }
        let mut f = super::Fifo::default();
        let seqs: Vec<u64> = (0..5).map(|_| f.push(Box::new(Nothing))).collect();
        assert_eq!(seqs, vec![0, 1, 2, 3, 4]);
        assert!(f.remove(2).is_some());
        assert!(f.remove(2).is_none(), "removed once");
        assert_eq!(f.len(), 4);
        assert!(f.pop().is_some() && f.pop().is_some());
        // 2 is a tombstone: the front skips it, so 3 is next and the head moved past 2.
        assert_eq!(f.head, 3);
        assert!(f.remove(4).is_some());
        assert!(f.remove(1).is_none() && f.remove(99).is_none());
        assert_eq!(f.push(Box::new(Nothing)), 5, "4 is not reused");
        assert!(f.remove(3).is_some());
        assert!(f.pop().is_some() && f.pop().is_none() && f.is_empty());
        for _ in 0..1000 {
            f.push(Box::new(Nothing));
        }
        while f.pop().is_some() {}
        assert!(f.entries.capacity() <= super::KEEP_CAPACITY.max(4));
    }

    #[test]
    fn a_freed_slot_starts_the_next_waiting_op() {
        use msstore_result::*;
        let mut f = Fixture::new(msstore_completion_mode::MSSTORE_COMPLETION_QUEUED);
        let ops: Vec<_> = [100, 0, 0]
            .iter()
            .enumerate()
            .map(|(n, t)| f.start(n, *t))
            .collect();
        assert_eq!(f.waiting(), 2);
        assert_eq!(f.wait_for(0), MSSTORE_E_TIMEOUT);
        // Op 1 takes op 0's slot (and stalls at the server); op 2 waits on.
        let end = Instant::now() + Duration::from_secs(10);
        while f.waiting() > 1 {
            assert!(Instant::now() < end, "freed slots were not handed on");
            std::thread::sleep(Duration::from_millis(5));
        }
        for op in ops {
            assert_eq!(super::super::completion::msstore_op_free(op), MSSTORE_OK);
        }
        let all = f.free();
        assert_eq!(
            all,
            vec![
                (0, MSSTORE_E_TIMEOUT),
                (1, MSSTORE_E_SHUTTING_DOWN),
                (2, MSSTORE_E_SHUTTING_DOWN)
            ]
        );
    }

    /// Sets its flag when dropped: stands for what an operation's future holds (the ledger
    /// marks an entry in flight this way) and must have let go of when CANCELED is seen.
    struct SetOnDrop(Arc<std::sync::atomic::AtomicBool>);

    impl Drop for SetOnDrop {
        fn drop(&mut self) {
            self.0.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }

    #[test]
    fn a_canceled_running_op_has_dropped_its_future_when_it_completes() {
        use msstore_result::*;
        for mode in [
            msstore_completion_mode::MSSTORE_COMPLETION_QUEUED,
            msstore_completion_mode::MSSTORE_COMPLETION_IMMEDIATE,
        ] {
            let f = Fixture::new(mode);
            // Many rounds: before the fix the cancel completed the op at once and the aborted
            // future was dropped a moment later on a worker thread, which a single round can
            // miss.
            for round in 0..50 {
                let dropped = Arc::new(std::sync::atomic::AtomicBool::new(false));
                let held = SetOnDrop(dropped.clone());
                let mut op = std::ptr::null_mut();
                // SAFETY: the client is live, `op` is writable; the callback is NULL.
                let r = unsafe {
                    super::super::completion::start(
                        f.client,
                        std::ptr::null(),
                        None,
                        std::ptr::null_mut(),
                        &mut op,
                        move |_client| async move {
                            let _held = held;
                            std::future::pending::<()>().await;
                            Err(crate::error::Error::new(
                                crate::error::ErrorKind::Internal,
                                "never",
                            ))
                        },
                    )
                };
                assert_eq!(r, Ok(()));
                assert!(!dropped.load(std::sync::atomic::Ordering::SeqCst));
                assert_eq!(msstore_op_cancel(op), MSSTORE_OK);
                assert_eq!(
                    super::super::completion::msstore_op_wait(op, 5000),
                    MSSTORE_E_CANCELED
                );
                assert!(
                    dropped.load(std::sync::atomic::Ordering::SeqCst),
                    "round {round}: CANCELED was visible while the future still held its state"
                );
                assert_eq!(super::super::completion::msstore_op_free(op), MSSTORE_OK);
                if mode == msstore_completion_mode::MSSTORE_COMPLETION_QUEUED {
                    msstore_client_poll(f.client, 0);
                }
            }
            drop(f.free());
        }
    }
}

//! Operations (`msstore_op`), the three completion modes and exactly-once delivery.
//!
//! Every operation completes exactly once: whoever first sets its final code (the operation's
//! task, on success, failure, cancel or deadline; the client's shutdown; or a blocking caller
//! whose fallback deadline passed) wins, and the winner decides who runs the callback:
//!
//! | winner \ mode | QUEUED                     | IMMEDIATE                    | BLOCKING      |
//! |---------------|----------------------------|------------------------------|---------------|
//! | task          | pushed to the client queue | blocking-pool thread (lane)  | blocked caller|
//! | shutdown      | shutdown's calling thread  | shutdown's calling thread    | blocked caller|
//!
//! The callback never runs inline in the start function (except BLOCKING, whose point is to
//! return the result) and never with a library lock held, so it may call back into the library.

use super::admission::Slot;
use super::client::{ClientObj, OpById};
use super::error::{code_of, error_for_code, register_error};
use super::handles;
use super::handles::Handle;
use super::panic::{boundary, CatchUnwind};
use super::parked::{ParkedTask, Task};
use super::results::Payload;
use super::strings::{non_null, read_versioned, write_out};
use super::types::{
    msstore_call_options, msstore_client, msstore_completion_cb, msstore_completion_mode,
    msstore_error, msstore_op, msstore_result,
};
use crate::error::Error;
use crate::outcome::unknown_error;
use crate::Client;
use std::cell::{Cell, RefCell};
use std::ffi::c_void;
use std::future::Future;
use std::num::NonZeroUsize;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::thread::{LocalKey, ThreadId};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Queued,
    Immediate,
    Blocking,
    /// Delivered on the worker that completed it (see `finish_from_task`).
    Inline,
}

impl Mode {
    /// `None` for DEFAULT (0); `Err` for a value that is not a mode.
    pub(crate) fn from_c(v: i32) -> Result<Option<Mode>, msstore_result> {
        use msstore_completion_mode::*;
        match v {
            x if x == MSSTORE_COMPLETION_DEFAULT as i32 => Ok(None),
            x if x == MSSTORE_COMPLETION_QUEUED as i32 => Ok(Some(Mode::Queued)),
            x if x == MSSTORE_COMPLETION_IMMEDIATE as i32 => Ok(Some(Mode::Immediate)),
            x if x == MSSTORE_COMPLETION_BLOCKING as i32 => Ok(Some(Mode::Blocking)),
            x if x == MSSTORE_COMPLETION_INLINE as i32 => Ok(Some(Mode::Inline)),
            _ => Err(msstore_result::MSSTORE_E_INVALID_ARGUMENT),
        }
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // No invariant of ours spans a panic inside these short critical sections.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

thread_local! {
    /// Clients whose callbacks are running on this thread (innermost last), so that a shutdown
    /// called from inside a callback does not wait for that callback to return.
    static IN_CALLBACK: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
    /// INLINE callbacks running on this thread (a runtime worker): it must not wait.
    static INLINE_DEPTH: Cell<u32> = const { Cell::new(0) };
}

/// Whether this thread is inside an INLINE callback, where a wait would hold a runtime worker
/// (and, with every worker waiting, the operation waited for could never finish).
pub(crate) fn in_inline_callback() -> bool {
    Nested::active(&INLINE_DEPTH)
}

/// A per-thread nesting count (INLINE callbacks, first steps), raised while a guard lives, so
/// that an unwind cannot leave it raised.
pub(crate) struct Nested(&'static LocalKey<Cell<u32>>);

impl Nested {
    pub(crate) fn enter(count: &'static LocalKey<Cell<u32>>) -> Nested {
        count.with(|d| d.set(d.get() + 1));
        Nested(count)
    }

    pub(crate) fn active(count: &'static LocalKey<Cell<u32>>) -> bool {
        count.with(|d| d.get() > 0)
    }
}

impl Drop for Nested {
    fn drop(&mut self) {
        self.0.with(|d| d.set(d.get() - 1));
    }
}

/// How many of `client_key`'s callbacks are on this thread's stack.
pub(crate) fn callback_depth(client_key: usize) -> usize {
    IN_CALLBACK.with(|s| s.borrow().iter().filter(|k| **k == client_key).count())
}

struct OpState {
    code: Option<msstore_result>,
    /// Until taken: the result's handle when `code` is OK, else the error's (one slot: an
    /// operation has one or the other, and every waiting op carries the slot).
    outcome: Option<NonZeroUsize>,
    /// The caller asked for the handle (out_op) and has not freed it.
    user_holds: bool,
    /// The callback has not returned yet (or not been called).
    delivery_pending: bool,
    /// The thread running the callback, while it runs: the handle it was given stays usable
    /// there after the caller's `msstore_op_free`.
    callback_thread: Option<ThreadId>,
    /// Threads blocked in `wait`: `complete` notifies only then (a notify is a system call).
    waiters: u32,
    /// Set once the task is spawned: `msstore_op_cancel` and shutdown stop it through this.
    abort: Option<Arc<ParkedTask>>,
    /// `msstore_op_cancel` stopped the running task: its future is dropped first, then the task
    /// completes the op (see `CompletesWhenAborted`).
    cancel_requested: bool,
}

impl OpState {
    fn result(&self) -> Option<usize> {
        self.outcome
            .filter(|_| self.code == Some(msstore_result::MSSTORE_OK))
            .map(NonZeroUsize::get)
    }

    fn error(&self) -> Option<usize> {
        self.outcome
            .filter(|_| self.code.is_some_and(|c| c != msstore_result::MSSTORE_OK))
            .map(NonZeroUsize::get)
    }
}

/// An operation. Registered as a handle while the caller holds it or its callback is pending.
/// Every waiting operation holds one, so it is kept small: one outcome slot, the abort handle
/// under the state's lock, no copy of the client's address (see `client_key`). The `Condvar`
/// is a 4-byte futex word on Linux: no allocation until someone waits.
pub(crate) struct Op {
    /// Its handle id, fixed at the start. Registered there (in `op_table`, one pointer) when it
    /// is written to `out_op`, else only for its callback (nobody else can name it; a waiting
    /// op started without `out_op` then costs the table nothing).
    id: usize,
    client: Weak<ClientObj>,
    cb: msstore_completion_cb,
    user_data: usize,
    st: Mutex<OpState>,
    cv: Condvar,
    mode: Mode,
    /// The handle was written to the caller's `out_op`; else only the callback sees it, lent.
    handed_out: bool,
    /// The operation's future was built and may have sent its request. Written only with `st`
    /// held, so a start and an interruption never both decide on an op (see `try_begin`).
    started: AtomicBool,
    /// Its sequence number in the admission queue while it waits there (`NOT_WAITING` else);
    /// changed only under the queue's lock.
    waiting_seq: AtomicU64,
    /// Set for a consume, grant or subscription change: the id to resend with.
    in_doubt: Option<Box<InDoubt>>,
}

/// What `Op::cancel` found.
enum CancelPath {
    /// It had a final code already.
    Done,
    /// Never started: completed CANCELED here.
    Completed,
    /// Running: its task is to stop and complete it.
    Running,
}

const NOT_WAITING: u64 = u64::MAX;

/// What a consume, grant or subscription change needs to say "resend with this id" when this
/// layer interrupts it (cancel, `timeout_ms`, shutdown) after it may have reached the Store: an
/// interruption is not the Store's verdict, so it never reads as failed.
pub(crate) struct InDoubt {
    /// "consume", "grant", "subscription change".
    pub what: &'static str,
    /// trackingId, transactionId, orderId, recurrenceId.
    pub id_name: &'static str,
    pub id: String,
}

pub(crate) type Outcome = Result<Payload, (msstore_result, Error)>;

impl Op {
    pub(crate) fn id(&self) -> usize {
        self.id
    }

    /// For the client's op table, keyed by it.
    pub(crate) fn id_ref(&self) -> &usize {
        &self.id
    }

    pub(crate) fn mode(&self) -> Mode {
        self.mode
    }

    /// The client's address, as `IN_CALLBACK` records it (the `Weak` points at it; it is
    /// compared, never dereferenced).
    fn client_key(&self) -> usize {
        self.client.as_ptr() as usize
    }

    /// See `waiting_seq`: for `admission`, under its queue's lock.
    pub(crate) fn set_waiting(&self, seq: Option<u64>) {
        self.waiting_seq
            .store(seq.unwrap_or(NOT_WAITING), Ordering::Relaxed);
    }

    pub(crate) fn waiting_seq(&self) -> Option<u64> {
        let s = self.waiting_seq.load(Ordering::Relaxed);
        (s != NOT_WAITING).then_some(s)
    }

    pub(crate) fn code(&self) -> Option<msstore_result> {
        lock(&self.st).code
    }

    /// Sets the final state if nobody did yet. Returns whether this call won.
    pub(crate) fn complete(&self, outcome: Outcome) -> bool {
        let st = lock(&self.st);
        if st.code.is_some() {
            return false;
        }
        self.complete_locked(st, outcome);
        true
    }

    /// Sets the final state of an op that has none (`st` is its locked state).
    fn complete_locked(&self, mut st: MutexGuard<'_, OpState>, outcome: Outcome) {
        match outcome {
            Ok(p) => {
                let id = p.register();
                handles::set_borrowed(id, true);
                st.outcome = NonZeroUsize::new(id);
                st.code = Some(msstore_result::MSSTORE_OK);
            }
            Err((code, e)) => {
                let id = register_error(code, &e);
                handles::set_borrowed(id, true);
                st.outcome = NonZeroUsize::new(id);
                st.code = Some(code);
            }
        }
        let waiters = st.waiters > 0;
        drop(st);
        if waiters {
            self.cv.notify_all();
        }
    }

    /// Completes with an interruption by this layer, judged under the state's lock, so that a
    /// concurrent `try_begin` either sees the final code (and sends nothing) or has marked the
    /// op started (and the outcome reads unknown for a consume, grant or change).
    fn complete_interrupted(&self, code: msstore_result, message: &str) -> bool {
        let st = lock(&self.st);
        if st.code.is_some() {
            return false;
        }
        let outcome = Err(self.interruption(code, message));
        self.complete_locked(st, outcome);
        true
    }

    /// Marks the op started before its future is built; false when it already has a final code
    /// (cancelled, timed out or shut down on its way out of the admission queue): then nothing
    /// may be sent.
    pub(crate) fn try_begin(&self) -> bool {
        let st = lock(&self.st);
        if st.code.is_some() {
            return false;
        }
        self.started.store(true, Ordering::Release);
        true
    }

    /// `msstore_op_cancel` (admission removed it from the queue if it waited there). A running
    /// op is not completed here: its task is aborted, and it completes once its future is
    /// dropped, so whatever the future held (a ledger entry marked in flight) is released
    /// before the caller can see CANCELED and, say, reconcile that entry.
    pub(crate) fn cancel(self: &Arc<Self>) {
        let path = {
            let mut st = lock(&self.st);
            if st.code.is_some() {
                CancelPath::Done
            } else if self.started.load(Ordering::Acquire) {
                st.cancel_requested = true;
                CancelPath::Running
            } else {
                let outcome = Err(self.canceled());
                self.complete_locked(st, outcome);
                CancelPath::Completed
            }
        };
        match path {
            CancelPath::Done => {}
            CancelPath::Completed => self.hand_over(),
            CancelPath::Running => self.abort_task(),
        }
    }

    /// The task was dropped before it finished: complete it if `msstore_op_cancel` asked for
    /// that (shutdown and timeouts complete the op before they abort it).
    fn finish_after_abort(self: &Arc<Self>) {
        // Never INLINE here: the future may be dropped on the canceling caller's thread.
        if lock(&self.st).cancel_requested && self.complete(Err(self.canceled())) {
            self.hand_over();
        }
    }

    /// The outcome `msstore_op_cancel` gives (see `interruption`).
    fn canceled(&self) -> (msstore_result, Error) {
        self.interruption(
            msstore_result::MSSTORE_E_CANCELED,
            "the operation was canceled",
        )
    }

    /// The outcome of an interruption by this layer (cancel, timeout, shutdown): `code`, except
    /// for a started consume, grant or change, whose outcome is then unknown (the request may
    /// have been applied), with the id to resend.
    pub(crate) fn interruption(
        &self,
        code: msstore_result,
        message: &str,
    ) -> (msstore_result, Error) {
        let error = error_for_code(code, message);
        match &self.in_doubt {
            Some(d) if self.started.load(Ordering::Acquire) => (
                msstore_result::MSSTORE_E_CONSUME_OUTCOME_UNKNOWN,
                unknown_error(d.what, d.id_name, &d.id, error),
            ),
            _ => (code, error),
        }
    }

    /// Completes with a code this layer produced (shutdown, timeout) and stops the task.
    pub(crate) fn complete_with(&self, code: msstore_result, message: &str) -> bool {
        let won = self.complete_interrupted(code, message);
        if won {
            self.abort_task();
        }
        won
    }

    /// Stops the operation's task, if it was built (a no-op once it ended).
    pub(crate) fn abort_task(&self) {
        let task = lock(&self.st).abort.take();
        if let Some(t) = task {
            t.stop();
        }
    }

    /// Called by the operation's own task with its outcome.
    pub(crate) fn finish_from_task(self: &Arc<Self>, outcome: Outcome) {
        if self.complete(outcome) {
            // INLINE: delivered right here when the runtime polls the task (a worker); not
            // during its first step, which runs inside the C caller's start call.
            if self.mode == Mode::Inline && !super::parked::in_first_step() {
                deliver(self);
            } else {
                self.hand_over();
            }
        }
    }

    /// Completes an op with this layer's interruption `code` and delivers it as its task would
    /// have (for an op that never started or whose task is gone).
    pub(crate) fn finish_interrupted(self: &Arc<Self>, code: msstore_result, message: &str) {
        if self.complete_interrupted(code, message) {
            self.hand_over();
        }
    }

    /// Delivers a completed op: queued for `msstore_client_poll`, on a library thread, or (for
    /// BLOCKING) by its waiter.
    fn hand_over(self: &Arc<Self>) {
        match self.mode {
            // INLINE ops not completed by their task on a worker go the IMMEDIATE way.
            Mode::Immediate | Mode::Inline => match self.client.upgrade() {
                // A blocking-pool thread, batched (see `lane`): the C callback may block or
                // call blocking functions without starving the runtime's async workers.
                Some(c) => c.lane.push(self.clone()),
                None => {
                    let op = self.clone();
                    drop(tokio::task::spawn_blocking(move || deliver(&op)));
                }
            },
            Mode::Queued => match self.client.upgrade() {
                Some(c) => c.push_completion(self.clone()),
                None => deliver(self),
            },
            Mode::Blocking => {}
        }
    }

    /// Waits until the operation has a final code; `None` on timeout.
    fn wait(&self, timeout: Option<Duration>) -> Option<msstore_result> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut st = lock(&self.st);
        loop {
            if let Some(c) = st.code {
                return Some(c);
            }
            st.waiters += 1;
            st = match deadline {
                None => self.cv.wait(st).unwrap_or_else(|p| p.into_inner()),
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        st.waiters -= 1;
                        return None;
                    }
                    self.cv
                        .wait_timeout(st, d - now)
                        .unwrap_or_else(|p| p.into_inner())
                        .0
                }
            };
            st.waiters -= 1;
        }
    }

    /// The callback returned (or there was none): drop the delivery's hold on the handle.
    fn delivery_done(&self) {
        let mut st = lock(&self.st);
        st.delivery_pending = false;
        self.release_if_unheld(st);
        if let Some(c) = self.client.upgrade() {
            let mut st = lock(&c.state);
            st.ops.remove(&self.id);
            // Only a shutdown waits on `cv`; a notify is a system call, so skip it otherwise.
            if st.shutting_down {
                c.cv.notify_all();
            }
        }
    }

    /// Whether a call on this thread may use the handle: the caller holds it, or this thread
    /// is running its callback (the callback's `op` is valid during the call).
    fn usable_here(&self) -> bool {
        let st = lock(&self.st);
        st.user_holds || st.callback_thread == Some(std::thread::current().id())
    }

    /// `msstore_op_free`: drop the caller's hold.
    fn user_release(&self) -> Result<(), msstore_result> {
        let mut st = lock(&self.st);
        if !st.user_holds {
            // The callback's `op` of an operation started without `out_op` is the delivery's.
            let lent = !self.handed_out && st.callback_thread == Some(std::thread::current().id());
            return Err(if lent {
                msstore_result::MSSTORE_E_BORROWED_HANDLE
            } else {
                msstore_result::MSSTORE_E_INVALID_HANDLE
            });
        }
        st.user_holds = false;
        self.release_if_unheld(st);
        Ok(())
    }

    /// After one of the two holds went (the caller's handle, the pending delivery): when
    /// neither remains, unregisters the operation and whatever result or error was not taken.
    fn release_if_unheld(&self, mut st: MutexGuard<'_, OpState>) {
        if st.user_holds || st.delivery_pending {
            return;
        }
        let leftover = st.outcome.take();
        drop(st);
        if let Some(id) = leftover {
            handles::remove_any(id.get());
        }
        handles::remove_any(self.id());
    }
}

/// Runs the callback (if any) on the current thread, then releases the delivery's hold.
pub(crate) fn deliver(op: &Arc<Op>) {
    let code = op.code().unwrap_or(msstore_result::MSSTORE_E_INTERNAL);
    if let Some(cb) = op.cb {
        if !op.handed_out {
            // Lent to the callback: registered only now (see `Op::id`).
            handles::insert::<msstore_op>(op.id(), op.clone());
        }
        IN_CALLBACK.with(|s| s.borrow_mut().push(op.client_key()));
        let inline = (op.mode == Mode::Inline).then(|| Nested::enter(&INLINE_DEPTH));
        let user_data = op.user_data as *mut c_void;
        let handle = handles::ptr_of::<msstore_op>(op.id());
        lock(&op.st).callback_thread = Some(std::thread::current().id());
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            // SAFETY: `cb` is the caller's completion callback, called exactly once with the
            // user_data it passed and a handle that stays live until this call returns.
            unsafe { cb(user_data, code, handle) }
        }));
        lock(&op.st).callback_thread = None;
        drop(inline);
        IN_CALLBACK.with(|s| {
            s.borrow_mut().pop();
        });
    }
    op.delivery_done();
}

async fn sleep_opt(t: Option<Duration>) {
    match t {
        Some(d) => tokio::time::sleep(d).await,
        None => std::future::pending::<()>().await,
    }
}

/// Starts an operation: validates the client and call options, registers the op, spawns its
/// task on the client's runtime, and (BLOCKING) waits for and delivers its completion.
///
/// # Safety
/// `call` is NULL or a valid `msstore_call_options`; `out_op` is NULL or writable.
pub(crate) unsafe fn start<Fut>(
    client: *const msstore_client,
    call: *const msstore_call_options,
    cb: msstore_completion_cb,
    user_data: *mut c_void,
    out_op: *mut *mut msstore_op,
    make: impl FnOnce(Client) -> Fut + Send + 'static,
) -> Result<(), msstore_result>
where
    Fut: Future<Output = Result<Payload, Error>> + Send + 'static,
{
    // SAFETY: forwarded contract.
    unsafe { start_in_doubt(client, call, cb, user_data, out_op, None, make) }
}

/// `start` for a consume, grant or subscription change: an interruption after it started
/// completes it with `MSSTORE_E_CONSUME_OUTCOME_UNKNOWN` and `in_doubt`'s id (see `InDoubt`).
///
/// # Safety
/// As `start`.
pub(crate) unsafe fn start_in_doubt<Fut>(
    client: *const msstore_client,
    call: *const msstore_call_options,
    cb: msstore_completion_cb,
    user_data: *mut c_void,
    out_op: *mut *mut msstore_op,
    in_doubt: Option<InDoubt>,
    make: impl FnOnce(Client) -> Fut + Send + 'static,
) -> Result<(), msstore_result>
where
    Fut: Future<Output = Result<Payload, Error>> + Send + 'static,
{
    let c = handles::get(client)?;
    let call = if call.is_null() {
        msstore_call_options::default()
    } else {
        // SAFETY: non-null; the caller promises a valid versioned struct.
        unsafe { read_versioned(call) }?
    };
    let mode = Mode::from_c(call.completion_mode)?.unwrap_or(c.default_mode);
    if mode == Mode::Blocking && in_inline_callback() {
        return Err(msstore_result::MSSTORE_E_INVALID_ARGUMENT); // would wait on a worker
    }
    let timeout_ms = if call.timeout_ms != 0 {
        call.timeout_ms
    } else {
        c.default_timeout_ms
    };
    let timeout = (timeout_ms != 0).then(|| Duration::from_millis(timeout_ms.into()));

    let new_op = |id| {
        Arc::new(Op {
            id,
            client: Arc::downgrade(&c),
            cb,
            user_data: user_data as usize,
            st: Mutex::new(OpState {
                code: None,
                outcome: None,
                user_holds: !out_op.is_null(),
                delivery_pending: true,
                callback_thread: None,
                waiters: 0,
                abort: None,
                cancel_requested: false,
            }),
            cv: Condvar::new(),
            mode,
            handed_out: !out_op.is_null(),
            started: AtomicBool::new(false),
            waiting_seq: AtomicU64::new(NOT_WAITING),
            in_doubt: in_doubt.map(Box::new),
        })
    };
    let op = if out_op.is_null() {
        new_op(handles::reserve_id())
    } else {
        // The caller's handle names it from its start.
        handles::register_op(new_op)
    };
    let client = {
        let mut st = lock(&c.state);
        let client = match (&st.client, st.shutting_down) {
            (Some(cl), false) => cl.clone(),
            _ => {
                if !out_op.is_null() {
                    handles::remove_any(op.id()); // never written out
                }
                return Err(msstore_result::MSSTORE_E_SHUTTING_DOWN);
            }
        };
        st.ops.insert(OpById(op.clone()));
        client
    };
    if !out_op.is_null() {
        // SAFETY: non-null; the caller promises it is writable.
        let _ = unsafe { write_out(out_op, handles::ptr_of(op.id())) };
    }
    // Beyond the running limit the op waits as a deferred start (see `admission`); its
    // deadline counts from now, the wait included.
    let deadline = timeout.map(|t| Instant::now() + t);
    c.admission.admit(
        &c,
        op.clone(),
        deadline,
        client,
        move |op, client, slot, inline| launch(op, client, make, deadline, slot, inline),
    );

    if mode == Mode::Blocking {
        // The task enforces `timeout`; the extra grace only matters if the runtime is wedged.
        let code = match op.wait(timeout.map(|t| t + Duration::from_secs(5))) {
            Some(code) => code,
            None => {
                op.complete_with(msstore_result::MSSTORE_E_TIMEOUT, "the operation timed out");
                op.code().unwrap_or(msstore_result::MSSTORE_E_TIMEOUT)
            }
        };
        deliver(&op);
        return match code {
            msstore_result::MSSTORE_OK => Ok(()),
            e => Err(e),
        };
    }
    Ok(())
}

/// Builds an admitted operation's task and runs it: its first step on the caller's thread when
/// `inline` (see below), then on the runtime. `slot` is released when the task ends.
fn launch<Fut>(
    op: Arc<Op>,
    client: Client,
    make: impl FnOnce(Client) -> Fut,
    deadline: Option<Instant>,
    slot: Slot,
    inline: bool,
) where
    Fut: Future<Output = Result<Payload, Error>> + Send + 'static,
{
    if !op.try_begin() {
        return; // completed on its way out of the queue: nothing is sent; `slot` goes on
    }
    let handle = client.runtime_handle().clone();
    let inline_client = client.clone();
    let fut = make(client);
    let task_op = op.clone();
    let timeout = deadline.map(|d| d.saturating_duration_since(Instant::now()));
    // The operation's own future, inside the guard that completes it after a cancel (once the
    // future is dropped) and outside the task's timeout; built here so that a task dropped
    // before its first poll still runs the guard.
    let body = CatchUnwind(CompletesWhenAborted {
        op: op.clone(),
        future: Some(Box::pin(fut)),
    });
    let task: Task = Box::pin(async move {
        let outcome: Outcome = tokio::select! {
            r = body => match r {
                Ok(Ok(p)) => Ok(p),
                Ok(Err(e)) => Err((code_of(e.kind), e)),
                Err(()) => Err((
                    msstore_result::MSSTORE_E_PANIC,
                    error_for_code(msstore_result::MSSTORE_E_PANIC, "the operation panicked (a bug in msstore)"),
                )),
            },
            _ = sleep_opt(timeout) => Err(task_op.interruption(
                msstore_result::MSSTORE_E_TIMEOUT,
                "the operation's timeout_ms elapsed",
            )),
        };
        task_op.finish_from_task(outcome);
        drop(slot);
    });
    // Stored before it runs: a cancel or shutdown from now on stops it wherever it is.
    let run = ParkedTask::new(handle.clone());
    let stopped = {
        let mut st = lock(&op.st);
        st.abort = Some(run.clone());
        st.code.is_some() || st.cancel_requested
    };
    if stopped {
        // Shutdown or cancel came between `try_begin` and here: never polled, so never sent.
        let _rt = handle.enter();
        drop(task);
        op.abort_task();
        return;
    }
    // The first step runs here, on the caller's thread (in the runtime's context): an operation
    // whose result is at hand (a cached token, a decode) completes without a runtime thread
    // being woken, which is most of a round trip's cost. Operation futures never block (store
    // work goes to `spawn_blocking`), so this costs the caller only the step's CPU time.
    // Completion is still never inline: the result is queued (QUEUED) or handed to a library
    // thread (IMMEDIATE) by `finish_from_task`. A pending operation is parked off the runtime
    // and spawned when it is woken (see `parked`).
    if inline {
        let _rt = handle.enter();
        let _on_client = inline_client.enter_inline();
        run.first_step(task);
    } else {
        run.start_spawned(task);
    }
    drop(inline_client);
}

/// An operation's future. Dropped unfinished (its task aborted by `msstore_op_cancel`), it drops
/// the future first and only then completes the op, so the caller never sees CANCELED while the
/// future still holds something (a ledger entry marked in flight, a connection slot).
struct CompletesWhenAborted<F> {
    op: Arc<Op>,
    future: Option<Pin<Box<F>>>,
}

impl<F: Future> Future for CompletesWhenAborted<F> {
    type Output = F::Output;

    fn poll(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        let Some(future) = self.future.as_mut() else {
            // Only polled again after `Ready` by a broken caller; `select!` never does.
            return std::task::Poll::Pending;
        };
        let r = future.as_mut().poll(cx);
        if r.is_ready() {
            self.future = None;
        }
        r
    }
}

impl<F> Drop for CompletesWhenAborted<F> {
    fn drop(&mut self) {
        if let Some(future) = self.future.take() {
            drop(future);
            self.op.finish_after_abort();
        }
    }
}

/// An operation handle as the caller may use it: live, and not released by `msstore_op_free`
/// (except inside its own callback, whose `op` stays valid during the call). The operation
/// itself runs on after a free; only the handle is dead.
fn caller_op(op: *const msstore_op) -> Result<Arc<Op>, msstore_result> {
    let o = handles::get(op)?;
    if o.usable_here() {
        Ok(o)
    } else {
        Err(msstore_result::MSSTORE_E_INVALID_HANDLE)
    }
}

/// Requests cancellation. The callback still fires exactly once, with `MSSTORE_E_CANCELED`
/// (or with the operation's real result if it completed first). A consume (also through the
/// ledger), grant or subscription change that already started may have reached the Store: it completes with
/// `MSSTORE_E_CONSUME_OUTCOME_UNKNOWN` and the id to resend with (the error's `tracking_id`)
/// instead; the same holds when its `timeout_ms` passes or the client shuts down. Only one
/// still waiting for a connection slot (never sent) gets CANCELED / TIMEOUT / SHUTTING_DOWN. Not inline: in QUEUED mode at
/// the next `msstore_client_poll`, in IMMEDIATE mode on a library thread.
///
/// Returns `MSSTORE_OK` (also when the operation had already completed), or
/// `MSSTORE_E_NULL_POINTER` / `MSSTORE_E_INVALID_HANDLE`. Threading: any thread, including from
/// inside a callback.
#[no_mangle]
pub extern "C" fn msstore_op_cancel(op: *mut msstore_op) -> msstore_result {
    boundary!({
        let o = caller_op(op)?;
        // No client: its shutdown already completed every operation.
        if let Some(c) = o.client.upgrade() {
            c.admission.cancel(&o);
        }
        Ok(())
    })
}

/// Waits up to `timeout_ms` (0: do not wait; `UINT32_MAX`: forever) for the operation to
/// complete, and returns its result code, or `MSSTORE_E_PENDING` if it is still running.
/// Completion is independent of the callback: in QUEUED mode the callback still fires at the
/// next poll. Inside an INLINE callback only `timeout_ms` 0 is allowed (else
/// `MSSTORE_E_INVALID_ARGUMENT`: it would hold a library worker). Threading: any thread; do not
/// wait forever on a QUEUED operation from the thread that polls if you also need its callback
/// first.
#[no_mangle]
pub extern "C" fn msstore_op_wait(op: *mut msstore_op, timeout_ms: u32) -> msstore_result {
    boundary!({
        let o = caller_op(op)?;
        if timeout_ms != 0 && in_inline_callback() {
            return Err(msstore_result::MSSTORE_E_INVALID_ARGUMENT); // would wait on a worker
        }
        let t = (timeout_ms != u32::MAX).then(|| Duration::from_millis(timeout_ms.into()));
        Ok(o.wait(t).unwrap_or(msstore_result::MSSTORE_E_PENDING))
    })
}

/// The operation's result code without waiting: `MSSTORE_E_PENDING` while it runs.
#[no_mangle]
pub extern "C" fn msstore_op_status(op: *const msstore_op) -> msstore_result {
    boundary!({
        let o = caller_op(op)?;
        Ok(o.code().unwrap_or(msstore_result::MSSTORE_E_PENDING))
    })
}

/// Takes a result of handle type `H` out of a completed op.
pub(crate) fn take_result<H: Handle>(op: *const msstore_op) -> Result<*mut H, msstore_result> {
    let o = caller_op(op)?;
    let mut st = lock(&o.st);
    if st.code.is_none() {
        return Err(msstore_result::MSSTORE_E_PENDING);
    }
    match st.result() {
        Some(id) if handles::holds::<H>(id) => {
            st.outcome = None;
            handles::set_borrowed(id, false);
            Ok(handles::ptr_of(id))
        }
        Some(_) => Err(msstore_result::MSSTORE_E_INVALID_ARGUMENT),
        None => Err(msstore_result::MSSTORE_E_NO_RESULT),
    }
}

/// Takes ownership of the operation's error (free it with `msstore_error_free`). Returns
/// `MSSTORE_E_NO_RESULT` when the operation succeeded or the error was already taken,
/// `MSSTORE_E_PENDING` while it runs. `*out` is written only on success.
///
/// # Safety
/// `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn msstore_op_take_error(
    op: *mut msstore_op,
    out: *mut *mut msstore_error,
) -> msstore_result {
    boundary!({
        let o = caller_op(op)?;
        non_null(out)?;
        let mut st = lock(&o.st);
        if st.code.is_none() {
            return Err(msstore_result::MSSTORE_E_PENDING);
        }
        let id = st.error().ok_or(msstore_result::MSSTORE_E_NO_RESULT)?;
        st.outcome = None;
        handles::set_borrowed(id, false);
        drop(st);
        // SAFETY: non-null; the caller promises it is writable.
        unsafe { write_out(out, handles::ptr_of(id)) }
    })
}

/// The operation's error, borrowed: owned by the operation, valid until the operation is freed
/// (or, for an operation started without `out_op`, until its callback returns). NULL when the
/// operation succeeded, is pending, or the error was taken, and for a freed operation handle.
/// Do not free it: `msstore_error_free` refuses it with `MSSTORE_E_BORROWED_HANDLE` (take it
/// with `msstore_op_take_error` to own it).
#[no_mangle]
pub extern "C" fn msstore_op_error(op: *const msstore_op) -> *const msstore_error {
    boundary!({
        let o = caller_op(op)?;
        let error = lock(&o.st).error();
        Ok(error.map_or(std::ptr::null(), |id| {
            handles::ptr_of::<msstore_error>(id).cast_const()
        }))
    })
}

/// Releases the caller's handle to an operation (the one written to `out_op`). Does not cancel
/// it: the callback still fires exactly once, and the operation's resources (and any result not
/// taken) are freed after both this call and the callback. The handle is dead at once: every
/// later call with it (`msstore_op_status`, `_cancel`, `_wait`, `_take_*`, `_error`, `_free`)
/// returns `MSSTORE_E_INVALID_HANDLE` (`msstore_op_error`: NULL), except inside the
/// operation's own callback, where the `op` it was given stays valid until it returns. In the
/// callback of an operation started without `out_op`, `op` is borrowed: freeing it returns
/// `MSSTORE_E_BORROWED_HANDLE` and changes nothing. NULL is a no-op. Threading: any thread,
/// including inside its own callback.
#[no_mangle]
pub extern "C" fn msstore_op_free(op: *mut msstore_op) -> msstore_result {
    boundary!({
        if op.is_null() {
            return Ok(());
        }
        handles::get(op)?.user_release()
    })
}

/// Shutdown's part: completes every pending op with SHUTTING_DOWN; returns those it must
/// deliver itself (not BLOCKING: their waiter delivers).
pub(crate) fn fail_for_shutdown(ops: Vec<Arc<Op>>) -> Vec<Arc<Op>> {
    ops.into_iter()
        .filter(|o| {
            o.complete_with(
                msstore_result::MSSTORE_E_SHUTTING_DOWN,
                "the client shut down before the operation finished",
            ) && o.mode() != Mode::Blocking
        })
        .collect()
}

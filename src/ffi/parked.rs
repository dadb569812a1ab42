//! An operation's task whose first step ran on the C caller's thread (see
//! `completion::launch`): parked here, off the runtime, until a waker it registered fires, and
//! spawned then, from the waking thread (for a response or a timer a runtime worker, so into
//! its local queue: no other thread is woken).
//!
//! Spawning it right after that first step made the runtime poll it again at once only to
//! register its wakers a second time: on every operation started from a caller's thread (a
//! QUEUED poller or an IMMEDIATE callback starting the next call) one more wake-up of a parked
//! worker, a context switch on each side (`msstore-bench wakeups`).

use super::completion::{lock, Nested};
use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Wake, Waker};
use tokio::runtime::Handle;

pub(crate) type Task = Pin<Box<dyn Future<Output = ()> + Send>>;

thread_local! {
    /// First steps running on this thread: a task that finishes inside one finishes inside
    /// the C caller's start call, not on a runtime worker.
    static FIRST_STEP: Cell<u32> = const { Cell::new(0) };
}

/// Whether this thread is running an operation's first step (see `first_step`).
pub(crate) fn in_first_step() -> bool {
    Nested::active(&FIRST_STEP)
}

enum State {
    /// Its first step runs on the caller's thread; `woken`: a waker fired meanwhile.
    Polling {
        woken: bool,
    },
    /// Pending, off the runtime, until woken.
    Parked(Task),
    /// Woken: being handed to the runtime.
    Spawning,
    Spawned(tokio::task::AbortHandle),
    /// Finished, or stopped: nothing runs any more.
    Done,
}

/// One operation's task (see the module doc); `stop` drops or aborts it wherever it is.
pub(crate) struct ParkedTask {
    state: Mutex<State>,
    runtime: Handle,
}

impl ParkedTask {
    pub(crate) fn new(runtime: Handle) -> Arc<ParkedTask> {
        Arc::new(ParkedTask {
            state: Mutex::new(State::Polling { woken: false }),
            runtime,
        })
    }

    /// Runs the task's first step on this thread (call it inside the runtime's context) and
    /// parks it when it is pending.
    pub(crate) fn first_step(self: &Arc<Self>, mut task: Task) {
        let waker = Waker::from(self.clone());
        let step = Nested::enter(&FIRST_STEP);
        let ready = task
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_ready();
        drop(step);
        let mut st = lock(&self.state);
        match *st {
            _ if ready => *st = State::Done,
            State::Polling { woken: false } => *st = State::Parked(task),
            State::Polling { woken: true } => {
                *st = State::Spawning;
                drop(st);
                self.spawn(task);
            }
            // Stopped during the step: its future is dropped here, the lock released.
            _ => drop(st),
        }
    }

    /// Hands the task to the runtime at once, unless it was stopped already (an operation
    /// started off the caller's thread, from the admission queue).
    pub(crate) fn start_spawned(&self, task: Task) {
        let mut st = lock(&self.state);
        if matches!(*st, State::Done) {
            drop(st);
            let _rt = self.runtime.enter();
            drop(task);
            return;
        }
        *st = State::Spawning;
        drop(st);
        self.spawn(task);
    }

    /// Spawns the task; the state was set to `Spawning` under the lock by the caller.
    fn spawn(&self, task: Task) {
        let join = self.runtime.spawn(task);
        let mut st = lock(&self.state);
        if matches!(*st, State::Done) {
            drop(st);
            join.abort(); // stopped while it was being spawned
        } else {
            *st = State::Spawned(join.abort_handle());
        }
    }

    /// Stops the task: a parked one is dropped here (in the runtime's context), a spawned one
    /// aborted, one in its first step dropped by that step when it returns.
    pub(crate) fn stop(&self) {
        let previous = std::mem::replace(&mut *lock(&self.state), State::Done);
        match previous {
            State::Parked(task) => {
                let _rt = self.runtime.enter();
                drop(task);
            }
            State::Spawned(a) => a.abort(),
            _ => {}
        }
    }
}

impl Wake for ParkedTask {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let mut st = lock(&self.state);
        match &mut *st {
            State::Polling { woken } => *woken = true,
            State::Parked(_) => {
                if let State::Parked(task) = std::mem::replace(&mut *st, State::Spawning) {
                    drop(st);
                    self.spawn(task);
                }
            }
            // Once spawned the runtime's own waker is registered; a stale wake changes nothing.
            _ => {}
        }
    }
}

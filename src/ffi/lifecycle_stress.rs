//! Stress test of the C ABI's operation lifecycle: every operation's callback fires exactly
//! once, whatever mix of cancels, short timeouts, handle frees and a client free mid-flight
//! hits it, in QUEUED, IMMEDIATE and BLOCKING mode, with a small running limit so that most
//! operations wait in the admission queue.
//!
//! Seeded and reproducible in its plan (timing still varies): `MSSTORE_STRESS_SEED` sets the
//! base seed, `MSSTORE_STRESS_ROUNDS` the rounds per test (default 12, 200 operations each).
//! `MSSTORE_STRESS_EXCLUSIVE=1` (run with `--test-threads=1`) also checks that the process's
//! live handle count returns to its start and that no panic happened anywhere.

use super::accessors::msstore_error_free;
use super::client::{
    msstore_client_free, msstore_client_new, msstore_client_options_init, msstore_client_poll,
    msstore_client_shutdown, msstore_client_wait,
};
use super::completion::{
    msstore_op_cancel, msstore_op_error, msstore_op_free, msstore_op_status, msstore_op_take_error,
    msstore_op_wait, start_in_doubt, InDoubt, Op,
};
use super::error::code_of;
use super::handles;
use super::ops::msstore_client_get_token;
use super::results::Payload;
use super::types::*;
use crate::error::{Error, ErrorKind};
use crate::stall_server::StallServer;
use std::ffi::{c_void, CString};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicU8, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use msstore_result::*;

const OPS_PER_ROUND: usize = 200;
const STARTERS: usize = 3;
const WORKERS: usize = 2;

/// Sets its flag when dropped: what an operation's future holds (and must have let go of by
/// the time CANCELED is seen).
struct SetOnDrop(Arc<AtomicBool>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// What an operation's future does.
#[derive(Clone, Copy, Debug)]
enum Kind {
    /// Ready at its first step (on the caller's thread).
    Ready,
    /// Wakes itself during its first step.
    Yield,
    /// A timer wakes it (a runtime worker).
    Sleep(u64),
    /// A blocking-pool thread wakes it.
    OffRuntime(u64),
    /// Never completes by itself.
    Pending,
    /// Fails with a network error.
    Fail,
    /// A real service token fetch against a server that never answers.
    Token,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Cancel {
    No,
    /// Right after the start returns, on the starting thread.
    AtOnce,
    /// On a worker thread after this many microseconds.
    Later(u64),
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Free {
    /// Started without `out_op`.
    NoHandle,
    /// Right after the start (and the immediate cancel, if any).
    AtOnce,
    /// On a worker thread, after its cancel or after waiting for completion.
    Worker,
    /// Inside its own callback.
    InCallback,
    /// After the client was freed and every thread joined.
    AtEnd,
}

/// One operation's plan and what happened to it.
struct Rec {
    n: usize,
    mode: msstore_completion_mode,
    kind: Kind,
    timeout_ms: u32,
    in_doubt: bool,
    cancel: Cancel,
    free: Free,
    take_error: bool,
    /// Started by this op's callback (without `out_op`, not BLOCKING).
    follow: Option<Arc<Rec>>,
    client: AtomicUsize,
    round_freed: Arc<AtomicBool>,
    calls: AtomicU32,
    code: AtomicI32,
    /// 0: not tried, 1: accepted (a callback is due), 2: rejected.
    accepted: AtomicU8,
    built: AtomicBool,
    built_at_callback: AtomicBool,
    future_dropped: Arc<AtomicBool>,
    result_dropped: Arc<AtomicBool>,
    error_id: AtomicUsize,
    /// The handle its callback got.
    op_id: AtomicUsize,
    op_weak: Mutex<Weak<Op>>,
    faults: Mutex<Vec<String>>,
}

impl Rec {
    fn fault(&self, what: String) {
        self.faults
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(format!(
                "op {} ({:?}, {:?}, {:?}, {:?}): {what}",
                self.n, self.mode, self.kind, self.cancel, self.free
            ));
    }

    fn code(&self) -> i32 {
        self.code.load(Ordering::SeqCst)
    }
}

unsafe extern "C" fn on_done(user_data: *mut c_void, code: msstore_result, op: *mut msstore_op) {
    // SAFETY: user_data is a `Rec` the round keeps alive until every callback has fired.
    let rec = unsafe { &*(user_data as *const Rec) };
    if rec.calls.fetch_add(1, Ordering::SeqCst) > 0 {
        rec.fault("callback fired more than once".into());
    }
    rec.code.store(code as i32, Ordering::SeqCst);
    rec.built_at_callback
        .store(rec.built.load(Ordering::SeqCst), Ordering::SeqCst);
    if code == MSSTORE_E_CANCELED
        && rec.built.load(Ordering::SeqCst)
        && !rec.future_dropped.load(Ordering::SeqCst)
    {
        rec.fault("CANCELED while its future was still alive".into());
    }
    let status = msstore_op_status(op);
    if status != code {
        rec.fault(format!("status {status:?} inside the callback of {code:?}"));
    }
    rec.op_id.store(op as usize, Ordering::SeqCst);
    match handles::get(op.cast_const()) {
        Ok(o) => *rec.op_weak.lock().unwrap_or_else(|p| p.into_inner()) = Arc::downgrade(&o),
        Err(e) => rec.fault(format!("the callback's op is not live: {e:?}")),
    }
    if code != MSSTORE_OK {
        let e = msstore_op_error(op);
        if e.is_null() {
            rec.fault("no error on a failed op".into());
        } else if rec.take_error {
            let mut taken = std::ptr::null_mut();
            // SAFETY: `taken` is a writable local.
            let r = unsafe { msstore_op_take_error(op, &mut taken) };
            if r != MSSTORE_OK || msstore_error_free(taken) != MSSTORE_OK {
                rec.fault(format!("take/free error: {r:?}"));
            }
        } else {
            rec.error_id.store(e as usize, Ordering::SeqCst);
        }
    }
    match rec.free {
        Free::InCallback => {
            let r = msstore_op_free(op);
            if r != MSSTORE_OK {
                rec.fault(format!("free inside the callback: {r:?}"));
            }
        }
        Free::NoHandle => {
            let r = msstore_op_free(op);
            if r != MSSTORE_E_BORROWED_HANDLE {
                rec.fault(format!("free of a lent op: {r:?}"));
            }
        }
        _ => {}
    }
    if let Some(next) = &rec.follow {
        next.client
            .store(rec.client.load(Ordering::SeqCst), Ordering::SeqCst);
        // SAFETY: the follow-up `Rec` lives as long as this one.
        let _ = unsafe { start_op(next, std::ptr::null_mut()) };
    }
    // Read last: a callback still running after `msstore_client_free` returned is caught too.
    if rec.round_freed.load(Ordering::SeqCst) {
        rec.fault("callback ran after msstore_client_free returned".into());
    }
}

/// Starts `rec`'s operation on its client; `out` is NULL or writable. Records whether it was
/// accepted. Returns the start's code.
///
/// # Safety
/// `rec` outlives its callback; `out` is NULL or writable.
unsafe fn start_op(rec: &Arc<Rec>, out: *mut *mut msstore_op) -> msstore_result {
    let client = rec.client.load(Ordering::SeqCst) as *mut msstore_client;
    let call = msstore_call_options {
        struct_size: std::mem::size_of::<msstore_call_options>() as u32,
        completion_mode: rec.mode as i32,
        timeout_ms: rec.timeout_ms,
    };
    let ud = Arc::as_ptr(rec) as *mut c_void;
    let r = match rec.kind {
        // SAFETY: the client pointer may be dead (then INVALID_HANDLE), `call` is valid, `out`
        // is NULL or writable, `ud` outlives the callback.
        Kind::Token => unsafe {
            msstore_client_get_token(
                client,
                msstore_audience::MSSTORE_AUDIENCE_SERVICE as i32,
                &call,
                Some(on_done),
                ud,
                out,
            )
        },
        kind => {
            let built = rec.clone();
            let held = SetOnDrop(rec.future_dropped.clone());
            let result = rec.result_dropped.clone();
            let in_doubt = rec.in_doubt.then(|| InDoubt {
                what: "consume",
                id_name: "trackingId",
                id: format!("stress-{}", rec.n),
            });
            let make = move |_client| {
                built.built.store(true, Ordering::SeqCst);
                async move {
                    let _held = held;
                    match kind {
                        Kind::Yield => tokio::task::yield_now().await,
                        Kind::Sleep(us) => tokio::time::sleep(Duration::from_micros(us)).await,
                        Kind::OffRuntime(us) => {
                            let _ = tokio::task::spawn_blocking(move || {
                                std::thread::sleep(Duration::from_micros(us))
                            })
                            .await;
                        }
                        Kind::Pending => std::future::pending::<()>().await,
                        Kind::Fail => {
                            return Err(Error::new(ErrorKind::Network, "stress: failed"));
                        }
                        Kind::Ready | Kind::Token => {}
                    }
                    Ok(Payload::new(SetOnDrop(result)))
                }
            };
            // SAFETY: as above.
            match unsafe { start_in_doubt(client, &call, Some(on_done), ud, out, in_doubt, make) } {
                Ok(()) => MSSTORE_OK,
                Err(e) => e,
            }
        }
    };
    let blocking = rec.mode == msstore_completion_mode::MSSTORE_COMPLETION_BLOCKING;
    let accepted = if blocking {
        // The callback ran before the start returned, or the op was never created.
        rec.calls.load(Ordering::SeqCst) == 1
    } else {
        r == MSSTORE_OK
    };
    rec.accepted
        .store(if accepted { 1 } else { 2 }, Ordering::SeqCst);
    if blocking && accepted && r as i32 != rec.code() {
        rec.fault(format!(
            "BLOCKING start returned {r:?}, callback got {}",
            rec.code()
        ));
    }
    r
}

/// A worker's job: cancel and/or free an op at a moment.
struct Job {
    rec: Arc<Rec>,
    op: usize,
    at: Instant,
}

fn worker(jobs: Arc<Mutex<mpsc::Receiver<Job>>>) {
    loop {
        let job = match jobs.lock().unwrap_or_else(|p| p.into_inner()).recv() {
            Ok(j) => j,
            Err(_) => return,
        };
        let op = job.op as *mut msstore_op;
        let rec = &job.rec;
        if let Some(d) = job.at.checked_duration_since(Instant::now()) {
            std::thread::sleep(d);
        }
        if matches!(rec.cancel, Cancel::Later(_)) {
            let r = msstore_op_cancel(op);
            let freed_by_cb = rec.free == Free::InCallback && r == MSSTORE_E_INVALID_HANDLE;
            if r != MSSTORE_OK && !freed_by_cb {
                rec.fault(format!("cancel: {r:?}"));
            }
        }
        if rec.free == Free::Worker {
            let w = msstore_op_wait(op, 20_000);
            if w == MSSTORE_E_PENDING {
                rec.fault("still pending after 20 s".into());
            }
            let r = msstore_op_free(op);
            if r != MSSTORE_OK {
                rec.fault(format!("worker free: {r:?}"));
            }
        }
    }
}

/// The modes a test mixes.
fn plan(
    rng: &mut fastrand::Rng,
    n: usize,
    modes: &[msstore_completion_mode],
    freed: &Arc<AtomicBool>,
) -> Arc<Rec> {
    use msstore_completion_mode::*;
    let mode = modes[rng.usize(..modes.len())];
    let blocking = mode == MSSTORE_COMPLETION_BLOCKING;
    let kind = match rng.u32(..100) {
        0..=14 => Kind::Ready,
        15..=24 => Kind::Yield,
        25..=49 => Kind::Sleep(rng.u64(0..3000)),
        50..=59 => Kind::OffRuntime(rng.u64(0..1000)),
        60..=79 => Kind::Pending,
        80..=91 => Kind::Fail,
        _ => Kind::Token,
    };
    // A BLOCKING caller cannot cancel: what never ends by itself needs a timeout.
    // BLOCKING: every op gets one (it may wait behind QUEUED ops that never end).
    let timeout_ms = if rng.u32(..100) < 35 || blocking {
        rng.u32(1..25)
    } else {
        0
    };
    let cancel = if blocking {
        if rng.bool() {
            Cancel::AtOnce
        } else {
            Cancel::No
        }
    } else {
        match rng.u32(..100) {
            0..=34 => Cancel::No,
            35..=59 => Cancel::AtOnce,
            _ => Cancel::Later(rng.u64(0..4000)),
        }
    };
    let free = match rng.u32(..100) {
        0..=19 => Free::NoHandle,
        20..=39 if !matches!(cancel, Cancel::Later(_)) => Free::AtOnce,
        40..=59 if !blocking => Free::Worker,
        60..=74 => Free::InCallback,
        _ => Free::AtEnd,
    };
    let follow = (rng.u32(..100) < 10).then(|| {
        let m = if modes.contains(&MSSTORE_COMPLETION_QUEUED) && rng.bool() {
            MSSTORE_COMPLETION_QUEUED
        } else {
            MSSTORE_COMPLETION_IMMEDIATE
        };
        new_rec(
            n + 1_000_000,
            m,
            Kind::Ready,
            0,
            false,
            Cancel::No,
            Free::NoHandle,
            false,
            None,
            freed,
        )
    });
    let in_doubt = !matches!(kind, Kind::Token) && rng.u32(..100) < 40;
    let take_error = rng.u32(..100) < 30;
    new_rec(
        n, mode, kind, timeout_ms, in_doubt, cancel, free, take_error, follow, freed,
    )
}

#[allow(clippy::too_many_arguments)]
fn new_rec(
    n: usize,
    mode: msstore_completion_mode,
    kind: Kind,
    timeout_ms: u32,
    in_doubt: bool,
    cancel: Cancel,
    free: Free,
    take_error: bool,
    follow: Option<Arc<Rec>>,
    freed: &Arc<AtomicBool>,
) -> Arc<Rec> {
    Arc::new(Rec {
        n,
        mode,
        kind,
        timeout_ms,
        in_doubt,
        cancel,
        free,
        take_error,
        follow,
        client: AtomicUsize::new(0),
        round_freed: freed.clone(),
        calls: AtomicU32::new(0),
        code: AtomicI32::new(-1),
        accepted: AtomicU8::new(0),
        built: AtomicBool::new(false),
        built_at_callback: AtomicBool::new(false),
        future_dropped: Arc::new(AtomicBool::new(false)),
        result_dropped: Arc::new(AtomicBool::new(false)),
        error_id: AtomicUsize::new(0),
        op_id: AtomicUsize::new(0),
        op_weak: Mutex::new(Weak::new()),
        faults: Mutex::new(Vec::new()),
    })
}

/// Starts its share of the round's ops; returns the handles left for the end.
fn starter(
    recs: Vec<Arc<Rec>>,
    jobs: mpsc::Sender<Job>,
    started: Arc<AtomicUsize>,
) -> Vec<(Arc<Rec>, usize)> {
    let mut at_end = Vec::new();
    for rec in recs {
        let mut op: *mut msstore_op = std::ptr::null_mut();
        let out = if rec.free == Free::NoHandle {
            std::ptr::null_mut()
        } else {
            &mut op as *mut *mut msstore_op
        };
        // SAFETY: the rec lives to the end of the round, `out` is NULL or a writable local.
        let r = unsafe { start_op(&rec, out) };
        started.fetch_add(1, Ordering::SeqCst);
        let blocking = rec.mode == msstore_completion_mode::MSSTORE_COMPLETION_BLOCKING;
        if op.is_null() {
            if rec.free != Free::NoHandle && rec.accepted.load(Ordering::SeqCst) == 1 {
                rec.fault(format!("accepted ({r:?}) without writing out_op"));
            }
            continue;
        }
        if !blocking && r != MSSTORE_OK {
            rec.fault(format!("rejected ({r:?}) but out_op was written"));
        }
        if rec.cancel == Cancel::AtOnce {
            let r = msstore_op_cancel(op);
            let freed_by_cb = rec.free == Free::InCallback && r == MSSTORE_E_INVALID_HANDLE;
            if r != MSSTORE_OK && !freed_by_cb {
                rec.fault(format!("cancel: {r:?}"));
            }
        }
        match rec.free {
            Free::AtOnce => {
                let r = msstore_op_free(op);
                if r != MSSTORE_OK {
                    rec.fault(format!("free: {r:?}"));
                }
            }
            Free::AtEnd => at_end.push((rec.clone(), op as usize)),
            _ => {}
        }
        if let Cancel::Later(us) = rec.cancel {
            let at = Instant::now() + Duration::from_micros(us);
            let _ = jobs.send(Job {
                rec: rec.clone(),
                op: op as usize,
                at,
            });
        } else if rec.free == Free::Worker {
            let _ = jobs.send(Job {
                rec: rec.clone(),
                op: op as usize,
                at: Instant::now(),
            });
        }
    }
    at_end
}

fn new_client(url: &str, cap: u32) -> *mut msstore_client {
    let url = CString::new(url).expect("url");
    let text = CString::new("00000000-0000-0000-0000-000000000001").expect("id");
    let secret = CString::new("not-a-real-secret").expect("secret");
    // SAFETY: all-zero is a valid options struct; init fills it right below.
    let mut o: msstore_client_options = unsafe { std::mem::zeroed() };
    // SAFETY: `o` is writable.
    assert_eq!(unsafe { msstore_client_options_init(&mut o) }, MSSTORE_OK);
    o.emulator_base_url = url.as_ptr();
    o.tenant_id = text.as_ptr();
    o.client_id = text.as_ptr();
    o.client_secret = secret.as_ptr();
    o.completion_mode = msstore_completion_mode::MSSTORE_COMPLETION_QUEUED as i32;
    o.max_connections_per_host = cap;
    let mut client = std::ptr::null_mut();
    // SAFETY: `o` is initialised, its strings outlive the call, `client` is writable.
    let r = unsafe { msstore_client_new(&o, &mut client, std::ptr::null_mut()) };
    assert_eq!(r, MSSTORE_OK);
    client
}

/// Waits up to 5 s for `f` to hold.
fn eventually(f: impl Fn() -> bool) -> bool {
    let end = Instant::now() + Duration::from_secs(5);
    while !f() {
        if Instant::now() > end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    true
}

/// One round: a client, `OPS_PER_ROUND` ops (plus follow-ups) from `STARTERS` threads, a
/// poller (QUEUED, most rounds), cancel/free workers, and a client free when `kill_at` ops
/// have started. Returns the faults found and the ops that were accepted.
fn round(
    seed: u64,
    modes: &[msstore_completion_mode],
    server: &StallServer,
    watch: &Watch,
) -> (Vec<String>, Vec<i32>) {
    let mut rng = fastrand::Rng::with_seed(seed);
    let freed = Arc::new(AtomicBool::new(false));
    let cap = rng.u32(1..=4);
    let client = new_client(&server.url, cap);
    let recs: Vec<Arc<Rec>> = (0..OPS_PER_ROUND)
        .map(|n| plan(&mut rng, n, modes, &freed))
        .collect();
    for r in &recs {
        r.client.store(client as usize, Ordering::SeqCst);
    }
    watch.begin(seed, &recs);
    let kill_at = if rng.bool() {
        OPS_PER_ROUND
    } else {
        rng.usize(0..OPS_PER_ROUND)
    };
    let kill_delay = Duration::from_micros(rng.u64(0..20_000));
    let shutdown_first = rng.bool();
    let polling =
        modes.contains(&msstore_completion_mode::MSSTORE_COMPLETION_QUEUED) && rng.u32(..100) < 80;
    let poll_batch = rng.usize(0..3);

    let (tx, rx) = mpsc::channel::<Job>();
    let rx = Arc::new(Mutex::new(rx));
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let rx = rx.clone();
            std::thread::spawn(move || worker(rx))
        })
        .collect();
    let stop_poll = Arc::new(AtomicBool::new(false));
    let poller = polling.then(|| {
        let stop = stop_poll.clone();
        let c = client as usize;
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                let c = c as *mut msstore_client;
                if msstore_client_poll(c, poll_batch) < 0 {
                    return; // the client is freed
                }
                msstore_client_wait(c, 2);
            }
        })
    });
    let started = Arc::new(AtomicUsize::new(0));
    let starters: Vec<_> = (0..STARTERS)
        .map(|i| {
            let mine: Vec<_> = recs.iter().skip(i).step_by(STARTERS).cloned().collect();
            let tx = tx.clone();
            let started = started.clone();
            std::thread::spawn(move || starter(mine, tx, started))
        })
        .collect();
    drop(tx);

    // The kill: wait for `kill_at` starts (bounded), then free the client mid-flight.
    let end = Instant::now() + Duration::from_secs(20);
    while started.load(Ordering::SeqCst) < kill_at && Instant::now() < end {
        std::thread::sleep(Duration::from_micros(200));
    }
    // Every BLOCKING op has a timeout and nothing else blocks a starter: 20 s is a stall.
    let stalled = started.load(Ordering::SeqCst) < kill_at;
    std::thread::sleep(kill_delay);
    if shutdown_first {
        assert_eq!(msstore_client_shutdown(client), MSSTORE_OK);
    }
    watch.phase("msstore_client_free");
    assert_eq!(msstore_client_free(client), MSSTORE_OK);
    freed.store(true, Ordering::SeqCst);
    watch.phase("joining the starters");

    let mut at_end = Vec::new();
    for s in starters {
        at_end.extend(s.join().expect("starter panicked"));
    }
    watch.phase("joining the workers");
    for w in workers {
        w.join().expect("worker panicked");
    }
    stop_poll.store(true, Ordering::SeqCst);
    watch.phase("joining the poller");
    if let Some(p) = poller {
        p.join().expect("poller panicked");
    }
    for (rec, op) in &at_end {
        let op = *op as *mut msstore_op;
        let s = msstore_op_status(op);
        if s as i32 != rec.code() {
            rec.fault(format!(
                "status {s:?} after the end, callback got {}",
                rec.code()
            ));
        }
        let r = msstore_op_free(op);
        if r != MSSTORE_OK {
            rec.fault(format!("free at the end: {r:?}"));
        }
    }

    let mut all: Vec<Arc<Rec>> = recs.clone();
    all.extend(recs.iter().filter_map(|r| r.follow.clone()));
    let mut codes = Vec::new();
    for rec in &all {
        check(rec);
        if rec.accepted.load(Ordering::SeqCst) == 1 {
            codes.push(rec.code());
        }
    }
    let stall = stalled.then(|| {
        format!(
            "starters stalled: {} of {kill_at} started in 20 s",
            started.load(Ordering::SeqCst)
        )
    });
    let faults = stall
        .into_iter()
        .chain(
            all.iter()
                .flat_map(|r| r.faults.lock().unwrap_or_else(|p| p.into_inner()).clone()),
        )
        .map(|f| format!("seed {seed}: {f}"))
        .collect();
    (faults, codes)
}

/// What must hold for one op once its round ended.
fn check(rec: &Rec) {
    let calls = rec.calls.load(Ordering::SeqCst);
    let accepted = rec.accepted.load(Ordering::SeqCst);
    let want = u32::from(accepted == 1);
    if accepted == 0 && rec.n < 1_000_000 {
        rec.fault("never started".into());
    }
    if calls != want {
        rec.fault(format!("{calls} callbacks, accepted = {accepted}"));
    }
    if calls != 1 {
        return;
    }
    let code = rec.code();
    let interrupted = [
        MSSTORE_E_CANCELED,
        MSSTORE_E_TIMEOUT,
        MSSTORE_E_SHUTTING_DOWN,
    ]
    .map(|c| c as i32);
    let verdicts = [MSSTORE_OK as i32, code_of(ErrorKind::Network) as i32];
    let unknown = MSSTORE_E_CONSUME_OUTCOME_UNKNOWN as i32;
    let built = rec.built.load(Ordering::SeqCst);
    let ok = match rec.kind {
        Kind::Token => interrupted.contains(&code) || code == code_of(ErrorKind::Network) as i32,
        _ if !built => interrupted.contains(&code),
        // Sent (as far as this layer knows): an interruption is no verdict.
        _ if rec.in_doubt => verdicts.contains(&code) || code == unknown,
        _ => verdicts.contains(&code) || interrupted.contains(&code),
    };
    if !ok {
        rec.fault(format!(
            "unexpected code {code} (future built: {built}, when its callback ran: {})",
            rec.built_at_callback.load(Ordering::SeqCst)
        ));
    }
    if matches!(rec.kind, Kind::Pending) && verdicts.contains(&code) {
        rec.fault(format!("a never-ending future completed with {code}"));
    }
    if code == MSSTORE_OK as i32 && !eventually(|| rec.result_dropped.load(Ordering::SeqCst)) {
        rec.fault("its result was never freed".into());
    }
    let weak = rec
        .op_weak
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    if !eventually(|| weak.strong_count() == 0) {
        rec.fault(format!(
            "the op object leaked ({} strong refs)",
            weak.strong_count()
        ));
    }
    let id = rec.op_id.load(Ordering::SeqCst);
    if handles::get(id as *const msstore_op).is_ok() {
        rec.fault("its handle is still live".into());
    }
    let e = rec.error_id.load(Ordering::SeqCst);
    if e != 0 && handles::get(e as *const msstore_error).is_ok() {
        rec.fault("its error handle is still live".into());
    }
    if !matches!(rec.kind, Kind::Token) && !eventually(|| rec.future_dropped.load(Ordering::SeqCst))
    {
        rec.fault("its future (or unstarted closure) was never dropped".into());
    }
}

/// What the watchdog reports when a round hangs.
#[derive(Default)]
struct Watch {
    state: Mutex<Watched>,
}

/// The round in progress: its seed, what it is doing, since when, and its ops.
#[derive(Default)]
struct Watched {
    seed: u64,
    phase: &'static str,
    since: Option<Instant>,
    recs: Vec<Arc<Rec>>,
}

impl Watch {
    fn begin(&self, seed: u64, recs: &[Arc<Rec>]) {
        *self.state.lock().unwrap_or_else(|p| p.into_inner()) = Watched {
            seed,
            phase: "starting",
            since: Some(Instant::now()),
            recs: recs.to_vec(),
        };
    }

    fn phase(&self, what: &'static str) {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).phase = what;
    }

    /// Aborts the process (the test fails, it does not hang) when a round runs past `bound`,
    /// after writing what is stuck to stderr directly (the harness's capture would lose it).
    fn check(&self, bound: Duration) {
        use std::io::Write;
        let st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let Some(t) = st.since else { return };
        if t.elapsed() < bound {
            return;
        }
        let mut err = std::io::stderr().lock();
        let _ = writeln!(
            err,
            "lifecycle stress hung: seed {} at {} after {bound:?}",
            st.seed, st.phase
        );
        for r in st
            .recs
            .iter()
            .filter(|r| r.calls.load(Ordering::SeqCst) == 0)
        {
            let _ = writeln!(
                err,
                "  op {} {:?} {:?} timeout {} in_doubt {} {:?} {:?} accepted {} built {}",
                r.n,
                r.mode,
                r.kind,
                r.timeout_ms,
                r.in_doubt,
                r.cancel,
                r.free,
                r.accepted.load(Ordering::SeqCst),
                r.built.load(Ordering::SeqCst)
            );
        }
        let _ = err.flush();
        std::process::abort();
    }
}

static PANICS: AtomicUsize = AtomicUsize::new(0);

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

fn stress(modes: &[msstore_completion_mode], salt: u64) {
    let exclusive = std::env::var("MSSTORE_STRESS_EXCLUSIVE").is_ok_and(|v| v == "1");
    if exclusive {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.fetch_add(1, Ordering::SeqCst);
            previous(info);
        }));
    }
    let base = env_u64("MSSTORE_STRESS_SEED").unwrap_or(0x5eed) ^ salt;
    let rounds = env_u64("MSSTORE_STRESS_ROUNDS").unwrap_or(12);
    // The test fails rather than hangs: a generous bound per round.
    let done = Arc::new(AtomicBool::new(false));
    let watch = Arc::new(Watch::default());
    let watchdog = {
        let done = done.clone();
        let watch = watch.clone();
        std::thread::spawn(move || {
            while !done.load(Ordering::SeqCst) {
                watch.check(Duration::from_secs(60));
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let server = StallServer::start();
    let live_before = handles::count();
    let t0 = Instant::now();
    let mut faults = Vec::new();
    let mut codes = std::collections::BTreeMap::<i32, usize>::new();
    for r in 0..rounds {
        let seed = base.wrapping_add(r);
        let (f, n) = round(seed, modes, &server, &watch);
        faults.extend(f);
        for c in n {
            *codes.entry(c).or_default() += 1;
        }
    }
    done.store(true, Ordering::SeqCst);
    watchdog.join().expect("watchdog");
    let ops: usize = codes.values().sum();
    println!(
        "lifecycle stress {modes:?}: {rounds} rounds, {ops} operations accepted, {:?}, base seed {base}, by code: {codes:?}",
        t0.elapsed()
    );
    for f in faults.iter().take(30) {
        eprintln!("{f}");
    }
    assert!(
        faults.is_empty(),
        "{} faults (first ones above)",
        faults.len()
    );
    if exclusive {
        assert!(
            eventually(|| handles::count() == live_before),
            "live handles {} before, {} after",
            live_before,
            handles::count()
        );
        assert_eq!(PANICS.load(Ordering::SeqCst), 0, "a panic happened");
    }
}

#[test]
fn lifecycle_stress_queued() {
    stress(&[msstore_completion_mode::MSSTORE_COMPLETION_QUEUED], 1);
}

#[test]
fn lifecycle_stress_immediate() {
    stress(&[msstore_completion_mode::MSSTORE_COMPLETION_IMMEDIATE], 2);
}

#[test]
fn lifecycle_stress_blocking() {
    stress(&[msstore_completion_mode::MSSTORE_COMPLETION_BLOCKING], 3);
}

#[test]
fn lifecycle_stress_inline() {
    stress(&[msstore_completion_mode::MSSTORE_COMPLETION_INLINE], 5);
}

#[test]
fn lifecycle_stress_mixed() {
    use msstore_completion_mode::*;
    stress(
        &[
            MSSTORE_COMPLETION_QUEUED,
            MSSTORE_COMPLETION_IMMEDIATE,
            MSSTORE_COMPLETION_BLOCKING,
            MSSTORE_COMPLETION_INLINE,
        ],
        4,
    );
}

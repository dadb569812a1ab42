//! msstore through its C ABI, driven the way a C caller drives it: option structs of C
//! strings, a C callback and opaque user data (here: the caller's slot number). Three modes:
//! QUEUED (callbacks run by `msstore_client_poll` on one "game thread" that polls in a loop)
//! and IMMEDIATE or INLINE (callbacks run on library threads, or on the worker that finished
//! the call, and start the next operation from there).
//!
//! One cell runs per process, so the callback's context is a process-wide `OnceLock`.

use crate::load::Window;
use crate::stats::{Recorder, Summary};
use crate::workload::{Workload, World};
use msstore::driver::{key_c_string, CClient, CClientConfig, CConsume, CQuery};
use msstore::driver::{msstore_completion_mode, msstore_op, msstore_result};
use std::ffi::{c_void, CString};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// A QUEUED-mode C client's configuration for `world`, with the runtime's default threads.
pub fn queued_config(world: &World) -> CClientConfig<'_> {
    config(world, msstore_completion_mode::MSSTORE_COMPLETION_QUEUED)
}

/// A C client's configuration for `world` in completion `mode`, with the default threads.
fn config(world: &World, mode: msstore_completion_mode) -> CClientConfig<'_> {
    CClientConfig {
        emulator_base_url: &world.base_url,
        tenant_id: &world.tenant_id,
        client_id: &world.client_id,
        client_secret: &world.client_secret,
        completion_mode: mode,
        worker_threads: 0,
        extra_root_cert_pem: world.tls_cert_pem.as_deref(),
        initial_connections_per_host: None,
    }
}

struct Ctx {
    client: CClient,
    workload: Workload,
    queries: Vec<CQuery>,
    consume: CConsume,
    renew_key: CString,
    /// Start time of the operation running in each caller slot (ns since `base`).
    slots: Vec<AtomicU64>,
    base: Instant,
    next: AtomicU64,
    window: Option<Window>,
    /// Cold start: record every operation against `base`, never restart.
    burst: bool,
    rec: Recorder,
    /// Caller slots that stopped (their last operation called back, or a start failed): the
    /// IMMEDIATE driver sleeps on `all_stopped` until every slot did, instead of polling.
    stopped: Mutex<usize>,
    all_stopped: Condvar,
}

static CTX: OnceLock<Ctx> = OnceLock::new();

impl Ctx {
    fn start(&self, slot: usize) {
        if let Some(w) = &self.window {
            if w.over() {
                return self.stop();
            }
        }
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let started = self.base.elapsed().as_nanos() as u64;
        self.slots[slot].store(started, Ordering::Relaxed);
        let r = match self.workload {
            Workload::Query10 | Workload::ColdStart => {
                self.client.query(&self.queries[0], Some(on_done), slot)
            }
            Workload::Query500 => {
                let q = &self.queries[(n as usize) % self.queries.len()];
                self.client.query(q, Some(on_done), slot)
            }
            Workload::Consume => self.client.consume(&self.consume, Some(on_done), slot),
            Workload::Renew => self.client.renew_key(&self.renew_key, Some(on_done), slot),
        };
        if r != msstore_result::MSSTORE_OK {
            self.rec.error(|| format!("start failed: {r:?}"));
            self.stop();
        }
    }

    /// A caller slot stopped for good.
    fn stop(&self) {
        let mut n = self.stopped.lock().unwrap_or_else(|p| p.into_inner());
        *n += 1;
        if *n == self.slots.len() {
            self.all_stopped.notify_all();
        }
    }

    /// Blocks until every caller slot stopped (no wake-up before that).
    fn wait_all_stopped(&self) {
        let mut n = self.stopped.lock().unwrap_or_else(|p| p.into_inner());
        while *n < self.slots.len() {
            n = self.all_stopped.wait(n).unwrap_or_else(|p| p.into_inner());
        }
    }
}

/// The completion callback (a safe fn; it coerces to the C callback type).
extern "C" fn on_done(user_data: *mut c_void, code: msstore_result, _op: *mut msstore_op) {
    let Some(ctx) = CTX.get() else { return };
    let slot = user_data as usize;
    let started = ctx.base + Duration::from_nanos(ctx.slots[slot].load(Ordering::Relaxed));
    if code != msstore_result::MSSTORE_OK {
        ctx.rec.error(|| format!("callback: {code:?}"));
    } else if ctx.burst {
        ctx.rec.ok(ctx.base);
    } else if ctx.window.as_ref().is_some_and(|w| w.record(slot)) {
        ctx.rec.ok(started);
    }
    if ctx.burst {
        ctx.stop();
    } else {
        ctx.start(slot);
    }
}

pub fn run(
    world: &World,
    mode: msstore_completion_mode,
    w: Workload,
    concurrency: usize,
    window: Window,
) -> Result<Summary, String> {
    let err = |what: &'static str| move |c: msstore_result| format!("{what}: {c:?}");
    let client = CClient::new(&config(world, mode)).map_err(err("msstore_client_new"))?;
    let queries = match w {
        Workload::Query500 => (0..5u64)
            .map(|c| query_of(world, w, c))
            .collect::<Result<Vec<_>, _>>()?,
        _ => vec![query_of(world, w, 0)?],
    };
    let burst = w == Workload::ColdStart;
    let callers = if burst {
        world.cold_callers
    } else {
        concurrency
    };
    let ctx = Ctx {
        client,
        workload: w,
        queries,
        consume: CConsume::new(&world.consume_key, &world.consume_product, 1)
            .map_err(err("consume options"))?,
        renew_key: key_c_string(&world.renew_key).map_err(err("key"))?,
        slots: (0..callers).map(|_| AtomicU64::new(0)).collect(),
        base: Instant::now(),
        next: AtomicU64::new(0),
        window: (!burst).then(|| window.clone()),
        burst,
        rec: Recorder::new(),
        stopped: Mutex::new(0),
        all_stopped: Condvar::new(),
    };
    CTX.set(ctx)
        .map_err(|_| "one C ABI cell per process".to_string())?;
    let ctx = CTX.get().ok_or("context")?;
    let t0 = Instant::now();
    for slot in 0..callers {
        if let Some(w) = &ctx.window {
            w.wait_first_start(slot);
        }
        ctx.start(slot);
    }
    let peak_in_flight = ctx.client.pending() as u64;
    // The "service thread" that owns completions: QUEUED blocks in `msstore_client_wait` until
    // a completion is ready, then polls (no spinning: on a 2-core machine a spinning poller
    // takes a core from the library's workers and the emulator). IMMEDIATE sleeps until every
    // caller stopped: it used to poll `pending()` every 1 ms, 1,000 wake-ups a second of the
    // harness's own (24 per operation at RTT 20 ms, one caller) counted as the library's CPU.
    // (A game ticking at 60 Hz polls once per frame instead and adds up to a frame per call, a
    // property of the caller's loop, not of the library.)
    if mode == msstore_completion_mode::MSSTORE_COMPLETION_QUEUED {
        while ctx.client.pending() > 0 {
            if ctx.client.wait(100) > 0 {
                ctx.client.poll(0);
            }
        }
    } else {
        ctx.wait_all_stopped();
        // The last callback signalled before it returned.
        while ctx.client.pending() > 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    let elapsed = if burst {
        t0.elapsed()
    } else {
        window.measured()
    };
    let mut s = ctx.rec.summary(elapsed);
    s.peak_in_flight = peak_in_flight;
    Ok(s)
}

fn query_of(world: &World, w: Workload, chunk: u64) -> Result<CQuery, String> {
    let r = world.query_request(w, chunk);
    let ids: Vec<String> = r
        .product_sku_ids
        .iter()
        .map(|p| p.product_id.clone())
        .collect();
    CQuery::new(world.query_key(w), &ids, r.max_page_size)
        .map_err(|c| format!("query options: {c:?}"))
}

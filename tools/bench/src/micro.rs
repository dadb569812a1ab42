//! The benchmark's own measurement loops for two targets (criterion measures the same things
//! in `benches/micro.rs`; these give the run's report its figures without criterion):
//! decoding a Store ID key, and one C ABI round trip (start a call, get its queued callback via
//! `msstore_client_poll`).

use crate::variants::c_abi::queued_config;
use crate::workload::World;
use msstore::driver::CClient;
use msstore::driver::{msstore_op, msstore_result};
use msstore::StoreIdKey;
use std::ffi::c_void;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Mean time of one `StoreIdKey::decode`, over at least `budget`.
pub fn key_decode(key: &str, budget: Duration) -> Result<Duration, String> {
    StoreIdKey::decode(key).map_err(|e| format!("key decode: {e}"))?;
    let (mut n, t0) = (0u32, Instant::now());
    while t0.elapsed() < budget || n < 1000 {
        for _ in 0..100 {
            std::hint::black_box(StoreIdKey::decode(std::hint::black_box(key)).ok());
        }
        n += 100;
    }
    Ok(t0.elapsed() / n)
}

static CALLBACKS: AtomicU64 = AtomicU64::new(0);
static FAILED: AtomicU64 = AtomicU64::new(0);

extern "C" fn on_token(_ud: *mut c_void, code: msstore_result, _op: *mut msstore_op) {
    if code != msstore_result::MSSTORE_OK {
        FAILED.fetch_add(1, Ordering::Relaxed);
    }
    CALLBACKS.fetch_add(1, Ordering::Relaxed);
}

/// Mean time of one C ABI round trip: `msstore_client_get_token` (served from the warm cache, so no
/// network) plus polling until its QUEUED callback has run. The median of 5 batches.
pub fn ffi_round_trip(world: &World, budget: Duration) -> Result<Duration, String> {
    let client =
        CClient::new(&queued_config(world)).map_err(|c| format!("msstore_client_new: {c:?}"))?;
    let once = || -> Result<(), String> {
        let want = CALLBACKS.load(Ordering::Relaxed) + 1;
        let r = client.service_token(Some(on_token), 0);
        if r != msstore_result::MSSTORE_OK {
            return Err(format!("msstore_client_get_token: {r:?}"));
        }
        let t0 = Instant::now();
        while CALLBACKS.load(Ordering::Relaxed) < want {
            if client.poll(0) == 0 {
                std::hint::spin_loop();
            }
            if t0.elapsed() > Duration::from_secs(10) {
                return Err("no callback within 10 s".into());
            }
        }
        Ok(())
    };
    once()?; // the first call fetches the token over HTTP; the rest hit the cache
    let mut batches = Vec::new();
    for _ in 0..5 {
        let (mut n, t0) = (0u32, Instant::now());
        while t0.elapsed() < budget / 5 || n < 200 {
            once()?;
            n += 1;
        }
        batches.push(t0.elapsed() / n);
    }
    if FAILED.load(Ordering::Relaxed) > 0 {
        return Err("a token callback reported an error".into());
    }
    batches.sort();
    Ok(batches[2])
}

//! Peak memory of the client against a 1 GiB chunked response body (issue 11, section 3).
//! Prints the process's peak RSS (VmHWM, Linux) before and after one query_v9 whose answer is
//! 1 GiB of chunked body from a hostile server on 127.0.0.1, and how the call ended.
//!
//!     cargo run --release --example body_cap_rss
//!
//! With the streaming cap (`max_response_bytes`, 8 MiB by default) the peak stays near the cap
//! plus the runtime's few MB; a client that buffers the whole body peaks above 1 GiB.

#[path = "../tests/it/support_hostile/mod.rs"]
mod support_hostile;

use msstore::{Client, ClientConfig, ProductSkuId, QueryV9Request};
use std::time::{Duration, Instant};
use support_hostile::{token_reply, HostileServer, Reply};

/// `VmHWM` of /proc/self/status in KiB (0 where there is no procfs).
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let server = HostileServer::start(token_reply("3599"), Reply::Chunked(Some(1 << 30)));
    let mut config =
        ClientConfig::new("tenant", "client", "secret").with_emulator(&server.base_url);
    config.request_timeout = Duration::from_secs(300);
    config.retry.max_attempts = 1;
    let client = Client::new(config).expect("client");
    let before = peak_rss_kib();
    println!("peak RSS before: {:.1} MiB", before as f64 / 1024.0);
    let started = Instant::now();
    let req = QueryV9Request::new("eyJkey", vec![ProductSkuId::product("9NZB0T3LQH5D")]);
    let outcome = client
        .block_on(client.query_v9(req))
        .expect("not in a runtime");
    let after = peak_rss_kib();
    match outcome {
        Ok(r) => println!("query_v9 returned {} items", r.items.len()),
        Err(e) => println!("query_v9 failed: {:?}: {}", e.kind, e.message),
    }
    println!(
        "peak RSS after:  {:.1} MiB (+{:.1} MiB) in {:.2} s",
        after as f64 / 1024.0,
        after.saturating_sub(before) as f64 / 1024.0,
        started.elapsed().as_secs_f64()
    );
}

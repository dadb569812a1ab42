//! The latency proxy (`msstore-bench proxy`): this kernel has no netem, so the round trip is
//! charged here. It listens on loopback in the client namespace (where the test certificate's
//! 127.0.0.1 is valid), charges one RTT per TCP connect (the SYN/SYN-ACK a real connect costs)
//! before it dials the server across the veth pair, then delays every chunk RTT/2 in each
//! direction. Chunks are queued with their due time, so delay never limits throughput.
//! It reports how late it delivered chunks (tokio's 1 ms timer rounds every sleep up), so the
//! report can tell the round trip the network really had from the nominal one.

use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

/// Chunks delivered and their total lateness past the due time, since the proxy started.
static CHUNKS: AtomicU64 = AtomicU64::new(0);
static LATE_US: AtomicU64 = AtomicU64::new(0);

/// The proxy's counters (one JSON line per line read from stdin).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Lateness {
    pub chunks: u64,
    pub late_us: u64,
}

impl Lateness {
    /// Mean delay added past RTT/2 per chunk, ms (0 without chunks).
    pub fn mean_ms_since(&self, before: &Lateness) -> f64 {
        let n = self.chunks.saturating_sub(before.chunks);
        let us = self.late_us.saturating_sub(before.late_us);
        if n == 0 {
            0.0
        } else {
            us as f64 / n as f64 / 1000.0
        }
    }
}

/// Relays one direction: reads chunks, and writes each one `half_rtt` after it was read.
async fn relay(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, half_rtt: Duration) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
    let writer = tokio::spawn(async move {
        while let Some((due, chunk)) = rx.recv().await {
            tokio::time::sleep_until(due).await;
            let late = Instant::now().saturating_duration_since(due).as_micros() as u64;
            CHUNKS.fetch_add(1, Ordering::Relaxed);
            LATE_US.fetch_add(late, Ordering::Relaxed);
            if to.write_all(&chunk).await.is_err() {
                return;
            }
        }
        // The reader saw EOF: pass the half-close on, after the same delay.
        let _ = to.shutdown().await;
    });
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if tx
                    .send((Instant::now() + half_rtt, buf[..n].to_vec()))
                    .is_err()
                {
                    break;
                }
            }
        }
    }
    drop(tx);
    let _ = writer.await;
}

async fn connection(client: TcpStream, upstream: String, rtt: Duration) {
    // The connect's round trip: nothing the client sent is read before it is over.
    tokio::time::sleep(rtt).await;
    let Ok(server) = TcpStream::connect(&upstream).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (cr, cw) = client.into_split();
    let (sr, sw) = server.into_split();
    let half = rtt / 2;
    tokio::join!(relay(cr, sw, half), relay(sr, cw, half));
}

/// `msstore-bench proxy --listen ADDR --upstream ADDR --rtt-ms N`: prints `listening ADDR`,
/// then one [`Lateness`] line per line read from stdin; relays until stdin closes (the parent
/// is gone).
pub fn serve(listen: &str, upstream: &str, rtt: Duration) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    let listener = rt
        .block_on(TcpListener::bind(listen))
        .map_err(|e| format!("bind {listen}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let upstream = upstream.to_string();
    rt.spawn(async move {
        loop {
            if let Ok((c, _)) = listener.accept().await {
                tokio::spawn(connection(c, upstream.clone(), rtt));
            }
        }
    });
    println!("listening {addr}");
    let mut sink = String::new();
    while std::io::stdin()
        .read_line(&mut sink)
        .map(|n| n > 0)
        .unwrap_or(false)
    {
        sink.clear();
        let now = Lateness {
            chunks: CHUNKS.load(Ordering::Relaxed),
            late_us: LATE_US.load(Ordering::Relaxed),
        };
        println!(
            "{}",
            serde_json::to_string(&now).map_err(|e| e.to_string())?
        );
    }
    rt.shutdown_background();
    Ok(())
}

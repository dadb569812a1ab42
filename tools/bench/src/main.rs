//! msstore-bench: msstore (C ABI and Rust API) against the raw HTTP floor, the per-request
//! pattern of Microsoft's C# library and a libcurl C client, in one run against the bundled
//! emulator. Writes `tools/bench/results/results.md` and `tools/bench/results/throughput.svg`.
//!
//! ```sh
//! cargo run --release --bin msstore-bench            # the full run (a few minutes)
//! cargo run --release --bin msstore-bench -- --quick # shorter cells
//! cargo run --release --bin msstore-bench -- --tls   # every variant over HTTPS
//! ```
//!
//! Every cell runs in its own child process (`msstore-bench client ...`) so that its peak RSS
//! is its own; the parent hosts the emulator and reads its connection and token counters.

mod args;
mod instructions;
mod load;
mod memory;
mod micro;
mod realistic;
mod report;
mod rss;
mod runner;
mod stats;
mod variants;
mod wakeups;
mod workload;

use args::Args;

const USAGE: &str = "\
usage: msstore-bench [--network realistic|loopback] [--quick | --smoke] [--out DIR] [--variants a,b,..] [--workloads a,b,..]
                     [--concurrency 1,16,256] [--measure-ms N] [--warmup-ms N] [--no-curl] [--tls]
variants:  c-abi-queued c-abi-immediate c-abi-inline rust-api floor per-request libcurl-c
workloads: query10 query500 consume renew cold1000
realistic: [--rtt-ms 20,50] [--repeats 5] [--no-cold] [--no-spread] [--no-cpu-memory] (query10 over TLS between two network namespaces; needs root)
memory:    msstore-bench memory [--ops 10000] (RSS and heaptrack heap per waiting C ABI operation)
       msstore-bench instructions [--ops 200] [--out DIR] [--profiles DIR] (callgrind: instructions per operation, needs valgrind)
       msstore-bench wakeups [--delay-ms 20] [--concurrency 1,16] [--repeats 3] (context switches and CPU per operation, per thread: rust-api and the C ABI's two modes)";

/// `--network realistic|loopback`; without it a plain run is realistic and `--quick`,
/// `--smoke` and `--tls` (the quick regression checks) are loopback.
fn network(a: &Args) -> Result<&str, String> {
    match a.get("network") {
        Some(n @ ("realistic" | "loopback")) => Ok(n),
        Some(n) => Err(format!("--network: '{n}' is not realistic or loopback")),
        None if a.has("--quick") || a.has("--smoke") || a.has("--tls") => Ok("loopback"),
        None => Ok("realistic"),
    }
}

fn main() {
    let code = match Args::parse(std::env::args().skip(1)) {
        Err(e) => {
            eprintln!("msstore-bench: {e}\n{USAGE}");
            2
        }
        Ok(a) if a.has("--help") => {
            println!("{USAGE}");
            0
        }
        Ok(a) => {
            let r = match a.command.as_deref() {
                None | Some("run") => match network(&a) {
                    Ok("realistic") => realistic::run(&a),
                    Ok(_) => runner::run(&a),
                    Err(e) => Err(e),
                },
                Some("serve") => a
                    .req("listen")
                    .and_then(|l| realistic::serve_main(l, a.req("canned")?, a.num("threads", 2)?)),
                Some("proxy") => a.req("listen").and_then(|l| {
                    realistic::proxy_main(
                        l,
                        a.req("upstream")?,
                        std::time::Duration::from_millis(a.num("rtt-ms", 20)?),
                        a.get("timer") == Some("tokio"),
                        a.get("priority") != Some("normal"),
                    )
                }),
                Some("client") => runner::child(&a),
                Some("memory") => memory::run(&a).map(drop),
                Some("memory-child") => memory::child(&a),
                Some("instructions") => instructions::run(&a).map(drop),
                Some("instructions-client") => instructions::child(&a),
                Some("wakeups") => wakeups::run(&a),
                Some("wakeups-client") => wakeups::child(&a),
                Some(other) => Err(format!("unknown command '{other}'\n{USAGE}")),
            };
            match r {
                Ok(()) => 0,
                Err(e) => {
                    eprintln!("msstore-bench: {e}");
                    1
                }
            }
        }
    };
    std::process::exit(code);
}

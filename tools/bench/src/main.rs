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
mod load;
mod micro;
mod report;
mod rss;
mod runner;
mod stats;
mod variants;
mod workload;

use args::Args;

const USAGE: &str = "\
usage: msstore-bench [--quick | --smoke] [--out DIR] [--variants a,b,..] [--workloads a,b,..]
                     [--concurrency 1,16,256] [--measure-ms N] [--warmup-ms N] [--no-curl] [--tls]
variants:  c-abi-queued c-abi-immediate rust-api floor per-request libcurl-c
workloads: query10 query500 consume renew cold1000";

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
                None | Some("run") => runner::run(&a),
                Some("client") => runner::child(&a),
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

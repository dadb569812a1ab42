//! The client variants measured side by side; each runs in its own process (see `child`).

pub mod c_abi;
pub mod curl;
pub mod raw_http;
pub mod rust_api;

use crate::load::Window;
use crate::stats::Summary;
use crate::workload::{Workload, World};
use msstore::driver::msstore_completion_mode;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    CQueued,
    CImmediate,
    CInline,
    RustApi,
    Floor,
    PerRequest,
    Curl,
}

impl Variant {
    pub const ALL: [Variant; 7] = [
        Variant::CQueued,
        Variant::CImmediate,
        Variant::CInline,
        Variant::RustApi,
        Variant::Floor,
        Variant::PerRequest,
        Variant::Curl,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Variant::CQueued => "c-abi-queued",
            Variant::CImmediate => "c-abi-immediate",
            Variant::CInline => "c-abi-inline",
            Variant::RustApi => "rust-api",
            Variant::Floor => "floor",
            Variant::PerRequest => "per-request",
            Variant::Curl => "libcurl-c",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Variant::CQueued => "msstore C ABI, queued completion, callbacks run by a polling thread",
            Variant::CImmediate => "msstore C ABI, immediate completion on library threads",
            Variant::CInline => "msstore C ABI, inline completion on the worker that finished the call",
            Variant::RustApi => "msstore Rust API (`Client`)",
            Variant::Floor => "reqwest, identical exchanges, warm token, keep-alive pool, nothing else",
            Variant::PerRequest => {
                "Microsoft C# library pattern: new connection per request, token cache without single-flight"
            }
            Variant::Curl => "C program, libcurl easy handle reused per thread (hand-written engine integration)",
        }
    }

    pub fn parse(s: &str) -> Option<Variant> {
        Variant::ALL.into_iter().find(|v| v.name() == s)
    }

    /// Runs one cell in this (child) process. The curl variant is a separate C program and
    /// never runs here.
    pub fn run(
        self,
        world: &World,
        w: Workload,
        concurrency: usize,
        window: Window,
    ) -> Result<Summary, String> {
        use msstore_completion_mode::*;
        match self {
            Variant::CQueued => {
                c_abi::run(world, MSSTORE_COMPLETION_QUEUED, w, concurrency, window)
            }
            Variant::CImmediate => {
                c_abi::run(world, MSSTORE_COMPLETION_IMMEDIATE, w, concurrency, window)
            }
            Variant::CInline => {
                c_abi::run(world, MSSTORE_COMPLETION_INLINE, w, concurrency, window)
            }
            Variant::RustApi => rust_api::run(world, w, concurrency, window),
            Variant::Floor => {
                raw_http::run(world, raw_http::Pattern::Floor, w, concurrency, window)
            }
            Variant::PerRequest => {
                raw_http::run(world, raw_http::Pattern::PerRequest, w, concurrency, window)
            }
            Variant::Curl => Err("the libcurl variant is a C program (tools/bench/c)".into()),
        }
    }
}

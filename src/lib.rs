//! msstore: Microsoft Store Services for game servers.
//!
//! A Rust core (service tokens, Store ID keys, collections and purchase APIs) with its own tokio
//! runtime, a C ABI for engines, and a local emulator of the Store services for offline work.

pub mod claims;
pub mod emulator;
pub mod jwt;
pub mod time;

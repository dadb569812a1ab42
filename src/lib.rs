//! msstore: Microsoft Store Services for game servers.
//!
//! A Rust core (service tokens, Store ID keys, collections and purchase APIs) with its own tokio
//! runtime, a C ABI for engines, and a local emulator of the Store services for offline work.
//!
//! ```no_run
//! use msstore::{Client, ClientConfig, QueryV9Request, ProductSkuId};
//! let client = Client::new(ClientConfig::new("tenant", "client-id", "secret")).unwrap();
//! let owned = client
//!     .block_on(client.query_v9(QueryV9Request::new("<UserCollectionsId>", vec![ProductSkuId::product("9NZB0T3LQH5D")])))
//!     .unwrap();
//! ```
//!
//! The emulator the tests run against is a separate crate (`tools/emulator`, not shipped).

// `unsafe` is confined to the C ABI (src/ffi), where every block carries a SAFETY line.
#![deny(unsafe_code)]

pub mod claims;
pub mod clawback;
mod client;
pub mod collections;
pub mod config;
pub mod consume;
pub mod credential;
pub mod doctor;
pub mod error;
// The C ABI is reached through its `msstore_*` symbols, not as a Rust API.
#[allow(unsafe_code)]
mod ffi;
mod http;
mod json_write;
pub mod jwt;
pub mod key;
pub mod ledger;
mod local_file;
pub mod log;
mod outcome;
pub mod paging;
pub mod purchase;
pub mod secret;
mod service_error;
#[cfg(test)]
mod stall_server;
pub mod text;
pub mod time;
pub mod token;

pub use client::{Client, RenewedKey};
pub use collections::{
    AcquisitionType, EntitlementItem, EntitlementStatus, ProductKind, ProductSkuId, QueryPage,
    QueryResult, QueryV6Request, QueryV8Request, QueryV9Request, TrialData, UserIdentity,
};
pub use config::{
    ClientConfig, EntraVersion, RetryPolicy, DEFAULT_INITIAL_CONNECTIONS_PER_HOST,
    DEFAULT_MAX_CONNECTIONS_PER_HOST,
};
pub use consume::{
    ConsumeOutcome, ConsumeRequest, ConsumeResult, ConsumeV6Request, OrderTransaction,
};
pub use credential::{
    CertificateCredential, Credential, ManagedIdentityCredential, ProvidedToken, TokenProvider,
};
pub use error::{Error, ErrorDetails, ErrorKind, Result};
pub use key::{KeyKind, StoreIdKey};
pub use ledger::{
    ClawbackMatch, ClawbackOutcome, ClawbackState, EntryState, Ledger, LedgerConfig, LedgerConsume,
    LedgerEntry, Reconciled, Revocation, RevocationKind,
};
pub use purchase::{
    ChangeType, GrantRequest, Order, OrderLineItem, RecurrenceChangeRequest, RecurrenceItem,
    RecurrencePage, RecurrenceQueryRequest, RecurrenceState,
};
pub use secret::SecretString;
pub use text::Text;
pub use time::Timestamp;
pub use token::{AccessToken, Audience};

/// Not part of the API: safe Rust calls into the C ABI for the benchmark (`bench-driver`).
#[cfg(feature = "bench-driver")]
#[doc(hidden)]
pub use ffi::driver;

/// Not part of the API: entry points for the fuzz targets in `fuzz/` (feature `fuzzing`).
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;

/// The library version (`MAJOR.MINOR.PATCH`).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

//! Opens the store a [`LedgerConfig`] names. Each store is a Cargo feature (`sqlite`,
//! `postgres`, both on by default); naming one that was not compiled in is its own error
//! (`ErrorKind::BackendNotCompiled`), not a storage failure to retry.

use super::config::LedgerConfig;
use super::store::SqlConn;
use crate::error::{Error, ErrorKind, Result};

pub(super) fn open(config: &LedgerConfig) -> Result<Box<dyn SqlConn>> {
    if config.uses_postgres() {
        postgres(config)
    } else {
        sqlite(config)
    }
}

#[cfg(feature = "postgres")]
fn postgres(config: &LedgerConfig) -> Result<Box<dyn SqlConn>> {
    Ok(Box::new(super::postgres::PgConn::open(config)?))
}

#[cfg(not(feature = "postgres"))]
fn postgres(_: &LedgerConfig) -> Result<Box<dyn SqlConn>> {
    Err(not_compiled("postgres"))
}

#[cfg(feature = "sqlite")]
fn sqlite(config: &LedgerConfig) -> Result<Box<dyn SqlConn>> {
    Ok(Box::new(super::sqlite::SqliteConn::open(
        &config.sqlite_path,
    )?))
}

#[cfg(not(feature = "sqlite"))]
fn sqlite(_: &LedgerConfig) -> Result<Box<dyn SqlConn>> {
    Err(not_compiled("sqlite"))
}

#[cfg_attr(all(feature = "sqlite", feature = "postgres"), allow(dead_code))]
fn not_compiled(feature: &str) -> Error {
    Error::new(
        ErrorKind::BackendNotCompiled,
        format!("ledger: this build of msstore has no {feature} store (Cargo feature `{feature}`)"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whichever store is left out of the build, naming it says so with its own kind.
    #[test]
    fn a_store_left_out_of_the_build_is_its_own_error() {
        let pg = LedgerConfig::postgres("postgres://127.0.0.1:1/db", "server-1");
        let dir = std::env::temp_dir().join(format!("msstore-backend-{}", std::process::id()));
        let lite = LedgerConfig::sqlite(dir.join("l.sqlite").to_string_lossy().to_string());
        std::fs::create_dir_all(&dir).unwrap();
        for (config, compiled) in [
            (&pg, cfg!(feature = "postgres")),
            (&lite, cfg!(feature = "sqlite")),
        ] {
            match open(config) {
                Err(e) if !compiled => {
                    assert_eq!(e.kind(), ErrorKind::BackendNotCompiled, "{e}");
                    assert!(e.to_string().contains("Cargo feature"), "{e}");
                }
                // Compiled in: whatever happens (port 1 refuses), it is not "not compiled".
                Err(e) => assert_ne!(e.kind(), ErrorKind::BackendNotCompiled, "{e}"),
                Ok(_) => assert!(compiled),
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

//! Ledger settings: which database, which instance this server is, and how hard to resend.

use crate::config::refuse_nul_strings;
use crate::error::{Error, Result};
use crate::secret::SecretString;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Everything [`super::Ledger::open`] needs. JSON uses the same field names (durations in ms).
/// `Debug` never prints the PostgreSQL connection string (it may carry a password).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct LedgerConfig {
    /// SQLite file (created if missing). Used when `postgres_url` is empty.
    pub sqlite_path: String,
    /// `postgres://user:password@127.0.0.1:5432/db`: a ledger shared by a fleet of servers
    /// (no TLS: loopback or a private network only). Takes precedence over `sqlite_path`.
    pub postgres_url: SecretString,
    /// This server's stable name. Entries a server handed to its game are claimed under it;
    /// after a restart the same name takes them back at once, another server only once the
    /// lease ran out. Required (unique per server) with PostgreSQL; defaults to `local`.
    pub instance_id: String,
    /// How long a claim on an entry lasts without being renewed or acknowledged.
    #[serde(with = "millis")]
    pub claim_lease: Duration,
    /// Consume sends per call before leaving an entry pending for the next reconcile (each
    /// send includes the client's own retries).
    pub send_rounds: u32,
    /// Wait before the second send; doubles for each further one.
    #[serde(with = "millis")]
    pub resend_delay: Duration,
    /// Entries a reconcile claims per database transaction (it loops until none are left), so
    /// that servers reconciling together share the work.
    pub reconcile_batch: u32,
    /// Closed entries (completed or failed) older than this many days are deleted, except
    /// those that drew from order lines (clawback matching needs them; they hold no key).
    /// 0 (the default) keeps them. See `retention.rs` for what is kept.
    pub retention_days: u32,
    /// PostgreSQL: the most opening a connection (TCP and start-up) may take.
    #[serde(with = "millis")]
    pub pg_connect_timeout: Duration,
    /// PostgreSQL: the server's `statement_timeout`, and the client-side bound on each ledger
    /// transaction (waiting for the connection and re-opening it included): a stalled server
    /// costs a caller at most this, then a `Timeout` error.
    #[serde(with = "millis")]
    pub pg_statement_timeout: Duration,
    /// PostgreSQL: idle time before TCP keepalive probes start on the connection.
    #[serde(with = "millis")]
    pub pg_keepalive_idle: Duration,
}

impl Default for LedgerConfig {
    fn default() -> Self {
        LedgerConfig {
            sqlite_path: "msstore-ledger.sqlite".into(),
            postgres_url: SecretString::default(),
            instance_id: String::new(),
            claim_lease: Duration::from_secs(300),
            send_rounds: 3,
            resend_delay: Duration::from_millis(500),
            reconcile_batch: 32,
            retention_days: 0,
            pg_connect_timeout: Duration::from_secs(5),
            pg_statement_timeout: Duration::from_secs(5),
            pg_keepalive_idle: Duration::from_secs(10),
        }
    }
}

impl LedgerConfig {
    pub fn sqlite(path: impl Into<String>) -> LedgerConfig {
        LedgerConfig {
            sqlite_path: path.into(),
            ..LedgerConfig::default()
        }
    }

    pub fn postgres(url: impl Into<SecretString>, instance_id: &str) -> LedgerConfig {
        LedgerConfig {
            postgres_url: url.into(),
            instance_id: instance_id.to_string(),
            ..LedgerConfig::default()
        }
    }

    /// A string with an embedded NUL is refused here already, as in [`LedgerConfig::validate`].
    pub fn from_json(json: &str) -> Result<LedgerConfig> {
        let config: LedgerConfig = serde_json::from_str(json)
            .map_err(|e| Error::configuration(format!("invalid JSON ledger configuration: {e}")))?;
        refuse_nul_strings(&config, "ledger.")?;
        Ok(config)
    }

    /// `MSSTORE_LEDGER_PATH`, `MSSTORE_LEDGER_POSTGRES_URL`, `MSSTORE_LEDGER_INSTANCE` over `self`.
    pub fn merge_env(mut self) -> LedgerConfig {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        if let Some(v) = var("MSSTORE_LEDGER_PATH") {
            self.sqlite_path = v;
        }
        if let Some(v) = var("MSSTORE_LEDGER_POSTGRES_URL") {
            self.postgres_url = v.into();
        }
        if let Some(v) = var("MSSTORE_LEDGER_INSTANCE") {
            self.instance_id = v;
        }
        self
    }

    pub fn uses_postgres(&self) -> bool {
        !self.postgres_url.is_empty()
    }

    /// The instance id to use (`local` for SQLite when unset).
    pub(crate) fn instance(&self) -> Result<String> {
        let id = self.instance_id.trim();
        if id.is_empty() {
            if self.uses_postgres() {
                return Err(Error::configuration(
                    "ledger instance_id is required with PostgreSQL: give each game server its own stable name",
                ));
            }
            return Ok("local".into());
        }
        if id.len() > 200 {
            return Err(Error::configuration("ledger instance_id is too long"));
        }
        Ok(id.to_string())
    }

    pub fn validate(&self) -> Result<()> {
        refuse_nul_strings(self, "ledger.")?;
        self.instance()?;
        if !self.uses_postgres() && self.sqlite_path.trim().is_empty() {
            return Err(Error::configuration(
                "ledger: set sqlite_path or postgres_url",
            ));
        }
        if self.uses_postgres() {
            let u = self.postgres_url.expose();
            if !(u.starts_with("postgres://")
                || u.starts_with("postgresql://")
                || u.contains("host="))
            {
                return Err(Error::configuration(
                    "ledger postgres_url must be a postgres:// URL or a key=value connection string",
                ));
            }
            refuse_tls_modes(u)?;
            for (name, d) in [
                ("pg_connect_timeout", self.pg_connect_timeout),
                ("pg_statement_timeout", self.pg_statement_timeout),
                ("pg_keepalive_idle", self.pg_keepalive_idle),
            ] {
                if d < Duration::from_millis(100) || d > Duration::from_secs(3600) {
                    return Err(Error::configuration(format!(
                        "ledger {name} must be 100 ms ..= 1 hour"
                    )));
                }
            }
        }
        if self.retention_days > 100 * 365 {
            return Err(Error::configuration(
                "ledger retention_days must be at most 36500 (0 keeps entries)",
            ));
        }
        if self.claim_lease < Duration::from_millis(100) {
            return Err(Error::configuration(
                "ledger claim_lease must be at least 100 ms",
            ));
        }
        if self.reconcile_batch == 0 {
            return Err(Error::configuration(
                "ledger reconcile_batch must be at least 1",
            ));
        }
        if self.send_rounds == 0 || self.send_rounds > 100 {
            return Err(Error::configuration("ledger send_rounds must be 1..=100"));
        }
        Ok(())
    }
}

/// This build has no TLS for PostgreSQL (see Cargo.toml), so a URL that asks for it, even
/// `prefer` (which would fall back to plain text without a word), is refused rather than run
/// unencrypted. Only `sslmode=disable` (or no `sslmode`) is accepted.
fn refuse_tls_modes(url: &str) -> Result<()> {
    let params: Vec<&str> = if url.contains("://") {
        url.split_once('?')
            .map_or(Vec::new(), |(_, q)| q.split('&').collect())
    } else {
        url.split_whitespace().collect()
    };
    for p in params {
        let Some((k, v)) = p.split_once('=') else {
            continue;
        };
        let v = v.trim().trim_matches('\'');
        if k.trim().eq_ignore_ascii_case("sslmode") && !v.eq_ignore_ascii_case("disable") {
            return Err(Error::configuration(format!(
                "ledger postgres_url asks for sslmode={v}, but this build has no TLS for PostgreSQL: \
                 use sslmode=disable on loopback or a private network"
            )));
        }
    }
    Ok(())
}

mod millis {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_needs_an_instance_and_hides_its_url() {
        let c = LedgerConfig::postgres("postgres://u:hunter2@127.0.0.1/db", "");
        assert_eq!(
            c.validate().unwrap_err().kind,
            crate::ErrorKind::Configuration
        );
        assert!(!format!("{c:?}").contains("hunter2"));
        LedgerConfig::postgres("postgres://127.0.0.1/db", "server-1")
            .validate()
            .unwrap();
        assert_eq!(LedgerConfig::sqlite("x.db").instance().unwrap(), "local");
        let j = LedgerConfig::from_json(r#"{"sqlite_path":"a.db","claim_lease":2000}"#).unwrap();
        assert_eq!(j.claim_lease, Duration::from_secs(2));
        assert!(LedgerConfig::from_json("{").is_err());
        let mut bad = LedgerConfig::sqlite("a.db");
        bad.send_rounds = 0;
        assert!(bad.validate().is_err());
    }

    #[test]
    fn a_nul_in_any_string_setting_is_refused() {
        let e = LedgerConfig::from_json(r#"{"sqlite_path":"a\u0000.db"}"#).unwrap_err();
        assert_eq!(e.kind, crate::ErrorKind::Configuration);
        assert_eq!(e.message, "ledger.sqlite_path contains a NUL character");
        let mut c = LedgerConfig::postgres("postgres://u:pw@127.0.0.1/db\0", "s1");
        let e = c.validate().unwrap_err();
        assert_eq!(e.message, "ledger.postgres_url contains a NUL character");
        c.postgres_url = "postgres://u:pw@127.0.0.1/db".into();
        c.validate().unwrap();
        c.instance_id = "s\0one".into();
        let e = c.validate().unwrap_err();
        assert_eq!(e.message, "ledger.instance_id contains a NUL character");
    }

    #[test]
    fn tls_modes_this_build_cannot_honour_are_refused() {
        for url in [
            "postgres://u:pw@127.0.0.1/db?sslmode=require",
            "postgres://u:pw@127.0.0.1/db?application_name=x&sslmode=verify-full",
            "postgresql://127.0.0.1/db?sslmode=prefer",
            "host=127.0.0.1 user=u sslmode=verify-ca password=pw",
            "host=127.0.0.1 sslmode='require'",
        ] {
            let err = LedgerConfig::postgres(url, "s1").validate().unwrap_err();
            assert_eq!(err.kind, crate::ErrorKind::Configuration, "{url}");
            assert!(
                err.message.contains("sslmode") && !err.message.contains("pw"),
                "{err}"
            );
        }
        for url in [
            "postgres://127.0.0.1/db",
            "postgres://127.0.0.1/db?sslmode=disable",
            "host=127.0.0.1 sslmode=disable",
        ] {
            LedgerConfig::postgres(url, "s1").validate().unwrap();
        }
    }

    #[test]
    fn timeouts_and_retention_have_defaults_json_names_and_limits() {
        let d = LedgerConfig::default();
        assert_eq!(d.pg_connect_timeout, Duration::from_secs(5));
        assert_eq!(d.pg_statement_timeout, Duration::from_secs(5));
        assert_eq!(d.pg_keepalive_idle, Duration::from_secs(10));
        assert_eq!(d.retention_days, 0);
        let j = LedgerConfig::from_json(
            r#"{"postgres_url":"postgres://127.0.0.1/db","instance_id":"s1",
                "pg_connect_timeout":1500,"pg_statement_timeout":2500,
                "pg_keepalive_idle":3000,"retention_days":120}"#,
        )
        .unwrap();
        assert_eq!(j.pg_connect_timeout, Duration::from_millis(1500));
        assert_eq!(j.pg_statement_timeout, Duration::from_millis(2500));
        assert_eq!(j.pg_keepalive_idle, Duration::from_secs(3));
        assert_eq!(j.retention_days, 120);
        j.validate().unwrap();
        let mut bad = j.clone();
        bad.pg_statement_timeout = Duration::ZERO;
        assert!(bad.validate().is_err());
        let mut bad = j;
        bad.retention_days = 40_000;
        assert!(bad.validate().is_err());
    }
}

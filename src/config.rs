//! Client configuration: credentials, endpoints, timeouts, retries and runtime size.

use crate::claims::{DEFAULT_COLLECTIONS_BASE, DEFAULT_LOGIN_BASE, DEFAULT_PURCHASE_BASE};
use crate::credential::Credential;
use crate::error::{Error, Result};
use crate::secret::SecretString;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Which Entra ID token endpoint to use: v1
/// (<https://learn.microsoft.com/en-us/previous-versions/azure/active-directory/azuread-dev/v1-oauth2-client-creds-grant-flow>)
/// or v2 (<https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow>).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntraVersion {
    /// `/oauth2/token` with `resource=`.
    V1,
    /// `/oauth2/v2.0/token` with `scope=<aud>/.default` (what the official library uses).
    #[default]
    V2,
}

/// How failed requests are retried (backoff, and the `Retry-After` of
/// <https://learn.microsoft.com/en-us/gaming/gdk/_content/gc/commerce/service-to-service/xstore-fgrl>).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RetryPolicy {
    /// Attempts in total, including the first. 1 disables retries.
    pub max_attempts: u32,
    /// First backoff delay; doubles each attempt, with jitter.
    #[serde(with = "millis")]
    pub base_delay: Duration,
    /// Cap on one backoff delay.
    #[serde(with = "millis")]
    pub max_delay: Duration,
    /// Longest `Retry-After` we are willing to wait inside one call; longer ones are returned to
    /// the caller as `Throttled` with the hint.
    #[serde(with = "millis")]
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }
}

/// Default of [`ClientConfig::max_connections_per_host`]. HTTP/1.1 carries one request per
/// connection at a time, so a host's throughput is at most `cap / round trip`: 128 held 256
/// callers to ~128/RTT (0.5x a pooled client without a cap, at 20 and 50 ms; issue 14's
/// realistic-network benchmark). 512 covers 512 concurrent callers, i.e. ~10,000 requests/s per
/// host at a 50 ms round trip, and is still a fixed bound: a burst of 10,000 operations
/// queues behind 512 sockets instead of opening 10,000 (the official library's socket
/// exhaustion). Connections are only opened when that many requests are in flight at once.
pub const DEFAULT_MAX_CONNECTIONS_PER_HOST: usize = 512;

/// Default of [`ClientConfig::initial_connections_per_host`]: a host's window of requests in
/// flight opens at 32 and doubles every round trip while callers wait (slow start), so 256
/// callers are served at full speed within 3 round trips, while a host that holds every
/// request (stalled) gets 32 connections, not 512. Measured with issue 14's memory benchmark
/// (10,000 queries in flight against a server holding them) and its realistic-network one.
pub const DEFAULT_INITIAL_CONNECTIONS_PER_HOST: usize = 32;

/// Default of [`ClientConfig::max_response_bytes`]: 8 MiB. The largest real answers are a
/// clawback queue batch (32 messages of at most 64 KiB each, about 2 MiB with the XML around them,
/// https://learn.microsoft.com/en-us/rest/api/storageservices/get-messages) and a 100-item
/// Collections page (~100 KiB); 8 MiB leaves four times the first and refuses anything that
/// is not a Store, Entra or queue answer before it costs real memory.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 8 * 1024 * 1024;

/// Bounds of [`ClientConfig::max_response_bytes`]: one queue message can be 64 KiB, and a cap
/// above 1 GiB bounds nothing.
pub const MAX_RESPONSE_BYTES_RANGE: std::ops::RangeInclusive<usize> =
    64 * 1024..=1024 * 1024 * 1024;

/// Default of [`ClientConfig::credential_expiry_warning_days`]: two weeks leaves a fleet time to
/// roll out a new certificate.
pub const DEFAULT_CREDENTIAL_EXPIRY_WARNING_DAYS: u32 = 14;

/// Everything a [`crate::Client`] needs. `Debug` never prints the secret.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ClientConfig {
    /// Entra directory (tenant) id.
    pub tenant_id: String,
    /// Entra application (client) id.
    pub client_id: String,
    /// Entra client secret (the credential when `credential` is `None`).
    pub client_secret: SecretString,
    /// How the client authenticates to Entra, when not by `client_secret`: a certificate, a
    /// federated token file, a managed identity or a token provider (see [`Credential`]).
    pub credential: Option<Credential>,
    /// During a rotation, the credential being replaced: the new one (`credential`, or
    /// `client_secret`) is tried first, and this one is used while Entra refuses the new one as
    /// wrong (AADSTS7000215 for a secret, AADSTS700027 for a certificate), e.g. before the new
    /// secret has been added to the app registration. Remove it once the rotation is done.
    pub previous_credential: Option<Credential>,
    /// Log a warning at each token fetch once the credential expires (a certificate's
    /// notAfter) within this many days. Default 14; 0 turns the warning off.
    pub credential_expiry_warning_days: u32,
    /// Sent as `User-Agent` on every request (the official library's "service identity").
    pub service_identity: String,
    /// Base URL of Entra ID, default `https://login.microsoftonline.com`.
    pub login_base_url: String,
    /// Base URL of the Collections service, default `https://collections.mp.microsoft.com`.
    pub collections_base_url: String,
    /// Base URL of the Purchase service, default `https://purchase.mp.microsoft.com`.
    pub purchase_base_url: String,
    pub entra_version: EntraVersion,
    #[serde(with = "millis")]
    pub connect_timeout: Duration,
    /// Whole-request timeout for one HTTP attempt.
    #[serde(with = "millis")]
    pub request_timeout: Duration,
    pub retry: RetryPolicy,
    /// Tokio worker threads owned by the client.
    pub worker_threads: usize,
    /// Refresh a cached service token when less than this remains (the library uses 5 min).
    #[serde(with = "millis")]
    pub token_refresh_margin: Duration,
    /// Renew a Store ID key at least this long before it expires (see `StoreIdKey::renew_after`).
    #[serde(with = "millis")]
    pub key_renew_margin: Duration,
    /// Most pages a follow-all-pages call will fetch before giving up with an error.
    pub max_pages: u32,
    /// Idle keep-alive connections kept per host; the pool keeps at least
    /// `max_connections_per_host` (fewer would close, under load, connections the next
    /// requests dial again). Idle ones close after 90 s.
    pub max_idle_connections_per_host: usize,
    /// Most requests in flight at once per host (scheme, host, port), hence about as many
    /// connections: the slow-start window (`initial_connections_per_host`) grows up to this
    /// under demand. Further operations wait in a FIFO queue, which costs a few hundred bytes
    /// each instead of a socket and its buffers. The wait does not count against
    /// `request_timeout` (an attempt's time at the service); an operation's own deadline does
    /// include it. Operations started from outside the client's runtime (Rust callers, the C
    /// ABI) are also admitted at most this many at a time in all, across hosts: the rest wait
    /// unstarted (no task yet), in order. 1..=65536.
    pub max_connections_per_host: usize,
    /// The window of requests in flight per host at the start: it grows by one with each
    /// answer the host gives (any status but 429 and 5xx) while other requests wait for a slot
    /// (doubling per round trip under demand), up to `max_connections_per_host`. A 429 or 503
    /// halves it, not below this value. Connections thus follow demand, and a stalled host is
    /// not given more sockets. Values above `max_connections_per_host` mean that cap (a fixed
    /// window); at least 1. Env `MSSTORE_INITIAL_CONNECTIONS_PER_HOST`.
    pub initial_connections_per_host: usize,
    /// Extra trusted root certificate(s), PEM text, added to the built-in (webpki) roots: for
    /// the emulator's TLS mode (`msstore_emulator::TEST_CERT_PEM`) or a TLS-inspecting proxy.
    /// `None` = built-in roots only. A PEM with no valid certificate is a Configuration error.
    pub extra_root_cert_pem: Option<String>,
    /// The same, read from a PEM file when the client is built (env `MSSTORE_EXTRA_ROOT_CERT`).
    /// Both may be set; every certificate of both is trusted. A regular file of at most 1 MiB.
    pub extra_root_cert_path: Option<String>,
    /// Largest response body read from any service (Store, Entra, clawback queue), however it
    /// is framed; a longer one is cut off and fails with `MalformedResponse` naming this
    /// setting (env `MSSTORE_MAX_RESPONSE_BYTES`). Default 8 MiB; 65536..=1073741824.
    pub max_response_bytes: usize,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            tenant_id: String::new(),
            client_id: String::new(),
            client_secret: SecretString::default(),
            credential: None,
            previous_credential: None,
            credential_expiry_warning_days: DEFAULT_CREDENTIAL_EXPIRY_WARNING_DAYS,
            service_identity: format!("msstore/{}", env!("CARGO_PKG_VERSION")),
            login_base_url: DEFAULT_LOGIN_BASE.to_string(),
            collections_base_url: DEFAULT_COLLECTIONS_BASE.to_string(),
            purchase_base_url: DEFAULT_PURCHASE_BASE.to_string(),
            entra_version: EntraVersion::V2,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            worker_threads: 2,
            token_refresh_margin: Duration::from_secs(5 * 60),
            key_renew_margin: Duration::from_secs(24 * 3600),
            max_pages: 100,
            max_idle_connections_per_host: 256,
            max_connections_per_host: DEFAULT_MAX_CONNECTIONS_PER_HOST,
            initial_connections_per_host: DEFAULT_INITIAL_CONNECTIONS_PER_HOST,
            extra_root_cert_pem: None,
            extra_root_cert_path: None,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        }
    }
}

impl ClientConfig {
    pub fn new(
        tenant_id: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<SecretString>,
    ) -> ClientConfig {
        ClientConfig {
            tenant_id: tenant_id.into(),
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            ..ClientConfig::default()
        }
    }

    /// The credential in use: `credential`, else the client secret.
    pub fn effective_credential(&self) -> Credential {
        self.credential
            .clone()
            .unwrap_or_else(|| Credential::Secret {
                secret: self.client_secret.clone(),
            })
    }

    /// Points all three base URLs at one emulator (`{base}/login`, `{base}/collections`,
    /// `{base}/purchase`).
    pub fn with_emulator(mut self, base_url: &str) -> ClientConfig {
        let base = base_url.trim_end_matches('/');
        self.login_base_url = format!("{base}/login");
        self.collections_base_url = format!("{base}/collections");
        self.purchase_base_url = format!("{base}/purchase");
        self
    }

    /// Parses a JSON config (the same field names as this struct; durations in milliseconds).
    /// A string with an embedded NUL is refused here already, as in [`ClientConfig::validate`].
    pub fn from_json(json: &str) -> Result<ClientConfig> {
        let config: ClientConfig = serde_json::from_str(json)
            .map_err(|e| Error::configuration(format!("invalid JSON configuration: {e}")))?;
        config.refuse_nul()?;
        Ok(config)
    }

    /// Every string setting, nested ones included, walked through its serialised form so that a
    /// field added later is covered too. A token provider has no strings of ours.
    fn refuse_nul(&self) -> Result<()> {
        let mut plain = self.clone();
        if matches!(plain.credential, Some(Credential::Provider(_))) {
            plain.credential = None;
        }
        refuse_nul_strings(&plain, "")
    }

    /// Reads `MSSTORE_*` environment variables over `self`.
    pub fn merge_env(mut self) -> ClientConfig {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        if let Some(v) = var("MSSTORE_TENANT_ID") {
            self.tenant_id = v;
        }
        if let Some(v) = var("MSSTORE_CLIENT_ID") {
            self.client_id = v;
        }
        if let Some(v) = var("MSSTORE_CLIENT_SECRET") {
            self.client_secret = v.into();
        }
        if let Some(v) = var("MSSTORE_SERVICE_IDENTITY") {
            self.service_identity = v;
        }
        if let Some(v) = var("MSSTORE_EMULATOR_URL") {
            self = self.with_emulator(&v);
        }
        if let Some(v) = var("MSSTORE_LOGIN_URL") {
            self.login_base_url = v;
        }
        if let Some(v) = var("MSSTORE_COLLECTIONS_URL") {
            self.collections_base_url = v;
        }
        if let Some(v) = var("MSSTORE_PURCHASE_URL") {
            self.purchase_base_url = v;
        }
        if let Some(v) = var("MSSTORE_MAX_CONNECTIONS_PER_HOST") {
            // Not a number: 0, which `validate` rejects with a message naming the field.
            self.max_connections_per_host = v.trim().parse().unwrap_or(0);
        }
        if let Some(v) = var("MSSTORE_INITIAL_CONNECTIONS_PER_HOST") {
            // Not a number: 0, which `validate` rejects with a message naming the field.
            self.initial_connections_per_host = v.trim().parse().unwrap_or(0);
        }
        if let Some(v) = var("MSSTORE_MAX_RESPONSE_BYTES") {
            // Not a number: 0, which `validate` rejects with a message naming the field.
            self.max_response_bytes = v.trim().parse().unwrap_or(0);
        }
        if let Some(v) = var("MSSTORE_EXTRA_ROOT_CERT") {
            self.extra_root_cert_path = Some(v);
        }
        self = self.merge_credential_env(&var);
        if let Some(v) = var("MSSTORE_ENTRA_VERSION") {
            match v.to_ascii_lowercase().as_str() {
                "v1" | "1" => self.entra_version = EntraVersion::V1,
                "v2" | "2" => self.entra_version = EntraVersion::V2,
                _ => {}
            }
        }
        self
    }

    /// The credential from the environment. `MSSTORE_*` first: a client secret file
    /// (`MSSTORE_CLIENT_SECRET_FILE`), a certificate
    /// (`MSSTORE_CLIENT_CERTIFICATE_PATH`, PEM chain, with the key in it or at
    /// `MSSTORE_CLIENT_CERTIFICATE_KEY_PATH`), a federated token file
    /// (`MSSTORE_FEDERATED_TOKEN_FILE`) or a managed identity (`MSSTORE_MANAGED_IDENTITY` =
    /// `system` or a user-assigned client id; `MSSTORE_IDENTITY_ENDPOINT` overrides the endpoint,
    /// and App Service's `IDENTITY_ENDPOINT` + `IDENTITY_HEADER` are used when present). Then the
    /// AKS workload identity convention: `AZURE_FEDERATED_TOKEN_FILE`, with `AZURE_CLIENT_ID`,
    /// `AZURE_TENANT_ID` and `AZURE_AUTHORITY_HOST` filling what `MSSTORE_*` left unset
    /// (https://azure.github.io/azure-workload-identity/docs/quick-start.html).
    /// During a rotation `MSSTORE_PREVIOUS_CLIENT_SECRET_FILE` or `MSSTORE_PREVIOUS_CLIENT_SECRET`
    /// names the credential being replaced.
    fn merge_credential_env(mut self, var: &dyn Fn(&str) -> Option<String>) -> ClientConfig {
        use crate::credential::{CertificateCredential, ManagedIdentityCredential};
        if let Some(p) = var("MSSTORE_PREVIOUS_CLIENT_SECRET_FILE") {
            self.previous_credential = Some(Credential::SecretFile { path: p });
        } else if let Some(s) = var("MSSTORE_PREVIOUS_CLIENT_SECRET") {
            self.previous_credential = Some(Credential::Secret { secret: s.into() });
        }
        if let Some(p) = var("MSSTORE_CLIENT_SECRET_FILE") {
            self.credential = Some(Credential::SecretFile { path: p });
        } else if let Some(p) = var("MSSTORE_CLIENT_CERTIFICATE_PATH") {
            self.credential = Some(Credential::Certificate(CertificateCredential {
                certificate_path: Some(p),
                private_key_path: var("MSSTORE_CLIENT_CERTIFICATE_KEY_PATH"),
                ..Default::default()
            }));
        } else if let Some(p) = var("MSSTORE_FEDERATED_TOKEN_FILE") {
            self.credential = Some(Credential::FederatedTokenFile { path: p });
        } else if let Some(id) = var("MSSTORE_MANAGED_IDENTITY") {
            let app_service = var("IDENTITY_ENDPOINT").zip(var("IDENTITY_HEADER"));
            self.credential = Some(Credential::ManagedIdentity(ManagedIdentityCredential {
                client_id: (!id.eq_ignore_ascii_case("system")).then_some(id),
                endpoint: var("MSSTORE_IDENTITY_ENDPOINT")
                    .or_else(|| app_service.as_ref().map(|(e, _)| e.clone())),
                identity_header: app_service.map(|(_, h)| h.into()),
            }));
        } else if let Some(p) = var("AZURE_FEDERATED_TOKEN_FILE") {
            if self.credential.is_none() && self.client_secret.is_empty() {
                self.credential = Some(Credential::FederatedTokenFile { path: p });
            }
        }
        if matches!(self.credential, Some(Credential::FederatedTokenFile { .. })) {
            if var("MSSTORE_CLIENT_ID").is_none() {
                if let Some(v) = var("AZURE_CLIENT_ID") {
                    self.client_id = v;
                }
            }
            if var("MSSTORE_TENANT_ID").is_none() {
                if let Some(v) = var("AZURE_TENANT_ID") {
                    self.tenant_id = v;
                }
            }
            if var("MSSTORE_LOGIN_URL").is_none() && var("MSSTORE_EMULATOR_URL").is_none() {
                if let Some(v) = var("AZURE_AUTHORITY_HOST") {
                    self.login_base_url = v.trim_end_matches('/').to_string();
                }
            }
        }
        self
    }

    /// The extra trusted roots (`extra_root_cert_pem`, then the file at `extra_root_cert_path`)
    /// as DER certificates. Each source must hold at least one well-formed PEM certificate.
    pub fn extra_root_certs(&self) -> Result<Vec<Vec<u8>>> {
        let mut out = Vec::new();
        if let Some(pem) = &self.extra_root_cert_pem {
            out.extend(parse_pem_certs(pem.as_bytes(), "extra_root_cert_pem")?);
        }
        if let Some(path) = &self.extra_root_cert_path {
            let bytes = crate::local_file::read_bounded(path, "extra_root_cert_path")?;
            out.extend(parse_pem_certs(&bytes, "extra_root_cert_path")?);
        }
        Ok(out)
    }

    /// Checks everything that can be checked without the network.
    pub fn validate(&self) -> Result<()> {
        let non_empty = |v: &str, name: &str| {
            if v.trim().is_empty() {
                Err(Error::configuration(format!("{name} is required")))
            } else {
                Ok(())
            }
        };
        self.refuse_nul()?;
        non_empty(&self.tenant_id, "tenant_id")?;
        non_empty(&self.client_id, "client_id")?;
        match &self.credential {
            None if self.client_secret.is_empty() => {
                return Err(Error::configuration(
                    "client_secret (or another credential) is required",
                ))
            }
            None => {}
            Some(c) => c.validate()?,
        }
        match &self.previous_credential {
            Some(Credential::Provider(_)) => {
                return Err(Error::configuration(
                    "previous_credential cannot be a token provider (a provider rotates its own \
                     credentials)",
                ))
            }
            Some(_) if matches!(self.credential, Some(Credential::Provider(_))) => {
                return Err(Error::configuration(
                    "previous_credential has no use with a token provider",
                ))
            }
            Some(c) => c
                .validate()
                .map_err(|e| Error::configuration(format!("previous_credential: {}", e.message)))?,
            None => {}
        }
        if self.tenant_id.contains(['/', '?', '#', ' ']) {
            return Err(Error::configuration(
                "tenant_id contains characters not allowed in a URL path segment",
            ));
        }
        for (name, url) in [
            ("login_base_url", &self.login_base_url),
            ("collections_base_url", &self.collections_base_url),
            ("purchase_base_url", &self.purchase_base_url),
        ] {
            check_base_url(name, url)?;
        }
        if self.worker_threads == 0 || self.worker_threads > 256 {
            return Err(Error::configuration("worker_threads must be 1..=256"));
        }
        if self.retry.max_attempts == 0 {
            return Err(Error::configuration(
                "retry.max_attempts must be at least 1",
            ));
        }
        if self.request_timeout.is_zero() || self.connect_timeout.is_zero() {
            return Err(Error::configuration("timeouts must be greater than zero"));
        }
        if !(1..=65_536).contains(&self.max_connections_per_host) {
            return Err(Error::configuration(
                "max_connections_per_host must be 1..=65536",
            ));
        }
        if !(1..=65_536).contains(&self.initial_connections_per_host) {
            return Err(Error::configuration(
                "initial_connections_per_host must be 1..=65536",
            ));
        }
        if !MAX_RESPONSE_BYTES_RANGE.contains(&self.max_response_bytes) {
            return Err(Error::configuration(format!(
                "max_response_bytes must be {}..={}",
                MAX_RESPONSE_BYTES_RANGE.start(),
                MAX_RESPONSE_BYTES_RANGE.end()
            )));
        }
        if self.max_pages == 0 {
            return Err(Error::configuration("max_pages must be at least 1"));
        }
        if self.service_identity.contains(['\r', '\n']) {
            return Err(Error::configuration("service_identity must be one line"));
        }
        self.extra_root_certs()?;
        Ok(())
    }
}

/// Refuses a NUL inside any string of `settings` (named `{prefix}{field}`, never by value): the
/// C ABI and the C++ wrapper carry these as C strings, where a NUL would silently cut them, and
/// no tenant, id, URL, path or secret legitimately holds one.
pub(crate) fn refuse_nul_strings<T: Serialize>(settings: &T, prefix: &str) -> Result<()> {
    let value = serde_json::to_value(settings)
        .map_err(|e| Error::configuration(format!("cannot check the configuration: {e}")))?;
    find_nul(&value, prefix.trim_end_matches('.')).map_or(Ok(()), |field| {
        Err(Error::configuration(format!(
            "{field} contains a NUL character"
        )))
    })
}

/// The dotted name of the first string holding a NUL.
fn find_nul(value: &serde_json::Value, at: &str) -> Option<String> {
    let join = |key: &str| {
        if at.is_empty() {
            key.to_string()
        } else {
            format!("{at}.{key}")
        }
    };
    match value {
        serde_json::Value::String(s) => s.contains('\0').then(|| at.to_string()),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| find_nul(v, &format!("{at}[{i}]"))),
        serde_json::Value::Object(fields) => fields.iter().find_map(|(k, v)| find_nul(v, &join(k))),
        _ => None,
    }
}

/// A base URL must be https, or http to a loopback host (so a secret never leaves the machine
/// unencrypted).
fn check_base_url(name: &str, url: &str) -> Result<()> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| Error::configuration(format!("{name} '{url}' is not a URL: {e}")))?;
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(Error::configuration(format!(
            "{name} must not have a query or fragment"
        )));
    }
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(&parsed) => Ok(()),
        "http" => Err(Error::configuration(format!(
            "{name} uses plain http:// to a non-loopback host; only https is allowed there"
        ))),
        other => Err(Error::configuration(format!(
            "{name} has unsupported scheme '{other}'"
        ))),
    }
}

/// Every `CERTIFICATE` section of a PEM text, as DER; none, or a malformed one, is an error
/// naming the field (reqwest would silently trust nothing).
fn parse_pem_certs(pem: &[u8], name: &str) -> Result<Vec<Vec<u8>>> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    let certs = CertificateDer::pem_slice_iter(pem)
        .map(|c| c.map(|c| c.to_vec()))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::configuration(format!("{name} is not valid PEM: {e}")))?;
    if certs.is_empty() {
        return Err(Error::configuration(format!(
            "{name} holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)"
        )));
    }
    Ok(certs)
}

fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Durations as integer milliseconds in JSON configs.
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

    fn base() -> ClientConfig {
        ClientConfig::new("tenant", "client", "secret")
    }

    #[test]
    fn defaults_point_at_microsoft() {
        let c = base();
        c.validate().unwrap();
        assert_eq!(
            c.collections_base_url,
            "https://collections.mp.microsoft.com"
        );
        assert_eq!(c.entra_version, EntraVersion::V2);
    }

    #[test]
    fn plain_http_only_for_loopback() {
        for ok in [
            "http://127.0.0.1:8080",
            "http://localhost:1",
            "http://[::1]:9",
            "http://127.5.5.5",
        ] {
            base().with_emulator(ok).validate().unwrap();
        }
        for bad in ["http://10.0.0.1", "http://example.com", "ftp://127.0.0.1"] {
            let e = base().with_emulator(bad).validate().unwrap_err();
            assert_eq!(e.kind, crate::ErrorKind::Configuration, "{bad}");
        }
    }

    #[test]
    fn missing_credentials_are_configuration_errors() {
        let mut c = base();
        c.client_secret = SecretString::default();
        assert_eq!(
            c.validate().unwrap_err().kind,
            crate::ErrorKind::Configuration
        );
        let c = ClientConfig::new("", "client", "s");
        assert!(c.validate().unwrap_err().message.contains("tenant_id"));
    }

    #[test]
    fn connection_cap_default_json_and_bounds() {
        assert_eq!(
            base().max_connections_per_host,
            DEFAULT_MAX_CONNECTIONS_PER_HOST
        );
        let c = ClientConfig::from_json(
            r#"{"tenant_id":"t","client_id":"c","client_secret":"s","max_connections_per_host":8}"#,
        )
        .unwrap();
        assert_eq!(c.max_connections_per_host, 8);
        c.validate().unwrap();
        for bad in [0, 65_537] {
            let mut c = base();
            c.max_connections_per_host = bad;
            let e = c.validate().unwrap_err();
            assert!(e.message.contains("max_connections_per_host"), "{bad}");
        }
    }

    #[test]
    fn initial_window_default_json_env_and_bounds() {
        assert_eq!(
            base().initial_connections_per_host,
            DEFAULT_INITIAL_CONNECTIONS_PER_HOST
        );
        let c = ClientConfig::from_json(
            r#"{"tenant_id":"t","client_id":"c","client_secret":"s","initial_connections_per_host":512}"#,
        )
        .unwrap();
        assert_eq!(c.initial_connections_per_host, 512);
        c.validate().unwrap();
        // Above the cap is allowed: it means the cap.
        let mut c = base();
        c.max_connections_per_host = 8;
        c.initial_connections_per_host = 100;
        c.validate().unwrap();
        for bad in [0, 65_537] {
            let mut c = base();
            c.initial_connections_per_host = bad;
            let e = c.validate().unwrap_err();
            assert!(e.message.contains("initial_connections_per_host"), "{bad}");
        }
    }

    #[test]
    fn response_cap_default_json_and_bounds() {
        assert_eq!(base().max_response_bytes, DEFAULT_MAX_RESPONSE_BYTES);
        let c = ClientConfig::from_json(
            r#"{"tenant_id":"t","client_id":"c","client_secret":"s","max_response_bytes":100000}"#,
        )
        .unwrap();
        assert_eq!(c.max_response_bytes, 100_000);
        c.validate().unwrap();
        for bad in [0, 65_535, 1024 * 1024 * 1024 + 1] {
            let mut c = base();
            c.max_response_bytes = bad;
            let e = c.validate().unwrap_err();
            assert!(e.message.contains("max_response_bytes"), "{bad}");
        }
    }

    #[test]
    fn extra_root_cert_pem_is_checked() {
        let mut c = base();
        c.extra_root_cert_pem = Some(msstore_emulator::TEST_CERT_PEM.to_string());
        assert_eq!(c.extra_root_certs().unwrap().len(), 1);
        c.validate().unwrap();
        for bad in [
            "",
            "not a certificate",
            "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
        ] {
            c.extra_root_cert_pem = Some(bad.to_string());
            let e = c.validate().unwrap_err();
            assert_eq!(e.kind, crate::ErrorKind::Configuration, "{bad:?}");
            assert!(e.message.contains("extra_root_cert_pem"), "{}", e.message);
        }
        let mut c = base();
        c.extra_root_cert_path = Some("/nonexistent/msstore-root.pem".into());
        let e = c.validate().unwrap_err();
        assert!(e.message.contains("cannot be read"), "{}", e.message);
    }

    #[test]
    fn extra_root_cert_path_must_be_a_small_regular_file() {
        let mut c = base();
        for path in ["/dev/zero", "/"] {
            c.extra_root_cert_path = Some(path.into());
            let e = c.validate().unwrap_err();
            assert_eq!(e.kind, crate::ErrorKind::Configuration, "{path}");
            assert!(e.message.contains("not a regular file"), "{}", e.message);
        }
    }

    type Setter = fn(&mut ClientConfig);

    #[test]
    fn a_nul_in_any_string_setting_is_refused() {
        let e = ClientConfig::from_json(
            r#"{"tenant_id":"t\u0000x","client_id":"c","client_secret":"s"}"#,
        )
        .unwrap_err();
        assert_eq!(e.kind, crate::ErrorKind::Configuration);
        assert_eq!(e.message, "tenant_id contains a NUL character");
        let e = ClientConfig::from_json(
            r#"{"tenant_id":"t","client_id":"c","client_secret":"s",
                "credential":{"type":"certificate","certificate_path":"/a\u0000b"}}"#,
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            "credential.certificate_path contains a NUL character"
        );
        // Set in code: `validate` (hence `Client::new` and the C ABI) refuses it; the message
        // names the field, never the (possibly secret) value.
        let cases: [(&str, Setter); 6] = [
            ("tenant_id", |c| c.tenant_id = "t\0".into()),
            ("client_id", |c| c.client_id = "\0c".into()),
            ("client_secret", |c| c.client_secret = "hunter\0two".into()),
            ("service_identity", |c| c.service_identity = "a\0b".into()),
            ("purchase_base_url", |c| {
                c.purchase_base_url = "https://purchase.mp.microsoft.com/\0".into()
            }),
            ("extra_root_cert_path", |c| {
                c.extra_root_cert_path = Some("/etc/\0x".into())
            }),
        ];
        for (field, set) in cases {
            let mut c = base();
            set(&mut c);
            let e = c.validate().unwrap_err();
            assert_eq!(e.kind, crate::ErrorKind::Configuration, "{field}");
            assert_eq!(e.message, format!("{field} contains a NUL character"));
            assert!(!e.message.contains("hunter"));
            let e = crate::Client::new(c).unwrap_err();
            assert_eq!(e.kind, crate::ErrorKind::Configuration, "{field}");
        }
        base().validate().unwrap();
    }

    #[test]
    fn json_config_and_debug_redaction() {
        let c = ClientConfig::from_json(
            r#"{"tenant_id":"t","client_id":"c","client_secret":"very-secret","request_timeout":1500,"entra_version":"v1"}"#,
        )
        .unwrap();
        assert_eq!(c.request_timeout, Duration::from_millis(1500));
        assert_eq!(c.entra_version, EntraVersion::V1);
        assert!(!format!("{c:?}").contains("very-secret"));
        assert!(ClientConfig::from_json("{").is_err());
    }

    #[test]
    fn aks_workload_identity_env_is_honoured() {
        let env = |k: &str| {
            match k {
                "AZURE_FEDERATED_TOKEN_FILE" => {
                    Some("/var/run/secrets/azure/tokens/azure-identity-token")
                }
                "AZURE_CLIENT_ID" => Some("cid"),
                "AZURE_TENANT_ID" => Some("tid"),
                "AZURE_AUTHORITY_HOST" => Some("https://login.microsoftonline.us/"),
                _ => None,
            }
            .map(str::to_string)
        };
        let c = ClientConfig::default().merge_credential_env(&env);
        assert_eq!((c.client_id.as_str(), c.tenant_id.as_str()), ("cid", "tid"));
        assert_eq!(c.login_base_url, "https://login.microsoftonline.us");
        assert!(
            matches!(c.credential, Some(Credential::FederatedTokenFile { ref path }) if path.ends_with("azure-identity-token"))
        );
        c.validate().unwrap();
        // A configured secret wins over the ambient AKS variables.
        let c = ClientConfig::new("t", "c", "s").merge_credential_env(&env);
        assert!(c.credential.is_none());
        assert_eq!(c.client_id, "c");
    }

    #[test]
    fn imds_endpoint_is_the_only_plain_http_exception() {
        use crate::credential::ManagedIdentityCredential;
        let mi = |endpoint: Option<&str>| {
            let mut c = base();
            c.credential = Some(Credential::ManagedIdentity(ManagedIdentityCredential {
                endpoint: endpoint.map(str::to_string),
                ..Default::default()
            }));
            c.validate()
        };
        mi(None).unwrap();
        mi(Some(
            "http://169.254.169.254/metadata/identity/oauth2/token",
        ))
        .unwrap();
        mi(Some("http://127.0.0.1:9/msi")).unwrap();
        assert!(mi(Some("http://10.0.0.5/metadata/identity/oauth2/token")).is_err());
        // No Store, Entra or renew base URL may use the IMDS address.
        for field in 0..3 {
            let mut c = base();
            let url = "http://169.254.169.254".to_string();
            match field {
                0 => c.login_base_url = url,
                1 => c.collections_base_url = url,
                _ => c.purchase_base_url = url,
            }
            assert_eq!(
                c.validate().unwrap_err().kind,
                crate::ErrorKind::Configuration
            );
        }
    }
}

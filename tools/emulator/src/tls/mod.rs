//! HTTPS for the emulator: a committed self-signed test certificate for `127.0.0.1`, `::1` and
//! `localhost` (see `README.md` next to it). FOR THE EMULATOR ONLY: its private key is public,
//! so it must never be trusted anywhere but in tests and benchmarks against this emulator.

use std::io;
use std::sync::Arc;
use tokio_rustls::rustls;

/// The test certificate (PEM), for clients that should trust the emulator
/// (`ClientConfig::extra_root_cert_pem`).
pub const TEST_CERT_PEM: &str = include_str!("cert.pem");
/// Its private key: public on purpose, emulator only.
const TEST_KEY_PEM: &str = include_str!("key.pem");

/// A TLS acceptor serving the test certificate, with the ring provider (the one reqwest uses),
/// TLS 1.2 and 1.3, and HTTP/1.1 only (the emulator speaks nothing else).
pub fn acceptor() -> io::Result<tokio_rustls::TlsAcceptor> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let bad = |what: &str, e: &dyn std::fmt::Display| {
        io::Error::new(io::ErrorKind::InvalidData, format!("{what}: {e}"))
    };
    let certs = CertificateDer::pem_slice_iter(TEST_CERT_PEM.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad("emulator test certificate", &e))?;
    let key = PrivateKeyDer::from_pem_slice(TEST_KEY_PEM.as_bytes())
        .map_err(|e| bad("emulator test key", &e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| bad("TLS versions", &e))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| bad("emulator TLS configuration", &e))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

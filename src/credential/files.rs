//! Credentials read from files (a Kubernetes secret mount, the Key Vault CSI driver folder, the
//! AKS projected service-account token), re-read at each token fetch so a rotation needs no
//! restart. Reads are bounded regular files (see `local_file`); parsed certificates are reused while the bytes match.

use super::certificate::CertificateKey;
use super::CertificateCredential;
use crate::error::{Error, Result};
use crate::local_file::read_bounded;
use crate::secret::SecretString;
use std::sync::{Arc, Mutex};

/// The federated token file's current assertion.
pub(crate) fn read_token_file(path: &str) -> Result<SecretString> {
    let bytes = read_bounded(path, "federated token file")?;
    let text = String::from_utf8(bytes).map_err(|_| {
        Error::configuration(format!("federated token file '{path}' is not UTF-8 text"))
    })?;
    let token = text.trim();
    if token.is_empty() {
        return Err(Error::configuration(format!(
            "federated token file '{path}' is empty"
        )));
    }
    Ok(SecretString::new(token))
}

/// The client secret in a file (a Kubernetes secret mount), re-read at each token fetch; the
/// trailing newline an editor or `kubectl create secret --from-file` leaves is not part of it.
pub(crate) fn read_secret_file(path: &str) -> Result<SecretString> {
    let bytes = read_bounded(path, "client secret file")?;
    let text = String::from_utf8(bytes).map_err(|_| {
        Error::configuration(format!("client secret file '{path}' is not UTF-8 text"))
    })?;
    let secret = text.trim();
    if secret.is_empty() {
        return Err(Error::configuration(format!(
            "client secret file '{path}' is empty"
        )));
    }
    Ok(SecretString::new(secret))
}

/// A file's size, modification time and inode (following symlinks, as a Kubernetes mount's
/// `..data` swap needs), or `None` when it cannot be read: equal stamps mean "not rewritten".
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileStamp(Option<(u64, Option<std::time::SystemTime>, u64)>);

impl FileStamp {
    pub fn of(path: &str) -> FileStamp {
        FileStamp(
            std::fs::metadata(path)
                .ok()
                .map(|m| (m.len(), m.modified().ok(), inode(&m))),
        )
    }
}

#[cfg(unix)]
fn inode(m: &std::fs::Metadata) -> u64 {
    std::os::unix::fs::MetadataExt::ino(m)
}

#[cfg(not(unix))]
fn inode(_: &std::fs::Metadata) -> u64 {
    0
}

/// The certificate and key, parsed again only when their bytes change.
#[derive(Default)]
pub(crate) struct CachedCertificate {
    last: Mutex<Option<(ring::digest::Digest, Arc<CertificateKey>)>>,
}

impl CachedCertificate {
    pub fn load(&self, c: &CertificateCredential) -> Result<Arc<CertificateKey>> {
        let certs = match (&c.certificate_pem, &c.certificate_path) {
            (Some(pem), None) => pem.as_bytes().to_vec(),
            (None, Some(path)) => read_bounded(path, "certificate_path")?,
            _ => {
                return Err(Error::configuration(
                    "a certificate credential needs exactly one of certificate_pem and certificate_path",
                ))
            }
        };
        let key = match (&c.private_key_pem, &c.private_key_path) {
            (Some(pem), None) => pem.expose().as_bytes().to_vec(),
            (None, Some(path)) => read_bounded(path, "private_key_path")?,
            (None, None) => certs.clone(),
            _ => {
                return Err(Error::configuration(
                    "set at most one of private_key_pem and private_key_path",
                ))
            }
        };
        let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
        ctx.update(&(certs.len() as u64).to_le_bytes());
        ctx.update(&certs);
        ctx.update(&key);
        let digest = ctx.finish();
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((d, k)) = last.as_ref() {
            if d.as_ref() == digest.as_ref() {
                return Ok(k.clone());
            }
        }
        let parsed = Arc::new(CertificateKey::from_pem(&certs, &key)?);
        *last = Some((digest, parsed.clone()));
        Ok(parsed)
    }
}

//! Certificate credentials: a client assertion JWT signed with the app certificate's RSA key
//! (https://learn.microsoft.com/en-us/entra/identity-platform/certificate-credentials).

use super::der;
use crate::error::{Error, Result};
use crate::jwt;
use crate::secret::SecretString;
use crate::time::Timestamp;
use ring::rand::SystemRandom;
use ring::signature::{KeyPair, RsaKeyPair, RSA_PKCS1_SHA256};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::json;

/// Lifetime of one assertion. Entra accepts up to 10 minutes of clock skew around `nbf`/`exp`
/// and only needs the assertion for the one token request it is sent with; MSAL uses 10 minutes.
pub const ASSERTION_LIFETIME_SECS: i64 = 600;

/// The app certificate, its chain and its private key, parsed and checked once. `Debug` names
/// the certificate by thumbprint only.
pub struct CertificateKey {
    key: RsaKeyPair,
    /// base64url SHA-1 of the leaf certificate DER (`x5t`, for older tenants).
    pub x5t: String,
    /// base64url SHA-256 of the leaf certificate DER (`x5t#S256`).
    pub x5t_s256: String,
    /// Standard base64 DER of each certificate, leaf first (`x5c`, for subject-name/issuer auth).
    x5c: Vec<String>,
    /// The leaf certificate's notAfter.
    pub not_after: Timestamp,
    rng: SystemRandom,
}

impl std::fmt::Debug for CertificateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateKey")
            .field("x5t#S256", &self.x5t_s256)
            .field("not_after", &self.not_after.to_iso())
            .field("key", &"<redacted>")
            .finish()
    }
}

fn b64url_digest(alg: &'static ring::digest::Algorithm, der: &[u8]) -> String {
    jwt::encode_base64url(ring::digest::digest(alg, der).as_ref())
}

impl CertificateKey {
    /// Parses the certificate chain (leaf first) and the private key (PKCS#8 or PKCS#1 PEM; both
    /// may be in one text). Errors never quote the PEM.
    pub fn from_pem(certs_pem: &[u8], key_pem: &[u8]) -> Result<CertificateKey> {
        let certs = CertificateDer::pem_slice_iter(certs_pem)
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| Error::configuration(format!("certificate is not valid PEM: {e}")))?;
        let Some(leaf) = certs.first() else {
            return Err(Error::configuration(
                "the certificate PEM holds no -----BEGIN CERTIFICATE----- section",
            ));
        };
        let key = match PrivateKeyDer::from_pem_slice(key_pem) {
            Ok(PrivateKeyDer::Pkcs8(k)) => RsaKeyPair::from_pkcs8(k.secret_pkcs8_der()),
            Ok(PrivateKeyDer::Pkcs1(k)) => RsaKeyPair::from_der(k.secret_pkcs1_der()),
            Ok(_) => return Err(Error::configuration(
                "the certificate's private key is not RSA (Entra client assertions here are RS256)",
            )),
            Err(_) => {
                return Err(Error::configuration(
                    "no private key found: expected -----BEGIN PRIVATE KEY----- (PKCS#8) or \
                     -----BEGIN RSA PRIVATE KEY----- (PKCS#1), unencrypted",
                ))
            }
        }
        .map_err(|e| {
            Error::configuration(format!("the certificate's private key is unusable: {e}"))
        })?;
        let fields = der::cert_fields(leaf).ok_or_else(|| {
            Error::configuration("the first PEM certificate is not a well-formed X.509 certificate")
        })?;
        if fields.public_key != key.public_key().as_ref() {
            return Err(Error::configuration(
                "the private key does not belong to the first certificate of the PEM (the leaf \
                 certificate must come first, then its chain)",
            ));
        }
        use base64::Engine;
        let std64 = base64::engine::general_purpose::STANDARD;
        Ok(CertificateKey {
            x5t: b64url_digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, leaf),
            x5t_s256: b64url_digest(&ring::digest::SHA256, leaf),
            x5c: certs.iter().map(|c| std64.encode(c)).collect(),
            not_after: fields.not_after,
            key,
            rng: SystemRandom::new(),
        })
    }

    /// A fresh signed assertion for one token request to `token_url`
    /// (https://learn.microsoft.com/en-us/entra/identity-platform/certificate-credentials#assertion-format).
    pub fn assertion(
        &self,
        client_id: &str,
        token_url: &str,
        send_x5c: bool,
    ) -> Result<SecretString> {
        let mut header = json!({
            "alg": "RS256",
            "typ": "JWT",
            "x5t": self.x5t,
            "x5t#S256": self.x5t_s256,
        });
        if send_x5c {
            header["x5c"] = json!(self.x5c);
        }
        let now = Timestamp::now().unix_seconds();
        let claims = json!({
            "aud": token_url,
            "iss": client_id,
            "sub": client_id,
            "jti": uuid::Uuid::new_v4().to_string(),
            "nbf": now,
            "iat": now,
            "exp": now + ASSERTION_LIFETIME_SECS,
        });
        let input = jwt::signing_input(&header, &claims);
        let mut sig = vec![0u8; self.key.public().modulus_len()];
        self.key
            .sign(&RSA_PKCS1_SHA256, &self.rng, input.as_bytes(), &mut sig)
            .map_err(|_| Error::configuration("signing the client assertion failed"))?;
        Ok(SecretString::new(format!(
            "{input}.{}",
            jwt::encode_base64url(&sig)
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIX: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/it/fixtures/credentials/"
    );

    fn read(name: &str) -> Vec<u8> {
        std::fs::read(format!("{FIX}{name}")).unwrap()
    }

    #[test]
    fn pkcs8_and_pkcs1_give_the_same_thumbprints() {
        let a =
            CertificateKey::from_pem(&read("app_chain.pem"), &read("app_key_pkcs8.pem")).unwrap();
        let b =
            CertificateKey::from_pem(&read("app_cert.pem"), &read("app_key_pkcs1.pem")).unwrap();
        assert_eq!(a.x5t_s256, b.x5t_s256);
        assert_eq!(a.x5c.len(), 2);
        assert_eq!(a.not_after.to_civil(), (2126, 11, 7, 9, 29, 5));
        // `openssl x509 -fingerprint -sha256` of app_cert.pem.
        let hex = "73DF26ACE2866C81C96C228A3B9FD4A839BF93AF3DEEDA156A05985565CE57D7";
        let want: Vec<u8> = (0..32)
            .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
            .collect();
        assert_eq!(a.x5t_s256, jwt::encode_base64url(&want));
        assert!(!format!("{a:?}").contains("PRIVATE"));
    }

    #[test]
    fn a_key_of_another_certificate_is_refused() {
        let e = CertificateKey::from_pem(&read("app_cert.pem"), &read("other_key_pkcs8.pem"))
            .unwrap_err();
        assert!(e.message.contains("does not belong"), "{}", e.message);
        let e = CertificateKey::from_pem(&read("app_key_pkcs8.pem"), &read("app_key_pkcs8.pem"))
            .unwrap_err();
        assert!(
            e.message.contains("no -----BEGIN CERTIFICATE"),
            "{}",
            e.message
        );
        let e = CertificateKey::from_pem(&read("app_cert.pem"), &read("app_cert.pem")).unwrap_err();
        assert!(e.message.contains("no private key"), "{}", e.message);
    }

    #[test]
    fn assertion_has_the_documented_shape() {
        let k =
            CertificateKey::from_pem(&read("app_cert.pem"), &read("app_key_pkcs8.pem")).unwrap();
        let a = k
            .assertion("cid", "https://login.example/t/oauth2/v2.0/token", false)
            .unwrap();
        let b = k
            .assertion("cid", "https://login.example/t/oauth2/v2.0/token", false)
            .unwrap();
        let d = jwt::decode(a.expose()).unwrap();
        assert_eq!(d.header["alg"], "RS256");
        assert_eq!(d.header["x5t#S256"], k.x5t_s256.as_str());
        assert_eq!(d.header["x5t"], k.x5t.as_str());
        assert!(d.header.get("x5c").is_none());
        assert_eq!(d.claims["aud"], "https://login.example/t/oauth2/v2.0/token");
        assert_eq!(d.claims["iss"], "cid");
        assert_eq!(d.claims["sub"], "cid");
        let exp = d.claims["exp"].as_i64().unwrap() - d.claims["iat"].as_i64().unwrap();
        assert_eq!(exp, ASSERTION_LIFETIME_SECS);
        let d2 = jwt::decode(b.expose()).unwrap();
        assert_ne!(d.claims["jti"], d2.claims["jti"]);
        let with_chain = k.assertion("cid", "u", true).unwrap();
        assert_eq!(
            jwt::decode(with_chain.expose()).unwrap().header["x5c"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
    }
}

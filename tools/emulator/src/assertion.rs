//! Client assertions at the emulated token endpoint: per-app certificates (matched by the
//! `x5t#S256` or `x5t` header) and federated credentials (issuer, subject, audience), with the
//! checks Entra documents: signature, `aud` = the token endpoint, `iss` = `sub` = the client id
//! for certificates, `nbf`/`exp`, and `jti` used once
//! (https://learn.microsoft.com/en-us/entra/identity-platform/certificate-credentials).
//! Self-contained: its own DER walk and ring for verification.

use super::crypto::Signer;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::signature::{UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// `client_assertion_type` of a JWT assertion.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The `aud` values accepted for a tenant: the emulator's two token endpoints and Entra's.
pub fn token_urls(base_url: &str, tenant_id: &str) -> Vec<String> {
    let mut out = Vec::new();
    for base in [
        format!("{base_url}/login"),
        "https://login.microsoftonline.com".to_string(),
    ] {
        out.push(format!("{base}/{tenant_id}/oauth2/token"));
        out.push(format!("{base}/{tenant_id}/oauth2/v2.0/token"));
    }
    out
}

/// Clock skew tolerated around `nbf`/`exp` (Entra allows a few minutes).
const SKEW_SECS: i64 = 300;

/// A registered app certificate.
#[derive(Debug, Clone)]
pub struct AppCertificate {
    pub x5t_s256: String,
    pub x5t: String,
    /// PKCS#1 RSAPublicKey DER.
    public_key: Vec<u8>,
}

/// A federated identity credential on an app
/// (https://learn.microsoft.com/en-us/graph/api/resources/federatedidentitycredentials-overview).
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
pub struct FederatedCredential {
    pub issuer: String,
    pub subject: String,
    #[serde(default = "default_fed_audience")]
    pub audience: String,
}

pub fn default_fed_audience() -> String {
    "api://AzureADTokenExchange".into()
}

/// Every app's certificates and federated credentials, and the `jti`s already used.
#[derive(Debug, Default)]
pub struct Assertions {
    certs: HashMap<String, Vec<AppCertificate>>,
    federated: HashMap<String, Vec<FederatedCredential>>,
    /// jti → its assertion's exp; forgotten once past exp (a replay after that fails on exp).
    seen: HashMap<String, i64>,
}

/// Why an assertion was refused: (AADSTS code, text).
pub type Refusal = (u32, String);

fn bad(text: impl Into<String>) -> Refusal {
    (700027, text.into())
}

impl Assertions {
    pub fn add_certificate(
        &mut self,
        client_id: &str,
        pem: &str,
    ) -> Result<AppCertificate, String> {
        let cert = parse_certificate(pem)?;
        self.certs
            .entry(client_id.to_ascii_lowercase())
            .or_default()
            .push(cert.clone());
        Ok(cert)
    }

    /// Removes every certificate of the app (rotation tests).
    pub fn remove_certificates(&mut self, client_id: &str) {
        self.certs.remove(&client_id.to_ascii_lowercase());
    }

    pub fn add_federated(&mut self, client_id: &str, fc: FederatedCredential) {
        self.federated
            .entry(client_id.to_ascii_lowercase())
            .or_default()
            .push(fc);
    }

    /// Checks one `client_assertion` for `client_id`; `token_urls` are the accepted `aud`s.
    pub fn verify(
        &mut self,
        signer: &Signer,
        now: i64,
        client_id: &str,
        token_urls: &[String],
        assertion: &str,
    ) -> Result<(), Refusal> {
        let (header, claims, input, sig) = split(assertion).ok_or_else(|| {
            (
                50027,
                "Invalid JWT token. The token is malformed.".to_string(),
            )
        })?;
        let str_of =
            |m: &Map<String, Value>, k: &str| m.get(k).and_then(Value::as_str).map(str::to_string);
        if str_of(&header, "alg").as_deref() != Some("RS256") {
            return Err(bad(
                "Client assertion uses an unsupported algorithm (expected RS256).",
            ));
        }
        let key = client_id.to_ascii_lowercase();
        let s256 = str_of(&header, "x5t#S256");
        let s1 = str_of(&header, "x5t");
        let iss = str_of(&claims, "iss").unwrap_or_default();
        let sub = str_of(&claims, "sub").unwrap_or_default();
        let aud_ok = |aud: &str| {
            token_urls
                .iter()
                .any(|u| u.eq_ignore_ascii_case(aud.trim_end_matches('/')))
        };
        // The emulator's federated issuer names its own key by `x5t`; anything else with a
        // thumbprint claims to be an app certificate.
        let is_certificate =
            (s256.is_some() || s1.is_some()) && s1.as_deref() != Some(signer.thumbprint.as_str());
        if is_certificate {
            let certs = self.certs.get(&key).cloned().unwrap_or_default();
            let cert = certs
                .iter()
                .find(|c| s256.as_deref() == Some(c.x5t_s256.as_str()) || (s256.is_none() && s1.as_deref() == Some(c.x5t.as_str())))
                .ok_or_else(|| bad(format!("The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '{}']", s256.or(s1).unwrap_or_default())))?;
            UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &cert.public_key)
                .verify(input.as_bytes(), &sig)
                .map_err(|_| bad("Client assertion failed signature validation."))?;
            if iss != client_id || sub != client_id {
                return Err(bad(
                    "The client assertion's iss and sub claims must both be the client id.",
                ));
            }
            let aud = str_of(&claims, "aud").unwrap_or_default();
            if !aud_ok(&aud) {
                return Err(bad(format!(
                    "The audience claim value is invalid '{aud}'; it must be the token endpoint."
                )));
            }
        } else {
            // A federated assertion: an emulator-issued subject token.
            signer
                .verify(assertion)
                .ok_or_else(|| bad("Client assertion failed signature validation (federated token not signed by a known issuer)."))?;
            let aud = claim_audiences(&claims);
            let creds = self.federated.get(&key).cloned().unwrap_or_default();
            let matched = creds
                .iter()
                .any(|f| f.issuer == iss && f.subject == sub && aud.contains(&f.audience));
            if !matched {
                return Err((
                    700213,
                    format!("No matching federated identity record found for presented assertion subject '{sub}'. Check your federated identity credential Subject, Audience and Issuer against the presented assertion."),
                ));
            }
        }
        let exp = claims
            .get("exp")
            .and_then(Value::as_i64)
            .ok_or_else(|| bad("Client assertion has no exp claim."))?;
        let nbf = claims
            .get("nbf")
            .and_then(Value::as_i64)
            .unwrap_or(i64::MIN);
        if exp + SKEW_SECS <= now || nbf - SKEW_SECS > now {
            return Err((
                700024,
                "Client assertion is not within its valid time range.".into(),
            ));
        }
        // Certificate assertions are single-use; a federated subject token (a projected
        // service-account token) is presented again until its issuer refreshes it.
        if is_certificate {
            if let Some(jti) = str_of(&claims, "jti") {
                self.seen.retain(|_, e| *e + SKEW_SECS > now);
                if self.seen.insert(jti, exp).is_some() {
                    return Err((
                        700027,
                        "Client assertion contains a jti that was already used (replay).".into(),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// A subject token from the emulator's federated issuer (a stand-in for a Kubernetes
/// service-account token or a managed identity's token for `api://AzureADTokenExchange`).
pub fn mint_subject_token(
    signer: &Signer,
    now: i64,
    issuer: &str,
    subject: &str,
    audience: &str,
    lifetime_secs: i64,
) -> String {
    signer.sign(&serde_json::json!({
        "iss": issuer, "sub": subject, "aud": audience,
        "iat": now, "nbf": now, "exp": now + lifetime_secs,
    }))
}

fn claim_audiences(claims: &Map<String, Value>) -> Vec<String> {
    match claims.get("aud") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

type Parts = (Map<String, Value>, Map<String, Value>, String, Vec<u8>);

fn split(token: &str) -> Option<Parts> {
    if token.len() > 64 * 1024 {
        return None;
    }
    let mut it = token.split('.');
    let (h, c, s) = (it.next()?, it.next()?, it.next()?);
    if it.next().is_some() {
        return None;
    }
    let obj = |seg: &str| match serde_json::from_slice::<Value>(&URL_SAFE_NO_PAD.decode(seg).ok()?)
    {
        Ok(Value::Object(m)) => Some(m),
        _ => None,
    };
    Some((
        obj(h)?,
        obj(c)?,
        format!("{h}.{c}"),
        URL_SAFE_NO_PAD.decode(s).ok()?,
    ))
}

/// One DER element: (tag, content, rest).
fn der_next(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        (
            rest[..n]
                .iter()
                .fold(0usize, |a, b| (a << 8) | usize::from(*b)),
            &rest[n..],
        )
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// The thumbprints and RSA public key of the first certificate of a PEM text.
fn parse_certificate(pem: &str) -> Result<AppCertificate, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    let der = CertificateDer::pem_slice_iter(pem.as_bytes())
        .next()
        .ok_or("no PEM certificate")?
        .map_err(|e| format!("bad PEM: {e}"))?;
    let spki = (|| {
        let (_, cert, _) = der_next(&der)?;
        let (_, tbs, _) = der_next(cert)?;
        let mut rest = tbs;
        if der_next(rest)?.0 == 0xa0 {
            rest = der_next(rest)?.2;
        }
        // serial, signature, issuer, validity, subject.
        for _ in 0..5 {
            rest = der_next(rest)?.2;
        }
        let (_, spki, _) = der_next(rest)?;
        let (tag, bits, _) = der_next(der_next(spki)?.2)?;
        (tag == 0x03 && bits.first() == Some(&0)).then(|| bits[1..].to_vec())
    })()
    .ok_or("not an X.509 certificate with an RSA key")?;
    let b64 = |alg| URL_SAFE_NO_PAD.encode(ring::digest::digest(alg, &der).as_ref());
    Ok(AppCertificate {
        x5t_s256: b64(&ring::digest::SHA256),
        x5t: b64(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY),
        public_key: spki,
    })
}

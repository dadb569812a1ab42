//! RS256 signing and verification with the emulator's RSA key.

use crate::jwt;
use ring::rand::SystemRandom;
use ring::signature::{self, KeyPair, RsaKeyPair, RsaPublicKeyComponents};
use serde_json::{json, Value};

/// EMULATOR TEST KEY ONLY. A 2048-bit RSA key generated with
/// `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -outform DER` (OpenSSL 3.0 writes
/// PKCS#1 there, so it was converted with `openssl pkcs8 -topk8 -nocrypt`) for the local
/// emulator. It protects nothing; it is committed so tokens are reproducible across runs.
const SIGNING_KEY_PKCS8: &[u8] = include_bytes!("signing_key.pk8");

pub struct Signer {
    key: RsaKeyPair,
    rng: SystemRandom,
    /// Stand-in for the certificate thumbprint (`x5t`/`kid`): SHA-1 of the public key DER.
    pub thumbprint: String,
}

impl Signer {
    pub fn new() -> std::io::Result<Signer> {
        let key = RsaKeyPair::from_pkcs8(SIGNING_KEY_PKCS8).map_err(|e| {
            std::io::Error::new(std::io::ErrorKind::InvalidData, format!("signing key: {e}"))
        })?;
        let digest = ring::digest::digest(
            &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
            key.public_key().as_ref(),
        );
        Ok(Signer {
            key,
            rng: SystemRandom::new(),
            thumbprint: jwt::encode_base64url(digest.as_ref()),
        })
    }

    /// Builds and signs a compact RS256 JWT.
    pub fn sign(&self, claims: &Value) -> String {
        let header = json!({"typ":"JWT","alg":"RS256","x5t":self.thumbprint,"kid":self.thumbprint});
        let input = jwt::signing_input(&header, claims);
        let mut sig = vec![0u8; self.key.public().modulus_len()];
        match self.key.sign(
            &signature::RSA_PKCS1_SHA256,
            &self.rng,
            input.as_bytes(),
            &mut sig,
        ) {
            Ok(()) => format!("{input}.{}", jwt::encode_base64url(&sig)),
            // Signing with a valid key into a correctly sized buffer cannot fail; an unsigned
            // token (rejected by our own verifier) is the harmless fallback.
            Err(_) => format!("{input}."),
        }
    }

    /// Decodes a JWT and checks its RS256 signature against the emulator key.
    pub fn verify(&self, token: &str) -> Option<jwt::DecodedJwt> {
        let d = jwt::decode(token)?;
        if d.header.get("alg").and_then(Value::as_str) != Some("RS256") {
            return None;
        }
        let pk = signature::UnparsedPublicKey::new(
            &signature::RSA_PKCS1_2048_8192_SHA256,
            self.key.public_key().as_ref(),
        );
        pk.verify(d.signing_input.as_bytes(), &d.signature).ok()?;
        Some(d)
    }

    /// The JSON Web Key Set for the emulator key.
    pub fn jwks(&self) -> Value {
        let c: RsaPublicKeyComponents<Vec<u8>> = self.key.public().into();
        json!({"keys":[{
            "kty":"RSA","use":"sig","alg":"RS256",
            "kid":self.thumbprint,"x5t":self.thumbprint,
            "n":jwt::encode_base64url(&c.n),"e":jwt::encode_base64url(&c.e)
        }]})
    }
}

//! How the client proves its identity to Entra ID: a client secret, a certificate (signed client
//! assertion), a workload-identity token file, a managed identity used as a federated credential,
//! or a caller-supplied token provider. `Debug` never shows a secret, assertion or key.

mod certificate;
mod der;
mod files;
mod managed_identity;
mod provider;

pub use certificate::{CertificateKey, ASSERTION_LIFETIME_SECS};
pub(crate) use files::FileStamp;
#[cfg(feature = "fuzzing")]
pub(crate) use managed_identity::read_token as managed_identity_token;
pub use managed_identity::{DEFAULT_IMDS_ENDPOINT, FEDERATION_AUDIENCE};
pub use provider::{ProvidedToken, TokenProvider};

use crate::error::{Error, Result};
use crate::http::Http;
use crate::secret::SecretString;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// `client_assertion_type` of every assertion form
/// (https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow#second-case-access-token-request-with-a-certificate).
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The certificate form's sources. The chain and the key each come from inline PEM or a file;
/// with no key source the key is read from the certificate source (one PEM holding both). Files
/// are re-read at each token fetch, so a rotated mount is picked up without a restart.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CertificateCredential {
    /// PEM: the app certificate first, then its chain.
    pub certificate_pem: Option<String>,
    pub certificate_path: Option<String>,
    /// PEM private key, PKCS#8 (`BEGIN PRIVATE KEY`) or PKCS#1 (`BEGIN RSA PRIVATE KEY`).
    pub private_key_pem: Option<SecretString>,
    pub private_key_path: Option<String>,
    /// Also send the chain as `x5c` (needed for subject name + issuer authentication).
    pub send_x5c: bool,
}

/// A managed identity whose token for `api://AzureADTokenExchange` is the client assertion
/// (https://learn.microsoft.com/en-us/entra/workload-id/workload-identity-federation-config-app-trust-managed-identity).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ManagedIdentityCredential {
    /// Client id of a user-assigned identity; `None` = the system-assigned one.
    pub client_id: Option<String>,
    /// Identity endpoint. `None` = the Azure Instance Metadata Service at
    /// `http://169.254.169.254/metadata/identity/oauth2/token`, or the App Service endpoint when
    /// `identity_header` is set.
    pub endpoint: Option<String>,
    /// App Service / Container Apps `IDENTITY_HEADER`, sent as `X-IDENTITY-HEADER`; selects that
    /// protocol instead of IMDS.
    pub identity_header: Option<SecretString>,
}

/// The credential of a [`crate::ClientConfig`]. In JSON: `{"type": "certificate", ...}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Credential {
    /// A client secret (the same as `ClientConfig::client_secret`).
    Secret {
        secret: SecretString,
    },
    /// A client secret read from this file (a Kubernetes secret mount or the Key Vault CSI
    /// driver folder), re-read at each token fetch so a rotated secret needs no restart.
    SecretFile {
        path: String,
    },
    Certificate(CertificateCredential),
    /// Workload identity federation: the assertion is the content of this file (AKS writes it
    /// at `AZURE_FEDERATED_TOKEN_FILE` and refreshes it), re-read at each token fetch.
    FederatedTokenFile {
        path: String,
    },
    ManagedIdentity(ManagedIdentityCredential),
    /// Tokens come from the caller (an engine's own vault); no Entra request is made.
    #[serde(skip)]
    Provider(Arc<dyn TokenProvider>),
}

/// What a token request carries to prove who we are.
pub(crate) enum ClientAuth {
    Secret(SecretString),
    Assertion(SecretString),
}

impl ClientAuth {
    /// The form fields, in order.
    pub fn form_fields(&self) -> Vec<(&'static str, &str)> {
        match self {
            ClientAuth::Secret(s) => vec![("client_secret", s.expose())],
            ClientAuth::Assertion(a) => vec![
                ("client_assertion_type", JWT_BEARER),
                ("client_assertion", a.expose()),
            ],
        }
    }
}

/// A credential ready for use: parsed once, with what must be re-read at each fetch.
pub(crate) struct CredentialSource {
    credential: Credential,
    client_id: String,
    certificate: files::CachedCertificate,
}

impl CredentialSource {
    pub fn new(credential: Credential, client_id: &str) -> CredentialSource {
        CredentialSource {
            credential,
            client_id: client_id.to_string(),
            certificate: files::CachedCertificate::default(),
        }
    }

    pub fn provider(&self) -> Option<&Arc<dyn TokenProvider>> {
        match &self.credential {
            Credential::Provider(p) => Some(p),
            _ => None,
        }
    }

    /// The client authentication for one token request to `token_url`.
    pub async fn client_auth(&self, http: &Http, token_url: &str) -> Result<ClientAuth> {
        match &self.credential {
            Credential::Secret { secret } => Ok(ClientAuth::Secret(secret.clone())),
            Credential::SecretFile { path } => {
                Ok(ClientAuth::Secret(files::read_secret_file(path)?))
            }
            Credential::Certificate(c) => {
                let key = self.certificate.load(c)?;
                Ok(ClientAuth::Assertion(key.assertion(
                    &self.client_id,
                    token_url,
                    c.send_x5c,
                )?))
            }
            Credential::FederatedTokenFile { path } => {
                Ok(ClientAuth::Assertion(files::read_token_file(path)?))
            }
            Credential::ManagedIdentity(mi) => Ok(ClientAuth::Assertion(
                managed_identity::fetch_assertion(http, mi).await?,
            )),
            Credential::Provider(_) => Err(Error::configuration(
                "a token provider makes no Entra request",
            )),
        }
    }

    pub fn kind_name(&self) -> &'static str {
        self.credential.kind_name()
    }

    /// Whether a refusal of this credential means "wrong credential", the answer that makes a
    /// rotation fall back to the previous one: AADSTS7000215 for a secret, AADSTS700027 for a
    /// certificate or assertion
    /// (https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes).
    pub fn is_refused(error: &Error) -> bool {
        matches!(
            error.inner_code.as_deref(),
            Some("AADSTS7000215" | "AADSTS700027")
        )
    }

    /// What the credential's files look like now (size, modification time, inode of each), so
    /// that a memory about the credential ("Entra refuses it") can end when they change. Empty
    /// for a credential held in memory, which never changes.
    pub fn files_stamp(&self) -> Vec<files::FileStamp> {
        let paths: Vec<&str> = match &self.credential {
            Credential::SecretFile { path } | Credential::FederatedTokenFile { path } => {
                vec![path]
            }
            Credential::Certificate(c) => [&c.certificate_path, &c.private_key_path]
                .into_iter()
                .flatten()
                .map(String::as_str)
                .collect(),
            _ => Vec::new(),
        };
        paths.into_iter().map(files::FileStamp::of).collect()
    }

    /// When the credential itself expires, where that is known (a certificate's notAfter).
    pub fn expires_at(&self) -> Option<Timestamp> {
        match &self.credential {
            Credential::Certificate(c) => self.certificate.load(c).ok().map(|k| k.not_after),
            _ => None,
        }
    }
}

impl Credential {
    /// Checks what can be checked without the network (a certificate is parsed and matched
    /// with its key).
    pub fn validate(&self) -> Result<()> {
        match self {
            Credential::Secret { secret } if secret.is_empty() => {
                Err(Error::configuration("credential.secret is empty"))
            }
            Credential::Secret { .. } | Credential::Provider(_) => Ok(()),
            Credential::Certificate(c) => files::CachedCertificate::default().load(c).map(drop),
            Credential::SecretFile { path } if path.trim().is_empty() => Err(Error::configuration(
                "credential.path (the client secret file) is empty",
            )),
            Credential::SecretFile { .. } => Ok(()),
            Credential::FederatedTokenFile { path } if path.trim().is_empty() => Err(
                Error::configuration("credential.path (the federated token file) is empty"),
            ),
            Credential::FederatedTokenFile { .. } => Ok(()),
            Credential::ManagedIdentity(mi) => managed_identity::validate(mi),
        }
    }

    /// Short name for messages and `doctor`.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Credential::Secret { .. } => "client secret",
            Credential::SecretFile { .. } => "client secret file",
            Credential::Certificate(_) => "certificate",
            Credential::FederatedTokenFile { .. } => "federated token file",
            Credential::ManagedIdentity(_) => "managed identity",
            Credential::Provider(_) => "token provider",
        }
    }
}

//! A caller-supplied token source (an engine's own vault). The token cache still runs
//! single-flight and refresh-ahead around it: the provider is asked once per audience per
//! refresh, however many callers wait.

use crate::error::Result;
use crate::secret::SecretString;
use crate::time::Timestamp;
use crate::token::Audience;

/// A token and when it expires, as the provider reports them.
#[derive(Debug, Clone)]
pub struct ProvidedToken {
    pub token: SecretString,
    pub expires_at: Timestamp,
}

/// Returns an access token for an audience. Called from a blocking-capable thread (it may do
/// I/O); an error should be `ErrorKind::EntraAuth` (refused) or `Network` (try again later).
pub trait TokenProvider: Send + Sync + 'static {
    fn token(&self, audience: Audience) -> Result<ProvidedToken>;
}

impl std::fmt::Debug for dyn TokenProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<token provider>")
    }
}

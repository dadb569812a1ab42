//! A managed identity's token for `api://AzureADTokenExchange`, used as the client assertion of
//! the Store app (what Microsoft.StoreServices does), from the Azure Instance Metadata Service
//! (https://learn.microsoft.com/en-us/entra/identity/managed-identities-azure-resources/how-to-use-vm-token#get-a-token-using-http)
//! or the App Service / Container Apps endpoint
//! (https://learn.microsoft.com/en-us/azure/app-service/overview-managed-identity#rest-endpoint-reference).

use super::ManagedIdentityCredential;
use crate::error::{Error, ErrorKind, Result};
use crate::http::scheme::{self, PlainHttp};
use crate::http::{Exchange, Http};
use crate::secret::SecretString;
use serde::Deserialize;
use std::time::Duration;

/// The resource a federated credential's assertion is issued for.
pub const FEDERATION_AUDIENCE: &str = "api://AzureADTokenExchange";

/// The IMDS token endpoint (link-local; the only plain-http non-loopback URL we ever call).
pub const DEFAULT_IMDS_ENDPOINT: &str = "http://169.254.169.254/metadata/identity/oauth2/token";

pub(crate) const MANAGED_IDENTITY_OP: &str = "managed_identity_token";

/// IMDS asks callers to retry 404 (identity not yet assigned), 410 (IMDS restarting), 429 and
/// 5xx with backoff; we make a few attempts and leave longer outages to the next token fetch.
const ATTEMPTS: u32 = 3;

pub(crate) fn validate(mi: &ManagedIdentityCredential) -> Result<()> {
    if mi.identity_header.is_some() && mi.endpoint.is_none() {
        return Err(Error::configuration(
            "managed identity: identity_header (App Service IDENTITY_HEADER) needs its endpoint \
             (IDENTITY_ENDPOINT)",
        ));
    }
    let url = endpoint(mi);
    scheme::check(url, PlainHttp::LoopbackOrImds, "managed identity endpoint")?;
    if mi.client_id.as_deref().is_some_and(|c| c.trim().is_empty()) {
        return Err(Error::configuration(
            "managed identity client_id is empty (omit it for the system-assigned identity)",
        ));
    }
    Ok(())
}

fn endpoint(mi: &ManagedIdentityCredential) -> &str {
    mi.endpoint.as_deref().unwrap_or(DEFAULT_IMDS_ENDPOINT)
}

#[derive(Deserialize)]
struct MiToken {
    access_token: SecretString,
}

pub(crate) async fn fetch_assertion(
    http: &Http,
    mi: &ManagedIdentityCredential,
) -> Result<SecretString> {
    let mut url = url::Url::parse(endpoint(mi))
        .map_err(|e| Error::configuration(format!("managed identity endpoint: {e}")))?;
    let metadata = SecretString::new("true");
    let (api_version, header) = match &mi.identity_header {
        Some(h) => ("2019-08-01", ("X-IDENTITY-HEADER", h)),
        None => ("2018-02-01", ("Metadata", &metadata)),
    };
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("api-version", api_version);
        q.append_pair("resource", FEDERATION_AUDIENCE);
        if let Some(c) = &mi.client_id {
            q.append_pair("client_id", c);
        }
    }
    let mut attempt = 0;
    loop {
        attempt += 1;
        let result = http
            .get_identity_token(url.as_str(), header, MANAGED_IDENTITY_OP)
            .await;
        let retry = match &result {
            Ok(ex) => matches!(ex.status, 404 | 410 | 429 | 500..=599),
            Err(e) => matches!(e.kind, ErrorKind::Network | ErrorKind::Timeout),
        };
        if retry && attempt < ATTEMPTS {
            tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
            continue;
        }
        let ex = result?;
        if !ex.is_success() {
            return Err(Error::new(
                ErrorKind::EntraAuth,
                format!(
                    "the managed identity endpoint refused a token for {FEDERATION_AUDIENCE} (HTTP {}): \
                     check that the identity is assigned to this VM/app{} and that the Store app \
                     registration has a federated credential for it",
                    ex.status,
                    if mi.client_id.is_some() { " (user-assigned: client_id)" } else { "" }
                ),
            )
            .with_status(ex.status));
        }
        return read_token(&ex);
    }
}

/// The assertion in an identity endpoint's 2xx answer.
pub(crate) fn read_token(ex: &Exchange) -> Result<SecretString> {
    let body: MiToken = serde_json::from_slice(&ex.body).map_err(|e| {
        Error::new(
            ErrorKind::MalformedResponse,
            format!("managed identity token response is not the expected JSON: {e}"),
        )
    })?;
    if body.access_token.is_empty() {
        return Err(Error::new(
            ErrorKind::MalformedResponse,
            "managed identity token response has an empty access_token",
        ));
    }
    Ok(body.access_token)
}

//! Stand-ins for the two managed-identity token endpoints a VM or app calls: the Azure Instance
//! Metadata Service (`GET /metadata/identity/oauth2/token`, header `Metadata: true`,
//! https://learn.microsoft.com/en-us/entra/identity/managed-identities-azure-resources/how-to-use-vm-token#get-a-token-using-http)
//! and the App Service / Container Apps endpoint (`IDENTITY_ENDPOINT`, header
//! `X-IDENTITY-HEADER`,
//! https://learn.microsoft.com/en-us/azure/app-service/overview-managed-identity#rest-endpoint-reference).
//! Tokens are signed by the emulator's issuer, so an app with a federated credential naming the
//! identity accepts them as client assertions.

use super::assertion::{self, default_fed_audience, FederatedCredential};
use super::crypto::Signer;
use super::server::Reply;
use super::state::State;
use serde_json::json;

/// A managed identity assigned to "this machine".
#[derive(Debug, Clone)]
struct ManagedIdentity {
    tenant_id: String,
    client_id: String,
    object_id: String,
    system_assigned: bool,
}

/// Every identity assigned to the emulated host, and the App Service `IDENTITY_HEADER`.
#[derive(Debug, Default)]
pub struct ManagedIdentities {
    identities: Vec<ManagedIdentity>,
    header: String,
}

/// Lifetime of a managed-identity token (IMDS hands out ~24 h tokens).
const TOKEN_LIFETIME_SECS: i64 = 24 * 3600;

fn issuer(tenant_id: &str) -> String {
    format!("https://login.microsoftonline.com/{tenant_id}/v2.0")
}

impl ManagedIdentities {
    /// The App Service `IDENTITY_HEADER` value (created on first use).
    pub fn header(&mut self, st_guid: impl FnOnce() -> String) -> String {
        if self.header.is_empty() {
            self.header = st_guid();
        }
        self.header.clone()
    }
}

impl State {
    /// Assigns a managed identity to the emulated host; returns the federated credential (issuer,
    /// subject = the identity's object id, audience) to register on an app that trusts it.
    /// A system-assigned identity replaces the previous one.
    pub fn add_managed_identity(
        &mut self,
        tenant_id: &str,
        client_id: &str,
        system_assigned: bool,
    ) -> FederatedCredential {
        let object_id = self.guid();
        let ids = &mut self.identities.identities;
        if system_assigned {
            ids.retain(|i| !i.system_assigned);
        }
        ids.push(ManagedIdentity {
            tenant_id: tenant_id.to_string(),
            client_id: client_id.to_string(),
            object_id: object_id.clone(),
            system_assigned,
        });
        FederatedCredential {
            issuer: issuer(tenant_id),
            subject: object_id,
            audience: default_fed_audience(),
        }
    }

    pub fn identity_header(&mut self) -> String {
        let fresh = self.guid();
        self.identities.header(|| fresh)
    }
}

/// Which protocol a request came in by, with its proof header.
pub enum Protocol<'a> {
    Imds {
        metadata: Option<&'a str>,
        forwarded: bool,
    },
    AppService {
        identity_header: Option<&'a str>,
    },
}

fn refuse(status: u16, error: &str, description: &str) -> Reply {
    Reply::json(
        status,
        &json!({"error": error, "error_description": description}),
    )
}

/// Handles one managed-identity token GET.
pub fn token(
    st: &mut State,
    signer: &Signer,
    protocol: Protocol<'_>,
    query: &[(String, String)],
) -> Reply {
    match protocol {
        Protocol::Imds {
            metadata,
            forwarded,
        } => {
            if !metadata.is_some_and(|m| m.trim().eq_ignore_ascii_case("true")) {
                return refuse(
                    400,
                    "invalid_request",
                    "Required metadata header not specified",
                );
            }
            // IMDS refuses anything that went through a proxy.
            if forwarded {
                return refuse(400, "invalid_request", "Request came through a proxy");
            }
        }
        Protocol::AppService { identity_header } => {
            let want = st.identity_header();
            if identity_header != Some(want.as_str()) {
                return refuse(
                    401,
                    "invalid_request",
                    "X-IDENTITY-HEADER is missing or wrong",
                );
            }
        }
    }
    let param = |k: &str| {
        query
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(k))
            .map(|(_, v)| v.as_str())
    };
    if param("api-version").is_none() {
        return refuse(400, "invalid_request", "api-version is required");
    }
    let Some(resource) = param("resource") else {
        return refuse(400, "invalid_request", "resource is required");
    };
    if resource.trim_end_matches('/') != default_fed_audience() {
        return refuse(
            400,
            "invalid_resource",
            "The emulator's identity endpoint issues tokens for api://AzureADTokenExchange only",
        );
    }
    let found = match param("client_id") {
        Some(c) => st
            .identities
            .identities
            .iter()
            .find(|i| i.client_id.eq_ignore_ascii_case(c)),
        None => st.identities.identities.iter().find(|i| i.system_assigned),
    }
    .cloned();
    let Some(id) = found else {
        return refuse(400, "invalid_request", "Identity not found");
    };
    let now = st.now().unix_seconds();
    let token = assertion::mint_subject_token(
        signer,
        now,
        &issuer(&id.tenant_id),
        &id.object_id,
        resource,
        TOKEN_LIFETIME_SECS,
    );
    Reply::json(
        200,
        &json!({
            "access_token": token,
            "client_id": id.client_id,
            "expires_in": TOKEN_LIFETIME_SECS.to_string(),
            "expires_on": (now + TOKEN_LIFETIME_SECS).to_string(),
            "ext_expires_in": TOKEN_LIFETIME_SECS.to_string(),
            "not_before": now.to_string(),
            "resource": resource,
            "token_type": "Bearer",
        }),
    )
}

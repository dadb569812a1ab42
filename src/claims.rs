//! Names fixed by Microsoft: token audiences, Store ID key audiences and claim URIs, from
//! <https://learn.microsoft.com/en-us/windows/uwp/monetize/view-and-grant-products-from-a-service>
//! and <https://learn.microsoft.com/en-us/gaming/gdk/_content/gc/commerce/service-to-service/xstore-requesting-a-userstoreid>.

/// Audience of the service token sent as `Authorization: Bearer` on every Store call.
pub const AUDIENCE_SERVICE: &str = "https://onestore.microsoft.com";
/// Audience of the token a game client uses to mint a UserCollectionsId.
pub const AUDIENCE_COLLECTIONS_KEY_CREATE: &str =
    "https://onestore.microsoft.com/b2b/keys/create/collections";
/// Audience of the token a game client uses to mint a UserPurchaseId.
pub const AUDIENCE_PURCHASE_KEY_CREATE: &str =
    "https://onestore.microsoft.com/b2b/keys/create/purchase";

/// `aud`/`iss` of a UserCollectionsId.
pub const KEY_AUDIENCE_COLLECTIONS: &str = "https://collections.mp.microsoft.com/v6.0/keys";
/// `aud`/`iss` of a UserPurchaseId.
pub const KEY_AUDIENCE_PURCHASE: &str = "https://purchase.mp.microsoft.com/v6.0/keys";

/// Claim URI prefix used by UWP docs, the official library and the emulator.
pub const CLAIM_PREFIX_HTTP: &str = "http://schemas.microsoft.com/marketplace/2015/08/claims/key/";
/// Claim URI prefix written by the GDK documentation; read as a fallback.
pub const CLAIM_PREFIX_HTTPS: &str =
    "https://schemas.microsoft.com/marketplace/2015/08/claims/key/";

pub const CLAIM_CLIENT_ID: &str = "clientId";
pub const CLAIM_PAYLOAD: &str = "payload";
pub const CLAIM_USER_ID: &str = "userId";
pub const CLAIM_REFRESH_URI: &str = "refreshUri";

/// Default public hosts.
pub const DEFAULT_LOGIN_BASE: &str = "https://login.microsoftonline.com";
pub const DEFAULT_COLLECTIONS_BASE: &str = "https://collections.mp.microsoft.com";
pub const DEFAULT_PURCHASE_BASE: &str = "https://purchase.mp.microsoft.com";

/// Compares Entra client ids the way the Store does in practice: case-insensitive, dashes ignored.
pub fn client_ids_match(a: &str, b: &str) -> bool {
    let norm = |s: &str| -> String {
        s.chars()
            .filter(|c| *c != '-' && *c != '{' && *c != '}')
            .flat_map(char::to_lowercase)
            .collect()
    };
    norm(a) == norm(b)
}

#[cfg(test)]
mod tests {
    #[test]
    fn client_id_comparison_ignores_dashes_and_case() {
        assert!(super::client_ids_match(
            "b6e0d7c2-41a8-4f3e-9d25-0c7a18e4f9b6",
            "B6E0D7C241A84F3E9D250C7A18E4F9B6"
        ));
        assert!(!super::client_ids_match("abc", "abd"));
    }
}

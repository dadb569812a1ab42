//! Names fixed by Microsoft that the emulated services issue and check: token audiences, Store
//! ID key audiences and claim names. The emulator's own copy, kept apart from the client's.

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

/// Claim URI prefix the emulator writes (that of the UWP docs and the official library).
pub const CLAIM_PREFIX_HTTP: &str = "http://schemas.microsoft.com/marketplace/2015/08/claims/key/";

pub const CLAIM_CLIENT_ID: &str = "clientId";
pub const CLAIM_PAYLOAD: &str = "payload";
pub const CLAIM_USER_ID: &str = "userId";
pub const CLAIM_REFRESH_URI: &str = "refreshUri";

/// Compares Entra client ids the way the Store does in practice: case-insensitive, dashes and
/// braces ignored.
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
    fn client_ids_compare_without_case_dashes_or_braces() {
        assert!(super::client_ids_match("{ABC-def}", "abcdef"));
        assert!(!super::client_ids_match("abc", "abd"));
    }
}

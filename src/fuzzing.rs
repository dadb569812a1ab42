//! Not part of the API: entry points for the fuzz targets in `fuzz/` (feature `fuzzing`). Each
//! feeds untrusted bytes to the same parser the client uses on that input, so a fuzz target
//! reaches code that is private to the crate. Every function must return, never panic, but
//! for one deliberate check: the fast query-page reader disagreeing with serde.

use crate::client::{parse_body, parse_kept, parse_success};
use crate::collections::{EntitlementItem, QueryPage};
use crate::http::Exchange;
use crate::paging::{Page, PageWire};
use crate::time::Timestamp;

/// A Store ID key (Collections or Purchase), as the client decodes it before any request.
pub fn store_id_key(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(key) = crate::StoreIdKey::decode(text) {
            let _ = key.describe(Timestamp::now(), std::time::Duration::from_secs(3600));
        }
    }
}

/// A JSON client configuration, then its validation (what `msstore_client_new_from_json` does
/// before starting a runtime).
pub fn client_config_json(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(config) = crate::ClientConfig::from_json(text) {
            let _ = config.validate();
        }
    }
}

/// A JSON ledger configuration, then its validation.
pub fn ledger_config_json(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(config) = crate::LedgerConfig::from_json(text) {
            let _ = config.validate();
        }
    }
}

/// The service answers the client parses, one per `Response::ALL` entry.
#[derive(Debug, Clone, Copy)]
pub enum Response {
    /// A Collections query page (v6, v8 and v9 share its shape).
    QueryPage,
    ConsumeResult,
    GrantOrder,
    RecurrencePage,
    RecurrenceChange,
    ClawbackOrdersPage,
    EntraToken,
    ManagedIdentityToken,
    /// A clawback event as the queue's `MessageText` carries it (base64 or JSON).
    ClawbackEvent,
    /// The clawback queue's `<QueueMessagesList>` XML, each message's event decoded too.
    QueueMessages,
}

impl Response {
    pub const ALL: [Response; 10] = [
        Response::QueryPage,
        Response::ConsumeResult,
        Response::GrantOrder,
        Response::RecurrencePage,
        Response::RecurrenceChange,
        Response::ClawbackOrdersPage,
        Response::EntraToken,
        Response::ManagedIdentityToken,
        Response::ClawbackEvent,
        Response::QueueMessages,
    ];
}

/// Parses `body` answered with `status` as `which`, success and error bodies alike.
pub fn response(which: Response, status: u16, body: &[u8]) {
    let ex = Exchange {
        status,
        body: body.to_vec(),
        ms_cv: None,
        correlation_id: None,
        retry_after: None,
        maybe_applied_earlier: false,
    };
    match which {
        Response::QueryPage => {
            if let Ok(raw) = std::str::from_utf8(body) {
                crate::collections::fast_page::answers_as_serde(raw);
            }
            if let Ok(parsed) = parse_kept::<PageWire<EntitlementItem>>("query", ex) {
                let page: QueryPage = parsed.into();
                let _ = crate::collections::dedupe(page.items, true);
            }
        }
        Response::ConsumeResult => {
            let _ = parse_success::<crate::ConsumeResult>("consume", &ex);
        }
        Response::GrantOrder => {
            let _ = parse_body::<crate::Order>("grant", &ex);
            let _ = crate::service_error::store_error("grant", &ex);
        }
        Response::RecurrencePage => {
            let _ =
                parse_kept::<PageWire<crate::RecurrenceItem>>("recurrences", ex).map(Page::from);
        }
        Response::RecurrenceChange => {
            let _ = crate::purchase::parse_change(&ex);
        }
        Response::ClawbackOrdersPage => {
            let _ = parse_kept::<PageWire<crate::clawback::ClawbackOrder>>("clawback", ex)
                .map(Page::from);
        }
        Response::EntraToken => {
            let _ = crate::token::read_token_response(&ex, Timestamp::now());
            let _ = crate::service_error::entra_error("https://onestore.microsoft.com", &ex);
        }
        Response::ManagedIdentityToken => {
            let _ = crate::credential::managed_identity_token(&ex);
        }
        Response::ClawbackEvent => {
            if let Ok(text) = std::str::from_utf8(body) {
                let _ = crate::clawback::ClawbackEvent::decode(text);
            }
        }
        Response::QueueMessages => {
            if let Ok(messages) = crate::clawback::queue::parse_messages(body) {
                messages.iter().for_each(|m| drop(m.decode_event()));
            }
            let _ = crate::clawback::queue::queue_error("receive", &ex);
        }
    }
}

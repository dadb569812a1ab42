//! The emulated clawback queue (https://learn.microsoft.com/en-us/gaming/gdk/_content/gc/commerce/service-to-service/microsoft-store-apis/xstore-v8-clawbackv2-sastoken): SAS issuance and validation, and the
//! Azure Queue REST operations Get, Peek and Delete, all on the virtual clock and answered in
//! Azure's XML. One queue (`clawback`) serves every app of the emulator.
//!
//! Behaviour modelled: SAS expiry (`se`) enforced with 403 `AuthenticationFailed`; Get hides
//! messages for `visibilitytimeout` and bumps `DequeueCount`, issuing a new pop receipt each
//! time (which supersedes the previous one); Delete checks the receipt (400
//! `PopReceiptMismatch`) and existence (404 `MessageNotFound`); messages expire after the
//! `queue_message_ttl_secs` knob; `MessageText` is base64 or base64url per the
//! `queue_base64url` knob.

use super::router::Route;
use super::server::Reply;
use super::state::State;
use crate::time::Timestamp;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use hyper::Method;
use serde::Serialize;

pub const QUEUE_NAME: &str = "clawback";
const SAS_VERSION: &str = "2021-10-04";
const MAX_VISIBILITY_SECS: i64 = 7 * 24 * 3600;

#[derive(Debug, Clone, Serialize)]
pub struct QueuedMessage {
    pub message_id: String,
    pub text: String,
    pub inserted: Timestamp,
    pub expires: Timestamp,
    pub visible_at: Timestamp,
    pub dequeue_count: u32,
    /// The receipt of the latest Get; earlier ones are superseded.
    #[serde(skip)]
    pub pop_receipt: Option<String>,
}

#[derive(Debug, Clone)]
struct SasGrant {
    sig: String,
    expires: Timestamp,
}

#[derive(Debug, Default)]
pub struct EmuQueue {
    messages: Vec<QueuedMessage>,
    grants: Vec<SasGrant>,
}

impl EmuQueue {
    /// Drops messages whose time to live ran out.
    fn purge(&mut self, now: Timestamp) {
        self.messages.retain(|m| m.expires > now);
    }

    pub fn messages(&mut self, now: Timestamp) -> &[QueuedMessage] {
        self.purge(now);
        &self.messages
    }

    pub fn clear(&mut self) {
        self.messages.clear();
    }
}

impl State {
    /// Puts one message on the queue; `json` is encoded per the `queue_base64url` knob.
    pub fn enqueue_message(&mut self, json: &str) -> String {
        let text = if self.knobs.queue_base64url {
            URL_SAFE_NO_PAD.encode(json)
        } else {
            STANDARD.encode(json)
        };
        self.enqueue_raw(text)
    }

    /// Puts `text` on the queue as is (tests use it for undecodable messages).
    pub fn enqueue_raw(&mut self, text: String) -> String {
        let now = self.now();
        let ttl = i64::try_from(self.knobs.queue_message_ttl_secs).unwrap_or(i64::MAX / 4);
        let message_id = self.guid();
        self.queue.messages.push(QueuedMessage {
            message_id: message_id.clone(),
            text,
            inserted: now,
            expires: now.add_secs(ttl),
            visible_at: now,
            dequeue_count: 0,
            pop_receipt: None,
        });
        message_id
    }

    /// `GET /purchase/v8.0/b2b/clawback/sastoken`: a fresh read+process SAS. `expiresOn` has
    /// minute precision, as the real service writes it, and is exactly what the queue enforces.
    pub fn issue_sas(&mut self, base_url: &str) -> serde_json::Value {
        let now = self.now();
        let lifetime = i64::try_from(self.knobs.sas_lifetime_secs.max(60)).unwrap_or(21_600);
        let end = now.add_secs(lifetime);
        let expires = Timestamp::from_unix(end.unix_seconds() - end.unix_seconds().rem_euclid(60));
        let mut sig = [0u8; 32];
        self.rng.fill(&mut sig);
        let sig = STANDARD.encode(sig);
        self.queue.grants.push(SasGrant {
            sig: sig.clone(),
            expires,
        });
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let minute = |t: Timestamp| {
            let (y, mo, d, h, mi, _) = t.to_civil();
            format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}Z")
        };
        let uri = format!(
            "{base_url}/queue/{QUEUE_NAME}?sv={SAS_VERSION}&spr=https,http&st={}&se={}&sp=rp&sig={}",
            enc(&now.to_iso()),
            enc(&minute(expires)),
            enc(&sig)
        );
        serde_json::json!({ "expiresOn": minute(expires), "uri": uri })
    }
}

fn xml_reply(status: u16, body: String) -> Reply {
    Reply {
        status,
        body: Some(body.into_bytes()),
        headers: vec![
            ("Content-Type".into(), "application/xml".into()),
            ("x-ms-version".into(), SAS_VERSION.into()),
        ],
        audience: None,
    }
}

/// An Azure Storage error document.
fn xml_error(status: u16, code: &str, message: &str) -> Reply {
    let mut r = xml_reply(
        status,
        format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>{}</Code><Message>{}\nRequestId:{}\nTime:{}</Message></Error>",
            escape(code),
            escape(message),
            uuid::Uuid::new_v4(),
            Timestamp::now().to_iso()
        ),
    );
    r.headers.push(("x-ms-error-code".into(), code.into()));
    r
}

fn param<'a>(q: &'a [(String, String)], name: &str) -> Option<&'a str> {
    q.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// An integer query parameter within `lo..=hi`, or its default.
fn int_param(
    q: &[(String, String)],
    name: &str,
    default: i64,
    lo: i64,
    hi: i64,
) -> Result<i64, Reply> {
    let Some(v) = param(q, name) else {
        return Ok(default);
    };
    match v.trim().parse::<i64>() {
        Ok(n) if (lo..=hi).contains(&n) => Ok(n),
        Ok(_) => Err(xml_error(
            400,
            "OutOfRangeQueryParameterValue",
            &format!("The value for one of the query parameters specified in the request URI is outside the permitted range. {name} must be {lo}..{hi}."),
        )),
        Err(_) => Err(xml_error(
            400,
            "InvalidQueryParameterValue",
            &format!("Value for one of the query parameters specified in the request URI is invalid: {name}."),
        )),
    }
}

/// SAS check: a signature we issued, not expired on the virtual clock, with read+process.
fn authorize(st: &State, q: &[(String, String)]) -> Result<(), Reply> {
    let fail = |why: &str| {
        xml_error(
            403,
            "AuthenticationFailed",
            &format!("Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature. {why}"),
        )
    };
    let sig = param(q, "sig").ok_or_else(|| fail("No signature."))?;
    let grant = st
        .queue
        .grants
        .iter()
        .find(|g| g.sig == sig)
        .ok_or_else(|| fail("Signature did not match."))?;
    if st.now() >= grant.expires {
        return Err(fail("Signed expiry time has passed."));
    }
    let sp = param(q, "sp").unwrap_or("");
    if !(sp.contains('r') && sp.contains('p')) {
        return Err(fail("Permissions are not sufficient (sp)."));
    }
    Ok(())
}

fn message_xml(m: &QueuedMessage, with_receipt: bool) -> String {
    let mut s = format!(
        "<QueueMessage><MessageId>{}</MessageId><InsertionTime>{}</InsertionTime><ExpirationTime>{}</ExpirationTime>",
        escape(&m.message_id),
        m.inserted.to_rfc1123(),
        m.expires.to_rfc1123()
    );
    if with_receipt {
        s.push_str(&format!(
            "<PopReceipt>{}</PopReceipt><TimeNextVisible>{}</TimeNextVisible>",
            escape(m.pop_receipt.as_deref().unwrap_or("")),
            m.visible_at.to_rfc1123()
        ));
    }
    s.push_str(&format!(
        "<DequeueCount>{}</DequeueCount><MessageText>{}</MessageText></QueueMessage>",
        m.dequeue_count,
        escape(&m.text)
    ));
    s
}

fn list_xml(items: &[String]) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><QueueMessagesList>{}</QueueMessagesList>",
        items.concat()
    )
}

/// Handles one queue request (routes `queue_get`, `queue_peek`, `queue_delete`).
pub fn handle(st: &mut State, route: &Route, method: &Method, query: &[(String, String)]) -> Reply {
    let queue = match route {
        Route::QueueGet { queue }
        | Route::QueuePeek { queue }
        | Route::QueueDelete { queue, .. } => queue,
        _ => return xml_error(400, "InvalidUri", "Not a queue route."),
    };
    if !queue.eq_ignore_ascii_case(QUEUE_NAME) {
        return xml_error(404, "QueueNotFound", "The specified queue does not exist.");
    }
    if let Err(r) = authorize(st, query) {
        return r;
    }
    let now = st.now();
    st.queue.purge(now);
    match (route, method) {
        (Route::QueuePeek { .. }, &Method::GET) => {
            let n = match int_param(query, "numofmessages", 1, 1, 32) {
                Ok(n) => n as usize,
                Err(r) => return r,
            };
            let items: Vec<String> = st
                .queue
                .messages
                .iter()
                .filter(|m| m.visible_at <= now)
                .take(n)
                .map(|m| message_xml(m, false))
                .collect();
            xml_reply(200, list_xml(&items))
        }
        (Route::QueueGet { .. }, &Method::GET) => {
            let (n, vt) = match (
                int_param(query, "numofmessages", 1, 1, 32),
                int_param(query, "visibilitytimeout", 30, 1, MAX_VISIBILITY_SECS),
            ) {
                (Ok(n), Ok(vt)) => (n as usize, vt),
                (Err(r), _) | (_, Err(r)) => return r,
            };
            let ids: Vec<usize> = st
                .queue
                .messages
                .iter()
                .enumerate()
                .filter(|(_, m)| m.visible_at <= now)
                .take(n)
                .map(|(i, _)| i)
                .collect();
            let mut items = Vec::new();
            for i in ids {
                let mut receipt = [0u8; 16];
                st.rng.fill(&mut receipt);
                let m = &mut st.queue.messages[i];
                m.dequeue_count += 1;
                m.pop_receipt = Some(STANDARD.encode(receipt));
                m.visible_at = now.add_secs(vt);
                items.push(message_xml(m, true));
            }
            xml_reply(200, list_xml(&items))
        }
        (Route::QueueDelete { id, .. }, &Method::DELETE) => {
            let Some(receipt) = param(query, "popreceipt").filter(|r| !r.is_empty()) else {
                return xml_error(
                    400,
                    "MissingRequiredQueryParameter",
                    "A query parameter that's mandatory for this request is not specified: popreceipt.",
                );
            };
            let Some(pos) = st.queue.messages.iter().position(|m| &m.message_id == id) else {
                return xml_error(
                    404,
                    "MessageNotFound",
                    "The specified message does not exist.",
                );
            };
            if st.queue.messages[pos].pop_receipt.as_deref() != Some(receipt) {
                return xml_error(
                    400,
                    "PopReceiptMismatch",
                    "The specified pop receipt did not match the pop receipt for a dequeued message.",
                );
            }
            st.queue.messages.remove(pos);
            Reply::empty(204)
        }
        _ => xml_error(
            405,
            "UnsupportedHttpVerb",
            "The resource doesn't support the specified HTTP verb.",
        ),
    }
}

/// Escapes text for an XML element body.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

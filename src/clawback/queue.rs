//! Clawback v2 queue operations over the Azure Queue REST protocol
//! (<https://learn.microsoft.com/en-us/gaming/gdk/_content/gc/commerce/service-to-service/xstore-managing-refunds-and-chargebacks>):
//! Get (receive), Peek and Delete, authorised by the SAS in the query string, answered in XML
//! (<https://learn.microsoft.com/en-us/rest/api/storageservices/get-messages>,
//! <https://learn.microsoft.com/en-us/rest/api/storageservices/peek-messages>,
//! <https://learn.microsoft.com/en-us/rest/api/storageservices/delete-message2>).
//!
//! Processing loop: receive (≤ 32) → decode → reconcile durably → delete with the pop receipt.
//! A delete can fail in two expected ways that a loop must tolerate:
//! `PopReceiptMismatch` (a later Get superseded this receipt; the message will be delivered
//! again) and `MessageNotFound` (already deleted or expired).

use super::event::ClawbackEvent;
use super::sas::SasToken;
use super::xml;
use crate::client::Core;
use crate::error::{Error, ErrorDetails, ErrorKind, Result};
use crate::http::{Exchange, RequestSpec, RetryOn};
use crate::time::Timestamp;
use serde::Serialize;

/// Azure limits: 1..=32 messages per Get, visibility timeout 1 s ..= 7 days.
pub const MAX_MESSAGES: u32 = 32;
pub const MAX_VISIBILITY_TIMEOUT_SECS: u32 = 7 * 24 * 3600;

/// What to receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceiveOptions {
    /// 1..=32 (default 32).
    pub max_messages: u32,
    /// How long received messages stay hidden from other consumers, 1 s ..= 7 days (default
    /// 30 s). Delete before it lapses, or the message is delivered again.
    pub visibility_timeout_secs: u32,
}

impl Default for ReceiveOptions {
    fn default() -> Self {
        ReceiveOptions {
            max_messages: MAX_MESSAGES,
            visibility_timeout_secs: 30,
        }
    }
}

impl ReceiveOptions {
    fn validate(&self) -> Result<()> {
        check_count(self.max_messages)?;
        if !(1..=MAX_VISIBILITY_TIMEOUT_SECS).contains(&self.visibility_timeout_secs) {
            return Err(Error::invalid_argument(format!(
                "visibility timeout must be 1..={MAX_VISIBILITY_TIMEOUT_SECS} seconds, got {}",
                self.visibility_timeout_secs
            )));
        }
        Ok(())
    }
}

fn check_count(n: u32) -> Result<()> {
    if !(1..=MAX_MESSAGES).contains(&n) {
        return Err(Error::invalid_argument(format!(
            "number of messages must be 1..={MAX_MESSAGES}, got {n}"
        )));
    }
    Ok(())
}

/// One queue message. `pop_receipt` and `time_next_visible` are absent on peeked messages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct QueueMessage {
    pub message_id: String,
    /// Needed to delete the message; superseded by the next Get of the same message.
    pub pop_receipt: Option<String>,
    /// How many times the message has been received (1 on first delivery).
    pub dequeue_count: u32,
    pub insertion_time: Option<Timestamp>,
    pub expiration_time: Option<Timestamp>,
    pub time_next_visible: Option<Timestamp>,
    /// `MessageText` as received (base64 of the event JSON).
    pub text: String,
}

impl QueueMessage {
    /// Decodes the clawback event in `text`. A failure has kind `InvalidClawbackEvent`.
    pub fn decode_event(&self) -> Result<ClawbackEvent> {
        ClawbackEvent::decode(&self.text).map_err(|mut e| {
            e.message = format!("message {}: {}", self.message_id, e.message);
            e
        })
    }
}

/// Parses a `<QueueMessagesList>` body.
pub(crate) fn parse_messages(body: &[u8]) -> Result<Vec<QueueMessage>> {
    let malformed = |m: String| Error::new(ErrorKind::MalformedResponse, m);
    let text = std::str::from_utf8(body)
        .map_err(|_| malformed("queue: the response is not UTF-8".into()))?;
    let root =
        xml::parse(text).map_err(|e| malformed(format!("queue: the response is not XML: {e}")))?;
    if !root.name.eq_ignore_ascii_case("QueueMessagesList") {
        return Err(malformed(format!(
            "queue: expected <QueueMessagesList>, got <{}>",
            root.name
        )));
    }
    let time = |m: &xml::Element, name: &str| -> Result<Option<Timestamp>> {
        match m.child_text(name).map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(s) => Timestamp::parse_rfc1123(s)
                .or_else(|| Timestamp::parse(s).ok())
                .map(Some)
                .ok_or_else(|| malformed(format!("queue: {name} '{s}' is not a date"))),
        }
    };
    root.children
        .iter()
        .filter(|m| m.name.eq_ignore_ascii_case("QueueMessage"))
        .map(|m| {
            let message_id = m
                .child_text("MessageId")
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .ok_or_else(|| malformed("queue: a message has no MessageId".into()))?
                .to_string();
            let dequeue_count = match m.child_text("DequeueCount").map(str::trim) {
                None | Some("") => 0,
                Some(s) => s
                    .parse()
                    .map_err(|_| malformed(format!("queue: DequeueCount '{s}' is not a number")))?,
            };
            Ok(QueueMessage {
                message_id,
                pop_receipt: m
                    .child_text("PopReceipt")
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string),
                dequeue_count,
                insertion_time: time(m, "InsertionTime")?,
                expiration_time: time(m, "ExpirationTime")?,
                time_next_visible: time(m, "TimeNextVisible")?,
                text: m.child_text("MessageText").unwrap_or("").trim().to_string(),
            })
        })
        .collect()
}

/// Maps a non-2xx queue answer (`<Error><Code>…</Code><Message>…</Message></Error>`).
pub(crate) fn queue_error(op: &str, ex: &Exchange) -> Error {
    let doc = std::str::from_utf8(&ex.body)
        .ok()
        .and_then(|t| xml::parse(t).ok());
    let code = doc
        .as_ref()
        .and_then(|d| d.child_text("Code"))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    let service_message = doc
        .as_ref()
        .and_then(|d| d.child_text("Message"))
        .map(|s| s.lines().next().unwrap_or("").trim().to_string());
    let kind = match (ex.status, code.as_deref()) {
        (400, Some("PopReceiptMismatch")) => ErrorKind::PopReceiptMismatch,
        (404, Some("MessageNotFound")) => ErrorKind::MessageNotFound,
        (404, _) => ErrorKind::NotFound,
        (401, _) | (403, _) => ErrorKind::Unauthorized,
        (429, _) => ErrorKind::Throttled,
        (400, _) => ErrorKind::InvalidArgument,
        (s, _) if s >= 500 => ErrorKind::Network,
        _ => ErrorKind::Service,
    };
    let mut message = match kind {
        ErrorKind::PopReceiptMismatch => format!(
            "{op}: the pop receipt was superseded by a later receive; the message will be delivered again"
        ),
        ErrorKind::MessageNotFound => {
            format!("{op}: the message no longer exists (already deleted or expired)")
        }
        _ => format!("{op} failed with HTTP {}", ex.status),
    };
    if let Some(m) = service_message.filter(|m| !m.is_empty()) {
        message.push_str(": ");
        message.push_str(&m.chars().take(300).collect::<String>());
    }
    Error::with_details(
        kind,
        ErrorDetails {
            message,
            http_status: Some(ex.status),
            service_code: code,
            ms_cv: ex.ms_cv.clone(),
            correlation_id: ex.correlation_id.clone(),
            retry_after: ex.retry_after,
            ..ErrorDetails::default()
        },
    )
}

/// The three queue requests.
enum QueueOp<'a> {
    Get(ReceiveOptions),
    Peek(u32),
    Delete { id: &'a str, pop_receipt: &'a str },
}

impl QueueOp<'_> {
    fn name(&self) -> &'static str {
        match self {
            QueueOp::Get(_) => "clawback_receive",
            QueueOp::Peek(_) => "clawback_peek",
            QueueOp::Delete { .. } => "clawback_delete",
        }
    }

    /// `{queuePath}/messages[/{id}]?{sas}&…`.
    fn url(&self, sas: &SasToken) -> Result<String> {
        let mut u = reqwest::Url::parse(sas.uri.expose())
            .map_err(|_| Error::new(ErrorKind::MalformedResponse, "the queue uri is not a URL"))?;
        {
            let mut segs = u.path_segments_mut().map_err(|_| {
                Error::new(ErrorKind::MalformedResponse, "the queue uri has no path")
            })?;
            segs.pop_if_empty().push("messages");
            if let QueueOp::Delete { id, .. } = self {
                segs.push(id);
            }
        }
        {
            let mut q = u.query_pairs_mut();
            match self {
                QueueOp::Get(o) => {
                    q.append_pair("numofmessages", &o.max_messages.to_string());
                    q.append_pair("visibilitytimeout", &o.visibility_timeout_secs.to_string());
                }
                QueueOp::Peek(n) => {
                    q.append_pair("peekonly", "true");
                    q.append_pair("numofmessages", &n.to_string());
                }
                QueueOp::Delete { pop_receipt, .. } => {
                    q.append_pair("popreceipt", pop_receipt);
                }
            }
        }
        Ok(u.to_string())
    }
}

impl Core {
    /// Sends one queue request with the cached SAS; on 403 fetches a new SAS and tries once more.
    async fn queue_call(&self, op: &QueueOp<'_>) -> Result<Exchange> {
        let mut sas = self.clawback_sas(None).await?;
        let mut renewed = false;
        loop {
            let method = match op {
                QueueOp::Delete { .. } => reqwest::Method::DELETE,
                _ => reqwest::Method::GET,
            };
            let spec = RequestSpec::new(method, op.url(&sas)?, op.name());
            // Get is not idempotent (a lost answer hides messages until their visibility lapses)
            // but retrying it is harmless: they come back. Delete retries are resolved below.
            let ex = self
                .http
                .send(&spec, RetryOn::TransientAndThrottle)
                .await
                .map_err(|f| f.error)?;
            if ex.status == 403 && !renewed {
                // Expired or revoked SAS (AuthenticationFailed), or our clock is ahead of the
                // Store's: a fresh SAS, once.
                renewed = true;
                sas = self.clawback_sas(Some(&sas)).await?;
                continue;
            }
            return Ok(ex);
        }
    }

    pub(crate) async fn clawback_receive(&self, opts: ReceiveOptions) -> Result<Vec<QueueMessage>> {
        opts.validate()?;
        let op = QueueOp::Get(opts);
        let ex = self.queue_call(&op).await?;
        if ex.status != 200 {
            return Err(queue_error(op.name(), &ex));
        }
        parse_messages(&ex.body)
    }

    pub(crate) async fn clawback_peek(&self, max_messages: u32) -> Result<Vec<QueueMessage>> {
        check_count(max_messages)?;
        let op = QueueOp::Peek(max_messages);
        let ex = self.queue_call(&op).await?;
        if ex.status != 200 {
            return Err(queue_error(op.name(), &ex));
        }
        parse_messages(&ex.body)
    }

    pub(crate) async fn clawback_delete(&self, message_id: &str, pop_receipt: &str) -> Result<()> {
        let id = message_id.trim();
        if id.is_empty() || id.len() > 256 || id.contains(['/', '?', '#']) {
            return Err(Error::invalid_argument(format!(
                "'{message_id}' is not a queue message id"
            )));
        }
        if pop_receipt.trim().is_empty() || pop_receipt.len() > 1024 {
            return Err(Error::invalid_argument(
                "the pop receipt is empty or too long (peeked messages have none: receive them)",
            ));
        }
        let op = QueueOp::Delete {
            id,
            pop_receipt: pop_receipt.trim(),
        };
        let ex = self.queue_call(&op).await?;
        match ex.status {
            200 | 204 => Ok(()),
            // An earlier attempt may have deleted it and lost the answer: that is success.
            404 if ex.maybe_applied_earlier => Ok(()),
            _ => Err(queue_error(op.name(), &ex)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::SecretString;

    #[test]
    fn spec_example_get_body() {
        let body = b"<QueueMessagesList><QueueMessage><MessageId>0f1e2d3c-4b5a-4697-8877-665544332211</MessageId><InsertionTime>Tue, 20 Jan 2026 16:40:22 GMT</InsertionTime><ExpirationTime>Tue, 27 Jan 2026 16:40:22 GMT</ExpirationTime><PopReceipt>AgAAAAMAAAAAAAAAx1a9Zr2K3AE=</PopReceipt><TimeNextVisible>Tue, 20 Jan 2026 16:45:52 GMT</TimeNextVisible><DequeueCount>1</DequeueCount><MessageText>eyJpZCI6</MessageText></QueueMessage></QueueMessagesList>";
        let m = parse_messages(body).unwrap();
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].message_id, "0f1e2d3c-4b5a-4697-8877-665544332211");
        assert_eq!(
            m[0].pop_receipt.as_deref(),
            Some("AgAAAAMAAAAAAAAAx1a9Zr2K3AE=")
        );
        assert_eq!(m[0].dequeue_count, 1);
        assert_eq!(
            m[0].insertion_time,
            Timestamp::parse_rfc1123("Tue, 20 Jan 2026 16:40:22 GMT")
        );
        assert_eq!(m[0].text, "eyJpZCI6");
        // A truncated event is an InvalidClawbackEvent, not a crash.
        assert_eq!(
            m[0].decode_event().unwrap_err().kind,
            ErrorKind::InvalidClawbackEvent
        );
    }

    #[test]
    fn bad_bodies_are_malformed() {
        for bad in [
            &b"<Other/>"[..],
            b"<QueueMessagesList><QueueMessage><DequeueCount>1</DequeueCount></QueueMessage></QueueMessagesList>",
            b"<QueueMessagesList><QueueMessage><MessageId>a</MessageId><DequeueCount>x</DequeueCount></QueueMessage></QueueMessagesList>",
            b"<QueueMessagesList><QueueMessage><MessageId>a</MessageId><InsertionTime>soon</InsertionTime></QueueMessage></QueueMessagesList>",
            b"\xff",
            b"{}",
        ] {
            assert_eq!(
                parse_messages(bad).unwrap_err().kind,
                ErrorKind::MalformedResponse
            );
        }
    }

    fn ex(status: u16, body: &str) -> Exchange {
        Exchange {
            status,
            body: body.as_bytes().to_vec(),
            ms_cv: None,
            correlation_id: None,
            retry_after: None,
            maybe_applied_earlier: false,
        }
    }

    #[test]
    fn error_codes_map_to_distinct_kinds() {
        let x = |c: &str| {
            format!("<?xml version=\"1.0\"?><Error><Code>{c}</Code><Message>m\nRequestId:1</Message></Error>")
        };
        let e = queue_error("d", &ex(400, &x("PopReceiptMismatch")));
        assert_eq!(e.kind, ErrorKind::PopReceiptMismatch);
        assert_eq!(e.service_code.as_deref(), Some("PopReceiptMismatch"));
        assert_eq!(
            queue_error("d", &ex(404, &x("MessageNotFound"))).kind,
            ErrorKind::MessageNotFound
        );
        assert_eq!(
            queue_error("d", &ex(404, &x("QueueNotFound"))).kind,
            ErrorKind::NotFound
        );
        assert_eq!(
            queue_error("d", &ex(403, &x("AuthenticationFailed"))).kind,
            ErrorKind::Unauthorized
        );
        assert_eq!(
            queue_error("d", &ex(400, "not xml")).kind,
            ErrorKind::InvalidArgument
        );
    }

    #[test]
    fn urls_keep_the_sas_and_encode_the_receipt() {
        let sas = SasToken {
            uri: SecretString::new("http://127.0.0.1:1/queue/cbq?sv=1&sp=rp&sig=a%2Bb"),
            expires_on: Timestamp::now(),
            renew_at: Timestamp::now(),
        };
        let get = QueueOp::Get(ReceiveOptions::default()).url(&sas).unwrap();
        assert_eq!(
            get,
            "http://127.0.0.1:1/queue/cbq/messages?sv=1&sp=rp&sig=a%2Bb&numofmessages=32&visibilitytimeout=30"
        );
        let del = QueueOp::Delete {
            id: "m1",
            pop_receipt: "Ag+/=",
        }
        .url(&sas)
        .unwrap();
        assert!(del.ends_with("/queue/cbq/messages/m1?sv=1&sp=rp&sig=a%2Bb&popreceipt=Ag%2B%2F%3D"));
        let peek = QueueOp::Peek(5).url(&sas).unwrap();
        assert!(peek.ends_with("&peekonly=true&numofmessages=5"));
    }

    #[test]
    fn option_limits() {
        assert!(ReceiveOptions::default().validate().is_ok());
        for (n, v) in [
            (0, 30),
            (33, 30),
            (1, 0),
            (1, MAX_VISIBILITY_TIMEOUT_SECS + 1),
        ] {
            assert!(ReceiveOptions {
                max_messages: n,
                visibility_timeout_secs: v
            }
            .validate()
            .is_err());
        }
    }
}

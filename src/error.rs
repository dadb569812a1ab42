//! The one error type of the library: a kind that says what the caller should do, plus everything
//! the service told us (HTTP status, ServiceError codes, Entra details, correlation ids).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// What went wrong, grouped by what the caller should do about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// A request field is missing or invalid (caught locally, or 400 from the service).
    InvalidArgument,
    /// The Store ID key is not a decodable key JWT. Ask the game client for a fresh key.
    InvalidKey,
    /// The client configuration is unusable (bad URL, missing tenant, plain http to a remote host).
    Configuration,
    /// Entra ID refused to issue a service token (bad secret, unknown app or tenant, bad scope).
    EntraAuth,
    /// The Store rejected the service token or the Store ID key (401 AuthenticationTokenInvalid
    /// even after a fresh token): renew the key; if renewal fails, the game client must mint one.
    Unauthorized,
    /// Key renewal was refused (401 AuthenticationTokenInvalid): the key is expired, revoked or
    /// past its signing-certificate window. The game client must mint a new key.
    KeyMustBeReminted,
    /// The key's clientId claim differs from the service token's appid (401 InconsistentClientId):
    /// the key was minted for another Entra app. A configuration error; never retry.
    ClientIdMismatch,
    /// 401 PartnerAadTicketRequired: no Entra token reached the service. A programming error.
    MissingServiceToken,
    /// Rate limited (429) and retries ran out; wait `retry_after`.
    Throttled,
    /// Connection failure or 5xx after retries; safe to try again later.
    Network,
    /// The request did not finish within the configured timeout.
    Timeout,
    /// The service answered 404 (or the referenced object does not exist).
    NotFound,
    /// The service refused the request for a business reason (e.g. insufficient quantity).
    Service,
    /// A consume, grant or subscription change may or may not have been applied: resend it
    /// with the id in `tracking_id` (trackingId / transactionId, orderId, recurrenceId).
    ConsumeOutcomeUnknown,
    /// The service answered something we could not understand.
    MalformedResponse,
    /// The operation was canceled by the caller.
    Canceled,
    /// The client is shutting down.
    ShuttingDown,
    /// Clawback queue delete: the pop receipt was superseded by a later Get (400
    /// PopReceiptMismatch). Another consumer (or a retried Get) now holds the message; it will be
    /// delivered again, so drop it from this batch and carry on.
    PopReceiptMismatch,
    /// Clawback queue delete: the message is gone (404 MessageNotFound): already deleted, or its
    /// time to live ran out. Nothing to do.
    MessageNotFound,
    /// A clawback queue message whose text is not a base64 clawback event. Log it; it will keep
    /// coming back until deleted.
    InvalidClawbackEvent,
    /// The consume ledger's database failed (cannot open, write or read it: disk full, file
    /// locked, PostgreSQL unreachable). Nothing was lost that had been recorded; retry later.
    Storage,
    /// The ledger backend named by the options was not compiled into this build (Cargo
    /// features `sqlite` / `postgres`). A build or configuration error; never retry.
    BackendNotCompiled,
    /// A bug in msstore (a caught panic or broken invariant).
    Internal,
}

impl ErrorKind {
    /// Stable snake_case name, as used in JSON output and logs.
    pub fn as_str(&self) -> &'static str {
        match self {
            ErrorKind::InvalidArgument => "invalid_argument",
            ErrorKind::InvalidKey => "invalid_key",
            ErrorKind::Configuration => "configuration",
            ErrorKind::EntraAuth => "entra_auth",
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::KeyMustBeReminted => "key_must_be_reminted",
            ErrorKind::ClientIdMismatch => "client_id_mismatch",
            ErrorKind::MissingServiceToken => "missing_service_token",
            ErrorKind::Throttled => "throttled",
            ErrorKind::Network => "network",
            ErrorKind::Timeout => "timeout",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Service => "service",
            ErrorKind::ConsumeOutcomeUnknown => "consume_outcome_unknown",
            ErrorKind::MalformedResponse => "malformed_response",
            ErrorKind::Canceled => "canceled",
            ErrorKind::ShuttingDown => "shutting_down",
            ErrorKind::PopReceiptMismatch => "pop_receipt_mismatch",
            ErrorKind::MessageNotFound => "message_not_found",
            ErrorKind::InvalidClawbackEvent => "invalid_clawback_event",
            ErrorKind::Storage => "storage",
            ErrorKind::BackendNotCompiled => "backend_not_compiled",
            ErrorKind::Internal => "internal",
        }
    }

    /// Whether the same request may succeed if simply sent again later.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ErrorKind::Throttled | ErrorKind::Network | ErrorKind::Timeout
        )
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Details Entra ID put in its error body
/// (<https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes>).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntraErrorDetails {
    /// `error`, e.g. `invalid_client`.
    pub error: String,
    /// The `AADSTSnnnnnn` codes from `error_codes`.
    pub codes: Vec<u64>,
    pub correlation_id: Option<String>,
    pub trace_id: Option<String>,
}

/// An msstore error. Never carries a secret, token or key. The details live behind a box (reached
/// through `Deref`: `err.http_status`) so that `Result<T, Error>` stays small. The underlying
/// failure, if any, is `std::error::Error::source`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Error {
    pub kind: ErrorKind,
    #[serde(flatten)]
    inner: Box<Inner>,
}

#[derive(Clone, Serialize, Deserialize)]
struct Inner {
    #[serde(flatten)]
    details: ErrorDetails,
    /// The underlying error (reqwest without its URL, rusqlite, tokio-postgres, serde_json, io),
    /// shared so that `Error` stays `Clone`. Only errors that cannot hold a secret go here.
    #[serde(skip)]
    cause: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

/// Two errors are equal by what they say, whatever their causes.
impl PartialEq for Inner {
    fn eq(&self, other: &Inner) -> bool {
        self.details == other.details
    }
}

impl Eq for Inner {}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.kind)
            .field("details", &self.inner.details);
        if let Some(cause) = &self.inner.cause {
            d.field("source", cause);
        }
        d.finish()
    }
}

/// Everything an [`Error`] knows besides its kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetails {
    /// A sentence for humans (logs, CLI). Contains no secrets.
    pub message: String,
    /// HTTP status of the failing response, if a response arrived.
    pub http_status: Option<u16>,
    /// ServiceError `code` (e.g. `Unauthorized`, `BadRequest`).
    pub service_code: Option<String>,
    /// ServiceError `innererror.code` (e.g. `AuthenticationTokenInvalid`, `InconsistentClientId`).
    pub inner_code: Option<String>,
    /// `MS-CV` correlation vector of the failing exchange (ours if the response had none).
    pub ms_cv: Option<String>,
    /// `MS-CorrelationId` / `MS-RequestId` from the response.
    pub correlation_id: Option<String>,
    /// How long the service asked us to wait (429 `Retry-After`).
    pub retry_after: Option<Duration>,
    /// The id to resend with: a consume's trackingId (v6 form B: transactionId), a grant's
    /// orderId, a subscription change's recurrenceId.
    pub tracking_id: Option<String>,
    /// For Entra failures: what Entra said.
    pub entra: Option<EntraErrorDetails>,
}

impl std::ops::Deref for Error {
    type Target = ErrorDetails;
    fn deref(&self) -> &ErrorDetails {
        &self.inner.details
    }
}

impl std::ops::DerefMut for Error {
    fn deref_mut(&mut self) -> &mut ErrorDetails {
        &mut self.inner.details
    }
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error::with_details(
            kind,
            ErrorDetails {
                message: message.into(),
                ..ErrorDetails::default()
            },
        )
    }

    pub fn with_details(kind: ErrorKind, details: ErrorDetails) -> Error {
        Error {
            kind,
            inner: Box::new(Inner {
                details,
                cause: None,
            }),
        }
    }

    /// Keeps `cause` as this error's `source()`. Callers pass only errors that cannot carry a
    /// secret (a reqwest error only after `without_url`: a SAS queue URL holds a signature).
    pub(crate) fn with_source(
        mut self,
        cause: impl std::error::Error + Send + Sync + 'static,
    ) -> Error {
        self.inner.cause = Some(Arc::new(cause));
        self
    }

    pub fn invalid_argument(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::InvalidArgument, message)
    }

    pub fn configuration(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Configuration, message)
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub(crate) fn with_status(mut self, status: u16) -> Error {
        self.http_status = Some(status);
        self
    }

    pub(crate) fn with_ms_cv(mut self, cv: Option<String>) -> Error {
        if self.ms_cv.is_none() {
            self.ms_cv = cv;
        }
        self
    }

    pub(crate) fn with_tracking_id(mut self, id: &str) -> Error {
        self.tracking_id = Some(id.to_string());
        self
    }

    /// The error as one JSON object (what the CLI prints).
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        if let Some(ra) = self.retry_after {
            v["retry_after"] = serde_json::json!(ra.as_secs_f64());
        }
        v
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)?;
        if let Some(s) = self.http_status {
            write!(f, " (HTTP {s}")?;
            if let Some(c) = &self.service_code {
                write!(f, ", {c}")?;
            }
            if let Some(c) = &self.inner_code {
                write!(f, "/{c}")?;
            }
            write!(f, ")")?;
        }
        if let Some(cv) = &self.ms_cv {
            write!(f, " [MS-CV {cv}]")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        let cause = self.inner.cause.as_deref()?;
        Some(cause)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cause_is_kept_apart_from_what_the_error_says() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "gone");
        let with = Error::new(ErrorKind::Storage, "ledger open: gone").with_source(io);
        let without = Error::new(ErrorKind::Storage, "ledger open: gone");
        assert_eq!(with, without);
        let json = with.to_json();
        assert_eq!(json["kind"], "storage");
        assert_eq!(json["message"], "ledger open: gone");
        assert!(
            json.get("cause").is_none() && json.get("details").is_none(),
            "{json}"
        );
        let back: Error = serde_json::from_value(json).unwrap();
        assert_eq!(back, without);
        let source = std::error::Error::source(&with).expect("a source");
        assert_eq!(source.to_string(), "gone");
    }
}

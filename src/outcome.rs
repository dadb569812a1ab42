//! The one rule for calls that change what a player owns (v8 and v6 consume, grant, subscription
//! change): once any attempt of the call may have reached the Store, the call is *done* or
//! *unknown, resend with the same id*; it *failed* only on the Store's own verdict about that id.
//! Everything that reports such an outcome (the Rust API, the ledger, the C ABI, the CLI and
//! the wrappers, which read the Rust outcome) goes through [`settle`].
//!
//! The Store applies a trackingId (consume) or orderId (grant) once and answers a resend with
//! the stored result:
//! <https://learn.microsoft.com/en-us/windows/uwp/monetize/report-consumable-products-as-fulfilled>,
//! <https://learn.microsoft.com/en-us/windows/uwp/monetize/grant-free-products>. A business
//! failure is "a non-2xx ServiceError whose innererror the library surfaces as ConsumeErrorV8"
//! (<https://github.com/microsoft/Microsoft-Store-Services>, `ConsumeErrorV8`): that body is
//! the verdict; a status alone, an auth error or a proxy's page is not.

use crate::error::{Error, ErrorKind};
use crate::http::{Exchange, SendFailure};
use crate::service_error::{inner_error_code, is_one_of, store_error, AUTH_INNER_CODES};

/// Whether an answer with this status leaves open that the Store applied the request: a 5xx
/// (it failed somewhere, perhaps after applying), 408 (the server or a proxy gave up waiting,
/// perhaps mid-way) or 409 (a conflicting request, perhaps our own earlier attempt, is being
/// processed). <https://www.rfc-editor.org/rfc/rfc9110#name-status-codes>
pub(crate) fn answer_may_have_applied(status: u16) -> bool {
    status >= 500 || status == 408 || status == 409
}

/// 4xx statuses that speak about the request's credentials, timing or rate, never about the id:
/// 401/403/407 (auth, proxy auth), 408 (timeout), 409 (conflict), 425 (too early), 429 (rate).
const NEVER_A_VERDICT: [u16; 7] = [401, 403, 407, 408, 409, 425, 429];

/// Whether a non-2xx answer is the Store's verdict about the request's id: a 4xx (not one of
/// [`NEVER_A_VERDICT`]) whose body is a ServiceError with an `innererror` code that is not an
/// auth code, e.g. 400 BadRequest/InsufficientQuantity.
pub(crate) fn is_verdict(ex: &Exchange) -> bool {
    if !(400..500).contains(&ex.status) || NEVER_A_VERDICT.contains(&ex.status) {
        return false;
    }
    inner_error_code(&ex.body).is_some_and(|c| !is_one_of(&c, &AUTH_INNER_CODES))
}

/// How a logical call (every attempt, the one after a forced token refresh included) ended.
pub(crate) enum Settled {
    /// A 2xx answer: applied. The caller reads it; an unreadable one is still applied, so its
    /// outcome is unknown (only a resend can tell how it was applied).
    Answered(Exchange),
    /// Nothing was applied: the Store's verdict, or no attempt could have reached it.
    Failed(Error),
    /// It may have been applied: resend with the same id until it resolves.
    Unknown(Error),
}

/// Settles a logical call. `earlier` says an earlier call with the same id may have reached the
/// Store (the ledger's resends): then only a verdict may fail this one.
pub(crate) fn settle(
    op: &str,
    sent: std::result::Result<Exchange, SendFailure>,
    earlier: bool,
) -> Settled {
    match sent {
        Ok(ex) if ex.is_success() => Settled::Answered(ex),
        Ok(ex) => {
            let reached = earlier || ex.maybe_applied_earlier || answer_may_have_applied(ex.status);
            let err = store_error(op, &ex);
            if reached && !is_verdict(&ex) {
                Settled::Unknown(err)
            } else {
                Settled::Failed(err)
            }
        }
        Err(f) if earlier || f.maybe_applied => Settled::Unknown(f.error),
        Err(f) => Settled::Failed(f.error),
    }
}

/// The error of a call whose outcome is unknown: kind `ConsumeOutcomeUnknown` (consume, grant
/// and subscription change alike), `tracking_id` = the id to resend with (`id_name` names it
/// in the message: trackingId, transactionId, orderId, recurrenceId).
pub(crate) fn unknown_error(what: &str, id_name: &str, id: &str, mut error: Error) -> Error {
    error.message = format!(
        "{what} outcome unknown: it may or may not have been applied ({}); resend with {id_name} {id}",
        error.message
    );
    error.kind = ErrorKind::ConsumeOutcomeUnknown;
    error.tracking_id = Some(id.to_string());
    error
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(status: u16, body: &str, earlier: bool) -> Exchange {
        Exchange {
            status,
            body: body.as_bytes().to_vec(),
            ms_cv: None,
            correlation_id: None,
            retry_after: None,
            maybe_applied_earlier: earlier,
        }
    }

    fn kind(s: Settled) -> &'static str {
        match s {
            Settled::Answered(_) => "answered",
            Settled::Failed(_) => "failed",
            Settled::Unknown(_) => "unknown",
        }
    }

    const INSUFFICIENT: &str =
        r#"{"code":"BadRequest","innererror":{"code":"InsufficientQuantity","message":"no"}}"#;

    #[test]
    fn verdicts_are_documented_error_bodies_only() {
        assert!(is_verdict(&ex(400, INSUFFICIENT, true)));
        assert!(is_verdict(&ex(
            404,
            r#"{"innererror":{"code":"NotOwned"}}"#,
            true
        )));
        for (status, body) in [
            (
                400,
                r#"{"code":"Error","message":"Injected fault: HTTP 400."}"#,
            ),
            (400, ""),
            (400, "<html>proxy</html>"),
            (400, r#"{"innererror":{"code":"  "}}"#),
            (400, r#"{"innererror":"InsufficientQuantity"}"#),
            (
                400,
                r#"{"innererror":{"code":"authenticationtokeninvalid"}}"#,
            ),
            (401, INSUFFICIENT),
            (403, INSUFFICIENT),
            (408, INSUFFICIENT),
            (409, INSUFFICIENT),
            (429, INSUFFICIENT),
            (500, INSUFFICIENT),
        ] {
            assert!(!is_verdict(&ex(status, body, true)), "{status} {body}");
        }
    }

    #[test]
    fn after_a_possible_reach_only_a_verdict_fails() {
        let s =
            |status, body, earlier, prior| kind(settle("c", Ok(ex(status, body, earlier)), prior));
        assert_eq!(s(200, "{}", true, false), "answered");
        assert_eq!(s(400, INSUFFICIENT, true, false), "failed");
        assert_eq!(s(400, INSUFFICIENT, false, true), "failed");
        for status in [400, 401, 403, 404, 408, 409, 429, 500, 503] {
            assert_eq!(
                s(status, "", true, false),
                "unknown",
                "{status} after a drop"
            );
            assert_eq!(
                s(status, "", false, true),
                "unknown",
                "{status} after a resend"
            );
        }
        // A clean first answer that could not have applied anything.
        for status in [400, 401, 403, 404, 429] {
            assert_eq!(s(status, "", false, false), "failed", "{status}");
        }
        // 5xx, 408 and 409 may have been applied even on the first attempt.
        for status in [408, 409, 500, 502] {
            assert_eq!(s(status, "", false, false), "unknown", "{status}");
        }
        let failure = |maybe_applied| SendFailure {
            error: Error::new(ErrorKind::Network, "x"),
            maybe_applied,
        };
        assert_eq!(kind(settle("c", Err(failure(false)), false)), "failed");
        assert_eq!(kind(settle("c", Err(failure(true)), false)), "unknown");
        assert_eq!(kind(settle("c", Err(failure(false)), true)), "unknown");
    }

    #[test]
    fn unknown_error_carries_the_id() {
        let e = unknown_error(
            "grant",
            "orderId",
            "o-1",
            Error::new(ErrorKind::Timeout, "timed out"),
        );
        assert_eq!(e.kind, ErrorKind::ConsumeOutcomeUnknown);
        assert_eq!(e.tracking_id.as_deref(), Some("o-1"));
        assert!(
            e.message.contains("resend with orderId o-1"),
            "{}",
            e.message
        );
    }
}

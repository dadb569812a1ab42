//! The fault sequences of the money-path tests (issue 11): a drop after applying, then each
//! answer that is not a Store verdict. Shared by tests/it/money_path.rs and the CLI's tests.
#![allow(dead_code)]

use crate::ledger_support::*;
use msstore::Client;
use msstore_emulator::FaultKind;

/// The non-verdict answers the issue lists, as the emulator injects them (`status` faults carry
/// a ServiceError with code "Error" or "InternalServerError" and no innererror).
pub const NON_VERDICTS: [u16; 9] = [400, 401, 403, 404, 408, 409, 429, 500, 503];

pub fn status(s: u16) -> FaultKind {
    FaultKind::Status { status: s }
}

/// Two attempts per call: "a drop, then X" is then the whole call (X is its last answer).
pub fn two_attempts(w: &World) -> Client {
    w.client_with(|c| c.retry.max_attempts = 2)
}

/// Arms "drop after applying once, then `x`" on `route`. A 401 is armed twice: the first one
/// earns the forced token refresh, whose retry gets the second.
pub fn drop_then(w: &World, route: &str, x: u16) {
    w.fault(route, FaultKind::DropAfterApply, 1);
    w.fault(route, status(x), if x == 401 { 2 } else { 1 });
}

/// Arms "drop after applying, then a 401 whose token refresh Entra refuses", for a client that
/// has no token yet: its first token request passes (a zero delay), the refresh gets a 400.
pub fn drop_then_failing_refresh(w: &World) {
    w.fault(CONSUME_ROUTE, FaultKind::DropAfterApply, 1);
    w.fault(CONSUME_ROUTE, status(401), 1);
    w.fault("entra_v2", FaultKind::Delay { ms: 0 }, 1);
    w.fault("entra_v2", status(400), 1);
}

/// A fault sequence, armed right before a call.
pub type Arm = Box<dyn Fn(&World)>;

/// Every sequence of the issue: a drop after applying, then each non-verdict answer; and a
/// drop, then a 401 whose token refresh fails.
pub fn sequences() -> Vec<(String, Arm)> {
    let mut all: Vec<(String, Arm)> = NON_VERDICTS
        .iter()
        .map(|&x| {
            let arm: Arm = Box::new(move |w: &World| drop_then(w, CONSUME_ROUTE, x));
            (format!("drop, {x}"), arm)
        })
        .collect();
    all.push((
        "drop, 401, Entra refuses the refresh".into(),
        Box::new(drop_then_failing_refresh),
    ));
    all
}

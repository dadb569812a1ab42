//! Reads a response body under a size cap, however it is framed (`Content-Length`, chunked or
//! close-delimited): chunk by chunk, stopping the moment the cap would be passed. The response is
//! then dropped unread, which closes its connection, so a hostile or broken server (or proxy)
//! can neither make us buffer without bound nor hold us until the request timeout.

use crate::error::{Error, ErrorKind};

/// The first allocation for a body that declares its length; larger bodies grow as their bytes
/// arrive, so a `Content-Length` alone (with nothing behind it) does not reserve the cap.
const INITIAL_CAPACITY: usize = 64 * 1024;

/// The whole body, or `(error, true)`: the request was sent, so a failure here means it may have
/// reached the service (what a mutation needs to know).
pub(super) async fn read_capped(
    mut resp: reqwest::Response,
    cap: usize,
    op: &str,
) -> std::result::Result<Vec<u8>, (Error, bool)> {
    let status = resp.status().as_u16();
    let declared = resp.content_length();
    if declared.is_some_and(|n| n > cap as u64) {
        return Err((over_cap(op, cap, status), true));
    }
    let mut body = Vec::with_capacity(declared.map_or(0, |n| (n as usize).min(INITIAL_CAPACITY)));
    while let Some(chunk) = resp.chunk().await.map_err(|e| super::classify(e, op))? {
        if chunk.len() > cap - body.len() {
            return Err((over_cap(op, cap, status), true));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Names the cap and the setting that moves it.
fn over_cap(op: &str, cap: usize, status: u16) -> Error {
    Error::new(
        ErrorKind::MalformedResponse,
        format!("{op}: response body exceeds the {cap}-byte cap (max_response_bytes)"),
    )
    .with_status(status)
}

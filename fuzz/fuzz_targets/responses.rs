#![no_main]
//! Every response parser: byte 0 picks the parser (`Response::ALL`), byte 1 the HTTP status the
//! body came with, the rest is the body.

use msstore::fuzzing::{response, Response};

/// Statuses the parsers treat differently: success, the Store's and Entra's error shapes.
const STATUSES: [u16; 10] = [200, 201, 204, 400, 401, 403, 404, 409, 429, 500];

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let [which, status, body @ ..] = data {
        let which = Response::ALL[*which as usize % Response::ALL.len()];
        response(which, STATUSES[*status as usize % STATUSES.len()], body);
    }
});

//! Request-body helpers: case-insensitive property lookup (the Store matches names that way, https://learn.microsoft.com/en-us/windows/uwp/monetize/view-and-grant-products-from-a-service)
//! and the ServiceError reply of https://learn.microsoft.com/en-us/windows/uwp/monetize/view-and-grant-products-from-a-service.

use serde_json::{json, Map, Value};

/// A Store-style error: HTTP status plus the ServiceError body of https://learn.microsoft.com/en-us/windows/uwp/monetize/view-and-grant-products-from-a-service.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    pub inner: Option<String>,
    pub message: String,
    /// Extra response headers (e.g. `Retry-After`).
    pub headers: Vec<(String, String)>,
}

impl ApiError {
    pub fn new(status: u16, code: &str, inner: Option<&str>, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.to_string(),
            inner: inner.map(str::to_string),
            message: message.into(),
            headers: Vec::new(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(400, "BadRequest", Some("InvalidParameter"), message)
    }

    pub fn unauthorized(inner: &str, message: impl Into<String>) -> Self {
        ApiError::new(401, "Unauthorized", Some(inner), message)
    }

    pub fn token_invalid(message: impl Into<String>) -> Self {
        ApiError::unauthorized("AuthenticationTokenInvalid", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(404, "NotFound", Some("NotFound"), message)
    }

    pub fn body(&self) -> Value {
        let mut v = json!({
            "code": self.code,
            "message": self.message,
            "source": "msstore-emulator",
        });
        if let (Some(inner), Some(obj)) = (&self.inner, v.as_object_mut()) {
            obj.insert(
                "innererror".into(),
                json!({"code": inner, "message": self.message, "source": "msstore-emulator"}),
            );
        }
        v
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// Parses a request body that must be a JSON object.
pub fn parse_object(body: &[u8]) -> ApiResult<Map<String, Value>> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ApiError::bad_request("The request body is empty."));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(ApiError::bad_request(
            "The request body must be a JSON object.",
        )),
        Err(e) => Err(ApiError::bad_request(format!(
            "The request body is not valid JSON: {e}"
        ))),
    }
}

/// Case-insensitive property lookup; an exact match wins over a case-folded one.
pub fn get<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.get(name).or_else(|| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// Like [`get`] but treats JSON `null` as absent (clients send `"sbx": null`).
pub fn get_present<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    get(obj, name).filter(|v| !v.is_null())
}

fn wrong_type(name: &str, what: &str) -> ApiError {
    ApiError::bad_request(format!("The field '{name}' must be {what}."))
}

pub fn opt_str<'a>(obj: &'a Map<String, Value>, name: &str) -> ApiResult<Option<&'a str>> {
    match get_present(obj, name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(wrong_type(name, "a string")),
    }
}

pub fn req_str<'a>(obj: &'a Map<String, Value>, name: &str) -> ApiResult<&'a str> {
    match opt_str(obj, name)? {
        Some(s) if !s.trim().is_empty() => Ok(s),
        _ => Err(ApiError::bad_request(format!(
            "The field '{name}' is required."
        ))),
    }
}

pub fn opt_bool(obj: &Map<String, Value>, name: &str) -> ApiResult<Option<bool>> {
    match get_present(obj, name) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(_) => Err(wrong_type(name, "a boolean")),
    }
}

/// Integer field; numeric strings are accepted too (`pageSize` and `extensionTimeInDays` are
/// strings in some documentation).
pub fn opt_i64(obj: &Map<String, Value>, name: &str) -> ApiResult<Option<i64>> {
    match get_present(obj, name) {
        None => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| wrong_type(name, "an integer")),
        Some(Value::String(s)) => s
            .trim()
            .parse::<i64>()
            .map(Some)
            .map_err(|_| wrong_type(name, "an integer")),
        Some(_) => Err(wrong_type(name, "an integer")),
    }
}

pub fn opt_array<'a>(obj: &'a Map<String, Value>, name: &str) -> ApiResult<Option<&'a Vec<Value>>> {
    match get_present(obj, name) {
        None => Ok(None),
        Some(Value::Array(a)) => Ok(Some(a)),
        Some(_) => Err(wrong_type(name, "an array")),
    }
}

/// Array of strings; each element must be a string.
pub fn opt_str_list(obj: &Map<String, Value>, name: &str) -> ApiResult<Option<Vec<String>>> {
    match opt_array(obj, name)? {
        None => Ok(None),
        Some(a) => a
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| wrong_type(name, "an array of strings"))
            })
            .collect::<ApiResult<Vec<_>>>()
            .map(Some),
    }
}

/// Decodes `application/x-www-form-urlencoded` (Entra token requests).
pub fn parse_form(body: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(body);
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k, true), percent_decode(v, true))
        })
        .collect()
}

/// Percent-decoding; `plus_is_space` for form bodies and query strings. Invalid escapes are kept.
pub fn percent_decode(s: &str, plus_is_space: bool) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b'%' if i + 2 < b.len() => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (hex(b[i + 1]), hex(b[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 3;
                    }
                    _ => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Query-string pairs of a URI.
pub fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    query.map(|q| parse_form(q.as_bytes())).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_insensitive_lookup() {
        let o = parse_object(br#"{"Key":"a","serviceticket":"b"}"#).unwrap();
        assert_eq!(req_str(&o, "key").unwrap(), "a");
        assert_eq!(req_str(&o, "serviceTicket").unwrap(), "b");
        assert!(req_str(&o, "missing").is_err());
    }

    #[test]
    fn percent() {
        assert_eq!(percent_decode("a%3Ab+c%", true), "a:b c%");
        assert_eq!(percent_decode("%4", false), "%4");
        assert_eq!(percent_decode("mdr%3a0", false), "mdr:0");
    }
}

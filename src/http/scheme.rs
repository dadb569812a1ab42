//! The plain-`http://` rule, checked on every request as it leaves (configuration checks the base
//! URLs too; this is the last line). `https` anywhere; `http` only to loopback, with exactly one
//! exception: the link-local Azure Instance Metadata Service address, for managed-identity token
//! requests only (they carry no secret; IMDS has no TLS listener,
//! https://learn.microsoft.com/en-us/azure/virtual-machines/instance-metadata-service#security-and-authentication).

use crate::error::{Error, Result};

/// The IMDS address, `169.254.169.254`.
pub(crate) const IMDS_HOST: std::net::Ipv4Addr = std::net::Ipv4Addr::new(169, 254, 169, 254);

/// Which rule a request goes by.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum PlainHttp {
    LoopbackOnly,
    /// A managed-identity request: loopback or the IMDS address.
    LoopbackOrImds,
}

fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Refuses `url` unless it is https or plain http the rule allows; the parsed URL otherwise
/// (handed to reqwest, so that it is not parsed a second time).
pub(crate) fn check(url: &str, rule: PlainHttp, op: &str) -> Result<url::Url> {
    let parsed = url::Url::parse(url)
        .map_err(|e| Error::invalid_argument(format!("{op}: '{url}' is not a URL: {e}")))?;
    let imds = matches!(parsed.host(), Some(url::Host::Ipv4(ip)) if ip == IMDS_HOST);
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if is_loopback(&parsed) => Ok(parsed),
        "http" if imds && rule == PlainHttp::LoopbackOrImds => Ok(parsed),
        _ => Err(Error::configuration(format!(
            "{op}: refusing to send to {}://{}: only https, or plain http to loopback{}",
            parsed.scheme(),
            parsed.host_str().unwrap_or(""),
            if rule == PlainHttp::LoopbackOrImds {
                " or the IMDS address"
            } else {
                ""
            }
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imds_only_for_managed_identity() {
        let imds = "http://169.254.169.254/metadata/identity/oauth2/token";
        assert!(check(imds, PlainHttp::LoopbackOrImds, "mi").is_ok());
        assert!(check(imds, PlainHttp::LoopbackOnly, "query").is_err());
        for bad in [
            "http://169.254.169.253/x",
            "http://10.0.0.1/",
            "http://example.com/",
            "ftp://127.0.0.1/",
        ] {
            assert!(
                check(bad, PlainHttp::LoopbackOrImds, "mi").is_err(),
                "{bad}"
            );
        }
        assert!(check("http://127.0.0.1:9/x", PlainHttp::LoopbackOnly, "q").is_ok());
        assert!(check("https://169.254.169.254/x", PlainHttp::LoopbackOnly, "q").is_ok());
    }
}

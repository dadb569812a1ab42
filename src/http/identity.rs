//! The one request shape that is not a `RequestSpec`: a managed-identity token GET with its
//! protocol header (`Metadata: true` or `X-IDENTITY-HEADER`), allowed to the IMDS address.

use super::scheme::{self, PlainHttp};
use super::{body, classify, Exchange, Http};
use crate::error::Result;
use crate::secret::SecretString;

impl Http {
    /// One GET to a managed-identity endpoint. Not retried here (the caller decides).
    pub(crate) async fn get_identity_token(
        &self,
        url: &str,
        header: (&'static str, &SecretString),
        op: &'static str,
    ) -> Result<Exchange> {
        scheme::check(url, PlainHttp::LoopbackOrImds, op)?;
        let resp = self
            .client
            .get(url)
            .header(header.0, header.1.expose())
            .send()
            .await
            .map_err(|e| classify(e, op).0)?;
        let status = resp.status().as_u16();
        let body = body::read_capped(resp, self.max_response_bytes, op)
            .await
            .map_err(|(e, _)| e)?;
        Ok(Exchange {
            status,
            body,
            ms_cv: None,
            correlation_id: None,
            retry_after: None,
            maybe_applied_earlier: false,
        })
    }
}

//! Refunds ("clawback"): v1 <https://learn.microsoft.com/en-us/gaming/gdk/_content/gc/commerce/service-to-service/microsoft-store-apis/xstore-v8-clawbackv1>
//! and v2 <https://learn.microsoft.com/en-us/gaming/gdk/_content/gc/commerce/service-to-service/xstore-managing-refunds-and-chargebacks>.
//!
//! - **v1** ([`orders`]): purchase orders query with line-state filters and paging.
//! - **v2** ([`sas`], [`queue`], [`event`]): a SAS token for a Microsoft-hosted Azure Storage
//!   queue, then Get / Peek / Delete on it; each message carries a [`ClawbackEvent`] whose
//!   [`ClawbackEventState`] says what to do. `Refunded` means the customer **keeps** the item:
//!   it is not a revocation (see [`ClawbackEventState`]).
//!
//! ```no_run
//! # use msstore::{Client, ClientConfig};
//! use msstore::clawback::{ClawbackEventState, ReceiveOptions};
//! # let client = Client::new(ClientConfig::new("t", "c", "s")).unwrap();
//! client.block_on(async {
//!     for m in client.clawback_receive(ReceiveOptions::default()).await? {
//!         let ev = m.decode_event()?;
//!         if ev.state().requires_revocation() { /* take the value back, durably */ }
//!         match client.clawback_delete(&m.message_id, m.pop_receipt.as_deref().unwrap_or("")).await {
//!             Ok(()) => {}
//!             // Superseded or gone: it will come back (or already went); not an error.
//!             Err(e) if e.kind == msstore::ErrorKind::PopReceiptMismatch
//!                 || e.kind == msstore::ErrorKind::MessageNotFound => {}
//!             Err(e) => return Err(e),
//!         }
//!     }
//!     Ok::<_, msstore::Error>(())
//! }).unwrap().unwrap();
//! ```

pub mod event;
pub mod orders;
pub mod queue;
pub mod sas;
pub(crate) mod xml;

pub use event::{ClawbackEvent, ClawbackEventData, ClawbackEventState, ClawbackRecurrenceData};
pub use orders::{ClawbackOrder, ClawbackOrderLine, ClawbackOrdersPage, ClawbackOrdersRequest};
pub use queue::{QueueMessage, ReceiveOptions};
pub(crate) use sas::SasCache;
pub use sas::SasToken;

use crate::client::Client;
use crate::error::Result;

impl Client {
    /// Clawback v1: every page of the user's consumable orders in the requested line states.
    pub async fn clawback_orders(&self, req: ClawbackOrdersRequest) -> Result<Vec<ClawbackOrder>> {
        req.validate()?;
        self.run(move |c| async move { c.clawback_orders_all(req).await })
            .await
    }

    /// Clawback v1: one page (pass `continuation_token` back for the next).
    pub async fn clawback_orders_page(
        &self,
        req: ClawbackOrdersRequest,
    ) -> Result<ClawbackOrdersPage> {
        req.validate()?;
        self.run(move |c| async move { c.clawback_orders_page(&req).await })
            .await
    }

    /// Clawback v2: the queue SAS (cached until shortly before it expires).
    pub async fn clawback_sas_token(&self) -> Result<SasToken> {
        self.run(|c| async move { c.clawback_sas(None).await })
            .await
    }

    /// SAS token requests sent by this client so far.
    pub fn clawback_sas_fetches(&self) -> u64 {
        self.core().clawback_sas.fetches()
    }

    /// Clawback v2: receives up to `max_messages` messages and hides them for the visibility
    /// timeout. An expired SAS (403) is replaced and the call retried once.
    pub async fn clawback_receive(&self, opts: ReceiveOptions) -> Result<Vec<QueueMessage>> {
        self.run(move |c| async move { c.clawback_receive(opts).await })
            .await
    }

    /// Clawback v2: looks at up to `max_messages` visible messages without receiving them (no
    /// pop receipts, no dequeue count change).
    pub async fn clawback_peek(&self, max_messages: u32) -> Result<Vec<QueueMessage>> {
        self.run(move |c| async move { c.clawback_peek(max_messages).await })
            .await
    }

    /// Clawback v2: deletes a received message. `PopReceiptMismatch`: a later receive superseded
    /// the receipt (the message will come back); `MessageNotFound`: already gone.
    pub async fn clawback_delete(&self, message_id: &str, pop_receipt: &str) -> Result<()> {
        let (id, receipt) = (message_id.to_string(), pop_receipt.to_string());
        self.run(move |c| async move { c.clawback_delete(&id, &receipt).await })
            .await
    }
}

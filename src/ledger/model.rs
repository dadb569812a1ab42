//! What the ledger records: consume entries, revocations, and the clawback input it matches.

use crate::consume::OrderTransaction;
use crate::error::{Error, Result};
use crate::secret::SecretString;
use serde::{Deserialize, Serialize};

/// Where a consume entry is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryState {
    /// Recorded; the Store may or may not have applied it yet. Replay it (same trackingId).
    Pending,
    /// The Store applied it; the game must grant the in-game value and acknowledge.
    Applied,
    /// Granted and acknowledged by the game. Final.
    Completed,
    /// The Store refused it (or it never reached the Store): nothing was applied. Final.
    Failed,
}

impl EntryState {
    pub fn as_str(&self) -> &'static str {
        match self {
            EntryState::Pending => "pending",
            EntryState::Applied => "applied",
            EntryState::Completed => "completed",
            EntryState::Failed => "failed",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<EntryState> {
        Ok(match s {
            "pending" => EntryState::Pending,
            "applied" => EntryState::Applied,
            "completed" => EntryState::Completed,
            "failed" => EntryState::Failed,
            other => return Err(corrupt(format!("unknown entry state '{other}'"))),
        })
    }
}

/// A consume to run through the ledger.
#[derive(Debug, Clone)]
pub struct LedgerConsume {
    /// The game's own reference of the player (account id, save slot): who gets the value.
    pub player_ref: String,
    /// The user's UserCollectionsId. Stored in the ledger (replays need it); never printed.
    pub collections_key: SecretString,
    pub product_id: String,
    /// Units to remove from a store-managed consumable; 0 = developer-managed (whole item).
    pub quantity: u32,
    /// A GUID; generated when `None`. Passing the id of an earlier call returns that entry.
    pub tracking_id: Option<String>,
    pub sbx: Option<String>,
}

impl LedgerConsume {
    pub fn new(
        player_ref: &str,
        collections_key: &str,
        product_id: &str,
        quantity: u32,
    ) -> LedgerConsume {
        LedgerConsume {
            player_ref: player_ref.to_string(),
            collections_key: SecretString::new(collections_key),
            product_id: product_id.to_string(),
            quantity,
            tracking_id: None,
            sbx: None,
        }
    }

    pub fn with_tracking_id(mut self, id: impl Into<String>) -> LedgerConsume {
        self.tracking_id = Some(id.into());
        self
    }

    /// Checks every field and fixes the trackingId, before anything is recorded.
    pub(crate) fn validate(&self) -> Result<String> {
        let field = |v: &str, name: &str| {
            if v.trim().is_empty() {
                Err(Error::invalid_argument(format!("{name} is required")))
            } else if v.len() > 4096 {
                Err(Error::invalid_argument(format!("{name} is too long")))
            } else {
                Ok(())
            }
        };
        field(&self.player_ref, "player_ref")?;
        field(&self.product_id, "product_id")?;
        if self.collections_key.expose().trim().is_empty() {
            return Err(Error::invalid_argument(
                "collections_key (the UserCollectionsId) is required",
            ));
        }
        match &self.tracking_id {
            Some(t) => uuid::Uuid::parse_str(t)
                .map(|u| u.hyphenated().to_string())
                .map_err(|_| Error::invalid_argument(format!("trackingId '{t}' is not a GUID"))),
            None => Ok(uuid::Uuid::new_v4().to_string()),
        }
    }
}

/// One consume as the ledger knows it. Carries no secret (the key stays in the database).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    /// The entry id, which is also the consume's trackingId.
    pub id: String,
    pub player_ref: String,
    pub product_id: String,
    /// Units consumed; 0 = developer-managed.
    pub quantity: u32,
    pub state: EntryState,
    /// Times the consume was sent (each send may include the client's own retries).
    pub attempts: u32,
    /// The Store's remaining balance after the consume (once applied).
    pub new_quantity: Option<i64>,
    /// The order lines the consume drew from (for clawback matching).
    pub transactions: Vec<OrderTransaction>,
    /// The last failure (why it is still pending, or why it failed). Never contains secrets.
    pub last_error: Option<String>,
    pub created_ms: i64,
    pub updated_ms: i64,
    /// Set on an `Applied` entry that [`crate::Ledger::consume`] (called again with the same
    /// trackingId) or [`crate::Ledger::reconcile`] already handed to this process and that is
    /// not acknowledged yet: whoever received it first grants it; do NOT grant it again. A
    /// restart hands it out again with this flag clear. Not stored.
    #[serde(default)]
    pub already_handed_out: bool,
}

/// What a clawback event says happened to an order line (the event states of
/// <https://learn.microsoft.com/en-us/gaming/gdk/_content/gc/commerce/service-to-service/xstore-managing-refunds-and-chargebacks>).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ClawbackState {
    /// The Store took the item back; only matters to the game if the ledger shows it consumed.
    Returned,
    /// Refunded after being consumed: the game must take the value back.
    Revoked,
    /// Refunded but the customer keeps the item: not a revocation, only recorded.
    Refunded,
    /// A chargeback was reversed: undo an earlier revocation.
    ChargebackReversal,
}

impl ClawbackState {
    pub fn as_str(&self) -> &'static str {
        match self {
            ClawbackState::Returned => "Returned",
            ClawbackState::Revoked => "Revoked",
            ClawbackState::Refunded => "Refunded",
            ClawbackState::ChargebackReversal => "ChargebackReversal",
        }
    }

    pub fn parse(s: &str) -> Option<ClawbackState> {
        Some(match s {
            "Returned" => ClawbackState::Returned,
            "Revoked" => ClawbackState::Revoked,
            "Refunded" => ClawbackState::Refunded,
            "ChargebackReversal" => ClawbackState::ChargebackReversal,
            _ => return None,
        })
    }
}

/// The ledger's input from a clawback event (v1 or v2): which order line, what happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClawbackMatch {
    /// The event id; applying the same id twice does nothing the second time.
    pub event_id: String,
    pub order_id: String,
    pub line_item_id: String,
    pub product_id: String,
    pub state: ClawbackState,
}

impl ClawbackMatch {
    pub(crate) fn validate(&self) -> Result<()> {
        for (v, name) in [
            (&self.event_id, "event_id"),
            (&self.order_id, "order_id"),
            (&self.line_item_id, "line_item_id"),
            (&self.product_id, "product_id"),
        ] {
            if v.trim().is_empty() {
                return Err(Error::invalid_argument(format!(
                    "clawback match: {name} is required"
                )));
            }
        }
        Ok(())
    }
}

/// Whether a revocation takes value away or gives it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevocationKind {
    /// Take `quantity` of `product_id` away from the player.
    Revoke,
    /// Give it back (a chargeback reversal undoing revocation `reverses`).
    Restore,
}

impl RevocationKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            RevocationKind::Revoke => "revoke",
            RevocationKind::Restore => "restore",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<RevocationKind> {
        match s {
            "revoke" => Ok(RevocationKind::Revoke),
            "restore" => Ok(RevocationKind::Restore),
            other => Err(corrupt(format!("unknown revocation kind '{other}'"))),
        }
    }
}

/// "Revoke N of product P from player X" (or restore it): the game applies it and acknowledges.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    pub id: String,
    pub kind: RevocationKind,
    pub player_ref: String,
    pub product_id: String,
    pub quantity: i64,
    /// The consume entry (trackingId) whose value is taken back.
    pub entry_id: String,
    pub order_id: String,
    pub line_item_id: String,
    /// The clawback event that caused it.
    pub event_id: String,
    /// For `Restore`: the revocation it undoes.
    pub reverses: Option<String>,
    pub acknowledged: bool,
    pub created_ms: i64,
}

/// What `apply_clawback` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClawbackOutcome {
    pub event_id: String,
    /// The event id had been applied before: nothing new was recorded.
    pub duplicate: bool,
    /// Revocations (or restorations) this event produced (the earlier ones for a duplicate).
    pub revocations: Vec<Revocation>,
    /// A `Revoked`/`Returned` event for a line no recorded consume drew from (yet): kept, and
    /// matched when a consume's order lines are recorded (or on reconcile).
    #[serde(default)]
    pub unmatched: bool,
}

/// A clawback queue message the ledger could not use (not decodable, or an event it cannot map
/// to an order line): recorded durably, then deleted from the queue (see `ingest`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetter {
    pub message_id: String,
    /// Why it was set aside.
    pub reason: String,
    /// The message text as received (base64 of the event JSON; events carry no secrets).
    pub text: String,
    pub dequeue_count: u32,
    pub created_ms: i64,
}

/// What `reconcile` found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reconciled {
    /// Applied and now handed to this game server: grant each, then acknowledge it.
    pub to_grant: Vec<LedgerEntry>,
    /// Resolved as refused during the replay: nothing to grant (tell the player).
    pub failed: Vec<LedgerEntry>,
    /// Still unresolved (e.g. the Store is unreachable): replayed again next time.
    pub still_pending: Vec<LedgerEntry>,
    /// Revocations handed to this game server: apply each, then acknowledge it.
    pub revocations: Vec<Revocation>,
}

pub(crate) fn corrupt(msg: String) -> Error {
    Error::new(
        crate::ErrorKind::Storage,
        format!("the ledger database holds an unexpected value: {msg}"),
    )
}

//! Result handles and their accessors (EOS-style copy-by-index into caller structs whose
//! strings are owned by the handle), plus the raw response JSON for anything not covered.
//!
//! Every result object is immutable after creation and built once on a runtime thread; the C
//! views hold raw pointers into the object's own [`Arena`].

use super::completion::take_result;
use super::handles::{self, Handle};
use super::strings::{cstring, cstring_owned, non_null, write_out, Arena};
use super::types::*;
use crate::collections::{EntitlementItem, QueryPage, QueryResult};
use crate::consume::{ConsumeResult, OrderTransaction};
use crate::purchase::{Order, RecurrenceItem};
use crate::time::Timestamp;
use crate::token::{AccessToken, Audience};
use std::any::Any;
use std::ffi::{c_char, CString};
use std::sync::{Arc, OnceLock};

/// What a successful operation produced: a result object, registered when the operation
/// completes and typed when the caller takes it (`msstore_op_take_*`).
pub(crate) struct Payload(Arc<dyn Any + Send + Sync>);

impl Payload {
    pub(crate) fn new<T: Any + Send + Sync>(obj: T) -> Payload {
        Payload(Arc::new(obj))
    }

    pub(crate) fn register(self) -> usize {
        handles::register_any(self.0)
    }
}

fn ms(t: Option<Timestamp>) -> i64 {
    t.map_or(0, |t| t.unix_millis())
}

fn iso(a: &mut Arena, t: Option<Timestamp>) -> *const c_char {
    match t {
        None => std::ptr::null(),
        // Straight into the arena, no `String` in between.
        Some(t) => match t.iso_bytes() {
            Some(b) => a.bytes(&b),
            None => a.s(&t.to_iso()),
        },
    }
}

fn flag(b: bool) -> u32 {
    u32::from(b)
}

/// Wraps views that point into their owner's arena.
pub(crate) struct Views<T>(pub Vec<T>);
// SAFETY: the raw pointers inside the views point into the owning object's arena, which is
// immutable after construction and lives exactly as long as the views; reading them from any
// thread is sound.
unsafe impl<T> Send for Views<T> {}
// SAFETY: as above; nothing is ever written through them.
unsafe impl<T> Sync for Views<T> {}

impl<T> Views<T> {
    /// View `index`, or `MSSTORE_E_INVALID_ARGUMENT` past the end.
    pub(crate) fn at(&self, index: usize) -> Result<&T, msstore_result> {
        self.0
            .get(index)
            .ok_or(msstore_result::MSSTORE_E_INVALID_ARGUMENT)
    }
}

// ---------------------------------------------------------------------------------------------
// Tokens

pub(crate) struct TokenObj {
    _token: CString,
    pub(crate) info: Views<msstore_token_info>,
}

impl TokenObj {
    pub(crate) fn new(t: &AccessToken) -> TokenObj {
        let token = cstring(t.token.expose());
        let info = msstore_token_info {
            struct_size: std::mem::size_of::<msstore_token_info>() as u32,
            audience: match t.audience {
                Audience::Service => msstore_audience::MSSTORE_AUDIENCE_SERVICE as i32,
                Audience::CollectionsKeyCreate => {
                    msstore_audience::MSSTORE_AUDIENCE_COLLECTIONS_KEY_CREATE as i32
                }
                Audience::PurchaseKeyCreate => {
                    msstore_audience::MSSTORE_AUDIENCE_PURCHASE_KEY_CREATE as i32
                }
            },
            value: token.as_ptr(),
            expires_at_unix_ms: t.expires_at.unix_millis(),
        };
        TokenObj {
            _token: token,
            info: Views(vec![info]),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Entitlements

pub(crate) struct EntitlementsObj {
    /// A single page's items (an all-pages result's are in `all`).
    page_items: Vec<EntitlementItem>,
    continuation: Option<String>,
    pages: u32,
    duplicates_removed: u32,
    /// The C views, built from the items on the first accessor call: they were most of the C
    /// layer's cost per query (issue 14), and a caller that reads only the JSON, or only
    /// checks the code, pays none of it.
    views: OnceLock<EntitlementViews>,
    /// A single page's body as received, or an all-pages result's JSON once asked for.
    json: OnceLock<CString>,
    /// What an all-pages result's JSON is made of: serialising it cost as much as the rest of
    /// the call (issue 14), and most callers read the views only.
    all: Option<QueryResult>,
}

/// An entitlements result's C views and the arena their strings point into.
pub(crate) struct EntitlementViews {
    _arena: Arena,
    pub(crate) info: Views<msstore_entitlements_info>,
    pub(crate) items: Views<msstore_entitlement>,
}

fn entitlement_view(a: &mut Arena, i: &EntitlementItem) -> msstore_entitlement {
    let trial = i.trial_data.as_ref();
    msstore_entitlement {
        struct_size: std::mem::size_of::<msstore_entitlement>() as u32,
        id: a.s(&i.id),
        product_id: a.s(&i.product_id),
        sku_id: a.s(&i.sku_id),
        product_kind: a.s(&i.product_kind),
        status: a.s(&i.status),
        is_active: flag(i.is_active()),
        quantity: i.quantity,
        acquisition_type: a.o(i.acquisition_type.as_deref()),
        acquired_date: iso(a, i.acquired_date),
        start_date: iso(a, i.start_date),
        end_date: iso(a, i.end_date),
        modified_date: iso(a, i.modified_date),
        start_date_unix_ms: ms(i.start_date),
        end_date_unix_ms: ms(i.end_date),
        transaction_id: a.o(i.transaction_id.as_deref()),
        recurrence_id: a.o(i.recurrence_id.as_deref()),
        order_id: a.o(i.order_id.as_deref()),
        has_trial_data: flag(trial.is_some()),
        is_trial: flag(trial.is_some_and(|t| t.is_trial)),
        is_in_trial_period: flag(trial.is_some_and(|t| t.is_in_trial_period)),
        trial_time_remaining: a.o(trial.and_then(|t| t.trial_time_remaining.as_deref())),
        trial_seconds_remaining: trial
            .and_then(|t| t.time_remaining())
            .map_or(-1, |d| d.as_secs().min(i64::MAX as u64) as i64),
    }
}

impl EntitlementsObj {
    pub(crate) fn from_page(p: QueryPage) -> Self {
        EntitlementsObj {
            page_items: p.items,
            continuation: p.continuation_token,
            pages: 1,
            duplicates_removed: 0,
            views: OnceLock::new(),
            json: OnceLock::from(cstring_owned(p.raw_json)),
            all: None,
        }
    }

    pub(crate) fn from_all(r: QueryResult) -> Self {
        EntitlementsObj {
            page_items: Vec::new(),
            continuation: None,
            pages: r.pages,
            duplicates_removed: r.duplicates_removed,
            views: OnceLock::new(),
            json: OnceLock::new(),
            all: Some(r),
        }
    }

    fn items(&self) -> &[EntitlementItem] {
        self.all.as_ref().map_or(&self.page_items, |r| &r.items)
    }

    /// The C views (`msstore_entitlements_get_info`, `_item_at`): built on the first call; the
    /// same pointers after that.
    pub(crate) fn views(&self) -> &EntitlementViews {
        self.views.get_or_init(|| {
            let items = self.items();
            let mut a = Arena::default();
            let views: Vec<_> = items.iter().map(|i| entitlement_view(&mut a, i)).collect();
            let info = msstore_entitlements_info {
                struct_size: std::mem::size_of::<msstore_entitlements_info>() as u32,
                pages: self.pages,
                count: views.len(),
                duplicates_removed: self.duplicates_removed,
                continuation_token: a.o(self.continuation.as_deref()),
            };
            EntitlementViews {
                _arena: a,
                info: Views(vec![info]),
                items: Views(views),
            }
        })
    }

    /// `msstore_entitlements_json`: built on the first call, then the same pointer.
    pub(crate) fn json(&self) -> *const c_char {
        self.json
            .get_or_init(|| cstring_owned(to_json_text(&self.all)))
            .as_ptr()
    }
}

/// `v` as JSON text (`{}` if it cannot be serialised, which our result types always can).
fn to_json_text(v: &impl serde::Serialize) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "{}".to_string())
}

// ---------------------------------------------------------------------------------------------
// Consume

pub(crate) struct ConsumeObj {
    _arena: Arena,
    pub(crate) info: Views<msstore_consume_result_info>,
    pub(crate) transactions: Views<msstore_order_transaction>,
    /// Built from `result` on the first `msstore_consume_result_json` call.
    json: OnceLock<CString>,
    result: ConsumeResult,
}

/// One order line a consume drew from (a consume result's, or a ledger entry's).
pub(crate) fn transaction_view(a: &mut Arena, t: &OrderTransaction) -> msstore_order_transaction {
    msstore_order_transaction {
        struct_size: std::mem::size_of::<msstore_order_transaction>() as u32,
        order_id: a.s(&t.order_id),
        order_line_item_id: a.s(&t.order_line_item_id),
        quantity_consumed: t.quantity_consumed,
    }
}

impl ConsumeObj {
    pub(crate) fn new(r: ConsumeResult) -> Self {
        let mut a = Arena::default();
        let transactions = r
            .order_transactions
            .iter()
            .map(|t| transaction_view(&mut a, t))
            .collect();
        let info = msstore_consume_result_info {
            struct_size: std::mem::size_of::<msstore_consume_result_info>() as u32,
            item_id: a.s(&r.item_id),
            product_id: a.s(&r.product_id),
            tracking_id: a.s(&r.tracking_id),
            new_quantity: r.new_quantity,
            transaction_count: r.order_transactions.len(),
        };
        ConsumeObj {
            _arena: a,
            info: Views(vec![info]),
            transactions: Views(transactions),
            json: OnceLock::new(),
            result: r,
        }
    }

    /// `msstore_consume_result_json`: built on the first call, then the same pointer.
    pub(crate) fn json(&self) -> *const c_char {
        self.json
            .get_or_init(|| cstring_owned(to_json_text(&self.result)))
            .as_ptr()
    }
}

// ---------------------------------------------------------------------------------------------
// Orders

pub(crate) struct OrderObj {
    _arena: Arena,
    pub(crate) info: Views<msstore_order_info>,
    pub(crate) lines: Views<msstore_order_line_item>,
    pub(crate) json: CString,
}

impl OrderObj {
    pub(crate) fn new(o: &Order) -> Self {
        let mut a = Arena::default();
        let lines = o
            .order_line_items
            .iter()
            .map(|l| msstore_order_line_item {
                struct_size: std::mem::size_of::<msstore_order_line_item>() as u32,
                line_item_id: a.s(&l.line_item_id),
                product_id: a.s(&l.product_id),
                sku_id: a.s(&l.sku_id),
                availability_id: a.s(&l.availability_id),
                product_type: a.s(&l.product_type),
                quantity: l.quantity,
                billing_state: a.o(l.billing_state.as_deref()),
                fulfillment_state: a.o(l.fulfillment_state.as_deref()),
                title: a.o(l.title.as_deref()),
            })
            .collect();
        let info = msstore_order_info {
            struct_size: std::mem::size_of::<msstore_order_info>() as u32,
            order_id: a.s(&o.order_id),
            order_state: a.s(&o.order_state),
            created_time: iso(&mut a, o.created_time),
            currency_code: a.o(o.currency_code.as_deref()),
            market: a.o(o.market.as_deref()),
            total_amount: o.total_amount.unwrap_or(0.0),
            line_item_count: o.order_line_items.len(),
        };
        let raw = if o.raw_json.is_empty() {
            serde_json::to_string(o).unwrap_or_default()
        } else {
            o.raw_json.clone()
        };
        OrderObj {
            _arena: a,
            info: Views(vec![info]),
            lines: Views(lines),
            json: cstring(&raw),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Subscriptions

pub(crate) struct SubscriptionsObj {
    _arena: Arena,
    pub(crate) info: Views<msstore_subscriptions_info>,
    pub(crate) items: Views<msstore_subscription>,
    pub(crate) json: CString,
}

impl SubscriptionsObj {
    pub(crate) fn new(items: &[RecurrenceItem], continuation: Option<&str>, raw: String) -> Self {
        let mut a = Arena::default();
        let views: Vec<_> = items
            .iter()
            .map(|r| msstore_subscription {
                struct_size: std::mem::size_of::<msstore_subscription>() as u32,
                id: a.s(&r.id),
                product_id: a.s(&r.product_id),
                sku_id: a.s(&r.sku_id),
                recurrence_state: a.s(&r.recurrence_state),
                auto_renew: flag(r.auto_renew),
                is_trial: flag(r.is_trial),
                beneficiary: a.s(&r.beneficiary),
                start_time: iso(&mut a, r.start_time),
                expiration_time: iso(&mut a, r.expiration_time),
                expiration_time_with_grace: iso(&mut a, r.expiration_time_with_grace),
                cancellation_date: iso(&mut a, r.cancellation_date),
                expiration_time_unix_ms: ms(r.expiration_time),
                expiration_time_with_grace_unix_ms: ms(r.expiration_time_with_grace),
                market: a.o(r.market.as_deref()),
            })
            .collect();
        let raw = if raw.is_empty() {
            serde_json::json!({ "items": items }).to_string()
        } else {
            raw
        };
        let info = msstore_subscriptions_info {
            struct_size: std::mem::size_of::<msstore_subscriptions_info>() as u32,
            count: views.len(),
            continuation_token: a.o(continuation),
        };
        SubscriptionsObj {
            _arena: a,
            info: Views(vec![info]),
            items: Views(views),
            json: cstring(&raw),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Taking results out of an operation

/// Shared body of the `msstore_op_take_*` functions.
///
/// # Safety
/// `out` is NULL or writable.
pub(crate) unsafe fn take_into<H: Handle>(
    op: *mut msstore_op,
    out: *mut *mut H,
) -> Result<(), msstore_result> {
    non_null(out)?;
    let h = take_result::<H>(op)?;
    // SAFETY: non-null; the caller promises it is writable.
    unsafe { write_out(out, h) }
}

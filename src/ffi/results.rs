//! Result handles and their accessors (EOS-style copy-by-index into caller structs whose
//! strings are owned by the handle), plus the raw response JSON for anything not covered.
//!
//! Every result object is immutable after creation and built once on a runtime thread; the C
//! views hold raw pointers into the object's own [`Arena`].

use super::completion::take_result;
use super::handles::{self, Handle};
use super::panic::boundary;
use super::strings::{cstring, write_out, write_view, Arena};
use super::types::*;
use crate::collections::{EntitlementItem, QueryPage, QueryResult};
use crate::consume::ConsumeResult;
use crate::purchase::{Order, RecurrenceItem};
use crate::time::Timestamp;
use crate::token::{AccessToken, Audience};
use std::any::Any;
use std::ffi::{c_char, CString};
use std::sync::Arc;

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
    a.o(t.map(|t| t.to_iso()).as_deref())
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

// ---------------------------------------------------------------------------------------------
// Tokens

pub(crate) struct TokenObj {
    audience: i32,
    token: CString,
    expires_at_ms: i64,
}

impl TokenObj {
    pub(crate) fn new(t: &AccessToken) -> TokenObj {
        TokenObj {
            audience: match t.audience {
                Audience::Service => msstore_audience::MSSTORE_AUDIENCE_SERVICE as i32,
                Audience::CollectionsKeyCreate => {
                    msstore_audience::MSSTORE_AUDIENCE_COLLECTIONS_KEY_CREATE as i32
                }
                Audience::PurchaseKeyCreate => {
                    msstore_audience::MSSTORE_AUDIENCE_PURCHASE_KEY_CREATE as i32
                }
            },
            token: cstring(t.token.expose()),
            expires_at_ms: t.expires_at.unix_millis(),
        }
    }
}

/// The bearer token (a JWT). A secret: never log it; hand key-create tokens only to your own
/// game clients, never the service token. Owned by the token handle. NULL for a bad handle.
#[no_mangle]
pub extern "C" fn msstore_token_value(t: *const msstore_token) -> *const c_char {
    boundary!({
        let o = handles::get(t)?;
        Ok(o.token.as_ptr())
    })
}

/// The token's audience (a `msstore_audience`), or -1 for a bad handle.
#[no_mangle]
pub extern "C" fn msstore_token_audience(t: *const msstore_token) -> i32 {
    boundary!({
        let o = handles::get(t)?;
        Ok(o.audience)
    })
}

/// When the token expires (local clock), Unix milliseconds; -1 for a bad handle.
#[no_mangle]
pub extern "C" fn msstore_token_expires_at_unix_ms(t: *const msstore_token) -> i64 {
    boundary!({
        let o = handles::get(t)?;
        Ok(o.expires_at_ms)
    })
}

/// Frees a token. NULL is a no-op; a bad handle gives `MSSTORE_E_INVALID_HANDLE`.
#[no_mangle]
pub extern "C" fn msstore_token_free(t: *mut msstore_token) -> msstore_result {
    boundary!({ handles::free(t) })
}

// ---------------------------------------------------------------------------------------------
// Entitlements

pub(crate) struct EntitlementsObj {
    _arena: Arena,
    items: Views<msstore_entitlement>,
    continuation: Option<CString>,
    pages: u32,
    duplicates_removed: u32,
    raw_json: CString,
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
    fn build(
        items: &[EntitlementItem],
        continuation: Option<&str>,
        pages: u32,
        dups: u32,
        raw: String,
    ) -> Self {
        let mut a = Arena::default();
        let views = items.iter().map(|i| entitlement_view(&mut a, i)).collect();
        EntitlementsObj {
            _arena: a,
            items: Views(views),
            continuation: continuation.map(cstring),
            pages,
            duplicates_removed: dups,
            raw_json: cstring(&raw),
        }
    }

    pub(crate) fn from_page(p: &QueryPage) -> Self {
        Self::build(
            &p.items,
            p.continuation_token.as_deref(),
            1,
            0,
            p.raw_json.clone(),
        )
    }

    pub(crate) fn from_all(r: &QueryResult) -> Self {
        let raw = serde_json::to_string(r).unwrap_or_default();
        Self::build(&r.items, None, r.pages, r.duplicates_removed, raw)
    }
}

/// Number of entitlements (0 for a bad handle). Threading: any thread.
#[no_mangle]
pub extern "C" fn msstore_entitlements_count(h: *const msstore_entitlements) -> usize {
    boundary!({
        let o = handles::get(h)?;
        Ok(o.items.0.len())
    })
}

/// Copies entitlement `index` into `*out` (set `out->struct_size = sizeof(*out)` first). Strings
/// are owned by `h`, valid until `msstore_entitlements_free(h)`.
/// Errors: `MSSTORE_E_NULL_POINTER`, `MSSTORE_E_INVALID_HANDLE`, `MSSTORE_E_INVALID_ARGUMENT`
/// (index out of range or bad struct_size).
///
/// # Safety
/// `out` is NULL or points to a writable struct of `out->struct_size` bytes.
#[no_mangle]
pub unsafe extern "C" fn msstore_entitlements_get(
    h: *const msstore_entitlements,
    index: usize,
    out: *mut msstore_entitlement,
) -> msstore_result {
    boundary!({
        let o = handles::get(h)?;
        let v = o
            .items
            .0
            .get(index)
            .ok_or(msstore_result::MSSTORE_E_INVALID_ARGUMENT)?;
        // SAFETY: forwarded contract.
        unsafe { write_view(out, v) }
    })
}

/// The continuation token of a single-page query (pass it back for the next page), or NULL on
/// the last page and for all-pages queries. Owned by `h`.
#[no_mangle]
pub extern "C" fn msstore_entitlements_continuation_token(
    h: *const msstore_entitlements,
) -> *const c_char {
    boundary!({
        let o = handles::get(h)?;
        Ok({
            o.continuation
                .as_ref()
                .map_or(std::ptr::null(), |c| c.as_ptr())
        })
    })
}

/// Pages fetched (1 for a single-page query).
#[no_mangle]
pub extern "C" fn msstore_entitlements_pages(h: *const msstore_entitlements) -> u32 {
    boundary!({
        let o = handles::get(h)?;
        Ok(o.pages)
    })
}

/// Items dropped as duplicates across pages (all-pages queries).
#[no_mangle]
pub extern "C" fn msstore_entitlements_duplicates_removed(h: *const msstore_entitlements) -> u32 {
    boundary!({
        let o = handles::get(h)?;
        Ok(o.duplicates_removed)
    })
}

/// JSON of the result: for a single-page query the response body exactly as received; for an
/// all-pages query `{"items":[…],"pages":n,"duplicates_removed":n}` with every parsed field.
/// Owned by `h`.
#[no_mangle]
pub extern "C" fn msstore_entitlements_raw_json(h: *const msstore_entitlements) -> *const c_char {
    boundary!({
        let o = handles::get(h)?;
        Ok(o.raw_json.as_ptr())
    })
}

/// Frees an entitlements handle and every string it owns. NULL is a no-op.
#[no_mangle]
pub extern "C" fn msstore_entitlements_free(h: *mut msstore_entitlements) -> msstore_result {
    boundary!({ handles::free(h) })
}

// ---------------------------------------------------------------------------------------------
// Consume

pub(crate) struct ConsumeObj {
    _arena: Arena,
    info: Views<msstore_consume_info>,
    transactions: Views<msstore_order_transaction>,
    json: CString,
}

impl ConsumeObj {
    pub(crate) fn new(r: &ConsumeResult) -> Self {
        let mut a = Arena::default();
        let transactions = r
            .order_transactions
            .iter()
            .map(|t| msstore_order_transaction {
                struct_size: std::mem::size_of::<msstore_order_transaction>() as u32,
                order_id: a.s(&t.order_id),
                order_line_item_id: a.s(&t.order_line_item_id),
                quantity_consumed: t.quantity_consumed,
            })
            .collect();
        let info = msstore_consume_info {
            struct_size: std::mem::size_of::<msstore_consume_info>() as u32,
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
            json: cstring(&serde_json::to_string(r).unwrap_or_default()),
        }
    }
}

/// Copies the consume summary into `*out` (set `struct_size` first). Strings owned by `h`.
///
/// # Safety
/// `out` is NULL or points to a writable struct of `out->struct_size` bytes.
#[no_mangle]
pub unsafe extern "C" fn msstore_consume_result_get(
    h: *const msstore_consume_result,
    out: *mut msstore_consume_info,
) -> msstore_result {
    boundary!({
        let o = handles::get(h)?;
        // SAFETY: forwarded contract.
        unsafe { write_view(out, &o.info.0[0]) }
    })
}

/// Copies order transaction `index` into `*out`. Strings owned by `h`.
///
/// # Safety
/// `out` is NULL or points to a writable struct of `out->struct_size` bytes.
#[no_mangle]
pub unsafe extern "C" fn msstore_consume_result_transaction(
    h: *const msstore_consume_result,
    index: usize,
    out: *mut msstore_order_transaction,
) -> msstore_result {
    boundary!({
        let o = handles::get(h)?;
        let v = o
            .transactions
            .0
            .get(index)
            .ok_or(msstore_result::MSSTORE_E_INVALID_ARGUMENT)?;
        // SAFETY: forwarded contract.
        unsafe { write_view(out, v) }
    })
}

/// The consume result as JSON (the service's fields). Owned by `h`.
#[no_mangle]
pub extern "C" fn msstore_consume_result_json(h: *const msstore_consume_result) -> *const c_char {
    boundary!({
        let o = handles::get(h)?;
        Ok(o.json.as_ptr())
    })
}

/// Frees a consume result. NULL is a no-op.
#[no_mangle]
pub extern "C" fn msstore_consume_result_free(h: *mut msstore_consume_result) -> msstore_result {
    boundary!({ handles::free(h) })
}

// ---------------------------------------------------------------------------------------------
// Orders

pub(crate) struct OrderObj {
    _arena: Arena,
    info: Views<msstore_order_info>,
    lines: Views<msstore_order_line_item>,
    raw_json: CString,
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
            raw_json: cstring(&raw),
        }
    }
}

/// Copies the order summary into `*out` (set `struct_size` first). Strings owned by `h`.
///
/// # Safety
/// `out` is NULL or points to a writable struct of `out->struct_size` bytes.
#[no_mangle]
pub unsafe extern "C" fn msstore_order_get(
    h: *const msstore_order,
    out: *mut msstore_order_info,
) -> msstore_result {
    boundary!({
        let o = handles::get(h)?;
        // SAFETY: forwarded contract.
        unsafe { write_view(out, &o.info.0[0]) }
    })
}

/// Copies order line `index` into `*out`. Strings owned by `h`.
///
/// # Safety
/// `out` is NULL or points to a writable struct of `out->struct_size` bytes.
#[no_mangle]
pub unsafe extern "C" fn msstore_order_line_item_get(
    h: *const msstore_order,
    index: usize,
    out: *mut msstore_order_line_item,
) -> msstore_result {
    boundary!({
        let o = handles::get(h)?;
        let v = o
            .lines
            .0
            .get(index)
            .ok_or(msstore_result::MSSTORE_E_INVALID_ARGUMENT)?;
        // SAFETY: forwarded contract.
        unsafe { write_view(out, v) }
    })
}

/// The order response body as received. Owned by `h`.
#[no_mangle]
pub extern "C" fn msstore_order_raw_json(h: *const msstore_order) -> *const c_char {
    boundary!({
        let o = handles::get(h)?;
        Ok(o.raw_json.as_ptr())
    })
}

/// Frees an order. NULL is a no-op.
#[no_mangle]
pub extern "C" fn msstore_order_free(h: *mut msstore_order) -> msstore_result {
    boundary!({ handles::free(h) })
}

// ---------------------------------------------------------------------------------------------
// Subscriptions

pub(crate) struct SubscriptionsObj {
    _arena: Arena,
    items: Views<msstore_subscription>,
    continuation: Option<CString>,
    raw_json: CString,
}

impl SubscriptionsObj {
    pub(crate) fn new(items: &[RecurrenceItem], continuation: Option<&str>, raw: String) -> Self {
        let mut a = Arena::default();
        let views = items
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
        SubscriptionsObj {
            _arena: a,
            items: Views(views),
            continuation: continuation.map(cstring),
            raw_json: cstring(&raw),
        }
    }
}

/// Number of subscriptions (0 for a bad handle).
#[no_mangle]
pub extern "C" fn msstore_subscriptions_count(h: *const msstore_subscriptions) -> usize {
    boundary!({
        let o = handles::get(h)?;
        Ok(o.items.0.len())
    })
}

/// Copies subscription `index` into `*out` (set `struct_size` first). Strings owned by `h`.
/// Errors: `MSSTORE_E_NULL_POINTER`, `MSSTORE_E_INVALID_HANDLE`, `MSSTORE_E_INVALID_ARGUMENT`.
///
/// # Safety
/// `out` is NULL or points to a writable struct of `out->struct_size` bytes.
#[no_mangle]
pub unsafe extern "C" fn msstore_subscriptions_get(
    h: *const msstore_subscriptions,
    index: usize,
    out: *mut msstore_subscription,
) -> msstore_result {
    boundary!({
        let o = handles::get(h)?;
        let v = o
            .items
            .0
            .get(index)
            .ok_or(msstore_result::MSSTORE_E_INVALID_ARGUMENT)?;
        // SAFETY: forwarded contract.
        unsafe { write_view(out, v) }
    })
}

/// Continuation token of a single-page query, or NULL. Owned by `h`.
#[no_mangle]
pub extern "C" fn msstore_subscriptions_continuation_token(
    h: *const msstore_subscriptions,
) -> *const c_char {
    boundary!({
        let o = handles::get(h)?;
        Ok({
            o.continuation
                .as_ref()
                .map_or(std::ptr::null(), |c| c.as_ptr())
        })
    })
}

/// JSON: the response body as received for a single page, else `{"items":[…]}`. Owned by `h`.
#[no_mangle]
pub extern "C" fn msstore_subscriptions_raw_json(h: *const msstore_subscriptions) -> *const c_char {
    boundary!({
        let o = handles::get(h)?;
        Ok(o.raw_json.as_ptr())
    })
}

/// Frees a subscriptions handle. NULL is a no-op.
#[no_mangle]
pub extern "C" fn msstore_subscriptions_free(h: *mut msstore_subscriptions) -> msstore_result {
    boundary!({ handles::free(h) })
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
    if out.is_null() {
        return Err(msstore_result::MSSTORE_E_NULL_POINTER);
    }
    let h = take_result::<H>(op)?;
    // SAFETY: non-null; the caller promises it is writable.
    unsafe { write_out(out, h) }
}

/// Takes the token of a `msstore_get_token` operation.
///
/// Ownership: on `MSSTORE_OK` the caller owns `*out` (free it with `msstore_token_free`); the operation no
/// longer holds it. Results not taken are freed with the operation. Errors: `MSSTORE_E_PENDING`
/// (not complete), `MSSTORE_E_NO_RESULT` (the operation failed or the result was taken),
/// `MSSTORE_E_INVALID_ARGUMENT` (the operation produces another type), `MSSTORE_E_NULL_POINTER`,
/// `MSSTORE_E_INVALID_HANDLE`. Threading: any thread; `*out` is written only on success.
///
/// # Safety
/// `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn msstore_op_take_token(
    op: *mut msstore_op,
    out: *mut *mut msstore_token,
) -> msstore_result {
    // SAFETY: forwarded contract.
    boundary!({ unsafe { take_into(op, out) } })
}

/// Takes the renewed key of a `msstore_renew_key` operation.
///
/// Ownership: on `MSSTORE_OK` the caller owns `*out` (free it with `msstore_key_free`); the operation no
/// longer holds it. Results not taken are freed with the operation. Errors: `MSSTORE_E_PENDING`
/// (not complete), `MSSTORE_E_NO_RESULT` (the operation failed or the result was taken),
/// `MSSTORE_E_INVALID_ARGUMENT` (the operation produces another type), `MSSTORE_E_NULL_POINTER`,
/// `MSSTORE_E_INVALID_HANDLE`. Threading: any thread; `*out` is written only on success.
///
/// # Safety
/// `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn msstore_op_take_key(
    op: *mut msstore_op,
    out: *mut *mut msstore_key,
) -> msstore_result {
    // SAFETY: forwarded contract.
    boundary!({ unsafe { take_into(op, out) } })
}

/// Takes the entitlements of a `msstore_query_entitlements` operation.
///
/// Ownership: on `MSSTORE_OK` the caller owns `*out` (free it with `msstore_entitlements_free`); the operation no
/// longer holds it. Results not taken are freed with the operation. Errors: `MSSTORE_E_PENDING`
/// (not complete), `MSSTORE_E_NO_RESULT` (the operation failed or the result was taken),
/// `MSSTORE_E_INVALID_ARGUMENT` (the operation produces another type), `MSSTORE_E_NULL_POINTER`,
/// `MSSTORE_E_INVALID_HANDLE`. Threading: any thread; `*out` is written only on success.
///
/// # Safety
/// `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn msstore_op_take_entitlements(
    op: *mut msstore_op,
    out: *mut *mut msstore_entitlements,
) -> msstore_result {
    // SAFETY: forwarded contract.
    boundary!({ unsafe { take_into(op, out) } })
}

/// Takes the result of a `msstore_consume` operation.
///
/// Ownership: on `MSSTORE_OK` the caller owns `*out` (free it with `msstore_consume_result_free`); the operation no
/// longer holds it. Results not taken are freed with the operation. Errors: `MSSTORE_E_PENDING`
/// (not complete), `MSSTORE_E_NO_RESULT` (the operation failed or the result was taken),
/// `MSSTORE_E_INVALID_ARGUMENT` (the operation produces another type), `MSSTORE_E_NULL_POINTER`,
/// `MSSTORE_E_INVALID_HANDLE`. Threading: any thread; `*out` is written only on success.
///
/// # Safety
/// `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn msstore_op_take_consume_result(
    op: *mut msstore_op,
    out: *mut *mut msstore_consume_result,
) -> msstore_result {
    // SAFETY: forwarded contract.
    boundary!({ unsafe { take_into(op, out) } })
}

/// Takes the order of a `msstore_grant_free_product` operation.
///
/// Ownership: on `MSSTORE_OK` the caller owns `*out` (free it with `msstore_order_free`); the operation no
/// longer holds it. Results not taken are freed with the operation. Errors: `MSSTORE_E_PENDING`
/// (not complete), `MSSTORE_E_NO_RESULT` (the operation failed or the result was taken),
/// `MSSTORE_E_INVALID_ARGUMENT` (the operation produces another type), `MSSTORE_E_NULL_POINTER`,
/// `MSSTORE_E_INVALID_HANDLE`. Threading: any thread; `*out` is written only on success.
///
/// # Safety
/// `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn msstore_op_take_order(
    op: *mut msstore_op,
    out: *mut *mut msstore_order,
) -> msstore_result {
    // SAFETY: forwarded contract.
    boundary!({ unsafe { take_into(op, out) } })
}

/// Takes the subscriptions of `msstore_query_subscriptions` / `msstore_change_subscription`.
///
/// Ownership: on `MSSTORE_OK` the caller owns `*out` (free it with `msstore_subscriptions_free`); the operation no
/// longer holds it. Results not taken are freed with the operation. Errors: `MSSTORE_E_PENDING`
/// (not complete), `MSSTORE_E_NO_RESULT` (the operation failed or the result was taken),
/// `MSSTORE_E_INVALID_ARGUMENT` (the operation produces another type), `MSSTORE_E_NULL_POINTER`,
/// `MSSTORE_E_INVALID_HANDLE`. Threading: any thread; `*out` is written only on success.
///
/// # Safety
/// `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn msstore_op_take_subscriptions(
    op: *mut msstore_op,
    out: *mut *mut msstore_subscriptions,
) -> msstore_result {
    // SAFETY: forwarded contract.
    boundary!({ unsafe { take_into(op, out) } })
}

//! C ABI for refunds (clawback v1 and v2): start functions following the contract of
//! [`super::ops`], their result handles (accessors generated from `exports_table.rs`).
//!
//! v2 processing loop from C: `msstore_client_receive_clawback_messages` → for each message
//! `msstore_clawback_messages_item_at` (the event is decoded for you: `event_decoded`,
//! `event_state`, order/line/product ids) → reconcile durably →
//! `msstore_client_delete_clawback_message` with the message id and pop receipt. `MSSTORE_E_POP_RECEIPT_MISMATCH` and
//! `MSSTORE_E_MESSAGE_NOT_FOUND` from a delete are expected outcomes, not failures.

use super::completion::start;
use super::panic::boundary;
use super::results::{Payload, Views};
use super::strings::{cstring, in_opt_string, in_string, read_versioned, Arena};
use super::types::*;
use crate::clawback::{
    ClawbackEventState, ClawbackOrder, ClawbackOrdersRequest, QueueMessage, ReceiveOptions,
};
use crate::time::Timestamp;
use std::ffi::{c_char, c_void, CString};

/// States of a clawback event: what a decoded queue message says
/// (`msstore_clawback_message.event_state`) and what `msstore_ledger_apply_clawback` matches
/// (`msstore_clawback_match_options.state`, which must not be `MSSTORE_CLAWBACK_OTHER`).
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum msstore_clawback_event_state {
    /// A state this library does not know (see `event_state_name`), or no decoded event.
    MSSTORE_CLAWBACK_OTHER = 0,
    /// Payment returned and the item removed by the Store. Nothing to take back in-game (the
    /// ledger revokes it only if it recorded the item as consumed).
    MSSTORE_CLAWBACK_RETURNED = 1,
    /// Payment returned but the item was already consumed: take its in-game value back.
    MSSTORE_CLAWBACK_REVOKED = 2,
    /// Payment returned and the customer KEEPS the item. Not a revocation: log it only.
    MSSTORE_CLAWBACK_REFUNDED = 3,
    /// A chargeback was reversed: restore what an earlier revocation took.
    MSSTORE_CLAWBACK_CHARGEBACK_REVERSAL = 4,
}

/// The order lines of a clawback v1 query. Immutable; thread-safe.
pub struct msstore_clawback_orders {
    _private: [u8; 0],
}

/// Clawback queue messages (received or peeked). Immutable; thread-safe.
pub struct msstore_clawback_messages {
    _private: [u8; 0],
}

/// A clawback v1 query (`msstore_client_query_clawback_orders`).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct msstore_clawback_orders_options {
    pub struct_size: u32,
    /// The UserPurchaseId. Required.
    pub purchase_key: *const c_char,
    /// `line_item_state_count` states ("Purchased", "Revoked", "Refunded"); count 0 = the
    /// default `Revoked` + `Refunded`.
    pub line_item_states: *const *const c_char,
    pub line_item_state_count: usize,
    /// Non-zero: one page only (see `continuation_token`); 0: follow all pages.
    pub single_page: u32,
    pub continuation_token: *const c_char,
    pub sbx: *const c_char,
}
// SAFETY: repr(C), u32 first, only integers and raw pointers.
unsafe impl Versioned for msstore_clawback_orders_options {}

/// What to receive or peek (`msstore_client_receive_clawback_messages`,
/// `msstore_client_peek_clawback_messages`; NULL = 32 messages, 30 s).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct msstore_clawback_queue_options {
    pub struct_size: u32,
    /// 1..32; 0 = 32.
    pub max_messages: u32,
    /// Seconds the received messages stay hidden, 1..604800; 0 = 30. Delete before it lapses.
    /// Not used by a peek.
    pub visibility_timeout_secs: u32,
}
// SAFETY: repr(C), u32 first, only integers.
unsafe impl Versioned for msstore_clawback_queue_options {}

/// The summary of a clawback v1 result, filled by `msstore_clawback_orders_get_info`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct msstore_clawback_orders_info {
    pub struct_size: u32,
    /// Number of order lines (`msstore_clawback_orders_line_at`).
    pub count: usize,
    /// Continuation token of a single-page query, or NULL. Owned by the handle.
    pub continuation_token: *const c_char,
}

/// The summary of received or peeked messages, filled by `msstore_clawback_messages_get_info`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct msstore_clawback_messages_info {
    pub struct_size: u32,
    /// Number of messages (`msstore_clawback_messages_item_at`).
    pub count: usize,
}

/// One order line of a v1 query with its order's fields, filled by
/// `msstore_clawback_orders_line_at`. Strings owned by the handle; NULL = absent.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct msstore_clawback_order_line {
    pub struct_size: u32,
    pub order_id: *const c_char,
    pub short_order_id: *const c_char,
    pub order_purchased_date: *const c_char,
    pub order_refunded_date: *const c_char,
    /// 0 when absent.
    pub order_refunded_date_unix_ms: i64,
    pub line_item_id: *const c_char,
    /// "Purchased", "Revoked" (refunded after consumption) or "Refunded".
    pub line_item_state: *const c_char,
    pub product_id: *const c_char,
    pub sku_id: *const c_char,
    pub quantity: i64,
    pub was_consumable_quantity_revoked: u32,
}

/// One queue message and its decoded event, filled by `msstore_clawback_messages_item_at`.
/// Strings owned by the handle; NULL = absent. Event fields are NULL/0 unless `event_decoded`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct msstore_clawback_message {
    pub struct_size: u32,
    pub message_id: *const c_char,
    /// Pass to `msstore_client_delete_clawback_message`. NULL for peeked messages.
    pub pop_receipt: *const c_char,
    pub dequeue_count: u32,
    pub insertion_time: *const c_char,
    pub expiration_time: *const c_char,
    pub time_next_visible: *const c_char,
    /// `MessageText` as received (base64 of the event JSON).
    pub text: *const c_char,
    /// 1 when `text` decoded into an event; 0: see `event_error` (delete or park the message).
    pub event_decoded: u32,
    pub event_error: *const c_char,
    pub event_id: *const c_char,
    /// "/Purchase/Refund" or "/Purchase/Chargeback".
    pub event_source: *const c_char,
    /// A `msstore_clawback_event_state` value.
    pub event_state: i32,
    pub event_state_name: *const c_char,
    /// Non-zero only for Revoked: take the in-game value back.
    pub requires_revocation: u32,
    pub order_id: *const c_char,
    pub line_item_id: *const c_char,
    pub product_id: *const c_char,
    pub product_type: *const c_char,
    pub sku_id: *const c_char,
    pub sandbox_id: *const c_char,
    pub purchased_date: *const c_char,
    pub event_date: *const c_char,
    pub has_recurrence_data: u32,
    pub recurrence_id: *const c_char,
    /// "Full" or "Partial".
    pub refund_type: *const c_char,
    pub duration_in_days: i64,
    pub consumed_duration_in_days: i64,
    /// The decoded event JSON.
    pub event_json: *const c_char,
}

zeroed_default!(
    msstore_clawback_orders_info,
    msstore_clawback_messages_info,
    msstore_clawback_orders_options,
    msstore_clawback_queue_options,
    msstore_clawback_order_line,
    msstore_clawback_message
);

fn iso(a: &mut Arena, t: Option<Timestamp>) -> *const c_char {
    a.o(t.map(|t| t.to_iso()).as_deref())
}

pub(crate) struct ClawbackOrdersObj {
    _arena: Arena,
    pub(crate) info: Views<msstore_clawback_orders_info>,
    pub(crate) lines: Views<msstore_clawback_order_line>,
    pub(crate) json: CString,
}

impl ClawbackOrdersObj {
    pub(crate) fn new(orders: &[ClawbackOrder], continuation: Option<&str>, raw: String) -> Self {
        let mut a = Arena::default();
        let mut lines = Vec::new();
        for o in orders {
            for l in &o.order_line_items {
                lines.push(msstore_clawback_order_line {
                    struct_size: std::mem::size_of::<msstore_clawback_order_line>() as u32,
                    order_id: a.s(&o.order_id),
                    short_order_id: a.s(&o.short_order_id),
                    order_purchased_date: iso(&mut a, o.order_purchased_date),
                    order_refunded_date: iso(&mut a, o.order_refunded_date),
                    order_refunded_date_unix_ms: o
                        .order_refunded_date
                        .map_or(0, |t| t.unix_millis()),
                    line_item_id: a.s(&l.line_item_id),
                    line_item_state: a.s(&l.line_item_state),
                    product_id: a.s(&l.product_id),
                    sku_id: a.s(&l.sku_id),
                    quantity: l.quantity,
                    was_consumable_quantity_revoked: u32::from(l.was_consumable_quantity_revoked),
                });
            }
        }
        let raw = if raw.is_empty() {
            serde_json::json!({ "items": orders }).to_string()
        } else {
            raw
        };
        let info = msstore_clawback_orders_info {
            struct_size: std::mem::size_of::<msstore_clawback_orders_info>() as u32,
            count: lines.len(),
            continuation_token: a.o(continuation),
        };
        ClawbackOrdersObj {
            _arena: a,
            info: Views(vec![info]),
            lines: Views(lines),
            json: cstring(&raw),
        }
    }
}

pub(crate) struct ClawbackMessagesObj {
    _arena: Arena,
    pub(crate) info: Views<msstore_clawback_messages_info>,
    pub(crate) items: Views<msstore_clawback_message>,
    pub(crate) json: CString,
}

fn state_code(s: &ClawbackEventState) -> msstore_clawback_event_state {
    use msstore_clawback_event_state::*;
    match s {
        ClawbackEventState::Returned => MSSTORE_CLAWBACK_RETURNED,
        ClawbackEventState::Revoked => MSSTORE_CLAWBACK_REVOKED,
        ClawbackEventState::Refunded => MSSTORE_CLAWBACK_REFUNDED,
        ClawbackEventState::ChargebackReversal => MSSTORE_CLAWBACK_CHARGEBACK_REVERSAL,
        ClawbackEventState::Other(_) => MSSTORE_CLAWBACK_OTHER,
    }
}

impl ClawbackMessagesObj {
    pub(crate) fn new(msgs: &[QueueMessage]) -> Self {
        let mut a = Arena::default();
        let mut json_items = Vec::new();
        let items: Vec<_> = msgs
            .iter()
            .map(|m| {
                let mut v = msstore_clawback_message {
                    struct_size: std::mem::size_of::<msstore_clawback_message>() as u32,
                    message_id: a.s(&m.message_id),
                    pop_receipt: a.o(m.pop_receipt.as_deref()),
                    dequeue_count: m.dequeue_count,
                    insertion_time: iso(&mut a, m.insertion_time),
                    expiration_time: iso(&mut a, m.expiration_time),
                    time_next_visible: iso(&mut a, m.time_next_visible),
                    text: a.s(&m.text),
                    ..Default::default()
                };
                let mut j = serde_json::to_value(m).unwrap_or_default();
                match m.decode_event() {
                    Ok(e) => {
                        let d = &e.data;
                        let r = d.recurrence_data.as_ref();
                        v.event_decoded = 1;
                        v.event_id = a.s(&e.id);
                        v.event_source = a.s(&e.source);
                        v.event_state = state_code(&d.event_state) as i32;
                        v.event_state_name = a.s(d.event_state.as_str());
                        v.requires_revocation = u32::from(d.event_state.requires_revocation());
                        v.order_id = a.s(&d.order_id);
                        v.line_item_id = a.s(&d.line_item_id);
                        v.product_id = a.s(&d.product_id);
                        v.product_type = a.s(&d.product_type);
                        v.sku_id = a.s(&d.sku_id);
                        v.sandbox_id = a.s(&d.sandbox_id);
                        v.purchased_date = iso(&mut a, d.purchased_date);
                        v.event_date = iso(&mut a, d.event_date);
                        v.has_recurrence_data = u32::from(r.is_some());
                        v.recurrence_id = a.o(r.map(|r| r.recurrence_id.as_str()));
                        v.refund_type = a.o(r.map(|r| r.refund_type.as_str()));
                        v.duration_in_days = r.map_or(0, |r| r.duration_in_days);
                        v.consumed_duration_in_days = r.map_or(0, |r| r.consumed_duration_in_days);
                        v.event_json = a.s(&e.raw_json);
                        j["event"] = serde_json::to_value(&e).unwrap_or_default();
                    }
                    Err(e) => {
                        v.event_error = a.s(&e.message);
                        j["event_error"] = serde_json::json!(e.message);
                    }
                }
                json_items.push(j);
                v
            })
            .collect();
        ClawbackMessagesObj {
            _arena: a,
            info: Views(vec![msstore_clawback_messages_info {
                struct_size: std::mem::size_of::<msstore_clawback_messages_info>() as u32,
                count: items.len(),
            }]),
            items: Views(items),
            json: cstring(&serde_json::Value::Array(json_items).to_string()),
        }
    }
}

/// Clawback v1: the user's consumable orders of the last 90 days in the requested line states
/// (all pages, or one page). Result: `msstore_op_take_clawback_orders`. Synchronous errors add
/// `MSSTORE_E_TOO_LONG` (more than 16 states). Errors in the callback:
/// `MSSTORE_E_INVALID_ARGUMENT`, `MSSTORE_E_UNAUTHORIZED`, `MSSTORE_E_CLIENT_ID_MISMATCH`,
/// transient codes, …
///
/// # Safety
/// See the module contract of `ops`; `opts` points to a valid `msstore_clawback_orders_options`
/// whose `line_item_states` holds `line_item_state_count` NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn msstore_client_query_clawback_orders(
    client: *mut msstore_client,
    opts: *const msstore_clawback_orders_options,
    call: *const msstore_call_options,
    cb: msstore_completion_cb,
    user_data: *mut c_void,
    out_op: *mut *mut msstore_op,
) -> msstore_result {
    boundary!({
        // SAFETY: forwarded contract.
        let o = unsafe { read_versioned(opts) }?;
        if o.line_item_state_count > 16 {
            return Err(msstore_result::MSSTORE_E_TOO_LONG);
        }
        if o.line_item_state_count > 0 && o.line_item_states.is_null() {
            return Err(msstore_result::MSSTORE_E_NULL_POINTER);
        }
        // SAFETY: the struct's pointers are NULL or valid per the contract.
        let r = unsafe {
            let mut r = ClawbackOrdersRequest::new(&in_string(o.purchase_key)?);
            if o.line_item_state_count > 0 {
                r.line_item_state_filter = (0..o.line_item_state_count)
                    .map(|i| in_string(*o.line_item_states.add(i)))
                    .collect::<Result<_, _>>()?;
            }
            r.continuation_token = in_opt_string(o.continuation_token)?;
            r.sbx = in_opt_string(o.sbx)?;
            r
        };
        r.validate()
            .map_err(|_| msstore_result::MSSTORE_E_INVALID_ARGUMENT)?;
        let single = o.single_page != 0;
        // SAFETY: forwarded contract.
        unsafe {
            start(client, call, cb, user_data, out_op, move |c| async move {
                let obj = if single {
                    let p = c.clawback_orders_page(r).await?;
                    ClawbackOrdersObj::new(&p.items, p.continuation_token.as_deref(), p.raw_json)
                } else {
                    ClawbackOrdersObj::new(&c.clawback_orders(r).await?, None, String::new())
                };
                Ok(Payload::new(obj))
            })
        }
    })
}

/// Reads the queue options of a receive or peek (NULL: every default).
///
/// # Safety
/// `opts` is NULL or a valid `msstore_clawback_queue_options`.
unsafe fn queue_options(
    opts: *const msstore_clawback_queue_options,
) -> Result<ReceiveOptions, msstore_result> {
    let o = if opts.is_null() {
        msstore_clawback_queue_options::default()
    } else {
        // SAFETY: non-null; forwarded contract.
        unsafe { read_versioned(opts) }?
    };
    let d = ReceiveOptions::default();
    let or = |v: u32, default: u32| if v == 0 { default } else { v };
    let r = ReceiveOptions {
        max_messages: or(o.max_messages, d.max_messages),
        visibility_timeout_secs: or(o.visibility_timeout_secs, d.visibility_timeout_secs),
    };
    if r.max_messages > crate::clawback::queue::MAX_MESSAGES
        || r.visibility_timeout_secs > crate::clawback::queue::MAX_VISIBILITY_TIMEOUT_SECS
    {
        return Err(msstore_result::MSSTORE_E_INVALID_ARGUMENT);
    }
    Ok(r)
}

/// Clawback v2: receives up to `max_messages` queue messages and hides them for the visibility
/// timeout (the SAS is fetched, cached and renewed for you). Result:
/// `msstore_op_take_clawback_messages`. Synchronous errors add `MSSTORE_E_INVALID_ARGUMENT`
/// (counts out of range).
///
/// # Safety
/// See the module contract of `ops`; `opts` is NULL or a valid
/// `msstore_clawback_queue_options`.
#[no_mangle]
pub unsafe extern "C" fn msstore_client_receive_clawback_messages(
    client: *mut msstore_client,
    opts: *const msstore_clawback_queue_options,
    call: *const msstore_call_options,
    cb: msstore_completion_cb,
    user_data: *mut c_void,
    out_op: *mut *mut msstore_op,
) -> msstore_result {
    boundary!({
        // SAFETY: forwarded contract.
        let r = unsafe { queue_options(opts) }?;
        // SAFETY: forwarded contract.
        unsafe {
            start(client, call, cb, user_data, out_op, move |c| async move {
                let msgs = c.clawback_receive(r).await?;
                Ok(Payload::new(ClawbackMessagesObj::new(&msgs)))
            })
        }
    })
}

/// Clawback v2: looks at up to `opts->max_messages` visible messages without receiving them (no
/// pop receipts; nothing changes; `visibility_timeout_secs` is not used). Options as for
/// `msstore_client_receive_clawback_messages` (NULL: 32 messages). Result:
/// `msstore_op_take_clawback_messages`. Synchronous errors add `MSSTORE_E_INVALID_ARGUMENT`.
///
/// # Safety
/// See the module contract of `ops`; `opts` is NULL or a valid
/// `msstore_clawback_queue_options`.
#[no_mangle]
pub unsafe extern "C" fn msstore_client_peek_clawback_messages(
    client: *mut msstore_client,
    opts: *const msstore_clawback_queue_options,
    call: *const msstore_call_options,
    cb: msstore_completion_cb,
    user_data: *mut c_void,
    out_op: *mut *mut msstore_op,
) -> msstore_result {
    boundary!({
        // SAFETY: forwarded contract.
        let max = unsafe { queue_options(opts) }?.max_messages;
        // SAFETY: forwarded contract.
        unsafe {
            start(client, call, cb, user_data, out_op, move |c| async move {
                let msgs = c.clawback_peek(max).await?;
                Ok(Payload::new(ClawbackMessagesObj::new(&msgs)))
            })
        }
    })
}

/// Clawback v2: deletes a received message (after reconciling it durably). No result to take.
/// Errors in the callback: `MSSTORE_E_POP_RECEIPT_MISMATCH` (a later receive superseded the
/// receipt; the message will be delivered again), `MSSTORE_E_MESSAGE_NOT_FOUND` (already
/// deleted or expired), `MSSTORE_E_INVALID_ARGUMENT`, transient codes, …
///
/// # Safety
/// See the module contract of `ops`; `message_id` and `pop_receipt` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn msstore_client_delete_clawback_message(
    client: *mut msstore_client,
    message_id: *const c_char,
    pop_receipt: *const c_char,
    call: *const msstore_call_options,
    cb: msstore_completion_cb,
    user_data: *mut c_void,
    out_op: *mut *mut msstore_op,
) -> msstore_result {
    boundary!({
        // SAFETY: forwarded contract.
        let (id, receipt) = unsafe { (in_string(message_id)?, in_string(pop_receipt)?) };
        // SAFETY: forwarded contract.
        unsafe {
            start(client, call, cb, user_data, out_op, move |c| async move {
                c.clawback_delete(&id, &receipt).await?;
                Ok(Payload::new(ClawbackMessagesObj::new(&[])))
            })
        }
    })
}

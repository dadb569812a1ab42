//! One start function per network operation.
//!
//! Common contract of every function here:
//! - `client`: a live client. `call`: NULL (client defaults) or a `msstore_call_options`.
//! - `cb` (may be NULL) is called exactly once with `user_data` untouched, in the mode chosen by
//!   `call->completion_mode` or the client: QUEUED (at `msstore_client_poll`), IMMEDIATE (on a
//!   library thread) or BLOCKING (on the calling thread, before the function returns).
//! - `out_op` (may be NULL): receives the operation handle, owned by the caller (free it with
//!   `msstore_op_free`; freeing does not cancel). Needed to cancel, wait, or take results outside
//!   the callback. If NULL, the operation frees itself after its callback.
//! - Returns `MSSTORE_OK` when the operation started (QUEUED/IMMEDIATE) or completed
//!   successfully (BLOCKING: otherwise its error code). If a non-BLOCKING start fails
//!   (`MSSTORE_E_NULL_POINTER`, `MSSTORE_E_INVALID_HANDLE`, `MSSTORE_E_INVALID_ARGUMENT`,
//!   `MSSTORE_E_INVALID_UTF8`, `MSSTORE_E_TOO_LONG`, `MSSTORE_E_SHUTTING_DOWN`), nothing was
//!   started, `*out_op` is untouched and the callback will not be called.
//! - Input strings are NUL-terminated UTF-8 (at most 64 KiB), copied before the function returns.
//! - Threading: any thread, including from inside a callback.

use super::completion::{start, start_in_doubt, InDoubt};
use super::key::KeyObj;
use super::packed::PackedProducts;
use super::panic::boundary;
use super::results::{ConsumeObj, EntitlementsObj, OrderObj, Payload, SubscriptionsObj, TokenObj};
use super::strings::{in_opt_str, in_opt_string, in_str, in_string, read_versioned};
use super::strings::{MAX_PRODUCTS, MAX_STR};
use super::types::*;
use crate::collections::{ProductSkuId, UserIdentity};
use crate::collections::{QueryV6Request, QueryV8Request, QueryV9Request};
use crate::consume::{ConsumeRequest, ConsumeV6Request};
use crate::purchase::{ChangeType, GrantRequest, RecurrenceChangeRequest, RecurrenceQueryRequest};
use crate::secret::SecretString;
use crate::token::Audience;
use std::ffi::{c_char, c_void};

/// The products as a waiting operation holds them (see [`PackedProducts`]).
///
/// # Safety
/// `ids` (and `skus` when not NULL) point to `count` pointers, each NULL (skus only) or
/// NUL-terminated.
unsafe fn products(
    ids: *const *const c_char,
    skus: *const *const c_char,
    count: usize,
) -> Result<PackedProducts, msstore_result> {
    if count == 0 {
        return Ok(PackedProducts::default());
    }
    if count > MAX_PRODUCTS {
        return Err(msstore_result::MSSTORE_E_TOO_LONG);
    }
    if ids.is_null() {
        return Err(msstore_result::MSSTORE_E_NULL_POINTER);
    }
    let items = (0..count)
        .map(|i| {
            // SAFETY: `ids` has `count` readable elements, each NUL-terminated.
            let id = unsafe { in_str(*ids.add(i), MAX_STR) }?;
            let sku = if skus.is_null() {
                None
            } else {
                // SAFETY: `skus` has `count` readable elements, each NULL or NUL-terminated.
                unsafe { in_opt_str(*skus.add(i)) }?
            };
            Ok((id, sku))
        })
        .collect::<Result<Vec<_>, msstore_result>>()?;
    Ok(PackedProducts::pack(&items, !skus.is_null()))
}

/// Gets a token: the service token (`MSSTORE_AUDIENCE_SERVICE`) or a key-create token to hand to
/// a game client. Cached and single-flight. Result: `msstore_op_take_token`.
/// Errors in the callback: `MSSTORE_E_ENTRA_AUTH`, `MSSTORE_E_NETWORK`, `MSSTORE_E_TIMEOUT`,
/// `MSSTORE_E_THROTTLED`, `MSSTORE_E_CANCELED`, `MSSTORE_E_SHUTTING_DOWN`.
///
/// # Safety
/// See the module contract: `call` NULL or valid; `out_op` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn msstore_client_get_token(
    client: *mut msstore_client,
    audience: i32,
    call: *const msstore_call_options,
    cb: msstore_completion_cb,
    user_data: *mut c_void,
    out_op: *mut *mut msstore_op,
) -> msstore_result {
    boundary!({
        use msstore_audience::*;
        let aud = match audience {
            x if x == MSSTORE_AUDIENCE_SERVICE as i32 => Audience::Service,
            x if x == MSSTORE_AUDIENCE_COLLECTIONS_KEY_CREATE as i32 => {
                Audience::CollectionsKeyCreate
            }
            x if x == MSSTORE_AUDIENCE_PURCHASE_KEY_CREATE as i32 => Audience::PurchaseKeyCreate,
            _ => return Err(msstore_result::MSSTORE_E_INVALID_ARGUMENT),
        };
        // SAFETY: forwarded contract.
        unsafe {
            start(client, call, cb, user_data, out_op, move |c| async move {
                let t = c.access_token(aud).await?;
                Ok(Payload::new(TokenObj::new(&t)))
            })
        }
    })
}

/// Renews a Store ID key at the documented renew endpoint for its kind (never at the key's own
/// refreshUri). Result: `msstore_op_take_key` (the new key: `value` of `msstore_key_get_info`).
/// Errors in the callback: `MSSTORE_E_INVALID_KEY`, `MSSTORE_E_KEY_MUST_BE_REMINTED`,
/// `MSSTORE_E_ENTRA_AUTH`, transient codes, `MSSTORE_E_CANCELED`, `MSSTORE_E_SHUTTING_DOWN`.
///
/// # Safety
/// See the module contract; `key` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn msstore_client_renew_key(
    client: *mut msstore_client,
    key: *const c_char,
    call: *const msstore_call_options,
    cb: msstore_completion_cb,
    user_data: *mut c_void,
    out_op: *mut *mut msstore_op,
) -> msstore_result {
    boundary!({
        // SAFETY: forwarded contract.
        let key = unsafe { in_string(key) }?;
        // SAFETY: forwarded contract.
        unsafe {
            start(client, call, cb, user_data, out_op, move |c| async move {
                let margin = c.config().key_renew_margin;
                let r = c.renew_key(&key).await?;
                Ok(Payload::new(KeyObj::new(
                    &r.decoded,
                    r.key.expose(),
                    margin,
                )))
            })
        }
    })
}

/// Queries a user's entitlements (v9 publisherQuery by default, v8 or v6), all pages
/// (de-duplicated) or one page. Result: `msstore_op_take_entitlements`.
/// Synchronous errors add: `MSSTORE_E_INVALID_ARGUMENT` (api_version not 6/8/9, bad struct_size),
/// `MSSTORE_E_TOO_LONG` (> 1000 products). Errors in the callback: `MSSTORE_E_INVALID_ARGUMENT`
/// (e.g. v9 without products), `MSSTORE_E_UNAUTHORIZED`, `MSSTORE_E_CLIENT_ID_MISMATCH`,
/// `MSSTORE_E_THROTTLED`, `MSSTORE_E_NETWORK`, `MSSTORE_E_TIMEOUT`, `MSSTORE_E_SERVICE`, …
///
/// # Safety
/// See the module contract; `query` points to a valid `msstore_query_options` whose pointers are
/// NULL or valid as documented on the struct.
#[no_mangle]
pub unsafe extern "C" fn msstore_client_query_entitlements(
    client: *mut msstore_client,
    query: *const msstore_query_options,
    call: *const msstore_call_options,
    cb: msstore_completion_cb,
    user_data: *mut c_void,
    out_op: *mut *mut msstore_op,
) -> msstore_result {
    boundary!({
        // SAFETY: forwarded contract.
        let q = unsafe { read_versioned(query) }?;
        // SAFETY: the struct's pointers are NULL or valid per the contract.
        let (key, prods, token, validity, sbx) = unsafe {
            (
                in_string(q.collections_key)?,
                products(q.product_ids, q.sku_ids, q.product_count)?,
                in_opt_string(q.continuation_token)?,
                in_opt_string(q.validity_type)?,
                in_opt_string(q.sbx)?,
            )
        };
        // Held as given until the operation starts (it may wait for a connection slot); the
        // request itself is built at the start.
        let pending = PendingQuery {
            key: SecretString::from(key),
            products: prods,
            extras: QueryExtras::boxed(token, validity, sbx),
            max_page_size: q.max_page_size,
            exclude_duplicates: q.include_duplicates == 0,
            single_page: q.single_page != 0,
        };
        macro_rules! run {
            ($build:ident, $page:ident, $all:ident) => {{
                // SAFETY: forwarded contract.
                unsafe {
                    start(client, call, cb, user_data, out_op, move |c| {
                        let (r, single) = (pending.$build(), pending.single_page);
                        async move {
                            let obj = if single {
                                EntitlementsObj::from_page(c.$page(r).await?)
                            } else {
                                EntitlementsObj::from_all(c.$all(r).await?)
                            };
                            Ok(Payload::new(obj))
                        }
                    })
                }
            }};
        }
        match q.api_version {
            0 | 9 => run!(v9, query_v9_page, query_v9),
            8 => run!(v8, query_v8_page, query_v8),
            6 => run!(v6, query_v6_page, query_v6),
            _ => Err(msstore_result::MSSTORE_E_INVALID_ARGUMENT),
        }
    })
}

/// A query as its operation holds it until it starts: one shared copy of the key, the
/// products packed, no request-shaped `String`s yet.
struct PendingQuery {
    key: SecretString,
    products: PackedProducts,
    /// `None` when the query has none of them (most calls): one pointer instead of three.
    extras: Option<Box<QueryExtras>>,
    /// 0: the request type's default.
    max_page_size: u32,
    exclude_duplicates: bool,
    /// Here rather than beside it in the closure: it fits in this struct's padding.
    single_page: bool,
}

/// A query's optional strings.
struct QueryExtras {
    continuation_token: Option<String>,
    validity_type: Option<String>,
    sbx: Option<String>,
}

impl QueryExtras {
    fn boxed(
        continuation_token: Option<String>,
        validity_type: Option<String>,
        sbx: Option<String>,
    ) -> Option<Box<QueryExtras>> {
        let e = QueryExtras {
            continuation_token,
            validity_type,
            sbx,
        };
        let none = e.continuation_token.is_none() && e.validity_type.is_none() && e.sbx.is_none();
        (!none).then(|| Box::new(e))
    }
}

impl PendingQuery {
    fn extra(&self, pick: impl Fn(&QueryExtras) -> &Option<String>) -> Option<String> {
        self.extras.as_deref().and_then(|e| pick(e).clone())
    }

    /// The fields every query version shares: continuation, page size, validity filter.
    fn paging<R: QueryPaging>(&self, mut r: R) -> R {
        let (token, size, validity) = r.paging_fields();
        *token = self.extra(|e| &e.continuation_token);
        if self.max_page_size != 0 {
            *size = self.max_page_size;
        }
        *validity = self.extra(|e| &e.validity_type);
        r
    }

    /// v8 and v6 take product ids only as an optional filter.
    fn filter(&self) -> Option<Vec<ProductSkuId>> {
        (!self.products.is_empty()).then(|| self.products.unpack())
    }

    fn v9(&self) -> QueryV9Request {
        let mut r = self.paging(QueryV9Request::new(&self.key, self.products.unpack()));
        r.exclude_duplicates = self.exclude_duplicates;
        r.sbx = self.extra(|e| &e.sbx);
        r
    }

    fn v8(&self) -> QueryV8Request {
        let mut r = self.paging(QueryV8Request::new(&self.key));
        r.product_sku_ids = self.filter();
        r.exclude_duplicates = self.exclude_duplicates;
        r.sbx = self.extra(|e| &e.sbx);
        r
    }

    /// v6 has no duplicate switch and no sandbox field.
    fn v6(&self) -> QueryV6Request {
        let mut r = self.paging(QueryV6Request::new(&self.key));
        r.product_sku_ids = self.filter();
        r
    }
}

/// Access to the paging fields of each query request version.
trait QueryPaging {
    fn paging_fields(&mut self) -> (&mut Option<String>, &mut u32, &mut Option<String>);
}

macro_rules! query_paging {
    ($($t:ty),*) => {$(
        impl QueryPaging for $t {
            fn paging_fields(&mut self) -> (&mut Option<String>, &mut u32, &mut Option<String>) {
                (&mut self.continuation_token, &mut self.max_page_size, &mut self.validity_type)
            }
        }
    )*};
}
query_paging!(QueryV9Request, QueryV8Request, QueryV6Request);

/// Consumes a consumable (v8): store-managed (`quantity >= 1`) or developer-managed
/// (`quantity == 0`). Result: `msstore_op_take_consume_result`.
/// Errors in the callback: `MSSTORE_E_CONSUME_OUTCOME_UNKNOWN` (resend with
/// the error's `tracking_id`), `MSSTORE_E_SERVICE` (e.g. insufficient quantity),
/// `MSSTORE_E_INVALID_ARGUMENT` (tracking id not a GUID), `MSSTORE_E_UNAUTHORIZED`, …
///
/// # Safety
/// See the module contract; `opts` points to a valid `msstore_consume_options`.
#[no_mangle]
pub unsafe extern "C" fn msstore_client_consume(
    client: *mut msstore_client,
    opts: *const msstore_consume_options,
    call: *const msstore_call_options,
    cb: msstore_completion_cb,
    user_data: *mut c_void,
    out_op: *mut *mut msstore_op,
) -> msstore_result {
    boundary!({
        // SAFETY: forwarded contract.
        let o = unsafe { read_versioned(opts) }?;
        // SAFETY: the struct's strings are NULL or NUL-terminated per the contract.
        let (key, product, tracking, sbx) = unsafe {
            (
                in_string(o.collections_key)?,
                in_string(o.product_id)?,
                in_opt_string(o.tracking_id)?,
                in_opt_string(o.sbx)?,
            )
        };
        let mut r = if o.quantity == 0 {
            ConsumeRequest::developer_managed(&key, &product)
        } else {
            ConsumeRequest::store_managed(&key, &product, o.quantity)
        };
        // The id is fixed here, not in the core, so that an interrupted call can name it.
        let tracking = tracking.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        r = r.with_tracking_id(tracking.clone());
        r.sbx = sbx;
        let in_doubt = InDoubt {
            what: "consume",
            id_name: "trackingId",
            id: tracking,
        };
        // SAFETY: forwarded contract.
        unsafe {
            start_in_doubt(
                client,
                call,
                cb,
                user_data,
                out_op,
                Some(in_doubt),
                move |c| async move {
                    let res = c.consume(r).await.into_result()?;
                    Ok(Payload::new(ConsumeObj::new(res)))
                },
            )
        }
    })
}

/// Consumes through the legacy v6 endpoint (answers 204), form A (`item_id` + `tracking_id`) or
/// form B (`product_id` + `transaction_id`). Completes like `msstore_client_consume`: on
/// `MSSTORE_OK` take the result with `msstore_op_take_consume_result`; its `tracking_id` is the one sent
/// (form B: the transaction id), `item_id`/`product_id` echo the request and `new_quantity` is 0
/// (v6 reports no balance). Errors in the callback: `MSSTORE_E_CONSUME_OUTCOME_UNKNOWN` (resend
/// with the error's `tracking_id`), `MSSTORE_E_INVALID_ARGUMENT` (both forms or neither, an
/// unknown item), `MSSTORE_E_SERVICE` (e.g. nothing left to consume), `MSSTORE_E_UNAUTHORIZED`, …
/// Synchronous errors add `MSSTORE_E_INVALID_ARGUMENT` for a `tracking_id` without `item_id`.
///
/// # Safety
/// See the module contract; `opts` points to a valid `msstore_consume_v6_options`.
#[no_mangle]
pub unsafe extern "C" fn msstore_client_consume_v6(
    client: *mut msstore_client,
    opts: *const msstore_consume_v6_options,
    call: *const msstore_call_options,
    cb: msstore_completion_cb,
    user_data: *mut c_void,
    out_op: *mut *mut msstore_op,
) -> msstore_result {
    boundary!({
        // SAFETY: forwarded contract.
        let o = unsafe { read_versioned(opts) }?;
        // SAFETY: the struct's strings are NULL or NUL-terminated per the contract.
        let (key, item, tracking, product, transaction) = unsafe {
            (
                in_string(o.collections_key)?,
                in_opt_string(o.item_id)?,
                in_opt_string(o.tracking_id)?,
                in_opt_string(o.product_id)?,
                in_opt_string(o.transaction_id)?,
            )
        };
        let r = match item {
            Some(item) => {
                let mut r = ConsumeV6Request::by_item(&key, &item, tracking);
                // Both forms at once: sent to validation, which names the mistake.
                r.product_id = product;
                r.transaction_id = transaction;
                r
            }
            // A trackingId belongs to form A only; in form B it would go out unnoticed.
            None if tracking.is_some() => return Err(msstore_result::MSSTORE_E_INVALID_ARGUMENT),
            None => ConsumeV6Request {
                beneficiary: UserIdentity::b2b(&key),
                item_id: None,
                tracking_id: None,
                product_id: product,
                transaction_id: transaction,
            },
        };
        let in_doubt = InDoubt {
            what: "consume",
            id_name: if r.tracking_id.is_some() {
                "trackingId"
            } else {
                "transactionId"
            },
            id: r.resend_id(),
        };
        // SAFETY: forwarded contract.
        unsafe {
            start_in_doubt(
                client,
                call,
                cb,
                user_data,
                out_op,
                Some(in_doubt),
                move |c| async move {
                    let res = c.consume_v6(r).await.into_result()?;
                    Ok(Payload::new(ConsumeObj::new(res)))
                },
            )
        }
    })
}

/// Grants a free (zero-price) product to the user of a UserPurchaseId. Result:
/// `msstore_op_take_order`. Errors in the callback: `MSSTORE_E_INVALID_ARGUMENT`,
/// `MSSTORE_E_SERVICE` (not free, already owned), `MSSTORE_E_UNAUTHORIZED`, transient codes, …
///
/// # Safety
/// See the module contract; `opts` points to a valid `msstore_grant_options`.
#[no_mangle]
pub unsafe extern "C" fn msstore_client_grant_free_product(
    client: *mut msstore_client,
    opts: *const msstore_grant_options,
    call: *const msstore_call_options,
    cb: msstore_completion_cb,
    user_data: *mut c_void,
    out_op: *mut *mut msstore_op,
) -> msstore_result {
    boundary!({
        // SAFETY: forwarded contract.
        let o = unsafe { read_versioned(opts) }?;
        // SAFETY: the struct's strings are NULL or NUL-terminated per the contract.
        let mut r = unsafe {
            let mut r = GrantRequest::new(
                &in_string(o.purchase_key)?,
                &in_string(o.product_id)?,
                &in_string(o.sku_id)?,
                &in_string(o.availability_id)?,
            );
            if let Some(l) = in_opt_string(o.language)? {
                r.language = l;
            }
            if let Some(m) = in_opt_string(o.market)? {
                r.market = m;
            }
            r.order_id = in_opt_string(o.order_id)?;
            r.dev_offer_id = in_opt_string(o.dev_offer_id)?;
            r
        };
        r.quantity = 1;
        // The id is fixed here, not in the core, so that an interrupted call can name it.
        let order_id = r
            .order_id
            .get_or_insert_with(|| uuid::Uuid::new_v4().to_string())
            .clone();
        let in_doubt = InDoubt {
            what: "grant",
            id_name: "orderId",
            id: order_id,
        };
        // SAFETY: forwarded contract.
        unsafe {
            start_in_doubt(
                client,
                call,
                cb,
                user_data,
                out_op,
                Some(in_doubt),
                move |c| async move {
                    let order = c.grant_free_product(r).await?;
                    Ok(Payload::new(OrderObj::new(&order)))
                },
            )
        }
    })
}

/// Queries a user's subscriptions (all pages, or one page). Result:
/// `msstore_op_take_subscriptions`.
///
/// # Safety
/// See the module contract; `opts` points to a valid `msstore_subscription_query_options`.
#[no_mangle]
pub unsafe extern "C" fn msstore_client_query_subscriptions(
    client: *mut msstore_client,
    opts: *const msstore_subscription_query_options,
    call: *const msstore_call_options,
    cb: msstore_completion_cb,
    user_data: *mut c_void,
    out_op: *mut *mut msstore_op,
) -> msstore_result {
    boundary!({
        // SAFETY: forwarded contract.
        let o = unsafe { read_versioned(opts) }?;
        // SAFETY: the struct's strings are NULL or NUL-terminated per the contract.
        let mut r = unsafe {
            let mut r = RecurrenceQueryRequest::new(&in_string(o.purchase_key)?);
            r.continuation_token = in_opt_string(o.continuation_token)?;
            r.sbx = in_opt_string(o.sbx)?;
            r
        };
        if o.page_size != 0 {
            r.page_size = Some(o.page_size);
        }
        let single = o.single_page != 0;
        // SAFETY: forwarded contract.
        unsafe {
            start(client, call, cb, user_data, out_op, move |c| async move {
                let obj = if single {
                    let p = c.query_subscriptions_page(r).await?;
                    SubscriptionsObj::new(&p.items, p.continuation_token.as_deref(), p.raw_json)
                } else {
                    let items = c.query_subscriptions(r).await?;
                    SubscriptionsObj::new(&items, None, String::new())
                };
                Ok(Payload::new(obj))
            })
        }
    })
}

/// Cancels, extends, refunds or turns off auto-renew of a subscription. Result:
/// `msstore_op_take_subscriptions` (one item: the new state). Synchronous errors add
/// `MSSTORE_E_INVALID_ARGUMENT` for a `change_type` that is not a `msstore_change_type`.
///
/// # Safety
/// See the module contract; `opts` points to a valid `msstore_subscription_change_options`.
#[no_mangle]
pub unsafe extern "C" fn msstore_client_change_subscription(
    client: *mut msstore_client,
    opts: *const msstore_subscription_change_options,
    call: *const msstore_call_options,
    cb: msstore_completion_cb,
    user_data: *mut c_void,
    out_op: *mut *mut msstore_op,
) -> msstore_result {
    boundary!({
        // SAFETY: forwarded contract.
        let o = unsafe { read_versioned(opts) }?;
        use msstore_change_type::*;
        let ct = match o.change_type {
            x if x == MSSTORE_CHANGE_CANCEL as i32 => ChangeType::Cancel,
            x if x == MSSTORE_CHANGE_EXTEND as i32 => ChangeType::Extend,
            x if x == MSSTORE_CHANGE_REFUND as i32 => ChangeType::Refund,
            x if x == MSSTORE_CHANGE_TOGGLE_AUTO_RENEW as i32 => ChangeType::ToggleAutoRenew,
            _ => return Err(msstore_result::MSSTORE_E_INVALID_ARGUMENT),
        };
        // SAFETY: the struct's strings are NULL or NUL-terminated per the contract.
        let mut r = unsafe {
            let mut r = RecurrenceChangeRequest::new(
                &in_string(o.purchase_key)?,
                &in_string(o.recurrence_id)?,
                ct,
            );
            r.sbx = in_opt_string(o.sbx)?;
            r
        };
        if ct == ChangeType::Extend {
            r.extension_time_in_days = Some(o.extension_days);
        }
        let in_doubt = InDoubt {
            what: "subscription change",
            id_name: "recurrenceId",
            id: r.recurrence_id.clone(),
        };
        // SAFETY: forwarded contract.
        unsafe {
            start_in_doubt(
                client,
                call,
                cb,
                user_data,
                out_op,
                Some(in_doubt),
                move |c| async move {
                    let item = c.change_subscription(r).await?;
                    Ok(Payload::new(SubscriptionsObj::new(
                        std::slice::from_ref(&item),
                        None,
                        String::new(),
                    )))
                },
            )
        }
    })
}

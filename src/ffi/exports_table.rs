// The table of the result handles' exports: read by build.rs (not compiled into the library),
// which generates one real function per row into `$OUT_DIR/ffi_exports.rs` (included by
// `accessors.rs`), so cbindgen sees every export and its doc comment. A row names the export,
// its C return or view type and the Rust expression that reads the object `o` (it may use `?`:
// an `Err(code)` returns the code, or the return type's neutral value). The `# Safety` and the
// ownership paragraphs of copies and takes are added by the generator.

pub const RESULT_HANDLES: &[ResultHandle] = &[
    ResultHandle {
        handle: "msstore_error",
        arg: "e",
        exports: &[
            Value {
                name: "msstore_error_code",
                ty: "msstore_result",
                expr: "o.code",
                doc: r#"
                The error's result code (`MSSTORE_E_…`); `MSSTORE_E_NULL_POINTER` for NULL and
                `MSSTORE_E_INVALID_HANDLE` for a bad handle.
                Threading: any thread.
            "#,
            },
            Value {
                name: "msstore_error_kind",
                ty: "*const c_char",
                expr: "o.kind.as_ptr()",
                doc: r#"
                The error kind as a stable snake_case name (`"throttled"`). Owned by the error; valid until
                `msstore_error_free`. NULL for a bad handle.
            "#,
            },
            Value {
                name: "msstore_error_message",
                ty: "*const c_char",
                expr: "o.message.as_ptr()",
                doc: r#"
                A sentence for logs (never contains secrets). Owned by the error; valid until it is freed.
                NULL for a bad handle.
            "#,
            },
            Value {
                name: "msstore_error_http_status",
                ty: "u16",
                expr: "o.http_status",
                doc: "HTTP status of the failing response, or 0 when no response arrived.",
            },
            Value {
                name: "msstore_error_service_code",
                ty: "*const c_char",
                expr: "opt_ptr(&o.service_code)",
                doc: "The service's error code (ServiceError `code`, or Entra's `error`), or NULL. Owned by the error.",
            },
            Value {
                name: "msstore_error_inner_code",
                ty: "*const c_char",
                expr: "opt_ptr(&o.inner_code)",
                doc: r#"The service's inner error code (e.g. `"InconsistentClientId"`), or NULL. Owned by the error."#,
            },
            Value {
                name: "msstore_error_ms_cv",
                ty: "*const c_char",
                expr: "opt_ptr(&o.ms_cv)",
                doc: "The MS-CV correlation vector of the failing exchange, or NULL. Owned by the error.",
            },
            Value {
                name: "msstore_error_correlation_id",
                ty: "*const c_char",
                expr: "opt_ptr(&o.correlation_id)",
                doc: "MS-CorrelationId / MS-RequestId (or Entra's correlation id), or NULL. Owned by the error.",
            },
            Value {
                name: "msstore_error_retry_after_ms",
                ty: "i64",
                expr: "o.retry_after_ms",
                doc: "How long the service asked us to wait, in milliseconds; -1 when it did not say.",
            },
            Value {
                name: "msstore_error_tracking_id",
                ty: "*const c_char",
                expr: "opt_ptr(&o.tracking_id)",
                doc: "For consume: the tracking id to resend with, or NULL. Owned by the error.",
            },
            Value {
                name: "msstore_error_json",
                ty: "*const c_char",
                expr: "o.json.as_ptr()",
                doc: r#"
                The whole error as one JSON object (kind, message, codes, ids, Entra details). Owned by the
                error. NULL for a bad handle.
            "#,
            },
            Free {
                name: "msstore_error_free",
                doc: r#"
                Frees an error. NULL is a no-op; a freed or foreign handle is ignored (returns
                `MSSTORE_E_INVALID_HANDLE`). Threading: any thread, but not while another thread still reads
                strings from this error.
            "#,
            },
        ],
    },
    ResultHandle {
        handle: "msstore_token",
        arg: "t",
        exports: &[
            Value {
                name: "msstore_token_value",
                ty: "*const c_char",
                expr: "o.token.as_ptr()",
                doc: r#"
                The bearer token (a JWT). A secret: never log it; hand key-create tokens only to your own
                game clients, never the service token. Owned by the token handle. NULL for a bad handle.
            "#,
            },
            Value {
                name: "msstore_token_audience",
                ty: "i32",
                expr: "o.audience",
                doc: "The token's audience (a `msstore_audience`), or -1 for a bad handle.",
            },
            Value {
                name: "msstore_token_expires_at_unix_ms",
                ty: "i64",
                expr: "o.expires_at_ms",
                doc: "When the token expires (local clock), Unix milliseconds; -1 for a bad handle.",
            },
            Take {
                name: "msstore_op_take_token",
                doc: "Takes the token of a `msstore_get_token` operation.",
            },
            Free {
                name: "msstore_token_free",
                doc: "Frees a token. NULL is a no-op; a bad handle gives `MSSTORE_E_INVALID_HANDLE`.",
            },
        ],
    },
    ResultHandle {
        handle: "msstore_key",
        arg: "key",
        exports: &[
            Copy {
                name: "msstore_key_get_info",
                params: "",
                view: "msstore_key_info",
                expr: "o.info.at(0)?",
                doc: r#"
                Copies the decoded claims into `*out` (set `out->struct_size = sizeof(*out)` first). Strings
                are owned by `key`. Renewal advice uses a 24 h margin for decoded keys and the client's
                `key_renew_margin` for renewed ones.
            "#,
            },
            Value {
                name: "msstore_key_value",
                ty: "*const c_char",
                expr: "o.value.as_ptr()",
                doc: r#"
                The key itself (for a renewed key: the new key, which replaces the old one; persist it). A
                secret: never log it. Owned by `key`. NULL for a bad handle.
            "#,
            },
            Value {
                name: "msstore_key_json",
                ty: "*const c_char",
                expr: "o.json.as_ptr()",
                doc: "A JSON description of the key's claims with renewal advice (no secret). Owned by `key`.",
            },
            Take {
                name: "msstore_op_take_key",
                doc: "Takes the renewed key of a `msstore_renew_key` operation.",
            },
            Free {
                name: "msstore_key_free",
                doc: "Frees a key. NULL is a no-op; a bad handle gives `MSSTORE_E_INVALID_HANDLE`.",
            },
        ],
    },
    ResultHandle {
        handle: "msstore_entitlements",
        arg: "h",
        exports: &[
            Value {
                name: "msstore_entitlements_count",
                ty: "usize",
                expr: "o.items.len()",
                doc: "Number of entitlements (0 for a bad handle). Threading: any thread.",
            },
            Copy {
                name: "msstore_entitlements_get",
                params: "index: usize",
                view: "msstore_entitlement",
                expr: "o.items.at(index)?",
                doc: r#"
                Copies entitlement `index` into `*out` (set `out->struct_size = sizeof(*out)` first). Strings
                are owned by `h`, valid until `msstore_entitlements_free(h)`.
                Errors: `MSSTORE_E_NULL_POINTER`, `MSSTORE_E_INVALID_HANDLE`, `MSSTORE_E_INVALID_ARGUMENT`
                (index out of range or bad struct_size).
            "#,
            },
            Value {
                name: "msstore_entitlements_continuation_token",
                ty: "*const c_char",
                expr: "opt_ptr(&o.continuation)",
                doc: r#"
                The continuation token of a single-page query (pass it back for the next page), or NULL on
                the last page and for all-pages queries. Owned by `h`.
            "#,
            },
            Value {
                name: "msstore_entitlements_pages",
                ty: "u32",
                expr: "o.pages",
                doc: "Pages fetched (1 for a single-page query).",
            },
            Value {
                name: "msstore_entitlements_duplicates_removed",
                ty: "u32",
                expr: "o.duplicates_removed",
                doc: "Items dropped as duplicates across pages (all-pages queries).",
            },
            Value {
                name: "msstore_entitlements_raw_json",
                ty: "*const c_char",
                expr: "o.raw_json.as_ptr()",
                doc: r#"
                JSON of the result: for a single-page query the response body exactly as received; for an
                all-pages query `{"items":[…],"pages":n,"duplicates_removed":n}` with every parsed field.
                Owned by `h`.
            "#,
            },
            Take {
                name: "msstore_op_take_entitlements",
                doc: "Takes the entitlements of a `msstore_query_entitlements` operation.",
            },
            Free {
                name: "msstore_entitlements_free",
                doc: "Frees an entitlements handle and every string it owns. NULL is a no-op.",
            },
        ],
    },
    ResultHandle {
        handle: "msstore_consume_result",
        arg: "h",
        exports: &[
            Copy {
                name: "msstore_consume_result_get",
                params: "",
                view: "msstore_consume_info",
                expr: "o.info.at(0)?",
                doc: "Copies the consume summary into `*out` (set `struct_size` first). Strings owned by `h`.",
            },
            Copy {
                name: "msstore_consume_result_transaction",
                params: "index: usize",
                view: "msstore_order_transaction",
                expr: "o.transactions.at(index)?",
                doc: "Copies order transaction `index` into `*out`. Strings owned by `h`.",
            },
            Value {
                name: "msstore_consume_result_json",
                ty: "*const c_char",
                expr: "o.json.as_ptr()",
                doc: "The consume result as JSON (the service's fields). Owned by `h`.",
            },
            Take {
                name: "msstore_op_take_consume_result",
                doc: "Takes the result of a `msstore_consume` operation.",
            },
            Free {
                name: "msstore_consume_result_free",
                doc: "Frees a consume result. NULL is a no-op.",
            },
        ],
    },
    ResultHandle {
        handle: "msstore_order",
        arg: "h",
        exports: &[
            Copy {
                name: "msstore_order_get",
                params: "",
                view: "msstore_order_info",
                expr: "o.info.at(0)?",
                doc: "Copies the order summary into `*out` (set `struct_size` first). Strings owned by `h`.",
            },
            Copy {
                name: "msstore_order_line_item_get",
                params: "index: usize",
                view: "msstore_order_line_item",
                expr: "o.lines.at(index)?",
                doc: "Copies order line `index` into `*out`. Strings owned by `h`.",
            },
            Value {
                name: "msstore_order_raw_json",
                ty: "*const c_char",
                expr: "o.raw_json.as_ptr()",
                doc: "The order response body as received. Owned by `h`.",
            },
            Take {
                name: "msstore_op_take_order",
                doc: "Takes the order of a `msstore_grant_free_product` operation.",
            },
            Free {
                name: "msstore_order_free",
                doc: "Frees an order. NULL is a no-op.",
            },
        ],
    },
    ResultHandle {
        handle: "msstore_subscriptions",
        arg: "h",
        exports: &[
            Value {
                name: "msstore_subscriptions_count",
                ty: "usize",
                expr: "o.items.len()",
                doc: "Number of subscriptions (0 for a bad handle).",
            },
            Copy {
                name: "msstore_subscriptions_get",
                params: "index: usize",
                view: "msstore_subscription",
                expr: "o.items.at(index)?",
                doc: r#"
                Copies subscription `index` into `*out` (set `struct_size` first). Strings owned by `h`.
                Errors: `MSSTORE_E_NULL_POINTER`, `MSSTORE_E_INVALID_HANDLE`, `MSSTORE_E_INVALID_ARGUMENT`.
            "#,
            },
            Value {
                name: "msstore_subscriptions_continuation_token",
                ty: "*const c_char",
                expr: "opt_ptr(&o.continuation)",
                doc: "Continuation token of a single-page query, or NULL. Owned by `h`.",
            },
            Value {
                name: "msstore_subscriptions_raw_json",
                ty: "*const c_char",
                expr: "o.raw_json.as_ptr()",
                doc: r#"JSON: the response body as received for a single page, else `{"items":[…]}`. Owned by `h`."#,
            },
            Take {
                name: "msstore_op_take_subscriptions",
                doc: "Takes the subscriptions of `msstore_query_subscriptions` / `msstore_change_subscription`.",
            },
            Free {
                name: "msstore_subscriptions_free",
                doc: "Frees a subscriptions handle. NULL is a no-op.",
            },
        ],
    },
    ResultHandle {
        handle: "msstore_clawback_orders",
        arg: "h",
        exports: &[
            Value {
                name: "msstore_clawback_orders_count",
                ty: "usize",
                expr: "o.lines.len()",
                doc: "Number of order lines (0 for a bad handle).",
            },
            Copy {
                name: "msstore_clawback_orders_get",
                params: "index: usize",
                view: "msstore_clawback_order_line",
                expr: "o.lines.at(index)?",
                doc: r#"
                Copies order line `index` into `*out` (set `struct_size` first). Strings owned by `h`.
                Errors: `MSSTORE_E_NULL_POINTER`, `MSSTORE_E_INVALID_HANDLE`, `MSSTORE_E_INVALID_ARGUMENT`.
            "#,
            },
            Value {
                name: "msstore_clawback_orders_continuation_token",
                ty: "*const c_char",
                expr: "opt_ptr(&o.continuation)",
                doc: "Continuation token of a single-page query, or NULL. Owned by `h`.",
            },
            Value {
                name: "msstore_clawback_orders_raw_json",
                ty: "*const c_char",
                expr: "o.raw_json.as_ptr()",
                doc: r#"JSON: the response body for a single page, else `{"items":[…]}`. Owned by `h`."#,
            },
            Take {
                name: "msstore_op_take_clawback_orders",
                doc: "Takes the order lines of a `msstore_clawback_orders_query` operation.",
            },
            Free {
                name: "msstore_clawback_orders_free",
                doc: "Frees a v1 result. NULL is a no-op.",
            },
        ],
    },
    ResultHandle {
        handle: "msstore_clawback_messages",
        arg: "h",
        exports: &[
            Value {
                name: "msstore_clawback_messages_count",
                ty: "usize",
                expr: "o.items.len()",
                doc: "Number of messages (0 for a bad handle).",
            },
            Copy {
                name: "msstore_clawback_messages_get",
                params: "index: usize",
                view: "msstore_clawback_message",
                expr: "o.items.at(index)?",
                doc: r#"
                Copies message `index` (with its decoded event) into `*out` (set `struct_size` first).
                Strings owned by `h`. Errors: `MSSTORE_E_NULL_POINTER`, `MSSTORE_E_INVALID_HANDLE`,
                `MSSTORE_E_INVALID_ARGUMENT`.
            "#,
            },
            Value {
                name: "msstore_clawback_messages_raw_json",
                ty: "*const c_char",
                expr: "o.raw_json.as_ptr()",
                doc: "JSON array of the messages, each with its decoded `event` (or `event_error`). Owned by `h`.",
            },
            Take {
                name: "msstore_op_take_clawback_messages",
                doc: "Takes the messages of a `msstore_clawback_receive` / `msstore_clawback_peek` operation.",
            },
            Free {
                name: "msstore_clawback_messages_free",
                doc: "Frees a messages handle. NULL is a no-op.",
            },
        ],
    },
    ResultHandle {
        handle: "msstore_ledger",
        arg: "l",
        exports: &[
            Free {
                name: "msstore_ledger_free",
                doc: "Frees a ledger (closing its connection once no operation uses it). NULL is a no-op.",
            },
        ],
    },
    ResultHandle {
        handle: "msstore_ledger_items",
        arg: "h",
        exports: &[
            Value {
                name: "msstore_ledger_items_entry_count",
                ty: "usize",
                expr: "o.entries.len()",
                doc: "Number of entries (0 for a bad handle).",
            },
            Copy {
                name: "msstore_ledger_items_entry",
                params: "index: usize",
                view: "msstore_ledger_entry",
                expr: "o.entries.at(index)?",
                doc: r#"
                Copies entry `index` into `*out` (set `struct_size` first). Strings owned by `h`.
                Errors: `MSSTORE_E_NULL_POINTER`, `MSSTORE_E_INVALID_HANDLE`, `MSSTORE_E_INVALID_ARGUMENT`.
            "#,
            },
            Copy {
                name: "msstore_ledger_items_entry_transaction",
                params: "index: usize, tx: usize",
                view: "msstore_order_transaction",
                expr: "o.transactions.get(index).ok_or(msstore_result::MSSTORE_E_INVALID_ARGUMENT)?.at(tx)?",
                doc: "Copies order transaction `tx` of entry `index` into `*out`. Strings owned by `h`.",
            },
            Value {
                name: "msstore_ledger_items_revocation_count",
                ty: "usize",
                expr: "o.revocations.len()",
                doc: "Number of revocations (0 for a bad handle).",
            },
            Copy {
                name: "msstore_ledger_items_revocation",
                params: "index: usize",
                view: "msstore_ledger_revocation",
                expr: "o.revocations.at(index)?",
                doc: "Copies revocation `index` into `*out` (set `struct_size` first). Strings owned by `h`.",
            },
            Copy {
                name: "msstore_ledger_items_ingest_summary",
                params: "",
                view: "msstore_clawback_ingest_summary",
                expr: "o.summary.as_ref().ok_or(msstore_result::MSSTORE_E_INVALID_ARGUMENT)?",
                doc: r#"
                Copies the counts of a clawback ingestion result into `*out` (set `struct_size` first).
                Errors: `MSSTORE_E_NULL_POINTER`, `MSSTORE_E_INVALID_HANDLE`, `MSSTORE_E_INVALID_ARGUMENT`
                (the items are not the result of `msstore_ledger_ingest_clawback[_orders]`).
            "#,
            },
            Value {
                name: "msstore_ledger_items_json",
                ty: "*const c_char",
                expr: "o.json.as_ptr()",
                doc: r#"`{"entries":[…],"revocations":[…]}` (plus `"summary"` for an ingestion; no keys). Owned by `h`; NULL for a bad handle."#,
            },
            Take {
                name: "msstore_op_take_ledger_items",
                doc: "Takes the items of a `msstore_ledger_consume` or `msstore_ledger_reconcile` operation.",
            },
            Free {
                name: "msstore_ledger_items_free",
                doc: "Frees an items handle. NULL is a no-op.",
            },
        ],
    },
];

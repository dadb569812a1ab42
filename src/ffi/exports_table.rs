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
            Copy {
                name: "msstore_error_get_info",
                params: "",
                view: "msstore_error_info",
                expr: "o.info.at(0)?",
                doc: r#"
                Copies the error's code, kind, message, HTTP status, service codes, correlation ids, retry hint and tracking id into `*out` (set `out->struct_size = sizeof(*out)` first).
                Strings are owned by the error, valid until `msstore_error_free`.
                Errors: `MSSTORE_E_NULL_POINTER`, `MSSTORE_E_INVALID_HANDLE`, `MSSTORE_E_INVALID_ARGUMENT` (bad struct_size). Threading: any thread.
            "#,
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
                `MSSTORE_E_INVALID_HANDLE`). A borrowed error (the one `msstore_op_error` returns, owned by
                its operation) is not freed: returns `MSSTORE_E_BORROWED_HANDLE` and it stays valid.
                Threading: any thread, but not while another thread still reads strings from this error.
            "#,
            },
        ],
    },
    ResultHandle {
        handle: "msstore_token",
        arg: "t",
        exports: &[
            Copy {
                name: "msstore_token_get_info",
                params: "",
                view: "msstore_token_info",
                expr: "o.info.at(0)?",
                doc: r#"
                Copies the token (its value, audience and expiry) into `*out` (set `struct_size` first). Strings owned by the token handle.
            "#,
            },
            Take {
                name: "msstore_op_take_token",
                doc: "Takes the token of a `msstore_client_get_token` operation.",
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
                name: "msstore_key_json",
                ty: "*const c_char",
                expr: "o.json.as_ptr()",
                doc: "A JSON description of the key's claims with renewal advice (no secret). Owned by `key`.",
            },
            Take {
                name: "msstore_op_take_key",
                doc: "Takes the renewed key of a `msstore_client_renew_key` operation.",
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
            Copy {
                name: "msstore_entitlements_get_info",
                params: "",
                view: "msstore_entitlements_info",
                expr: "o.views().info.at(0)?",
                doc: r#"
                Copies the summary of the result (count, pages, duplicates removed, continuation token) into `*out` (set `struct_size` first). Strings owned by `h`.
            "#,
            },
            Copy {
                name: "msstore_entitlements_item_at",
                params: "index: usize",
                view: "msstore_entitlement",
                expr: "o.views().items.at(index)?",
                doc: r#"
                Copies entitlement `index` into `*out` (set `out->struct_size = sizeof(*out)` first). Strings
                are owned by `h`, valid until `msstore_entitlements_free(h)`.
                Errors: `MSSTORE_E_NULL_POINTER`, `MSSTORE_E_INVALID_HANDLE`, `MSSTORE_E_INVALID_ARGUMENT`
                (index out of range or bad struct_size).
            "#,
            },
            Value {
                name: "msstore_entitlements_json",
                ty: "*const c_char",
                expr: "o.json()",
                doc: r#"
                JSON of the result: for a single-page query the response body exactly as received; for an
                all-pages query `{"items":[…],"pages":n,"duplicates_removed":n}` with every parsed field.
                Owned by `h`.
            "#,
            },
            Take {
                name: "msstore_op_take_entitlements",
                doc: "Takes the entitlements of a `msstore_client_query_entitlements` operation.",
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
                name: "msstore_consume_result_get_info",
                params: "",
                view: "msstore_consume_result_info",
                expr: "o.info.at(0)?",
                doc: "Copies the consume summary into `*out` (set `struct_size` first). Strings owned by `h`.",
            },
            Copy {
                name: "msstore_consume_result_transaction_at",
                params: "index: usize",
                view: "msstore_order_transaction",
                expr: "o.transactions.at(index)?",
                doc: "Copies order transaction `index` into `*out`. Strings owned by `h`.",
            },
            Value {
                name: "msstore_consume_result_json",
                ty: "*const c_char",
                expr: "o.json()",
                doc: "The consume result as JSON (the service's fields). Owned by `h`.",
            },
            Take {
                name: "msstore_op_take_consume_result",
                doc: "Takes the result of a `msstore_client_consume` operation.",
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
                name: "msstore_order_get_info",
                params: "",
                view: "msstore_order_info",
                expr: "o.info.at(0)?",
                doc: "Copies the order summary into `*out` (set `struct_size` first). Strings owned by `h`.",
            },
            Copy {
                name: "msstore_order_line_item_at",
                params: "index: usize",
                view: "msstore_order_line_item",
                expr: "o.lines.at(index)?",
                doc: "Copies order line `index` into `*out`. Strings owned by `h`.",
            },
            Value {
                name: "msstore_order_json",
                ty: "*const c_char",
                expr: "o.json.as_ptr()",
                doc: "The order response body as received. Owned by `h`.",
            },
            Take {
                name: "msstore_op_take_order",
                doc: "Takes the order of a `msstore_client_grant_free_product` operation.",
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
            Copy {
                name: "msstore_subscriptions_get_info",
                params: "",
                view: "msstore_subscriptions_info",
                expr: "o.info.at(0)?",
                doc: r#"
                Copies the summary (count, continuation token) into `*out` (set `struct_size` first). Strings owned by `h`.
            "#,
            },
            Copy {
                name: "msstore_subscriptions_item_at",
                params: "index: usize",
                view: "msstore_subscription",
                expr: "o.items.at(index)?",
                doc: r#"
                Copies subscription `index` into `*out` (set `struct_size` first). Strings owned by `h`.
                Errors: `MSSTORE_E_NULL_POINTER`, `MSSTORE_E_INVALID_HANDLE`, `MSSTORE_E_INVALID_ARGUMENT`.
            "#,
            },
            Value {
                name: "msstore_subscriptions_json",
                ty: "*const c_char",
                expr: "o.json.as_ptr()",
                doc: r#"JSON: the response body as received for a single page, else `{"items":[…]}`. Owned by `h`."#,
            },
            Take {
                name: "msstore_op_take_subscriptions",
                doc: "Takes the subscriptions of `msstore_client_query_subscriptions` / `msstore_client_change_subscription`.",
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
            Copy {
                name: "msstore_clawback_orders_get_info",
                params: "",
                view: "msstore_clawback_orders_info",
                expr: "o.info.at(0)?",
                doc: r#"
                Copies the summary (count of order lines, continuation token) into `*out` (set `struct_size` first). Strings owned by `h`.
            "#,
            },
            Copy {
                name: "msstore_clawback_orders_line_at",
                params: "index: usize",
                view: "msstore_clawback_order_line",
                expr: "o.lines.at(index)?",
                doc: r#"
                Copies order line `index` into `*out` (set `struct_size` first). Strings owned by `h`.
                Errors: `MSSTORE_E_NULL_POINTER`, `MSSTORE_E_INVALID_HANDLE`, `MSSTORE_E_INVALID_ARGUMENT`.
            "#,
            },
            Value {
                name: "msstore_clawback_orders_json",
                ty: "*const c_char",
                expr: "o.json.as_ptr()",
                doc: r#"JSON: the response body for a single page, else `{"items":[…]}`. Owned by `h`."#,
            },
            Take {
                name: "msstore_op_take_clawback_orders",
                doc: "Takes the order lines of a `msstore_client_query_clawback_orders` operation.",
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
            Copy {
                name: "msstore_clawback_messages_get_info",
                params: "",
                view: "msstore_clawback_messages_info",
                expr: "o.info.at(0)?",
                doc: r#"
                Copies the summary (count of messages) into `*out` (set `struct_size` first).
            "#,
            },
            Copy {
                name: "msstore_clawback_messages_item_at",
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
                name: "msstore_clawback_messages_json",
                ty: "*const c_char",
                expr: "o.json.as_ptr()",
                doc: "JSON array of the messages, each with its decoded `event` (or `event_error`). Owned by `h`.",
            },
            Take {
                name: "msstore_op_take_clawback_messages",
                doc: "Takes the messages of a `msstore_client_receive_clawback_messages` / `msstore_client_peek_clawback_messages` operation.",
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
            Copy {
                name: "msstore_ledger_items_get_info",
                params: "",
                view: "msstore_ledger_items_info",
                expr: "o.info.at(0)?",
                doc: r#"
                Copies the counts of entries and revocations, and for the result of `msstore_ledger_ingest_clawback[_orders]` the counts of the ingestion pass, into `*out` (set `struct_size` first).
            "#,
            },
            Copy {
                name: "msstore_ledger_items_entry_at",
                params: "index: usize",
                view: "msstore_ledger_entry",
                expr: "o.entries.at(index)?",
                doc: r#"
                Copies entry `index` into `*out` (set `struct_size` first). Strings owned by `h`.
                Errors: `MSSTORE_E_NULL_POINTER`, `MSSTORE_E_INVALID_HANDLE`, `MSSTORE_E_INVALID_ARGUMENT`.
            "#,
            },
            Copy {
                name: "msstore_ledger_items_entry_transaction_at",
                params: "index: usize, tx: usize",
                view: "msstore_order_transaction",
                expr: "o.transactions.get(index).ok_or(msstore_result::MSSTORE_E_INVALID_ARGUMENT)?.at(tx)?",
                doc: "Copies order transaction `tx` of entry `index` into `*out`. Strings owned by `h`.",
            },
            Copy {
                name: "msstore_ledger_items_revocation_at",
                params: "index: usize",
                view: "msstore_ledger_revocation",
                expr: "o.revocations.at(index)?",
                doc: "Copies revocation `index` into `*out` (set `struct_size` first). Strings owned by `h`.",
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
    ResultHandle {
        handle: "msstore_credential",
        arg: "c",
        exports: &[
            Free {
                name: "msstore_credential_free",
                doc: r#"
                Frees a credential handle. Clients created with it keep their own reference (a provider's `release` runs when the last one goes). NULL is a no-op; a bad handle gives `MSSTORE_E_INVALID_HANDLE`. Threading: any thread.
            "#,
            },
        ],
    },
    ResultHandle {
        handle: "msstore_doctor_report",
        arg: "r",
        exports: &[
            Value {
                name: "msstore_doctor_report_count",
                ty: "usize",
                expr: "o.checks.0.len()",
                doc: "The number of checks in the report (0 for a bad handle).",
            },
            Copy {
                name: "msstore_doctor_report_get_check",
                params: "index: usize",
                view: "msstore_doctor_check_info",
                expr: "o.checks.at(index)?",
                doc: r#"
                Copies check `index` (in the order they ran) into `*out` (set `out->struct_size = sizeof(*out)` first). Strings owned by `r`.
                Errors: `MSSTORE_E_NULL_POINTER`, `MSSTORE_E_INVALID_HANDLE`, `MSSTORE_E_INVALID_ARGUMENT` (index out of range or bad struct_size).
            "#,
            },
            Value {
                name: "msstore_doctor_report_healthy",
                ty: "i32",
                expr: "o.healthy",
                doc: "1 when no check failed (warnings allowed), 0 when one did; -1 for a bad handle.",
            },
            Value {
                name: "msstore_doctor_report_text",
                ty: "*const c_char",
                expr: "o.text.as_ptr()",
                doc: r#"
                The report as `msstore doctor` prints it: one line per check (`PASS name: detail`, or `FAIL name: detail. To fix: hint`), each ending in a newline. Owned by `r`; NULL for a bad handle. Never holds a secret.
            "#,
            },
            Free {
                name: "msstore_doctor_report_free",
                doc: "Frees a report. NULL is a no-op; a bad handle gives `MSSTORE_E_INVALID_HANDLE`.",
            },
        ],
    },
];

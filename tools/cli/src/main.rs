//! `msstore`: every library operation from the command line. JSON on stdout on success; a JSON
//! error on stderr and a non-zero exit code on failure.

mod args;
mod clawback;

use args::Args;
use msstore::{
    Audience, ChangeType, Client, ClientConfig, ConsumeOutcome, ConsumeRequest, ConsumeV6Request,
    EntraVersion, Error, ErrorKind, GrantRequest, ProductSkuId, QueryV6Request, QueryV8Request,
    QueryV9Request, RecurrenceChangeRequest, RecurrenceQueryRequest, StoreIdKey, Timestamp,
};
use serde_json::{json, Value};
use std::io::Read;
use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str = "msstore: Microsoft Store Services from the command line

USAGE: msstore <command> [flags]

Commands:
  doctor [--key KEY|@file]...                        check the setup step by step, one line each with
                                                     what to do; exits non-zero on a failure
  token [--audience service|collections|purchase]   get an Entra token (key-create tokens go to game clients)
  key decode <KEY|@file|->                           decode a Store ID key offline and say when to renew it
  key renew <KEY|@file|->                            renew a collections or purchase key
  query --key K --product ID[:SKU]... [--api v9|v8|v6] [--one-page] [--continuation T]
        [--page-size N] [--validity All|Valid|Invalid] [--sbx S] [--filter '*:Durable']...
  consume --key K --product ID [--quantity N | --developer-managed] [--tracking-id GUID]
        [--no-order-ids] [--sbx S]
  consume --api v6 --key K (--item ITEM_ID [--tracking-id GUID] | --product ID --transaction-id T)
        legacy v6 consume: an item from `query --api v6` (form A), or a purchase's transaction (B)
  grant --key PURCHASE_KEY --product ID --sku SKU --availability ID [--order-id GUID]
        [--market us] [--language en-us]
  subscriptions --key PURCHASE_KEY [--sbx S] [--one-page] [--continuation T]
  subscription change --key PURCHASE_KEY --id RECURRENCE_ID --type Cancel|Extend|Refund|ToggleAutoRenew
        [--days N]
  clawback orders --key PURCHASE_KEY [--state Purchased|Revoked|Refunded]... [--sbx S]
        [--one-page] [--continuation T]              refunded orders (v1)
  clawback receive [--max 1..32] [--visibility-timeout S]   refund events from the queue (v2)
  clawback peek [--max 1..32]                        look without receiving
  clawback delete --id MESSAGE_ID --pop-receipt R    delete a processed message
  ledger pending [--ledger PATH | --ledger-postgres URL]
        list consumes still pending or applied-but-unacknowledged, and unacknowledged revocations
  ledger reconcile [--ledger PATH | --ledger-postgres URL] [--instance ID] [--no-clawback]
        [--sandbox RETAIL]
        record the clawback queue's refund events (events of other sandboxes are left alone;
        --no-clawback skips this), resend pending consumes (same trackingId), then release
        everything to the game servers and list unacknowledged revocations (needs the client
        configuration below)
  Ledger: --ledger / MSSTORE_LEDGER_PATH (SQLite file, default msstore-ledger.sqlite),
        --ledger-postgres / MSSTORE_LEDGER_POSTGRES_URL, --instance / MSSTORE_LEDGER_INSTANCE
        (default msstore-cli). Keys stored in the ledger are never printed.

Configuration (flags override MSSTORE_* environment variables):
  --tenant-id / MSSTORE_TENANT_ID        --client-id / MSSTORE_CLIENT_ID
  --client-secret / MSSTORE_CLIENT_SECRET (prefer the environment: flags show in `ps`)
  --emulator URL / MSSTORE_EMULATOR_URL  (sets the three base URLs below to the emulator)
  --login-url / MSSTORE_LOGIN_URL        --collections-url / MSSTORE_COLLECTIONS_URL
  --purchase-url / MSSTORE_PURCHASE_URL  --entra v1|v2 / MSSTORE_ENTRA_VERSION
  --service-identity / MSSTORE_SERVICE_IDENTITY   --timeout-ms N   --retries N
A key argument may be the key itself, @path to read it from a file, or - for standard input.

Exit codes: 0 success, 2 usage or invalid argument, 3 configuration, 4 authentication or key
(Entra, unauthorized, re-mint, client-id mismatch), 5 throttled/network/timeout, 6 consume outcome
unknown (resend with the same trackingId), 7 ledger database failure, 1 anything else.";

const CONFIG_FLAGS: &[&str] = &[
    "tenant-id",
    "client-id",
    "client-secret",
    "emulator",
    "login-url",
    "collections-url",
    "purchase-url",
    "entra",
    "service-identity",
    "timeout-ms",
    "retries",
];

fn main() -> ExitCode {
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => return fail(&Error::invalid_argument(e)),
    };
    if args.flag("help") || args.positionals.is_empty() {
        println!("{USAGE}");
        return if args.flag("help") {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(2)
        };
    }
    if args.positionals.first().map(String::as_str) == Some("doctor") {
        return doctor(&args);
    }
    match run(&args) {
        Ok(v) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&v).unwrap_or_else(|_| v.to_string())
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

/// `msstore doctor`: plain lines on stdout (it is for a human); the exit code is that of the
/// first failure's error kind, or 1.
fn doctor(args: &Args) -> ExitCode {
    let checks = match check_flags(args, &["key"]).and_then(|()| {
        if args.positionals.len() > 1 {
            return Err(usage(
                "doctor takes no positional arguments (keys go in --key)",
            ));
        }
        let keys = args
            .all("key")
            .iter()
            .map(|k| read_key(k))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(msstore::doctor::run(&config(args)?, &keys))
    }) {
        Ok(c) => c,
        Err(e) => return fail(&e),
    };
    for c in &checks {
        println!("{}", c.line());
    }
    match checks
        .iter()
        .find(|c| c.status == msstore::doctor::Status::Fail)
    {
        None => ExitCode::SUCCESS,
        Some(c) => ExitCode::from(c.error.as_ref().map_or(1, |e| exit_code(e.kind))),
    }
}

fn fail(e: &Error) -> ExitCode {
    if e.kind == ErrorKind::ConsumeOutcomeUnknown {
        // May have been applied: never report it as failed; say which id to resend with.
        eprintln!(
            "{}",
            json!({ "outcome": "unknown", "resend_with": e.tracking_id, "error": e.to_json() })
        );
    } else {
        eprintln!("{}", json!({ "error": e.to_json() }));
    }
    ExitCode::from(exit_code(e.kind))
}

fn exit_code(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::InvalidArgument | ErrorKind::InvalidKey => 2,
        ErrorKind::Configuration => 3,
        ErrorKind::EntraAuth
        | ErrorKind::Unauthorized
        | ErrorKind::KeyMustBeReminted
        | ErrorKind::ClientIdMismatch
        | ErrorKind::MissingServiceToken => 4,
        ErrorKind::Throttled | ErrorKind::Network | ErrorKind::Timeout => 5,
        ErrorKind::ConsumeOutcomeUnknown => 6,
        ErrorKind::Storage => 7,
        _ => 1,
    }
}

fn usage(msg: impl Into<String>) -> Error {
    Error::invalid_argument(msg)
}

/// Rejects flags the command does not know, so a typo is not silently ignored.
fn check_flags(args: &Args, allowed: &[&str]) -> Result<(), Error> {
    for name in args.names() {
        if !allowed.contains(&name) && !CONFIG_FLAGS.contains(&name) {
            return Err(usage(format!("unknown flag --{name} (see msstore --help)")));
        }
    }
    Ok(())
}

fn run(args: &Args) -> Result<Value, Error> {
    let pos: Vec<&str> = args.positionals.iter().map(String::as_str).collect();
    match pos.as_slice() {
        ["key", "decode", key] => {
            check_flags(args, &[])?;
            decode_key(&read_key(key)?)
        }
        ["key", "decode"] => decode_key(&read_key("-")?),
        ["key", "renew", key] => {
            check_flags(args, &[])?;
            let key = read_key(key)?;
            let c = client(args)?;
            let r = c.block_on(c.renew_key(&key))??;
            Ok(json!({
                "key": r.key.expose(),
                "decoded": r.decoded.describe(Timestamp::now(), c.config().key_renew_margin),
            }))
        }
        ["token"] => {
            check_flags(args, &["audience"])?;
            let audience = match args.get("audience").unwrap_or("service") {
                "service" => Audience::Service,
                "collections" => Audience::CollectionsKeyCreate,
                "purchase" => Audience::PurchaseKeyCreate,
                other => return Err(usage(format!("unknown audience '{other}'"))),
            };
            let c = client(args)?;
            let t = c.block_on(c.access_token(audience))??;
            Ok(json!({
                "audience": audience.uri(),
                "access_token": t.token.expose(),
                "expires_at": t.expires_at,
                "expires_in": t.expires_in().as_secs(),
            }))
        }
        ["ledger", "pending"] => {
            check_flags(args, &["ledger", "ledger-postgres", "instance"])?;
            let l = ledger(args)?;
            Ok(json!({
                "backend": l.backend(),
                "entries": l.pending()?,
                "revocations": l.open_revocations()?,
                "unmatched_clawbacks": l.unmatched_clawbacks()?,
                "clawback_dead_letters": l.clawback_dead_letters()?,
            }))
        }
        ["ledger", "reconcile"] => {
            check_flags(
                args,
                &[
                    "ledger",
                    "ledger-postgres",
                    "instance",
                    "no-clawback",
                    "sandbox",
                ],
            )?;
            let l = ledger(args)?;
            let c = client(args)?;
            // Refunds first, so that their revocations are in this run's output.
            let clawback = if args.flag("no-clawback") {
                None
            } else {
                let mut opts = msstore::ledger::ClawbackIngestOptions::default();
                if let Some(s) = args.get("sandbox") {
                    opts.expected_sandbox = s.to_string();
                }
                Some(c.block_on(l.ingest_clawback_queue(&c, opts))??)
            };
            let r = c.block_on(l.reconcile(&c))??;
            // This tool grants nothing: hand every claim back to the game servers.
            let mut ids: Vec<String> = r.to_grant.iter().map(|e| e.id.clone()).collect();
            ids.extend(r.still_pending.iter().map(|e| e.id.clone()));
            ids.extend(r.revocations.iter().map(|v| v.id.clone()));
            if let Some(s) = &clawback {
                ids.extend(s.revocations.iter().map(|v| v.id.clone()));
            }
            l.release(&ids)?;
            Ok(json!({
                "backend": l.backend(),
                "clawback": clawback,
                "applied_awaiting_game": r.to_grant,
                "failed": r.failed,
                "still_pending": r.still_pending,
                "revocations": l.open_revocations()?,
            }))
        }
        ["query"] => query(args),
        ["consume"] => consume(args),
        ["grant"] => grant(args),
        ["subscriptions"] => {
            check_flags(
                args,
                &["key", "sbx", "one-page", "continuation", "page-size"],
            )?;
            let mut req =
                RecurrenceQueryRequest::new(&read_key(args.require("key").map_err(usage)?)?);
            req.sbx = args.get("sbx").map(str::to_string);
            req.continuation_token = args.get("continuation").map(str::to_string);
            req.page_size = args.parse_num("page-size").map_err(usage)?;
            let c = client(args)?;
            if args.flag("one-page") {
                let p = c.block_on(c.query_subscriptions_page(req))??;
                Ok(json!({"items": p.items, "continuation_token": p.continuation_token}))
            } else {
                let items = c.block_on(c.query_subscriptions(req))??;
                Ok(json!({ "items": items }))
            }
        }
        ["subscription", "change"] => {
            check_flags(args, &["key", "id", "type", "days", "sbx"])?;
            let key = read_key(args.require("key").map_err(usage)?)?;
            let id = args.require("id").map_err(usage)?;
            let ty = args.require("type").map_err(usage)?;
            let change = ChangeType::parse(ty).ok_or_else(|| {
                usage(format!(
                    "--type '{ty}' must be Cancel, Extend, Refund or ToggleAutoRenew"
                ))
            })?;
            let mut req = RecurrenceChangeRequest::new(&key, id, change);
            req.extension_time_in_days = args.parse_num("days").map_err(usage)?;
            req.sbx = args.get("sbx").map(str::to_string);
            let c = client(args)?;
            let item = c.block_on(c.change_subscription(req))??;
            Ok(serde_json::to_value(item).unwrap_or_default())
        }
        ["clawback", sub @ ..] => clawback::run(args, sub),
        _ => Err(usage(format!(
            "unknown command '{}' (see msstore --help)",
            pos.join(" ")
        ))),
    }
}

fn decode_key(key: &str) -> Result<Value, Error> {
    let k = StoreIdKey::decode(key)?;
    let margin = ClientConfig::default().key_renew_margin;
    let now = Timestamp::now();
    let mut v = k.describe(now, margin);
    let advice = if k.is_expired(now) {
        "expired: it cannot be renewed; the game client must mint a new key"
    } else if k.needs_renewal(now, margin) {
        "renew now (older than 14 days or close to expiry)"
    } else {
        "valid; renew after renew_after"
    };
    v["advice"] = json!(advice);
    Ok(v)
}

/// `@path` reads a file, `-` reads standard input, anything else is the key itself.
fn read_key(arg: &str) -> Result<String, Error> {
    let text = if arg == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| usage(format!("cannot read the key from stdin: {e}")))?;
        s
    } else if let Some(path) = arg.strip_prefix('@') {
        std::fs::read_to_string(path)
            .map_err(|e| usage(format!("cannot read the key from {path}: {e}")))?
    } else {
        arg.to_string()
    };
    let key = text.trim().to_string();
    if key.is_empty() {
        return Err(usage("the key is empty"));
    }
    Ok(key)
}

fn client(args: &Args) -> Result<Client, Error> {
    Client::new(config(args)?)
}

/// The configuration from MSSTORE_* variables and the flags.
fn config(args: &Args) -> Result<ClientConfig, Error> {
    let mut c = ClientConfig::default().merge_env();
    if let Some(v) = args.get("emulator") {
        c = c.with_emulator(v);
    }
    let set = |target: &mut String, flag: &str| {
        if let Some(v) = args.get(flag) {
            *target = v.to_string();
        }
    };
    set(&mut c.tenant_id, "tenant-id");
    set(&mut c.client_id, "client-id");
    set(&mut c.login_base_url, "login-url");
    set(&mut c.collections_base_url, "collections-url");
    set(&mut c.purchase_base_url, "purchase-url");
    set(&mut c.service_identity, "service-identity");
    if let Some(s) = args.get("client-secret") {
        c.client_secret = s.into();
    }
    match args.get("entra") {
        None => {}
        Some("v1") | Some("1") => c.entra_version = EntraVersion::V1,
        Some("v2") | Some("2") => c.entra_version = EntraVersion::V2,
        Some(o) => return Err(usage(format!("--entra '{o}' must be v1 or v2"))),
    }
    if let Some(ms) = args.parse_num::<u64>("timeout-ms").map_err(usage)? {
        c.request_timeout = Duration::from_millis(ms);
    }
    if let Some(n) = args.parse_num::<u32>("retries").map_err(usage)? {
        c.retry.max_attempts = n + 1;
    }
    c.worker_threads = 1;
    Ok(c)
}

fn ledger(args: &Args) -> Result<msstore::Ledger, Error> {
    let mut c = msstore::LedgerConfig::default().merge_env();
    if let Some(p) = args.get("ledger") {
        c.sqlite_path = p.to_string();
        c.postgres_url = Default::default();
    }
    if let Some(u) = args.get("ledger-postgres") {
        c.postgres_url = u.into();
    }
    if let Some(i) = args.get("instance") {
        c.instance_id = i.to_string();
    }
    if c.instance_id.is_empty() {
        c.instance_id = "msstore-cli".into();
    }
    msstore::Ledger::open(&c)
}

fn products(args: &Args) -> Vec<ProductSkuId> {
    args.all("product")
        .iter()
        .flat_map(|p| p.split(','))
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once(':') {
            Some((id, sku)) => ProductSkuId::with_sku(id, sku),
            None => ProductSkuId::product(p),
        })
        .collect()
}

fn query(args: &Args) -> Result<Value, Error> {
    check_flags(
        args,
        &[
            "key",
            "product",
            "api",
            "one-page",
            "continuation",
            "page-size",
            "validity",
            "sbx",
            "filter",
            "market",
            "product-type",
        ],
    )?;
    let key = read_key(args.require("key").map_err(usage)?)?;
    let page_size: Option<u32> = args.parse_num("page-size").map_err(usage)?;
    let continuation = args.get("continuation").map(str::to_string);
    let validity = args.get("validity").map(str::to_string);
    let one_page = args.flag("one-page") || continuation.is_some();
    let c = client(args)?;
    let result = match args.get("api").unwrap_or("v9") {
        "v9" | "9" => {
            let mut r = QueryV9Request::new(&key, products(args));
            r.continuation_token = continuation;
            r.max_page_size = page_size.unwrap_or(r.max_page_size);
            r.validity_type = validity;
            r.sbx = args.get("sbx").map(str::to_string);
            if one_page {
                page_json(c.block_on(c.query_v9_page(r))??)
            } else {
                serde_json::to_value(c.block_on(c.query_v9(r))??).unwrap_or_default()
            }
        }
        "v8" | "8" => {
            let mut r = QueryV8Request::new(&key);
            let p = products(args);
            r.product_sku_ids = (!p.is_empty()).then_some(p);
            r.continuation_token = continuation;
            r.max_page_size = page_size.unwrap_or(r.max_page_size);
            r.validity_type = validity;
            r.sbx = args.get("sbx").map(str::to_string);
            let filters = args.all("filter");
            if !filters.is_empty() {
                r.entitlement_filters = filters;
            }
            if let Some(m) = args.get("market") {
                r.market = m.to_string();
            }
            if one_page {
                page_json(c.block_on(c.query_v8_page(r))??)
            } else {
                serde_json::to_value(c.block_on(c.query_v8(r))??).unwrap_or_default()
            }
        }
        "v6" | "6" => {
            let mut r = QueryV6Request::new(&key);
            let p = products(args);
            r.product_sku_ids = (!p.is_empty()).then_some(p);
            r.continuation_token = continuation;
            r.max_page_size = page_size.unwrap_or(r.max_page_size);
            r.validity_type = validity;
            let types = args.all("product-type");
            if !types.is_empty() {
                r.product_types = types;
            }
            if one_page {
                page_json(c.block_on(c.query_v6_page(r))??)
            } else {
                serde_json::to_value(c.block_on(c.query_v6(r))??).unwrap_or_default()
            }
        }
        other => return Err(usage(format!("--api '{other}' must be v6, v8 or v9"))),
    };
    Ok(result)
}

fn page_json(p: msstore::QueryPage) -> Value {
    json!({"items": p.items, "continuation_token": p.continuation_token})
}

fn consume(args: &Args) -> Result<Value, Error> {
    match args.get("api").unwrap_or("v8") {
        "v8" | "8" => {}
        "v6" | "6" => return consume_v6(args),
        other => return Err(usage(format!("--api '{other}' must be v8 or v6"))),
    }
    check_flags(
        args,
        &[
            "api",
            "key",
            "product",
            "quantity",
            "developer-managed",
            "tracking-id",
            "no-order-ids",
            "sbx",
        ],
    )?;
    let key = read_key(args.require("key").map_err(usage)?)?;
    let product = args.require("product").map_err(usage)?;
    let mut req = if args.flag("developer-managed") {
        if args.get("quantity").is_some() {
            return Err(usage(
                "--quantity cannot be used with --developer-managed (the Store rejects removeQuantity there)",
            ));
        }
        ConsumeRequest::developer_managed(&key, product)
    } else {
        let q = args
            .parse_num::<u32>("quantity")
            .map_err(usage)?
            .unwrap_or(1);
        ConsumeRequest::store_managed(&key, product, q)
    };
    req.tracking_id = args.get("tracking-id").map(str::to_string);
    req.include_order_ids = !args.flag("no-order-ids");
    req.sbx = args.get("sbx").map(str::to_string);
    let c = client(args)?;
    consume_output(c.block_on(c.consume(req))?)
}

/// `consume --api v6`: form A (`--item` [+ `--tracking-id`]) or form B (`--product` +
/// `--transaction-id`).
fn consume_v6(args: &Args) -> Result<Value, Error> {
    check_flags(
        args,
        &[
            "api",
            "key",
            "item",
            "tracking-id",
            "product",
            "transaction-id",
        ],
    )?;
    let key = read_key(args.require("key").map_err(usage)?)?;
    let tracking = args.get("tracking-id").map(str::to_string);
    let req = match (args.get("item"), args.get("product"), args.get("transaction-id")) {
        (Some(item), None, None) => ConsumeV6Request::by_item(&key, item, tracking),
        (None, Some(product), Some(tx)) if tracking.is_none() => {
            ConsumeV6Request::by_transaction(&key, product, tx)
        }
        _ => {
            return Err(usage(
                "consume --api v6 needs --item ITEM_ID [--tracking-id GUID], or --product ID --transaction-id T",
            ))
        }
    };
    let c = client(args)?;
    consume_output(c.block_on(c.consume_v6(req))?)
}

/// The same JSON for v8 and v6: `{"outcome":"consumed","result":…}`, or the error (exit code
/// 6 with the trackingId when the outcome is unknown).
fn consume_output(outcome: ConsumeOutcome) -> Result<Value, Error> {
    match outcome {
        ConsumeOutcome::Consumed(r) => Ok(
            json!({"outcome": "consumed", "result": serde_json::to_value(r).unwrap_or_default()}),
        ),
        other => Err(other
            .into_result()
            .err()
            .unwrap_or_else(|| Error::new(ErrorKind::Internal, "consume outcome lost"))),
    }
}

fn grant(args: &Args) -> Result<Value, Error> {
    check_flags(
        args,
        &[
            "key",
            "product",
            "sku",
            "availability",
            "order-id",
            "market",
            "language",
        ],
    )?;
    let key = read_key(args.require("key").map_err(usage)?)?;
    let mut req = GrantRequest::new(
        &key,
        args.require("product").map_err(usage)?,
        args.require("sku").map_err(usage)?,
        args.require("availability").map_err(usage)?,
    );
    req.order_id = args.get("order-id").map(str::to_string);
    if let Some(m) = args.get("market") {
        req.market = m.to_string();
    }
    if let Some(l) = args.get("language") {
        req.language = l.to_string();
    }
    let c = client(args)?;
    let order = c.block_on(c.grant_free_product(req))??;
    Ok(serde_json::to_value(order).unwrap_or_default())
}

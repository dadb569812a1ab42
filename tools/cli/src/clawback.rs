//! `msstore clawback …`: refunds from the command line (v1 orders, v2 queue).

use super::{check_flags, client, read_key, usage};
use crate::args::Args;
use msstore::clawback::{ClawbackOrdersRequest, QueueMessage, ReceiveOptions};
use msstore::Error;
use serde_json::{json, Value};

/// A message with its decoded event (or why it did not decode).
fn message_json(m: &QueueMessage) -> Value {
    let mut v = serde_json::to_value(m).unwrap_or_default();
    match m.decode_event() {
        Ok(e) => v["event"] = serde_json::to_value(e).unwrap_or_default(),
        Err(e) => v["event_error"] = json!(e.message),
    }
    v
}

pub fn run(args: &Args, sub: &[&str]) -> Result<Value, Error> {
    match sub {
        ["orders"] => {
            check_flags(args, &["key", "state", "sbx", "one-page", "continuation"])?;
            let mut req =
                ClawbackOrdersRequest::new(&read_key(args.require("key").map_err(usage)?)?);
            let states = args.all("state");
            if !states.is_empty() {
                req.line_item_state_filter = states;
            }
            req.sbx = args.get("sbx").map(str::to_string);
            req.continuation_token = args.get("continuation").map(str::to_string);
            let c = client(args)?;
            if args.flag("one-page") {
                let p = c.block_on(c.clawback_orders_page(req))??;
                Ok(json!({ "items": p.items, "continuation_token": p.continuation_token }))
            } else {
                let items = c.block_on(c.clawback_orders(req))??;
                Ok(json!({ "items": items }))
            }
        }
        ["receive"] => {
            check_flags(args, &["max", "visibility-timeout"])?;
            let d = ReceiveOptions::default();
            let opts = ReceiveOptions {
                max_messages: args
                    .parse_num("max")
                    .map_err(usage)?
                    .unwrap_or(d.max_messages),
                visibility_timeout_secs: args
                    .parse_num("visibility-timeout")
                    .map_err(usage)?
                    .unwrap_or(d.visibility_timeout_secs),
            };
            let c = client(args)?;
            let msgs = c.block_on(c.clawback_receive(opts))??;
            Ok(json!({ "messages": msgs.iter().map(message_json).collect::<Vec<_>>() }))
        }
        ["peek"] => {
            check_flags(args, &["max"])?;
            let n = args.parse_num("max").map_err(usage)?.unwrap_or(32);
            let c = client(args)?;
            let msgs = c.block_on(c.clawback_peek(n))??;
            Ok(json!({ "messages": msgs.iter().map(message_json).collect::<Vec<_>>() }))
        }
        ["delete"] => {
            check_flags(args, &["id", "pop-receipt"])?;
            let id = args.require("id").map_err(usage)?;
            let receipt = args.require("pop-receipt").map_err(usage)?;
            let c = client(args)?;
            c.block_on(c.clawback_delete(id, receipt))??;
            Ok(json!({ "deleted": id }))
        }
        _ => Err(usage(format!(
            "unknown command 'clawback {}' (orders, receive, peek, delete)",
            sub.join(" ")
        ))),
    }
}

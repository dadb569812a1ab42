//! msstore's Rust API: one `Client`, operations awaited on the client's own runtime.

use crate::load::{burst, closed_loop, Window};
use crate::stats::Summary;
use crate::workload::{Workload, World};
use msstore::{Client, ClientConfig, ConsumeOutcome, SecretString};
use std::sync::Arc;

pub fn run(
    world: &World,
    w: Workload,
    concurrency: usize,
    window: Window,
) -> Result<Summary, String> {
    let client = client(world)?;
    let rt = msstore::driver::runtime_handle(&client);
    let callers = world.cold_callers;
    // One copy of the query key for every operation, as a caller keeping a key per player does.
    let key = SecretString::new(world.query_key(w));
    let world = Arc::new(world.clone());
    let op = move |n: u64| {
        let (client, world, key) = (client.clone(), world.clone(), key.clone());
        async move { one(&client, &world, &key, w, n).await }
    };
    Ok(match w {
        Workload::ColdStart => burst(&rt, callers, op),
        _ => closed_loop(&rt, concurrency, window, op),
    })
}

/// The client every Rust API cell uses.
pub(crate) fn client(world: &World) -> Result<Client, String> {
    let mut cfg = ClientConfig::new(
        &world.tenant_id,
        &world.client_id,
        world.client_secret.as_str(),
    )
    .with_emulator(&world.base_url);
    cfg.extra_root_cert_pem = world.tls_cert_pem.clone();
    // The realistic mode measures an explicit per-host cap beside the default.
    if let Some(n) = std::env::var("MSSTORE_BENCH_MAX_CONNECTIONS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        cfg.max_connections_per_host = n;
    }
    Client::new(cfg).map_err(|e| format!("client: {e}"))
}

/// One operation of workload `w` (number `n`), checked.
pub(crate) async fn one(
    client: &Client,
    world: &World,
    key: &SecretString,
    w: Workload,
    n: u64,
) -> Result<(), String> {
    match w {
        Workload::Query10 | Workload::Query500 | Workload::ColdStart => {
            let r = client
                .query_v9(world.query_request_with(w, n, key))
                .await
                .map_err(|e| e.to_string())?;
            let want = world.expected_items(w);
            if r.items.len() != want {
                return Err(format!("{} items, expected {want}", r.items.len()));
            }
            Ok(())
        }
        Workload::Consume => match client.consume(world.consume_request()).await {
            ConsumeOutcome::Consumed(_) => Ok(()),
            ConsumeOutcome::Failed(e) => Err(e.to_string()),
            ConsumeOutcome::Unknown { error, .. } => Err(format!("outcome unknown: {error}")),
        },
        Workload::Renew => client
            .renew_key(&world.renew_key)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string()),
    }
}

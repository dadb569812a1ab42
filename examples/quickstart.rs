//! The main job: start the bundled Store emulator in-process, seed a tenant, a player and a small
//! catalog, then walk through everything a game server does with msstore.
//!
//! Run with `cargo run --example quickstart`.

use msstore::ledger::ClawbackIngestOptions;
use msstore::{
    Audience, ChangeType, Client, ClientConfig, ConsumeOutcome, ConsumeRequest, EntryState,
    GrantRequest, Ledger, LedgerConfig, LedgerConsume, ProductSkuId, QueryV9Request,
    RecurrenceChangeRequest, RecurrenceQueryRequest, StoreIdKey, Timestamp,
};
use msstore_emulator::{ClawbackAction, Emulator, EmulatorConfig};
use std::process::ExitCode;

fn main() -> ExitCode {
    match run() {
        Ok(()) => {
            println!("\nquickstart finished: every step succeeded");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("\nquickstart FAILED: {e}");
            ExitCode::FAILURE
        }
    }
}

fn step(n: u32, title: &str) {
    println!("\n[{n}] {title}");
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    step(
        1,
        "start the Store emulator on a loopback port and seed a demo world",
    );
    let emu = Emulator::start(EmulatorConfig::default())?;
    let seed = emu.seed_demo();
    println!("    emulator at {}", emu.base_url());
    println!(
        "    tenant {}, app {}, player '{}'",
        seed.tenant_id, seed.client_id, seed.publisher_user_id
    );

    let config = ClientConfig::new(
        &seed.tenant_id,
        &seed.client_id,
        seed.client_secret.as_str(),
    )
    .with_emulator(&emu.base_url());
    let client = Client::new(config)?;

    step(2, "fetch the three Entra tokens (cached, single-flight)");
    for audience in [
        Audience::Service,
        Audience::CollectionsKeyCreate,
        Audience::PurchaseKeyCreate,
    ] {
        let t = client.block_on(client.access_token(audience))??;
        println!(
            "    {:<62} expires in {} s",
            audience.uri(),
            t.expires_in().as_secs()
        );
    }
    client.block_on(client.access_token(Audience::Service))??;
    println!(
        "    token requests sent to Entra: {} (the fourth call came from the cache)",
        client.token_requests_sent()
    );

    step(
        3,
        "a game client mints Store ID keys with the key-create tokens; decode them offline",
    );
    let collections_token =
        client.block_on(client.access_token(Audience::CollectionsKeyCreate))??;
    let collections_key = emu.mint_key(
        msstore_emulator::KeyKind::Collections,
        collections_token.token.expose(),
        &seed.publisher_user_id,
        &seed.store_user_id,
    )?;
    let purchase_key = seed.purchase_key.clone();
    for key in [&collections_key, &purchase_key] {
        let k = StoreIdKey::decode(key)?;
        println!(
            "    {:<11} key for user '{}', issued {}, expires {}, renew after {}",
            k.kind.as_str(),
            k.user_id.as_deref().unwrap_or("?"),
            k.issued_at,
            k.expires_at,
            k.renew_after(client.config().key_renew_margin)
        );
    }

    step(
        4,
        "query what the player owns (v9 publisherQuery, all pages)",
    );
    let products = [
        &seed.durable_product_id,
        &seed.consumable_product_id,
        &seed.unmanaged_consumable_product_id,
        &seed.free_product_id,
        &seed.subscription_product_id,
        &seed.bundle_product_id,
        &seed.bundle_child_product_id,
    ];
    let owned = client.block_on(client.query_v9(QueryV9Request::new(
        &collections_key,
        products.iter().map(|p| ProductSkuId::product(*p)).collect(),
    )))??;
    for item in &owned.items {
        println!(
            "    {:<14} {:<20} {:<8} quantity {:>3}{}",
            item.product_id,
            item.product_kind,
            item.status,
            item.quantity,
            item.recurrence_id
                .as_deref()
                .map(|r| format!("  subscription {r}"))
                .unwrap_or_default()
        );
    }
    println!("    {} items in {} page(s)", owned.items.len(), owned.pages);

    step(
        5,
        "consume 3 units of the store-managed consumable, then replay the same request",
    );
    let before = emu.balance(&seed.store_user_id, &seed.consumable_product_id);
    let request = ConsumeRequest::store_managed(&collections_key, &seed.consumable_product_id, 3)
        .with_tracking_id(uuid::Uuid::new_v4().to_string());
    let first = match client.block_on(client.consume(request.clone()))? {
        ConsumeOutcome::Consumed(r) => r,
        other => return Err(format!("consume did not apply: {other:?}").into()),
    };
    println!(
        "    consumed: trackingId {}, new balance {}, from {} order line(s)",
        first.tracking_id,
        first.new_quantity,
        first.order_transactions.len()
    );
    let replay = client.block_on(client.consume(request))?.into_result()?;
    let after = emu.balance(&seed.store_user_id, &seed.consumable_product_id);
    println!(
        "    replay with the same trackingId: balance still {} (store says {} -> {}, deducted once)",
        replay.new_quantity, before, after
    );
    if before - after != 3 {
        return Err(
            format!("expected the balance to drop by 3, it went {before} -> {after}").into(),
        );
    }

    step(6, "grant the free product");
    let order = client.block_on(client.grant_free_product(GrantRequest::new(
        &purchase_key,
        &seed.free_product_id,
        &seed.free_sku_id,
        &seed.free_availability_id,
    )))??;
    println!(
        "    order {} is {} with {} line(s)",
        order.order_id,
        order.order_state,
        order.order_line_items.len()
    );

    step(
        7,
        "list the player's subscriptions and extend one by 3 days",
    );
    let subs = client
        .block_on(client.query_subscriptions(RecurrenceQueryRequest::new(&purchase_key)))??;
    for s in &subs {
        println!(
            "    {} {} auto-renew {} expires {}",
            s.id,
            s.recurrence_state,
            s.auto_renew,
            s.expiration_time.map(|t| t.to_string()).unwrap_or_default()
        );
    }
    let extended = client.block_on(client.change_subscription(
        RecurrenceChangeRequest::extend(&purchase_key, &seed.recurrence_id, 3),
    ))??;
    println!(
        "    after Extend: expires {}",
        extended
            .expiration_time
            .map(|t| t.to_string())
            .unwrap_or_default()
    );
    let toggled = client.block_on(client.change_subscription(RecurrenceChangeRequest::new(
        &purchase_key,
        &seed.recurrence_id,
        ChangeType::ToggleAutoRenew,
    )))??;
    println!(
        "    after ToggleAutoRenew: auto-renew {}",
        toggled.auto_renew
    );

    step(
        8,
        "renew the collections key (at the configured host, never the key's refreshUri)",
    );
    let renewed = client.block_on(client.renew_key(&collections_key))??;
    println!(
        "    new key issued {}, expires {}; old key issued {}",
        renewed.decoded.issued_at,
        renewed.decoded.expires_at,
        StoreIdKey::decode(&collections_key)?.issued_at
    );

    step(
        9,
        "exactly-once fulfilment: consume through the durable ledger, then reconcile a chargeback",
    );
    let ledger_file =
        std::env::temp_dir().join(format!("msstore-quickstart-{}.sqlite", std::process::id()));
    let result = fulfilment(&emu, &seed, &client, &collections_key, &ledger_file);
    for suffix in ["", "-wal", "-shm"] {
        let mut p = ledger_file.clone().into_os_string();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
    result?;

    step(10, "what the emulator saw");
    println!(
        "    {} requests over {} TCP connection(s); {} Entra token requests; now {}",
        emu.requests().len(),
        emu.connections_opened(),
        client.token_requests_sent(),
        Timestamp::now()
    );
    Ok(())
}

/// Step 9: the ledger records the consume before sending it, the game grants and acknowledges;
/// when the Store later charges back an order the consume drew from, one refund pass turns the
/// queue event into "take back the units of that order from player-42".
fn fulfilment(
    emu: &Emulator,
    seed: &msstore_emulator::DemoSeed,
    client: &Client,
    collections_key: &str,
    ledger_file: &std::path::Path,
) -> Result<(), Box<dyn std::error::Error>> {
    let ledger = Ledger::open(&LedgerConfig::sqlite(ledger_file.to_string_lossy()))?;
    let entry = client.block_on(ledger.consume(
        client,
        LedgerConsume::new("player-42", collections_key, &seed.consumable_product_id, 2),
    ))??;
    if entry.state != EntryState::Applied {
        return Err(format!("the ledger consume did not apply: {entry:?}").into());
    }
    println!(
        "    entry {} applied (balance now {}): the game grants 2 coins to player-42, then acknowledges",
        entry.id,
        entry.new_quantity.unwrap_or_default()
    );
    ledger.acknowledge(&entry.id)?;
    let drawn = entry
        .transactions
        .first()
        .ok_or("the consume recorded no order line")?;
    emu.clawback_order(
        ClawbackAction::Chargeback,
        &seed.store_user_id,
        &drawn.order_id,
    )?;
    println!(
        "    the player's bank charges back order {} ({} of the 2 units came from it)",
        drawn.order_id, drawn.quantity_consumed
    );
    let pass = client
        .block_on(ledger.ingest_clawback_queue(client, ClawbackIngestOptions::default()))??;
    println!(
        "    refund pass: {} event(s) received, {} recorded, {} deleted from the queue",
        pass.received, pass.applied, pass.deleted
    );
    let mine: Vec<_> = pass
        .revocations
        .iter()
        .filter(|r| r.entry_id == entry.id)
        .collect();
    if mine.iter().map(|r| r.quantity).sum::<i64>() != drawn.quantity_consumed {
        return Err(format!(
            "expected revocations of {} unit(s) for entry {}: {pass:?}",
            drawn.quantity_consumed, entry.id
        )
        .into());
    }
    for r in &pass.revocations {
        println!(
            "    revoke {} x {} from {} (event {}), then acknowledge",
            r.quantity, r.product_id, r.player_ref, r.event_id
        );
        ledger.acknowledge_revocation(&r.id)?;
    }
    Ok(())
}

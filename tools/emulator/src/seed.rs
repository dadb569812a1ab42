//! The quickstart world in one call: an Entra app, a catalog covering every product kind,
//! one user owning some of it, and fresh Store ID keys.

use super::catalog::{ProductKind, ProductSpec};
use super::crypto::Signer;
use super::keys::{self, KeyKind};
use super::state::State;
use super::tokens;
use serde::{Deserialize, Serialize};

pub const DEMO_TENANT: &str = "3f6c1a2e-8b4d-4e7f-9a10-5c2b7d8e9f01";
pub const DEMO_CLIENT_ID: &str = "b6e0d7c2-41a8-4f3e-9d25-0c7a18e4f9b6";
pub const DEMO_SECRET: &str = "emu~Secret.Value_01-%+";
pub const DEMO_DURABLE: &str = "9PX4K2C7ZQ1M";
pub const DEMO_CONSUMABLE: &str = "9NZB0T3LQH5D";
pub const DEMO_UNMANAGED: &str = "9MC8V1RX0J6P";
pub const DEMO_FREE: &str = "9R2F7HK0QX4C";
pub const DEMO_FREE_AVAILABILITY: &str = "9R2F7HK0QX4B";
pub const DEMO_SUBSCRIPTION: &str = "9MWQ3RSN7T2K";
pub const DEMO_BUNDLE: &str = "9BNDL5XK2M7Q";
pub const DEMO_BUNDLE_CHILD: &str = "9CHLD8WQ4N1R";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DemoSeed {
    pub base_url: String,
    pub login_base_url: String,
    pub collections_base_url: String,
    pub purchase_base_url: String,
    pub tenant_id: String,
    pub client_id: String,
    pub client_secret: String,
    pub publisher_user_id: String,
    pub store_user_id: String,
    pub collections_key: String,
    pub purchase_key: String,
    pub sku_id: String,
    /// Owned durable.
    pub durable_product_id: String,
    /// Store-managed consumable with balance 10 (two orders: 4 + 6, for FIFO).
    pub consumable_product_id: String,
    /// Developer-managed consumable with one outstanding unit.
    pub unmanaged_consumable_product_id: String,
    /// Free durable, not owned yet (grant it).
    pub free_product_id: String,
    pub free_sku_id: String,
    pub free_availability_id: String,
    /// Monthly subscription (7 d grace / 36 d dunning), owned.
    pub subscription_product_id: String,
    pub subscription_sku_id: String,
    pub recurrence_id: String,
    /// Bundle (owned) and the durable it contains (owned through the bundle only).
    pub bundle_product_id: String,
    pub bundle_child_product_id: String,
}

pub struct SeedUrls {
    pub base: String,
}

pub fn demo(st: &mut State, signer: &Signer, urls: SeedUrls) -> Result<DemoSeed, String> {
    st.add_app(DEMO_TENANT, DEMO_CLIENT_ID, DEMO_SECRET, None);
    let p = |id: &str, kind: ProductKind, title: &str| ProductSpec {
        product_id: id.into(),
        kind,
        title: title.into(),
        ..Default::default()
    };
    st.add_product(p(DEMO_DURABLE, ProductKind::Durable, "Starter Sword"));
    st.add_product(p(DEMO_CONSUMABLE, ProductKind::Consumable, "Gold Coins").price(0.99));
    st.add_product(
        p(
            DEMO_UNMANAGED,
            ProductKind::UnmanagedConsumable,
            "Potion Pack",
        )
        .price(0.49),
    );
    st.add_product(ProductSpec {
        availability_id: DEMO_FREE_AVAILABILITY.into(),
        ..p(DEMO_FREE, ProductKind::Durable, "Starter Pack").price(0.0)
    });
    st.add_product(ProductSpec {
        skus: vec!["0002".into()],
        ..p(DEMO_SUBSCRIPTION, ProductKind::Durable, "Monthly Club")
            .price(4.99)
            .subscription(1, 7, 36)
    });
    st.add_product(p(DEMO_BUNDLE_CHILD, ProductKind::Durable, "Bonus Map"));
    st.add_product(p(DEMO_BUNDLE, ProductKind::Durable, "Map Bundle").bundle(&[DEMO_BUNDLE_CHILD]));

    let mut n = 1;
    let store_user = loop {
        let u = format!("demo-store-user-{n}");
        if !st.users.keys().any(|(_, x)| *x == u) {
            break u;
        }
        n += 1;
    };
    let publisher_user = format!("player-{:06}", 4511 + n);
    st.user_mut("", &store_user);
    let buy = |st: &mut State, pid: &str, sku: Option<&str>, q: i64| {
        st.create_order(
            "",
            &store_user,
            &publisher_user,
            pid,
            sku,
            q,
            None,
            DEMO_CLIENT_ID,
            "en-us",
            "us",
        )
    };
    buy(st, DEMO_DURABLE, None, 1)?;
    buy(st, DEMO_CONSUMABLE, None, 4)?;
    buy(st, DEMO_CONSUMABLE, None, 6)?;
    buy(st, DEMO_UNMANAGED, None, 1)?;
    buy(st, DEMO_BUNDLE, None, 1)?;
    let sub = buy(st, DEMO_SUBSCRIPTION, Some("0002"), 1)?;

    let mut key = |kind: KeyKind| -> Result<String, String> {
        let t = tokens::issue(
            st,
            signer,
            DEMO_TENANT,
            DEMO_CLIENT_ID,
            kind.create_audience(),
        );
        keys::mint(st, signer, kind, &t.token, &publisher_user, &store_user)
            .map_err(|e| e.to_string())
    };
    let collections_key = key(KeyKind::Collections)?;
    let purchase_key = key(KeyKind::Purchase)?;
    let base = urls.base;
    Ok(DemoSeed {
        login_base_url: format!("{base}/login"),
        collections_base_url: format!("{base}/collections"),
        purchase_base_url: format!("{base}/purchase"),
        base_url: base,
        tenant_id: DEMO_TENANT.into(),
        client_id: DEMO_CLIENT_ID.into(),
        client_secret: DEMO_SECRET.into(),
        publisher_user_id: publisher_user,
        store_user_id: store_user,
        collections_key,
        purchase_key,
        sku_id: "0010".into(),
        durable_product_id: DEMO_DURABLE.into(),
        consumable_product_id: DEMO_CONSUMABLE.into(),
        unmanaged_consumable_product_id: DEMO_UNMANAGED.into(),
        free_product_id: DEMO_FREE.into(),
        free_sku_id: "0010".into(),
        free_availability_id: DEMO_FREE_AVAILABILITY.into(),
        subscription_product_id: DEMO_SUBSCRIPTION.into(),
        subscription_sku_id: "0002".into(),
        recurrence_id: sub.recurrence_id.unwrap_or_default(),
        bundle_product_id: DEMO_BUNDLE.into(),
        bundle_child_product_id: DEMO_BUNDLE_CHILD.into(),
    })
}

//! Products as Partner Center would describe them.

use serde::{Deserialize, Serialize};

/// Store product kinds (`productKind` on v8/v9 items).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum ProductKind {
    Game,
    Application,
    #[default]
    Durable,
    Consumable,
    UnmanagedConsumable,
    Pass,
}

impl ProductKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            ProductKind::Game => "Game",
            ProductKind::Application => "Application",
            ProductKind::Durable => "Durable",
            ProductKind::Consumable => "Consumable",
            ProductKind::UnmanagedConsumable => "UnmanagedConsumable",
            ProductKind::Pass => "Pass",
        }
    }

    pub fn parse(s: &str) -> Option<ProductKind> {
        [
            ProductKind::Game,
            ProductKind::Application,
            ProductKind::Durable,
            ProductKind::Consumable,
            ProductKind::UnmanagedConsumable,
            ProductKind::Pass,
        ]
        .into_iter()
        .find(|k| k.as_str().eq_ignore_ascii_case(s.trim()))
    }

    pub fn is_consumable(&self) -> bool {
        matches!(
            self,
            ProductKind::Consumable | ProductKind::UnmanagedConsumable
        )
    }
}

/// Recurrence settings of a subscription product (https://learn.microsoft.com/en-us/gaming/gdk/_content/gc/commerce/service-to-service/microsoft-store-apis/xstore-v8-recurrence-query). Defaults: monthly, store-managed
/// subscription grace 7 d / dunning 36 d (add-on subscriptions use 3 d / 39 d).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct SubscriptionSpec {
    pub months: u32,
    pub grace_days: u32,
    pub dunning_days: u32,
}

impl Default for SubscriptionSpec {
    fn default() -> Self {
        SubscriptionSpec {
            months: 1,
            grace_days: 7,
            dunning_days: 36,
        }
    }
}

/// A catalog entry. `Default` gives a linked-to-everyone, paid, durable product with SKU `0010`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ProductSpec {
    pub product_id: String,
    pub skus: Vec<String>,
    pub kind: ProductKind,
    /// Price in `currency_code`; 0 makes it grantable through `purchases/grant`.
    pub price: f64,
    pub currency_code: String,
    pub title: String,
    /// Availability id required by grant; generated when empty.
    pub availability_id: String,
    /// Entra client ids linked in Partner Center. Empty = linked to every app (emulator shortcut);
    /// otherwise an unlinked caller sees zero items.
    pub linked_client_ids: Vec<String>,
    /// Set for subscription products (any kind; usually Durable add-on or Pass).
    pub subscription: Option<SubscriptionSpec>,
    /// Products granted by buying this one (bundle / pass contents).
    pub bundle_children: Vec<String>,
    pub parent_product_id: Option<String>,
    pub legacy_product_id: Option<String>,
    pub dev_offer_id: Option<String>,
    pub in_app_offer_token: Option<String>,
    pub product_family: String,
    /// Trial length in days when bought as a trial (0 = no trial).
    pub trial_days: u32,
}

impl Default for ProductSpec {
    fn default() -> Self {
        ProductSpec {
            product_id: String::new(),
            skus: vec!["0010".into()],
            kind: ProductKind::Durable,
            price: 1.99,
            currency_code: "USD".into(),
            title: String::new(),
            availability_id: String::new(),
            linked_client_ids: Vec::new(),
            subscription: None,
            bundle_children: Vec::new(),
            parent_product_id: None,
            legacy_product_id: None,
            dev_offer_id: None,
            in_app_offer_token: None,
            product_family: "Games".into(),
            trial_days: 0,
        }
    }
}

impl ProductSpec {
    pub fn new(product_id: &str, kind: ProductKind) -> ProductSpec {
        ProductSpec {
            product_id: product_id.into(),
            kind,
            ..Default::default()
        }
    }

    pub fn price(mut self, price: f64) -> Self {
        self.price = price;
        self
    }

    pub fn title(mut self, title: &str) -> Self {
        self.title = title.into();
        self
    }

    pub fn linked_to(mut self, client_id: &str) -> Self {
        self.linked_client_ids.push(client_id.into());
        self
    }

    pub fn subscription(mut self, months: u32, grace_days: u32, dunning_days: u32) -> Self {
        self.subscription = Some(SubscriptionSpec {
            months,
            grace_days,
            dunning_days,
        });
        self
    }

    /// Makes the product purchasable as a trial of `days` days.
    pub fn trial(mut self, days: u32) -> Self {
        self.trial_days = days;
        self
    }

    pub fn bundle(mut self, children: &[&str]) -> Self {
        self.bundle_children = children.iter().map(|c| c.to_string()).collect();
        self
    }

    pub fn is_linked_to(&self, client_id: &str) -> bool {
        self.linked_client_ids.is_empty()
            || self
                .linked_client_ids
                .iter()
                .any(|c| crate::claims::client_ids_match(c, client_id))
    }

    pub fn default_sku(&self) -> String {
        self.skus.first().cloned().unwrap_or_else(|| "0010".into())
    }
}

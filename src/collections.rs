//! Collections service: v6 query, v8 b2bLicensePreview, v9 publisherQuery, with paging followed
//! for the caller or page by page. See
//! <https://learn.microsoft.com/en-us/windows/uwp/monetize/query-for-products>,
//! <https://learn.microsoft.com/en-us/gaming/gdk/_content/gc/commerce/service-to-service/microsoft-store-apis/xstore-v8-query-for-products>
//! and <https://learn.microsoft.com/en-us/gaming/gdk/_content/gc/commerce/service-to-service/microsoft-store-apis/xstore-v9-query-for-products>.

use crate::client::{serde_request_body, Client, Core, RequestBody, Service};
use crate::error::{Error, Result};
use crate::paging::Page;
use crate::secret::SecretString;
use crate::text::Text;
use crate::time::{parse_timespan, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::time::Duration;

pub(crate) mod fast_page;
mod item_de;
mod query_body;

pub(crate) const PATH_QUERY_V6: &str = "/v6.0/collections/query";
pub(crate) const PATH_QUERY_V8: &str = "/v8.0/collections/b2bLicensePreview";
pub(crate) const PATH_QUERY_V9: &str = "/v9.0/collections/PublisherQuery";

/// The library's v8 default entitlement filters.
pub const DEFAULT_ENTITLEMENT_FILTERS: [&str; 5] = [
    "*:Game",
    "*:Consumable",
    "*:UnmanagedConsumable",
    "*:Durable",
    "*:Pass",
];

/// A request "beneficiary": the user, named by their UserCollectionsId.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserIdentity {
    /// Always `b2b`.
    pub identity_type: String,
    /// The UserCollectionsId.
    pub identity_value: SecretString,
    /// Echoed back on items; the library sends "".
    pub local_ticket_reference: String,
}

impl UserIdentity {
    /// `key` may be a `&str` (copied once) or a [`SecretString`] (shared: a caller holding
    /// one per player builds any number of requests without copying the ~1.2 KB key).
    pub fn b2b(key: impl Into<SecretString>) -> UserIdentity {
        UserIdentity {
            identity_type: "b2b".into(),
            identity_value: key.into(),
            local_ticket_reference: String::new(),
        }
    }
}

/// A product (and optionally one SKU) to scope a query to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductSkuId {
    pub product_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku_id: Option<String>,
}

impl ProductSkuId {
    pub fn product(id: impl Into<String>) -> ProductSkuId {
        ProductSkuId {
            product_id: id.into(),
            sku_id: None,
        }
    }

    pub fn with_sku(id: impl Into<String>, sku: impl Into<String>) -> ProductSkuId {
        ProductSkuId {
            product_id: id.into(),
            sku_id: Some(sku.into()),
        }
    }
}

/// v9 publisherQuery request (the recommended query). Defaults are the official library's.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryV9Request {
    pub beneficiaries: Vec<UserIdentity>,
    /// Required, 1..=100 entries.
    pub product_sku_ids: Vec<ProductSkuId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub continuation_token: Option<String>,
    /// 1..=200; default 100.
    pub max_page_size: u32,
    pub exclude_duplicates: bool,
    /// `All`, `Valid` or `Invalid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validity_type: Option<String>,
    /// Dev sandbox (e.g. `XDKS.1`); absent means RETAIL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sbx: Option<String>,
}

impl QueryV9Request {
    /// `collections_key`: a `&str`, or a [`SecretString`] to share one key across requests.
    pub fn new(
        collections_key: impl Into<SecretString>,
        products: Vec<ProductSkuId>,
    ) -> QueryV9Request {
        QueryV9Request {
            beneficiaries: vec![UserIdentity::b2b(collections_key)],
            product_sku_ids: products,
            continuation_token: None,
            max_page_size: 100,
            exclude_duplicates: true,
            validity_type: None,
            sbx: None,
        }
    }

    fn validate(&self) -> Result<()> {
        validate_beneficiaries(&self.beneficiaries)?;
        if self.product_sku_ids.is_empty() {
            return Err(Error::invalid_argument(
                "v9 publisherQuery requires at least one product id",
            ));
        }
        if self.product_sku_ids.len() > 100 {
            return Err(Error::invalid_argument(format!(
                "v9 publisherQuery accepts at most 100 product ids, got {}",
                self.product_sku_ids.len()
            )));
        }
        validate_products(&self.product_sku_ids)?;
        validate_page_size(self.max_page_size, 200)?;
        validate_validity(self.validity_type.as_deref(), &["All", "Valid", "Invalid"])
    }
}

/// v8 b2bLicensePreview request. Defaults are the official library's.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryV8Request {
    pub beneficiaries: Vec<UserIdentity>,
    /// Optional but strongly advised (unscoped queries can time out).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_sku_ids: Option<Vec<ProductSkuId>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub continuation_token: Option<String>,
    /// 1..=100; default 100.
    pub max_page_size: u32,
    pub entitlement_filters: Vec<String>,
    /// `neutral` (all markets) or an ISO-3166 alpha-2 code.
    pub market: String,
    pub expand_satisfying_items: bool,
    pub exclude_duplicates: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validity_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sbx: Option<String>,
}

impl QueryV8Request {
    pub fn new(collections_key: impl Into<SecretString>) -> QueryV8Request {
        QueryV8Request {
            beneficiaries: vec![UserIdentity::b2b(collections_key)],
            product_sku_ids: None,
            continuation_token: None,
            max_page_size: 100,
            entitlement_filters: DEFAULT_ENTITLEMENT_FILTERS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            market: "neutral".into(),
            expand_satisfying_items: true,
            exclude_duplicates: true,
            validity_type: None,
            sbx: None,
        }
    }

    fn validate(&self) -> Result<()> {
        validate_beneficiaries(&self.beneficiaries)?;
        if let Some(p) = &self.product_sku_ids {
            validate_products(p)?;
        }
        validate_page_size(self.max_page_size, 100)?;
        for f in &self.entitlement_filters {
            if !f.contains(':') {
                return Err(Error::invalid_argument(format!(
                    "entitlement filter '{f}' is not of the form '<scope>:<kind>', e.g. '*:Durable'"
                )));
            }
        }
        if self.market.trim().is_empty() {
            return Err(Error::invalid_argument(
                "market is required ('neutral' or a country code)",
            ));
        }
        validate_validity(
            self.validity_type.as_deref(),
            &["All", "Valid", "Invalid", "NotYetEnded", "NotYetStarted"],
        )
    }
}

serde_request_body!(QueryV8Request, QueryV6Request);

/// v6 collections query (legacy UWP).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryV6Request {
    pub beneficiaries: Vec<UserIdentity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub continuation_token: Option<String>,
    pub max_page_size: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modified_after: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_product_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_sku_ids: Option<Vec<ProductSkuId>>,
    /// Required: `Application`, `Durable`, `Game`, `UnmanagedConsumable`.
    pub product_types: Vec<String>,
    /// `All` or `Valid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validity_type: Option<String>,
}

impl QueryV6Request {
    pub fn new(collections_key: impl Into<SecretString>) -> QueryV6Request {
        QueryV6Request {
            beneficiaries: vec![UserIdentity::b2b(collections_key)],
            continuation_token: None,
            max_page_size: 100,
            modified_after: None,
            parent_product_id: None,
            product_sku_ids: None,
            product_types: ["Application", "Durable", "Game", "UnmanagedConsumable"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            validity_type: None,
        }
    }

    fn validate(&self) -> Result<()> {
        validate_beneficiaries(&self.beneficiaries)?;
        if let Some(p) = &self.product_sku_ids {
            for ps in p {
                if ps.sku_id.as_deref().unwrap_or("").is_empty() {
                    return Err(Error::invalid_argument(
                        "v6 query requires skuId on every productSkuIds entry",
                    ));
                }
            }
            validate_products(p)?;
        }
        if self.product_types.is_empty() {
            return Err(Error::invalid_argument(
                "v6 query requires at least one product type",
            ));
        }
        validate_page_size(self.max_page_size, 100)?;
        validate_validity(self.validity_type.as_deref(), &["All", "Valid"])
    }
}

fn validate_beneficiaries(b: &[UserIdentity]) -> Result<()> {
    match b {
        [one] if !one.identity_value.expose().trim().is_empty() => Ok(()),
        [_] => Err(Error::invalid_argument(
            "the UserCollectionsId (identityValue) is empty",
        )),
        _ => Err(Error::invalid_argument(
            "exactly one beneficiary is required",
        )),
    }
}

fn validate_products(p: &[ProductSkuId]) -> Result<()> {
    for ps in p {
        if ps.product_id.trim().is_empty() {
            return Err(Error::invalid_argument("a product id is empty"));
        }
    }
    Ok(())
}

fn validate_page_size(n: u32, max: u32) -> Result<()> {
    if n == 0 || n > max {
        return Err(Error::invalid_argument(format!(
            "maxPageSize must be 1..={max}, got {n}"
        )));
    }
    Ok(())
}

fn validate_validity(v: Option<&str>, allowed: &[&str]) -> Result<()> {
    match v {
        Some(v) if !allowed.contains(&v) => Err(Error::invalid_argument(format!(
            "validityType '{v}' is not one of {allowed:?}"
        ))),
        _ => Ok(()),
    }
}

/// `{"identityType":"pub","identityValue":…}` on responses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityV6 {
    #[serde(default)]
    pub identity_type: Text,
    #[serde(default)]
    pub identity_value: Text,
}

/// Trial information of an item.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrialData {
    #[serde(default)]
    pub is_trial: bool,
    #[serde(default)]
    pub is_in_trial_period: bool,
    /// .NET TimeSpan string as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trial_time_remaining: Option<Text>,
}

impl TrialData {
    pub fn time_remaining(&self) -> Option<Duration> {
        self.trial_time_remaining
            .as_deref()
            .and_then(parse_timespan)
    }
}

/// The value named `s`, ignoring ASCII case (without the lowercase copy a `match` needs: the
/// C views and `dedupe` ask for every item's kind and status).
fn parse_ignoring_case<T: Copy>(s: &str, names: &[(&str, T)]) -> Option<T> {
    names
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(s))
        .map(|&(_, v)| v)
}

/// Product kinds (v8/v9 `productKind`, v6 `productType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum ProductKind {
    Game,
    Application,
    Durable,
    Consumable,
    UnmanagedConsumable,
    Pass,
    Unknown,
}

impl ProductKind {
    pub fn parse(s: &str) -> ProductKind {
        use ProductKind::*;
        let names = [
            ("game", Game),
            ("application", Application),
            ("durable", Durable),
            ("consumable", Consumable),
            ("unmanagedconsumable", UnmanagedConsumable),
            ("pass", Pass),
        ];
        parse_ignoring_case(s, &names).unwrap_or(Unknown)
    }
}

/// Entitlement status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum EntitlementStatus {
    Active,
    Expired,
    Revoked,
    Banned,
    Suspended,
    Unknown,
}

impl EntitlementStatus {
    pub fn parse(s: &str) -> EntitlementStatus {
        use EntitlementStatus::*;
        let names = [
            ("active", Active),
            ("expired", Expired),
            ("revoked", Revoked),
            ("banned", Banned),
            ("suspended", Suspended),
        ];
        parse_ignoring_case(s, &names).unwrap_or(Unknown)
    }

    /// Preference when the same product appears twice: Active first, revocations last.
    fn rank(&self) -> u8 {
        match self {
            EntitlementStatus::Active => 0,
            EntitlementStatus::Suspended | EntitlementStatus::Expired => 1,
            EntitlementStatus::Unknown => 2,
            EntitlementStatus::Revoked | EntitlementStatus::Banned => 3,
        }
    }
}

/// How an entitlement was acquired (v8/v9 `acquisitionType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum AcquisitionType {
    Single,
    Recurring,
    Conditional,
    Unknown,
}

impl AcquisitionType {
    pub fn parse(s: &str) -> AcquisitionType {
        use AcquisitionType::*;
        let names = [
            ("single", Single),
            ("recurring", Recurring),
            ("conditional", Conditional),
        ];
        parse_ignoring_case(s, &names).unwrap_or(Unknown)
    }
}

/// One entitlement, from any of the three query versions. Strings keep the service's values;
/// `kind()`, `status()` and `acquisition()` give typed views.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EntitlementItem {
    /// Item id (v8/v9 `id`, v6 `itemId`); use it to consume in v6.
    pub id: Text,
    pub product_id: Text,
    pub sku_id: Text,
    /// v8/v9 `productKind`, v6 (and the v8 doc table) `productType`.
    pub product_kind: Text,
    pub status: Text,
    /// Remaining balance for consumables; 1 otherwise.
    pub quantity: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acquisition_type: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acquired_date: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_date: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_date: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modified_date: Option<Timestamp>,
    /// Purchase transaction (v9: the order id; not unique per entitlement).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<Text>,
    /// Subscription id (`mdr:0:…`), read from `recurrenceId`, or `recurrenceData` as a string or
    /// as `{"recurrenceId":…}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recurrence_id: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trial_data: Option<TrialData>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub satisfied_by_product_ids: Vec<Text>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub beneficiary: Option<IdentityV6>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purchaser: Option<IdentityV6>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purchased_country: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_family: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sharing_source: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_ticket_reference: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dev_offer_id: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_app_offer_token: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub legacy_offer_instance_id: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub legacy_product_id: Option<Text>,
    /// v6 only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_id: Option<Text>,
    /// v6 only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_line_item_id: Option<Text>,
    /// v6 only: `Trial`, `Full`, `Rental`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sku_type: Option<Text>,
    /// v6 only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ownership_type: Option<Text>,
    /// v6 only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fulfillment_data: Option<Vec<Text>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub campaign_id: Option<Text>,
}

impl EntitlementItem {
    pub fn kind(&self) -> ProductKind {
        ProductKind::parse(&self.product_kind)
    }

    pub fn status(&self) -> EntitlementStatus {
        EntitlementStatus::parse(&self.status)
    }

    pub fn acquisition(&self) -> AcquisitionType {
        self.acquisition_type
            .as_deref()
            .map(AcquisitionType::parse)
            .unwrap_or(AcquisitionType::Unknown)
    }

    /// Whether the entitlement currently grants the product.
    pub fn is_active(&self) -> bool {
        self.status() == EntitlementStatus::Active
    }
}

/// One page of a query.
pub type QueryPage = Page<EntitlementItem>;

/// All pages of a query, de-duplicated.
#[derive(Debug, Clone, Serialize)]
pub struct QueryResult {
    pub items: Vec<EntitlementItem>,
    pub pages: u32,
    /// Items dropped because an earlier or better copy of the same entitlement was kept.
    pub duplicates_removed: u32,
}

/// What makes two items copies of one entitlement.
fn dedupe_key(item: &EntitlementItem, exclude_duplicates: bool) -> (&str, &str) {
    let second = if exclude_duplicates {
        ""
    } else if item.id.is_empty() {
        &item.sku_id
    } else {
        &item.id
    };
    (&item.product_id, second)
}

/// Up to this many items, `dedupe` compares keys instead of hashing them.
const LINEAR_DEDUPE_MAX: usize = 16;

/// De-duplicates across pages. With `exclude_duplicates` one item per product survives (the
/// service already applied its own priority within a page); otherwise one per item id. Among
/// copies the better status wins (Active > Expired/Suspended > Revoked), then the newest.
pub fn dedupe(
    items: Vec<EntitlementItem>,
    exclude_duplicates: bool,
) -> (Vec<EntitlementItem>, u32) {
    // Which input item each output slot keeps, chosen on borrowed keys (no key is built per
    // item), then the kept items are moved out in first-seen order.
    let mut kept: Vec<usize> = Vec::with_capacity(items.len());
    let mut removed = 0;
    {
        // A page or two is searched in place: hashing every key (SipHash) cost more than the
        // comparisons below that size (issue 14).
        let linear = items.len() <= LINEAR_DEDUPE_MAX;
        let mut index: HashMap<(&str, &str), usize> = HashMap::new();
        for (n, item) in items.iter().enumerate() {
            let k = dedupe_key(item, exclude_duplicates);
            let found = if linear {
                kept.iter()
                    .position(|&i| dedupe_key(&items[i], exclude_duplicates) == k)
            } else {
                index.get(&k).copied()
            };
            match found {
                Some(slot) => {
                    removed += 1;
                    let old = &items[kept[slot]];
                    let better = item.status().rank() < old.status().rank()
                        || (item.status().rank() == old.status().rank()
                            && item.modified_date > old.modified_date);
                    if better {
                        kept[slot] = n;
                    }
                }
                None => {
                    if !linear {
                        index.insert(k, kept.len());
                    }
                    kept.push(n);
                }
            }
        }
    }
    if removed == 0 {
        return (items, 0);
    }
    let mut items: Vec<Option<EntitlementItem>> = items.into_iter().map(Some).collect();
    let out = kept.iter().filter_map(|&n| items[n].take()).collect();
    (out, removed)
}

impl Core {
    async fn query_page<R: RequestBody>(
        &self,
        path: &str,
        op: &'static str,
        req: &R,
    ) -> Result<QueryPage> {
        self.page(Service::Collections, path, op, req).await
    }

    /// Every page, de-duplicated.
    async fn query_all<R: RequestBody>(
        &self,
        path: &str,
        op: &'static str,
        req: R,
        set_token: fn(&mut R, String),
        exclude_duplicates: bool,
    ) -> Result<QueryResult> {
        let all = self
            .all_pages(Service::Collections, path, op, req, set_token)
            .await?;
        let (items, duplicates_removed) = dedupe(all.items, exclude_duplicates);
        Ok(QueryResult {
            items,
            pages: all.pages,
            duplicates_removed,
        })
    }
}

impl Client {
    /// One page of a v9 publisherQuery.
    pub async fn query_v9_page(&self, req: QueryV9Request) -> Result<QueryPage> {
        req.validate()?;
        self.run(move |c| async move { c.query_page(PATH_QUERY_V9, "query_v9", &req).await })
            .await
    }

    /// Every page of a v9 publisherQuery, de-duplicated.
    pub async fn query_v9(&self, req: QueryV9Request) -> Result<QueryResult> {
        req.validate()?;
        let dedupe = req.exclude_duplicates;
        self.run(move |c| async move {
            c.query_all(
                PATH_QUERY_V9,
                "query_v9",
                req,
                |r, t| r.continuation_token = Some(t),
                dedupe,
            )
            .await
        })
        .await
    }

    /// One page of a v8 b2bLicensePreview query.
    pub async fn query_v8_page(&self, req: QueryV8Request) -> Result<QueryPage> {
        req.validate()?;
        self.run(move |c| async move { c.query_page(PATH_QUERY_V8, "query_v8", &req).await })
            .await
    }

    /// Every page of a v8 b2bLicensePreview query, de-duplicated.
    pub async fn query_v8(&self, req: QueryV8Request) -> Result<QueryResult> {
        req.validate()?;
        let dedupe = req.exclude_duplicates;
        self.run(move |c| async move {
            c.query_all(
                PATH_QUERY_V8,
                "query_v8",
                req,
                |r, t| r.continuation_token = Some(t),
                dedupe,
            )
            .await
        })
        .await
    }

    /// One page of a v6 collections query.
    pub async fn query_v6_page(&self, req: QueryV6Request) -> Result<QueryPage> {
        req.validate()?;
        self.run(move |c| async move { c.query_page(PATH_QUERY_V6, "query_v6", &req).await })
            .await
    }

    /// Every page of a v6 collections query, de-duplicated by item id.
    pub async fn query_v6(&self, req: QueryV6Request) -> Result<QueryResult> {
        req.validate()?;
        self.run(move |c| async move {
            c.query_all(
                PATH_QUERY_V6,
                "query_v6",
                req,
                |r, t| r.continuation_token = Some(t),
                false,
            )
            .await
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn v9_request_serialises_library_defaults() {
        let r = QueryV9Request::new("eyJkey", vec![ProductSkuId::product("9NZB0T3LQH5D")]);
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "beneficiaries":[{"identityType":"b2b","identityValue":"eyJkey","localTicketReference":""}],
                "productSkuIds":[{"productId":"9NZB0T3LQH5D"}],
                "maxPageSize":100,"excludeDuplicates":true})
        );
        assert!(!format!("{r:?}").contains("eyJkey"));
    }

    #[test]
    fn v9_validation() {
        let mut r = QueryV9Request::new("k", vec![]);
        assert_eq!(r.validate().unwrap_err().kind, ErrorKind::InvalidArgument);
        r.product_sku_ids = (0..101)
            .map(|i| ProductSkuId::product(format!("P{i}")))
            .collect();
        assert!(r.validate().unwrap_err().message.contains("100"));
        r.product_sku_ids.truncate(100);
        r.validate().unwrap();
        r.max_page_size = 201;
        assert!(r.validate().is_err());
        let r = QueryV9Request::new(" ", vec![ProductSkuId::product("P")]);
        assert!(r.validate().is_err());
    }

    #[test]
    fn v8_request_serialises_library_defaults() {
        let v = serde_json::to_value(QueryV8Request::new("k")).unwrap();
        assert_eq!(v["market"], "neutral");
        assert_eq!(v["expandSatisfyingItems"], true);
        assert_eq!(v["entitlementFilters"].as_array().unwrap().len(), 5);
        assert!(v.get("productSkuIds").is_none());
        assert!(v.get("sbx").is_none());
    }

    #[test]
    fn recurrence_id_spellings() {
        for body in [
            r#"{"recurrenceId":"mdr:0:a:b"}"#,
            r#"{"recurrenceData":"mdr:0:a:b"}"#,
            r#"{"recurrenceData":{"recurrenceId":"mdr:0:a:b"}}"#,
        ] {
            let i: EntitlementItem = serde_json::from_str(body).unwrap();
            assert_eq!(i.recurrence_id.as_deref(), Some("mdr:0:a:b"), "{body}");
        }
        let i: EntitlementItem = serde_json::from_str(r#"{"recurrenceData":{}}"#).unwrap();
        assert_eq!(i.recurrence_id, None);
    }

    fn item(product: &str, id: &str, status: &str) -> EntitlementItem {
        EntitlementItem {
            product_id: product.into(),
            id: id.into(),
            status: status.into(),
            ..Default::default()
        }
    }

    #[test]
    fn dedupe_gives_the_same_answer_searched_or_hashed() {
        // 3 distinct products; sizes on both sides of LINEAR_DEDUPE_MAX.
        for n in [6, LINEAR_DEDUPE_MAX, LINEAR_DEDUPE_MAX + 1, 60] {
            let items: Vec<EntitlementItem> = (0..n)
                .map(|i| {
                    let status = if (3..6).contains(&i) {
                        "Active"
                    } else {
                        "Revoked"
                    };
                    item(&format!("P{}", i % 3), &i.to_string(), status)
                })
                .collect();
            let (out, removed) = dedupe(items, true);
            assert_eq!((out.len(), removed as usize), (3, n - 3), "{n} items");
            let ids: Vec<&str> = out.iter().map(|i| i.id.as_str()).collect();
            assert_eq!(ids, ["3", "4", "5"], "{n} items: the Active copies win");
        }
    }

    #[test]
    fn typed_views_ignore_case() {
        assert_eq!(
            ProductKind::parse("uNmAnAgEdCoNsUmAbLe"),
            ProductKind::UnmanagedConsumable
        );
        assert_eq!(ProductKind::parse("Games"), ProductKind::Unknown);
        assert_eq!(
            EntitlementStatus::parse("REVOKED"),
            EntitlementStatus::Revoked
        );
        assert_eq!(EntitlementStatus::parse(""), EntitlementStatus::Unknown);
        assert_eq!(
            AcquisitionType::parse("recurring"),
            AcquisitionType::Recurring
        );
    }

    #[test]
    fn dedupe_prefers_active() {
        let (out, removed) = dedupe(
            vec![
                item("A", "1", "Revoked"),
                item("B", "2", "Active"),
                item("A", "3", "Active"),
            ],
            true,
        );
        assert_eq!(removed, 1);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].id, "3");
        let (out, removed) = dedupe(
            vec![
                item("A", "1", "Active"),
                item("A", "1", "Active"),
                item("A", "3", "Active"),
            ],
            false,
        );
        assert_eq!((out.len(), removed), (2, 1));
    }
}

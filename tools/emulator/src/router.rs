//! Path-prefix routing. Store paths are matched case-insensitively; the recurrence id segment
//! is percent-decoded (it contains `:`).

use super::json::percent_decode;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    EntraV1 { tenant: String },
    EntraV2 { tenant: String },
    CollectionsV6Query,
    CollectionsV6Consume,
    CollectionsV8Query,
    CollectionsV9Query,
    CollectionsV8Consume,
    KeysRenewCollections,
    PurchaseV6Grant,
    RecurrencesQuery,
    RecurrenceChange { id: String },
    KeysRenewPurchase,
    ClawbackOrdersQuery,
    ClawbackSasToken,
    QueueGet { queue: String },
    QueuePeek { queue: String },
    QueueDelete { queue: String, id: String },
    ImdsToken,
    AppServiceToken,
    Admin { rest: String },
    Unknown,
}

impl Route {
    /// Stable names used in the request log, fault rules and `count_requests`.
    pub fn name(&self) -> &'static str {
        match self {
            Route::EntraV1 { .. } => "entra_v1",
            Route::EntraV2 { .. } => "entra_v2",
            Route::CollectionsV6Query => "collections_v6_query",
            Route::CollectionsV6Consume => "collections_v6_consume",
            Route::CollectionsV8Query => "collections_v8_query",
            Route::CollectionsV9Query => "collections_v9_query",
            Route::CollectionsV8Consume => "collections_v8_consume",
            Route::KeysRenewCollections => "keys_renew_collections",
            Route::PurchaseV6Grant => "purchase_v6_grant",
            Route::RecurrencesQuery => "recurrences_query",
            Route::RecurrenceChange { .. } => "recurrence_change",
            Route::KeysRenewPurchase => "keys_renew_purchase",
            Route::ClawbackOrdersQuery => "clawback_orders_query",
            Route::ClawbackSasToken => "clawback_sastoken",
            Route::QueueGet { .. } => "queue_get",
            Route::QueuePeek { .. } => "queue_peek",
            Route::QueueDelete { .. } => "queue_delete",
            Route::ImdsToken => "imds_token",
            Route::AppServiceToken => "app_service_token",
            Route::Admin { .. } => "admin",
            Route::Unknown => "unknown",
        }
    }

    /// Routes subject to the built-in per-user rate limit (https://learn.microsoft.com/en-us/gaming/gdk/_content/gc/commerce/service-to-service/xstore-fgrl).
    pub fn rate_limited(&self) -> bool {
        matches!(
            self,
            Route::CollectionsV8Query
                | Route::CollectionsV9Query
                | Route::CollectionsV8Consume
                | Route::CollectionsV6Query
                | Route::CollectionsV6Consume
                | Route::RecurrencesQuery
                | Route::RecurrenceChange { .. }
        )
    }
}

pub fn route(path: &str) -> Route {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let lower: Vec<String> = segs.iter().map(|s| s.to_ascii_lowercase()).collect();
    let l: Vec<&str> = lower.iter().map(String::as_str).collect();
    match l.as_slice() {
        ["login", _, "oauth2", "token"] => Route::EntraV1 {
            tenant: percent_decode(segs[1], false),
        },
        ["login", _, "oauth2", "v2.0", "token"] => Route::EntraV2 {
            tenant: percent_decode(segs[1], false),
        },
        ["collections", "v6.0", "collections", "query"] => Route::CollectionsV6Query,
        ["collections", "v6.0", "collections", "consume"] => Route::CollectionsV6Consume,
        ["collections", "v8.0", "collections", "b2blicensepreview"] => Route::CollectionsV8Query,
        ["collections", "v9.0", "collections", "publisherquery"] => Route::CollectionsV9Query,
        ["collections", "v8.0", "collections", "consume"] => Route::CollectionsV8Consume,
        ["collections", "v6.0", "b2b", "keys", "renew"] => Route::KeysRenewCollections,
        ["purchase", "v6.0", "purchases", "grant"] => Route::PurchaseV6Grant,
        ["purchase", "v8.0", "b2b", "recurrences", "query"] => Route::RecurrencesQuery,
        ["purchase", "v8.0", "b2b", "recurrences", _, "change"] => Route::RecurrenceChange {
            id: percent_decode(segs[4], false),
        },
        ["purchase", "v6.0", "b2b", "keys", "renew"] => Route::KeysRenewPurchase,
        ["purchase", "v8.0", "b2b", "orders", "query"] => Route::ClawbackOrdersQuery,
        ["purchase", "v8.0", "b2b", "clawback", "sastoken"] => Route::ClawbackSasToken,
        ["queue", _, "messages"] => Route::QueueGet {
            queue: percent_decode(segs[1], false),
        },
        ["queue", _, "messages", _] => Route::QueueDelete {
            queue: percent_decode(segs[1], false),
            id: percent_decode(segs[3], false),
        },
        ["metadata", "identity", "oauth2", "token"] => Route::ImdsToken,
        ["msi", "token"] => Route::AppServiceToken,
        ["admin", ..] => Route::Admin {
            rest: l[1..].join("/"),
        },
        _ => Route::Unknown,
    }
}

/// [`route`] refined by the query: `GET …/messages?peekonly=true` is a Peek.
pub fn route_with_query(path: &str, query: Option<&str>) -> Route {
    match route(path) {
        Route::QueueGet { queue }
            if super::json::query_pairs(query).iter().any(|(k, v)| {
                k.eq_ignore_ascii_case("peekonly") && v.eq_ignore_ascii_case("true")
            }) =>
        {
            Route::QueuePeek { queue }
        }
        r => r,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(
            route("/collections/v9.0/collections/PublisherQuery"),
            Route::CollectionsV9Query
        );
        assert_eq!(
            route("/purchase/v8.0/b2b/recurrences/mdr%3A0%3Aab%3Acd/change"),
            Route::RecurrenceChange {
                id: "mdr:0:ab:cd".into()
            }
        );
        assert_eq!(
            route("/login/T1/oauth2/v2.0/token"),
            Route::EntraV2 {
                tenant: "T1".into()
            }
        );
        assert_eq!(route("/nope"), Route::Unknown);
        assert_eq!(
            route_with_query("/queue/clawback/messages", Some("sig=x&peekonly=true")),
            Route::QueuePeek {
                queue: "clawback".into()
            }
        );
        assert_eq!(
            route("/queue/clawback/messages/m%201"),
            Route::QueueDelete {
                queue: "clawback".into(),
                id: "m 1".into()
            }
        );
        assert_eq!(
            route("/purchase/v8.0/b2b/Clawback/SasToken"),
            Route::ClawbackSasToken
        );
    }
}

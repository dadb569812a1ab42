//! `EntitlementItem`'s decoder, written by hand because decoding a query page is most of a
//! query's CPU (issue 14): field names matched in one `match`, duplicates found with a bit mask,
//! unknown fields skipped unread, and `recurrenceData` read in its two documented shapes (a
//! string, or `{"recurrenceId":…}`) without building a `serde_json::Value`.
//! The shapes are those of
//! <https://learn.microsoft.com/en-us/windows/uwp/monetize/query-for-products> (v6),
//! <https://learn.microsoft.com/en-us/gaming/gdk/_content/gc/commerce/service-to-service/microsoft-store-apis/xstore-v8-query-for-products>
//! and <https://learn.microsoft.com/en-us/gaming/gdk/_content/gc/commerce/service-to-service/microsoft-store-apis/xstore-v9-query-for-products>.

use super::fast_page::{FastValue, Reader};
use super::EntitlementItem;
use crate::text::Text;
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// One line per field: the `EntitlementItem` field, then its wire name and any other spelling.
/// Every field may be absent (it keeps its default); a field named twice, under either
/// spelling, is an error, as with serde's derive.
macro_rules! item_fields {
    ($($field:ident = $name:literal $(| $alias:literal)*,)*) => {
        #[allow(non_camel_case_types)]
        #[derive(Clone, Copy)]
        pub(super) enum Field {
            $($field,)*
            /// Folded into `recurrence_id` (see `RecurrenceData`).
            RecurrenceData,
            Unknown,
        }

        /// Wire names in `Field` order, for the duplicate-field error.
        const NAMES: &[&str] = &[$($name,)* "recurrenceData"];
        // One bit per field in `seen`.
        const _: () = assert!(NAMES.len() < 64);

        impl Field {
            pub(super) fn of(name: &str) -> Field {
                match name {
                    $($name $(| $alias)* => Field::$field,)*
                    "recurrenceData" => Field::RecurrenceData,
                    _ => Field::Unknown,
                }
            }
        }

        /// Reads the value of known field `f` into `item`.
        fn read_value<'de, A: MapAccess<'de>>(
            f: Field,
            item: &mut EntitlementItem,
            recurrence_data: &mut Option<Text>,
            map: &mut A,
        ) -> Result<(), A::Error> {
            match f {
                $(Field::$field => item.$field = FieldValue::read(map)?,)*
                Field::RecurrenceData => *recurrence_data = map.next_value::<RecurrenceData>()?.0,
                Field::Unknown => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok(())
        }

        /// `read_value` for the fast page reader (`None`: not handled there).
        pub(super) fn read_fast(
            f: Field,
            item: &mut EntitlementItem,
            recurrence_data: &mut Option<Text>,
            r: &mut Reader<'_>,
        ) -> Option<()> {
            match f {
                $(Field::$field => item.$field = FastValue::fast(r)?,)*
                Field::RecurrenceData => *recurrence_data = r.recurrence_data()?,
                Field::Unknown => r.skip(1)?,
            }
            Some(())
        }
    };
}

impl Field {
    /// This field's bit in a set of the fields seen; `None` for an unknown one (which may
    /// repeat: it is not read).
    pub(super) fn bit(self) -> Option<u64> {
        (!matches!(self, Field::Unknown)).then(|| 1u64 << self as u32)
    }
}

item_fields! {
    id = "id" | "itemId",
    product_id = "productId",
    sku_id = "skuId",
    product_kind = "productKind" | "productType",
    status = "status",
    quantity = "quantity",
    acquisition_type = "acquisitionType",
    acquired_date = "acquiredDate",
    start_date = "startDate",
    end_date = "endDate",
    modified_date = "modifiedDate",
    transaction_id = "transactionId",
    recurrence_id = "recurrenceId",
    trial_data = "trialData",
    satisfied_by_product_ids = "satisfiedByProductIds",
    tags = "tags",
    beneficiary = "beneficiary",
    purchaser = "purchaser",
    purchased_country = "purchasedCountry",
    product_family = "productFamily",
    sharing_source = "sharingSource",
    local_ticket_reference = "localTicketReference",
    dev_offer_id = "devOfferId",
    in_app_offer_token = "inAppOfferToken",
    legacy_offer_instance_id = "legacyOfferInstanceId",
    legacy_product_id = "legacyProductId",
    order_id = "orderId",
    order_line_item_id = "orderLineItemId",
    sku_type = "skuType",
    ownership_type = "ownershipType",
    fulfillment_data = "fulfillmentData",
    campaign_id = "campaignId",
}

/// A field's value, `null` read as the field's default: a .NET service may write an empty
/// list or an unset text as `null`, and one such field should not fail the whole page.
trait FieldValue<'de>: Sized {
    fn read<A: MapAccess<'de>>(map: &mut A) -> Result<Self, A::Error>;
}

/// An optional field's default is `None`, which is what `null` reads as anyway: read directly
/// (through `OrDefault` it was an `Option<Option<T>>`, two `null` checks per value).
impl<'de, T: Deserialize<'de>> FieldValue<'de> for Option<T> {
    fn read<A: MapAccess<'de>>(map: &mut A) -> Result<Self, A::Error> {
        map.next_value()
    }
}

macro_rules! or_default_fields {
    ($($t:ty),*) => {$(
        impl<'de> FieldValue<'de> for $t {
            fn read<A: MapAccess<'de>>(map: &mut A) -> Result<Self, A::Error> {
                Ok(map.next_value::<OrDefault<$t>>()?.0)
            }
        }
    )*};
}

or_default_fields!(Text, i64, Vec<Text>);

/// `null` read as `T`'s default.
struct OrDefault<T>(T);

impl<'de, T: Deserialize<'de> + Default> Deserialize<'de> for OrDefault<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<OrDefault<T>, D::Error> {
        Option::<T>::deserialize(d).map(|v| OrDefault(v.unwrap_or_default()))
    }
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Field, D::Error> {
        struct Name;
        impl Visitor<'_> for Name {
            type Value = Field;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Field, E> {
                Ok(Field::of(s))
            }
        }
        d.deserialize_identifier(Name)
    }
}

impl<'de> Deserialize<'de> for EntitlementItem {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<EntitlementItem, D::Error> {
        struct Item;
        impl<'de> Visitor<'de> for Item {
            type Value = EntitlementItem;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(EXPECTING)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<EntitlementItem, A::Error> {
                let mut item = EntitlementItem::default();
                fill(&mut item, map)?;
                Ok(item)
            }
        }
        d.deserialize_map(Item)
    }

    /// Decodes straight into `place` (a page's `Vec` slot, see `paging::presized`): an item
    /// returned by value was copied (~800 bytes) at every layer of serde it passed back through.
    fn deserialize_in_place<D: Deserializer<'de>>(
        d: D,
        place: &mut EntitlementItem,
    ) -> Result<(), D::Error> {
        struct InPlace<'a>(&'a mut EntitlementItem);
        impl<'de> Visitor<'de> for InPlace<'_> {
            type Value = ();
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(EXPECTING)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
                *self.0 = EntitlementItem::default();
                fill(self.0, map)
            }
        }
        d.deserialize_map(InPlace(place))
    }
}

const EXPECTING: &str = "an entitlement item (a JSON object)";

/// Reads an item's members into `item`, which holds the defaults.
fn fill<'de, A: MapAccess<'de>>(item: &mut EntitlementItem, mut map: A) -> Result<(), A::Error> {
    let mut recurrence_data = None;
    let mut seen = 0u64;
    while let Some(f) = map.next_key::<Field>()? {
        if let Some(bit) = f.bit() {
            if seen & bit != 0 {
                return Err(de::Error::duplicate_field(NAMES[f as usize]));
            }
            seen |= bit;
        }
        read_value(f, item, &mut recurrence_data, &mut map)?;
    }
    settle_recurrence(item, recurrence_data);
    Ok(())
}

/// `recurrenceId` wins when it says something; an empty one says nothing.
pub(super) fn settle_recurrence(item: &mut EntitlementItem, recurrence_data: Option<Text>) {
    if item.recurrence_id.as_deref().is_none_or(str::is_empty) {
        item.recurrence_id = recurrence_data;
    }
}

/// The subscription id in `recurrenceData`: the value itself when it is a string (v9, Mar 2026
/// doc), or its `recurrenceId` member (matched ignoring case) when it is an object (v8, `{}`
/// when there is none). Empty strings and any other shape give `None`; nothing here fails on a
/// well-formed value.
struct RecurrenceData(Option<Text>);

impl<'de> Deserialize<'de> for RecurrenceData {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<RecurrenceData, D::Error> {
        d.deserialize_any(RecurrenceVisitor { objects: true })
            .map(RecurrenceData)
    }
}

/// Reads a string; with `objects`, also an object's `recurrenceId` member.
struct RecurrenceVisitor {
    objects: bool,
}

/// The value of a `recurrenceId` member: its text when it is a non-empty string.
struct IdText(Option<Text>);

impl<'de> Deserialize<'de> for IdText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<IdText, D::Error> {
        d.deserialize_any(RecurrenceVisitor { objects: false })
            .map(IdText)
    }
}

/// Whether a member name is `recurrenceId` in any case.
struct IsRecurrenceId(bool);

impl<'de> Deserialize<'de> for IsRecurrenceId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<IsRecurrenceId, D::Error> {
        struct Name;
        impl Visitor<'_> for Name {
            type Value = bool;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<bool, E> {
                Ok(s.eq_ignore_ascii_case("recurrenceId"))
            }
        }
        d.deserialize_identifier(Name).map(IsRecurrenceId)
    }
}

impl<'de> Visitor<'de> for RecurrenceVisitor {
    type Value = Option<Text>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("recurrence data (a string or an object)")
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Option<Text>, E> {
        Ok((!s.is_empty()).then(|| Text::new(s)))
    }
    fn visit_string<E: de::Error>(self, s: String) -> Result<Option<Text>, E> {
        Ok((!s.is_empty()).then(|| Text::from(s)))
    }
    /// An object: its first `recurrenceId` member decides (only a string counts there), the
    /// rest is skipped.
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<Text>, A::Error> {
        let mut id = None;
        let mut decided = !self.objects;
        while let Some(IsRecurrenceId(is_id)) = map.next_key()? {
            if is_id && !decided {
                decided = true;
                id = map.next_value::<IdText>()?.0;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(id)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Option<Text>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Option<Text>, E> {
        Ok(None)
    }
    fn visit_none<E: de::Error>(self) -> Result<Option<Text>, E> {
        Ok(None)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Option<Text>, E> {
        Ok(None)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Option<Text>, E> {
        Ok(None)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Option<Text>, E> {
        Ok(None)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Option<Text>, E> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collections::{IdentityV6, TrialData};
    use crate::time::Timestamp;

    fn decode(body: &str) -> Result<EntitlementItem, serde_json::Error> {
        serde_json::from_str(body)
    }

    fn date(s: &str) -> Option<Timestamp> {
        Some(Timestamp::parse(s).unwrap())
    }

    #[test]
    fn every_field_is_read_from_its_wire_name() {
        let body = r#"{"id":"i1","productId":"p1","skuId":"0010","productKind":"Durable",
          "status":"Active","quantity":7,"acquisitionType":"Recurring",
          "acquiredDate":"2026-01-14T09:12:40.1173402+00:00","startDate":"2026-01-15T00:00:00Z",
          "endDate":"9999-12-31T23:59:59.9999999+00:00","modifiedDate":"/Date(1700000000000)/",
          "transactionId":"t1","recurrenceId":"mdr:0:r","trialData":{"isTrial":true,
          "isInTrialPeriod":true,"trialTimeRemaining":"1.02:03:04"},"satisfiedByProductIds":["b1","b2"],
          "tags":["x"],"beneficiary":{"identityType":"pub","identityValue":"u1"},
          "purchaser":{"identityType":"pub","identityValue":"u2"},"purchasedCountry":"DE",
          "productFamily":"Games","sharingSource":"None","localTicketReference":"l1",
          "devOfferId":"d1","inAppOfferToken":"o1","legacyOfferInstanceId":"lo1",
          "legacyProductId":"lp1","orderId":"or1","orderLineItemId":"ol1","skuType":"Full",
          "ownershipType":"OwnedByBeneficiary","fulfillmentData":["f1"],"campaignId":"c1"}"#;
        let s = |v: &str| Some(Text::from(v));
        let pub_id = |v: &str| {
            Some(IdentityV6 {
                identity_type: "pub".into(),
                identity_value: v.into(),
            })
        };
        let want = EntitlementItem {
            id: "i1".into(),
            product_id: "p1".into(),
            sku_id: "0010".into(),
            product_kind: "Durable".into(),
            status: "Active".into(),
            quantity: 7,
            acquisition_type: s("Recurring"),
            acquired_date: date("2026-01-14T09:12:40.1173402+00:00"),
            start_date: date("2026-01-15T00:00:00Z"),
            end_date: Some(Timestamp::MAX),
            modified_date: Some(Timestamp::from_unix(1_700_000_000)),
            transaction_id: s("t1"),
            recurrence_id: s("mdr:0:r"),
            trial_data: Some(TrialData {
                is_trial: true,
                is_in_trial_period: true,
                trial_time_remaining: s("1.02:03:04"),
            }),
            satisfied_by_product_ids: vec!["b1".into(), "b2".into()],
            tags: vec!["x".into()],
            beneficiary: pub_id("u1"),
            purchaser: pub_id("u2"),
            purchased_country: s("DE"),
            product_family: s("Games"),
            sharing_source: s("None"),
            local_ticket_reference: s("l1"),
            dev_offer_id: s("d1"),
            in_app_offer_token: s("o1"),
            legacy_offer_instance_id: s("lo1"),
            legacy_product_id: s("lp1"),
            order_id: s("or1"),
            order_line_item_id: s("ol1"),
            sku_type: s("Full"),
            ownership_type: s("OwnedByBeneficiary"),
            fulfillment_data: Some(vec!["f1".into()]),
            campaign_id: s("c1"),
        };
        assert_eq!(decode(body).unwrap(), want);
    }

    #[test]
    fn v6_and_v8_doc_table_spellings() {
        let i = decode(r#"{"itemId":"6f0c","productType":"UnmanagedConsumable"}"#).unwrap();
        assert_eq!(
            (i.id.as_str(), i.product_kind.as_str()),
            ("6f0c", "UnmanagedConsumable")
        );
        // An escaped name is the same name.
        assert_eq!(decode(r#"{"\u0069d":"a\u0041\n"}"#).unwrap().id, "aA\n");
    }

    #[test]
    fn a_field_named_twice_is_an_error_under_either_spelling() {
        for (body, field) in [
            (r#"{"id":"a","itemId":"b"}"#, "`id`"),
            (
                r#"{"productType":"Game","productKind":"Game"}"#,
                "`productKind`",
            ),
            (r#"{"status":"Active","status":"Revoked"}"#, "`status`"),
            (r#"{"endDate":null,"endDate":null}"#, "`endDate`"),
            (
                r#"{"recurrenceData":{},"recurrenceData":"x"}"#,
                "`recurrenceData`",
            ),
        ] {
            let e = decode(body).unwrap_err().to_string();
            assert!(
                e.contains(&format!("duplicate field {field}")),
                "{body}: {e}"
            );
        }
        // Unknown fields may repeat: they are not read.
        assert_eq!(decode(r#"{"x":1,"x":2,"id":"a"}"#).unwrap().id, "a");
    }

    #[test]
    fn unknown_fields_are_skipped_whatever_their_shape() {
        let i = decode(
            r#"{"$type":"x","payments":[{"a":[1,2.5e300,{"b":null}]}],"n":-1,"t":true,
               "o":{"recurrenceId":"not-this"},"id":"kept"}"#,
        )
        .unwrap();
        assert_eq!(i.id, "kept");
        assert_eq!(i.recurrence_id, None);
    }

    #[test]
    fn missing_fields_keep_their_defaults_and_null_reads_as_absent() {
        assert_eq!(decode("{}").unwrap(), EntitlementItem::default());
        let i = decode(r#"{"acquisitionType":null,"trialData":null,"endDate":null,"tags":[]}"#)
            .unwrap();
        assert_eq!(i, EntitlementItem::default());
        let i = decode(
            r#"{"id":null,"productId":"9N","tags":null,"quantity":null,"satisfiedByProductIds":null,"fulfillmentData":null}"#,
        )
        .unwrap();
        assert_eq!(i.product_id, "9N");
        assert_eq!(
            i,
            EntitlementItem {
                product_id: "9N".into(),
                ..EntitlementItem::default()
            }
        );
        for body in [
            r#"{"quantity":"3"}"#,
            r#"{"tags":"a"}"#,
            r#"{"endDate":"soon"}"#,
        ] {
            assert!(decode(body).is_err(), "{body}");
        }
    }

    #[test]
    fn recurrence_data_in_its_documented_shapes_and_any_other() {
        for (body, want) in [
            (r#"{"recurrenceData":"mdr:0:a"}"#, Some("mdr:0:a")),
            (
                r#"{"recurrenceData":{"recurrenceId":"mdr:0:a"}}"#,
                Some("mdr:0:a"),
            ),
            (
                r#"{"recurrenceData":{"x":[1],"RecurrenceID":"mdr:0:a"}}"#,
                Some("mdr:0:a"),
            ),
            (
                r#"{"recurrenceData":{"recurrenceId":"mdr:0:a","recurrenceid":"b"}}"#,
                Some("mdr:0:a"),
            ),
            (r#"{"recurrenceData":""}"#, None),
            (r#"{"recurrenceData":{}}"#, None),
            (r#"{"recurrenceData":{"recurrenceId":""}}"#, None),
            (
                r#"{"recurrenceData":{"recurrenceId":{"recurrenceId":"x"}}}"#,
                None,
            ),
            (r#"{"recurrenceData":{"recurrenceId":5}}"#, None),
            (r#"{"recurrenceData":null}"#, None),
            (r#"{"recurrenceData":5}"#, None),
            (r#"{"recurrenceData":true}"#, None),
            (r#"{"recurrenceData":["mdr:0:a"]}"#, None),
            // `recurrenceId` wins when it is not empty, in either order.
            (r#"{"recurrenceId":"r","recurrenceData":"d"}"#, Some("r")),
            (r#"{"recurrenceData":"d","recurrenceId":"r"}"#, Some("r")),
            (r#"{"recurrenceId":"","recurrenceData":"d"}"#, Some("d")),
            (r#"{"recurrenceId":""}"#, None),
            (
                r#"{"recurrenceId":null,"recurrenceData":{"recurrenceId":"d"}}"#,
                Some("d"),
            ),
        ] {
            let i = decode(body).unwrap_or_else(|e| panic!("{body}: {e}"));
            assert_eq!(i.recurrence_id.as_deref(), want, "{body}");
        }
        assert!(decode(r#"{"recurrenceData":{"recurrenceId":"a"}"#).is_err());
    }

    #[test]
    fn an_item_that_is_not_an_object_is_a_clear_error() {
        for body in ["[]", r#""x""#, "1", "null"] {
            let e = decode(body).unwrap_err().to_string();
            assert!(e.contains("an entitlement item"), "{body}: {e}");
            let mut place = EntitlementItem::default();
            let mut de = serde_json::Deserializer::from_str(body);
            let e = EntitlementItem::deserialize_in_place(&mut de, &mut place).unwrap_err();
            assert!(e.to_string().contains("an entitlement item"), "{body}: {e}");
        }
    }

    /// Decoding in place gives what decoding by value gives, whatever `place` held before.
    #[test]
    fn in_place_decoding_matches_by_value() {
        let held =
            decode(r#"{"id":"old","tags":["t"],"endDate":"2021-06-14T00:00:00Z","quantity":3}"#)
                .unwrap();
        for body in [
            r#"{}"#,
            r#"{"id":"i1","productKind":"Durable","recurrenceData":{"recurrenceId":"r"}}"#,
            r#"{"itemId":"6f0c","productType":"Game","quantity":null,"acquiredDate":"2026-01-14T09:12:40.1173402+00:00"}"#,
        ] {
            let mut place = held.clone();
            let mut de = serde_json::Deserializer::from_str(body);
            EntitlementItem::deserialize_in_place(&mut de, &mut place).unwrap();
            assert_eq!(place, decode(body).unwrap(), "{body}");
        }
    }
}

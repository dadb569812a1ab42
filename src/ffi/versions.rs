//! The published versions of every struct C passes with a `uint32_t struct_size` first field.
//!
//! A caller sets `struct_size = sizeof(struct)` from the header it was built with, so each
//! published version of a struct has one size: where its last field ends, padded to the
//! struct's alignment. A size that is no version's (0..3, one that ends inside a pointer, one
//! larger than this library's struct) is refused: copying it would use a half-copied pointer.
//! Only the bytes up to the version's last field are used, so an older caller's tail padding
//! (often uninitialised) never becomes a newer field.
//!
//! Adding a field to a struct: append it in `types.rs` (or its module) and add a line naming it
//! below; the const checks fail the build when the latest line is not the struct's last field.

use super::clawback::*;
use super::credential::*;
use super::doctor::*;
use super::ledger::*;
use super::types::*;

/// A struct with a `struct_size` first field and the versions this library knows.
pub(crate) trait StructVersions: Sized {
    /// The C name, for error messages.
    const NAME: &'static str;
    /// Where each published version's last field ends, oldest first.
    const ENDS: &'static [usize];
}

/// The end of the field a getter names (its offset plus its size), at compile time.
pub(crate) const fn field_end<T, F>(offset: usize, _field: fn(&T) -> &F) -> usize {
    offset + std::mem::size_of::<F>()
}

/// Whether `ends` is strictly increasing and its last entry, padded, is `size_of::<T>()`.
pub(crate) const fn table_is_complete<T>(ends: &[usize]) -> bool {
    let mut i = 1;
    while i < ends.len() {
        if ends[i] <= ends[i - 1] {
            return false;
        }
        i += 1;
    }
    !ends.is_empty()
        && ends[ends.len() - 1].next_multiple_of(std::mem::align_of::<T>())
            == std::mem::size_of::<T>()
}

/// One entry per struct, one line per published version naming its last field, oldest first.
macro_rules! struct_versions {
    ($($t:ident { $($last:ident,)+ })*) => {$(
        impl StructVersions for $t {
            const NAME: &'static str = stringify!($t);
            const ENDS: &'static [usize] = &[$(
                field_end(std::mem::offset_of!($t, $last), |s: &$t| &s.$last),
            )+];
        }
        const _: () = assert!(
            table_is_complete::<$t>(<$t as StructVersions>::ENDS),
            concat!("the versions of ", stringify!($t), " do not end with its last field")
        );
    )*};
}

struct_versions! {
    msstore_client_options {
        operation_timeout_ms,
        max_connections_per_host,
        max_response_bytes,
        max_idle_connections_per_host,
        credential_expiry_warning_days,
    }
    msstore_certificate_options {
        send_x5c,
    }
    msstore_managed_identity_options {
        identity_header,
    }
    msstore_call_options {
        timeout_ms,
    }
    msstore_query_options {
        sbx,
    }
    msstore_consume_options {
        sbx,
    }
    msstore_consume_v6_options {
        transaction_id,
    }
    msstore_grant_options {
        dev_offer_id,
    }
    msstore_subscription_query_options {
        sbx,
    }
    msstore_subscription_change_options {
        sbx,
    }
    msstore_clawback_orders_options {
        sbx,
    }
    msstore_clawback_queue_options {
        visibility_timeout_secs,
    }
    msstore_ledger_options {
        resend_delay_ms,
        pg_keepalive_idle_ms,
    }
    msstore_ledger_consume_options {
        sbx,
    }
    msstore_clawback_match_options {
        state,
    }
    msstore_clawback_ingest_options {
        max_batches,
    }
    // Views the library writes into.
    msstore_doctor_check_info {
        result,
    }
    msstore_error_info {
        tracking_id,
    }
    msstore_token_info {
        expires_at_unix_ms,
    }
    msstore_key_info {
        needs_renewal,
        value,
    }
    msstore_entitlements_info {
        continuation_token,
    }
    msstore_entitlement {
        trial_seconds_remaining,
    }
    msstore_consume_result_info {
        transaction_count,
    }
    msstore_order_transaction {
        quantity_consumed,
    }
    msstore_order_info {
        line_item_count,
    }
    msstore_order_line_item {
        title,
    }
    msstore_subscriptions_info {
        continuation_token,
    }
    msstore_subscription {
        market,
    }
    msstore_clawback_orders_info {
        continuation_token,
    }
    msstore_clawback_order_line {
        was_consumable_quantity_revoked,
    }
    msstore_clawback_messages_info {
        count,
    }
    msstore_clawback_message {
        event_json,
    }
    msstore_ledger_items_info {
        delete_errors,
    }
    msstore_ledger_entry {
        created_unix_ms,
        already_handed_out,
    }
    msstore_ledger_revocation {
        created_unix_ms,
    }
}

/// The sizes a caller of some published version passes: each version's exact end and its end
/// padded to the struct's alignment (what `sizeof` gives; the two differ when the version ends
/// in padding, and which one a compiler pads to depends on the ABI).
fn accepted<T: StructVersions>() -> impl Iterator<Item = (usize, usize)> {
    let align = std::mem::align_of::<T>();
    T::ENDS.iter().flat_map(move |&end| {
        let padded = end.next_multiple_of(align);
        [(end, end)]
            .into_iter()
            .chain((padded != end).then_some((padded, end)))
    })
}

/// How many bytes of a caller's struct of `struct_size` bytes the library uses (the end of that
/// version's last field), or `None` when the size is no published version's.
pub(crate) fn used_bytes<T: StructVersions>(struct_size: usize) -> Option<usize> {
    accepted::<T>()
        .find(|(size, _)| *size == struct_size)
        .map(|(_, end)| end)
}

/// The message of a refused `struct_size`: the struct and every size it accepts.
pub(crate) fn refusal<T: StructVersions>(struct_size: usize) -> String {
    let sizes: Vec<String> = accepted::<T>().map(|(s, _)| s.to_string()).collect();
    format!(
        "{}.struct_size is {struct_size}, which is no published version of the struct; \
         this library accepts {} (set it to sizeof({}))",
        T::NAME,
        sizes.join(", "),
        T::NAME
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{offset_of, size_of};

    #[test]
    fn each_version_is_accepted_and_every_other_size_refused() {
        let full = size_of::<msstore_client_options>();
        let v2_end = offset_of!(msstore_client_options, max_connections_per_host) + 4;
        let v2_padded = offset_of!(msstore_client_options, max_response_bytes);
        let newest_end = offset_of!(msstore_client_options, credential_expiry_warning_days) + 4;
        assert_eq!(used_bytes::<msstore_client_options>(full), Some(newest_end));
        assert_eq!(
            used_bytes::<msstore_client_options>(v2_padded),
            Some(v2_end)
        );
        assert_eq!(used_bytes::<msstore_client_options>(v2_end), Some(v2_end));
        // Inside a pointer, below the first version, inside the u64, beyond the newest.
        for bad in [0, 3, 4, 12, v2_padded + 4, full + 8] {
            assert_eq!(used_bytes::<msstore_client_options>(bad), None, "{bad}");
        }
        assert_eq!(
            used_bytes::<msstore_call_options>(size_of::<msstore_call_options>()),
            Some(12)
        );
    }

    #[cfg(target_pointer_width = "64")]
    #[test]
    fn the_client_options_sizes_are_those_of_the_published_headers() {
        let full = size_of::<msstore_client_options>();
        let accepted: Vec<usize> = (0..=full + 64)
            .filter(|s| used_bytes::<msstore_client_options>(*s).is_some())
            .collect();
        let v1 = offset_of!(msstore_client_options, max_connections_per_host);
        assert_eq!(
            accepted,
            [
                v1,
                v1 + 4,
                offset_of!(msstore_client_options, max_response_bytes),
                offset_of!(msstore_client_options, extra_root_cert_pem),
                offset_of!(msstore_client_options, credential),
                offset_of!(msstore_client_options, credential_expiry_warning_days) + 4,
                full
            ]
        );
    }

    #[test]
    fn an_older_callers_tail_padding_is_not_used() {
        // The first ledger options ended at resend_delay_ms, in the middle of an 8-byte word
        // that retention_days now fills.
        let end = offset_of!(msstore_ledger_options, resend_delay_ms) + 4;
        assert_eq!(offset_of!(msstore_ledger_options, retention_days), end);
        let padded = end.next_multiple_of(std::mem::align_of::<msstore_ledger_options>());
        assert_eq!(used_bytes::<msstore_ledger_options>(padded), Some(end));
    }

    #[test]
    fn the_refusal_names_the_struct_and_the_sizes() {
        let m = refusal::<msstore_key_info>(12);
        assert!(m.starts_with("msstore_key_info.struct_size is 12"), "{m}");
        assert!(
            m.contains(&size_of::<msstore_key_info>().to_string()),
            "{m}"
        );
    }
}

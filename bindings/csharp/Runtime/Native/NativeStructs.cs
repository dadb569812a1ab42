// The versioned structs of include/msstore.h, field for field. Each starts with struct_size, which
// the library reads to know how much of the struct this (possibly older) wrapper knows about.
// HeaderSyncTests compares Marshal.SizeOf of each with the C compiler's sizeof.
using System;
using System.Runtime.InteropServices;

namespace Msstore.Native
{
    [StructLayout(LayoutKind.Sequential)]
    internal struct ClientOptions
    {
        public uint struct_size;
        public IntPtr tenant_id;
        public IntPtr client_id;
        public IntPtr client_secret;
        public IntPtr emulator_base_url;
        public IntPtr login_base_url;
        public IntPtr collections_base_url;
        public IntPtr purchase_base_url;
        public IntPtr service_identity;
        public uint entra_version;
        public uint connect_timeout_ms;
        public uint request_timeout_ms;
        public uint max_attempts;
        public uint worker_threads;
        public uint max_pages;
        public int completion_mode;
        public uint operation_timeout_ms;
        public uint max_connections_per_host;
        public ulong max_response_bytes;
        public IntPtr extra_root_cert_pem;
        public IntPtr extra_root_cert_path;
        public uint token_refresh_margin_ms;
        public uint key_renew_margin_ms;
        public uint retry_base_delay_ms;
        public uint retry_max_delay_ms;
        public uint max_retry_after_ms;
        public uint max_idle_connections_per_host;
        // Appended in the credentials version of the struct.
        public IntPtr credential;
        public IntPtr previous_credential;
        public uint credential_expiry_warning_days;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct CallOptions
    {
        public uint struct_size;
        public int completion_mode;
        public uint timeout_ms;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct KeyInfo
    {
        public uint struct_size;
        public int kind;
        public IntPtr audience;
        public IntPtr client_id;
        public IntPtr user_id;
        public IntPtr refresh_uri;
        public long issued_at_unix_ms;
        public long not_before_unix_ms;
        public long expires_at_unix_ms;
        public long renew_after_unix_ms;
        public uint is_expired;
        public uint needs_renewal;
        public IntPtr value;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct ErrorInfo
    {
        public uint struct_size;
        public int code;
        public IntPtr kind;
        public IntPtr message;
        public uint http_status;
        public long retry_after_ms;
        public IntPtr service_code;
        public IntPtr inner_code;
        public IntPtr ms_cv;
        public IntPtr correlation_id;
        public IntPtr tracking_id;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct TokenInfo
    {
        public uint struct_size;
        public int audience;
        public IntPtr value;
        public long expires_at_unix_ms;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct EntitlementsInfo
    {
        public uint struct_size;
        public uint pages;
        public UIntPtr count;
        public uint duplicates_removed;
        public IntPtr continuation_token;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct SubscriptionsInfo
    {
        public uint struct_size;
        public UIntPtr count;
        public IntPtr continuation_token;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct ClawbackOrdersInfo
    {
        public uint struct_size;
        public UIntPtr count;
        public IntPtr continuation_token;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct ClawbackMessagesInfo
    {
        public uint struct_size;
        public UIntPtr count;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct QueryOptions
    {
        public uint struct_size;
        public uint api_version;
        public IntPtr collections_key;
        public IntPtr product_ids;
        public IntPtr sku_ids;
        public UIntPtr product_count;
        public uint single_page;
        public IntPtr continuation_token;
        public uint max_page_size;
        public uint include_duplicates;
        public IntPtr validity_type;
        public IntPtr sbx;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct ConsumeOptions
    {
        public uint struct_size;
        public IntPtr collections_key;
        public IntPtr product_id;
        public uint quantity;
        public IntPtr tracking_id;
        public IntPtr sbx;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct ConsumeV6Options
    {
        public uint struct_size;
        public IntPtr collections_key;
        public IntPtr item_id;
        public IntPtr tracking_id;
        public IntPtr product_id;
        public IntPtr transaction_id;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct GrantOptions
    {
        public uint struct_size;
        public IntPtr purchase_key;
        public IntPtr product_id;
        public IntPtr sku_id;
        public IntPtr availability_id;
        public IntPtr language;
        public IntPtr market;
        public IntPtr order_id;
        public IntPtr dev_offer_id;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct SubscriptionQueryOptions
    {
        public uint struct_size;
        public IntPtr purchase_key;
        public uint single_page;
        public IntPtr continuation_token;
        public uint page_size;
        public IntPtr sbx;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct SubscriptionChangeOptions
    {
        public uint struct_size;
        public IntPtr purchase_key;
        public IntPtr recurrence_id;
        public int change_type;
        public int extension_days;
        public IntPtr sbx;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct Entitlement
    {
        public uint struct_size;
        public IntPtr id;
        public IntPtr product_id;
        public IntPtr sku_id;
        public IntPtr product_kind;
        public IntPtr status;
        public uint is_active;
        public long quantity;
        public IntPtr acquisition_type;
        public IntPtr acquired_date;
        public IntPtr start_date;
        public IntPtr end_date;
        public IntPtr modified_date;
        public long start_date_unix_ms;
        public long end_date_unix_ms;
        public IntPtr transaction_id;
        public IntPtr recurrence_id;
        public IntPtr order_id;
        public uint has_trial_data;
        public uint is_trial;
        public uint is_in_trial_period;
        public IntPtr trial_time_remaining;
        public long trial_seconds_remaining;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct ConsumeInfo
    {
        public uint struct_size;
        public IntPtr item_id;
        public IntPtr product_id;
        public IntPtr tracking_id;
        public long new_quantity;
        public UIntPtr transaction_count;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct OrderTransaction
    {
        public uint struct_size;
        public IntPtr order_id;
        public IntPtr order_line_item_id;
        public long quantity_consumed;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct OrderInfo
    {
        public uint struct_size;
        public IntPtr order_id;
        public IntPtr order_state;
        public IntPtr created_time;
        public IntPtr currency_code;
        public IntPtr market;
        public double total_amount;
        public UIntPtr line_item_count;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct OrderLineItem
    {
        public uint struct_size;
        public IntPtr line_item_id;
        public IntPtr product_id;
        public IntPtr sku_id;
        public IntPtr availability_id;
        public IntPtr product_type;
        public long quantity;
        public IntPtr billing_state;
        public IntPtr fulfillment_state;
        public IntPtr title;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct Subscription
    {
        public uint struct_size;
        public IntPtr id;
        public IntPtr product_id;
        public IntPtr sku_id;
        public IntPtr recurrence_state;
        public uint auto_renew;
        public uint is_trial;
        public IntPtr beneficiary;
        public IntPtr start_time;
        public IntPtr expiration_time;
        public IntPtr expiration_time_with_grace;
        public IntPtr cancellation_date;
        public long expiration_time_unix_ms;
        public long expiration_time_with_grace_unix_ms;
        public IntPtr market;
    }
}

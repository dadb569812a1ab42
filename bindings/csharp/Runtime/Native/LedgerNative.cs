// P/Invoke declarations and structs of the consume ledger part of include/msstore.h, checked
// against the header by HeaderSyncTests. The synchronous calls (pending, acknowledge,
// apply_clawback, ...) run one short database transaction on the calling thread.
using System;
using System.Runtime.InteropServices;

namespace Msstore.Native
{
    internal static partial class NativeMethods
    {
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_ledger_options_init(ref LedgerOptions opts);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_ledger_open(ref LedgerOptions opts, out LedgerHandle ledger, out ErrorHandle err);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_ledger_free(IntPtr ledger);

        // ---- operations (user_data carries a GCHandle; out_op a SafeHandle) ------------------
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_ledger_consume(ClientHandle client, LedgerHandle ledger,
            ref LedgerConsumeOptions opts, ref CallOptions call, CompletionCallback cb, IntPtr userData, out OpHandle op);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_ledger_reconcile(ClientHandle client, LedgerHandle ledger,
            ref CallOptions call, CompletionCallback cb, IntPtr userData, out OpHandle op);

        // The wrapper always passes options (a zero field = its default); NULL would mean the same.
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_ledger_ingest_clawback(ClientHandle client, LedgerHandle ledger,
            ref ClawbackIngestOptions opts, ref CallOptions call, CompletionCallback cb, IntPtr userData, out OpHandle op);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_ledger_ingest_clawback_orders(ClientHandle client, LedgerHandle ledger,
            IntPtr purchaseKey, IntPtr sbx, ref CallOptions call, CompletionCallback cb, IntPtr userData, out OpHandle op);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_op_take_ledger_items(IntPtr op, out LedgerItemsHandle h);

        // ---- synchronous calls -----------------------------------------------------------
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_ledger_list_pending(LedgerHandle ledger, out LedgerItemsHandle items, out ErrorHandle err);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_ledger_acknowledge_entry(LedgerHandle ledger, IntPtr entryId, out ErrorHandle err);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_ledger_apply_clawback(LedgerHandle ledger, ref ClawbackMatchOptions m,
            out LedgerItemsHandle items, out uint duplicate, out ErrorHandle err);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_ledger_claim_revocations(LedgerHandle ledger, out LedgerItemsHandle items,
            out ErrorHandle err);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_ledger_acknowledge_revocation(LedgerHandle ledger, IntPtr revocationId,
            out ErrorHandle err);

        // ---- items -------------------------------------------------------------------------
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_ledger_items_get_info(LedgerItemsHandle h, ref LedgerItemsInfo info);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_ledger_items_entry_at(LedgerItemsHandle h, UIntPtr index, ref LedgerEntry e);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_ledger_items_entry_transaction_at(LedgerItemsHandle h, UIntPtr index, UIntPtr tx,
            ref OrderTransaction t);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_ledger_items_revocation_at(LedgerItemsHandle h, UIntPtr index, ref LedgerRevocation r);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr msstore_ledger_items_json(LedgerItemsHandle h);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_ledger_items_free(IntPtr h);
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct LedgerOptions
    {
        public uint struct_size;
        public IntPtr sqlite_path;
        public IntPtr postgres_url;
        public IntPtr instance_id;
        public uint claim_lease_ms;
        public uint send_rounds;
        public uint resend_delay_ms;
        public uint retention_days;
        public uint pg_connect_timeout_ms;
        public uint pg_statement_timeout_ms;
        public uint pg_keepalive_idle_ms;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct LedgerConsumeOptions
    {
        public uint struct_size;
        public IntPtr player_ref;
        public IntPtr collections_key;
        public IntPtr product_id;
        public uint quantity;
        public IntPtr tracking_id;
        public IntPtr sbx;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct ClawbackMatchOptions
    {
        public uint struct_size;
        public IntPtr event_id;
        public IntPtr order_id;
        public IntPtr line_item_id;
        public IntPtr product_id;
        public int state;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct ClawbackIngestOptions
    {
        public uint struct_size;
        public IntPtr expected_sandbox;
        public uint max_messages;
        public uint visibility_timeout_secs;
        public uint max_batches;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct LedgerItemsInfo
    {
        public uint struct_size;
        public uint is_ingest_summary;
        public UIntPtr entry_count;
        public UIntPtr revocation_count;
        public uint received;
        public uint applied;
        public uint duplicates;
        public uint unmatched;
        public uint ignored;
        public uint dead_lettered;
        public uint deleted;
        public uint delete_conflicts;
        public uint delete_errors;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct LedgerEntry
    {
        public uint struct_size;
        public IntPtr id;
        public IntPtr player_ref;
        public IntPtr product_id;
        public uint quantity;
        public int state;
        public uint attempts;
        public long new_quantity;
        public UIntPtr transaction_count;
        public IntPtr last_error;
        public long created_unix_ms;
        public uint already_handed_out;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct LedgerRevocation
    {
        public uint struct_size;
        public IntPtr id;
        public int kind;
        public IntPtr player_ref;
        public IntPtr product_id;
        public long quantity;
        public IntPtr entry_id;
        public IntPtr order_id;
        public IntPtr line_item_id;
        public IntPtr event_id;
        public IntPtr reverses;
        public uint acknowledged;
        public long created_unix_ms;
    }

    /// <summary>msstore_ledger*. Releasing it closes the database once no operation uses it
    /// (an operation in flight keeps its own reference).</summary>
    internal sealed class LedgerHandle : MsstoreHandle
    {
        protected override bool ReleaseHandle() { NativeMethods.msstore_ledger_free(handle); return true; }
    }

    internal sealed class LedgerItemsHandle : MsstoreHandle
    {
        protected override bool ReleaseHandle() { NativeMethods.msstore_ledger_items_free(handle); return true; }
    }
}

// P/Invoke declarations and structs of the clawback part of include/msstore.h (refunds: the
// v1 orders query and the v2 queue), checked against the header by HeaderSyncTests.
using System;
using System.Runtime.InteropServices;

namespace Msstore.Native
{
    internal static partial class NativeMethods
    {
        // ---- starts ------------------------------------------------------------------------
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_client_query_clawback_orders(ClientHandle client, ref ClawbackOrdersOptions opts,
            ref CallOptions call, CompletionCallback cb, IntPtr userData, out OpHandle op);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_client_receive_clawback_messages(ClientHandle client, ref ClawbackReceiveOptions opts,
            ref CallOptions call, CompletionCallback cb, IntPtr userData, out OpHandle op);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_client_peek_clawback_messages(ClientHandle client, ref ClawbackReceiveOptions opts,
            ref CallOptions call, CompletionCallback cb, IntPtr userData, out OpHandle op);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_client_delete_clawback_message(ClientHandle client, IntPtr messageId, IntPtr popReceipt,
            ref CallOptions call, CompletionCallback cb, IntPtr userData, out OpHandle op);

        // ---- results -----------------------------------------------------------------------
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_op_take_clawback_orders(IntPtr op, out ClawbackOrdersHandle h);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_op_take_clawback_messages(IntPtr op, out ClawbackMessagesHandle h);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_clawback_orders_get_info(ClawbackOrdersHandle h, ref ClawbackOrdersInfo info);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_clawback_orders_line_at(ClawbackOrdersHandle h, UIntPtr index, ref ClawbackOrderLine line);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr msstore_clawback_orders_json(ClawbackOrdersHandle h);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_clawback_orders_free(IntPtr h);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_clawback_messages_get_info(ClawbackMessagesHandle h, ref ClawbackMessagesInfo info);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_clawback_messages_item_at(ClawbackMessagesHandle h, UIntPtr index, ref ClawbackMessage m);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr msstore_clawback_messages_json(ClawbackMessagesHandle h);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_clawback_messages_free(IntPtr h);
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct ClawbackOrdersOptions
    {
        public uint struct_size;
        public IntPtr purchase_key;
        public IntPtr line_item_states;
        public UIntPtr line_item_state_count;
        public uint single_page;
        public IntPtr continuation_token;
        public IntPtr sbx;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct ClawbackReceiveOptions
    {
        public uint struct_size;
        public uint max_messages;
        public uint visibility_timeout_secs;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct ClawbackOrderLine
    {
        public uint struct_size;
        public IntPtr order_id;
        public IntPtr short_order_id;
        public IntPtr order_purchased_date;
        public IntPtr order_refunded_date;
        public long order_refunded_date_unix_ms;
        public IntPtr line_item_id;
        public IntPtr line_item_state;
        public IntPtr product_id;
        public IntPtr sku_id;
        public long quantity;
        public uint was_consumable_quantity_revoked;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct ClawbackMessage
    {
        public uint struct_size;
        public IntPtr message_id;
        public IntPtr pop_receipt;
        public uint dequeue_count;
        public IntPtr insertion_time;
        public IntPtr expiration_time;
        public IntPtr time_next_visible;
        public IntPtr text;
        public uint event_decoded;
        public IntPtr event_error;
        public IntPtr event_id;
        public IntPtr event_source;
        public int event_state;
        public IntPtr event_state_name;
        public uint requires_revocation;
        public IntPtr order_id;
        public IntPtr line_item_id;
        public IntPtr product_id;
        public IntPtr product_type;
        public IntPtr sku_id;
        public IntPtr sandbox_id;
        public IntPtr purchased_date;
        public IntPtr event_date;
        public uint has_recurrence_data;
        public IntPtr recurrence_id;
        public IntPtr refund_type;
        public long duration_in_days;
        public long consumed_duration_in_days;
        public IntPtr event_json;
    }

    internal sealed class ClawbackOrdersHandle : MsstoreHandle
    {
        protected override bool ReleaseHandle() { NativeMethods.msstore_clawback_orders_free(handle); return true; }
    }

    internal sealed class ClawbackMessagesHandle : MsstoreHandle
    {
        protected override bool ReleaseHandle() { NativeMethods.msstore_clawback_messages_free(handle); return true; }
    }
}

// Copies the results of the clawback operations into the managed model (see ResultReaders.cs).
using System;
using System.Collections.Generic;
using Msstore.Native;

namespace Msstore
{
    internal static partial class ResultReaders
    {
        internal static ClawbackOrderPage ClawbackOrders(IntPtr op)
        {
            ClawbackOrdersHandle h;
            Check(NativeMethods.msstore_op_take_clawback_orders(op, out h));
            using (h)
            {
                var info = new ClawbackOrdersInfo();
                info.struct_size = SizeOf<ClawbackOrdersInfo>();
                Check(NativeMethods.msstore_clawback_orders_get_info(h, ref info));
                int n = (int)info.count.ToUInt64();
                var items = new List<ClawbackOrderLine>(n);
                for (int i = 0; i < n; i++)
                {
                    var l = new Native.ClawbackOrderLine();
                    l.struct_size = SizeOf<Native.ClawbackOrderLine>();
                    Check(NativeMethods.msstore_clawback_orders_line_at(h, (UIntPtr)i, ref l));
                    string state = Utf8.FromNative(l.line_item_state);
                    items.Add(new ClawbackOrderLine
                    {
                        OrderId = Utf8.FromNative(l.order_id),
                        ShortOrderId = Utf8.FromNative(l.short_order_id),
                        OrderPurchasedDate = Parse.Date(Utf8.FromNative(l.order_purchased_date)),
                        OrderRefundedDate = Parse.UnixMs(l.order_refunded_date_unix_ms)
                            ?? Parse.Date(Utf8.FromNative(l.order_refunded_date)),
                        LineItemId = Utf8.FromNative(l.line_item_id),
                        LineStateName = state,
                        LineState = Parse.Enum<ClawbackLineState>(state),
                        ProductId = Utf8.FromNative(l.product_id),
                        SkuId = Utf8.FromNative(l.sku_id),
                        Quantity = l.quantity,
                        WasConsumableQuantityRevoked = l.was_consumable_quantity_revoked != 0,
                    });
                }
                return new ClawbackOrderPage
                {
                    Items = items.AsReadOnly(),
                    ContinuationToken = Utf8.FromNative(info.continuation_token),
                    RawJson = Utf8.FromNative(NativeMethods.msstore_clawback_orders_json(h)),
                };
            }
        }

        internal static IList<ClawbackMessage> ClawbackMessages(IntPtr op)
        {
            ClawbackMessagesHandle h;
            Check(NativeMethods.msstore_op_take_clawback_messages(op, out h));
            using (h)
            {
                var info = new ClawbackMessagesInfo();
                info.struct_size = SizeOf<ClawbackMessagesInfo>();
                Check(NativeMethods.msstore_clawback_messages_get_info(h, ref info));
                int n = (int)info.count.ToUInt64();
                var items = new List<ClawbackMessage>(n);
                for (int i = 0; i < n; i++)
                {
                    var m = new Native.ClawbackMessage();
                    m.struct_size = SizeOf<Native.ClawbackMessage>();
                    Check(NativeMethods.msstore_clawback_messages_item_at(h, (UIntPtr)i, ref m));
                    items.Add(Message(ref m));
                }
                return items.AsReadOnly();
            }
        }

        private static ClawbackMessage Message(ref Native.ClawbackMessage m)
        {
            var msg = new ClawbackMessage
            {
                MessageId = Utf8.FromNative(m.message_id),
                PopReceipt = Utf8.FromNative(m.pop_receipt),
                DequeueCount = (int)m.dequeue_count,
                InsertionTime = Parse.Date(Utf8.FromNative(m.insertion_time)),
                ExpirationTime = Parse.Date(Utf8.FromNative(m.expiration_time)),
                TimeNextVisible = Parse.Date(Utf8.FromNative(m.time_next_visible)),
                Text = Utf8.FromNative(m.text),
            };
            if (m.event_decoded == 0)
            {
                msg.EventError = Utf8.FromNative(m.event_error) ?? "the message is not a clawback event";
                return msg;
            }
            int state = m.event_state;
            msg.Event = new ClawbackEvent
            {
                Id = Utf8.FromNative(m.event_id),
                Source = Utf8.FromNative(m.event_source),
                State = state >= 1 && state <= 4 ? (ClawbackEventState)state : ClawbackEventState.Other,
                StateName = Utf8.FromNative(m.event_state_name),
                RequiresRevocation = m.requires_revocation != 0,
                OrderId = Utf8.FromNative(m.order_id),
                LineItemId = Utf8.FromNative(m.line_item_id),
                ProductId = Utf8.FromNative(m.product_id),
                ProductType = Utf8.FromNative(m.product_type),
                SkuId = Utf8.FromNative(m.sku_id),
                SandboxId = Utf8.FromNative(m.sandbox_id),
                PurchasedDate = Parse.Date(Utf8.FromNative(m.purchased_date)),
                EventDate = Parse.Date(Utf8.FromNative(m.event_date)),
                Json = Utf8.FromNative(m.event_json),
            };
            if (m.has_recurrence_data != 0)
            {
                msg.Event.Recurrence = new ClawbackRecurrence
                {
                    RecurrenceId = Utf8.FromNative(m.recurrence_id),
                    RefundType = Utf8.FromNative(m.refund_type),
                    DurationInDays = m.duration_in_days,
                    ConsumedDurationInDays = m.consumed_duration_in_days,
                };
            }
            return msg;
        }

        /// <summary>For operations without a result (delete).</summary>
        internal static bool Nothing(IntPtr op)
        {
            return true;
        }
    }
}

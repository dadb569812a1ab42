// Takes an operation's native result and copies it into the managed model (the EOS-style
// copy-by-index accessors), freeing the native handle before returning. Runs inside the
// completion callback, while the op is valid.
using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using Msstore.Native;

namespace Msstore
{
    internal static partial class ResultReaders
    {
        private static uint SizeOf<T>() { return (uint)Marshal.SizeOf(typeof(T)); }

        private static void Check(int rc)
        {
            if (rc != 0) throw StoreException.FromCode(rc);
        }

        internal static StoreToken Token(IntPtr op)
        {
            TokenHandle h;
            Check(NativeMethods.msstore_op_take_token(op, out h));
            using (h)
            {
                var t = new TokenInfo();
                t.struct_size = SizeOf<TokenInfo>();
                Check(NativeMethods.msstore_token_get_info(h, ref t));
                return new StoreToken
                {
                    Value = Utf8.FromNative(t.value),
                    Audience = (StoreAudience)t.audience,
                    ExpiresAt = DateTimeOffset.FromUnixTimeMilliseconds(t.expires_at_unix_ms),
                };
            }
        }

        internal static StoreIdKey Key(IntPtr op)
        {
            KeyHandle h;
            Check(NativeMethods.msstore_op_take_key(op, out h));
            using (h) return StoreIdKey.From(h);
        }

        internal static EntitlementPage Entitlements(IntPtr op)
        {
            EntitlementsHandle h;
            Check(NativeMethods.msstore_op_take_entitlements(op, out h));
            using (h)
            {
                var info = new EntitlementsInfo();
                info.struct_size = SizeOf<EntitlementsInfo>();
                Check(NativeMethods.msstore_entitlements_get_info(h, ref info));
                int n = (int)info.count.ToUInt64();
                var items = new List<EntitlementItem>(n);
                for (int i = 0; i < n; i++)
                {
                    var e = new Entitlement();
                    e.struct_size = SizeOf<Entitlement>();
                    Check(NativeMethods.msstore_entitlements_item_at(h, (UIntPtr)i, ref e));
                    items.Add(Item(ref e));
                }
                return new EntitlementPage
                {
                    Items = items.AsReadOnly(),
                    ContinuationToken = Utf8.FromNative(info.continuation_token),
                    Pages = (int)info.pages,
                    DuplicatesRemoved = (int)info.duplicates_removed,
                    RawJson = Utf8.FromNative(NativeMethods.msstore_entitlements_json(h)),
                };
            }
        }

        private static EntitlementItem Item(ref Entitlement e)
        {
            var kind = Utf8.FromNative(e.product_kind);
            var status = Utf8.FromNative(e.status);
            var acq = Utf8.FromNative(e.acquisition_type);
            return new EntitlementItem
            {
                Id = Utf8.FromNative(e.id),
                ProductId = Utf8.FromNative(e.product_id),
                SkuId = Utf8.FromNative(e.sku_id),
                ProductKindName = kind,
                ProductKind = Parse.Enum<ProductKind>(kind),
                StatusName = status,
                Status = Parse.Enum<EntitlementStatus>(status),
                IsActive = e.is_active != 0,
                Quantity = e.quantity,
                AcquisitionTypeName = acq,
                AcquisitionType = Parse.Enum<AcquisitionType>(acq),
                AcquiredDate = Parse.Date(Utf8.FromNative(e.acquired_date)),
                StartDate = Parse.UnixMs(e.start_date_unix_ms) ?? Parse.Date(Utf8.FromNative(e.start_date)),
                EndDate = Parse.UnixMs(e.end_date_unix_ms) ?? Parse.Date(Utf8.FromNative(e.end_date)),
                ModifiedDate = Parse.Date(Utf8.FromNative(e.modified_date)),
                TransactionId = Utf8.FromNative(e.transaction_id),
                RecurrenceId = Utf8.FromNative(e.recurrence_id),
                OrderId = Utf8.FromNative(e.order_id),
                HasTrialData = e.has_trial_data != 0,
                IsTrial = e.is_trial != 0,
                IsInTrialPeriod = e.is_in_trial_period != 0,
                TrialTimeRemaining = e.trial_seconds_remaining >= 0
                    ? TimeSpan.FromSeconds(e.trial_seconds_remaining) : (TimeSpan?)null,
            };
        }

        internal static ConsumeResult Consume(IntPtr op)
        {
            ConsumeResultHandle h;
            Check(NativeMethods.msstore_op_take_consume_result(op, out h));
            using (h)
            {
                var info = new ConsumeInfo();
                info.struct_size = SizeOf<ConsumeInfo>();
                Check(NativeMethods.msstore_consume_result_get_info(h, ref info));
                int n = (int)info.transaction_count;
                var txs = new List<OrderTransactionInfo>(n);
                for (int i = 0; i < n; i++)
                {
                    var tx = new OrderTransaction();
                    tx.struct_size = SizeOf<OrderTransaction>();
                    Check(NativeMethods.msstore_consume_result_transaction_at(h, (UIntPtr)i, ref tx));
                    txs.Add(new OrderTransactionInfo
                    {
                        OrderId = Utf8.FromNative(tx.order_id),
                        OrderLineItemId = Utf8.FromNative(tx.order_line_item_id),
                        QuantityConsumed = tx.quantity_consumed,
                    });
                }
                return new ConsumeResult
                {
                    ItemId = Utf8.FromNative(info.item_id),
                    ProductId = Utf8.FromNative(info.product_id),
                    TrackingId = Utf8.FromNative(info.tracking_id),
                    NewQuantity = info.new_quantity,
                    Transactions = txs.AsReadOnly(),
                    Json = Utf8.FromNative(NativeMethods.msstore_consume_result_json(h)),
                };
            }
        }

        internal static StoreOrder Order(IntPtr op)
        {
            OrderHandle h;
            Check(NativeMethods.msstore_op_take_order(op, out h));
            using (h)
            {
                var info = new OrderInfo();
                info.struct_size = SizeOf<OrderInfo>();
                Check(NativeMethods.msstore_order_get_info(h, ref info));
                int n = (int)info.line_item_count;
                var lines = new List<OrderLine>(n);
                for (int i = 0; i < n; i++)
                {
                    var li = new OrderLineItem();
                    li.struct_size = SizeOf<OrderLineItem>();
                    Check(NativeMethods.msstore_order_line_item_at(h, (UIntPtr)i, ref li));
                    lines.Add(new OrderLine
                    {
                        LineItemId = Utf8.FromNative(li.line_item_id),
                        ProductId = Utf8.FromNative(li.product_id),
                        SkuId = Utf8.FromNative(li.sku_id),
                        AvailabilityId = Utf8.FromNative(li.availability_id),
                        ProductType = Utf8.FromNative(li.product_type),
                        Quantity = li.quantity,
                        BillingState = Utf8.FromNative(li.billing_state),
                        FulfillmentState = Utf8.FromNative(li.fulfillment_state),
                        Title = Utf8.FromNative(li.title),
                    });
                }
                return new StoreOrder
                {
                    OrderId = Utf8.FromNative(info.order_id),
                    OrderState = Utf8.FromNative(info.order_state),
                    CreatedTime = Parse.Date(Utf8.FromNative(info.created_time)),
                    CurrencyCode = Utf8.FromNative(info.currency_code),
                    Market = Utf8.FromNative(info.market),
                    TotalAmount = info.total_amount,
                    LineItems = lines.AsReadOnly(),
                    RawJson = Utf8.FromNative(NativeMethods.msstore_order_json(h)),
                };
            }
        }

        internal static SubscriptionPage Subscriptions(IntPtr op)
        {
            SubscriptionsHandle h;
            Check(NativeMethods.msstore_op_take_subscriptions(op, out h));
            using (h)
            {
                var info = new SubscriptionsInfo();
                info.struct_size = SizeOf<SubscriptionsInfo>();
                Check(NativeMethods.msstore_subscriptions_get_info(h, ref info));
                int n = (int)info.count.ToUInt64();
                var items = new List<SubscriptionItem>(n);
                for (int i = 0; i < n; i++)
                {
                    var s = new Subscription();
                    s.struct_size = SizeOf<Subscription>();
                    Check(NativeMethods.msstore_subscriptions_item_at(h, (UIntPtr)i, ref s));
                    var state = Utf8.FromNative(s.recurrence_state);
                    items.Add(new SubscriptionItem
                    {
                        Id = Utf8.FromNative(s.id),
                        ProductId = Utf8.FromNative(s.product_id),
                        SkuId = Utf8.FromNative(s.sku_id),
                        StateName = state,
                        State = Parse.Enum<RecurrenceState>(state),
                        AutoRenew = s.auto_renew != 0,
                        IsTrial = s.is_trial != 0,
                        Beneficiary = Utf8.FromNative(s.beneficiary),
                        StartTime = Parse.Date(Utf8.FromNative(s.start_time)),
                        ExpirationTime = Parse.UnixMs(s.expiration_time_unix_ms) ?? Parse.Date(Utf8.FromNative(s.expiration_time)),
                        ExpirationTimeWithGrace = Parse.UnixMs(s.expiration_time_with_grace_unix_ms)
                            ?? Parse.Date(Utf8.FromNative(s.expiration_time_with_grace)),
                        CancellationDate = Parse.Date(Utf8.FromNative(s.cancellation_date)),
                        Market = Utf8.FromNative(s.market),
                    });
                }
                return new SubscriptionPage
                {
                    Items = items.AsReadOnly(),
                    ContinuationToken = Utf8.FromNative(info.continuation_token),
                    RawJson = Utf8.FromNative(NativeMethods.msstore_subscriptions_json(h)),
                };
            }
        }
    }
}

// Typed results. Each is a managed copy made while the native result handle was alive, so
// none of them holds native memory. Names the Store may extend keep their raw string next to
// the enum (Unknown when the value is new).
using System;
using System.Collections.Generic;
using System.Globalization;

namespace Msstore
{
    public enum ProductKind { Unknown, Game, Application, Durable, Consumable, UnmanagedConsumable, Pass }

    public enum EntitlementStatus { Unknown, Active, Expired, Revoked, Banned, Suspended }

    public enum AcquisitionType { Unknown, Single, Recurring, Conditional }

    public enum RecurrenceState { Unknown, None, Active, Inactive, Canceled, InDunning, Failed, Revoked }

    internal static class Parse
    {
        internal static T Enum<T>(string s) where T : struct
        {
            T v;
            if (s != null && System.Enum.TryParse(s, true, out v) && System.Enum.IsDefined(typeof(T), v)) return v;
            return default(T);
        }

        internal static DateTimeOffset? Date(string iso)
        {
            DateTimeOffset d;
            if (iso != null && DateTimeOffset.TryParse(iso, CultureInfo.InvariantCulture,
                    DateTimeStyles.AssumeUniversal, out d)) return d;
            return null;
        }

        internal static DateTimeOffset? UnixMs(long ms)
        {
            return ms == 0 ? (DateTimeOffset?)null : DateTimeOffset.FromUnixTimeMilliseconds(ms);
        }
    }

    /// <summary>One thing a user owns.</summary>
    public sealed class EntitlementItem
    {
        public string Id { get; internal set; }
        public string ProductId { get; internal set; }
        public string SkuId { get; internal set; }
        public ProductKind ProductKind { get; internal set; }
        public string ProductKindName { get; internal set; }
        public EntitlementStatus Status { get; internal set; }
        public string StatusName { get; internal set; }
        /// <summary>Active and not past its end date.</summary>
        public bool IsActive { get; internal set; }
        public long Quantity { get; internal set; }
        public AcquisitionType AcquisitionType { get; internal set; }
        public string AcquisitionTypeName { get; internal set; }
        public DateTimeOffset? AcquiredDate { get; internal set; }
        public DateTimeOffset? StartDate { get; internal set; }
        public DateTimeOffset? EndDate { get; internal set; }
        public DateTimeOffset? ModifiedDate { get; internal set; }
        public string TransactionId { get; internal set; }
        /// <summary>Subscription recurrence id (for ChangeSubscriptionAsync), or null.</summary>
        public string RecurrenceId { get; internal set; }
        public string OrderId { get; internal set; }
        public bool HasTrialData { get; internal set; }
        public bool IsTrial { get; internal set; }
        public bool IsInTrialPeriod { get; internal set; }
        /// <summary>Remaining trial time, or null.</summary>
        public TimeSpan? TrialTimeRemaining { get; internal set; }

        public override string ToString()
        {
            return ProductId + "/" + SkuId + " " + ProductKindName + " " + StatusName + " x" + Quantity;
        }
    }

    /// <summary>The result of an entitlement query: all pages, or one page.</summary>
    public sealed class EntitlementPage
    {
        public IList<EntitlementItem> Items { get; internal set; }
        /// <summary>Pass it back for the next page; null on the last page and for all-pages queries.</summary>
        public string ContinuationToken { get; internal set; }
        public int Pages { get; internal set; }
        public int DuplicatesRemoved { get; internal set; }
        public string RawJson { get; internal set; }
    }

    public sealed class OrderTransactionInfo
    {
        public string OrderId { get; internal set; }
        public string OrderLineItemId { get; internal set; }
        public long QuantityConsumed { get; internal set; }
    }

    /// <summary>A consume that succeeded.</summary>
    public sealed class ConsumeResult
    {
        public string ItemId { get; internal set; }
        public string ProductId { get; internal set; }
        public string TrackingId { get; internal set; }
        /// <summary>Remaining balance (0 for developer-managed consumables).</summary>
        public long NewQuantity { get; internal set; }
        public IList<OrderTransactionInfo> Transactions { get; internal set; }
        public string Json { get; internal set; }
    }

    public sealed class OrderLine
    {
        public string LineItemId { get; internal set; }
        public string ProductId { get; internal set; }
        public string SkuId { get; internal set; }
        public string AvailabilityId { get; internal set; }
        public string ProductType { get; internal set; }
        public long Quantity { get; internal set; }
        public string BillingState { get; internal set; }
        public string FulfillmentState { get; internal set; }
        public string Title { get; internal set; }
    }

    /// <summary>The order a free-product grant created.</summary>
    public sealed class StoreOrder
    {
        public string OrderId { get; internal set; }
        public string OrderState { get; internal set; }
        public DateTimeOffset? CreatedTime { get; internal set; }
        public string CurrencyCode { get; internal set; }
        public string Market { get; internal set; }
        public double TotalAmount { get; internal set; }
        public IList<OrderLine> LineItems { get; internal set; }
        public string RawJson { get; internal set; }
    }

    /// <summary>One subscription (recurrence).</summary>
    public sealed class SubscriptionItem
    {
        /// <summary>The recurrence id.</summary>
        public string Id { get; internal set; }
        public string ProductId { get; internal set; }
        public string SkuId { get; internal set; }
        public RecurrenceState State { get; internal set; }
        public string StateName { get; internal set; }
        public bool AutoRenew { get; internal set; }
        public bool IsTrial { get; internal set; }
        public string Beneficiary { get; internal set; }
        public DateTimeOffset? StartTime { get; internal set; }
        public DateTimeOffset? ExpirationTime { get; internal set; }
        public DateTimeOffset? ExpirationTimeWithGrace { get; internal set; }
        public DateTimeOffset? CancellationDate { get; internal set; }
        public string Market { get; internal set; }

        public override string ToString()
        {
            return Id + " " + ProductId + "/" + SkuId + " " + StateName + " until " + ExpirationTime;
        }
    }

    public sealed class SubscriptionPage
    {
        public IList<SubscriptionItem> Items { get; internal set; }
        public string ContinuationToken { get; internal set; }
        public string RawJson { get; internal set; }
    }

    /// <summary>A service or key-create token. <see cref="Value"/> is a secret: never log it.</summary>
    public sealed class StoreToken
    {
        public string Value { get; internal set; }
        public StoreAudience Audience { get; internal set; }
        public DateTimeOffset ExpiresAt { get; internal set; }

        public override string ToString()
        {
            return "StoreToken(" + Audience + ", expires " + ExpiresAt.ToString("o") + ")";
        }
    }

    /// <summary>An entitlement query. V9 (default) needs product ids.</summary>
    public sealed class EntitlementQuery
    {
        public EntitlementQuery(string collectionsKey, params string[] productIds)
        {
            CollectionsKey = collectionsKey;
            ProductIds = new List<string>(productIds ?? new string[0]);
            ApiVersion = 9;
        }

        /// <summary>The UserCollectionsId. Required. A secret.</summary>
        public string CollectionsKey { get; set; }
        public IList<string> ProductIds { get; set; }
        /// <summary>Optional, parallel to ProductIds (entries may be null).</summary>
        public IList<string> SkuIds { get; set; }
        /// <summary>9 (publisherQuery), 8 (b2bLicensePreview) or 6.</summary>
        public int ApiVersion { get; set; }
        /// <summary>0 = default (100).</summary>
        public int MaxPageSize { get; set; }
        public bool IncludeDuplicates { get; set; }
        /// <summary>"All", "Valid", "Invalid"; null = service default.</summary>
        public string ValidityType { get; set; }
        public string Sandbox { get; set; }
    }

    /// <summary>A consume. Quantity 0 consumes a developer-managed consumable.</summary>
    public sealed class ConsumeRequest
    {
        public ConsumeRequest(string collectionsKey, string productId, int quantity)
        {
            CollectionsKey = collectionsKey;
            ProductId = productId;
            Quantity = quantity;
        }

        public string CollectionsKey { get; set; }
        public string ProductId { get; set; }
        public int Quantity { get; set; }
        /// <summary>A GUID; null = generated. Reuse the one of a ConsumeOutcomeUnknownException.</summary>
        public string TrackingId { get; set; }
        public string Sandbox { get; set; }
    }

    /// <summary>A legacy v6 consume, in one of two forms: A = ItemId (from a v6 query) +
    /// TrackingId; B = ProductId + TransactionId (from the purchase or a v6 query).</summary>
    public sealed class ConsumeV6Request
    {
        /// <summary>Form A. trackingId null = generated; reuse the one of a
        /// ConsumeOutcomeUnknownException.</summary>
        public static ConsumeV6Request ByItem(string collectionsKey, string itemId, string trackingId = null)
        {
            return new ConsumeV6Request { CollectionsKey = collectionsKey, ItemId = itemId, TrackingId = trackingId };
        }

        /// <summary>Form B.</summary>
        public static ConsumeV6Request ByTransaction(string collectionsKey, string productId, string transactionId)
        {
            return new ConsumeV6Request { CollectionsKey = collectionsKey, ProductId = productId, TransactionId = transactionId };
        }

        public string CollectionsKey { get; set; }
        /// <summary>Form A.</summary>
        public string ItemId { get; set; }
        /// <summary>Form A: a GUID; null = generated.</summary>
        public string TrackingId { get; set; }
        /// <summary>Form B.</summary>
        public string ProductId { get; set; }
        /// <summary>Form B.</summary>
        public string TransactionId { get; set; }
    }

    /// <summary>A free-product grant.</summary>
    public sealed class GrantRequest
    {
        public GrantRequest(string purchaseKey, string productId, string skuId, string availabilityId)
        {
            PurchaseKey = purchaseKey;
            ProductId = productId;
            SkuId = skuId;
            AvailabilityId = availabilityId;
        }

        public string PurchaseKey { get; set; }
        public string ProductId { get; set; }
        public string SkuId { get; set; }
        public string AvailabilityId { get; set; }
        /// <summary>null = "en-us".</summary>
        public string Language { get; set; }
        /// <summary>null = "us".</summary>
        public string Market { get; set; }
        /// <summary>A GUID; null = generated.</summary>
        public string OrderId { get; set; }
        public string DevOfferId { get; set; }
    }
}

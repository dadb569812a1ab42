// Refunds (clawback): the v1 orders query and the v2 queue messages with their decoded events.
// Like Models.cs, every result is a managed copy; names the Store may extend keep their raw
// string next to the enum.
using System;
using System.Collections.Generic;

namespace Msstore
{
    /// <summary>State of a v2 clawback event (msstore_clawback_event_state). Only
    /// <see cref="Revoked"/> asks the game to take something back.</summary>
    public enum ClawbackEventState
    {
        /// <summary>A state this library does not know (see StateName), or no decoded event.</summary>
        Other = 0,
        /// <summary>Refunded and the Store removed the item (or its unconsumed units): nothing in-game.</summary>
        Returned = 1,
        /// <summary>Refunded, but already consumed: take the in-game value back.</summary>
        Revoked = 2,
        /// <summary>Refunded and the customer KEEPS the item. Not a revocation: log it only.</summary>
        Refunded = 3,
        /// <summary>A chargeback was reversed: undo the earlier revocation.</summary>
        ChargebackReversal = 4,
    }

    /// <summary>State of a v1 order line.</summary>
    public enum ClawbackLineState { Unknown, Purchased, Revoked, Refunded }

    /// <summary>A clawback v1 query: the user's consumable orders of the last 90 days in the
    /// given line states (none = Revoked and Refunded).</summary>
    public sealed class ClawbackOrdersQuery
    {
        public ClawbackOrdersQuery(string purchaseKey, params ClawbackLineState[] lineStates)
        {
            PurchaseKey = purchaseKey;
            LineStates = new List<ClawbackLineState>(lineStates ?? new ClawbackLineState[0]);
        }

        /// <summary>The UserPurchaseId. Required. A secret.</summary>
        public string PurchaseKey { get; set; }
        /// <summary>At most 16; empty = Revoked + Refunded. Unknown is not a filter.</summary>
        public IList<ClawbackLineState> LineStates { get; set; }
        public string Sandbox { get; set; }
    }

    /// <summary>One order line of a v1 query, with its order's fields.</summary>
    public sealed class ClawbackOrderLine
    {
        public string OrderId { get; internal set; }
        public string ShortOrderId { get; internal set; }
        public DateTimeOffset? OrderPurchasedDate { get; internal set; }
        public DateTimeOffset? OrderRefundedDate { get; internal set; }
        public string LineItemId { get; internal set; }
        public ClawbackLineState LineState { get; internal set; }
        public string LineStateName { get; internal set; }
        public string ProductId { get; internal set; }
        public string SkuId { get; internal set; }
        public long Quantity { get; internal set; }
        public bool WasConsumableQuantityRevoked { get; internal set; }

        public override string ToString()
        {
            return OrderId + "/" + LineItemId + " " + ProductId + " " + LineStateName + " x" + Quantity;
        }
    }

    /// <summary>The result of a v1 query: all pages, or one page.</summary>
    public sealed class ClawbackOrderPage
    {
        public IList<ClawbackOrderLine> Items { get; internal set; }
        /// <summary>Pass it back for the next page; null on the last page and for all-pages queries.</summary>
        public string ContinuationToken { get; internal set; }
        public string RawJson { get; internal set; }
    }

    /// <summary>Subscription details of a clawback event.</summary>
    public sealed class ClawbackRecurrence
    {
        public string RecurrenceId { get; internal set; }
        /// <summary>"Full" or "Partial".</summary>
        public string RefundType { get; internal set; }
        public long DurationInDays { get; internal set; }
        public long ConsumedDurationInDays { get; internal set; }
    }

    /// <summary>A decoded v2 refund event. Match it to your records by OrderId + LineItemId +
    /// ProductId (bundle children share the order and line ids).</summary>
    public sealed class ClawbackEvent
    {
        /// <summary>The event id: the idempotency key of your reconciliation.</summary>
        public string Id { get; internal set; }
        /// <summary>"/Purchase/Refund" or "/Purchase/Chargeback".</summary>
        public string Source { get; internal set; }
        public ClawbackEventState State { get; internal set; }
        public string StateName { get; internal set; }
        /// <summary>True only for Revoked: take the in-game value back.</summary>
        public bool RequiresRevocation { get; internal set; }
        public string OrderId { get; internal set; }
        public string LineItemId { get; internal set; }
        public string ProductId { get; internal set; }
        public string ProductType { get; internal set; }
        public string SkuId { get; internal set; }
        /// <summary>"RETAIL" in production; leave others' events on the queue.</summary>
        public string SandboxId { get; internal set; }
        public DateTimeOffset? PurchasedDate { get; internal set; }
        public DateTimeOffset? EventDate { get; internal set; }
        /// <summary>For subscriptions; else null.</summary>
        public ClawbackRecurrence Recurrence { get; internal set; }
        /// <summary>The decoded event JSON.</summary>
        public string Json { get; internal set; }

        public override string ToString()
        {
            return "ClawbackEvent(" + Id + ", " + StateName + ", " + OrderId + "/" + LineItemId + " " + ProductId + ")";
        }
    }

    /// <summary>One message of the clawback queue (received or peeked).</summary>
    public sealed class ClawbackMessage
    {
        public string MessageId { get; internal set; }
        /// <summary>Pass to DeleteClawbackMessageAsync; null for peeked messages.</summary>
        public string PopReceipt { get; internal set; }
        public int DequeueCount { get; internal set; }
        public DateTimeOffset? InsertionTime { get; internal set; }
        public DateTimeOffset? ExpirationTime { get; internal set; }
        public DateTimeOffset? TimeNextVisible { get; internal set; }
        /// <summary>MessageText as received (base64 of the event JSON).</summary>
        public string Text { get; internal set; }
        /// <summary>The decoded event, or null when the text is not one (see EventError).</summary>
        public ClawbackEvent Event { get; internal set; }
        /// <summary>Why the text did not decode (log it, then delete the message); null when it did.</summary>
        public string EventError { get; internal set; }

        public override string ToString()
        {
            return "ClawbackMessage(" + MessageId + ", dequeued " + DequeueCount + ", " +
                   (Event != null ? Event.ToString() : "undecodable: " + EventError) + ")";
        }
    }
}

// Refunds (clawback) on StoreClient: the v1 orders query and the v2 queue (receive, peek,
// delete). The native library fetches, caches and renews the queue's SAS token.
using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using Msstore.Native;

namespace Msstore
{
    public sealed partial class StoreClient
    {
        private const int MaxQueueMessages = 32;
        private const int MaxVisibilitySeconds = 604800;

        /// <summary>Clawback v1: the user's consumable orders of the last 90 days in the query's
        /// line states, every page. (v1 is deprecated for detection: prefer the queue.)</summary>
        public Task<ClawbackOrderPage> QueryClawbackOrdersAsync(ClawbackOrdersQuery query,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            return ClawbackOrders(query, false, null, cancellationToken);
        }

        /// <summary>One page of a v1 query; pass the previous page's ContinuationToken (null first).</summary>
        public Task<ClawbackOrderPage> QueryClawbackOrdersPageAsync(ClawbackOrdersQuery query, string continuationToken,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            return ClawbackOrders(query, true, continuationToken, cancellationToken);
        }

        private Task<ClawbackOrderPage> ClawbackOrders(ClawbackOrdersQuery query, bool singlePage, string continuation,
            CancellationToken ct)
        {
            if (query == null) throw new ArgumentNullException("query");
            var states = new List<string>();
            if (query.LineStates != null)
            {
                foreach (ClawbackLineState s in query.LineStates)
                {
                    if (s == ClawbackLineState.Unknown || !Enum.IsDefined(typeof(ClawbackLineState), s))
                        throw new ArgumentException("LineStates: " + s + " is not a line state to filter by", "query");
                    states.Add(s.ToString());
                }
            }
            return Start((NativeArena a, ref CallOptions c, IntPtr ud, out OpHandle op) =>
            {
                var o = new ClawbackOrdersOptions();
                o.struct_size = (uint)Marshal.SizeOf(typeof(ClawbackOrdersOptions));
                o.purchase_key = a.Str(query.PurchaseKey);
                o.line_item_states = a.StrArray(states);
                o.line_item_state_count = (UIntPtr)(uint)states.Count;
                o.single_page = singlePage ? 1u : 0u;
                o.continuation_token = a.Str(continuation);
                o.sbx = a.Str(query.Sandbox);
                return NativeMethods.msstore_client_query_clawback_orders(handle, ref o, ref c, PendingOperation.Callback, ud, out op);
            }, ResultReaders.ClawbackOrders, ct);
        }

        /// <summary>Clawback v2: receives up to <paramref name="maxMessages"/> (1..32) refund
        /// events and hides them for <paramref name="visibilityTimeout"/> (null = 30 s, at most 7
        /// days). Reconcile each durably (e.g. StoreLedger.ApplyClawback), then delete it before the
        /// timeout lapses, or it is delivered again.</summary>
        public Task<IList<ClawbackMessage>> ReceiveClawbackMessagesAsync(int maxMessages = MaxQueueMessages,
            TimeSpan? visibilityTimeout = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            if (maxMessages < 1 || maxMessages > MaxQueueMessages)
                throw new ArgumentOutOfRangeException("maxMessages", "1..32");
            uint visibility = 0;
            if (visibilityTimeout != null)
            {
                double secs = visibilityTimeout.Value.TotalSeconds;
                if (secs < 1 || secs > MaxVisibilitySeconds)
                    throw new ArgumentOutOfRangeException("visibilityTimeout", "1 s .. 7 days");
                visibility = (uint)secs;
            }
            return Start((NativeArena a, ref CallOptions c, IntPtr ud, out OpHandle op) =>
            {
                var o = new ClawbackReceiveOptions();
                o.struct_size = (uint)Marshal.SizeOf(typeof(ClawbackReceiveOptions));
                o.max_messages = (uint)maxMessages;
                o.visibility_timeout_secs = visibility;
                return NativeMethods.msstore_client_receive_clawback_messages(handle, ref o, ref c, PendingOperation.Callback, ud, out op);
            }, ResultReaders.ClawbackMessages, cancellationToken);
        }

        /// <summary>Clawback v2: looks at up to <paramref name="maxMessages"/> (1..32) visible
        /// messages without receiving them (no pop receipts; nothing changes).</summary>
        public Task<IList<ClawbackMessage>> PeekClawbackMessagesAsync(int maxMessages = MaxQueueMessages,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            if (maxMessages < 1 || maxMessages > MaxQueueMessages)
                throw new ArgumentOutOfRangeException("maxMessages", "1..32");
            return Start((NativeArena a, ref CallOptions c, IntPtr ud, out OpHandle op) =>
            {
                var o = new ClawbackReceiveOptions();
                o.struct_size = (uint)Marshal.SizeOf(typeof(ClawbackReceiveOptions));
                o.max_messages = (uint)maxMessages;
                return NativeMethods.msstore_client_peek_clawback_messages(handle, ref o, ref c, PendingOperation.Callback, ud, out op);
            }, ResultReaders.ClawbackMessages, cancellationToken);
        }

        /// <summary>Clawback v2: deletes a received message (after reconciling it durably).
        /// Fails with PopReceiptMismatchException when a later receive superseded the receipt (the
        /// message comes back), MessageNotFoundException when it is already gone.</summary>
        public Task DeleteClawbackMessageAsync(string messageId, string popReceipt,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            if (messageId == null) throw new ArgumentNullException("messageId");
            if (popReceipt == null) throw new ArgumentNullException("popReceipt");
            return Start((NativeArena a, ref CallOptions c, IntPtr ud, out OpHandle op) =>
                NativeMethods.msstore_client_delete_clawback_message(handle, a.Str(messageId), a.Str(popReceipt), ref c,
                    PendingOperation.Callback, ud, out op),
                ResultReaders.Nothing, cancellationToken);
        }

        /// <summary>Deletes a received message (see the other overload).</summary>
        public Task DeleteClawbackMessageAsync(ClawbackMessage message,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            if (message == null) throw new ArgumentNullException("message");
            if (message.PopReceipt == null)
                throw new ArgumentException("a peeked message has no pop receipt: receive it to delete it", "message");
            return DeleteClawbackMessageAsync(message.MessageId, message.PopReceipt, cancellationToken);
        }

        // ---- the ledger's operations (public surface: StoreLedger) ------------------------------

        internal Task<LedgerEntry> StartLedgerConsume(LedgerHandle ledger, LedgerConsumeRequest r, CancellationToken ct)
        {
            return Start((NativeArena a, ref CallOptions c, IntPtr ud, out OpHandle op) =>
            {
                var o = new LedgerConsumeOptions();
                o.struct_size = (uint)Marshal.SizeOf(typeof(LedgerConsumeOptions));
                o.player_ref = a.Str(r.PlayerRef);
                o.collections_key = a.Str(r.CollectionsKey);
                o.product_id = a.Str(r.ProductId);
                o.quantity = (uint)r.Quantity;
                o.tracking_id = a.Str(r.TrackingId);
                o.sbx = a.Str(r.Sandbox);
                return NativeMethods.msstore_ledger_consume(handle, ledger, ref o, ref c, PendingOperation.Callback, ud, out op);
            }, ResultReaders.LedgerEntryOf, ct);
        }

        internal Task<LedgerItems> StartLedgerReconcile(LedgerHandle ledger, CancellationToken ct)
        {
            return Start((NativeArena a, ref CallOptions c, IntPtr ud, out OpHandle op) =>
                NativeMethods.msstore_ledger_reconcile(handle, ledger, ref c, PendingOperation.Callback, ud, out op),
                ResultReaders.LedgerItemsOf, ct);
        }

        internal Task<ClawbackIngestResult> StartLedgerIngestClawback(LedgerHandle ledger, ClawbackIngestOptions o,
            uint visibilitySecs, CancellationToken ct)
        {
            return Start((NativeArena a, ref CallOptions c, IntPtr ud, out OpHandle op) =>
            {
                var n = new Native.ClawbackIngestOptions();
                n.struct_size = (uint)Marshal.SizeOf(typeof(Native.ClawbackIngestOptions));
                n.expected_sandbox = a.Str(o.ExpectedSandbox);
                n.max_messages = (uint)o.MaxMessages;
                n.visibility_timeout_secs = visibilitySecs;
                n.max_batches = (uint)o.MaxBatches;
                return NativeMethods.msstore_ledger_ingest_clawback(handle, ledger, ref n, ref c, PendingOperation.Callback,
                    ud, out op);
            }, ResultReaders.IngestResultOf, ct);
        }

        internal Task<ClawbackIngestResult> StartLedgerIngestClawbackOrders(LedgerHandle ledger, string purchaseKey,
            string sandbox, CancellationToken ct)
        {
            return Start((NativeArena a, ref CallOptions c, IntPtr ud, out OpHandle op) =>
                NativeMethods.msstore_ledger_ingest_clawback_orders(handle, ledger, a.Str(purchaseKey), a.Str(sandbox), ref c,
                    PendingOperation.Callback, ud, out op),
                ResultReaders.IngestResultOf, ct);
        }
    }
}

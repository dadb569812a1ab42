// Copies ledger items (entries, revocations, ingestion counts) into the managed model (see
// ResultReaders.cs).
using System;
using System.Collections.Generic;
using Msstore.Native;

namespace Msstore
{
    internal static partial class ResultReaders
    {
        /// <summary>The items of a ledger_reconcile operation.</summary>
        internal static LedgerItems LedgerItemsOf(IntPtr op)
        {
            LedgerItemsHandle h;
            Check(NativeMethods.msstore_op_take_ledger_items(op, out h));
            using (h) return Items(h);
        }

        /// <summary>The one entry of a ledger_consume operation.</summary>
        internal static LedgerEntry LedgerEntryOf(IntPtr op)
        {
            LedgerItems items = LedgerItemsOf(op);
            if (items.Entries.Count != 1)
                throw new StoreInternalException(StoreResult.Internal,
                    "a ledger consume returned " + items.Entries.Count + " entries instead of one");
            return items.Entries[0];
        }

        /// <summary>The counts and revocations of a ledger_ingest_clawback[_orders] operation.</summary>
        internal static ClawbackIngestResult IngestResultOf(IntPtr op)
        {
            LedgerItemsHandle h;
            Check(NativeMethods.msstore_op_take_ledger_items(op, out h));
            using (h)
            {
                LedgerItemsInfo s = Info(h);
                if (s.is_ingest_summary == 0) throw StoreException.FromCode((int)StoreResult.InvalidArgument);
                return new ClawbackIngestResult
                {
                    Received = (int)s.received,
                    Applied = (int)s.applied,
                    Duplicates = (int)s.duplicates,
                    Unmatched = (int)s.unmatched,
                    Ignored = (int)s.ignored,
                    DeadLettered = (int)s.dead_lettered,
                    Deleted = (int)s.deleted,
                    DeleteConflicts = (int)s.delete_conflicts,
                    DeleteErrors = (int)s.delete_errors,
                    Revocations = Revocations(h),
                    Json = Utf8.FromNative(NativeMethods.msstore_ledger_items_json(h)),
                };
            }
        }

        private static LedgerItemsInfo Info(LedgerItemsHandle h)
        {
            var s = new LedgerItemsInfo();
            s.struct_size = SizeOf<LedgerItemsInfo>();
            Check(NativeMethods.msstore_ledger_items_get_info(h, ref s));
            return s;
        }

        /// <summary>Copies every entry and revocation; does not free <paramref name="h"/>.</summary>
        internal static LedgerItems Items(LedgerItemsHandle h)
        {
            int n = (int)Info(h).entry_count.ToUInt64();
            var entries = new List<LedgerEntry>(n);
            for (int i = 0; i < n; i++) entries.Add(Entry(h, i));
            return new LedgerItems
            {
                Entries = entries.AsReadOnly(),
                Revocations = Revocations(h),
                Json = Utf8.FromNative(NativeMethods.msstore_ledger_items_json(h)),
            };
        }

        internal static IList<LedgerRevocation> Revocations(LedgerItemsHandle h)
        {
            int n = (int)Info(h).revocation_count.ToUInt64();
            var revs = new List<LedgerRevocation>(n);
            for (int i = 0; i < n; i++)
            {
                var r = new Native.LedgerRevocation();
                r.struct_size = SizeOf<Native.LedgerRevocation>();
                Check(NativeMethods.msstore_ledger_items_revocation_at(h, (UIntPtr)i, ref r));
                revs.Add(new LedgerRevocation
                {
                    Id = Utf8.FromNative(r.id),
                    Kind = r.kind == 1 || r.kind == 2 ? (RevocationKind)r.kind : RevocationKind.Unknown,
                    PlayerRef = Utf8.FromNative(r.player_ref),
                    ProductId = Utf8.FromNative(r.product_id),
                    Quantity = r.quantity,
                    EntryId = Utf8.FromNative(r.entry_id),
                    OrderId = Utf8.FromNative(r.order_id),
                    LineItemId = Utf8.FromNative(r.line_item_id),
                    EventId = Utf8.FromNative(r.event_id),
                    Reverses = Utf8.FromNative(r.reverses),
                    Acknowledged = r.acknowledged != 0,
                    Created = DateTimeOffset.FromUnixTimeMilliseconds(r.created_unix_ms),
                });
            }
            return revs.AsReadOnly();
        }

        private static LedgerEntry Entry(LedgerItemsHandle h, int index)
        {
            var e = new Native.LedgerEntry();
            e.struct_size = SizeOf<Native.LedgerEntry>();
            Check(NativeMethods.msstore_ledger_items_entry_at(h, (UIntPtr)index, ref e));
            int n = (int)e.transaction_count;
            var txs = new List<OrderTransactionInfo>(n);
            for (int t = 0; t < n; t++)
            {
                var tx = new OrderTransaction();
                tx.struct_size = SizeOf<OrderTransaction>();
                Check(NativeMethods.msstore_ledger_items_entry_transaction_at(h, (UIntPtr)index, (UIntPtr)t, ref tx));
                txs.Add(new OrderTransactionInfo
                {
                    OrderId = Utf8.FromNative(tx.order_id),
                    OrderLineItemId = Utf8.FromNative(tx.order_line_item_id),
                    QuantityConsumed = tx.quantity_consumed,
                });
            }
            if (e.state < 1 || e.state > 4)
                throw new StoreInternalException(StoreResult.Internal, "unknown ledger entry state " + e.state);
            return new LedgerEntry
            {
                Id = Utf8.FromNative(e.id),
                PlayerRef = Utf8.FromNative(e.player_ref),
                ProductId = Utf8.FromNative(e.product_id),
                Quantity = e.quantity,
                State = e.state >= 1 && e.state <= 4 ? (LedgerEntryState)e.state : LedgerEntryState.Unknown,
                Attempts = (int)e.attempts,
                NewQuantity = e.new_quantity >= 0 ? e.new_quantity : (long?)null,
                Transactions = txs.AsReadOnly(),
                LastError = Utf8.FromNative(e.last_error),
                Created = DateTimeOffset.FromUnixTimeMilliseconds(e.created_unix_ms),
                AlreadyHandedOut = e.already_handed_out != 0,
            };
        }
    }
}

// The durable consume ledger (exactly-once fulfilment): record a consume before sending it,
// resend with the same tracking id, grant then acknowledge, reconcile after a restart, and
// match refund events to the consumes they take back (one at a time, or by ingesting the
// clawback queue / v1 orders). See the repository README, "Exactly-once
// fulfilment (the ledger)".
using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using Msstore.Native;

namespace Msstore
{
    /// <summary>A consume ledger on SQLite (one file) or PostgreSQL. Thread-safe; share one per
    /// process. The async methods run through a StoreClient and complete like its other Tasks
    /// (in Pump, on the context, or immediately). The synchronous methods run one short database
    /// transaction (fsynced) on the calling thread.</summary>
    public sealed class StoreLedger : IDisposable
    {
        private const int MaxQueueMessages = 32;
        private const int MaxIngestBatches = 1000;
        private const int MaxVisibilitySeconds = 604800;

        private readonly LedgerHandle handle;

        /// <summary>Opens the ledger, creating its tables if needed.</summary>
        /// <exception cref="LedgerStorageException">the file cannot be opened or the server reached</exception>
        /// <exception cref="StoreConfigurationException">PostgreSQL without InstanceId, bad URL</exception>
        public StoreLedger(LedgerOptions options)
        {
            if (options == null) throw new ArgumentNullException("options");
            var o = new Native.LedgerOptions();
            o.struct_size = (uint)Marshal.SizeOf(typeof(Native.LedgerOptions));
            Check(NativeMethods.msstore_ledger_options_init(ref o));
            if (options.SendRounds < 0) throw new ArgumentOutOfRangeException("SendRounds");
            o.claim_lease_ms = Millis(options.ClaimLease, "ClaimLease");
            o.resend_delay_ms = Millis(options.ResendDelay, "ResendDelay");
            o.send_rounds = (uint)options.SendRounds;
            if (options.RetentionDays < 0) throw new ArgumentOutOfRangeException("RetentionDays");
            o.retention_days = (uint)options.RetentionDays;
            o.pg_connect_timeout_ms = Millis(options.PgConnectTimeout, "PgConnectTimeout");
            o.pg_statement_timeout_ms = Millis(options.PgStatementTimeout, "PgStatementTimeout");
            o.pg_keepalive_idle_ms = Millis(options.PgKeepaliveIdle, "PgKeepaliveIdle");
            ErrorHandle err;
            int rc;
            using (var a = new NativeArena())
            {
                o.sqlite_path = Utf8Arg(a, options.SqlitePath, "SqlitePath");
                o.postgres_url = Utf8Arg(a, options.PostgresUrl, "PostgresUrl");
                o.instance_id = Utf8Arg(a, options.InstanceId, "InstanceId");
                rc = NativeMethods.msstore_ledger_open(ref o, out handle, out err);
            }
            using (err)
            {
                if (rc != 0)
                {
                    if (handle != null) handle.Dispose();
                    throw StoreException.FromError(rc, err);
                }
            }
        }

        public bool IsDisposed { get { return handle.IsClosed; } }

        /// <summary>Records the consume durably, sends it (resending with the same tracking id),
        /// records the outcome. The entry's State says what to do: Applied (grant, then
        /// Acknowledge; but when AlreadyHandedOut is set this process was handed it before, e.g.
        /// the game repeated its own call with the same tracking id, and has not acknowledged it:
        /// do not grant it again), Failed (the Store's verdict refused it, or no send could have
        /// reached the Store; nothing applied), Pending (it may have been applied: do not grant;
        /// ReconcileAsync resends it), Completed (granted and acknowledged before). Cancelling (or the call's timeout) after the send started is not the
        /// Store's verdict: the task fails with ConsumeOutcomeUnknownException naming the entry
        /// (its TrackingId), and the entry stays Pending. The next ReconcileAsync of this
        /// StoreLedger resends it with the same trackingId (so does this call again with that
        /// TrackingId, a restart, or another server sharing a PostgreSQL ledger once ClaimLease
        /// lapsed), and it is applied exactly once. Do not grant until then.</summary>
        public Task<LedgerEntry> ConsumeAsync(StoreClient client, LedgerConsumeRequest request,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            if (client == null) throw new ArgumentNullException("client");
            if (request == null) throw new ArgumentNullException("request");
            if (request.Quantity < 0) throw new ArgumentOutOfRangeException("request", "Quantity must be >= 0");
            return WithLedger(h => client.StartLedgerConsume(h, request, cancellationToken));
        }

        /// <summary>The start-up (and periodic) pass: resends pending consumes, and hands back
        /// the entries to grant (Applied; then Acknowledge), those refused or still unknown, and
        /// the revocations to apply (then AcknowledgeRevocation). Each item once per process.</summary>
        public Task<LedgerItems> ReconcileAsync(StoreClient client, CancellationToken cancellationToken = default(CancellationToken))
        {
            if (client == null) throw new ArgumentNullException("client");
            return WithLedger(h => client.StartLedgerReconcile(h, cancellationToken));
        }

        /// <summary>Clawback v2 into the ledger: receives the refund queue (up to MaxBatches
        /// times), records every event of the expected sandbox durably (matched against the
        /// recorded consumes; idempotent by event id), and only then deletes its message; unusable
        /// messages are kept as dead letters and deleted; other sandboxes' messages are left on the
        /// queue. The result's Revocations are claimed for this process: apply each, then
        /// AcknowledgeRevocation. A failure (queue, SAS, storage) faults the Task; events recorded
        /// before it stay recorded and their revocations come out of RevocationsToApply.
        /// Cancelling stops the wait: what was recorded stays recorded (the same as a failure),
        /// messages not yet deleted come back after the visibility timeout (then as duplicates if
        /// recorded).</summary>
        /// <param name="options">null = defaults (RETAIL, 32 messages, 30 s, 16 batches).</param>
        public Task<ClawbackIngestResult> IngestClawbackAsync(StoreClient client, ClawbackIngestOptions options = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            if (client == null) throw new ArgumentNullException("client");
            options = options ?? new ClawbackIngestOptions();
            if (options.MaxMessages < 0 || options.MaxMessages > MaxQueueMessages)
                throw new ArgumentOutOfRangeException("options", "MaxMessages: 0 (default) or 1..32");
            if (options.MaxBatches < 0 || options.MaxBatches > MaxIngestBatches)
                throw new ArgumentOutOfRangeException("options", "MaxBatches: 0 (default) or 1..1000");
            uint visibility = 0;
            if (options.VisibilityTimeout != null)
            {
                double secs = options.VisibilityTimeout.Value.TotalSeconds;
                if (secs < 1 || secs > MaxVisibilitySeconds)
                    throw new ArgumentOutOfRangeException("options", "VisibilityTimeout: 1 s .. 7 days");
                visibility = (uint)secs;
            }
            return WithLedger(h => client.StartLedgerIngestClawback(h, options, visibility, cancellationToken));
        }

        /// <summary>Clawback v1 into the ledger: polls the orders of the user of
        /// <paramref name="purchaseKey"/> (a UserPurchaseId, a secret) and records their Revoked and
        /// Refunded lines (ids "v1:{orderId}:{lineItemId}:{state}") and chargeback reversals (a
        /// line back to Purchased). A line v2 already reported is recorded under its own id but
        /// revokes nothing twice. Result and cancellation as IngestClawbackAsync.</summary>
        /// <param name="sandbox">The sandbox id of the orders query; null = none.</param>
        public Task<ClawbackIngestResult> IngestClawbackOrdersAsync(StoreClient client, string purchaseKey,
            string sandbox = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            if (client == null) throw new ArgumentNullException("client");
            if (purchaseKey == null) throw new ArgumentNullException("purchaseKey");
            return WithLedger(h => client.StartLedgerIngestClawbackOrders(h, purchaseKey, sandbox, cancellationToken));
        }

        /// <summary>Lists (without claiming) every pending or applied-but-unacknowledged entry and
        /// every unacknowledged revocation.</summary>
        public LedgerItems Pending()
        {
            LedgerItemsHandle items;
            ErrorHandle err;
            int rc = NativeMethods.msstore_ledger_list_pending(handle, out items, out err);
            return TakeItems(rc, items, err, ResultReaders.Items);
        }

        /// <summary>The game granted an Applied entry: completes it. Idempotent.</summary>
        /// <exception cref="StoreNotFoundException">unknown id</exception>
        /// <exception cref="StoreArgumentException">the entry is pending or failed: nothing to grant</exception>
        public void Acknowledge(string entryId)
        {
            if (entryId == null) throw new ArgumentNullException("entryId");
            ErrorHandle err;
            int rc;
            using (var a = new NativeArena())
                rc = NativeMethods.msstore_ledger_acknowledge_entry(handle, Utf8Arg(a, entryId, "entryId"), out err);
            ThrowIfFailed(rc, err);
        }

        /// <summary>Matches a refund event against the consumes the ledger recorded (order id +
        /// line item id + product id) and records what the game must take back: Revoked (and
        /// Returned when the units were consumed) revoke, Refunded is only recorded,
        /// ChargebackReversal restores. Idempotent by event id.</summary>
        public ClawbackApplication ApplyClawback(ClawbackMatch match)
        {
            if (match == null) throw new ArgumentNullException("match");
            LedgerItemsHandle items;
            ErrorHandle err;
            uint duplicate;
            int rc;
            using (var a = new NativeArena())
            {
                var m = new ClawbackMatchOptions();
                m.struct_size = (uint)Marshal.SizeOf(typeof(ClawbackMatchOptions));
                m.event_id = Utf8Arg(a, match.EventId, "EventId");
                m.order_id = Utf8Arg(a, match.OrderId, "OrderId");
                m.line_item_id = Utf8Arg(a, match.LineItemId, "LineItemId");
                m.product_id = Utf8Arg(a, match.ProductId, "ProductId");
                m.state = (int)match.State;
                rc = NativeMethods.msstore_ledger_apply_clawback(handle, ref m, out items, out duplicate, out err);
            }
            IList<LedgerRevocation> revs = TakeItems(rc, items, err, ResultReaders.Revocations);
            return new ClawbackApplication { Revocations = revs, IsDuplicate = duplicate != 0 };
        }

        /// <summary>Unacknowledged revocations not yet handed to this process, claimed for it:
        /// apply each, then AcknowledgeRevocation.</summary>
        public IList<LedgerRevocation> RevocationsToApply()
        {
            LedgerItemsHandle items;
            ErrorHandle err;
            int rc = NativeMethods.msstore_ledger_claim_revocations(handle, out items, out err);
            return TakeItems(rc, items, err, ResultReaders.Revocations);
        }

        /// <summary>The game applied a revocation. Idempotent.</summary>
        /// <exception cref="StoreNotFoundException">unknown id</exception>
        public void AcknowledgeRevocation(string revocationId)
        {
            if (revocationId == null) throw new ArgumentNullException("revocationId");
            ErrorHandle err;
            int rc;
            using (var a = new NativeArena())
                rc = NativeMethods.msstore_ledger_acknowledge_revocation(handle, Utf8Arg(a, revocationId, "revocationId"), out err);
            ThrowIfFailed(rc, err);
        }

        /// <summary>Closes the ledger. Operations in flight keep their own reference and finish;
        /// every call after Dispose throws ObjectDisposedException.</summary>
        public void Dispose()
        {
            handle.Dispose();
        }

        // ---- plumbing ----------------------------------------------------------------------

        /// <summary>Runs an operation start holding a reference on the ledger handle, so that a
        /// disposed ledger throws here, before the P/Invoke: Mono's marshaller does not release
        /// the client handle it already AddRef'd when a later SafeHandle argument is closed.</summary>
        private Task<T> WithLedger<T>(Func<LedgerHandle, Task<T>> start)
        {
            bool added = false;
            try
            {
                handle.DangerousAddRef(ref added); // ObjectDisposedException once disposed
                return start(handle);
            }
            finally
            {
                if (added) handle.DangerousRelease();
            }
        }

        private static T TakeItems<T>(int rc, LedgerItemsHandle items, ErrorHandle err, Func<LedgerItemsHandle, T> read)
        {
            using (items)
            {
                ThrowIfFailed(rc, err);
                return read(items);
            }
        }

        private static void ThrowIfFailed(int rc, ErrorHandle err)
        {
            using (err)
            {
                if (rc != 0) throw StoreException.FromError(rc, err);
            }
        }

        private static IntPtr Utf8Arg(NativeArena a, string s, string name)
        {
            try { return a.Str(s); }
            catch (ArgumentException e) { throw new StoreArgumentException(StoreResult.InvalidUtf8, name + ": " + e.Message); }
        }

        private static void Check(int rc)
        {
            if (rc != 0) throw StoreException.FromCode(rc);
        }

        private static uint Millis(TimeSpan? t, string name)
        {
            if (t == null) return 0;
            double ms = t.Value.TotalMilliseconds;
            if (ms < 1 || ms > uint.MaxValue) throw new ArgumentOutOfRangeException(name);
            return (uint)ms;
        }
    }
}

// The idiomatic API: a client created from options, async methods returning Tasks, Dispose.
// Refunds: StoreClientClawback.cs; the ledger's operations: StoreLedger.cs.
using System;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using Msstore.Native;

namespace Msstore
{
    /// <summary>A Microsoft Store Services client over the native msstore library. Thread-safe.
    /// In the default <see cref="StoreCompletion.Pump"/> mode, call <see cref="Pump"/> once per
    /// frame (MonoBehaviour.Update): Tasks complete there, on that thread.
    /// <see cref="Dispose"/> completes every Task still in flight with StoreShuttingDownException.</summary>
    public sealed partial class StoreClient : IDisposable
    {
        private const int CompletionQueued = NativeClientOptions.CompletionQueued;
        private const int CompletionImmediate = NativeClientOptions.CompletionImmediate;

        private readonly ClientHandle handle;
        private readonly StoreCompletion completion;
        private readonly SynchronizationContext context;

        /// <exception cref="StoreConfigurationException">unusable configuration</exception>
        /// <exception cref="InvalidOperationException">SynchronizationContext completion without a current context</exception>
        public StoreClient(StoreClientOptions options)
        {
            if (options == null) throw new ArgumentNullException("options");
            completion = options.Completion;
            if (completion == StoreCompletion.SynchronizationContext)
            {
                context = SynchronizationContext.Current;
                if (context == null)
                    throw new InvalidOperationException("StoreCompletion.SynchronizationContext needs a current SynchronizationContext (create the client on the main thread)");
            }
            ErrorHandle err;
            int rc;
            using (var n = new NativeClientOptions(options, completion == StoreCompletion.Pump ? CompletionQueued : CompletionImmediate))
                rc = NativeMethods.msstore_client_new(ref n.Value, out handle, out err);
            using (err)
            {
                if (rc != 0)
                {
                    if (handle != null) handle.Dispose();
                    throw StoreException.FromError(rc, err);
                }
            }
        }

        /// <summary>The native library's version ("0.1.0").</summary>
        public static string NativeVersion
        {
            get { return Utf8.FromNative(NativeMethods.msstore_version()); }
        }

        /// <summary>Live native objects in the process (clients, ops, errors, results): a leak
        /// check for tests, 0 once everything is freed.</summary>
        public static long LiveNativeObjects
        {
            get { return (long)NativeMethods.msstore_live_objects().ToUInt64(); }
        }

        public StoreCompletion Completion { get { return completion; } }

        /// <summary>Operations whose completion has not been delivered yet.</summary>
        public int PendingOperations
        {
            get
            {
                try { return (int)NativeMethods.msstore_client_pending(handle).ToUInt64(); }
                catch (ObjectDisposedException) { return 0; }
            }
        }

        public bool IsDisposed { get { return handle.IsClosed; } }

        /// <summary>When the credential expires (a certificate's notAfter); null when unknown or
        /// none does (a secret, a provider). Null after Dispose.</summary>
        public DateTimeOffset? CredentialExpiresAt
        {
            get
            {
                long secs;
                try { secs = NativeMethods.msstore_client_credential_expires_at(handle); }
                catch (ObjectDisposedException) { return null; }
                return secs > 0 ? DateTimeOffset.FromUnixTimeSeconds(secs) : (DateTimeOffset?)null;
            }
        }

        /// <summary>Completes the Tasks of finished operations on the calling thread (at most
        /// <paramref name="maxCompletions"/>; 0 = all queued). Returns how many ran. Call once per
        /// frame. Harmless in the other modes and after Dispose (returns 0).</summary>
        public int Pump(int maxCompletions = 0)
        {
            if (maxCompletions < 0) throw new ArgumentOutOfRangeException("maxCompletions");
            try { return Count(NativeMethods.msstore_client_poll(handle, (UIntPtr)(uint)maxCompletions)); }
            catch (ObjectDisposedException) { return 0; }
        }

        /// <summary>Blocks until at least one finished operation waits for <see cref="Pump"/>, or
        /// <paramref name="timeout"/> passes; returns how many are ready and completes nothing.
        /// For a thread that owns completions in a headless service:
        /// <c>while (running) { store.WaitForCompletions(TimeSpan.FromMilliseconds(100)); store.Pump(); }</c>.
        /// Games just call Pump once per frame. Returns 0 after Dispose.</summary>
        public int WaitForCompletions(TimeSpan timeout)
        {
            if (timeout < TimeSpan.Zero) throw new ArgumentOutOfRangeException("timeout");
            double ms = Math.Min(timeout.TotalMilliseconds, uint.MaxValue);
            try { return Count(NativeMethods.msstore_client_wait(handle, (uint)ms)); }
            catch (ObjectDisposedException) { return 0; }
        }

        // The library's -1 (not a live client) cannot come from a live handle; 0 if it does.
        private static int Count(IntPtr n)
        {
            long v = n.ToInt64();
            return v < 0 ? 0 : (int)Math.Min(v, int.MaxValue);
        }

        /// <summary>A service token or a key-create token to hand to your game client.</summary>
        public Task<StoreToken> GetTokenAsync(StoreAudience audience, CancellationToken cancellationToken = default(CancellationToken))
        {
            return Start((NativeArena a, ref CallOptions c, IntPtr ud, out OpHandle op) =>
                NativeMethods.msstore_client_get_token(handle, (int)audience, ref c, PendingOperation.Callback, ud, out op),
                ResultReaders.Token, cancellationToken);
        }

        /// <summary>Renews a Store ID key (at the documented endpoint for its kind). The result's
        /// Value replaces the old key. Fails with KeyMustBeRemintedException when refused.</summary>
        public Task<StoreIdKey> RenewKeyAsync(string key, CancellationToken cancellationToken = default(CancellationToken))
        {
            if (key == null) throw new ArgumentNullException("key");
            return Start((NativeArena a, ref CallOptions c, IntPtr ud, out OpHandle op) =>
                NativeMethods.msstore_client_renew_key(handle, a.Str(key), ref c, PendingOperation.Callback, ud, out op),
                ResultReaders.Key, cancellationToken);
        }

        /// <summary>What the user owns: every page, de-duplicated.</summary>
        public Task<EntitlementPage> QueryEntitlementsAsync(EntitlementQuery query, CancellationToken cancellationToken = default(CancellationToken))
        {
            return Query(query, false, null, cancellationToken);
        }

        /// <summary>One page; pass the previous page's ContinuationToken (null for the first).</summary>
        public Task<EntitlementPage> QueryEntitlementsPageAsync(EntitlementQuery query, string continuationToken,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            return Query(query, true, continuationToken, cancellationToken);
        }

        private Task<EntitlementPage> Query(EntitlementQuery query, bool singlePage, string continuation, CancellationToken ct)
        {
            if (query == null) throw new ArgumentNullException("query");
            if (query.SkuIds != null && query.SkuIds.Count != (query.ProductIds == null ? 0 : query.ProductIds.Count))
                throw new ArgumentException("SkuIds must be parallel to ProductIds", "query");
            return Start((NativeArena a, ref CallOptions c, IntPtr ud, out OpHandle op) =>
            {
                var q = new QueryOptions();
                q.struct_size = (uint)Marshal.SizeOf(typeof(QueryOptions));
                q.api_version = (uint)Math.Max(0, query.ApiVersion);
                q.collections_key = a.Str(query.CollectionsKey);
                q.product_ids = a.StrArray(query.ProductIds);
                q.sku_ids = a.StrArray(query.SkuIds);
                q.product_count = (UIntPtr)(uint)(query.ProductIds == null ? 0 : query.ProductIds.Count);
                q.single_page = singlePage ? 1u : 0u;
                q.continuation_token = a.Str(continuation);
                q.max_page_size = (uint)Math.Max(0, query.MaxPageSize);
                q.include_duplicates = query.IncludeDuplicates ? 1u : 0u;
                q.validity_type = a.Str(query.ValidityType);
                q.sbx = a.Str(query.Sandbox);
                return NativeMethods.msstore_client_query_entitlements(handle, ref q, ref c, PendingOperation.Callback, ud, out op);
            }, ResultReaders.Entitlements, ct);
        }

        /// <summary>Reports fulfilment of a consumable. On ConsumeOutcomeUnknownException, resend
        /// with its TrackingId (safe: the Store applies a tracking id once).</summary>
        public Task<ConsumeResult> ConsumeAsync(ConsumeRequest request, CancellationToken cancellationToken = default(CancellationToken))
        {
            if (request == null) throw new ArgumentNullException("request");
            if (request.Quantity < 0) throw new ArgumentOutOfRangeException("request", "Quantity must be >= 0");
            return Start((NativeArena a, ref CallOptions c, IntPtr ud, out OpHandle op) =>
            {
                var o = new ConsumeOptions();
                o.struct_size = (uint)Marshal.SizeOf(typeof(ConsumeOptions));
                o.collections_key = a.Str(request.CollectionsKey);
                o.product_id = a.Str(request.ProductId);
                o.quantity = (uint)request.Quantity;
                o.tracking_id = a.Str(request.TrackingId);
                o.sbx = a.Str(request.Sandbox);
                return NativeMethods.msstore_client_consume(handle, ref o, ref c, PendingOperation.Callback, ud, out op);
            }, ResultReaders.Consume, cancellationToken);
        }

        /// <summary>The legacy v6 consume (204). Completes like ConsumeAsync: a ConsumeResult whose
        /// TrackingId is the id sent (form B: the transaction id) and whose NewQuantity is 0; on
        /// ConsumeOutcomeUnknownException, resend with its TrackingId.</summary>
        public Task<ConsumeResult> ConsumeV6Async(ConsumeV6Request request, CancellationToken cancellationToken = default(CancellationToken))
        {
            if (request == null) throw new ArgumentNullException("request");
            return Start((NativeArena a, ref CallOptions c, IntPtr ud, out OpHandle op) =>
            {
                var o = new ConsumeV6Options();
                o.struct_size = (uint)Marshal.SizeOf(typeof(ConsumeV6Options));
                o.collections_key = a.Str(request.CollectionsKey);
                o.item_id = a.Str(request.ItemId);
                o.tracking_id = a.Str(request.TrackingId);
                o.product_id = a.Str(request.ProductId);
                o.transaction_id = a.Str(request.TransactionId);
                return NativeMethods.msstore_client_consume_v6(handle, ref o, ref c, PendingOperation.Callback, ud, out op);
            }, ResultReaders.Consume, cancellationToken);
        }

        /// <summary>Grants a zero-price product to the user of a UserPurchaseId.</summary>
        public Task<StoreOrder> GrantFreeProductAsync(GrantRequest request, CancellationToken cancellationToken = default(CancellationToken))
        {
            if (request == null) throw new ArgumentNullException("request");
            return Start((NativeArena a, ref CallOptions c, IntPtr ud, out OpHandle op) =>
            {
                var o = new GrantOptions();
                o.struct_size = (uint)Marshal.SizeOf(typeof(GrantOptions));
                o.purchase_key = a.Str(request.PurchaseKey);
                o.product_id = a.Str(request.ProductId);
                o.sku_id = a.Str(request.SkuId);
                o.availability_id = a.Str(request.AvailabilityId);
                o.language = a.Str(request.Language);
                o.market = a.Str(request.Market);
                o.order_id = a.Str(request.OrderId);
                o.dev_offer_id = a.Str(request.DevOfferId);
                return NativeMethods.msstore_client_grant_free_product(handle, ref o, ref c, PendingOperation.Callback, ud, out op);
            }, ResultReaders.Order, cancellationToken);
        }

        /// <summary>The user's subscriptions, every page.</summary>
        public Task<SubscriptionPage> QuerySubscriptionsAsync(string purchaseKey, CancellationToken cancellationToken = default(CancellationToken))
        {
            return Subscriptions(purchaseKey, false, null, 0, cancellationToken);
        }

        /// <summary>One page of the user's subscriptions (pageSize 0 = service default).</summary>
        public Task<SubscriptionPage> QuerySubscriptionsPageAsync(string purchaseKey, string continuationToken, int pageSize = 0,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            if (pageSize < 0) throw new ArgumentOutOfRangeException("pageSize");
            return Subscriptions(purchaseKey, true, continuationToken, pageSize, cancellationToken);
        }

        private Task<SubscriptionPage> Subscriptions(string purchaseKey, bool singlePage, string continuation, int pageSize,
            CancellationToken ct)
        {
            return Start((NativeArena a, ref CallOptions c, IntPtr ud, out OpHandle op) =>
            {
                var o = new SubscriptionQueryOptions();
                o.struct_size = (uint)Marshal.SizeOf(typeof(SubscriptionQueryOptions));
                o.purchase_key = a.Str(purchaseKey);
                o.single_page = singlePage ? 1u : 0u;
                o.continuation_token = a.Str(continuation);
                o.page_size = (uint)pageSize;
                return NativeMethods.msstore_client_query_subscriptions(handle, ref o, ref c, PendingOperation.Callback, ud, out op);
            }, ResultReaders.Subscriptions, ct);
        }

        /// <summary>Cancels, extends (by <paramref name="extensionDays"/>), refunds or turns off
        /// auto-renew of a subscription; returns its new state.</summary>
        public Task<SubscriptionItem> ChangeSubscriptionAsync(string purchaseKey, string recurrenceId, SubscriptionChange change,
            int extensionDays = 0, CancellationToken cancellationToken = default(CancellationToken))
        {
            return Start((NativeArena a, ref CallOptions c, IntPtr ud, out OpHandle op) =>
            {
                var o = new SubscriptionChangeOptions();
                o.struct_size = (uint)Marshal.SizeOf(typeof(SubscriptionChangeOptions));
                o.purchase_key = a.Str(purchaseKey);
                o.recurrence_id = a.Str(recurrenceId);
                o.change_type = (int)change;
                o.extension_days = extensionDays;
                return NativeMethods.msstore_client_change_subscription(handle, ref o, ref c, PendingOperation.Callback, ud, out op);
            }, FirstSubscription, cancellationToken);
        }

        private static SubscriptionItem FirstSubscription(IntPtr op)
        {
            SubscriptionPage page = ResultReaders.Subscriptions(op);
            if (page.Items.Count == 0)
                throw new MalformedResponseException(StoreResult.MalformedResponse, "the subscription change returned no subscription");
            return page.Items[0];
        }

        /// <summary>Shuts the client down: every operation in flight completes with
        /// StoreShuttingDownException before this returns (in SynchronizationContext mode, when
        /// called on another thread, the Tasks complete when the context runs the posts).
        /// Safe from inside a continuation that Pump runs.</summary>
        public void Dispose()
        {
            handle.Dispose();
        }

        /// <summary>Bounds how long <see cref="Dispose"/> waits for callbacks running on other
        /// threads (msstore_client_set_shutdown_timeout). TimeSpan.Zero, the default, waits as long
        /// as they run, so that none runs after Dispose returns; with a bound, a callback that
        /// never returns cannot hang Dispose, but callbacks still running finish after it.</summary>
        public void SetShutdownTimeout(TimeSpan timeout)
        {
            double ms = timeout.TotalMilliseconds;
            if (ms < 0 || ms > uint.MaxValue) throw new ArgumentOutOfRangeException(nameof(timeout));
            int rc = NativeMethods.msstore_client_set_shutdown_timeout(handle, (uint)Math.Ceiling(ms));
            if (rc != 0) throw StoreException.FromCode(rc);
        }

        // ---- plumbing ------------------------------------------------------------------------

        private delegate int Starter(NativeArena arena, ref CallOptions call, IntPtr userData, out OpHandle op);

        private Task<T> Start<T>(Starter start, Func<IntPtr, T> take, CancellationToken ct)
        {
            if (ct.IsCancellationRequested) return System.Threading.Tasks.Task.FromCanceled<T>(ct);
            var pending = new PendingOperation<T>(take, ct, completion == StoreCompletion.Immediate, context);
            GCHandle gch = GCHandle.Alloc(pending);
            OpHandle op = null;
            int rc;
            try
            {
                using (var arena = new NativeArena())
                {
                    var call = new CallOptions();
                    call.struct_size = (uint)Marshal.SizeOf(typeof(CallOptions));
                    call.completion_mode = completion == StoreCompletion.Pump ? CompletionQueued : CompletionImmediate;
                    rc = start(arena, ref call, GCHandle.ToIntPtr(gch), out op);
                }
            }
            catch (ObjectDisposedException e)
            {
                gch.Free();
                return System.Threading.Tasks.Task.FromException<T>(new StoreShuttingDownException(StoreResult.ShuttingDown,
                    "the client (or the ledger) was disposed: " + e.Message));
            }
            catch (ArgumentException e)
            {
                // A string that is not valid UTF-16 (lone surrogate): nothing was started.
                gch.Free();
                return System.Threading.Tasks.Task.FromException<T>(new StoreArgumentException(StoreResult.InvalidUtf8, e.Message));
            }
            catch
            {
                gch.Free();
                throw;
            }
            if (rc != 0)
            {
                // A synchronous failure: the callback will never fire.
                gch.Free();
                if (op != null) op.Dispose();
                return System.Threading.Tasks.Task.FromException<T>(StoreException.FromCode(rc));
            }
            pending.Attach(op);
            pending.WatchCancellation();
            return pending.Task;
        }

        internal static uint NonNegative(int v, string name)
        {
            if (v < 0) throw new ArgumentOutOfRangeException(name);
            return (uint)v;
        }

        internal static uint Millis(TimeSpan? t, string name)
        {
            if (t == null) return 0;
            double ms = t.Value.TotalMilliseconds;
            if (ms < 1 || ms > uint.MaxValue) throw new ArgumentOutOfRangeException(name);
            return (uint)ms;
        }
    }
}

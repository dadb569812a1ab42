// Cancellation, Dispose with operations in flight, the thread Tasks complete on, and load.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Msstore.Tests
{
    [TestFixture]
    public class LifecycleTests : StoreTestBase
    {
        // A response delayed far beyond every hang guard: an operation that completes at all
        // was ended by the wrapper (cancel, Dispose), not by the emulator answering.
        private const string StallQueries = "{\"route\":\"collections_v9_query\",\"kind\":\"delay\",\"ms\":120000}";

        private static EntitlementQuery DurableQuery()
        {
            return new EntitlementQuery(Emulator.CollectionsKey, Emulator.Durable);
        }

        /// <summary>Waits (no pumping) until the client has <paramref name="n"/> native operations
        /// in flight. (The emulator logs a request only once answered, so it cannot tell.)</summary>
        private static void WaitUntilInFlight(StoreClient c, int n)
        {
            DateTime until = DateTime.UtcNow + HangGuard;
            while (c.PendingOperations < n)
            {
                if (DateTime.UtcNow > until) Assert.Fail("operations never started");
                Thread.Sleep(10);
            }
            Thread.Sleep(50); // let them reach the emulator; correctness does not depend on it
        }

        [Test, TestCaseSource(typeof(OperationTests), "Modes")]
        public void Cancel_CancelsTheNativeOperation(StoreCompletion mode)
        {
            var c = NewClient(mode);
            Await(c, c.GetTokenAsync(StoreAudience.Service)); // warm: the stalled request is the query
            Emulator.Admin("DELETE", "/admin/requests");
            Emulator.AddFault(StallQueries);
            using (var cts = new CancellationTokenSource())
            {
                Task<EntitlementPage> t = c.QueryEntitlementsAsync(DurableQuery(), cts.Token);
                WaitUntilInFlight(c, 1);
                Assert.IsFalse(t.IsCompleted);
                cts.Cancel();
                Drive(c, t);
                Assert.IsTrue(t.IsCanceled, "status " + t.Status);
                Assert.AreEqual(0, c.PendingOperations, "the native operation is over");
                var e = Assert.Throws<TaskCanceledException>(() => t.GetAwaiter().GetResult());
                Assert.AreEqual(cts.Token, e.CancellationToken);
            }
        }

        [Test]
        public void Cancel_BeforeStart_StartsNothing()
        {
            var c = NewClient();
            Emulator.Admin("DELETE", "/admin/requests");
            var t = c.QueryEntitlementsAsync(DurableQuery(), new CancellationToken(true));
            Assert.IsTrue(t.IsCanceled);
            Assert.AreEqual(0, c.PendingOperations);
            Assert.AreEqual(0, Emulator.CountRequests("collections_v9_query"));
        }

        [Test]
        public void Cancel_AfterCompletion_IsHarmless()
        {
            var c = NewClient();
            using (var cts = new CancellationTokenSource())
            {
                var t = c.GetTokenAsync(StoreAudience.Service, cts.Token);
                Await(c, t);
                cts.Cancel();
                Assert.AreEqual(TaskStatus.RanToCompletion, t.Status);
            }
        }

        [Test, TestCaseSource(typeof(OperationTests), "Modes")]
        public void Dispose_WithOperationsInFlight_CompletesEveryTask(StoreCompletion mode)
        {
            var c = NewClient(mode);
            Await(c, c.GetTokenAsync(StoreAudience.Service));
            Emulator.Admin("DELETE", "/admin/requests");
            Emulator.AddFault(StallQueries);
            Emulator.AddFault("{\"route\":\"recurrences_query\",\"kind\":\"delay\",\"ms\":120000}");
            var tasks = new List<Task>();
            for (int i = 0; i < 10; i++) tasks.Add(c.QueryEntitlementsAsync(DurableQuery()));
            for (int i = 0; i < 5; i++) tasks.Add(c.QuerySubscriptionsAsync(Emulator.PurchaseKey));
            using (var cts = new CancellationTokenSource())
            {
                tasks.Add(c.QueryEntitlementsAsync(DurableQuery(), cts.Token));
                WaitUntilInFlight(c, tasks.Count);
                c.Dispose();
                // Dispose completes every one of them before it returns, on this thread.
                Assert.IsTrue(tasks.All(t => t.IsCompleted), "a Task was still running after Dispose");
                cts.Cancel(); // after Dispose: nothing left to cancel, no crash
            }
            foreach (Task t in tasks)
            {
                Assert.IsTrue(t.IsFaulted, "status " + t.Status);
                Assert.IsInstanceOf<StoreShuttingDownException>(t.Exception.GetBaseException());
            }
        }

        [Test]
        public void Dispose_FromInsideAContinuationThatPumpRuns()
        {
            var c = NewClient();
            Emulator.AddFault(StallQueries);
            Task<EntitlementPage> stalled = c.QueryEntitlementsAsync(DurableQuery());
            Task<StoreToken> token = c.GetTokenAsync(StoreAudience.Service);
            Task disposed = token.ContinueWith(_ => c.Dispose(), TaskContinuationOptions.ExecuteSynchronously);
            Drive(c, disposed);
            Assert.IsTrue(c.IsDisposed);
            // The stalled query ended with the client, on this thread, when Pump returned.
            Assert.IsTrue(stalled.IsCompleted, "status " + stalled.Status);
            Assert.IsInstanceOf<StoreShuttingDownException>(stalled.Exception.GetBaseException());
        }

        [Test]
        public void PumpMode_CompletesTasksOnlyInPump_OnThePumpingThread()
        {
            var c = NewClient();
            var tasks = new List<Task<StoreToken>>();
            for (int i = 0; i < 5; i++) tasks.Add(c.GetTokenAsync(StoreAudience.Service));
            // Wait until each native operation has actually finished (msstore_op_wait, which
            // does not deliver the callback): only then does "not completed" prove that nothing
            // completes without Pump, however slow the library is.
            foreach (Task<StoreToken> t in tasks)
            {
                PendingOperation op = PendingOperation.Of(t);
                Assert.IsNotNull(op, "a wrapper Task carries its operation");
                Assert.AreEqual((int)StoreResult.Ok, op.WaitNative((uint)HangGuard.TotalMilliseconds),
                    "the native operation finished successfully");
            }
            Assert.IsFalse(tasks.Any(t => t.IsCompleted), "a Task completed without Pump");
            Assert.AreEqual(5, c.PendingOperations, "finished, but not delivered");

            var pumper = new Thread(() => Drive(c, Task.WhenAll(tasks)));
            var threads = new System.Collections.Concurrent.ConcurrentBag<int>();
            var continuations = tasks.Select(t => t.ContinueWith(_ => threads.Add(Thread.CurrentThread.ManagedThreadId),
                TaskContinuationOptions.ExecuteSynchronously)).ToArray();
            pumper.Start();
            Assert.IsTrue(pumper.Join(HangGuard), "pumping never finished");
            Assert.IsTrue(Task.WaitAll(continuations, HangGuard));
            Assert.AreEqual(5, threads.Count);
            Assert.IsTrue(threads.All(id => id == pumper.ManagedThreadId), "a Task completed off the pumping thread");
        }

        [Test]
        public void WaitForCompletions_ReturnsWhenOneIsReady_AndCompletesNothing()
        {
            var c = NewClient();
            Assert.AreEqual(0, c.WaitForCompletions(TimeSpan.Zero), "nothing in flight");
            Task<StoreToken> t = c.GetTokenAsync(StoreAudience.Service);
            int ready = 0;
            DateTime until = DateTime.UtcNow + HangGuard;
            while (ready == 0 && DateTime.UtcNow < until) ready = c.WaitForCompletions(TimeSpan.FromSeconds(1));
            Assert.AreEqual(1, ready);
            Assert.IsFalse(t.IsCompleted, "waiting completes nothing");
            Assert.AreEqual(1, c.Pump());
            Assert.IsTrue(t.IsCompleted);
            Assert.AreEqual(StoreAudience.Service, t.Result.Audience);
            Assert.Throws<ArgumentOutOfRangeException>(() => c.WaitForCompletions(TimeSpan.FromMilliseconds(-1)));
            c.Dispose();
            Assert.AreEqual(0, c.WaitForCompletions(TimeSpan.FromMilliseconds(10)), "after Dispose");
        }

        [Test]
        public void ImmediateMode_NeedsNoPump()
        {
            var c = NewClient(StoreCompletion.Immediate);
            Task<StoreToken> t = c.GetTokenAsync(StoreAudience.Service);
            Assert.IsTrue(t.Wait(HangGuard), "no completion without Pump");
            Assert.AreEqual(StoreAudience.Service, t.Result.Audience);
        }

        [Test]
        public void SynchronizationContextMode_CompletesOnTheContextThread()
        {
            using (var loop = new SingleThreadContext())
            {
                StoreClient c = loop.Invoke(() => NewClient(StoreCompletion.SynchronizationContext));
                int ranOn = -1;
                // The continuation is attached on the context thread in the same turn that starts
                // the operation: the completion is posted to that thread, so it cannot run before
                // the continuation exists (attached later from this thread, a Task that had already
                // completed would run it right here instead).
                Task<StoreToken> t = null;
                Task k = loop.Invoke(() =>
                {
                    t = c.GetTokenAsync(StoreAudience.Service);
                    return t.ContinueWith(_ => ranOn = Thread.CurrentThread.ManagedThreadId,
                        TaskContinuationOptions.ExecuteSynchronously);
                });
                Assert.IsTrue(k.Wait(HangGuard), "never completed");
                Assert.AreEqual(loop.ThreadId, ranOn);
                Assert.AreEqual(StoreAudience.Service, t.Result.Audience);

                // Dispose on the context thread completes in-flight Tasks there too.
                Emulator.AddFault(StallQueries);
                Task<EntitlementPage> stalled = loop.Invoke(() => c.QueryEntitlementsAsync(DurableQuery()));
                WaitUntilInFlight(c, 1);
                loop.Invoke(() => { c.Dispose(); return 0; });
                Assert.IsTrue(stalled.IsCompleted, "status " + stalled.Status);
                Assert.IsInstanceOf<StoreShuttingDownException>(stalled.Exception.GetBaseException());
            }
        }

        [Test]
        public void AThousandConcurrentQueries()
        {
            var c = NewClient();
            Await(c, c.GetTokenAsync(StoreAudience.Service));
            var sw = Stopwatch.StartNew();
            var tasks = new Task<EntitlementPage>[1000];
            for (int i = 0; i < tasks.Length; i++)
                tasks[i] = c.QueryEntitlementsAsync(new EntitlementQuery(Emulator.CollectionsKey, Emulator.Durable, Emulator.Consumable));
            Drive(c, Task.WhenAll(tasks));
            sw.Stop();
            foreach (var t in tasks)
            {
                Assert.AreEqual(TaskStatus.RanToCompletion, t.Status, t.IsFaulted ? t.Exception.GetBaseException().ToString() : "");
                Assert.AreEqual(2, t.Result.Items.Count);
            }
            Assert.AreEqual(0, c.PendingOperations);
            // A figure for the log, not an assertion.
            Console.WriteLine("[figure] 1000 concurrent queries (Pump mode): {0} ms, {1:F0} queries/s",
                sw.ElapsedMilliseconds, 1000.0 / sw.Elapsed.TotalSeconds);
        }

        [Test]
        public void AThousandConcurrentQueries_FromManyThreads_Immediate()
        {
            var c = NewClient(StoreCompletion.Immediate);
            var tasks = new Task<EntitlementPage>[1000];
            Parallel.For(0, tasks.Length, i =>
                tasks[i] = c.QueryEntitlementsAsync(new EntitlementQuery(Emulator.CollectionsKey, Emulator.Durable)));
            Assert.IsTrue(Task.WaitAll(tasks, HangGuard), "hang");
            Assert.IsTrue(tasks.All(t => t.Status == TaskStatus.RanToCompletion && t.Result.Items.Count == 1));
        }
    }

    /// <summary>A SynchronizationContext with one thread running posted work, like Unity's main thread.</summary>
    internal sealed class SingleThreadContext : SynchronizationContext, IDisposable
    {
        private readonly System.Collections.Concurrent.BlockingCollection<KeyValuePair<SendOrPostCallback, object>> queue =
            new System.Collections.Concurrent.BlockingCollection<KeyValuePair<SendOrPostCallback, object>>();
        private readonly Thread thread;

        public SingleThreadContext()
        {
            thread = new Thread(() =>
            {
                SetSynchronizationContext(this);
                foreach (var item in queue.GetConsumingEnumerable()) item.Key(item.Value);
            });
            thread.IsBackground = true;
            thread.Start();
        }

        public int ThreadId { get { return thread.ManagedThreadId; } }

        public override void Post(SendOrPostCallback d, object state)
        {
            queue.Add(new KeyValuePair<SendOrPostCallback, object>(d, state));
        }

        /// <summary>Runs <paramref name="f"/> on the context thread and returns its result.</summary>
        public T Invoke<T>(Func<T> f)
        {
            var tcs = new TaskCompletionSource<T>();
            Post(_ =>
            {
                try { tcs.SetResult(f()); }
                catch (Exception e) { tcs.SetException(e); }
            }, null);
            if (!tcs.Task.Wait(TimeSpan.FromSeconds(60))) throw new TimeoutException("context thread stuck");
            return tcs.Task.Result;
        }

        public void Dispose()
        {
            queue.CompleteAdding();
            thread.Join(TimeSpan.FromSeconds(10));
        }
    }
}

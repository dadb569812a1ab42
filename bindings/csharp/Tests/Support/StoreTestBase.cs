// Base of the tests that talk to the emulator: makes clients, pumps until a Task completes
// (with a generous bound that only guards against hangs), and after every test disposes the
// clients, clears injected faults and checks that no native object leaked.
using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Msstore.Tests
{
    public abstract class StoreTestBase
    {
        /// <summary>Hang guard for one operation; never a timing assertion.</summary>
        protected static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(60);

        private readonly List<StoreClient> clients = new List<StoreClient>();
        private readonly List<IDisposable> owned = new List<IDisposable>();

        /// <summary>Disposes <paramref name="d"/> (a ledger, ...) after the test, after the clients
        /// and before the leak check.</summary>
        protected T Own<T>(T d) where T : IDisposable
        {
            owned.Add(d);
            return d;
        }

        protected StoreClient NewClient(StoreCompletion completion = StoreCompletion.Pump, int maxAttempts = 0,
            TimeSpan? operationTimeout = null, string secret = null, string baseUrl = null)
        {
            var o = new StoreClientOptions(Emulator.TenantId, Emulator.ClientId, secret ?? Emulator.ClientSecret);
            o.EmulatorBaseUrl = baseUrl ?? Emulator.BaseUrl;
            o.Completion = completion;
            o.MaxAttempts = maxAttempts;
            o.OperationTimeout = operationTimeout;
            var c = new StoreClient(o);
            clients.Add(c);
            return c;
        }

        [SetUp]
        public void RequireEmulator()
        {
            Emulator.Require();
        }

        [TearDown]
        public void DisposeClientsAndCheckLeaks()
        {
            if (!Emulator.IsConfigured) return; // the test was ignored
            foreach (var c in clients) c.Dispose();
            clients.Clear();
            foreach (var d in owned) d.Dispose();
            owned.Clear();
            Emulator.ClearFaults();
            // Results are copied and freed in the callbacks, errors when read: nothing is left for
            // a finalizer, so the count is exact without a GC.
            Assert.AreEqual(0, StoreClient.LiveNativeObjects, "native objects leaked by this test");
        }

        /// <summary>Pumps <paramref name="client"/> on this thread until <paramref name="task"/>
        /// completes (Pump mode), or just waits (other modes); fails on a hang.</summary>
        protected static void Drive(StoreClient client, Task task)
        {
            DateTime until = DateTime.UtcNow + HangGuard;
            while (!task.IsCompleted)
            {
                if (DateTime.UtcNow > until) Assert.Fail("operation did not complete within " + HangGuard);
                if (client.Pump() == 0) Thread.Sleep(2);
            }
        }

        protected static T Await<T>(StoreClient client, Task<T> task)
        {
            Drive(client, task);
            return task.GetAwaiter().GetResult();
        }

        /// <summary>Drives a Task without a result and rethrows its failure.</summary>
        protected static void Await(StoreClient client, Task task)
        {
            Drive(client, task);
            task.GetAwaiter().GetResult();
        }

        /// <summary>Drives the task and returns its exception, asserting its type.</summary>
        protected static TException Fails<TException>(StoreClient client, Task task) where TException : Exception
        {
            Drive(client, task);
            Assert.IsTrue(task.IsFaulted, "expected a failure, got " + task.Status);
            Exception e = task.Exception.GetBaseException();
            Assert.IsInstanceOf<TException>(e, "wrong exception: " + e);
            return (TException)e;
        }
    }
}

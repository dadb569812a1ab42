// The consume ledger against the emulator, on a throw-away SQLite file per test: consume
// through the ledger, grant and acknowledge, a dropped answer followed by a "restart" and a
// reconcile (applied exactly once, checked against the emulator's balance), refund events
// matched to consumes, and the error families.
using System;
using System.IO;
using System.Linq;
using NUnit.Framework;

namespace Msstore.Tests
{
    [TestFixture]
    public class LedgerTests : StoreTestBase
    {
        private string dir;
        private int files;

        [OneTimeSetUp]
        public void MakeTempDir()
        {
            dir = Path.Combine(Path.GetTempPath(), "msstore-cs-ledger-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(dir);
        }

        [OneTimeTearDown]
        public void RemoveTempDir()
        {
            if (dir != null && Directory.Exists(dir)) Directory.Delete(dir, true);
        }

        private string NewPath()
        {
            return Path.Combine(dir, "ledger-" + (++files) + ".sqlite");
        }

        /// <summary>A ledger disposed after the test; one send per consume, so that a dropped
        /// answer leaves the entry pending instead of being resent at once.</summary>
        private StoreLedger OpenLedger(string path)
        {
            return Own(new StoreLedger(new LedgerOptions
            {
                SqlitePath = path,
                SendRounds = 1,
                ResendDelay = TimeSpan.FromMilliseconds(5),
            }));
        }

        /// <summary>A player with <paramref name="units"/> of the consumable; returns its collections key.</summary>
        private static string Player(string user, int units, out string order)
        {
            string key = Emulator.MintKey("collections", user);
            string line;
            order = Emulator.BuyOrder(user, Emulator.Consumable, units, out line);
            return key;
        }

        [Test, TestCaseSource(typeof(OperationTests), "Modes")]
        public void Consume_Applied_ThenAcknowledged(StoreCompletion mode)
        {
            string user = "ledger-applied-" + mode, order;
            string key = Player(user, 10, out order);
            var c = NewClient(mode);
            StoreLedger l = OpenLedger(NewPath());

            var t = l.ConsumeAsync(c, new LedgerConsumeRequest("player-" + mode, key, Emulator.Consumable, 3));
            if (mode == StoreCompletion.Pump)
            {
                // Finished natively, yet delivered only by Pump.
                Assert.AreEqual((int)StoreResult.Ok, PendingOperation.Of(t).WaitNative((uint)HangGuard.TotalMilliseconds));
                Assert.IsFalse(t.IsCompleted, "completed without Pump");
            }
            LedgerEntry e = Await(c, t);
            Assert.AreEqual(LedgerEntryState.Applied, e.State);
            Assert.AreEqual("player-" + mode, e.PlayerRef);
            Assert.AreEqual(Emulator.Consumable, e.ProductId);
            Assert.AreEqual(3, e.Quantity);
            Assert.AreEqual(1, e.Attempts);
            Assert.AreEqual(7, e.NewQuantity);
            Assert.IsNull(e.LastError);
            Assert.AreEqual(1, e.Transactions.Count);
            Assert.AreEqual(order, e.Transactions[0].OrderId);
            Assert.AreEqual(3, e.Transactions[0].QuantityConsumed);
            Assert.Less((DateTimeOffset.UtcNow - e.Created).Duration(), TimeSpan.FromHours(1));
            Assert.AreEqual(7, Emulator.Balance(user, Emulator.Consumable));

            // Applied but not acknowledged: listed.
            LedgerItems open = l.Pending();
            Assert.AreEqual(e.Id, open.Entries.Single().Id);
            StringAssert.DoesNotContain(key, open.Json, "the key never leaves the ledger");
            l.Acknowledge(e.Id);
            l.Acknowledge(e.Id); // idempotent
            Assert.AreEqual(0, l.Pending().Entries.Count);

            // The same tracking id again returns the same entry: no second consume.
            var again = new LedgerConsumeRequest("player-" + mode, key, Emulator.Consumable, 3) { TrackingId = e.Id };
            LedgerEntry same = Await(c, l.ConsumeAsync(c, again));
            Assert.AreEqual(e.Id, same.Id);
            Assert.AreEqual(LedgerEntryState.Completed, same.State);
            Assert.AreEqual(7, Emulator.Balance(user, Emulator.Consumable));
        }

        [Test]
        public void Dispose_WithAConsumeInFlight_TheConsumeFinishes()
        {
            string user = "ledger-dispose-in-flight", order;
            string key = Player(user, 3, out order);
            var c = NewClient();
            StoreLedger l = OpenLedger(NewPath());
            Emulator.AddFault("{\"route\":\"collections_v8_consume\",\"kind\":\"delay\",\"ms\":300,\"times\":1}");
            var t = l.ConsumeAsync(c, new LedgerConsumeRequest("p", key, Emulator.Consumable, 1));
            l.Dispose(); // the operation keeps its own reference to the database
            LedgerEntry e = Await(c, t);
            Assert.AreEqual(LedgerEntryState.Applied, e.State);
            Assert.AreEqual(2, Emulator.Balance(user, Emulator.Consumable));
        }

        [Test]
        public void Consume_Canceled_IsUnknown_StaysRecorded_AndTheNextReconcileFinishesIt()
        {
            string user = "ledger-canceled", order;
            string key = Player(user, 5, out order);
            string path = NewPath();
            var c = NewClient();
            StoreLedger l = OpenLedger(path);
            string cancelledId;
            Emulator.AddFault("{\"route\":\"collections_v8_consume\",\"kind\":\"delay\",\"ms\":1000,\"times\":1}");
            using (var cts = new System.Threading.CancellationTokenSource())
            {
                var t = l.ConsumeAsync(c, new LedgerConsumeRequest("p", key, Emulator.Consumable, 2), cts.Token);
                // Cancel once the entry is recorded (the send is then stalled in the emulator).
                DateTime until = DateTime.UtcNow + HangGuard;
                while (l.Pending().Entries.Count == 0)
                {
                    if (DateTime.UtcNow > until) Assert.Fail("the entry was never recorded");
                    System.Threading.Thread.Sleep(5);
                }
                cts.Cancel();
                Drive(c, t);
                // Cancelled after it started: not a verdict, so the outcome reads unknown, with
                // the entry's id to resend (or to let the next reconcile resend).
                Assert.IsTrue(t.IsFaulted, "status " + t.Status);
                var unknown = t.Exception.InnerException as ConsumeOutcomeUnknownException;
                Assert.IsNotNull(unknown, "got " + t.Exception.InnerException);
                cancelledId = unknown.TrackingId;
            }
            LedgerEntry recorded = l.Pending().Entries.Single();
            Assert.AreEqual(LedgerEntryState.Pending, recorded.State, "outcome unknown: not granted");
            Assert.AreEqual(recorded.Id, cancelledId, "the exception names the entry");
            // Cancelling released it: the same ledger resends it at the next reconcile (same
            // trackingId), no restart needed.
            LedgerEntry done = Await(c, l.ReconcileAsync(c)).Entries.Single();
            Assert.AreEqual(recorded.Id, done.Id);
            Assert.AreEqual(LedgerEntryState.Applied, done.State);
            Assert.AreEqual(3, Emulator.Balance(user, Emulator.Consumable), "applied exactly once");
            l.Acknowledge(done.Id);
        }

        [Test]
        public void Consume_Refused_IsFailed_AndNothingApplied()
        {
            string user = "ledger-refused", order;
            string key = Player(user, 1, out order);
            var c = NewClient();
            StoreLedger l = OpenLedger(NewPath());
            LedgerEntry e = Await(c, l.ConsumeAsync(c, new LedgerConsumeRequest("p", key, Emulator.Consumable, 5)));
            Assert.AreEqual(LedgerEntryState.Failed, e.State);
            Assert.IsNotNull(e.LastError);
            Assert.IsNull(e.NewQuantity);
            Assert.AreEqual(1, Emulator.Balance(user, Emulator.Consumable));
            var ack = Assert.Throws<StoreArgumentException>(() => l.Acknowledge(e.Id));
            Assert.AreEqual(StoreResult.InvalidArgument, ack.Code, "nothing to grant");
            Assert.AreEqual(0, l.Pending().Entries.Count, "final");
        }

        [Test]
        public void DroppedAnswer_Restart_Reconcile_AppliedExactlyOnce()
        {
            string user = "ledger-dropped", order;
            string key = Player(user, 10, out order);
            string path = NewPath();
            var c = NewClient(maxAttempts: 1);
            StoreLedger l = OpenLedger(path);

            // The Store applies the consume, but the answer never arrives.
            Emulator.AddFault("{\"route\":\"collections_v8_consume\",\"kind\":\"drop_after_apply\",\"times\":1}");
            LedgerEntry pending = Await(c, l.ConsumeAsync(c, new LedgerConsumeRequest("player-9", key, Emulator.Consumable, 2)));
            Assert.AreEqual(LedgerEntryState.Pending, pending.State, "unknown: do not grant");
            Assert.IsNotNull(pending.LastError);
            Assert.IsNull(pending.NewQuantity);
            Assert.AreEqual(1, pending.Attempts);
            Assert.AreEqual(8, Emulator.Balance(user, Emulator.Consumable), "the Store applied it");
            var e = Assert.Throws<StoreArgumentException>(() => l.Acknowledge(pending.Id));
            Assert.AreEqual("invalid_argument", e.Kind);

            // "Restart": the client and the ledger go away; new ones open the same file.
            c.Dispose();
            l.Dispose();
            Assert.IsTrue(l.IsDisposed);
            Assert.Throws<ObjectDisposedException>(() => l.Pending());
            var c2 = NewClient();
            StoreLedger l2 = OpenLedger(path);
            LedgerEntry listed = l2.Pending().Entries.Single();
            Assert.AreEqual(pending.Id, listed.Id);
            Assert.AreEqual(LedgerEntryState.Pending, listed.State);

            LedgerItems r = Await(c2, l2.ReconcileAsync(c2));
            LedgerEntry replayed = r.Entries.Single();
            Assert.AreEqual(pending.Id, replayed.Id);
            Assert.AreEqual(LedgerEntryState.Applied, replayed.State, "resent with the same tracking id");
            Assert.AreEqual(2, replayed.Attempts);
            Assert.AreEqual(8, replayed.NewQuantity);
            Assert.AreEqual(order, replayed.Transactions.Single().OrderId);
            Assert.AreEqual(0, r.Revocations.Count);
            Assert.AreEqual(8, Emulator.Balance(user, Emulator.Consumable), "applied exactly once");

            l2.Acknowledge(replayed.Id);
            Assert.AreEqual(0, l2.Pending().Entries.Count);
            Assert.AreEqual(0, Await(c2, l2.ReconcileAsync(c2)).Entries.Count, "nothing left to hand out");
            Assert.AreEqual(8, Emulator.Balance(user, Emulator.Consumable));
        }

        [Test]
        public void Clawback_FromTheQueue_RevokesWhatWasConsumed()
        {
            Emulator.ClearQueue();
            string user = "ledger-claw", order;
            string key = Player(user, 5, out order);
            var c = NewClient();
            StoreLedger l = OpenLedger(NewPath());
            LedgerEntry e = Await(c, l.ConsumeAsync(c, new LedgerConsumeRequest("player-7", key, Emulator.Consumable, 2)));
            Assert.AreEqual(LedgerEntryState.Applied, e.State);
            l.Acknowledge(e.Id);

            // Refunded after 2 of 5 were consumed: a Revoked event.
            Emulator.Clawback("return", user, order);
            ClawbackMessage m = Await(c, c.ReceiveClawbackMessagesAsync()).Single();
            Assert.AreEqual(ClawbackEventState.Revoked, m.Event.State);

            ClawbackApplication applied = l.ApplyClawback(ClawbackMatch.From(m.Event));
            Assert.IsFalse(applied.IsDuplicate);
            LedgerRevocation v = applied.Revocations.Single();
            Assert.AreEqual(RevocationKind.Revoke, v.Kind);
            Assert.AreEqual("player-7", v.PlayerRef);
            Assert.AreEqual(Emulator.Consumable, v.ProductId);
            Assert.AreEqual(2, v.Quantity);
            Assert.AreEqual(e.Id, v.EntryId);
            Assert.AreEqual(order, v.OrderId);
            Assert.AreEqual(m.Event.LineItemId, v.LineItemId);
            Assert.AreEqual(m.Event.Id, v.EventId);
            Assert.IsNull(v.Reverses);
            Assert.IsFalse(v.Acknowledged);

            // The same event again (e.g. redelivered before the delete): nothing new.
            ClawbackApplication dup = l.ApplyClawback(ClawbackMatch.From(m.Event));
            Assert.IsTrue(dup.IsDuplicate);
            Assert.AreEqual(v.Id, dup.Revocations.Single().Id);
            Await(c, c.DeleteClawbackMessageAsync(m)); // reconciled durably: now delete it

            Assert.AreEqual(v.Id, l.RevocationsToApply().Single().Id);
            Assert.AreEqual(v.Id, l.Pending().Revocations.Single().Id);
            l.AcknowledgeRevocation(v.Id);
            l.AcknowledgeRevocation(v.Id); // idempotent
            Assert.AreEqual(0, l.RevocationsToApply().Count);
            Assert.AreEqual(0, l.Pending().Revocations.Count);
        }

        [Test]
        public void Clawback_RefundedRecordsNothing_ReversalRestores()
        {
            string user = "ledger-reversal", order;
            string key = Player(user, 4, out order);
            string line;
            var c = NewClient();
            StoreLedger l = OpenLedger(NewPath());
            LedgerEntry e = Await(c, l.ConsumeAsync(c, new LedgerConsumeRequest("player-3", key, Emulator.Consumable, 1)));
            l.Acknowledge(e.Id);
            line = e.Transactions.Single().OrderLineItemId;

            // Refunded: the customer keeps the item: recorded, not a revocation.
            var keep = l.ApplyClawback(new ClawbackMatch("ev-keep", order, line, Emulator.Consumable, ClawbackEventState.Refunded));
            Assert.IsFalse(keep.IsDuplicate);
            Assert.AreEqual(0, keep.Revocations.Count);

            LedgerRevocation revoke = l.ApplyClawback(
                new ClawbackMatch("ev-chargeback", order, line, Emulator.Consumable, ClawbackEventState.Revoked)).Revocations.Single();
            Assert.AreEqual(1, revoke.Quantity);
            LedgerRevocation restore = l.ApplyClawback(
                new ClawbackMatch("ev-reversal", order, line, Emulator.Consumable, ClawbackEventState.ChargebackReversal)).Revocations.Single();
            Assert.AreEqual(RevocationKind.Restore, restore.Kind);
            Assert.AreEqual(revoke.Id, restore.Reverses);
            Assert.AreEqual(1, restore.Quantity);
            Assert.AreEqual("player-3", restore.PlayerRef);

            // An event for an order the ledger never consumed from matches nothing.
            Assert.AreEqual(0, l.ApplyClawback(
                new ClawbackMatch("ev-other", "no-such-order", line, Emulator.Consumable, ClawbackEventState.Revoked)).Revocations.Count);

            var todo = l.RevocationsToApply();
            CollectionAssert.AreEquivalent(new[] { revoke.Id, restore.Id }, todo.Select(x => x.Id));
            foreach (LedgerRevocation x in todo) l.AcknowledgeRevocation(x.Id);
            Assert.AreEqual(0, l.Pending().Revocations.Count);
        }

        [Test]
        public void Errors_MapToTheirFamilies()
        {
            // Storage: the file cannot be created.
            var s = Assert.Throws<LedgerStorageException>(() =>
                new StoreLedger(LedgerOptions.Sqlite(Path.Combine(dir, "no-such-dir", "x", "l.sqlite"))).Dispose());
            Assert.AreEqual(StoreResult.Storage, s.Code);
            Assert.AreEqual("storage", s.Kind);

            // Configuration: PostgreSQL without an instance id; the password never shows.
            var cfg = Assert.Throws<StoreConfigurationException>(() =>
                new StoreLedger(new LedgerOptions { PostgresUrl = "postgres://u:secret-pw@127.0.0.1:1/db" }).Dispose());
            StringAssert.DoesNotContain("secret-pw", cfg.ToString());
            StringAssert.DoesNotContain("secret-pw", cfg.Json ?? "");
            StringAssert.DoesNotContain("secret-pw", LedgerOptions.Postgres("postgres://u:secret-pw@h/db", "i").ToString());

            Assert.Throws<ArgumentNullException>(() => new StoreLedger(null));
            Assert.Throws<ArgumentOutOfRangeException>(() => new StoreLedger(new LedgerOptions { SendRounds = -1 }));
            Assert.Throws<StoreArgumentException>(() => new StoreLedger(LedgerOptions.Sqlite("\ud800")));

            StoreLedger l = OpenLedger(NewPath());
            var c = NewClient();
            Assert.Throws<StoreNotFoundException>(() => l.Acknowledge("no-such-entry"));
            Assert.Throws<StoreNotFoundException>(() => l.AcknowledgeRevocation("no-such-revocation"));
            Assert.Throws<ArgumentNullException>(() => l.Acknowledge(null));
            Assert.Throws<StoreArgumentException>(() => l.Acknowledge("\udc00"));
            Assert.Throws<StoreArgumentException>(() =>
                l.ApplyClawback(new ClawbackMatch("ev", "o", "l", "p", ClawbackEventState.Other)));
            Assert.Throws<StoreArgumentException>(() =>
                l.ApplyClawback(new ClawbackMatch("", "o", "l", "p", ClawbackEventState.Revoked)));
            Assert.Throws<StoreArgumentException>(() =>
                l.ApplyClawback(new ClawbackMatch(null, "o", "l", "p", ClawbackEventState.Revoked)));

            // Consume: a missing field fails at start (a faulted Task), and nothing is recorded.
            Fails<StoreArgumentException>(c, l.ConsumeAsync(c, new LedgerConsumeRequest(null, Emulator.CollectionsKey, Emulator.Consumable, 1)));
            Fails<StoreArgumentException>(c, l.ConsumeAsync(c, new LedgerConsumeRequest("p", "\ud800", Emulator.Consumable, 1)));
            Assert.Throws<ArgumentOutOfRangeException>(() =>
                l.ConsumeAsync(c, new LedgerConsumeRequest("p", Emulator.CollectionsKey, Emulator.Consumable, -1)));
            Assert.Throws<ArgumentNullException>(() => l.ConsumeAsync(null, new LedgerConsumeRequest("p", "k", "x", 1)));
            Assert.AreEqual(0, l.Pending().Entries.Count);

            // A tracking id that belongs to another consume.
            string user = "ledger-errors", order;
            string key = Player(user, 5, out order);
            LedgerEntry e = Await(c, l.ConsumeAsync(c, new LedgerConsumeRequest("p", key, Emulator.Consumable, 1)));
            var reuse = new LedgerConsumeRequest("other-player", key, Emulator.Consumable, 2) { TrackingId = e.Id };
            Fails<StoreArgumentException>(c, l.ConsumeAsync(c, reuse));
            Assert.AreEqual(4, Emulator.Balance(user, Emulator.Consumable));

            // After Dispose every call throws; nothing starts, nothing leaks (the teardown checks).
            l.Dispose();
            Assert.Throws<ObjectDisposedException>(() => l.Acknowledge(e.Id));
            Assert.Throws<ObjectDisposedException>(() => l.ReconcileAsync(c));
            Assert.Throws<ObjectDisposedException>(() => l.ConsumeAsync(c, new LedgerConsumeRequest("p", key, Emulator.Consumable, 1)));
            Assert.AreEqual(0, c.PendingOperations);
            l.Dispose(); // idempotent
        }
    }
}

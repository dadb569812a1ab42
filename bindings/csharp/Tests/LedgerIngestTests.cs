// Clawback ingestion into the ledger against the emulator, on a throw-away SQLite file per test:
// a consume through the ledger, then POST /admin/clawback, then IngestClawbackAsync (v2 queue) or
// IngestClawbackOrdersAsync (v1 orders), checking the counts, the revocations created, and the
// queue left behind: a Revoked refund revokes what the player consumed, a Refunded one (the
// customer keeps the item) revokes nothing, a redelivery is a duplicate, another sandbox's event
// stays on the queue, a canceled pass keeps what it recorded. The queue is shared by the whole
// run: each test empties it first.
using System;
using System.IO;
using System.Linq;
using System.Threading;
using NUnit.Framework;

namespace Msstore.Tests
{
    [TestFixture]
    public class LedgerIngestTests : StoreTestBase
    {
        private string dir;
        private int files;

        [OneTimeSetUp]
        public void MakeTempDir()
        {
            dir = Path.Combine(Path.GetTempPath(), "msstore-cs-ingest-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(dir);
        }

        [OneTimeTearDown]
        public void RemoveTempDir()
        {
            if (dir != null && Directory.Exists(dir)) Directory.Delete(dir, true);
        }

        private StoreLedger OpenLedger()
        {
            return Own(new StoreLedger(LedgerOptions.Sqlite(Path.Combine(dir, "ledger-" + (++files) + ".sqlite"))));
        }

        /// <summary>A player who bought <paramref name="units"/> of the consumable and consumed
        /// <paramref name="consumed"/> of them through the ledger (granted and acknowledged).</summary>
        private LedgerEntry BuyAndConsume(StoreClient c, StoreLedger l, string user, string playerRef, int units, int consumed,
            out string order)
        {
            string key = Emulator.MintKey("collections", user);
            string line;
            order = Emulator.BuyOrder(user, Emulator.Consumable, units, out line);
            LedgerEntry e = Await(c, l.ConsumeAsync(c, new LedgerConsumeRequest(playerRef, key, Emulator.Consumable, consumed)));
            Assert.AreEqual(LedgerEntryState.Applied, e.State);
            l.Acknowledge(e.Id);
            return e;
        }

        /// <summary>Claws <paramref name="order"/> back; returns the id of the one event enqueued,
        /// after checking its state.</summary>
        private static string ClawBack(string action, string user, string order, string expectedState)
        {
            string outcome = Emulator.Clawback(action, user, order);
            Assert.AreEqual(expectedState, Emulator.Field(outcome, "event_state"), outcome);
            string eventId = Emulator.Field(outcome, "event_id");
            Assert.IsNotNull(eventId, outcome);
            return eventId;
        }

        private static void AssertCounts(ClawbackIngestResult r, int received, int applied, int duplicates, int deleted,
            int deadLettered = 0, int ignored = 0, int unmatched = 0, int deleteErrors = 0)
        {
            string all = r.ToString();
            Assert.AreEqual(received, r.Received, "received: " + all);
            Assert.AreEqual(applied, r.Applied, "applied: " + all);
            Assert.AreEqual(duplicates, r.Duplicates, "duplicates: " + all);
            Assert.AreEqual(deleted, r.Deleted, "deleted: " + all);
            Assert.AreEqual(deadLettered, r.DeadLettered, "dead-lettered: " + all);
            Assert.AreEqual(ignored, r.Ignored, "ignored: " + all);
            Assert.AreEqual(unmatched, r.Unmatched, "unmatched: " + all);
            Assert.AreEqual(deleteErrors, r.DeleteErrors, "delete errors: " + all);
            Assert.AreEqual(0, r.DeleteConflicts, "delete conflicts: " + all);
        }

        [Test, TestCaseSource(typeof(OperationTests), "Modes")]
        public void Queue_Revoked_CreatesARevocationForThePlayer(StoreCompletion mode)
        {
            Emulator.ClearQueue();
            string user = "ingest-revoked-" + mode, order;
            var c = NewClient(mode);
            StoreLedger l = OpenLedger();
            LedgerEntry e = BuyAndConsume(c, l, user, "player-" + mode, 3, 3, out order);

            // Returned after all 3 were consumed: Revoked. Plus one message that is no event.
            string eventId = ClawBack("return", user, order, "Revoked");
            Emulator.EnqueueText("%%% not an event");

            ClawbackIngestResult r = Await(c, l.IngestClawbackAsync(c));
            AssertCounts(r, received: 2, applied: 1, duplicates: 0, deleted: 2, deadLettered: 1);
            LedgerRevocation v = r.Revocations.Single();
            Assert.AreEqual(RevocationKind.Revoke, v.Kind);
            Assert.AreEqual("player-" + mode, v.PlayerRef);
            Assert.AreEqual(Emulator.Consumable, v.ProductId);
            Assert.AreEqual(3, v.Quantity);
            Assert.AreEqual(e.Id, v.EntryId);
            Assert.AreEqual(order, v.OrderId);
            Assert.AreEqual(e.Transactions.Single().OrderLineItemId, v.LineItemId);
            Assert.AreEqual(eventId, v.EventId);
            Assert.IsNull(v.Reverses);
            Assert.IsFalse(v.Acknowledged);
            StringAssert.Contains("\"summary\"", r.Json);
            StringAssert.Contains(v.Id, r.Json);

            // Handed to this process already; still open until acknowledged.
            Assert.AreEqual(0, l.RevocationsToApply().Count);
            Assert.AreEqual(v.Id, l.Pending().Revocations.Single().Id);
            l.AcknowledgeRevocation(v.Id);
            Assert.AreEqual(0, l.Pending().Revocations.Count);

            // Both messages were deleted: the next pass finds nothing.
            Assert.AreEqual(0, Await(c, c.PeekClawbackMessagesAsync()).Count);
            ClawbackIngestResult again = Await(c, l.IngestClawbackAsync(c));
            AssertCounts(again, received: 0, applied: 0, duplicates: 0, deleted: 0);
            Assert.AreEqual(0, again.Revocations.Count);
        }

        [Test]
        public void Queue_Refunded_KeepsTheItem_NoRevocation()
        {
            Emulator.ClearQueue();
            string user = "ingest-refunded", order;
            var c = NewClient();
            StoreLedger l = OpenLedger();
            BuyAndConsume(c, l, user, "player-keeps", 2, 1, out order);

            ClawBack("refund", user, order, "Refunded");
            ClawbackIngestResult r = Await(c, l.IngestClawbackAsync(c));
            AssertCounts(r, received: 1, applied: 1, duplicates: 0, deleted: 1);
            Assert.AreEqual(0, r.Revocations.Count, "the customer keeps the item: nothing to take back");
            Assert.AreEqual(0, l.Pending().Revocations.Count);
            Assert.AreEqual(0, l.RevocationsToApply().Count);
            Assert.AreEqual(0, Await(c, c.PeekClawbackMessagesAsync()).Count, "recorded, then deleted");
        }

        [Test]
        public void Queue_Redelivery_IsADuplicate_WithoutASecondRevocation()
        {
            Emulator.ClearQueue();
            string user = "ingest-redelivered", order;
            var c = NewClient(maxAttempts: 1);
            StoreLedger l = OpenLedger();
            BuyAndConsume(c, l, user, "player-twice", 4, 2, out order);
            string eventId = ClawBack("return", user, order, "Revoked");

            // Recorded, but the delete fails: the message comes back after the visibility timeout.
            Emulator.AddFault("{\"route\":\"queue_delete\",\"kind\":\"status\",\"status\":500,\"times\":1}");
            ClawbackIngestResult first = Await(c, l.IngestClawbackAsync(c));
            AssertCounts(first, received: 1, applied: 1, duplicates: 0, deleted: 0, deleteErrors: 1);
            LedgerRevocation v = first.Revocations.Single();
            Assert.AreEqual(2, v.Quantity);
            Assert.AreEqual(eventId, v.EventId);

            Emulator.AdvanceClock(31);
            ClawbackIngestResult second = Await(c, l.IngestClawbackAsync(c));
            AssertCounts(second, received: 1, applied: 0, duplicates: 1, deleted: 1);
            Assert.AreEqual(0, second.Revocations.Count, "a redelivery revokes nothing new");
            Assert.AreEqual(v.Id, l.Pending().Revocations.Single().Id, "still the one revocation");
            Assert.AreEqual(0, Await(c, c.PeekClawbackMessagesAsync()).Count);
        }

        [Test]
        public void Queue_OtherSandbox_StaysOnTheQueue_UntilItsServerIngestsIt()
        {
            Emulator.ClearQueue();
            const string sbx = "SBXINGEST";
            string user = "ingest-sandbox";
            var c = NewClient();
            StoreLedger l = OpenLedger();
            string resp = Emulator.Admin("POST", "/admin/purchases", "{\"store_user_id\":\"" + user + "\",\"product_id\":\"" +
                Emulator.Consumable + "\",\"quantity\":2,\"sandbox\":\"" + sbx + "\"}");
            string order = Emulator.Field(resp, "order_id");
            string outcome = Emulator.Admin("POST", "/admin/clawback", "{\"action\":\"return\",\"store_user_id\":\"" + user +
                "\",\"order_id\":\"" + order + "\",\"sandbox\":\"" + sbx + "\"}");
            Assert.AreEqual("Returned", Emulator.Field(outcome, "event_state"), outcome);

            // A RETAIL server leaves it alone (hidden for VisibilityTimeout only).
            var opts = new ClawbackIngestOptions { VisibilityTimeout = TimeSpan.FromSeconds(1), MaxMessages = 5, MaxBatches = 2 };
            ClawbackIngestResult retail = Await(c, l.IngestClawbackAsync(c, opts));
            AssertCounts(retail, received: 1, applied: 0, duplicates: 0, deleted: 0, ignored: 1);
            Assert.AreEqual(0, retail.Revocations.Count);

            // The sandbox's server records it; no consume drew from that line: unmatched, kept.
            Emulator.AdvanceClock(2);
            opts.ExpectedSandbox = sbx;
            ClawbackIngestResult mine = Await(c, l.IngestClawbackAsync(c, opts));
            AssertCounts(mine, received: 1, applied: 1, duplicates: 0, deleted: 1, unmatched: 1);
            Assert.AreEqual(0, mine.Revocations.Count);
        }

        [Test]
        public void Orders_V1_RevokesOnce_AndTheQueueEventIsThenNothingNew()
        {
            Emulator.ClearQueue();
            string user = "ingest-v1", order;
            var c = NewClient();
            StoreLedger l = OpenLedger();
            string purchaseKey = Emulator.MintKey("purchase", user);
            LedgerEntry e = BuyAndConsume(c, l, user, "player-v1", 3, 3, out order);
            ClawBack("return", user, order, "Revoked");

            // v1 sees the line Revoked: one revocation, under a v1 event id.
            ClawbackIngestResult r = Await(c, l.IngestClawbackOrdersAsync(c, purchaseKey));
            AssertCounts(r, received: 1, applied: 1, duplicates: 0, deleted: 0);
            LedgerRevocation v = r.Revocations.Single();
            Assert.AreEqual(RevocationKind.Revoke, v.Kind);
            Assert.AreEqual("player-v1", v.PlayerRef);
            Assert.AreEqual(3, v.Quantity);
            Assert.AreEqual(e.Id, v.EntryId);
            Assert.AreEqual(order, v.OrderId);
            StringAssert.StartsWith("v1:" + order + ":", v.EventId);

            // Polling again: the same line, recorded before.
            ClawbackIngestResult again = Await(c, l.IngestClawbackOrdersAsync(c, purchaseKey, null));
            AssertCounts(again, received: 1, applied: 0, duplicates: 1, deleted: 0);
            Assert.AreEqual(0, again.Revocations.Count);

            // The v2 event of the same refund: recorded under its own id, nothing revoked twice.
            ClawbackIngestResult q = Await(c, l.IngestClawbackAsync(c));
            AssertCounts(q, received: 1, applied: 1, duplicates: 0, deleted: 1);
            Assert.AreEqual(0, q.Revocations.Count, "the units were already taken back");
            Assert.AreEqual(v.Id, l.Pending().Revocations.Single().Id);
        }

        [Test]
        public void Canceled_StopsTheWait_WhatWasRecordedStays_TheMessageComesBackAsADuplicate()
        {
            Emulator.ClearQueue();
            string user = "ingest-canceled", order;
            var c = NewClient();
            StoreLedger l = OpenLedger();
            BuyAndConsume(c, l, user, "player-cancel", 2, 1, out order);
            ClawBack("return", user, order, "Revoked");

            // Already canceled: nothing starts.
            using (var done = new CancellationTokenSource())
            {
                done.Cancel();
                var t0 = l.IngestClawbackAsync(c, null, done.Token);
                Assert.IsTrue(t0.IsCanceled, "status " + t0.Status);
            }
            Assert.AreEqual(1, Await(c, c.PeekClawbackMessagesAsync()).Count, "untouched");

            // Canceled while the delete hangs, after the event was recorded.
            Emulator.AddFault("{\"route\":\"queue_delete\",\"kind\":\"delay\",\"ms\":120000,\"times\":1}");
            using (var cts = new CancellationTokenSource())
            {
                var t = l.IngestClawbackAsync(c, null, cts.Token);
                DateTime until = DateTime.UtcNow + HangGuard;
                while (l.Pending().Revocations.Count == 0)
                {
                    if (DateTime.UtcNow > until) Assert.Fail("the event was never recorded");
                    c.Pump();
                    Thread.Sleep(5);
                }
                cts.Cancel();
                Drive(c, t);
                Assert.IsTrue(t.IsCanceled, "status " + t.Status);
            }
            // Not handed out by the canceled pass: RevocationsToApply hands it out, once.
            LedgerRevocation v = l.RevocationsToApply().Single();
            Assert.AreEqual(1, v.Quantity);
            Assert.AreEqual("player-cancel", v.PlayerRef);
            Assert.AreEqual(0, l.RevocationsToApply().Count);

            // The undeleted message comes back: a duplicate, then deleted.
            Emulator.ClearFaults();
            Emulator.AdvanceClock(31);
            ClawbackIngestResult r = Await(c, l.IngestClawbackAsync(c));
            AssertCounts(r, received: 1, applied: 0, duplicates: 1, deleted: 1);
            Assert.AreEqual(0, r.Revocations.Count);
            Assert.AreEqual(v.Id, l.Pending().Revocations.Single().Id);
            Assert.AreEqual(0, c.PendingOperations);
        }

        [Test]
        public void BadInput_FailsClearly_AndStartsNothing()
        {
            var c = NewClient();
            StoreLedger l = OpenLedger();

            Assert.Throws<ArgumentNullException>(() => l.IngestClawbackAsync(null));
            Assert.Throws<ArgumentOutOfRangeException>(() => l.IngestClawbackAsync(c, new ClawbackIngestOptions { MaxMessages = 33 }));
            Assert.Throws<ArgumentOutOfRangeException>(() => l.IngestClawbackAsync(c, new ClawbackIngestOptions { MaxMessages = -1 }));
            Assert.Throws<ArgumentOutOfRangeException>(() => l.IngestClawbackAsync(c, new ClawbackIngestOptions { MaxBatches = 1001 }));
            Assert.Throws<ArgumentOutOfRangeException>(() =>
                l.IngestClawbackAsync(c, new ClawbackIngestOptions { VisibilityTimeout = TimeSpan.Zero }));
            Assert.Throws<ArgumentOutOfRangeException>(() =>
                l.IngestClawbackAsync(c, new ClawbackIngestOptions { VisibilityTimeout = TimeSpan.FromDays(8) }));
            // Refused by the library at start: a faulted Task.
            var blank = Fails<StoreArgumentException>(c, l.IngestClawbackAsync(c, new ClawbackIngestOptions { ExpectedSandbox = "  " }));
            Assert.AreEqual(StoreResult.InvalidArgument, blank.Code);
            var utf = Fails<StoreArgumentException>(c, l.IngestClawbackAsync(c, new ClawbackIngestOptions { ExpectedSandbox = "\ud800" }));
            Assert.AreEqual(StoreResult.InvalidUtf8, utf.Code);

            Assert.Throws<ArgumentNullException>(() => l.IngestClawbackOrdersAsync(c, null));
            Assert.Throws<ArgumentNullException>(() => l.IngestClawbackOrdersAsync(null, Emulator.PurchaseKey));
            Fails<StoreArgumentException>(c, l.IngestClawbackOrdersAsync(c, "\udc00"));
            Fails<StoreArgumentException>(c, l.IngestClawbackOrdersAsync(c, Emulator.PurchaseKey, "\ud800"));
            // A collections key where the purchase key belongs: refused by the service, no secret shown.
            var svc = Fails<StoreException>(c, l.IngestClawbackOrdersAsync(c, Emulator.CollectionsKey));
            StringAssert.DoesNotContain(Emulator.CollectionsKey, svc.ToString());
            Assert.AreEqual(0, l.Pending().Revocations.Count);

            l.Dispose();
            Assert.Throws<ObjectDisposedException>(() => l.IngestClawbackAsync(c));
            Assert.Throws<ObjectDisposedException>(() => l.IngestClawbackOrdersAsync(c, Emulator.PurchaseKey));
            Assert.AreEqual(0, c.PendingOperations);
        }
    }
}

// Refunds against the emulator: clawback v1 (orders query), the v2 queue (peek, receive,
// delete, stale pop receipts) and the typed event states the emulator's admin actions produce.
using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using NUnit.Framework;

namespace Msstore.Tests
{
    [TestFixture]
    public class ClawbackTests : StoreTestBase
    {
        [SetUp]
        public void EmptyTheQueue()
        {
            Emulator.ClearQueue();
        }

        private static string Buy(string user, string product, int qty, out string line)
        {
            string order = Emulator.BuyOrder(user, product, qty, out line);
            Assert.IsNotNull(order, "the emulator returned no order id");
            return order;
        }

        /// <summary>Receives until <paramref name="n"/> messages arrived (the emulator enqueues
        /// synchronously, so one receive is enough; the loop only absorbs a short batch).</summary>
        private IList<ClawbackMessage> ReceiveAll(StoreClient c, int n)
        {
            var all = new List<ClawbackMessage>();
            for (int i = 0; i < 5 && all.Count < n; i++)
                all.AddRange(Await(c, c.ReceiveClawbackMessagesAsync(32, TimeSpan.FromSeconds(30))));
            Assert.AreEqual(n, all.Count, "messages on the queue");
            return all;
        }

        [Test, TestCaseSource(typeof(OperationTests), "Modes")]
        public void OrdersV1_FiltersByLineState(StoreCompletion mode)
        {
            string user = "claw-v1-" + mode;
            string pkey = Emulator.MintKey("purchase", user);
            string line;
            string returned = Buy(user, Emulator.Consumable, 3, out line);
            string kept = Buy(user, Emulator.Consumable, 2, out line);
            Emulator.Clawback("return", user, returned);
            var c = NewClient(mode);

            // Default filter: Revoked + Refunded.
            ClawbackOrderPage refunded = Await(c, c.QueryClawbackOrdersAsync(new ClawbackOrdersQuery(pkey)));
            Assert.AreEqual(1, refunded.Items.Count);
            ClawbackOrderLine l = refunded.Items[0];
            Assert.AreEqual(returned, l.OrderId);
            Assert.AreEqual(ClawbackLineState.Refunded, l.LineState, "returned before any unit was consumed");
            Assert.AreEqual("Refunded", l.LineStateName);
            Assert.AreEqual(Emulator.Consumable, l.ProductId);
            Assert.AreEqual(3, l.Quantity);
            Assert.IsTrue(l.WasConsumableQuantityRevoked);
            Assert.IsTrue(l.OrderRefundedDate.HasValue);
            Assert.IsTrue(l.OrderPurchasedDate.HasValue);
            Assert.LessOrEqual(l.OrderPurchasedDate.Value, l.OrderRefundedDate.Value);
            Assert.IsNotNull(l.LineItemId);
            Assert.IsNull(refunded.ContinuationToken);
            StringAssert.Contains(returned, refunded.RawJson);

            ClawbackOrderPage purchased = Await(c, c.QueryClawbackOrdersAsync(new ClawbackOrdersQuery(pkey, ClawbackLineState.Purchased)));
            Assert.AreEqual(1, purchased.Items.Count);
            Assert.AreEqual(kept, purchased.Items[0].OrderId);
            Assert.AreEqual(ClawbackLineState.Purchased, purchased.Items[0].LineState);
            Assert.IsFalse(purchased.Items[0].OrderRefundedDate.HasValue);

            ClawbackOrderPage both = Await(c, c.QueryClawbackOrdersAsync(
                new ClawbackOrdersQuery(pkey, ClawbackLineState.Purchased, ClawbackLineState.Refunded)));
            CollectionAssert.AreEquivalent(new[] { returned, kept }, both.Items.Select(i => i.OrderId));
        }

        [Test]
        public void OrdersV1_RevokedAfterConsumption()
        {
            string user = "claw-v1-revoked";
            string pkey = Emulator.MintKey("purchase", user);
            string ckey = Emulator.MintKey("collections", user);
            string line;
            string order = Buy(user, Emulator.Consumable, 3, out line);
            var c = NewClient();
            Await(c, c.ConsumeAsync(new ConsumeRequest(ckey, Emulator.Consumable, 1)));
            Emulator.Clawback("return", user, order);
            ClawbackOrderPage page = Await(c, c.QueryClawbackOrdersAsync(new ClawbackOrdersQuery(pkey, ClawbackLineState.Revoked)));
            Assert.AreEqual(1, page.Items.Count);
            Assert.AreEqual(ClawbackLineState.Revoked, page.Items[0].LineState);
            Assert.AreEqual(line, page.Items[0].LineItemId);
        }

        [Test]
        public void OrdersV1_PageByPage()
        {
            string user = "claw-v1-pages";
            string pkey = Emulator.MintKey("purchase", user);
            string line;
            var orders = new List<string>();
            for (int i = 0; i < 3; i++)
            {
                orders.Add(Buy(user, Emulator.Consumable, 1, out line));
                Emulator.Clawback("refund", user, orders[i]);
            }
            Emulator.SetKnobs("{\"clawback_orders_page_size\":2}");
            try
            {
                var c = NewClient();
                var q = new ClawbackOrdersQuery(pkey);
                ClawbackOrderPage first = Await(c, c.QueryClawbackOrdersPageAsync(q, null));
                Assert.AreEqual(2, first.Items.Count);
                Assert.IsNotNull(first.ContinuationToken, "a second page");
                ClawbackOrderPage second = Await(c, c.QueryClawbackOrdersPageAsync(q, first.ContinuationToken));
                Assert.AreEqual(1, second.Items.Count);
                Assert.IsNull(second.ContinuationToken, "the last page");
                CollectionAssert.AreEquivalent(orders, first.Items.Concat(second.Items).Select(i => i.OrderId));
                // All pages at once gives the same three.
                ClawbackOrderPage all = Await(c, c.QueryClawbackOrdersAsync(q));
                CollectionAssert.AreEquivalent(orders, all.Items.Select(i => i.OrderId));
            }
            finally
            {
                Emulator.SetKnobs("{\"clawback_orders_page_size\":100}");
            }
        }

        [Test, TestCaseSource(typeof(OperationTests), "Modes")]
        public void Queue_PeekReceiveDelete_WithAStalePopReceipt(StoreCompletion mode)
        {
            string user = "claw-queue-" + mode;
            string line;
            string order = Buy(user, Emulator.Consumable, 3, out line);
            Emulator.Clawback("return", user, order);
            var c = NewClient(mode);

            // Peek: the event without a pop receipt; nothing changes.
            ClawbackMessage peeked = Await(c, c.PeekClawbackMessagesAsync()).Single();
            Assert.IsNull(peeked.PopReceipt);
            Assert.AreEqual(0, peeked.DequeueCount);
            Assert.IsNotNull(peeked.Event);
            Assert.AreEqual(ClawbackEventState.Returned, peeked.Event.State);
            Assert.Throws<ArgumentException>(() => c.DeleteClawbackMessageAsync(peeked));

            // Receive: hidden for the visibility timeout.
            ClawbackMessage first = Await(c, c.ReceiveClawbackMessagesAsync(32, TimeSpan.FromSeconds(30))).Single();
            Assert.AreEqual(peeked.MessageId, first.MessageId);
            Assert.AreEqual(1, first.DequeueCount);
            Assert.IsNotNull(first.PopReceipt);
            Assert.IsTrue(first.InsertionTime.HasValue && first.ExpirationTime.HasValue && first.TimeNextVisible.HasValue);
            Assert.Greater(first.TimeNextVisible.Value, first.InsertionTime.Value);
            ClawbackEvent ev = first.Event;
            Assert.AreEqual(order, ev.OrderId);
            Assert.AreEqual(line, ev.LineItemId);
            Assert.AreEqual(Emulator.Consumable, ev.ProductId);
            Assert.AreEqual("Consumable", ev.ProductType);
            Assert.AreEqual("RETAIL", ev.SandboxId);
            Assert.AreEqual("/Purchase/Refund", ev.Source);
            Assert.AreEqual("Returned", ev.StateName);
            Assert.IsFalse(ev.RequiresRevocation);
            Assert.IsNull(ev.Recurrence);
            Assert.IsNotNull(ev.Id);
            Assert.IsTrue(ev.EventDate.HasValue && ev.PurchasedDate.HasValue);
            StringAssert.Contains(order, ev.Json);
            Assert.IsNull(first.EventError);
            Assert.AreEqual(0, Await(c, c.ReceiveClawbackMessagesAsync()).Count, "hidden while the receipt is valid");

            // The visibility lapses; a second receive supersedes the first receipt.
            Emulator.AdvanceClock(31);
            ClawbackMessage second = Await(c, c.ReceiveClawbackMessagesAsync(1, TimeSpan.FromSeconds(30))).Single();
            Assert.AreEqual(first.MessageId, second.MessageId);
            Assert.AreEqual(2, second.DequeueCount);
            Assert.AreNotEqual(first.PopReceipt, second.PopReceipt);
            Assert.AreEqual(ev.Id, second.Event.Id, "the same event again");

            var stale = Fails<PopReceiptMismatchException>(c, c.DeleteClawbackMessageAsync(first));
            Assert.AreEqual(StoreResult.PopReceiptMismatch, stale.Code);
            Assert.AreEqual("pop_receipt_mismatch", stale.Kind);
            Assert.Greater(stale.HttpStatus, 0);
            Await(c, c.DeleteClawbackMessageAsync(second));
            var gone = Fails<MessageNotFoundException>(c, c.DeleteClawbackMessageAsync(second.MessageId, second.PopReceipt));
            Assert.AreEqual(StoreResult.MessageNotFound, gone.Code);
            Assert.AreEqual("message_not_found", gone.Kind);
            Assert.AreEqual(404, gone.HttpStatus);
            Assert.AreEqual(0, Await(c, c.PeekClawbackMessagesAsync()).Count, "deleted");
        }

        [Test]
        public void EventStates_AreTyped()
        {
            string user = "claw-states";
            string ckey = Emulator.MintKey("collections", user);
            string line;
            var c = NewClient();

            // Revoked: refunded after a unit was consumed: the only one that asks to take back.
            string consumed = Buy(user, Emulator.Consumable, 2, out line);
            Await(c, c.ConsumeAsync(new ConsumeRequest(ckey, Emulator.Consumable, 1)));
            Emulator.Clawback("return", user, consumed);
            // Refunded: the customer keeps the item.
            string kept = Buy(user, Emulator.Durable, 1, out line);
            Emulator.Clawback("refund", user, kept);
            // A chargeback, then its reversal.
            string disputed = Buy(user, Emulator.Durable, 1, out line);
            Emulator.Clawback("chargeback", user, disputed);
            Emulator.Clawback("chargeback_reversal", user, disputed);

            IList<ClawbackMessage> msgs = ReceiveAll(c, 4);
            Func<string, ClawbackEventState, ClawbackEvent> find = (o, s) =>
                msgs.Select(m => m.Event).Single(e => e.OrderId == o && e.State == s);
            ClawbackEvent revoked = find(consumed, ClawbackEventState.Revoked);
            Assert.IsTrue(revoked.RequiresRevocation);
            Assert.AreEqual("Revoked", revoked.StateName);
            ClawbackEvent refunded = find(kept, ClawbackEventState.Refunded);
            Assert.IsFalse(refunded.RequiresRevocation, "Refunded is not a revocation");
            Assert.AreEqual(Emulator.Durable, refunded.ProductId);
            ClawbackEvent chargeback = find(disputed, ClawbackEventState.Returned);
            Assert.AreEqual("/Purchase/Chargeback", chargeback.Source);
            ClawbackEvent reversal = find(disputed, ClawbackEventState.ChargebackReversal);
            Assert.IsFalse(reversal.RequiresRevocation);
            Assert.AreEqual("/Purchase/Chargeback", reversal.Source);
            Assert.AreEqual(4, msgs.Select(m => m.Event.Id).Distinct().Count(), "one id per event");
            foreach (ClawbackMessage m in msgs) Await(c, c.DeleteClawbackMessageAsync(m));
        }

        [Test]
        public void EventStates_PartialSubscriptionRefund_CarriesRecurrenceData()
        {
            string user = "claw-subscription";
            string line;
            string order = Buy(user, Emulator.SubscriptionProduct, 1, out line);
            Emulator.Clawback("partial_subscription_refund", user, order);
            var c = NewClient();
            ClawbackEvent ev = ReceiveAll(c, 1)[0].Event;
            Assert.AreEqual(ClawbackEventState.Returned, ev.State);
            Assert.AreEqual(Emulator.SubscriptionProduct, ev.ProductId);
            Assert.IsNotNull(ev.Recurrence, "recurrenceData");
            Assert.AreEqual("Partial", ev.Recurrence.RefundType);
            Assert.IsNotNull(ev.Recurrence.RecurrenceId);
            Assert.Greater(ev.Recurrence.DurationInDays, 0);
            Assert.GreaterOrEqual(ev.Recurrence.ConsumedDurationInDays, 0);
        }

        [Test]
        public void UndecodableMessage_IsReported_NotFatal()
        {
            Emulator.EnqueueText("!! not base64");
            var c = NewClient();
            ClawbackMessage m = ReceiveAll(c, 1)[0];
            Assert.IsNull(m.Event);
            Assert.IsNotNull(m.EventError);
            Assert.AreEqual("!! not base64", m.Text);
            StringAssert.Contains("undecodable", m.ToString());
            Await(c, c.DeleteClawbackMessageAsync(m));
        }

        [Test]
        public void BadArguments_AreRefusedBeforeAnythingStarts()
        {
            var c = NewClient();
            Assert.Throws<ArgumentOutOfRangeException>(() => c.ReceiveClawbackMessagesAsync(0));
            Assert.Throws<ArgumentOutOfRangeException>(() => c.ReceiveClawbackMessagesAsync(33));
            Assert.Throws<ArgumentOutOfRangeException>(() => c.ReceiveClawbackMessagesAsync(1, TimeSpan.FromDays(8)));
            Assert.Throws<ArgumentOutOfRangeException>(() => c.PeekClawbackMessagesAsync(0));
            Assert.Throws<ArgumentNullException>(() => c.DeleteClawbackMessageAsync(null, "r"));
            Assert.Throws<ArgumentNullException>(() => c.DeleteClawbackMessageAsync("m", null));
            Assert.Throws<ArgumentNullException>(() => c.QueryClawbackOrdersAsync(null));
            Assert.Throws<ArgumentException>(() =>
                c.QueryClawbackOrdersAsync(new ClawbackOrdersQuery(Emulator.PurchaseKey, ClawbackLineState.Unknown)));
            // Seventeen states: the library's limit is 16 (a faulted Task, nothing sent).
            var many = Enumerable.Repeat(ClawbackLineState.Refunded, 17).ToArray();
            var e = Fails<StoreArgumentException>(c, c.QueryClawbackOrdersAsync(new ClawbackOrdersQuery(Emulator.PurchaseKey, many)));
            Assert.AreEqual(StoreResult.TooLong, e.Code);
            // A collections key where a purchase key belongs: refused by the service.
            Fails<StoreException>(c, c.QueryClawbackOrdersAsync(new ClawbackOrdersQuery(Emulator.CollectionsKey)));
            Assert.AreEqual(0, c.PendingOperations);
        }

        [Test]
        public void Receive_Canceled()
        {
            var c = NewClient();
            Emulator.AddFault("{\"route\":\"queue_get\",\"kind\":\"delay\",\"ms\":120000}");
            using (var cts = new CancellationTokenSource())
            {
                var t = c.ReceiveClawbackMessagesAsync(cancellationToken: cts.Token);
                cts.Cancel();
                Drive(c, t);
                Assert.IsTrue(t.IsCanceled, "status " + t.Status);
            }
        }
    }
}

// Every operation against the emulator, in Pump and Immediate completion.
using System;
using System.Linq;
using NUnit.Framework;

namespace Msstore.Tests
{
    [TestFixture]
    public class OperationTests : StoreTestBase
    {
        public static readonly StoreCompletion[] Modes = { StoreCompletion.Pump, StoreCompletion.Immediate };

        [Test, TestCaseSource("Modes")]
        public void GetToken_EveryAudience(StoreCompletion mode)
        {
            var c = NewClient(mode);
            foreach (StoreAudience aud in Enum.GetValues(typeof(StoreAudience)))
            {
                StoreToken t = Await(c, c.GetTokenAsync(aud));
                Assert.AreEqual(aud, t.Audience);
                Assert.AreEqual(3, t.Value.Split('.').Length, "a JWT");
                Assert.Greater(t.ExpiresAt, DateTimeOffset.UtcNow);
                StringAssert.DoesNotContain(t.Value, t.ToString(), "ToString must not show the token");
            }
        }

        [Test, TestCaseSource("Modes")]
        public void RenewKey_ReturnsAFreshKeyOfTheSameKind(StoreCompletion mode)
        {
            var c = NewClient(mode);
            StoreIdKey renewed = Await(c, c.RenewKeyAsync(Emulator.CollectionsKey));
            Assert.AreEqual(StoreKeyKind.Collections, renewed.Kind);
            Assert.AreEqual(Emulator.ClientId, renewed.ClientId);
            Assert.AreEqual(Emulator.PublisherUser, renewed.UserId);
            Assert.IsNotNull(renewed.Value);
            Assert.AreNotEqual(Emulator.CollectionsKey, renewed.Value);
            // The renewed key works.
            EntitlementPage owned = Await(c, c.QueryEntitlementsAsync(new EntitlementQuery(renewed.Value, Emulator.Durable)));
            Assert.AreEqual(1, owned.Items.Count);

            StoreIdKey p = Await(c, c.RenewKeyAsync(Emulator.PurchaseKey));
            Assert.AreEqual(StoreKeyKind.Purchase, p.Kind);
        }

        [Test, TestCaseSource("Modes")]
        public void QueryEntitlements_AllPages_TypedItems(StoreCompletion mode)
        {
            var c = NewClient(mode);
            EntitlementPage page = Await(c, c.QueryEntitlementsAsync(
                new EntitlementQuery(Emulator.CollectionsKey, Emulator.Durable, Emulator.Consumable)));
            Assert.AreEqual(2, page.Items.Count);
            Assert.IsNull(page.ContinuationToken);
            Assert.GreaterOrEqual(page.Pages, 1);
            StringAssert.Contains("items", page.RawJson);

            EntitlementItem durable = page.Items.Single(i => i.ProductId == Emulator.Durable);
            Assert.AreEqual(ProductKind.Durable, durable.ProductKind);
            Assert.AreEqual(EntitlementStatus.Active, durable.Status);
            Assert.AreEqual("Active", durable.StatusName);
            Assert.IsTrue(durable.IsActive);
            Assert.AreEqual(AcquisitionType.Single, durable.AcquisitionType);
            Assert.IsNotNull(durable.Id);
            Assert.IsNotNull(durable.SkuId);
            Assert.IsTrue(durable.AcquiredDate.HasValue);
            Assert.IsTrue(durable.StartDate.HasValue);

            EntitlementItem consumable = page.Items.Single(i => i.ProductId == Emulator.Consumable);
            Assert.AreEqual(ProductKind.Consumable, consumable.ProductKind);
            Assert.Greater(consumable.Quantity, 0);
        }

        [Test, TestCaseSource("Modes")]
        public void ConsumeV6_BothForms(StoreCompletion mode)
        {
            var c = NewClient(mode);
            string user = "v6-" + mode;
            string key = Emulator.MintKey("collections", user);
            string item = Emulator.Field(Emulator.Admin("POST", "/admin/purchases",
                "{\"store_user_id\":\"" + user + "\",\"product_id\":\"" + Emulator.Unmanaged + "\"}"), "entitlement_id");
            string line;
            string order = Emulator.BuyOrder(user, Emulator.Unmanaged, 1, out line);
            Assert.AreEqual(2, Emulator.Balance(user, Emulator.Unmanaged));

            // Form A, generated tracking id; resending that id consumes nothing more.
            ConsumeResult a = Await(c, c.ConsumeV6Async(ConsumeV6Request.ByItem(key, item)));
            Assert.AreEqual(36, a.TrackingId.Length);
            Assert.AreEqual(item, a.ItemId);
            Assert.AreEqual(0, a.NewQuantity);
            Assert.AreEqual(0, a.Transactions.Count);
            Assert.AreEqual(1, Emulator.Balance(user, Emulator.Unmanaged));
            ConsumeResult again = Await(c, c.ConsumeV6Async(ConsumeV6Request.ByItem(key, item, a.TrackingId)));
            Assert.AreEqual(a.TrackingId, again.TrackingId);
            Assert.AreEqual(1, Emulator.Balance(user, Emulator.Unmanaged));

            // Form B: the transaction id comes back as the tracking id.
            ConsumeResult b = Await(c, c.ConsumeV6Async(ConsumeV6Request.ByTransaction(key, Emulator.Unmanaged, order)));
            Assert.AreEqual(order, b.TrackingId);
            Assert.AreEqual(Emulator.Unmanaged, b.ProductId);
            Assert.AreEqual(0, Emulator.Balance(user, Emulator.Unmanaged));

            // Both forms, or a tracking id in form B: refused; nothing consumed.
            var both = ConsumeV6Request.ByItem(key, item);
            both.ProductId = Emulator.Unmanaged;
            both.TransactionId = order;
            Fails<StoreArgumentException>(c, c.ConsumeV6Async(both));
            var trackedB = ConsumeV6Request.ByTransaction(key, Emulator.Unmanaged, order);
            trackedB.TrackingId = a.TrackingId;
            Fails<StoreArgumentException>(c, c.ConsumeV6Async(trackedB));
            Assert.AreEqual(0, Emulator.Balance(user, Emulator.Unmanaged));
        }

        [Test]
        public void QueryEntitlements_OtherApiVersions()
        {
            var c = NewClient();
            foreach (int api in new[] { 8, 6 })
            {
                // v6 wants a sku id with every product id.
                var q = new EntitlementQuery(Emulator.CollectionsKey, Emulator.Durable) { ApiVersion = api, SkuIds = new[] { Emulator.Sku } };
                EntitlementPage page = Await(c, c.QueryEntitlementsAsync(q));
                Assert.IsTrue(page.Items.Any(i => i.ProductId == Emulator.Durable), "api v" + api);
            }
        }

        [Test, TestCaseSource("Modes")]
        public void QueryEntitlements_PageByPage(StoreCompletion mode)
        {
            var c = NewClient(mode);
            var q = new EntitlementQuery(Emulator.CollectionsKey, Emulator.Durable, Emulator.Consumable) { MaxPageSize = 1 };
            EntitlementPage first = Await(c, c.QueryEntitlementsPageAsync(q, null));
            Assert.AreEqual(1, first.Items.Count);
            Assert.AreEqual(1, first.Pages);
            Assert.IsNotNull(first.ContinuationToken, "a second page");
            EntitlementPage second = Await(c, c.QueryEntitlementsPageAsync(q, first.ContinuationToken));
            Assert.AreEqual(1, second.Items.Count);
            Assert.AreNotEqual(first.Items[0].ProductId, second.Items[0].ProductId);
            Assert.IsNull(second.ContinuationToken, "the last page");
        }

        [Test, TestCaseSource("Modes")]
        public void Consume_StoreManaged_LowersTheBalance(StoreCompletion mode)
        {
            string user = "consume-" + mode;
            string key = Emulator.MintKey("collections", user);
            Emulator.Purchase(user, Emulator.Consumable, 5);
            long before = Emulator.Balance(user, Emulator.Consumable);
            var c = NewClient(mode);
            ConsumeResult r = Await(c, c.ConsumeAsync(new ConsumeRequest(key, Emulator.Consumable, 2)));
            Assert.AreEqual(before - 2, r.NewQuantity);
            Assert.AreEqual(before - 2, Emulator.Balance(user, Emulator.Consumable));
            Assert.AreEqual(Emulator.Consumable, r.ProductId);
            Assert.IsNotNull(r.TrackingId);
            Assert.IsNotNull(r.ItemId);
            Assert.IsNotNull(r.Json);
            Assert.GreaterOrEqual(r.Transactions.Count, 1);
            Assert.AreEqual(2, r.Transactions.Sum(t => t.QuantityConsumed));

            // The same tracking id again is not a second consume.
            var again = new ConsumeRequest(key, Emulator.Consumable, 2) { TrackingId = r.TrackingId };
            ConsumeResult r2 = Await(c, c.ConsumeAsync(again));
            Assert.AreEqual(r.TrackingId, r2.TrackingId);
            Assert.AreEqual(before - 2, Emulator.Balance(user, Emulator.Consumable));
        }

        [Test, TestCaseSource("Modes")]
        public void GrantFreeProduct_CreatesAnOrder(StoreCompletion mode)
        {
            string key = Emulator.MintKey("purchase", "grant-" + mode);
            var c = NewClient(mode);
            StoreOrder order = Await(c, c.GrantFreeProductAsync(
                new GrantRequest(key, Emulator.FreeProduct, Emulator.FreeSku, Emulator.FreeAvailability)));
            Assert.IsNotNull(order.OrderId);
            Assert.AreEqual(0.0, order.TotalAmount);
            Assert.AreEqual(1, order.LineItems.Count);
            Assert.AreEqual(Emulator.FreeProduct, order.LineItems[0].ProductId);
            Assert.AreEqual(Emulator.FreeSku, order.LineItems[0].SkuId);
            Assert.IsNotNull(order.RawJson);
        }

        [Test, TestCaseSource("Modes")]
        public void Subscriptions_QueryAndExtend(StoreCompletion mode)
        {
            var c = NewClient(mode);
            SubscriptionPage subs = Await(c, c.QuerySubscriptionsAsync(Emulator.PurchaseKey));
            SubscriptionItem s = subs.Items.Single(i => i.Id == Emulator.RecurrenceId);
            Assert.AreEqual(Emulator.SubscriptionProduct, s.ProductId);
            Assert.AreEqual(RecurrenceState.Active, s.State);
            Assert.IsTrue(s.ExpirationTime.HasValue);

            SubscriptionItem extended = Await(c, c.ChangeSubscriptionAsync(Emulator.PurchaseKey, s.Id, SubscriptionChange.Extend, 3));
            Assert.AreEqual(s.Id, extended.Id);
            Assert.AreEqual(TimeSpan.FromDays(3), extended.ExpirationTime.Value - s.ExpirationTime.Value);
        }

        [Test]
        public void Subscriptions_PageByPage()
        {
            var c = NewClient();
            SubscriptionPage page = Await(c, c.QuerySubscriptionsPageAsync(Emulator.PurchaseKey, null, 1));
            Assert.AreEqual(1, page.Items.Count);
            Assert.IsNotNull(page.RawJson);
        }

        [Test]
        public void Subscriptions_ToggleAutoRenewAndCancel()
        {
            // A fresh user with its own subscription, so the demo user's stays intact.
            string user = "subs-change";
            string key = Emulator.MintKey("purchase", user);
            Emulator.Purchase(user, Emulator.SubscriptionProduct);
            var c = NewClient();
            SubscriptionItem s = Await(c, c.QuerySubscriptionsAsync(key)).Items.Single();
            Assert.IsTrue(s.AutoRenew);
            SubscriptionItem toggled = Await(c, c.ChangeSubscriptionAsync(key, s.Id, SubscriptionChange.ToggleAutoRenew));
            Assert.IsFalse(toggled.AutoRenew);
            SubscriptionItem canceled = Await(c, c.ChangeSubscriptionAsync(key, s.Id, SubscriptionChange.Cancel));
            Assert.AreEqual(RecurrenceState.Canceled, canceled.State);
        }

        [Test]
        public void Version_MatchesTheHeader()
        {
            StringAssert.IsMatch("^[0-9]+\\.[0-9]+\\.[0-9]+$", StoreClient.NativeVersion);
        }

        [Test]
        public void Logs_ReachTheHandler_WithoutSecrets()
        {
            var lines = new System.Collections.Concurrent.ConcurrentQueue<string>();
            StoreLog.SetHandler((level, msg) => lines.Enqueue(level + " " + msg), StoreLogLevel.Trace);
            try
            {
                var c = NewClient();
                Await(c, c.GetTokenAsync(StoreAudience.Service));
                Await(c, c.QueryEntitlementsAsync(new EntitlementQuery(Emulator.CollectionsKey, Emulator.Durable)));
            }
            finally
            {
                StoreLog.SetHandler(null);
            }
            Assert.Greater(lines.Count, 0, "no log record arrived");
            foreach (string l in lines)
            {
                StringAssert.DoesNotContain(Emulator.ClientSecret, l);
                StringAssert.DoesNotContain(Emulator.CollectionsKey, l);
            }
        }
    }
}

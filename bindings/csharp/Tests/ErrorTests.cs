// Each error family, produced for real by the emulator (fault injection, revoked keys, foreign
// apps...), arrives as its own exception type with the native error's details.
using System;
using System.Collections.Generic;
using NUnit.Framework;

namespace Msstore.Tests
{
    [TestFixture]
    public class ErrorTests : StoreTestBase
    {
        private static EntitlementQuery DurableQuery(string key = null)
        {
            return new EntitlementQuery(key ?? Emulator.CollectionsKey, Emulator.Durable);
        }

        [Test]
        public void Configuration_MissingCredentials_ThrowsFromTheConstructor()
        {
            var o = new StoreClientOptions(null, Emulator.ClientId, Emulator.ClientSecret) { EmulatorBaseUrl = Emulator.BaseUrl };
            var e = Assert.Throws<StoreConfigurationException>(() => new StoreClient(o).Dispose());
            Assert.AreEqual(StoreResult.Configuration, e.Code);
            Assert.AreEqual("configuration", e.Kind);
            StringAssert.DoesNotContain(Emulator.ClientSecret, e.ToString());
        }

        [Test]
        public void Configuration_TheOptionsReachTheLibrary_ExtraRootAndMargins()
        {
            var o = new StoreClientOptions(Emulator.TenantId, Emulator.ClientId, Emulator.ClientSecret)
            {
                EmulatorBaseUrl = Emulator.BaseUrl,
                KeyRenewMargin = TimeSpan.FromHours(1),
                RetryBaseDelay = TimeSpan.FromMilliseconds(10),
                MaxIdleConnectionsPerHost = 4,
            };
            new StoreClient(o).Dispose();
            o.ExtraRootCertPem = "not a certificate";
            var e = Assert.Throws<StoreConfigurationException>(() => new StoreClient(o).Dispose());
            Assert.AreEqual(StoreResult.Configuration, e.Code);
        }

        [Test]
        public void Configuration_PlainHttpToARemoteHost_IsRefused()
        {
            var o = new StoreClientOptions(Emulator.TenantId, Emulator.ClientId, Emulator.ClientSecret)
            {
                LoginBaseUrl = "http://login.example.com",
            };
            Assert.Throws<StoreConfigurationException>(() => new StoreClient(o).Dispose());
        }

        [Test]
        public void Configuration_BadManagedValues_AreArgumentErrors()
        {
            var o = new StoreClientOptions(Emulator.TenantId, Emulator.ClientId, Emulator.ClientSecret) { MaxAttempts = -1 };
            Assert.Throws<ArgumentOutOfRangeException>(() => new StoreClient(o).Dispose());
            Assert.Throws<ArgumentNullException>(() => new StoreClient(null));
            var bad = new StoreClientOptions(Emulator.TenantId, "\ud800", Emulator.ClientSecret);
            Assert.Throws<StoreArgumentException>(() => new StoreClient(bad).Dispose());
        }

        [Test]
        public void SynchronizationContextMode_WithoutAContext_Throws()
        {
            var o = new StoreClientOptions(Emulator.TenantId, Emulator.ClientId, Emulator.ClientSecret)
            {
                EmulatorBaseUrl = Emulator.BaseUrl,
                Completion = StoreCompletion.SynchronizationContext,
            };
            System.Threading.SynchronizationContext.SetSynchronizationContext(null);
            Assert.Throws<InvalidOperationException>(() => new StoreClient(o).Dispose());
        }

        [Test]
        public void EntraAuth_WrongSecret()
        {
            var c = NewClient(secret: "wrong-secret-value");
            var e = Fails<EntraAuthException>(c, c.GetTokenAsync(StoreAudience.Service));
            Assert.AreEqual(StoreResult.EntraAuth, e.Code);
            Assert.IsNotNull(e.ServiceCode, "Entra's error");
            Assert.Greater(e.HttpStatus, 0);
            StringAssert.DoesNotContain("wrong-secret-value", e.ToString());
            StringAssert.DoesNotContain("wrong-secret-value", e.Json);
        }

        [Test]
        public void Network_NothingListens()
        {
            var c = NewClient(maxAttempts: 1, baseUrl: "http://127.0.0.1:1");
            var e = Fails<StoreNetworkException>(c, c.GetTokenAsync(StoreAudience.Service));
            Assert.AreEqual(0, e.HttpStatus, "no response arrived");
        }

        [Test]
        public void Network_5xxAfterRetries()
        {
            Emulator.AddFault("{\"route\":\"collections_v9_query\",\"kind\":\"status\",\"status\":503}");
            var c = NewClient(maxAttempts: 1);
            var e = Fails<StoreNetworkException>(c, c.QueryEntitlementsAsync(DurableQuery()));
            Assert.AreEqual(503, e.HttpStatus);
        }

        [Test]
        public void Throttled_CarriesRetryAfterAndMsCv()
        {
            Emulator.AddFault("{\"route\":\"collections_v9_query\",\"kind\":\"throttle\",\"retry_after_secs\":120,\"times\":1}");
            var c = NewClient();
            var e = Fails<StoreThrottledException>(c, c.QueryEntitlementsAsync(DurableQuery()));
            Assert.AreEqual(429, e.HttpStatus);
            Assert.AreEqual(TimeSpan.FromSeconds(120), e.RetryAfter);
            Assert.IsNotNull(e.MsCv);
            Assert.AreEqual("throttled", e.Kind);
        }

        [Test]
        public void Timeout_OperationDeadline()
        {
            Emulator.AddFault("{\"route\":\"collections_v9_query\",\"kind\":\"delay\",\"ms\":5000,\"times\":1}");
            var c = NewClient(operationTimeout: TimeSpan.FromMilliseconds(100));
            Fails<StoreTimeoutException>(c, c.QueryEntitlementsAsync(DurableQuery()));
        }

        [Test]
        public void MalformedResponse()
        {
            Emulator.AddFault("{\"route\":\"collections_v9_query\",\"kind\":\"malformed_json\"}");
            var c = NewClient(maxAttempts: 1);
            Fails<MalformedResponseException>(c, c.QueryEntitlementsAsync(DurableQuery()));
        }

        [Test]
        public void KeyMustBeReminted_RenewingARevokedKey()
        {
            string key = Emulator.MintKey("collections", "revoked-renew");
            Emulator.Admin("POST", "/admin/keys/revoke", "{\"key\":\"" + key + "\"}");
            var c = NewClient();
            var e = Fails<KeyMustBeRemintedException>(c, c.RenewKeyAsync(key));
            Assert.AreEqual(401, e.HttpStatus);
            StringAssert.DoesNotContain(key, e.ToString());
        }

        [Test]
        public void Unauthorized_QueryingWithARevokedKey()
        {
            string key = Emulator.MintKey("collections", "revoked-query");
            Emulator.Admin("POST", "/admin/keys/revoke", "{\"key\":\"" + key + "\"}");
            var c = NewClient();
            var e = Fails<StoreUnauthorizedException>(c, c.QueryEntitlementsAsync(DurableQuery(key)));
            Assert.AreEqual(401, e.HttpStatus);
            Assert.IsNotNull(e.ServiceCode);
        }

        [Test]
        public void ClientIdMismatch_KeyOfAnotherApp()
        {
            const string other = "11111111-2222-3333-4444-555555555555";
            Emulator.Admin("POST", "/admin/apps",
                "{\"tenant_id\":\"" + Emulator.TenantId + "\",\"client_id\":\"" + other + "\",\"client_secret\":\"other\"}");
            string key = Emulator.MintKey("collections", Emulator.StoreUser, other);
            var c = NewClient();
            var e = Fails<ClientIdMismatchException>(c, c.QueryEntitlementsAsync(DurableQuery(key)));
            Assert.AreEqual("InconsistentClientId", e.InnerCode);
            Assert.AreEqual(401, e.HttpStatus);
        }

        [Test]
        public void ConsumeOutcomeUnknown_ResendWithTheTrackingId()
        {
            string user = "consume-unknown";
            string key = Emulator.MintKey("collections", user);
            Emulator.Purchase(user, Emulator.Consumable, 3);
            Emulator.AddFault("{\"route\":\"collections_v8_consume\",\"kind\":\"drop_after_apply\",\"times\":1}");
            var c = NewClient(maxAttempts: 1);
            var e = Fails<ConsumeOutcomeUnknownException>(c, c.ConsumeAsync(new ConsumeRequest(key, Emulator.Consumable, 1)));
            Assert.IsNotNull(e.TrackingId);
            Assert.AreEqual(2, Emulator.Balance(user, Emulator.Consumable), "applied before the drop");
            var resend = new ConsumeRequest(key, Emulator.Consumable, 1) { TrackingId = e.TrackingId };
            ConsumeResult r = Await(c, c.ConsumeAsync(resend));
            Assert.AreEqual(2, r.NewQuantity, "resending did not consume twice");
            Assert.AreEqual(2, Emulator.Balance(user, Emulator.Consumable));
        }

        [Test]
        public void Service_ConsumingMoreThanTheBalance()
        {
            string user = "consume-overdraw";
            string key = Emulator.MintKey("collections", user);
            Emulator.Purchase(user, Emulator.Consumable, 1);
            var c = NewClient();
            var e = Fails<StoreServiceException>(c, c.ConsumeAsync(new ConsumeRequest(key, Emulator.Consumable, 50)));
            Assert.IsNotNull(e.ServiceCode);
            Assert.AreEqual(1, Emulator.Balance(user, Emulator.Consumable));
        }

        [Test]
        public void NotFound_UnknownRecurrence()
        {
            var c = NewClient();
            Fails<StoreNotFoundException>(c, c.ChangeSubscriptionAsync(Emulator.PurchaseKey, "mdr:0:nope:nope", SubscriptionChange.Cancel));
        }

        [Test]
        public void InvalidArgument_FromTheService_AndSynchronously()
        {
            var c = NewClient();
            // v9 needs product ids: refused in the operation.
            var e = Fails<StoreArgumentException>(c, c.QueryEntitlementsAsync(new EntitlementQuery(Emulator.CollectionsKey)));
            Assert.AreEqual(StoreResult.InvalidArgument, e.Code);
            // A change type the library does not know: refused when starting (a faulted Task).
            var t = c.ChangeSubscriptionAsync(Emulator.PurchaseKey, Emulator.RecurrenceId, (SubscriptionChange)77);
            Assert.IsTrue(t.IsFaulted);
            Assert.IsInstanceOf<StoreArgumentException>(t.Exception.GetBaseException());
            // An api version that does not exist.
            var q = new EntitlementQuery(Emulator.CollectionsKey, Emulator.Durable) { ApiVersion = 7 };
            Fails<StoreArgumentException>(c, c.QueryEntitlementsAsync(q));
            // Too many products.
            var many = new List<string>();
            for (int i = 0; i < 1001; i++) many.Add("9NZB0T3LQH5D");
            var tooMany = Fails<StoreArgumentException>(c, c.QueryEntitlementsAsync(new EntitlementQuery(Emulator.CollectionsKey, many.ToArray())));
            Assert.AreEqual(StoreResult.TooLong, tooMany.Code);
            // Strings that cannot be UTF-8 (a lone surrogate).
            Fails<StoreArgumentException>(c, c.QueryEntitlementsAsync(new EntitlementQuery("\udc00", Emulator.Durable)));
            Assert.Throws<ArgumentNullException>(() => c.RenewKeyAsync(null));
        }

        [Test]
        public void InvalidKey_RenewingGarbage()
        {
            var c = NewClient();
            var e = Fails<InvalidStoreKeyException>(c, c.RenewKeyAsync("not-a-key"));
            Assert.AreEqual("invalid_key", e.Kind);
        }

        [Test]
        public void ShuttingDown_StartingOnADisposedClient()
        {
            var c = NewClient();
            c.Dispose();
            Assert.IsTrue(c.IsDisposed);
            Fails<StoreShuttingDownException>(c, c.QueryEntitlementsAsync(DurableQuery()));
            Assert.AreEqual(0, c.Pump());
            Assert.AreEqual(0, c.PendingOperations);
            c.Dispose(); // idempotent
        }

        [Test]
        public void EveryResultCode_MapsToItsFamily()
        {
            var expected = new Dictionary<StoreResult, Type>
            {
                { StoreResult.InvalidArgument, typeof(StoreArgumentException) },
                { StoreResult.NullPointer, typeof(StoreArgumentException) },
                { StoreResult.InvalidUtf8, typeof(StoreArgumentException) },
                { StoreResult.TooLong, typeof(StoreArgumentException) },
                { StoreResult.InvalidHandle, typeof(StoreInternalException) },
                { StoreResult.BufferTooSmall, typeof(StoreInternalException) },
                { StoreResult.Pending, typeof(StoreInternalException) },
                { StoreResult.NoResult, typeof(StoreInternalException) },
                { StoreResult.Configuration, typeof(StoreConfigurationException) },
                { StoreResult.InvalidKey, typeof(InvalidStoreKeyException) },
                { StoreResult.EntraAuth, typeof(EntraAuthException) },
                { StoreResult.Unauthorized, typeof(StoreUnauthorizedException) },
                { StoreResult.KeyMustBeReminted, typeof(KeyMustBeRemintedException) },
                { StoreResult.ClientIdMismatch, typeof(ClientIdMismatchException) },
                { StoreResult.MissingServiceToken, typeof(MissingServiceTokenException) },
                { StoreResult.Throttled, typeof(StoreThrottledException) },
                { StoreResult.Network, typeof(StoreNetworkException) },
                { StoreResult.Timeout, typeof(StoreTimeoutException) },
                { StoreResult.NotFound, typeof(StoreNotFoundException) },
                { StoreResult.Service, typeof(StoreServiceException) },
                { StoreResult.ConsumeOutcomeUnknown, typeof(ConsumeOutcomeUnknownException) },
                { StoreResult.MalformedResponse, typeof(MalformedResponseException) },
                { StoreResult.ShuttingDown, typeof(StoreShuttingDownException) },
                { StoreResult.PopReceiptMismatch, typeof(PopReceiptMismatchException) },
                { StoreResult.MessageNotFound, typeof(MessageNotFoundException) },
                { StoreResult.InvalidClawbackEvent, typeof(InvalidClawbackEventException) },
                { StoreResult.Storage, typeof(LedgerStorageException) },
                { StoreResult.BackendNotCompiled, typeof(StoreConfigurationException) },
                { StoreResult.Panic, typeof(StoreInternalException) },
                { StoreResult.Internal, typeof(StoreInternalException) },
            };
            foreach (StoreResult code in Enum.GetValues(typeof(StoreResult)))
            {
                if (code == StoreResult.Ok || code == StoreResult.Canceled) continue; // not exceptions
                Assert.IsTrue(expected.ContainsKey(code), "no family for " + code);
                StoreException e = StoreException.Create(code, "m");
                Assert.AreEqual(expected[code], e.GetType(), code.ToString());
                Assert.AreEqual(code, e.Code);
                Assert.IsNotEmpty(StoreException.Describe(code));
            }
        }
    }
}

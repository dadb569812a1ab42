// StoreIdKey.Decode: synchronous, offline.
using System;
using NUnit.Framework;

namespace Msstore.Tests
{
    [TestFixture]
    public class KeyTests : StoreTestBase
    {
        [Test]
        public void Decode_CollectionsKey()
        {
            StoreIdKey k = StoreIdKey.Decode(Emulator.CollectionsKey);
            Assert.AreEqual(StoreKeyKind.Collections, k.Kind);
            Assert.AreEqual(Emulator.ClientId, k.ClientId);
            Assert.AreEqual(Emulator.PublisherUser, k.UserId);
            Assert.AreEqual(Emulator.CollectionsKey, k.Value);
            StringAssert.Contains("collections", k.Audience);
            Assert.Greater(k.ExpiresAt, k.IssuedAt);
            Assert.LessOrEqual(k.RenewAfter, k.IssuedAt.AddDays(14));
            Assert.IsNotNull(k.RefreshUri);
            StringAssert.DoesNotContain(Emulator.CollectionsKey, k.ToString());
            StringAssert.DoesNotContain(Emulator.CollectionsKey, k.Json);
        }

        [Test]
        public void Decode_PurchaseKey()
        {
            StoreIdKey k = StoreIdKey.Decode(Emulator.PurchaseKey);
            Assert.AreEqual(StoreKeyKind.Purchase, k.Kind);
            Assert.AreEqual(Emulator.ClientId, k.ClientId);
        }

        [Test]
        public void Decode_Garbage_IsAnInvalidKey()
        {
            var e = Assert.Throws<InvalidStoreKeyException>(() => StoreIdKey.Decode("not-a-key"));
            Assert.AreEqual(StoreResult.InvalidKey, e.Code);
            Assert.AreEqual("invalid_key", e.Kind);
            Assert.IsNotEmpty(e.Message);
            Assert.Throws<InvalidStoreKeyException>(() => StoreIdKey.Decode(""));
            Assert.Throws<InvalidStoreKeyException>(() => StoreIdKey.Decode("a.b.c"));
        }

        [Test]
        public void Decode_BadInput_IsAnArgumentError()
        {
            Assert.Throws<ArgumentNullException>(() => StoreIdKey.Decode(null));
            var tooLong = Assert.Throws<StoreArgumentException>(() => StoreIdKey.Decode(new string('a', 70000)));
            Assert.AreEqual(StoreResult.TooLong, tooLong.Code);
            var utf = Assert.Throws<StoreArgumentException>(() => StoreIdKey.Decode("abc\ud800"));
            Assert.AreEqual(StoreResult.InvalidUtf8, utf.Code);
        }
    }
}

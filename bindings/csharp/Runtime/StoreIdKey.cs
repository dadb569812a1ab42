using System;
using Msstore.Native;

namespace Msstore
{
    /// <summary>A decoded (not verified) Store ID key: a UserCollectionsId or UserPurchaseId.
    /// <see cref="Value"/> is a secret: never log it (ToString leaves it out).</summary>
    public sealed class StoreIdKey
    {
        /// <summary>The key itself (for a renewed key, the new one: persist it).</summary>
        public string Value { get; private set; }
        public StoreKeyKind Kind { get; private set; }
        public string Audience { get; private set; }
        /// <summary>The Entra client id the key was minted for.</summary>
        public string ClientId { get; private set; }
        /// <summary>The publisherUserId passed when minting, or null.</summary>
        public string UserId { get; private set; }
        /// <summary>Informational only: renewal never goes there.</summary>
        public string RefreshUri { get; private set; }
        public DateTimeOffset IssuedAt { get; private set; }
        public DateTimeOffset? NotBefore { get; private set; }
        public DateTimeOffset ExpiresAt { get; private set; }
        /// <summary>When to renew: min(iat + 14 days, exp - margin).</summary>
        public DateTimeOffset RenewAfter { get; private set; }
        public bool IsExpired { get; private set; }
        public bool NeedsRenewal { get; private set; }
        /// <summary>The claims with renewal advice as JSON (no secret).</summary>
        public string Json { get; private set; }

        /// <summary>Decodes a key synchronously, without the network.</summary>
        /// <exception cref="InvalidStoreKeyException">not a decodable key</exception>
        /// <exception cref="StoreArgumentException">too long, or a lone UTF-16 surrogate</exception>
        public static StoreIdKey Decode(string key)
        {
            if (key == null) throw new ArgumentNullException("key");
            KeyHandle h;
            ErrorHandle err;
            int rc;
            using (var arena = new NativeArena())
            {
                IntPtr p;
                try { p = arena.Str(key); }
                catch (ArgumentException e) { throw new StoreArgumentException(StoreResult.InvalidUtf8, "key: " + e.Message); }
                rc = NativeMethods.msstore_key_decode(p, out h, out err);
            }
            using (err)
            using (h)
            {
                if (rc != 0) throw StoreException.FromError(rc, err);
                return From(h);
            }
        }

        internal static StoreIdKey From(KeyHandle h)
        {
            var info = new KeyInfo();
            info.struct_size = (uint)System.Runtime.InteropServices.Marshal.SizeOf(typeof(KeyInfo));
            int rc = NativeMethods.msstore_key_get_info(h, ref info);
            if (rc != 0) throw StoreException.FromCode(rc);
            return new StoreIdKey
            {
                Value = Utf8.FromNative(info.value),
                Json = Utf8.FromNative(NativeMethods.msstore_key_json(h)),
                Kind = info.kind == 1 || info.kind == 2 ? (StoreKeyKind)info.kind : StoreKeyKind.Unknown,
                Audience = Utf8.FromNative(info.audience),
                ClientId = Utf8.FromNative(info.client_id),
                UserId = Utf8.FromNative(info.user_id),
                RefreshUri = Utf8.FromNative(info.refresh_uri),
                IssuedAt = DateTimeOffset.FromUnixTimeMilliseconds(info.issued_at_unix_ms),
                NotBefore = Parse.UnixMs(info.not_before_unix_ms),
                ExpiresAt = DateTimeOffset.FromUnixTimeMilliseconds(info.expires_at_unix_ms),
                RenewAfter = DateTimeOffset.FromUnixTimeMilliseconds(info.renew_after_unix_ms),
                IsExpired = info.is_expired != 0,
                NeedsRenewal = info.needs_renewal != 0,
            };
        }

        public override string ToString()
        {
            return "StoreIdKey(" + Kind + ", client " + ClientId + ", user " + (UserId ?? "-") +
                   ", expires " + ExpiresAt.ToString("o") + ")";
        }
    }
}

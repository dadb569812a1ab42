using System;

namespace Msstore
{
    /// <summary>Configuration of a <see cref="StoreClient"/>. Unset values take the library's
    /// defaults. ToString never shows the secret.</summary>
    public sealed class StoreClientOptions
    {
        public StoreClientOptions(string tenantId, string clientId, string clientSecret = null)
        {
            TenantId = tenantId;
            ClientId = clientId;
            ClientSecret = clientSecret;
        }

        /// <summary>Entra tenant (directory) id. Required.</summary>
        public string TenantId { get; set; }
        /// <summary>Entra application (client) id. Required.</summary>
        public string ClientId { get; set; }
        /// <summary>Entra client secret; required unless <see cref="Credential"/> is set. Never logged.</summary>
        public string ClientSecret { get; set; }
        /// <summary>Points login, collections and purchase at one emulator (loopback http is allowed).</summary>
        public string EmulatorBaseUrl { get; set; }
        public string LoginBaseUrl { get; set; }
        public string CollectionsBaseUrl { get; set; }
        public string PurchaseBaseUrl { get; set; }
        /// <summary>Sent as User-Agent. Default "msstore/&lt;version&gt;".</summary>
        public string ServiceIdentity { get; set; }
        /// <summary>1 or 2; 0 = default (2).</summary>
        public int EntraVersion { get; set; }
        public TimeSpan? ConnectTimeout { get; set; }
        /// <summary>One HTTP attempt.</summary>
        public TimeSpan? RequestTimeout { get; set; }
        /// <summary>Attempts including the first; 0 = default (4); 1 disables retries.</summary>
        public int MaxAttempts { get; set; }
        /// <summary>Native runtime worker threads; 0 = default (2).</summary>
        public int WorkerThreads { get; set; }
        /// <summary>Most pages an all-pages query follows; 0 = default (100).</summary>
        public int MaxPages { get; set; }
        /// <summary>Deadline of every operation (it fails with StoreTimeoutException); null = none.</summary>
        public TimeSpan? OperationTimeout { get; set; }
        /// <summary>Requests in flight at once per host; further operations queue (the wait counts
        /// against OperationTimeout, not RequestTimeout). 0 = default (128).</summary>
        public int MaxConnectionsPerHost { get; set; }
        /// <summary>Largest response body read from any service, however it is framed; a longer
        /// one fails with a malformed-response error naming the cap. 0 = default (8 MiB); else
        /// 65536..=1073741824.</summary>
        public long MaxResponseBytes { get; set; }
        /// <summary>Extra trusted root certificate(s), PEM text (a TLS-inspecting proxy); null = none.</summary>
        public string ExtraRootCertPem { get; set; }
        /// <summary>The same, read from a PEM file when the client is created; null = none.</summary>
        public string ExtraRootCertPath { get; set; }
        /// <summary>Refresh a cached service token when less than this remains; null = 5 min.</summary>
        public TimeSpan? TokenRefreshMargin { get; set; }
        /// <summary>Renew a Store ID key at least this long before it expires; null = 24 h.</summary>
        public TimeSpan? KeyRenewMargin { get; set; }
        /// <summary>First retry delay (doubled per retry, with jitter); null = 200 ms.</summary>
        public TimeSpan? RetryBaseDelay { get; set; }
        /// <summary>Longest retry delay; null = 5 s.</summary>
        public TimeSpan? RetryMaxDelay { get; set; }
        /// <summary>Longest Retry-After honoured; null = 30 s.</summary>
        public TimeSpan? MaxRetryAfter { get; set; }
        /// <summary>Idle keep-alive connections kept per host; 0 = default (256).</summary>
        public int MaxIdleConnectionsPerHost { get; set; }
        /// <summary>The credential, instead of ClientSecret (then null). The client keeps its own
        /// reference: the Credential may be disposed once the client exists.</summary>
        public Credential Credential { get; set; }
        /// <summary>During a rotation, the credential being replaced: used while Entra refuses the
        /// new one as a wrong credential (AADSTS7000215 or the certificate's equivalent).</summary>
        public Credential PreviousCredential { get; set; }
        /// <summary>Log a warning this many days before the credential expires (a certificate's
        /// notAfter); null or 0 = the library's default (14).</summary>
        public int? CredentialExpiryWarningDays { get; set; }
        /// <summary>On which thread Tasks complete. Default: inside <see cref="StoreClient.Pump"/>.</summary>
        public StoreCompletion Completion { get; set; }

        public override string ToString()
        {
            return "StoreClientOptions(tenant " + TenantId + ", client " + ClientId + ", secret ***, " +
                   (Credential != null ? Credential + ", " : "") + Completion + ")";
        }
    }
}

// msstore_client_options filled from StoreClientOptions, for msstore_client_new and
// msstore_doctor_run. Holds the strings and a reference on each credential handle until
// disposed, i.e. for the duration of the one call that reads the struct.
using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;

namespace Msstore.Native
{
    internal sealed class NativeClientOptions : IDisposable
    {
        internal const int CompletionQueued = 1;
        internal const int CompletionImmediate = 2;

        /// <summary>A field, so that callers can pass it by ref.</summary>
        internal ClientOptions Value;
        internal readonly NativeArena Arena = new NativeArena();
        private readonly List<SafeHandle> borrowed = new List<SafeHandle>();

        internal NativeClientOptions(StoreClientOptions options, int completionMode)
        {
            try
            {
                Fill(options, completionMode);
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        private void Fill(StoreClientOptions options, int completionMode)
        {
            var o = new ClientOptions();
            o.struct_size = (uint)Marshal.SizeOf(typeof(ClientOptions));
            int rc = NativeMethods.msstore_client_options_init(ref o);
            if (rc != 0) throw StoreException.FromCode(rc);
            try
            {
                o.tenant_id = Arena.Str(options.TenantId);
                o.client_id = Arena.Str(options.ClientId);
                o.client_secret = Arena.Str(options.ClientSecret);
                o.emulator_base_url = Arena.Str(options.EmulatorBaseUrl);
                o.login_base_url = Arena.Str(options.LoginBaseUrl);
                o.collections_base_url = Arena.Str(options.CollectionsBaseUrl);
                o.purchase_base_url = Arena.Str(options.PurchaseBaseUrl);
                o.service_identity = Arena.Str(options.ServiceIdentity);
                o.extra_root_cert_pem = Arena.Str(options.ExtraRootCertPem);
                o.extra_root_cert_path = Arena.Str(options.ExtraRootCertPath);
            }
            catch (ArgumentException e)
            {
                throw new StoreArgumentException(StoreResult.InvalidUtf8, "options: " + e.Message);
            }
            o.entra_version = StoreClient.NonNegative(options.EntraVersion, "EntraVersion");
            o.connect_timeout_ms = StoreClient.Millis(options.ConnectTimeout, "ConnectTimeout");
            o.request_timeout_ms = StoreClient.Millis(options.RequestTimeout, "RequestTimeout");
            o.max_attempts = StoreClient.NonNegative(options.MaxAttempts, "MaxAttempts");
            o.worker_threads = StoreClient.NonNegative(options.WorkerThreads, "WorkerThreads");
            o.max_pages = StoreClient.NonNegative(options.MaxPages, "MaxPages");
            o.operation_timeout_ms = StoreClient.Millis(options.OperationTimeout, "OperationTimeout");
            o.max_connections_per_host = StoreClient.NonNegative(options.MaxConnectionsPerHost, "MaxConnectionsPerHost");
            if (options.MaxResponseBytes < 0) throw new ArgumentOutOfRangeException("MaxResponseBytes");
            o.max_response_bytes = (ulong)options.MaxResponseBytes;
            o.token_refresh_margin_ms = StoreClient.Millis(options.TokenRefreshMargin, "TokenRefreshMargin");
            o.key_renew_margin_ms = StoreClient.Millis(options.KeyRenewMargin, "KeyRenewMargin");
            o.retry_base_delay_ms = StoreClient.Millis(options.RetryBaseDelay, "RetryBaseDelay");
            o.retry_max_delay_ms = StoreClient.Millis(options.RetryMaxDelay, "RetryMaxDelay");
            o.max_retry_after_ms = StoreClient.Millis(options.MaxRetryAfter, "MaxRetryAfter");
            o.max_idle_connections_per_host = StoreClient.NonNegative(options.MaxIdleConnectionsPerHost, "MaxIdleConnectionsPerHost");
            o.completion_mode = completionMode;
            o.credential = Borrow(options.Credential, "Credential");
            o.previous_credential = Borrow(options.PreviousCredential, "PreviousCredential");
            if (options.CredentialExpiryWarningDays.HasValue)
                o.credential_expiry_warning_days = StoreClient.NonNegative(options.CredentialExpiryWarningDays.Value,
                    "CredentialExpiryWarningDays");
            Value = o;
        }

        // The raw pointer of a credential, kept valid (AddRef) until Dispose; the library takes its
        // own reference when it keeps it.
        private IntPtr Borrow(Credential c, string name)
        {
            if (c == null) return IntPtr.Zero;
            if (c.IsDisposed) throw new ObjectDisposedException(name);
            bool added = false;
            c.Handle.DangerousAddRef(ref added);
            if (added) borrowed.Add(c.Handle);
            return c.Handle.DangerousGetHandle();
        }

        public void Dispose()
        {
            foreach (SafeHandle h in borrowed) h.DangerousRelease();
            borrowed.Clear();
            Arena.Dispose();
        }
    }
}

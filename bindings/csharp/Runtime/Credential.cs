// How a client proves itself to Entra ID: a secret, a secret file, a certificate, a federated
// token file, a managed identity, or tokens from the caller's own vault (a provider).
using System;
using System.Runtime.InteropServices;
using AOT;
using Msstore.Native;

namespace Msstore
{
    /// <summary>A credential for <see cref="StoreClientOptions.Credential"/>. A client keeps its
    /// own reference, so this may be disposed once the client exists. ToString never shows a secret.</summary>
    public sealed class Credential : IDisposable
    {
        private readonly string form;

        private Credential(CredentialHandle handle, string form)
        {
            Handle = handle;
            this.form = form;
        }

        internal CredentialHandle Handle { get; private set; }

        public bool IsDisposed { get { return Handle.IsClosed; } }

        /// <summary>A client secret (never logged).</summary>
        public static Credential Secret(string secret)
        {
            if (secret == null) throw new ArgumentNullException("secret");
            return Make("secret", a =>
            {
                CredentialHandle h;
                int rc = NativeMethods.msstore_credential_new_secret(a.Str(secret), out h);
                return Tuple.Create(rc, h);
            });
        }

        /// <summary>A client secret read from a file (a Kubernetes secret mount, the Key Vault CSI
        /// driver folder), re-read when it changes: a rotated secret needs no restart.</summary>
        public static Credential SecretFile(string path)
        {
            if (path == null) throw new ArgumentNullException("path");
            return Make("secret file", a =>
            {
                CredentialHandle h;
                int rc = NativeMethods.msstore_credential_new_secret_file(a.Str(path), out h);
                return Tuple.Create(rc, h);
            });
        }

        /// <summary>Workload identity federation: the assertion is the file's content (AKS writes it
        /// at AZURE_FEDERATED_TOKEN_FILE), re-read at each token fetch.
        /// https://learn.microsoft.com/azure/aks/workload-identity-overview</summary>
        public static Credential FederatedTokenFile(string path)
        {
            if (path == null) throw new ArgumentNullException("path");
            return Make("federated token file", a =>
            {
                CredentialHandle h;
                int rc = NativeMethods.msstore_credential_new_federated_token_file(a.Str(path), out h);
                return Tuple.Create(rc, h);
            });
        }

        /// <summary>Signed client assertions with a certificate.
        /// https://learn.microsoft.com/entra/identity-platform/certificate-credentials</summary>
        public static Credential Certificate(CertificateCredentialOptions options)
        {
            if (options == null) throw new ArgumentNullException("options");
            return Make("certificate", a =>
            {
                var o = new CertificateOptions();
                o.struct_size = (uint)Marshal.SizeOf(typeof(CertificateOptions));
                Check(NativeMethods.msstore_certificate_options_init(ref o));
                o.certificate_pem = a.Str(options.CertificatePem);
                o.certificate_path = a.Str(options.CertificatePath);
                o.private_key_pem = a.Str(options.PrivateKeyPem);
                o.private_key_path = a.Str(options.PrivateKeyPath);
                o.send_x5c = options.SendX5c ? 1u : 0u;
                CredentialHandle h;
                int rc = NativeMethods.msstore_credential_new_certificate(ref o, out h);
                return Tuple.Create(rc, h);
            });
        }

        /// <summary>A managed identity's token as the client assertion (null = the system-assigned
        /// identity through IMDS).</summary>
        public static Credential ManagedIdentity(ManagedIdentityCredentialOptions options = null)
        {
            options = options ?? new ManagedIdentityCredentialOptions();
            return Make("managed identity", a =>
            {
                var o = new ManagedIdentityOptions();
                o.struct_size = (uint)Marshal.SizeOf(typeof(ManagedIdentityOptions));
                Check(NativeMethods.msstore_managed_identity_options_init(ref o));
                o.client_id = a.Str(options.ClientId);
                o.endpoint = a.Str(options.Endpoint);
                o.identity_header = a.Str(options.IdentityHeader);
                CredentialHandle h;
                int rc = NativeMethods.msstore_credential_new_managed_identity(ref o, out h);
                return Tuple.Create(rc, h);
            });
        }

        /// <summary>Tokens from the caller (an engine's own vault); no Entra request is made.
        /// <paramref name="provider"/> runs on a library thread, at most once per audience at a
        /// time (the token cache keeps single-flight and refresh-ahead). It is kept alive until
        /// the last client using it is gone. A throw or <see cref="ProvidedToken.Fail"/> fails
        /// the fetch (EntraAuthException; StoreNetworkException when retryable).</summary>
        public static Credential Provider(Func<StoreAudience, ProvidedToken> provider)
        {
            if (provider == null) throw new ArgumentNullException("provider");
            GCHandle gch = GCHandle.Alloc(provider);
            CredentialHandle h;
            int rc;
            try
            {
                rc = NativeMethods.msstore_credential_new_provider(ProviderThunks.Call, GCHandle.ToIntPtr(gch),
                    ProviderThunks.Release, out h);
            }
            catch
            {
                gch.Free();
                throw;
            }
            if (rc != 0)
            {
                // Refused: the library kept no reference and never calls release.
                gch.Free();
                if (h != null) h.Dispose();
                throw StoreException.FromCode(rc);
            }
            return new Credential(h, "provider");
        }

        public void Dispose()
        {
            Handle.Dispose();
        }

        public override string ToString()
        {
            return "Credential(" + form + ")";
        }

        private static Credential Make(string form, Func<NativeArena, Tuple<int, CredentialHandle>> create)
        {
            Tuple<int, CredentialHandle> made;
            using (var a = new NativeArena())
            {
                try
                {
                    made = create(a);
                }
                catch (ArgumentException e)
                {
                    throw new StoreArgumentException(StoreResult.InvalidUtf8, form + ": " + e.Message);
                }
            }
            if (made.Item1 != 0)
            {
                if (made.Item2 != null) made.Item2.Dispose();
                throw StoreException.FromCode(made.Item1);
            }
            return new Credential(made.Item2, form);
        }

        private static void Check(int rc)
        {
            if (rc != 0) throw StoreException.FromCode(rc);
        }
    }

    /// <summary>A certificate for client assertions. The certificate and the key each come from
    /// PEM text or a file (re-read when it changes); null = not set.</summary>
    public sealed class CertificateCredentialOptions
    {
        /// <summary>The app certificate first, then its chain.</summary>
        public string CertificatePem { get; set; }
        public string CertificatePath { get; set; }
        /// <summary>A secret (PKCS#8 or PKCS#1); null = in the certificate source.</summary>
        public string PrivateKeyPem { get; set; }
        public string PrivateKeyPath { get; set; }
        /// <summary>Also send the chain as x5c (subject name / issuer trust).</summary>
        public bool SendX5c { get; set; }

        public override string ToString()
        {
            return "CertificateCredentialOptions(" + (CertificatePath ?? "inline certificate") + ", key " +
                   (PrivateKeyPem != null ? "***" : PrivateKeyPath ?? "in the certificate source") + ")";
        }
    }

    /// <summary>Which managed identity, and where to ask for its token.</summary>
    public sealed class ManagedIdentityCredentialOptions
    {
        /// <summary>A user-assigned identity's client id; null = the system-assigned one.</summary>
        public string ClientId { get; set; }
        /// <summary>null = IMDS (or the App Service endpoint protocol with IdentityHeader).</summary>
        public string Endpoint { get; set; }
        /// <summary>App Service / Container Apps IDENTITY_HEADER (a secret).</summary>
        public string IdentityHeader { get; set; }

        public override string ToString()
        {
            return "ManagedIdentityCredentialOptions(" + (ClientId ?? "system-assigned") + ", " + (Endpoint ?? "default endpoint") +
                   (IdentityHeader != null ? ", header ***" : "") + ")";
        }
    }

    /// <summary>What a provider answers: a token and its expiry, or a failure.</summary>
    public sealed class ProvidedToken
    {
        private ProvidedToken() { }

        /// <summary>A secret: never logged.</summary>
        public string AccessToken { get; private set; }
        public DateTimeOffset ExpiresAt { get; private set; }
        /// <summary>Non-null for a failure: why (must not hold a secret).</summary>
        public string FailureMessage { get; private set; }
        public bool Retryable { get; private set; }

        public static ProvidedToken Token(string accessToken, DateTimeOffset expiresAt)
        {
            if (string.IsNullOrEmpty(accessToken)) throw new ArgumentException("the token is empty", "accessToken");
            return new ProvidedToken { AccessToken = accessToken, ExpiresAt = expiresAt };
        }

        public static ProvidedToken Fail(string message, bool retryable = false)
        {
            return new ProvidedToken { FailureMessage = message ?? "the token provider failed", Retryable = retryable };
        }

        public override string ToString()
        {
            return FailureMessage != null ? "ProvidedToken(failed: " + FailureMessage + ")" : "ProvidedToken(***, expires " + ExpiresAt + ")";
        }
    }

    /// <summary>The native callbacks of providers: static, with MonoPInvokeCallback (the only shape
    /// IL2CPP can call from native code); user_data is a GCHandle to the provider delegate.</summary>
    internal static class ProviderThunks
    {
        // Static fields: the delegates (and their native thunks) live forever.
        internal static readonly TokenProviderCallback Call = OnToken;
        internal static readonly ReleaseCallback Release = OnRelease;

        [MonoPInvokeCallback(typeof(TokenProviderCallback))]
        private static int OnToken(IntPtr userData, int audience, IntPtr sink)
        {
            try
            {
                var provider = (Func<StoreAudience, ProvidedToken>)GCHandle.FromIntPtr(userData).Target;
                ProvidedToken t = provider((StoreAudience)audience);
                if (t == null) return Fail(sink, false, "the token provider returned null");
                if (t.FailureMessage != null) return Fail(sink, t.Retryable, t.FailureMessage);
                using (var a = new NativeArena())
                    return NativeMethods.msstore_token_sink_set(sink, a.Str(t.AccessToken), t.ExpiresAt.ToUnixTimeSeconds());
            }
            catch (Exception e)
            {
                // Never unwind into the library. Only the type: a message might quote a secret.
                return Fail(sink, false, "the token provider threw " + e.GetType().FullName);
            }
        }

        [MonoPInvokeCallback(typeof(ReleaseCallback))]
        private static void OnRelease(IntPtr userData)
        {
            try
            {
                GCHandle.FromIntPtr(userData).Free();
            }
            catch (Exception)
            {
                // Never unwind into the library.
            }
        }

        private static int Fail(IntPtr sink, bool retryable, string message)
        {
            try
            {
                using (var a = new NativeArena()) NativeMethods.msstore_token_sink_fail(sink, retryable ? 1 : 0, a.Str(message));
            }
            catch (ArgumentException)
            {
                NativeMethods.msstore_token_sink_fail(sink, retryable ? 1 : 0, IntPtr.Zero);
            }
            return (int)StoreResult.EntraAuth;
        }
    }
}

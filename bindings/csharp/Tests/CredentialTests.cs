// Credentials (issue 15) through the C# wrapper, mirroring the C++ suite: each form end to end, a
// wrong certificate, files that change between fetches, rotation with the old credential, a
// provider's single-flight and release, doctor healthy and broken, and no secret in errors,
// doctor text or logs. Fixtures: tests/it/fixtures/credentials (found next to MSSTORE_HEADER).
using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Msstore.Tests
{
    [TestFixture]
    public class CredentialTests : StoreTestBase
    {
        private const string Issuer = "https://oidc.aks.example/tenant/cluster/";
        private const string Subject = "system:serviceaccount:games:dedicated-server";
        private static int unique;

        private static string Fixture(string name)
        {
            string header = Environment.GetEnvironmentVariable("MSSTORE_HEADER");
            if (string.IsNullOrEmpty(header)) Assert.Ignore("MSSTORE_HEADER (include/msstore.h of the repository) is not set");
            string root = Path.GetDirectoryName(Path.GetDirectoryName(header));
            return Path.Combine(root, "tests/it/fixtures/credentials/" + name);
        }

        private static string Unique(string prefix)
        {
            return prefix + "-cs-" + System.Diagnostics.Process.GetCurrentProcess().Id + "-" + Interlocked.Increment(ref unique);
        }

        private static string TempDir()
        {
            string d = Path.Combine(Path.GetTempPath(), Unique("msstore-cred"));
            Directory.CreateDirectory(d);
            return d;
        }

        // Written whole, then renamed into place (as the kubelet and the CSI driver do).
        private static void WriteFile(string path, string text)
        {
            File.WriteAllText(path + ".tmp", text);
            if (File.Exists(path)) File.Delete(path);
            File.Move(path + ".tmp", path);
        }

        private static string Json(string s)
        {
            return "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n").Replace("\r", "") + "\"";
        }

        private static string Ids
        {
            get { return "\"tenant_id\":\"" + Emulator.TenantId + "\",\"client_id\":\"" + Emulator.ClientId + "\""; }
        }

        private static void TrustAppCertificate()
        {
            Emulator.Admin("POST", "/admin/apps/certificates",
                "{" + Ids + ",\"certificate_pem\":" + Json(File.ReadAllText(Fixture("app_cert.pem"))) + "}");
        }

        private static void TrustFederated(string issuer, string subject)
        {
            Emulator.Admin("POST", "/admin/apps/federated", "{" + Ids + ",\"issuer\":\"" + issuer + "\",\"subject\":\"" + subject + "\"}");
        }

        private static string FederatedToken(string subject)
        {
            return Emulator.Field(Emulator.Admin("POST", "/admin/federated/tokens",
                "{\"issuer\":\"" + Issuer + "\",\"subject\":\"" + subject + "\"}"), "token");
        }

        private static StoreClientOptions Options(Credential credential, Credential previous = null)
        {
            var o = new StoreClientOptions(Emulator.TenantId, Emulator.ClientId);
            o.EmulatorBaseUrl = Emulator.BaseUrl;
            o.MaxAttempts = 1;
            o.Credential = credential;
            o.PreviousCredential = previous;
            return o;
        }

        private StoreClient ClientWith(Credential credential, Credential previous = null,
            StoreCompletion completion = StoreCompletion.Pump)
        {
            StoreClientOptions o = Options(credential, previous);
            o.Completion = completion;
            return Own(new StoreClient(o));
        }

        private static StoreToken Token(StoreClient c, StoreAudience a)
        {
            return Await(c, c.GetTokenAsync(a));
        }

        private static void TokensAndAQuery(StoreClient c)
        {
            foreach (StoreAudience a in Enum.GetValues(typeof(StoreAudience))) Assert.IsNotEmpty(Token(c, a).Value, a.ToString());
            EntitlementPage page = Await(c, c.QueryEntitlementsAsync(new EntitlementQuery(Emulator.CollectionsKey, Emulator.Durable)));
            Assert.IsNotEmpty(page.Items);
        }

        private static List<int> EntraStatuses()
        {
            string json = Emulator.Admin("GET", "/admin/requests?route=entra_v2");
            return Regex.Matches(json, "\"status\"\\s*:\\s*([0-9]+)").Cast<Match>().Select(m => int.Parse(m.Groups[1].Value)).ToList();
        }

        private static string Shown(StoreException e)
        {
            return e.Message + " " + e.Json + " " + e.ServiceCode + " " + e.InnerCode + " " + e;
        }

        [Test]
        public void BadInputs_AreRefusedWithACode()
        {
            Assert.Throws<ArgumentNullException>(() => Credential.Secret(null));
            Assert.Throws<ArgumentNullException>(() => Credential.Provider(null));
            Assert.Throws<StoreArgumentException>(() => Credential.Secret("\ud800"));
            Assert.Throws(Is.InstanceOf<StoreException>(), () => Credential.Secret(""));
            Assert.Throws(Is.InstanceOf<StoreException>(), () => Credential.SecretFile(""));
            Assert.Throws(Is.InstanceOf<StoreException>(), () => Credential.Certificate(new CertificateCredentialOptions()));
            // Inline PEM is parsed when a client is made with it: refused there, with a message.
            using (var garbage = Credential.Certificate(new CertificateCredentialOptions
            {
                CertificatePem = "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n",
            }))
            {
                var e = Assert.Throws<StoreConfigurationException>(() => new StoreClient(Options(garbage)));
                StringAssert.Contains("certificate", e.Message);
            }
            var disposed = Credential.Secret("s");
            disposed.Dispose();
            disposed.Dispose();
            Assert.IsTrue(disposed.IsDisposed);
            Assert.Throws<ObjectDisposedException>(() => new StoreClient(Options(disposed)));
        }

        [Test]
        public void Secret_EndToEnd_AndTheClientKeepsItsOwnReference()
        {
            StoreClient c;
            using (var s = Credential.Secret(Emulator.ClientSecret)) c = ClientWith(s);
            TokensAndAQuery(c);
            Assert.IsNull(c.CredentialExpiresAt, "a secret states no expiry");
            using (var s = Credential.Secret(Emulator.ClientSecret))
                StringAssert.DoesNotContain(Emulator.ClientSecret, Options(s).ToString() + s);
        }

        [Test]
        public void SecretFile_IsReReadWhenItChanges()
        {
            string dir = TempDir();
            string file = Path.Combine(dir, "client-secret");
            WriteFile(file, Emulator.ClientSecret + "\n");
            using (var s = Own(Credential.SecretFile(file)))
            {
                StoreClient c = ClientWith(s);
                Token(c, StoreAudience.Service);
                WriteFile(file, "not-the-secret\n");
                Fails<EntraAuthException>(c, c.GetTokenAsync(StoreAudience.CollectionsKeyCreate));
                WriteFile(file, Emulator.ClientSecret);
                Token(c, StoreAudience.CollectionsKeyCreate);
            }
            Directory.Delete(dir, true);
        }

        [Test]
        public void Certificate_FromFilesAndInlinePem()
        {
            TrustAppCertificate();
            var files = Own(Credential.Certificate(new CertificateCredentialOptions
            {
                CertificatePath = Fixture("app_chain.pem"),
                PrivateKeyPath = Fixture("app_key_pkcs8.pem"),
            }));
            StoreClient c = ClientWith(files);
            TokensAndAQuery(c);
            Assert.IsNotNull(c.CredentialExpiresAt);
            Assert.Greater(c.CredentialExpiresAt.Value, DateTimeOffset.UtcNow.AddYears(50), "the fixture expires in 2126");

            var inline = Own(Credential.Certificate(new CertificateCredentialOptions
            {
                CertificatePem = File.ReadAllText(Fixture("app_chain.pem")) + File.ReadAllText(Fixture("app_key_pkcs1.pem")),
                SendX5c = true,
            }));
            Token(ClientWith(inline), StoreAudience.Service);
        }

        [Test]
        public void WrongCertificate_IsRefusedWithAnActionableError()
        {
            TrustAppCertificate();
            string key = File.ReadAllText(Fixture("other_key_pkcs8.pem"));
            var wrong = Own(Credential.Certificate(new CertificateCredentialOptions
            {
                CertificatePath = Fixture("other_cert.pem"),
                PrivateKeyPem = key,
            }));
            StoreClient c = ClientWith(wrong);
            var e = Fails<EntraAuthException>(c, c.GetTokenAsync(StoreAudience.Service));
            Assert.AreEqual("AADSTS700027", e.InnerCode, e.Message);
            StringAssert.Contains("certificate", e.Message);
            string keyLine = key.Split('\n')[1];
            StringAssert.DoesNotContain(keyLine, Shown(e));
        }

        [Test]
        public void FederatedTokenFile_IsReReadAtEachFetch()
        {
            TrustFederated(Issuer, Subject);
            string dir = TempDir();
            string file = Path.Combine(dir, "token");
            WriteFile(file, FederatedToken(Subject));
            var fed = Own(Credential.FederatedTokenFile(file));
            StoreClient c = ClientWith(fed);
            Token(c, StoreAudience.Service);
            WriteFile(file, FederatedToken("system:serviceaccount:games:someone-else"));
            var e = Fails<EntraAuthException>(c, c.GetTokenAsync(StoreAudience.CollectionsKeyCreate));
            Assert.AreEqual("AADSTS700213", e.InnerCode, e.Message);
            WriteFile(file, FederatedToken(Subject));
            Token(c, StoreAudience.CollectionsKeyCreate);
            Directory.Delete(dir, true);
        }

        [Test]
        public void ManagedIdentity_ThroughImdsAndAppService()
        {
            string identity = "bbbbbbbb-cccc-dddd-eeee-" + (100000000000L + System.Diagnostics.Process.GetCurrentProcess().Id);
            string mi = Emulator.Admin("POST", "/admin/managed_identities",
                "{\"tenant_id\":\"" + Emulator.TenantId + "\",\"client_id\":\"" + identity + "\"}");
            TrustFederated(Emulator.Field(mi, "issuer"), Emulator.Field(mi, "subject"));
            var imds = Own(Credential.ManagedIdentity(new ManagedIdentityCredentialOptions
            {
                ClientId = identity,
                Endpoint = Emulator.Field(mi, "imds_endpoint"),
            }));
            TokensAndAQuery(ClientWith(imds));
            var appService = Own(Credential.ManagedIdentity(new ManagedIdentityCredentialOptions
            {
                ClientId = identity,
                Endpoint = Emulator.Field(mi, "identity_endpoint"),
                IdentityHeader = Emulator.Field(mi, "identity_header"),
            }));
            Token(ClientWith(appService), StoreAudience.Service);
            var stranger = Own(Credential.ManagedIdentity(new ManagedIdentityCredentialOptions
            {
                ClientId = "99999999-8888-7777-6666-444444444444",
                Endpoint = Emulator.Field(mi, "imds_endpoint"),
            }));
            StoreClient c = ClientWith(stranger);
            Fails<StoreException>(c, c.GetTokenAsync(StoreAudience.Service));
        }

        // A rotation through a mounted file: the new secret is refused until the app has it (the
        // previous one is used, the refusal remembered); then the new one alone works, even with
        // the old one revoked.
        [Test]
        public void Rotation_KeepsThePreviousCredentialWhileTheNewOneIsRefused()
        {
            string oldSecret = Unique("old-secret");
            string newSecret = Unique("new-secret");
            Emulator.Admin("POST", "/admin/apps", "{" + Ids + ",\"client_secret\":\"" + oldSecret + "\"}");
            string dir = TempDir();
            string file = Path.Combine(dir, "client-secret");
            WriteFile(file, newSecret);
            var next = Own(Credential.SecretFile(file));
            var previous = Own(Credential.Secret(oldSecret));
            StoreClient c = ClientWith(next, previous);
            Emulator.Admin("DELETE", "/admin/requests");
            var logs = new ConcurrentQueue<string>();
            StoreLog.SetHandler((level, m) => logs.Enqueue(m), StoreLogLevel.Trace);
            try
            {
                Token(c, StoreAudience.Service);
            }
            finally
            {
                StoreLog.SetHandler(null);
            }
            CollectionAssert.AreEqual(new[] { 401, 200 }, EntraStatuses());
            string all = string.Join("\n", logs.ToArray());
            StringAssert.DoesNotContain(newSecret, all);
            StringAssert.DoesNotContain(oldSecret, all);
            Emulator.Admin("DELETE", "/admin/requests");
            Token(c, StoreAudience.CollectionsKeyCreate);
            CollectionAssert.AreEqual(new[] { 200 }, EntraStatuses(), "the refusal of the unchanged file is remembered");
            Emulator.Admin("POST", "/admin/apps", "{" + Ids + ",\"client_secret\":\"" + newSecret + "\"}");
            WriteFile(file, newSecret + "\n");
            Emulator.Admin("DELETE", "/admin/apps/secrets", "{" + Ids + ",\"client_secret\":\"" + oldSecret + "\"}");
            Emulator.Admin("DELETE", "/admin/requests");
            Token(c, StoreAudience.PurchaseKeyCreate);
            CollectionAssert.AreEqual(new[] { 200 }, EntraStatuses());
            StoreClient stale = ClientWith(previous);
            Fails<EntraAuthException>(stale, stale.GetTokenAsync(StoreAudience.Service));
            Directory.Delete(dir, true);
        }

        private sealed class Counter
        {
            internal readonly int[] Calls = new int[3];
        }

        private static readonly string[] AudienceNames =
        {
            "https://onestore.microsoft.com", "https://onestore.microsoft.com/b2b/keys/create/collections",
            "https://onestore.microsoft.com/b2b/keys/create/purchase",
        };

        // Builds the provider in its own method so no local keeps the counter alive.
        private static Credential CountingProvider(out WeakReference counter)
        {
            var counts = new Counter();
            counter = new WeakReference(counts);
            return Credential.Provider(a =>
            {
                Interlocked.Increment(ref counts.Calls[(int)a]);
                Thread.Sleep(200); // long enough for the callers to overlap
                string body = Emulator.Admin("POST", "/admin/tokens", "{" + Ids + ",\"audience\":\"" + AudienceNames[(int)a] + "\"}");
                return ProvidedToken.Token(Emulator.Field(body, "access_token"), DateTimeOffset.UtcNow.AddHours(1));
            });
        }

        [Test]
        public void Provider_IsCalledOncePerAudience_AndReleasedWithTheLastClient()
        {
            // On its own thread, so that no stack slot of this one keeps the provider reachable
            // (Mono scans stacks conservatively).
            WeakReference counter = null;
            Exception failure = null;
            var t = new Thread(() =>
            {
                try { counter = UseProviderConcurrently(); }
                catch (Exception e) { failure = e; }
            });
            t.Start();
            Assert.IsTrue(t.Join(HangGuard), "hang");
            if (failure != null) throw failure;
            // Every client is gone: the release callback freed the GCHandle, so the delegate and
            // its counter can be collected.
            for (int i = 0; i < 10 && counter.IsAlive; i++)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
            Assert.IsFalse(counter.IsAlive, "the provider delegate was not released");
        }

        private WeakReference UseProviderConcurrently()
        {
            WeakReference counter;
            using (Credential p = CountingProvider(out counter))
            using (var c = new StoreClient(Options(p)) )
            {
                p.Dispose(); // the client keeps its own reference
                var tasks = new List<Task<StoreToken>>();
                for (int n = 0; n < 16; n++)
                    foreach (StoreAudience a in Enum.GetValues(typeof(StoreAudience))) tasks.Add(c.GetTokenAsync(a));
                foreach (Task task in tasks) Drive(c, task);
                foreach (var g in tasks.GroupBy(x => x.Result.Audience))
                    Assert.AreEqual(1, g.Select(x => x.Result.Value).Distinct().Count(), g.Key + ": one token");
                CollectionAssert.AreEqual(new[] { 1, 1, 1 }, ((Counter)counter.Target).Calls);
                TokensAndAQuery(c); // the Store accepts the provider's service token
            }
            return counter;
        }

        [Test]
        public void ProviderFailures_MapToEntraAuthOrNetwork_AndAThrowIsContained()
        {
            var sealedVault = Own(Credential.Provider(a => ProvidedToken.Fail("the vault is sealed")));
            StoreClient c1 = ClientWith(sealedVault);
            Fails<EntraAuthException>(c1, c1.GetTokenAsync(StoreAudience.Service));
            var offline = Own(Credential.Provider(a => ProvidedToken.Fail("the vault is offline", true)));
            StoreClient c2 = ClientWith(offline);
            Fails<StoreNetworkException>(c2, c2.GetTokenAsync(StoreAudience.Service));
            var throws = Own(Credential.Provider(a => { throw new InvalidOperationException("vault secret s3cr3t"); }));
            StoreClient c3 = ClientWith(throws);
            var e = Fails<EntraAuthException>(c3, c3.GetTokenAsync(StoreAudience.Service));
            StringAssert.DoesNotContain("s3cr3t", Shown(e));
        }

        [Test]
        public void Doctor_HealthyAndBroken()
        {
            string key = Emulator.MintKey("collections", Unique("doctor"));
            DoctorReport healthy;
            using (var good = Credential.Secret(Emulator.ClientSecret)) healthy = Doctor.Run(Options(good), key);
            Assert.IsTrue(healthy.Healthy, healthy.Text);
            Assert.GreaterOrEqual(healthy.Checks.Count, 5, healthy.Text);
            Assert.AreEqual("configuration", healthy.Checks[0].Name);
            foreach (DoctorCheck k in healthy.Checks)
            {
                Assert.AreNotEqual(DoctorStatus.Fail, k.Status, k.ToString());
                Assert.AreEqual(StoreResult.Ok, k.Result, k.Name);
            }
            StringAssert.DoesNotContain(key, healthy.Text);

            string wrong = Unique("doctor-wrong-secret");
            DoctorReport broken;
            using (var bad = Credential.Secret(wrong)) broken = Doctor.Run(Options(bad));
            Assert.IsFalse(broken.Healthy);
            DoctorCheck[] failed = broken.Checks.Where(k => k.Status == DoctorStatus.Fail).ToArray();
            Assert.IsNotEmpty(failed, broken.Text);
            foreach (DoctorCheck k in failed)
            {
                Assert.AreEqual(StoreResult.EntraAuth, k.Result, k.Name);
                Assert.IsNotNull(k.Hint, k.Name);
            }
            StringAssert.DoesNotContain(wrong, broken.Text);

            DoctorReport json = Doctor.RunJson("{\"tenant_id\":\"" + Emulator.TenantId + "\",\"client_id\":\"" + Emulator.ClientId +
                "\",\"client_secret\":\"" + Emulator.ClientSecret + "\",\"emulator_base_url\":\"" + Emulator.BaseUrl + "\"}");
            Assert.IsTrue(json.Healthy, json.Text);
        }

        [Test]
        public void ErrorsAndLogs_NeverContainTheSecret()
        {
            string secret = Unique("never-shown-secret");
            var logs = new ConcurrentQueue<string>();
            StoreLog.SetHandler((level, m) => logs.Enqueue(m), StoreLogLevel.Trace);
            try
            {
                var s = Own(Credential.Secret(secret));
                StoreClient c = ClientWith(s);
                StringAssert.DoesNotContain(secret, Shown(Fails<EntraAuthException>(c, c.GetTokenAsync(StoreAudience.Service))));
                string vaultToken = Unique("vault-token");
                var p = Own(Credential.Provider(a => ProvidedToken.Token(vaultToken, DateTimeOffset.UtcNow.AddHours(1))));
                StringAssert.DoesNotContain(vaultToken, p.ToString() + ProvidedToken.Token(vaultToken, DateTimeOffset.UtcNow));
                StoreClient c2 = ClientWith(p);
                var e = Fails<StoreException>(c2, c2.QueryEntitlementsAsync(new EntitlementQuery(Emulator.CollectionsKey, Emulator.Durable)));
                StringAssert.DoesNotContain(vaultToken, Shown(e));
                string all = string.Join("\n", logs.ToArray());
                StringAssert.DoesNotContain(secret, all);
                StringAssert.DoesNotContain(vaultToken, all);
            }
            finally
            {
                StoreLog.SetHandler(null);
            }
            var pem = new CertificateCredentialOptions { PrivateKeyPem = "-----BEGIN PRIVATE KEY-----\nMIIsecret\n" };
            StringAssert.DoesNotContain("MIIsecret", pem.ToString());
        }
    }
}

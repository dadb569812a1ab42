// Keeps the hand-written P/Invoke layer in sync with include/msstore.h: every exported
// function bound (and nothing bound that the header lacks), every result code and enum value
// equal, and every struct the same size as the C compiler says (MSSTORE_STRUCT_SIZES, written
// by scripts/test-csharp.sh from a program compiled against the header).
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Msstore.Tests
{
    [TestFixture]
    public class HeaderSyncTests
    {
        private static string Header
        {
            get
            {
                string path = Environment.GetEnvironmentVariable("MSSTORE_HEADER");
                Assert.IsNotNull(path, "MSSTORE_HEADER is not set");
                return File.ReadAllText(path);
            }
        }

        // The header without its test-only declarations (#if defined(MSSTORE_TEST_HOOKS)): the
        // wrapper binds what the shipped library exports; the tests bind the hooks themselves.
        private static string ShippedHeader
        {
            get { return Regex.Replace(Header, @"#if defined\(MSSTORE_TEST_HOOKS\).*?#endif", "", RegexOptions.Singleline); }
        }

        private static Type NativeType(string name)
        {
            Type t = typeof(StoreClient).Assembly.GetType("Msstore.Native." + name);
            Assert.IsNotNull(t, name);
            return t;
        }

        [Test]
        public void EveryExportedFunction_IsBound_AndNothingElse()
        {
            var exported = new HashSet<string>(Regex.Matches(ShippedHeader, @"MSSTORE_EXPORT\s+[^;]*?\b(msstore_[a-z0-9_]+)\s*\(")
                .Cast<Match>().Select(m => m.Groups[1].Value));
            Assert.Greater(exported.Count, 50, "header parse");
            var bound = new HashSet<string>(NativeType("NativeMethods")
                .GetMethods(BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public)
                .Where(m => (m.Attributes & MethodAttributes.PinvokeImpl) != 0).Select(m => m.Name));
            CollectionAssert.IsEmpty(exported.Except(bound).OrderBy(x => x), "exported but not bound");
            CollectionAssert.IsEmpty(bound.Except(exported).OrderBy(x => x), "bound but not exported");
        }

        private static Dictionary<string, long> CEnum(string prefix)
        {
            return Regex.Matches(Header, @"\b" + prefix + @"([A-Z0-9_]+)\s*=\s*(-?[0-9]+)")
                .Cast<Match>().ToDictionary(m => m.Groups[1].Value.Replace("_", "").ToLowerInvariant(),
                    m => long.Parse(m.Groups[2].Value));
        }

        private static void SameEnum(string prefix, Type managed, params string[] cOnly)
        {
            Dictionary<string, long> c = CEnum(prefix);
            Assert.Greater(c.Count, 0, prefix);
            foreach (var kv in c)
            {
                if (cOnly.Contains(kv.Key)) continue;
                string name = Enum.GetNames(managed).FirstOrDefault(n => n.ToLowerInvariant() == kv.Key);
                Assert.IsNotNull(name, prefix + kv.Key + " has no " + managed.Name + " member");
                Assert.AreEqual(kv.Value, Convert.ToInt64(Enum.Parse(managed, name)), prefix + kv.Key);
            }
        }

        [Test]
        public void ResultCodes_Match()
        {
            SameEnum("MSSTORE_E_", typeof(StoreResult));
            Assert.AreEqual(0, (int)StoreResult.Ok);
            foreach (StoreResult r in Enum.GetValues(typeof(StoreResult)))
            {
                string name = Msstore.Native.Utf8.FromNative(Msstore.Native.NativeMethods.msstore_result_name((int)r));
                Assert.AreNotEqual("MSSTORE_UNKNOWN", name, r.ToString());
            }
        }

        [Test]
        public void OtherEnums_Match()
        {
            SameEnum("MSSTORE_AUDIENCE_", typeof(StoreAudience));
            SameEnum("MSSTORE_CHANGE_", typeof(SubscriptionChange));
            SameEnum("MSSTORE_KEY_", typeof(StoreKeyKind));
            SameEnum("MSSTORE_LOG_", typeof(StoreLogLevel));
            SameEnum("MSSTORE_CLAWBACK_", typeof(ClawbackEventState));
            SameEnum("MSSTORE_LEDGER_", typeof(LedgerEntryState));
            SameEnum("MSSTORE_REVOCATION_", typeof(RevocationKind));
        }

        [Test]
        public void VersionMacros_MatchTheLibrary()
        {
            string v = Regex.Match(Header, "#define MSSTORE_VERSION_STRING \"([^\"]+)\"").Groups[1].Value;
            Assert.AreEqual(v, StoreClient.NativeVersion);
        }

        [Test]
        public void StructSizes_MatchTheCCompiler()
        {
            string path = Environment.GetEnvironmentVariable("MSSTORE_STRUCT_SIZES");
            Assert.IsNotNull(path, "MSSTORE_STRUCT_SIZES is not set");
            var structs = Regex.Matches(Header, @"typedef struct (msstore_[a-z_]+) \{").Cast<Match>()
                .Select(m => m.Groups[1].Value).ToList();
            var sizes = File.ReadAllLines(path).Where(l => l.Trim().Length > 0)
                .ToDictionary(l => l.Split(' ')[0], l => int.Parse(l.Split(' ')[1]));
            CollectionAssert.AreEquivalent(structs, sizes.Keys, "the size program covers every struct of the header");
            var names = new Dictionary<string, string>
            {
                { "msstore_client_options", "ClientOptions" }, { "msstore_call_options", "CallOptions" },
                { "msstore_key_info", "KeyInfo" }, { "msstore_query_options", "QueryOptions" },
                { "msstore_consume_options", "ConsumeOptions" }, { "msstore_grant_options", "GrantOptions" },
                { "msstore_consume_v6_options", "ConsumeV6Options" },
                { "msstore_subscription_query_options", "SubscriptionQueryOptions" },
                { "msstore_subscription_change_options", "SubscriptionChangeOptions" },
                { "msstore_entitlement", "Entitlement" }, { "msstore_consume_result_info", "ConsumeInfo" },
                { "msstore_order_transaction", "OrderTransaction" }, { "msstore_order_info", "OrderInfo" },
                { "msstore_order_line_item", "OrderLineItem" }, { "msstore_subscription", "Subscription" },
                { "msstore_clawback_orders_options", "ClawbackOrdersOptions" },
                { "msstore_clawback_queue_options", "ClawbackReceiveOptions" },
                { "msstore_clawback_order_line", "ClawbackOrderLine" }, { "msstore_clawback_message", "ClawbackMessage" },
                { "msstore_ledger_options", "LedgerOptions" }, { "msstore_ledger_consume_options", "LedgerConsumeOptions" },
                { "msstore_clawback_match_options", "ClawbackMatchOptions" }, { "msstore_ledger_entry", "LedgerEntry" },
                { "msstore_ledger_revocation", "LedgerRevocation" },
                { "msstore_clawback_ingest_options", "ClawbackIngestOptions" },
                { "msstore_ledger_items_info", "LedgerItemsInfo" },
                { "msstore_error_info", "ErrorInfo" }, { "msstore_token_info", "TokenInfo" },
                { "msstore_entitlements_info", "EntitlementsInfo" }, { "msstore_subscriptions_info", "SubscriptionsInfo" },
                { "msstore_clawback_orders_info", "ClawbackOrdersInfo" },
                { "msstore_clawback_messages_info", "ClawbackMessagesInfo" },
            };
            foreach (var kv in sizes)
            {
                Assert.IsTrue(names.ContainsKey(kv.Key), kv.Key + " has no C# struct");
                Assert.AreEqual(kv.Value, Marshal.SizeOf(NativeType(names[kv.Key])), kv.Key);
            }
        }

        // A test-only export (Cargo feature ffi-test-hooks, which scripts/test-csharp.sh builds).
        [DllImport(Msstore.Native.NativeMethods.Lib, CallingConvention = CallingConvention.Cdecl)]
        private static extern int msstore_debug_trigger_panic();

        [Test]
        public void PanicBoundary_HoldsAcrossPInvoke()
        {
            Assert.AreEqual((int)StoreResult.Panic, msstore_debug_trigger_panic());
        }
    }
}

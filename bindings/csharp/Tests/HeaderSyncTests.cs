// Keeps the hand-written P/Invoke layer in sync with include/msstore.h: every exported
// function bound (and nothing bound that the header lacks), every result code and enum value
// equal, and every struct the same size as the C compiler says (MSSTORE_STRUCT_SIZES, written
// by scripts/test-csharp.sh from a program compiled against the header). Also keeps C# and the
// C++ wrapper (MSSTORE_CPP_HEADER, bindings/cpp/include/msstore.hpp) on the same enum members.
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
                if (string.IsNullOrEmpty(path)) Assert.Ignore("MSSTORE_HEADER (the path of include/msstore.h) is not set");
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

        /// <summary>The C enums of the header: enum name -> (constant -> value).</summary>
        private static Dictionary<string, Dictionary<string, long>> CEnums()
        {
            return Regex.Matches(Header, @"\benum\s+(msstore_[a-z0-9_]+)\b[^{;]*\{(.*?)\};", RegexOptions.Singleline)
                .Cast<Match>().ToDictionary(m => m.Groups[1].Value,
                    m => Regex.Matches(m.Groups[2].Value, @"\b(MSSTORE_[A-Z0-9_]+)\s*=\s*(-?[0-9]+)").Cast<Match>()
                        .ToDictionary(c => c.Groups[1].Value, c => long.Parse(c.Groups[2].Value)));
        }

        private static Dictionary<string, long> Members(Type managed)
        {
            return Enum.GetNames(managed).ToDictionary(n => n, n => Convert.ToInt64(Enum.Parse(managed, n)));
        }

        /// <summary>Every constant of the C enum is a member of <paramref name="managed"/> with its
        /// value (MSSTORE_LEDGER_APPLIED -> Applied), and every member is a constant, but for
        /// <paramref name="managedOnly"/> (e.g. an Unknown the C enum does not need).</summary>
        private static void SameAsC(Dictionary<string, long> c, string prefix, Type managed, params string[] managedOnly)
        {
            Assert.Greater(c.Count, 0, prefix);
            Dictionary<string, long> m = Members(managed);
            var fromC = new HashSet<string>();
            foreach (var kv in c)
            {
                string key = (kv.Key.StartsWith(prefix) ? kv.Key.Substring(prefix.Length) : kv.Key.Substring("MSSTORE_".Length))
                    .Replace("_", "").ToLowerInvariant();
                string name = m.Keys.FirstOrDefault(n => n.ToLowerInvariant() == key);
                Assert.IsNotNull(name, kv.Key + " has no " + managed.Name + " member");
                Assert.AreEqual(kv.Value, m[name], kv.Key + " vs " + managed.Name + "." + name);
                fromC.Add(name);
            }
            CollectionAssert.AreEquivalent(managedOnly, m.Keys.Except(fromC).ToArray(),
                managed.Name + " members without a C constant");
        }

        // C enum -> the C# enum bound to it. The completion mode has none: StoreCompletion is the
        // wrapper's own choice (Pump, SynchronizationContext, Immediate), mapped in StoreClient.
        [Test]
        public void CEnums_MatchTheCSharpEnums()
        {
            Dictionary<string, Dictionary<string, long>> c = CEnums();
            CollectionAssert.AreEquivalent(new[]
            {
                "msstore_audience", "msstore_change_type", "msstore_clawback_event_state", "msstore_completion_mode",
                "msstore_key_kind", "msstore_ledger_state", "msstore_log_level",
                "msstore_result", "msstore_revocation_kind",
            }, c.Keys, "a new C enum needs its C# enum here");
            SameAsC(c["msstore_result"], "MSSTORE_E_", typeof(StoreResult));
            SameAsC(c["msstore_audience"], "MSSTORE_AUDIENCE_", typeof(StoreAudience));
            SameAsC(c["msstore_change_type"], "MSSTORE_CHANGE_", typeof(SubscriptionChange));
            SameAsC(c["msstore_key_kind"], "MSSTORE_KEY_", typeof(StoreKeyKind), "Unknown");
            SameAsC(c["msstore_log_level"], "MSSTORE_LOG_", typeof(StoreLogLevel));
            SameAsC(c["msstore_clawback_event_state"], "MSSTORE_CLAWBACK_", typeof(ClawbackEventState));
            SameAsC(c["msstore_ledger_state"], "MSSTORE_LEDGER_", typeof(LedgerEntryState), "Unknown");
            SameAsC(c["msstore_revocation_kind"], "MSSTORE_REVOCATION_", typeof(RevocationKind), "Unknown");
        }

        [Test]
        public void ResultCodes_HaveNames()
        {
            Assert.AreEqual(0, (int)StoreResult.Ok);
            foreach (StoreResult r in Enum.GetValues(typeof(StoreResult)))
            {
                string name = Msstore.Native.Utf8.FromNative(Msstore.Native.NativeMethods.msstore_result_name((int)r));
                Assert.AreNotEqual("MSSTORE_UNKNOWN", name, r.ToString());
            }
        }

        /// <summary>The scoped enums of msstore.hpp: name -> (member -> value), values resolved
        /// through the C constants (or literals, or the previous value + 1).</summary>
        private static Dictionary<string, Dictionary<string, long>> CppEnums(string hpp)
        {
            var constants = CEnums().Values.SelectMany(e => e).ToDictionary(kv => kv.Key, kv => kv.Value);
            string code = Regex.Replace(hpp, @"//[^\n]*", "");
            var result = new Dictionary<string, Dictionary<string, long>>();
            foreach (Match m in Regex.Matches(code, @"\benum\s+class\s+(\w+)\s*(?::\s*\w+\s*)?\{([^}]*)\}"))
            {
                var members = new Dictionary<string, long>();
                long next = 0;
                foreach (string raw in m.Groups[2].Value.Split(','))
                {
                    string item = raw.Trim();
                    if (item.Length == 0) continue;
                    Match kv = Regex.Match(item, @"^(\w+)\s*(?:=\s*(\S+))?$");
                    Assert.IsTrue(kv.Success, "cannot read '" + item + "' of enum class " + m.Groups[1].Value);
                    long value = next;
                    if (kv.Groups[2].Success)
                    {
                        string v = kv.Groups[2].Value;
                        Assert.IsTrue(constants.TryGetValue(v, out value) || long.TryParse(v, out value),
                            m.Groups[1].Value + "::" + kv.Groups[1].Value + " = " + v + ": not a C constant or a number");
                    }
                    members[kv.Groups[1].Value] = value;
                    next = value + 1;
                }
                result[m.Groups[1].Value] = members;
            }
            return result;
        }

        // C++ enum -> C# enum, member by member: same names, same values. `only` lists the members
        // one of the two has on purpose ("+X": C# only).
        [Test]
        public void CppEnums_MatchTheCSharpEnums()
        {
            string path = Environment.GetEnvironmentVariable("MSSTORE_CPP_HEADER");
            if (string.IsNullOrEmpty(path)) Assert.Ignore("MSSTORE_CPP_HEADER (bindings/cpp/include/msstore.hpp) is not set");
            Dictionary<string, Dictionary<string, long>> cpp = CppEnums(File.ReadAllText(path));
            var map = new Dictionary<string, Type>
            {
                { "Code", typeof(StoreResult) }, { "Audience", typeof(StoreAudience) }, { "KeyKind", typeof(StoreKeyKind) },
                { "ChangeType", typeof(SubscriptionChange) }, { "LogLevel", typeof(StoreLogLevel) },
                { "ProductKind", typeof(ProductKind) }, { "EntitlementStatus", typeof(EntitlementStatus) },
                { "AcquisitionType", typeof(AcquisitionType) }, { "RecurrenceState", typeof(RecurrenceState) },
                { "ClawbackEventState", typeof(ClawbackEventState) }, { "LineItemState", typeof(ClawbackLineState) },
                { "LedgerState", typeof(LedgerEntryState) }, { "RevocationKind", typeof(RevocationKind) },
                { "DoctorStatus", typeof(DoctorStatus) },
                // One C# enum for both clawback states; Other is the event's "unknown state".
                { "LedgerClawbackState", typeof(ClawbackEventState) },
            };
            var csharpOnly = new Dictionary<string, string[]> { { "LedgerClawbackState", new[] { "Other" } } };
            // CompletionMode: the C completion modes, which C# replaces by StoreCompletion.
            CollectionAssert.AreEquivalent(map.Keys.Concat(new[] { "CompletionMode" }).ToArray(), cpp.Keys,
                "a new C++ enum needs its C# enum here");
            foreach (var kv in map)
            {
                Dictionary<string, long> cs = Members(kv.Value);
                Dictionary<string, long> cc = cpp[kv.Key];
                string[] only;
                if (!csharpOnly.TryGetValue(kv.Key, out only)) only = new string[0];
                CollectionAssert.AreEquivalent(cc.Keys.Concat(only).ToArray(), cs.Keys,
                    "members of C++ " + kv.Key + " vs C# " + kv.Value.Name);
                foreach (var member in cc)
                    Assert.AreEqual(member.Value, cs[member.Key], kv.Key + "::" + member.Key + " vs " + kv.Value.Name);
            }
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
            if (string.IsNullOrEmpty(path)) Assert.Ignore("MSSTORE_STRUCT_SIZES is not set (scripts/test-csharp.sh writes it)");
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
                { "msstore_certificate_options", "CertificateOptions" },
                { "msstore_managed_identity_options", "ManagedIdentityOptions" },
                { "msstore_doctor_check_info", "DoctorCheckInfo" },
            };
            foreach (var kv in sizes)
            {
                Assert.IsTrue(names.ContainsKey(kv.Key), kv.Key + " has no C# struct");
                Assert.AreEqual(kv.Value, Marshal.SizeOf(NativeType(names[kv.Key])), kv.Key);
            }
        }

        [Test]
        public void PanicBoundary_HoldsAcrossPInvoke()
        {
            if (TestHooks.ShippedBuild()) return;
            Assert.AreEqual((int)StoreResult.Panic, TestHooks.msstore_debug_trigger_panic());
        }
    }
}

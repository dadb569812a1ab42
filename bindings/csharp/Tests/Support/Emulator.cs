// The emulator the tests run against: its seed line (MSSTORE_EMU_SEED, printed by
// `msstore-emulator --seed demo`) and a small client for its admin API (127.0.0.1 only).
using System;
using System.IO;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Msstore.Tests
{
    internal static class Emulator
    {
        private static string seed;

        /// <summary>True when MSSTORE_EMU_SEED names a running emulator.</summary>
        internal static bool IsConfigured
        {
            get { return !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("MSSTORE_EMU_SEED")); }
        }

        /// <summary>Ignores the calling test when no emulator is configured (a Unity project
        /// without one; scripts/test-csharp.sh always sets it, and counts an ignored test as a
        /// failure).</summary>
        internal static void Require()
        {
            if (!IsConfigured)
                Assert.Ignore("MSSTORE_EMU_SEED is not set: start `msstore-emulator --port 0 --seed demo` and " +
                    "set it to the line it prints (see the package README, Tests)");
        }

        /// <summary>The seed line (ignores the calling test without one).</summary>
        internal static string Seed
        {
            get
            {
                Require();
                return seed ?? (seed = Environment.GetEnvironmentVariable("MSSTORE_EMU_SEED"));
            }
        }

        internal static string BaseUrl { get { return Field(Seed, "base_url"); } }
        internal static string TenantId { get { return Field(Seed, "tenant_id"); } }
        internal static string ClientId { get { return Field(Seed, "client_id"); } }
        internal static string ClientSecret { get { return Field(Seed, "client_secret"); } }
        internal static string CollectionsKey { get { return Field(Seed, "collections_key"); } }
        internal static string PurchaseKey { get { return Field(Seed, "purchase_key"); } }
        internal static string Durable { get { return Field(Seed, "durable_product_id"); } }
        internal static string Consumable { get { return Field(Seed, "consumable_product_id"); } }
        internal static string Sku { get { return Field(Seed, "sku_id"); } }
        internal static string Unmanaged { get { return Field(Seed, "unmanaged_consumable_product_id"); } }
        internal static string FreeProduct { get { return Field(Seed, "free_product_id"); } }
        internal static string FreeSku { get { return Field(Seed, "free_sku_id"); } }
        internal static string FreeAvailability { get { return Field(Seed, "free_availability_id"); } }
        internal static string RecurrenceId { get { return Field(Seed, "recurrence_id"); } }
        internal static string SubscriptionProduct { get { return Field(Seed, "subscription_product_id"); } }
        internal static string StoreUser { get { return Field(Seed, "store_user_id"); } }
        internal static string PublisherUser { get { return Field(Seed, "publisher_user_id"); } }

        /// <summary>A string field of a flat JSON object (the emulator's values carry no escapes).</summary>
        internal static string Field(string json, string name)
        {
            Match m = Regex.Match(json, "\"" + Regex.Escape(name) + "\"\\s*:\\s*\"([^\"]*)\"");
            return m.Success ? m.Groups[1].Value : null;
        }

        internal static long NumberField(string json, string name)
        {
            Match m = Regex.Match(json, "\"" + Regex.Escape(name) + "\"\\s*:\\s*(-?[0-9]+)");
            if (!m.Success) throw new FormatException("no number '" + name + "' in " + json);
            return long.Parse(m.Groups[1].Value);
        }

        /// <summary>Calls the admin API; throws unless it answers 200.</summary>
        internal static string Admin(string method, string path, string body = null)
        {
            var req = (HttpWebRequest)WebRequest.Create(BaseUrl + path);
            req.Method = method;
            req.Proxy = null; // loopback only, whatever http_proxy says
            req.Timeout = 15000;
            req.ContentType = "application/json";
            if (body != null)
            {
                byte[] bytes = Encoding.UTF8.GetBytes(body);
                req.ContentLength = bytes.Length;
                using (Stream s = req.GetRequestStream()) s.Write(bytes, 0, bytes.Length);
            }
            else if (method != "GET")
            {
                req.ContentLength = 0;
            }
            try
            {
                using (var resp = (HttpWebResponse)req.GetResponse())
                using (var r = new StreamReader(resp.GetResponseStream(), Encoding.UTF8))
                    return r.ReadToEnd();
            }
            catch (WebException e)
            {
                string detail = "";
                if (e.Response != null)
                    using (var r = new StreamReader(e.Response.GetResponseStream())) detail = r.ReadToEnd();
                throw new InvalidOperationException("admin " + method + " " + path + " failed: " + e.Message + " " + detail);
            }
        }

        internal static void AddFault(string json) { Admin("POST", "/admin/faults", json); }

        internal static void ClearFaults() { Admin("DELETE", "/admin/faults"); }

        /// <summary>Creates a store user and mints a key of <paramref name="kind"/> for it.</summary>
        internal static string MintKey(string kind, string storeUser, string clientId = null)
        {
            Admin("POST", "/admin/users", "{\"store_user_id\":\"" + storeUser + "\"}");
            string resp = Admin("POST", "/admin/keys/mint",
                "{\"kind\":\"" + kind + "\",\"publisher_user_id\":\"pub-" + storeUser + "\",\"store_user_id\":\"" +
                storeUser + "\",\"tenant_id\":\"" + TenantId + "\",\"client_id\":\"" + (clientId ?? ClientId) + "\"}");
            return Field(resp, "key");
        }

        /// <summary>Gives <paramref name="storeUser"/> a product (quantity units of a consumable).</summary>
        internal static void Purchase(string storeUser, string productId, int quantity = 1)
        {
            Admin("POST", "/admin/purchases", "{\"store_user_id\":\"" + storeUser + "\",\"product_id\":\"" + productId +
                "\",\"quantity\":" + quantity + "}");
        }

        /// <summary>Like Purchase; returns the new order's id and line item id.</summary>
        internal static string BuyOrder(string storeUser, string productId, int quantity, out string lineItemId)
        {
            string resp = Admin("POST", "/admin/purchases", "{\"store_user_id\":\"" + storeUser + "\",\"product_id\":\"" +
                productId + "\",\"quantity\":" + quantity + "}");
            lineItemId = Field(resp, "line_item_id");
            return Field(resp, "order_id");
        }

        /// <summary>Claws an order back (action: refund, return, chargeback, chargeback_reversal,
        /// partial_subscription_refund); returns the outcome JSON (events enqueued).</summary>
        internal static string Clawback(string action, string storeUser, string orderId)
        {
            return Admin("POST", "/admin/clawback", "{\"action\":\"" + action + "\",\"store_user_id\":\"" + storeUser +
                "\",\"order_id\":\"" + orderId + "\"}");
        }

        /// <summary>Empties the clawback queue (tests that read it start from nothing).</summary>
        internal static void ClearQueue() { Admin("DELETE", "/admin/queue"); }

        /// <summary>Puts a raw MessageText on the clawback queue.</summary>
        internal static void EnqueueText(string text)
        {
            Admin("POST", "/admin/queue", "{\"text\":\"" + text + "\"}");
        }

        internal static void AdvanceClock(int seconds)
        {
            Admin("POST", "/admin/clock/advance", "{\"seconds\":" + seconds + "}");
        }

        internal static void SetKnobs(string json) { Admin("POST", "/admin/knobs", json); }

        internal static long Balance(string storeUser, string productId)
        {
            return NumberField(Admin("GET", "/admin/balance?user=" + storeUser + "&product=" + productId), "balance");
        }

        internal static int CountRequests(string route)
        {
            string json = Admin("GET", "/admin/requests?route=" + route);
            return Regex.Matches(json, "\"route\"\\s*:").Count;
        }
    }
}

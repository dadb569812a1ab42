// msstore quickstart in C#: the flow of a game server, with a frame loop that pumps the client
// the way a MonoBehaviour's Update would.
//
//   cargo run -p msstore-emulator -- --port 0 --seed demo   # prints a JSON seed line
//   mcs -langversion:7.2 -out:Quickstart.exe -r:Msstore.dll examples/csharp/Quickstart.cs
//   MSSTORE_EMU_SEED='<that line>' LD_LIBRARY_PATH=target/debug mono Quickstart.exe
//
// scripts/test-csharp.sh builds and runs it against a fresh emulator.
using System;
using System.IO;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using Msstore;

public static class Quickstart
{
    private static int passed, failed;

    private static void Check(bool ok, string what)
    {
        if (ok) passed++;
        else failed++;
        Console.WriteLine((ok ? "ok   " : "FAIL ") + what);
    }

    private static string Field(string json, string name)
    {
        Match m = Regex.Match(json, "\"" + name + "\"\\s*:\\s*\"([^\"]*)\"");
        return m.Success ? m.Groups[1].Value : null;
    }

    /// <summary>The game loop: one Pump per 16 ms frame until the task is done.</summary>
    private static T RunFrames<T>(StoreClient client, Task<T> task, string what)
    {
        int frames = 0;
        while (!task.IsCompleted && frames < 3000)
        {
            client.Pump();
            Thread.Sleep(16);
            frames++;
        }
        Console.WriteLine("{0}: completed after {1} frames ({2})", what, frames, task.Status);
        return task.GetAwaiter().GetResult();
    }

    private static void RunFrames(StoreClient client, Task task, string what)
    {
        RunFrames(client, task.ContinueWith(t => { t.GetAwaiter().GetResult(); return true; },
            TaskContinuationOptions.ExecuteSynchronously), what);
    }

    public static int Main()
    {
        string seed = Environment.GetEnvironmentVariable("MSSTORE_EMU_SEED");
        if (string.IsNullOrEmpty(seed))
        {
            Console.Error.WriteLine("set MSSTORE_EMU_SEED to the emulator's seed line");
            return 2;
        }
        string key = Field(seed, "collections_key");
        string durable = Field(seed, "durable_product_id");
        string consumable = Field(seed, "consumable_product_id");
        Console.WriteLine("msstore " + StoreClient.NativeVersion);
        StoreLog.SetHandler((level, message) => { if (level <= StoreLogLevel.Warn) Console.Error.WriteLine(level + " " + message); });

        try
        {
            // 1. a client (Tasks complete inside Pump, on the game thread)
            var options = new StoreClientOptions(Field(seed, "tenant_id"), Field(seed, "client_id"), Field(seed, "client_secret"))
            {
                EmulatorBaseUrl = Field(seed, "base_url"),
            };
            using (var client = new StoreClient(options))
            {
                // 2. the key the game client sent: whose is it, when to renew?
                StoreIdKey decoded = StoreIdKey.Decode(key);
                Console.WriteLine("key: {0}, renew after {1:o}", decoded, decoded.RenewAfter);
                Check(decoded.Kind == StoreKeyKind.Collections, "the key is a UserCollectionsId");

                // 3. what does this player own?
                EntitlementPage owned = RunFrames(client,
                    client.QueryEntitlementsAsync(new EntitlementQuery(key, durable, consumable)), "query");
                foreach (EntitlementItem item in owned.Items)
                    Console.WriteLine("  {0}  {1,-20}  {2,-8}  quantity {3}", item.ProductId, item.ProductKind, item.Status, item.Quantity);
                Check(owned.Items.Count == 2, "owns the durable and the consumable");

                // 4. the player used one unit of the consumable
                try
                {
                    ConsumeResult r = RunFrames(client, client.ConsumeAsync(new ConsumeRequest(key, consumable, 1)), "consume");
                    Console.WriteLine("consumed: balance now {0} (tracking id {1})", r.NewQuantity, r.TrackingId);
                    Check(r.NewQuantity >= 0, "consume succeeded");
                }
                catch (ConsumeOutcomeUnknownException e)
                {
                    Console.WriteLine("unknown outcome: resend with tracking id " + e.TrackingId);
                    Check(false, "consume resolved");
                }

                // 5. exactly-once fulfilment: consumes go through a durable ledger (SQLite here)
                string path = Path.Combine(Path.GetTempPath(), "msstore-quickstart-" + Guid.NewGuid().ToString("N") + ".sqlite");
                try
                {
                    using (var ledger = new StoreLedger(LedgerOptions.Sqlite(path)))
                    {
                        // at start-up: replay what a crash left open, grant what was applied
                        LedgerItems open = RunFrames(client, ledger.ReconcileAsync(client), "reconcile");
                        foreach (LedgerEntry e in open.Entries)
                            if (e.State == LedgerEntryState.Applied) ledger.Acknowledge(e.Id); // after granting
                        LedgerEntry entry = RunFrames(client,
                            ledger.ConsumeAsync(client, new LedgerConsumeRequest("player-42", key, consumable, 1)), "ledger consume");
                        Console.WriteLine("ledger: {0}", entry);
                        if (entry.State == LedgerEntryState.Applied)
                        {
                            // grant entry.Quantity of entry.ProductId to entry.PlayerRef, then:
                            ledger.Acknowledge(entry.Id);
                        }
                        Check(entry.State == LedgerEntryState.Applied, "consumed through the ledger");

                        // 6. refunds: the queue into the ledger (each event recorded, then deleted),
                        //    then take back what the revocations say
                        ClawbackIngestResult refunds = RunFrames(client, ledger.IngestClawbackAsync(client), "clawback ingest");
                        Console.WriteLine("refunds: {0}", refunds);
                        Check(refunds.DeleteErrors == 0, "every recorded refund message deleted");
                        foreach (LedgerRevocation v in refunds.Revocations)
                        {
                            Console.WriteLine("revoke: {0}", v);            // take it back in-game, then:
                            ledger.AcknowledgeRevocation(v.Id);
                        }
                        Check(ledger.Pending().Entries.Count == 0, "nothing left open in the ledger");
                    }
                }
                finally
                {
                    foreach (string f in new[] { path, path + "-wal", path + "-shm" }) File.Delete(f);
                }
            }
        }
        catch (StoreException e)
        {
            Console.WriteLine("store error: " + e);
            Check(false, "no store error");
        }
        finally
        {
            StoreLog.SetHandler(null);
        }
        Check(StoreClient.LiveNativeObjects == 0, "no native object left");
        Console.WriteLine("{0} passed, {1} failed", passed, failed);
        return failed == 0 ? 0 : 1;
    }
}

// The consume ledger's inputs and results (see StoreLedger). Managed copies, like Models.cs.
using System;
using System.Collections.Generic;

namespace Msstore
{
    /// <summary>State of a ledger entry (msstore_ledger_state).</summary>
    public enum LedgerEntryState
    {
        /// <summary>A state this wrapper does not know (a newer library): neither grant nor acknowledge.</summary>
        Unknown = 0,
        /// <summary>Recorded; the outcome is not known yet. Do not grant; ReconcileAsync resends it.</summary>
        Pending = 1,
        /// <summary>The Store applied it: grant the value, then Acknowledge.</summary>
        Applied = 2,
        /// <summary>Granted and acknowledged. Final.</summary>
        Completed = 3,
        /// <summary>The Store refused it; nothing was applied (LastError says why). Final.</summary>
        Failed = 4,
    }

    /// <summary>What a revocation asks the game to do (msstore_revocation_kind).</summary>
    public enum RevocationKind
    {
        /// <summary>A kind this wrapper does not know (a newer library): take nothing, give nothing.</summary>
        Unknown = 0,
        /// <summary>Take Quantity of ProductId away from PlayerRef.</summary>
        Revoke = 1,
        /// <summary>Give it back (a chargeback reversal of revocation Reverses).</summary>
        Restore = 2,
    }

    /// <summary>Where the ledger lives. SQLite (one file) by default; PostgreSQL for a fleet of
    /// servers sharing one ledger, each with its own stable InstanceId.</summary>
    public sealed class LedgerOptions
    {
        /// <summary>SQLite file, created if missing (null = "msstore-ledger.sqlite").</summary>
        public string SqlitePath { get; set; }
        /// <summary>postgres://user:password@host:port/db (no TLS). Wins over SqlitePath. A secret.</summary>
        public string PostgresUrl { get; set; }
        /// <summary>This server's stable, unique name; required with PostgreSQL (null = "local").</summary>
        public string InstanceId { get; set; }
        /// <summary>How long a claim on an entry handed to this server lasts; null = 5 min.</summary>
        public TimeSpan? ClaimLease { get; set; }
        /// <summary>Sends per consume before leaving an entry pending; 0 = 3.</summary>
        public int SendRounds { get; set; }
        /// <summary>Wait before the second send (doubles after); null = 500 ms.</summary>
        public TimeSpan? ResendDelay { get; set; }
        /// <summary>Closed entries older than this many days are deleted, except those that drew
        /// from order lines (kept, without keys, for clawback matching); 0 = keep them.</summary>
        public int RetentionDays { get; set; }
        /// <summary>PostgreSQL: the most opening a connection may take; null = 5 s.</summary>
        public TimeSpan? PgConnectTimeout { get; set; }
        /// <summary>PostgreSQL: bound on each call (a stalled server gives a timeout error after
        /// it) and the server's statement_timeout; null = 5 s.</summary>
        public TimeSpan? PgStatementTimeout { get; set; }
        /// <summary>PostgreSQL: idle time before TCP keepalive probes; null = 10 s.</summary>
        public TimeSpan? PgKeepaliveIdle { get; set; }

        public static LedgerOptions Sqlite(string path)
        {
            return new LedgerOptions { SqlitePath = path };
        }

        public static LedgerOptions Postgres(string url, string instanceId)
        {
            return new LedgerOptions { PostgresUrl = url, InstanceId = instanceId };
        }

        public override string ToString()
        {
            // PostgresUrl may carry a password: never printed.
            return "LedgerOptions(" + (PostgresUrl != null ? "postgres, instance " + InstanceId : "sqlite " + SqlitePath) + ")";
        }
    }

    /// <summary>A consume recorded in the ledger before it is sent.</summary>
    public sealed class LedgerConsumeRequest
    {
        public LedgerConsumeRequest(string playerRef, string collectionsKey, string productId, int quantity)
        {
            PlayerRef = playerRef;
            CollectionsKey = collectionsKey;
            ProductId = productId;
            Quantity = quantity;
        }

        /// <summary>The game's reference of the player who gets the value. Required.</summary>
        public string PlayerRef { get; set; }
        /// <summary>The UserCollectionsId. Stored for replays (protect the database); never logged.</summary>
        public string CollectionsKey { get; set; }
        public string ProductId { get; set; }
        /// <summary>Store-managed: units (>= 1). 0 = developer-managed consumable.</summary>
        public int Quantity { get; set; }
        /// <summary>A GUID; null = generated. An earlier entry's id returns that entry.</summary>
        public string TrackingId { get; set; }
        public string Sandbox { get; set; }
    }

    /// <summary>One ledger entry (a consume).</summary>
    public sealed class LedgerEntry
    {
        /// <summary>The entry id, which is also the consume's tracking id.</summary>
        public string Id { get; internal set; }
        public string PlayerRef { get; internal set; }
        public string ProductId { get; internal set; }
        public long Quantity { get; internal set; }
        public LedgerEntryState State { get; internal set; }
        /// <summary>Sends so far.</summary>
        public int Attempts { get; internal set; }
        /// <summary>The Store's remaining balance once applied; null before.</summary>
        public long? NewQuantity { get; internal set; }
        /// <summary>The order lines the consume drew from (what clawback events match).</summary>
        public IList<OrderTransactionInfo> Transactions { get; internal set; }
        /// <summary>Why it is still pending or failed; null when none.</summary>
        public string LastError { get; internal set; }
        public DateTimeOffset Created { get; internal set; }
        /// <summary>Applied, and this process was handed it before (an earlier ConsumeAsync with the
        /// same tracking id, or a reconcile) without acknowledging it: whoever got it first grants
        /// it. Do NOT grant it again. A restart hands it out again with this false.</summary>
        public bool AlreadyHandedOut { get; internal set; }

        public override string ToString()
        {
            return "LedgerEntry(" + Id + ", " + State + ", " + PlayerRef + " " + ProductId + " x" + Quantity + ")";
        }
    }

    /// <summary>Something a clawback event asks the game to take back (or give back).</summary>
    public sealed class LedgerRevocation
    {
        public string Id { get; internal set; }
        public RevocationKind Kind { get; internal set; }
        public string PlayerRef { get; internal set; }
        public string ProductId { get; internal set; }
        public long Quantity { get; internal set; }
        /// <summary>The consume entry whose value is taken back.</summary>
        public string EntryId { get; internal set; }
        public string OrderId { get; internal set; }
        public string LineItemId { get; internal set; }
        public string EventId { get; internal set; }
        /// <summary>For a Restore: the revocation it undoes; else null.</summary>
        public string Reverses { get; internal set; }
        public bool Acknowledged { get; internal set; }
        public DateTimeOffset Created { get; internal set; }

        public override string ToString()
        {
            return "LedgerRevocation(" + Id + ", " + Kind + " " + Quantity + " of " + ProductId + " from " + PlayerRef + ")";
        }
    }

    /// <summary>Entries and revocations (a reconcile's, or the pending listing).</summary>
    public sealed class LedgerItems
    {
        public IList<LedgerEntry> Entries { get; internal set; }
        public IList<LedgerRevocation> Revocations { get; internal set; }
        /// <summary>{"entries":[...],"revocations":[...]} (no keys).</summary>
        public string Json { get; internal set; }
    }

    /// <summary>A clawback event to match against the ledger. All fields required.</summary>
    public sealed class ClawbackMatch
    {
        public ClawbackMatch(string eventId, string orderId, string lineItemId, string productId, ClawbackEventState state)
        {
            EventId = eventId;
            OrderId = orderId;
            LineItemId = lineItemId;
            ProductId = productId;
            State = state;
        }

        /// <summary>The match of a decoded queue event.</summary>
        public static ClawbackMatch From(ClawbackEvent e)
        {
            if (e == null) throw new ArgumentNullException("e");
            return new ClawbackMatch(e.Id, e.OrderId, e.LineItemId, e.ProductId, e.State);
        }

        /// <summary>The idempotency key: the same event twice does nothing the second time.</summary>
        public string EventId { get; set; }
        public string OrderId { get; set; }
        public string LineItemId { get; set; }
        public string ProductId { get; set; }
        /// <summary>Returned, Revoked, Refunded or ChargebackReversal (Other is refused).</summary>
        public ClawbackEventState State { get; set; }
    }

    /// <summary>What applying a clawback event recorded.</summary>
    public sealed class ClawbackApplication
    {
        /// <summary>The revocations (or restores) this event produced; for a duplicate, the earlier ones.</summary>
        public IList<LedgerRevocation> Revocations { get; internal set; }
        /// <summary>True when the event had been applied before (nothing new was recorded).</summary>
        public bool IsDuplicate { get; internal set; }
    }
    /// <summary>Options of StoreLedger.IngestClawbackAsync; a zero (or null) field takes its default.</summary>
    public sealed class ClawbackIngestOptions
    {
        /// <summary>The sandbox whose events this server records; others' messages are left on the
        /// queue for their servers. null = "RETAIL" (production).</summary>
        public string ExpectedSandbox { get; set; }
        /// <summary>Messages per receive, 1..32; 0 = 32.</summary>
        public int MaxMessages { get; set; }
        /// <summary>How long received messages stay hidden while being recorded (1 s .. 7 days);
        /// null = 30 s.</summary>
        public TimeSpan? VisibilityTimeout { get; set; }
        /// <summary>Receives per call at most, 1..1000 (a call also stops at the first short
        /// batch); 0 = 16.</summary>
        public int MaxBatches { get; set; }
    }

    /// <summary>What one clawback ingestion pass did: its counts, and the revocations it created
    /// (claimed for this process: apply each, then AcknowledgeRevocation).</summary>
    public sealed class ClawbackIngestResult
    {
        /// <summary>Queue messages received (v1: order lines examined).</summary>
        public int Received { get; internal set; }
        /// <summary>Events recorded for the first time (a Refunded one records no revocation).</summary>
        public int Applied { get; internal set; }
        /// <summary>Events recorded before (redeliveries): nothing new.</summary>
        public int Duplicates { get; internal set; }
        /// <summary>Of Applied: events for order lines no recorded consume drew from yet; matched
        /// when such a consume is recorded.</summary>
        public int Unmatched { get; internal set; }
        /// <summary>Events of another sandbox, left on the queue.</summary>
        public int Ignored { get; internal set; }
        /// <summary>Unusable messages, kept in the ledger's dead letters and deleted.</summary>
        public int DeadLettered { get; internal set; }
        /// <summary>Messages deleted after being recorded.</summary>
        public int Deleted { get; internal set; }
        /// <summary>Deletes answered PopReceiptMismatch / MessageNotFound (expected, not failures).</summary>
        public int DeleteConflicts { get; internal set; }
        /// <summary>Other delete failures: the events are recorded; the messages come back as duplicates.</summary>
        public int DeleteErrors { get; internal set; }
        /// <summary>The revocations (or restores) this pass created; duplicates add none.</summary>
        public IList<LedgerRevocation> Revocations { get; internal set; }
        /// <summary>{"entries":[],"revocations":[...],"summary":{...}} (no keys).</summary>
        public string Json { get; internal set; }

        public override string ToString()
        {
            return "ClawbackIngestResult(received " + Received + ", applied " + Applied + ", duplicates " + Duplicates +
                   ", unmatched " + Unmatched + ", ignored " + Ignored + ", dead-lettered " + DeadLettered +
                   ", deleted " + Deleted + ", delete conflicts " + DeleteConflicts + ", delete errors " + DeleteErrors +
                   ", " + (Revocations != null ? Revocations.Count : 0) + " revocations)";
        }
    }
}

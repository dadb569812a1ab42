namespace Msstore
{
    /// <summary>The library's result codes (msstore_result). Errors live in 7100..7199.</summary>
    public enum StoreResult
    {
        Ok = 0,
        InvalidArgument = 7101,
        NullPointer = 7102,
        InvalidUtf8 = 7103,
        TooLong = 7104,
        InvalidHandle = 7105,
        BufferTooSmall = 7106,
        Pending = 7107,
        NoResult = 7108,
        BorrowedHandle = 7109,
        Configuration = 7110,
        InvalidKey = 7111,
        EntraAuth = 7120,
        Unauthorized = 7121,
        KeyMustBeReminted = 7122,
        ClientIdMismatch = 7123,
        MissingServiceToken = 7124,
        Throttled = 7130,
        Network = 7131,
        Timeout = 7132,
        NotFound = 7140,
        Service = 7141,
        ConsumeOutcomeUnknown = 7142,
        MalformedResponse = 7143,
        Canceled = 7150,
        ShuttingDown = 7151,
        /// <summary>A handle made before fork(), used in the child process: create a new client there.</summary>
        Forked = 7152,
        PopReceiptMismatch = 7160,
        MessageNotFound = 7161,
        InvalidClawbackEvent = 7162,
        Storage = 7170,
        BackendNotCompiled = 7171,
        Panic = 7190,
        Internal = 7191,
    }

    /// <summary>Levels of the library's log records (msstore_log_level).</summary>
    public enum StoreLogLevel
    {
        Error = 1,
        Warn = 2,
        Info = 3,
        Debug = 4,
        Trace = 5,
    }

    /// <summary>Token audiences (msstore_audience).</summary>
    public enum StoreAudience
    {
        /// <summary>The service token. Never hand it to a game client.</summary>
        Service = 0,
        /// <summary>A game client mints a UserCollectionsId with it.</summary>
        CollectionsKeyCreate = 1,
        /// <summary>A game client mints a UserPurchaseId with it.</summary>
        PurchaseKeyCreate = 2,
    }

    /// <summary>Which service a Store ID key belongs to (msstore_key_kind).</summary>
    public enum StoreKeyKind
    {
        Unknown = 0,
        /// <summary>UserCollectionsId: entitlement queries and consume.</summary>
        Collections = 1,
        /// <summary>UserPurchaseId: grants and subscriptions.</summary>
        Purchase = 2,
    }

    /// <summary>Subscription changes (msstore_change_type).</summary>
    public enum SubscriptionChange
    {
        Cancel = 1,
        Extend = 2,
        Refund = 3,
        ToggleAutoRenew = 4,
    }

    /// <summary>How a doctor check came out (msstore_doctor_check_info.status).</summary>
    public enum DoctorStatus
    {
        Pass = 0,
        /// <summary>Works, but needs attention soon (an expiring certificate).</summary>
        Warn = 1,
        Fail = 2,
    }

    /// <summary>How a client delivers completions, i.e. on which thread Tasks complete.</summary>
    public enum StoreCompletion
    {
        /// <summary>Tasks complete inside <see cref="StoreClient.Pump"/>, on the thread that calls it
        /// (a MonoBehaviour's Update). The default.</summary>
        Pump = 0,
        /// <summary>Tasks complete on the SynchronizationContext current when the client was
        /// created (Unity's main thread), with no Pump call needed.</summary>
        SynchronizationContext = 1,
        /// <summary>Tasks complete as soon as the native operation does; continuations run on the
        /// thread pool. For headless services without a main thread.</summary>
        Immediate = 2,
    }
}

// One exception type per error family, all deriving from StoreException, which carries
// everything the native error object says (code, HTTP status, service codes, MS-CV,
// retry-after, tracking id). Messages never contain secrets: the library redacts them.
using System;
using Msstore.Native;

namespace Msstore
{
    public class StoreException : Exception
    {
        public StoreException(StoreResult code, string message) : base(message)
        {
            Code = code;
            Kind = KindOf(code);
        }

        /// <summary>The library's result code.</summary>
        public StoreResult Code { get; private set; }
        /// <summary>Stable snake_case kind ("throttled").</summary>
        public string Kind { get; internal set; }
        /// <summary>HTTP status of the failing response; 0 when no response arrived.</summary>
        public int HttpStatus { get; internal set; }
        /// <summary>The service's error code (or Entra's "error"), or null.</summary>
        public string ServiceCode { get; internal set; }
        /// <summary>The service's inner error code ("InconsistentClientId"), or null.</summary>
        public string InnerCode { get; internal set; }
        /// <summary>The MS-CV correlation vector of the failing exchange, or null.</summary>
        public string MsCv { get; internal set; }
        /// <summary>MS-CorrelationId / MS-RequestId or Entra's correlation id, or null.</summary>
        public string CorrelationId { get; internal set; }
        /// <summary>How long the service asked us to wait, or null when it did not say.</summary>
        public TimeSpan? RetryAfter { get; internal set; }
        /// <summary>For consume: the tracking id to resend with, or null.</summary>
        public string TrackingId { get; internal set; }
        /// <summary>The whole native error as JSON (no secrets), or null.</summary>
        public string Json { get; internal set; }

        /// <summary>Static description of what to do about <paramref name="code"/>.</summary>
        public static string Describe(StoreResult code)
        {
            return Utf8.FromNative(NativeMethods.msstore_result_description((int)code));
        }

        /// <summary>The exception of the family of <paramref name="code"/>.</summary>
        public static StoreException Create(StoreResult code, string message)
        {
            switch (code)
            {
                case StoreResult.InvalidArgument:
                case StoreResult.NullPointer:
                case StoreResult.InvalidUtf8:
                case StoreResult.TooLong:
                    return new StoreArgumentException(code, message);
                case StoreResult.Configuration: return new StoreConfigurationException(code, message);
                case StoreResult.InvalidKey: return new InvalidStoreKeyException(code, message);
                case StoreResult.EntraAuth: return new EntraAuthException(code, message);
                case StoreResult.Unauthorized: return new StoreUnauthorizedException(code, message);
                case StoreResult.KeyMustBeReminted: return new KeyMustBeRemintedException(code, message);
                case StoreResult.ClientIdMismatch: return new ClientIdMismatchException(code, message);
                case StoreResult.MissingServiceToken: return new MissingServiceTokenException(code, message);
                case StoreResult.Throttled: return new StoreThrottledException(code, message);
                case StoreResult.Network: return new StoreNetworkException(code, message);
                case StoreResult.Timeout: return new StoreTimeoutException(code, message);
                case StoreResult.NotFound: return new StoreNotFoundException(code, message);
                case StoreResult.Service: return new StoreServiceException(code, message);
                case StoreResult.ConsumeOutcomeUnknown: return new ConsumeOutcomeUnknownException(code, message);
                case StoreResult.MalformedResponse: return new MalformedResponseException(code, message);
                case StoreResult.ShuttingDown: return new StoreShuttingDownException(code, message);
                case StoreResult.PopReceiptMismatch: return new PopReceiptMismatchException(code, message);
                case StoreResult.MessageNotFound: return new MessageNotFoundException(code, message);
                case StoreResult.InvalidClawbackEvent: return new InvalidClawbackEventException(code, message);
                case StoreResult.Storage: return new LedgerStorageException(code, message);
                case StoreResult.BackendNotCompiled: return new StoreConfigurationException(code, message);
                default: return new StoreInternalException(code, message);
            }
        }

        /// <summary>An exception from a synchronous result code (no error object).</summary>
        internal static StoreException FromCode(int code)
        {
            var rc = (StoreResult)code;
            return Create(rc, Utf8.FromNative(NativeMethods.msstore_result_name(code)) + ": " + Describe(rc));
        }

        /// <summary>An exception carrying every field of a native error object, or one built from
        /// the code when the object is missing. Does not take ownership of <paramref name="e"/>.</summary>
        internal static StoreException FromError(int code, ErrorHandle e)
        {
            if (e == null || e.IsInvalid) return FromCode(code);
            var i = new ErrorInfo();
            i.struct_size = (uint)System.Runtime.InteropServices.Marshal.SizeOf(typeof(ErrorInfo));
            if (NativeMethods.msstore_error_get_info(e, ref i) != 0) return FromCode(code);
            var rc = (StoreResult)i.code;
            var ex = Create(rc, Utf8.FromNative(i.message) ?? Describe(rc));
            ex.Kind = Utf8.FromNative(i.kind) ?? ex.Kind;
            ex.HttpStatus = (ushort)i.http_status;
            ex.ServiceCode = Utf8.FromNative(i.service_code);
            ex.InnerCode = Utf8.FromNative(i.inner_code);
            ex.MsCv = Utf8.FromNative(i.ms_cv);
            ex.CorrelationId = Utf8.FromNative(i.correlation_id);
            long ms = i.retry_after_ms;
            ex.RetryAfter = ms >= 0 ? TimeSpan.FromMilliseconds(ms) : (TimeSpan?)null;
            ex.TrackingId = Utf8.FromNative(i.tracking_id);
            ex.Json = Utf8.FromNative(NativeMethods.msstore_error_json(e));
            return ex;
        }

        /// <summary>The exception of a failed operation (takes and frees the op's error).</summary>
        internal static StoreException FromOp(int code, IntPtr op)
        {
            ErrorHandle e;
            if (NativeMethods.msstore_op_take_error(op, out e) != 0)
            {
                if (e != null) e.Dispose();
                return FromCode(code);
            }
            using (e) return FromError(code, e);
        }

        private static string KindOf(StoreResult code)
        {
            switch (code)
            {
                case StoreResult.InvalidArgument: return "invalid_argument";
                case StoreResult.Configuration: return "configuration";
                case StoreResult.InvalidKey: return "invalid_key";
                case StoreResult.EntraAuth: return "entra_auth";
                case StoreResult.Unauthorized: return "unauthorized";
                case StoreResult.KeyMustBeReminted: return "key_must_be_reminted";
                case StoreResult.ClientIdMismatch: return "client_id_mismatch";
                case StoreResult.MissingServiceToken: return "missing_service_token";
                case StoreResult.Throttled: return "throttled";
                case StoreResult.Network: return "network";
                case StoreResult.Timeout: return "timeout";
                case StoreResult.NotFound: return "not_found";
                case StoreResult.Service: return "service";
                case StoreResult.ConsumeOutcomeUnknown: return "consume_outcome_unknown";
                case StoreResult.MalformedResponse: return "malformed_response";
                case StoreResult.Canceled: return "canceled";
                case StoreResult.ShuttingDown: return "shutting_down";
                case StoreResult.PopReceiptMismatch: return "pop_receipt_mismatch";
                case StoreResult.MessageNotFound: return "message_not_found";
                case StoreResult.InvalidClawbackEvent: return "invalid_clawback_event";
                case StoreResult.Storage: return "storage";
                case StoreResult.BackendNotCompiled: return "backend_not_compiled";
                default: return "internal";
            }
        }

        public override string ToString()
        {
            return GetType().Name + " (" + Code + ", http " + HttpStatus + ", service " +
                   (ServiceCode ?? "-") + "/" + (InnerCode ?? "-") + ", ms-cv " + (MsCv ?? "-") + "): " + Message;
        }
    }

    /// <summary>A bad argument (also NULL/UTF-8/too long). Fix the call; do not retry as is.</summary>
    public class StoreArgumentException : StoreException
    {
        public StoreArgumentException(StoreResult code, string message) : base(code, message) { }
    }

    /// <summary>Unusable client configuration. Fix the options.</summary>
    public class StoreConfigurationException : StoreException
    {
        public StoreConfigurationException(StoreResult code, string message) : base(code, message) { }
    }

    /// <summary>The Store ID key is not a decodable key. Ask the game client for a fresh key.</summary>
    public class InvalidStoreKeyException : StoreException
    {
        public InvalidStoreKeyException(StoreResult code, string message) : base(code, message) { }
    }

    /// <summary>Entra ID refused the credentials (ServiceCode carries Entra's error).</summary>
    public class EntraAuthException : StoreException
    {
        public EntraAuthException(StoreResult code, string message) : base(code, message) { }
    }

    /// <summary>The Store rejected the service token or key. Renew the key.</summary>
    public class StoreUnauthorizedException : StoreException
    {
        public StoreUnauthorizedException(StoreResult code, string message) : base(code, message) { }
    }

    /// <summary>Renewal refused: the game client must mint a new Store ID key.</summary>
    public class KeyMustBeRemintedException : StoreException
    {
        public KeyMustBeRemintedException(StoreResult code, string message) : base(code, message) { }
    }

    /// <summary>The key was minted for another Entra app. A configuration error; never retry.</summary>
    public class ClientIdMismatchException : StoreException
    {
        public ClientIdMismatchException(StoreResult code, string message) : base(code, message) { }
    }

    /// <summary>No Entra token reached the service. A bug; report it.</summary>
    public class MissingServiceTokenException : StoreException
    {
        public MissingServiceTokenException(StoreResult code, string message) : base(code, message) { }
    }

    /// <summary>Rate limited and retries ran out: wait <see cref="StoreException.RetryAfter"/>.</summary>
    public class StoreThrottledException : StoreException
    {
        public StoreThrottledException(StoreResult code, string message) : base(code, message) { }
    }

    /// <summary>Connection failure or 5xx after retries. Transient.</summary>
    public class StoreNetworkException : StoreException
    {
        public StoreNetworkException(StoreResult code, string message) : base(code, message) { }
    }

    /// <summary>The request or the operation timed out. Transient.</summary>
    public class StoreTimeoutException : StoreException
    {
        public StoreTimeoutException(StoreResult code, string message) : base(code, message) { }
    }

    /// <summary>404 or the referenced object does not exist.</summary>
    public class StoreNotFoundException : StoreException
    {
        public StoreNotFoundException(StoreResult code, string message) : base(code, message) { }
    }

    /// <summary>A business refusal (e.g. insufficient quantity): read the codes.</summary>
    public class StoreServiceException : StoreException
    {
        public StoreServiceException(StoreResult code, string message) : base(code, message) { }
    }

    /// <summary>A consume, grant or subscription change may or may not have been applied: never
    /// grant on it, never treat it as failed; resend with <see cref="StoreException.TrackingId"/>
    /// (tracking id, order id or recurrence id) until it resolves.</summary>
    public class ConsumeOutcomeUnknownException : StoreException
    {
        public ConsumeOutcomeUnknownException(StoreResult code, string message) : base(code, message) { }
    }

    /// <summary>The service answered something unreadable. Retry later.</summary>
    public class MalformedResponseException : StoreException
    {
        public MalformedResponseException(StoreResult code, string message) : base(code, message) { }
    }

    /// <summary>The client was disposed while the operation was in flight.</summary>
    public class StoreShuttingDownException : StoreException
    {
        public StoreShuttingDownException(StoreResult code, string message) : base(code, message) { }
    }

    /// <summary>Deleting a clawback message with a pop receipt that a later receive superseded.
    /// Nothing to do: the message is delivered again (with a new receipt).</summary>
    public class PopReceiptMismatchException : StoreException
    {
        public PopReceiptMismatchException(StoreResult code, string message) : base(code, message) { }
    }

    /// <summary>The clawback message is gone (already deleted, or expired). Nothing to do.</summary>
    public class MessageNotFoundException : StoreException
    {
        public MessageNotFoundException(StoreResult code, string message) : base(code, message) { }
    }

    /// <summary>A clawback queue message is not a decodable event. Log it and delete it.</summary>
    public class InvalidClawbackEventException : StoreException
    {
        public InvalidClawbackEventException(StoreResult code, string message) : base(code, message) { }
    }

    /// <summary>The consume ledger's database failed (cannot open, write or read it, or the
    /// PostgreSQL server is unreachable). Nothing was lost that was recorded before: fix the
    /// storage and retry; reconcile after a restart.</summary>
    public class LedgerStorageException : StoreException
    {
        public LedgerStorageException(StoreResult code, string message) : base(code, message) { }
    }

    /// <summary>A bug in msstore or in this wrapper (panic, internal, handle misuse). Report it.</summary>
    public class StoreInternalException : StoreException
    {
        public StoreInternalException(StoreResult code, string message) : base(code, message) { }
    }
}

// One SafeHandle per native handle type, so that a handle is freed exactly once (also by the
// finalizer when a caller forgets Dispose), and never while a P/Invoke call still uses it: the
// marshaller AddRefs a SafeHandle argument for the duration of the call.
using System;
using System.Runtime.InteropServices;

namespace Msstore.Native
{
    internal abstract class MsstoreHandle : SafeHandle
    {
        protected MsstoreHandle() : base(IntPtr.Zero, true) { }

        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }
    }

    /// <summary>msstore_client*. Releasing it shuts the client down: every operation in flight
    /// completes (SHUTTING_DOWN) on the releasing thread before the release returns.</summary>
    internal sealed class ClientHandle : MsstoreHandle
    {
        protected override bool ReleaseHandle() { NativeMethods.msstore_client_free(handle); return true; }
    }

    /// <summary>msstore_op* as written to out_op. Releasing it does not cancel the operation.</summary>
    internal sealed class OpHandle : MsstoreHandle
    {
        protected override bool ReleaseHandle() { NativeMethods.msstore_op_free(handle); return true; }
    }

    internal sealed class ErrorHandle : MsstoreHandle
    {
        protected override bool ReleaseHandle() { NativeMethods.msstore_error_free(handle); return true; }
    }

    internal sealed class KeyHandle : MsstoreHandle
    {
        protected override bool ReleaseHandle() { NativeMethods.msstore_key_free(handle); return true; }
    }

    internal sealed class TokenHandle : MsstoreHandle
    {
        protected override bool ReleaseHandle() { NativeMethods.msstore_token_free(handle); return true; }
    }

    internal sealed class EntitlementsHandle : MsstoreHandle
    {
        protected override bool ReleaseHandle() { NativeMethods.msstore_entitlements_free(handle); return true; }
    }

    internal sealed class ConsumeResultHandle : MsstoreHandle
    {
        protected override bool ReleaseHandle() { NativeMethods.msstore_consume_result_free(handle); return true; }
    }

    internal sealed class OrderHandle : MsstoreHandle
    {
        protected override bool ReleaseHandle() { NativeMethods.msstore_order_free(handle); return true; }
    }

    internal sealed class SubscriptionsHandle : MsstoreHandle
    {
        protected override bool ReleaseHandle() { NativeMethods.msstore_subscriptions_free(handle); return true; }
    }
}

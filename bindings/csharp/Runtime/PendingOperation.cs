// One in-flight native operation and the Task it completes.
//
// Life cycle: the start function gets a GCHandle to this object as user_data and writes the op
// handle (a SafeHandle) to out_op. The native callback fires exactly once (success, failure,
// cancel, timeout or client shutdown); it converts the result while the op is valid, frees the
// GCHandle and the op handle, and completes the Task: inline on the callback's thread (the
// pumping thread in Pump mode), posted to the captured SynchronizationContext, or with
// continuations pushed to the thread pool (Immediate mode).
using System;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using AOT;
using Msstore.Native;

namespace Msstore
{
    internal abstract class PendingOperation
    {
        /// <summary>Kept in a static field so the delegate (and its native thunk) lives forever.</summary>
        internal static readonly CompletionCallback Callback = OnComplete;

        protected abstract void Complete(int code, IntPtr op);

        /// <summary>The operation behind a Task this wrapper returned, or null (tests use it to
        /// wait for the native side without delivering the completion).</summary>
        internal static PendingOperation Of(Task task)
        {
            return task == null ? null : task.AsyncState as PendingOperation;
        }

        /// <summary>Waits up to <paramref name="timeoutMs"/> for the native operation to finish,
        /// without running its callback (in Pump mode that still happens in Pump). Returns its
        /// result code, Pending while it runs, or null once the callback ran (the op is freed).</summary>
        internal abstract int? WaitNative(uint timeoutMs);

        protected abstract void Abandon(Exception e);

        // Static, with MonoPInvokeCallback: the only shape IL2CPP can call from native code.
        [MonoPInvokeCallback(typeof(CompletionCallback))]
        private static void OnComplete(IntPtr userData, int code, IntPtr op)
        {
            PendingOperation p = null;
            try
            {
                GCHandle gch = GCHandle.FromIntPtr(userData);
                p = (PendingOperation)gch.Target;
                gch.Free();
                p.Complete(code, op);
            }
            catch (Exception e)
            {
                // Never let an exception unwind into the library; fail the Task instead.
                if (p != null) p.Abandon(e);
            }
        }
    }

    internal sealed class PendingOperation<T> : PendingOperation
    {
        private readonly TaskCompletionSource<T> tcs;
        private readonly Func<IntPtr, T> take;
        private readonly CancellationToken token;
        private readonly SynchronizationContext context;
        private readonly object gate = new object();
        private OpHandle handle;
        private bool done;
        private CancellationTokenRegistration registration;
        private bool registered;

        internal PendingOperation(Func<IntPtr, T> take, CancellationToken token, bool asyncContinuations,
            SynchronizationContext context)
        {
            this.take = take;
            this.token = token;
            this.context = context;
            // The Task's AsyncState is this operation (see PendingOperation.Of).
            tcs = asyncContinuations
                ? new TaskCompletionSource<T>(this, TaskCreationOptions.RunContinuationsAsynchronously)
                : new TaskCompletionSource<T>(this);
        }

        internal Task<T> Task { get { return tcs.Task; } }

        /// <summary>Keeps the op handle for cancellation; releases it at once when the callback
        /// already ran (IMMEDIATE mode can complete before the start function returns).</summary>
        internal void Attach(OpHandle op)
        {
            bool release;
            lock (gate)
            {
                release = done;
                if (!done) handle = op;
            }
            if (release && op != null) op.Dispose();
        }

        /// <summary>Cancels the native operation when the token fires (call after Attach).</summary>
        internal void WatchCancellation()
        {
            if (!token.CanBeCanceled) return;
            CancellationTokenRegistration r = token.Register(s => ((PendingOperation<T>)s).RequestCancel(), this);
            bool dispose;
            lock (gate)
            {
                dispose = done;
                if (!done)
                {
                    registration = r;
                    registered = true;
                }
            }
            if (dispose) r.Dispose();
        }

        internal override int? WaitNative(uint timeoutMs)
        {
            OpHandle h;
            lock (gate) h = handle;
            if (h == null) return null;
            try
            {
                // The marshaller AddRefs h: a completion meanwhile cannot free the op mid-call.
                return NativeMethods.msstore_op_wait(h, timeoutMs);
            }
            catch (ObjectDisposedException)
            {
                return null;
            }
        }

        private void RequestCancel()
        {
            OpHandle h;
            lock (gate) h = handle;
            if (h == null) return;
            try
            {
                // The marshaller AddRefs h, so a concurrent completion cannot free the op mid-call.
                NativeMethods.msstore_op_cancel(h);
            }
            catch (ObjectDisposedException)
            {
                // Completed meanwhile: nothing to cancel.
            }
        }

        protected override void Complete(int code, IntPtr op)
        {
            T result = default(T);
            Exception error = null;
            bool canceled = false;
            if (code == (int)StoreResult.Ok)
            {
                try { result = take(op); }
                catch (Exception e) { error = e; }
            }
            else if (code == (int)StoreResult.Canceled)
            {
                canceled = true;
            }
            else
            {
                error = StoreException.FromOp(code, op);
            }
            Release();
            Deliver(result, error, canceled);
        }

        protected override void Abandon(Exception e)
        {
            try { Release(); } catch (Exception) { }
            tcs.TrySetException(e);
        }

        private void Release()
        {
            OpHandle h;
            CancellationTokenRegistration r;
            bool hadRegistration;
            lock (gate)
            {
                done = true;
                h = handle;
                handle = null;
                r = registration;
                hadRegistration = registered;
                registered = false;
            }
            // Waits for a cancel request running on another thread, which holds no lock of ours.
            if (hadRegistration) r.Dispose();
            if (h != null) h.Dispose();
        }

        private void Deliver(T result, Exception error, bool canceled)
        {
            if (context == null || SynchronizationContext.Current == context)
            {
                Finish(result, error, canceled);
            }
            else
            {
                context.Post(_ => Finish(result, error, canceled), null);
            }
        }

        private void Finish(T result, Exception error, bool canceled)
        {
            if (canceled) tcs.TrySetCanceled(token);
            else if (error != null) tcs.TrySetException(error);
            else tcs.TrySetResult(result);
        }
    }
}

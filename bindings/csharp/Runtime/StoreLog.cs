using System;
using AOT;
using Msstore.Native;

namespace Msstore
{
    /// <summary>Routes the library's log records to a handler (Debug.Log in Unity). The handler
    /// is process-wide and called from any thread, possibly concurrently; records never contain
    /// secrets. Unloading the AppDomain that installed it (the Editor's domain reload) removes it:
    /// install it again after a reload (e.g. from an <c>[InitializeOnLoad]</c> or start-up method).
    /// With several AppDomains, the last one to call <see cref="SetHandler"/> owns the handler.</summary>
    public static class StoreLog
    {
        private static readonly object Gate = new object();
        private static readonly LogCallback Callback = OnLog;
        private static volatile Action<StoreLogLevel, string> handler;

        static StoreLog()
        {
            // The native callback is process-wide and outlives this domain: a record logged after
            // the domain is gone would call into freed code (SIGSEGV in the Editor after a script
            // recompile). Raised for every domain but the default one (Unity's scripts run in a
            // child domain); IL2CPP never raises it, and has no reload.
            AppDomain.CurrentDomain.DomainUnload += (sender, e) => ClearIfInstalled();
        }

        /// <summary>Removes the native callback if this domain installed it; never throws.</summary>
        internal static void ClearIfInstalled()
        {
            lock (Gate)
            {
                if (handler == null) return;
                handler = null;
                NativeMethods.msstore_log_set_callback(null, IntPtr.Zero, (int)StoreLogLevel.Error);
            }
        }

        /// <summary>Installs <paramref name="onLog"/> for records at <paramref name="maxLevel"/> and
        /// more severe; null removes it.</summary>
        public static void SetHandler(Action<StoreLogLevel, string> onLog, StoreLogLevel maxLevel = StoreLogLevel.Info)
        {
            if (onLog != null && (maxLevel < StoreLogLevel.Error || maxLevel > StoreLogLevel.Trace))
                throw new ArgumentOutOfRangeException("maxLevel");
            lock (Gate)
            {
                handler = onLog;
                int rc = NativeMethods.msstore_log_set_callback(onLog == null ? null : Callback, IntPtr.Zero, (int)maxLevel);
                if (rc != 0) throw StoreException.FromCode(rc);
            }
        }

        [MonoPInvokeCallback(typeof(LogCallback))]
        private static void OnLog(IntPtr userData, int level, IntPtr target, IntPtr message)
        {
            var h = handler;
            if (h == null) return;
            try
            {
                h((StoreLogLevel)level, "[" + Utf8.FromNative(target) + "] " + Utf8.FromNative(message));
            }
            catch (Exception)
            {
                // A throwing log handler must not unwind into the library.
            }
        }
    }
}

using System;
using AOT;
using Msstore.Native;

namespace Msstore
{
    /// <summary>Routes the library's log records to a handler (Debug.Log in Unity). The handler
    /// is process-wide and called from any thread, possibly concurrently; records never contain
    /// secrets.</summary>
    public static class StoreLog
    {
        private static readonly object Gate = new object();
        private static readonly LogCallback Callback = OnLog;
        private static volatile Action<StoreLogLevel, string> handler;

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

// The setup checks of `msstore doctor` (blocking: they make network calls; run them from a
// tool, a start-up check or a background thread, never a frame).
using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using Msstore.Native;

namespace Msstore
{
    /// <summary>One check: what it found and, when it did not pass, what to do.</summary>
    public sealed class DoctorCheck
    {
        /// <summary>"configuration", "credential expiry", a token's audience, "store call", ...</summary>
        public string Name { get; internal set; }
        public DoctorStatus Status { get; internal set; }
        /// <summary>Never holds a secret, token or key.</summary>
        public string Detail { get; internal set; }
        /// <summary>What to do; null when passed.</summary>
        public string Hint { get; internal set; }
        /// <summary>The failure's code; Ok when it passed or only warns.</summary>
        public StoreResult Result { get; internal set; }

        public override string ToString()
        {
            return Status + " " + Name + ": " + Detail + (Hint != null ? " (" + Hint + ")" : "");
        }
    }

    /// <summary>The checks of one run, in order, copied out of the native report.</summary>
    public sealed class DoctorReport
    {
        internal DoctorReport(IList<DoctorCheck> checks, bool healthy, string text)
        {
            Checks = new ReadOnlyCollection<DoctorCheck>(checks);
            Healthy = healthy;
            Text = text;
        }

        public IReadOnlyList<DoctorCheck> Checks { get; private set; }
        /// <summary>No check failed (warnings allowed).</summary>
        public bool Healthy { get; private set; }
        /// <summary>The lines as `msstore doctor` prints them.</summary>
        public string Text { get; private set; }

        public override string ToString() { return Text; }
    }

    public static class Doctor
    {
        /// <summary>Runs the checks: the configuration, the credential's expiry, a token per
        /// audience and its app/tenant, a Store call; per Store ID key: decode, query, renew.</summary>
        public static DoctorReport Run(StoreClientOptions options, params string[] storeIdKeys)
        {
            if (options == null) throw new ArgumentNullException("options");
            using (var n = new NativeClientOptions(options, NativeClientOptions.CompletionImmediate))
            {
                IntPtr keys = n.Arena.StrArray(storeIdKeys);
                DoctorReportHandle r;
                int rc = NativeMethods.msstore_doctor_run(ref n.Value, keys, KeyCount(storeIdKeys), out r);
                return Read(rc, r);
            }
        }

        /// <summary>The same from a JSON configuration (the Rust ClientConfig field names).</summary>
        public static DoctorReport RunJson(string configJson, params string[] storeIdKeys)
        {
            if (configJson == null) throw new ArgumentNullException("configJson");
            using (var a = new NativeArena())
            {
                DoctorReportHandle r;
                int rc;
                try
                {
                    rc = NativeMethods.msstore_doctor_run_json(a.Str(configJson), a.StrArray(storeIdKeys), KeyCount(storeIdKeys), out r);
                }
                catch (ArgumentException e)
                {
                    throw new StoreArgumentException(StoreResult.InvalidUtf8, e.Message);
                }
                return Read(rc, r);
            }
        }

        private static UIntPtr KeyCount(string[] keys)
        {
            return (UIntPtr)(uint)(keys == null ? 0 : keys.Length);
        }

        private static DoctorReport Read(int rc, DoctorReportHandle r)
        {
            using (r)
            {
                if (rc != 0) throw StoreException.FromCode(rc);
                var checks = new List<DoctorCheck>();
                ulong count = NativeMethods.msstore_doctor_report_count(r).ToUInt64();
                for (ulong i = 0; i < count; i++)
                {
                    var info = new DoctorCheckInfo();
                    info.struct_size = (uint)System.Runtime.InteropServices.Marshal.SizeOf(typeof(DoctorCheckInfo));
                    int c = NativeMethods.msstore_doctor_report_get_check(r, (UIntPtr)i, ref info);
                    if (c != 0) throw StoreException.FromCode(c);
                    checks.Add(new DoctorCheck
                    {
                        Name = Utf8.FromNative(info.name),
                        Status = info.status >= 0 && info.status <= 2 ? (DoctorStatus)info.status : DoctorStatus.Fail,
                        Detail = Utf8.FromNative(info.detail),
                        Hint = Utf8.FromNative(info.hint),
                        Result = (StoreResult)info.result,
                    });
                }
                int healthy = NativeMethods.msstore_doctor_report_healthy(r);
                if (healthy < 0) throw StoreException.FromCode(healthy);
                return new DoctorReport(checks, healthy == 1, Utf8.FromNative(NativeMethods.msstore_doctor_report_text(r)));
            }
        }
    }
}

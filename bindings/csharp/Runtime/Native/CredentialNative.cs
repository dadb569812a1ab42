// P/Invoke declarations, structs and handles of the credential and doctor part of
// include/msstore.h, checked against the header by HeaderSyncTests.
using System;
using System.Runtime.InteropServices;

namespace Msstore.Native
{
    /// <summary>msstore_token_provider_cb: fills the sink and returns 0, or fails the fetch.</summary>
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal delegate int TokenProviderCallback(IntPtr userData, int audience, IntPtr sink);

    /// <summary>msstore_release_cb: nothing uses the provider any more.</summary>
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal delegate void ReleaseCallback(IntPtr userData);

    internal static partial class NativeMethods
    {
        // ---- credentials ------------------------------------------------------------------
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_credential_new_secret(IntPtr secret, out CredentialHandle credential);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_credential_new_secret_file(IntPtr path, out CredentialHandle credential);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_credential_new_federated_token_file(IntPtr path, out CredentialHandle credential);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_certificate_options_init(ref CertificateOptions opts);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_credential_new_certificate(ref CertificateOptions opts, out CredentialHandle credential);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_managed_identity_options_init(ref ManagedIdentityOptions opts);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_credential_new_managed_identity(ref ManagedIdentityOptions opts,
            out CredentialHandle credential);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_credential_new_provider(TokenProviderCallback cb, IntPtr userData,
            ReleaseCallback release, out CredentialHandle credential);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_token_sink_set(IntPtr sink, IntPtr accessToken, long expiresAtUnixSecs);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_token_sink_fail(IntPtr sink, int retryable, IntPtr message);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_credential_free(IntPtr credential);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern long msstore_client_credential_expires_at(ClientHandle client);

        // ---- doctor -----------------------------------------------------------------------
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_doctor_run(ref ClientOptions opts, IntPtr keys, UIntPtr keyCount,
            out DoctorReportHandle report);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_doctor_run_json(IntPtr json, IntPtr keys, UIntPtr keyCount,
            out DoctorReportHandle report);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern UIntPtr msstore_doctor_report_count(DoctorReportHandle report);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_doctor_report_get_check(DoctorReportHandle report, UIntPtr index,
            ref DoctorCheckInfo info);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_doctor_report_healthy(DoctorReportHandle report);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr msstore_doctor_report_text(DoctorReportHandle report);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_doctor_report_free(IntPtr report);
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct CertificateOptions
    {
        public uint struct_size;
        public IntPtr certificate_pem;
        public IntPtr certificate_path;
        public IntPtr private_key_pem;
        public IntPtr private_key_path;
        public uint send_x5c;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct ManagedIdentityOptions
    {
        public uint struct_size;
        public IntPtr client_id;
        public IntPtr endpoint;
        public IntPtr identity_header;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct DoctorCheckInfo
    {
        public uint struct_size;
        public IntPtr name;
        public int status;
        public IntPtr detail;
        public IntPtr hint;
        public int result;
    }

    /// <summary>msstore_credential* (refcounted inside: a client keeps its own reference).</summary>
    internal sealed class CredentialHandle : MsstoreHandle
    {
        protected override bool ReleaseHandle() { NativeMethods.msstore_credential_free(handle); return true; }
    }

    internal sealed class DoctorReportHandle : MsstoreHandle
    {
        protected override bool ReleaseHandle() { NativeMethods.msstore_doctor_report_free(handle); return true; }
    }
}

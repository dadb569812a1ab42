using System;
using System.Runtime.InteropServices;
using NUnit.Framework;

namespace Msstore.Tests
{
    /// <summary>The library's test-only export (Cargo feature ffi-test-hooks), which debug builds
    /// of the test scripts have and shipped builds must not.</summary>
    internal static class TestHooks
    {
        [DllImport(Msstore.Native.NativeMethods.Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_debug_trigger_panic();

        /// <summary>True when the tests run against a shipped library (MSSTORE_EXPECT_NO_TEST_HOOKS
        /// is set, as scripts/test-package.sh does): it then asserts that the hook is absent, and
        /// the caller returns, since what it tests needs the hook.</summary>
        internal static bool ShippedBuild()
        {
            if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("MSSTORE_EXPECT_NO_TEST_HOOKS"))) return false;
            Assert.Throws<EntryPointNotFoundException>(() => msstore_debug_trigger_panic(),
                "a shipped library must not export msstore_debug_trigger_panic");
            return true;
        }
    }
}

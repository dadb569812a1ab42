// The Editor's domain reload, reproduced with a child AppDomain: a log handler installed by code
// in a domain that is then unloaded must not be called afterwards (the native callback would
// jump into the dead domain: SIGSEGV). StoreLog clears the native callback on DomainUnload.
using System;
using System.Collections.Concurrent;
using System.IO;
using System.Runtime.InteropServices;
using NUnit.Framework;

namespace Msstore.Tests
{
    [TestFixture]
    public class DomainUnloadTests
    {

        /// <summary>Runs inside the child domain (this assembly, loaded there again).</summary>
        public sealed class ChildDomainLogger : MarshalByRefObject
        {
            public void InstallHandler()
            {
                StoreLog.SetHandler((level, msg) => Console.WriteLine("[child domain] " + msg), StoreLogLevel.Trace);
            }
        }

        [Test]
        public void HandlerSetInAnUnloadedDomain_IsNeverCalled()
        {
            if (TestHooks.ShippedBuild()) return; // the record it logs comes from the test hook
            AppDomain child;
            try
            {
                var setup = new AppDomainSetup
                {
                    // The runner's own base may not hold the test assemblies: load them from here.
                    ApplicationBase = Path.GetDirectoryName(typeof(DomainUnloadTests).Assembly.Location),
                };
                child = AppDomain.CreateDomain("msstore-log-child", null, setup);
            }
            catch (PlatformNotSupportedException)
            {
                Assert.Ignore("this runtime has no AppDomains (only Mono and .NET Framework do)");
                return;
            }
            var helper = (ChildDomainLogger)child.CreateInstanceAndUnwrap(
                typeof(ChildDomainLogger).Assembly.FullName, typeof(ChildDomainLogger).FullName);
            helper.InstallHandler();
            AppDomain.Unload(child);

            // An operation that logs an error record synchronously, from this (the parent) domain:
            // before the fix it called the dead domain's callback and the process died here.
            Assert.AreEqual((int)StoreResult.Panic, TestHooks.msstore_debug_trigger_panic());

            // The same operation does log: a handler installed here receives the record, so the
            // call above would have reached the child's handler had it still been installed.
            var lines = new ConcurrentQueue<string>();
            StoreLog.SetHandler((level, msg) => lines.Enqueue(msg), StoreLogLevel.Error);
            try
            {
                TestHooks.msstore_debug_trigger_panic();
            }
            finally
            {
                StoreLog.SetHandler(null);
            }
            Assert.AreEqual(1, lines.Count, "the operation logs one record");
            StringAssert.Contains("panic", string.Join("\n", lines.ToArray()));
        }
    }
}

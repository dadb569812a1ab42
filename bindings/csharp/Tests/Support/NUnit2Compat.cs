// Unity's Test Framework is NUnit 3, which names the fixture-wide hooks OneTimeSetUp and
// OneTimeTearDown; the Mono runner of scripts/test-csharp.sh is NUnit 2.6 (Debian), where they
// are TestFixtureSetUp and TestFixtureTearDown. That build defines NUNIT2 (-define:NUNIT2) and
// gets these two subclasses under the NUnit 3 names: NUnit 2.6 recognises an attribute by its
// type or a base type, so the tests are written once, for NUnit 3. Unity never compiles this.
#if NUNIT2
namespace NUnit.Framework
{
    [System.AttributeUsage(System.AttributeTargets.Method, AllowMultiple = false, Inherited = true)]
    public sealed class OneTimeSetUpAttribute : TestFixtureSetUpAttribute
    {
    }

    [System.AttributeUsage(System.AttributeTargets.Method, AllowMultiple = false, Inherited = true)]
    public sealed class OneTimeTearDownAttribute : TestFixtureTearDownAttribute
    {
    }
}
#endif

using System.Runtime.CompilerServices;

// The tests check the P/Invoke layer against the header (Tests/HeaderSyncTests.cs).
[assembly: InternalsVisibleTo("Msstore.Tests")]
// The Editor assembly clears the native log callback before a domain reload (Editor/).
[assembly: InternalsVisibleTo("Msstore.Editor")]

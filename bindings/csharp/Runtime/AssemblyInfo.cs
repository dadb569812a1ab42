using System.Runtime.CompilerServices;

// The tests check the P/Invoke layer against the header (Tests/HeaderSyncTests.cs).
[assembly: InternalsVisibleTo("Msstore.Tests")]

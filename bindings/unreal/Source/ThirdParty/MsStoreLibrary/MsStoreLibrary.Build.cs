// The msstore native library (Rust, C ABI) as an external module: headers, the library per
// platform, and the runtime files to stage. Fill it with stage-thirdparty.sh (see README.md).
using System.IO;
using UnrealBuildTool;

public class MsStoreLibrary : ModuleRules
{
	// Linux and Mac link the static library by default: nothing to stage at run time and no
	// SONAME/install-name concerns. Set to false to ship the shared library instead.
	private static readonly bool bLinkStaticOnUnix = true;

	public MsStoreLibrary(ReadOnlyTargetRules Target) : base(Target)
	{
		Type = ModuleType.External;

		string IncludeDir = Path.Combine(ModuleDirectory, "include");
		string LibDir = Path.Combine(ModuleDirectory, "lib", Target.Platform.ToString());
		string BinDir = Path.Combine("$(PluginDir)", "Binaries", "ThirdParty", "MsStoreLibrary", Target.Platform.ToString());

		PublicSystemIncludePaths.Add(IncludeDir);
		bool bSupported = true;

		if (Target.Platform == UnrealTargetPlatform.Win64)
		{
			// msstore.dll is delay-loaded: FMsStoreModule::StartupModule loads it from the plugin.
			PublicAdditionalLibraries.Add(Path.Combine(LibDir, "msstore.dll.lib"));
			PublicDelayLoadDLLs.Add("msstore.dll");
			RuntimeDependencies.Add(Path.Combine(BinDir, "msstore.dll"));
			PublicDefinitions.Add("MSSTORE_RUNTIME_DLL=\"msstore.dll\"");
		}
		else if (Target.Platform == UnrealTargetPlatform.Linux || Target.Platform == UnrealTargetPlatform.LinuxArm64)
		{
			if (bLinkStaticOnUnix)
			{
				PublicDefinitions.Add("MSSTORE_STATIC=1");
				PublicAdditionalLibraries.Add(Path.Combine(LibDir, "libmsstore.a"));
				// What the Rust standard library needs (rustc --print native-static-libs).
				PublicSystemLibraries.AddRange(new string[] { "gcc_s", "util", "rt", "pthread", "m", "dl" });
			}
			else
			{
				// Needs a SONAME (stage-thirdparty.sh sets it) so the binary records no build path.
				string SoPath = Path.Combine(BinDir, "libmsstore.so");
				PublicAdditionalLibraries.Add(SoPath);
				RuntimeDependencies.Add(SoPath);
				PublicDefinitions.Add("MSSTORE_RUNTIME_DLL=\"libmsstore.so\"");
			}
		}
		else if (Target.Platform == UnrealTargetPlatform.Mac)
		{
			if (bLinkStaticOnUnix)
			{
				PublicDefinitions.Add("MSSTORE_STATIC=1");
				PublicAdditionalLibraries.Add(Path.Combine(LibDir, "libmsstore.a"));
				PublicFrameworks.AddRange(new string[] { "Security", "CoreFoundation", "SystemConfiguration" });
			}
			else
			{
				string DylibPath = Path.Combine(BinDir, "libmsstore.dylib");
				PublicDelayLoadDLLs.Add(DylibPath);
				RuntimeDependencies.Add(DylibPath);
				PublicDefinitions.Add("MSSTORE_RUNTIME_DLL=\"libmsstore.dylib\"");
			}
		}
		else
		{
			bSupported = false;
		}

		PublicDefinitions.Add("WITH_MSSTORE=" + (bSupported ? "1" : "0"));
	}
}

using UnrealBuildTool;

public class MsStore : ModuleRules
{
	public MsStore(ReadOnlyTargetRules Target) : base(Target)
	{
		PCHUsage = PCHUsageMode.UseExplicitOrSharedPCHs;

		// Exceptions and RTTI stay off (the engine defaults): msstore.hpp needs neither.
		PublicDependencyModuleNames.AddRange(new string[] { "Core", "CoreUObject", "Engine", "DeveloperSettings" });
		PrivateDependencyModuleNames.AddRange(new string[] { "Projects", "MsStoreLibrary" });
	}
}

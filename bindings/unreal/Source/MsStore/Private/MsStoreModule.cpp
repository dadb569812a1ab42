// Copyright msstore contributors. MIT licence.

#include "MsStoreModule.h"

#include "HAL/PlatformProcess.h"
#include "Interfaces/IPluginManager.h"
#include "Misc/Paths.h"
#include "Modules/ModuleManager.h"
#include "MsStoreNative.h"

DEFINE_LOG_CATEGORY(LogMsStore);

namespace
{
	bool GLibraryAvailable = false;
#if WITH_MSSTORE && defined(MSSTORE_RUNTIME_DLL)
	/** Kept loaded until the process exits, also after ShutdownModule (see there). */
	void* GLibraryHandle = nullptr;
#endif
}

#if WITH_MSSTORE
namespace
{
	// Library records arrive on any thread; UE_LOG is thread-safe. Secrets are redacted upstream.
	void ForwardLog(msstore::LogLevel Level, std::string_view Target, std::string_view Message)
	{
		const FString Text = FString::Printf(TEXT("[%s] %s"), *MsStoreNative::ToFString(Target), *MsStoreNative::ToFString(Message));
		switch (Level)
		{
		case msstore::LogLevel::Error: UE_LOG(LogMsStore, Error, TEXT("%s"), *Text); break;
		case msstore::LogLevel::Warn: UE_LOG(LogMsStore, Warning, TEXT("%s"), *Text); break;
		case msstore::LogLevel::Info: UE_LOG(LogMsStore, Log, TEXT("%s"), *Text); break;
		default: UE_LOG(LogMsStore, Verbose, TEXT("%s"), *Text); break;
		}
	}
}
#endif

void FMsStoreModule::StartupModule()
{
#if WITH_MSSTORE
#if defined(MSSTORE_RUNTIME_DLL)
	const FString BaseDir = IPluginManager::Get().FindPlugin(TEXT("MsStore"))->GetBaseDir();
	const FString LibraryPath = FPaths::Combine(BaseDir, TEXT("Binaries/ThirdParty/MsStoreLibrary"),
		FPlatformProcess::GetBinariesSubdirectory(), TEXT(MSSTORE_RUNTIME_DLL));
	if (GLibraryHandle == nullptr)
	{
		GLibraryHandle = FPlatformProcess::GetDllHandle(*LibraryPath);
	}
	if (GLibraryHandle == nullptr)
	{
		UE_LOG(LogMsStore, Error, TEXT("Cannot load %s: the Microsoft Store subsystem is disabled."), *LibraryPath);
		return;
	}
#endif
	const FString Version = MsStoreNative::ToFString(msstore::version());
	if (Version != TEXT(MSSTORE_VERSION_STRING))
	{
		UE_LOG(LogMsStore, Error, TEXT("msstore library %s does not match its header %s."), *Version, TEXT(MSSTORE_VERSION_STRING));
		return;
	}
	msstore::set_log_handler(&ForwardLog, msstore::LogLevel::Info);
	GLibraryAvailable = true;
	UE_LOG(LogMsStore, Log, TEXT("msstore %s loaded."), *Version);
#endif
}

void FMsStoreModule::ShutdownModule()
{
#if WITH_MSSTORE
	if (GLibraryAvailable)
	{
		msstore::set_log_handler(nullptr);
		GLibraryAvailable = false;
	}
#endif
	// The library is deliberately never unloaded (GLibraryHandle is never freed): its runtime
	// threads can outlive the last client (a worker finishing a request, a token refresh), and
	// unmapping their code under them crashes the process. The OS releases it at exit; this
	// costs nothing on a dedicated server, which loads the module once.
}

bool FMsStoreModule::IsLibraryAvailable()
{
	return GLibraryAvailable;
}

IMPLEMENT_MODULE(FMsStoreModule, MsStore)

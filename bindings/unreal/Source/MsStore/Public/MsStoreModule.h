// Copyright msstore contributors. MIT licence.

#pragma once

#include "CoreMinimal.h"
#include "Modules/ModuleInterface.h"

DECLARE_LOG_CATEGORY_EXTERN(LogMsStore, Log, All);

/** Loads the msstore runtime library (where it is a DLL) and routes its log to LogMsStore. */
class FMsStoreModule : public IModuleInterface
{
public:
	virtual void StartupModule() override;
	virtual void ShutdownModule() override;

	/** True when the native library is loaded and its version matches the header. */
	static bool IsLibraryAvailable();

};

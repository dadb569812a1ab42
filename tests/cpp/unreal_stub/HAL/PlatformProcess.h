#pragma once

#include "CoreMinimal.h"

struct FPlatformProcess
{
	static void* GetDllHandle(const TCHAR* Filename);
	static void FreeDllHandle(void* DllHandle);
	static const TCHAR* GetBinariesSubdirectory();
	static const TCHAR* ComputerName();
};

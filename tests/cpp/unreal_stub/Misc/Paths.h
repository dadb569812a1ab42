#pragma once

#include "CoreMinimal.h"

struct FPaths
{
	template <typename... PathTypes>
	static FString Combine(PathTypes&&... InPaths)
	{
		static_assert(sizeof...(InPaths) >= 2, "Combine joins two or more paths");
		return FString();
	}
	static bool IsRelative(const FString& InPath);
	static FString ProjectSavedDir();
};

#pragma once

#include "CoreMinimal.h"

class UDeveloperSettings : public UObject
{
public:
	using Super = UDeveloperSettings;

protected:
	FString CategoryName;
	FString SectionName;
};

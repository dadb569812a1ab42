#pragma once

#include "CoreMinimal.h"

class FSubsystemCollectionBase;
class UGameInstance;

class USubsystem : public UObject
{
public:
	using Super = USubsystem;
	virtual bool ShouldCreateSubsystem(UObject* Outer) const;
	virtual void Initialize(FSubsystemCollectionBase& Collection);
	virtual void Deinitialize();
};

class UGameInstanceSubsystem : public USubsystem
{
public:
	using Super = UGameInstanceSubsystem;
	UGameInstance* GetGameInstance() const;
};

#pragma once

#include "CoreMinimal.h"

class UGameInstance;

enum ENetMode { NM_Standalone, NM_DedicatedServer, NM_ListenServer, NM_Client, NM_MAX };

class UWorld : public UObject
{
public:
	using Super = UWorld;
	UGameInstance* GetGameInstance() const;
	ENetMode GetNetMode() const;
};

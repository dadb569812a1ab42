#pragma once

#include "CoreMinimal.h"

class UGameInstance;

/** Base of Blueprint async nodes: Activate starts the work, SetReadyToDestroy releases the node. */
class UBlueprintAsyncActionBase : public UObject
{
public:
	using Super = UBlueprintAsyncActionBase;
	virtual void Activate();
	void RegisterWithGameInstance(const UObject* WorldContextObject);
	void RegisterWithGameInstance(UGameInstance* GameInstance);
	virtual void SetReadyToDestroy();
};

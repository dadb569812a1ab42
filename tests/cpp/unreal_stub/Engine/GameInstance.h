#pragma once

#include "CoreMinimal.h"
#include "Subsystems/GameInstanceSubsystem.h"

class UGameInstance : public UObject
{
public:
	using Super = UGameInstance;
	/** True for a dedicated server world, also the dedicated server of a PIE session. */
	bool IsDedicatedServerInstance() const;
	template <typename TSubsystemClass>
	TSubsystemClass* GetSubsystem() const
	{
		static_assert(std::is_base_of_v<UGameInstanceSubsystem, TSubsystemClass>, "not a game instance subsystem");
		return nullptr;
	}
};

/** Misc/CoreMisc.h in the engine. */
bool IsRunningDedicatedServer();

#pragma once

#include "CoreMinimal.h"

using FTickerDelegate = TDelegate<bool(float)>;

/** The core ticker: runs registered delegates once per engine frame on the game thread. */
class FTSTicker
{
public:
	struct FElement;
	class FDelegateHandle
	{
	public:
		void Reset();
	};
	static FTSTicker& GetCoreTicker();
	FDelegateHandle AddTicker(const FTickerDelegate& Delegate, float Delay = 0.0f);
	static void RemoveTicker(FDelegateHandle Handle);
};

#pragma once

#include "CoreMinimal.h"

enum class EAsyncExecution { TaskGraph, TaskGraphMainThread, Thread, ThreadIfForkSafe, ThreadPool, LargeThreadPool };

/** Runs Function on another thread (the stand-in returns nothing: results go through queues). */
template <typename CallableType>
void Async(EAsyncExecution Execution, CallableType&& Function)
{
	static_assert(std::is_invocable_v<std::decay_t<CallableType>&>, "Async needs a callable without parameters");
	(void)Execution;
	TUniqueFunction<void()> Owned(std::forward<CallableType>(Function));
	(void)Owned;
}

// Copyright msstore contributors. MIT licence.
// The one shape of every request: an id returned by the call, and exactly one completion with
// that id on the game thread, a refusal included (on the next tick, never inside the call).

#pragma once

#include "CoreMinimal.h"
#include "Async/Async.h"
#include "HAL/CriticalSection.h"
#include "Misc/ScopeLock.h"
#include "MsStoreConvert.h"
#include "MsStoreModule.h"
#include "MsStoreNative.h"
#include "MsStoreSubsystem.h"

#include <type_traits>

/** An operation kept alive for CancelRequest until its completion has been delivered. */
struct FMsStorePendingRequest
{
	virtual ~FMsStorePendingRequest() = default;
	virtual void Cancel() = 0;
};

/**
 * Functions to run on the game thread at the start of the subsystem's next tick. Push is
 * thread-safe (background work holds a reference); after Close, pushes are dropped.
 */
class FMsStoreGameThreadQueue
{
public:
	void Push(TUniqueFunction<void()> Fn)
	{
		FScopeLock Lock(&Mutex);
		if (!bClosed)
		{
			Items.Add(MoveTemp(Fn));
		}
	}

	/** Runs what was queued before this call; what these functions queue waits for the next tick. */
	void RunQueued()
	{
		TArray<TUniqueFunction<void()>> Ready;
		{
			FScopeLock Lock(&Mutex);
			Swap(Ready, Items);
		}
		for (TUniqueFunction<void()>& Fn : Ready)
		{
			Fn();
		}
	}

	/** Drops what is queued and refuses later pushes (the subsystem is going away). */
	void Close()
	{
		TArray<TUniqueFunction<void()>> Dropped;
		FScopeLock Lock(&Mutex);
		bClosed = true;
		Swap(Dropped, Items);
	}

private:
	FCriticalSection Mutex;
	TArray<TUniqueFunction<void()>> Items;
	bool bClosed = false;
};

#if WITH_MSSTORE
template <class T>
struct TMsStorePendingOperation final : FMsStorePendingRequest
{
	msstore::Operation<T> Operation;
	virtual void Cancel() override { Operation.cancel(); }
};

/**
 * Starts a library operation on Store's client. Start(msstore::Client&, msstore::Callback<T>)
 * returns the msstore::Operation<T>; Done(int32 RequestId, msstore::Result<T>) runs once on the
 * game thread (inside Tick), unless the subsystem is shutting down. Returns the request id.
 */
template <class T, class StartFn, class DoneFn>
int32 MsStoreStartRequest(UMsStoreSubsystem& Store, StartFn&& Start, DoneFn&& Done)
{
	const int32 RequestId = Store.AllocateRequestId();
	// Shared by the completion and the refusal path; only one of them ever runs it.
	TSharedRef<std::decay_t<DoneFn>> SharedDone = MakeShared<std::decay_t<DoneFn>>(Forward<DoneFn>(Done));
	msstore::Client* Client = Store.GetNativeClient();
	if (Client == nullptr)
	{
		Store.GetGameThreadQueue()->Push([SharedDone, RequestId]() { (*SharedDone)(RequestId, msstore::Result<T>(MsStoreConvert::NotReadyError())); });
		return RequestId;
	}
	TWeakObjectPtr<UMsStoreSubsystem> WeakStore(&Store);
	TSharedPtr<TMsStorePendingOperation<T>> Pending = MakeShared<TMsStorePendingOperation<T>>();
	Pending->Operation = Start(*Client, msstore::Callback<T>([WeakStore, RequestId, SharedDone](msstore::Result<T> Result)
	{
		UMsStoreSubsystem* Self = WeakStore.Get();
		if (Self == nullptr || Self->IsShuttingDown())
		{
			return;
		}
		Self->ForgetRequest(RequestId);  // releases the handle (allowed inside its callback)
		(*SharedDone)(RequestId, MoveTemp(Result));
	}));
	if (!Pending->Operation.started())
	{
		TSharedRef<msstore::Result<T>> Refused = MakeShared<msstore::Result<T>>(Pending->Operation.take().error());
		Store.GetGameThreadQueue()->Push([SharedDone, RequestId, Refused]() { (*SharedDone)(RequestId, MoveTemp(*Refused)); });
		return RequestId;
	}
	Store.TrackRequest(RequestId, Pending);
	return RequestId;
}

/**
 * Runs a synchronous library call (ledger acknowledge, key decode) on the thread pool, so a
 * database round trip never stalls the game thread. Work() returns msstore::Result<T> and may
 * run on any thread; Done(int32 RequestId, msstore::Result<T>) runs on the game thread at the
 * next tick after Work finished. Cannot be cancelled. Returns the request id.
 */
template <class T, class WorkFn, class DoneFn>
int32 MsStoreRunInBackground(UMsStoreSubsystem& Store, WorkFn&& Work, DoneFn&& Done)
{
	const int32 RequestId = Store.AllocateRequestId();
	TSharedPtr<FMsStoreGameThreadQueue, ESPMode::ThreadSafe> Queue = Store.GetGameThreadQueue();
	TSharedRef<std::decay_t<DoneFn>, ESPMode::ThreadSafe> SharedDone = MakeShared<std::decay_t<DoneFn>, ESPMode::ThreadSafe>(Forward<DoneFn>(Done));
	if (!FMsStoreModule::IsLibraryAvailable())
	{
		Queue->Push([SharedDone, RequestId]() { (*SharedDone)(RequestId, msstore::Result<T>(MsStoreConvert::NotReadyError())); });
		return RequestId;
	}
	Async(EAsyncExecution::ThreadPool, [Queue, SharedDone, RequestId, Work = Forward<WorkFn>(Work)]() mutable
	{
		TSharedRef<msstore::Result<T>, ESPMode::ThreadSafe> Outcome = MakeShared<msstore::Result<T>, ESPMode::ThreadSafe>(Work());
		Queue->Push([SharedDone, RequestId, Outcome]() { (*SharedDone)(RequestId, MoveTemp(*Outcome)); });
	});
	return RequestId;
}
#endif

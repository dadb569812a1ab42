// Copyright msstore contributors. MIT licence.

#pragma once

#include "CoreMinimal.h"
#include "Containers/Ticker.h"
#include "MsStoreTypes.h"
#include "Subsystems/GameInstanceSubsystem.h"
#include "MsStoreSubsystem.generated.h"

namespace msstore { class Client; class Ledger; }
struct FMsStorePendingRequest;
class FMsStoreGameThreadQueue;

/**
 * Owns one msstore client (and, when enabled, the consume ledger) per game instance (on
 * dedicated servers by default, including a PIE dedicated server), polls it from the
 * game-thread ticker, and raises the results on the game thread. The client runs in QUEUED
 * mode, so every completion is delivered inside Tick: no locking in game code.
 *
 * Every request gets an id, returned by the call and carried by its one completion. A request
 * refused before it started (bad argument, library not loaded, ledger disabled) completes like
 * any other failure, on the next tick, never inside the call.
 *
 * Blueprint: the async nodes of MsStoreAsyncActions.h cover every operation; the two events
 * below remain for QueryEntitlements/Consume. C++: the same nodes, or msstore.hpp directly.
 */
UCLASS()
class MSSTORE_API UMsStoreSubsystem : public UGameInstanceSubsystem
{
	GENERATED_BODY()

public:
	virtual bool ShouldCreateSubsystem(UObject* Outer) const override;
	virtual void Initialize(FSubsystemCollectionBase& Collection) override;
	virtual void Deinitialize() override;

	/** True when the client was created (library loaded, configuration valid). */
	UFUNCTION(BlueprintPure, Category = "MsStore")
	bool IsReady() const;

	/** True when the consume ledger is open (Ledger settings). */
	UFUNCTION(BlueprintPure, Category = "MsStore")
	bool IsLedgerReady() const;

	/**
	 * What the player owns among ProductIds (v9 publisherQuery, all pages). CollectionsKey is the
	 * UserCollectionsId the game client sent. Returns the request id that
	 * OnEntitlementsReceived carries, once, also for a refused request (on the next tick).
	 */
	UFUNCTION(BlueprintCallable, Category = "MsStore")
	int32 QueryEntitlements(const FString& CollectionsKey, const TArray<FString>& ProductIds);

	/**
	 * Reports that the player used Quantity units of a store-managed consumable (0 = a
	 * developer-managed one). Leave TrackingId empty for a new consume; after a failure whose
	 * Kind is "consume_outcome_unknown", resend with Error.TrackingId.
	 */
	UFUNCTION(BlueprintCallable, Category = "MsStore")
	int32 Consume(const FString& CollectionsKey, const FString& ProductId, int32 Quantity, const FString& TrackingId);

	/** Cancels a request; its completion still fires once (Kind "canceled" unless it finished first). */
	UFUNCTION(BlueprintCallable, Category = "MsStore")
	void CancelRequest(int32 RequestId);

	UPROPERTY(BlueprintAssignable, Category = "MsStore")
	FMsStoreEntitlementsReceived OnEntitlementsReceived;

	UPROPERTY(BlueprintAssignable, Category = "MsStore")
	FMsStoreConsumeCompleted OnConsumeCompleted;

	// ---- for the plugin's request helpers (MsStoreRequest.h); game thread only ----

	/** The native client, or null when not ready. */
	msstore::Client* GetNativeClient() const { return Client.Get(); }
	/** The ledger (shared with background work), or null when not open. */
	TSharedPtr<msstore::Ledger, ESPMode::ThreadSafe> GetNativeLedger() const { return Ledger; }
	/** Runs queued functions at the start of each tick; pushing to it is thread-safe. */
	TSharedPtr<FMsStoreGameThreadQueue, ESPMode::ThreadSafe> GetGameThreadQueue() const { return Deferred; }
	int32 AllocateRequestId();
	void TrackRequest(int32 RequestId, TSharedPtr<FMsStorePendingRequest> Request);
	void ForgetRequest(int32 RequestId);
	/** True during Deinitialize: completions are dropped, no event fires during teardown. */
	bool IsShuttingDown() const { return bShuttingDown; }

private:
	bool Tick(float DeltaSeconds);
	void OpenLedger();

	/** Type-erased via TSharedPtr so this header needs no native include. */
	TSharedPtr<msstore::Client> Client;
	TSharedPtr<msstore::Ledger, ESPMode::ThreadSafe> Ledger;
	TSharedPtr<FMsStoreGameThreadQueue, ESPMode::ThreadSafe> Deferred;
	TMap<int32, TSharedPtr<FMsStorePendingRequest>> PendingRequests;
	FTSTicker::FDelegateHandle TickHandle;
	int32 LastRequestId = 0;
	int32 MaxCallbacksPerFrame = 0;
	bool bShuttingDown = false;
};

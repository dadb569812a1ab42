// Copyright msstore contributors. MIT licence.

#pragma once

#include "CoreMinimal.h"
#include "Containers/Ticker.h"
#include "MsStoreTypes.h"
#include "Subsystems/GameInstanceSubsystem.h"
#include "MsStoreSubsystem.generated.h"

namespace msstore { class Client; }
struct FMsStorePendingRequest;

/**
 * Owns one msstore client per game instance (on dedicated servers by default), polls it from the
 * game-thread ticker, and raises the results as Blueprint events on the game thread. The client
 * runs in QUEUED mode, so every completion is delivered inside Tick: no locking in game code.
 * All logic lives in msstore.hpp; this class only converts types.
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

	/**
	 * What the player owns among ProductIds (v9 publisherQuery, all pages). CollectionsKey is the
	 * UserCollectionsId the game client sent. Returns a request id (0 if refused: see
	 * OnEntitlementsReceived, which is raised for every request, also refused ones).
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

	/** Cancels a request; its event still fires once (Kind "canceled" unless it finished first). */
	UFUNCTION(BlueprintCallable, Category = "MsStore")
	void CancelRequest(int32 RequestId);

	UPROPERTY(BlueprintAssignable, Category = "MsStore")
	FMsStoreEntitlementsReceived OnEntitlementsReceived;

	UPROPERTY(BlueprintAssignable, Category = "MsStore")
	FMsStoreConsumeCompleted OnConsumeCompleted;

private:
	bool Tick(float DeltaSeconds);
	int32 AllocateRequestId();

	/** Type-erased via TSharedPtr so this header needs no native include. */
	TSharedPtr<msstore::Client> Client;
	TMap<int32, TSharedPtr<FMsStorePendingRequest>> PendingRequests;
	FTSTicker::FDelegateHandle TickHandle;
	int32 LastRequestId = 0;
	int32 MaxCallbacksPerFrame = 0;
	bool bShuttingDown = false;
};

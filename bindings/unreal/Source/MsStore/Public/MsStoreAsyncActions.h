// Copyright msstore contributors. MIT licence.
// Blueprint async nodes, one per operation. Each node fires exactly one of its outputs, once, on
// the game thread: OnSuccess with the result, or OnFailure with the error (a refused request
// too, on the next tick). The shared behaviour lives in UMsStoreAsyncAction; each class below
// only declares its inputs and its OnSuccess (UHT needs every UCLASS spelled out).

#pragma once

#include "CoreMinimal.h"
#include "Kismet/BlueprintAsyncActionBase.h"
#include "MsStoreTypes.h"
#include "MsStoreAsyncActions.generated.h"

class UMsStoreSubsystem;

DECLARE_DYNAMIC_MULTICAST_DELEGATE_OneParam(FMsStoreActionFailed, const FMsStoreError&, Error);
DECLARE_DYNAMIC_MULTICAST_DELEGATE(FMsStoreActionDone);
DECLARE_DYNAMIC_MULTICAST_DELEGATE_OneParam(FMsStoreTokenReceived, const FMsStoreToken&, Token);
DECLARE_DYNAMIC_MULTICAST_DELEGATE_OneParam(FMsStoreKeyReceived, const FMsStoreKey&, Key);
DECLARE_DYNAMIC_MULTICAST_DELEGATE_OneParam(FMsStoreEntitlementsResult, const TArray<FMsStoreEntitlement>&, Entitlements);
DECLARE_DYNAMIC_MULTICAST_DELEGATE_OneParam(FMsStoreConsumeDone, const FMsStoreConsumeResult&, Result);
DECLARE_DYNAMIC_MULTICAST_DELEGATE_OneParam(FMsStoreGrantDone, const FMsStoreOrder&, Order);
DECLARE_DYNAMIC_MULTICAST_DELEGATE_OneParam(FMsStoreSubscriptionsResult, const TArray<FMsStoreSubscription>&, Subscriptions);
DECLARE_DYNAMIC_MULTICAST_DELEGATE_OneParam(FMsStoreSubscriptionChanged, const FMsStoreSubscription&, Subscription);
DECLARE_DYNAMIC_MULTICAST_DELEGATE_OneParam(FMsStoreClawbackOrdersResult, const TArray<FMsStoreClawbackOrderLine>&, Lines);
DECLARE_DYNAMIC_MULTICAST_DELEGATE_OneParam(FMsStoreClawbackMessagesResult, const TArray<FMsStoreClawbackMessage>&, Messages);
DECLARE_DYNAMIC_MULTICAST_DELEGATE_OneParam(FMsStoreLedgerResult, const FMsStoreLedgerItems&, Items);

/** Base of every msstore node: owns the request id, OnFailure, Cancel and the node's lifetime. */
UCLASS(Abstract)
class MSSTORE_API UMsStoreAsyncAction : public UBlueprintAsyncActionBase
{
	GENERATED_BODY()

public:
	/** The request failed or was refused; Error says why and what to do. */
	UPROPERTY(BlueprintAssignable, Category = "MsStore")
	FMsStoreActionFailed OnFailure;

	/** Cancels the request; OnFailure then fires with Kind "canceled" unless it finished first. */
	UFUNCTION(BlueprintCallable, Category = "MsStore")
	void Cancel();

	/** The subsystem's id of this request (0 before the node runs). */
	UFUNCTION(BlueprintPure, Category = "MsStore")
	int32 GetRequestId() const { return RequestId; }

	virtual void Activate() override;

protected:
	/** Starts the request on Store and returns its id (MsStoreStartRequest or MsStoreRunInBackground, Private/MsStoreRequest.h). */
	virtual int32 Start(UMsStoreSubsystem& /*InStore*/) PURE_VIRTUAL(UMsStoreAsyncAction::Start, return 0;);

private:
	friend struct FMsStoreActionAccess;

	TWeakObjectPtr<UMsStoreSubsystem> Store;
	int32 RequestId = 0;
};

UCLASS()
class MSSTORE_API UMsStoreGetTokenAction : public UMsStoreAsyncAction
{
	GENERATED_BODY()

public:
	/** An Entra access token for Audience (cached, refreshed ahead of expiry). A secret. */
	UFUNCTION(BlueprintCallable, Category = "MsStore", meta = (BlueprintInternalUseOnly = "true", WorldContext = "WorldContextObject"))
	static UMsStoreGetTokenAction* GetStoreToken(UObject* WorldContextObject, EMsStoreAudience Audience);

	UPROPERTY(BlueprintAssignable, Category = "MsStore")
	FMsStoreTokenReceived OnSuccess;

protected:
	virtual int32 Start(UMsStoreSubsystem& InStore) override;

private:
	EMsStoreAudience Audience = EMsStoreAudience::Service;
};

UCLASS()
class MSSTORE_API UMsStoreDecodeKeyAction : public UMsStoreAsyncAction
{
	GENERATED_BODY()

public:
	/** Decodes (does not verify) a Store ID key offline: its kind, user and renewal times. */
	UFUNCTION(BlueprintCallable, Category = "MsStore", meta = (BlueprintInternalUseOnly = "true", WorldContext = "WorldContextObject"))
	static UMsStoreDecodeKeyAction* DecodeStoreKey(UObject* WorldContextObject, const FString& Key);

	UPROPERTY(BlueprintAssignable, Category = "MsStore")
	FMsStoreKeyReceived OnSuccess;

protected:
	virtual int32 Start(UMsStoreSubsystem& InStore) override;

private:
	FString Key;
};

UCLASS()
class MSSTORE_API UMsStoreRenewKeyAction : public UMsStoreAsyncAction
{
	GENERATED_BODY()

public:
	/** Renews a Store ID key (at the documented renew endpoints only); persist Key.Value. */
	UFUNCTION(BlueprintCallable, Category = "MsStore", meta = (BlueprintInternalUseOnly = "true", WorldContext = "WorldContextObject"))
	static UMsStoreRenewKeyAction* RenewStoreKey(UObject* WorldContextObject, const FString& Key);

	UPROPERTY(BlueprintAssignable, Category = "MsStore")
	FMsStoreKeyReceived OnSuccess;

protected:
	virtual int32 Start(UMsStoreSubsystem& InStore) override;

private:
	FString Key;
};

UCLASS()
class MSSTORE_API UMsStoreQueryEntitlementsAction : public UMsStoreAsyncAction
{
	GENERATED_BODY()

public:
	/** What the player owns among ProductIds (v9, all pages). CollectionsKey: the UserCollectionsId. */
	UFUNCTION(BlueprintCallable, Category = "MsStore", meta = (BlueprintInternalUseOnly = "true", WorldContext = "WorldContextObject"))
	static UMsStoreQueryEntitlementsAction* QueryStoreEntitlements(UObject* WorldContextObject, const FString& CollectionsKey, const TArray<FString>& ProductIds);

	UPROPERTY(BlueprintAssignable, Category = "MsStore")
	FMsStoreEntitlementsResult OnSuccess;

protected:
	virtual int32 Start(UMsStoreSubsystem& InStore) override;

private:
	FString CollectionsKey;
	TArray<FString> ProductIds;
};

UCLASS()
class MSSTORE_API UMsStoreConsumeAction : public UMsStoreAsyncAction
{
	GENERATED_BODY()

public:
	/**
	 * Consumes Quantity units (0 = a developer-managed consumable). Empty TrackingId for a new
	 * consume; after Kind "consume_outcome_unknown", resend with Error.TrackingId.
	 */
	UFUNCTION(BlueprintCallable, Category = "MsStore", meta = (BlueprintInternalUseOnly = "true", WorldContext = "WorldContextObject"))
	static UMsStoreConsumeAction* ConsumeStoreProduct(UObject* WorldContextObject, const FString& CollectionsKey, const FString& ProductId, int32 Quantity, const FString& TrackingId);

	UPROPERTY(BlueprintAssignable, Category = "MsStore")
	FMsStoreConsumeDone OnSuccess;

protected:
	virtual int32 Start(UMsStoreSubsystem& InStore) override;

private:
	FString CollectionsKey;
	FString ProductId;
	int32 Quantity = 1;
	FString TrackingId;
};

UCLASS()
class MSSTORE_API UMsStoreGrantFreeProductAction : public UMsStoreAsyncAction
{
	GENERATED_BODY()

public:
	/** Grants a free product to the user of PurchaseKey (the UserPurchaseId). */
	UFUNCTION(BlueprintCallable, Category = "MsStore", meta = (BlueprintInternalUseOnly = "true", WorldContext = "WorldContextObject"))
	static UMsStoreGrantFreeProductAction* GrantFreeStoreProduct(UObject* WorldContextObject, const FString& PurchaseKey, const FString& ProductId, const FString& SkuId, const FString& AvailabilityId);

	UPROPERTY(BlueprintAssignable, Category = "MsStore")
	FMsStoreGrantDone OnSuccess;

protected:
	virtual int32 Start(UMsStoreSubsystem& InStore) override;

private:
	FString PurchaseKey;
	FString ProductId;
	FString SkuId;
	FString AvailabilityId;
};

UCLASS()
class MSSTORE_API UMsStoreQuerySubscriptionsAction : public UMsStoreAsyncAction
{
	GENERATED_BODY()

public:
	/** The subscriptions of the user of PurchaseKey (all pages). */
	UFUNCTION(BlueprintCallable, Category = "MsStore", meta = (BlueprintInternalUseOnly = "true", WorldContext = "WorldContextObject"))
	static UMsStoreQuerySubscriptionsAction* QueryStoreSubscriptions(UObject* WorldContextObject, const FString& PurchaseKey);

	UPROPERTY(BlueprintAssignable, Category = "MsStore")
	FMsStoreSubscriptionsResult OnSuccess;

protected:
	virtual int32 Start(UMsStoreSubsystem& InStore) override;

private:
	FString PurchaseKey;
};

UCLASS()
class MSSTORE_API UMsStoreChangeSubscriptionAction : public UMsStoreAsyncAction
{
	GENERATED_BODY()

public:
	/** Cancels, extends (by ExtensionDays), refunds or toggles auto-renew of RecurrenceId. */
	UFUNCTION(BlueprintCallable, Category = "MsStore", meta = (BlueprintInternalUseOnly = "true", WorldContext = "WorldContextObject"))
	static UMsStoreChangeSubscriptionAction* ChangeStoreSubscription(UObject* WorldContextObject, const FString& PurchaseKey, const FString& RecurrenceId, EMsStoreSubscriptionChange Change, int32 ExtensionDays);

	UPROPERTY(BlueprintAssignable, Category = "MsStore")
	FMsStoreSubscriptionChanged OnSuccess;

protected:
	virtual int32 Start(UMsStoreSubsystem& InStore) override;

private:
	FString PurchaseKey;
	FString RecurrenceId;
	EMsStoreSubscriptionChange Change = EMsStoreSubscriptionChange::Cancel;
	int32 ExtensionDays = 0;
};

UCLASS()
class MSSTORE_API UMsStoreQueryClawbackAction : public UMsStoreAsyncAction
{
	GENERATED_BODY()

public:
	/** Clawback v1: the user's consumable orders of the last 90 days in States (empty = Revoked + Refunded). */
	UFUNCTION(BlueprintCallable, Category = "MsStore", meta = (BlueprintInternalUseOnly = "true", WorldContext = "WorldContextObject"))
	static UMsStoreQueryClawbackAction* QueryStoreClawback(UObject* WorldContextObject, const FString& PurchaseKey, const TArray<EMsStoreLineItemState>& States);

	UPROPERTY(BlueprintAssignable, Category = "MsStore")
	FMsStoreClawbackOrdersResult OnSuccess;

protected:
	virtual int32 Start(UMsStoreSubsystem& InStore) override;

private:
	FString PurchaseKey;
	TArray<EMsStoreLineItemState> States;
};

UCLASS()
class MSSTORE_API UMsStoreReceiveClawbackAction : public UMsStoreAsyncAction
{
	GENERATED_BODY()

public:
	/**
	 * Clawback v2: receives up to MaxMessages (0 = 32) refund events, hidden for
	 * VisibilityTimeoutSeconds (0 = 30). Delete each once recorded durably.
	 */
	UFUNCTION(BlueprintCallable, Category = "MsStore", meta = (BlueprintInternalUseOnly = "true", WorldContext = "WorldContextObject"))
	static UMsStoreReceiveClawbackAction* ReceiveStoreClawback(UObject* WorldContextObject, int32 MaxMessages, int32 VisibilityTimeoutSeconds);

	UPROPERTY(BlueprintAssignable, Category = "MsStore")
	FMsStoreClawbackMessagesResult OnSuccess;

protected:
	virtual int32 Start(UMsStoreSubsystem& InStore) override;

private:
	int32 MaxMessages = 0;
	int32 VisibilityTimeoutSeconds = 0;
};

UCLASS()
class MSSTORE_API UMsStoreDeleteClawbackAction : public UMsStoreAsyncAction
{
	GENERATED_BODY()

public:
	/** Clawback v2: deletes a received message (Kind "pop_receipt_mismatch": it comes back, skip it). */
	UFUNCTION(BlueprintCallable, Category = "MsStore", meta = (BlueprintInternalUseOnly = "true", WorldContext = "WorldContextObject"))
	static UMsStoreDeleteClawbackAction* DeleteStoreClawbackMessage(UObject* WorldContextObject, const FString& MessageId, const FString& PopReceipt);

	UPROPERTY(BlueprintAssignable, Category = "MsStore")
	FMsStoreActionDone OnSuccess;

protected:
	virtual int32 Start(UMsStoreSubsystem& InStore) override;

private:
	FString MessageId;
	FString PopReceipt;
};

UCLASS()
class MSSTORE_API UMsStoreLedgerConsumeAction : public UMsStoreAsyncAction
{
	GENERATED_BODY()

public:
	/**
	 * Consumes through the ledger for PlayerRef. The entry is Applied (grant, then Acknowledge),
	 * Failed (nothing applied) or Pending (unknown: do not grant; Reconcile resends it).
	 */
	UFUNCTION(BlueprintCallable, Category = "MsStore", meta = (BlueprintInternalUseOnly = "true", WorldContext = "WorldContextObject"))
	static UMsStoreLedgerConsumeAction* LedgerConsume(UObject* WorldContextObject, const FString& PlayerRef, const FString& CollectionsKey, const FString& ProductId, int32 Quantity, const FString& TrackingId);

	UPROPERTY(BlueprintAssignable, Category = "MsStore")
	FMsStoreLedgerResult OnSuccess;

protected:
	virtual int32 Start(UMsStoreSubsystem& InStore) override;

private:
	FString PlayerRef;
	FString CollectionsKey;
	FString ProductId;
	int32 Quantity = 1;
	FString TrackingId;
};

UCLASS()
class MSSTORE_API UMsStoreLedgerReconcileAction : public UMsStoreAsyncAction
{
	GENERATED_BODY()

public:
	/** At start-up and periodically: resends pending consumes; returns what the game must act on. */
	UFUNCTION(BlueprintCallable, Category = "MsStore", meta = (BlueprintInternalUseOnly = "true", WorldContext = "WorldContextObject"))
	static UMsStoreLedgerReconcileAction* LedgerReconcile(UObject* WorldContextObject);

	UPROPERTY(BlueprintAssignable, Category = "MsStore")
	FMsStoreLedgerResult OnSuccess;

protected:
	virtual int32 Start(UMsStoreSubsystem& InStore) override;
};

UCLASS()
class MSSTORE_API UMsStoreLedgerAcknowledgeAction : public UMsStoreAsyncAction
{
	GENERATED_BODY()

public:
	/**
	 * The game granted an Applied entry (bRevocation false) or applied a revocation (true).
	 * Idempotent. Runs off the game thread (a database write).
	 */
	UFUNCTION(BlueprintCallable, Category = "MsStore", meta = (BlueprintInternalUseOnly = "true", WorldContext = "WorldContextObject"))
	static UMsStoreLedgerAcknowledgeAction* LedgerAcknowledge(UObject* WorldContextObject, const FString& Id, bool bRevocation);

	UPROPERTY(BlueprintAssignable, Category = "MsStore")
	FMsStoreActionDone OnSuccess;

protected:
	virtual int32 Start(UMsStoreSubsystem& InStore) override;

private:
	FString Id;
	bool bRevocation = false;
};

UCLASS()
class MSSTORE_API UMsStoreLedgerIngestClawbackAction : public UMsStoreAsyncAction
{
	GENERATED_BODY()

public:
	/**
	 * Clawback v2 into the ledger: records each refund event durably, then deletes its message.
	 * Items.Revocations are this pass's (apply, then Acknowledge with bRevocation); Items.Summary
	 * counts. ExpectedSandbox empty = RETAIL.
	 */
	UFUNCTION(BlueprintCallable, Category = "MsStore", meta = (BlueprintInternalUseOnly = "true", WorldContext = "WorldContextObject"))
	static UMsStoreLedgerIngestClawbackAction* LedgerIngestClawback(UObject* WorldContextObject, const FString& ExpectedSandbox);

	UPROPERTY(BlueprintAssignable, Category = "MsStore")
	FMsStoreLedgerResult OnSuccess;

protected:
	virtual int32 Start(UMsStoreSubsystem& InStore) override;

private:
	FString ExpectedSandbox;
};

// Copyright msstore contributors. MIT licence.
// Blueprint-facing copies of the msstore results (no native handle escapes to game code).

#pragma once

#include "CoreMinimal.h"
#include "MsStoreTypes.generated.h"

UENUM(BlueprintType)
enum class EMsStoreProductKind : uint8
{
	Unknown,
	Game,
	Application,
	Durable,
	Consumable,
	UnmanagedConsumable,
	Pass
};

UENUM(BlueprintType)
enum class EMsStoreEntitlementStatus : uint8
{
	Unknown,
	Active,
	Expired,
	Revoked,
	Banned,
	Suspended
};

UENUM(BlueprintType)
enum class EMsStoreAudience : uint8
{
	/** Calls to the Store services (what the library uses itself). */
	Service,
	/** The token the game client passes to GetCustomerCollectionsIdAsync. */
	CollectionsKeyCreate,
	/** The token the game client passes to GetCustomerPurchaseIdAsync. */
	PurchaseKeyCreate
};

UENUM(BlueprintType)
enum class EMsStoreKeyKind : uint8
{
	Unknown,
	Collections,
	Purchase
};

UENUM(BlueprintType)
enum class EMsStoreSubscriptionChange : uint8
{
	Cancel,
	Extend,
	Refund,
	ToggleAutoRenew
};

UENUM(BlueprintType)
enum class EMsStoreRecurrenceState : uint8
{
	Unknown,
	None,
	Active,
	Inactive,
	Canceled,
	InDunning,
	Failed,
	Revoked
};

UENUM(BlueprintType)
enum class EMsStoreLineItemState : uint8
{
	Unknown,
	Purchased,
	Revoked,
	Refunded
};

UENUM(BlueprintType)
enum class EMsStoreClawbackEventState : uint8
{
	/** A state this plugin does not know (see the message's raw text). */
	Other,
	/** Removed by the Store: nothing to take back. */
	Returned,
	/** Already consumed: take its in-game value back. */
	Revoked,
	/** The customer keeps the item: log only. */
	Refunded,
	/** Restore an earlier revocation. */
	ChargebackReversal
};

UENUM(BlueprintType)
enum class EMsStoreLedgerState : uint8
{
	Unknown,
	/** Outcome unknown: do not grant; Reconcile resends it. */
	Pending,
	/** Grant the value, then Acknowledge. */
	Applied,
	/** Granted and acknowledged. Final. */
	Completed,
	/** Refused, nothing applied (see LastError). Final. */
	Failed
};

UENUM(BlueprintType)
enum class EMsStoreRevocationKind : uint8
{
	Unknown,
	/** Take Quantity of ProductId from PlayerRef. */
	Revoke,
	/** Give it back (undoes the revocation Reverses). */
	Restore
};

/** Why a request failed; ResultCode is an msstore_result (MSSTORE_E_*). Never holds a secret. */
USTRUCT(BlueprintType)
struct MSSTORE_API FMsStoreError
{
	GENERATED_BODY()

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	int32 ResultCode = 0;

	/** Stable snake_case name: "throttled", "key_must_be_reminted", ... */
	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	FString Kind;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	FString Message;

	/** 0 when no response arrived. */
	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	int32 HttpStatus = 0;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	FString ServiceCode;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	FString InnerCode;

	/** Correlation vector of the failing exchange: quote it in support requests. */
	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	FString MsCv;

	/** Seconds the service asked to wait; negative when it did not say. */
	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	float RetryAfterSeconds = -1.0f;

	/** Consume only: resend with this tracking id when the outcome is unknown. */
	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	FString TrackingId;

	/** Worth retrying later (throttled, network, timeout). */
	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	bool bIsTransient = false;
};

USTRUCT(BlueprintType)
struct MSSTORE_API FMsStoreEntitlement
{
	GENERATED_BODY()

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	FString ProductId;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	FString SkuId;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	EMsStoreProductKind ProductKind = EMsStoreProductKind::Unknown;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	EMsStoreEntitlementStatus Status = EMsStoreEntitlementStatus::Unknown;

	/** Active and not past its end date. */
	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	bool bIsActive = false;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	int64 Quantity = 0;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	bool bHasEndDate = false;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	FDateTime EndDate;

	/** Subscription recurrence id, empty for other products. */
	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	FString RecurrenceId;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	bool bIsTrial = false;
};

USTRUCT(BlueprintType)
struct MSSTORE_API FMsStoreConsumeResult
{
	GENERATED_BODY()

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	FString ProductId;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	FString TrackingId;

	/** Remaining balance (0 for developer-managed consumables). */
	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	int64 NewQuantity = 0;
};

/** An Entra access token. Value is a secret: hand it only to the game client that needs it. */
USTRUCT(BlueprintType)
struct MSSTORE_API FMsStoreToken
{
	GENERATED_BODY()

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	FString Value;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	EMsStoreAudience Audience = EMsStoreAudience::Service;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	FDateTime ExpiresAt;
};

/** A decoded (not verified) or renewed Store ID key. Value is a secret: persist it, never log it. */
USTRUCT(BlueprintType)
struct MSSTORE_API FMsStoreKey
{
	GENERATED_BODY()

	/** The key itself; after a renewal, the new key that replaces the old one. */
	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	FString Value;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	EMsStoreKeyKind Kind = EMsStoreKeyKind::Unknown;

	/** The Entra application the key was minted for. */
	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	FString ClientId;

	/** publisherUserId; empty when absent. */
	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	FString UserId;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	FDateTime IssuedAt;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	FDateTime ExpiresAt;

	/** Renew the key after this time (before it expires). */
	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	FDateTime RenewAfter;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	bool bIsExpired = false;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	bool bNeedsRenewal = false;
};

USTRUCT(BlueprintType)
struct MSSTORE_API FMsStoreOrderLineItem
{
	GENERATED_BODY()

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	FString LineItemId;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	FString ProductId;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	FString SkuId;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	int64 Quantity = 0;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	FString BillingState;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	FString FulfillmentState;
};

/** The order a free-product grant created. */
USTRUCT(BlueprintType)
struct MSSTORE_API FMsStoreOrder
{
	GENERATED_BODY()

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	FString OrderId;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	FString OrderState;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	FString CreatedTime;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	TArray<FMsStoreOrderLineItem> LineItems;
};

/** One subscription (recurrence). */
USTRUCT(BlueprintType)
struct MSSTORE_API FMsStoreSubscription
{
	GENERATED_BODY()

	/** The recurrence id: pass it to Change Subscription. */
	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	FString Id;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	FString ProductId;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	FString SkuId;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	EMsStoreRecurrenceState State = EMsStoreRecurrenceState::Unknown;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	bool bAutoRenew = false;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	bool bIsTrial = false;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	bool bHasExpiration = false;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	FDateTime ExpiresAt;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	FString Market;
};

/** One order line of a clawback (refund) v1 query. */
USTRUCT(BlueprintType)
struct MSSTORE_API FMsStoreClawbackOrderLine
{
	GENERATED_BODY()

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	FString OrderId;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	FString LineItemId;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	EMsStoreLineItemState State = EMsStoreLineItemState::Unknown;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	FString ProductId;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	FString SkuId;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	int64 Quantity = 0;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	bool bWasConsumableQuantityRevoked = false;
};

/** One message of the clawback (refund) v2 queue and, when it decoded, its event. */
USTRUCT(BlueprintType)
struct MSSTORE_API FMsStoreClawbackMessage
{
	GENERATED_BODY()

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	FString MessageId;

	/** Pass to Delete Clawback Message with MessageId once the event is recorded durably. */
	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	FString PopReceipt;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	int32 DequeueCount = 0;

	/** False: not an event (see EventError); delete it. */
	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	bool bHasEvent = false;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	FString EventError;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	FString EventId;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	EMsStoreClawbackEventState State = EMsStoreClawbackEventState::Other;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	bool bRequiresRevocation = false;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	FString OrderId;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	FString LineItemId;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	FString ProductId;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	FString SandboxId;
};

/** One consume recorded in the ledger. */
USTRUCT(BlueprintType)
struct MSSTORE_API FMsStoreLedgerEntry
{
	GENERATED_BODY()

	/** Also the consume's tracking id; pass it to Acknowledge after granting. */
	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	FString Id;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	FString PlayerRef;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	FString ProductId;

	/** 0 = developer-managed. */
	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	int64 Quantity = 0;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	EMsStoreLedgerState State = EMsStoreLedgerState::Unknown;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	int64 Attempts = 0;

	/** The Store's balance once applied; -1 when unknown. */
	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	int64 NewQuantity = -1;

	/** Why it is pending or failed; empty when none. */
	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	FString LastError;
};

/** A revocation (or restore) the game must apply, then acknowledge. */
USTRUCT(BlueprintType)
struct MSSTORE_API FMsStoreRevocation
{
	GENERATED_BODY()

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	FString Id;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	EMsStoreRevocationKind Kind = EMsStoreRevocationKind::Unknown;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	FString PlayerRef;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	FString ProductId;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	int64 Quantity = 0;

	/** The consume entry whose value is taken back. */
	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	FString EntryId;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	FString EventId;

	/** For a restore: the revocation it undoes. */
	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	FString Reverses;
};

/** What a clawback ingestion pass did. */
USTRUCT(BlueprintType)
struct MSSTORE_API FMsStoreClawbackIngestSummary
{
	GENERATED_BODY()

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	int64 Received = 0;

	/** Events recorded for the first time. */
	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	int64 Applied = 0;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	int64 Duplicates = 0;

	/** Of Applied: no recorded consume drew from the line yet. */
	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	int64 Unmatched = 0;

	/** Another sandbox's events, left in the queue. */
	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	int64 Ignored = 0;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	int64 DeadLettered = 0;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	int64 Deleted = 0;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	int64 DeleteConflicts = 0;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	int64 DeleteErrors = 0;
};

/** Ledger entries and revocations: a consume's entry, a reconcile's or an ingestion's items. */
USTRUCT(BlueprintType)
struct MSSTORE_API FMsStoreLedgerItems
{
	GENERATED_BODY()

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	TArray<FMsStoreLedgerEntry> Entries;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	TArray<FMsStoreRevocation> Revocations;

	/** Only for an ingestion (bHasSummary). */
	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	bool bHasSummary = false;

	UPROPERTY(BlueprintReadOnly, Category = "MsStore")
	FMsStoreClawbackIngestSummary Summary;
};

DECLARE_DYNAMIC_MULTICAST_DELEGATE_FourParams(FMsStoreEntitlementsReceived, int32, RequestId, bool, bSuccess, const TArray<FMsStoreEntitlement>&, Entitlements, const FMsStoreError&, Error);
DECLARE_DYNAMIC_MULTICAST_DELEGATE_FourParams(FMsStoreConsumeCompleted, int32, RequestId, bool, bSuccess, const FMsStoreConsumeResult&, Result, const FMsStoreError&, Error);

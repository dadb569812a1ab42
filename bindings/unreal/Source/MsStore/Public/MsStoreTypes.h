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

DECLARE_DYNAMIC_MULTICAST_DELEGATE_FourParams(FMsStoreEntitlementsReceived, int32, RequestId, bool, bSuccess, const TArray<FMsStoreEntitlement>&, Entitlements, const FMsStoreError&, Error);
DECLARE_DYNAMIC_MULTICAST_DELEGATE_FourParams(FMsStoreConsumeCompleted, int32, RequestId, bool, bSuccess, const FMsStoreConsumeResult&, Result, const FMsStoreError&, Error);

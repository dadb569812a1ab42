// Copyright msstore contributors. MIT licence.

#include "MsStoreSubsystem.h"

#include "Engine/GameInstance.h"
#include "HAL/PlatformMisc.h"
#include "MsStoreModule.h"
#include "MsStoreNative.h"
#include "MsStoreSettings.h"

/** An operation kept alive for CancelRequest until its completion has been delivered. */
struct FMsStorePendingRequest
{
	virtual ~FMsStorePendingRequest() = default;
	virtual void Cancel() = 0;
};

#if WITH_MSSTORE
// The Blueprint enums mirror msstore.hpp's, value for value.
static_assert(static_cast<int32>(EMsStoreProductKind::Pass) == static_cast<int32>(msstore::ProductKind::Pass), "EMsStoreProductKind drifted");
static_assert(static_cast<int32>(EMsStoreProductKind::Durable) == static_cast<int32>(msstore::ProductKind::Durable), "EMsStoreProductKind drifted");
static_assert(static_cast<int32>(EMsStoreEntitlementStatus::Suspended) == static_cast<int32>(msstore::EntitlementStatus::Suspended), "EMsStoreEntitlementStatus drifted");
static_assert(static_cast<int32>(EMsStoreEntitlementStatus::Active) == static_cast<int32>(msstore::EntitlementStatus::Active), "EMsStoreEntitlementStatus drifted");

namespace
{
	template <class T>
	struct TMsStorePendingOperation final : FMsStorePendingRequest
	{
		msstore::Operation<T> Operation;
		virtual void Cancel() override { Operation.cancel(); }
	};

	FMsStoreError ToError(const msstore::Error& Error)
	{
		FMsStoreError Out;
		Out.ResultCode = static_cast<int32>(Error.code);
		Out.Kind = MsStoreNative::ToFString(Error.kind);
		Out.Message = MsStoreNative::ToFString(Error.message);
		Out.HttpStatus = Error.http_status;
		Out.ServiceCode = MsStoreNative::ToFString(Error.service_code);
		Out.InnerCode = MsStoreNative::ToFString(Error.inner_code);
		Out.MsCv = MsStoreNative::ToFString(Error.ms_cv);
		Out.RetryAfterSeconds = Error.retry_after ? static_cast<float>(Error.retry_after->count()) / 1000.0f : -1.0f;
		Out.TrackingId = MsStoreNative::ToFString(Error.tracking_id);
		Out.bIsTransient = msstore::is_transient(Error.code);
		return Out;
	}

	FMsStoreEntitlement ToEntitlement(const msstore::Entitlement& Item)
	{
		FMsStoreEntitlement Out;
		Out.ProductId = MsStoreNative::ToFString(Item.product_id);
		Out.SkuId = MsStoreNative::ToFString(Item.sku_id);
		Out.ProductKind = static_cast<EMsStoreProductKind>(Item.product_kind);  // same order
		Out.Status = static_cast<EMsStoreEntitlementStatus>(Item.status);      // same order
		Out.bIsActive = Item.is_active;
		Out.Quantity = Item.quantity;
		Out.bHasEndDate = Item.end_time.has_value();
		if (Item.end_time)
		{
			Out.EndDate = MsStoreNative::ToDateTime(*Item.end_time);
		}
		Out.RecurrenceId = MsStoreNative::ToFString(Item.recurrence_id);
		Out.bIsTrial = Item.is_trial;
		return Out;
	}
}
#endif

bool UMsStoreSubsystem::ShouldCreateSubsystem(UObject* Outer) const
{
#if WITH_MSSTORE
	return IsRunningDedicatedServer() || GetDefault<UMsStoreSettings>()->bCreateOutsideDedicatedServer;
#else
	return false;
#endif
}

void UMsStoreSubsystem::Initialize(FSubsystemCollectionBase& Collection)
{
	Super::Initialize(Collection);
	bShuttingDown = false;
#if WITH_MSSTORE
	if (!FMsStoreModule::IsLibraryAvailable())
	{
		return;
	}
	const UMsStoreSettings* Settings = GetDefault<UMsStoreSettings>();
	msstore::ClientOptions Options;
	Options.tenant_id = MsStoreNative::ToUtf8(Settings->TenantId);
	Options.client_id = MsStoreNative::ToUtf8(Settings->ClientId);
	Options.client_secret = MsStoreNative::ToUtf8(FPlatformMisc::GetEnvironmentVariable(*Settings->ClientSecretEnvironmentVariable));
	Options.emulator_base_url = MsStoreNative::ToUtf8(Settings->EmulatorBaseUrl);
	Options.completion_mode = msstore::CompletionMode::Queued;  // delivered in Tick, on the game thread
	Options.operation_timeout = std::chrono::milliseconds(static_cast<int64>(Settings->RequestTimeoutSeconds * 1000.0f));
	MaxCallbacksPerFrame = FMath::Max(0, Settings->MaxCallbacksPerFrame);

	msstore::Result<msstore::Client> Created = msstore::Client::create(Options);
	if (!Created)
	{
		UE_LOG(LogMsStore, Error, TEXT("Cannot create the Microsoft Store client: %s"), *MsStoreNative::ToFString(Created.error().message));
		return;
	}
	Client = MakeShared<msstore::Client>(MoveTemp(Created).value());
	TickHandle = FTSTicker::GetCoreTicker().AddTicker(FTickerDelegate::CreateUObject(this, &UMsStoreSubsystem::Tick));
#endif
}

void UMsStoreSubsystem::Deinitialize()
{
	FTSTicker::GetCoreTicker().RemoveTicker(TickHandle);
	TickHandle.Reset();
	// Destroying the client completes whatever is in flight (callbacks run here, and see
	// bShuttingDown so no event fires during teardown).
	bShuttingDown = true;
	Client.Reset();
	PendingRequests.Empty();
	Super::Deinitialize();
}

bool UMsStoreSubsystem::IsReady() const
{
	return Client.IsValid();
}

bool UMsStoreSubsystem::Tick(float DeltaSeconds)
{
#if WITH_MSSTORE
	if (Client.IsValid())
	{
		Client->poll(static_cast<std::size_t>(MaxCallbacksPerFrame));
	}
#endif
	return true;  // keep ticking
}

int32 UMsStoreSubsystem::AllocateRequestId()
{
	LastRequestId = LastRequestId == MAX_int32 ? 1 : LastRequestId + 1;
	return LastRequestId;
}

int32 UMsStoreSubsystem::QueryEntitlements(const FString& CollectionsKey, const TArray<FString>& ProductIds)
{
	const int32 RequestId = AllocateRequestId();
#if WITH_MSSTORE
	if (!Client.IsValid())
	{
		FMsStoreError NotReady;
		NotReady.ResultCode = MSSTORE_E_CONFIGURATION;
		NotReady.Kind = TEXT("configuration");
		NotReady.Message = TEXT("The Microsoft Store client is not available (see LogMsStore).");
		OnEntitlementsReceived.Broadcast(RequestId, false, TArray<FMsStoreEntitlement>(), NotReady);
		return 0;
	}
	msstore::QueryRequest Query;
	Query.collections_key = MsStoreNative::ToUtf8(CollectionsKey);
	for (const FString& ProductId : ProductIds)
	{
		Query.product_ids.push_back(MsStoreNative::ToUtf8(ProductId));
	}
	TWeakObjectPtr<UMsStoreSubsystem> WeakThis(this);
	TSharedPtr<TMsStorePendingOperation<msstore::Entitlements>> Pending = MakeShared<TMsStorePendingOperation<msstore::Entitlements>>();
	Pending->Operation = Client->query_entitlements(Query, [WeakThis, RequestId](msstore::Result<msstore::Entitlements> Owned)
	{
		UMsStoreSubsystem* Self = WeakThis.Get();
		if (Self == nullptr || Self->bShuttingDown)
		{
			return;
		}
		Self->PendingRequests.Remove(RequestId);  // releases the handle (allowed inside its callback)
		TArray<FMsStoreEntitlement> Items;
		if (Owned)
		{
			for (const msstore::Entitlement& Item : Owned->items())
			{
				Items.Add(ToEntitlement(Item));
			}
		}
		Self->OnEntitlementsReceived.Broadcast(RequestId, Owned.ok(), Items, Owned ? FMsStoreError() : ToError(Owned.error()));
	});
	if (!Pending->Operation.started())
	{
		// Refused synchronously (e.g. an empty key): report it like any other failure.
		OnEntitlementsReceived.Broadcast(RequestId, false, TArray<FMsStoreEntitlement>(), ToError(Pending->Operation.take().error()));
		return 0;
	}
	PendingRequests.Add(RequestId, Pending);
	return RequestId;
#else
	return 0;
#endif
}

int32 UMsStoreSubsystem::Consume(const FString& CollectionsKey, const FString& ProductId, int32 Quantity, const FString& TrackingId)
{
	const int32 RequestId = AllocateRequestId();
#if WITH_MSSTORE
	if (!Client.IsValid() || Quantity < 0)
	{
		FMsStoreError Refused;
		Refused.ResultCode = Client.IsValid() ? MSSTORE_E_INVALID_ARGUMENT : MSSTORE_E_CONFIGURATION;
		Refused.Kind = Client.IsValid() ? TEXT("invalid_argument") : TEXT("configuration");
		Refused.Message = Client.IsValid() ? TEXT("Quantity must be 0 or more.") : TEXT("The Microsoft Store client is not available (see LogMsStore).");
		OnConsumeCompleted.Broadcast(RequestId, false, FMsStoreConsumeResult(), Refused);
		return 0;
	}
	msstore::ConsumeRequest Request;
	Request.collections_key = MsStoreNative::ToUtf8(CollectionsKey);
	Request.product_id = MsStoreNative::ToUtf8(ProductId);
	Request.quantity = static_cast<uint32>(Quantity);
	Request.tracking_id = MsStoreNative::ToUtf8(TrackingId);
	TWeakObjectPtr<UMsStoreSubsystem> WeakThis(this);
	TSharedPtr<TMsStorePendingOperation<msstore::ConsumeResult>> Pending = MakeShared<TMsStorePendingOperation<msstore::ConsumeResult>>();
	Pending->Operation = Client->consume(Request, [WeakThis, RequestId](msstore::Result<msstore::ConsumeResult> Consumed)
	{
		UMsStoreSubsystem* Self = WeakThis.Get();
		if (Self == nullptr || Self->bShuttingDown)
		{
			return;
		}
		Self->PendingRequests.Remove(RequestId);
		FMsStoreConsumeResult Result;
		msstore::Result<msstore::ConsumeInfo> Info = Consumed ? Consumed->info() : msstore::Result<msstore::ConsumeInfo>(Consumed.error());
		if (Info)
		{
			Result.ProductId = MsStoreNative::ToFString(Info->product_id);
			Result.TrackingId = MsStoreNative::ToFString(Info->tracking_id);
			Result.NewQuantity = Info->new_quantity;
		}
		Self->OnConsumeCompleted.Broadcast(RequestId, Info.ok(), Result, Info ? FMsStoreError() : ToError(Info.error()));
	});
	if (!Pending->Operation.started())
	{
		OnConsumeCompleted.Broadcast(RequestId, false, FMsStoreConsumeResult(), ToError(Pending->Operation.take().error()));
		return 0;
	}
	PendingRequests.Add(RequestId, Pending);
	return RequestId;
#else
	return 0;
#endif
}

void UMsStoreSubsystem::CancelRequest(int32 RequestId)
{
	if (const TSharedPtr<FMsStorePendingRequest>* Pending = PendingRequests.Find(RequestId))
	{
		(*Pending)->Cancel();
	}
}

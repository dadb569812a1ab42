// Copyright msstore contributors. MIT licence.

#include "MsStoreSubsystem.h"

#include "Engine/GameInstance.h"
#include "HAL/PlatformMisc.h"
#include "HAL/PlatformProcess.h"
#include "Misc/Paths.h"
#include "MsStoreModule.h"
#include "MsStoreRequest.h"
#include "MsStoreSettings.h"

#if WITH_MSSTORE
namespace
{
// The credential the settings choose; an empty one for the secret from the environment.
msstore::Result<msstore::Credential> CredentialFromSettings(const UMsStoreSettings& Settings)
{
	switch (Settings.CredentialSource)
	{
	case EMsStoreCredentialSource::SecretFile:
		return msstore::Credential::secret_file(MsStoreNative::ToUtf8(Settings.CredentialFilePath));
	case EMsStoreCredentialSource::FederatedTokenFile:
		return msstore::Credential::federated_token_file(MsStoreNative::ToUtf8(Settings.CredentialFilePath.IsEmpty()
			? FPlatformMisc::GetEnvironmentVariable(TEXT("AZURE_FEDERATED_TOKEN_FILE"))
			: Settings.CredentialFilePath));
	case EMsStoreCredentialSource::ManagedIdentity:
	{
		msstore::ManagedIdentityOptions Identity;
		Identity.client_id = MsStoreNative::ToUtf8(Settings.ManagedIdentityClientId);
		return msstore::Credential::managed_identity(Identity);
	}
	default:
		return msstore::Credential();
	}
}
}  // namespace
#endif

bool UMsStoreSubsystem::ShouldCreateSubsystem(UObject* Outer) const
{
#if WITH_MSSTORE
	if (GetDefault<UMsStoreSettings>()->bCreateOutsideDedicatedServer)
	{
		return true;
	}
	// IsDedicatedServerInstance() is also true for the dedicated server of a single-process PIE
	// session, where IsRunningDedicatedServer() is false: https://dev.epicgames.com/documentation/en-us/unreal-engine/API/Runtime/Core/IsRunningDedicatedServer
	const UGameInstance* GameInstance = Cast<UGameInstance>(Outer);
	return GameInstance != nullptr ? GameInstance->IsDedicatedServerInstance() : IsRunningDedicatedServer();
#else
	(void)Outer;
	return false;
#endif
}

void UMsStoreSubsystem::Initialize(FSubsystemCollectionBase& Collection)
{
	Super::Initialize(Collection);
	bShuttingDown = false;
	Deferred = MakeShared<FMsStoreGameThreadQueue, ESPMode::ThreadSafe>();
	// Ticks even without a client, so refused requests are still reported.
	TickHandle = FTSTicker::GetCoreTicker().AddTicker(FTickerDelegate::CreateUObject(this, &UMsStoreSubsystem::Tick));
#if WITH_MSSTORE
	if (!FMsStoreModule::IsLibraryAvailable())
	{
		return;
	}
	const UMsStoreSettings* Settings = GetDefault<UMsStoreSettings>();
	msstore::ClientOptions Options;
	Options.tenant_id = MsStoreNative::ToUtf8(Settings->TenantId);
	Options.client_id = MsStoreNative::ToUtf8(Settings->ClientId);
	msstore::Result<msstore::Credential> Chosen = CredentialFromSettings(*Settings);
	if (!Chosen)
	{
		UE_LOG(LogMsStore, Error, TEXT("Cannot use the credential of the settings: %s"), *MsStoreNative::ToFString(Chosen.error().message));
		return;
	}
	if (Chosen.value())
	{
		Options.credential = &Chosen.value();  // the client keeps its own reference
	}
	else
	{
		Options.client_secret = MsStoreNative::ToUtf8(FPlatformMisc::GetEnvironmentVariable(*Settings->ClientSecretEnvironmentVariable));
	}
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
	if (Settings->bEnableLedger)
	{
		OpenLedger();
	}
#endif
}

void UMsStoreSubsystem::OpenLedger()
{
#if WITH_MSSTORE
	const UMsStoreSettings* Settings = GetDefault<UMsStoreSettings>();
	msstore::LedgerOptions Options;
	const FString PostgresUrl = Settings->LedgerPostgresUrlEnvironmentVariable.IsEmpty()
		? FString()
		: FPlatformMisc::GetEnvironmentVariable(*Settings->LedgerPostgresUrlEnvironmentVariable);
	if (!PostgresUrl.IsEmpty())
	{
		Options.postgres_url = MsStoreNative::ToUtf8(PostgresUrl);
		Options.instance_id = MsStoreNative::ToUtf8(Settings->LedgerInstanceId.IsEmpty() ? FString(FPlatformProcess::ComputerName()) : Settings->LedgerInstanceId);
	}
	else
	{
		const FString Path = FPaths::IsRelative(Settings->LedgerSqlitePath)
			? FPaths::Combine(FPaths::ProjectSavedDir(), Settings->LedgerSqlitePath)
			: Settings->LedgerSqlitePath;
		Options.sqlite_path = MsStoreNative::ToUtf8(Path);
	}
	msstore::Result<msstore::Ledger> Opened = msstore::Ledger::open(Options);
	if (!Opened)
	{
		// The message never holds the PostgreSQL URL (the library redacts it).
		UE_LOG(LogMsStore, Error, TEXT("Cannot open the consume ledger: %s"), *MsStoreNative::ToFString(Opened.error().message));
		return;
	}
	Ledger = MakeShared<msstore::Ledger, ESPMode::ThreadSafe>(MoveTemp(Opened).value());
#endif
}

void UMsStoreSubsystem::Deinitialize()
{
	FTSTicker::GetCoreTicker().RemoveTicker(TickHandle);
	TickHandle.Reset();
	// Destroying the client completes whatever is in flight (callbacks run here, and see
	// bShuttingDown so no event fires during teardown). Background work still running keeps
	// the ledger and the closed queue alive until it finishes.
	bShuttingDown = true;
	if (Deferred.IsValid())
	{
		Deferred->Close();
	}
	Client.Reset();
	Ledger.Reset();
	PendingRequests.Empty();
	Super::Deinitialize();
}

bool UMsStoreSubsystem::IsReady() const
{
	return Client.IsValid();
}

bool UMsStoreSubsystem::IsLedgerReady() const
{
	return Client.IsValid() && Ledger.IsValid();
}

bool UMsStoreSubsystem::Tick(float /*DeltaSeconds*/)
{
	// What was refused or finished in the background since the last tick, then the library's
	// completions.
	Deferred->RunQueued();
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

void UMsStoreSubsystem::TrackRequest(int32 RequestId, TSharedPtr<FMsStorePendingRequest> Request)
{
	PendingRequests.Add(RequestId, MoveTemp(Request));
}

void UMsStoreSubsystem::ForgetRequest(int32 RequestId)
{
	PendingRequests.Remove(RequestId);
}

void UMsStoreSubsystem::CancelRequest(int32 RequestId)
{
	if (const TSharedPtr<FMsStorePendingRequest>* Pending = PendingRequests.Find(RequestId))
	{
		(*Pending)->Cancel();
	}
}

int32 UMsStoreSubsystem::QueryEntitlements(const FString& CollectionsKey, const TArray<FString>& ProductIds)
{
#if WITH_MSSTORE
	msstore::QueryRequest Query;
	Query.collections_key = MsStoreNative::ToUtf8(CollectionsKey);
	for (const FString& ProductId : ProductIds)
	{
		Query.product_ids.push_back(MsStoreNative::ToUtf8(ProductId));
	}
	TWeakObjectPtr<UMsStoreSubsystem> WeakThis(this);
	return MsStoreStartRequest<msstore::Entitlements>(*this,
		[Query](msstore::Client& Native, msstore::Callback<msstore::Entitlements> Callback) { return Native.query_entitlements(Query, MoveTemp(Callback)); },
		[WeakThis](int32 RequestId, msstore::Result<msstore::Entitlements> Owned)
		{
			UMsStoreSubsystem* Self = WeakThis.Get();
			if (Self == nullptr)
			{
				return;
			}
			msstore::Result<TArray<FMsStoreEntitlement>> Items = Owned ? MsStoreConvert::ToEntitlements(*Owned) : msstore::Result<TArray<FMsStoreEntitlement>>(Owned.error());
			Self->OnEntitlementsReceived.Broadcast(RequestId, Items.ok(), Items.value(), Items ? FMsStoreError() : MsStoreConvert::ToError(Items.error()));
		});
#else
	(void)CollectionsKey;
	(void)ProductIds;
	return 0;  // never called: without the library the subsystem is not created
#endif
}

int32 UMsStoreSubsystem::Consume(const FString& CollectionsKey, const FString& ProductId, int32 Quantity, const FString& TrackingId)
{
#if WITH_MSSTORE
	msstore::ConsumeRequest Request;
	Request.collections_key = MsStoreNative::ToUtf8(CollectionsKey);
	Request.product_id = MsStoreNative::ToUtf8(ProductId);
	Request.quantity = static_cast<uint32>(FMath::Max(0, Quantity));
	Request.tracking_id = MsStoreNative::ToUtf8(TrackingId);
	TWeakObjectPtr<UMsStoreSubsystem> WeakThis(this);
	return MsStoreStartRequest<msstore::ConsumeResult>(*this,
		[Request, Quantity](msstore::Client& Native, msstore::Callback<msstore::ConsumeResult> Callback)
		{
			if (Quantity < 0)
			{
				return msstore::Operation<msstore::ConsumeResult>(MsStoreConvert::NegativeQuantityError());
			}
			return Native.consume(Request, MoveTemp(Callback));
		},
		[WeakThis](int32 RequestId, msstore::Result<msstore::ConsumeResult> Owned)
		{
			UMsStoreSubsystem* Self = WeakThis.Get();
			if (Self == nullptr)
			{
				return;
			}
			msstore::Result<FMsStoreConsumeResult> Info = Owned ? MsStoreConvert::ToConsumeResult(*Owned) : msstore::Result<FMsStoreConsumeResult>(Owned.error());
			Self->OnConsumeCompleted.Broadcast(RequestId, Info.ok(), Info.value(), Info ? FMsStoreError() : MsStoreConvert::ToError(Info.error()));
		});
#else
	(void)CollectionsKey;
	(void)ProductId;
	(void)Quantity;
	(void)TrackingId;
	return 0;  // never called: without the library the subsystem is not created
#endif
}

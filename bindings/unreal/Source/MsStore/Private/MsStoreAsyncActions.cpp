// Copyright msstore contributors. MIT licence.

#include "MsStoreAsyncActions.h"

#include "Containers/Ticker.h"
#include "Engine/Engine.h"
#include "Engine/GameInstance.h"
#include "Engine/World.h"
#include "MsStoreConvert.h"
#include "MsStoreRequest.h"
#include "MsStoreSubsystem.h"

/** The shape every node shares: creation, delivery of the one outcome, release. */
struct FMsStoreActionAccess
{
	/** Creates a node bound to the subsystem of WorldContextObject's game instance (if it has one). */
	template <class TAction>
	static TAction* Create(UObject* WorldContextObject)
	{
		TAction* Action = NewObject<TAction>();
		UWorld* World = GEngine != nullptr ? GEngine->GetWorldFromContextObject(WorldContextObject, EGetWorldErrorMode::LogAndReturnNull) : nullptr;
		UGameInstance* GameInstance = World != nullptr ? World->GetGameInstance() : nullptr;
		if (GameInstance != nullptr)
		{
			Action->Store = GameInstance->GetSubsystem<UMsStoreSubsystem>();
			Action->RegisterWithGameInstance(GameInstance);  // kept alive until SetReadyToDestroy
		}
		return Action;
	}

	static void Fail(UMsStoreAsyncAction& Action, const FMsStoreError& Error)
	{
		Action.OnFailure.Broadcast(Error);
		Action.SetReadyToDestroy();
	}

#if WITH_MSSTORE
	/**
	 * The Done function of MsStoreStartRequest/MsStoreRunInBackground for a node: converts the
	 * value with Convert and fires Event, or fires OnFailure; then releases the node.
	 */
	template <class T, class TAction, class TEvent, class TConverted>
	static auto Deliver(TAction* Action, TEvent TAction::*Event, msstore::Result<TConverted> (*Convert)(const T&))
	{
		TWeakObjectPtr<TAction> WeakAction(Action);
		return [WeakAction, Event, Convert](int32 /*RequestId*/, msstore::Result<T> Result)
		{
			TAction* Self = WeakAction.Get();
			if (Self == nullptr)
			{
				return;
			}
			msstore::Result<TConverted> Converted = Result ? Convert(*Result) : msstore::Result<TConverted>(Result.error());
			if (!Converted)
			{
				Fail(*Self, MsStoreConvert::ToError(Converted.error()));
				return;
			}
			(Self->*Event).Broadcast(*Converted);
			Self->SetReadyToDestroy();
		};
	}

	/** Deliver for operations without a value (delete, acknowledge). */
	template <class TAction>
	static auto DeliverDone(TAction* Action, FMsStoreActionDone TAction::*Event)
	{
		TWeakObjectPtr<TAction> WeakAction(Action);
		return [WeakAction, Event](int32 /*RequestId*/, msstore::Status Result)
		{
			TAction* Self = WeakAction.Get();
			if (Self == nullptr)
			{
				return;
			}
			if (!Result)
			{
				Fail(*Self, MsStoreConvert::ToError(Result.error()));
				return;
			}
			(Self->*Event).Broadcast();
			Self->SetReadyToDestroy();
		};
	}
#endif
};

void UMsStoreAsyncAction::Activate()
{
	if (UMsStoreSubsystem* Subsystem = Store.Get())
	{
		RequestId = Start(*Subsystem);
		return;
	}
	// No subsystem on this game instance (not a dedicated server, or no world): a refusal like
	// any other, on the next tick.
	TWeakObjectPtr<UMsStoreAsyncAction> WeakThis(this);
	FTSTicker::GetCoreTicker().AddTicker(FTickerDelegate::CreateLambda([WeakThis](float /*DeltaSeconds*/)
	{
		if (UMsStoreAsyncAction* Self = WeakThis.Get())
		{
			FMsStoreActionAccess::Fail(*Self, MsStoreConvert::ConfigurationError(TEXT("No MsStoreSubsystem on this game instance (it exists on dedicated servers; see Create Outside Dedicated Server).")));
		}
		return false;  // once
	}));
}

void UMsStoreAsyncAction::Cancel()
{
	if (UMsStoreSubsystem* Subsystem = Store.Get())
	{
		Subsystem->CancelRequest(RequestId);
	}
}

// ---- factories: store the inputs; Activate starts the request ----

UMsStoreGetTokenAction* UMsStoreGetTokenAction::GetStoreToken(UObject* WorldContextObject, EMsStoreAudience InAudience)
{
	UMsStoreGetTokenAction* Action = FMsStoreActionAccess::Create<UMsStoreGetTokenAction>(WorldContextObject);
	Action->Audience = InAudience;
	return Action;
}

UMsStoreDecodeKeyAction* UMsStoreDecodeKeyAction::DecodeStoreKey(UObject* WorldContextObject, const FString& InKey)
{
	UMsStoreDecodeKeyAction* Action = FMsStoreActionAccess::Create<UMsStoreDecodeKeyAction>(WorldContextObject);
	Action->Key = InKey;
	return Action;
}

UMsStoreRenewKeyAction* UMsStoreRenewKeyAction::RenewStoreKey(UObject* WorldContextObject, const FString& InKey)
{
	UMsStoreRenewKeyAction* Action = FMsStoreActionAccess::Create<UMsStoreRenewKeyAction>(WorldContextObject);
	Action->Key = InKey;
	return Action;
}

UMsStoreQueryEntitlementsAction* UMsStoreQueryEntitlementsAction::QueryStoreEntitlements(UObject* WorldContextObject, const FString& InCollectionsKey, const TArray<FString>& InProductIds)
{
	UMsStoreQueryEntitlementsAction* Action = FMsStoreActionAccess::Create<UMsStoreQueryEntitlementsAction>(WorldContextObject);
	Action->CollectionsKey = InCollectionsKey;
	Action->ProductIds = InProductIds;
	return Action;
}

UMsStoreConsumeAction* UMsStoreConsumeAction::ConsumeStoreProduct(UObject* WorldContextObject, const FString& InCollectionsKey, const FString& InProductId, int32 InQuantity, const FString& InTrackingId)
{
	UMsStoreConsumeAction* Action = FMsStoreActionAccess::Create<UMsStoreConsumeAction>(WorldContextObject);
	Action->CollectionsKey = InCollectionsKey;
	Action->ProductId = InProductId;
	Action->Quantity = InQuantity;
	Action->TrackingId = InTrackingId;
	return Action;
}

UMsStoreGrantFreeProductAction* UMsStoreGrantFreeProductAction::GrantFreeStoreProduct(UObject* WorldContextObject, const FString& InPurchaseKey, const FString& InProductId, const FString& InSkuId, const FString& InAvailabilityId)
{
	UMsStoreGrantFreeProductAction* Action = FMsStoreActionAccess::Create<UMsStoreGrantFreeProductAction>(WorldContextObject);
	Action->PurchaseKey = InPurchaseKey;
	Action->ProductId = InProductId;
	Action->SkuId = InSkuId;
	Action->AvailabilityId = InAvailabilityId;
	return Action;
}

UMsStoreQuerySubscriptionsAction* UMsStoreQuerySubscriptionsAction::QueryStoreSubscriptions(UObject* WorldContextObject, const FString& InPurchaseKey)
{
	UMsStoreQuerySubscriptionsAction* Action = FMsStoreActionAccess::Create<UMsStoreQuerySubscriptionsAction>(WorldContextObject);
	Action->PurchaseKey = InPurchaseKey;
	return Action;
}

UMsStoreChangeSubscriptionAction* UMsStoreChangeSubscriptionAction::ChangeStoreSubscription(UObject* WorldContextObject, const FString& InPurchaseKey, const FString& InRecurrenceId, EMsStoreSubscriptionChange InChange, int32 InExtensionDays)
{
	UMsStoreChangeSubscriptionAction* Action = FMsStoreActionAccess::Create<UMsStoreChangeSubscriptionAction>(WorldContextObject);
	Action->PurchaseKey = InPurchaseKey;
	Action->RecurrenceId = InRecurrenceId;
	Action->Change = InChange;
	Action->ExtensionDays = InExtensionDays;
	return Action;
}

UMsStoreQueryClawbackAction* UMsStoreQueryClawbackAction::QueryStoreClawback(UObject* WorldContextObject, const FString& InPurchaseKey, const TArray<EMsStoreLineItemState>& InStates)
{
	UMsStoreQueryClawbackAction* Action = FMsStoreActionAccess::Create<UMsStoreQueryClawbackAction>(WorldContextObject);
	Action->PurchaseKey = InPurchaseKey;
	Action->States = InStates;
	return Action;
}

UMsStoreReceiveClawbackAction* UMsStoreReceiveClawbackAction::ReceiveStoreClawback(UObject* WorldContextObject, int32 InMaxMessages, int32 InVisibilityTimeoutSeconds)
{
	UMsStoreReceiveClawbackAction* Action = FMsStoreActionAccess::Create<UMsStoreReceiveClawbackAction>(WorldContextObject);
	Action->MaxMessages = InMaxMessages;
	Action->VisibilityTimeoutSeconds = InVisibilityTimeoutSeconds;
	return Action;
}

UMsStoreDeleteClawbackAction* UMsStoreDeleteClawbackAction::DeleteStoreClawbackMessage(UObject* WorldContextObject, const FString& InMessageId, const FString& InPopReceipt)
{
	UMsStoreDeleteClawbackAction* Action = FMsStoreActionAccess::Create<UMsStoreDeleteClawbackAction>(WorldContextObject);
	Action->MessageId = InMessageId;
	Action->PopReceipt = InPopReceipt;
	return Action;
}

UMsStoreLedgerConsumeAction* UMsStoreLedgerConsumeAction::LedgerConsume(UObject* WorldContextObject, const FString& InPlayerRef, const FString& InCollectionsKey, const FString& InProductId, int32 InQuantity, const FString& InTrackingId)
{
	UMsStoreLedgerConsumeAction* Action = FMsStoreActionAccess::Create<UMsStoreLedgerConsumeAction>(WorldContextObject);
	Action->PlayerRef = InPlayerRef;
	Action->CollectionsKey = InCollectionsKey;
	Action->ProductId = InProductId;
	Action->Quantity = InQuantity;
	Action->TrackingId = InTrackingId;
	return Action;
}

UMsStoreLedgerReconcileAction* UMsStoreLedgerReconcileAction::LedgerReconcile(UObject* WorldContextObject)
{
	return FMsStoreActionAccess::Create<UMsStoreLedgerReconcileAction>(WorldContextObject);
}

UMsStoreLedgerAcknowledgeAction* UMsStoreLedgerAcknowledgeAction::LedgerAcknowledge(UObject* WorldContextObject, const FString& InId, bool bInRevocation)
{
	UMsStoreLedgerAcknowledgeAction* Action = FMsStoreActionAccess::Create<UMsStoreLedgerAcknowledgeAction>(WorldContextObject);
	Action->Id = InId;
	Action->bRevocation = bInRevocation;
	return Action;
}

UMsStoreLedgerIngestClawbackAction* UMsStoreLedgerIngestClawbackAction::LedgerIngestClawback(UObject* WorldContextObject, const FString& InExpectedSandbox)
{
	UMsStoreLedgerIngestClawbackAction* Action = FMsStoreActionAccess::Create<UMsStoreLedgerIngestClawbackAction>(WorldContextObject);
	Action->ExpectedSandbox = InExpectedSandbox;
	return Action;
}

// ---- Start: one library call each ----

#if WITH_MSSTORE
using MsStoreNative::ToUtf8;
using Access = FMsStoreActionAccess;

int32 UMsStoreGetTokenAction::Start(UMsStoreSubsystem& InStore)
{
	const msstore::Audience Native = MsStoreConvert::ToNative(Audience);
	return MsStoreStartRequest<msstore::Token>(InStore,
		[Native](msstore::Client& Client, msstore::Callback<msstore::Token> Done) { return Client.get_token(Native, MoveTemp(Done)); },
		Access::Deliver(this, &UMsStoreGetTokenAction::OnSuccess, &MsStoreConvert::ToToken));
}

int32 UMsStoreDecodeKeyAction::Start(UMsStoreSubsystem& InStore)
{
	return MsStoreRunInBackground<msstore::Key>(InStore,
		[NativeKey = ToUtf8(Key)]() { return msstore::Key::decode(NativeKey); },
		Access::Deliver(this, &UMsStoreDecodeKeyAction::OnSuccess, &MsStoreConvert::ToKey));
}

int32 UMsStoreRenewKeyAction::Start(UMsStoreSubsystem& InStore)
{
	return MsStoreStartRequest<msstore::Key>(InStore,
		[NativeKey = ToUtf8(Key)](msstore::Client& Client, msstore::Callback<msstore::Key> Done) { return Client.renew_key(NativeKey, MoveTemp(Done)); },
		Access::Deliver(this, &UMsStoreRenewKeyAction::OnSuccess, &MsStoreConvert::ToKey));
}

int32 UMsStoreQueryEntitlementsAction::Start(UMsStoreSubsystem& InStore)
{
	std::vector<std::string> Ids;
	for (const FString& ProductIdText : ProductIds)
	{
		Ids.push_back(ToUtf8(ProductIdText));
	}
	const msstore::QueryRequest Query = msstore::QueryRequest::v9(ToUtf8(CollectionsKey), MoveTemp(Ids));
	return MsStoreStartRequest<msstore::Entitlements>(InStore,
		[Query](msstore::Client& Client, msstore::Callback<msstore::Entitlements> Done) { return Client.query_entitlements(Query, MoveTemp(Done)); },
		Access::Deliver(this, &UMsStoreQueryEntitlementsAction::OnSuccess, &MsStoreConvert::ToEntitlements));
}

int32 UMsStoreConsumeAction::Start(UMsStoreSubsystem& InStore)
{
	msstore::ConsumeRequest Request;
	Request.collections_key = ToUtf8(CollectionsKey);
	Request.product_id = ToUtf8(ProductId);
	Request.quantity = static_cast<uint32>(FMath::Max(0, Quantity));
	Request.tracking_id = ToUtf8(TrackingId);
	const bool bNegative = Quantity < 0;
	return MsStoreStartRequest<msstore::ConsumeResult>(InStore,
		[Request, bNegative](msstore::Client& Client, msstore::Callback<msstore::ConsumeResult> Done)
		{
			if (bNegative)
			{
				return msstore::Operation<msstore::ConsumeResult>(MsStoreConvert::NegativeQuantityError());
			}
			return Client.consume(Request, MoveTemp(Done));
		},
		Access::Deliver(this, &UMsStoreConsumeAction::OnSuccess, &MsStoreConvert::ToConsumeResult));
}

int32 UMsStoreGrantFreeProductAction::Start(UMsStoreSubsystem& InStore)
{
	msstore::GrantRequest Request;
	Request.purchase_key = ToUtf8(PurchaseKey);
	Request.product_id = ToUtf8(ProductId);
	Request.sku_id = ToUtf8(SkuId);
	Request.availability_id = ToUtf8(AvailabilityId);
	return MsStoreStartRequest<msstore::Order>(InStore,
		[Request](msstore::Client& Client, msstore::Callback<msstore::Order> Done) { return Client.grant_free_product(Request, MoveTemp(Done)); },
		Access::Deliver(this, &UMsStoreGrantFreeProductAction::OnSuccess, &MsStoreConvert::ToOrder));
}

int32 UMsStoreQuerySubscriptionsAction::Start(UMsStoreSubsystem& InStore)
{
	msstore::SubscriptionQuery Query;
	Query.purchase_key = ToUtf8(PurchaseKey);
	return MsStoreStartRequest<msstore::Subscriptions>(InStore,
		[Query](msstore::Client& Client, msstore::Callback<msstore::Subscriptions> Done) { return Client.query_subscriptions(Query, MoveTemp(Done)); },
		Access::Deliver(this, &UMsStoreQuerySubscriptionsAction::OnSuccess, &MsStoreConvert::ToSubscriptions));
}

int32 UMsStoreChangeSubscriptionAction::Start(UMsStoreSubsystem& InStore)
{
	msstore::SubscriptionChange Request;
	Request.purchase_key = ToUtf8(PurchaseKey);
	Request.recurrence_id = ToUtf8(RecurrenceId);
	Request.change = MsStoreConvert::ToNative(Change);
	Request.extension_days = ExtensionDays;
	return MsStoreStartRequest<msstore::Subscriptions>(InStore,
		[Request](msstore::Client& Client, msstore::Callback<msstore::Subscriptions> Done) { return Client.change_subscription(Request, MoveTemp(Done)); },
		Access::Deliver(this, &UMsStoreChangeSubscriptionAction::OnSuccess, &MsStoreConvert::ToChangedSubscription));
}

int32 UMsStoreQueryClawbackAction::Start(UMsStoreSubsystem& InStore)
{
	msstore::ClawbackOrdersQuery Query;
	Query.purchase_key = ToUtf8(PurchaseKey);
	for (const EMsStoreLineItemState State : States)
	{
		Query.states.push_back(MsStoreConvert::ToNative(State));  // Unknown is refused by the call
	}
	return MsStoreStartRequest<msstore::ClawbackOrders>(InStore,
		[Query](msstore::Client& Client, msstore::Callback<msstore::ClawbackOrders> Done) { return Client.query_clawback_orders(Query, MoveTemp(Done)); },
		Access::Deliver(this, &UMsStoreQueryClawbackAction::OnSuccess, &MsStoreConvert::ToClawbackOrderLines));
}

int32 UMsStoreReceiveClawbackAction::Start(UMsStoreSubsystem& InStore)
{
	msstore::ClawbackReceive Request;
	Request.max_messages = static_cast<uint32>(FMath::Max(0, MaxMessages));
	Request.visibility_timeout = std::chrono::seconds(VisibilityTimeoutSeconds);  // negative: refused by the call
	const bool bNegative = MaxMessages < 0;
	return MsStoreStartRequest<msstore::ClawbackMessages>(InStore,
		[Request, bNegative](msstore::Client& Client, msstore::Callback<msstore::ClawbackMessages> Done)
		{
			if (bNegative)
			{
				return msstore::Operation<msstore::ClawbackMessages>(msstore::Error::from_code(msstore::Code::InvalidArgument, "MaxMessages must be 0 or more."));
			}
			return Client.receive_clawback(Request, MoveTemp(Done));
		},
		Access::Deliver(this, &UMsStoreReceiveClawbackAction::OnSuccess, &MsStoreConvert::ToClawbackMessages));
}

int32 UMsStoreDeleteClawbackAction::Start(UMsStoreSubsystem& InStore)
{
	return MsStoreStartRequest<void>(InStore,
		[Id = ToUtf8(MessageId), Receipt = ToUtf8(PopReceipt)](msstore::Client& Client, msstore::Callback<void> Done) { return Client.delete_clawback(Id, Receipt, MoveTemp(Done)); },
		Access::DeliverDone(this, &UMsStoreDeleteClawbackAction::OnSuccess));
}

int32 UMsStoreLedgerConsumeAction::Start(UMsStoreSubsystem& InStore)
{
	msstore::LedgerConsumeRequest Request;
	Request.player_ref = ToUtf8(PlayerRef);
	Request.collections_key = ToUtf8(CollectionsKey);
	Request.product_id = ToUtf8(ProductId);
	Request.quantity = static_cast<uint32>(FMath::Max(0, Quantity));
	Request.tracking_id = ToUtf8(TrackingId);
	const bool bNegative = Quantity < 0;
	return MsStoreStartRequest<msstore::LedgerItems>(InStore,
		[Ledger = InStore.GetNativeLedger(), Request, bNegative](msstore::Client& Client, msstore::Callback<msstore::LedgerItems> Done)
		{
			if (!Ledger.IsValid())
			{
				return msstore::Operation<msstore::LedgerItems>(MsStoreConvert::LedgerNotOpenError());
			}
			if (bNegative)
			{
				return msstore::Operation<msstore::LedgerItems>(MsStoreConvert::NegativeQuantityError());
			}
			return Ledger->consume(Client, Request, MoveTemp(Done));
		},
		Access::Deliver(this, &UMsStoreLedgerConsumeAction::OnSuccess, &MsStoreConvert::ToLedgerItems));
}

int32 UMsStoreLedgerReconcileAction::Start(UMsStoreSubsystem& InStore)
{
	return MsStoreStartRequest<msstore::LedgerItems>(InStore,
		[Ledger = InStore.GetNativeLedger()](msstore::Client& Client, msstore::Callback<msstore::LedgerItems> Done)
		{
			if (!Ledger.IsValid())
			{
				return msstore::Operation<msstore::LedgerItems>(MsStoreConvert::LedgerNotOpenError());
			}
			return Ledger->reconcile(Client, MoveTemp(Done));
		},
		Access::Deliver(this, &UMsStoreLedgerReconcileAction::OnSuccess, &MsStoreConvert::ToLedgerItems));
}

int32 UMsStoreLedgerAcknowledgeAction::Start(UMsStoreSubsystem& InStore)
{
	return MsStoreRunInBackground<void>(InStore,
		[Ledger = InStore.GetNativeLedger(), NativeId = ToUtf8(Id), bIsRevocation = bRevocation]() -> msstore::Status
		{
			if (!Ledger.IsValid())
			{
				return MsStoreConvert::LedgerNotOpenError();
			}
			return bIsRevocation ? Ledger->acknowledge_revocation(NativeId) : Ledger->acknowledge(NativeId);
		},
		Access::DeliverDone(this, &UMsStoreLedgerAcknowledgeAction::OnSuccess));
}

int32 UMsStoreLedgerIngestClawbackAction::Start(UMsStoreSubsystem& InStore)
{
	msstore::ClawbackIngestOptions Options;
	Options.expected_sandbox = ToUtf8(ExpectedSandbox);
	return MsStoreStartRequest<msstore::LedgerItems>(InStore,
		[Ledger = InStore.GetNativeLedger(), Options](msstore::Client& Client, msstore::Callback<msstore::LedgerItems> Done)
		{
			if (!Ledger.IsValid())
			{
				return msstore::Operation<msstore::LedgerItems>(MsStoreConvert::LedgerNotOpenError());
			}
			return Ledger->ingest_clawback(Client, Options, MoveTemp(Done));
		},
		Access::Deliver(this, &UMsStoreLedgerIngestClawbackAction::OnSuccess, &MsStoreConvert::ToLedgerItems));
}
#else
// Without the library no subsystem exists, so Activate never calls Start.
#define MSSTORE_START_UNAVAILABLE(Class) int32 Class::Start(UMsStoreSubsystem&) { return 0; }
MSSTORE_START_UNAVAILABLE(UMsStoreGetTokenAction)
MSSTORE_START_UNAVAILABLE(UMsStoreDecodeKeyAction)
MSSTORE_START_UNAVAILABLE(UMsStoreRenewKeyAction)
MSSTORE_START_UNAVAILABLE(UMsStoreQueryEntitlementsAction)
MSSTORE_START_UNAVAILABLE(UMsStoreConsumeAction)
MSSTORE_START_UNAVAILABLE(UMsStoreGrantFreeProductAction)
MSSTORE_START_UNAVAILABLE(UMsStoreQuerySubscriptionsAction)
MSSTORE_START_UNAVAILABLE(UMsStoreChangeSubscriptionAction)
MSSTORE_START_UNAVAILABLE(UMsStoreQueryClawbackAction)
MSSTORE_START_UNAVAILABLE(UMsStoreReceiveClawbackAction)
MSSTORE_START_UNAVAILABLE(UMsStoreDeleteClawbackAction)
MSSTORE_START_UNAVAILABLE(UMsStoreLedgerConsumeAction)
MSSTORE_START_UNAVAILABLE(UMsStoreLedgerReconcileAction)
MSSTORE_START_UNAVAILABLE(UMsStoreLedgerAcknowledgeAction)
MSSTORE_START_UNAVAILABLE(UMsStoreLedgerIngestClawbackAction)
#undef MSSTORE_START_UNAVAILABLE
#endif

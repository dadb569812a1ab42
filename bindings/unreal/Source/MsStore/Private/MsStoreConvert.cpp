// Copyright msstore contributors. MIT licence.

#include "MsStoreConvert.h"

namespace
{
	constexpr int32 ConfigurationResultCode = 7110;  // MSSTORE_E_CONFIGURATION (checked below)
}

FMsStoreError MsStoreConvert::ConfigurationError(const TCHAR* Message)
{
	FMsStoreError Out;
	Out.ResultCode = ConfigurationResultCode;
	Out.Kind = TEXT("configuration");
	Out.Message = Message;
	return Out;
}

#if WITH_MSSTORE
// Enums converted by a cast mirror msstore.hpp's, value for value.
#define MSSTORE_SAME_VALUE(Ue, Native) static_assert(static_cast<int32>(Ue) == static_cast<int32>(Native), #Ue " drifted from " #Native)
MSSTORE_SAME_VALUE(EMsStoreProductKind::Pass, msstore::ProductKind::Pass);
MSSTORE_SAME_VALUE(EMsStoreProductKind::UnmanagedConsumable, msstore::ProductKind::UnmanagedConsumable);
MSSTORE_SAME_VALUE(EMsStoreEntitlementStatus::Suspended, msstore::EntitlementStatus::Suspended);
MSSTORE_SAME_VALUE(EMsStoreEntitlementStatus::Active, msstore::EntitlementStatus::Active);
MSSTORE_SAME_VALUE(EMsStoreRecurrenceState::Revoked, msstore::RecurrenceState::Revoked);
MSSTORE_SAME_VALUE(EMsStoreRecurrenceState::None, msstore::RecurrenceState::None);
MSSTORE_SAME_VALUE(EMsStoreLineItemState::Refunded, msstore::LineItemState::Refunded);
MSSTORE_SAME_VALUE(EMsStoreLineItemState::Purchased, msstore::LineItemState::Purchased);
MSSTORE_SAME_VALUE(EMsStoreClawbackEventState::ChargebackReversal, msstore::ClawbackEventState::ChargebackReversal);
MSSTORE_SAME_VALUE(EMsStoreClawbackEventState::Returned, msstore::ClawbackEventState::Returned);
MSSTORE_SAME_VALUE(EMsStoreClawbackEventState::Other, msstore::ClawbackEventState::Other);
MSSTORE_SAME_VALUE(EMsStoreLedgerState::Failed, msstore::LedgerState::Failed);
MSSTORE_SAME_VALUE(EMsStoreLedgerState::Pending, msstore::LedgerState::Pending);
MSSTORE_SAME_VALUE(EMsStoreRevocationKind::Restore, msstore::RevocationKind::Restore);
MSSTORE_SAME_VALUE(EMsStoreRevocationKind::Revoke, msstore::RevocationKind::Revoke);
MSSTORE_SAME_VALUE(EMsStoreKeyKind::Purchase, msstore::KeyKind::Purchase);
MSSTORE_SAME_VALUE(EMsStoreKeyKind::Collections, msstore::KeyKind::Collections);
#undef MSSTORE_SAME_VALUE
static_assert(ConfigurationResultCode == MSSTORE_E_CONFIGURATION, "MSSTORE_E_CONFIGURATION changed");

namespace
{
	using MsStoreNative::ToFString;

	FDateTime ToDate(const msstore::Timestamp& Time)
	{
		return MsStoreNative::ToDateTime(Time);
	}

	// Reads every item of a native list, failing on the first one that cannot be read.
	template <class TOut, class TList, class ConvertFn>
	msstore::Result<TArray<TOut>> ToArray(const TList& List, ConvertFn&& Convert)
	{
		TArray<TOut> Out;
		const std::size_t Count = List.size();
		for (std::size_t Index = 0; Index < Count; ++Index)
		{
			auto Item = List.at(Index);
			if (!Item)
			{
				return Item.error();
			}
			Out.Add(Convert(*Item));
		}
		return Out;
	}

	FMsStoreEntitlement ToEntitlement(const msstore::Entitlement& Item)
	{
		FMsStoreEntitlement Out;
		Out.ProductId = ToFString(Item.product_id);
		Out.SkuId = ToFString(Item.sku_id);
		Out.ProductKind = static_cast<EMsStoreProductKind>(Item.product_kind);
		Out.Status = static_cast<EMsStoreEntitlementStatus>(Item.status);
		Out.bIsActive = Item.is_active;
		Out.Quantity = Item.quantity;
		Out.bHasEndDate = Item.end_time.has_value();
		if (Item.end_time)
		{
			Out.EndDate = ToDate(*Item.end_time);
		}
		Out.RecurrenceId = ToFString(Item.recurrence_id);
		Out.bIsTrial = Item.is_trial;
		return Out;
	}

	FMsStoreSubscription ToSubscription(const msstore::Subscription& Item)
	{
		FMsStoreSubscription Out;
		Out.Id = ToFString(Item.id);
		Out.ProductId = ToFString(Item.product_id);
		Out.SkuId = ToFString(Item.sku_id);
		Out.State = static_cast<EMsStoreRecurrenceState>(Item.state);
		Out.bAutoRenew = Item.auto_renew;
		Out.bIsTrial = Item.is_trial;
		Out.bHasExpiration = Item.expires_at.has_value();
		if (Item.expires_at)
		{
			Out.ExpiresAt = ToDate(*Item.expires_at);
		}
		Out.Market = ToFString(Item.market);
		return Out;
	}

	FMsStoreClawbackOrderLine ToClawbackOrderLine(const msstore::ClawbackOrderLine& Line)
	{
		FMsStoreClawbackOrderLine Out;
		Out.OrderId = ToFString(Line.order_id);
		Out.LineItemId = ToFString(Line.line_item_id);
		Out.State = static_cast<EMsStoreLineItemState>(Line.line_item_state);
		Out.ProductId = ToFString(Line.product_id);
		Out.SkuId = ToFString(Line.sku_id);
		Out.Quantity = Line.quantity;
		Out.bWasConsumableQuantityRevoked = Line.was_consumable_quantity_revoked;
		return Out;
	}

	FMsStoreClawbackMessage ToClawbackMessage(const msstore::ClawbackMessage& Message)
	{
		FMsStoreClawbackMessage Out;
		Out.MessageId = ToFString(Message.message_id);
		Out.PopReceipt = ToFString(Message.pop_receipt);
		Out.DequeueCount = static_cast<int32>(FMath::Min<uint32>(Message.dequeue_count, static_cast<uint32>(MAX_int32)));
		Out.EventError = ToFString(Message.event_error);
		Out.bHasEvent = Message.event.has_value();
		if (Message.event)
		{
			const msstore::ClawbackEvent& Event = *Message.event;
			Out.EventId = ToFString(Event.id);
			Out.State = static_cast<EMsStoreClawbackEventState>(Event.state);
			Out.bRequiresRevocation = Event.requires_revocation;
			Out.OrderId = ToFString(Event.order_id);
			Out.LineItemId = ToFString(Event.line_item_id);
			Out.ProductId = ToFString(Event.product_id);
			Out.SandboxId = ToFString(Event.sandbox_id);
		}
		return Out;
	}

	FMsStoreLedgerEntry ToLedgerEntry(const msstore::LedgerEntry& Entry)
	{
		FMsStoreLedgerEntry Out;
		Out.Id = ToFString(Entry.id);
		Out.PlayerRef = ToFString(Entry.player_ref);
		Out.ProductId = ToFString(Entry.product_id);
		Out.Quantity = Entry.quantity;
		Out.State = static_cast<EMsStoreLedgerState>(Entry.state);
		Out.Attempts = Entry.attempts;
		Out.NewQuantity = Entry.new_quantity.value_or(-1);
		Out.LastError = ToFString(Entry.last_error);
		return Out;
	}

	FMsStoreRevocation ToRevocation(const msstore::Revocation& Revocation)
	{
		FMsStoreRevocation Out;
		Out.Id = ToFString(Revocation.id);
		Out.Kind = static_cast<EMsStoreRevocationKind>(Revocation.kind);
		Out.PlayerRef = ToFString(Revocation.player_ref);
		Out.ProductId = ToFString(Revocation.product_id);
		Out.Quantity = Revocation.quantity;
		Out.EntryId = ToFString(Revocation.entry_id);
		Out.EventId = ToFString(Revocation.event_id);
		Out.Reverses = ToFString(Revocation.reverses);
		return Out;
	}

	// LedgerItems lists entries and revocations by index, not through at().
	struct FLedgerEntries
	{
		const msstore::LedgerItems& Items;
		std::size_t size() const { return Items.entry_count(); }
		msstore::Result<msstore::LedgerEntry> at(std::size_t Index) const { return Items.entry(Index); }
	};
	struct FLedgerRevocations
	{
		const msstore::LedgerItems& Items;
		std::size_t size() const { return Items.revocation_count(); }
		msstore::Result<msstore::Revocation> at(std::size_t Index) const { return Items.revocation(Index); }
	};
}

namespace MsStoreConvert
{
	FMsStoreError ToError(const msstore::Error& Error)
	{
		FMsStoreError Out;
		Out.ResultCode = static_cast<int32>(Error.code);
		Out.Kind = ToFString(Error.kind);
		Out.Message = ToFString(Error.message);
		Out.HttpStatus = Error.http_status;
		Out.ServiceCode = ToFString(Error.service_code);
		Out.InnerCode = ToFString(Error.inner_code);
		Out.MsCv = ToFString(Error.ms_cv);
		Out.RetryAfterSeconds = Error.retry_after ? static_cast<float>(Error.retry_after->count()) / 1000.0f : -1.0f;
		Out.TrackingId = ToFString(Error.tracking_id);
		Out.bIsTransient = msstore::is_transient(Error.code);
		return Out;
	}

	msstore::Error NotReadyError()
	{
		return msstore::Error::from_code(msstore::Code::Configuration, "The Microsoft Store client is not available (see LogMsStore).");
	}

	msstore::Error LedgerNotOpenError()
	{
		return msstore::Error::from_code(msstore::Code::Configuration, "The consume ledger is not open (enable it in the Ledger settings; see LogMsStore).");
	}

	msstore::Error NegativeQuantityError()
	{
		return msstore::Error::from_code(msstore::Code::InvalidArgument, "Quantity must be 0 or more.");
	}

	msstore::Audience ToNative(EMsStoreAudience Audience)
	{
		switch (Audience)
		{
		case EMsStoreAudience::CollectionsKeyCreate: return msstore::Audience::CollectionsKeyCreate;
		case EMsStoreAudience::PurchaseKeyCreate: return msstore::Audience::PurchaseKeyCreate;
		case EMsStoreAudience::Service: break;
		}
		return msstore::Audience::Service;
	}

	msstore::ChangeType ToNative(EMsStoreSubscriptionChange Change)
	{
		switch (Change)
		{
		case EMsStoreSubscriptionChange::Extend: return msstore::ChangeType::Extend;
		case EMsStoreSubscriptionChange::Refund: return msstore::ChangeType::Refund;
		case EMsStoreSubscriptionChange::ToggleAutoRenew: return msstore::ChangeType::ToggleAutoRenew;
		case EMsStoreSubscriptionChange::Cancel: break;
		}
		return msstore::ChangeType::Cancel;
	}

	msstore::LineItemState ToNative(EMsStoreLineItemState State)
	{
		return static_cast<msstore::LineItemState>(State);
	}

	msstore::Result<TArray<FMsStoreEntitlement>> ToEntitlements(const msstore::Entitlements& Items)
	{
		return ToArray<FMsStoreEntitlement>(Items, ToEntitlement);
	}

	msstore::Result<FMsStoreConsumeResult> ToConsumeResult(const msstore::ConsumeResult& Consumed)
	{
		msstore::Result<msstore::ConsumeInfo> Info = Consumed.info();
		if (!Info)
		{
			return Info.error();
		}
		FMsStoreConsumeResult Out;
		Out.ProductId = ToFString(Info->product_id);
		Out.TrackingId = ToFString(Info->tracking_id);
		Out.NewQuantity = Info->new_quantity;
		return Out;
	}

	msstore::Result<FMsStoreToken> ToToken(const msstore::Token& Token)
	{
		FMsStoreToken Out;
		Out.Value = ToFString(Token.value());
		switch (Token.audience())
		{
		case msstore::Audience::CollectionsKeyCreate: Out.Audience = EMsStoreAudience::CollectionsKeyCreate; break;
		case msstore::Audience::PurchaseKeyCreate: Out.Audience = EMsStoreAudience::PurchaseKeyCreate; break;
		case msstore::Audience::Service: Out.Audience = EMsStoreAudience::Service; break;
		}
		Out.ExpiresAt = ToDate(Token.expires_at());
		return Out;
	}

	msstore::Result<FMsStoreKey> ToKey(const msstore::Key& Key)
	{
		msstore::Result<msstore::KeyInfo> Info = Key.info();
		if (!Info)
		{
			return Info.error();
		}
		FMsStoreKey Out;
		Out.Value = ToFString(Key.value());
		Out.Kind = static_cast<EMsStoreKeyKind>(Info->kind);
		Out.ClientId = ToFString(Info->client_id);
		Out.UserId = ToFString(Info->user_id);
		Out.IssuedAt = ToDate(Info->issued_at);
		Out.ExpiresAt = ToDate(Info->expires_at);
		Out.RenewAfter = ToDate(Info->renew_after);
		Out.bIsExpired = Info->is_expired;
		Out.bNeedsRenewal = Info->needs_renewal;
		return Out;
	}

	msstore::Result<FMsStoreOrder> ToOrder(const msstore::Order& Order)
	{
		msstore::Result<msstore::OrderInfo> Info = Order.info();
		if (!Info)
		{
			return Info.error();
		}
		FMsStoreOrder Out;
		Out.OrderId = ToFString(Info->order_id);
		Out.OrderState = ToFString(Info->order_state);
		Out.CreatedTime = ToFString(Info->created_time);
		for (const msstore::OrderLineItem& Line : Info->line_items)
		{
			FMsStoreOrderLineItem Item;
			Item.LineItemId = ToFString(Line.line_item_id);
			Item.ProductId = ToFString(Line.product_id);
			Item.SkuId = ToFString(Line.sku_id);
			Item.Quantity = Line.quantity;
			Item.BillingState = ToFString(Line.billing_state);
			Item.FulfillmentState = ToFString(Line.fulfillment_state);
			Out.LineItems.Add(Item);
		}
		return Out;
	}

	msstore::Result<TArray<FMsStoreSubscription>> ToSubscriptions(const msstore::Subscriptions& Items)
	{
		return ToArray<FMsStoreSubscription>(Items, ToSubscription);
	}

	msstore::Result<FMsStoreSubscription> ToChangedSubscription(const msstore::Subscriptions& Items)
	{
		if (Items.empty())
		{
			return msstore::Error::from_code(msstore::Code::MalformedResponse, "the subscription change response holds no subscription");
		}
		msstore::Result<msstore::Subscription> First = Items.at(0);
		if (!First)
		{
			return First.error();
		}
		return ToSubscription(*First);
	}

	msstore::Result<TArray<FMsStoreClawbackOrderLine>> ToClawbackOrderLines(const msstore::ClawbackOrders& Items)
	{
		return ToArray<FMsStoreClawbackOrderLine>(Items, ToClawbackOrderLine);
	}

	msstore::Result<TArray<FMsStoreClawbackMessage>> ToClawbackMessages(const msstore::ClawbackMessages& Items)
	{
		return ToArray<FMsStoreClawbackMessage>(Items, ToClawbackMessage);
	}

	msstore::Result<FMsStoreLedgerItems> ToLedgerItems(const msstore::LedgerItems& Items)
	{
		msstore::Result<TArray<FMsStoreLedgerEntry>> Entries = ToArray<FMsStoreLedgerEntry>(FLedgerEntries{Items}, ToLedgerEntry);
		if (!Entries)
		{
			return Entries.error();
		}
		msstore::Result<TArray<FMsStoreRevocation>> Revocations = ToArray<FMsStoreRevocation>(FLedgerRevocations{Items}, ToRevocation);
		if (!Revocations)
		{
			return Revocations.error();
		}
		FMsStoreLedgerItems Out;
		Out.Entries = MoveTemp(*Entries);
		Out.Revocations = MoveTemp(*Revocations);
		// Only an ingestion's result has a summary (InvalidArgument for the others).
		msstore::Result<msstore::ClawbackIngestSummary> Summary = Items.ingest_summary();
		Out.bHasSummary = Summary.ok();
		if (Summary)
		{
			Out.Summary.Received = Summary->received;
			Out.Summary.Applied = Summary->applied;
			Out.Summary.Duplicates = Summary->duplicates;
			Out.Summary.Unmatched = Summary->unmatched;
			Out.Summary.Ignored = Summary->ignored;
			Out.Summary.DeadLettered = Summary->dead_lettered;
			Out.Summary.Deleted = Summary->deleted;
			Out.Summary.DeleteConflicts = Summary->delete_conflicts;
			Out.Summary.DeleteErrors = Summary->delete_errors;
		}
		return Out;
	}
}
#endif

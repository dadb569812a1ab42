// Copyright msstore contributors. MIT licence.
// msstore.hpp results -> the Blueprint structs of MsStoreTypes.h (no native handle escapes).

#pragma once

#include "CoreMinimal.h"
#include "MsStoreNative.h"
#include "MsStoreTypes.h"

namespace MsStoreConvert
{
	/** A configuration failure made by the plugin (also built without the library). */
	FMsStoreError ConfigurationError(const TCHAR* Message);
}

#if WITH_MSSTORE
namespace MsStoreConvert
{
	FMsStoreError ToError(const msstore::Error& Error);
	/** The failure of a request made while the client is not available. */
	msstore::Error NotReadyError();
	/** The failure of a ledger request while the ledger is not open. */
	msstore::Error LedgerNotOpenError();
	/** A consume's Quantity below 0 (0 means developer-managed, so it is never clamped). */
	msstore::Error NegativeQuantityError();

	msstore::Audience ToNative(EMsStoreAudience Audience);
	msstore::ChangeType ToNative(EMsStoreSubscriptionChange Change);
	msstore::LineItemState ToNative(EMsStoreLineItemState State);

	// Each conversion returns the struct, or the error of a result that cannot be read.
	msstore::Result<TArray<FMsStoreEntitlement>> ToEntitlements(const msstore::Entitlements& Items);
	msstore::Result<FMsStoreConsumeResult> ToConsumeResult(const msstore::ConsumeResult& Consumed);
	msstore::Result<FMsStoreToken> ToToken(const msstore::Token& Token);
	msstore::Result<FMsStoreKey> ToKey(const msstore::Key& Key);
	msstore::Result<FMsStoreOrder> ToOrder(const msstore::Order& Order);
	msstore::Result<TArray<FMsStoreSubscription>> ToSubscriptions(const msstore::Subscriptions& Items);
	/** The one subscription a change returns (Service error when the response held none). */
	msstore::Result<FMsStoreSubscription> ToChangedSubscription(const msstore::Subscriptions& Items);
	msstore::Result<TArray<FMsStoreClawbackOrderLine>> ToClawbackOrderLines(const msstore::ClawbackOrders& Items);
	msstore::Result<TArray<FMsStoreClawbackMessage>> ToClawbackMessages(const msstore::ClawbackMessages& Items);
	msstore::Result<FMsStoreLedgerItems> ToLedgerItems(const msstore::LedgerItems& Items);
}
#endif

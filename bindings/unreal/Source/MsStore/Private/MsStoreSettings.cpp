// Copyright msstore contributors. MIT licence.

#include "MsStoreSettings.h"

UMsStoreSettings::UMsStoreSettings()
{
	CategoryName = TEXT("Plugins");
	ClientSecretEnvironmentVariable = TEXT("MSSTORE_CLIENT_SECRET");
	LedgerSqlitePath = TEXT("MsStore/ledger.sqlite");
	LedgerPostgresUrlEnvironmentVariable = TEXT("MSSTORE_LEDGER_POSTGRES_URL");
}

// Copyright msstore contributors. MIT licence.

#include "MsStoreSettings.h"

UMsStoreSettings::UMsStoreSettings()
{
	CategoryName = TEXT("Plugins");
	ClientSecretEnvironmentVariable = TEXT("MSSTORE_CLIENT_SECRET");
}

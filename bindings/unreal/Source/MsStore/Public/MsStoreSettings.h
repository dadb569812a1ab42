// Copyright msstore contributors. MIT licence.

#pragma once

#include "CoreMinimal.h"
#include "Engine/DeveloperSettings.h"
#include "MsStoreSettings.generated.h"

/**
 * Project Settings > Plugins > Microsoft Store Services. The client secret is never stored here:
 * it is read at startup from the environment variable named by ClientSecretEnvironmentVariable
 * (set it on the dedicated server only).
 */
UCLASS(Config = Game, DefaultConfig, meta = (DisplayName = "Microsoft Store Services"))
class MSSTORE_API UMsStoreSettings : public UDeveloperSettings
{
	GENERATED_BODY()

public:
	UMsStoreSettings();

	/** Entra tenant (directory) id. */
	UPROPERTY(Config, EditAnywhere, Category = "Credentials")
	FString TenantId;

	/** Entra application (client) id. */
	UPROPERTY(Config, EditAnywhere, Category = "Credentials")
	FString ClientId;

	UPROPERTY(Config, EditAnywhere, Category = "Credentials")
	FString ClientSecretEnvironmentVariable;

	/** Local msstore-emulator (http://127.0.0.1:PORT) for development; empty in production. */
	UPROPERTY(Config, EditAnywhere, Category = "Development")
	FString EmulatorBaseUrl;

	/** Create the subsystem in game and editor processes too, not only on dedicated servers. */
	UPROPERTY(Config, EditAnywhere, Category = "Development")
	bool bCreateOutsideDedicatedServer = false;

	/** Deadline of each request, in seconds (0 = none). */
	UPROPERTY(Config, EditAnywhere, Category = "Requests", meta = (ClampMin = "0"))
	float RequestTimeoutSeconds = 30.0f;

	/** Most completions delivered per frame (0 = all ready), to bound the game-thread cost. */
	UPROPERTY(Config, EditAnywhere, Category = "Requests", meta = (ClampMin = "0"))
	int32 MaxCallbacksPerFrame = 0;

	/** Open the consume ledger (exactly-once fulfilment) for the Ledger nodes. */
	UPROPERTY(Config, EditAnywhere, Category = "Ledger")
	bool bEnableLedger = false;

	/** SQLite file of the ledger; a relative path is under the project's Saved directory. */
	UPROPERTY(Config, EditAnywhere, Category = "Ledger")
	FString LedgerSqlitePath;

	/**
	 * Environment variable holding a PostgreSQL URL (a secret: it has the password). When it is
	 * set on the server, the ledger uses PostgreSQL instead of the SQLite file.
	 */
	UPROPERTY(Config, EditAnywhere, Category = "Ledger")
	FString LedgerPostgresUrlEnvironmentVariable;

	/** This server's stable name in a shared (PostgreSQL) ledger; empty = the machine name. */
	UPROPERTY(Config, EditAnywhere, Category = "Ledger")
	FString LedgerInstanceId;
};

// Copyright msstore contributors. MIT licence.

#pragma once

#include "CoreMinimal.h"
#include "Engine/DeveloperSettings.h"
#include "MsStoreSettings.generated.h"

/** How the server proves itself to Entra ID. No secret is ever stored in the settings. */
UENUM()
enum class EMsStoreCredentialSource : uint8
{
	/** The client secret, from the environment variable ClientSecretEnvironmentVariable. */
	SecretFromEnvironment,
	/** The client secret in the file CredentialFilePath (a Kubernetes secret mount), re-read when it changes. */
	SecretFile,
	/** Workload identity federation (AKS): the token file CredentialFilePath, or AZURE_FEDERATED_TOKEN_FILE when empty. */
	FederatedTokenFile,
	/** A managed identity through IMDS: ManagedIdentityClientId, or the system-assigned one when empty. */
	ManagedIdentity
};

/**
 * Project Settings > Plugins > Microsoft Store Services. The client secret is never stored here:
 * it is read at startup from the environment variable named by ClientSecretEnvironmentVariable
 * (set it on the dedicated server only), or from a file, or replaced by a federated or managed
 * identity (CredentialSource).
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

	UPROPERTY(Config, EditAnywhere, Category = "Credentials")
	EMsStoreCredentialSource CredentialSource = EMsStoreCredentialSource::SecretFromEnvironment;

	/** The secret file or the federated token file, on the server. */
	UPROPERTY(Config, EditAnywhere, Category = "Credentials")
	FString CredentialFilePath;

	/** Client id of a user-assigned managed identity; empty = the system-assigned one. */
	UPROPERTY(Config, EditAnywhere, Category = "Credentials")
	FString ManagedIdentityClientId;

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

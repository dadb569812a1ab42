// Sample: what does a logged-in player own, and consume one unit of a consumable, from a Unity
// server build. Attach to a GameObject in the server scene; call OnPlayerLoggedIn with the
// UserCollectionsId the player's game client sent (it mints it with a key-create token from
// StoreClient.GetTokenAsync(StoreAudience.CollectionsKeyCreate)).
//
// The client is pumped from Update, so every Task below completes on the main thread and the
// code after each await may use Unity APIs.
using System;
using System.Threading;
using UnityEngine;

namespace Msstore.Samples
{
    public sealed class PlayerEntitlements : MonoBehaviour
    {
        [Header("Entra app (keep the secret out of source control: load it from the server's environment)")]
        [SerializeField] private string tenantId = "";
        [SerializeField] private string clientId = "";
        [SerializeField] private string clientSecretEnvironmentVariable = "MSSTORE_CLIENT_SECRET";
        [Tooltip("Leave empty for the real Microsoft Store; http://127.0.0.1:PORT for the msstore emulator")]
        [SerializeField] private string emulatorBaseUrl = "";

        [Header("Catalog")]
        [SerializeField] private string durableProductId = "9PX4K2C7ZQ1M";
        [SerializeField] private string consumableProductId = "9NZB0T3LQH5D";

        private StoreClient store;
        private readonly CancellationTokenSource quitting = new CancellationTokenSource();

        private void Awake()
        {
            StoreLog.SetHandler((level, message) =>
            {
                if (level <= StoreLogLevel.Error) Debug.LogError(message);
                else if (level == StoreLogLevel.Warn) Debug.LogWarning(message);
                else Debug.Log(message);
            }, StoreLogLevel.Info);

            var options = new StoreClientOptions(tenantId, clientId,
                Environment.GetEnvironmentVariable(clientSecretEnvironmentVariable));
            if (!string.IsNullOrEmpty(emulatorBaseUrl)) options.EmulatorBaseUrl = emulatorBaseUrl;
            options.Completion = StoreCompletion.Pump; // Tasks complete in Update, on the main thread
            try
            {
                store = new StoreClient(options);
            }
            catch (StoreConfigurationException e)
            {
                Debug.LogError("msstore configuration: " + e.Message);
                enabled = false;
            }
        }

        private void Update()
        {
            if (store != null) store.Pump();
        }

        /// <summary>Call when a player logs in with the key their game client minted.</summary>
        public async void OnPlayerLoggedIn(string playerId, string collectionsKey)
        {
            if (store == null) return;
            try
            {
                StoreIdKey key = StoreIdKey.Decode(collectionsKey);
                if (key.IsExpired)
                {
                    Debug.LogWarning(playerId + ": the Store key expired; ask the game client for a new one");
                    return;
                }

                EntitlementPage owned = await store.QueryEntitlementsAsync(
                    new EntitlementQuery(collectionsKey, durableProductId, consumableProductId), quitting.Token);
                foreach (EntitlementItem item in owned.Items)
                    Debug.Log(playerId + " owns " + item.ProductId + " (" + item.ProductKind + ", " + item.Status +
                              ", quantity " + item.Quantity + ")");

                // Grant the consumable's effect in game, then report it as fulfilled.
                ConsumeResult consumed = await store.ConsumeAsync(new ConsumeRequest(collectionsKey, consumableProductId, 1),
                    quitting.Token);
                Debug.Log(playerId + ": consumed one, " + consumed.NewQuantity + " left");
            }
            catch (ConsumeOutcomeUnknownException e)
            {
                // Safe to resend: the Store applies a tracking id once.
                Debug.LogWarning(playerId + ": consume outcome unknown; resend with tracking id " + e.TrackingId);
            }
            catch (StoreUnauthorizedException)
            {
                Debug.LogWarning(playerId + ": key rejected; renew it with RenewKeyAsync or ask for a new one");
            }
            catch (StoreThrottledException e)
            {
                Debug.LogWarning(playerId + ": throttled; retry after " + e.RetryAfter);
            }
            catch (StoreException e)
            {
                Debug.LogError(playerId + ": " + e);
            }
            catch (OperationCanceledException)
            {
                // The server is shutting down.
            }
        }

        private void OnDestroy()
        {
            quitting.Cancel();
            if (store != null) store.Dispose(); // every Task still in flight completes here
            StoreLog.SetHandler(null);
        }
    }
}

// P/Invoke declarations of include/msstore.h (clawback and ledger: ClawbackNative.cs,
// LedgerNative.cs), written by hand and kept in sync by the
// HeaderSyncTests (every exported function bound, every result code and struct size equal).
// Strings cross as IntPtr (UTF-8, see Utf8); handles cross as SafeHandles (see SafeHandles.cs).
using System;
using System.Runtime.InteropServices;

namespace Msstore.Native
{
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal delegate void CompletionCallback(IntPtr userData, int code, IntPtr op);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal delegate void LogCallback(IntPtr userData, int level, IntPtr target, IntPtr message);

    internal static partial class NativeMethods
    {
        // Statically linked platforms (iOS, Switch) link libmsstore.a into the player and bind
        // "__Internal"; elsewhere define MSSTORE_STATIC (Player Settings > Scripting Define
        // Symbols) for it. Untested: no such player is built here. Not WebGL: the Web platform
        // has no threads, and the library runs its network I/O on its own.
#if MSSTORE_STATIC || ((UNITY_IOS || UNITY_SWITCH) && !UNITY_EDITOR)
        internal const string Lib = "__Internal";
#else
        internal const string Lib = "msstore";
#endif

        // ---- library ----------------------------------------------------------------------
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr msstore_version();

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern UIntPtr msstore_live_objects();

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr msstore_result_name(int code);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr msstore_result_description(int code);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_log_set_callback(LogCallback cb, IntPtr userData, int maxLevel);

        // ---- client -----------------------------------------------------------------------
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_client_options_init(ref ClientOptions opts);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_call_options_init(ref CallOptions opts);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_client_new(ref ClientOptions opts, out ClientHandle client, out ErrorHandle err);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_client_new_from_json(IntPtr json, out ClientHandle client, out ErrorHandle err);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr msstore_client_poll(ClientHandle client, UIntPtr maxCallbacks);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr msstore_client_wait(ClientHandle client, uint timeoutMs);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern UIntPtr msstore_client_pending(ClientHandle client);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_client_shutdown(ClientHandle client);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_client_free(IntPtr client);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_client_set_shutdown_timeout(ClientHandle client, uint timeoutMs);

        // ---- operations -------------------------------------------------------------------
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_op_cancel(OpHandle op);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_op_wait(OpHandle op, uint timeoutMs);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_op_status(OpHandle op);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_op_take_error(IntPtr op, out ErrorHandle err);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr msstore_op_error(IntPtr op);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_op_free(IntPtr op);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_op_take_token(IntPtr op, out TokenHandle token);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_op_take_key(IntPtr op, out KeyHandle key);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_op_take_entitlements(IntPtr op, out EntitlementsHandle h);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_op_take_consume_result(IntPtr op, out ConsumeResultHandle h);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_op_take_order(IntPtr op, out OrderHandle h);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_op_take_subscriptions(IntPtr op, out SubscriptionsHandle h);

        // ---- starts (user_data carries a GCHandle; out_op a SafeHandle) --------------------
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_client_get_token(ClientHandle client, int audience, ref CallOptions call,
            CompletionCallback cb, IntPtr userData, out OpHandle op);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_client_renew_key(ClientHandle client, IntPtr key, ref CallOptions call,
            CompletionCallback cb, IntPtr userData, out OpHandle op);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_client_query_entitlements(ClientHandle client, ref QueryOptions query,
            ref CallOptions call, CompletionCallback cb, IntPtr userData, out OpHandle op);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_client_consume(ClientHandle client, ref ConsumeOptions opts,
            ref CallOptions call, CompletionCallback cb, IntPtr userData, out OpHandle op);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_client_consume_v6(ClientHandle client, ref ConsumeV6Options opts,
            ref CallOptions call, CompletionCallback cb, IntPtr userData, out OpHandle op);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_client_grant_free_product(ClientHandle client, ref GrantOptions opts,
            ref CallOptions call, CompletionCallback cb, IntPtr userData, out OpHandle op);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_client_query_subscriptions(ClientHandle client, ref SubscriptionQueryOptions opts,
            ref CallOptions call, CompletionCallback cb, IntPtr userData, out OpHandle op);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_client_change_subscription(ClientHandle client, ref SubscriptionChangeOptions opts,
            ref CallOptions call, CompletionCallback cb, IntPtr userData, out OpHandle op);

        // ---- errors -----------------------------------------------------------------------
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_error_get_info(ErrorHandle e, ref ErrorInfo info);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_error_copy_message(ErrorHandle e, byte[] buf, UIntPtr capacity, out UIntPtr needed);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr msstore_error_json(ErrorHandle e);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_error_free(IntPtr e);

        // ---- keys -------------------------------------------------------------------------
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_key_decode(IntPtr key, out KeyHandle h, out ErrorHandle err);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_key_get_info(KeyHandle key, ref KeyInfo info);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr msstore_key_json(KeyHandle key);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_key_free(IntPtr key);

        // ---- tokens -----------------------------------------------------------------------
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_token_get_info(TokenHandle t, ref TokenInfo info);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_token_free(IntPtr t);

        // ---- entitlements -----------------------------------------------------------------
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_entitlements_get_info(EntitlementsHandle h, ref EntitlementsInfo info);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_entitlements_item_at(EntitlementsHandle h, UIntPtr index, ref Entitlement e);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr msstore_entitlements_json(EntitlementsHandle h);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_entitlements_free(IntPtr h);

        // ---- consume ----------------------------------------------------------------------
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_consume_result_get_info(ConsumeResultHandle h, ref ConsumeInfo info);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_consume_result_transaction_at(ConsumeResultHandle h, UIntPtr index, ref OrderTransaction tx);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr msstore_consume_result_json(ConsumeResultHandle h);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_consume_result_free(IntPtr h);

        // ---- orders -----------------------------------------------------------------------
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_order_get_info(OrderHandle h, ref OrderInfo info);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_order_line_item_at(OrderHandle h, UIntPtr index, ref OrderLineItem item);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr msstore_order_json(OrderHandle h);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_order_free(IntPtr h);

        // ---- subscriptions ----------------------------------------------------------------
        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_subscriptions_get_info(SubscriptionsHandle h, ref SubscriptionsInfo info);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_subscriptions_item_at(SubscriptionsHandle h, UIntPtr index, ref Subscription s);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr msstore_subscriptions_json(SubscriptionsHandle h);

        [DllImport(Lib, CallingConvention = CallingConvention.Cdecl)]
        internal static extern int msstore_subscriptions_free(IntPtr h);
    }
}

// IL2CPP compiles a native-callable stub only for static methods carrying this attribute. Unity
// provides it (AOT namespace) in every player; outside Unity (Mono tests, console tools) we
// declare a look-alike that IL2CPP would recognise by name.
#if !UNITY_5_3_OR_NEWER
using System;

namespace AOT
{
    [AttributeUsage(AttributeTargets.Method)]
    internal sealed class MonoPInvokeCallbackAttribute : Attribute
    {
        public MonoPInvokeCallbackAttribute(Type delegateType) { DelegateType = delegateType; }

        public Type DelegateType { get; private set; }
    }
}
#endif

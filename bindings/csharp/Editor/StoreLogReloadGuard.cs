// Editor only (Msstore.Editor.asmdef, includePlatforms: Editor). Before the Editor reloads the
// scripting domain (a script recompile, entering play mode), removes the process-wide native log
// callback, which would otherwise point into the domain being torn down. StoreLog also does it on
// AppDomain.DomainUnload; this runs earlier, while the old domain is still whole.
// Compiled only inside Unity (UNITY_EDITOR): scripts/test-csharp.sh compiles it against a
// stand-in of the two UnityEditor types it uses, which checks the code, not Unity's API.
#if UNITY_EDITOR
using UnityEditor;

namespace Msstore.Editor
{
    [InitializeOnLoad]
    internal static class StoreLogReloadGuard
    {
        static StoreLogReloadGuard()
        {
            AssemblyReloadEvents.beforeAssemblyReload += StoreLog.ClearIfInstalled;
        }
    }
}
#endif

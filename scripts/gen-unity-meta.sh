#!/usr/bin/env bash
# Writes the Unity .meta file of every file and folder of the UPM package (bindings/csharp).
# A package installed from a git URL is read-only, and Unity ignores assets without a .meta
# there, so the metas are committed. GUIDs are derived from the path, so regenerating is stable.
# A native library under Runtime/Plugins/<platform folder>/ gets a PluginImporter that enables
# exactly that platform and CPU (see plugin_platform); scripts/package.sh drops the binaries into
# a copy of the package and runs this script on it.
#
#   scripts/gen-unity-meta.sh [--root DIR] [--check]   # DIR: a copy of the package (default bindings/csharp)
#   scripts/gen-unity-meta.sh --plugin-meta PATH       # print the meta of a binary at PATH (package-relative)
#
# --check: change nothing, exit 1 if a meta is missing, stale or orphaned (used by test-csharp.sh).
set -euo pipefail
root="$(dirname "$0")/../bindings/csharp"
check=0
plugin_meta=""
while [ $# -gt 0 ]; do
  case "$1" in
    --check) check=1; shift ;;
    --root) root=$2; shift 2 ;;
    --plugin-meta) plugin_meta=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
cd "$root"
bad=0

# plugin_platform PATH: "EDITOR_OS EDITOR_CPU STANDALONE_TARGET STANDALONE_CPU" for a native
# library's folder (EDITOR_OS "-" when no Editor runs there), or nothing when PATH is no plugin.
# Unity's PluginImporter names: Editor OS Linux/Windows/OSX; Standalone Linux64, Win64, OSXUniversal.
plugin_platform() {
  case "$1" in
    Runtime/Plugins/Linux/x86_64/*.so) echo "Linux x86_64 Linux64 x86_64" ;;
    # No Unity Editor runs on Linux arm64: the player (dedicated server) only.
    Runtime/Plugins/Linux/arm64/*.so) echo "- - Linux64 ARM64" ;;
    Runtime/Plugins/Windows/x86_64/*.dll) echo "Windows x86_64 Win64 x86_64" ;;
    Runtime/Plugins/macOS/*.dylib | Runtime/Plugins/macOS/*.bundle) echo "OSX AnyCPU OSXUniversal AnyCPU" ;;
  esac
}

# plugin_importer EDITOR_OS EDITOR_CPU TARGET CPU: the PluginImporter block.
plugin_importer() {
  local eos=$1 ecpu=$2 target=$3 cpu=$4 t on c
  printf 'PluginImporter:\n  externalObjects: {}\n  serializedVersion: 2\n  iconMap: {}\n  executionOrder: {}\n'
  printf '  defineConstraints: []\n  isPreloaded: 0\n  isOverridable: 1\n  isExplicitlyReferenced: 0\n  validateReferences: 1\n'
  printf '  platformData:\n  - first:\n      : Any\n    second:\n      enabled: 0\n      settings:\n'
  printf '        Exclude Editor: %d\n' "$([ "$eos" = - ] && echo 1 || echo 0)"
  for t in Linux64 OSXUniversal Win Win64; do
    printf '        Exclude %s: %d\n' "$t" "$([ "$t" = "$target" ] && echo 0 || echo 1)"
  done
  printf '  - first:\n      Any: \n    second:\n      enabled: 0\n      settings: {}\n'
  if [ "$eos" = - ]; then
    printf '  - first:\n      Editor: Editor\n    second:\n      enabled: 0\n      settings:\n        CPU: None\n        DefaultValueInitialized: true\n        OS: AnyOS\n'
  else
    printf '  - first:\n      Editor: Editor\n    second:\n      enabled: 1\n      settings:\n        CPU: %s\n        DefaultValueInitialized: true\n        OS: %s\n' "$ecpu" "$eos"
  fi
  for t in Linux64 OSXUniversal Win Win64; do
    if [ "$t" = "$target" ]; then on=1; c=$cpu; else on=0; c=None; fi
    printf '  - first:\n      Standalone: %s\n    second:\n      enabled: %d\n      settings:\n        CPU: %s\n' "$t" "$on" "$c"
  done
  printf '  userData: \n  assetBundleName: \n  assetBundleVariant: \n'
}

meta_for() { # path -> meta text
  local p=$1 guid importer
  guid=$(printf 'msstore-upm:%s' "$p" | md5sum | cut -c1-32)
  printf 'fileFormatVersion: 2\nguid: %s\n' "$guid"
  if [ -d "$p" ]; then
    printf 'folderAsset: yes\nDefaultImporter:\n  externalObjects: {}\n  userData: \n  assetBundleName: \n  assetBundleVariant: \n'
    return
  fi
  local platform
  platform=$(plugin_platform "$p")
  if [ -n "$platform" ]; then
    # shellcheck disable=SC2086 # four words
    plugin_importer $platform
    return
  fi
  case "$p" in
    *.cs) printf 'MonoImporter:\n  externalObjects: {}\n  serializedVersion: 2\n  defaultReferences: []\n  executionOrder: 0\n  icon: {instanceID: 0}\n  userData: \n  assetBundleName: \n  assetBundleVariant: \n' ;;
    *.asmdef) importer=AssemblyDefinitionImporter ;;
    package.json) importer=PackageManifestImporter ;;
    *.md | *.json | *.txt) importer=TextScriptImporter ;;
    *) importer=DefaultImporter ;;
  esac
  if [ -n "${importer:-}" ]; then
    printf '%s:\n  externalObjects: {}\n  userData: \n  assetBundleName: \n  assetBundleVariant: \n' "$importer"
  fi
}

if [ -n "$plugin_meta" ]; then
  platform=$(plugin_platform "$plugin_meta")
  [ -n "$platform" ] || { echo "$plugin_meta is not a native library under a Runtime/Plugins platform folder" >&2; exit 2; }
  meta_for "$plugin_meta"
  exit 0
fi

# Unity skips dotfiles and anything under a folder whose name ends in "~" (Samples~).
while IFS= read -r p; do
  p=${p#./}
  want=$(meta_for "$p")
  if [ $check -eq 1 ]; then
    if [ ! -f "$p.meta" ] || [ "$(cat "$p.meta")" != "$want" ]; then
      echo "missing or stale: $root/$p.meta" >&2
      bad=1
    fi
  else
    printf '%s\n' "$want" >"$p.meta"
  fi
done < <(find . -mindepth 1 \( -name '.*' -o -name '*~' \) -prune -o ! -name '*.meta' -print | sort)

# Orphans: a meta whose asset is gone.
while IFS= read -r m; do
  if [ ! -e "${m%.meta}" ]; then
    if [ $check -eq 1 ]; then echo "orphaned: $root/${m#./}" >&2; bad=1; else rm -f "$m"; fi
  fi
done < <(find . \( -name '*~' \) -prune -o -name '*.meta' -print)
exit $bad

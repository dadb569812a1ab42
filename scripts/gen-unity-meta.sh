#!/usr/bin/env bash
# Writes the Unity .meta file of every file and folder of the UPM package (bindings/csharp).
# A package installed from a git URL is read-only, and Unity ignores assets without a .meta
# there, so the metas are committed. GUIDs are derived from the path, so regenerating is stable.
# --check: change nothing, exit 1 if a meta is missing, stale or orphaned (used by test-csharp.sh).
set -euo pipefail
cd "$(dirname "$0")/../bindings/csharp"
check=0
[ "${1:-}" = "--check" ] && check=1
bad=0

meta_for() { # path -> meta text
  local p=$1 guid importer
  guid=$(printf 'msstore-upm:%s' "$p" | md5sum | cut -c1-32)
  printf 'fileFormatVersion: 2\nguid: %s\n' "$guid"
  if [ -d "$p" ]; then
    printf 'folderAsset: yes\nDefaultImporter:\n  externalObjects: {}\n  userData: \n  assetBundleName: \n  assetBundleVariant: \n'
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

# Unity skips dotfiles and anything under a folder whose name ends in "~" (Samples~).
while IFS= read -r p; do
  p=${p#./}
  want=$(meta_for "$p")
  if [ $check -eq 1 ]; then
    if [ ! -f "$p.meta" ] || [ "$(cat "$p.meta")" != "$want" ]; then
      echo "missing or stale: bindings/csharp/$p.meta" >&2
      bad=1
    fi
  else
    printf '%s\n' "$want" >"$p.meta"
  fi
done < <(find . -mindepth 1 \( -name '.*' -o -name '*~' \) -prune -o ! -name '*.meta' -print | sort)

# Orphans: a meta whose asset is gone.
while IFS= read -r m; do
  if [ ! -e "${m%.meta}" ]; then
    if [ $check -eq 1 ]; then echo "orphaned: bindings/csharp/${m#./}" >&2; bad=1; else rm -f "$m"; fi
  fi
done < <(find . \( -name '*~' \) -prune -o -name '*.meta' -print)
exit $bad

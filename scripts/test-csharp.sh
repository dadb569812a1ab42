#!/usr/bin/env bash
# C# suite of msstore: builds the native library (debug), compiles the Unity wrapper
# (bindings/csharp/Runtime), its NUnit tests and the console example with Mono's mcs, then runs
# the tests under Mono's nunit-console and the example, each against a fresh emulator
# (127.0.0.1 only, started with --exit-on-stdin-eof so it cannot outlive this script).
# MSSTORE_LIB_DIR=DIR runs them against DIR/libmsstore.so instead of a debug build.
# Installs mono-mcs and NUnit 2.6 from Debian when missing. Last line: "N passed, M failed";
# exits non-zero on any failure.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."

OUT=target/csharp-tests
mkdir -p "$OUT"

# ---- tools -----------------------------------------------------------------------------------
NUNIT_FW=$(ls /usr/lib/cli/nunit.framework-2.6*/nunit.framework.dll 2>/dev/null | head -n 1 || true)
if ! have mcs || ! have nunit-console || [ -z "$NUNIT_FW" ]; then
  apt_install mono-mcs nunit-console libnunit-framework2.6.3-cil || {
    fail "cannot install Mono/NUnit"
    finish
  }
  NUNIT_FW=$(ls /usr/lib/cli/nunit.framework-2.6*/nunit.framework.dll | head -n 1)
fi
note "$(mono --version | head -n 1); NUnit framework $NUNIT_FW"

# ---- native library and emulator -------------------------------------------------------------
# MSSTORE_LIB_DIR: run against the libmsstore.so in that directory (e.g. the one of an unpacked
# package, scripts/test-package.sh) instead of a debug build.
if [ -n "${MSSTORE_LIB_DIR:-}" ]; then
  [ -f "$MSSTORE_LIB_DIR/libmsstore.so" ] || {
    fail "no libmsstore.so in $MSSTORE_LIB_DIR"
    finish
  }
  LIB_DIR=$(cd "$MSSTORE_LIB_DIR" && pwd)
  build=(true)
else
  LIB_DIR=$PWD/target/debug
  build=(cargo build -p msstore --lib --features ffi-test-hooks)
fi
note "library from $LIB_DIR (a debug build has the ffi-test-hooks feature: the tests call msstore_debug_trigger_panic); cargo build -p msstore-emulator"
if ! { "${build[@]}" && cargo build -p msstore-emulator --bin msstore-emulator; } \
  2>"$OUT/build.log"; then
  cat "$OUT/build.log" >&2
  fail "build"
  finish
fi
export LD_LIBRARY_PATH="$LIB_DIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

# Struct sizes as the C compiler lays them out, for the header-sync test.
CC=${CC:-cc}
{
  echo '#include <stdio.h>'
  echo '#include "msstore.h"'
  echo 'int main(void) {'
  grep -oE 'typedef struct msstore_[a-z_]+ \{' include/msstore.h | awk '{print $3}' |
    while read -r s; do echo "  printf(\"$s %zu\\n\", sizeof(struct $s));"; done
  echo '  return 0;'
  echo '}'
} >"$OUT/struct_sizes.c"
"$CC" -std=c11 -Iinclude -o "$OUT/struct_sizes" "$OUT/struct_sizes.c"
"$OUT/struct_sizes" >"$OUT/struct_sizes.txt"

# ---- compile -----------------------------------------------------------------------------------
# C# 7.2 is the newest mcs accepts (Unity allows 9); the code avoids records, init and
# function pointers anyway. Warnings are errors. The tests are written for NUnit 3 (Unity's Test
# Framework); NUNIT2 maps its OneTimeSetUp/OneTimeTearDown onto NUnit 2.6 (Tests/Support/NUnit2Compat.cs).
MCS=(mcs -langversion:7.2 -warnaserror+ -debug)
note "compiling the wrapper, the tests and the example"
mapfile -t RUNTIME < <(find bindings/csharp/Runtime -name '*.cs' | sort)
mapfile -t TESTS < <(find bindings/csharp/Tests -name '*.cs' | sort)
# compile_all: the wrapper, the tests and the example.
compile_all() {
  "${MCS[@]}" -target:library -out:"$OUT/Msstore.dll" "${RUNTIME[@]}" &&
    "${MCS[@]}" -define:NUNIT2 -target:library -out:"$OUT/Msstore.Tests.dll" -r:"$OUT/Msstore.dll" -r:"$NUNIT_FW" \
      -r:System.Core.dll "${TESTS[@]}" &&
    "${MCS[@]}" -target:exe -out:"$OUT/Quickstart.exe" -r:"$OUT/Msstore.dll" examples/csharp/Quickstart.cs
}
check compile compile_all || finish
cp "$NUNIT_FW" "$OUT/"

# The Unity sample compiles against the wrapper (UnityEngine replaced by a stub of the few
# types it uses; inside Unity, UNITY_5_3_OR_NEWER selects Unity's own MonoPInvokeCallback).
cat >"$OUT/UnityEngineStub.cs" <<'STUB'
namespace UnityEngine
{
    public class Object { }
    public class Component : Object { }
    public class Behaviour : Component { public bool enabled { get; set; } }
    public class MonoBehaviour : Behaviour { }
    public static class Debug
    {
        public static void Log(object m) { }
        public static void LogWarning(object m) { }
        public static void LogError(object m) { }
    }
    public sealed class SerializeField : System.Attribute { }
    public sealed class HeaderAttribute : System.Attribute { public HeaderAttribute(string h) { } }
    public sealed class TooltipAttribute : System.Attribute { public TooltipAttribute(string t) { } }
}
STUB
mapfile -t SAMPLE < <(find "bindings/csharp/Samples~" -name '*.cs' | sort)
check unity-sample-compile "${MCS[@]}" -target:library -out:"$OUT/Sample.dll" -r:"$OUT/Msstore.dll" \
  "$OUT/UnityEngineStub.cs" "${SAMPLE[@]}" || true

# The Editor assembly (Editor/, UNITY_EDITOR only) against a stand-in of the UnityEditor types it
# uses: this checks our code compiles, not that Unity's API has these shapes.
cat >"$OUT/UnityEditorStub.cs" <<'STUB'
namespace UnityEditor
{
    [System.AttributeUsage(System.AttributeTargets.Class)]
    public sealed class InitializeOnLoadAttribute : System.Attribute { }
    public static class AssemblyReloadEvents
    {
        public delegate void AssemblyReloadCallback();
        public static event AssemblyReloadCallback beforeAssemblyReload { add { } remove { } }
    }
}
STUB
mapfile -t EDITOR < <(find bindings/csharp/Editor -name '*.cs' | sort)
check editor-assembly-compile "${MCS[@]}" -define:UNITY_EDITOR -target:library -out:"$OUT/Msstore.Editor.dll" \
  -r:"$OUT/Msstore.dll" "$OUT/UnityEditorStub.cs" "${EDITOR[@]}" || true

# The manifest's documentation, changelog and licence URLs: one repository base, the one the
# README's git URL uses (a placeholder until the repository is published), each naming a file of
# the package that exists.
pkg=bindings/csharp
repo_base=$(grep -oE 'https://[^ `"]+/msstore\.git\?path=/bindings/csharp' "$pkg/README.md" | head -n 1 | sed 's/\.git?path=.*//')
url_bad=0
for key in documentationUrl changelogUrl licensesUrl; do
  url=$(grep -oE "\"$key\": *\"[^\"]+\"" "$pkg/package.json" | sed -E 's/.*: *"([^"]+)"/\1/' || true)
  file=${url#"$repo_base/blob/main/"}
  if [ -z "$repo_base" ] || [ -z "$url" ] || [ "$file" = "$url" ] || [ ! -f "$file" ]; then
    note "package.json $key '$url' is not $repo_base/blob/main/<a file of the package>"
    url_bad=1
  fi
done
if [ $url_bad -eq 0 ]; then pass; else fail "package.json URLs"; fi

# Unity ignores assets without a .meta in a read-only (git) package: every one is committed.
if scripts/gen-unity-meta.sh --check; then pass; else fail "stale Unity .meta files (run scripts/gen-unity-meta.sh)"; fi

# ---- emulator --------------------------------------------------------------------------------
# shellcheck source=scripts/lib/emulator.sh
source scripts/lib/emulator.sh

# ---- NUnit suite -----------------------------------------------------------------------------
start_emulator 1200 || {
  fail "the emulator did not start"
  finish
}
note "running the NUnit suite under Mono"
set +e
MSSTORE_EMU_SEED="$EMU_SEED" MSSTORE_HEADER="$PWD/include/msstore.h" \
  MSSTORE_CPP_HEADER="$PWD/bindings/cpp/include/msstore.hpp" \
  MSSTORE_STRUCT_SIZES="$PWD/$OUT/struct_sizes.txt" \
  timeout 900 nunit-console -nologo -labels -noshadow -nothread -domain=None \
  -xml="$OUT/TestResult.xml" "$OUT/Msstore.Tests.dll" >"$OUT/nunit.log" 2>&1
rc=$?
set -e
stop_emulator
grep -E '^\[figure\]' "$OUT/nunit.log" >&2 || true
summary=$(grep -E '^Tests run: [0-9]+' "$OUT/nunit.log" | tail -n 1 || true)
if [ -n "$summary" ]; then
  run=$(echo "$summary" | sed -E 's/.*Tests run: ([0-9]+).*/\1/')
  errs=$(echo "$summary" | sed -E 's/.*Errors: ([0-9]+).*/\1/')
  fails=$(echo "$summary" | sed -E 's/.*Failures: ([0-9]+).*/\1/')
  inconclusive=$(echo "$summary" | sed -E 's/.*Inconclusive: ([0-9]+).*/\1/')
  # Tests ignore themselves without an emulator or header (a Unity project); here everything is
  # configured, so an ignored or skipped test is a failure, not a pass.
  notrun=$(grep -E '^ *Not run: [0-9]+' "$OUT/nunit.log" | tail -n 1 | sed -E 's/^ *Not run: ([0-9]+).*/\1/')
  notrun=${notrun:-0}
  [ "$notrun" -eq 0 ] || sed -n '/^Tests Not Run:/,$p' "$OUT/nunit.log" | head -n 40 >&2
  bad=$((errs + fails + inconclusive + notrun))
  passed=$((passed + run - errs - fails - inconclusive)) # not-run tests are not in "run"
  failed=$((failed + bad))
  note "NUnit: $summary"
fi
if [ $rc -ne 0 ] || [ -z "$summary" ]; then
  sed -n '/^Errors and Failures:/,/^Tests Not Run:/p' "$OUT/nunit.log" | head -n 120 >&2
  [ -n "$summary" ] || tail -n 40 "$OUT/nunit.log" >&2
  note "nunit-console exit code $rc"
  if [ -z "$summary" ] || [ "$bad" -eq 0 ]; then failed=$((failed + 1)); fi
fi

# ---- console example ---------------------------------------------------------------------------
run_on_emulator example 300 mono --debug "$OUT/Quickstart.exe"

finish

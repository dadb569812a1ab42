#!/usr/bin/env bash
# Regenerates include/msstore.h from src/ffi with the pinned cbindgen (see cbindgen.toml).
set -euo pipefail
cd "$(dirname "$0")/.."
MSSTORE_REGEN_HEADER=1 cargo build -p msstore --lib --features header
echo "include/msstore.h regenerated"

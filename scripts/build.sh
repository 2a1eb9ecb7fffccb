#!/usr/bin/env bash
# Configures and builds Corral into build/ (Ninja). Usage: scripts/build.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
# -g1 (line tables: backtraces with file:line) instead of full debug info: the build is most
# of CI's time on 2 cores, and -g1 compiles the test files about 40% faster.
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" >/dev/null
cmake --build "$dir"

#!/usr/bin/env bash
# The README's test command: installs dependencies, builds, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh build
# ctest starts the costliest tests first, going by the times of earlier runs. A clean clone has
# none and would start the longest (40-50 s each) last, in the order they are declared: seed
# them from tests/ctest_costs.txt (name, runs, seconds; a CI run's
# build/Testing/Temporary/CTestCostData.txt, tests of 5 s and more, less the busy tests, which
# start first by their COST property; see tests/CMakeLists.txt).
costs=build/Testing/Temporary/CTestCostData.txt
if [[ ! -f $costs ]]; then
  mkdir -p "$(dirname "$costs")"
  cp tests/ctest_costs.txt "$costs"
fi
# Three at once on 2 cores; the busiest tests take two of the three slots (PROCESSORS 2, see
# tests/CMakeLists.txt).
ctest --test-dir build --output-on-failure --timeout 900 -j3

#!/usr/bin/env bash
# Builds the fuzzers (tests/fuzz/README.md) with clang (ASan + UBSan + libFuzzer) in
# build-fuzz/ and runs each named one (default: all) for SECONDS (default 60) on its seed
# corpus, one after the other, one process each. Exits non-zero when a fuzzer finds a crash, a
# leak, undefined behaviour or a broken invariant; the input is saved under
# build-fuzz/artifacts/ and the message says how to replay it.
# Usage: scripts/fuzz.sh [SECONDS] [FUZZER...]
#   FUZZER: frame_fuzzer, peer_fuzzer, config_fuzzer, recovery_fuzzer
# Environment: CORRAL_FUZZ_BUILD_DIR (default build-fuzz), CORRAL_FUZZ_JOBS (build jobs,
# default 1), CORRAL_FUZZ_ARGS (extra libFuzzer flags).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
fuzzers=("$@")
if ((${#fuzzers[@]} == 0)); then
  fuzzers=(frame_fuzzer peer_fuzzer config_fuzzer recovery_fuzzer)
fi
dir=${CORRAL_FUZZ_BUILD_DIR:-build-fuzz}
jobs=${CORRAL_FUZZ_JOBS:-1}

sanitize='-fsanitize=address,undefined -fno-sanitize-recover=undefined -fsanitize=fuzzer-no-link'
# -g1 (line tables: stack traces with file:line) as scripts/build.sh: full debug info made
# the build most of the run's time.
CC=clang CXX=clang++ cmake -S . -B "$dir" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" \
  -DCORRAL_FUZZ=ON \
  -DCMAKE_CXX_FLAGS="$sanitize -fno-omit-frame-pointer" >/dev/null
cmake --build "$dir" --target "${fuzzers[@]}" -j "$jobs"

artifacts="$dir/artifacts"
mkdir -p "$artifacts"
for fuzzer in "${fuzzers[@]}"; do
  # New inputs the fuzzer finds go to a working corpus, never into the committed seeds.
  work="$dir/fuzz-corpus/$fuzzer"
  seeds="tests/fuzz/corpus/$fuzzer"
  mkdir -p "$work"
  dict=()
  [[ -f "tests/fuzz/$fuzzer.dict" ]] && dict=("-dict=tests/fuzz/$fuzzer.dict")
  echo "$fuzzer: fuzzing for ${seconds}s (corpus $work + $seeds, crashes in $artifacts/)"
  status=0
  # shellcheck disable=SC2086  # CORRAL_FUZZ_ARGS is a list of flags
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$dir/bin/$fuzzer" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$artifacts/$fuzzer-" "${dict[@]}" ${CORRAL_FUZZ_ARGS:-} \
    "$work" "$seeds" || status=$?
  if ((status != 0)); then
    echo "$fuzzer failed (exit $status). Replay a saved input with:" >&2
    echo "  $dir/bin/$fuzzer $artifacts/$fuzzer-<crash-file>" >&2
    exit "$status"
  fi
done

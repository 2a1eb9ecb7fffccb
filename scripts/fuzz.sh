#!/usr/bin/env bash
# Builds frame_fuzzer with clang (ASan + UBSan + libFuzzer) in build-fuzz/ and runs it for
# SECONDS (default 60) on the seed corpus. Exits non-zero when the fuzzer finds a crash, a
# leak, undefined behaviour or a broken invariant; the input is saved under
# build-fuzz/artifacts/ and the message says how to replay it.
# Usage: scripts/fuzz.sh [SECONDS]
# Environment: CORRAL_FUZZ_BUILD_DIR (default build-fuzz), CORRAL_FUZZ_JOBS (build jobs,
# default 1), CORRAL_FUZZ_ARGS (extra libFuzzer flags).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
dir=${CORRAL_FUZZ_BUILD_DIR:-build-fuzz}
jobs=${CORRAL_FUZZ_JOBS:-1}

sanitize='-fsanitize=address,undefined -fno-sanitize-recover=undefined -fsanitize=fuzzer-no-link'
CC=clang CXX=clang++ cmake -S . -B "$dir" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCORRAL_FUZZ=ON \
  -DCMAKE_CXX_FLAGS="$sanitize -fno-omit-frame-pointer" >/dev/null
cmake --build "$dir" --target frame_fuzzer -j "$jobs"

# New inputs the fuzzer finds go to the working corpus, never into the committed seeds.
work="$dir/fuzz-corpus"
artifacts="$dir/artifacts"
mkdir -p "$work" "$artifacts"
echo "fuzzing for ${seconds}s (corpus $work + tests/fuzz/corpus, crashes in $artifacts/)"
status=0
# shellcheck disable=SC2086  # CORRAL_FUZZ_ARGS is a list of flags
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  "$dir/bin/frame_fuzzer" \
  -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$artifacts/" ${CORRAL_FUZZ_ARGS:-} \
  "$work" tests/fuzz/corpus || status=$?
if ((status != 0)); then
  echo "frame_fuzzer failed (exit $status). Replay a saved input with:" >&2
  echo "  $dir/bin/frame_fuzzer $artifacts/<crash-file>" >&2
  exit "$status"
fi

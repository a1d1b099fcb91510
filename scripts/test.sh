#!/usr/bin/env bash
# Builds Remora and runs every test (the README's test command; CI runs exactly this).
#   scripts/test.sh            release build + all tests, then the ASan/UBSan build + all tests,
#                              then the libFuzzer targets (clang) and a short run of each
#   scripts/test.sh --fast     release build + all tests only
set -euo pipefail
cd "$(dirname "$0")/.."
presets=(release asan fuzz)
[ "${1:-}" = "--fast" ] && presets=(release)
status=0
for preset in "${presets[@]}"; do
  echo "=== $preset: build"
  scripts/setup.sh "$preset"
  echo "=== $preset: test"
  ctest --preset "$preset" -j2 || status=1
done
exit $status

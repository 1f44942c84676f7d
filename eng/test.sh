#!/usr/bin/env bash
# Runs every test, unit, targets and end-to-end (real image builds and qemu boots), and ends with
# one line 'N passed, N failed, N skipped'. Run as root: builds need namespaces, mounts and chroot.
# --slow also runs the tests that take tens of minutes (the GNOME desktop image, the arm64 image).
# --fast runs only the unit and targets tiers (no image is built; a few minutes, root not needed).
set -uo pipefail
hang=40m
projects=(LiveImage.Sdk.sln)
case "${1:-}" in
  # one slow test alone (the GNOME image: a 2 GB build and a desktop boot under TCG) runs for more than an hour
  --slow) export LIVEIMAGE_SLOW_TESTS=1; hang=150m ;;
  --fast) projects=(tests/LiveImage.Tasks.Tests tests/LiveImage.Targets.Tests); hang=10m ;;
esac
cd "$(dirname "$0")/.."
results=artifacts/test-results
rm -rf "$results"
rc=0
# Build (and pack the SDK the tests build against) before any test runs: 'dotnet test' of a solution starts
# a test assembly as soon as its own build ends, which may be before the SDK project's pack has written the feed.
for project in "${projects[@]}"; do
  dotnet build "$project" -c Release -nologo -v:q || { echo "0 passed, 1 failed, 0 skipped"; exit 1; }
done
for project in "${projects[@]}"; do
  dotnet test "$project" -c Release --no-build \
    --logger "trx" --logger "console;verbosity=normal" --results-directory "$results" \
    --blame-hang-timeout "$hang" || rc=$?
done
passed=0; failed=0; skipped=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  value() { echo "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
  passed=$((passed + $(value passed)))
  failed=$((failed + $(value failed) + $(value error) + $(value timeout) + $(value aborted)))
  skipped=$((skipped + $(value total) - $(value executed)))  # xunit's skipped tests are not executed, and not counted as notExecuted
done
# CI has a time limit: show where the time goes (the ten slowest tests, with the duration xunit measured)
grep -ho '<UnitTestResult [^>]*>' "$results"/*.trx 2>/dev/null \
  | sed -n 's/.*testName="\([^"]*\)".* duration="\([0-9:]*\)\.[0-9]*".*/\2 \1/p' | sort -r | head -n 10 \
  | sed 's/^/slowest: /'
[ "$rc" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1  # a build or runner failure counts too
echo "$passed passed, $failed failed, $skipped skipped"
exit $rc

#!/usr/bin/env bash
# Runs every test, unit and end-to-end (real image builds and qemu boots), and ends with
# one line 'N passed, N failed'. Run as root: builds need namespaces, mounts and chroot.
# --slow also runs the tests that take tens of minutes (the GNOME desktop image, the arm64 image).
set -uo pipefail
hang=40m
# one slow test alone (the GNOME image: a 2 GB build and a desktop boot under TCG) runs for more than an hour
[ "${1:-}" = "--slow" ] && export LIVEIMAGE_SLOW_TESTS=1 && hang=150m
cd "$(dirname "$0")/.."
results=artifacts/test-results
rm -rf "$results"
dotnet test LiveImage.Sdk.sln -c Release \
  --logger "trx" --logger "console;verbosity=normal" --results-directory "$results" \
  --blame-hang-timeout "$hang"
rc=$?
passed=0; failed=0; skipped=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  value() { echo "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
  passed=$((passed + $(value passed)))
  failed=$((failed + $(value failed) + $(value error) + $(value timeout) + $(value aborted)))
  skipped=$((skipped + $(value total) - $(value executed)))  # xunit's skipped tests are not executed, and not counted as notExecuted
done
[ "$rc" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1  # a build or runner failure counts too
echo "$passed passed, $failed failed, $skipped skipped"
exit $rc

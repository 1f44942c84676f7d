#!/usr/bin/env bash
# The stage cache, measured back to back on this machine for samples/debian-live-minimal: a cold
# build (empty stage cache of its own; the package cache as it is), then a clean rebuild (rm -rf
# obj bin) that restores every stage from the warm stage cache. Prints the figures, their ratio to
# the cold build (target <= 0.3) and whether the two ISOs are byte for byte the same. Run as root
# from the repository.
set -euo pipefail
source "$(dirname "$0")/workspace.sh"
cd "$work/debian-live-minimal"

declare -A t
cache="$work/stage-cache"
build() { dotnet build -nologo -tl:off -c Release -p:StageCache=true -p:StageCacheDirectory="$cache/" "$@"; }
iso=bin/Release/amd64/debian-live-minimal-1.0.0-amd64.iso

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
t[cold]=$(seconds build)
cp "$iso" "$work/cold.iso"
rm -rf obj bin
t[clean_warm_stage_cache]=$(seconds build)
restored=$(grep -c "restored from the stage cache" "$work/last.log" || true)
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

printf '%-34s %9s %9s\n' "measure (minimal sample)" "seconds" "x cold"
for k in cold clean_warm_stage_cache; do
  printf '%-34s %9.1f %9.3f\n' "$k" "${t[$k]}" "$(echo "${t[$k]} / ${t[cold]}" | bc -l)"
done
echo "stages restored in the clean rebuild: $restored; stage cache: $(du -sh "$cache" | cut -f1)"
cmp -s "$work/cold.iso" "$iso" && echo "ISO of the clean rebuild: identical to the cold build's" || echo "ISO of the clean rebuild: differs from the cold build's"
echo "target: clean_warm_stage_cache <= 0.3 x cold"

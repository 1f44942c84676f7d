#!/usr/bin/env bash
# The stage cache, measured back to back on this machine for samples/debian-live-minimal:
#   cold                  empty stage cache of its own (the package cache as it is), pushing to a registry
#   clean_warm_local      rm -rf obj bin, every stage restored from the warm local stage cache
#   clean_warm_registry   a fresh copy of the sample with an empty local stage cache, every stage pulled
#                         from the registry (Debian's docker-registry on 127.0.0.1, started here)
#   clean_warm_modules    as Debug builds it (SquashfsModules=true, one squashfs per layer): after one build
#                         that squashed the modules, rm -rf obj bin, every stage and every module restored
# Prints the figures with their ratio to the cold build (target <= 0.3), whether the ISOs are the
# same byte for byte, and the load average. Run as root from the repository.
set -euo pipefail
source "$(dirname "$0")/workspace.sh"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$work/registry"
cat > "$work/registry.yml" <<YML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $work/registry
http:
  addr: 127.0.0.1:$port
YML
docker-registry serve "$work/registry.yml" > "$work/registry.log" 2>&1 &
registry=$!
trap 'kill $registry 2> /dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/v2/" > /dev/null && break; sleep 0.2; done

declare -A t
location="http://127.0.0.1:$port/liveimage/stages"
build() { dotnet build -nologo -tl:off -c Release -p:StageCache=true -p:StageCacheRegistry="$location" "$@"; }
iso=bin/Release/amd64/debian-live-minimal-1.0.0-amd64.iso
# seconds() prints the log's tail on failure, which $(...) would swallow
measure() { local k=$1; shift; t[$k]=$(seconds "$@") || { echo "$k failed:"; echo "${t[$k]}"; exit 1; }; }

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
cd "$work/debian-live-minimal"
measure cold build -p:StageCacheDirectory="$work/cache-a/" -p:StageCacheRegistryMode=push
cp "$iso" "$work/cold.iso"
rm -rf obj bin
measure clean_warm_local build -p:StageCacheDirectory="$work/cache-a/"
local_restored=$(grep -c "restored from the stage cache" "$work/last.log" || true)
cmp -s "$work/cold.iso" "$iso" && local_iso=identical || local_iso=different
mkdir -p "$work/fresh" && cp -r "$repo/samples/debian-live-minimal" "$work/fresh/" && rm -rf "$work/fresh/debian-live-minimal/obj" "$work/fresh/debian-live-minimal/bin"
cd "$work/fresh/debian-live-minimal"
measure clean_warm_registry build -p:StageCacheDirectory="$work/cache-b/" -p:StageCacheRegistryMode=pull
pulled=$(grep -c "pulled from 127.0.0.1" "$work/last.log" || true)
cmp -s "$work/cold.iso" "$iso" && registry_iso=identical || registry_iso=different
cd "$work/debian-live-minimal"
measure modules_first build -p:StageCacheDirectory="$work/cache-a/" -p:SquashfsModules=true
cp "$iso" "$work/modules.iso"
rm -rf obj bin
measure clean_warm_modules build -p:StageCacheDirectory="$work/cache-a/" -p:SquashfsModules=true
modules_restored=$(grep -c "squashfs restored from the stage cache" "$work/last.log" || true)
cmp -s "$work/modules.iso" "$iso" && modules_iso=identical || modules_iso=different
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

printf '%-34s %9s %9s\n' "measure (minimal sample)" "seconds" "x cold"
for k in cold clean_warm_local clean_warm_registry modules_first clean_warm_modules; do
  printf '%-34s %9.1f %9.3f\n' "$k" "${t[$k]}" "$(echo "${t[$k]} / ${t[cold]}" | bc -l)"
done
echo "clean_warm_local: $local_restored stages restored, ISO $local_iso to the cold build's"
echo "clean_warm_registry: $pulled stages pulled, ISO $registry_iso to the cold build's"
echo "clean_warm_modules: $modules_restored modules restored, ISO $modules_iso to the first modular build's"
echo "stage cache $(du -sh "$work/cache-a" | cut -f1), registry $(du -sh "$work/registry" | cut -f1); target: <= 0.3 x cold"

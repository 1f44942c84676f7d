#!/usr/bin/env bash
# Reproducible builds, measured on this machine for samples/debian-live-minimal: a plain cold build,
# then -t:VerifyReproducible (a second build from clean with the warm package cache, and the
# comparison), and -t:VerifyReproducible -p:VerifyReproducibleFrom=hooks. Prints the seconds, the
# ratio to the plain build and the sha256 of both clean builds' ISOs. Run as root from the repository.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /var/tmp/liveimage-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
export MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0
dotnet build -c Release "$repo/src/LiveImage.Sdk" -nologo -v:q > /dev/null
cp -r "$repo/samples/." "$work/"
rm -rf "$work/debian-live-minimal/obj" "$work/debian-live-minimal/bin"
sed -i "s|\.\./artifacts/|$repo/artifacts/|" "$work/nuget.config"
cd "$work/debian-live-minimal"

declare -A t
seconds() { local s=$(date +%s.%N); "$@" > "$work/last.log" 2>&1 || { tail -30 "$work/last.log"; exit 1; }; echo "$(date +%s.%N) - $s" | bc; }
build() { dotnet build -nologo -tl:off -c Release "$@"; }

t[plain_cold]=$(seconds build)
t[verify_reproducible]=$(seconds build -t:VerifyReproducible)
iso=debian-live-minimal-1.0.0-amd64.iso
first=$(sha256sum "bin/Release/amd64/$iso" | cut -d' ' -f1)
second=$(sha256sum "obj/Release/amd64/reproducible/bin/Release/amd64/$iso" | cut -d' ' -f1)
t[verify_from_hooks]=$(seconds build -t:VerifyReproducible -p:VerifyReproducibleFrom=hooks)

printf '%-34s %9s %9s\n' "measure (minimal sample)" "seconds" "x plain"
for k in plain_cold verify_reproducible verify_from_hooks; do
  printf '%-34s %9.1f %9.3f\n' "$k" "${t[$k]}" "$(echo "${t[$k]} / ${t[plain_cold]}" | bc -l)"
done
echo "sha256 of the ISO, first clean build:  $first"
echo "sha256 of the ISO, second clean build: $second"

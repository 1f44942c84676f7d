#!/usr/bin/env bash
# Reproducible builds, measured on this machine for samples/debian-live-minimal: a plain cold build,
# then -t:VerifyReproducible (a second build from clean with the warm package cache, and the
# comparison), and -t:VerifyReproducible -p:VerifyReproducibleFrom=hooks. Prints the seconds, the
# ratio to the plain build and the sha256 of both clean builds' ISOs. Run as root from the repository.
set -euo pipefail
source "$(dirname "$0")/workspace.sh"
cd "$work/debian-live-minimal"

declare -A t
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

#!/usr/bin/env bash
# The edit loop, measured back to back on this machine for samples/debian-live-minimal:
# cold build, no-op, hook edit (Debug and Release), package add, clean rebuild with a warm
# cache; the floor (plain mmdebstrap + mksquashfs + xorriso, bench/floor-live-iso.sh); and
# live-build's 'lb build' of the same image when live-build is installed. Each figure is
# printed with its ratio to our cold Release build. Run as root from the repository.
set -euo pipefail
source "$(dirname "$0")/workspace.sh"
cd "$work/debian-live-minimal"

declare -A t
build() { dotnet build -nologo -tl:off "$@"; }

t[cold]=$(seconds build -c Release)
t[noop]=$(seconds build -c Release)
echo "# bench edit $(date +%s%N)" >> hooks/0100-motd.sh
t[hook_release]=$(seconds build -c Release)
t[cold_debug]=$(seconds build -c Debug)
echo "# bench edit $(date +%s%N)" >> hooks/0100-motd.sh
t[hook_debug]=$(seconds build -c Debug)
sed -i 's|</ItemGroup>|<Package Include="file" Recommends="false" />\n  </ItemGroup>|' debian-live-minimal.liveproj
t[package_add]=$(seconds build -c Release)
rm -rf obj bin
t[clean_warm]=$(seconds build -c Release)
t[floor]=$(seconds bash "$repo/bench/floor-live-iso.sh" "$work/floor")
if command -v lb > /dev/null; then
  mkdir -p "$work/lb" && cd "$work/lb"
  t[live_build]=$(seconds sh -c 'lb config --distribution trixie --binary-images iso-hybrid --bootappend-live "boot=live components console=ttyS0" > /dev/null && lb build')
  cd - > /dev/null
fi

printf '%-34s %9s %9s\n' "measure (minimal sample)" "seconds" "x cold"
for k in cold noop hook_release cold_debug hook_debug package_add clean_warm floor live_build; do
  [ -n "${t[$k]:-}" ] || { printf '%-34s %9s\n' "$k" "n/a (not installed)"; continue; }
  printf '%-34s %9.1f %9.3f\n' "$k" "${t[$k]}" "$(echo "${t[$k]} / ${t[cold]}" | bc -l)"
done
printf '%-34s %9.3f  (target <= 1.05)\n' "cold / floor" "$(echo "${t[cold]} / ${t[floor]}" | bc -l)"

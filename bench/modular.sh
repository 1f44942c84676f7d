#!/usr/bin/env bash
# Images built on images, measured back to back on this machine with samples/modular: the console
# level built on an already built essential level, and a console hook edit, each against the same
# console image built flat from scratch (samples/modular/flat: the same packages, one project).
# All builds share the package cache, warmed by the first. Targets: console on essential <= 0.3 x
# flat cold, hook edit <= 0.1 x flat cold. Run as root from the repository.
set -euo pipefail
source "$(dirname "$0")/workspace.sh"

declare -A t
build() { dotnet build -nologo -tl:off "$@"; }

t[base_and_essential]=$(seconds build "$work/modular/essential/essential.liveproj")
t[console_on_essential]=$(seconds build "$work/modular/console/console.liveproj")
echo "# bench edit $(date +%s%N)" >> "$work/modular/console/hooks/0100-issue.sh"
t[console_hook_edit]=$(seconds build "$work/modular/console/console.liveproj")
t[flat_cold]=$(seconds build "$work/modular/flat/flat.liveproj")

live=$work/modular/console/obj/Release/amd64/iso/live
printf '%-34s %9s %9s\n' "measure (modular sample)" "seconds" "x flat"
for k in base_and_essential console_on_essential console_hook_edit flat_cold; do
  printf '%-34s %9.1f %9.3f\n' "$k" "${t[$k]}" "$(echo "${t[$k]} / ${t[flat_cold]}" | bc -l)"
done
printf '%-34s %9.3f  (target <= 0.3)\n' "console on essential / flat cold" "$(echo "${t[console_on_essential]} / ${t[flat_cold]}" | bc -l)"
printf '%-34s %9.3f  (target <= 0.1)\n' "console hook edit / flat cold" "$(echo "${t[console_hook_edit]} / ${t[flat_cold]}" | bc -l)"
echo "modules of the console image:"
while read -r m; do printf '  %-40s %6d KiB\n' "$m" "$(( $(stat -c %s "$live/$m") / 1024 ))"; done < "$live/filesystem.module"
printf '  %-40s %6d KiB\n' "(flat) filesystem.squashfs" "$(( $(stat -c %s "$work/modular/flat/obj/Release/amd64/iso/live/filesystem.squashfs") / 1024 ))"

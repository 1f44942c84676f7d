#!/usr/bin/env bash
# Netboot of a stack of modules against netboot of one merged squashfs, measured back to back on this
# machine: samples/modular/console (base, essential and console modules, each downloaded and checked
# by the SDK's initramfs script: liveimage.modules=) and samples/modular/flat (the same system in one
# project: live-boot's fetch= of filesystem.squashfs), each booted with -t:BootTest in the netboot
# mode (BIOS PXE, qemu), alternating, ROUNDS times (default 2). Prints the seconds from starting qemu
# to the login prompt (the boot test's own figure) and the ratio stack / flat. Builds the two samples
# where they are first (a no-op when they are built). Run as root from the repository; set
# BootTestAccelerator=tcg or kvm to compare like with like (default: auto), and BootTestTimeout
# (default 1200 s) on a busy machine.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
rounds=${ROUNDS:-2}
accel=${BootTestAccelerator:-auto}
timeout=${BootTestTimeout:-1200}
export MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0
dotnet build -c Release "$repo/src/LiveImage.Sdk" -nologo -v:q > /dev/null
log=$(mktemp /var/tmp/liveimage-bench-netboot.XXXXXX)
trap 'rm -f "$log"' EXIT

project() { echo "$repo/samples/modular/$1/$1.liveproj"; }
for image in console flat; do
  dotnet build -nologo -tl:off "$(project $image)" > "$log" 2>&1 || { tail -30 "$log"; exit 1; }
done

# seconds to login of one netboot boot, from the boot test's "netboot: login prompt after N s" line (a failing
# BootCheck after the login does not spoil the figure)
boot() {
  dotnet build -nologo -tl:off -v:n "$(project "$1")" -t:BootTest -p:BootTestModes=netboot -p:BootTestAccelerator="$accel" -p:BootTestTimeout="$timeout" > "$log" 2>&1 || true
  local s
  s=$(sed -n 's/.*netboot: login prompt after \([0-9.]*\) s.*/\1/p' "$log" | tail -1)
  [ -n "$s" ] || { tail -30 "$log" >&2; exit 1; }
  echo "$s"
}

declare -a stack flat
for ((i = 0; i < rounds; i++)); do
  stack+=("$(boot console)")
  flat+=("$(boot flat)")
done

mean() { printf '%s\n' "$@" | awk '{ s += $1 } END { printf "%.1f", s / NR }'; }
folder() { du -sbL "$repo/samples/modular/$1/bin/Release/amd64/netboot" | cut -f1; }
printf '%-44s %s\n' "netboot to login, seconds (accelerator $accel)" "rounds: $rounds"
printf '  %-42s %8s   (%s)\n' "console stack (liveimage.modules=, checked)" "$(mean "${stack[@]}")" "${stack[*]}"
printf '  %-42s %8s   (%s)\n' "flat, one squashfs (fetch=)" "$(mean "${flat[@]}")" "${flat[*]}"
printf '  %-42s %8.3f\n' "stack / flat" "$(echo "$(mean "${stack[@]}") / $(mean "${flat[@]}")" | bc -l)"
printf '  %-42s %8d MiB / %d MiB\n' "netboot folders (stack / flat)" "$(( $(folder console) / 1048576 ))" "$(( $(folder flat) / 1048576 ))"

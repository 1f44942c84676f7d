#!/usr/bin/env bash
# Root and rootless builds of samples/debian-live-minimal, back to back on this machine: a cold
# Release build (empty obj/, warm package cache) and a hook edit, as root and as an ordinary user
# with subordinate ids (RootMode=auto), each with its ratio to the root build; then whether the
# two squashfs images hold the same files (owners, modes, sizes, links, devices, contents).
# Run as root from the repository; it creates the user (default liveimage-bench) when missing.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
user=${1:-liveimage-bench}
id "$user" > /dev/null 2>&1 || useradd --create-home --shell /bin/bash "$user"
home=$(getent passwd "$user" | cut -d: -f6)
for f in /etc/subuid /etc/subgid; do
  grep -q "^$user:" "$f" || echo "$user:$(awk -F: 'BEGIN{m=100000} {e=$2+$3; if (e>m) m=e} END{print m}' "$f"):65536" >> "$f"
done
work=$(mktemp -d /var/tmp/liveimage-bench-rootless.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work/root" "$work/x-root" "$work/x-user"; runuser -u "$user" -- unshare --user --map-auto --map-root-user rm -rf "$work/user" 2>/dev/null; rm -rf "$work"' EXIT
export MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build -c Release "$repo/src/LiveImage.Sdk" -nologo -v:q > /dev/null
version=$(cat "$repo/artifacts/packages/LiveImage.Sdk.version")
for mode in root user; do
  mkdir -p "$work/$mode"
  cp -r "$repo/samples/debian-live-minimal" "$work/$mode/min"
  rm -rf "$work/$mode/min/obj" "$work/$mode/min/bin"
  printf '<configuration><packageSources><clear /><add key="sdk" value="%s" /></packageSources></configuration>\n' "$repo/artifacts/packages" > "$work/$mode/nuget.config"
  printf '{ "msbuild-sdks": { "LiveImage.Sdk": "%s" } }\n' "$version" > "$work/$mode/global.json"
done
chown -R "$user:" "$work/user"

declare -A t
as() { if [ "$1" = user ]; then shift; runuser -u "$user" -- env HOME="$home" DOTNET_CLI_HOME="$home" NUGET_PACKAGES="$home/.nuget/packages" PATH="$PATH" "$@"; else shift; "$@"; fi; }
seconds() { local s=$(date +%s.%N); "$@" > "$work/last.log" 2>&1 || { tail -30 "$work/last.log"; exit 1; }; echo "$(date +%s.%N) - $s" | bc; }
build() { local mode=$1; cd "$work/$mode/min"; as "$mode" dotnet build -nologo -tl:off -c Release; }

for mode in root user; do
  t[${mode}_cold]=$(seconds build "$mode")
  echo "# bench edit $(date +%s%N)" >> "$work/$mode/min/hooks/0100-motd.sh"
  t[${mode}_hook]=$(seconds build "$mode")
done

printf '%-40s %9s %9s\n' "measure (minimal sample, Release)" "seconds" "x root"
for k in cold hook; do
  printf '%-40s %9.1f %9.3f\n' "root $k" "${t[root_$k]}" 1
  printf '%-40s %9.1f %9.3f\n' "rootless $k" "${t[user_$k]}" "$(echo "${t[user_$k]} / ${t[root_$k]}" | bc -l)"
done

# the listings without dates (each build has its own), then every regular file's hash
squashfs() { echo "$work/$1/min/obj/Release/amd64/iso/live/filesystem.squashfs"; }
listing() { unsquashfs -lln "$(squashfs "$1")" | awk '{ $4 = $5 = ""; print }' | tail -n +4; }
diff <(listing root) <(listing user) > "$work/listing.diff" && echo "listings (owner, mode, size, link target, device): equal" \
  || { echo "listings differ:"; head -40 "$work/listing.diff"; }
for mode in root user; do unsquashfs -q -n -d "$work/x-$mode" "$(squashfs "$mode")" > /dev/null; done
hashes() { (cd "$work/x-$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum); }
diff <(hashes root) <(hashes user) > "$work/hashes.diff" && echo "contents: equal ($(hashes root | wc -l) files)" \
  || { echo "contents differ:"; head -40 "$work/hashes.diff"; }

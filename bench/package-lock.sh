#!/usr/bin/env bash
# The lock file's costs, measured on this machine for samples/debian-live-minimal: a plain cold build
# (which writes packages.lock.amd64), a no-op build with the lock, -t:Refresh when the archives have not
# changed (their lists fetched again, nothing rebuilt), and a build with one [packages] line edited to a
# version apt does not have (the package stage reruns and the lock is written back). Prints the seconds
# and the ratio to the plain build. Run as root from the repository.
set -euo pipefail
source "$(dirname "$0")/workspace.sh"
cd "$work/debian-live-minimal"

declare -A t
build() { dotnet build -nologo -tl:off -c Release "$@"; }

t[plain_cold]=$(seconds build)
t[noop_with_lock]=$(seconds build)
t[refresh_unchanged]=$(seconds build -t:Refresh)
sed -i 's/^less \([^ ]*\) /less 0.0-liveimage-bench /' packages.lock.amd64
t[edited_lock_line]=$(seconds build)
grep -q '^less 0.0-liveimage-bench ' packages.lock.amd64 && { echo "the edited lock line was not written back"; exit 1; }

printf '%-34s %9s %9s\n' "measure (minimal sample)" "seconds" "x plain"
for k in plain_cold noop_with_lock refresh_unchanged edited_lock_line; do
  printf '%-34s %9.1f %9.3f\n' "$k" "${t[$k]}" "$(echo "${t[$k]} / ${t[plain_cold]}" | bc -l)"
done
echo "packages locked: $(grep -c '^[^#[]' packages.lock.amd64) (archives and packages lines)"

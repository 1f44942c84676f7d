# Sourced by the bench scripts: the freshly packed SDK, and a copy of samples/ (no build output) in a
# temporary $work that the local feed serves and that is removed on exit; seconds CMD... prints how
# long CMD took and stops the bench with its log's tail when it fails.
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d /var/tmp/liveimage-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
export MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0
dotnet build -c Release "$repo/src/LiveImage.Sdk" -nologo -v:q > /dev/null
cp -r "$repo/samples/." "$work/"
rm -rf "$work"/*/obj "$work"/*/bin "$work"/modular/*/obj "$work"/modular/*/bin
sed -i "s|\.\./artifacts/|$repo/artifacts/|" "$work/nuget.config"
seconds() { local s=$(date +%s.%N); "$@" > "$work/last.log" 2>&1 || { tail -30 "$work/last.log"; exit 1; }; echo "$(date +%s.%N) - $s" | bc; }

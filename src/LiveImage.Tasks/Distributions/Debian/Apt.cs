using System.Text.RegularExpressions;
using LiveImage.Tasks.Packages;
using Microsoft.Build.Framework;

namespace LiveImage.Tasks.Distributions.Debian;

/// <summary>
/// apt and dpkg in a Debian image: installing packages (with Recommends unless a Package item says
/// Recommends="false"), the build's extra sources, the image's own sources at the end, and what apt's
/// output says when it fails.
/// </summary>
internal static partial class Apt
{
    public const string SourceUpdate = "apt-get update (AptSource)";

    /// <summary>The standard environment for apt and dpkg inside the image.</summary>
    public static Dictionary<string, string> Environment() => new()
    {
        ["DEBIAN_FRONTEND"] = "noninteractive",
        ["DEBCONF_NONINTERACTIVE_SEEN"] = "true",
        ["APT_LISTCHANGES_FRONTEND"] = "none",
    };

    /// <summary>One apt-get install per group: with Recommends, then without (or the other way round, in the items' order).</summary>
    public static PackageInstallPlan Install(IReadOnlyList<ITaskItem> packages)
    {
        var names = string.Join(' ', packages.Select(p => p.ItemSpec));
        var commands = new List<ToolPlan>();
        foreach (var group in packages.GroupBy(p => p.GetMetadata("Recommends") != "false"))
        {
            var args = AptGet("install", group.Key ? "--install-recommends" : "--no-install-recommends");
            args.AddRange(group.Select(p => p.ItemSpec));
            commands.Add(new ToolPlan("apt-get install", "", ["/bin/sh", "-c", InstallScript, "install", .. args], Environment()));
        }
        return new PackageInstallPlan(names.Length > 0 ? $"apt-get install {names}" : "no packages", commands);
    }

    /// <summary>apt's "N newly installed" line.</summary>
    public static string? InstallSummary(IEnumerable<string> output) =>
        output.LastOrDefault(l => l.Contains("newly installed", StringComparison.Ordinal))?.Trim();

    /// <summary>
    /// Writes the build's extra sources into this layer and downloads their package lists only:
    /// the bootstrap's lists stay as they are (no List-Cleanup), so nothing else is fetched again.
    /// </summary>
    public static ToolPlan? AddBuildSources(IReadOnlyList<ITaskItem> sources, string layer)
    {
        var build = sources.Select(AptSourceEntry.FromItem).Where(s => s.InBuild).ToList();
        if (build.Count == 0) return null;
        foreach (var source in build) source.WriteInto(layer);
        var update = new List<string> { "/bin/sh", "-c", "for f in \"$@\"; do apt-get -q -o APT::Color=0 -o APT::Get::List-Cleanup=0 -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= -o Dir::Etc::SourceParts=/nonexistent -o Dir::Etc::SourceList=\"$f\" update || exit $?; done", "update" };
        update.AddRange(build.Select(s => "/" + s.SourcesFile));
        return new ToolPlan(SourceUpdate, $"apt sources {string.Join(", ", build.Select(s => $"{s.Name} ({s.Uri} {s.Suites})"))}", update, Environment());
    }

    /// <summary>The finalize script with its environment; the image-only sources are written into <paramref name="layer"/> first.</summary>
    public static ToolPlan Finalize(FinalizeOptions options, string layer)
    {
        var env = Environment();
        env["LIVEIMAGE_MIRROR"] = options.ImageMirror;
        env["LIVEIMAGE_SUITE"] = options.Suite;
        env["LIVEIMAGE_COMPONENTS"] = options.Components.Replace(';', ' ').Replace(',', ' ');
        env["LIVEIMAGE_SOURCE_DATE_EPOCH"] = options.SourceDateEpoch;
        // the build's sources are moved aside for good, the image's own put in place (live-build's .chroot/.binary lists)
        var sources = options.Sources.Select(AptSourceEntry.FromItem).ToList();
        foreach (var source in sources.Where(s => s.Use == AptSourceUse.Image)) source.WriteInto(layer);
        env["LIVEIMAGE_BUILD_ONLY_SOURCES"] = string.Join(' ', sources.Where(s => !s.InImage).Select(s => s.Name));
        env["LIVEIMAGE_IMAGE_SOURCES_SCRIPT"] = ImageSourcesScript;
        return new ToolPlan("finalize", "", ["/bin/sh", "-c", FinalizeScript], env);
    }

    /// <summary>The "pkg name version arch" lines the finalize script printed.</summary>
    public static IReadOnlyList<string> InstalledPackages(IEnumerable<string> finalizeLog) =>
        finalizeLog.Where(l => l.StartsWith("pkg ", StringComparison.Ordinal)).Select(l => l[4..]).ToList();

    /// <summary>
    /// The bill of materials the finalize script printed: "name\tversion\tarchitecture\tsource\tsource version\tlicences"
    /// per installed package, the licences '|'-separated as the copyright file names them (empty: not machine-readable).
    /// </summary>
    public static IReadOnlyList<string> BillOfMaterials(IEnumerable<string> finalizeLog)
    {
        var lines = finalizeLog.ToList();
        var licences = lines.Where(l => l.StartsWith("license ", StringComparison.Ordinal)).Select(l => l[8..].Split('\t'))
            .Where(f => f.Length == 2).GroupBy(f => f[0]).ToDictionary(g => g.Key, g => g.Last()[1].Trim('|'));
        return [.. lines.Where(l => l.StartsWith("sbom ", StringComparison.Ordinal)).Select(l => l[5..].Split('\t')).Where(f => f.Length == 5)
            .Select(f => string.Join('\t', f.Append(licences.GetValueOrDefault(f[0], ""))))];
    }

    /// <summary>
    /// The bootstrap's package lists are used as they are (no download, no copy of them into this
    /// layer); only when they are stale, and apt fails, are they refreshed and the install retried.
    /// </summary>
    private const string InstallScript = """
        "$@" && exit 0
        echo "apt-get failed; refreshing the package lists and trying once more"
        apt-get -q -o APT::Color=0 -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= update && "$@"
        """;

    /// <summary>
    /// apt-get without progress bars or colour, every dpkg step still logged, and without the
    /// binary package caches (they would only bloat the layer).
    /// </summary>
    internal static List<string> AptGet(params string[] verb) =>
    [
        "apt-get", "-y", "-q", "-o", "Dpkg::Progress-Fancy=0", "-o", "APT::Color=0", "-o", "Dpkg::Use-Pty=0",
        "-o", "Dir::Cache::pkgcache=", "-o", "Dir::Cache::srcpkgcache=",
        "-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold", .. verb,
    ];

    internal const string FinalizeScript = """
        set -eu
        for name in $LIVEIMAGE_BUILD_ONLY_SOURCES; do
            rm -f "/etc/apt/sources.list.d/liveimage-$name.sources" "/etc/apt/keyrings/liveimage-$name.asc" "/etc/apt/keyrings/liveimage-$name.gpg"
        done
        if [ -n "$LIVEIMAGE_MIRROR" ]; then
            LIVEIMAGE_ROOT= sh -c "$LIVEIMAGE_IMAGE_SOURCES_SCRIPT"
        fi
        rm -f /usr/sbin/policy-rc.d
        apt-get clean
        rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin
        mkdir -p /var/lib/apt/lists/partial
        # Every boot of a live system is its first: systemd makes a machine id and runs the units that
        # wait for a first boot (ssh-keygen's among them). Its first-boot preset-all would enable units
        # the packages left disabled (networkd's wait-online, say), and its wizard would wait for an
        # answer on the console: the preset file keeps every unit as the build left it, and the wizard is masked.
        echo uninitialized > /etc/machine-id
        rm -f /var/lib/dbus/machine-id /etc/ssh/ssh_host_*
        mkdir -p /etc/systemd/system-preset
        printf '%s\n' '# LiveImage.Sdk: the first-boot preset-all of every live boot changes nothing' 'disable *' \
            > /etc/systemd/system-preset/00-liveimage-first-boot.preset
        ln -sfn /dev/null /etc/systemd/system/systemd-firstboot.service
        rm -f /var/log/*.log /var/log/apt/*.log
        if [ -n "$LIVEIMAGE_SOURCE_DATE_EPOCH" ]; then
            # what differs between two builds of the same packages: dates of the build, caches keyed by
            # inode or time, random seeds and logs (file times are clamped when the image is squashed)
            day=$((LIVEIMAGE_SOURCE_DATE_EPOCH / 86400))
            for f in /etc/shadow /etc/shadow-; do
                # 0 (a password that must be changed at the first login) stays
                if [ -f "$f" ] && grep -Eq '^[^:]*:[^:]*:[1-9][0-9]*:' "$f"; then
                    sed -E "s/^([^:]*:[^:]*:)[1-9][0-9]*:/\1$day:/" "$f" > "$f.liveimage-new"
                    cmp -s "$f" "$f.liveimage-new" || cat "$f.liveimage-new" > "$f"
                    rm -f "$f.liveimage-new"
                fi
            done
            rm -f /var/cache/ldconfig/aux-cache /var/lib/systemd/random-seed /var/cache/debconf/*-old /var/lib/dpkg/*-old
            rm -rf /var/cache/man/* /var/cache/fontconfig/* /var/log/journal/* /var/log/apt/* /var/log/installer
            find /var/log -type f -size +0 -delete
        fi
        dpkg-query -W -f='pkg ${Package} ${Version} ${Architecture}\n'
        dpkg-query -W -f='${Package} ${Version} ${Architecture}\n' > /var/lib/liveimage-packages.manifest 2>/dev/null || true
        # the bill of materials: source packages, and licences where the copyright file is machine-readable
        dpkg-query -W -f='sbom ${Package}\t${Version}\t${Architecture}\t${source:Package}\t${source:Version}\n'
        for p in $(dpkg-query -W -f='${Package}\n'); do
            f=/usr/share/doc/$p/copyright
            if [ -f "$f" ] && head -n 1 "$f" | grep -q '^Format:'; then
                printf 'license %s\t%s\n' "$p" "$(sed -n 's/^License:[[:space:]]*//p' "$f" | sed 's/[[:space:]]*$//' | sort -u | tr '\n' '|')"
            fi
        done
        """;

    /// <summary>
    /// With an ImageMirror: the bootstrapped sources stay, each entry of the main archive (the URI
    /// that serves the suite itself, so also its -updates entry) pointing at the mirror instead; the
    /// security archive and other entries keep their URIs. One-line (*.list) and deb822 (*.sources)
    /// files alike; the project's own AptSource files (liveimage-*) are left alone. Works on the
    /// tree at $LIVEIMAGE_ROOT (empty inside the image) so that it can be tested on a plain folder.
    /// </summary>
    internal const string ImageSourcesScript = """
        set -eu
        apt="$LIVEIMAGE_ROOT/etc/apt"
        files=$(ls "$apt/sources.list" "$apt"/sources.list.d/*.list "$apt"/sources.list.d/*.sources 2>/dev/null | grep -v '/liveimage-[^/]*$' || true)
        # the main archive: every URI of an entry for the suite itself
        main=$(for f in $files; do
            case "$f" in
            *.sources) awk -v suite="$LIVEIMAGE_SUITE" '
                /^[ 	]*$/ { if (hit) print uris; uris = ""; hit = 0; next }
                tolower($1) == "uris:" { uris = ""; for (i = 2; i <= NF; i++) uris = uris " " $i }
                tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == suite) hit = 1 }
                END { if (hit) print uris }' "$f" ;;
            *) awk -v suite="$LIVEIMAGE_SUITE" '
                $1 == "deb" || $1 == "deb-src" { i = 2; if ($i ~ /^\[/) { while (i < NF && $i !~ /\]$/) i++; i++ } if ($(i + 1) == suite) print $i }' "$f" ;;
            esac
        done | tr ' ' '\n' | sed '/^$/d' | sort -u | tr '\n' ' ')
        if [ -z "$main" ]; then
            echo "deb $LIVEIMAGE_MIRROR $LIVEIMAGE_SUITE $LIVEIMAGE_COMPONENTS" >> "$apt/sources.list"
            exit 0
        fi
        for f in $files; do
            awk -v main=" $main" -v mirror="$LIVEIMAGE_MIRROR" '
                function swap(i) { if (index(main " ", " " $i " ")) $i = mirror }
                ($1 == "deb" || $1 == "deb-src") { i = 2; if ($i ~ /^\[/) { while (i < NF && $i !~ /\]$/) i++; i++ } swap(i); print; next }
                tolower($1) == "uris:" { for (i = 2; i <= NF; i++) swap(i); print; next }
                { print }' "$f" > "$f.liveimage-new"
            cat "$f.liveimage-new" > "$f"
            rm -f "$f.liveimage-new"
        done
        """;

    /// <summary>The apt preferences file that holds the lock file's versions while a stage installs (relative to the image's root).</summary>
    public const string LockPreferencesFile = "etc/apt/preferences.d/liveimage-package-lock";

    /// <summary>
    /// The archives' lists fetched again (into the layer on top, thrown away after) and apt's candidate of every
    /// package named, as apt-cache policy prints it, with the archive each version comes from.
    /// </summary>
    public static ToolPlan Refresh(IEnumerable<string> aptNames) => new("apt-get update (Refresh)", "apt-get update; apt-cache policy",
        ["/bin/sh", "-c", "set -e; rm -f /" + LockPreferencesFile + "; apt-get -q -o APT::Color=0 -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= update; apt-cache -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= policy \"$@\" > /" + PolicyFile, "refresh", .. aptNames],
        Environment());

    /// <summary>
    /// The preferences that make apt choose exactly the locked versions (priority above 1000: also a
    /// downgrade); a package the lock does not name gets the archive's candidate.
    /// </summary>
    public static string LockPreferences(IEnumerable<LockedPackage> packages, string imageArchitecture) =>
        string.Concat(packages.Select(p => $"Package: {p.AptName(imageArchitecture)}\nPin: version {p.Version}\nPin-Priority: 1001\n\n"));

    /// <summary>The package lists fetched again, then every package moved to its locked version (the preferences allow downgrades).</summary>
    public static ToolPlan ApplyLock() => new("apt-get dist-upgrade (lock file)", "",
        ["/bin/sh", "-c", "apt-get -q -o APT::Color=0 -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= update && \"$@\"", "apply-lock", .. AptGet("dist-upgrade")],
        Environment());

    /// <summary>Where <see cref="Refresh"/> leaves apt-cache policy's output, relative to the image's root (in the throwaway layer).</summary>
    public const string PolicyFile = "var/lib/liveimage-refresh.policy";

    /// <summary>
    /// apt-cache policy's output: per package its candidate version and whether an archive it comes from is a
    /// security archive (its suite or URI says "security"); packages without a candidate are left out.
    /// </summary>
    public static IReadOnlyList<(string Name, string Candidate, bool Security)> ParsePolicy(string output)
    {
        var result = new List<(string, string, bool)>();
        string? name = null, candidate = null, version = null;
        var security = false;
        void Flush()
        {
            if (name is not null && candidate is not null && candidate != "(none)") result.Add((name, candidate, security));
        }
        foreach (var line in output.Split('\n'))
        {
            if (line.Length > 0 && !char.IsWhiteSpace(line[0]) && line.EndsWith(':'))
            {
                Flush();
                name = line[..^1];
                candidate = version = null;
                security = false;
            }
            else if (line.TrimStart().StartsWith("Candidate: ", StringComparison.Ordinal)) candidate = line.Trim()[11..];
            else if (VersionLine().Match(line) is { Success: true } v) version = v.Groups["version"].Value;
            else if (version is not null && version == candidate && line.Contains("security", StringComparison.Ordinal)) security = true;
        }
        Flush();
        return result;
    }

    [GeneratedRegex(@"^ (\*\*\*| {3}) (?<version>\S+) -?\d+$")]
    private static partial Regex VersionLine();

    /// <summary>The package apt said it cannot find, from its output.</summary>
    public static string? FindMissingPackage(string aptOutput) =>
        MissingPackage().Match(aptOutput) is { Success: true } m ? m.Groups["name"].Value : null;

    /// <summary>The package and version of a name=version pin apt has no such version for ("E: Version '3.3a-3' for 'tmux' was not found").</summary>
    public static (string Name, string Version)? FindMissingVersion(string aptOutput) =>
        MissingVersion().Match(aptOutput) is { Success: true } m ? (m.Groups["name"].Value, m.Groups["version"].Value) : null;

    /// <summary>The versions apt-cache madison lists ("tmux | 3.5a-3 | http://… trixie/main amd64 Packages"), newest first, each once.</summary>
    public static IReadOnlyList<string> ParseMadison(string output) =>
        [.. output.Split('\n').Select(l => l.Split('|')).Where(f => f.Length >= 3).Select(f => f[1].Trim()).Where(v => v.Length > 0).Distinct()];

    /// <summary>apt-cache madison of one package, in the image (its lists and those of the build's extra sources).</summary>
    public static ToolPlan AvailableVersions(string package) =>
        new("apt-cache madison", "", ["apt-cache", "-o", "Dir::Cache::pkgcache=", "-o", "Dir::Cache::srcpkgcache=", "madison", package], Environment());

    [GeneratedRegex(@"E: Version '(?<version>[^']+)' for '(?<name>[^']+)' was not found")]
    private static partial Regex MissingVersion();

    [GeneratedRegex(@"E: (Unable to locate package |Package '?)(?<name>[^\s']+)'?( has no installation candidate)?")]
    private static partial Regex MissingPackage();
}

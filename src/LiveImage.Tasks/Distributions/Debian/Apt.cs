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
        // the build's sources are moved aside for good, the image's own put in place (live-build's .chroot/.binary lists)
        var sources = options.Sources.Select(AptSourceEntry.FromItem).ToList();
        foreach (var source in sources.Where(s => s.Use == AptSourceUse.Image)) source.WriteInto(layer);
        env["LIVEIMAGE_BUILD_ONLY_SOURCES"] = string.Join(' ', sources.Where(s => !s.InImage).Select(s => s.Name));
        return new ToolPlan("finalize", "", ["/bin/sh", "-c", FinalizeScript], env);
    }

    /// <summary>The "pkg name version arch" lines the finalize script printed.</summary>
    public static IReadOnlyList<string> InstalledPackages(IEnumerable<string> finalizeLog) =>
        finalizeLog.Where(l => l.StartsWith("pkg ", StringComparison.Ordinal)).Select(l => l[4..]).ToList();

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
            # the project's own AptSource files (liveimage-*) stay
            find /etc/apt/sources.list.d -maxdepth 1 \( -name '*.list' -o -name '*.sources' \) ! -name 'liveimage-*' -delete
            echo "deb $LIVEIMAGE_MIRROR $LIVEIMAGE_SUITE $LIVEIMAGE_COMPONENTS" > /etc/apt/sources.list
        fi
        rm -f /usr/sbin/policy-rc.d
        apt-get clean
        rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin
        mkdir -p /var/lib/apt/lists/partial
        : > /etc/machine-id
        rm -f /var/lib/dbus/machine-id /etc/ssh/ssh_host_*
        rm -f /var/log/*.log /var/log/apt/*.log
        dpkg-query -W -f='pkg ${Package} ${Version} ${Architecture}\n'
        dpkg-query -W -f='${Package} ${Version} ${Architecture}\n' > /var/lib/liveimage-packages.manifest 2>/dev/null || true
        """;

    /// <summary>The package apt said it cannot find, from its output.</summary>
    public static string? FindMissingPackage(string aptOutput) =>
        MissingPackage().Match(aptOutput) is { Success: true } m ? m.Groups["name"].Value : null;

    [GeneratedRegex(@"E: (Unable to locate package |Package '?)(?<name>[^\s']+)'?( has no installation candidate)?")]
    private static partial Regex MissingPackage();
}

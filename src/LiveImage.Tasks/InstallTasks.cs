using System.Text.RegularExpressions;
using LiveImage.Tasks.Diagnostics;
using LiveImage.Tasks.Packages;
using LiveImage.Tasks.Processes;
using LiveImage.Tasks.Rootfs;
using Microsoft.Build.Framework;

namespace LiveImage.Tasks;

/// <summary>
/// Installs the image's packages (task-* and the rest) with apt inside the image, with
/// Recommends unless a Package item says Recommends="false" (reference 000, points 12–15).
/// </summary>
public sealed partial class InstallTasks : RootfsStageTask
{
    public string Suite { get; set; } = "";
    public ITaskItem[] Packages { get; set; } = [];
    /// <summary>Extra archives (resolved AptSource items); those in force during the build are added before the install.</summary>
    public ITaskItem[] AptSources { get; set; } = [];

    protected override void RunStage()
    {
        var names = string.Join(' ', Packages.Select(p => p.ItemSpec));
        High("StageStarting", StageName, Architecture, names.Length > 0 ? $"apt-get install {names}" : "no packages");
        var started = DateTime.UtcNow;
        var ns = Namespace();
        AddAptSources(ns);
        if (Packages.Length == 0) return;
        foreach (var group in Packages.GroupBy(p => p.GetMetadata("Recommends") != "false"))
        {
            var args = AptGet("install", group.Key ? "--install-recommends" : "--no-install-recommends");
            args.AddRange(group.Select(p => p.ItemSpec));
            var result = RunChecked(ns.InChroot(["/bin/sh", "-c", InstallScript, "install", .. args], LogFile, AptEnvironment()), "apt-get install");
            var summary = result.Tail.LastOrDefault(l => l.Contains("newly installed", StringComparison.Ordinal));
            if (summary is not null) Log.LogMessage(MessageImportance.High, $"{StageName} [{Architecture}]: {summary.Trim()}");
        }
        High("StageFinished", StageName, Architecture, (DateTime.UtcNow - started).TotalSeconds);
    }

    /// <summary>
    /// Writes the build's extra sources into this layer and downloads their package lists only:
    /// the bootstrap's lists stay as they are (no List-Cleanup), so nothing else is fetched again.
    /// </summary>
    private void AddAptSources(RootfsNamespace ns)
    {
        var build = AptSources.Select(AptSourceEntry.FromItem).Where(s => s.InBuild).ToList();
        if (build.Count == 0) return;
        foreach (var source in build) source.WriteInto(Layer);
        var update = new List<string> { "/bin/sh", "-c", "for f in \"$@\"; do apt-get -q -o APT::Color=0 -o APT::Get::List-Cleanup=0 -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= -o Dir::Etc::SourceParts=/nonexistent -o Dir::Etc::SourceList=\"$f\" update || exit $?; done", "update" };
        update.AddRange(build.Select(s => "/" + s.SourcesFile));
        Log.LogMessage(MessageImportance.High, $"{StageName} [{Architecture}]: apt sources {string.Join(", ", build.Select(s => $"{s.Name} ({s.Uri} {s.Suites})"))}");
        RunChecked(ns.InChroot(update, LogFile, AptEnvironment()), AptSourceUpdate);
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

    private const string AptSourceUpdate = "apt-get update (AptSource)";

    private protected override void OnFailure(ToolResult result, string what)
    {
        ThrowIfDiskFull(StageName, what, Layer, result);
        if (what == AptSourceUpdate)
            throw new LiveImageException("AptSourceUpdateFailed", string.Join(", ", AptSources.Select(s => s.ItemSpec)), StageName, result.TailText, result.LogPath);
        if (FindMissingPackage(FullLog(result)) is { } name)
            throw new LiveImageException("PackageNotFound", name, Suite, Architecture, StageName, result.LogPath);
        base.OnFailure(result, what);
    }

    /// <summary>The package apt said it cannot find, from its output.</summary>
    internal static string? FindMissingPackage(string aptOutput) =>
        MissingPackage().Match(aptOutput) is { Success: true } m ? m.Groups["name"].Value : null;

    [GeneratedRegex(@"E: (Unable to locate package |Package '?)(?<name>[^\s']+)'?( has no installation candidate)?")]
    private static partial Regex MissingPackage();
}

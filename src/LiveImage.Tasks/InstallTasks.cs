using LiveImage.Tasks.Diagnostics;
using LiveImage.Tasks.Distributions;
using LiveImage.Tasks.Packages;
using LiveImage.Tasks.Processes;
using LiveImage.Tasks.Rootfs;
using Microsoft.Build.Framework;

namespace LiveImage.Tasks;

/// <summary>
/// Installs the image's packages (task-* and the rest) with the distribution's package manager
/// inside the image (Debian: apt, with Recommends unless a Package item says Recommends="false":
/// a task-* metapackage pulls most of its desktop or server through Recommends).
/// </summary>
public sealed class InstallTasks : RootfsStageTask
{
    public string Suite { get; set; } = "";
    public ITaskItem[] Packages { get; set; } = [];
    /// <summary>Extra archives (resolved AptSource items); those in force during the build are added before the install.</summary>
    public ITaskItem[] AptSources { get; set; } = [];
    /// <summary>Package configuration answers (resolved Debconf and DebconfFile items, metadata Line), set before the install.</summary>
    public ITaskItem[] Debconf { get; set; } = [];

    /// <summary>The project's lock file: every version it names is installed (dependencies included); absent: the archives' candidates.</summary>
    public string PackageLockFile { get; set; } = "";

    protected override void RunStage()
    {
        var install = Distro.Install(Packages);
        High(nameof(Strings.StageStarting), StageName, Architecture, install.Description);
        var started = DateTime.UtcNow;
        var ns = Namespace();
        AddBuildSources(ns);
        Preseed(ns);
        if (Packages.Length == 0) return;
        var locked = File.Exists(PackageLockFile) ? PackageLock.Parse(File.ReadAllText(PackageLockFile), PackageLockFile) : null;
        var preferences = locked is null ? null : LockPreferences(locked);
        try
        {
            foreach (var command in install.Commands) Install(ns, command);
            // a version -t:Refresh found that the bootstrap's package lists predate: the lists fetched again, and the image moved to the lock
            if (locked is not null && Unlocked(locked) is { Count: > 0 } unlocked)
            {
                Log.LogMessage(MessageImportance.High, $"{StageName} [{Architecture}]: {unlocked.Count} locked version(s) not in the package lists ({string.Join(", ", unlocked.Take(5))}): fetching the lists again");
                Install(ns, Distro.ApplyLock());
            }
        }
        finally
        {
            // in this layer only: the image's apt follows its archives again (a failed install may have removed the layer already)
            if (preferences is not null && File.Exists(preferences)) File.Delete(preferences);
        }
        High(nameof(Strings.StageFinished), StageName, Architecture, (DateTime.UtcNow - started).TotalSeconds);
    }

    private void Install(RootfsNamespace ns, ToolPlan command)
    {
        var result = RunChecked(ns.InChroot(command.Command, LogFile, command.Environment) with { Progress = new AptProgress($"{StageName} [{Architecture}]") }, command.What);
        if (Distro.InstallSummary(result.Tail) is { } summary) Log.LogMessage(MessageImportance.High, $"{StageName} [{Architecture}]: {summary}");
    }

    /// <summary>The image up to this stage's layer holds every package of the lock, version for version, and no other.</summary>
    private protected override bool HoldsLockedVersions() =>
        File.Exists(PackageLockFile) && Distro.InstalledVersions(LowerLayers.Select(l => l.GetMetadata("FullPath")).Append(Path.GetFullPath(Layer)).Reverse()) is { } installed
        && PackageLock.SameVersions(PackageLock.Parse(File.ReadAllText(PackageLockFile), PackageLockFile).All, installed);

    /// <summary>The installed packages whose version is not the locked one.</summary>
    private List<string> Unlocked(PackageLock locked)
    {
        var layers = LowerLayers.Select(l => l.GetMetadata("FullPath")).Append(Path.GetFullPath(Layer)).Reverse();
        var installed = (Distro.InstalledVersions(layers) ?? []).ToDictionary(p => (p.Name, p.Architecture), p => p.Version);
        return [.. locked.All.Where(p => installed.TryGetValue((p.Name, p.Architecture), out var v) && v != p.Version).Select(p => $"{p.Name} {p.Version}")];
    }

    /// <summary>Puts the lock file's versions in force for the install, in this stage's layer.</summary>
    private string LockPreferences(PackageLock locked)
    {
        var file = Path.Combine(Path.GetFullPath(Layer), Distro.LockPreferencesFile);
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        File.WriteAllText(file, Distro.LockPreferences(locked.All, Architecture));
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        Log.LogMessage(MessageImportance.High, $"{StageName} [{Architecture}]: {locked.All.Count()} versions held to {Path.GetFileName(PackageLockFile)}");
        return file;
    }

    /// <summary>What fetches the build's extra sources' package lists, when it ran; its failure has a coded error of its own.</summary>
    private string? _sourcesUpdate;

    private void AddBuildSources(RootfsNamespace ns)
    {
        if (Distro.AddBuildSources(AptSources, Layer) is not { } update) return;
        Log.LogMessage(MessageImportance.High, $"{StageName} [{Architecture}]: {update.Description}");
        _sourcesUpdate = update.What;
        RunChecked(ns.InChroot(update.Command, LogFile, update.Environment), update.What);
    }

    /// <summary>What sets the Debconf answers, when it ran; its failure has a coded error of its own.</summary>
    private string? _preseed;

    /// <summary>Sets the Debconf answers in the image (its debconf database lands in this stage's layer) before any package is installed.</summary>
    private void Preseed(RootfsNamespace ns)
    {
        if (Debconf.Length == 0) return;
        var file = Path.Combine(Path.GetFullPath(ScratchDirectory), "debconf.selections");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        // a password answer may be among them: readable by root only, and gone after the stage
        File.WriteAllText(file, "");
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllLines(file, Debconf.Select(d => d.GetMetadata("Line")));
        try
        {
            var plan = Distro.Preseed(file);
            Log.LogMessage(MessageImportance.High, $"{StageName} [{Architecture}]: {plan.Description}: {Debconf.Length} answer(s)");
            _preseed = plan.What;
            RunChecked(ns.OnHost(plan.Command, LogFile, plan.Environment), plan.What);
        }
        finally
        {
            File.Delete(file);
        }
    }

    private protected override void OnFailure(ToolResult result, string what)
    {
        ThrowIfDiskFull(StageName, what, Layer, result);
        if (what == _preseed)
            throw new LiveImageException(nameof(Strings.DebconfSetSelectionsFailed), result.ExitCode, StageName, result.TailText, result.LogPath);
        if (what == _sourcesUpdate)
            throw new LiveImageException(nameof(Strings.AptSourceUpdateFailed), string.Join(", ", AptSources.Select(s => s.ItemSpec)), StageName, result.TailText, result.LogPath);
        if (Distro.MissingVersion(FullLog(result)) is { } pin)
            throw new LiveImageException(nameof(Strings.PackageVersionNotFound), pin.Name, pin.Version, AvailableVersions(pin.Name), Suite, Architecture, StageName, result.LogPath);
        if (Distro.MissingPackage(FullLog(result)) is { } name)
            throw new LiveImageException(nameof(Strings.PackageNotFound), name, Suite, Architecture, StageName, result.LogPath);
        base.OnFailure(result, what);
    }

    /// <summary>What the image's archives offer of a package, for LIVE2020, in the stage's own view of the image; logged with the stage's output.</summary>
    private string AvailableVersions(string package)
    {
        try
        {
            var query = Distro.AvailableVersions(package);
            var result = CreateRunner().Run(Namespace().InChroot(query.Command, LogFile, query.Environment));
            // the query lists a line per version and archive: its last lines are all of it
            var versions = Distro.ParseAvailableVersions(result.TailText);
            return versions.Count > 0 ? string.Join(", ", versions) : "none (the archives know no version of it)";
        }
        catch (LiveImageException)
        {
            return $"unknown ({Distro.AvailableVersions(package).What} failed; see the log)";
        }
    }
}

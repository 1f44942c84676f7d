using LiveImage.Tasks.Distributions;
using LiveImage.Tasks.Packages;
using Microsoft.Build.Framework;

namespace LiveImage.Tasks;

/// <summary>
/// After the package stage: writes the lock file (packages.lock.&lt;arch&gt;) from the image's package database
/// when its content changes (a build that changed nothing touches nothing). The layers then hold what the lock
/// says, so the lock's lines in the bootstrap's and package stage's inputs are brought up to date in place
/// (their times kept): the next build finds the stages up to date instead of rerunning them for a lock they
/// produced. With LockedMode the lock is never rewritten: a difference is LIVE1101.
/// </summary>
public sealed class WritePackageLock : LiveImageTask
{
    [Required] public string LockFile { get; set; } = "";
    [Required] public string Suite { get; set; } = "";
    [Required] public string Architecture { get; set; } = "";
    public string Distribution { get; set; } = KnownDistributions.Default;
    /// <summary>The image's layers up to the package stage's, bottom first.</summary>
    [Required] public ITaskItem[] Layers { get; set; } = [];
    /// <summary>The layers below the configure stage (the bootstrap's, or a base image's), bottom first: their packages are the [bootstrap] section.</summary>
    [Required] public ITaskItem[] BootstrapLayers { get; set; } = [];
    public bool LockedMode { get; set; }
    /// <summary>The stages' inputs caches (obj/&lt;Configuration&gt;/&lt;arch&gt;/).</summary>
    [Required] public string InputsDirectory { get; set; } = "";

    protected override void ExecuteCore()
    {
        var distro = KnownDistributions.Get(Distribution);
        var layers = TopFirst(Layers);
        if (distro.InstalledVersions(layers) is not { } installed) return;
        var bootstrapNames = (distro.InstalledVersions(TopFirst(BootstrapLayers)) ?? []).Select(p => p.Name).ToHashSet();
        var existing = File.Exists(LockFile) ? PackageLock.Parse(File.ReadAllText(LockFile), LockFile) : null;
        var current = PackageLock.Create(distro.ArchiveDates(layers),
            installed.Where(p => bootstrapNames.Contains(p.Name)), installed.Where(p => !bootstrapNames.Contains(p.Name)));
        var changes = existing is null ? [] : PackageLock.Changes(existing, current);
        if (existing is not null && changes.Count == 0)
        {
            // the same versions: the dates stay those they were resolved at, so the file does not churn
            current = PackageLock.Create(existing.Archives, current.Bootstrap, current.Packages);
        }
        if (LockedMode && existing is not null)
        {
            if (changes.Count > 0)
                Log.LogErrorWithCodeFromResources(nameof(Strings.PackageLockMismatch), LockFile, changes.Count,
                    string.Join("; ", changes.Take(10).Select(c => $"{c.Name}: locked {Or(c.Old, "(not locked)")}, installed {Or(c.New, "(not installed)")}")));
            return;
        }
        var text = current.Write(Architecture);
        if (existing is not null && File.ReadAllText(LockFile) == text) return;
        File.WriteAllText(LockFile + ".tmp", text);
        File.Move(LockFile + ".tmp", LockFile, overwrite: true);
        Log.LogMessage(MessageImportance.High, existing is null
            ? $"lock [{Architecture}]: {LockFile} written ({current.All.Count()} packages)"
            : $"lock [{Architecture}]: {LockFile} updated ({changes.Count} package(s) changed: {string.Join(", ", changes.Take(10).Select(c => $"{c.Name} {Or(c.Old, "-")} -> {Or(c.New, "-")}"))})");
        Restamp("bootstrap", current.BootstrapInput(Suite));
        Restamp("packages", current.PackagesInput());
    }

    private static string Or(string value, string none) => value.Length > 0 ? value : none;

    private static List<string> TopFirst(ITaskItem[] layers) => [.. layers.Select(l => l.GetMetadata("FullPath")).Reverse()];

    /// <summary>Sets the PackageLock line (the last, as LiveImageResolve writes it) of a stage's inputs and of its last run's copy, keeping their times.</summary>
    private void Restamp(string stage, string line)
    {
        var cache = Path.Combine(InputsDirectory, stage + ".inputs.cache");
        foreach (var path in new[] { cache, StageTask.LastInputs(cache) })
        {
            if (!File.Exists(path)) continue;
            var time = File.GetLastWriteTimeUtc(path);
            var lines = File.ReadAllLines(path).Where(l => !l.StartsWith("PackageLock=", StringComparison.Ordinal)).Append(line);
            File.WriteAllText(path, string.Concat(lines.Select(l => l + "\n")));
            File.SetLastWriteTimeUtc(path, time);
        }
    }
}

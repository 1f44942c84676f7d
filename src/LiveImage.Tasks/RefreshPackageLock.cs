using LiveImage.Tasks.Diagnostics;
using LiveImage.Tasks.Packages;
using LiveImage.Tasks.Rootfs;
using Microsoft.Build.Framework;

namespace LiveImage.Tasks;

/// <summary>
/// dotnet build -t:Refresh: resolves the lock file afresh. In the image as the package stage left it, with a
/// throwaway layer on top, apt fetches the archives' lists again and names its candidate for every locked
/// package; the lock file gets those versions and the archives' new dates, and is rewritten only when a
/// version changed (so an unchanged archive reruns nothing). The build that follows reruns the stages whose
/// locked versions changed. The closing line says how many changed, naming those from a security archive.
/// </summary>
public sealed class RefreshPackageLock : RootfsStageTask
{
    [Required] public string LockFile { get; set; } = "";

    private protected override bool SummarizesLayer => false;

    protected override void RunStage()
    {
        if (!File.Exists(LockFile)) throw new LiveImageException(nameof(Strings.PackageLockMissing), LockFile);
        var before = PackageLock.Parse(File.ReadAllText(LockFile), LockFile);
        var ns = Namespace();
        var plan = Distro.Refresh(before.All.Select(p => p.AptName(Architecture)).Distinct());
        Log.LogMessage(MessageImportance.High, $"refresh [{Architecture}]: {plan.Description} for {before.All.Count()} locked packages");
        RunChecked(ns.InChroot(plan.Command, LogFile, plan.Environment), plan.What);
        var candidates = Distro.ParseRefresh(File.ReadAllText(Path.Combine(Layer, Distro.RefreshOutputFile)))
            .GroupBy(c => c.Name).ToDictionary(g => g.Key, g => g.First());
        LockedPackage Resolve(LockedPackage p) =>
            candidates.TryGetValue(p.AptName(Architecture), out var c) ? p with { Version = c.Candidate } : p;
        var layers = LowerLayers.Select(l => l.GetMetadata("FullPath")).Append(Path.GetFullPath(Layer)).Reverse().ToList();
        var after = PackageLock.Create(Distro.ArchiveDates(layers), before.Bootstrap.Select(Resolve), before.Packages.Select(Resolve));
        var changes = PackageLock.Changes(before, after);
        ClearDirectory(Layer);
        var security = changes.Where(c => candidates.TryGetValue(c.Name, out var v) && v.Security).Select(c => $"{c.Name} {c.New}").ToList();
        if (changes.Count > 0)
        {
            File.WriteAllText(LockFile + ".tmp", after.Write(Architecture));
            File.Move(LockFile + ".tmp", LockFile, overwrite: true);
        }
        Log.LogMessage(MessageImportance.High, $"refresh [{Architecture}]: {changes.Count} package(s) changed version"
            + (changes.Count == 0 ? $"; {LockFile} unchanged" : $" ({string.Join(", ", changes.Select(c => $"{c.Name} {c.Old} -> {c.New}"))}); {LockFile} rewritten")
            + (security.Count > 0 ? $"; security updates: {string.Join(", ", security)}" : ""));
    }
}

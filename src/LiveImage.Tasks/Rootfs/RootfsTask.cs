using LiveImage.Tasks.Diagnostics;
using System.Diagnostics;
using LiveImage.Tasks.Processes;
using LiveImage.Tasks.StageCache;
using Microsoft.Build.Framework;

namespace LiveImage.Tasks.Rootfs;

/// <summary>
/// Base of the tasks that write layers of the image (the stages, the hooks): the layers they stand
/// on, the scratch space, the package cache and emulation, how they enter the image
/// (<see cref="RootfsNamespace"/>) and how a failed run becomes the most precise coded error.
/// </summary>
public abstract class RootfsTask : StageTask
{
    /// <summary>The image's Debian architecture.</summary>
    [Required] public override string Architecture { get; set; } = "";

    /// <summary>Layer directories below this stage, bottom first.</summary>
    public ITaskItem[] LowerLayers { get; set; } = [];

    /// <summary>Scratch directory for the overlay work dir and mount point.</summary>
    [Required] public string ScratchDirectory { get; set; } = "";

    /// <summary>Shared download cache for .deb files; empty for none.</summary>
    public string PackageCache { get; set; } = "";

    /// <summary>The image's architecture when its programs run through qemu-user and binfmt_misc; empty when the host runs them.</summary>
    public string EmulatedArchitecture { get; set; } = "";

    /// <summary>Lets the stage register qemu-user's binfmt_misc handler while it runs (and restore it after).</summary>
    public bool RegisterBinfmt { get; set; }

    /// <summary>The image's layers <paramref name="lower"/> with <paramref name="upper"/> (or none: read-only) on top, with the package cache.</summary>
    private protected RootfsNamespace Namespace(IReadOnlyList<string> lower, string? upper, string scratchDirectory, bool system = true) => new()
    {
        Lower = lower,
        Upper = upper,
        ScratchDirectory = Path.GetFullPath(scratchDirectory),
        PackageCache = PackageCache.Length > 0 ? Path.GetFullPath(PackageCache) : null,
        PackageCacheLayout = Distro.PackageCache,
        MountSystem = system,
    };

    /// <summary>Runs a command in the image and warns about processes it left running.</summary>
    private protected ToolResult RunInImage(ToolCommand command, string what)
    {
        var result = CreateRunner().Run(command);
        foreach (var leftover in result.Leftovers) Log.LogWarningWithCodeFromResources(nameof(Strings.LeftoverProcess), what, leftover);
        return result;
    }

    /// <summary>
    /// The coded errors any run in the image can end with: a full disk, an unreachable mirror
    /// (when <paramref name="mirror"/>), a maintainer script that fails under emulation.
    /// </summary>
    private protected void ThrowIfKnownFailure(string stage, string what, string layer, ToolResult result, bool mirror = true)
    {
        ThrowIfDiskFull(stage, what, layer, result);
        if (mirror) ThrowIfMirrorUnreachable(stage, result);
        ThrowIfEmulationFailure(EmulatedArchitecture, stage, result);
    }

    /// <summary>One line per stage: how much its layer added, the rootfs so far and how many packages it holds.</summary>
    private protected void LogUsage(string stage, string layer, IEnumerable<string> lowerLayers)
    {
        var layers = lowerLayers.Append(Path.GetFullPath(layer)).ToList();
        var own = LayerUsage.Bytes(layer);
        var total = layers.Sum(LayerUsage.Bytes);
        var packages = Distro.InstalledPackageCount(Enumerable.Reverse(layers));
        Log.LogMessageFromResources(MessageImportance.High, nameof(Strings.StageUsage), stage, Architecture, LayerUsage.MiB(own), LayerUsage.MiB(total), packages?.ToString() ?? "no");
    }

    /// <summary>
    /// Restores <paramref name="layer"/> (and the stage's other outputs) from a stage cache entry.
    /// False, after LIVE1090, when the entry cannot be read: it is removed, the layer is emptied and the stage runs.
    /// </summary>
    private protected bool RestoreLayer(string entry, string layer, IReadOnlyList<string> outputs, string logPath)
    {
        ClearDirectory(layer);
        var archive = Path.Combine(entry, LayerArchive.FileName);
        var problem = !File.Exists(archive) ? "it has no " + LayerArchive.FileName : null;
        if (problem is null)
        {
            var result = CreateRunner().Run(LayerArchive.Extract(archive, layer, logPath));
            if (result.ExitCode != 0) problem = $"tar exited with code {result.ExitCode}: {result.TailText}";
        }
        for (var i = 0; problem is null && i < outputs.Count; i++)
        {
            if (outputs[i].Length == 0) continue;
            var saved = Path.Combine(entry, $"output-{i}");
            if (!File.Exists(saved)) { problem = $"it has no output-{i} for {outputs[i]}"; break; }
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outputs[i]))!);
            File.Copy(saved, outputs[i], overwrite: true);
            // a restored output is new: a copy keeps the time it was stored at, older than this build's inputs
            File.SetLastWriteTimeUtc(outputs[i], DateTime.UtcNow);
        }
        if (problem is null) return true;
        Log.LogWarningWithCodeFromResources(nameof(Strings.StageCacheRestoreFailed), StageName, Architecture, entry, problem);
        try { new LocalStageCache(Path.GetDirectoryName(entry)!).Remove(entry); }
        catch (IOException) { /* another build removes it */ }
        ClearDirectory(layer);
        return false;
    }

    /// <summary>
    /// Stores <paramref name="layer"/> (and the stage's other outputs) under <paramref name="key"/>, then
    /// evicts least recently used entries over StageCacheSize. A failure is LIVE1091, a warning: the build goes on.
    /// </summary>
    private protected void StoreLayer(LocalStageCache cache, string key, string layer, IReadOnlyList<string> outputs, string logPath, string what) =>
        StoreEntry(cache, key, what, entry =>
        {
            var result = CreateRunner().Run(LayerArchive.Create(layer, Path.Combine(entry, LayerArchive.FileName), logPath));
            if (result.ExitCode != 0) throw new IOException($"tar exited with code {result.ExitCode}: {result.TailText}");
            for (var i = 0; i < outputs.Count; i++)
                if (outputs[i].Length > 0 && File.Exists(outputs[i])) File.Copy(outputs[i], Path.Combine(entry, $"output-{i}"));
        });

    /// <summary>
    /// The file beside a layer whose content changes whenever the layer is rebuilt; a squashfs
    /// module of the layer is reused while it stays the same.
    /// </summary>
    internal static string LayerKey(string layer) => Path.GetFullPath(layer).TrimEnd('/') + ".key";

    /// <summary>
    /// The file beside a layer holding the stage cache key it was built or restored under
    /// (<see cref="StageKey.Uncacheable"/> when it has none): the layer's squashfs module is cached under a key chained from it.
    /// </summary>
    internal static string LayerCacheKey(string layer) => Path.GetFullPath(layer).TrimEnd('/') + ".cache-key";

    private protected static void WriteLayerCacheKey(string layer, string? key) =>
        File.WriteAllText(LayerCacheKey(layer), (key ?? StageKey.Uncacheable) + "\n");

    /// <summary>The cache key a layer was built under; null when it has none or is uncacheable.</summary>
    internal static string? ReadLayerCacheKey(string layer)
    {
        var file = LayerCacheKey(layer);
        var key = File.Exists(file) ? File.ReadAllText(file).Trim() : "";
        return key.Length == 0 || key == StageKey.Uncacheable ? null : key;
    }

    /// <summary>The whole log of a failed run: the line that tells the cause is often far above the tail.</summary>
    internal static string FullLog(ToolResult result) => File.Exists(result.LogPath) ? File.ReadAllText(result.LogPath) : result.TailText;

    /// <summary>
    /// LIVE2017 when the run failed because the disk filled up. The half-written layer is removed
    /// first (the stage reruns anyway), so the free space the message reports is what there really is.
    /// </summary>
    internal static void ThrowIfDiskFull(string stage, string what, string layer, ToolResult result)
    {
        if (DiskSpace.FirstSymptom(FullLog(result).Split('\n')) is not { } symptom) return;
        throw DiskFull(stage, what, symptom, layer, result.LogPath);
    }

    internal static LiveImageException DiskFull(string stage, string what, string symptom, string layer, string logPath)
    {
        try { ClearDirectory(layer); }
        catch (IOException) { /* the next run clears it */ }
        return new LiveImageException(nameof(Strings.StageDiskFull), stage, what, symptom, Path.GetFullPath(layer), DiskSpace.FreeMiB(layer), logPath);
    }

    /// <summary>LIVE2018 when apt could not reach the package mirror, naming it.</summary>
    internal static void ThrowIfMirrorUnreachable(string stage, ToolResult result)
    {
        if (MirrorFailure.Find(FullLog(result)) is { } failure)
            throw new LiveImageException(nameof(Strings.MirrorUnreachable), failure.Mirror, stage, failure.Reason, result.LogPath);
    }

    internal static void ClearDirectory(string path)
    {
        UserNamespace.RemoveTree(path);
        Directory.CreateDirectory(path);
    }
}

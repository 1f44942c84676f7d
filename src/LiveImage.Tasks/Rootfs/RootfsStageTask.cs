using LiveImage.Tasks.Diagnostics;
using LiveImage.Tasks.Processes;
using Microsoft.Build.Framework;

namespace LiveImage.Tasks.Rootfs;

/// <summary>
/// Base of the tasks that change the image: each writes only its own layer, on top of the
/// layers below it (DESIGN §3). The layer is cleared before the stage runs, so a stage that
/// was interrupted half-way is redone, never trusted.
/// </summary>
public abstract class RootfsStageTask : LiveImageTask
{
    /// <summary>The image's Debian architecture.</summary>
    [Required] public string Architecture { get; set; } = "";

    /// <summary>Layer directories below this stage, bottom first.</summary>
    public ITaskItem[] LowerLayers { get; set; } = [];

    /// <summary>This stage's own layer directory.</summary>
    [Required] public string Layer { get; set; } = "";

    /// <summary>Scratch directory for the overlay work dir and mount point.</summary>
    [Required] public string ScratchDirectory { get; set; } = "";

    /// <summary>Where the stage's tool output goes in full.</summary>
    [Required] public string LogFile { get; set; } = "";

    /// <summary>Shared download cache for .deb files; empty for none.</summary>
    public string PackageCache { get; set; } = "";

    /// <summary>Name of the stage for messages.</summary>
    public string StageName { get; set; } = "";

    /// <summary>The image's architecture when its programs run through qemu-user and binfmt_misc; empty when the host runs them.</summary>
    public string EmulatedArchitecture { get; set; } = "";

    /// <summary>Lets the stage register qemu-user's binfmt_misc handler while it runs (and restore it after).</summary>
    public bool RegisterBinfmt { get; set; }

    /// <summary>Clears the layer and any earlier log, runs the stage, then gives the layer a new generation key.</summary>
    protected sealed override void ExecuteCore()
    {
        var key = LayerKey(Layer);
        ClearDirectory(Layer);
        File.Delete(key);
        if (File.Exists(LogFile)) File.Delete(LogFile);
        try
        {
            using (OpenEmulation(EmulatedArchitecture, RegisterBinfmt))
                RunStage();
        }
        catch (IOException e) when (DiskSpace.IsFull([e.Message]))
        {
            throw DiskFull(StageName, "the build", e.Message, Layer, LogFile);
        }
        File.WriteAllText(key, Guid.NewGuid().ToString());
        if (SummarizesLayer) LogUsage(Log, StageName, Architecture, Layer, LowerLayers.Select(l => l.GetMetadata("FullPath")));
    }

    /// <summary>Whether the stage ends with its usage line (not for an interactive shell).</summary>
    private protected virtual bool SummarizesLayer => true;

    /// <summary>One line per stage: how much its layer added, the rootfs so far and how many packages it holds.</summary>
    internal static void LogUsage(Microsoft.Build.Utilities.TaskLoggingHelper log, string stage, string architecture, string layer, IEnumerable<string> lowerLayers)
    {
        var layers = lowerLayers.Append(Path.GetFullPath(layer)).ToList();
        var own = LayerUsage.Bytes(layer);
        var total = layers.Sum(LayerUsage.Bytes);
        var packages = LayerUsage.InstalledPackages(Enumerable.Reverse(layers));
        log.LogMessageFromResources(MessageImportance.High, "StageUsage", stage, architecture, LayerUsage.MiB(own), LayerUsage.MiB(total), packages?.ToString() ?? "no");
    }

    /// <summary>
    /// The file beside a layer whose content changes whenever the layer is rebuilt; a squashfs
    /// module of the layer is reused while it stays the same.
    /// </summary>
    internal static string LayerKey(string layer) => Path.GetFullPath(layer).TrimEnd('/') + ".key";

    protected abstract void RunStage();

    private protected RootfsNamespace Namespace(bool writable = true, bool system = true) => new()
    {
        Lower = LowerLayers.Select(l => l.GetMetadata("FullPath")).ToList(),
        Upper = writable ? Path.GetFullPath(Layer) : null,
        ScratchDirectory = Path.GetFullPath(ScratchDirectory),
        PackageCache = PackageCache.Length > 0 ? Path.GetFullPath(PackageCache) : null,
        MountSystem = system,
    };

    /// <summary>Runs a command in the namespace; a non-zero exit is a coded error with the log's tail.</summary>
    private protected ToolResult RunChecked(ToolCommand command, string what)
    {
        ToolResult result;
        try
        {
            result = CreateRunner().Run(command);
        }
        catch (IOException e) when (DiskSpace.IsFull([e.Message]))
        {
            throw DiskFull(StageName, $"{what} (writing its log)", e.Message, Layer, command.LogPath ?? LogFile);
        }
        foreach (var leftover in result.Leftovers) Log.LogWarningWithCodeFromResources("LeftoverProcess", what, leftover);
        if (result.ExitCode != 0) OnFailure(result, what);
        return result;
    }

    /// <summary>Turns a failed run into the most precise coded error the stage knows.</summary>
    private protected virtual void OnFailure(ToolResult result, string what)
    {
        ThrowIfDiskFull(StageName, what, Layer, result);
        ThrowIfMirrorUnreachable(StageName, result);
        ThrowIfEmulationFailure(EmulatedArchitecture, StageName, result);
        throw new LiveImageException("ToolFailed", what, result.ExitCode, StageName, result.TailText, result.LogPath);
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
        return new LiveImageException("StageDiskFull", stage, what, symptom, Path.GetFullPath(layer), DiskSpace.FreeMiB(layer), logPath);
    }

    /// <summary>LIVE2018 when apt could not reach the package mirror, naming it.</summary>
    internal static void ThrowIfMirrorUnreachable(string stage, ToolResult result)
    {
        if (MirrorFailure.Find(FullLog(result)) is { } failure)
            throw new LiveImageException("MirrorUnreachable", failure.Mirror, stage, failure.Reason, result.LogPath);
    }

    internal static void ClearDirectory(string path)
    {
        if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
        Directory.CreateDirectory(path);
    }

    /// <summary>The standard environment for apt and dpkg inside the image.</summary>
    internal static Dictionary<string, string> AptEnvironment() => new()
    {
        ["DEBIAN_FRONTEND"] = "noninteractive",
        ["DEBCONF_NONINTERACTIVE_SEEN"] = "true",
        ["APT_LISTCHANGES_FRONTEND"] = "none",
    };
}

using LiveImage.Tasks.Diagnostics;
using LiveImage.Tasks.Processes;
using LiveImage.Tasks.StageCache;
using Microsoft.Build.Framework;

namespace LiveImage.Tasks.Rootfs;

/// <summary>
/// Base of the tasks that change the image: each writes only its own layer, on top of the
/// layers below it (overlayfs), so a change reruns that stage and the ones above it, never the
/// ones below (README, "How a build works"). The layer is cleared before the stage runs, so a
/// stage that was interrupted half-way is redone, never trusted.
/// </summary>
public abstract class RootfsStageTask : RootfsTask
{
    /// <summary>This stage's own layer directory.</summary>
    [Required] public string Layer { get; set; } = "";

    /// <summary>Where the stage's tool output goes in full.</summary>
    [Required] public string LogFile { get; set; } = "";

    /// <summary>Clears the layer and any earlier log, runs the stage, then gives the layer a new generation key.</summary>
    private protected sealed override void ExecuteStage()
    {
        var key = LayerKey(Layer);
        ClearDirectory(Layer);
        File.Delete(key);
        File.Delete(LayerCacheKey(Layer));
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
        WriteLayerCacheKey(Layer, ContentKey);
        if (SummarizesLayer) LogUsage(StageName, Layer, LowerLayers.Select(l => l.GetMetadata("FullPath")));
    }

    /// <summary>A stage of one layer is cached as that layer; a change of what a stage makes of its inputs bumps this.</summary>
    private protected override string? LogicVersion => "1";

    private protected override bool Restore(string entry)
    {
        ClearDirectory(Layer);
        File.Delete(LayerKey(Layer));
        File.Delete(LayerCacheKey(Layer));
        if (File.Exists(LogFile)) File.Delete(LogFile);
        if (!RestoreLayer(entry, Layer, CachedOutputs(), LogFile)) return false;
        File.WriteAllText(LayerKey(Layer), Guid.NewGuid().ToString());
        WriteLayerCacheKey(Layer, ContentKey);
        return true;
    }

    private protected override void Store(LocalStageCache cache, string key, IReadOnlyList<string> outputs) =>
        StoreLayer(cache, key, Layer, outputs, LogFile, StageName);

    /// <summary>Whether the stage ends with its usage line (not for an interactive shell).</summary>
    private protected virtual bool SummarizesLayer => true;

    protected abstract void RunStage();

    private protected RootfsNamespace Namespace(bool writable = true, bool system = true) =>
        Namespace(LowerLayers.Select(l => l.GetMetadata("FullPath")).ToList(), writable ? Path.GetFullPath(Layer) : null, ScratchDirectory, system);

    /// <summary>Runs a command in the namespace; a non-zero exit is a coded error with the log's tail.</summary>
    private protected ToolResult RunChecked(ToolCommand command, string what)
    {
        ToolResult result;
        try
        {
            result = RunInImage(command, what);
        }
        catch (IOException e) when (DiskSpace.IsFull([e.Message]))
        {
            throw DiskFull(StageName, $"{what} (writing its log)", e.Message, Layer, command.LogPath ?? LogFile);
        }
        if (result.ExitCode != 0) OnFailure(result, what);
        return result;
    }

    /// <summary>Turns a failed run into the most precise coded error the stage knows.</summary>
    private protected virtual void OnFailure(ToolResult result, string what)
    {
        ThrowIfKnownFailure(StageName, what, Layer, result);
        throw new LiveImageException(nameof(Strings.ToolFailed), what, result.ExitCode, StageName, result.TailText, result.LogPath);
    }
}

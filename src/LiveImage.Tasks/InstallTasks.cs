using LiveImage.Tasks.Diagnostics;
using LiveImage.Tasks.Processes;
using LiveImage.Tasks.Rootfs;
using Microsoft.Build.Framework;

namespace LiveImage.Tasks;

/// <summary>
/// Installs the image's packages (task-* and the rest) with the distribution's package manager
/// inside the image (Debian: apt, with Recommends unless a Package item says Recommends="false";
/// reference 000, points 12–15).
/// </summary>
public sealed class InstallTasks : RootfsStageTask
{
    public string Suite { get; set; } = "";
    public ITaskItem[] Packages { get; set; } = [];
    /// <summary>Extra archives (resolved AptSource items); those in force during the build are added before the install.</summary>
    public ITaskItem[] AptSources { get; set; } = [];

    protected override void RunStage()
    {
        var install = Distro.Install(Packages);
        High("StageStarting", StageName, Architecture, install.Description);
        var started = DateTime.UtcNow;
        var ns = Namespace();
        AddBuildSources(ns);
        if (Packages.Length == 0) return;
        foreach (var command in install.Commands)
        {
            var result = RunChecked(ns.InChroot(command.Command, LogFile, command.Environment), command.What);
            if (Distro.InstallSummary(result.Tail) is { } summary) Log.LogMessage(MessageImportance.High, $"{StageName} [{Architecture}]: {summary}");
        }
        High("StageFinished", StageName, Architecture, (DateTime.UtcNow - started).TotalSeconds);
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

    private protected override void OnFailure(ToolResult result, string what)
    {
        ThrowIfDiskFull(StageName, what, Layer, result);
        if (what == _sourcesUpdate)
            throw new LiveImageException("AptSourceUpdateFailed", string.Join(", ", AptSources.Select(s => s.ItemSpec)), StageName, result.TailText, result.LogPath);
        if (Distro.MissingPackage(FullLog(result)) is { } name)
            throw new LiveImageException("PackageNotFound", name, Suite, Architecture, StageName, result.LogPath);
        base.OnFailure(result, what);
    }
}

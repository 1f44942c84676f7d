using LiveImage.Tasks.Distributions;
using Microsoft.Build.Framework;

namespace LiveImage.Tasks;

/// <summary>
/// Base of the tasks that are a stage of the build; it owns the stage's bookkeeping the way MSBuild's
/// ToolTask owns its tool's. A stage target is its Inputs/Outputs and this one task: once MSBuild's
/// up-to-date check has decided that the stage runs, the task says why in one line ("runs because …"),
/// deletes the stamp, runs the stage, and only after success writes a new stamp and keeps a copy of
/// the stage's inputs cache (<c>&lt;stage&gt;.inputs.done</c>) for the next explanation. A stage that
/// fails or is interrupted has no stamp, so it runs again.
/// </summary>
public abstract class StageTask : LiveImageTask
{
    /// <summary>The image's Debian architecture.</summary>
    public abstract string Architecture { get; set; }

    /// <summary>The distribution the image is built from (the Distribution property); its work goes through <see cref="Distro"/>.</summary>
    public string Distribution { get; set; } = KnownDistributions.Default;

    /// <summary>Name of the stage for messages.</summary>
    public string StageName { get; set; } = "";

    /// <summary>The stage's current non-file inputs, one "Name=value" per line (WriteStageInputs); empty: no explanation and no copy.</summary>
    public string InputsCache { get; set; } = "";

    /// <summary>The stage's stamp: its target's output; empty for none.</summary>
    public string Stamp { get; set; } = "";

    /// <summary>The stage's input files (the stage below, hooks, files), named when one of them is why it runs.</summary>
    public ITaskItem[] InputFiles { get; set; } = [];

    /// <summary>
    /// Whether <see cref="Stamp"/> is the bookkeeping's own file, deleted before and written after the
    /// stage; not when it is the stage's product (the squashfs, the ISO), which the stage writes itself.
    /// </summary>
    private protected virtual bool WritesStamp => true;

    /// <summary>The distribution's side of the stage's work; LIVE1040 when the name is unknown.</summary>
    private protected IDistribution Distro => KnownDistributions.Get(Distribution);

    /// <summary>The copy of an inputs cache kept at the stage's last success.</summary>
    internal static string LastInputs(string inputsCache) => Path.ChangeExtension(inputsCache, ".done");

    protected sealed override void ExecuteCore()
    {
        if (InputsCache.Length > 0)
            Log.LogMessage(MessageImportance.High, $"{StageName} [{Architecture}]: runs because {ExplainStage.Reason(InputsCache, LastInputs(InputsCache), Stamp, InputFiles)}");
        var stamp = WritesStamp && Stamp.Length > 0 ? Stamp : null;
        if (stamp is not null && File.Exists(stamp)) File.Delete(stamp);
        ExecuteStage();
        if (Log.HasLoggedErrors) return;
        if (stamp is not null) File.WriteAllText(stamp, Guid.NewGuid() + "\n");
        if (InputsCache.Length > 0) File.Copy(InputsCache, LastInputs(InputsCache), overwrite: true);
    }

    /// <summary>The stage's own work.</summary>
    private protected abstract void ExecuteStage();
}

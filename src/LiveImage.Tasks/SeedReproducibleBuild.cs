using LiveImage.Tasks.Diagnostics;
using LiveImage.Tasks.Processes;
using Microsoft.Build.Framework;

namespace LiveImage.Tasks;

/// <summary>
/// Prepares -t:VerifyReproducible's second build: an empty intermediate folder (From=bootstrap: every
/// stage runs again, from clean), or one holding the first build's stages below the hooks
/// (From=hooks: their layers hard-linked, never written by the stages above, and their stamps and
/// inputs copied with their times, so the second build starts at the hooks; cheap, and it says only
/// that the stages from the hooks up are reproducible).
/// </summary>
public sealed class SeedReproducibleBuild : LiveImageTask
{
    public const string FromBootstrap = "bootstrap";
    public const string FromHooks = "hooks";

    [Required] public string From { get; set; } = FromBootstrap;
    /// <summary>The first build's intermediate folder (obj/&lt;Configuration&gt;/&lt;arch&gt;/).</summary>
    [Required] public string FirstDirectory { get; set; } = "";
    /// <summary>The second build's root: emptied, and the second build's intermediate folder made in it.</summary>
    [Required] public string SecondRoot { get; set; } = "";
    [Required] public string SecondDirectory { get; set; } = "";
    /// <summary>With From=hooks: what is shared, relative to the intermediate folder; directories are layers (hard-linked).</summary>
    public string[] Shared { get; set; } = [];
    public string LogFile { get; set; } = "";

    protected override void ExecuteCore()
    {
        if (From is not (FromBootstrap or FromHooks)) throw new LiveImageException(nameof(Strings.UnknownReproducibleFrom), From);
        var root = Path.GetFullPath(SecondRoot);
        if (Directory.Exists(root)) Run("rm", ["-rf", "--one-file-system", root]);
        var second = Path.GetFullPath(SecondDirectory);
        Directory.CreateDirectory(second);
        if (From == FromBootstrap) return;
        var first = Path.GetFullPath(FirstDirectory);
        foreach (var relative in Shared)
        {
            var source = Path.Combine(first, relative);
            var target = Path.Combine(second, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target.TrimEnd('/'))!);
            if (Directory.Exists(source)) Run("cp", ["-a", "--link", source.TrimEnd('/'), target.TrimEnd('/')]);
            else if (File.Exists(source)) Run("cp", ["-a", source, target]);
        }
        Log.LogMessage(MessageImportance.High, $"verify-reproducible [{Path.GetFileName(first.TrimEnd('/'))}]: the second build shares the first's stages below the hooks (VerifyReproducibleFrom=hooks)");
    }

    private void Run(string tool, IReadOnlyList<string> args)
    {
        var result = CreateRunner().Run(new ToolCommand(tool, args) { LogPath = LogFile.Length > 0 ? LogFile : null });
        if (result.ExitCode != 0) throw new LiveImageException(nameof(Strings.ToolFailed), tool, result.ExitCode, "verify-reproducible", result.TailText, result.LogPath);
    }
}

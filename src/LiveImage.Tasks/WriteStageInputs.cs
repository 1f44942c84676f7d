using Microsoft.Build.Framework;

namespace LiveImage.Tasks;

/// <summary>
/// Writes every stage's inputs cache (<c>&lt;stage&gt;.inputs.cache</c> in <see cref="Directory"/>) from
/// <see cref="Inputs"/>, one "Name=value" item per line, grouped by their Stage metadata. A file is
/// rewritten only when its content changes (as CoreCompileInputs.cache is), so that its time tells
/// MSBuild's up-to-date check whether the stage's non-file inputs changed.
/// </summary>
public sealed class WriteStageInputs : LiveImageTask
{
    /// <summary>Where the caches go (obj/&lt;Configuration&gt;/&lt;arch&gt;/).</summary>
    [Required] public string Directory { get; set; } = "";

    /// <summary>The stages whose caches are written, also when they have no input (an empty file).</summary>
    [Required] public string[] Stages { get; set; } = [];

    /// <summary>The inputs, each with the Stage metadata naming its stage.</summary>
    public ITaskItem[] Inputs { get; set; } = [];

    protected override void ExecuteCore()
    {
        System.IO.Directory.CreateDirectory(Directory);
        foreach (var stage in Stages)
        {
            var content = string.Concat(Inputs.Where(i => i.GetMetadata("Stage") == stage).Select(i => i.ItemSpec + "\n"));
            var path = Path.Combine(Directory, stage + ".inputs.cache");
            if (File.Exists(path) && File.ReadAllText(path) == content) continue;
            File.WriteAllText(path, content);
        }
    }
}

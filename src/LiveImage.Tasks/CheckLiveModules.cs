using LiveImage.Tasks.Configuration;
using LiveImage.Tasks.Diagnostics;
using LiveImage.Tasks.Iso;
using Microsoft.Build.Framework;

namespace LiveImage.Tasks;

/// <summary>
/// Checks the LiveModule items (prebuilt modules stacked on top of the image) before any long work:
/// each file exists, is a squashfs (its magic 'hsqs'), and has a name of its own ending in .squashfs.
/// Errors point at the item's line in the project.
/// </summary>
public sealed class CheckLiveModules : LiveImageTask
{
    public ITaskItem[] Modules { get; set; } = [];
    public string ProjectFile { get; set; } = "";

    protected override void ExecuteCore()
    {
        var project = ProjectFile.Length > 0 ? ProjectLocations.Load(ProjectFile) : ProjectLocations.None;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var module in Modules)
        {
            var at = project.Item("LiveModule", module.ItemSpec);
            var path = module.GetMetadata("FullPath");
            var name = Path.GetFileName(path);
            if (!File.Exists(path)) Log.Error(at, nameof(Strings.LiveModuleMissing), module.ItemSpec, path);
            else if (!IsSquashfs(path)) Log.Error(at, nameof(Strings.LiveModuleNotSquashfs), module.ItemSpec, FirstBytes(path));
            else if (!name.EndsWith(".squashfs", StringComparison.Ordinal) || name == TopModules.Merged || !seen.Add(name))
                Log.Error(at, nameof(Strings.LiveModuleNameTaken), module.ItemSpec, name, TopModules.Merged + (seen.Count > 0 ? ", " + string.Join(", ", seen) : ""));
        }
    }

    /// <summary>A squashfs starts with its magic number 0x73717368, little-endian: the bytes 'hsqs'.</summary>
    internal static bool IsSquashfs(string path) => FirstBytes(path) == "hsqs";

    private static string FirstBytes(string path)
    {
        using var stream = File.OpenRead(path);
        var buffer = new byte[4];
        var read = stream.ReadAtLeast(buffer, 4, throwOnEndOfStream: false);
        return new string(buffer.Take(read).Select(b => b is >= 0x20 and < 0x7f ? (char)b : '.').ToArray());
    }
}

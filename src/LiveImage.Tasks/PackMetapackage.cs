using System.Text;
using LiveImage.Tasks.Diagnostics;
using LiveImage.Tasks.Processes;
using Microsoft.Build.Framework;

namespace LiveImage.Tasks;

/// <summary>
/// Writes a real Debian metapackage whose Depends are the image's package list, so other images
/// (or installed machines) can get the same package set with one 'apt install'.
/// </summary>
public sealed class PackMetapackage : LiveImageTask
{
    [Required] public string PackageName { get; set; } = "";
    [Required] public string Version { get; set; } = "";
    [Required] public ITaskItem[] Depends { get; set; } = [];
    [Required] public string OutputDirectory { get; set; } = "";
    [Required] public string LogFile { get; set; } = "";
    public string Description { get; set; } = "";
    public string Maintainer { get; set; } = "LiveImage.Sdk <root@localhost>";

    [Output] public string DebFile { get; private set; } = "";

    protected override void ExecuteCore()
    {
        var version = DebianVersion(Version);
        var output = Path.GetFullPath(OutputDirectory);
        Directory.CreateDirectory(output);
        DebFile = Path.Combine(output, $"{PackageName}_{version}_all.deb");
        var root = Path.Combine(output, $".{PackageName}.build");
        if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        Directory.CreateDirectory(Path.Combine(root, "DEBIAN"));
        File.WriteAllText(Path.Combine(root, "DEBIAN", "control"), Control(version));
        try
        {
            var result = CreateRunner().Run(new ToolCommand("dpkg-deb", ["--root-owner-group", "--build", root, DebFile]) { LogPath = LogFile });
            if (result.ExitCode != 0) throw new LiveImageException(nameof(Strings.ToolFailed), "dpkg-deb", result.ExitCode, "metapackage", result.TailText, result.LogPath);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
        Log.LogMessage(MessageImportance.High, $"{PackageName} -> {DebFile}");
    }

    internal string Control(string version)
    {
        var depends = string.Join(", ", Depends.Select(d => d.ItemSpec).Distinct(StringComparer.Ordinal));
        var text = new StringBuilder()
            .Append($"Package: {PackageName}\n")
            .Append($"Version: {version}\n")
            .Append("Architecture: all\n")
            .Append($"Maintainer: {Maintainer}\n")
            .Append($"Depends: {depends}\n")
            .Append("Section: metapackages\n")
            .Append("Priority: optional\n")
            .Append($"Description: {(Description.Length > 0 ? Description : "Packages of a live image")}\n")
            .Append(" Installs the packages of a live image built with LiveImage.Sdk.\n");
        return text.ToString();
    }

    /// <summary>SemVer's pre-release dash sorts like Debian's tilde (1.0.0-beta &lt; 1.0.0).</summary>
    internal static string DebianVersion(string semver) => semver.Replace('-', '~').Replace('+', '.');
}

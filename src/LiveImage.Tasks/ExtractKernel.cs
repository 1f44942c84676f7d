using LiveImage.Tasks.Internal;
using Microsoft.Build.Framework;

namespace LiveImage.Tasks;

/// <summary>Copies the newest kernel and its initrd out of the image (read-only view) for the boot loaders.</summary>
public sealed class ExtractKernel : LiveImageTask
{
    [Required] public ITaskItem[] Layers { get; set; } = [];
    [Required] public string ScratchDirectory { get; set; } = "";
    [Required] public string OutputDirectory { get; set; } = "";
    [Required] public string LogFile { get; set; } = "";
    public string KernelPackage { get; set; } = "";

    [Output] public string KernelVersion { get; private set; } = "";

    protected override void ExecuteCore()
    {
        var ns = new RootfsNamespace
        {
            Lower = Layers.Select(l => l.GetMetadata("FullPath")).ToList(),
            ScratchDirectory = Path.GetFullPath(ScratchDirectory),
            MountSystem = false,
        };
        var output = Path.GetFullPath(OutputDirectory);
        Directory.CreateDirectory(output);
        var result = CreateRunner().Run(ns.OnHost(["/bin/sh", "-c", Script, "extract", output], LogFile));
        if (result.ExitCode == 3) throw new LiveImageException("NoKernel", "/boot", KernelPackage);
        if (result.ExitCode != 0) throw new LiveImageException("ToolFailed", "kernel extraction", result.ExitCode, "kernel", result.TailText, result.LogPath);
        KernelVersion = result.Tail.LastOrDefault() ?? "";
    }

    private const string Script = """
        set -eu
        cd "$LIVEIMAGE_ROOT/boot"
        kernel=$(ls vmlinuz-* 2>/dev/null | sort -V | tail -n 1)
        [ -n "$kernel" ] || exit 3
        version=${kernel#vmlinuz-}
        [ -f "initrd.img-$version" ] || exit 3
        cp "vmlinuz-$version" "$1/vmlinuz"
        cp "initrd.img-$version" "$1/initrd.img"
        echo "$version"
        """;
}

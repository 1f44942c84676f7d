using LiveImage.Tasks.Diagnostics;
using LiveImage.Tasks.Distributions;
using LiveImage.Tasks.Processes;
using Microsoft.Build.Framework;

namespace LiveImage.Tasks.Rootfs;

/// <summary>
/// Copies the newest kernel and its initrd out of the image (read-only view) for the boot loaders,
/// with the distribution's file names (<see cref="KernelLayout"/>), and the kernel's device trees when <paramref name="IncludeDtb"/> or <paramref name="Dtb"/> ask for them.
/// </summary>
internal sealed record KernelExtraction(ITaskItem[] Layers, string ScratchDirectory, string OutputDirectory, string LogFile,
    string KernelPackage, bool IncludeDtb, string Dtb, string DtbDirectory, KernelLayout Kernel)
{
    /// <summary>Copies the kernel and initrd (and the device trees asked for); returns the kernel version.</summary>
    public string Run(ProcessRunner runner)
    {
        var ns = RootfsNamespace.ReadOnlyView(Layers, ScratchDirectory);
        var output = Path.GetFullPath(OutputDirectory);
        Directory.CreateDirectory(output);
        var dtbs = DtbDirectory.Length > 0 ? Path.GetFullPath(DtbDirectory) : "";
        if (dtbs.Length > 0 && Directory.Exists(dtbs)) Directory.Delete(dtbs, recursive: true);
        var env = new Dictionary<string, string>
        {
            ["LIVEIMAGE_DTB_ALL"] = IncludeDtb ? "1" : "", ["LIVEIMAGE_DTB"] = Dtb,
            ["LIVEIMAGE_KERNEL"] = Kernel.Image, ["LIVEIMAGE_INITRD"] = Kernel.Initrd, ["LIVEIMAGE_DTBS"] = Kernel.DeviceTrees,
        };
        var result = runner.Run(ns.OnHost(["/bin/sh", "-c", Script, "extract", output, dtbs], LogFile, env));
        if (result.ExitCode == 3) throw new LiveImageException(nameof(Strings.NoKernel), "/boot", KernelPackage);
        if (result.ExitCode == 4) throw new LiveImageException(nameof(Strings.DtbNotFound), Dtb, result.Tail.LastOrDefault() ?? "", KernelPackage);
        if (result.ExitCode != 0) throw new LiveImageException(nameof(Strings.ToolFailed), "kernel extraction", result.ExitCode, "kernel", result.TailText, result.LogPath);
        return result.Tail.LastOrDefault() ?? "";
    }

    private const string Script = """
        set -eu
        cd "$LIVEIMAGE_ROOT/boot"
        kernel=$(ls "$LIVEIMAGE_KERNEL"* 2>/dev/null | sort -V | tail -n 1)
        [ -n "$kernel" ] || exit 3
        version=${kernel#"$LIVEIMAGE_KERNEL"}
        [ -f "$LIVEIMAGE_INITRD$version" ] || exit 3
        cp "$LIVEIMAGE_KERNEL$version" "$1/vmlinuz"
        cp "$LIVEIMAGE_INITRD$version" "$1/initrd.img"
        if [ -n "$2" ] && { [ -n "$LIVEIMAGE_DTB_ALL" ] || [ -n "$LIVEIMAGE_DTB" ]; }; then
            dtbs=$LIVEIMAGE_DTBS$version
            if [ -n "$LIVEIMAGE_DTB" ] && [ ! -f "$LIVEIMAGE_ROOT$dtbs/$LIVEIMAGE_DTB" ]; then echo "$dtbs"; exit 4; fi
            mkdir -p "$2"
            if [ -n "$LIVEIMAGE_DTB_ALL" ]; then cp -r "$LIVEIMAGE_ROOT$dtbs/." "$2/"; fi
            if [ -n "$LIVEIMAGE_DTB" ]; then mkdir -p "$2/$(dirname "$LIVEIMAGE_DTB")"; cp "$LIVEIMAGE_ROOT$dtbs/$LIVEIMAGE_DTB" "$2/$LIVEIMAGE_DTB"; fi
            echo "device trees: $(find "$2" -name '*.dtb' | wc -l) in $2"
        fi
        echo "$version"
        """;
}

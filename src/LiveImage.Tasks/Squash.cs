using LiveImage.Tasks.Internal;
using Microsoft.Build.Framework;

namespace LiveImage.Tasks;

/// <summary>
/// Squashes the merged view of all layers with mksquashfs. mksquashfs can fail silently and
/// leave a few KiB of junk (reference 000, point 17): a result under 1 MiB is an error.
/// </summary>
public sealed class Squash : LiveImageTask
{
    public const long MinimumSize = 1024 * 1024;
    public const long Fat32Limit = 4L * 1024 * 1024 * 1024;

    [Required] public ITaskItem[] Layers { get; set; } = [];
    [Required] public string ScratchDirectory { get; set; } = "";
    [Required] public string OutputFile { get; set; } = "";
    [Required] public string LogFile { get; set; } = "";
    public string Architecture { get; set; } = "";
    public string Compression { get; set; } = "zstd";
    /// <summary>Compressor options, e.g. "-Xcompression-level 19"; empty for the compressor's default.</summary>
    public string CompressionOptions { get; set; } = "";

    protected override void ExecuteCore()
    {
        High("StageStarting", "squash", Architecture, $"mksquashfs ({Compression})");
        var started = DateTime.UtcNow;
        var output = Path.GetFullPath(OutputFile);
        Directory.CreateDirectory(Path.GetDirectoryName(output)!);
        // written under a temporary name: an interrupted run never leaves a file that looks up to date
        var partial = output + ".tmp";
        if (File.Exists(partial)) File.Delete(partial);
        if (File.Exists(LogFile)) File.Delete(LogFile);
        var ns = new RootfsNamespace
        {
            Lower = Layers.Select(l => l.GetMetadata("FullPath")).ToList(),
            ScratchDirectory = Path.GetFullPath(ScratchDirectory),
            MountSystem = false,
        };
        var args = new List<string>
        {
            "mksquashfs", ns.MergedDirectory, partial, "-noappend", "-no-progress", "-comp", Compression,
            // the contents of these are made at boot; their mount points stay
            "-wildcards", "-e", "proc/*", "sys/*", "dev/*", "run/*", "tmp/*",
        };
        if (CompressionOptions.Length > 0) args.InsertRange(7, CompressionOptions.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        var result = CreateRunner().Run(ns.OnHost(args, LogFile));
        if (result.ExitCode != 0)
        {
            if (File.Exists(partial)) File.Delete(partial);
            throw new LiveImageException("ToolFailed", "mksquashfs", result.ExitCode, "squash", result.TailText, result.LogPath);
        }
        CheckSize(partial);
        File.Move(partial, output, overwrite: true);
        High("StageFinished", "squash", Architecture, (DateTime.UtcNow - started).TotalSeconds);
    }

    private void CheckSize(string partial)
    {
        var output = Path.GetFullPath(OutputFile);
        var size = new FileInfo(partial).Length;
        if (size < MinimumSize)
        {
            var free = new DriveInfo(Path.GetDirectoryName(partial)!).AvailableFreeSpace / (1024 * 1024);
            File.Delete(partial);
            throw new LiveImageException("SquashTooSmall", output, size, free);
        }
        if (size > Fat32Limit) Log.LogWarningWithCodeFromResources("SquashTooLarge", output, size / (1024 * 1024));
        Log.LogMessage(MessageImportance.High, $"squash [{Architecture}]: {output} {size / (1024 * 1024)} MiB");
    }
}

namespace LiveImage.Tasks.Rootfs;

/// <summary>
/// What a stage left behind, for its summary line: the bytes of its own layer, the rootfs so far
/// (the layers' sum: a file replaced in an upper layer counts twice, so it is an upper bound) and
/// the packages dpkg has installed (from the uppermost layer's dpkg status).
/// </summary>
internal static class LayerUsage
{
    /// <summary>Bytes of the regular files below a directory (symbolic links not followed).</summary>
    public static long Bytes(string directory)
    {
        if (!Directory.Exists(directory)) return 0;
        var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint, IgnoreInaccessible = true };
        long total = 0;
        foreach (var file in new DirectoryInfo(directory).EnumerateFiles("*", options)) total += file.Length;
        return total;
    }

    /// <summary>Installed packages in the topmost layer that holds var/lib/dpkg/status; null when none does.</summary>
    public static int? InstalledPackages(IEnumerable<string> layersTopFirst)
    {
        foreach (var layer in layersTopFirst)
        {
            var status = Path.Combine(layer, "var/lib/dpkg/status");
            if (File.Exists(status)) return CountInstalled(File.ReadLines(status));
        }
        return null;
    }

    internal static int CountInstalled(IEnumerable<string> statusLines) =>
        statusLines.Count(l => l.StartsWith("Status: ", StringComparison.Ordinal) && l.EndsWith(" installed", StringComparison.Ordinal) && l.Contains(" ok ", StringComparison.Ordinal));

    public static string MiB(long bytes) => $"{bytes / (1024.0 * 1024.0):0} MiB";
}

namespace LiveImage.Tasks.Rootfs;

/// <summary>
/// What a stage left behind, for its summary line: the bytes of its own layer, the rootfs so far
/// (the layers' sum: a file replaced in an upper layer counts twice, so it is an upper bound); the
/// distribution counts the installed packages.
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

    public static string MiB(long bytes) => $"{bytes / (1024.0 * 1024.0):0} MiB";
}

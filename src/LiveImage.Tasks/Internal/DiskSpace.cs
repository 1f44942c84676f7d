namespace LiveImage.Tasks.Internal;

/// <summary>Tells a full disk from other tool failures, and how much space is left where a stage writes.</summary>
internal static class DiskSpace
{
    /// <summary>strerror(ENOSPC) and quota exhaustion, as tools print them (the C locale's wording).</summary>
    private static readonly string[] Symptoms = ["No space left on device", "Disk quota exceeded", "ENOSPC"];

    public static bool IsFull(IEnumerable<string> toolOutput) =>
        toolOutput.Any(line => Symptoms.Any(s => line.Contains(s, StringComparison.OrdinalIgnoreCase)));

    /// <summary>Free space, in MiB, on the filesystem holding <paramref name="path"/> (or its nearest existing parent); -1 if unknown.</summary>
    public static long FreeMiB(string path)
    {
        try
        {
            var dir = Path.GetFullPath(path);
            while (!Directory.Exists(dir) && Path.GetDirectoryName(dir) is { } parent) dir = parent;
            // DriveInfo takes the mount point the path is on (statvfs of the path itself)
            return new DriveInfo(dir).AvailableFreeSpace / (1024 * 1024);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return -1;
        }
    }
}

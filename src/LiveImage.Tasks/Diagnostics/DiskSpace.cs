namespace LiveImage.Tasks.Diagnostics;

/// <summary>Tells a full disk from other tool failures, and how much space is left where a stage writes.</summary>
internal static class DiskSpace
{
    /// <summary>strerror(ENOSPC), quota exhaustion and apt's own check before it downloads, as tools print them (the C locale's wording).</summary>
    private static readonly string[] Symptoms = ["No space left on device", "Disk quota exceeded", "ENOSPC", "You don't have enough free space in"];

    public static bool IsFull(IEnumerable<string> toolOutput) => FirstSymptom(toolOutput) is not null;

    /// <summary>The first line of a tool's output that says the disk is full; null when none does.</summary>
    public static string? FirstSymptom(IEnumerable<string> toolOutput) =>
        toolOutput.FirstOrDefault(line => Symptoms.Any(s => line.Contains(s, StringComparison.OrdinalIgnoreCase)))?.Trim();

    /// <summary>The path .NET names in an I/O error's message ("No space left on device : '/path'"); null when it names none.</summary>
    public static string? PathIn(string message)
    {
        var end = message.LastIndexOf('\'');
        var start = end > 0 ? message.LastIndexOf('\'', end - 1) : -1;
        return start >= 0 && message[(start + 1)..end].StartsWith('/') ? message[(start + 1)..end] : null;
    }

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

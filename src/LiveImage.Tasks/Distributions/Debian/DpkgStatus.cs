namespace LiveImage.Tasks.Distributions.Debian;

/// <summary>The packages dpkg has installed, from the uppermost layer's dpkg status.</summary>
internal static class DpkgStatus
{
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
}

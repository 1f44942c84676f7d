using System.Globalization;
using LiveImage.Tasks.Packages;

namespace LiveImage.Tasks.Distributions.Debian;

/// <summary>The packages dpkg has installed, from the uppermost layer's dpkg status, and the archives apt knows, from its lists.</summary>
internal static class DpkgStatus
{
    /// <summary>Installed packages in the topmost layer that holds var/lib/dpkg/status; null when none does.</summary>
    public static int? InstalledPackages(IEnumerable<string> layersTopFirst) =>
        StatusFile(layersTopFirst) is { } status ? CountInstalled(File.ReadLines(status)) : null;

    /// <summary>The installed packages with version and architecture, from the topmost dpkg status; null when none holds one.</summary>
    public static IReadOnlyList<LockedPackage>? InstalledVersions(IEnumerable<string> layersTopFirst) =>
        StatusFile(layersTopFirst) is { } status ? ParseInstalled(File.ReadLines(status)) : null;

    private static string? StatusFile(IEnumerable<string> layersTopFirst) =>
        layersTopFirst.Select(l => Path.Combine(l, "var/lib/dpkg/status")).FirstOrDefault(File.Exists);

    internal static int CountInstalled(IEnumerable<string> statusLines) =>
        statusLines.Count(l => l.StartsWith("Status: ", StringComparison.Ordinal) && IsInstalled(l));

    private static bool IsInstalled(string statusLine) =>
        statusLine.EndsWith(" installed", StringComparison.Ordinal) && statusLine.Contains(" ok ", StringComparison.Ordinal);

    internal static IReadOnlyList<LockedPackage> ParseInstalled(IEnumerable<string> statusLines)
    {
        var packages = new List<LockedPackage>();
        string name = "", version = "", architecture = "";
        var installed = false;
        foreach (var line in statusLines.Append(""))
        {
            if (line.Length == 0)
            {
                if (installed && name.Length > 0) packages.Add(new LockedPackage(name, version, architecture));
                name = version = architecture = "";
                installed = false;
            }
            else if (line.StartsWith("Package: ", StringComparison.Ordinal)) name = line[9..].Trim();
            else if (line.StartsWith("Version: ", StringComparison.Ordinal)) version = line[9..].Trim();
            else if (line.StartsWith("Architecture: ", StringComparison.Ordinal)) architecture = line[14..].Trim();
            else if (line.StartsWith("Status: ", StringComparison.Ordinal)) installed = IsInstalled(line);
        }
        return packages;
    }

    /// <summary>
    /// Every archive apt fetched lists of in the stacked layers (var/lib/apt/lists/*Release, the upper layer's
    /// file first): its codename (or suite) and the Date of its Release file.
    /// </summary>
    public static IReadOnlyList<LockedArchive> ArchiveDates(IEnumerable<string> layersTopFirst)
    {
        var seen = new HashSet<string>();
        var archives = new List<LockedArchive>();
        foreach (var layer in layersTopFirst)
        {
            var lists = Path.Combine(layer, "var/lib/apt/lists");
            if (!Directory.Exists(lists)) continue;
            foreach (var file in Directory.EnumerateFiles(lists, "*Release").Order(StringComparer.Ordinal))
            {
                // a whiteout (a character device) hides a lower layer's file: no content, so it is skipped too
                if (!seen.Add(Path.GetFileName(file)) || new FileInfo(file).Length == 0) continue;
                if (ParseRelease(File.ReadLines(file)) is { } archive) archives.Add(archive);
            }
        }
        return archives;
    }

    internal static LockedArchive? ParseRelease(IEnumerable<string> lines)
    {
        string? suite = null, codename = null, date = null;
        foreach (var line in lines)
        {
            if (line.Length == 0 || line.StartsWith("-----BEGIN PGP SIGNED", StringComparison.Ordinal) || line.StartsWith("Hash:", StringComparison.Ordinal)) continue;
            if (line.StartsWith(' ')) continue;
            if (line.StartsWith("Suite: ", StringComparison.Ordinal)) suite = line[7..].Trim();
            else if (line.StartsWith("Codename: ", StringComparison.Ordinal)) codename = line[10..].Trim();
            else if (line.StartsWith("Date: ", StringComparison.Ordinal)) date = line[6..].Trim();
            else if (line.StartsWith("-----BEGIN PGP SIGNATURE", StringComparison.Ordinal)) break;
        }
        var name = codename ?? suite;
        // Release dates are RFC 2822 ("Sat, 15 Nov 2025 08:40:39 UTC")
        return name is null || date is null || !DateTimeOffset.TryParse(date.Replace(" UTC", " +0000"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var when)
            ? null : new LockedArchive(name, when.ToUniversalTime());
    }
}

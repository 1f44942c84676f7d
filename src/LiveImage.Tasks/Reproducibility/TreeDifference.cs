using System.Security.Cryptography;

namespace LiveImage.Tasks.Reproducibility;

/// <summary>
/// What differs between two listings of a file system (path → the listing's line for it: type,
/// mode, owner, size, time) and two extracted copies of it (path → content): the paths, sorted.
/// </summary>
internal static class TreeDifference
{
    public static IReadOnlyList<string> Paths(IReadOnlyDictionary<string, string> firstListing, IReadOnlyDictionary<string, string> secondListing,
        string firstTree, string secondTree)
    {
        var differ = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var path in firstListing.Keys.Union(secondListing.Keys))
            if (!firstListing.TryGetValue(path, out var a) || !secondListing.TryGetValue(path, out var b) || a != b) differ.Add(path);
        foreach (var path in firstListing.Keys.Intersect(secondListing.Keys))
        {
            var a = Path.Combine(firstTree, path.TrimStart('/'));
            var b = Path.Combine(secondTree, path.TrimStart('/'));
            if (IsRegularFile(a) && IsRegularFile(b) && !SameContent(a, b)) differ.Add(path);
        }
        return [.. differ];
    }

    /// <summary>
    /// unsquashfs -lln's lines ("-rw-r--r-- 0/0 1234 2026-11-21 09:15 squashfs-root/etc/hostname"), by
    /// path inside the file system; the line, with the extraction root's name removed, is the entry's metadata.
    /// </summary>
    public static Dictionary<string, string> ParseUnsquashfsListing(string listing, string root = "squashfs-root")
    {
        var entries = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in listing.Split('\n'))
        {
            var at = line.IndexOf(" " + root, StringComparison.Ordinal);
            if (at < 0) continue;
            var rest = line[(at + 1 + root.Length)..];
            var path = rest.Split(" -> ")[0];
            entries[path.Length == 0 ? "/" : path] = line[..at] + " " + rest;
        }
        return entries;
    }

    /// <summary>xorriso's "-find / -exec lsdl" lines ("-r--r--r--    1 0        0          12 Nov 21 2026 '/isolinux/isolinux.cfg'"), by path.</summary>
    public static Dictionary<string, string> ParseXorrisoListing(string listing)
    {
        var entries = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in listing.Split('\n'))
        {
            var quote = line.IndexOf(" '/", StringComparison.Ordinal);
            if (quote < 0 || line.Length == 0 || "-dlcbps".IndexOf(line[0]) < 0) continue;
            var end = line.IndexOf('\'', quote + 2);
            if (end < 0) continue;
            entries[line[(quote + 2)..end]] = line;
        }
        return entries;
    }

    public static string Sha256(string file)
    {
        using var stream = File.OpenRead(file);
        return Convert.ToHexString(SHA256.HashData(stream)).ToLowerInvariant();
    }

    private static bool IsRegularFile(string path) =>
        File.Exists(path) && new FileInfo(path) is { LinkTarget: null } info && (info.Attributes & FileAttributes.Device) == 0;

    private static bool SameContent(string a, string b) =>
        new FileInfo(a).Length == new FileInfo(b).Length && Sha256(a) == Sha256(b);
}

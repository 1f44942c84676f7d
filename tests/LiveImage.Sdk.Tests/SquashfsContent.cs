namespace LiveImage.Sdk.Tests;

/// <summary>
/// What a squashfs holds, for comparing two builds: each entry's type, mode, owner, size, link
/// target or device numbers (unsquashfs -lln, without the date), and each regular file's SHA-256.
/// </summary>
internal static class SquashfsContent
{
    /// <summary>Entries by path: "listing line without date | sha256" (hash for regular files only).</summary>
    public static Dictionary<string, string> Read(string squashfs)
    {
        var (code, listing) = Tools.Run("unsquashfs", "-lln", squashfs);
        Assert.True(code == 0, listing);
        var entries = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in listing.Split('\n'))
        {
            var at = line.IndexOf(" squashfs-root", StringComparison.Ordinal);
            if (at < 0) continue;
            var fields = line[..at].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            // mode, owner, size (or "major, minor"), date, time: the date and time go
            var path = line[(at + " squashfs-root".Length)..];
            var target = "";
            var arrow = path.IndexOf(" -> ", StringComparison.Ordinal);
            if (fields[0].StartsWith('l') && arrow >= 0) (path, target) = (path[..arrow], path[(arrow + 4)..]);
            entries[path.Length == 0 ? "/" : path] = string.Join(' ', fields[..^2]) + (target.Length > 0 ? " -> " + target : "");
        }
        var extracted = Directory.CreateTempSubdirectory("liveimage-squashfs-").FullName;
        try
        {
            var dir = Path.Combine(extracted, "root");
            var (x, text) = Tools.Run("unsquashfs", "-q", "-n", "-d", dir, squashfs);
            Assert.True(x == 0, text);
            var (h, sums) = Tools.Run("sh", "-c", "cd \"$1\" && find . -type f -print0 | xargs -0 -r sha256sum", "sh", dir);
            Assert.True(h == 0, sums);
            foreach (var line in sums.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var path = line[66..][1..]; // "<64 hex>  ./path"
                entries[path] += " sha256:" + line[..64];
            }
        }
        finally
        {
            Directory.Delete(extracted, recursive: true);
        }
        return entries;
    }

    /// <summary>
    /// Each path whose entry differs, or that only one side has; for the paths <paramref name="madeAnewByEachBuild"/>
    /// matches (files every build writes differently, root or not) only the type, mode and owner count.
    /// </summary>
    public static IEnumerable<string> Differences(Dictionary<string, string> a, Dictionary<string, string> b, Func<string, bool> madeAnewByEachBuild)
    {
        foreach (var path in a.Keys.Union(b.Keys).Order(StringComparer.Ordinal))
        {
            a.TryGetValue(path, out var x);
            b.TryGetValue(path, out var y);
            if (madeAnewByEachBuild(path)) (x, y) = (ModeAndOwner(x), ModeAndOwner(y));
            if (x != y) yield return $"{path}: {x ?? "(missing)"}  <>  {y ?? "(missing)"}";
        }
    }

    private static string? ModeAndOwner(string? entry) => entry is null ? null : string.Join(' ', entry.Split(' ').Take(2));
}

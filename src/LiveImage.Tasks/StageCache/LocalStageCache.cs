namespace LiveImage.Tasks.StageCache;

/// <summary>
/// The local stage cache: one directory per key holding the stage's archive and its other outputs.
/// An entry is written under a temporary name and renamed into place when complete, so a killed
/// build never leaves an entry that looks complete. An entry's time is its last use: eviction removes
/// the least recently used entries first.
/// </summary>
internal sealed class LocalStageCache(string root)
{
    private const string TemporaryPrefix = ".tmp-";

    public string Root { get; } = Path.GetFullPath(root);

    /// <summary>The complete entry of <paramref name="key"/>, marked as just used; null when there is none.</summary>
    public string? Find(string key)
    {
        var entry = Path.Combine(Root, key);
        if (!Directory.Exists(entry)) return null;
        try { Directory.SetLastWriteTimeUtc(entry, DateTime.UtcNow); }
        catch (IOException) { /* evicted meanwhile: the caller's read fails and the stage runs */ }
        return entry;
    }

    /// <summary>A new, empty directory to write an entry into before <see cref="Commit"/>.</summary>
    public string Begin(string key)
    {
        var temporary = Path.Combine(Root, $"{TemporaryPrefix}{key}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(temporary);
        return temporary;
    }

    /// <summary>Renames a written entry into place; another build that stored the same key first wins.</summary>
    public void Commit(string temporary, string key)
    {
        var entry = Path.Combine(Root, key);
        try
        {
            if (!Directory.Exists(entry))
            {
                Directory.Move(temporary, entry);
                return;
            }
        }
        catch (IOException) when (Directory.Exists(entry))
        {
            // stored by a concurrent build between the check and the rename
        }
        Directory.Delete(temporary, recursive: true);
    }

    /// <summary>Removes an entry (a corrupt one, or a written one that is abandoned).</summary>
    public void Remove(string path)
    {
        if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
    }

    /// <summary>Complete entries with their size in bytes and last use, least recently used first.</summary>
    public IReadOnlyList<(string Path, long Bytes, DateTime LastUsed)> Entries() =>
        !Directory.Exists(Root) ? [] :
        [.. new DirectoryInfo(Root).EnumerateDirectories()
            .Where(d => !d.Name.StartsWith(TemporaryPrefix, StringComparison.Ordinal))
            .Select(d => (d.FullName, d.EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length), d.LastWriteTimeUtc))
            .OrderBy(e => e.LastWriteTimeUtc).ThenBy(e => e.FullName, StringComparer.Ordinal)];

    /// <summary>
    /// Removes least recently used entries until the cache holds at most <paramref name="limitBytes"/>,
    /// and entries a killed build left half-written a day ago; returns the removed entries.
    /// </summary>
    public IReadOnlyList<string> Evict(long limitBytes)
    {
        var removed = new List<string>();
        if (!Directory.Exists(Root)) return removed;
        foreach (var stale in Directory.GetDirectories(Root, TemporaryPrefix + "*").Where(d => Directory.GetLastWriteTimeUtc(d) < DateTime.UtcNow.AddDays(-1)))
            Remove(stale);
        var entries = Entries();
        var total = entries.Sum(e => e.Bytes);
        foreach (var (path, bytes, _) in entries)
        {
            if (total <= limitBytes) break;
            Remove(path);
            removed.Add(path);
            total -= bytes;
        }
        return removed;
    }

    /// <summary>Empties the cache (CleanStageCache).</summary>
    public void Clear()
    {
        if (Directory.Exists(Root)) Directory.Delete(Root, recursive: true);
    }

    /// <summary>
    /// A size such as 20G, 512M or 1048576 (bytes; K, M, G, T are powers of 1024); null when it is not one.
    /// </summary>
    public static long? ParseSize(string text)
    {
        text = text.Trim();
        if (text.Length == 0) return null;
        var unit = char.ToUpperInvariant(text[^1]);
        var shift = unit switch { 'K' => 10, 'M' => 20, 'G' => 30, 'T' => 40, _ => 0 };
        var number = shift > 0 ? text[..^1] : text;
        if (!long.TryParse(number, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value)) return null;
        return value > long.MaxValue >> shift ? null : value << shift;
    }
}

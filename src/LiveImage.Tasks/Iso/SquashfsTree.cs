using System.Text.RegularExpressions;

namespace LiveImage.Tasks.Iso;

/// <summary>One entry of 'unsquashfs -lln': type and mode, size (or device numbers), path, symlink target; and the module it came from.</summary>
internal sealed record SquashfsEntry(char Type, string Mode, long Size, string Path, string? LinkTarget, int Module)
{
    public bool IsDirectory => Type == 'd';
    public bool IsFile => Type == '-';
    public bool IsSymlink => Type == 'l';

    /// <summary>An overlayfs whiteout: a character device 0,0 in a layer squashed as it is on disk.</summary>
    public bool IsWhiteout { get; init; }

    public bool IsExecutable => Mode.Length >= 4 && Mode[3] is 'x' or 's';
}

/// <summary>
/// The file tree of an image read from 'unsquashfs -lln' listings, without extracting or
/// mounting anything. Several listings (the per-layer modules of a Debug build, bottom first)
/// are merged the way live-boot's overlay merges them: an upper entry replaces a lower one,
/// and a whiteout hides the path and everything below it. Opaque directories (an xattr the
/// listing does not show) are not honoured: a file a layer hid that way still shows here.
/// Paths are absolute; symlinks are resolved inside the image, never on the host.
/// </summary>
internal sealed partial class SquashfsTree
{
    private readonly Dictionary<string, SquashfsEntry> _entries = new(StringComparer.Ordinal);

    public int Count => _entries.Count;

    public static SquashfsTree Parse(params string[] listings)
    {
        var tree = new SquashfsTree();
        for (var module = 0; module < listings.Length; module++)
            foreach (var line in listings[module].Split('\n'))
                if (ParseLine(line.TrimEnd('\r'), module) is { } entry) tree.Add(entry);
        return tree;
    }

    internal static SquashfsEntry? ParseLine(string line, int module)
    {
        var m = ListingLine().Match(line);
        if (!m.Success) return null;
        var mode = m.Groups["mode"].Value;
        var size = m.Groups["size"].Value;
        var rest = m.Groups["path"].Value;
        string? target = null;
        if (mode[0] == 'l')
        {
            var arrow = rest.IndexOf(" -> ", StringComparison.Ordinal);
            if (arrow >= 0) { target = rest[(arrow + 4)..]; rest = rest[..arrow]; }
        }
        var path = rest.Length == 0 ? "/" : rest;
        var whiteout = mode[0] == 'c' && Regex.IsMatch(size, @"^0,\s*0$");
        return new SquashfsEntry(mode[0], mode, size.Contains(',') ? 0 : long.Parse(size), path, target, module) { IsWhiteout = whiteout };
    }

    private void Add(SquashfsEntry entry)
    {
        if (entry.IsWhiteout)
        {
            _entries.Remove(entry.Path);
            var below = entry.Path.TrimEnd('/') + "/";
            foreach (var key in _entries.Keys.Where(k => k.StartsWith(below, StringComparison.Ordinal)).ToList()) _entries.Remove(key);
            return;
        }
        _entries[entry.Path] = entry;
    }

    /// <summary>The entry at a path as written (no symlink followed).</summary>
    public SquashfsEntry? Get(string path) => _entries.GetValueOrDefault(path);

    /// <summary>The entry a path leads to with every symlink followed (inside the image), or null if it leads nowhere.</summary>
    public SquashfsEntry? Resolve(string path) => Resolve(path, 0);

    private SquashfsEntry? Resolve(string path, int depth)
    {
        if (depth > 40) return null; // a symlink loop
        var current = "/";
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        for (var i = 0; i < parts.Length; i++)
        {
            var part = parts[i];
            if (part == ".") continue;
            if (part == "..") { current = Parent(current); continue; }
            var candidate = current == "/" ? "/" + part : current + "/" + part;
            var entry = Get(candidate);
            if (entry is null) return null;
            if (entry.IsSymlink && entry.LinkTarget is not null)
            {
                var target = entry.LinkTarget.StartsWith('/') ? entry.LinkTarget : (current == "/" ? "/" : current + "/") + entry.LinkTarget;
                var rest = string.Join('/', parts.Skip(i + 1));
                return Resolve(rest.Length == 0 ? target : target.TrimEnd('/') + "/" + rest, depth + 1);
            }
            current = candidate;
        }
        return Get(Normalize(current)) ?? (current == "/" ? Get("/") : null);
    }

    private static string Parent(string path) =>
        path == "/" ? "/" : path[..path.LastIndexOf('/')] is { Length: > 0 } parent ? parent : "/";

    private static string Normalize(string path) => path.Length > 1 ? path.TrimEnd('/') : path;

    /// <summary>The entries directly or indirectly below a directory (as written, no symlink followed).</summary>
    public IEnumerable<SquashfsEntry> Below(string directory)
    {
        var prefix = directory.TrimEnd('/') + "/";
        return _entries.Values.Where(e => e.Path.StartsWith(prefix, StringComparison.Ordinal)).OrderBy(e => e.Path, StringComparer.Ordinal);
    }

    // mode, owner, size or "major, minor", date, time, path (possibly empty for the root)
    [GeneratedRegex(@"^(?<mode>[-dlcbps][-rwxsStT]{9})\s+\S+\s+(?<size>\d+|\d+,\s*\d+)\s+\d{4}-\d\d-\d\d \d\d:\d\d ?(?<path>.*)$")]
    private static partial Regex ListingLine();
}

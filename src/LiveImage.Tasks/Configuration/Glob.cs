using System.Text.RegularExpressions;

namespace LiveImage.Tasks.Configuration;

/// <summary>
/// MSBuild's file wildcards ('*' and '?' within a directory, '**' for any depth), for the patterns
/// MSBuild does not expand itself (a Hook's Inputs metadata) and to tell which project patterns
/// match nothing (MSBuild silently drops those). Only the directories a pattern names are walked.
/// </summary>
internal static class Glob
{
    public static bool IsWildcard(string pattern) => pattern.IndexOfAny(['*', '?']) >= 0;

    /// <summary>The files <paramref name="pattern"/> (relative to <paramref name="baseDirectory"/>, or absolute) matches, sorted.</summary>
    public static IReadOnlyList<string> Expand(string baseDirectory, string pattern)
    {
        var full = Path.GetFullPath(pattern.Replace('\\', '/'), baseDirectory);
        var segments = full.Split('/', StringSplitOptions.RemoveEmptyEntries);
        return [.. Walk("/", segments, 0).Distinct().Order(StringComparer.Ordinal)];
    }

    /// <summary>Whether a relative path matches a relative pattern.</summary>
    public static bool Matches(string pattern, string path) => PatternRegex(pattern.Replace('\\', '/')).IsMatch(path.Replace('\\', '/'));

    private static IEnumerable<string> Walk(string directory, string[] segments, int i)
    {
        if (i == segments.Length || !Directory.Exists(directory)) yield break;
        var segment = segments[i];
        var last = i == segments.Length - 1;
        if (segment == "**")
        {
            // any number of directories, none included; a symbolic link to a directory is not followed
            // (an image layer under obj/ may hold one to '/', which would never end)
            foreach (var file in last ? Directory.EnumerateFiles(directory) : Walk(directory, segments, i + 1)) yield return file;
            foreach (var sub in Directory.EnumerateDirectories(directory).Where(d => new DirectoryInfo(d).LinkTarget is null))
                foreach (var file in Walk(sub, segments, i)) yield return file;
            yield break;
        }
        if (!IsWildcard(segment))
        {
            var path = Path.Combine(directory, segment);
            if (last) { if (File.Exists(path)) yield return path; }
            else foreach (var file in Walk(path, segments, i + 1)) yield return file;
            yield break;
        }
        var regex = PatternRegex(segment);
        if (last)
        {
            foreach (var file in Directory.EnumerateFiles(directory).Where(f => regex.IsMatch(Path.GetFileName(f)))) yield return file;
            yield break;
        }
        foreach (var sub in Directory.EnumerateDirectories(directory).Where(d => regex.IsMatch(Path.GetFileName(d))))
            foreach (var file in Walk(sub, segments, i + 1)) yield return file;
    }

    private static Regex PatternRegex(string pattern)
    {
        var text = Regex.Escape(pattern)
            .Replace(@"\*\*/", "(?:.*/)?")
            .Replace(@"\*\*", ".*")
            .Replace(@"\*", "[^/]*")
            .Replace(@"\?", "[^/]");
        return new Regex("^" + text + "$", RegexOptions.CultureInvariant);
    }
}

using System.Text.RegularExpressions;

namespace LiveImage.Tasks.Diagnostics;

/// <summary>
/// A package mirror apt could not reach, told from apt's output: the mirror (the URL up to
/// /dists/ or /pool/) and apt's reason, as in
/// <c>E: Failed to fetch http://127.0.0.1:9/debian/dists/trixie/InRelease  Could not connect to 127.0.0.1:9 (127.0.0.1). - connect (111: Connection refused)</c>.
/// </summary>
internal sealed partial record MirrorFailure(string Mirror, string Reason)
{
    /// <summary>apt's wording (C locale) for a mirror it cannot talk to, as opposed to one that answered.</summary>
    private static readonly string[] NetworkSymptoms =
    [
        "Could not connect to", "Could not resolve", "Temporary failure resolving", "Connection refused",
        "Connection timed out", "Connection failed", "Unable to connect", "Network is unreachable",
        "No route to host", "Could not wait for server fd",
    ];

    /// <summary>The first unreachable mirror in apt's (or mmdebstrap's) output; null when there is none.</summary>
    public static MirrorFailure? Find(string aptOutput)
    {
        var lines = aptOutput.Split('\n');
        foreach (var line in lines)
        {
            if (FailedToFetch().Match(line) is { Success: true } m && IsNetwork(m.Groups["reason"].Value))
                return new MirrorFailure(MirrorOf(m.Groups["url"].Value), m.Groups["reason"].Value.Trim());
        }
        // apt-get update's own lines: "Err:1 <mirror> <suite> InRelease", the reason on the next line
        for (var i = 0; i + 1 < lines.Length; i++)
        {
            if (ErrLine().Match(lines[i]) is { Success: true } m && IsNetwork(lines[i + 1]))
                return new MirrorFailure(MirrorOf(m.Groups["url"].Value), lines[i + 1].Trim());
        }
        return null;
    }

    private static bool IsNetwork(string reason) => NetworkSymptoms.Any(s => reason.Contains(s, StringComparison.OrdinalIgnoreCase));

    /// <summary>The archive's root: what BuildMirror would say.</summary>
    internal static string MirrorOf(string url)
    {
        foreach (var marker in new[] { "/dists/", "/pool/" })
        {
            var at = url.IndexOf(marker, StringComparison.Ordinal);
            if (at > 0) return url[..at];
        }
        return url.TrimEnd('/');
    }

    [GeneratedRegex(@"Failed to fetch (?<url>\S+)\s+(?<reason>.+)$")]
    private static partial Regex FailedToFetch();

    [GeneratedRegex(@"^Err:\d+ (?<url>[a-z+]+://\S+)")]
    private static partial Regex ErrLine();
}

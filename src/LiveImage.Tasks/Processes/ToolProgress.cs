using System.Globalization;
using System.Text.RegularExpressions;

namespace LiveImage.Tasks.Processes;

/// <summary>
/// Turns a long-running tool's output into a few progress lines for the build log (one per tenth of the work,
/// per kind of step), and keeps the tool's redrawn progress bars out of the stage's log file.
/// </summary>
internal abstract class ToolProgress(string prefix)
{
    private readonly Dictionary<string, int> _lastTenth = [];

    /// <summary>Looks at one output line; true when the line belongs in the log file, <paramref name="progress"/> a line to show or null.</summary>
    public abstract bool Observe(string line, out string? progress);

    /// <summary>"prefix: verb done/total" the first time the work reaches a new tenth, else null.</summary>
    protected string? Step(string verb, long done, long total, string? detail = null)
    {
        if (total <= 0) return null;
        var tenth = (int)(Math.Min(done, total) * 10 / total);
        if (_lastTenth.TryGetValue(verb, out var last) && last >= tenth) return null;
        _lastTenth[verb] = tenth;
        return detail is null
            ? $"{prefix}: {verb} {done}/{total}"
            : $"{prefix}: {verb} {detail}";
    }
}

/// <summary>apt-get install: "unpacking N/M" and "setting up N/M", M from apt's "… newly installed" line.</summary>
internal sealed partial class AptProgress(string prefix) : ToolProgress(prefix)
{
    private long _total;
    private long _unpacked;
    private long _setUp;

    public override bool Observe(string line, out string? progress)
    {
        progress = null;
        if (Summary().Match(line) is { Success: true } m)
            _total = long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) + long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
        else if (line.StartsWith("Unpacking ", StringComparison.Ordinal))
            progress = Step("unpacking", ++_unpacked, _total);
        else if (line.StartsWith("Setting up ", StringComparison.Ordinal))
            progress = Step("setting up", ++_setUp, _total);
        return true;
    }

    [GeneratedRegex(@"^(\d+) upgraded, (\d+) newly installed")]
    private static partial Regex Summary();
}

/// <summary>mksquashfs: its redrawn bar ("[===/  ] 1234/5678  21%") becomes "21% (1234/5678 files)" every tenth.</summary>
internal sealed partial class SquashfsProgress(string prefix) : ToolProgress(prefix)
{
    public override bool Observe(string line, out string? progress)
    {
        progress = null;
        if (Bar().Match(line) is not { Success: true } m) return true;
        var done = long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        var total = long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
        progress = Step("compressing", done, total, $"{m.Groups[3].Value}% ({done}/{total})");
        return false;
    }

    [GeneratedRegex(@"\]\s+(\d+)/(\d+)\s+(\d+)%\s*$")]
    private static partial Regex Bar();
}

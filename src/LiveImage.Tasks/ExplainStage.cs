using Microsoft.Build.Framework;

namespace LiveImage.Tasks;

/// <summary>
/// Says in one line why a stage runs: which of its properties or items changed since its last
/// success, or which input file is newer (the stage below, a hook). Called first inside each
/// stage target, so it only runs when MSBuild's up-to-date check already decided to rebuild.
/// The SDK's own stages say it through <see cref="StageTask"/>; this task is for custom stages.
/// </summary>
public sealed class ExplainStage : LiveImageTask
{
    [Required] public string StageName { get; set; } = "";
    public string Architecture { get; set; } = "";
    /// <summary>The stage's current non-file inputs, one "Name=value" per line.</summary>
    [Required] public string InputsCache { get; set; } = "";
    /// <summary>The copy of <see cref="InputsCache"/> saved at the stage's last success.</summary>
    [Required] public string LastInputs { get; set; } = "";
    /// <summary>The stage's stamp (its output) and its input files.</summary>
    [Required] public string Stamp { get; set; } = "";
    public ITaskItem[] InputFiles { get; set; } = [];

    protected override void ExecuteCore() =>
        Log.LogMessage(MessageImportance.High, $"{StageName} [{Architecture}]: runs because {Reason()}");

    internal string Reason() => Reason(InputsCache, LastInputs, Stamp, InputFiles);

    /// <summary>Why a stage runs: its non-file inputs changed since <paramref name="lastInputs"/>, or an input file is newer than its stamp.</summary>
    internal static string Reason(string inputsCache, string lastInputs, string stamp, ITaskItem[] inputFiles)
    {
        if (!File.Exists(lastInputs) || !File.Exists(stamp)) return "it has not completed before";
        var before = File.ReadAllLines(lastInputs);
        var now = File.Exists(inputsCache) ? File.ReadAllLines(inputsCache) : [];
        var changes = Describe(before, now);
        if (changes.Count > 0) return string.Join("; ", changes);
        var stampTime = File.GetLastWriteTimeUtc(stamp);
        var newer = inputFiles.Select(f => f.GetMetadata("FullPath"))
            .FirstOrDefault(f => File.Exists(f) && File.GetLastWriteTimeUtc(f) > stampTime);
        return newer switch
        {
            null => "its output is missing or older than its inputs",
            _ when newer.EndsWith(".stamp", StringComparison.Ordinal) => $"the stage below it ({Path.GetFileNameWithoutExtension(newer)}) ran again",
            _ => $"'{newer}' changed",
        };
    }

    /// <summary>"Suite changed (bookworm -> trixie)", "Package=vim added", ...</summary>
    internal static List<string> Describe(IReadOnlyList<string> before, IReadOnlyList<string> now)
    {
        static Dictionary<string, List<string>> ByName(IEnumerable<string> lines) =>
            lines.GroupBy(l => l.Split('=', 2)[0]).ToDictionary(g => g.Key, g => g.Select(l => l.Contains('=') ? l.Split('=', 2)[1] : "").ToList());
        var (old, current) = (ByName(before), ByName(now));
        var changes = new List<string>();
        foreach (var name in old.Keys.Union(current.Keys))
        {
            var a = old.GetValueOrDefault(name) ?? [];
            var b = current.GetValueOrDefault(name) ?? [];
            if (a.SequenceEqual(b)) continue;
            // its value is only a token, but nothing standing for the password is ever printed
            if (name == "LivePassword") { changes.Add("LivePassword changed"); continue; }
            if (a.Count == 1 && b.Count == 1) { changes.Add($"{name} changed ({a[0]} -> {b[0]})"); continue; }
            changes.AddRange(b.Except(a).Select(v => $"{name} {v} added"));
            changes.AddRange(a.Except(b).Select(v => $"{name} {v} removed"));
            if (a.Order().SequenceEqual(b.Order())) changes.Add($"{name} order changed");
        }
        return changes;
    }
}

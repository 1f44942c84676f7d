using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace LiveImage.Tasks.Tests;

/// <summary>
/// Strings.resx holds every message: each LIVE code names one message (codes are never reused or
/// shared), every message is used by the tasks or the SDK's targets, and the tasks name messages
/// with nameof(Strings.X), which the compiler checks, never with a string literal.
/// </summary>
public sealed partial class StringsTests
{
    private static readonly string Src = Path.Combine(RepoRoot(), "src");

    private static IReadOnlyList<(string Name, string Value)> Resources() =>
        XDocument.Load(Path.Combine(Src, "LiveImage.Tasks/Resources/Strings.resx")).Root!.Elements("data")
            .Select(d => ((string)d.Attribute("name")!, (string)d.Element("value")!)).ToList();

    private static IEnumerable<string> SourceFiles(params string[] patterns) =>
        patterns.SelectMany(p => Directory.EnumerateFiles(Src, p, SearchOption.AllDirectories))
            .Where(f => !f.Contains("/obj/", StringComparison.Ordinal) && !f.Contains("/bin/", StringComparison.Ordinal));

    [Fact]
    public void EveryLiveCodeNamesOneMessage()
    {
        var codes = Resources().Select(r => Code().Match(r.Value)).Where(m => m.Success).Select(m => m.Groups[1].Value).ToList();
        // codes the targets raise themselves (<Error Code="LIVE1000" ...>) are taken too
        codes.AddRange(SourceFiles("*.targets", "*.props").SelectMany(f => TargetsCode().Matches(File.ReadAllText(f))).Select(m => m.Groups[1].Value));
        Assert.NotEmpty(codes);
        Assert.Empty(codes.GroupBy(c => c).Where(g => g.Count() > 1).Select(g => g.Key));
    }

    [Fact]
    public void EveryMessageIsUsedInSrc()
    {
        var code = string.Concat(SourceFiles("*.cs").Select(File.ReadAllText));
        var targets = string.Concat(SourceFiles("*.targets", "*.props").Select(File.ReadAllText));
        var unused = Resources().Select(r => r.Name).Where(name =>
            !Regex.IsMatch(code, $@"Strings\.{name}\b") && !Regex.IsMatch(targets, $@"\b{name}\b"));
        Assert.Empty(unused);
    }

    [Fact]
    public void TheTasksNameMessagesWithNameofNotWithLiterals()
    {
        var names = Resources().Select(r => r.Name).ToHashSet();
        var literals = SourceFiles("*.cs").SelectMany(f => Literal().Matches(File.ReadAllText(f))
            .Where(m => names.Contains(m.Groups[1].Value)).Select(m => $"{Path.GetRelativePath(Src, f)}: {m.Value}"));
        Assert.Empty(literals);
    }

    private static string RepoRoot()
    {
        var dir = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(dir, "LiveImage.Sdk.sln"))) dir = Path.GetDirectoryName(dir)!;
        return dir;
    }

    [GeneratedRegex(@"^(LIVE\d{4}): ")]
    private static partial Regex Code();

    [GeneratedRegex(@"Code=""(LIVE\d{4})""")]
    private static partial Regex TargetsCode();

    [GeneratedRegex(@"""([A-Z][A-Za-z0-9]*)""")]
    private static partial Regex Literal();
}

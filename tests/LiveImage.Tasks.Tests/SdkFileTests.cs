using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace LiveImage.Tasks.Tests;

/// <summary>Checks on the SDK's own .props/.targets text.</summary>
public sealed class SdkFileTests
{
    internal static string RepoRoot()
    {
        var dir = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(dir, "LiveImage.Sdk.sln"))) dir = Path.GetDirectoryName(dir)!;
        return dir;
    }

    /// <summary>MSBuild prints "error CODE: Text": a Text that starts with the code shows it twice (LIVE1000 did).</summary>
    [Fact]
    public void ErrorAndWarningTextsDoNotRepeatTheirCode()
    {
        var files = Directory.GetFiles(Path.Combine(RepoRoot(), "src/LiveImage.Sdk/Sdk"));
        var coded = files.SelectMany(f => XDocument.Load(f).Descendants())
            .Where(e => e.Name.LocalName is "Error" or "Warning" && e.Attribute("Code") is not null)
            .ToList();
        Assert.Contains(coded, e => e.Attribute("Code")!.Value == "LIVE1000");
        foreach (var e in coded)
            Assert.DoesNotContain(e.Attribute("Code")!.Value, e.Attribute("Text")?.Value ?? "");
    }

    /// <summary>LIVE1000 must come before any long work: BeforeTargets="Build" ran it after every stage.</summary>
    [Fact]
    public void TheMSBuildCheckRunsBeforeAnyOtherTarget()
    {
        var sdk = XDocument.Load(Path.Combine(RepoRoot(), "src/LiveImage.Sdk/Sdk/Sdk.targets")).Root!;
        var check = sdk.Elements("Target").Single(t => t.Elements("Error").Any(e => e.Attribute("Code")?.Value == "LIVE1000"));
        Assert.Contains(check.Attribute("Name")!.Value, (sdk.Attribute("InitialTargets")?.Value ?? "").Split(';'));
        Assert.Null(check.Attribute("BeforeTargets"));
    }

    /// <summary>The rows of one of README.md's tables (the one under '## title'), as cells, header and rule left out.</summary>
    private static List<string[]> ReadmeTable(string title)
    {
        var lines = File.ReadAllLines(Path.Combine(RepoRoot(), "README.md"));
        return lines.SkipWhile(l => l != $"## {title}").Skip(1).SkipWhile(l => !l.StartsWith('|')).TakeWhile(l => l.StartsWith('|'))
            .Skip(2).Select(l => l.Trim().Trim('|').Split('|').Select(c => c.Trim()).ToArray()).ToList();
    }

    private static IEnumerable<string> CodeNames(string cell) => Regex.Matches(cell, "`([A-Za-z]+)`").Select(m => m.Groups[1].Value);

    /// <summary>
    /// The SDK's schema (schemas/LiveImage.Sdk.xsd, in the package) declares every property, item and item metadata
    /// README lists, and nothing else: Configuration aside, which MSBuild's own schema declares.
    /// </summary>
    [Fact]
    public void TheSchemaDeclaresWhatTheReadmeLists()
    {
        XNamespace xs = "http://www.w3.org/2001/XMLSchema";
        var schema = XDocument.Load(Path.Combine(RepoRoot(), "src/LiveImage.Sdk/schemas/LiveImage.Sdk.xsd")).Root!;
        var declared = schema.Elements(xs + "element").ToList();
        var properties = declared.Where(e => e.Attribute("substitutionGroup")?.Value == "msb:Property").Select(e => e.Attribute("name")!.Value);
        var items = declared.Where(e => e.Attribute("substitutionGroup")?.Value == "msb:Item")
            .ToDictionary(e => e.Attribute("name")!.Value, e => e.Descendants(xs + "attribute").Select(a => a.Attribute("name")!.Value).Order().ToList());

        var readmeProperties = ReadmeTable("Properties").SelectMany(row => CodeNames(row[0])).Where(n => n != "Configuration");
        Assert.Equal(readmeProperties.Order(), properties.Order());
        var readmeItems = ReadmeTable("Items").ToDictionary(row => CodeNames(row[0]).Single(),
            row => CodeNames(Regex.Replace(row[1], @"\([^)]*\)", "")).Order().ToList()); // defaults in parentheses are not names
        Assert.Equal(readmeItems.Keys.Order(), items.Keys.Order());
        foreach (var (item, metadata) in readmeItems) Assert.Equal(metadata, items[item]);
        Assert.All(declared, e => Assert.False(string.IsNullOrWhiteSpace(e.Element(xs + "annotation")?.Value), $"{e.Attribute("name")!.Value} has no documentation"));
    }
}

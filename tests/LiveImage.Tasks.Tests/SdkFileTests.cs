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
}

using System.Text.RegularExpressions;

namespace LiveImage.Sdk.Tests;

/// <summary>
/// What a user sees with the terminal logger forced on (-tl:on): the stage that runs (its target, beside the project
/// and its architecture) while it runs, the ISO at the end, and at detailed verbosity the stage and progress lines
/// (which the .NET 10 terminal logger lists when the project has finished).
/// </summary>
[Collection(MinimalImageCollection.Name)]
public sealed partial class TerminalLoggerTests(MinimalImageFixture image, ITestOutputHelper output)
{
    [Fact]
    public void TheTerminalLoggerNamesTheRunningStagesTheirProgressAndTheIso()
    {
        var copy = image.CopyOfBuiltImage("terminal-logger");

        // another compressor reruns the squash stage and those after it; lz4 is the quickest to make
        var result = image.Workspace.Run(copy, null, [], ["build", "-nodeReuse:false", "-tl:on", "-v:d", "-nologo", "-p:SquashfsCompression=lz4"]);
        var text = Ansi().Replace(result.Output, "");
        output.WriteLine(string.Join('\n', text.Split('\n', '\r').Where(l => l.Trim().Length > 0).Distinct()));

        Assert.True(result.Succeeded);
        // the live status line: project, architecture, the stage's target
        Assert.Contains("debian-live-minimal amd64 LiveImageSquash", text);
        // the end names the ISO
        Assert.Matches(@"debian-live-minimal amd64 succeeded \([0-9.]+s\) → .*bin/Release/amd64/debian-live-minimal-1\.0\.0-amd64\.iso", text);
        // stage lines and mksquashfs's progress: at most a line per tenth (a quick run may print only its end)
        Assert.Contains("squash [amd64]: runs because", text);
        Assert.Contains("iso [amd64]: done in", text);
        Assert.Contains("squash [amd64]: compressing 100%", text);
        Assert.InRange(Regex.Matches(text, @"squash \[amd64\]: compressing \d+%").Count, 1, 11);
    }

    [GeneratedRegex(@"\x1b(\[[0-9;?]*[A-Za-z]|\][^\x1b\x07]*(\x1b\\|\x07))")]
    private static partial Regex Ansi();
}

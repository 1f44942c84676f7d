using System.Text.RegularExpressions;

namespace LiveImage.Sdk.Tests;

/// <summary>
/// What a user sees with the terminal logger forced on (-tl:on): the stage that runs (its target, beside the project
/// and its architecture), the progress and stage lines of the rerun stages at detailed verbosity, and the ISO at the end.
/// </summary>
[Collection(MinimalImageCollection.Name)]
public sealed partial class TerminalLoggerTests(MinimalImageFixture image, ITestOutputHelper output)
{
    [Fact]
    public void TheTerminalLoggerNamesTheRunningStagesTheirProgressAndTheIso()
    {
        var copy = image.CopyOfBuiltImage("terminal-logger");
        File.AppendAllText(Path.Combine(copy, "hooks/0100-motd.sh"), "printf 'terminal logger test\\n' >> \"$1/etc/motd\"\n");

        var result = image.Workspace.Run(copy, null, [], ["build", "-nodeReuse:false", "-tl:on", "-v:d", "-nologo"]);
        var text = Ansi().Replace(result.Output, "");
        output.WriteLine(string.Join('\n', text.Split('\n', '\r').Where(l => l.Trim().Length > 0).Distinct()));

        Assert.True(result.Succeeded);
        // the live status line: project, architecture, the stage's target
        Assert.Contains("debian-live-minimal amd64 LiveImageHooks", text);
        Assert.Contains("debian-live-minimal amd64 LiveImageSquash", text);
        // the end names the ISO
        Assert.Matches(@"debian-live-minimal amd64 succeeded \([0-9.]+s\) → .*bin/Release/amd64/debian-live-minimal-1\.0\.0-amd64\.iso", text);
        // stage lines and mksquashfs's progress, a line per tenth
        Assert.Contains("hooks [amd64]: runs because", text);
        Assert.Contains("squash [amd64]: compressing 100%", text);
        Assert.InRange(Regex.Matches(text, @"squash \[amd64\]: compressing \d+%").Count, 2, 11);
    }

    [GeneratedRegex(@"\x1b(\[[0-9;?]*[A-Za-z]|\][^\x1b\x07]*(\x1b\\|\x07))")]
    private static partial Regex Ansi();
}

using System.Diagnostics;

namespace LiveImage.Sdk.Tests;

/// <summary>
/// A package apt cannot find and a killed build, on copies of the built minimal sample (layers
/// included), so each test reruns only the stages it is about. Input that fails before any stage
/// is tested in LiveImage.Targets.Tests.
/// </summary>
[Collection(MinimalImageCollection.Name)]
public sealed class FailureTests(MinimalImageFixture image, ITestOutputHelper output)
{
    [Fact]
    public void PackageAptCannotFindIsLIVE2011NamingIt()
    {
        var copy = image.CopyOfBuiltImage("bad-package", """<Package Include="liveimage-no-such-package" />""");
        var result = image.Workspace.Build(copy, output);
        Assert.False(result.Succeeded);
        Assert.Contains("error LIVE2011: apt cannot find package 'liveimage-no-such-package'", result.Output);
        Assert.Empty(Tools.MountsBelow(copy));
    }

    /// <summary>Issue 10, item 7: a pin to a version the archive lacks names the package, the version and those there are.</summary>
    [Fact]
    public void PackagePinnedToAMissingVersionIsLIVE2020NamingTheVersionsThereAre()
    {
        var copy = image.CopyOfBuiltImage("bad-version", """<Package Include="tmux=0.0-1" Recommends="false" />""");
        var result = image.Workspace.Build(copy, output);
        Assert.False(result.Succeeded);
        Assert.Contains("Skipping target \"LiveImageConfigure\"", result.Output);
        Assert.Contains("error LIVE2020: Package 'tmux' is pinned to version '0.0-1'", result.Output);
        Assert.Matches(@"Versions there: \d[^ ,]*", result.Output);
        Assert.DoesNotContain("error LIVE2010", result.Output);
        Assert.Empty(Tools.MountsBelow(copy));
    }

    /// <summary>Issue 10, items 7 and 8: input errors and unmatched wildcards at the .liveproj line, not in the SDK.</summary>
    [Fact]
    public void InputErrorsAndWildcardsMatchingNothingArePlacedAtTheProjectLine()
    {
        var copy = image.Workspace.CopySample("debian-live-minimal", "input-lines");
        MinimalImageFixture.AddItems(copy, """
            <IncludeFile Include="rootfs/**" />
            <Package Include="Bad_Name" />
            """);
        var project = Path.Combine(copy, "debian-live-minimal.liveproj");
        var lines = File.ReadAllLines(project);
        int Line(string text) => Array.FindIndex(lines, l => l.Contains(text)) + 1;
        var result = image.Workspace.Build(copy, output, "-t:LiveImageResolve");
        Assert.False(result.Succeeded);
        Assert.Contains($"{project}({Line("rootfs/**")},", result.Output.Split('\n').First(l => l.Contains("warning LIVE1033")));
        Assert.Contains("IncludeFile pattern 'rootfs/**' matches no file", result.Output);
        Assert.Contains($"{project}({Line("Bad_Name")},", result.Output.Split('\n').First(l => l.Contains("error LIVE1007")));
        Assert.DoesNotContain("LiveImage.targets(", result.Output.Split('\n').First(l => l.Contains("error LIVE1007")));
    }

    [Fact]
    public void SigkillDuringPackageInstallLeavesNoMountAndTheNextBuildSucceeds()
    {
        var copy = image.CopyOfBuiltImage("killed", """<Package Include="vim" />""");
        var log = Path.Combine(copy, "obj/Release/amd64/logs/packages.log");
        using (var build = image.Workspace.Start(copy))
        {
            build.StandardOutput.ReadToEndAsync();
            build.StandardError.ReadToEndAsync();
            var deadline = DateTime.UtcNow.AddMinutes(5);
            while (!(File.Exists(log) && File.ReadAllText(log).Contains("Unpacking ")) && DateTime.UtcNow < deadline && !build.HasExited)
                Thread.Sleep(100);
            Assert.False(build.HasExited, "the build ended before apt started unpacking");
            Assert.True(DateTime.UtcNow < deadline, "apt did not start unpacking within 5 minutes");
            output.WriteLine($"killing dotnet build (pid {build.Id}) while apt unpacks");
            build.Kill(entireProcessTree: false); // SIGKILL to the dotnet process alone, as 'kill -9' would
            build.WaitForExit();
        }

        var settled = Stopwatch.StartNew();
        while (Tools.ProcessesMentioning(copy).Count > 0 && settled.Elapsed < TimeSpan.FromSeconds(60)) Thread.Sleep(200);
        output.WriteLine($"build's processes gone after {settled.Elapsed.TotalSeconds:0.0} s");
        Assert.Empty(Tools.ProcessesMentioning(copy));
        Assert.Empty(Tools.MountsBelow(copy));
        Assert.DoesNotContain(File.ReadAllLines("/proc/mounts"), l => l.Contains(copy, StringComparison.Ordinal));

        var next = image.Workspace.Build(copy, output);
        Assert.True(next.Succeeded, "the build after the kill failed");
        Assert.True(Tools.ExistsInSquashfs(Path.Combine(copy, "obj/Release/amd64/iso/live/filesystem.squashfs"), "/usr/bin/vim.basic"));
        Assert.Contains("Skipping target \"LiveImageBootstrap\"", next.Output);
    }
}

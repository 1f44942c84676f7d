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

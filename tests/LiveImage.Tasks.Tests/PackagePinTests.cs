using LiveImage.Tasks.Distributions.Debian;
using static LiveImage.Tasks.Tests.Items;

namespace LiveImage.Tasks.Tests;

/// <summary>A Package pinned with name=version: accepted by the input check, and LIVE2020 when the archive lacks the version.</summary>
public sealed class PackagePinTests
{
    [Fact]
    public void APinnedVersionIsAValidPackageItem()
    {
        var engine = new FakeBuildEngine();
        var task = new ResolveLiveImageConfiguration
        {
            BuildEngine = engine, Architecture = "amd64", Suite = "trixie", ImageVersion = "1.0.0", IsRoot = () => true,
            Packages = [Item("tmux=3.5a-3"), Item("libc6:amd64"), Item("less=1:590-2.1")],
        };
        Assert.True(task.Execute(), engine.AllErrors);
        Assert.Equal(["tmux=3.5a-3", "libc6:amd64", "less=1:590-2.1"], task.ResolvedPackages.Select(p => p.ItemSpec));
    }

    [Theory]
    [InlineData("Reading state information...\nE: Version '3.3a-3' for 'tmux' was not found\n", "tmux", "3.3a-3")]
    [InlineData("E: Version '1:2.0' for 'lib+x.y' was not found", "lib+x.y", "1:2.0")]
    [InlineData("E: Unable to locate package tmux", null, null)]
    public void AMissingPinnedVersionIsFoundInAptOutput(string output, string? name, string? version)
    {
        var pin = Apt.FindMissingVersion(output);
        Assert.Equal(name, pin?.Name);
        Assert.Equal(version, pin?.Version);
        if (pin is not null) Assert.Null(Apt.FindMissingPackage(output)); // not mistaken for a missing package (LIVE2011)
    }

    [Fact]
    public void MadisonOutputGivesEachVersionOnce()
    {
        const string output = """
              tmux |   3.5a-3 | http://archive.invalid/debian trixie/main amd64 Packages
              tmux | 3.5a-3~bpo12+1 | http://archive.invalid/debian bookworm-backports/main amd64 Packages
              tmux |   3.5a-3 | http://other.invalid/debian trixie/main amd64 Packages
            # exit code 0
            """;
        Assert.Equal(["3.5a-3", "3.5a-3~bpo12+1"], Apt.ParseMadison(output));
        Assert.Empty(Apt.ParseMadison("N: Unable to locate package nothing\n"));
    }
}

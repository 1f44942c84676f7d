using System.Text.RegularExpressions;

namespace LiveImage.Targets.Tests;

/// <summary>
/// 'dotnet build -t:Summary' prints the configuration as each architecture's build sees it: every property README
/// lists, the items after the input checks (this architecture's packages, hooks in order), never the password.
/// </summary>
[Collection(TargetsWorkspaceCollection.Name)]
public sealed class SummaryTests(TargetsWorkspace workspace, ITestOutputHelper output)
{
    [Fact]
    public void SummaryPrintsEveryPropertyAndTheItemsOfEachArchitecture()
    {
        var project = Path.Combine(workspace.Root, "summary");
        if (Directory.Exists(project)) Directory.Delete(project, recursive: true);
        Directory.CreateDirectory(Path.Combine(project, "hooks"));
        File.WriteAllText(Path.Combine(project, "summary.liveproj"), """
            <Project Sdk="LiveImage.Sdk">
              <PropertyGroup>
                <Architectures>amd64;arm64</Architectures>
                <LivePassword>s3cret-word</LivePassword>
                <Components>main;contrib</Components>
              </PropertyGroup>
              <ItemGroup>
                <Package Include="less" Recommends="false" />
                <Package Include="u-boot-tools" Architectures="arm64" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(project, "hooks/0100-hello.sh"), "#!/bin/sh\n");
        File.SetUnixFileMode(Path.Combine(project, "hooks/0100-hello.sh"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var result = workspace.Workspace.Build(project, output, "-t:Summary");
        Assert.True(result.Succeeded);
        Assert.Contains("0 Warning(s)", result.Output);
        Assert.DoesNotContain("s3cret-word", result.Output);
        Assert.DoesNotContain("bootstrap [", result.Output);

        var amd64 = Section(result.Output, "Summary of summary [amd64], Release:");
        var arm64 = Section(result.Output, "Summary of summary [arm64], Release:");
        var readme = File.ReadAllLines(Path.Combine(TestEnvironment.RepoRoot, "README.md"));
        var properties = readme.SkipWhile(l => l != "## Properties").Skip(1).SkipWhile(l => !l.StartsWith('|')).TakeWhile(l => l.StartsWith('|')).Skip(2)
            .SelectMany(l => Regex.Matches(l.Trim('|').Split('|')[0], "`([A-Za-z]+)`").Select(m => m.Groups[1].Value)).ToList();
        Assert.True(properties.Count > 50);
        foreach (var property in properties)
        {
            Assert.Contains($"  {property} = ", amd64);
            Assert.Contains($"  {property} = ", arm64);
        }
        Assert.Contains("  LivePassword = (set, not shown)", amd64);
        Assert.Contains("  Components = main;contrib", amd64);
        Assert.Contains("  Architecture = arm64", arm64);
        Assert.Contains("  KernelArguments = console=tty0 console=ttyAMA0,115200n8", arm64);
        Assert.Contains("  BootstrapPackage: ", amd64);
        Assert.Contains("linux-image-amd64", amd64);
        Assert.Contains("  Package: less (Recommends=false)", amd64);
        Assert.DoesNotContain("u-boot-tools", amd64);
        Assert.Contains("  Package: u-boot-tools (Recommends=true)", arm64);
        Assert.Contains("  Hook: 0100-hello.sh (RunIn=host, layer 40-hook-01-0100-hello", arm64);
    }

    /// <summary>The lines of one architecture's summary: from its heading to the next heading or the end of the build.</summary>
    private static string Section(string output, string heading)
    {
        var start = output.IndexOf(heading, StringComparison.Ordinal);
        Assert.True(start >= 0, $"no '{heading}'");
        var next = output.IndexOf("Summary of ", start + heading.Length, StringComparison.Ordinal);
        var end = output.IndexOf("Build succeeded", start, StringComparison.Ordinal);
        return output[start..(next >= 0 && next < end ? next : end)];
    }
}

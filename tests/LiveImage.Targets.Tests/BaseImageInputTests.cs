namespace LiveImage.Targets.Tests;

/// <summary>
/// A base image declared wrongly fails in seconds, before any stage of either image: a reference
/// cycle, two bases, a base that is not a .liveproj, a base of another suite. Temporary projects, never built.
/// </summary>
[Collection(TargetsWorkspaceCollection.Name)]
public sealed class BaseImageInputTests(TargetsWorkspace workspace, ITestOutputHelper output)
{
    private string Image(string name, string references, string suite = "trixie", string architectures = "")
    {
        var dir = Path.Combine(workspace.Root, "base-images", name);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, name + ".liveproj"), $"""
            <Project Sdk="LiveImage.Sdk">
              <PropertyGroup>
                <Suite>{suite}</Suite>
                <Architectures>{architectures}</Architectures>
              </PropertyGroup>
              <ItemGroup>
            {references}
              </ItemGroup>
            </Project>
            """);
        return dir;
    }

    private static string Reference(string name) => $"""    <ProjectReference Include="../{name}/{name}.liveproj" />""";

    [Fact]
    public void AReferenceCycleIsLIVE1052NamingTheChain()
    {
        var a = Image("cycle-a", Reference("cycle-b"));
        Image("cycle-b", Reference("cycle-c"));
        Image("cycle-c", Reference("cycle-a"));

        var result = workspace.Resolve(a, output);

        Assert.False(result.Succeeded);
        Assert.Contains("error LIVE1052: The base images form a cycle: cycle-a -> cycle-b -> cycle-c -> cycle-a.", result.Output);
        Assert.DoesNotContain("bootstrap [", result.Output);
    }

    [Fact]
    public void TwoBasesAndABaseThatIsNoLiveImageAreLIVE1050AndLIVE1051()
    {
        Image("one", "");
        Image("two", "");
        var both = Image("two-bases", Reference("one") + "\n" + Reference("two"));
        var csproj = Image("not-an-image", """    <ProjectReference Include="../lib/lib.csproj" />""");

        var twoBases = workspace.Resolve(both, output);
        var notAnImage = workspace.Resolve(csproj, output);

        Assert.False(twoBases.Succeeded);
        Assert.Contains("error LIVE1050: An image has one base image, and this project references 2:", twoBases.Output);
        Assert.False(notAnImage.Succeeded);
        Assert.Contains("error LIVE1051: A live image can only be built on another live image: the ProjectReference '../lib/lib.csproj' is not a .liveproj.", notAnImage.Output);
    }

    [Fact]
    public void ABaseOfAnotherSuiteIsLIVE1053BeforeTheBaseIsTouched()
    {
        var baseImage = Image("bookworm-base", "", suite: "bookworm");
        var level = Image("trixie-level", Reference("bookworm-base"));

        var result = workspace.Resolve(level, output);

        Assert.False(result.Succeeded);
        Assert.Contains("error LIVE1053: This image is debian trixie, and its base image", result.Output);
        Assert.Contains("is debian bookworm", result.Output);
        Assert.False(Directory.Exists(Path.Combine(baseImage, "obj")), "the base was resolved or built although the suites differ");
    }

    [Fact]
    public void AnArchitectureMatrixResolvesTheBaseForEachArchitectureAndOneTheBaseLacksIsLIVE1054()
    {
        Image("amd64-base", "", architectures: "amd64");
        var level = Image("matrix-level", Reference("amd64-base"), architectures: "amd64;arm64");

        var result = workspace.Resolve(level, output);

        Assert.False(result.Succeeded);
        Assert.Contains("error LIVE1054: The base image", result.Output);
        Assert.Contains("builds only amd64, not arm64.", result.Output);
        Assert.DoesNotContain("not amd64.", result.Output); // the amd64 inner build resolved its base
        Assert.DoesNotContain("bootstrap [", result.Output);
    }
}

namespace LiveImage.Targets.Tests;

/// <summary>
/// A .liveproj in a solution and in an IDE: 'dotnet sln add', a warning-free restore and resolve-only build of the
/// solution (images in Release from a .sln's default configuration), and a design-time build, as an IDE runs one
/// when it opens the project, that finishes in seconds without running a stage.
/// </summary>
[Collection(TargetsWorkspaceCollection.Name)]
public sealed class SolutionTests(TargetsWorkspace workspace, ITestOutputHelper output)
{
    private BuildResult Dotnet(string directory, params string[] arguments) => workspace.Workspace.Run(directory, output, [], arguments);

    [Fact]
    public void ASolutionHoldingALiveprojRestoresAndBuildsWithNoWarnings()
    {
        // the solution's folder, with the image in a folder of its own below it (the workspace's global.json is above both)
        var solution = Path.Combine(workspace.Root, "solution");
        if (Directory.Exists(solution)) Directory.Delete(solution, recursive: true);
        Directory.CreateDirectory(solution);
        workspace.CopySample("debian-live-minimal", "solution/MyImage");
        File.Move(Path.Combine(solution, "MyImage/debian-live-minimal.liveproj"), Path.Combine(solution, "MyImage/MyImage.liveproj"));

        foreach (var (name, format) in new[] { ("Images", "slnx"), ("Classic", "sln") })
        {
            Assert.True(Dotnet(solution, "new", "sln", "-n", name, "--format", format).Succeeded);
            Assert.True(Dotnet(solution, "sln", $"{name}.{format}", "add", "MyImage/MyImage.liveproj").Succeeded);

            var restore = Dotnet(solution, "restore", $"{name}.{format}", "-nodeReuse:false", "-tl:off", "-v:n", "-nologo");
            Assert.True(restore.Succeeded);
            Assert.DoesNotContain("NU1503", restore.Output);
            Assert.DoesNotContain("Unable to find a project to restore", restore.Output);
            Assert.Contains("0 Warning(s)", restore.Output);

            // a solution passes unknown targets on to its projects: the input checks of each, no stage
            var build = workspace.Resolve(solution, output, $"{name}.{format}");
            Assert.True(build.Succeeded);
            Assert.Contains("0 Warning(s)", build.Output);
            Assert.Contains("LiveImage.Sdk tasks", build.Output);
            Assert.DoesNotContain("bootstrap [", build.Output);
        }
        // 'dotnet sln add' mapped the .sln's default Debug to the image's Release
        Assert.Contains("Debug|Any CPU.ActiveCfg = Release|Any CPU", File.ReadAllText(Path.Combine(solution, "Classic.sln")));
    }

    [Fact]
    public void ADesignTimeBuildRunsNoStageAndFinishesInSeconds()
    {
        var project = workspace.CopySample("debian-live-minimal", "design-time");
        // the targets IDEs ask for, with the properties they set; root is required as in a real build and never checked
        var result = workspace.Workspace.Build(project, output, "-v:d",
            "-t:Build;ResolveAssemblyReferences;ResolveProjectReferences;GetTargetPath;CompileDesignTime;CollectPackageReferences",
            "-p:DesignTimeBuild=true", "-p:BuildingInsideVisualStudio=true");
        Assert.True(result.Succeeded);
        Assert.Contains("design-time build of debian-live-minimal, no stage runs", result.Output);
        Assert.Contains("0 Warning(s)", result.Output);
        Assert.DoesNotContain("LiveImage.Sdk tasks", result.Output); // not even the input checks, nor the lock
        Assert.DoesNotContain("bootstrap [", result.Output);
        Assert.False(Directory.Exists(Path.Combine(project, "obj/Release/amd64/layers")));
        Assert.Empty(Directory.Exists(Path.Combine(project, "obj")) ? Directory.GetFiles(Path.Combine(project, "obj"), "*.inputs.cache", SearchOption.AllDirectories) : []);
        output.WriteLine($"the design-time build took {result.Duration.TotalSeconds:0.0} s"); // a figure, not an assertion: what matters is that no stage ran
    }

    [Fact]
    public void TheSdkPackageShipsItsSchema()
    {
        using var package = System.IO.Compression.ZipFile.OpenRead(Path.Combine(TestEnvironment.PackageFeed, $"LiveImage.Sdk.{TestEnvironment.SdkVersion}.nupkg"));
        var schema = package.GetEntry("schemas/LiveImage.Sdk.xsd");
        Assert.NotNull(schema);
        using var reader = new StreamReader(schema.Open());
        Assert.Contains("<xs:element name=\"Suite\"", reader.ReadToEnd());
    }
}

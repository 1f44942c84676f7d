namespace LiveImage.Targets.Tests;

/// <summary>
/// 'dotnet new liveimage' and 'dotnet new liveimage-layer' (an image on the first) as a new user runs them: the templates package installed into a home of its own, the
/// project created in a folder outside the repository, and built as it is (input checks only, no stage).
/// </summary>
[Collection(TargetsWorkspaceCollection.Name)]
public sealed class TemplateTests(TargetsWorkspace workspace, ITestOutputHelper output)
{
    [Fact]
    public void ANewLiveImageProjectBuildsAsItIsOutsideTheRepositoryWithNoWarnings()
    {
        var root = Path.Combine(Path.GetTempPath(), $"liveimage-template-{Environment.ProcessId}");
        if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        var home = Path.Combine(root, "home");
        Directory.CreateDirectory(home);
        // a user's own machine: its own dotnet home (installed templates) and its default NuGet cache, no workspace settings
        var user = new Dictionary<string, string?>
        {
            ["HOME"] = home, ["DOTNET_CLI_HOME"] = home, ["NUGET_PACKAGES"] = null,
            ["DOTNET_NOLOGO"] = "1", ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1", ["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1",
        };
        try
        {
            var install = workspace.Workspace.Run(root, output, [], ["new", "install", TestEnvironment.TemplatesPackage], user);
            Assert.True(install.Succeeded);
            Assert.Contains("liveimage", install.Output);

            var create = workspace.Workspace.Run(root, output, [], ["new", "liveimage", "-n", "MyImage"], user);
            Assert.True(create.Succeeded);
            var project = Path.Combine(root, "MyImage");
            Assert.True(File.Exists(Path.Combine(project, "MyImage.liveproj")));
            Assert.True(File.Exists(Path.Combine(project, "README.md")));
            Assert.True(File.Exists(Path.Combine(project, "rootfs/etc/motd")));
            Assert.True(File.GetUnixFileMode(Path.Combine(project, "hooks/0100-hello.sh")).HasFlag(UnixFileMode.UserExecute));
            Assert.Contains($"\"LiveImage.Sdk\": \"{TestEnvironment.SdkVersion}\"", File.ReadAllText(Path.Combine(project, "global.json")));

            var build = workspace.Workspace.Run(project, output, [],
                ["build", "-nodeReuse:false", "-tl:off", "-v:n", "-nologo", "-t:LiveImageResolve", "-p:LiveImageRequireRoot=false"], user);
            Assert.True(build.Succeeded);
            Assert.Contains("0 Warning(s)", build.Output);
            // the SDK packed beside the templates, extracted into the user's own NuGet cache
            Assert.Contains($"{home}/.nuget/packages/liveimage.sdk/{TestEnvironment.SdkVersion}/tasks/", build.Output);

            // an image on that one: 'dotnet new liveimage-layer' references it as its base, and resolves against it
            var createLayer = workspace.Workspace.Run(root, output, [], ["new", "liveimage-layer", "-n", "MyLayer", "--Base", "../MyImage/MyImage.liveproj"], user);
            Assert.True(createLayer.Succeeded);
            var layer = Path.Combine(root, "MyLayer");
            Assert.Contains("<ProjectReference Include=\"../MyImage/MyImage.liveproj\" />", File.ReadAllText(Path.Combine(layer, "MyLayer.liveproj")));
            Assert.True(File.GetUnixFileMode(Path.Combine(layer, "hooks/0100-layer.sh")).HasFlag(UnixFileMode.UserExecute));
            var resolveLayer = workspace.Workspace.Run(layer, output, [],
                ["build", "-nodeReuse:false", "-tl:off", "-v:n", "-nologo", "-t:LiveImageResolve", "-p:LiveImageRequireRoot=false"], user);
            Assert.True(resolveLayer.Succeeded);
            Assert.Contains("0 Warning(s)", resolveLayer.Output);
            // the base image was resolved (its level, suite and architectures) and matched
            Assert.Contains($"is building \"{project}/MyImage.liveproj\"", resolveLayer.Output);
        }
        finally
        {
            if (Environment.GetEnvironmentVariable("LIVEIMAGE_KEEP_TEST_OUTPUT") != "1") Directory.Delete(root, recursive: true);
        }
    }
}

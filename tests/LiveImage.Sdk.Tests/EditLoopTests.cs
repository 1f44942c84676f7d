namespace LiveImage.Sdk.Tests;

/// <summary>
/// Issue 3's edit loop on copies of the built minimal sample: each change reruns exactly the
/// stages it should. Which stage a property belongs to is checked through the per-stage input
/// caches (the stage targets' MSBuild inputs) without running the stages; a hook edit, a
/// package added, clean and an offline build run for real.
/// </summary>
[Collection(MinimalImageCollection.Name)]
public sealed class EditLoopTests(MinimalImageFixture image, ITestOutputHelper output)
{
    private static readonly string[] Stages = ["bootstrap", "configure", "packages", "includes", "hooks", "finalize", "squash", "iso"];

    private static string Obj(string project) => Path.Combine(project, "obj/Release/amd64");

    private static Dictionary<string, string> InputCaches(string project) =>
        Stages.ToDictionary(s => s, s => File.ReadAllText(Path.Combine(Obj(project), $"{s}.inputs.cache")));

    /// <summary>The stages whose input cache changes when the project is evaluated with <paramref name="properties"/>.</summary>
    private string[] StagesInvalidatedBy(string copy, params string[] properties)
    {
        Assert.True(image.Workspace.Build(copy, null, "-t:LiveImageResolve").Succeeded); // back to the project's own values
        var before = InputCaches(copy);
        var result = image.Workspace.Build(copy, output, ["-t:LiveImageResolve", .. properties]);
        Assert.True(result.Succeeded);
        var after = InputCaches(copy);
        return Stages.Where(s => before[s] != after[s]).ToArray();
    }

    [Fact]
    public void EachPropertyInvalidatesItsOwnStage()
    {
        var copy = image.CopyOfBuiltImage("inputs");
        // the default menu title names the suite, so the ISO's menus change too
        Assert.Equal(["bootstrap", "iso"], StagesInvalidatedBy(copy, "-p:Suite=bookworm"));
        Assert.Equal(["bootstrap"], StagesInvalidatedBy(copy, "-p:Variant=apt"));
        Assert.Equal(["bootstrap", "finalize"], StagesInvalidatedBy(copy, "-p:BuildMirror=http://127.0.0.1:9/debian"));
        Assert.Equal(["finalize"], StagesInvalidatedBy(copy, "-p:ImageMirror=http://127.0.0.1:9/debian"));
        Assert.Equal(["configure"], StagesInvalidatedBy(copy, "-p:LivePassword=other"));
        Assert.Equal(["iso"], StagesInvalidatedBy(copy, "-p:KernelArguments=quiet"));
        Assert.Equal(["iso"], StagesInvalidatedBy(copy, "-p:MenuTitle=Other"));
        Assert.Equal(["squash"], StagesInvalidatedBy(copy, "-p:SquashfsCompression=xz"));
        Assert.DoesNotContain("other", string.Concat(InputCaches(copy).Values)); // the password is only fingerprinted
    }

    [Fact]
    public void CommentInTheProjectRerunsNothing()
    {
        var copy = image.CopyOfBuiltImage("comment", "<!-- a comment added by the test -->");
        var result = image.Workspace.Build(copy, output);
        Assert.True(result.Succeeded);
        Assert.DoesNotContain("runs because", result.Output);
    }

    [Fact]
    public void HookEditRerunsThatHookAndTheStagesAboveOnly()
    {
        var copy = image.CopyOfBuiltImage("hook-edit");
        var hook = Path.Combine(copy, "hooks/0100-motd.sh");
        File.AppendAllText(hook, "echo edited >> \"$1/etc/motd\"\n");
        var result = image.Workspace.Build(copy, output);
        Assert.True(result.Succeeded);
        foreach (var stage in new[] { "Bootstrap", "Configure", "Packages", "Includes" })
            Assert.Contains($"Skipping target \"LiveImage{stage}\"", result.Output);
        Assert.Contains($"hooks [amd64]: runs because '{hook}' changed", result.Output);
        Assert.Contains("finalize [amd64]: runs because the stage below it (hooks) ran again", result.Output);
        Assert.Contains("iso [amd64]: runs because", result.Output);
        Assert.Contains("edited", Tools.ReadFromSquashfs(Path.Combine(Obj(copy), "iso/live/filesystem.squashfs"), "etc/motd"));
    }

    [Fact]
    public void AddedPackageRerunsFromThePackageStage()
    {
        var copy = image.CopyOfBuiltImage("package-add", """<Package Include="file" Recommends="false" />""");
        var result = image.Workspace.Build(copy, output);
        Assert.True(result.Succeeded);
        Assert.Contains("Skipping target \"LiveImageBootstrap\"", result.Output);
        Assert.Contains("Skipping target \"LiveImageConfigure\"", result.Output);
        Assert.Contains("packages [amd64]: runs because Package file", result.Output);
        Assert.True(Tools.ExistsInSquashfs(Path.Combine(Obj(copy), "iso/live/filesystem.squashfs"), "/usr/bin/file"));
    }

    [Fact]
    public void CleanRemovesRootOwnedLayersAndKeepsThePackageCache()
    {
        var copy = image.CopyOfBuiltImage("clean");
        var cache = Path.Combine(Environment.GetEnvironmentVariable("HOME")!, ".cache/liveimage/packages");
        var cached = Directory.GetFiles(cache, "*.deb").Length;
        var result = image.Workspace.Run(copy, output, [], ["clean", "-nodeReuse:false", "-tl:off", "-nologo"]);
        Assert.True(result.Succeeded);
        Assert.False(Directory.Exists(Obj(copy)), "obj/Release/amd64 is gone");
        Assert.False(Directory.Exists(Path.Combine(copy, "bin/Release/amd64")), "bin/Release/amd64 is gone");
        Assert.Equal(cached, Directory.GetFiles(cache, "*.deb").Length);
    }

    [Fact]
    public void EvaluatingTheProjectStartsNoStage()
    {
        var copy = image.Workspace.CopySample("debian-live-minimal", "eval");
        var result = image.Workspace.Run(copy, output, [], ["msbuild", "-getProperty:ImageName", "-getProperty:Suite", "-getItem:Hook", "-nologo"]);
        Assert.True(result.Succeeded);
        Assert.Contains("debian-live-minimal", result.Output);
        Assert.False(Directory.Exists(Path.Combine(copy, "obj")), "evaluation must not create obj/");
    }

    [Fact]
    public void CleanBuildWithAWarmCacheSucceedsWithoutNetwork()
    {
        Assert.True(image.ColdBuild.Succeeded);
        var copy = image.Workspace.CopySample("debian-live-minimal", "offline");
        // a network namespace with no interfaces up: nothing can be downloaded
        var result = image.Workspace.Run(copy, output, ["unshare", "--net"], ["build", "-nodeReuse:false", "-tl:off", "-nologo", "-p:Offline=true"]);
        Assert.True(result.Succeeded, "the offline build failed");
        Assert.True(File.Exists(Path.Combine(copy, "bin/Release/amd64/debian-live-minimal-1.0.0-amd64.iso")));
    }
}

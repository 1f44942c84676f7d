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
        // hooks see LIVEIMAGE_VERSION, so the sample's hook reruns for a new version (and the ISO's name changes)
        Assert.Equal(["hooks", "iso"], StagesInvalidatedBy(copy, "-p:ImageVersion=2.0.0"));
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

    /// <summary>
    /// Issue 10, item 5: hooks get the image's metadata in their environment (chroot hooks too), and a
    /// file named in a hook's Inputs, or the SDK's helper library, reruns the hook when it changes.
    /// Only the hooks stage is built (-t:LiveImageHooks), so nothing is squashed.
    /// </summary>
    [Fact]
    public void HookInputsAndTheHelperLibraryRerunTheHookWhichSeesTheImagesMetadata()
    {
        var copy = image.CopyOfBuiltImage("hook-inputs", """
            <Hook Include="hooks/0100-motd.sh" Inputs="hooks/lib/*.sh" />
            <Hook Include="hooks/0200-env.sh" RunIn="chroot" />
            """);
        var lib = Path.Combine(copy, "hooks/lib/common.sh");
        Directory.CreateDirectory(Path.GetDirectoryName(lib)!);
        File.WriteAllText(lib, "GREETING='from common'\n");
        File.WriteAllText(Path.Combine(copy, "hooks/0100-motd.sh"), """
            #!/bin/sh
            set -eu
            . "$LIVEIMAGE_PROJECT_DIR/hooks/lib/common.sh"
            echo "$GREETING $LIVEIMAGE_NAME $LIVEIMAGE_VERSION" > "$1/etc/issue.liveimage"
            """);
        var envHook = Path.Combine(copy, "hooks/0200-env.sh");
        File.WriteAllText(envHook, "#!/bin/sh\nenv | grep '^LIVEIMAGE_' | sort > /etc/liveimage-env\n");
        File.SetUnixFileMode(envHook, File.GetUnixFileMode(Path.Combine(copy, "hooks/0100-motd.sh")));
        var layers = Path.Combine(Obj(copy), "layers");
        string Issue() => File.ReadAllText(Path.Combine(layers, "40-hook-01-0100-motd/etc/issue.liveimage"));

        Assert.True(image.Workspace.Build(copy, output, "-t:LiveImageHooks").Succeeded);
        Assert.Equal("from common debian-live-minimal 1.0.0\n", Issue());
        var env = File.ReadAllLines(Path.Combine(layers, "40-hook-02-0200-env/etc/liveimage-env"));
        foreach (var line in new[]
                 {
                     "LIVEIMAGE_NAME=debian-live-minimal", "LIVEIMAGE_VERSION=1.0.0", "LIVEIMAGE_SUITE=trixie", "LIVEIMAGE_ARCHITECTURE=amd64",
                     "LIVEIMAGE_HOSTNAME=debian", "LIVEIMAGE_USER=user", "LIVEIMAGE_CONFIGURATION=Release", $"LIVEIMAGE_PROJECT_DIR={copy}",
                 })
            Assert.Contains(line, env);

        // the library the hook sources changed: that hook reruns
        File.WriteAllText(lib, "GREETING='edited common'\n");
        var edited = image.Workspace.Build(copy, output, "-t:LiveImageHooks");
        Assert.True(edited.Succeeded);
        Assert.Contains($"hooks [amd64]: runs because '{lib}' changed", edited.Output);
        Assert.Equal("edited common debian-live-minimal 1.0.0\n", Issue());

        var again = image.Workspace.Build(copy, output, "-t:LiveImageHooks");
        Assert.Contains("Skipping target \"LiveImageHooks\"", again.Output);

        // another helper library (as after an SDK update): every hook reruns
        var helpers = Path.Combine(copy, "helpers-edited.sh");
        File.WriteAllText(helpers, File.ReadAllText(Directory.GetFiles(image.Workspace.NuGetPackages, "liveimage-helpers.sh", SearchOption.AllDirectories).First()) + "\n# edited\n");
        var newHelpers = image.Workspace.Build(copy, output, "-t:LiveImageHooks", $"-p:LiveImageHelpersScript={helpers}");
        Assert.True(newHelpers.Succeeded);
        Assert.Contains("hooks [amd64]: runs because Helpers changed", newHelpers.Output);
        Assert.Contains("hook 0100-motd.sh [amd64]: on the host side", newHelpers.Output);
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

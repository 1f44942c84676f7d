using System.Text.RegularExpressions;

namespace LiveImage.Sdk.Tests;

/// <summary>samples/debian-live-minimal built cold by an ordinary user with subordinate ids (RootMode=auto): the build the tests below share.</summary>
public sealed class RootlessImageFixture : IDisposable
{
    internal OrdinaryUser User { get; } = new("liveimage-test");
    internal Workspace Workspace { get; } = new("rootless");
    public string ProjectDirectory { get; }
    public BuildResult ColdBuild { get; }
    public string Squashfs => Path.Combine(ProjectDirectory, "obj/Release/amd64/iso/live/filesystem.squashfs");

    public RootlessImageFixture()
    {
        ProjectDirectory = Workspace.CopySample("debian-live-minimal");
        User.Own(Workspace.Root);
        ColdBuild = Build(ProjectDirectory, null, StageCacheArguments);
    }

    /// <summary>The user's stage cache, which the cold build fills (a stage cache round trip without root restores from it).</summary>
    public string[] StageCacheArguments => ["-p:StageCache=true", $"-p:StageCacheDirectory={Path.Combine(Workspace.Root, "stage-cache")}/"];

    public BuildResult Build(string project, ITestOutputHelper? output, params string[] arguments) =>
        Workspace.Run(project, output, User.Wrapper(Workspace), ["build", "-nodeReuse:false", "-tl:off", "-v:n", "-nologo", .. arguments]);

    /// <summary>A copy of the built project, layers and all, made in the user's namespace (the layers' files belong to its ids).</summary>
    public string CopyOfBuiltImage(string name)
    {
        Assert.True(ColdBuild.Succeeded, "the rootless cold build of the minimal sample failed");
        var copy = Path.Combine(Workspace.Root, name);
        var (code, text) = User.InNamespace("cp", "-a", ProjectDirectory, copy);
        Assert.True(code == 0, text);
        return copy;
    }

    public void Dispose()
    {
        if (Environment.GetEnvironmentVariable("LIVEIMAGE_KEEP_TEST_OUTPUT") == "1") return;
        User.InNamespace("rm", "-rf", Workspace.Root);
        if (Directory.Exists(Workspace.Root)) Directory.Delete(Workspace.Root, recursive: true);
    }
}

/// <summary>
/// Builds without root (README, "Building without root"): the whole pipeline as an ordinary user gives
/// the root build's image, keeps its edit loop, removes what it built, and ships a directory
/// that a hook removed and made anew as opaque in its module.
/// </summary>
[Collection(MinimalImageCollection.Name)]
public sealed class RootlessImageTests(MinimalImageFixture image, RootlessImageFixture rootless, ITestOutputHelper output) : IClassFixture<RootlessImageFixture>
{
    private void AssertColdBuildsSucceeded()
    {
        Assert.True(image.ColdBuild.Succeeded, "the root cold build of the minimal sample failed");
        Assert.True(rootless.ColdBuild.Succeeded, "the rootless cold build failed:\n" + rootless.ColdBuild.Output[^Math.Min(20000, rootless.ColdBuild.Output.Length)..]);
    }

    [Fact]
    public void TheRootlessBuildRanEveryStageInAUserNamespace()
    {
        AssertColdBuildsSucceeded();
        output.WriteLine($"rootless cold build: {rootless.ColdBuild.Duration.TotalSeconds:0} s; root cold build: {image.ColdBuild.Duration.TotalSeconds:0} s");
        foreach (var stage in new[] { "bootstrap", "packages", "hook 0100-motd.sh", "finalize", "squash", "iso" })
            Assert.Matches(new Regex($@"{Regex.Escape(stage)} \[amd64\]: done in"), rootless.ColdBuild.Output);
        // the layers belong to the user's subordinate ids: root of the image is the user, _apt (42) a subordinate id
        var layer = Path.Combine(rootless.ProjectDirectory, "obj/Release/amd64/layers/00-bootstrap");
        var (_, owners) = Tools.Run("stat", "-c", "%U", Path.Combine(layer, "etc/passwd"));
        Assert.Equal(rootless.User.Name, owners.Trim());
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(rootless.User.Home, ".cache/liveimage/packages"), "*.deb"));
    }

    [Fact]
    public void TheSquashfsHasTheRootBuildsFilesOwnersModesAndContents()
    {
        AssertColdBuildsSucceeded();
        var root = SquashfsContent.Read(image.Squashfs);
        var user = SquashfsContent.Read(rootless.Squashfs);
        // two root builds differ there too: the initramfs holds each build's file times, the shadow files the password's random salt
        var differences = SquashfsContent.Differences(root, user, p => p.StartsWith("/boot/initrd.img-") || p is "/etc/shadow" or "/etc/shadow-").ToList();
        foreach (var d in differences) output.WriteLine(d);
        Assert.True(root.Count > 5000, $"the root image lists only {root.Count} entries");
        Assert.Empty(differences);
    }

    [Fact]
    public async Task SigkillDuringAHookLeavesNothingAndTheNextBuildRerunsTheHook()
    {
        AssertColdBuildsSucceeded();
        var copy = rootless.CopyOfBuiltImage("kill-hook");
        var hook = Path.Combine(copy, "hooks/0150-sleep.sh");
        File.WriteAllText(hook, $"""
            #!/bin/sh
            set -e
            echo redone > "$1/etc/liveimage-interrupted-hook"
            if [ -e "{copy}/sleep-here" ]; then
                touch "{copy}/hook-sleeping"
                sleep 6019
            fi

            """);
        File.SetUnixFileMode(hook, (UnixFileMode)0b111_101_101);
        File.WriteAllText(Path.Combine(copy, "sleep-here"), "");
        rootless.User.Own(Path.Combine(copy, "hooks"));

        using (var build = rootless.Workspace.Start(copy, rootless.User.Wrapper(rootless.Workspace), ["build", "-nodeReuse:false", "-tl:off", "-v:n", "-nologo"]))
        {
            var text = build.StandardOutput.ReadToEndAsync();
            _ = build.StandardError.ReadToEndAsync();
            var deadline = DateTime.UtcNow.AddMinutes(10);
            while (!File.Exists(Path.Combine(copy, "hook-sleeping")) && DateTime.UtcNow < deadline && !build.HasExited) Thread.Sleep(100);
            Assert.True(File.Exists(Path.Combine(copy, "hook-sleeping")), "the hook did not start sleeping:\n" + (build.HasExited ? await text : ""));
            // runuser stays the parent of the user's dotnet: kill -9 the build itself, as a user would
            var (_, children) = Tools.Run("pgrep", "-P", build.Id.ToString());
            var dotnet = children.Split('\n', StringSplitOptions.RemoveEmptyEntries).Single();
            output.WriteLine($"kill -9 {dotnet} (the user's dotnet build) while the hook sleeps");
            Assert.Equal(0, Tools.Run("kill", "-9", dotnet).ExitCode);
            Assert.True(build.WaitForExit(TimeSpan.FromMinutes(1)), "runuser did not end after its dotnet was killed");
            output.WriteLine(await text);
        }

        var settled = System.Diagnostics.Stopwatch.StartNew();
        while (Tools.ProcessesMentioning(copy).Count > 0 && settled.Elapsed < TimeSpan.FromSeconds(60)) Thread.Sleep(200);
        output.WriteLine($"build's processes gone after {settled.Elapsed.TotalSeconds:0.0} s");
        Assert.Empty(Tools.ProcessesMentioning(copy));
        Assert.Empty(Tools.ProcessesMentioning("sleep 6019"));
        Assert.Empty(Tools.MountsBelow(copy));
        Assert.False(File.Exists(Path.Combine(copy, "obj/Release/amd64/hooks.stamp")));

        File.Delete(Path.Combine(copy, "sleep-here"));
        var next = rootless.Build(copy, output, "-t:LiveImageHooks");
        Assert.True(next.Succeeded, "the hooks after the kill failed; the output is above");
        Assert.Contains("hook 0150-sleep.sh [amd64]: done", next.Output);
        Assert.Contains("hooks [amd64]: 0100-motd.sh unchanged, its layer is reused", next.Output);
        var layer = Assert.Single(Directory.GetDirectories(Path.Combine(copy, "obj/Release/amd64/layers"), "40-hook-*-0150-sleep"));
        Assert.Equal("redone\n", File.ReadAllText(Path.Combine(layer, "etc/liveimage-interrupted-hook")));
    }

    /// <summary>
    /// The user's Debug edit loop on a stack of modules, and its boot: a hook that makes a directory of a lower
    /// layer anew gets whiteouts in its module (the boot's overlay ignores the user.overlay.opaque mark); a hook
    /// edit reruns that hook alone; the stack of seven modules boots with qemu run as the user (TCG unless the
    /// user may open /dev/kvm), showing only the new files there, and the built-in checks pass, sudo among them
    /// (the setuid bit the layers keep).
    /// </summary>
    [Fact]
    public void AHookEditRerunsOnlyFromTheHooksAndAModuleStackWithAnOpaqueDirectoryBootsAsTheUser()
    {
        AssertColdBuildsSucceeded();
        var copy = rootless.CopyOfBuiltImage("opaque");
        WriteOpaqueHook(copy);
        MinimalImageFixture.AddItems(copy, OpaqueBootCheck);
        rootless.User.Own(Path.Combine(copy, "hooks"));
        // SquashfsModules (as in Debug): each layer a module of its own, stacked by the boot's overlay
        string[] modules = ["-p:SquashfsModules=true", .. rootless.StageCacheArguments];
        var build = rootless.Build(copy, output, modules);
        Assert.True(build.Succeeded, "the rootless edit build failed; its output is above");
        Assert.DoesNotMatch(@"(bootstrap|configure|packages) \[amd64\]: runs because", build.Output);
        Assert.Matches(@"hook 0200-opaque\.sh \[amd64\]: done in", build.Output);
        Assert.Matches(@"40-hook-02-0200-opaque\.squashfs: \d+ whiteouts keep its opaque directories opaque at boot", build.Output);
        // every file the packages layer has there is whited out in the hook's module, the new one kept
        var (_, old) = Tools.Run("unsquashfs", "-lln", Path.Combine(copy, "obj/Release/amd64/iso/live/20-packages.squashfs"), "usr/share/doc/less");
        var (_, module) = Tools.Run("unsquashfs", "-lln", Path.Combine(copy, "obj/Release/amd64/iso/live/40-hook-02-0200-opaque.squashfs"));
        var oldFiles = Regex.Matches(old, @"squashfs-root/usr/share/doc/less/(\S+)").Select(m => m.Groups[1].Value).ToList();
        Assert.Contains("copyright", oldFiles);
        foreach (var name in oldFiles)
            Assert.Matches($@"c--------- 0/0 +0, +0 .* squashfs-root/usr/share/doc/less/{Regex.Escape(name)}\n", module);
        Assert.Contains("squashfs-root/usr/share/doc/less/only-this", module);

        // the Debug edit loop: editing that hook reruns it alone and squashes only the modules above it again
        File.AppendAllText(Path.Combine(copy, "hooks/0200-opaque.sh"), "\necho edited > \"$1/usr/share/doc/less/only-this\"\n");
        var edit = rootless.Build(copy, output, modules);
        Assert.True(edit.Succeeded, "the rootless build after the hook edit failed; its output is above");
        Assert.Contains("hooks [amd64]: 0100-motd.sh unchanged, its layer is reused", edit.Output);
        Assert.Matches(@"hook 0200-opaque\.sh \[amd64\]: done in", edit.Output);
        foreach (var kept in new[] { "00-bootstrap", "10-configure", "20-packages", "40-hook-01-0100-motd" })
            Assert.Matches($@"squash \[amd64\]: {kept}\.squashfs unchanged, kept", edit.Output);
        Assert.Equal("edited\n", Tools.ReadFromSquashfs(Path.Combine(copy, "obj/Release/amd64/iso/live/40-hook-02-0200-opaque.squashfs"), "usr/share/doc/less/only-this"));

        var (_, sudo) = Tools.Run("unsquashfs", "-lln", Path.Combine(copy, "obj/Release/amd64/iso/live/00-bootstrap.squashfs"), "usr/bin/sudo");
        Assert.Matches(@"-rwsr-xr-x 0/0 .* squashfs-root/usr/bin/sudo\n", sudo);

        // the stage cache round trip without root: a clean rebuild restores every layer and every module from the
        // user's cache, the same files with the same ids, modes, xattrs and whiteouts; the stack it boots is that one
        var live = Path.Combine(copy, "obj/Release/amd64/iso/live");
        var layers = Tools.LayerListing(Path.Combine(copy, "obj/Release/amd64/layers"), "user.overlay.opaque");
        var moduleHashes = Directory.GetFiles(live, "*.squashfs").Order().Select(f => $"{Path.GetFileName(f)} {Tools.Sha256(f)}").ToList();
        var (removed, removing) = rootless.User.InNamespace("rm", "-rf", Path.Combine(copy, "obj"), Path.Combine(copy, "bin"));
        Assert.True(removed == 0, removing);
        var clean = rootless.Build(copy, output, modules);
        Assert.True(clean.Succeeded, "the rootless clean rebuild failed; its output is above");
        foreach (var stage in new[] { "bootstrap", "configure", "packages", "includes", "hook 0100-motd.sh", "hook 0200-opaque.sh", "finalize" })
            Assert.Matches($@"{Regex.Escape(stage)} \[amd64\]: restored from the stage cache( \(its entry from before the package lock, the same versions\))?, key ", clean.Output);
        Assert.Equal(7, Regex.Matches(clean.Output, @"squash \[amd64\]: \S+\.squashfs restored from the stage cache, key ").Count);
        Assert.DoesNotMatch(@"(bootstrap|configure|packages|includes|finalize) \[amd64\]: runs because|hook \S+ \[amd64\]: done in|-- mksquashfs /", clean.Output);
        Assert.Equal(layers, Tools.LayerListing(Path.Combine(copy, "obj/Release/amd64/layers"), "user.overlay.opaque"));
        Assert.Equal(moduleHashes, Directory.GetFiles(live, "*.squashfs").Order().Select(f => $"{Path.GetFileName(f)} {Tools.Sha256(f)}").ToList());

        var boot = rootless.Build(copy, output, "-t:BootTest", "-p:SquashfsModules=true", "-p:BootTestModes=bios-cdrom");
        Assert.True(boot.Succeeded, "the rootless module stack's boot test failed; its output is above");
        Assert.Matches(@"boot test bios-cdrom reached login in", boot.Output);
        Assert.DoesNotMatch(@"(bootstrap|packages|hooks|squash|iso) \[amd64\]: runs because", boot.Output);
    }

    /// <summary>The same hook in a root build (overlayfs marks trusted.overlay.opaque, which the boot reads).</summary>
    [SlowFact]
    [Trait("Category", "Slow")]
    public void AsRootTooAnOpaqueDirectoryStaysOpaqueAtBoot()
    {
        Assert.True(image.ColdBuild.Succeeded, "the root cold build of the minimal sample failed");
        var copy = image.CopyOfBuiltImage("opaque-root", OpaqueBootCheck);
        WriteOpaqueHook(copy);
        var build = image.Workspace.Build(copy, output, "-t:Build;BootTest", "-p:SquashfsModules=true", "-p:BootTestModes=bios-cdrom");
        Assert.True(build.Succeeded, "the root build or its boot test failed; its output is above");
        Assert.Matches(@"boot test bios-cdrom reached login in", build.Output);
    }

    /// <summary>
    /// A level on the rootless build (LiveImage.Base.targets): its module holds only its changes, the
    /// base's files whited out where the level removed them, its opaque directory made opaque for the
    /// boot, and the stack boots with the level's files.
    /// </summary>
    [SlowFact]
    [Trait("Category", "Slow")]
    public void ALevelOnARootlessBaseSquashesOnlyItsChangesAndBoots()
    {
        AssertColdBuildsSucceeded();
        rootless.CopyOfBuiltImage("level-base");
        var level = Path.Combine(rootless.Workspace.Root, "level");
        Directory.CreateDirectory(Path.Combine(level, "hooks"));
        File.WriteAllText(Path.Combine(level, "level.liveproj"), $"""
            <Project Sdk="LiveImage.Sdk">
              <PropertyGroup>
                <LevelName>level</LevelName>
              </PropertyGroup>
              <ItemGroup>
                <ProjectReference Include="../level-base/debian-live-minimal.liveproj" />
                <BootCheck Include="level file" Command="cat /etc/level-file" Expect="level" />
                <BootCheck Include="motd removed by the level" Command="test ! -e /etc/motd" />
                {OpaqueBootCheck}
              </ItemGroup>
            </Project>
            """);
        var hook = Path.Combine(level, "hooks/0100-level.sh");
        File.WriteAllText(hook, OpaqueHook + "\necho level > \"$1/etc/level-file\"\nrm -f \"$1/etc/motd\"\n");
        File.SetUnixFileMode(hook, (UnixFileMode)0b111_101_101);
        rootless.User.Own(level);

        var build = rootless.Build(level, output);
        Assert.True(build.Succeeded, "the rootless level build failed; its output is above");
        var module = Path.Combine(level, "obj/Release/amd64/iso/live/debian-live-minimal-level.squashfs");
        var (code, listing) = Tools.Run("unsquashfs", "-lln", module);
        Assert.True(code == 0, listing);
        output.WriteLine(listing);
        Assert.Matches(@"-rw-r--r-- 0/0 .* squashfs-root/etc/level-file\n", listing);
        Assert.Matches(@"c--------- 0/0 +0, +0 .* squashfs-root/etc/motd\n", listing);
        Assert.Matches(@"c--------- 0/0 +0, +0 .* squashfs-root/usr/share/doc/less/copyright\n", listing);
        Assert.Contains("squashfs-root/usr/share/doc/less/only-this", listing);
        Assert.DoesNotContain("squashfs-root/usr/bin/less", listing);

        var boot = rootless.Build(level, output, "-t:BootTest", "-p:BootTestModes=bios-cdrom");
        Assert.True(boot.Succeeded, "the rootless stack did not boot or a check failed; the output is above");
    }

    [Fact]
    public void CleanRemovesTheLayersOfTheUsersIds()
    {
        AssertColdBuildsSucceeded();
        var copy = rootless.CopyOfBuiltImage("clean");
        var clean = rootless.Workspace.Run(copy, output, rootless.User.Wrapper(rootless.Workspace), ["clean", "-nodeReuse:false", "-tl:off", "-v:n", "-nologo"]);
        Assert.True(clean.Succeeded, "dotnet clean failed; its output is above");
        Assert.False(Directory.Exists(Path.Combine(copy, "obj/Release/amd64")), "obj/Release/amd64 is left");
        Assert.False(Directory.Exists(Path.Combine(copy, "bin/Release/amd64")), "bin/Release/amd64 is left");
    }

    private static void WriteOpaqueHook(string project)
    {
        var hook = Path.Combine(project, "hooks/0200-opaque.sh");
        File.WriteAllText(hook, OpaqueHook);
        File.SetUnixFileMode(hook, (UnixFileMode)0b111_101_101);
    }

    /// <summary>Removes a directory of the packages layer and makes it anew with other files.</summary>
    internal const string OpaqueHook = """
        #!/bin/sh
        set -eu
        test -f "$1/usr/share/doc/less/copyright"
        rm -rf "$1/usr/share/doc/less"
        mkdir "$1/usr/share/doc/less"
        echo new > "$1/usr/share/doc/less/only-this"
        """;

    internal const string OpaqueBootCheck = """
        <BootCheck Include="only the new files" Command="test &quot;%24(ls -A /usr/share/doc/less)&quot; = only-this" />
        """;
}
